"""A run's tables, built once at the end from the agents' and the centre's plain logs.

The model appends plain tuples (the status log: typed columns) while it runs; here they
become DataFrames with compact dtypes, and per agent-day measures (adherence, overtime)
are joined on. Nothing here changes what happened; every function is a pure conversion of
the logs it is given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine.demand import DayCalls
from sim.engine.presence import ABSENCE_REASONS, Presence
from sim.engine.schedule import Plan, interval_bounds, time_in
from sim.engine.status import LABELS, Status, StatusLog
from sim.measure.kpi import outcome_is, service_level_masks
from sim.measure.order import stable_order
from sim.scenario import ACTIVITY_KINDS, DAY_S, Scenario

if TYPE_CHECKING:
    from sim.engine.agent import Agent
    from sim.engine.centre import Centre

STATUS_CATEGORIES = pd.CategoricalDtype([LABELS[s] for s in Status], ordered=False)
OUTCOMES = pd.CategoricalDtype(["answered", "abandoned", "closed"])
#: what happened to a planned activity ("absent": the agent-day was not worked)
OUTCOMES_ACT = pd.CategoricalDtype(["taken", "displaced", "shortened", "missed", "absent"])


def activities_table(agents: list[Agent], plan: Plan, presence: Presence,
                     complete: bool = True, day: int | None = None) -> pd.DataFrame:
    """Every planned activity with what happened to it (exactly one record per plan row).

    ``complete=False`` builds it during a run (for a supervisor's review): rows not yet
    worked have NaN times, and the one-record-per-row check is left out. ``day``: only that
    day's plan rows (indexed by plan row, as a slice of the whole table; implies
    ``complete=False``).
    """
    if day is not None:
        return _day_activities(agents, plan, presence, day)
    recs = [r for a in agents for r in a.activity_log]
    rows = np.array([r[0] for r in recs], dtype=np.int64)
    if complete and (len(rows) != len(plan) or (
            len(rows) and not np.array_equal(np.sort(rows), np.arange(len(plan))))):
        raise RuntimeError("planned activities lost or duplicated: the agent model is broken")
    act_s = np.full(len(plan), np.nan)
    act_e = np.full(len(plan), np.nan)
    if len(rows):
        act_s[rows] = [r[1] for r in recs]
        act_e[rows] = [r[2] for r in recs]
    base = plan.table()
    out = {c: base[c].array for c in base.columns}  # the plan's columns, then what happened
    out["keep_length"] = plan.keep_length
    out["actual_start_s"] = act_s
    out["actual_end_s"] = act_e
    out["displaced_s"] = act_s - plan.start
    planned_len = plan.end - plan.start
    got = act_e - act_s
    missed = np.isnan(act_s) | (got <= 0)
    code = np.where(missed, 3, np.where(got < planned_len - 1e-9, 2,
                                        np.where(out["displaced_s"] > 1e-9, 1, 0)))
    code = np.where(presence.present[plan.agent, plan.day], code, 4)
    out["outcome"] = pd.Categorical.from_codes(code, dtype=OUTCOMES_ACT)
    out["late_return_s"] = np.where(missed, np.nan, act_e - np.where(
        plan.keep_length, act_s + planned_len, plan.end))
    return pd.DataFrame(out)


def _day_activities(agents: list[Agent], plan: Plan, presence: Presence,
                    day: int) -> pd.DataFrame:
    """:func:`activities_table` rows of one day's plan rows (the same values, same index)."""
    sel = np.flatnonzero(plan.day == day)
    pos = np.full(len(plan), -1, dtype=np.int64)
    pos[sel] = np.arange(len(sel))
    act_s = np.full(len(sel), np.nan)
    act_e = np.full(len(sel), np.nan)
    pday = plan.day.tolist()
    for a in agents:  # read from the end of each log: its days never decrease
        log = a.activity_log
        k = len(log)
        while k and pday[log[k - 1][0]] >= day:
            k -= 1
        for r in log[k:]:
            j = pos[r[0]]
            if j >= 0:
                act_s[j], act_e[j] = r[1], r[2]
    out = pd.DataFrame({
        "agent": plan.agent[sel], "day": plan.day[sel],
        "activity": pd.Categorical.from_codes(plan.activity[sel], categories=list(plan.names))
        if plan.names else pd.Categorical([]),
        "kind": pd.Categorical.from_codes(plan.kind[sel], categories=list(ACTIVITY_KINDS)),
        "planned_start_s": plan.start[sel], "planned_end_s": plan.end[sel],
    }, index=sel)
    start, end, keep = plan.start[sel], plan.end[sel], plan.keep_length[sel]
    out["keep_length"] = keep
    out["actual_start_s"] = act_s
    out["actual_end_s"] = act_e
    out["displaced_s"] = act_s - start
    planned_len = end - start
    got = act_e - act_s
    missed = np.isnan(act_s) | (got <= 0)
    code = np.where(missed, 3, np.where(got < planned_len - 1e-9, 2,
                                        np.where(out["displaced_s"] > 1e-9, 1, 0)))
    code = np.where(presence.present[plan.agent[sel], plan.day[sel]], code, 4)
    out["outcome"] = pd.Categorical.from_codes(code, dtype=OUTCOMES_ACT)
    out["late_return_s"] = np.where(missed, np.nan, act_e - np.where(
        keep, act_s + planned_len, end))
    return out


