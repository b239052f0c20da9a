"""A planning problem from a scenario, and a planned roster back as a scenario and a table.

The translation both ``ccsim plan`` (:mod:`analysis.plan`, one queue) and planning by skill
(:mod:`analysis.skill_plan`, a roster per agent group) stand on: the labour rules, shift
templates and activity windows of a scenario as a :class:`sim.planning.shifts.Problem`, and
a solved :class:`sim.planning.shifts.Plan` as a scenario ``ccsim run`` takes unchanged
(written through ``tomli_w``) and as one row per agent and day.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.staffing import requirement
from sim.engine.demand import weekday
from sim.planning.shifts import (
    Activity,
    Plan,
    PlanError,
    Problem,
    Rules,
    Template,
)
from sim.scenario import Scenario, format_clock
from sim.scenario.labour import WEEK_DAYS
from sim.scenario.sections import WEEKDAYS

#: the interval goal's KPI
IB = "intervals_below_target"


# --------------------------------------------------------------------------- scenario -> problem


def planned_days(scenario: Scenario) -> tuple[int, ...]:
    """Calendar day in the week (0-6 from day 0's weekday) of each simulated day planned.

    ``ccsim plan`` plans one week: every simulated day up to the centre's open days of a
    week (the horizon's days, when fewer).
    """
    h = scenario.horizon
    first = WEEKDAYS.index(weekday(scenario, 0))
    cal = []
    for d in range(h.days):
        c = (WEEKDAYS.index(weekday(scenario, d)) - first) % WEEK_DAYS
        if cal and c <= cal[-1]:
            raise PlanError(
                f"horizon.days: {h.days} simulated days are more than one week of open days "
                f"({len(cal)}); ccsim plan plans one week: give --days {len(cal)} or fewer")
        cal.append(c)
    return tuple(cal)


def rules_of(scenario: Scenario) -> Rules:
    """The labour rules of ``scenario`` as plain numbers."""
    lab, sch = scenario.labour, scenario.schedule
    return Rules(
        max_daily_hours=lab.max_daily_hours, max_weekly_hours=lab.max_weekly_hours,
        min_daily_rest_hours=lab.min_daily_rest_hours,
        min_weekly_rest_hours=lab.min_weekly_rest_hours,
        break_after_hours=lab.break_after_hours,
        min_break_minutes=sch.min_break_minutes if sch.activities else 0.0,
        min_break_shift_hours=sch.min_break_shift_hours,
        max_stretch_hours=lab.max_stretch_hours, max_days_per_week=lab.max_days_per_week,
        full_time_hours=lab.full_time_hours, min_weekly_hours=lab.min_weekly_hours,
        min_shift_hours=lab.min_shift_hours, max_part_time_share=lab.max_part_time_share)


def templates_of(scenario: Scenario) -> tuple[Template, ...]:
    """Every shift template inside the opening hours, with the activities that apply to it.

    Lengths are ``labour.shift_hours`` (all of them: the rules decide in the solver, so a
    rule's price can be found by relaxing it), starts every ``labour.start_step_minutes``
    from the opening time. An activity applies as in the schedule: by length
    (``min_shift_hours``, or fitting when no shifts are named), or, when it names shifts,
    to templates as long as one of them. Its positions: its fixed start, or its window's
    earliest start and every ``labour.break_step_minutes`` up to its latest.
    """
    h, lab, sched = scenario.horizon, scenario.labour, scenario.schedule
    open_m, close_m = h.open / 60, h.open / 60 + h.hours * 60
    shifts = scenario.staffing.shifts
    out = []
    for hours in sorted(set(lab.shift_hours)):
        acts = []
        fits = True
        for name, a in sched.activities.items():
            if a.shifts:
                applies = any(abs(shifts[s].hours - hours) < 1e-9 for s in a.shifts)
            else:
                applies = hours >= a.shortest_shift_hours - 1e-9
            if not applies:
                continue
            if a.last_end > hours * 60 + 1e-9:
                fits = False
                break
            if a.window_minutes is None:
                pos: tuple[float, ...] = (float(a.offset_minutes),)
            else:
                lo, hi = a.window_minutes
                pos = tuple(float(p) for p in np.arange(lo, hi + 1e-9, lab.break_step_minutes))
            share = 1.0 if a.per_year is None else a.per_year / sched.days_per_year
            acts.append(Activity(name, a.kind, a.minutes, pos, share))
        if not fits:
            continue
        acts.sort(key=lambda a: a.positions[0])
        start = open_m
        while start + hours * 60 <= close_m + 1e-9:
            out.append(Template(start, hours, tuple(acts)))
            start += lab.start_step_minutes
    return tuple(out)


def allowance_of(scenario: Scenario) -> tuple[float, float]:
    """(share of on-queue time lost to unplanned breaks and late returns, log-in minutes).

    The schedule does not show these; the plan keeps that much on top. Unplanned breaks:
    rate x mean length; late returns: each daily activity's late chance x mean lateness
    over an 8-hour day (a small term); the log-in: the mean delay, in the shift's first
    interval.
    """
    beh = scenario.behaviour
    lost = beh.unplanned_breaks_per_hour * beh.unplanned_break.mean_s / 3600
    for a in scenario.schedule.activities.values():
        rt = beh.returns.get(a.kind)
        if rt is not None and a.per_year is None:
            lost += rt.late_probability * rt.late.mean_s / (8 * 3600)
    login = (beh.login_delay_min_s + beh.login_delay_max_s) / 2 / 60
    return min(lost, 0.5), login


def build_problem(scenario: Scenario, required: np.ndarray, *, breaks: str = "optimise",
                  max_agents: int | None = None, consecutive: bool = True,
                  tours: bool = False) -> Problem:
    """The planning problem of ``scenario`` for requirements ``required`` (days x intervals).

    ``consecutive``: agents work consecutive planned days (their days off together), as
    rosters usually do; on base.toml's week it loses nothing against every day pattern (the
    same LP bound) and solves several times faster. Break starts are continuous in the
    programme and rounded after (``Problem.integral_breaks``): on base's week with uneven
    requirements 5 CPU-s to a 0.4% gap, where whole break starts took 300 s to 0.8%; what
    rounding leaves short the simulation finds like any other miss. ``tours``: each agent's
    start chosen per working day (the tour programme, ``Problem.tours``).
    """
    h = scenario.horizon
    allow, login = allowance_of(scenario)
    return Problem(np.asarray(required, float), h.open / 60, h.interval_minutes,
                   templates_of(scenario), rules_of(scenario), planned_days(scenario),
                   allow, login, max_agents, breaks, consecutive, integral_breaks=False,
                   tours=tours)


def erlang_requirement(scenario: Scenario, share: float, threshold_s: float,
                       busyness: float = 1.0) -> np.ndarray:
    """Erlang agents on queue per planned day and interval (days x intervals).

    ``busyness``: the day-level factor the rates are taken at (1: the mean day).
    """
    return np.array([requirement(scenario, d, share, threshold_s, busyness)
                     for d in range(scenario.horizon.days)], dtype=float)


# --------------------------------------------------------------------------- plan -> scenario


def group_names(plan: Plan) -> list[str]:
    """A shift name per group: ``p03-8h-0930``."""
    return [f"p{j + 1:02d}-{g.template.name}" for j, g in enumerate(plan.groups)]


def to_scenario(scenario: Scenario, plan: Plan, problem: Problem, name: str,
                note: str = "") -> Scenario:
    """``scenario`` with the plan's shifts, activities and days off (validated).

    Each group of agents alike is a shift; each of its activities is an activity of that
    shift alone, at its planned start (optimised breaks), or over its window with the
    schedule's even stagger (the two-step plan). Days a group does not work are
    ``labour.days_off``. A tour group (starts chosen per day) starts on its first day's
    start, its other days' starts in ``labour.starts`` and activity starts that differ by
    day in ``labour.activity_starts`` (the two-step plan's stagger then written as the
    starts it gives each agent).
    """
    names = group_names(plan)
    sched = scenario.schedule
    shifts, acts, off, moved, moved_acts = {}, {}, {}, {}, {}
    week = [weekday(scenario, d) for d in range(problem.days)]
    for sname, g in zip(names, plan.groups, strict=True):
        t = g.template
        shifts[sname] = {"start": format_clock(t.start_min * 60), "hours": t.hours,
                         "agents": g.agents}
        if g.per_day is not None:  # a tour: starts and activities by weekday
            for d, (start, offsets) in sorted(g.per_day.items()):
                if abs(start - t.start_min) > 1e-9:
                    moved.setdefault(sname, {})[week[d]] = format_clock(start * 60)
                for a, o, o0 in zip(t.activities, offsets, g.offsets, strict=True):
                    if abs(o - o0) > 1e-9:
                        moved_acts.setdefault(sname, {}).setdefault(week[d], {})[
                            f"{sname}-{a.name}"] = o
        for a, start in zip(t.activities, g.offsets, strict=True):
            src = sched.activities[a.name].to_dict() if hasattr(
                sched.activities[a.name], "to_dict") else sched.activities[a.name].model_dump(
                mode="json")
            src = {k: v for k, v in src.items() if v is not None}
            src.update(shifts=[sname], min_shift_hours=None)
            if problem.breaks == "optimise" or len(a.positions) == 1 or g.per_day is not None:
                src.pop("window_minutes", None)
                src["offset_minutes"] = start
            acts[f"{sname}-{a.name}"] = {k: v for k, v in src.items() if v is not None}
        gone = [week[d] for d in range(problem.days) if d not in g.days]
        if gone:
            off[sname] = gone
    return scenario.replace({
        "name": name, "staffing.agents": None, "staffing.shifts": shifts,
        "schedule.activities": acts, "labour.days_off": off, "labour.starts": moved,
        "labour.activity_starts": moved_acts,
        "description": f"{scenario.description} [shifts, days off and breaks planned by "
                       f"ccsim plan: {plan.agents} agents, {plan.paid_hours:g} paid hours "
                       f"over {problem.days} day(s)]",
        "rationale": f"{scenario.rationale.rstrip()}\n\nPlanned by ccsim plan{note}.",
    }, source="ccsim plan")


def scenario_toml(scenario: Scenario) -> str:
    """The whole scenario as TOML (no ``extends``: ``ccsim run`` takes it as it is)."""
    import tomli_w

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if x is not None}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return ("# Written by ccsim plan: shifts, days off and breaks planned and verified by "
            "simulation.\n" + tomli_w.dumps(clean(scenario.to_dict()), multiline_strings=True))


def roster_table(scenario: Scenario, plan: Plan, problem: Problem,
                 prefix: str = "") -> pd.DataFrame:
    """One row per agent (pseudonymous, as the run names them) and planned day.

    A day's start is the shift's, or its weekday's in ``labour.starts`` (a roster whose
    starts differ by weekday); activities keep their minutes after the start. ``prefix``:
    what the scenario's shift names put before the plan's (planning by skill writes each
    group's shifts as ``GROUP-`` and the plan's name).
    """
    rows = []
    names = group_names(plan)
    for sname, g in zip(names, plan.groups, strict=True):
        t = g.template
        moved = scenario.labour.starts.get(prefix + sname, {})

        def acts(start_min: float, offsets: tuple, t: Template = t) -> str:
            return "; ".join(
                f"{a.name} {format_clock((start_min + s) * 60)}-"
                f"{format_clock((start_min + s + a.minutes) * 60)}"
                + ("" if a.daily else f" ({a.share:.0%} of days)")
                for a, s in sorted(zip(t.activities, offsets, strict=True), key=lambda x: x[1]))

        days = []
        for d in range(problem.days):
            wd = weekday(scenario, d)
            works = d in g.days
            start = moved[wd] / 60 if wd in moved else t.start_min
            offsets = g.day(d)[1]
            days.append({"day": d, "weekday": wd, "shift": sname, "works": works,
                         "start": format_clock(start * 60) if works else "",
                         "end": format_clock((start + t.hours * 60) * 60) if works else "",
                         "paid_hours": t.hours if works else 0.0,
                         "activities": acts(start, offsets) if works else "day off"})
        rows += [{"agent": f"{sname}-{j + 1:03d}", **day} for j in range(g.agents)
                 for day in days]
    return pd.DataFrame(rows)


def headcounts(scenario: Scenario, plan: Plan, problem: Problem) -> pd.DataFrame:
    """Agents working each shift template (length and start) on each planned weekday.

    A row per template used, a column per planned day's weekday, and a ``total`` row: how
    the roster follows a weekly demand pattern (the agents of a group work the days of its
    pattern; its other days are ``labour.days_off``).
    """
    days = [weekday(scenario, d) for d in range(problem.days)]

    def name(g: Any, d: int) -> str:  # the day's template (a tour's start differs by day)
        return Template(g.day(d)[0], g.template.hours).name

    names = sorted({name(g, d) for g in plan.groups for d in g.days},
                   key=lambda n: (float(n.split("h-")[0]), n.split("h-")[1]))
    table = pd.DataFrame(0, index=pd.Index(names, name="shift"), columns=days)
    for g in plan.groups:
        for d in g.days:
            table.loc[name(g, d), days[d]] += g.agents
    table.loc["total"] = table.sum(axis=0)
    return table.reset_index()


def solver_note(stops: dict[str, list[str]], *, time_limit: float, node_limit: int,
                gap: float | None = None) -> str | None:
    """What a plan's report says when a limit, not the gap, stopped a solve (None: none did).

    ``stops`` names the solves stopped by each limit ({"nodes": [...], "time": [...]}); the
    wall clock makes a roster depend on the machine, the node limit does not.
    """
    if stops["time"]:
        return (f"{', '.join(stops['time'])} stopped at the wall-clock safety net "
                f"(--time-limit {time_limit:g} s) before the node limit "
                f"({node_limit:,} nodes): this roster depends on the machine's "
                "speed and load; raise --time-limit or lower --node-limit to make it "
                "repeatable.")
    if stops["nodes"]:
        short = "the gap" if gap is None else f"the {100 * gap:g}% gap"
        return (f"{', '.join(stops['nodes'])} stopped at the node limit "
                f"({node_limit:,} nodes) short of {short}: the same roster on any "
                "machine; a larger --node-limit may find a cheaper one.")
    return None
