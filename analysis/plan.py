"""``ccsim plan``: shifts, days off and breaks from demand, verified by simulation.

1. The requirement: Erlang A (or C) agents on queue per interval of each planned day for
   the target (:func:`analysis.staffing.requirement`, the one ``ccsim staff`` reports), at
   the rates of a busy day (:func:`plan_loop`, ``start``).
2. The roster: :func:`sim.planning.shifts.solve`, the fewest paid hours meeting it within
   the scenario's labour rules (``[labour]``) and its planned activities' windows.
3. The check: the roster, written as a scenario, is simulated with replications; every
   interval whose service level misses the target with confidence (the one-sided upper
   bound of its mean below the target) needs one agent more on queue, and the roster is
   solved again, until at least ``interval_share`` of the intervals meet the target with
   ``confidence`` (the one-sided upper bound of ``intervals_below_target`` at most
   ``1 - interval_share``). When no interval misses with confidence but the goal is not yet
   met, the intervals whose mean misses are raised instead.

The same loop verifies the two-step plan (Erlang per interval, then set covering with
breaks staggered as the schedule publishes them), so both are compared at the same target.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.experiment import Executor, guard, run_experiment
from analysis.roster import (  # the scenario <-> roster translation
    build_problem,
    erlang_requirement,
    headcounts,
    roster_table,
    scenario_toml,
    solver_note,
    to_scenario,
)
from analysis.staffing import busy_day, requirement
from analysis.stats import t_interval
from analysis.store import ReplicationStore, atomic_write, write_csv, write_json
from sim.planning.shifts import (
    NODE_LIMIT,
    TIME_LIMIT,
    Plan,
    Problem,
    Recovery,
    check_roster,
    day_strain,
    place_for_recovery,
    placements,
    plan_strain,
    rule_costs,
    solve,
    solve_within,
)
from sim.scenario import DAY_S, Scenario, format_clock

#: the interval goal's KPI
IB = "intervals_below_target"

#: held while a plan's replications run: :func:`plan` runs the optimised and the two-step
#: loops in two threads (HiGHS releases the GIL while it solves, so one loop's solve runs
#: beside the other's simulation or solve), and the executor's workers serve one at a time
_SIMULATING = threading.Lock()


# --------------------------------------------------------------------------- verification


@dataclass
class Verified:
    """A plan simulated: per interval service level, and the interval goal's verdict."""

    scenario: Scenario
    plan: Plan
    required: np.ndarray
    sl_mean: np.ndarray
    """Mean interval service level over replications (days x intervals; NaN: no calls)."""
    sl_high: np.ndarray
    """One-sided upper confidence bound of it."""
    on_queue: np.ndarray
    """Mean agents on queue per interval (simulated)."""
    below: Any
    """:class:`analysis.stats.Estimate` of intervals_below_target."""
    below_bound: float
    """Its one-sided upper confidence bound."""
    service_level: Any
    paid_hours_per_day: float
    meets: bool
    below_share: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """Share of replications in which the interval missed the target."""
    replications: tuple[int, int] = (0, 0)
    """The first and last replication simulated (inclusive; pooled: the span)."""
    sl_reps: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    """Interval service level per replication (replications x days x intervals; NaN: no
    calls), so that the verdicts of two sets of replications can be pooled (:func:`pool`)."""
    ib_reps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """intervals_below_target per replication."""
    kpi_reps: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    """service_level and paid_agent_hours per replication (pooled by :func:`pool`)."""


def _judge(scenario: Scenario, plan: Plan, required: np.ndarray, sl: np.ndarray,
           onq: np.ndarray, ib: np.ndarray, sls: np.ndarray, paid: np.ndarray, *,
           target: float, interval_share: float, confidence: float,
           replications: tuple[int, int]) -> Verified:
    """The interval goal's verdict from per-replication service levels (see :func:`verify`)."""
    h = scenario.horizon
    level = 2 * confidence - 1  # one-sided bound = edge of a two-sided (2c - 1) interval
    with warnings.catch_warnings():  # an interval without calls in every replication: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(sl, axis=0)
        share_below = np.nanmean(np.where(np.isnan(sl), np.nan, sl < target), axis=0)
    high = np.full(mean.shape, np.nan)
    for d in range(h.days):
        for i in range(h.intervals_per_day):
            est = t_interval(sl[:, d, i], level)
            high[d, i] = est.ci_high if est.n >= 2 else est.mean
    below = t_interval(list(ib))
    bound = t_interval(list(ib), level).ci_high
    meets = bool(bound <= 1 - interval_share + 1e-12)
    return Verified(scenario, plan, required, mean, high, onq, below, bound,
                    t_interval(list(sls)), float(np.mean(paid)), meets,
                    np.nan_to_num(share_below), replications, sl, np.asarray(ib, float),
                    np.c_[np.asarray(sls, float), np.asarray(paid, float)])


def verify(scenario: Scenario, plan: Plan, required: np.ndarray, *, target: float,
           interval_share: float, confidence: float, seed: int, reps: int | range,
           executor: Executor | None, store: ReplicationStore | None,
           progress: Callable[[int], None] | None = None) -> Verified:
    """Simulate the planned scenario; the interval goal with ``confidence``.

    Nothing is announced: :func:`plan` says what each round did, and :data:`guard` told
    nothing needs no pilot run to time a round (about 0.5 CPU-s each on a 150-agent week).
    """
    with _SIMULATING, guard.quiet():  # the two loops' threads take turns with the workers
        exp = run_experiment([scenario], seed, reps, executor=executor, store=store,
                             tables=("intervals", "daily"), progress=progress)
    rows = exp.kpi_rows(0)
    h = scenario.horizon
    iv = exp.table("intervals")
    sl = np.full((len(rows), h.days, h.intervals_per_day), np.nan)
    onq = np.zeros((h.days, h.intervals_per_day))
    for k, (_, part) in enumerate(iv.groupby("replication", sort=True)):
        sl[k, part["day"].to_numpy(), part["interval"].to_numpy()] = part["service_level"]
        onq[part["day"].to_numpy(), part["interval"].to_numpy()] += part["agents_on_queue"]
    onq /= max(len(rows), 1)
    span = range(reps) if isinstance(reps, int) else reps
    return _judge(scenario, plan, required, sl, onq, np.array([r[IB] for r in rows], float),
                  np.array([r["service_level"] for r in rows], float),
                  np.array([r["paid_agent_hours"] for r in rows], float), target=target,
                  interval_share=interval_share, confidence=confidence,
                  replications=(span[0], span[-1]))


def pool(a: Verified, b: Verified, *, target: float, interval_share: float,
         confidence: float) -> Verified:
    """One roster's two verdicts (``a`` and ``b``, other replications) as one, pooled.

    Which intervals miss too often is judged on every replication seen of the roster, so a
    roster that failed its confirmation is raised where the busier days of both sets put
    it below target, not only where the fresh set did.
    """
    n, m = len(a.ib_reps), len(b.ib_reps)
    k = np.concatenate([a.kpi_reps, b.kpi_reps])
    return _judge(a.scenario, a.plan, a.required, np.concatenate([a.sl_reps, b.sl_reps]),
                  (a.on_queue * n + b.on_queue * m) / max(n + m, 1),
                  np.r_[a.ib_reps, b.ib_reps], k[:, 0], k[:, 1], target=target,
                  interval_share=interval_share, confidence=confidence,
                  replications=(min(a.replications[0], b.replications[0]),
                                max(a.replications[1], b.replications[1])))


