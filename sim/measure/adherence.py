"""Adherence, conformance and shrinkage from the status log, as a WFM system computes them.

Each agent-day's schedule (segments: on queue or an activity, tiling the shift) and its
status log (spells tiling the logged-in time) are two step functions of time. One sorted
sweep over both sets of change points (no per-second loop, no loop over agents) cuts the
day into pieces on which both are constant; a piece is *in adherence* when the status
maps to the scheduled state:

=================  ==========================================
schedule state     statuses that adhere
=================  ==========================================
on_queue           Ready, Talk, After Call Work
break              Not Ready - Break
lunch              Not Ready - Lunch
meeting            Not Ready - Meeting
training           Not Ready - Training
manager_approved   Not Ready - Manager Approved
deferred_transa.   Not Ready - Deferred Transaction
=================  ==========================================

The first ``tolerance`` seconds after each scheduled state change (including the shift
start) are not counted against adherence; under the rule ``convention =
"exception_start"`` (``scenario.measurement.adherence``) the first seconds of every run of
time out of adherence are forgiven instead, wherever it starts. Reasons the rules excuse
are reported as lost and as ``excused_s``, and counted as in adherence.

Time out of adherence is attributed to why: the log-in delay (a system delay, not the
agent's fault), a call running into a planned activity (the activity is displaced; a
break that keeps its length then also runs over its planned end by as much), a late
return, an early return, an unplanned break, or other. An activity the shift ended
before (never taken) is charged to ``call``: the agent was held on queue past its start.
``other`` is a remainder that the property tests find to be zero on random schedules; it
is kept so that a new cause shows up as a loss with no reason instead of being hidden in
another one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sim.engine.schedule import KIND_STATUS
from sim.engine.status import ON_QUEUE, Status
from sim.scenario import (
    ACTIVITY_KINDS,
    LOSS_REASONS,
    SCHEDULE_STATES,
    AdherenceRules,
    Schedule,
)

#: schedule/actual state codes: 0 on queue, 1.. activity kinds, then logged out
OUT = len(SCHEDULE_STATES)
STATUS_STATE = np.full(len(Status), OUT, dtype=np.int64)
STATUS_STATE[list(ON_QUEUE)] = 0
for _k, _kind in enumerate(ACTIVITY_KINDS, start=1):  # the status each activity is worked in
    STATUS_STATE[KIND_STATUS[_kind]] = _k

#: reasons time is out of adherence (columns ``lost_<reason>_s`` of agent_days)
REASONS = LOSS_REASONS
#: shrinkage categories (columns ``shrink_<category>_s``): time in the shift not on queue
SHRINK = (*SCHEDULE_STATES[1:], "unplanned_break", "logged_out")


def _ffill_index(flag: np.ndarray, group_first: np.ndarray) -> np.ndarray:
    """Per position, the last position <= it (within its group) where ``flag``; else -1."""
    pos = np.arange(len(flag))
    last = np.maximum.accumulate(np.where(flag, pos, -1))
    return np.where(last >= group_first, last, -1)


#: status rows per block of agents measured at once (bounds the sweep's temporary memory)
BLOCK_ROWS = 250_000


#: the rules when a caller gives none: today's convention, nothing excused
DEFAULT_RULES = AdherenceRules()


@dataclass
class Sweep:
    """One block's sweep: pieces of agent-days with one scheduled and one actual state.

    Pieces are in (agent-day, time) order. A piece is ``[t, t1)`` of agent-day ``g``
    (``agent * days + day``); ``sa`` is its scheduled state (-1 outside the shift), ``sb``
    its actual state (``OUT``: logged out). ``non`` marks the scheduled, non-adherent
    pieces: of each, ``[u, t1)`` is counted (the tolerance forgives the rest) and
    ``lost = t1 - u`` is split by reason in ``reason_s``. ``run_first``: see :meth:`runs`.
    """

    days: int
    n_groups: int
    g: np.ndarray
    t: np.ndarray
    t1: np.ndarray
    length: np.ndarray
    sa: np.ndarray
    sb: np.ndarray
    sched: np.ndarray
    non: np.ndarray
    u: np.ndarray
    lost: np.ndarray
    b_unpl: np.ndarray
    tol: np.ndarray
    reason_s: dict[str, np.ndarray]
    run_first: np.ndarray | None = None

    def runs(self) -> np.ndarray:
        """Per piece: index of the first piece of its run of non-adherent time (else -1).

        A run is a maximal stretch of non-adherent pieces of one agent-day; pieces of no
        length do not interrupt it; an adherent piece or time outside the shift does.
        """
        if self.run_first is None:
            self.run_first = _run_first(self.non, self.length, self.g)
        return self.run_first


def _run_first(non: np.ndarray, length: np.ndarray, g: np.ndarray) -> np.ndarray:
    """See :meth:`Sweep.runs`."""
    out = np.full(len(non), -1, dtype=np.int64)
    p = np.flatnonzero(length > 0)  # non-adherent pieces all have a length
    if not len(p):
        return out
    non_p, g_p = non[p], g[p]
    cont = np.r_[False, non_p[:-1] & (g_p[1:] == g_p[:-1])]
    starts = non_p & ~cont
    last = np.maximum.accumulate(np.where(starts, np.arange(len(p)), -1))
    out[p] = np.where(non_p & (last >= 0), p[np.maximum(last, 0)], -1)
    return out


def _by_row(activities: pd.DataFrame, col: str, rows: np.ndarray) -> np.ndarray:
    """Column ``col`` of plan rows ``rows``; NaN for -1 or a row not in ``activities``.

    The activities table is indexed by plan row (``RunResult.activities``,
    ``tables.activities_table``), so a slice of it (one day's rows) works too.
    """
    vals = activities[col].to_numpy(float)
    idx = activities.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        pos = np.where(rows < len(vals), rows, -1)
    else:
        pos = idx.get_indexer(rows)
    pos = np.where(rows >= 0, pos, -1)
    if not len(vals):
        return np.full(len(rows), np.nan)
    return np.where(pos >= 0, vals[np.maximum(pos, 0)], np.nan)


def _pair_index(key_a: np.ndarray, key_t: np.ndarray, a: np.ndarray, t: np.ndarray
                ) -> np.ndarray:
    """Per pair (``a``, ``t``): the position of the same (agent, time) key, else -1.

    Exact equality of both (keys unique, no NaN): a MultiIndex lookup in numpy. Keys and
    queries sorted together, keys first on ties, so a query's match is the last key before it.
    """
    nk, nq = len(key_a), len(a)
    if not nk:
        return np.full(nq, -1, dtype=np.int64)
    all_a, all_t = np.r_[key_a, a], np.r_[key_t, t]
    is_q = np.r_[np.zeros(nk, bool), np.ones(nq, bool)]
    order = np.lexsort((is_q, all_t, all_a))
    q_sorted = is_q[order]
    last = np.maximum.accumulate(np.where(q_sorted, -1, np.arange(nk + nq)))
    k = order[np.maximum(last, 0)]  # the last key at or before each position
    hit = (last >= 0) & (all_a[k] == all_a[order]) & (all_t[k] == all_t[order])
    out = np.full(nq, -1, dtype=np.int64)
    qs = np.flatnonzero(q_sorted)
    out[order[qs] - nk] = np.where(hit[qs], k[qs], -1)
    return out


@dataclass(frozen=True, kw_only=True)
class AdherenceData:
    """What the adherence calculation reads, by name: schedule, logs, rules and sizes.

    Any subset of agent-days may be given (e.g. one day's rows, as the supervisor's daily
    review does); agent-days with no statuses are not measured.
    """

    segments: pd.DataFrame
    """Schedule segments of the agent-days worked: agent, day, start_s, end_s, state and
    the plan ``row`` (-1 on queue or for an imposed talk); sorted by agent."""
    statuses: pd.DataFrame
    """Their status spells (agent, day, status, start_s, end_s); sorted by agent."""
    activities: pd.DataFrame
    """The activities table indexed by plan row, whole or sliced: actual_start_s,
    actual_end_s, planned_start_s, planned_end_s, keep_length."""
    breaks: pd.DataFrame
    """Unplanned breaks (agent, start_s, end_s)."""
    schedule: Schedule
    """The tolerance per scheduled state (``scenario.adherence_schedule``)."""
    n_agents: int
    days: int
    rules: AdherenceRules = DEFAULT_RULES
    """``scenario.measurement.adherence`` (default: after each change, nothing excused):
    where the tolerance applies and which reasons are excused."""


def blocks(data: AdherenceData) -> Iterator[AdherenceData]:
    """``data`` in blocks of whole agents of about ``BLOCK_ROWS`` status rows.

    Agent-days are independent, so a block's sweep needs nothing from another block; the
    blocks bound the sweep's temporary memory. Segments and statuses must be sorted by
    agent.
    """
    segs, statuses, n_agents = data.segments, data.statuses, data.n_agents
    if len(statuses) <= BLOCK_ROWS:
        yield data
        return
    s_agent, b_agent = segs["agent"].to_numpy(), statuses["agent"].to_numpy()
    if (np.diff(s_agent) < 0).any() or (np.diff(b_agent) < 0).any():
        raise ValueError("measure: segments and statuses must be sorted by agent")
    per_agent = np.bincount(b_agent, minlength=n_agents)
    cuts = [0]
    rows = 0
    for k, c in enumerate(per_agent):
        if rows + c > BLOCK_ROWS and rows:
            cuts.append(k)
            rows = 0
        rows += c
    cuts.append(n_agents)
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        si = np.searchsorted(s_agent, [lo, hi])
        bi = np.searchsorted(b_agent, [lo, hi])
        yield replace(data, segments=segs.iloc[si[0]:si[1]],
                      statuses=statuses.iloc[bi[0]:bi[1]])


def measure(data: AdherenceData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adherence, conformance inputs, shrinkage and loss reasons per agent-day.

    The sweep runs over blocks of whole agents (:func:`blocks`) and the per agent-day sums
    are added up: the same numbers with a bounded peak of temporary arrays. Returns (per
    agent-day table indexed by agent*days + day, pieces of scheduled time with their
    in-adherence part: start_s, end_s, adherent_s).
    """
    total, pieces = None, []
    for block in blocks(data):
        out, pc = per_agent_day(sweep(block), block.rules)
        total = out if total is None else total + out
        pieces.append(pc)
    return total, pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)


