"""Schedules: every agent's planned activities, and their random deviations, up front.

The plan is deterministic (it is what the WFM system publishes): one row per agent, day
and activity, computed with numpy once per run. Deviations (log-in delay, late or early
returns, unplanned break needs) are drawn per agent and day from that agent's own stream
``streams.rng("agents", stable_key(shift), index_in_shift, day, purpose, ...)``, so adding
an agent, a shift or an activity never changes another agent's draws.
"""

from __future__ import annotations

import warnings
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pandas as pd

from sim.engine.demand import sample_duration, weekday
from sim.engine.status import LABELS, Status
from sim.engine.streams import Streams, stable_key
from sim.planning.erlang import agents_for_service_level
from sim.scenario import ACTIVITY_KINDS, DAY_S, Scenario, format_clock

#: the IWS status an activity kind is worked in
KIND_STATUS: dict[str, Status] = {
    "break": Status.NOT_READY_BREAK,
    "lunch": Status.NOT_READY_LUNCH,
    "meeting": Status.NOT_READY_MEETING,
    "training": Status.NOT_READY_TRAINING,
    "manager_approved": Status.NOT_READY_MANAGER_APPROVED,
    "deferred_transaction": Status.NOT_READY_DEFERRED_TRANSACTION,
}
#: purposes of an agent-day's random draws (part of the stream key: append, never reorder)
_LOGIN, _RETURNS, _NEEDS = 0, 1, 2


def roster(scenario: Scenario) -> list[tuple[str, str, int]]:
    """(pseudonym, shift, index in shift) per agent, in agent order."""
    out = []
    for shift, count in scenario.staffing.head_counts().items():
        out += [(f"{shift}-{j + 1:03d}", shift, j) for j in range(count)]
    return out


@dataclass(frozen=True)
class Plan:
    """The published schedule: shift times per agent-day and one row per planned activity.

    Activity rows are sorted by (agent, day, start); ``start``/``end`` are absolute seconds.
    ``shift_start``/``shift_end`` have shape (agents, days).
    """

    shift_start: np.ndarray
    shift_end: np.ndarray
    agent: np.ndarray
    day: np.ndarray
    activity: np.ndarray
    """Index into ``names``."""
    kind: np.ndarray
    """Index into ``ACTIVITY_KINDS``."""
    start: np.ndarray
    end: np.ndarray
    keep_length: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.agent)

    def table(self) -> pd.DataFrame:
        """The activity rows as a DataFrame (one row per planned activity)."""
        return pd.DataFrame({
            "agent": self.agent, "day": self.day,
            "activity": pd.Categorical.from_codes(self.activity, categories=list(self.names))
            if self.names else pd.Categorical([]),
            "kind": pd.Categorical.from_codes(self.kind, categories=list(ACTIVITY_KINDS)),
            "planned_start_s": self.start, "planned_end_s": self.end,
        })


def _offsets(lo: float, hi: float, n: int, stagger: str, step: float) -> np.ndarray:
    """Start offsets (minutes) of ``n`` agents in a window [lo, hi]."""
    j = np.arange(n, dtype=float)
    if stagger == "none" or n == 1 or hi == lo:
        return np.full(n, lo)
    raw = (hi - lo) * j / (n - 1)
    return np.minimum(lo + np.floor(raw / step + 1e-9) * step, hi)