def confirm(v: Verified, scenario: Scenario, plan: Plan, *, target: float,
            interval_share: float, confidence: float, seed: int, reps: int,
            executor: Executor | None, store: ReplicationStore | None,
            progress: Callable[[int], None] | None = None, block: int = 1) -> Verified:
    """The roster simulated on ``reps`` fresh replications: block ``block`` of them.

    Block ``k`` is replications ``k reps`` to ``(k + 1) reps - 1``; the rounds choose on
    block 0. A loop that stopped at the first round whose replications meet the goal would
    have its verdict chosen on those replications, favouring them (on base's week, both
    plans that met the goal on replications 0-9 missed it on 10-19 and on another seed's).
    Replications no choice was made on are independent of the roster and give the verdict
    without that selection; :func:`plan_loop` uses each block at most once.
    """
    return verify(scenario, plan, v.required, target=target, interval_share=interval_share,
                  confidence=confidence, seed=seed,
                  reps=range(block * reps, (block + 1) * reps),
                  executor=executor, store=store, progress=progress)


def _most_often(often: np.ndarray, sure: np.ndarray, allowed: float,
                v: Verified) -> np.ndarray:
    """The intervals most often below target, until the others' expected misses fit the goal.

    The goal counts intervals below target: their expected share is the mean of ``often``.
    Raising an interval is taken to remove its misses, so the intervals most often below
    are raised (after those that miss with confidence) until the rest's expected share is
    at most ``allowed`` less the goal's confidence margin (this round's bound less its mean).
    """
    n = often.size
    margin = max(0.0, float(v.below_bound) - float(v.below.mean)) if v.below is not None \
        else 0.0
    budget = max(0.0, allowed - margin) * n
    left = float(often[~sure].sum())
    chosen = np.zeros(often.shape, bool)
    order = np.argsort(-often, axis=None, kind="stable")
    for flat in order:
        if left <= budget + 1e-12:
            break
        idx = np.unravel_index(flat, often.shape)
        if sure[idx] or often[idx] <= 0:
            continue
        chosen[idx] = True
        left -= float(often[idx])
    return chosen


def raise_requirement(v: Verified, target: float, allowed: float,
                      aim: Callable[[int, int, float], float] | None = None, *,
                      greedy: bool = False) -> tuple[np.ndarray, int]:
    """The requirement with the missed intervals raised, and how many were.

    Missed: the upper confidence bound of the interval's mean service level is below the
    target, or the interval is below the target in more than ``allowed`` of the
    replications (the goal allows that share of intervals below: an interval missing more
    often, on the busier days, takes the goal out of reach however well its mean does); if
    none is, those whose mean misses (else the one most often below). ``greedy``: of
    those not missing with confidence, only the ones most often below, as many as it takes
    for the expected share of the rest below target to fit the goal with its margin
    (:func:`_most_often`), instead of every one below more often than ``allowed``. Each gets
    one agent more, or, with ``aim(day, interval, goal)`` (the Erlang agents for a service
    level ``goal``), as many as Erlang needs to aim as far above the target as the
    simulation fell below it (what Erlang leaves out, such as day-to-day busyness, then
    costs about as much again), whichever is more.
    """
    often = v.below_share
    sure = np.nan_to_num(v.sl_high, nan=1.0) < target
    if greedy:
        miss = sure | _most_often(often, sure, allowed, v)
    else:
        miss = sure | (often > allowed + 1e-12)
    if not miss.any():  # none missed with confidence: the intervals whose mean misses
        miss = np.nan_to_num(v.sl_mean, nan=1.0) < target
    if not miss.any() and often.max() > 0:
        miss = often == often.max()
    req = v.required + miss
    if aim is not None:
        for d, i in zip(*np.nonzero(miss), strict=True):
            short = target - float(np.nan_to_num(v.sl_mean[d, i], nan=target))
            if short > 0:
                req[d, i] = max(req[d, i], aim(int(d), int(i), min(0.995, target + short)))
    return req, int(miss.sum())


@dataclass
class Round:
    """One solve and its simulation."""

    required_hours: float
    paid_hours: float
    agents: int
    below: float
    below_bound: float
    raised: int
    meets: bool
    seconds: float
    lowered: int = 0
    """A trim round (:func:`trim_candidates`): the intervals lowered by one agent."""
    kept: bool = True
    """A trim round: whether its roster met the goal with fewer paid hours (so was kept)."""
    nodes: int = 0
    """Branch-and-bound nodes of the round's main solve."""
    stopped: str = "finished"
    """What stopped the round's solves: "finished" (the gap), "nodes" (the node limit: the
    same roster on any machine), "time" (the wall-clock safety net: the machine's speed)."""
    fresh_below: float | None = None
    """The round met the goal on the replications it was chosen on, so it was simulated on
    a fresh block (:func:`confirm`): intervals below target there (None: not confirmed)."""
    fresh_bound: float | None = None
    """Its one-sided upper confidence bound."""
    confirmed: bool | None = None
    """Whether the fresh block met the goal (None: the round was not confirmed)."""


@dataclass
class Loop:
    """A plan raised until fresh replications confirm the interval goal (or rounds ran out)."""

    method: str
    rounds: list[Round] = field(default_factory=list)
    final: Verified | None = None
    """The kept roster on the replications the rounds chose on (block 0)."""
    problem: Problem | None = None
    confirmed: Verified | None = None
    """The kept roster on a block of fresh replications (:func:`confirm`), if simulated."""
    blocks: int = 0
    """Fresh blocks of replications used so far (each at most once)."""
    busyness: float = 1.0
    """The day-level busyness the first requirement's rates were taken at (:func:`plan_loop`,
    ``start``)."""

    @property
    def meets(self) -> bool:
        """Whether the kept roster met the goal on fresh replications as well (verified)."""
        return (self.final is not None and self.final.meets and self.confirmed is not None
                and self.confirmed.meets)


