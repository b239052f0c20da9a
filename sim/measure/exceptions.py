"""Adherence exceptions and breaches, as a WFM system lists them.

An **exception** is a maximal run of time out of adherence within one agent-day (the
status does not match the scheduled state; outside the shift nothing is measured) that
has some *counted* time: the part the tolerance does not forgive (``schedule.tolerance_s``
after each scheduled change, or at the start of each exception, by
``measurement.adherence.convention``). Its ``start_s``/``end_s`` span the whole run, its
``counted_s`` is the counted part. Each counted second has a loss reason (the same sweep
as :func:`sim.measure.adherence.measure`, so an agent-day's exceptions add up to its
``lost_<reason>_s`` columns, reason by reason); the exception's ``reason`` is the one
with most counted seconds in it (ties: the first in ``LOSS_REASONS``).

An exception is ``excused`` when its reason is in ``measurement.adherence.excused``, and a
**breach** when it is not excused and ``counted_s > exception_threshold_s``
("late by more than 2 minutes"); ``breach_s`` is the moment its counted time passed the
threshold. What the breaches lead to (warnings, coaching talks) is the regime's rule
engine, :mod:`sim.regime.rules`.

Everything here is a pure function of a run's tables, and works on any subset of
agent-days (a supervisor's review of one day gives that day's exceptions exactly).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.measure import adherence
from sim.measure.adherence import AdherenceData, Sweep
from sim.scenario import LOSS_REASONS, AdherenceRules

#: the categories of ``reason``
REASON_DTYPE = pd.CategoricalDtype(list(LOSS_REASONS))
#: columns of the exceptions table, in order
COLUMNS = ("agent", "day", "start_s", "end_s", "counted_s", "reason", "excused", "breach",
           "breach_s", *(f"lost_{r}_s" for r in LOSS_REASONS))
#: counted time below this (seconds) is float noise, not an exception
_EPS = 1e-9


def exceptions(data: AdherenceData) -> pd.DataFrame:
    """One row per adherence exception of the agent-days given (see the module doc).

    ``data`` is what :func:`sim.measure.adherence.measure` reads, its ``rules`` included.
    Agent-days with no statuses are not measured (absent days have no exceptions).
    Columns: :data:`COLUMNS`, sorted by agent, day and start.
    """
    return _concat([from_sweep(adherence.sweep(block), block.rules)
                    for block in adherence.blocks(data)])


def measure_all(data: AdherenceData) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`sim.measure.adherence.measure` and :func:`exceptions` from one sweep per block."""
    total, pieces, parts = None, [], []
    for block in adherence.blocks(data):
        sw = adherence.sweep(block)
        out, pc = adherence.per_agent_day(sw, block.rules)
        total = out if total is None else total + out
        pieces.append(pc)
        parts.append(from_sweep(sw, block.rules))
    pieces_df = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
    return total, pieces_df, _concat(parts)


def empty() -> pd.DataFrame:
    """An exceptions table with no rows (the columns and types of :func:`exceptions`)."""
    return _frame({c: np.zeros(0) for c in COLUMNS})


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty()
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    # each column in its final type, then one frame (no astype, no column replaced)
    n = len(cols["agent"])
    codes = np.asarray(cols["reason"], dtype=np.int64) if n else np.zeros(0, np.int64)
    typed = {"agent": np.int64, "day": np.int64, "excused": bool, "breach": bool}
    data = {}
    for c in COLUMNS:
        if c == "reason":
            data[c] = pd.Categorical.from_codes(codes, dtype=REASON_DTYPE)
        elif c in typed:
            data[c] = np.asarray(cols[c]).astype(typed[c])
        else:
            data[c] = cols[c]
    return pd.DataFrame(data)


def from_sweep(sw: Sweep, rules: AdherenceRules) -> pd.DataFrame:
    """The exceptions of one sweep (see :func:`exceptions`)."""
    first = sw.runs()
    sel = np.flatnonzero(sw.non)
    if not len(sel):
        return empty()
    rid = first[sel]  # non-decreasing: pieces are in time order
    new = np.r_[True, rid[1:] != rid[:-1]]
    last = np.r_[new[1:], True]
    num = np.cumsum(new) - 1
    n_runs = int(num[-1]) + 1
    c = sw.lost[sel]
    counted = np.bincount(num, weights=c, minlength=n_runs)
    by_reason = np.stack([np.bincount(num, weights=sw.reason_s[r][sel], minlength=n_runs)
                          for r in LOSS_REASONS])
    reason = np.argmax(by_reason, axis=0)
    excused = np.isin(reason, [LOSS_REASONS.index(r) for r in rules.excused])
    thr = rules.exception_threshold_s
    breach = (counted > thr) & ~excused
    # when the counted time passed the threshold: the counted part of a piece is [u, t1)
    cum = np.cumsum(c)
    before = cum - c - (cum - c)[new][num]  # counted in the run before this piece
    cross = (before <= thr) & (before + c > thr)
    breach_s = np.full(n_runs, np.nan)
    hit = np.flatnonzero(cross)
    runs_hit, at = np.unique(num[hit], return_index=True)
    k = hit[at]
    breach_s[runs_hit] = sw.u[sel][k] + (thr - before[k])
    end = sw.t1[sel][last]
    breach_s = np.where(breach, np.where(np.isnan(breach_s), end, breach_s), np.nan)
    g = sw.g[sel][new]
    cols = {"agent": g // sw.days, "day": g % sw.days, "start_s": sw.t[sel][new],
            "end_s": end, "counted_s": counted, "reason": reason, "excused": excused,
            "breach": breach, "breach_s": breach_s}
    for j, r in enumerate(LOSS_REASONS):
        cols[f"lost_{r}_s"] = by_reason[j]
    keep = counted > _EPS
    return _frame({k_: v[keep] for k_, v in cols.items()})
