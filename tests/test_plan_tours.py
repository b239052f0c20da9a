"""Tour scheduling (sim/planning/shifts.py, Problem.tours): starts and breaks chosen per day."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from analysis.roster import build_problem, roster_table, to_scenario
from sim.engine.schedule import build_plan
from sim.planning.shifts import (
    Activity,
    AgentWeek,
    PlanError,
    Problem,
    Rules,
    Template,
    check_roster,
    coverage,
    solve,
)
from sim.scenario import load_scenario

#: rules that let every toy through unless a test says otherwise
FREE = Rules(max_part_time_share=1.0, min_weekly_hours=0.0, min_shift_hours=0.0,
             max_stretch_hours=24.0, break_after_hours=24.0, min_break_minutes=0.0,
             min_weekly_rest_hours=0.0)
EARLY, LATE = 360.0, 840.0  # 06:00 and 14:00: 8 hours from 14:00 leave 8 h before 06:00


def _on(start: float, hours: float, n_int: int, brk: tuple[float, float] | None = None
        ) -> np.ndarray:
    """Share of each 30-minute interval from 06:00 on queue for one agent-day."""
    edges = 360.0 + 30.0 * np.arange(n_int)

    def part(a: float, b: float) -> np.ndarray:
        return np.clip(np.minimum(b, edges + 30) - np.maximum(a, edges), 0, None) / 30

    on = part(start, start + hours * 60)
    if brk is not None:
        on = on - part(start + brk[0], start + brk[0] + brk[1])
    return on


def _enumerate(tours: list[tuple[dict[int, tuple[float, float | None]], float]],
               req: np.ndarray, most: int, hours: float, brk_min: float = 0.0) -> float:
    """Fewest paid hours over every head count (0..most) of each tour type, by brute force.

    A tour type: planned day -> (start, break start or None), and its paid hours.
    """
    n_int = req.shape[1]
    cols = []
    for days, _ in tours:
        c = np.zeros(req.shape)
        for d, (s, b) in days.items():
            c[d] = _on(s, hours, n_int, None if b is None else (b, brk_min))
        cols.append(c)
    cols_a = np.array(cols)
    paid = np.array([p for _, p in tours])
    best = np.inf
    for counts in itertools.product(range(most + 1), repeat=len(tours)):
        k = np.array(counts)
        if np.all(np.tensordot(k, cols_a, axes=1) >= req - 1e-9):
            best = min(best, float(k @ paid))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("rest", [11.0, 0.0])
def test_starts_per_day_optimum_equals_enumeration(seed, rest):
    """Two days, an early and a late start, 16 h a week: the optimum of every tour mix."""
    rng = np.random.default_rng(seed)
    req = rng.integers(0, 3, size=(2, 32)).astype(float)
    req[0, 20], req[1, 2] = 2, 2  # late on day 0, early on day 1: the rest rule matters
    rules = dataclasses.replace(FREE, min_weekly_hours=16.0, min_daily_rest_hours=rest)
    problem = Problem(req, 360, 30, (Template(EARLY, 8), Template(LATE, 8)), rules,
                      tours=True)
    plan = solve(problem)
    tours = [({0: (a, None), 1: (b, None)}, 16.0) for a in (EARLY, LATE) for b in (EARLY, LATE)
             if rest == 0 or not (a == LATE and b == EARLY)]
    assert plan.paid_hours == _enumerate(tours, req, 3, 8.0)
    assert np.all(coverage(problem, plan.groups) >= req - 1e-9)
    assert check_roster(plan.agent_weeks(problem), rules) == []
    assert plan.lp_bound <= plan.paid_hours + 1e-6


def test_daily_rest_binds_and_is_priced():
    """Late then early needs two agents under the 11-hour rest, one without it."""
    req = np.zeros((2, 32))
    req[0, 20] = req[1, 2] = 1
    rules = dataclasses.replace(FREE, min_weekly_hours=16.0)
    problem = Problem(req, 360, 30, (Template(EARLY, 8), Template(LATE, 8)), rules,
                      tours=True)
    plan = solve(problem)
    assert plan.paid_hours == 32
    relaxed = solve(dataclasses.replace(
        problem, rules=dataclasses.replace(rules, min_daily_rest_hours=0.0)))
    assert relaxed.paid_hours == 16
    (g,) = relaxed.groups
    assert g.per_day == {0: (LATE, ()), 1: (EARLY, ())}


def test_breaks_per_day_optimum_equals_enumeration():
    """A break placed per day: 07:00 on day 0, later on day 1 is one agent, by enumeration."""
    br = Activity("b", "break", 30, (60.0, 90.0, 150.0))
    req = np.zeros((2, 12))
    req[0, 3:6] = 1  # 07:30-09:00 on day 0: the break must be at 07:00 there ...
    req[1, 2] = 1  # ... and 07:00 on day 1: not there
    rules = dataclasses.replace(FREE, min_weekly_hours=8.0)
    problem = Problem(req, 360, 30, (Template(EARLY, 4, (br,)),), rules, tours=True)
    plan = solve(problem)
    tours = [({0: (EARLY, a), 1: (EARLY, b)}, 8.0) for a in br.positions
             for b in br.positions]
    assert plan.paid_hours == _enumerate(tours, req, 2, 4.0, 30.0) == 8
    # one start and one break placement all week cannot: two agents
    assert solve(dataclasses.replace(problem, tours=False)).paid_hours == 16
    assert check_roster(plan.agent_weeks(problem), rules) == []


def test_daily_rest_across_the_week_is_checked():
    """Sunday 15:00-23:00 and the next Monday from 07:00 leave 8 h of rest: rejected."""
    week = AgentWeek({0: (420.0, 8.0, ()), 6: (900.0, 8.0, ())})
    problems = check_roster([week], dataclasses.replace(FREE, min_daily_rest_hours=11.0))
    assert problems == ["agent 1: 8 h of rest between shifts, under "
                        "labour.min_daily_rest_hours (11)"]


def test_daily_rest_that_leaves_no_roster_is_named():
    """One agent, 16 hours, late then early: the message names the daily rest."""
    req = np.zeros((2, 32))
    req[0, 20] = req[1, 2] = 1
    rules = dataclasses.replace(FREE, min_weekly_hours=16.0)
    problem = Problem(req, 360, 30, (Template(EARLY, 8), Template(LATE, 8)), rules,
                      max_agents=1, tours=True)
    with pytest.raises(PlanError, match=r"under labour\.min_daily_rest_hours = 11 \(the "
                                        r"Act's 11-hour daily rest"):
        solve(problem)


def test_a_tour_roster_runs_as_planned():
    """A tour plan written as a scenario: each agent-day's start is the planned one."""
    b = load_scenario("scenarios/base.toml")
    sc = b.replace({"horizon.days": 2, "horizon.interval_minutes": 30,
                    "demand.profile": np.add.reduceat(np.asarray(b.demand.profile),
                                                      np.arange(0, 48, 2)).tolist(),
                    "labour.max_part_time_share": 1.0, "labour.min_weekly_hours": 4.0,
                    "labour.start_step_minutes": 60.0})
    req = np.zeros((2, 24))
    req[0, 2:10], req[1, 14:22] = 3, 3  # mornings on day 0, afternoons on day 1
    problem = build_problem(sc, req, tours=True)
    plan = solve(problem, gap=0.01)
    planned = to_scenario(sc, plan, problem, "tours")
    assert planned.labour.starts  # some agent starts differently on the two days
    roster = roster_table(planned, plan, problem)
    sched = build_plan(planned)
    worked = roster[roster["works"]]
    assert roster["agent"].nunique() == plan.agents == sched.shift_start.shape[0]
    # the engine's shift starts per agent and day equal the roster's (agents in order)
    starts = {(r.agent, r.day): r.start for r in worked.itertuples()}
    agents = list(dict.fromkeys(roster["agent"]))
    for k, agent in enumerate(agents):
        for d in range(2):
            if (agent, d) in starts:
                h, m = map(int, starts[agent, d].split(":"))
                assert sched.shift_start[k, d] == d * 86400 + h * 3600 + m * 60
    assert check_roster(plan.agent_weeks(problem), problem.rules) == []