def plan_loop(scenario: Scenario, share: float, threshold_s: float, *, method: str,
              interval_share: float, confidence: float, seed: int, reps: int,
              max_rounds: int, executor: Executor | None, store: ReplicationStore | None,
              time_limit: float, gap: float, max_agents: int | None = None,
              progress: Callable[[int], None] | None = None,
              say: Callable[[str], None] | None = None, raise_rule: str = "all",
              trim: int = 0, tours: bool = True, node_limit: int = NODE_LIMIT,
              stop: threading.Event | None = None, start: str = "busy") -> Loop:
    """Solve, simulate, raise the intervals that miss, solve again, until the goal is verified.

    Every round simulates its roster on the same ``reps`` replications (block 0: common
    random numbers, so one round's roster is compared with the last on the same calls).
    A round that meets the goal there is simulated on a block of fresh replications
    (:func:`confirm`, each block used once), and the loop stops only if that block meets
    it too; otherwise the intervals below target too often on both blocks together
    (:func:`pool`) are raised and the loop goes on. So the roster returned as meeting the
    goal met it on replications that took no part in choosing it (docs/schedules.md,
    "Verified on fresh replications").

    ``method``: "optimise" places breaks in the programme; "stagger" is the two-step plan.
    ``raise_rule``: "all" raises every interval below target more often than the goal
    allows; "greedy" only the most often below, as many as the goal needs
    (:func:`raise_requirement`). ``trim``: once the goal is met, up to this many rounds
    that lower the intervals the simulation shows have room to spare by one agent (two
    with much room: :func:`trim_candidates`, :func:`trim_step`), each kept only if its
    roster still meets the goal with fewer paid hours (a rejected one is tried again with
    the half of its intervals with most room). A trimmed roster is a subset of the kept
    one (:func:`sim.planning.shifts.solve_within`: agents only dropped, breaks placed
    again). ``tours``: each agent's start chosen per working day
    (:func:`sim.planning.shifts.solve` with ``Problem.tours``); trimming then is not done
    (its subset solve keeps one start per agent). ``stop``: once set, no further round
    starts (the other loop of :func:`plan` failed or was interrupted).

    ``start``: "busy" (default) takes the first requirement (and each raise's Erlang aim)
    at the rates of a day busier than ``interval_share`` of days
    (:func:`analysis.staffing.busy_day`: the goal lets an interval miss on the other
    days), "mean" at the mean day's, Erlang's own number. On base's week at 1.25 times its
    calls the busy start's first roster (4,730 paid hours, 9.1% of intervals below
    target) was where twelve rounds from the mean day's (4,320 hours, about 30% below)
    had got to (docs/schedules.md, "Starting from a busy day").
    """
    import time

    if start not in ("busy", "mean"):
        raise ValueError(f"start: {start!r} is not allowed; use busy or mean")
    busy = busy_day(scenario, interval_share) if start == "busy" else 1.0
    req = erlang_requirement(scenario, share, threshold_s, busy)
    loop = Loop(method, busyness=busy)
    cached: dict[tuple[int, float], np.ndarray] = {}

    def aim(d: int, i: int, goal: float) -> float:
        key = (d, round(goal, 3))
        if key not in cached:
            cached[key] = requirement(scenario, d, key[1], threshold_s, busy)
        return float(cached[key][i])

    label = "optimised" if method == "optimise" else "two-step"
    for r in range(max_rounds):
        if stop is not None and stop.is_set():
            break
        t0 = time.perf_counter()
        problem = build_problem(scenario, req, breaks=method, max_agents=max_agents,
                                tours=tours)
        plan = solve(problem, time_limit=time_limit, gap=gap, lp_bound=method == "optimise",
                     node_limit=node_limit)
        planned = to_scenario(scenario, plan, problem, f"{scenario.name}-plan-{label}-r{r}",
                              f" ({label}, round {r})")
        v = verify(planned, plan, req, target=share, interval_share=interval_share,
                   confidence=confidence, seed=seed, reps=reps, executor=executor,
                   store=store, progress=progress)
        fresh = None
        judged = v
        if v.meets:  # met where it was chosen: the verdict is a block it was not chosen on
            loop.blocks += 1
            fresh = confirm(v, planned, plan, target=share, interval_share=interval_share,
                            confidence=confidence, seed=seed, reps=reps, executor=executor,
                            store=store, progress=progress, block=loop.blocks)
            if not fresh.meets:  # raise where every replication seen puts it below
                judged = pool(v, fresh, target=share, interval_share=interval_share,
                              confidence=confidence)
        ok = v.meets and fresh is not None and fresh.meets
        new, raised = raise_requirement(judged, share, 1 - interval_share, aim,
                                        greedy=raise_rule == "greedy")
        hours = float(req.sum() * problem.interval_min / 60)
        loop.rounds.append(Round(
            hours, plan.paid_hours, plan.agents, v.below.mean, v.below_bound,
            0 if ok else raised, v.meets, time.perf_counter() - t0, nodes=plan.nodes,
            stopped=plan.stopped, fresh_below=None if fresh is None else fresh.below.mean,
            fresh_bound=None if fresh is None else fresh.below_bound,
            confirmed=None if fresh is None else fresh.meets))
        loop.final, loop.problem, loop.confirmed = v, problem, fresh
        if say:
            checked = "" if fresh is None else (
                f"; on fresh replications {fresh.replications[0]}-{fresh.replications[1]} "
                f"{100 * fresh.below.mean:.1f}% (bound {100 * fresh.below_bound:.1f}%)")
            say(f"{label} round {r}: {plan.agents} agents, {plan.paid_hours:g} paid hours; "
                f"intervals below target {100 * v.below.mean:.1f}% (bound "
                f"{100 * v.below_bound:.1f}%)" + checked
                + (": goal met and confirmed" if ok else f"; {raised} interval(s) raised"))
        if ok or raised == 0:
            break
        req = new
    if trim > 0 and loop.meets and not tours:
        _trim(loop, scenario, share, label, trim, max_agents=max_agents, time_limit=time_limit,
              gap=gap, node_limit=node_limit, say=say, verify_kw=dict(
                  target=share, interval_share=interval_share, confidence=confidence,
                  seed=seed, reps=reps, executor=executor, store=store, progress=progress))
    return loop


def trim_candidates(v: Verified, target: float) -> np.ndarray:
    """Intervals whose requirement may fall by one agent: room to spare, by the simulation.

    Below target in none of the replications, the lower confidence bound of the mean
    service level (as far below the mean as the upper bound is above it) at or above the
    target, and the requirement binding (the roster covers less than one agent more), so
    lowering it can save paid hours. The goal allows some intervals to miss; the raises
    that met it were each aimed at one interval's misses and, with queues carrying over
    from interval to interval, often leave a neighbour more than it needs.
    """
    low = 2 * v.sl_mean - v.sl_high
    binding = v.plan.coverage - v.required < 1.0
    return ((v.below_share <= 0) & (np.nan_to_num(low, nan=-1.0) >= target) & binding
            & (v.required >= 1.0))


#: a trim candidate whose lower confidence bound is this far above the target loses two
#: agents instead of one (an interval at 95% when 80% is asked can spare more than one)
TRIM_TWO_ABOVE = 0.10


def trim_step(v: Verified, target: float, cands: np.ndarray) -> np.ndarray:
    """Agents each trim candidate loses (0 for the others).

    Two where the lower confidence bound is :data:`TRIM_TWO_ABOVE` above the target and
    the requirement at least 2, else one.
    """
    low = np.nan_to_num(2 * v.sl_mean - v.sl_high, nan=-1.0)
    two = (low >= target + TRIM_TWO_ABOVE) & (v.required >= 2.0)
    return np.where(cands, np.where(two, 2.0, 1.0), 0.0)


