"""Wires a run together: ``simulate(scenario, seed, replication) -> RunResult``.

One run has three steps, each its own function: **build** (sample the calls, publish the
plan, draw each agent's deviations, give each agent its behaviour and the presence mask),
**run** (the SimPy processes until nothing is left to do) and **collect** (logs to tables,
adherence, KPIs, provenance).
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim.engine.agent import Agent
from sim.engine.behaviour import Behaviour
from sim.engine.centre import Centre
from sim.engine.demand import CallSet, DayCalls, sample_day, weekday
from sim.engine.loop import Environment
from sim.engine.presence import Presence
from sim.engine.repeats import Repeats
from sim.engine.routing import Router, build_router
from sim.engine.routing_skills import type_calls
from sim.engine.runtime import few_collections
from sim.engine.schedule import (
    AgentDay,
    Plan,
    agent_days,
    build_plan,
    closings,
    roster,
    segments,
    splice,
)
from sim.engine.status import StatusLog
from sim.engine.streams import Streams
from sim.measure import exceptions, tables
from sim.measure.adherence import AdherenceData
from sim.measure.kpi import KPIData, compute_kpis
from sim.measure.tables import OUTCOMES, OUTCOMES_ACT, STATUS_CATEGORIES
from sim.people.compose import build_behaviours
from sim.people.observe import Observer, Recorder
from sim.people.stress import Strain, add_attrition_columns, stress_table
from sim.provenance import model_digest, versions
from sim.regime.league import league_frame
from sim.regime.policy import Floor, Regime, team_of
from sim.regime.realtime import alerts_frame
from sim.scenario import DAY_S, SCHEDULE_STATES, Scenario
from sim.start import (
    WARMUP_REPLICATION,
    WARMUP_STRIDE,
    StartState,
    phase_uniforms,
    phased,
    settle_record,
    start_threat,
    talk_ages,
    warmup_length,
    warmup_pieces,
)
from sim.start import apply as apply_start
from sim.start import compatible as start_compatible
from sim.start import export as export_start
from sim.start import jump as jump_start
from sim.start import jump_threat as jump_threat_start
from sim.start import sickness as sickness_start
from sim.start import tenure as tenure_start

__all__ = ["OUTCOMES", "OUTCOMES_ACT", "STATUS_CATEGORIES", "RunResult", "closings",
           "model_digest", "simulate", "versions"]


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """Everything one run produced: logs as DataFrames, KPIs, and where they came from."""

    calls: pd.DataFrame
    """One row per call: arrival, attributes (handling as worked), outcome, wait, agent."""
    statuses: pd.DataFrame
    """One row per status spell: agent, day, status (IWS name), start_s, end_s, duration_s."""
    agent_days: pd.DataFrame
    """One row per agent and day worked: log-in/out, seconds per status, calls, occupancy."""
    agents: pd.DataFrame
    """One row per agent: pseudonym and shift."""
    intervals: pd.DataFrame
    """One row per day and reporting interval: queue KPIs and mean agents per status."""
    daily: pd.DataFrame
    """One row per day: every KPI for that day."""
    kpis: dict[str, float]
    """Every KPI over the whole measurement window."""
    provenance: dict[str, Any] = field(default_factory=dict)
    """Scenario hash, seed, replication, versions, git revision, wall time."""
    activities: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per planned activity: plan, what happened (taken, displaced, shortened,
    missed, absent), actual start and end."""
    schedule: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The published schedule as segments tiling each agent-day's shift: agent, day,
    start_s, end_s, state (on_queue or an activity kind)."""
    breaks: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per unplanned-break need: when it arose, and the break taken (NaN if it was
    met by another break or activity, or the shift ended first)."""
    imposed: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per activity imposed at run time (e.g. a supervisor's conversation):
    reason, status, when asked, when worked."""
    absences: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per scheduled agent-day not worked, with its reason (a schedule exception,
    never counted as log-in delay or against adherence)."""
    actions: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per action of the measurement regime (a supervisor's chase, warning or
    coaching talk, an agent deferring a break), with its reason."""
    team_days: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per team and day: sums and rates over its agents (the privacy-safe view); team-days
    with fewer than ``teams.min_group`` agents, and others so that none can be recovered
    from a day's total, are blanked (``suppressed``). What ``ccsim run`` writes without
    ``--individual`` blanks under ``tables.PUBLISH_FLOOR`` at least."""
    evaluations: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per call scored by monitoring: call, agent, day, kind (recorded or
    listen_in), score (0-1, with the evaluator's noise)."""
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """With real-time alerts: one row per breach the supervisor's screen showed, when, why,
    and whether the team leader could see it (``seen``, by the measurement level)."""
    league: pd.DataFrame = field(default_factory=pd.DataFrame)
    """With league tables: one row per unit (agent, or team of at least ``min_group``)
    ranked in each published table, with its rank and adherence."""
    exceptions: pd.DataFrame = field(default_factory=exceptions.empty)
    """One row per adherence exception (a run of time out of adherence in an agent-day,
    by ``measurement.adherence``): agent, day, start, end, counted seconds, reason (and
    seconds by reason), excused, breach. Computed whatever the measurement level."""
    observed: dict[str, pd.DataFrame] = field(default_factory=dict)
    """The records of each observer asked for (``simulate(..., observe=...)``) by its
    name, e.g. ``strain_profile`` (see :mod:`sim.people.observe`); empty when none."""


@dataclass
class Run:
    """One run's built state: what ``run`` executes and ``collect`` reads."""

    scenario: Scenario
    seed: int
    replication: int
    days: list[DayCalls]
    staff: list[tuple[str, str]]
    plan: Plan
    env: simpy.Environment
    centre: Centre
    agents: list[Agent]
    log: StatusLog
    presence: Presence
    t0: float
    regime: Regime | None = None
    strains: list[Strain] | None = None
    sim_s: float = 0.0
    recorders: list[Recorder] = field(default_factory=list)
    start: StartState | None = None


def simulate(scenario: Scenario, seed: int = 0, replication: int = 0, *,
             calls: list[DayCalls] | None = None,
             behaviours: Sequence[Behaviour] | Callable[[Agent], Behaviour] | None = None,
             observe: Sequence[str | Observer] = (),
             router: Router | None = None,
             start: StartState | None = None,
             start_from: Scenario | None = None,
             ) -> RunResult:
    """Simulate ``scenario`` for its horizon with the streams of ``(seed, replication)``.

    ``calls`` replaces the sampled calls (one :class:`DayCalls` per day, e.g. hand-made in
    a test). ``behaviours`` replaces the behaviours built from the scenario (one per agent,
    or a function of the agent): for tests of the behaviour seam; experiments always build
    them from the scenario, so they run the same on every executor. ``observe`` names the
    observers to record with (:data:`sim.people.observe.OBSERVERS`, or instances): their
    records are ``RunResult.observed``; the run itself is the same with or without them.
    ``router`` replaces the scenario's routing policy (:mod:`sim.engine.routing`): for tests
    of the routing seam. ``start``: the state the run starts from (:mod:`sim.start`);
    without one, a scenario with ``horizon.warmup_days`` is warmed up first, for this
    replication on its own streams (:func:`warm_start`, under ``start_from``'s regime when
    given), a cold one starts from zero.
    """
    if start is None and (scenario.warmup_days > 0 or start_from is not None):
        start = warm_start(scenario, seed, replication, start_from=start_from)
    with few_collections():  # millions of objects that live until the end: see sim.engine.runtime
        r = build(scenario, seed, replication, calls=calls, behaviours=behaviours,
                  observe=observe, router=router, start=start)
        run(r)
        return collect(r)


def build(scenario: Scenario, seed: int = 0, replication: int = 0, *,
          calls: list[DayCalls] | None = None,
          behaviours: Sequence[Behaviour] | Callable[[Agent], Behaviour] | None = None,
          observe: Sequence[str | Observer] = (),
          router: Router | None = None,
          start: StartState | None = None,
          ) -> Run:
    """Sample the calls, publish the plan and set up the centre and its agents.

    ``start``: people and the regime's memory are put in that state (:func:`sim.start.apply`).
    """
    t0 = time.perf_counter()
    streams = Streams(seed, replication)
    h = scenario.horizon
    days = calls if calls is not None else [sample_day(scenario, streams, d)
                                            for d in range(h.days)]
    typing = type_calls(scenario, streams, days)  # None without [call_types]: nothing drawn
    staff = [(name, shift) for name, shift, _ in roster(scenario)]
    plan = build_plan(scenario)
    day_plans: list[list[AgentDay]] = agent_days(scenario, plan, streams)
    env = Environment()  # SimPy's, with timeouts and the loop one frame each
    centre = Centre(env, CallSet.join(days), closings(scenario),
                    scenario.closing.rule == "serve",
                    router if router is not None else build_router(scenario, typing),
                    typing=typing)
    presence = Presence(len(staff), h.days)
    off = scenario.labour.days_off
    on = [weekday(scenario, d) for d in range(h.days)] if off else []
    for k, (_, shift) in enumerate(staff if off else ()):  # a planned roster's days off
        for d in range(h.days):
            if on[d] in off.get(shift, ()):
                presence.mark_absent(k, d, "day_off")
    regime = Regime(scenario, streams) if scenario.policy_active else None
    st = scenario.stress
    strained = st.enabled and st.feedback and st.repeat_per_strain > 0  # strain leaves calls
    if (scenario.calls.repeat_probability > 0 or (regime is not None and regime.aht_target)
            or strained):
        centre.repeats = Repeats(scenario, streams, days)  # only when a call can come back
    strains, recorders = None, []
    if behaviours is not None:  # a test of the behaviour seam: exactly what it gives
        if observe:
            raise ValueError("observe needs the behaviours built from the scenario")
        built = behaviours
    else:  # policy, strain and observers composed per agent (sim.people.compose)
        people = build_behaviours(scenario, streams, regime, observe)
        built, strains, recorders = people.behaviours, people.strains, people.recorders
        if regime is not None:
            regime.strains = strains  # the supervisor's actions strain the agent
    log = StatusLog()
    agents = []
    for k in range(len(staff)):
        sessions = list(zip(plan.shift_start[k].tolist(), plan.shift_end[k].tolist(),
                            strict=True))
        agent = Agent(env, centre, k, sessions, log, day_plans[k], presence=presence)
        beh = built(agent) if callable(built) else built[k]
        agent.set_behaviour(beh)
        agents.append(agent)
    if start is not None:
        apply_start(start, scenario, strains, regime, presence, centre)
    return Run(scenario, seed, replication, days, staff, plan, env, centre, agents, log,
               presence, t0, regime, strains, recorders=recorders, start=start)


def warm_start(scenario: Scenario, seed: int = 0, replication: int = 0, *,
               start_from: Scenario | None = None, days: int | None = None,
               fast_forward: bool = True, cached: bool = True) -> StartState:
    """The state after the warm-up: ``days`` (default ``horizon.warmup_days``) unmeasured.

    Simulated under ``start_from``'s regime when given (the same centre:
    :func:`sim.start.compatible`), else the scenario's own, from zero, with the warm-up's
    own streams for ``replication`` (:data:`sim.start.WARMUP_REPLICATION`): one state per
    scenario, seed and replication. Replications do not share a warm-up: the state it
    leaves (who is sick, who quit, each person's exhaustion and record, the people drawn)
    persists into the measured days, so replications branching from one state would vary
    less than the centre does and their confidence intervals would be too narrow (measured
    on the 2018 case: ``bench/bench_warmup_ci.py``). With ``fast_forward`` and at least two weeks,
    the slow state is fast-forwarded (:mod:`sim.start`): exhaustion jumps to its weekly
    fixed point after each of the first two weeks (:func:`sim.start.jump`; the second from
    inputs that include what the higher E did: absence, quits, the work left to others)
    and after each further week but the last two, which settle around it; at the end
    threat and the warnings in the window go to the fixed point of the warm-up's map
    (:func:`sim.start.jump_threat`), and the turnover and long sickness spells of the time
    before the warm-up are drawn (:func:`sim.start.tenure`, :func:`sim.start.sickness`).
    Where talks are paced by an escalation interval, every warm-up (plain or not) begins
    each seat at a random phase of the warning cycle (:func:`sim.start.talk_ages`: its
    last talk, the warnings on record and their threat), and the fast-forward keeps the
    simulated threat and repeats the breaches before it (:func:`sim.start.settle_record`)
    instead of the fixed point.
    Nothing is collected: a warm-up costs its simulation only. The last
    :data:`WARMED_KEPT` states are kept in the process (``cached``), so a replication
    asked for again (a notebook cell run twice, a test) is not warmed again.
    """
    if not cached:
        return _warm_start(scenario, seed, start_from, days, fast_forward, replication)
    key = (scenario.name, scenario.digest(), seed, replication,
           None if start_from is None else (start_from.name, start_from.digest()), days,
           fast_forward)
    if key in _WARMED:  # one warm-up per scenario, seed and replication, however called
        _WARMED.move_to_end(key)
        return _WARMED[key]
    state = _warm_start(scenario, seed, start_from, days, fast_forward, replication)
    _WARMED[key] = state
    while len(_WARMED) > WARMED_KEPT:
        _WARMED.popitem(last=False)
    return state


#: warm-up states kept in this process (each a few kilobytes per seat): a notebook, a
#: calibration loop or a test that asks for a replication again does not warm it up again
WARMED_KEPT = 32
_WARMED: OrderedDict[tuple, StartState] = OrderedDict()


def _warm_start(scenario: Scenario, seed: int, start_from: Scenario | None,
                days: int | None, fast_forward: bool, replication: int = 0) -> StartState:
    """:func:`warm_start` without the cache."""
    src = scenario if start_from is None else start_from
    if not 0 <= replication < WARMUP_REPLICATION // WARMUP_STRIDE:
        raise ValueError(f"warm-up of replication {replication}: replications are numbered "
                         f"0 to {WARMUP_REPLICATION // WARMUP_STRIDE - 1}")
    if start_from is not None:
        start_compatible(start_from, scenario)
    w = warmup_length(src, scenario.warmup_days if days is None else days)
    week = src.stress.work_days_per_week
    if w <= 0:
        raise ValueError(f"warm-up of scenario {scenario.name!r}: horizon.warmup_days is "
                         f"{scenario.warmup_days}; a warm-up needs at least 1 day")
    pieces, jumps = warmup_pieces(w, week, fast_forward)
    # each seat starts at a random phase of the warning cycle (sim.start.talk_ages): from
    # a clean record everyone's first talk would fall on day 1 and the next ones together,
    # an interval apart, so a short measured window would depend on the warm-up's length
    ages = talk_ages(src, phase_uniforms(seed, replication,
                                         sum(src.staffing.head_counts().values())))
    state: StartState | None = None if ages is None else phased(src, seed, ages)
    luck = 0.0  # absence luck of the warm-up's draws for the measured days (Strain.set_window)
    with few_collections():
        for i, n in enumerate(pieces):
            # the weeks before day 0 are ordinary weeks: the measured period's holidays
            # (by day number or date) are not theirs
            seg = src.replace({"horizon.days": n, "horizon.warmup_days": 0}
                              | ({"demand.holidays": []} if src.demand.holidays else {}),
                              source="warm-up")
            r = build(seg, seed, WARMUP_REPLICATION + replication * WARMUP_STRIDE + i,
                      start=state)
            if r.centre.repeats is not None:
                r.centre.repeats.beyond = []  # callers who call back after the last day
            if i == 0 and ages is not None and r.strains is not None:
                for strain, threat in zip(r.strains, start_threat(src, ages), strict=True):
                    strain.threat = threat  # the talks before the warm-up, decayed
            ahead = sum(pieces[i:])  # this piece's day number of the measured day 0
            for s in r.strains or ():
                if s.watches_days:
                    s.set_window(ahead, ahead + scenario.horizon.days)
            run(r)
            luck += sum(s.luck for s in r.strains) if r.strains is not None else 0.0
            beyond = r.centre.repeats.beyond if r.centre.repeats is not None else None
            left = getattr(r.centre.router, "written_left", None)  # written work not started
            before, state = state, export_start(seg, seed, n, r.strains, r.regime,
                                                repeats=beyond or (),
                                                written=left() if left is not None else ())
            if i < jumps and r.strains is not None:
                state = jump_start(state, before, r.strains, src.stress.tau_exhaustion_days)
            if i == 0 and jumps:
                # the turnover and long sickness spells of the time before the warm-up, drawn
                # after its first week (at the jumped E) on a stream of their own, so that
                # the rest is simulated with the vacancies and absences of a centre that
                # has run for a while (its strain, the second jump's inputs), not a full one
                turnover = Streams(seed, WARMUP_REPLICATION + replication * WARMUP_STRIDE
                                   + len(pieces))
                state = tenure_start(state, src, n, lambda k, t=turnover: t.rng("stress", k, 4),
                                     ahead=w - n)
                state = sickness_start(state, src, n, lambda k, t=turnover: t.rng("stress", k, 5),
                                       ahead=w - n)
                luck, state = luck + state.luck, replace(state, luck=0.0)  # the draws' luck
    assert state is not None
    if jumps:  # threat and the record settled (begun in phase: simulated from the phase's
        # threat, the breaches before the warm-up repeated; else T to its fixed point:
        # sim.start.settle_record, jump_threat)
        window = src.measurement.adherence.warning_window_days
        state = (settle_record(state, w, window) if ages is not None else
                 jump_threat_start(state, w, src.stress.tau_threat_days,
                                   src.supervisor.escalation_interval_days, window))
    return StartState(src.name, src.digest(), seed, w, state.agents, state.week, state.seats,
                      state.records, state.day_adherence, jumps > 0, state.repeats,
                      replication, state.written, luck + state.luck)


def run(r: Run) -> None:
    """Start the processes and run until nothing is left to happen."""
    env = r.env
    for agent in r.agents:
        env.process(agent.working_life())
    env.process(r.centre.arrivals())
    env.process(r.centre.closing())
    if any(a.behaviour.watches_days for a in r.agents):
        env.process(_day_starts(r))
    if r.regime is not None:
        r.regime.start(Floor(env, r.plan, r.log, r.agents, r.presence, r.centre))
    env.run()
    r.sim_s = time.perf_counter() - r.t0


def _day_starts(r: Run):
    """SimPy process: at each midnight, agents' behaviours may change who comes to work."""
    watching = [a for a in r.agents if a.behaviour.watches_days]
    for d in range(r.scenario.horizon.days):
        yield r.env.timeout(max(0.0, d * DAY_S - r.env.now))
        for a in watching:
            a.behaviour.day_start(a, d, r.presence)


_NO_REGIME: dict[str, pd.DataFrame] = {}


def _no_regime(name: str) -> pd.DataFrame:
    """A copy of one of the regime's typed, empty tables (each built once per process).

    Building them costs milliseconds of pandas types per run; a copy costs a tenth of that.
    """
    if not _NO_REGIME:
        _NO_REGIME.update(actions=Regime.empty_table(), evaluations=Regime.evaluations_frame([]),
                          alerts=alerts_frame([]), league=league_frame([]))
    return _NO_REGIME[name].copy()


def collect(r: Run) -> RunResult:
    """The run's logs as tables, adherence per agent-day, KPIs and provenance."""
    scenario, agents, plan = r.scenario, r.agents, r.plan
    n, n_days = len(r.staff), scenario.horizon.days
    calls = tables.calls_table(scenario, r.days, r.centre)
    if r.centre.types is not None:  # several queues: each call's type, by name
        calls["type"] = pd.Categorical.from_codes(r.centre.types,
                                                  categories=list(r.centre.typing.names))
    calls["recorded"] = (r.regime.recorded(len(calls), r.centre.n_first)
                         if r.regime is not None else np.zeros(len(calls), dtype=bool))
    r.centre.release()  # the calls table holds copies: free the lists before the next peak
    statuses = tables.statuses_table(r.log, agents)  # consumes the log
    agents_df = pd.DataFrame({
        "agent": np.arange(n),
        "pseudonym": [name for name, _ in r.staff],
        "shift": pd.Categorical([s for _, s in r.staff]),
        "team": team_of(scenario),
    })
    activities = tables.activities_table(agents, plan, r.presence)
    breaks = tables.breaks_table(agents)
    segs = segments(plan)
    worked = segs[r.presence.present[segs["agent"].to_numpy(), segs["day"].to_numpy()]]
    imposed = tables.imposed_table(agents)
    worked = splice(worked, imposed)  # a supervisor's conversations are exceptions entered
    agent_days_df = tables.agent_days_table(agents, agents_df, statuses, calls)
    measured, pieces, exc = exceptions.measure_all(AdherenceData(
        segments=worked, statuses=statuses, activities=activities, breaks=breaks,
        schedule=scenario.adherence_schedule, rules=scenario.adherence_rules,
        n_agents=n, days=n_days))
    agent_days_df = tables.add_overtime(tables.add_adherence(
        agent_days_df, measured, plan, activities, breaks, n_days))
    if r.strains is not None:  # the survey and the latent values, per agent-day worked
        agent_days_df = agent_days_df.merge(stress_table(r.strains), on=["agent", "day"],
                                            how="left", validate="one_to_one")
        agent_days_df["stress_high"] = agent_days_df["stress"] > scenario.stress.high_threshold
    absences = tables.absences_table(r.presence, plan)
    if r.strains is not None and scenario.stress.attrition:  # who holds each seat
        add_attrition_columns(r.presence, agent_days_df, absences, agents_df)
    in_window = tables.clip_to_opening(statuses, scenario)
    intervals = tables.intervals_table(scenario, calls, statuses, worked, pieces)
    counted = calls if calls["counted"].all() else calls[calls["counted"]]  # no copy: all count
    sl = scenario.service_level
    actions = r.regime.table() if r.regime is not None else _no_regime("actions")
    evals = (r.regime.evaluations_table() if r.regime is not None
             else _no_regime("evaluations"))
    per_month = scenario.schedule.days_per_year / 12
    team = agents_df["team"].to_numpy()
    cost = {"cost": scenario.cost,
            "paid_login_s": scenario.measurement.adherence.paid_login_minutes * 60.0}
    whole = KPIData(counted, in_window, sl, agent_days_df, absences=absences, actions=actions,
                    exceptions=exc, evaluations=evals, working_days_per_month=per_month,
                    **cost, targets=scenario.targets, team_of=team)
    kpis = compute_kpis(whole)
    daily = compute_kpis(whole, by="day", keys=[d.day for d in r.days])  # grouped once
    daily.insert(1, "busyness", [d.busyness for d in r.days])
    provenance = {
        "scenario": scenario.name,
        "scenario_hash": scenario.digest(),
        "seed": r.seed,
        "replication": r.replication,
        "calls": len(calls),
        "agents": n,
        "warmup_days": r.start.days if r.start is not None else 0,
        "warmup_scenario": r.start.scenario if r.start is not None else "",
        "warmup_hash": r.start.scenario_hash if r.start is not None else "",
        # the run's absence luck (seat-days of sickness and vacancy its draws took, minus
        # their expectations: mean 0), a control variate (analysis.variance)
        **({"absence_luck": round((r.start.luck if r.start is not None else 0.0)
                                  + sum(s.luck for s in r.strains), 6)}
           if r.strains is not None and r.strains and r.strains[0].watches_days else {}),
        # written items the warm-up left, per type (the written table counts them in)
        **({"written_carried": dict(Counter(w for _, _, w in r.start.written))}
           if r.start is not None and r.start.written else {}),
        "simulation_s": round(r.sim_s, 4),
        "wall_s": round(time.perf_counter() - r.t0, 4),
        **versions(),
    }
    schedule = segs.assign(state=pd.Categorical.from_codes(
        segs["state"].to_numpy(), categories=list(SCHEDULE_STATES))).drop(columns="row")
    return RunResult(
        calls=calls, statuses=statuses, agent_days=agent_days_df, agents=agents_df,
        intervals=intervals, daily=daily, kpis=kpis, provenance=provenance,
        activities=activities, schedule=schedule, breaks=breaks,
        imposed=imposed,
        absences=absences,
        actions=actions, exceptions=exc, evaluations=evals,
        # without a regime, the regime's own (typed, empty) tables: one definition
        alerts=r.regime.alerts_table() if r.regime is not None else _no_regime("alerts"),
        league=r.regime.league_table() if r.regime is not None else _no_regime("league"),
        team_days=tables.team_days_table(agent_days_df, agents_df, actions,
                                         scenario.teams.min_group, days=n_days),
        observed={rec.name: rec.table() for rec in r.recorders},
    )

