"""The status log's typed columns give back exactly the rows appended."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.status import Status, StatusLog
from sim.measure import tables

ROWS = [(2, 0.1, Status.READY), (0, 5.0, Status.TALK), (2, 7.25, Status.LOGGED_OUT),
        (0, 1e9 + 1 / 3, Status.NOT_READY_DEFERRED_TRANSACTION), (1, 3.0, Status.ACW),
        (0, 1e9 + 2 / 3, Status.LOGGED_OUT)]


def test_rows_round_trip_exactly():
    """Agents, times (the same doubles) and codes come back as appended, from any row."""
    log = StatusLog(ROWS)
    assert len(log) == len(ROWS)
    assert list(log) == [(a, t, int(s)) for a, t, s in ROWS]
    agent, t, code = log.columns(2)
    assert agent.tolist() == [a for a, _, _ in ROWS[2:]]
    assert t.tolist() == [x for _, x, _ in ROWS[2:]]  # the same doubles
    assert code.tolist() == [int(s) for _, _, s in ROWS[2:]]
    log.append((3, 9.0, Status.READY))  # columns() copied: the log still grows
    assert len(log) == len(ROWS) + 1


def test_log_arrays_sorted_by_agent_in_time_and_consumed():
    """log_arrays sorts by agent keeping each agent's order; consuming empties the log."""
    log = StatusLog(ROWS)
    agent, t, code = tables.log_arrays(log, consume=True)
    assert len(log) == 0
    assert agent.dtype == np.int64 and code.dtype == np.int8
    expected = sorted(ROWS, key=lambda r: r[0])  # stable: each agent's rows in order
    assert agent.tolist() == [a for a, _, _ in expected]
    assert t.tolist() == [x for _, x, _ in expected]
    assert code.tolist() == [int(s) for _, _, s in expected]
    with pytest.raises(ValueError, match="whole log"):
        StatusLog(ROWS).columns(1, consume=True)