def _trim(loop: Loop, scenario: Scenario, share: float, label: str, rounds: int, *,
          max_agents: int | None, time_limit: float, gap: float,
          say: Callable[[str], None] | None, verify_kw: dict[str, Any],
          node_limit: int = NODE_LIMIT) -> None:
    """Lower the intervals with room to spare while the goal stays met (see :func:`plan_loop`)."""
    import time

    best = loop.final
    cands = trim_candidates(best, share)
    for k in range(rounds):
        if not cands.any():
            break
        t0 = time.perf_counter()
        req = best.required - trim_step(best, share, cands)
        problem = build_problem(scenario, req, breaks=loop.problem.breaks, max_agents=max_agents)
        # only drop agents: a fresh solve would move every shift and the misses with them
        plan = solve_within(problem, best.plan, time_limit=time_limit, gap=gap,
                            lp_bound=loop.method == "optimise", node_limit=node_limit)
        if plan.paid_hours >= best.plan.paid_hours - 1e-9:  # lowering them saves nothing
            if say:
                say(f"{label} trim {k}: lowering {int(cands.sum())} interval(s) saves no paid "
                    "hours; stopped")
            break
        planned = to_scenario(scenario, plan, problem, f"{scenario.name}-plan-{label}-t{k}",
                              f" ({label}, trim {k})")
        v = verify(planned, plan, req, **verify_kw)
        fresh = None
        if v.meets:  # kept only if a fresh block confirms it too (see plan_loop)
            loop.blocks += 1
            fresh = confirm(v, planned, plan, **verify_kw, block=loop.blocks)
        ok = fresh is not None and fresh.meets
        hours = float(req.sum() * problem.interval_min / 60)
        loop.rounds.append(Round(hours, plan.paid_hours, plan.agents, v.below.mean,
                                 v.below_bound, 0, v.meets, time.perf_counter() - t0,
                                 lowered=int(cands.sum()), kept=ok, nodes=plan.nodes,
                                 stopped=plan.stopped,
                                 fresh_below=None if fresh is None else fresh.below.mean,
                                 fresh_bound=None if fresh is None else fresh.below_bound,
                                 confirmed=None if fresh is None else fresh.meets))
        if say:
            say(f"{label} trim {k}: {int(cands.sum())} interval(s) lowered, {plan.agents} "
                f"agents, {plan.paid_hours:g} paid hours; intervals below target "
                f"{100 * v.below.mean:.1f}% (bound {100 * v.below_bound:.1f}%): "
                + ("kept" if ok else "goal missed" + ("" if fresh is None else
                                                     " on fresh replications")
                   + ", the previous roster kept"))
        if ok:
            best, loop.final, loop.problem, loop.confirmed = v, v, problem, fresh
            cands = trim_candidates(v, share)
            continue
        # the goal missed: try the half of those intervals with the most room
        room = np.where(cands, np.nan_to_num(best.sl_mean, nan=0.0), -np.inf)
        keep = int(cands.sum()) // 2
        cands = np.zeros(cands.shape, bool)
        if keep:
            cands.flat[np.argsort(-room, axis=None, kind="stable")[:keep]] = True


# --------------------------------------------------------------------------- breaks for recovery

#: what the side-by-side of the two placements shows, in order: (KPI or column, words, unit)
BREAK_MEASURES = (
    ("service_level", "service level", "share"),
    (IB, "intervals below target", "share"),
    ("strain_mean", "mean acute strain", "strain units"),
    ("strain_end", "end-of-shift strain", "strain units"),
    ("stress_mean", "measured stress", "stress points"),
    ("paid_agent_hours", "paid agent-hours a day", "hours"),
)


def recovery_of(scenario: Scenario) -> Recovery:
    """The stress law's time constants of ``scenario`` (``[stress]``) for placing breaks."""
    p = scenario.stress
    return Recovery(p.tau_work_h * 60, p.tau_break_min)


@dataclass
class BreaksCompared:
    """Coverage-only against recovery-aware break placement, simulated side by side."""

    coverage: dict[str, Any]
    """Measure -> :class:`analysis.stats.Estimate` over replications (coverage-only)."""
    recovery: dict[str, Any]
    difference: dict[str, Any]
    """Measure -> paired Estimate of recovery-aware minus coverage-only."""
    planned: dict[str, tuple[float, float]]
    """Placement -> (mean, end) strain at a unit load by the stress law's closed form."""
    longest: tuple[float, float, float]
    """The longest template's (hours, least and most mean strain of any legal placement of
    its activities) at a unit load."""
    micro: tuple[float, float]
    """(minutes, share): 5-minute micro-breaks every hour added to the longest template's
    least-strain placement, and how much lower its mean strain is then (the law's closed
    form): what recovery time, rather than placement, buys."""
    plan: Plan
    scenario: Scenario
    """The recovery-aware roster as planned (``[stress]`` as the input has it)."""

    def as_dict(self) -> dict[str, Any]:
        """``plan.json``'s ``breaks``."""
        return {"coverage_only": {k: e.as_dict() for k, e in self.coverage.items()},
                "recovery_aware": {k: e.as_dict() for k, e in self.recovery.items()},
                "difference": {k: e.as_dict() for k, e in self.difference.items()},
                "planned_strain_unit_load": {k: {"mean": m, "end": e}
                                             for k, (m, e) in self.planned.items()},
                "longest_template": dict(zip(("hours", "least", "most"),
                                             self.longest, strict=True)),
                "micro_breaks": {"minutes": self.micro[0], "strain_lower": self.micro[1]}}

    def text(self) -> list[str]:
        """The report's section."""
        def fmt(e: Any, unit: str) -> str:
            if unit == "share":
                return f"{100 * e.mean:.1f}% [{100 * e.ci_low:.1f}, {100 * e.ci_high:.1f}]"
            return f"{e.mean:,.3f} [{e.ci_low:,.3f}, {e.ci_high:,.3f}]"

        lines = ["", "## Breaks: coverage-only against recovery-aware placement", "",
                 "The same roster (head counts, shifts, days off, so the same paid hours) with "
                 "its breaks placed for coverage alone and then moved, where the requirement "
                 "lets them, to the starts with the least mean strain by the stress model's "
                 "own recovery law (docs/stress.md). Both simulated with the stress model on "
                 "(measuring only) on the same replications (common random numbers for the "
                 "calls); means with 95% intervals, the difference paired by replication.", "",
                 "| measure | coverage-only | recovery-aware | difference (paired) |",
                 "|---|---|---|---|"]
        for key, words, unit in BREAK_MEASURES:
            if key not in self.coverage:
                continue
            c, r, d = self.coverage[key], self.recovery[key], self.difference[key]
            dd = (f"{100 * d.mean:+.2f} points [{100 * d.ci_low:+.2f}, {100 * d.ci_high:+.2f}]"
                  if unit == "share" else f"{d.mean:+,.4f} [{d.ci_low:+,.4f}, {d.ci_high:+,.4f}]")
            lines.append(f"| {words} ({unit}) | {fmt(c, unit)} | {fmt(r, unit)} | {dd} |")
        sm = self.coverage.get("strain_mean")
        d = self.difference.get("strain_mean")
        (pc, _), (pr, _) = self.planned["coverage_only"], self.planned["recovery_aware"]
        h, least, most = self.longest
        lines += ["", f"Planned by the law's closed form (unit load): mean strain {pc:.4f} "
                  f"coverage-only, {pr:.4f} recovery-aware ({100 * (pr / pc - 1):+.2f}%)."]
        if sm is not None and d is not None and sm.mean > 0:
            lines.append(f"Simulated: the recovery-aware placement changes mean strain by "
                         f"{100 * d.mean / sm.mean:+.2f}% [{100 * d.ci_low / sm.mean:+.2f}, "
                         f"{100 * d.ci_high / sm.mean:+.2f}] (goal: at least 10% lower).")
        lines.append(
            f"Why placement alone cannot lower it 10%: on the longest shift ({h:g} hours) the "
            f"best legal placement of its breaks has mean strain {least:.4f} and the worst "
            f"{most:.4f} at a unit load ({100 * (1 - least / most):.1f}% apart). The law is "
            "linear: a break takes away the same work load wherever "
            "it lies, and where it lies changes only how long the strain it takes away "
            "would have lasted, a second-order effect. Lower strain takes more recovery time "
            "(by the same law, 5-minute micro-breaks every hour lower that shift's mean strain "
            f"{self.micro[1]:.0%} for {self.micro[0]:g} minutes more off queue a day).")
        return lines