def _one_shift(**labour) -> object:
    """base.toml with one 8-hour shift of two agents, its lunch at a fixed start, 2 days."""
    b = load_scenario("scenarios/base.toml")
    return b.replace({
        "staffing.shifts": {"x": {"start": "08:00", "hours": 8, "agents": 2}},
        "staffing.agents": None, "horizon.days": 2,
        "schedule.activities": {"x-lunch": {"kind": "lunch", "minutes": 30,
                                            "offset_minutes": 210, "shifts": ["x"]}},
        **{f"labour.{k}": v for k, v in labour.items()}})


def test_activity_starts_move_that_days_activity():
    """labour.activity_starts moves Tuesday's lunch (day 1) to 12:00 and leaves Monday's."""
    plan = build_plan(_one_shift(activity_starts={"x": {"Tue": {"x-lunch": 240}}}))
    starts = plan.table().groupby("day")["planned_start_s"].unique()
    assert list(starts[0]) == [11.5 * 3600]
    assert list(starts[1]) == [86400 + 12 * 3600]


def test_activity_starts_outside_the_shift_are_refused():
    """An activity start that ends after the shift is refused with field, value and rule."""
    with pytest.raises(ValueError, match=r"labour\.activity_starts\.x\.Tue\.x-lunch: 460 "
                                         r"minutes \+ the activity's 30 end after the "
                                         r"shift's 8 h; allowed: within the shift"):
        _one_shift(activity_starts={"x": {"Tue": {"x-lunch": 460}}})


# --------------------------------------------------------------------------- stopping rules