def build_plan(scenario: Scenario) -> Plan:
    """Every agent's shift times and planned activities over the horizon (vectorised)."""
    days = scenario.horizon.days
    shifts = scenario.staffing.shifts
    ros = roster(scenario)
    n_agents = len(ros)
    first = {}
    for k, (_, s, j) in enumerate(ros):
        if j == 0:
            first[s] = k
    counts = scenario.staffing.head_counts()
    d = np.arange(days, dtype=float) * DAY_S
    starts = np.array([shifts[s].start for _, s, _ in ros], dtype=float)
    hours = np.array([shifts[s].hours for _, s, _ in ros], dtype=float)
    shift_start = (starts[:, None] + d[None, :]).reshape(n_agents, days)
    moved = scenario.labour.starts
    if moved:  # a roster's starts by weekday (labour.starts): activities move with them
        on = [weekday(scenario, k) for k in range(days)]
        for k, (_, s, _) in enumerate(ros):
            for day in range(days) if s in moved else ():
                if on[day] in moved[s]:
                    shift_start[k, day] = moved[s][on[day]] + d[day]
    shift_end = shift_start + hours[:, None] * 3600.0
    sched = scenario.schedule
    names = tuple(sched.activities)
    parts: list[tuple[np.ndarray, ...]] = []
    for a_idx, act in enumerate(sched.activities.values()):
        kind = ACTIVITY_KINDS.index(act.kind)
        for s in shifts:
            if not act.applies_to(s, shifts[s].hours):
                continue
            n = counts.get(s, 0)
            if n == 0:
                continue
            if act.window_minutes is None:
                off = np.full(n, act.offset_minutes, dtype=float)
            else:
                off = _offsets(*act.window_minutes, n, act.stagger, act.step_minutes)
            agents = first[s] + np.arange(n)
            if act.per_year is None:
                ag = np.repeat(agents, days)
                dy = np.tile(np.arange(days), n)
                of = np.repeat(off, days)
            else:
                # occurrence m of agent j falls on day floor(phase_j + m * period)
                period = sched.days_per_year / act.per_year
                phase = (np.arange(n) + 0.5) * period / n
                m = np.arange(int(np.ceil(days / period)) + 1)
                day_f = np.floor(phase[:, None] + m[None, :] * period)
                ok = day_f < days
                ag = np.broadcast_to(agents[:, None], ok.shape)[ok]
                dy = day_f[ok].astype(int)
                of = np.broadcast_to(off[:, None], ok.shape)[ok]
            moved_acts = scenario.labour.activity_starts.get(s)
            if moved_acts:  # a roster's activity starts by weekday (labour.activity_starts)
                on_day = np.array([weekday(scenario, k) for k in range(days)])[dy]
                for wd, acts in moved_acts.items():
                    if names[a_idx] in acts:
                        of = np.where(on_day == wd, acts[names[a_idx]], of)
            st = shift_start[ag, dy] + of * 60.0
            parts.append((ag, dy, np.full(len(ag), a_idx), np.full(len(ag), kind), st,
                          st + act.minutes * 60.0, np.full(len(ag), act.keeps_length)))
    if parts:
        cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    else:
        cols = [np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), np.zeros(0, int),
                np.zeros(0), np.zeros(0), np.zeros(0, bool)]
    order = np.lexsort((cols[4], cols[1], cols[0]))
    ag, dy, act_i, kind, st, en, keep = (c[order] for c in cols)
    return Plan(shift_start, shift_end, ag.astype(int), dy.astype(int), act_i.astype(int),
                kind.astype(int), st.astype(float), en.astype(float), keep.astype(bool), names)


@dataclass
class AgentDay:
    """What one agent will do on one day: log-in time, planned activities, break needs.

    ``activities`` rows are ``(plan row, planned start, planned end, status, keeps length,
    return adjustment in s: + late, - early)``; ``needs`` rows are ``(time, duration)``.
    """

    login: float
    shift_end: float
    activities: list[tuple[int, float, float, int, bool, float]]
    needs: list[tuple[float, float]]