def compare_breaks(scenario: Scenario, planned: Scenario, plan: Plan, problem: Problem, *,
                   seed: int, reps: int, executor: Executor | None,
                   store: ReplicationStore | None,
                   progress: Callable[[int], None] | None = None,
                   node_limit: int = NODE_LIMIT, time_limit: float = TIME_LIMIT
                   ) -> BreaksCompared:
    """Move ``plan``'s breaks for recovery and simulate both placements, paired.

    ``planned``: ``scenario`` with ``plan``'s roster (:func:`to_scenario`).
    """
    rec = recovery_of(scenario)
    rplan = place_for_recovery(problem, plan, rec, node_limit=node_limit, time_limit=time_limit)
    rscn = to_scenario(scenario, rplan, problem, f"{scenario.name}-plan-recovery",
                       " (optimised, breaks placed for recovery)")
    on = {"stress.enabled": True}
    pair = [planned.replace({**on, "name": f"{planned.name}-stress"}, source="ccsim plan"),
            rscn.replace({**on, "name": f"{rscn.name}-stress"}, source="ccsim plan")]
    exp = run_experiment(pair, seed, reps, executor=executor, store=store,
                         tables=("agent_days",), progress=progress)
    ad = exp.table("agent_days")
    per: list[dict[str, np.ndarray]] = []
    for k, s in enumerate(pair):
        rows = exp.kpi_rows(k)
        vals = {key: np.array([r[key] for r in rows], float)
                for key, _, _ in BREAK_MEASURES if key in rows[0]}
        mine = ad[ad["scenario"] == s.name].groupby("replication", sort=True)
        vals["strain_mean"] = mine["strain_mean"].mean().to_numpy(float)
        vals["strain_end"] = mine["strain_end"].mean().to_numpy(float)
        per.append(vals)
    keys = [k for k, _, _ in BREAK_MEASURES if k in per[0] and k in per[1]]
    est = [{k: t_interval(p[k]) for k in keys} for p in per]
    diff = {k: t_interval(per[1][k] - per[0][k]) for k in keys}
    longest = max(problem.templates, key=lambda t: (t.hours, len(t.activities)))
    legal = placements(longest, problem.rules, rec)
    strain = {"coverage_only": plan_strain(problem, plan, rec),
              "recovery_aware": plan_strain(problem, rplan, rec)}
    micro = (0.0, math.nan)
    if legal:
        length = longest.hours * 60
        rests = [(o, a.minutes) for a, o in zip(longest.activities, legal[0][2], strict=True)
                 if a.daily and a.is_break]
        extra = [(float(t), 5.0) for t in np.arange(60, length - 5, 60)
                 if all(t + 5 <= s0 or t >= s0 + m for s0, m in rests)]
        micro = (5.0 * len(extra),
                 1 - day_strain(length, rests + extra, rec)[0] / legal[0][0])
    return BreaksCompared(est[0], est[1], diff, strain,
                          (longest.hours, legal[0][0], legal[-1][0]) if legal else
                          (longest.hours, math.nan, math.nan), micro, rplan, rscn)


# --------------------------------------------------------------------------- the command


