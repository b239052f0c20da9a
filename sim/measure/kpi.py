"""KPI definitions: one small documented function per KPI, over the run's tables.

Every KPI takes the calls that count (arrived inside the measurement window), the status
rows clipped to that window, and the scenario's service-level settings, and returns one
float. ``KPIS`` is the registry: later layers (adherence, stress) add entries; tables and
reports iterate over it and never hard-code the list.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.status import LABELS, Status
from sim.measure.order import sorted_groups, stable_order
from sim.scenario import LOSS_REASONS, SYSTEM_REASONS, Cost, ServiceLevel, Targets


@dataclass(frozen=True)
class KPIData:
    """What a KPI function sees: calls in the window, statuses clipped to it, SL settings."""

    calls: pd.DataFrame
    statuses: pd.DataFrame
    service_level: ServiceLevel
    agent_days: pd.DataFrame | None = None
    """Per agent-day schedule measures (whole shifts, not clipped to opening hours)."""
    evaluations: pd.DataFrame | None = None
    """Calls scored by monitoring (call, agent, day, kind, score)."""
    working_days_per_month: float = 230 / 12
    """To express counts per agent-month (schedule.days_per_year / 12)."""
    absences: pd.DataFrame | None = None
    """Scheduled agent-days not worked (agent, day, reason)."""
    actions: pd.DataFrame | None = None
    """The measurement regime's actions (chases, warnings, coaching, deferred breaks)."""
    exceptions: pd.DataFrame | None = None
    """Adherence exceptions (``sim.measure.exceptions``), one row each, of the same agent-days."""
    cost: Cost | None = None
    """What a paid agent-hour costs ([cost]); None: no cost KPIs."""
    paid_login_s: float = 0.0
    """Paid pre-shift log-in time per agent-day worked (adherence.paid_login_minutes)."""
    targets: Targets | None = None
    """The scenario's COPC-style targets (``[targets]``), for the target KPIs."""
    team_of: np.ndarray | None = None
    """Team per agent (for targets that apply to teams)."""
    group_of: np.ndarray | None = None
    """Agent group per agent (``[agent_groups]``), for KPIs by group."""
    type_levels: tuple[ServiceLevel, ...] | None = None
    """Per call type its service-level settings (``[call_types]``), for KPIs by type."""
    memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """What several KPIs read (outcome masks, sums, counts), computed once per data."""

    def once(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, computed the first time ``key`` is asked for and kept."""
        memo = self.memo
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def status_seconds(self, *statuses: Status) -> float:
        """Total seconds agents spent in the given statuses."""
        return self.once(("status_s", statuses), lambda: _status_seconds(self.statuses, statuses))


def _status_seconds(st: pd.DataFrame, statuses: tuple[Status, ...]) -> float:
    """Seconds of the rows in ``statuses``, summed in table order (as pandas sums them)."""
    col = st["status"]
    if isinstance(col.dtype, pd.CategoricalDtype):  # compare codes, not strings
        cats = col.cat.categories
        want = [cats.get_loc(LABELS[s]) for s in statuses if LABELS[s] in cats]
        hit = np.isin(col.cat.codes.to_numpy(), want)
    else:
        hit = col.isin([LABELS[s] for s in statuses]).to_numpy()
    return float(np.nansum(st["duration_s"].to_numpy(float)[hit]))


def _total(col: pd.Series) -> float:
    """A column's sum as pandas computes it (NaN skipped), straight from its values."""
    v = col.to_numpy()
    return v.sum() if v.dtype.kind in "iub" else np.nansum(v)


@dataclass(frozen=True)
class KPI:
    """A named, documented indicator."""

    name: str
    description: str
    unit: str
    func: Callable[[KPIData], float]


KPIS: dict[str, KPI] = {}

#: The words every statement about reporting intervals uses, one definition each: the KPI
#: descriptions below, ``ccsim run``'s and ``ccsim compare``'s reports, ``ccsim docs`` and the
#: notebooks quote these, so the run report, the compare report and the docs cannot say the
#: same thing three ways.
INTERVAL_TERMS: dict[str, str] = {
    "reporting interval": "one interval (horizon.interval_minutes) of one day, counted when "
                          "calls arrived in it",
    "intervals below target": "the share of reporting intervals whose service level is below "
                              "service_level.target",
    "worst interval": "the reporting interval with the lowest service level in a replication; "
                      "its service level, averaged over replications",
    "coverage": "per interval of the day, the agents on queue (Ready, Talk, After Call Work) "
                "against the agents Erlang C/A needs for the service-level target in that "
                "interval alone; an interval more than half an agent short is under-covered",
}


def interval_term(term: str) -> str:
    """``"Intervals below target: the share of ..."``: a term with its one definition."""
    return f"{term[0].upper()}{term[1:]}: {INTERVAL_TERMS[term]}."


#: KPIs whose unit is a share but which can pass 100% (time on queue over time scheduled
#: counts overtime), so a confidence interval over 100% is no display error for them.
ABOVE_ONE = frozenset({"conformance"})

#: How a unit reads in a table's unit column (shares are shown as per cent).
UNIT_WORDS: dict[str, str] = {
    "share": "%", "score": "stress pts", "s": "seconds", "h": "hours", "calls": "calls",
    "currency": "currency", "per agent": "per agent", "per agent-day": "/agent-day",
    "per year": "per year", "FTE": "FTE",
}


def kpi(name: str, description: str, unit: str = "") -> Callable:
    """Register a KPI function under a stable name."""

    def register(func: Callable[[KPIData], float]) -> Callable[[KPIData], float]:
        if name in KPIS:
            raise ValueError(f"KPI {name!r} registered twice")
        KPIS[name] = KPI(name, description, unit, func)
        return func

    return register


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def outcome_is(calls: pd.DataFrame, what: str) -> np.ndarray:
    """Per call: whether its outcome is ``what`` (by category code: no string compares)."""
    col = calls["outcome"]
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        if what not in cats:
            return np.zeros(len(col), dtype=bool)
        return col.cat.codes.to_numpy() == cats.get_loc(what)
    return (col == what).to_numpy()


def _outcome(d: KPIData, what: str) -> np.ndarray:
    return d.once(("outcome", what), lambda: outcome_is(d.calls, what))


def _sl_masks(d: KPIData) -> tuple[np.ndarray, np.ndarray]:
    return d.once("sl_masks", lambda: service_level_masks(d.calls, d.service_level))


def _handle(d: KPIData) -> np.ndarray:
    """Talk + ACW of each answered call, in table order."""
    def make() -> np.ndarray:
        ans = _outcome(d, "answered")
        return d.calls["talk_s"].to_numpy()[ans] + d.calls["acw_s"].to_numpy()[ans]
    return d.once("handle", make)


def _column_total(d: KPIData, table: str, column: str) -> float:
    """The sum of one column of one of ``d``'s tables (as pandas sums it), once."""
    return d.once(("total", table, column), lambda: _total(getattr(d, table)[column]))


def _nunique(d: KPIData, table: str, column: str) -> int:
    """Distinct values of one column of one of ``d``'s tables, once."""
    return d.once(("nunique", table, column), lambda: _count_distinct(getattr(d, table)[column]))


def _count_distinct(col: pd.Series) -> int:
    """Distinct non-missing values of a column (as ``nunique``; integers by numpy)."""
    v = col.to_numpy()
    return len(np.unique(v)) if v.dtype.kind in "iub" else col.nunique()


@kpi("offered", "Calls offered (arrived in the measurement window).", "calls")
def offered(d: KPIData) -> float:
    """Count every call that arrived."""
    return float(len(d.calls))


@kpi("answered", "Calls answered by an agent.", "calls")
def answered(d: KPIData) -> float:
    """Count answered calls."""
    return float(_outcome(d, "answered").sum())


@kpi("abandoned", "Calls whose caller hung up while waiting.", "calls")
def abandoned(d: KPIData) -> float:
    """Count abandoned calls."""
    return float(_outcome(d, "abandoned").sum())


@kpi("closed", "Calls still waiting when the queue closed, ended with a message to call "
     "back (rule closing.rule; under \"serve\" only those nobody was left to answer).",
     "calls")
def closed(d: KPIData) -> float:
    """Count calls ended by closing."""
    return float(_outcome(d, "closed").sum())


def service_level_masks(calls: pd.DataFrame, sl: ServiceLevel) -> tuple[np.ndarray, np.ndarray]:
    """Per call: (counts in the numerator, counts in the denominator) of service level."""
    wait = calls["wait_s"].to_numpy()
    ans = outcome_is(calls, "answered")
    aband = outcome_is(calls, "abandoned")
    within = ans & (wait <= sl.threshold_s)
    if sl.definition == "offered":
        den = np.ones(len(wait), dtype=bool)
    elif sl.definition == "answered":
        den = ans
    elif sl.definition == "answered_and_late_abandons":
        # a call closed after waiting longer than T is a late loss, like a late abandon
        den = ans | ((aband | outcome_is(calls, "closed")) & (wait > sl.threshold_s))
    else:  # offered_excluding_short_abandons
        den = ~(aband & (wait <= sl.short_abandon_s))
    return within, den


@kpi("service_level", "Share of calls answered within T seconds, by the scenario's "
     "service_level.definition (default: over offered).", "share")
def service_level(d: KPIData) -> float:
    """Service level by the configured definition."""
    within, den = _sl_masks(d)
    return _ratio(within.sum(), den.sum())


def interval_service_levels(d: KPIData) -> np.ndarray:
    """Service level of every (day, interval) with calls in the window, by the definition."""
    return d.once("interval_sl", lambda: _interval_service_levels(d))


def _interval_service_levels(d: KPIData) -> np.ndarray:
    if len(d.calls) == 0 or "interval" not in d.calls:
        return np.zeros(0)
    within, den = _sl_masks(d)
    slot = d.calls["day"].to_numpy() * 100_000 + d.calls["interval"].to_numpy()
    _, idx = np.unique(slot, return_inverse=True)
    num, n = np.bincount(idx, weights=within), np.bincount(idx, weights=den)
    return num[n > 0] / n[n > 0]


@kpi("intervals_below_target", interval_term("intervals below target")
     + " A reporting interval is " + INTERVAL_TERMS["reporting interval"] + ".", "share")
def intervals_below_target(d: KPIData) -> float:
    """Intervals missing the target / intervals with calls."""
    sl = interval_service_levels(d)
    return _ratio(float((sl < d.service_level.target).sum()), float(len(sl)))


@kpi("worst_interval_service_level", interval_term("worst interval"), "share")
def worst_interval_service_level(d: KPIData) -> float:
    """The lowest interval service level."""
    sl = interval_service_levels(d)
    return float(sl.min()) if len(sl) else float("nan")


@kpi("asa_s", "Average speed of answer: mean wait of answered calls.", "s")
def asa_s(d: KPIData) -> float:
    """Mean wait of answered calls."""
    ans = _outcome(d, "answered")
    return _ratio(d.calls["wait_s"].to_numpy()[ans].sum(), ans.sum())


@kpi("abandon_rate", "Abandoned calls / offered calls.", "share")
def abandon_rate(d: KPIData) -> float:
    """Share of offered calls abandoned."""
    return _ratio(_outcome(d, "abandoned").sum(), len(d.calls))


@kpi("p_wait", "Share of offered calls that had to wait at all (answered later, abandoned "
     "or closed).", "share")
def p_wait(d: KPIData) -> float:
    """Probability that a call waits (the Erlang C / A 'P(wait)')."""
    waited = ~(_outcome(d, "answered") & (d.calls["wait_s"].to_numpy() == 0))
    return _ratio(waited.sum(), len(d.calls))


@kpi("aht_s", "Average handle time of answered calls: talk + after call work.", "s")
def aht_s(d: KPIData) -> float:
    """Mean talk + ACW over answered calls."""
    return _ratio(np.nansum(_handle(d)), len(_handle(d)))


@kpi("occupancy", "Time in Talk and After Call Work / time Ready, in Talk or in ACW.", "share")
def occupancy(d: KPIData) -> float:
    """Share of on-queue time spent handling calls."""
    busy = d.status_seconds(Status.TALK, Status.ACW)
    return _ratio(busy, busy + d.status_seconds(Status.READY))


def _agent_day_ratio(d: KPIData, num: str | tuple[str, ...], den: str) -> float:
    ad = d.agent_days
    if ad is None or len(ad) == 0:
        return float("nan")
    cols = (num,) if isinstance(num, str) else num
    return _ratio(float(sum(_column_total(d, "agent_days", c) for c in cols)),
                  float(_column_total(d, "agent_days", den)))


@kpi("adherence", "Time in the scheduled state (with the tolerance of "
     "`measurement.adherence.convention`, by default after each scheduled change) / "
     "scheduled time, as a WFM system reports it; the log-in delay counts against it "
     "unless `measurement.adherence.excused` names it.", "share")
def adherence(d: KPIData) -> float:
    """Sum of in-adherence time / sum of scheduled time over agent-days."""
    return _agent_day_ratio(d, "in_adherence_s", "scheduled_s")


@kpi("conformance", "Schedule conformance: time actually on queue (Ready, Talk, ACW, "
     "overtime included) / time scheduled on queue.", "share")
def conformance(d: KPIData) -> float:
    """Worked on-queue time / scheduled on-queue time."""
    return _agent_day_ratio(d, ("ready_s", "talk_s", "acw_s"), "scheduled_on_queue_s")


@kpi("shrinkage", "Share of scheduled shift time not on queue (planned and unplanned "
     "breaks, activities, log-in delay); by category in agent_days.", "share")
def shrinkage(d: KPIData) -> float:
    """1 - on-queue time inside the shift / scheduled shift time."""
    on_q = _agent_day_ratio(d, "on_queue_in_shift_s", "scheduled_s")
    return 1.0 - on_q


@kpi("overtime_hours", "Agent-hours logged in after shift end (a call finished late, the "
     "queue cleared after closing), per day.", "h")
def overtime_hours(d: KPIData) -> float:
    """Overtime agent-hours per simulated day."""
    ad = d.agent_days
    if ad is None or len(ad) == 0 or "overtime_s" not in ad:
        return float("nan")
    return float(_column_total(d, "agent_days", "overtime_s") / 3600
                 / _nunique(d, "agent_days", "day"))


@kpi("repeat_call_rate", "Share of offered calls that are repeat calls (a caller calling "
     "again about a problem left unresolved; calls.repeat_probability).", "share")
def repeat_call_rate(d: KPIData) -> float:
    """Repeat calls / offered calls."""
    if "repeat_of" not in d.calls:
        return float("nan")
    # -1: a first call; a call's index, or -2 for a call before day 0 (a warm-up's): a repeat
    return _ratio(float((d.calls["repeat_of"].to_numpy() != -1).sum()), float(len(d.calls)))


@kpi("released_rate", "Share of answered calls an agent released early (under an individual "
     "AHT target).", "share")
def released_rate(d: KPIData) -> float:
    """Released calls / answered calls."""
    if "released" not in d.calls:
        return float("nan")
    return _ratio(float(d.calls["released"].sum()), float(_outcome(d, "answered").sum()))


@kpi("monitored_share", "Share of answered calls recorded (monitoring.recording) or heard "
     "live by a supervisor (listen-in).", "share")
def monitored_share(d: KPIData) -> float:
    """Recorded or listened-to calls / answered calls."""
    ans = _outcome(d, "answered")
    seen = (d.calls["recorded"].to_numpy(bool) if "recorded" in d.calls
            else np.zeros(len(ans), bool))
    if d.evaluations is not None and len(d.evaluations):
        live = d.evaluations.loc[d.evaluations["kind"] == "listen_in", "call"].to_numpy()
        seen = seen | np.isin(d.calls["call"].to_numpy(), live)
    return _ratio(float((seen & ans).sum()), float(ans.sum()))


@kpi("evaluations_per_agent_month", "Calls scored per agent per month of working days "
     "(monitoring.evaluations_per_agent_month and listen-ins).", "per agent")
def evaluations_per_agent_month(d: KPIData) -> float:
    """Evaluations / agents / months worked."""
    ad = d.agent_days
    if ad is None or len(ad) == 0:
        return float("nan")
    n = 0 if d.evaluations is None else len(d.evaluations)
    months = _nunique(d, "agent_days", "day") / d.working_days_per_month
    return n / _nunique(d, "agent_days", "agent") / months


@kpi("quality_score", "Mean score of the calls evaluated (0-1, with the evaluator's noise).",
     "share")
def quality_score(d: KPIData) -> float:
    """Mean evaluation score."""
    if d.evaluations is None or len(d.evaluations) == 0:
        return float("nan")
    return float(d.evaluations["score"].mean())


@kpi("stress_mean", "Mean measured stress on the model's survey scale (stress points: 0 is "
     "no strain; a reading above stress.high_threshold counts as high): the end-of-shift "
     "survey's reading (mean acute strain of the day + "
     "exhaustion + the person's level + survey noise; [stress] section).", "score")
def stress_mean(d: KPIData) -> float:
    """Mean of the survey readings over agent-days worked."""
    return _agent_day_mean(d, "stress")


def _agent_day_mean(d: KPIData, column: str) -> float:
    """Mean of an agent-day column (NaN when the run has no such column or no day)."""
    ad = d.agent_days
    if ad is None or column not in ad or len(ad) == 0:
        return float("nan")
    return float(ad[column].mean())


@kpi("stress_high_share", "Share of agent-days whose measured stress is above "
     "stress.high_threshold.", "share")
def stress_high_share(d: KPIData) -> float:
    """Share of high readings."""
    return _agent_day_mean(d, "stress_high")


#: absence reasons that are planned, not lost: a day off of the roster (labour.days_off),
#: leave; they are neither absences nor scheduled days in the absence KPIs
PLANNED_ABSENCE = ("day_off", "leave")


def _unplanned(d: KPIData) -> pd.DataFrame | None:
    """The absences table without planned days off and leave."""
    ab = d.absences
    if ab is None or len(ab) == 0 or "reason" not in ab:
        return ab
    planned = np.isin(ab["reason"].to_numpy(dtype=object), PLANNED_ABSENCE)
    return ab[~planned] if planned.any() else ab


@kpi("absence_rate", "Share of scheduled agent-days lost to absence (sickness: stress."
     "absence; a seat vacant after a quit: stress.attrition); planned days off and leave "
     "are not absences.", "share")
def absence_rate(d: KPIData) -> float:
    """Absent agent-days / scheduled agent-days (planned days off left out of both)."""
    ad, ab = d.agent_days, _unplanned(d)
    worked = 0 if ad is None else len(ad)
    absent = 0 if ab is None else len(ab)
    return _ratio(float(absent), float(worked + absent))


# --- attrition and available staff (issue 10: stress.attrition; sim/people/stress.py) ---


@kpi("attrition_rate", "Quits per average headcount, annualised: quits / person-days "
     "employed (scheduled agent-days minus vacant ones) x schedule.days_per_year (stress."
     "attrition; NaN when off).", "per year")
def attrition_rate(d: KPIData) -> float:
    """Annualised quit rate (the industry's turnover: separations / average headcount)."""
    ab = _unplanned(d)
    if ab is None or "quit_start" not in ab:
        return float("nan")
    worked = 0 if d.agent_days is None else len(d.agent_days)
    vacant = int((ab["reason"] == "quit").sum())
    employed = worked + len(ab) - vacant
    return _ratio(float(ab["quit_start"].sum()) * 12 * d.working_days_per_month,
                  float(employed))


@kpi("fte_available", "Agents available per working day over agents scheduled: agent-days "
     "worked / scheduled agent-days (sickness and vacant seats alike, so 1 - absence_rate; "
     "planned days off and leave are not scheduled days).", "share")
def fte_available(d: KPIData) -> float:
    """Mean agents present per day / mean agents scheduled per day."""
    worked = 0 if d.agent_days is None else len(d.agent_days)
    ab = _unplanned(d)
    absent = 0 if ab is None else len(ab)
    return _ratio(float(worked), float(worked + absent))


def _per_agent(d: KPIData, action: str) -> float:
    """Actions of one kind per agent who worked in the window (0 with no regime)."""
    ad = d.agent_days
    if ad is None or len(ad) == 0:
        return float("nan")
    n = 0 if d.actions is None else int(_action_counts(d).get(action, 0))
    return n / _nunique(d, "agent_days", "agent")


def _action_counts(d: KPIData) -> dict[str, int]:
    """Actions of the regime by kind, counted once."""
    return d.once("actions", lambda: d.actions["action"].value_counts().to_dict()
                  if len(d.actions) else {})


@kpi("warnings_per_agent", "Warnings given by supervisors per agent over the run "
     "(punitive feedback, `measurement.adherence.warning_after` breaches). At most one per "
     "agent per supervisor.escalation_interval_days (20 working days by default: a formal "
     "warning is an HR step, not a daily message), so a run shorter than that reads at most "
     "1 (0.999: almost every agent warned once).", "per agent")
def warnings_per_agent(d: KPIData) -> float:
    """Warnings per agent."""
    return _per_agent(d, "warning")


@kpi("chases_per_agent", "Adherence breaches chased by supervisors per agent over the run.",
     "per agent")
def chases_per_agent(d: KPIData) -> float:
    """Chases per agent."""
    return _per_agent(d, "chase")


@kpi("breaks_deferred_per_agent", "Times an agent put off a needed unplanned break because "
     "adherence is policed individually, per agent over the run.", "per agent")
def breaks_deferred_per_agent(d: KPIData) -> float:
    """Deferred unplanned breaks per agent."""
    return _per_agent(d, "defer_break")


@kpi("warnings_system_share", "Share of warnings whose breaches were mostly outside the "
     "agent's control (the system's log-in delay, calls running into an activity).", "share")
def warnings_system_share(d: KPIData) -> float:
    """Share of warnings caused mostly by system reasons."""
    if d.actions is None or len(d.actions) == 0:  # no warnings: 0 / 0
        return float("nan")
    warning = (d.actions["action"] == "warning").to_numpy(bool)
    system = (d.actions["reason"] == "system").to_numpy(bool)
    return _ratio(float((warning & system).sum()), float(warning.sum()))


def _per_agent_day(d: KPIData, column: str | None) -> float:
    """Exceptions (``column`` None) or those flagged in ``column``, per agent-day worked."""
    ad, ex = d.agent_days, d.exceptions
    if ad is None or len(ad) == 0 or ex is None:
        return float("nan")
    n = len(ex) if column is None else int(ex[column].to_numpy(bool).sum())
    return n / len(ad)


@kpi("exceptions_per_agent_day", "Adherence exceptions (runs of time out of adherence with "
     "time counted after the tolerance) per agent-day worked, excused ones included.",
     "per agent-day")
def exceptions_per_agent_day(d: KPIData) -> float:
    """Exceptions per agent-day."""
    return _per_agent_day(d, None)


@kpi("breaches_per_agent_day", "Breaches (exceptions not excused whose counted time exceeds "
     "`measurement.adherence.exception_threshold_s`) per agent-day worked, whoever sees "
     "them.", "per agent-day")
def breaches_per_agent_day(d: KPIData) -> float:
    """Breaches per agent-day."""
    return _per_agent_day(d, "breach")


_LOST_WHAT = {
    "login_delay": "the system's log-in delay (logged out after the shift start)",
    "call": "a call running into a planned activity (and a displaced break running over)",
    "late_return": "late returns from activities",
    "early_return": "early returns from activities",
    "unplanned_break": "unplanned breaks",
    "other": "no known reason (zero by construction; a new cause would show here)",
}


def _lost_share(reason: str) -> Callable[[KPIData], float]:
    def share(d: KPIData) -> float:
        return _agent_day_ratio(d, f"lost_{reason}_s", "scheduled_s")

    share.__doc__ = f"Adherence lost to {reason} / scheduled time."
    return share


for _reason in LOSS_REASONS:
    kpi(f"adherence_lost_{_reason}", f"Scheduled time out of adherence (after the "
        f"tolerance) through {_LOST_WHAT[_reason]}, as a share of scheduled time; counted "
        "whether excused or not.", "share")(_lost_share(_reason))


@kpi("breaches_system_share", "Share of breaches whose reason is outside the agent's "
     "control (the system's log-in delay, a call running into an activity).", "share")
def breaches_system_share(d: KPIData) -> float:
    """Breaches with a system reason / breaches."""
    ex = d.exceptions
    if ex is None or len(ex) == 0:  # no breaches: 0 / 0
        return float("nan")
    breach = ex["breach"].to_numpy(bool)
    reason = ex["reason"]
    if isinstance(reason.dtype, pd.CategoricalDtype):  # by code: no strings per row
        system = np.asarray(reason.cat.categories.astype(str).isin(SYSTEM_REASONS))
        codes = reason.cat.codes.to_numpy()
        is_system = np.where(codes >= 0, system[np.maximum(codes, 0)], False)
    else:
        is_system = reason.astype(str).isin(SYSTEM_REASONS).to_numpy()
    return _ratio(float((is_system & breach).sum()), float(breach.sum()))


# --------------------------------------------------------------------------- cost
# Paid hours and what they cost ([cost]): the price of a proposal beside its effect.


def _paid(d: KPIData) -> tuple[float, float, int]:
    """:func:`_paid_hours`, computed once per data (five cost KPIs read it)."""
    return d.once("paid", lambda: _paid_hours(d))


def _paid_hours(d: KPIData) -> tuple[float, float, int]:
    """(paid agent-hours, of which overtime hours, days) over the agent-days of ``d``.

    Paid: every rostered shift worked (its whole length), the paid pre-shift log-in
    minutes, the overtime after shift end, and rostered days lost to sickness when
    ``cost.absence_paid``. A seat left vacant after a quit, a day off or leave is not paid
    hours (holiday pay is in the fully loaded ``hourly_cost``). Days: those with an agent
    rostered (worked or absent).
    """
    ad, ab = d.agent_days, d.absences
    if d.cost is None or ad is None:
        return math.nan, math.nan, 0
    days = set(ad["day"].unique().tolist())
    overtime = float(ad["overtime_s"].sum()) if "overtime_s" in ad else 0.0
    paid = float(ad["scheduled_s"].sum()) + d.paid_login_s * len(ad) + overtime
    if ab is not None and len(ab):
        days |= set(ab["day"].unique().tolist())
        if d.cost.absence_paid:
            sick = (ab["reason"] == "sickness").to_numpy()
            paid += float(ab["scheduled_s"].to_numpy()[sick].sum())
    if not days:
        return math.nan, math.nan, 0
    return paid / 3600, overtime / 3600, len(days)


def _cost(d: KPIData) -> float:
    """Total staff cost of the agent-days of ``d`` (overtime with its premium)."""
    hours, overtime, _ = _paid(d)
    if d.cost is None or math.isnan(hours):
        return math.nan
    return d.cost.hourly_cost * (hours + d.cost.overtime_premium * overtime)


@kpi("paid_agent_hours", "Paid agent-hours per day: rostered shifts (whole length), paid "
     "pre-shift log-in minutes, overtime, and rostered days lost to sickness when "
     "cost.absence_paid (a seat vacant after a quit is not paid).", "h")
def paid_agent_hours(d: KPIData) -> float:
    """Paid hours / days."""
    hours, _, days = _paid(d)
    return hours / days if days else math.nan


@kpi("fte", "Paid agent-hours per day in full-time equivalents (paid_agent_hours / "
     "cost.fte_hours_per_day).", "FTE")
def fte(d: KPIData) -> float:
    """Paid hours per day / hours of one FTE day."""
    if d.cost is None:
        return math.nan
    return paid_agent_hours(d) / d.cost.fte_hours_per_day


@kpi("staff_cost_per_day", "Staff cost per day in cost.currency: paid agent-hours x "
     "cost.hourly_cost, overtime with cost.overtime_premium.", "currency")
def staff_cost_per_day(d: KPIData) -> float:
    """Cost / days."""
    _, _, days = _paid(d)
    return _cost(d) / days if days else math.nan


@kpi("cost_per_answered_call", "Staff cost per answered call in cost.currency (staff cost "
     "/ calls answered).", "currency")
def cost_per_answered_call(d: KPIData) -> float:
    """Cost / answered calls."""
    return _ratio(_cost(d), float(_outcome(d, "answered").sum()))


@kpi("paid_hours_per_answered_call", "Paid agent-hours per answered call.", "h")
def paid_hours_per_answered_call(d: KPIData) -> float:
    """Paid hours / answered calls."""
    hours, _, _ = _paid(d)
    return _ratio(hours, float(_outcome(d, "answered").sum()))


# --- COPC-style target attainment and league tables (issue 9: [targets], sim/regime/policy.py) ---


def _target(d: KPIData, name: str) -> float | None:
    t = d.targets
    return None if t is None else getattr(t, name)


def _met_share(values: np.ndarray, goal: float, higher_is_better: bool) -> float:
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan")
    met = values >= goal - 1e-12 if higher_is_better else values <= goal + 1e-12
    return float(met.mean())


def _units(d: KPIData, applies_to: str, agent: np.ndarray) -> np.ndarray:
    """The unit each agent's row counts toward: itself, its team, or the centre (0)."""
    if applies_to == "agent":
        return agent
    if applies_to == "team" and d.team_of is not None:
        return d.team_of[agent]
    return np.zeros(len(agent), dtype=np.int64)


def _ratio_by(units: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    _, idx = np.unique(units, return_inverse=True)
    n, m = np.bincount(idx, weights=num), np.bincount(idx, weights=den)
    return np.where(m > 0, n / np.where(m > 0, m, 1), np.nan)


@kpi("service_level_target_met", "1 when the service level of the window (the day, in the "
     "daily table) meets targets.service_level, else 0 (NaN: no target).", "share")
def service_level_target_met(d: KPIData) -> float:
    """Service level >= its goal."""
    goal = _target(d, "service_level")
    if goal is None:
        return float("nan")
    return _met_share(np.array([service_level(d)]), goal, True)


@kpi("intervals_target_met_share", "Share of reporting intervals whose service level meets "
     "the per-interval goal (targets.service_level_interval; NaN: none); the complement of "
     "intervals below target when that goal is the target.", "share")
def intervals_target_met_share(d: KPIData) -> float:
    """Intervals meeting the goal / intervals with calls."""
    goal = None if d.targets is None else d.targets.interval_goal
    if goal is None:
        return float("nan")
    return _met_share(interval_service_levels(d), goal, True)


@kpi("abandon_target_met", "1 when the abandon rate is at most targets.abandon_rate, else 0 "
     "(NaN: no target).", "share")
def abandon_target_met(d: KPIData) -> float:
    """Abandon rate <= its ceiling."""
    goal = _target(d, "abandon_rate")
    if goal is None:
        return float("nan")
    return _met_share(np.array([abandon_rate(d)]), goal, False)


@kpi("adherence_target_met_share", "Share of the units targets.adherence applies to (agents, "
     "teams or the centre: targets.adherence_applies_to) whose adherence over the window "
     "meets it (NaN: no target).", "share")
def adherence_target_met_share(d: KPIData) -> float:
    """Units at or above the adherence goal / units."""
    goal, ad = _target(d, "adherence"), d.agent_days
    if goal is None or ad is None or len(ad) == 0:
        return float("nan")
    units = _units(d, d.targets.adherence_applies_to, ad["agent"].to_numpy())
    return _met_share(_ratio_by(units, ad["in_adherence_s"].to_numpy(float),
                                ad["scheduled_s"].to_numpy(float)), goal, True)


@kpi("aht_target_met_share", "Share of the units targets.aht_s applies to (agents, teams or "
     "the centre) whose AHT over the window is at most the target (NaN: no target).", "share")
def aht_target_met_share(d: KPIData) -> float:
    """Units at or under the AHT target / units with answered calls."""
    goal = _target(d, "aht_s")
    if goal is None or "agent" not in d.calls:
        return float("nan")
    ans = _outcome(d, "answered")
    handle = _handle(d)
    if len(handle) == 0:
        return float("nan")
    units = _units(d, d.targets.aht_applies_to, d.calls["agent"].to_numpy(np.int64)[ans])
    return _met_share(_ratio_by(units, handle, np.ones(len(handle))), goal, False)


@kpi("quality_target_met_share", "Share of agents evaluated whose mean score meets "
     "targets.quality (NaN: no target or nothing scored).", "share")
def quality_target_met_share(d: KPIData) -> float:
    """Agents at or above the quality goal / agents scored."""
    goal, ev = _target(d, "quality"), d.evaluations
    if goal is None or ev is None or len(ev) == 0:
        return float("nan")
    return _met_share(_ratio_by(ev["agent"].to_numpy(), ev["score"].to_numpy(float),
                                np.ones(len(ev))), goal, True)


_TARGET_KPIS = (service_level_target_met, intervals_target_met_share, abandon_target_met,
                adherence_target_met_share, aht_target_met_share, quality_target_met_share)


@kpi("targets_met_share", "Mean attainment over the targets configured (each of the "
     "*_target_met KPIs above with a value: 1 met, 0 missed, or the share of units meeting "
     "it); 1 means a COPC-style scenario meets every target (NaN: no target).", "share")
def targets_met_share(d: KPIData) -> float:
    """Mean of the target KPIs that have a value."""
    if d.targets is None or not d.targets.any_set:
        return float("nan")
    vals = [v for v in (f(d) for f in _TARGET_KPIS) if not math.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


@kpi("rankings_per_agent", "Bottom-quartile places in the published league tables "
     "(monitoring.league_table; a team's place counts once) per agent over the run.",
     "per agent")
def rankings_per_agent(d: KPIData) -> float:
    """Bottom-quartile rankings per agent."""
    return _per_agent(d, "ranking")


def format_kpi(kpi: str, v: float | None) -> str:
    """A KPI value as text in its unit (shares as per cent, counts plain)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, int):  # counts such as agents
        return f"{v}"
    unit = KPIS[kpi].unit if kpi in KPIS else ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if unit == "share":
        return f"{100 * v:.2f}%"
    if unit == "calls":
        return f"{v:,.1f}"
    if unit == "currency":
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.2f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def kpi_range(kpi: str) -> tuple[float, float]:
    """The values a KPI can take: shares 0-100% (conformance may pass it), the rest 0 up."""
    unit = KPIS[kpi].unit if kpi in KPIS else ""
    return (0.0, 1.0 if unit == "share" and kpi not in ABOVE_ONE else math.inf)


def in_range(kpi: str, v: float) -> float:
    """``v`` clipped to :func:`kpi_range`, for showing a confidence interval's bound.

    A Student-t bound can leave the values a KPI can take (93.59% [82.04%, 105.13%] over 3
    replications) while the KPI cannot, so the interval shown is its part inside the range:
    it holds the true mean exactly as often as the whole interval does.
    """
    lo, hi = kpi_range(kpi)
    return v if math.isnan(v) else min(max(v, lo), hi)


def format_ci(kpi: str, low: float, high: float) -> str:
    """``"[82.04%, 100.00%]"``: a KPI's confidence interval in its unit and range."""
    return f"[{format_kpi(kpi, in_range(kpi, low))}, {format_kpi(kpi, in_range(kpi, high))}]"


# --------------------------------------------------------------------------- by

#: the tables of :class:`KPIData` that a ``by`` grouping splits
FRAMES = ("calls", "statuses", "agent_days", "evaluations", "absences", "actions",
          "exceptions")
#: what :func:`compute_kpis` can group by (``None``: the centre, one value per KPI)
BY = ("day", "team", "interval", "type", "group")
#: a (day, interval) pair as one integer key: day * _SLOT + interval
_SLOT = 100_000


def _group_key(d: KPIData, name: str, df: pd.DataFrame, by: str) -> np.ndarray | None:
    """Per row of one of ``d``'s tables, its group under ``by`` (-1: none).

    None when the table has no such dimension (its KPIs are not defined at that grain).
    """
    if by == "day":
        if "day" not in df:
            raise ValueError(f"KPIs by day: the {name} table has no day column")
        return df["day"].to_numpy(np.int64)
    if by == "team":
        if d.team_of is None:
            raise ValueError("KPIs by team need team_of (the team of each agent)")
        if "agent" not in df:
            raise ValueError(f"KPIs by team: the {name} table has no agent column")
        agent = df["agent"].to_numpy(np.int64)
        team = np.asarray(d.team_of, dtype=np.int64)
        return np.where(agent >= 0, team[np.maximum(agent, 0)], -1)  # unanswered: no team
    if by == "interval":
        if name != "calls":
            return None  # agent time and agent-days have no reporting interval
        return df["day"].to_numpy(np.int64) * _SLOT + df["interval"].to_numpy(np.int64)
    if by == "type":
        if name != "calls":
            return None  # agent time is not split by the calls' types
        if "type" not in df:
            raise ValueError("KPIs by type: the calls table has no type column (the scenario "
                             "has no [call_types])")
        return df["type"].cat.codes.to_numpy(np.int64)
    if by == "group":
        if d.group_of is None:
            raise ValueError("KPIs by group need group_of (the agent group of each agent)")
        if "agent" not in df:
            raise ValueError(f"KPIs by group: the {name} table has no agent column")
        agent = df["agent"].to_numpy(np.int64)
        group = np.asarray(d.group_of, dtype=np.int64)
        return np.where(agent >= 0, group[np.maximum(agent, 0)], -1)  # unanswered: none
    raise ValueError(f"KPIs by {by!r}: allowed None or one of {', '.join(BY)}")


def split(data: KPIData, by: str, keys: Sequence[int] | None = None
          ) -> Iterator[tuple[int, KPIData]]:
    """``data`` cut into one :class:`KPIData` per group of ``by``, each table grouped once.

    Each part holds the rows of its group in their original order and with their index, the
    same rows as filtering the table on the group (so every KPI has the same value as on
    that filtered data). ``keys``: the groups wanted, in order (default: every group with
    a row, sorted); a group without rows gets empty tables. By ``"team"`` calls belong to
    the team of the agent who answered them (unanswered calls to none); by ``"interval"``
    only the calls are split, by day and reporting interval (key ``day * 100000 +
    interval``), and the other tables are empty in every part. Each table is put in group
    order once (one copy, none when it is in order already); a part's tables are slices of
    it, made as the parts are asked for.
    """
    grouped: dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray] | None] = {}
    seen: list[np.ndarray] = []
    for name in FRAMES:
        df = getattr(data, name)
        if df is None:
            continue
        key = _group_key(data, name, df, by)
        if key is None:
            grouped[name] = None
            continue
        order = stable_order(key)  # stable: rows keep their order in a group
        groups, start = sorted_groups(key[order])
        # one reordered copy (nothing to copy when already in order): each group is a slice
        ordered = df if np.array_equal(order, np.arange(len(order))) else df.iloc[order]
        grouped[name] = (ordered, groups, np.r_[start, len(key)])
        seen.append(groups)
    if keys is None:
        every = np.unique(np.concatenate(seen)) if seen else np.zeros(0, np.int64)
        keys = every[every >= 0].tolist()
    for k in keys:
        change = {}
        for name, g in grouped.items():
            df = getattr(data, name)
            if g is None:
                change[name] = df.iloc[0:0]
                continue
            ordered, groups, bounds = g
            i = np.searchsorted(groups, k)
            found = i < len(groups) and groups[i] == k
            change[name] = ordered.iloc[bounds[i]:bounds[i + 1]] if found else ordered.iloc[0:0]
        yield int(k), replace(data, **change)


def compute_kpis(data: KPIData, by: str | None = None, keys: Sequence[int] | None = None
                 ) -> dict[str, float] | pd.DataFrame:
    """Every registered KPI on the same data, in registry order; ``by``: per group.

    ``by=None`` (the centre): one value per KPI, as a dict. ``by="day"``, ``"team"``,
    ``"interval"``, ``"type"`` or ``"group"``: a DataFrame with one row per group (``keys``,
    default every group seen; see :func:`split`), the group's column(s) (``day``; ``team``;
    ``day`` and ``interval``; ``type``; ``group``) first, then every KPI over that group's
    rows alone. By ``"type"`` only the calls are split (the call-side KPIs; each type with
    its own service-level settings when ``type_levels`` is given); by ``"group"`` calls go
    to the group of the agent who answered them and agent time to the agent's group
    (occupancy per group).
    """
    if by is None:
        return {name: k.func(data) for name, k in KPIS.items()}
    rows = []
    for k, part in split(data, by, keys):
        if by == "type" and data.type_levels is not None:  # each type's own SL threshold
            part = replace(part, service_level=data.type_levels[k])
        group = ({"day": k // _SLOT, "interval": k % _SLOT} if by == "interval"
                 else {by: k})
        rows.append({**group, **compute_kpis(part)})
    if not rows:
        cols = ["day", "interval"] if by == "interval" else [by]
        return pd.DataFrame(columns=[*cols, *KPIS])
    return pd.DataFrame(rows)


#: the agents' measures whose distribution across agents :func:`agent_spread` gives
SPREAD_MEASURES = ("occupancy", "stress", "strain_mean")


#: the columns of :func:`agent_spread`
SPREAD_COLUMNS = ("measure", "agents", "mean", "sd", "p10", "p50", "p90", "p90_p10")


def microaggregate(values: np.ndarray, k: int) -> np.ndarray:
    """The values sorted, each replaced by the mean of its group of at least ``k`` neighbours.

    Univariate microaggregation (Hundepool, A. et al. (2012), *Statistical Disclosure
    Control*, Wiley, ch. 3, microaggregation; groups of ``k`` to ``2k - 1`` as in
    Domingo-Ferrer and Mateo-Sanz (2002), IEEE TKDE 14(1)): the sorted values are cut into
    ``len // k`` groups of consecutive values, as equal in size as possible (each of ``k``
    to ``2k - 1`` values), and every value becomes its group's mean.
    The groups are disjoint, so whatever is computed from the result (the mean, any
    quantile, their differences) combines group sums only: no figure, and no difference of
    figures, is one value's, even to someone who knows one of them. ``k = 1`` returns the
    values sorted, unchanged; fewer than ``k`` values return an empty array.
    """
    x = np.sort(np.asarray(values, dtype=float))
    k = max(int(k), 1)
    if k == 1 or len(x) < k:
        return x if k == 1 else x[:0]
    return np.concatenate([np.full(len(g), g.mean()) for g in np.array_split(x, len(x) // k)])


def spread_row(values: np.ndarray, floor: int = 1) -> tuple[int, float, float, float, float,
                                                            float, float] | None:
    """One measure's ``agents, mean, sd, p10, p50, p90, p90_p10`` across agents' ``values``.

    The mean and the sample standard deviation are over every agent. The percentiles are
    those of the values microaggregated in groups of at least ``floor`` agents
    (:func:`microaggregate`): each is the mean of a group of ``floor`` to ``2 floor - 1``
    agents of neighbouring rank (or between two such means), never one agent's value;
    ``floor = 1`` gives the plain percentiles. None with fewer than ``floor`` agents.
    """
    x = np.asarray(values, dtype=float)
    m = microaggregate(x, floor)
    if len(m) == 0:
        return None
    p10, p50, p90 = np.percentile(m, [10, 50, 90])
    return (len(x), float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0,
            float(p10), float(p50), float(p90), float(p90 - p10))


def agent_spread(agent_days: pd.DataFrame, floor: int = 1) -> pd.DataFrame:
    """How a run's load falls on its agents: per measure, its distribution across agents.

    Per agent over the run: occupancy (Talk and ACW over Ready, Talk and ACW), and with
    stress on the mean measured stress and the mean acute strain of its days. One row per
    measure (:data:`SPREAD_COLUMNS`): agents, mean and standard deviation across them, the
    10th, 50th and 90th percentiles and the spread between the 90th and the 10th (who gets
    the hard calls is who gets strained). ``floor`` is the publication floor: each
    percentile is then that of the agents' values microaggregated in groups of at least
    ``floor`` agents of neighbouring rank (:func:`spread_row`), so it is still the load of
    the lowest tenth, the middle and the highest tenth, but of a group, never one agent's
    value; a measure with fewer than ``floor`` agents has no row. ``floor = 1`` (only with
    ``--individual``) gives the plain percentiles.
    """
    cols = list(SPREAD_COLUMNS)
    if agent_days is None or len(agent_days) == 0:
        return pd.DataFrame(columns=cols)
    g = agent_days.groupby("agent")
    busy = g["talk_s"].sum() + g["acw_s"].sum()
    per = {"occupancy": busy / (busy + g["ready_s"].sum()).where(lambda x: x > 0)}
    for c in SPREAD_MEASURES[1:]:
        if c in agent_days:
            per[c] = g[c].mean()
    rows = []
    for name, v in per.items():
        row = spread_row(v.dropna().to_numpy(float), floor)
        if row is not None:
            rows.append((name, *row))
    return pd.DataFrame(rows, columns=cols)