def agent_days(scenario: Scenario, plan: Plan, streams: Streams) -> list[list[AgentDay]]:
    """Per agent, per day: the plan with this agent's own random deviations drawn.

    The log-in is the shift start plus the system's log-in delay. With paid pre-shift
    log-in time (``measurement.adherence.paid_login_minutes`` = *p*) agents start logging
    in *p* minutes before the shift, so the log-in is ``shift start - p + delay``, never
    before midnight of its day: a delay up to *p* falls before the shift (the agent is
    then on queue early, unscheduled and so not measured), only the rest inside it.
    Unplanned-break needs arise from the log-in on.
    """
    beh = scenario.behaviour
    ros = roster(scenario)
    days = scenario.horizon.days
    kinds = [ACTIVITY_KINDS[k] for k in plan.kind]
    names = [plan.names[a] for a in plan.activity] if len(plan) else []
    # rows of each (agent, day) in the sorted plan
    key = plan.agent * days + plan.day
    bounds = np.searchsorted(key, np.arange(len(ros) * days + 1))
    status = [int(KIND_STATUS[k]) for k in kinds]
    lo, hi = beh.login_delay_min_s, beh.login_delay_max_s
    rate = beh.unplanned_breaks_per_hour / 3600.0
    paid = scenario.measurement.adherence.paid_login_minutes * 60.0
    # every generator's seed hashed at once per kind of draw (Streams.states: the numbers
    # of streams.rng("agents", shift key, j, day, kind, ...), a SeedSequence each costing
    # tens of microseconds), agent-major as the loops below take them
    skeys = [stable_key(shift) for _, shift, _ in ros]
    ak = np.repeat(np.arange(len(ros)), days)
    grid = [np.asarray(skeys, dtype=np.int64)[ak], np.asarray([j for *_, j in ros])[ak],
            np.tile(np.arange(days), len(ros))]
    none: list[None] = [None] * len(ak)
    login_at = (streams.states("agents", [*grid, _LOGIN]) or none) if hi > 0 else none
    needs_at = (streams.states("agents", [*grid, _NEEDS]) or none) if rate > 0 else none
    back = [r for r in range(len(plan)) if (rt := beh.returns.get(kinds[r])) is not None
            and (rt.late_probability > 0 or rt.early_probability > 0)]
    rows = plan.agent[back] * days + plan.day[back] if back else np.zeros(0, dtype=np.int64)
    back_seeds = streams.states("agents", [
        grid[0][rows], grid[1][rows], grid[2][rows], _RETURNS,
        np.asarray([stable_key(names[r]) for r in back], dtype=np.int64)]) if back else None
    # every plan row as its activity tuple, once (Python numbers from numpy's tolist), with
    # the return adjustment of the rows that have one: each row's draws come from its own
    # generator, so the order they are drawn in changes nothing
    acts_all = list(zip(range(len(plan)), plan.start.tolist(), plan.end.tolist(), status,
                        plan.keep_length.tolist(), [0.0] * len(plan), strict=True))
    for n, r in enumerate(back):
        rt = beh.returns[kinds[r]]
        k, d = divmod(int(rows[n]), days)
        rng = streams.at("agents", None if back_seeds is None else back_seeds[n],
                         skeys[k], ros[k][2], d, _RETURNS, stable_key(names[r]))
        u = rng.uniform()
        if u < rt.late_probability:
            acts_all[r] = (*acts_all[r][:5], float(sample_duration(rng, rt.late, 1)[0]))
        elif u < rt.late_probability + rt.early_probability:
            acts_all[r] = (*acts_all[r][:5], -float(sample_duration(rng, rt.early, 1)[0]))
    bound = bounds.tolist()
    starts, ends = plan.shift_start.tolist(), plan.shift_end.tolist()
    out = []
    for k, (*_, j) in enumerate(ros):
        skey = skeys[k]
        mine = []
        for d in range(days):
            ss, se = starts[k][d], ends[k][d]
            delay = 0.0
            if hi > 0:
                delay = float(streams.at("agents", login_at[k * days + d], skey, j, d,
                                         _LOGIN).uniform(lo, hi))
            login = ss + delay
            if paid > 0:  # paid pre-shift log-in: the system's delay runs from ss - paid
                login = max(ss - paid + delay, d * DAY_S)
            acts = acts_all[bound[k * days + d]:bound[k * days + d + 1]]
            needs: list[tuple[float, float]] = []
            if rate > 0:
                rng = streams.at("agents", needs_at[k * days + d], skey, j, d, _NEEDS)
                t0 = login
                n = rng.poisson(rate * (se - t0))
                times = sorted(rng.uniform(t0, se, n).tolist())  # the same floats as np.sort
                durs = sample_duration(rng, beh.unplanned_break, n)
                needs = list(zip(times, durs.tolist(), strict=True))
            mine.append(AgentDay(login, se, acts, needs))
        out.append(mine)
    return out


class CoverageWarning(UserWarning):
    """Scheduled on-queue agents fall short of what the demand needs in some interval."""


