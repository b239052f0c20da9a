"""How many agents: Erlang requirements per interval, and head-count search by simulation.

The Erlang answer is the classic planning number for each interval taken alone (stationary,
exponential talk, no day-to-day busyness, agents always on queue). The simulated answer is
the fewest agents in total, spread over the scenario's shifts in proportion to their head
counts (``staffing.agents``), whose mean KPI over replications reaches the goal. Head counts
are compared under common random numbers, so the KPI is (practically) monotone in agents and
a bisection is reliable.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.experiment import Executor, Experiment, run_experiment
from analysis.stats import Estimate, summarise, t_interval
from analysis.store import ReplicationStore
from sim.engine.schedule import coverage
from sim.measure.kpi import format_ci
from sim.measure.kpi import format_kpi as fmt
from sim.planning.erlang import first_true
from sim.scenario import Scenario, format_clock


def scheduled_agents(scenario: Scenario) -> np.ndarray:
    """Agents logged in per reporting interval (at its midpoint) by the shift patterns."""
    h = scenario.horizon
    mid = h.open + (np.arange(h.intervals_per_day) + 0.5) * h.interval_s
    counts = scenario.staffing.head_counts()
    out = np.zeros(len(mid), dtype=int)
    for name, sh in scenario.staffing.shifts.items():
        on = (mid >= sh.start) & (mid < sh.start + sh.hours * 3600)
        out += np.where(on, counts.get(name, 0), 0)
    return out


def requirement(scenario: Scenario, day: int = 0, target: float | None = None,
                threshold_s: float | None = None, busyness: float = 1.0) -> np.ndarray:
    """Agents on queue each interval of simulated day ``day`` needs for the target (Erlang).

    The one requirement ``ccsim staff`` reports and ``ccsim plan`` plans to: Erlang A at the
    interval's expected rate (:func:`sim.engine.demand.expected_calls`, the weekly pattern
    and holidays included) times ``busyness`` (the day-level factor: 1, the mean day, for
    ``ccsim staff``; ``ccsim plan`` starts from a busy day, :func:`busy_day`), AHT = mean
    talk + mean ACW, the mean patience taken as exponential (Erlang C when callers never
    abandon), through the cached :func:`sim.planning.erlang.agents_for_service_level`. On a
    scenario without a weekly pattern every day's is
    :func:`sim.engine.schedule.erlang_required`'s.
    """
    from sim.engine.demand import expected_calls
    from sim.planning.erlang import agents_for_service_level

    h, sl = scenario.horizon, scenario.service_level
    target = min(sl.target if target is None else target, 0.999)
    threshold = sl.threshold_s if threshold_s is None else threshold_s
    rate = expected_calls(scenario, day) * busyness / h.interval_s
    aht = scenario.calls.talk.mean_s + scenario.calls.acw.mean_s
    pat = scenario.calls.patience
    patience = math.inf if pat.distribution == "none" else pat.mean_s
    return np.array([agents_for_service_level(float(r), aht, threshold, target, patience)
                     if r > 0 else 0 for r in rate], dtype=int)


def busy_day(scenario: Scenario, share: float) -> float:
    """The day-level busyness a day exceeds with probability ``1 - share``.

    The quantile ``share`` of the Gamma of mean 1 and CV ``demand.busyness_cv`` each
    simulated day's calls are scaled by (:func:`sim.engine.demand.day_busyness`); 1 without
    day-to-day busyness.
    """
    from scipy import stats

    cv = scenario.demand.busyness_cv
    if cv <= 0:
        return 1.0
    k = 1 / cv**2
    return float(stats.gamma.ppf(share, k, scale=1 / k))


def erlang_requirements(scenario: Scenario, target: float, threshold_s: float) -> pd.DataFrame:
    """Per interval: offered rate, and the Erlang C/A agents on queue for the target.

    The requirement is :func:`sim.engine.schedule.erlang_required` (the same number the coverage
    check warns with), beside the agents the shifts log in (``scheduled_agents``) and the
    agents the published schedule has on queue, breaks and activities taken out, as a mean
    over the days (``on_queue_agents``: what :func:`sim.engine.schedule.check_coverage` compares).
    """
    h, d = scenario.horizon, scenario.demand
    w = np.asarray(d.profile, dtype=float)
    per_s = d.calls_per_day * w / w.sum() / h.interval_s
    aht = scenario.calls.talk.mean_s + scenario.calls.acw.mean_s
    return pd.DataFrame({
        "interval": np.arange(len(w)),
        "start": [format_clock(h.open + i * h.interval_s) for i in range(len(w))],
        "calls_per_h": per_s * 3600,
        "load_erlangs": per_s * aht,
        "erlang_agents": requirement(scenario, 0, target, threshold_s),
        "scheduled_agents": scheduled_agents(scenario),
        "on_queue_agents": coverage(scenario).groupby("interval")["scheduled"].mean()
        .reindex(np.arange(len(w))).to_numpy(),
    })


@dataclass
class HeadCountSearch:
    """Result of a head-count search: the answer, its range, and every head count tried."""

    agents: int | None
    """Fewest total agents reaching the goal (None: not reached up to the upper limit)."""
    kpi: str
    goal: float
    increasing: bool
    tried: dict[int, Estimate] = field(default_factory=dict)
    values: dict[int, list[float]] = field(default_factory=dict)
    experiments: dict[int, Experiment] = field(default_factory=dict)
    low: int | None = None
    """Fewest agents whose CI still reaches the goal at its favourable end: fewer agents
    are short of the goal with confidence (None: not computed)."""
    high: int | None = None
    """Fewest agents whose CI reaches the goal at its unfavourable end: these agents meet
    the goal with confidence (None: not computed or not reached)."""
    range_confidence: float | None = None
    """Two-sided confidence of the intervals that give ``low`` and ``high``."""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"agents": self.agents, "kpi": self.kpi, "goal": self.goal,
                "range": {"low": self.low, "high": self.high,
                          "confidence": self.range_confidence},
                "tried": {str(n): e.as_dict() for n, e in sorted(self.tried.items())}}


def with_head_count(scenario: Scenario, agents: int, name: str | None = None) -> Scenario:
    """``scenario`` with ``staffing.agents`` set (agents spread over its shifts)."""
    return scenario.replace({
        "staffing.agents": agents, "name": name or f"{scenario.name}@{agents}",
        "description": f"{scenario.description} [head count set to {agents} in total "
                       "(staffing.agents, spread over the shifts) by a head-count search]",
    }, source="head count")


def _fewest(ok: Callable[[int], bool], start: int, max_agents: int) -> int | None:
    """Fewest head count with ``ok`` (monotone), or None up to ``max_agents``.

    Brackets from ``start``, doubling the step, then bisects.
    """
    step = max(1, start // 10)
    if ok(start):
        hi, lo = start, start - step
        while lo >= 1 and ok(lo):
            hi, step = lo, step * 2
            lo = hi - step
        lo = max(lo, 0)  # lo fails (or is 0: nobody answers)
    else:
        lo, hi = start, min(max_agents, start + step)
        while not ok(hi):
            if hi >= max_agents:
                return None
            lo, step = hi, step * 2
            hi = min(max_agents, hi + step)
    return first_true(ok, lo, hi)


def search_head_count(scenario: Scenario, kpi: str, goal: float, seed: int,
                      reps: int | Sequence[int], *,
                      executor: Executor | None = None, store: ReplicationStore | None = None,
                      increasing: bool | None = None, max_agents: int = 5000,
                      confidence: float | None = None, with_range: bool = False,
                      progress: Callable[[int], None] | None = None) -> HeadCountSearch:
    """Fewest total agents whose mean ``kpi`` over ``reps`` replications reaches ``goal``.

    ``reps`` is a count or the replication numbers. ``increasing`` says whether the KPI
    rises with agents (service level) or falls (ASA, abandon rate); if None it is found
    from the current head count and 20% more. The search brackets from the scenario's
    current head count, doubling the step, then bisects.
    ``confidence`` (e.g. 0.9): the goal must be met by the one-sided Student-t confidence
    bound of the mean (lower bound for a rising KPI), not by the mean alone.
    ``with_range``: also the answer's own uncertainty, ``low`` and ``high``: the fewest
    agents whose interval reaches the goal at its favourable and at its unfavourable end.
    The intervals are two-sided at ``2 * confidence - 1`` (so ``high`` is the answer) or
    at 95% when ``confidence`` is None. Every head count uses the same replications
    (common random numbers), so the KPI and its bounds are practically monotone in agents.
    """
    start = scenario.staffing.agents or sum(scenario.staffing.head_counts().values())
    res = HeadCountSearch(None, kpi, goal, True)

    def mean_at(n: int) -> float:
        if n not in res.tried:
            s = with_head_count(scenario, n)
            exp = run_experiment([s], seed, reps, executor=executor, store=store,
                                 tables=("daily",), progress=progress)
            rows = exp.kpi_rows(0)
            if kpi not in rows[0]:
                raise ValueError(f"unknown KPI {kpi!r}; known: {', '.join(rows[0])}")
            res.tried[n] = t_interval([r[kpi] for r in rows])
            res.values[n] = [r[kpi] for r in rows]
            res.experiments[n] = exp
        return res.tried[n].mean

    if increasing is None:
        other = min(max_agents, max(start + 1, math.ceil(start * 1.2)))
        a, b = mean_at(start), mean_at(other)
        if math.isnan(a) or math.isnan(b) or a == b:
            raise ValueError(f"{kpi} does not change with head count ({a} at {start}, "
                             f"{b} at {other}); cannot staff for it")
        increasing = b > a
    res.increasing = increasing

    def meets(v: float) -> bool:
        return (v >= goal) if increasing else (v <= goal)

    def bound(n: int, level: float, favourable: bool) -> float:
        mean_at(n)
        est = t_interval(res.values[n], level)
        return est.ci_high if favourable == increasing else est.ci_low

    def ok(n: int) -> bool:
        if confidence is None:
            return meets(mean_at(n))
        # one-sided bound = the unfavourable edge of a two-sided (2c - 1) interval
        return meets(bound(n, 2 * confidence - 1, favourable=False))

    res.agents = _fewest(ok, start, max_agents)
    if with_range and res.agents is not None and len(res.values[res.agents]) >= 2:
        level = 0.95 if confidence is None else 2 * confidence - 1
        res.range_confidence = level
        res.low = _fewest(lambda n: meets(bound(n, level, favourable=True)), res.agents,
                          max_agents)
        res.high = _fewest(lambda n: meets(bound(n, level, favourable=False)), res.agents,
                           max_agents)
    return res


# --------------------------------------------------------------------------- compare --match


@dataclass
class Matched:
    """An experiment with, for each non-baseline scenario, the head count matching a KPI."""

    experiment: Experiment
    """The input experiment plus every matched scenario (``NAME@AGENTS``) found."""
    notes: list[str]
    """Lines to print: what each scenario needs (the first line is empty)."""
    agents: dict[str, int | None]
    """Per non-baseline scenario: the head count found, or None (not reached)."""
    extra_paid_hours: dict[str, float] = field(default_factory=dict)
    """Per matched scenario: paid agent-hours per day at the head count found minus at its
    own head count (mean over the same replications): the price of equal service."""


#: KPIs whose direction in head count is known, so the search need not simulate a probe
#: head count (20% more agents) to learn it: the service level rises with agents
RISES_WITH_AGENTS: dict[str, bool] = {"service_level": True}


def match_head_counts(exp: Experiment, kpi: str, seed: int, *,
                      executor: Executor | None = None, store: ReplicationStore | None = None,
                      progress: Callable[[int], None] | None = None,
                      max_agents: int = 5000) -> Matched:
    """The equal-service question: the head count at which each scenario reaches the baseline.

    For every scenario of ``exp`` after the first, the fewest total agents whose mean ``kpi``
    over the baseline's replications reaches the baseline's mean (:func:`search_head_count`).
    The matched scenario is named ``NAME@AGENTS``; its replications are those the search ran
    at that head count (same seed and replication numbers, so still paired). ``exp`` itself
    is not changed.
    """
    scenarios = exp.scenarios
    goal = summarise(exp.kpi_rows(0))[kpi].mean
    reps = exp.reps(0)
    merged = Experiment(list(scenarios), exp.seed, dict(exp.outputs), exp.resumed, exp.ran,
                        exp.wall_s, exp.executor, exp.workers)
    notes = [""]
    found_agents: dict[str, int | None] = {}
    extra_paid: dict[str, float] = {}
    for s in scenarios[1:]:
        res = search_head_count(s, kpi, goal, seed, reps, store=store, executor=executor,
                                increasing=RISES_WITH_AGENTS.get(kpi), progress=progress,
                                max_agents=max_agents)
        for e in res.experiments.values():
            merged.ran, merged.resumed = merged.ran + e.ran, merged.resumed + e.resumed
            merged.wall_s += e.wall_s
        now = s.staffing.agents or sum(s.staffing.head_counts().values())
        found_agents[s.name] = res.agents
        if res.agents is None:
            notes.append(f"equal {kpi}: {s.name} does not reach {scenarios[0].name}'s "
                         f"{fmt(kpi, goal)} with up to {max_agents} agents")
            continue
        found = res.experiments[res.agents]
        j = len(merged.scenarios)
        merged.scenarios.append(found.scenarios[0])
        for (_, r), out in found.outputs.items():
            merged.outputs[j, r] = dataclasses.replace(out, index=j)
        note = (f"equal {kpi}: {s.name} needs {res.agents} agents (it has {now}) to reach "
                f"{scenarios[0].name}'s {fmt(kpi, goal)} (mean over {len(reps)} "
                "replications)")
        if now in res.experiments:
            extra = _mean_kpi(found, "paid_agent_hours") - \
                _mean_kpi(res.experiments[now], "paid_agent_hours")
            if not math.isnan(extra):
                extra_paid[s.name] = extra
                cost = extra * s.cost.hourly_cost
                note += (f": {extra:+,.1f} paid agent-hours a day ({s.cost.currency} "
                         f"{cost:+,.0f} a day at {s.cost.hourly_cost:g}/h, overtime "
                         "premium aside)")
        notes.append(note)
    return Matched(merged, notes, found_agents, extra_paid)


def _mean_kpi(exp: Experiment, kpi: str) -> float:
    """Mean of ``kpi`` over the replications of the experiment's first scenario."""
    return summarise(exp.kpi_rows(0))[kpi].mean if kpi in exp.kpi_rows(0)[0] else math.nan


