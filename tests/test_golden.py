"""The golden runs, pinned table by table.

One is a small two-day scenario with every deviation of the engine on, the other an
eight-day one with everything on (the regime, real-time alerts, stress, absence,
attrition and feedback).

A refactoring must keep these tables; a deliberate change of behaviour regenerates them
(``python -m tests.golden.regenerate``) in a commit of its own that says why.
"""

from __future__ import annotations

import pytest

from tests.golden.regenerate import (
    TABLES,
    TABLES_ALL,
    differences,
    golden_tables,
    read_committed,
)


@pytest.fixture(scope="module")
def tables():
    """(committed, fresh) tables of the golden run."""
    return read_committed(), golden_tables()


@pytest.mark.parametrize("name", [*TABLES, "kpis"])
def test_golden_table_unchanged(tables, name):
    """The fresh run's table equals the committed one (floats to 1e-6 s)."""
    committed, fresh = tables
    diffs = differences(committed[name], fresh[name])
    assert not diffs, f"{name} changed (regenerate only for a deliberate change):\n" + \
        "\n".join(diffs)


def test_golden_run_exercises_every_path(tables):
    """The scenario is only a guard if it covers what it pins: every outcome and deviation."""
    _, t = tables
    outcomes = set(t["calls"]["outcome"])
    assert outcomes == {"answered", "abandoned", "closed"}, outcomes
    acts = set(t["activities"]["outcome"])
    assert {"taken", "displaced", "shortened"} <= acts, acts
    assert t["breaks"]["duration_s"].notna().sum() > 0, "no unplanned break taken"
    ad = t["agent_days"]
    assert (ad["login_delay_s"] > 0).all() and (ad["overtime_s"] > 0).any()
    assert (ad["lost_late_return_s"] > 0).any() and (ad["lost_early_return_s"] > 0).any()
    assert (t["calls"]["acw_s"] < 1e-9).any(), "ACW call-out never happened"


@pytest.fixture(scope="module")
def everything():
    """(committed, fresh) tables of the everything-on run."""
    return read_committed("everything"), golden_tables("everything")


@pytest.mark.parametrize("name", [*TABLES_ALL, "kpis"])
def test_everything_table_unchanged(everything, name):
    """The everything-on run's table equals the committed one (floats to 1e-6 s)."""
    committed, fresh = everything
    diffs = differences(committed[name], fresh[name])
    assert not diffs, f"everything/{name} changed (regenerate only for a deliberate " \
        "change):\n" + "\n".join(diffs)


def test_everything_run_exercises_every_layer(everything):
    """The everything-on run guards the layers it pins: each acts at least once."""
    _, t = everything
    actions = set(t["actions"]["action"])
    assert {"chase", "warning", "evaluation", "defer_break", "ranking"} <= actions, actions
    assert set(t["absences"]["reason"]) >= {"sickness", "quit"}
    assert (t["agent_days"]["hire"] > 0).any(), "no replacement hired"
    assert len(t["alerts"]) > 0 and len(t["league"]) > 0 and len(t["imposed"]) > 0
    assert t["agent_days"]["stress"].notna().all()
    assert (t["calls"]["outcome"] == "answered").any() and t["calls"]["repeat_of"].notna().any()