@dataclass
class PlanAnswer:
    """What ``ccsim plan`` found: the plan, its check, the two-step plan, the rules' prices."""

    scenario: Scenario
    share: float
    threshold_s: float
    interval_share: float
    confidence: float
    reps: int
    seed: int
    optimised: Loop
    two_step: Loop | None
    costs: list[Any]
    violations: list[str]
    gap: float = 0.005
    """Relative gap each solve stops within."""
    breaks: BreaksCompared | None = None
    """``--breaks recovery``: the two placements side by side."""
    confirmed: dict[str, Verified] = field(default_factory=dict)
    """The kept rosters ("optimised", "two_step") on fresh replications (:func:`confirm`)."""
    node_limit: int = NODE_LIMIT
    """Branch-and-bound nodes each solve may take (deterministic)."""
    time_limit: float = TIME_LIMIT
    """Seconds of wall clock each solve may take: the safety net."""

    def stops(self) -> dict[str, list[str]]:
        """Which solves stopped at a limit: {"nodes": [...], "time": [...]}, in words."""
        out: dict[str, list[str]] = {"nodes": [], "time": []}
        for label, lp in (("optimised", self.optimised), ("two-step", self.two_step)):
            for k, r in enumerate([] if lp is None else lp.rounds):
                if r.stopped in out:
                    out[r.stopped].append(f"{label} round {k}" if not r.lowered else
                                          f"{label} trim {k}")
        if self.breaks is not None and self.breaks.plan.stopped in out:
            out[self.breaks.plan.stopped].append("the recovery-aware break placement")
        for c in self.costs:
            if getattr(c, "stopped", "finished") in out:
                out[c.stopped].append(f"the price of {c.field}")
        return out

    def solver_note(self) -> str | None:
        """What the report says when a limit, not the gap, stopped a solve (None: none did)."""
        return solver_note(self.stops(), time_limit=self.time_limit, node_limit=self.node_limit,
                           gap=self.gap)

    def as_dict(self) -> dict[str, Any]:
        """``plan.json`` and ``--json``."""
        def fresh(name: str) -> dict[str, Any] | None:
            c = self.confirmed.get(name)
            if c is None:
                return None
            return {"replications": list(c.replications), "meets_goal": c.meets,
                    "intervals_below_target": c.below.as_dict(),
                    "intervals_below_target_bound": c.below_bound,
                    "service_level": c.service_level.as_dict()}

        def loop(lp: Loop | None, name: str) -> dict[str, Any] | None:
            if lp is None or lp.final is None:
                return None
            v = lp.final
            return {"method": lp.method, "meets_goal": lp.meets, "confirmed": fresh(name),
                    "paid_hours": v.plan.paid_hours, "agents": v.plan.agents,
                    "paid_hours_per_day_simulated": v.paid_hours_per_day,
                    "lp_bound": None if math.isnan(v.plan.lp_bound) else v.plan.lp_bound,
                    "intervals_below_target": v.below.as_dict(),
                    "intervals_below_target_bound": v.below_bound,
                    "service_level": v.service_level.as_dict(),
                    "rounds": [dataclasses.asdict(r) for r in lp.rounds]}

        opt = self.optimised.final
        two = None if self.two_step is None or self.two_step.final is None else \
            self.two_step.final
        return {
            "scenario": self.scenario.name, "target": self.share,
            "threshold_s": self.threshold_s, "interval_share": self.interval_share,
            "confidence": self.confidence, "replications": self.reps, "seed": self.seed,
            "start_busyness": self.optimised.busyness,
            "optimised": loop(self.optimised, "optimised"),
            "two_step": loop(self.two_step, "two_step"),
            "saving_vs_two_step": None if two is None or opt is None else
            1 - opt.plan.paid_hours / two.plan.paid_hours,
            "over_lp_bound": None if opt is None or math.isnan(opt.plan.lp_bound) else
            opt.plan.paid_hours / opt.plan.lp_bound - 1,
            "rule_costs": [{"rule": c.rule, "field": c.field, "what": c.what,
                            "paid_hours_with": c.with_rule, "paid_hours_without": c.without,
                            "cost_hours": c.cost, "lp_cost_hours": c.lp_cost,
                            "stopped": getattr(c, "stopped", "finished")}
                           for c in self.costs],
            "mip_gap": self.gap,
            "solver": {"mip_gap": self.gap, "node_limit": self.node_limit,
                       "time_limit_s": self.time_limit,
                       "stopped_by_node_limit": self.stops()["nodes"],
                       "stopped_by_time_limit": self.stops()["time"],
                       "machine_independent": not self.stops()["time"],
                       "note": self.solver_note()},
            "rule_violations": self.violations,
            "breaks": None if self.breaks is None else self.breaks.as_dict(),
        }

    def text(self) -> str:
        """The report in words (also ``report.md``)."""
        d = self.as_dict()
        o = d["optimised"]
        lines = [f"# ccsim plan: {self.scenario.name}", "",
                 f"Goal: at least {100 * self.interval_share:g}% of intervals at "
                 f"{100 * self.share:g}% answered within {self.threshold_s:g} s, with "
                 f"{100 * self.confidence:g}% confidence ({self.reps} replications a round, "
                 f"seed {self.seed}).", ""]
        days = self.optimised.problem.days if self.optimised.problem else 1
        busy = self.optimised.busyness
        lines += ["Start: Erlang per interval " + (
            f"at the rates of a day busier than {100 * self.interval_share:g}% of days "
            f"(x{busy:.3f}, from demand.busyness_cv {self.scenario.demand.busyness_cv:g}); "
            "the simulation raises it from there." if busy != 1.0 else
            "at the mean day's rates; the simulation raises it from there."), ""]
        if self.optimised.problem is not None:
            lines += ["Starts: " + ("chosen per working day for each agent, breaks per day "
                                    "(tour scheduling; both plans alike)."
                                    if self.optimised.problem.tours else
                                    "one per agent all week."), ""]
        for label, lp in (("Optimised plan", o), ("Two-step plan", d["two_step"])):
            if lp is None:
                continue
            ib = lp["intervals_below_target"]
            verdict = ("meets the goal, confirmed on fresh replications" if lp["meets_goal"]
                       else "does NOT meet the goal verified")
            lines.append(
                f"- {label}: {lp['agents']} agents, {lp['paid_hours']:,.1f} paid hours over "
                f"{days} day(s) ({lp['paid_hours'] / days:,.1f} a day); intervals below "
                f"target {100 * ib['mean']:.1f}% (upper bound "
                f"{100 * lp['intervals_below_target_bound']:.1f}%) on the replications the "
                f"rounds chose on: it {verdict} after {len(lp['rounds'])} round(s).")
            c = lp["confirmed"]
            if c is not None:
                lines.append(
                    f"  On {self.reps} fresh replications ({c['replications'][0]} to "
                    f"{c['replications'][1]}, never used to choose it): intervals below "
                    f"target {100 * c['intervals_below_target']['mean']:.1f}% (upper bound "
                    f"{100 * c['intervals_below_target_bound']:.1f}%): it "
                    + ("meets the goal." if c["meets_goal"] else
                       "does NOT meet the goal (give more --rounds or --reps)."))
        if self.solver_note() is not None:
            lines.append(f"- Solver: {self.solver_note()}")
        if o is not None and o["lp_bound"] is not None:
            lines.append(f"- LP lower bound on the last requirement: {o['lp_bound']:,.1f} paid "
                         f"hours; the plan is {100 * d['over_lp_bound']:.1f}% above it.")
        if d["saving_vs_two_step"] is not None:
            save = d["saving_vs_two_step"]
            both = o["meets_goal"] and d["two_step"]["meets_goal"]
            if o["confirmed"] is not None and d["two_step"]["confirmed"] is not None:
                both = both and o["confirmed"]["meets_goal"] and \
                    d["two_step"]["confirmed"]["meets_goal"]
            lines.append(
                f"- Paid hours against the two-step plan: {100 * abs(save):.1f}% "
                f"{'fewer' if save >= 0 else 'more'}"
                + (" (both verified to the same goal)." if both else
                   " (NOT at the same goal: a plan that does not meet it, within --rounds or "
                   "on fresh replications, is cheaper than it should be)."))
            oc, tc = o["confirmed"], d["two_step"]["confirmed"]
            if both and oc is not None and tc is not None:
                def below(c: dict[str, Any]) -> str:
                    e = c["intervals_below_target"]
                    if e["ci_low"] is None:  # one replication: no interval
                        return f"{100 * e['mean']:.1f}%"
                    return (f"{100 * e['mean']:.1f}% [{100 * e['ci_low']:.1f}, "
                            f"{100 * e['ci_high']:.1f}]")

                lines.append(
                    f"  Intervals below target on their fresh replications: optimised "
                    f"{below(oc)}, two-step {below(tc)} (95% intervals). The saving compares "
                    "the first roster each loop verified, not equal service: the loops only "
                    "raise, so room a roster has stays in it (docs/schedules.md, \"What the "
                    "saving measures\", compares the two plans at equal service).")
        if self.optimised.final is not None and self.optimised.problem is not None:
            kept = self.optimised.final.plan if self.breaks is None else self.breaks.plan
            heads = headcounts(self.scenario, kept, self.optimised.problem)
            days = [c for c in heads.columns if c != "shift"]
            lines += ["", "## Agents per shift and weekday (optimised plan)", "",
                      "| shift | " + " | ".join(days) + " |",
                      "|---|" + "---|" * len(days)]
            lines += ["| " + " | ".join(str(v) for v in row) + " |"
                      for row in heads.itertuples(index=False)]
        if self.costs:
            # a list, not a table: a row of six columns with the rule's words is wider than
            # a terminal's 100 columns, and a table row cannot be wrapped
            lines += ["", "## What each rule costs (paid hours over the planned days)", "",
                      f"With every rule: {self.costs[0].with_rule:,.1f} paid hours.", ""]
            for c in self.costs:
                lines.append(f"- {c.what} (`{c.field}`): without it {c.without:,.1f}, cost "
                             f"{c.cost:+,.1f} (LP cost {c.lp_cost:+,.1f})")
            lines += ["", "Each rule switched off alone and the programme solved again on "
                      "the last requirement (not simulated); 0: the rule does not bind. The "
                      "roster's cost is within the solver's gap "
                      f"({100 * self.gap:g}% of paid hours); the LP cost (the same on the LP "
                      "relaxation) is exact for the relaxation and has no such tolerance."]
        if self.breaks is not None:
            lines += self.breaks.text()
        lines += ["", "## Rounds", ""]
        for label, lp in (("optimised", o), ("two-step", d["two_step"])):
            if lp is None:
                continue
            for k, r in enumerate(lp["rounds"]):
                what = (f"{r['raised']} raised" if not r.get("lowered") else
                        f"trim: {r['lowered']} lowered, "
                        + ("kept" if r["kept"] else "goal missed, not kept"))
                lines.append(f"- {label} {k}: requirement {r['required_hours']:,.1f} agent-hours "
                             f"on queue, {r['agents']} agents, {r['paid_hours']:,.1f} paid "
                             f"hours, below target {100 * r['below']:.1f}% (bound "
                             f"{100 * r['below_bound']:.1f}%)"
                             + ("" if r.get("confirmed") is None else
                                f"; fresh replications {100 * r['fresh_below']:.1f}% (bound "
                                f"{100 * r['fresh_bound']:.1f}%): "
                                + ("confirmed" if r["confirmed"] else "not confirmed"))
                             + f", {what}" + _STOP_WORDS.get(r.get("stopped", "finished"), ""))
        lines += ["", "Roster rules checked: " + ("every agent's week keeps every rule."
                                                  if not self.violations else
                                                  f"{len(self.violations)} violation(s): "
                                                  + "; ".join(self.violations[:5]))]
        return "\n".join(lines) + "\n"