def sweep(data: AdherenceData) -> Sweep:
    """The sorted sweep of one block of agents (see :class:`AdherenceData`)."""
    segs, statuses, activities, breaks = (data.segments, data.statuses, data.activities,
                                          data.breaks)
    schedule, n_agents, days, rules = data.schedule, data.n_agents, data.days, data.rules
    n_groups = n_agents * days
    # ---- schedule segments
    sg = (segs["agent"].to_numpy() * days + segs["day"].to_numpy()).astype(np.int64)
    s_start, s_end = segs["start_s"].to_numpy(), segs["end_s"].to_numpy()
    s_state, s_row = segs["state"].to_numpy(), segs["row"].to_numpy()
    tol_by = np.array([schedule.tolerance(s) for s in SCHEDULE_STATES], dtype=float)
    # per segment: its activity's actual end (NaN for on queue or never taken)
    seg_ae = _by_row(activities, "actual_end_s", s_row)
    # ---- status spells
    bg = (statuses["agent"].to_numpy() * days + statuses["day"].to_numpy()).astype(np.int64)
    b_start, b_end = statuses["start_s"].to_numpy(), statuses["end_s"].to_numpy()
    b_code = statuses["status"].cat.codes.to_numpy()
    b_state = STATUS_STATE[b_code]
    n_sp = len(statuses)
    # which spells are planned activities (and of which plan row) or unplanned breaks
    b_agent = statuses["agent"].to_numpy()
    a_start = activities["actual_start_s"].to_numpy()
    ok = activities["actual_end_s"].to_numpy() > a_start  # taken
    pos = _pair_index(activities["agent"].to_numpy()[ok], a_start[ok], b_agent, b_start)
    planned = (pos >= 0) & (b_state != 0) & (b_state != OUT)
    if ok.any():
        at = np.maximum(pos, 0)
        sp_pend = np.where(planned, activities["planned_end_s"].to_numpy()[ok][at], np.nan)
        push = (a_start[ok][at] - activities["planned_start_s"].to_numpy()[ok][at]) * \
            activities["keep_length"].to_numpy()[ok][at]
    else:
        sp_pend, push = np.full(n_sp, np.nan), np.zeros(n_sp)
    sp_push = np.where(planned, push, 0.0)
    br_start = breaks["start_s"].to_numpy()
    took = breaks["end_s"].to_numpy() > br_start
    unplanned = _pair_index(breaks["agent"].to_numpy()[took], br_start[took], b_agent,
                            b_start) >= 0
    unplanned &= b_code == Status.NOT_READY_BREAK
    # first log-in and last log-out per group
    login = np.full(n_groups, np.inf)
    np.minimum.at(login, bg, b_start)
    # ---- events: schedule changes (A) and status changes (B), plus each side's end
    s_last = np.r_[sg[1:] != sg[:-1], True] if len(sg) else np.zeros(0, bool)
    b_last = np.r_[bg[1:] != bg[:-1], True] if n_sp else np.zeros(0, bool)
    ev_g = np.r_[sg, sg[s_last], bg, bg[b_last]]
    ev_t = np.r_[s_start, s_end[s_last], b_start, b_end[b_last]]
    ev_a = np.r_[np.ones(len(sg) + s_last.sum(), bool), np.zeros(n_sp + b_last.sum(), bool)]
    ev_i = np.r_[np.arange(len(sg)), np.full(s_last.sum(), -1),
                 np.arange(n_sp), np.full(b_last.sum(), -1)]
    order = np.lexsort((ev_t, ev_g))
    g, t, is_a, idx = ev_g[order], ev_t[order], ev_a[order], ev_i[order]
    n = len(g)
    first = np.r_[True, g[1:] != g[:-1]] if n else np.zeros(0, bool)
    group_first = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    la = _ffill_index(is_a, group_first)
    lb = _ffill_index(~is_a, group_first)
    a = np.where(la >= 0, idx[np.maximum(la, 0)], -1)
    b = np.where(lb >= 0, idx[np.maximum(lb, 0)], -1)
    nxt_same = np.r_[g[1:] == g[:-1], False] if n else np.zeros(0, bool)
    t1 = np.where(nxt_same, np.r_[t[1:], 0.0][:n], t)
    length = t1 - t
    sa = np.where(a >= 0, s_state[np.maximum(a, 0)], -1)
    sb = np.where(b >= 0, b_state[np.maximum(b, 0)], OUT)
    sched = (sa >= 0) & (length > 0)
    adherent = sched & (sa == sb)
    tol = tol_by[np.maximum(sa, 0)]
    non = sched & ~adherent
    run_first = None
    if rules.convention == "after_change":
        tau = np.where(la >= 0, t[np.maximum(la, 0)], t)  # time of the last scheduled change
        forgiven = np.where(non, np.clip(tau + tol - t, 0.0, length), 0.0)
    else:  # exception_start: the first seconds of each run of non-adherent time
        run_first = _run_first(non, length, g)
        rf = np.maximum(run_first, 0)
        forgiven = np.where(non, np.clip(t[rf] + tol[rf] - t, 0.0, length), 0.0)
    u = t + forgiven  # counted part of a non-adherent piece: [u, t1)
    lost = np.where(non, t1 - u, 0.0)
    # ---- why: one reason per piece, except an overrunning activity spell (split in two)
    bi = np.maximum(b, 0)
    ai = np.maximum(a, 0)
    b_planned = (b >= 0) & planned[bi]
    b_unpl = (b >= 0) & unplanned[bi]
    pend, pushb = sp_pend[bi], sp_push[bi]
    disp = np.where(b_planned, np.clip(np.minimum(t1, pend + pushb) - np.maximum(u, pend),
                                       0.0, None), 0.0)
    disp = np.minimum(disp, lost)
    out_before = (sb == OUT) & (t1 <= login[g])
    a_act = sa > 0
    early = a_act & (sb == 0) & (t >= seg_ae[ai])  # NaN compares False: never taken -> call
    call = a_act & (sb == 0) & ~early
    reason_s = {
        "login_delay": np.where(out_before, lost, 0.0),
        "call": np.where(b_planned, disp, np.where(call & ~out_before, lost, 0.0)),
        "late_return": np.where(b_planned & ~out_before, lost - disp, 0.0),
        "early_return": np.where(early, lost, 0.0),
        "unplanned_break": np.where(b_unpl & ~b_planned, lost, 0.0),
    }
    explained = sum(reason_s.values())
    reason_s["other"] = lost - explained
    return Sweep(days, n_groups, g if n else np.zeros(0, np.int64), t, t1, length, sa, sb,
                 sched, non, u, lost, b_unpl, tol, reason_s, run_first)