def _log_rows(agents: list[Agent], log: str, day: int | None) -> list[tuple]:
    """Each agent's rows of one per-agent log (first field: the day), with the agent first.

    ``day``: only that day's rows, read from the end of each log (its days never decrease).
    """
    if day is None:
        return [(a.index, *r) for a in agents for r in getattr(a, log)]
    rows: list[tuple] = []
    for a in agents:
        entries = getattr(a, log)
        k = len(entries)
        while k and entries[k - 1][0] >= day:
            k -= 1
        rows += [(a.index, *r) for r in entries[k:] if r[0] == day]
    return rows

def breaks_table(agents: list[Agent], day: int | None = None) -> pd.DataFrame:
    """One row per unplanned-break need and the break taken for it (``day``: that day's)."""
    rows = _log_rows(agents, "break_log", day)
    cols = _columns(rows, {"agent": np.int64, "day": np.int64, "need_s": float,
                           "start_s": float, "end_s": float})
    cols["duration_s"] = cols["end_s"] - cols["start_s"]
    order = np.lexsort((cols["need_s"], cols["agent"]))  # stable: by agent, then need
    return pd.DataFrame({c: v[order] for c, v in cols.items()})


def _columns(rows: list[tuple], types: dict[str, type]) -> dict[str, np.ndarray]:
    """The fields of ``rows`` as typed columns (in the order of ``types``; None as NaN)."""
    return {c: np.array([r[j] for r in rows], dtype=t) for j, (c, t) in enumerate(types.items())}


def add_adherence(out: pd.DataFrame, measured: pd.DataFrame, plan: Plan,
                  activities: pd.DataFrame, breaks: pd.DataFrame, days: int) -> pd.DataFrame:
    """Schedule, adherence, conformance, shrinkage and loss reasons per agent-day."""
    g = (out["agent"].to_numpy() * days + out["day"].to_numpy())
    # every column built as an array, then one frame (not one insert per column)
    old = {c: out[c].array for c in out.columns}
    names = list(old)
    cols = {c: old[c] for c in names[:2]}
    cols["shift_start_s"] = plan.shift_start.ravel()[g]
    cols["shift_end_s"] = plan.shift_end.ravel()[g]
    cols["login_delay_s"] = out["login_s"].to_numpy() - cols["shift_start_s"]
    cols |= {c: old[c] for c in names[2:]}
    for col in measured.columns:
        cols[col] = measured[col].to_numpy()[g]

    def positive(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, np.nan)

    sched = positive(cols["scheduled_s"])
    cols["adherence"] = cols["in_adherence_s"] / sched
    on_queue = (out["ready_s"].to_numpy() + out["talk_s"].to_numpy()) + out["acw_s"].to_numpy()
    cols["conformance"] = on_queue / positive(cols["scheduled_on_queue_s"])
    cols["shrinkage"] = 1 - cols["on_queue_in_shift_s"] / sched
    n_groups = len(measured)
    ag = (activities["agent"].to_numpy() * days + activities["day"].to_numpy()).astype(int)
    outcome = activities["outcome"].cat.codes.to_numpy()
    for name in OUTCOMES_ACT.categories.drop("absent"):  # absent days have no row here
        hit = outcome == OUTCOMES_ACT.categories.get_loc(name)
        cols[f"activities_{name}"] = np.bincount(ag[hit], minlength=n_groups)[g]
    disp = np.nan_to_num(activities["displaced_s"].to_numpy())
    cols["displaced_s"] = np.bincount(ag, weights=disp, minlength=n_groups)[g]
    bg = (breaks["agent"].to_numpy() * days + breaks["day"].to_numpy()).astype(int)
    took = breaks["duration_s"].notna().to_numpy()
    cols["unplanned_breaks"] = np.bincount(bg[took], minlength=n_groups)[g]
    cols["unplanned_needs"] = np.bincount(bg, minlength=n_groups)[g]
    return pd.DataFrame(cols)