#: what a round's line in the report adds when a limit stopped its solve
_STOP_WORDS = {"nodes": " (solve stopped at its node limit)",
               "time": " (solve stopped by the wall clock: depends on the machine)"}


def plan(scenario: Scenario, share: float, threshold_s: float, *, interval_share: float = 0.9,
         confidence: float = 0.95, seed: int = 1, reps: int = 10, max_rounds: int = 16,
         executor: Executor | None = None, store: ReplicationStore | None = None,
         two_step: bool = True, costs: bool = True, time_limit: float = TIME_LIMIT,
         gap: float = 0.005, max_agents: int | None = None, node_limit: int = NODE_LIMIT,
         progress: Callable[[int], None] | None = None,
         say: Callable[[str], None] | None = None, breaks: str = "coverage",
         raise_rule: str = "all", trim: int = 0, fresh: bool = True,
         tours: bool = True, start: str | None = None,
         stop: threading.Event | None = None) -> PlanAnswer:
    """``ccsim plan``: the optimised plan, the two-step plan and the rules' prices.

    ``trim``: rounds lowering the optimised plan's intervals with room to spare once it
    meets the goal (:func:`plan_loop`); the two-step plan, as a spreadsheet planner makes
    it, is only raised.

    ``breaks="recovery"``: the optimised roster's breaks are then moved for recovery (the
    same head counts) and both placements simulated with the stress model on, side by side;
    the recovery-aware roster is the one written.

    ``fresh``: a roster the loop did not confirm (its rounds ran out first) is simulated on
    ``reps`` fresh replications all the same (:func:`confirm`), so the report gives its
    verdict there; a confirmed roster's fresh verdict is the loop's own.

    ``tours`` (default): both plans choose each agent's start per working day (tour
    scheduling, the two-step plan with the same tours, its breaks staggered per day);
    False, or ``breaks="recovery"`` (whose placement keeps one start per agent): one start
    all week.

    ``start``: the first requirement at a busy day's rates ("busy") or the mean day's
    ("mean"), both plans alike (:func:`plan_loop`); None: "busy" for one queue, "mean" by
    skill (:func:`analysis.skill_plan.plan_by_skill` says why). ``stop``: once set (the
    caller was interrupted), neither loop starts another round.
    """
    if breaks not in ("coverage", "recovery"):
        raise ValueError(f"--breaks: {breaks!r} is not allowed; use coverage or recovery")
    if scenario.call_types:  # several queues: each agent group planned, verified per type
        from analysis.skill_plan import plan_by_skill

        return plan_by_skill(scenario, share, threshold_s, interval_share=interval_share,
                             confidence=confidence, seed=seed, reps=reps, max_rounds=max_rounds,
                             time_limit=time_limit, gap=gap, max_agents=max_agents,
                             progress=progress, say=say, fresh=fresh, node_limit=node_limit,
                             start=start or "mean")
    start = start or "busy"
    kw = dict(interval_share=interval_share, confidence=confidence, seed=seed, reps=reps,
              max_rounds=max_rounds, executor=executor, store=store, time_limit=time_limit,
              gap=gap, max_agents=max_agents, progress=progress, say=say,
              raise_rule=raise_rule, tours=tours and breaks != "recovery",
              node_limit=node_limit, start=start)
    # the two-step loop in a thread beside the optimised one, the rule prices beside what
    # is left of it: their solves run at once (HiGHS releases the GIL), their simulations
    # take turns (_SIMULATING); each solve and replication is the same as run one by one
    from concurrent.futures import ThreadPoolExecutor

    if stop is None:
        stop = threading.Event()
    side = ThreadPoolExecutor(1, thread_name_prefix="ccsim-two-step")
    try:
        later = side.submit(plan_loop, scenario, share, threshold_s, method="stagger",
                            stop=stop, **kw) if two_step else None
        opt = plan_loop(scenario, share, threshold_s, method="optimise", trim=trim, stop=stop,
                        **kw)
        prices = []
        if costs and opt.final is not None:
            prices = rule_costs(opt.problem, opt.final.plan.paid_hours, time_limit=time_limit,
                                gap=gap, node_limit=node_limit, solved=opt.final.plan)
        two = later.result() if later is not None else None
    except BaseException:
        stop.set()  # the two-step loop ends after its current round
        side.shutdown(wait=False, cancel_futures=True)
        raise
    side.shutdown()
    compared = None
    if breaks == "recovery" and opt.final is not None:
        compared = compare_breaks(scenario, opt.final.scenario, opt.final.plan, opt.problem,
                                  seed=seed, reps=reps, executor=executor, store=store,
                                  progress=progress, node_limit=node_limit,
                                  time_limit=time_limit)
    kept = opt.final.plan if compared is None else compared.plan
    violations = check_roster(kept.agent_weeks(opt.problem), opt.problem.rules)
    confirmed: dict[str, Verified] = {}
    ckw = dict(target=share, interval_share=interval_share, confidence=confidence,
               seed=seed, reps=reps, executor=executor, store=store, progress=progress)
    for name, lp in (("optimised", opt), ("two_step", two)):
        if lp is None or lp.final is None:
            continue
        c = lp.confirmed
        if name == "optimised" and compared is not None:  # breaks moved: another roster
            c = None
            if fresh or lp.meets:
                lp.blocks += 1
                c = confirm(lp.final, compared.scenario, kept, **ckw, block=lp.blocks)
        elif c is None and fresh:  # rounds ran out before one met the goal: shown anyway
            lp.blocks += 1
            c = confirm(lp.final, lp.final.scenario, lp.final.plan, **ckw, block=lp.blocks)
        if c is not None:
            confirmed[name] = c
    return PlanAnswer(scenario, share, threshold_s, interval_share, confidence, reps, seed,
                      opt, two, prices, violations, gap, compared, confirmed, node_limit,
                      time_limit)


def write(answer: PlanAnswer, out: Path) -> list[str]:
    """Scenario file, roster CSV, figure, report and JSON in ``out``; the names written."""
    if not isinstance(answer, PlanAnswer):  # several queues: analysis.skill_plan writes it
        return answer.write(out)
    v, problem = answer.optimised.final, answer.optimised.problem
    kept, planned = (v.plan, v.scenario) if answer.breaks is None else \
        (answer.breaks.plan, answer.breaks.scenario)
    final = planned.replace({"name": f"{answer.scenario.name}-plan"}, source="ccsim plan")
    text = scenario_toml(final)
    atomic_write(out / "scenario.toml", lambda p: p.write_text(text))
    write_csv(roster_table(final, kept, problem), out / "roster.csv")
    write_csv(headcounts(final, kept, problem), out / "headcounts.csv")
    extra = []
    if answer.breaks is not None:  # the coverage-only placement beside it
        cov = v.scenario.replace({"name": f"{answer.scenario.name}-plan-coverage"},
                                 source="ccsim plan")
        text_cov = scenario_toml(cov)
        atomic_write(out / "scenario-coverage.toml", lambda p: p.write_text(text_cov))
        extra = ["scenario-coverage.toml"]
    write_csv(interval_table(answer), out / "intervals.csv")
    atomic_write(out / "report.md", lambda p: p.write_text(answer.text()))
    write_json(answer.as_dict(), out / "plan.json")
    figure(answer, out / "staffing.png")
    return ["scenario.toml", "roster.csv", "headcounts.csv", "intervals.csv", "staffing.png",
            "report.md", "plan.json", *extra]