def per_agent_day(sw: Sweep, rules: AdherenceRules | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sweep's per agent-day sums and its pieces of scheduled time.

    Time lost for an excused reason (``rules.excused``) is still in its ``lost_<reason>_s``
    column and is also ``excused_s``; ``in_adherence_s`` counts it as in adherence.
    """
    rules = DEFAULT_RULES if rules is None else rules
    n_groups, gi = sw.n_groups, sw.g
    sched, sa, sb, length, lost = sw.sched, sw.sa, sw.sb, sw.length, sw.lost

    def per_group(w: np.ndarray) -> np.ndarray:
        return np.bincount(gi, weights=w, minlength=n_groups)[:n_groups]

    out: dict[str, np.ndarray] = {}  # the columns, then one frame
    sched_len = np.where(sched, length, 0.0)
    out["scheduled_s"] = per_group(sched_len)
    out["scheduled_on_queue_s"] = per_group(np.where(sched & (sa == 0), length, 0.0))
    out["in_adherence_s"] = out["scheduled_s"] - per_group(lost)
    for r in REASONS:
        out[f"lost_{r}_s"] = per_group(sw.reason_s[r])
    excused = np.zeros(n_groups)
    for r in rules.excused:
        excused = excused + out[f"lost_{r}_s"]
    out["excused_s"] = excused
    if rules.excused:
        out["in_adherence_s"] = out["in_adherence_s"] + excused
    out["on_queue_in_shift_s"] = per_group(np.where(sched & (sb == 0), length, 0.0))
    b_unpl = sw.b_unpl
    for k, cat in enumerate(SCHEDULE_STATES[1:], start=1):
        out[f"shrink_{cat}_s"] = per_group(np.where(sched & (sb == k) & ~b_unpl, length, 0.0))
    out["shrink_unplanned_break_s"] = per_group(np.where(sched & b_unpl, length, 0.0))
    out["shrink_logged_out_s"] = per_group(np.where(sched & (sb == OUT), length, 0.0))
    pieces = pd.DataFrame({"start_s": sw.t[sched], "end_s": sw.t1[sched],
                           "adherent_s": (length - lost)[sched]})
    return pd.DataFrame(out, index=np.arange(n_groups)), pieces