def _floats(values: list[float]) -> np.ndarray:
    """A list of Python numbers as float64: numpy's iterator, half the time of ``asarray``."""
    return np.fromiter(values, float, len(values))


def calls_table(scenario: Scenario, days: list[DayCalls], centre: Centre) -> pd.DataFrame:
    """One row per call: arrival, handling as worked, outcome, wait, answering agent."""
    h = scenario.horizon
    arrival = _floats(centre.arrival)
    answered_at = _floats(centre.answered_at)
    deadline = _floats(centre.deadline)
    first = sum(len(d) for d in days)
    patience = np.concatenate([*(d.patience for d in days), deadline[first:] - arrival[first:]])
    closed_at = _floats(centre.closed_at)
    answered = ~np.isnan(answered_at)
    closed = ~np.isnan(closed_at)
    abandoned = ~answered & ~closed & (deadline <= centre.env.now)
    lost = ~(answered | closed | abandoned)
    if lost.any() or (answered & closed).any():
        raise RuntimeError(f"{int(lost.sum())} calls neither answered, abandoned nor closed "
                           "by the end of the run: the closing model is broken")
    outcome = np.where(answered, 0, np.where(abandoned, 1, 2))  # codes of OUTCOMES
    wait = np.where(answered, answered_at - arrival,
                    np.where(abandoned, deadline - arrival, closed_at - arrival))
    day = np.repeat([d.day for d in days], [len(d) for d in days])
    if len(arrival) > first:  # repeat calls: the day they came in
        day = np.r_[day, np.minimum(arrival[first:] // DAY_S, h.days - 1).astype(day.dtype)]
    repeat_of = np.full(len(arrival), -1, dtype=np.int64)
    if centre.repeat_of:
        repeat_of[list(centre.repeat_of)] = list(centre.repeat_of.values())
    released = np.zeros(len(arrival), dtype=bool)
    if centre.released:
        released[list(centre.released)] = True
    since_open = arrival - day * DAY_S - h.open
    interval = np.minimum((since_open // h.interval_s).astype(int), h.intervals_per_day - 1)
    return pd.DataFrame({
        "call": np.arange(len(arrival)),
        "day": day,
        "interval": interval,
        "arrival_s": arrival,
        "talk_s": _floats(centre.talk),  # as worked
        "acw_s": _floats(centre.acw),  # as done (ACW call-out may cut it)
        "patience_s": patience,
        "outcome": pd.Categorical.from_codes(outcome, dtype=OUTCOMES),
        "answered_s": answered_at,
        "wait_s": wait,
        "agent": np.asarray(centre.answered_by),
        "counted": (day > 0) | (since_open >= h.warmup_minutes * 60),
        "repeat_of": repeat_of,
        "released": released,
    })


def log_arrays(log: StatusLog, start: int = 0, consume: bool = False
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(agent, time, status code) of rows ``start:``, sorted by agent (stable: in time).

    Agent as int64, code as int8. With ``consume`` the log hands its columns over (no
    copy) and is left empty.
    """
    agent, t, code = log.columns(start, consume=consume)
    order = stable_order(agent)
    return agent[order].astype(np.int64), t[order], code[order]


def spells(agent: np.ndarray, t: np.ndarray, code: np.ndarray, day: np.ndarray
           ) -> pd.DataFrame:
    """Status spells from change rows sorted by agent, each session ending in Logged Out.

    A spell ends at the agent's next change; the Logged Out rows themselves are dropped.
    """
    end = np.empty_like(t)
    end[:-1] = t[1:]
    end[-1:] = t[-1:]
    keep = code != Status.LOGGED_OUT
    return pd.DataFrame({
        "agent": agent[keep],
        "day": day[keep],
        # categories are in Status order, so the codes are the status values
        "status": pd.Categorical.from_codes(code[keep], dtype=STATUS_CATEGORIES),
        "start_s": t[keep],
        "end_s": end[keep],
        "duration_s": end[keep] - t[keep],
    })


def statuses_table(log: StatusLog, agents: list[Agent]) -> pd.DataFrame:
    """Status spells from the change log (which it empties); each agent's rows are in order.

    An agent's n-th session (counted by its log-outs) is the n-th day it worked, which is
    not its n-th day of the horizon when it was absent on some day.
    """
    agent, t, code = log_arrays(log, consume=True)
    # session number: log-outs before each row, per agent
    logout = code == Status.LOGGED_OUT
    first = np.r_[True, agent[1:] != agent[:-1]]
    cum = np.cumsum(logout) - logout
    session = cum - np.maximum.accumulate(np.where(first, cum, 0))
    del first, cum
    worked = [[d for d, _, _ in a.logins] for a in agents]
    offset = np.r_[0, np.cumsum([len(w) for w in worked])].astype(np.int64)
    day_of = np.array([d for w in worked for d in w], dtype=np.int64)
    return spells(agent, t, code, day_of[offset[agent] + session])  # each row's session day


def agent_days_table(agents: list[Agent], agents_df: pd.DataFrame, statuses: pd.DataFrame,
                     calls: pd.DataFrame) -> pd.DataFrame:
    """One row per agent-day worked: log-in and log-out, seconds per status, calls."""
    rows = [(a.index, d, login, logout) for a in agents for d, login, logout in a.logins]
    agent = np.array([r[0] for r in rows], dtype=np.int64)
    day = np.array([r[1] for r in rows], dtype=np.int64)
    login = np.array([r[2] for r in rows], dtype=float)
    logout = np.array([r[3] for r in rows], dtype=float)
    # one flat key per agent-day (the table's own rows: sorted by agent, then day)
    width = int(max(day.max(initial=0), statuses["day"].max() if len(statuses) else 0,
                    calls["day"].max() if len(calls) else 0)) + 1
    key = agent * width + day
    cols = {"agent": agent, "day": day, "login_s": login, "logout_s": logout,
            "shift": agents_df["shift"].to_numpy()[agent], "logged_in_s": logout - login}
    st_key = statuses["agent"].to_numpy() * width + statuses["day"].to_numpy()
    codes = statuses["status"].cat.codes.to_numpy()  # the Status values
    dur = statuses["duration_s"].to_numpy()
    for s in (Status.READY, Status.TALK, Status.ACW):
        hit = codes == s
        # pandas' grouped sum (as the pivot table summed): the same rounding
        per = pd.Series(dur[hit]).groupby(st_key[hit]).sum()
        cols[f"{s.name.lower()}_s"] = _lookup(per, key, 0.0)
    by = calls["agent"].to_numpy()
    handled = by >= 0
    ck = by[handled].astype(np.int64) * width + calls["day"].to_numpy()[handled]
    cols["calls"] = np.bincount(ck, minlength=int(key.max(initial=-1)) + 1)[key].astype(int)
    busy = cols["talk_s"] + cols["acw_s"]
    den = busy + cols["ready_s"]
    cols["occupancy"] = busy / np.where(den > 0, den, np.nan)
    return pd.DataFrame(cols)


def _lookup(per: pd.Series, key: np.ndarray, fill: float) -> np.ndarray:
    """``per``'s values at the keys ``key`` (``fill`` where it has none)."""
    idx = per.index.to_numpy()
    pos = np.searchsorted(idx, key)
    pos_c = np.minimum(pos, max(len(idx) - 1, 0))
    found = (pos < len(idx)) & (idx[pos_c] == key) if len(idx) else np.zeros(len(key), bool)
    return np.where(found, per.to_numpy()[pos_c] if len(idx) else fill, fill).astype(float)


def add_overtime(out: pd.DataFrame) -> pd.DataFrame:
    """Seconds logged in after the shift's end: a call finished late, the queue cleared."""
    out["overtime_s"] = np.maximum(0.0, out["logout_s"] - out["shift_end_s"])
    return out


def clip_to_opening(statuses: pd.DataFrame, scenario: Scenario, agent: bool = False
                    ) -> pd.DataFrame:
    """Status time cut to each day's opening hours (and day 0's warm-up removed).

    Returns day, status and duration_s of the pieces inside the window (and their agent
    with ``agent``: what KPIs by team need).

    Time-based KPIs such as occupancy describe the hours the queue is open; overtime after
    closing (rule "serve": clearing the queue; see ``overtime_hours``) and a steady-state
    run's warm-up are left out.
    """
    h = scenario.horizon
    day = statuses["day"].to_numpy()
    lo = day * DAY_S + h.open + np.where(day == 0, h.warmup_minutes * 60, 0.0)
    hi = day * DAY_S + h.open + h.hours * 3600
    start = np.maximum(statuses["start_s"].to_numpy(), lo)
    end = np.minimum(statuses["end_s"].to_numpy(), hi)
    keep = end > start
    # only what the time-based KPIs read: a lean copy (the full table is the largest)
    status = pd.Categorical.from_codes(statuses["status"].cat.codes.to_numpy()[keep],
                                       dtype=STATUS_CATEGORIES)
    out = pd.DataFrame({"day": day[keep], "status": status,
                        "duration_s": (end - start)[keep]})
    if agent:
        out.insert(0, "agent", statuses["agent"].to_numpy()[keep])
    return out


def intervals_table(scenario: Scenario, calls: pd.DataFrame, statuses: pd.DataFrame,
                     segs: pd.DataFrame, pieces: pd.DataFrame) -> pd.DataFrame:
    """Per day and reporting interval: queue KPIs and mean agents per status and state."""
    h, sl = scenario.horizon, scenario.service_level
    n_int = h.intervals_per_day
    # every column as an array (day-major, as the grid of days and intervals), then one frame
    out: dict[str, np.ndarray] = {
        "day": np.repeat(np.arange(h.days, dtype=np.int64), n_int),
        "interval": np.tile(np.arange(n_int, dtype=np.int64), h.days),
        "start_s": interval_bounds(scenario)[0],
    }
    # one flat bin per (day, interval): counts by bincount, not by groupby
    slot = calls["day"].to_numpy() * n_int + calls["interval"].to_numpy()
    size = h.days * n_int

    def count(mask: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
        s, w = (slot, weights) if mask is None else (slot[mask], None if weights is None
                                                     else weights[mask])
        return np.bincount(s, weights=w, minlength=size)[:size]

    def positive(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, np.nan)

    out["offered"] = count().astype(np.int64)
    ans = outcome_is(calls, "answered")
    wait = calls["wait_s"].to_numpy()
    for name, mask in (("answered", ans), ("abandoned", outcome_is(calls, "abandoned")),
                       ("closed", outcome_is(calls, "closed")),
                       ("answered_within", ans & (wait <= sl.threshold_s))):
        out[name] = count(mask).astype(np.int64)
    within, den = service_level_masks(calls, sl)
    out["service_level"] = count(within) / positive(count(den))
    out["asa_s"] = count(ans, wait) / positive(out["answered"])
    out["abandon_rate"] = out["abandoned"] / positive(out["offered"])
    # mean agents per status and per schedule state, interval by interval (time-weighted)
    lo, hi = interval_bounds(scenario)
    on_q = (segs["state"] == 0).to_numpy()
    seg_start, seg_end = segs["start_s"].to_numpy(), segs["end_s"].to_numpy()
    codes = statuses["status"].cat.codes.to_numpy()  # the Status values
    st_start, st_end = statuses["start_s"].to_numpy(), statuses["end_s"].to_numpy()
    spans = {
        f"agents_{s.name.lower()}": (st_start[codes == s], st_end[codes == s])
        for s in (Status.READY, Status.TALK, Status.ACW)
    }
    spans |= {
        "agents_scheduled": (seg_start, seg_end),
        "agents_scheduled_on_queue": (seg_start[on_q], seg_end[on_q]),
        "agents_in_adherence": (pieces["start_s"].to_numpy(),
                                pieces["start_s"].to_numpy() + pieces["adherent_s"].to_numpy()),
    }
    for name, (st, en) in spans.items():
        out[name] = time_in(st, en, lo, hi) / h.interval_s
        if name == "agents_acw":  # the three on-queue statuses' sum (NaN as nothing)
            out["agents_on_queue"] = np.nansum(
                np.vstack([out["agents_ready"], out["agents_talk"], out["agents_acw"]]), axis=0)
    out["adherence"] = out["agents_in_adherence"] / positive(out["agents_scheduled"])
    return pd.DataFrame(out)


def imposed_table(agents: list[Agent], day: int | None = None) -> pd.DataFrame:
    """One row per activity imposed at run time (a supervisor's conversation).

    ``day``: only that day's (read from the end of each log: its days never decrease).
    """
    rows = _log_rows(agents, "imposed_log", day)
    cols: dict = _columns(rows, {"agent": np.int64, "day": np.int64, "reason": object,
                                 "status": np.int64, "length_s": float, "requested_s": float,
                                 "start_s": float, "end_s": float})
    cols["reason"] = pd.array(cols["reason"], dtype=str)
    cols["status"] = pd.Categorical.from_codes(cols["status"], dtype=STATUS_CATEGORIES)
    cols["displaced_s"] = cols["start_s"] - cols["requested_s"]
    return pd.DataFrame(cols)


def absences_table(presence: Presence, plan: Plan) -> pd.DataFrame:
    """One row per scheduled agent-day not worked: the exception and its reason."""
    agent, day = np.nonzero(~presence.present)
    return pd.DataFrame({
        "agent": agent.astype(np.int64), "day": day.astype(np.int64),
        "reason": pd.Categorical(presence.reasons(agent, day), categories=ABSENCE_REASONS),
        "scheduled_s": plan.shift_end[agent, day] - plan.shift_start[agent, day],
    })


#: agent-day columns summed per team and day (seconds and counts)
TEAM_SUMS = ("scheduled_s", "in_adherence_s", "excused_s", "ready_s", "talk_s", "acw_s",
             "calls", "overtime_s", "unplanned_breaks")

#: The smallest group any aggregate written without ``--individual`` describes: a scenario's
#: ``teams.min_group`` can raise it, never lower it (only the run option ``--individual``
#: does). Source: the threshold (minimum frequency) rule of tabular disclosure control,
#: Hundepool, A. et al. (2012), *Statistical Disclosure Control*, Wiley, ch. 4 (3 to 10 in
#: the practice of statistical offices); 5 is the project's "minimum group size, default
#: 5" (docs/policy.md, Privacy).
PUBLISH_FLOOR = 5


def publish_floor(min_group: int, individual: bool = False) -> int:
    """Smallest group a written aggregate shows: ``min_group`` raised to PUBLISH_FLOOR.

    ``individual`` (the explicit run option, never scenario data) keeps the scenario's own
    ``min_group``: its output holds the agent-level tables anyway.
    """
    return int(min_group) if individual else max(PUBLISH_FLOOR, int(min_group))


def protected(hidden: np.ndarray, floor: int) -> bool:
    """Whether blanked cells of these sizes keep every one of them safe from an insider.

    Without any one cell (the insider's own) at least two non-empty cells and ``floor``
    contributors remain, so what subtraction leaves is still a combined figure.
    """
    hidden = np.asarray(hidden)
    return bool((hidden > 0).sum() >= 3 and hidden.sum() - hidden.max() >= floor)


def suppress_cells(size: np.ndarray, day: np.ndarray, floor: int) -> np.ndarray:
    """Which cells of a group-by-day table to blank: primary and complementary suppression.

    ``size`` is each cell's contributors (agents who worked). Primary: a cell of fewer than
    ``floor`` (an empty one too, so a group's absence is not shown). Complementary, day by
    day: a day's total is published elsewhere (the centre's daily KPIs and counts, the
    calls), so the blanked cells' sum is always derivable as total minus published cells.
    An insider (a member or leader of one blanked group) knows that group's own figures and
    can subtract them too, so the blanked cells must stay protected without any one of
    them: while they hold fewer than three non-empty groups, or fewer than ``floor``
    contributors once the largest is taken away, the smallest published cell (the first on
    ties) is blanked too. A day where that is impossible is blanked whole (Hundepool et al.
    2012, ch. 4: secondary suppression, with a protection level against one respondent's
    coalition).
    """
    size = np.asarray(size)
    day = np.asarray(day)
    out = size < floor
    for d in np.unique(day[out]):
        idx = np.flatnonzero(day == d)
        idx = idx[np.argsort(size[idx], kind="stable")]  # smallest first
        for j in idx:
            hidden = size[idx][out[idx]]
            if protected(hidden, floor):
                break
            out[j] = True
    return out


def team_days_table(agent_days: pd.DataFrame, agents: pd.DataFrame, actions: pd.DataFrame,
                    min_group: int, days: int | None = None) -> pd.DataFrame:
    """Per team and day: sums and rates over its agents, the privacy-safe view.

    One row per team of the roster and day (``days``: the horizon; default up to the last
    day worked), worked or not. A team-day with fewer than ``min_group`` agents worked is
    blanked, and further team-days by :func:`suppress_cells` so that none can be recovered
    from a day's total; a blanked row keeps its team and day only, ``agents`` too is
    blanked (``suppressed``).
    """
    team_all = agents["team"].to_numpy()
    teams = np.unique(team_all)
    cols = [c for c in TEAM_SUMS if c in agent_days] + \
        [c for c in agent_days.columns if c.startswith("lost_") and c.endswith("_s")]
    day = agent_days["day"].to_numpy()
    n_days = days if days is not None else int(day.max()) + 1 if len(day) else 0
    size = len(teams) * n_days
    # one flat key per team-day of the grid (teams sorted, then days): sums by key
    key = np.searchsorted(teams, team_all[agent_days["agent"].to_numpy()]) * n_days + day
    keep = (day >= 0) & (day < n_days)
    key = key[keep]
    sums = np.zeros((size, len(cols)))  # a team-day nobody worked: zeros
    if len(key):  # pandas' grouped sum (as a groupby by team and day): the same rounding
        per = pd.DataFrame({c: agent_days[c].to_numpy()[keep] for c in cols}).groupby(
            key, sort=True).sum()
        sums[per.index.to_numpy()] = per.to_numpy(dtype=float)
    heads = np.bincount(key, minlength=size)[:size]
    figs = {"agents": heads.astype(float)} | {c: sums[:, j] for j, c in enumerate(cols)}
    sched = figs["scheduled_s"]
    figs["adherence"] = figs["in_adherence_s"] / np.where(sched > 0, sched, np.nan)
    busy = figs["talk_s"] + figs["acw_s"]
    den = busy + figs["ready_s"]
    figs["occupancy"] = busy / np.where(den > 0, den, np.nan)
    act = actions["action"].to_numpy()
    a_team, a_day = actions["team"].to_numpy(), actions["day"].to_numpy()
    for what in ("chase", "warning", "defer_break", "evaluation"):
        m = act == what
        pos = np.searchsorted(teams, a_team[m])
        on_grid = ((pos < len(teams)) & (teams[np.minimum(pos, max(len(teams) - 1, 0))]
                                         == a_team[m]) if len(teams) else np.zeros(len(pos), bool))
        on_grid &= (a_day[m] >= 0) & (a_day[m] < n_days)
        figs[f"{what}s"] = np.bincount(pos[on_grid] * n_days + a_day[m][on_grid],
                                       minlength=size)[:size].astype(float)
    hidden = suppress_cells(heads, np.tile(np.arange(n_days), len(teams)), min_group)
    out = {"team": np.repeat(teams, n_days), "day": np.tile(np.arange(n_days, dtype=np.int64),
                                                            len(teams))}
    out |= {c: np.where(hidden, np.nan, v) for c, v in figs.items()}  # blanks are NaN
    out["suppressed"] = hidden
    return pd.DataFrame(out)


#: the customers' side of the centre-level tables and KPIs: kept whatever the head count
#: (what callers got; the ``calls`` table, which is written anyway, holds the same)
CUSTOMER_FIGURES = ("offered", "answered", "abandoned", "closed", "answered_within",
                    "service_level", "intervals_below_target", "worst_interval_service_level",
                    "asa_s", "abandon_rate", "p_wait", "aht_s", "repeat_call_rate",
                    "released_rate", "service_level_target_met", "intervals_target_met_share",
                    "abandon_target_met")
#: the keys of a centre-level row (which day, which interval, the day's demand factor)
CENTRE_KEYS = ("day", "interval", "start_s", "busyness")


def agent_figures(columns: Iterable[str]) -> list[str]:
    """The columns of a centre-level table or KPI set that describe the agents at work.

    Everything but the customers' figures and the keys: adherence, occupancy, conformance,
    stress, absence, attrition, paid hours and cost, warnings and chases per agent,
    exceptions, quality, agents per status, ... (a new figure is the agents' by default).
    """
    return [c for c in columns if c not in CUSTOMER_FIGURES and c not in CENTRE_KEYS]


def interval_heads(agent_days: pd.DataFrame, start: np.ndarray, length: float) -> np.ndarray:
    """Per interval (start times ``start``, absolute seconds): the agents logged in during it.

    An agent-day counts in every interval its log-in to log-out overlaps.
    """
    login = np.sort(agent_days["login_s"].to_numpy(float))
    logout = np.sort(agent_days["logout_s"].to_numpy(float))
    start = np.asarray(start, float)
    # overlapping = logged in before the interval ends, minus logged out before it starts
    return (np.searchsorted(login, start + length, side="left")
            - np.searchsorted(logout, start, side="right"))


def small_intervals(agent_days: pd.DataFrame, intervals: pd.DataFrame, length: float,
                    floor: int) -> np.ndarray:
    """Which interval rows may not show their agents' figures: primary and complementary.

    Primary: fewer than ``floor`` agents logged in, but some (an interval nobody worked
    describes nobody). Complementary, day by day: the day's
    figures are published (``daily``, ``team_days``), so the blanked intervals' agents are
    recoverable together as the day minus the published intervals; the same people work
    many intervals, so what protects them is the number of distinct agents in the blanked
    intervals: at least three and, without any one of them (an insider), ``floor``. While
    that fails, the published interval with the fewest agents (the first on ties) is
    blanked too; a day where it cannot hold is blanked whole (and is a small day, see
    :func:`published_centre`).
    """
    starts = intervals["start_s"].to_numpy(float)
    heads = interval_heads(agent_days, starts, length)
    out = (heads > 0) & (heads < floor)
    days = intervals["day"].to_numpy()
    login, logout = agent_days["login_s"].to_numpy(float), agent_days["logout_s"].to_numpy(
        float)
    ad_day = agent_days["day"].to_numpy()
    for d in np.unique(days[out]):
        idx = np.flatnonzero(days == d)
        mine = ad_day == d
        # who is in which interval: agent-days of the day x its intervals
        inside = (login[mine, None] < starts[idx] + length) & (logout[mine, None] > starts[idx])
        for j in idx[np.argsort(heads[idx], kind="stable")]:
            union = int(inside[:, out[idx]].any(axis=1).sum())
            if union >= 3 and union - 1 >= floor:
                break
            out[j] = True
    return out


def published_centre(daily: pd.DataFrame | None, intervals: pd.DataFrame | None,
                     kpis: dict[str, float], agent_days: pd.DataFrame, days: int,
                     length: float, floor: int
                     ) -> tuple[pd.DataFrame | None, pd.DataFrame | None, dict[str, float]]:
    """The centre-level tables and KPIs as written without ``--individual``.

    A small centre is otherwise described by them: the agents' figures (:func:`agent_figures`)
    of a day on which some but fewer than ``floor`` agents worked (of ``days``) are blanked
    in ``daily`` and in every interval of that day; those of an interval with too few agents
    logged in by :func:`small_intervals`. The run's KPIs are the days' combined, so a
    blanked day could be recovered as the run minus the published days: when any day is
    blanked, the run's agent KPIs are blanked too (also when no table is written). The
    customers' figures stay. ``length``: the interval in seconds.
    """
    heads = agent_days.groupby("day").size().reindex(range(days), fill_value=0)
    small = heads.index[(heads.to_numpy() > 0) & (heads.to_numpy() < floor)].tolist()
    if intervals is not None:
        hidden = small_intervals(agent_days, intervals, length, floor) | np.isin(
            intervals["day"].to_numpy(), small)
        if hidden.any():
            intervals = intervals.copy()
            cols = agent_figures(intervals.columns)
            intervals[cols] = intervals[cols].astype(float)
            intervals.loc[hidden, cols] = np.nan
    if daily is not None and small:
        daily = daily.copy()
        cols = agent_figures(daily.columns)
        daily[cols] = daily[cols].astype(float)
        daily.loc[daily["day"].isin(small), cols] = np.nan
    if small:
        blank = set(agent_figures(kpis))
        kpis = {k: (math.nan if k in blank else v) for k, v in kpis.items()}
    return daily, intervals, kpis