def time_in(start: np.ndarray, end: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Total time the spells ``[start, end)`` spend inside each window ``[lo[j], hi[j])``.

    Uses ``|[s, e) ∩ (-inf, b)| = (b - s)+ - (b - e)+`` with sorted cumulative sums:
    O((spells + windows) log spells), no Python loop over spells or windows.
    """

    def below(x: np.ndarray, b: np.ndarray) -> np.ndarray:
        xs = np.sort(x)
        cs = np.r_[0.0, np.cumsum(xs)]
        n = np.searchsorted(xs, b, side="left")
        return n * b - cs[n]

    def upto(b: np.ndarray) -> np.ndarray:
        return below(start, b) - below(end, b)

    return upto(np.asarray(hi, float)) - upto(np.asarray(lo, float))


def interval_bounds(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (absolute seconds) of every reporting interval, day-major."""
    h = scenario.horizon
    lo = (np.arange(h.days)[:, None] * DAY_S + h.open
          + h.interval_s * np.arange(h.intervals_per_day)[None, :]).ravel()
    return lo, lo + h.interval_s


def erlang_required(scenario: Scenario, target: float | None = None,
                    threshold_s: float | None = None) -> np.ndarray:
    """Agents on queue each interval of a day needs for the SL goal, interval by interval.

    Erlang A at the interval's expected rate (busyness 1), AHT = mean talk + mean ACW and
    the mean patience taken as exponential; Erlang C when callers never abandon. A planning
    reference: it ignores busyness, non-exponential times and shift boundaries.
    """
    h, dem, sl = scenario.horizon, scenario.demand, scenario.service_level
    target = min(sl.target if target is None else target, 0.999)
    threshold = sl.threshold_s if threshold_s is None else threshold_s
    w = np.asarray(dem.profile, float)
    rate = dem.calls_per_day * w / w.sum() / h.interval_s
    aht = scenario.calls.talk.mean_s + scenario.calls.acw.mean_s
    pat = scenario.calls.patience
    patience = np.inf if pat.distribution == "none" else pat.mean_s
    return np.array([agents_for_service_level(r, aht, threshold, target, patience)
                     if r > 0 else 0 for r in rate])


def coverage(scenario: Scenario) -> pd.DataFrame:
    """Per day and interval: agents needed for the SL target vs agents scheduled on queue.

    ``required`` is :func:`erlang_required`; ``scheduled`` is the mean number of agents the
    published schedule has on queue in the interval.
    """
    h = scenario.horizon
    seg = segments(build_plan(scenario))
    on_q = seg[seg["state"] == 0]
    lo, hi = interval_bounds(scenario)
    return pd.DataFrame({
        "day": np.repeat(np.arange(h.days), h.intervals_per_day),
        "interval": np.tile(np.arange(h.intervals_per_day), h.days),
        "start": [format_clock(x % DAY_S) for x in lo],
        "required": np.tile(erlang_required(scenario), h.days),
        "scheduled": time_in(on_q["start_s"].to_numpy(), on_q["end_s"].to_numpy(), lo, hi)
        / h.interval_s,
    })


def check_coverage(scenario: Scenario, tolerance: float = 0.0) -> list[str]:
    """Warn (``CoverageWarning``) for intervals scheduled below the staffing requirement.

    Returns the messages; ``tolerance`` agents of shortfall are allowed. Never an error: a
    planner may under-staff on purpose (and the simulation shows what it costs).
    """
    cov = coverage(scenario)
    short = cov[cov["scheduled"] < cov["required"] - tolerance - 1e-9]
    msgs = [f"day {r.day} {r.start}: {r.scheduled:.1f} agents scheduled on queue, "
            f"{r.required} needed for the service-level target" for r in short.itertuples()]
    if msgs:
        warnings.warn(CoverageWarning(
            f"{scenario.name}: {len(msgs)} under-staffed interval(s), e.g. {msgs[0]}"),
            stacklevel=2)
    return msgs


def segments(plan: Plan) -> pd.DataFrame:
    """The schedule as contiguous segments per agent-day: on queue (state 0) or an activity.

    State codes: 0 on_queue, 1 + index in ``ACTIVITY_KINDS`` for activities. ``row`` is
    the plan row of an activity segment (-1 for on queue). Segments tile each shift.
    """
    n_agents, days = plan.shift_start.shape
    group = plan.agent * days + plan.day
    n_groups = n_agents * days
    ss, se = plan.shift_start.ravel(), plan.shift_end.ravel()
    n = len(plan)
    same_prev = np.r_[False, group[1:] == group[:-1]] if n else np.zeros(0, bool)
    prev_end = np.where(same_prev, np.r_[0.0, plan.end[:-1]][:n], ss[group])
    # last activity end per group (or shift start when none)
    last_end = ss.copy()
    if n:
        is_last = np.r_[group[1:] != group[:-1], True]
        last_end[group[is_last]] = plan.end[is_last]
    g_all = np.r_[group, group, np.arange(n_groups)]
    st = np.r_[prev_end, plan.start, last_end]
    en = np.r_[plan.start, plan.end, se]
    state = np.r_[np.zeros(n, int), plan.kind + 1, np.zeros(n_groups, int)]
    row = np.r_[np.full(n, -1), np.arange(n), np.full(n_groups, -1)]
    keep = en > st
    g_all, st, en, state, row = g_all[keep], st[keep], en[keep], state[keep], row[keep]
    order = np.lexsort((st, g_all))
    g_all, st, en, state, row = g_all[order], st[order], en[order], state[order], row[order]
    return pd.DataFrame({"agent": g_all // days, "day": g_all % days, "start_s": st,
                         "end_s": en, "state": state, "row": row})


#: a segment row's start and end (splice's rows: agent, day, start_s, end_s, state, row)
_start, _end = itemgetter(2), itemgetter(3)


def splice(segs: pd.DataFrame, spans: pd.DataFrame) -> pd.DataFrame:
    """The schedule with run-time exceptions entered over it, as a supervisor enters them.

    ``spans`` (agent, day, start_s, end_s, status) are activities imposed at run time (a
    coaching or warning conversation): a WFM system records them as schedule exceptions,
    so the agent is in adherence while in them. Each replaces the scheduled time it covers
    with the state its status is worked in (``row`` -1); the segments still tile each
    agent-day. Returns ``segs`` itself when there is nothing to enter.
    """
    spans = spans[spans["end_s"] > spans["start_s"]]
    if len(spans) == 0 or len(segs) == 0:
        return segs
    cols = ["agent", "day", "start_s", "end_s", "state", "row"]
    seg = [segs[c].to_numpy() for c in cols]
    key = seg[0] * 1_000_000 + seg[1]
    sp_key = spans["agent"].to_numpy() * 1_000_000 + spans["day"].to_numpy()
    inside = np.isin(sp_key, key)  # only agent-days of this schedule
    if not inside.any():
        return segs
    hit = np.isin(key, sp_key)
    state_of = {int(st): 1 + ACTIVITY_KINDS.index(kind) for kind, st in KIND_STATUS.items()}
    by_label = {label: int(st) for st, label in LABELS.items()}
    codes, seen = pd.factorize(spans["status"].to_numpy()[inside])
    sp_state = np.array([state_of.get(by_label[s] if isinstance(s, str) else int(s), 0)
                         for s in seen], dtype=np.int64)[codes]
    sk = sp_key[inside]
    s0, s1 = spans["start_s"].to_numpy(float)[inside], spans["end_s"].to_numpy(float)[inside]
    # the entered agent-days' segments by (agent-day, start); g: each one's agent-day
    t = np.flatnonzero(hit)
    t = t[np.lexsort((seg[2][t], key[t]))]
    tk, ts, te = key[t], seg[2][t].astype(float), seg[3][t].astype(float)
    new_day = np.r_[True, tk[1:] != tk[:-1]]
    days_k, g = tk[new_day], np.cumsum(new_day) - 1
    d0, d1 = ts[new_day], te[np.r_[new_day[1:], True]]
    sg = np.searchsorted(days_k, sk)
    lo, hi = np.maximum(s0, d0[sg]), np.minimum(s1, d1[sg])
    # A day whose segments tile it and whose spans (cut to it) do not overlap is entered
    # at once: each span is a piece, and the segments' pieces are what the spans leave of
    # them, cut at the spans' ends; exactly what entering one span at a time gives there.
    # Other days go one span at a time (_splice_day).
    bad = np.zeros(len(days_k), bool)
    bad[g[(te <= ts) | np.r_[~new_day[1:] & (te[:-1] != ts[1:]), False]]] = True
    on = np.flatnonzero(hi > lo)
    on = on[np.lexsort((lo[on], sg[on]))]
    bad[sg[on[:-1]][(sg[on[1:]] == sg[on[:-1]]) & (hi[on[:-1]] > lo[on[1:]])]] = True
    fast_seg, on = t[~bad[g]], on[~bad[sg[on]]]
    fg, ts, te = g[~bad[g]], ts[~bad[g]], te[~bad[g]]
    # the points where a piece starts or ends, per day in time order, each with the last
    # segment and the last span started by then (their indices rise in that order)
    n_s, n_p = len(fast_seg), len(on)
    pg = np.r_[fg, fg[np.r_[fg[1:] != fg[:-1], True]] if n_s else fg, sg[on], sg[on]]
    pt = np.r_[ts, te[np.r_[fg[1:] != fg[:-1], True]] if n_s else te, lo[on], hi[on]]
    n_ends = len(pg) - n_s - 2 * n_p
    p_seg = np.r_[np.arange(n_s), np.full(n_ends + 2 * n_p, -1)]
    p_sp = np.r_[np.full(n_s + n_ends, -1), np.arange(n_p), np.full(n_p, -1)]
    o = np.lexsort((pt, pg))
    pg, pt = pg[o], pt[o]
    p_seg, p_sp = np.maximum.accumulate(p_seg[o]), np.maximum.accumulate(p_sp[o])
    last = np.ones(len(pg), bool)
    last[:-1] = (pg[1:] != pg[:-1]) | (pt[1:] != pt[:-1])
    pg, pt, p_seg, p_sp = pg[last], pt[last], p_seg[last], p_sp[last]
    piece = np.zeros(len(pg), bool)
    piece[:-1] = pg[1:] == pg[:-1]
    covered = p_sp >= 0
    covered[covered] = (sg[on][p_sp[covered]] == pg[covered]) & (pt[covered]
                                                                 < hi[on][p_sp[covered]])
    piece &= ~covered
    src = fast_seg[p_seg[piece]]
    out = [[c[~hit] for c in seg],
           [seg[0][src], seg[1][src], pt[piece], np.r_[pt[1:], 0.0][piece], seg[4][src],
            seg[5][src]],
           [spans["agent"].to_numpy()[inside][on], spans["day"].to_numpy()[inside][on],
            lo[on], hi[on], sp_state[on], np.full(n_p, -1)]]
    by_day = np.argsort(sg, kind="stable")  # each day's spans in their order
    seg_at, sp_at = np.searchsorted(g, np.arange(len(days_k) + 1)), np.searchsorted(
        sg[by_day], np.arange(len(days_k) + 1))
    for k in np.flatnonzero(bad).tolist():  # one span at a time
        mine, sp = t[seg_at[k]:seg_at[k + 1]], by_day[sp_at[k]:sp_at[k + 1]]
        out.append(_splice_day([c[mine] for c in seg], s0[sp].tolist(), s1[sp].tolist(),
                               sp_state[sp].tolist()))
    dtypes = [segs["agent"].dtype, segs["day"].dtype, np.dtype(float), np.dtype(float),
              segs["state"].dtype, segs["row"].dtype]
    res = [np.concatenate([np.asarray(part[i]).astype(dtypes[i], copy=False) for part in out])
           for i in range(6)]
    o = np.lexsort((res[2], res[1], res[0]))  # stable, as sorting by the three columns
    return pd.DataFrame({c: v[o] for c, v in zip(cols, res, strict=True)})


def _splice_day(seg: list[np.ndarray], s0: list[float], s1: list[float],
                state: list[int]) -> list[list]:
    """One agent-day's segments with its spans entered one at a time, as columns."""
    # in order of start once (stable). Those ending by s0 and those starting from s1 are a
    # head and a tail kept as they are, the ones between are cut, and the span's own piece
    # goes in at its place: the same rows as cutting every segment and sorting after every
    # span, when the segments tile the day
    mine = sorted(map(list, zip(*(c.tolist() for c in seg), strict=True)), key=_start)
    agent, day = mine[0][0], mine[0][1]
    for a, b, code in zip(s0, s1, state, strict=True):
        i = bisect_right(mine, a, key=_end)  # mine[:i] end by a
        j = max(i, bisect_left(mine, b, key=_start))  # mine[j:] start from b
        new = mine[:i]  # rows are never changed in place: shared, not copied
        for r in mine[i:j]:
            st, en = r[2], r[3]
            if en <= a or st >= b:
                new.append(r)
                continue
            if st < a:
                new.append([r[0], r[1], st, a, r[4], r[5]])
            if en > b:
                new.append([r[0], r[1], b, en, r[4], r[5]])
        new += mine[j:]
        lo, hi = max(a, mine[0][2]), min(b, mine[-1][3])
        if hi > lo:  # after any piece starting at the same time, as a stable sort puts it
            new.insert(bisect_right(new, lo, key=_start), [agent, day, lo, hi, code, -1])
        mine = new
    return [list(c) for c in zip(*mine, strict=True)]


def closings(scenario: Scenario) -> list[tuple[float, float]]:
    """Per day: (closing time, cut-off after which no call waits), in seconds from day 0.

    The cut-off is closing plus ``closing.max_overtime_minutes`` under the "serve" rule and
    closing itself under "close"; in a multi-day run it is never after midnight.
    """
    h, c = scenario.horizon, scenario.closing
    extra = c.max_overtime_minutes * 60 if c.rule == "serve" else 0.0
    out = []
    for d in range(h.days):
        close = d * DAY_S + h.open + h.hours * 3600
        cutoff = close + extra
        if h.days > 1:
            cutoff = min(cutoff, (d + 1) * DAY_S)
        out.append((close, max(close, cutoff)))
    return out