# --------------------------------------------------------------------------- ccsim staff


def erlang_need(scenario: Scenario, share: float, threshold_s: float
                ) -> tuple[pd.DataFrame, int]:
    """The Erlang requirements per interval, and how many intervals the schedule leaves short.

    The count is what the coverage check of ``ccsim run`` warns with (here not warned).
    """
    import warnings

    from sim.engine.schedule import CoverageWarning, check_coverage

    erl = erlang_requirements(scenario, share, threshold_s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        short = check_coverage(scenario)
    return erl, len(short)


@dataclass
class StaffAnswer:
    """``ccsim staff``: the Erlang view, the simulated head count, and its confirmation."""

    scenario: Scenario
    share: float
    threshold_s: float
    seed: int
    reps: int
    max_agents: int
    confidence: float | None
    erlang: pd.DataFrame
    """Per interval: :func:`erlang_requirements`."""
    understaffed: int
    """Intervals the published schedule leaves short of the Erlang requirement."""
    search: HeadCountSearch
    confirmation: dict[str, Any] | None = None
    """The answer re-simulated on fresh replications (None: not reached, or not asked)."""
    interval_share: float | None = None
    """COPC-style interval goal: at least this share of intervals at the service-level
    target (``intervals_below_target <= 1 - interval_share``), besides the day's mean."""
    interval_search: HeadCountSearch | None = None
    """The head-count search for the interval goal (None: no interval goal)."""

    @property
    def agents(self) -> int | None:
        """Fewest agents meeting every goal: the larger of the two searches' answers."""
        a = self.search.agents
        if self.interval_search is None:
            return a
        b = self.interval_search.agents
        return None if a is None or b is None else max(a, b)

    @property
    def current_agents(self) -> int:
        """The scenario's head count now."""
        s = self.scenario.staffing
        return s.agents or sum(s.head_counts().values())

    def as_dict(self) -> dict[str, Any]:
        """The ``staff.json`` and ``ccsim staff --json`` contract."""
        erl, h, res = self.erlang, self.scenario.horizon, self.search
        return {
            "scenario": self.scenario.name, "target": self.share,
            "threshold_s": self.threshold_s,
            "definition": self.scenario.service_level.definition,
            "current_agents": self.current_agents,
            "agents": self.agents, "confidence": self.confidence,
            "day_goal_agents": res.agents,
            "interval_goal": None if self.interval_search is None else {
                "share": self.interval_share, "agents": self.interval_search.agents,
                "max_intervals_below_target": 1 - self.interval_share,
                "tried": self.interval_search.as_dict()["tried"]},
            "range": res.as_dict()["range"],
            "replications": self.reps, "seed": self.seed,
            "tried": res.as_dict()["tried"],
            "confirmation": self.confirmation,
            "erlang": {"peak_agents": int(erl["erlang_agents"].max()),
                       "peak_interval": erl.loc[erl["erlang_agents"].idxmax(), "start"],
                       "agent_hours": float(erl["erlang_agents"].sum() * h.interval_s / 3600),
                       "intervals_understaffed": self.understaffed,
                       "intervals": h.days * h.intervals_per_day},
        }

    def text(self) -> str:
        """The answer in words: the Erlang view, every head count tried, the range, the check."""
        from analysis.experiment import rep_range

        res, share, threshold = self.search, self.share, self.threshold_s
        scenario, now, h = self.scenario, self.current_agents, self.scenario.horizon
        e = self.as_dict()["erlang"]
        sl = "service_level"
        lines = [f"\n{scenario.name}: goal {100 * share:g}% answered within {threshold:g} s "
                 f"({scenario.service_level.definition}); {now} agents now\n"]
        lines.append(textwrap.fill(
            f"Erlang (each interval alone): peak {e['peak_agents']} agents on queue at "
            f"{e['peak_interval']}, {e['agent_hours']:.0f} agent-hours per day. The schedule "
            f"has fewer agents on queue than that (breaks and activities taken out) in "
            f"{e['intervals_understaffed']} of {e['intervals']} intervals over {h.days} "
            "day(s): the coverage check `ccsim run` warns with.", width=92))
        lines.append(f"\nsimulated head counts ({rep_range(range(self.reps))} each, seed "
                     f"{self.seed}):")
        for n, est in sorted(res.tried.items()):
            mark = "  <- fewest reaching the goal" if n == res.agents else ""
            lines.append(f"  {n:>6} agents: service level {fmt(sl, est.mean):>8} "
                         f"{format_ci(sl, est.ci_low, est.ci_high)}"
                         f"{est.dropped_note()}{mark}")
        if res.agents is None:
            lines.append(f"\nnot reached with up to {self.max_agents} agents")
            return "\n".join(lines)
        lines += self._interval_lines()
        if self.agents is None:
            lines.append(f"\ninterval goal not reached with up to {self.max_agents} agents")
            return "\n".join(lines)
        how = ("a mean service level" if self.confidence is None else
               f"a service level with {100 * self.confidence:g}% confidence")
        lines.append("")
        both = "" if self.interval_search is None else (
            f" and at least {100 * self.interval_share:g}% of intervals at the target")
        lines.append(textwrap.fill(
            f"{self.agents} agents (spread over the shifts in proportion; now {now}) reach "
            f"{how} >= {100 * share:g}%{both} on these replications.", width=92))
        if res.low is not None:
            pct = f"{100 * res.range_confidence:g}%"
            lead = "For the day's mean goal, the" if self.interval_search else "The"
            high = (f"{res.high}" if res.high is not None
                    else f"more than {self.max_agents}")
            lines.append(textwrap.fill(
                f"{lead} answer's own uncertainty: {res.low} to {high} agents. With "
                f"{res.low - 1} or fewer even the upper end of the {pct} CI is below the "
                f"goal; from {high} on its lower end reaches it. Inside the range these "
                "replications cannot tell a head count from the goal; more --reps narrow it.",
                width=92))
        c = self.confirmation
        if c is not None:
            ci = c["service_level"]
            verdict = "reach" if c["meets_goal"] else "do NOT reach"
            text = (f"Confirmed on {self.reps} fresh replications "
                    f"({rep_range(c['replications'])}, not used by the search): {self.agents} "
                    f"agents give {fmt(sl, ci['mean'])} [{fmt(sl, ci['ci_low'])}, "
                    f"{fmt(sl, ci['ci_high'])}], so they {verdict} {how} >= {100 * share:g}%")
            if "intervals_below_target" in c:
                ib = c["intervals_below_target"]
                text += (f"; intervals below target {fmt(IB, ib['mean'])} "
                         f"[{fmt(IB, ib['ci_low'])}, {fmt(IB, ib['ci_high'])}]: the interval "
                         f"goal is {'met' if c['meets_interval_goal'] else 'NOT met'}")
            lines.append(textwrap.fill(text + ".", width=92))
        else:
            lines.append(f"(the service levels above are from the replications that chose "
                         f"{self.agents}; without --no-confirm it is checked on fresh "
                         "replications)")
        return "\n".join(lines)

    def _interval_lines(self) -> list[str]:
        """The interval goal's search, head count by head count."""
        res = self.interval_search
        if res is None:
            return []
        goal = 1 - self.interval_share
        lines = ["", textwrap.fill(
            f"interval goal (COPC style): at least {100 * self.interval_share:g}% of "
            f"intervals at the target, i.e. {IB} <= {fmt(IB, goal)}:", width=92)]
        for n, est in sorted(res.tried.items()):
            mark = "  <- fewest reaching the interval goal" if n == res.agents else ""
            lines.append(f"  {n:>6} agents: intervals below target {fmt(IB, est.mean):>8} "
                         f"[{fmt(IB, est.ci_low)}, {fmt(IB, est.ci_high)}]"
                         f"{est.dropped_note()}{mark}")
        return lines


#: the interval KPI an interval goal is stated in
IB = "intervals_below_target"


def staff(scenario: Scenario, share: float, threshold_s: float, seed: int, reps: int, *,
          erlang: pd.DataFrame, understaffed: int, executor: Executor | None = None,
          store: ReplicationStore | None = None, max_agents: int = 5000,
          confidence: float | None = None, confirm: bool = True,
          interval_share: float | None = None,
          progress: Callable[[int], None] | None = None) -> StaffAnswer:
    """The fewest total agents whose service level reaches ``share`` (``ccsim staff``).

    ``scenario`` already has the goal as its service level (threshold and target);
    ``erlang`` and ``understaffed`` are :func:`erlang_need`'s. The search uses replications
    ``0 .. reps - 1`` with its range; with ``confirm`` the answer is simulated again on as
    many fresh replications (``reps .. 2 reps - 1``), which took no part in choosing it.
    ``interval_share`` (e.g. 0.9) adds a COPC-style interval goal: at least that share of
    reporting intervals at the target (``intervals_below_target <= 1 - interval_share``,
    over the same replications and with the same ``confidence`` rule); the answer is the
    fewest agents meeting both goals (both are monotone in agents under common random
    numbers, so it is the larger of the two searches' answers).
    """
    res = search_head_count(scenario, "service_level", share, seed, reps,
                            executor=executor, store=store, increasing=True,
                            max_agents=max_agents, confidence=confidence,
                            with_range=True, progress=progress)
    by_interval = None
    if interval_share is not None:
        by_interval = search_head_count(scenario, IB, 1 - interval_share, seed, reps,
                                        executor=executor, store=store, increasing=False,
                                        max_agents=max_agents, confidence=confidence,
                                        progress=progress)
    answer = StaffAnswer(scenario, share, threshold_s, seed, reps, max_agents, confidence,
                         erlang, understaffed, res, None, interval_share, by_interval)
    if answer.agents is not None and confirm:
        fresh = range(reps, 2 * reps)
        exp = run_experiment([with_head_count(scenario, answer.agents)], seed, fresh,
                             executor=executor, store=store, tables=("daily",),
                             progress=progress)
        level = 0.95 if confidence is None else 2 * confidence - 1

        def check(kpi: str, low: bool) -> tuple[Estimate, float]:
            values = [r[kpi] for r in exp.kpi_rows(0)]
            est = t_interval(values)
            bound = t_interval(values, level)
            return est, (est.mean if confidence is None else
                         bound.ci_low if low else bound.ci_high)

        est, value = check("service_level", low=True)
        answer.confirmation = {"replications": list(fresh), "agents": answer.agents,
                               "service_level": est.as_dict(),
                               "meets_goal": bool(value >= share)}
        if interval_share is not None:
            est, value = check(IB, low=False)
            answer.confirmation.update({
                IB: est.as_dict(),
                "meets_interval_goal": bool(value <= 1 - interval_share + 1e-12)})
    return answer