def interval_table(answer: PlanAnswer) -> pd.DataFrame:
    """Per planned day and interval: required (Erlang, raised), planned, simulated."""
    v = answer.optimised.final
    s = answer.scenario
    h = s.horizon
    erl = erlang_requirement(s, answer.share, answer.threshold_s)
    d, i = np.meshgrid(np.arange(h.days), np.arange(h.intervals_per_day), indexing="ij")
    return pd.DataFrame({
        "day": d.ravel(), "interval": i.ravel(),
        "start": [format_clock((h.open + k * h.interval_s) % DAY_S) for k in i.ravel()],
        "erlang_required": erl.ravel(), "required": v.required.ravel(),
        "planned_on_queue": v.plan.coverage.ravel(), "simulated_on_queue": v.on_queue.ravel(),
        "service_level_mean": v.sl_mean.ravel(), "service_level_upper": v.sl_high.ravel(),
    }).assign(planned_on_queue=lambda df: df["planned_on_queue"].round(3))


def figure(answer: PlanAnswer, path: Path) -> None:
    """Staffed against required agents per interval, day after day (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = interval_table(answer)
    x = np.arange(len(df) + 1)  # interval edges: the last interval drawn to its end

    def steps(col: str) -> np.ndarray:
        v = df[col].to_numpy(float)
        return np.r_[v, v[-1:]]

    fig, ax = plt.subplots(figsize=(11, 4))
    ax.step(x, steps("erlang_required"), where="post", label="required (Erlang)", color="0.5")
    ax.step(x, steps("required"), where="post", label="required (raised by simulation)",
            color="tab:red")
    ax.step(x, steps("planned_on_queue"), where="post", label="planned on queue",
            color="tab:blue")
    ax.plot(x[:-1] + 0.5, df["simulated_on_queue"], ".", ms=3,
            label="simulated on queue (mean)", color="tab:green")
    n = answer.scenario.horizon.intervals_per_day
    for d in range(1, answer.scenario.horizon.days):
        ax.axvline(d * n, color="0.85", lw=0.8)
    ax.set_xlabel(f"interval ({answer.scenario.horizon.interval_minutes:g} min), day after day")
    ax.set_ylabel("agents")
    ax.set_title(f"{answer.scenario.name}: staffed against required agents per interval")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


# ------------------------------------------------------------------ how base.toml was planned


#: share of on-queue time the budget plan keeps for unplanned breaks and late returns (base's
#: measured conformance is about 98.6%)
BUDGET_ALLOWANCE = 0.015


def budget_candidates(scenario: Scenario) -> list[tuple[float, float]]:
    """(hours, start minute) of the budget plan's candidates inside the opening hours.

    8-hour shifts every 30 minutes, 6- and 4-hour shifts every hour (base.toml's).
    """
    h = scenario.horizon
    open_m, close_m = h.open / 60, h.open / 60 + h.hours * 60
    out = []
    for hours, every in ((8.0, 30), (6.0, 60), (4.0, 60)):
        start = open_m
        while start + hours * 60 <= close_m + 1e-9:
            out.append((hours, start))
            start += every
    return out


def budget_shares(scenario: Scenario, hours: float, start_min: float) -> np.ndarray:
    """Share of a candidate shift's agents on queue per interval of day 0, as published.

    The schedule's own stagger for 12 agents (``sim.engine.schedule.coverage``), less the
    mean log-in delay in the first interval and :data:`BUDGET_ALLOWANCE`.
    """
    from sim.engine.schedule import coverage

    one = scenario.replace({"staffing.shifts": {"x": {
        "start": format_clock(start_min * 60), "hours": hours, "agents": 12}},
        "staffing.agents": None})
    cov = coverage(one)
    days = one.horizon.days
    per = cov["scheduled"].to_numpy().reshape(days, -1).mean(axis=0) / 12
    h = one.horizon
    first = int((start_min * 60 - h.open) // h.interval_s)
    beh = one.behaviour
    if 0 <= first < len(per):
        per[first] -= (beh.login_delay_min_s + beh.login_delay_max_s) / 2 / h.interval_s
    return np.clip(per * (1 - BUDGET_ALLOWANCE), 0, None)


def budget_plan(scenario: Scenario, paid_hours: float, max_agents: int
                ) -> tuple[dict[str, tuple[float, float, int]], str]:
    """How base.toml's shifts were chosen: least shortfall within a paid-hours budget.

    ``scipy.optimize.milp`` picks whole head counts per candidate (:func:`budget_candidates`)
    with the least total shortfall (agents on queue below the Erlang requirement of day 0,
    :func:`analysis.staffing.requirement`, summed over intervals) within ``paid_hours`` a day
    and ``max_agents``, then, among plans within 0.5 of that shortfall, the fewest shift
    patterns. Returns name -> (hours, start minute, agents) and a line on the shortfall.
    ``ccsim plan`` is the general planner (fewest paid hours for a verified target).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    req = requirement(scenario, 0).astype(float)
    cands = budget_candidates(scenario)
    a = np.column_stack([budget_shares(scenario, h, s) for h, s in cands])
    hours = np.array([h for h, _ in cands])
    k, n, big = len(cands), len(req), 200
    # stage 1: x (k whole head counts), u (n shortfalls >= 0); least total shortfall
    c = np.r_[np.zeros(k), np.ones(n)]
    cover = LinearConstraint(np.c_[a, np.eye(n)], req, np.inf)
    cost = LinearConstraint(np.r_[hours, np.zeros(n)][None, :], 0, paid_hours)
    heads = LinearConstraint(np.r_[np.ones(k), np.zeros(n)][None, :], 0, max_agents)
    r1 = milp(c, constraints=[cover, cost, heads], integrality=np.r_[np.ones(k), np.zeros(n)],
              bounds=Bounds(0, np.r_[np.full(k, big), req]))
    short = r1.fun
    # stage 2: x, u, y (k patterns used); fewest patterns, shortfall at most 0.5 more
    z = np.zeros((1, k))
    c2 = np.r_[np.zeros(k + n), np.ones(k)]
    cons = [
        LinearConstraint(np.c_[a, np.eye(n), np.zeros((n, k))], req, np.inf),
        LinearConstraint(np.c_[z, np.ones((1, n)), z], 0, short + 0.5),
        LinearConstraint(np.r_[hours, np.zeros(n + k)][None, :], 0, paid_hours),
        LinearConstraint(np.r_[np.ones(k), np.zeros(n + k)][None, :], 0, max_agents),
        LinearConstraint(np.c_[np.eye(k), np.zeros((k, n)), -big * np.eye(k)], -np.inf, 0),
    ]
    r2 = milp(c2, constraints=cons, integrality=np.r_[np.ones(k), np.zeros(n), np.ones(k)],
              bounds=Bounds(0, np.r_[np.full(k, big), req, np.ones(k)]))
    x = np.round(r2.x[:k]).astype(int)
    gap = np.clip(req - a @ x, 0, None)
    note = (f"least shortfall: {short:.1f} agent-intervals; the plan chosen (fewest patterns "
            f"within 0.5 of it): {int((gap > 1e-6).sum())} of {n} intervals short by "
            f"{gap.sum():.2f} agents in all (behavioural allowance included)")
    return ({f"{h:g}h-{format_clock(s * 60)}": (h, s, int(m))
             for (h, s), m in zip(cands, x, strict=True) if m > 0}, note)