def _branchy() -> Problem:
    """Four uneven days, starts every 2 hours, staggered breaks: not closed at the root.

    The two-step's set covering (all whole), small: HiGHS must branch to prove a tiny gap.
    """
    rng = np.random.default_rng(1)
    req = rng.integers(0, 7, size=(4, 20)).astype(float)
    br = Activity("b", "break", 15, (120.0, 150.0, 180.0, 210.0))
    templates = tuple(Template(s, h, (br,) if h >= 6 else ())
                      for s in (360.0, 480.0, 600.0, 720.0, 840.0) for h in (4.0, 6.0, 8.0)
                      if s + 60 * h <= 960)
    rules = dataclasses.replace(FREE, min_weekly_hours=8.0, max_days_per_week=3)
    return Problem(req, 360, 30, templates, rules, breaks="stagger")


def test_a_node_limit_stops_the_solve_and_repeats_its_roster():
    """A solve stopped by its node limit says so and gives the identical roster again."""
    problem = _branchy()
    first = solve(problem, gap=1e-9, node_limit=10, lp_bound=False)
    again = solve(problem, gap=1e-9, node_limit=10, lp_bound=False)
    assert first.stopped == again.stopped == "nodes"
    assert first.gap > 1e-3 and first.nodes == again.nodes == 10
    assert first.groups == again.groups and first.paid_hours == again.paid_hours


def test_the_wall_clock_safety_net_is_reported():
    """A solve stopped by the wall clock says so (its roster, if any, is not asserted)."""
    try:
        plan = solve(_branchy(), gap=1e-9, time_limit=1e-3, lp_bound=False)
    except PlanError as exc:  # stopped before any roster: the message names the option
        assert str(exc) == ("no roster found within the wall-clock safety net (--time-limit "
                            "0.001 s); allow more time or fewer templates "
                            "(labour.start_step_minutes)")
    else:
        assert plan.stopped == "time"


def test_the_plan_report_names_the_solves_a_limit_stopped():
    """plan.json and report.md say which rounds a limit stopped and what to change."""
    from analysis.plan import Loop, PlanAnswer, Round

    def answer(stops: list[str]) -> PlanAnswer:
        rounds = [Round(1.0, 8.0, 1, 0.0, 0.0, 0, True, 0.1, stopped=s) for s in stops]
        return PlanAnswer(None, 0.8, 20.0, 0.9, 0.95, 10, 1, Loop("optimise", rounds), None,
                          [], [], 0.005, node_limit=500, time_limit=60.0)

    assert answer(["finished", "finished"]).solver_note() is None
    assert answer(["finished", "nodes"]).solver_note() == (
        "optimised round 1 stopped at the node limit (500 nodes) short of the 0.5% gap: the "
        "same roster on any machine; a larger --node-limit may find a cheaper one.")
    late = answer(["nodes", "time"])
    assert late.stops() == {"nodes": ["optimised round 0"], "time": ["optimised round 1"]}
    assert late.solver_note() == (
        "optimised round 1 stopped at the wall-clock safety net (--time-limit 60 s) before "
        "the node limit (500 nodes): this roster depends on the machine's speed and load; "
        "raise --time-limit or lower --node-limit to make it repeatable.")


def test_the_cli_limits_are_the_planners():
    """The --node-limit and --time-limit defaults of ccsim plan are the planner's own."""
    from analysis.cli import build_parser
    from sim.planning.shifts import NODE_LIMIT, TIME_LIMIT

    args = build_parser().parse_args(["plan", "scenarios/base.toml", "--target", "0.8@20"])
    assert (args.node_limit, args.time_limit) == (NODE_LIMIT, TIME_LIMIT)


def test_rule_prices_skip_only_programmes_a_rule_leaves_as_they_are():
    """Prices with the solved roster given (same programmes not solved again) equal all solved."""
    from sim.planning.shifts import RULES, _programme, rule_costs

    req = np.zeros((2, 32))
    req[0, 18:22], req[1, 0:6] = 2, 2  # late on day 0, early on day 1: the rest binds
    rules = dataclasses.replace(FREE, min_weekly_hours=16.0, min_daily_rest_hours=11.0)
    problem = Problem(req, 360, 30, (Template(EARLY, 8), Template(LATE, 8)), rules,
                      tours=True)
    plan = solve(problem)
    same = {r for r in RULES
            if _programme(problem, rules.relaxed(r)) == _programme(problem, rules)}
    assert {"max_daily_hours", "max_stretch_hours"} <= same  # no 9-hour shift, no breaks
    assert "min_daily_rest_hours" not in same and "min_weekly_hours" not in same
    quick = rule_costs(problem, plan.paid_hours, solved=plan)
    every = rule_costs(problem, plan.paid_hours)
    assert [dataclasses.astuple(c) for c in quick] == [dataclasses.astuple(c) for c in every]
    costs = {c.rule: c.cost for c in quick}
    # 16 hours a week each: two agents late then early without the rest, four with it
    assert costs["min_daily_rest_hours"] == 32 and costs["max_daily_hours"] == 0
