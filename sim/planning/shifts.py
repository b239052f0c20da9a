"""Shifts, days off and breaks from interval requirements: a mixed-integer programme.

Pure planning (no simulation): given the agents each interval of each planned day needs on
queue, choose how many agents work each shift template on each weekly day pattern and
where each of them takes each planned activity (break, lunch, ...), at the fewest paid
hours, within the labour rules. Solved with HiGHS through :func:`scipy.optimize.milp`
(branch and bound on an LP that is tight here: a set-covering programme with implicit
break placement in the manner of Aykin (1996), Management Science 42(4)).

The model. A *group* is a template ``t`` (start, length) worked on a day pattern ``q`` (a
set of the planned days); ``n[t,q]`` agents (whole) work it. Each activity ``k`` of the
template may start at positions ``p`` of its window; ``b[t,q,k,p]`` of the group's agents
take it there (whole; ``sum_p b = n``). An agent's activities are paired in sorted order (the
j-th earliest break with the j-th earliest lunch), which the schedule's own stagger does
too; under that pairing "no stretch on queue longer than S" between activities ``k`` and
``k+1`` is exactly ``#(k+1 starts by tau + m_k + S) >= #(k starts by tau)`` for every
position ``tau`` of ``k``, a linear constraint. Windows of one shift never overlap (the
schema refuses it), so any pairing is a valid day. Coverage of interval ``i`` of day ``d``:
the agents whose pattern holds ``d`` and whose shift covers ``i``, less those on an activity
then, times ``1 - allowance`` (unplanned breaks and the like), at least the requirement.

Weekly rules (hours, days, the 35-hour rest) and daily ones (length, the 11-hour rest, the
break after 5.5 hours) decide which templates and patterns exist; the part-time share is a
constraint. Every rule can be relaxed one at a time (:func:`rule_costs`); what no roster can
meet is reported by :class:`PlanError` naming the rule or interval, never a solver status.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = [
    "NODE_LIMIT",
    "RULES",
    "TIME_LIMIT",
    "Activity",
    "AgentWeek",
    "Plan",
    "PlanError",
    "Problem",
    "Recovery",
    "Rules",
    "Template",
    "check_roster",
    "day_strain",
    "place_for_recovery",
    "placements",
    "plan_strain",
    "rule_costs",
    "solve",
    "solve_within",
]

#: rule name -> (what it is in words, the scenario field): the rules :func:`rule_costs` prices
RULES: dict[str, tuple[str, str]] = {
    "max_daily_hours": ("the Act's 9 hours a day (s. 10-4)", "labour.max_daily_hours"),
    "max_weekly_hours": ("the Act's 40 hours a week (s. 10-4)", "labour.max_weekly_hours"),
    "min_daily_rest_hours": ("the Act's 11-hour daily rest (s. 10-8)",
                             "labour.min_daily_rest_hours"),
    "min_weekly_rest_hours": ("the Act's 35-hour weekly rest (s. 10-8)",
                              "labour.min_weekly_rest_hours"),
    "break_after_hours": ("the Act's break after 5.5 hours (s. 10-9)",
                          "labour.break_after_hours"),
    "min_break_minutes": ("the 30 minutes of breaks in a day of 8 hours (s. 10-9)",
                          "schedule.min_break_minutes"),
    "max_stretch_hours": ("the regime's longest stretch on queue", "labour.max_stretch_hours"),
    "max_days_per_week": ("the agreement's five-day week", "labour.max_days_per_week"),
    "min_weekly_hours": ("the agreement's smallest position", "labour.min_weekly_hours"),
    "min_shift_hours": ("the agreement's shortest shift", "labour.min_shift_hours"),
    "max_part_time_share": ("the agreement's part-time share", "labour.max_part_time_share"),
}

#: values that switch each rule off (for its price)
_RELAXED = {
    "max_daily_hours": 24.0, "max_weekly_hours": 168.0, "min_daily_rest_hours": 0.0,
    "min_weekly_rest_hours": 0.0, "break_after_hours": 24.0, "min_break_minutes": 0.0,
    "max_stretch_hours": 24.0, "max_days_per_week": 7, "min_weekly_hours": 0.0,
    "min_shift_hours": 0.0, "max_part_time_share": 1.0,
}

#: branch-and-bound nodes HiGHS may take in one solve before it stops short of its gap.
#: HiGHS's search is the same for the same programme and options, so a solve stopped here
#: gives the same roster on any machine (docs/schedules.md, "Stopping rules": measured)
NODE_LIMIT = 20_000
#: seconds of wall clock a solve may take: only a safety net far above what the node limit
#: takes; a solve it stops depends on the machine's speed and the plan says so
TIME_LIMIT = 1800.0
#: what stopped a solve, worst last: its gap (or optimum, or a proof of no roster), its node
#: limit (deterministic), the wall-clock safety net (the machine's speed)
STOPS = ("finished", "nodes", "time")

_EPS = 1e-9
#: a tie-breaker per agent (paid hours come in whole quarter-hours, so it never outweighs one)
_PER_AGENT = 1e-4


class PlanError(ValueError):
    """No roster meets the rules and the requirement: the message names the binding part."""


@dataclass(frozen=True)
class Rules:
    """The labour rules as plain numbers (``Labour`` and ``schedule.min_break_*``)."""

    max_daily_hours: float = 9.0
    max_weekly_hours: float = 40.0
    min_daily_rest_hours: float = 11.0
    min_weekly_rest_hours: float = 35.0
    break_after_hours: float = 5.5
    min_break_minutes: float = 30.0
    min_break_shift_hours: float = 8.0
    max_stretch_hours: float = 3.0
    max_days_per_week: int = 5
    full_time_hours: float = 37.5
    min_weekly_hours: float = 12.0
    min_shift_hours: float = 4.0
    max_part_time_share: float = 0.6

    def relaxed(self, rule: str) -> Rules:
        """These rules with ``rule`` switched off."""
        return dataclasses.replace(self, **{rule: _RELAXED[rule]})


@dataclass(frozen=True)
class Activity:
    """A planned activity of a template: where it may start and how long it lasts."""

    name: str
    kind: str
    minutes: float
    positions: tuple[float, ...]
    """Allowed starts, minutes after the shift's start (one: a fixed start)."""
    share: float = 1.0
    """Share of working days it happens (1: daily; ``per_year / days_per_year``)."""

    @property
    def daily(self) -> bool:
        """Whether it happens every working day (only these break a stretch for sure)."""
        return self.share >= 1.0 - _EPS

    @property
    def is_break(self) -> bool:
        """A break or lunch (what the Act's break rule counts)."""
        return self.kind in ("break", "lunch")


@dataclass(frozen=True)
class Template:
    """A shift a plan may use: start (minutes after midnight), length, activities."""

    start_min: float
    hours: float
    activities: tuple[Activity, ...] = ()

    @property
    def name(self) -> str:
        """``8h-0930``: length and start."""
        m = round(self.start_min)
        return f"{self.hours:g}h-{m // 60:02d}{m % 60:02d}"


@dataclass(frozen=True)
class Problem:
    """What to plan: requirements per planned day and interval, templates, rules."""

    required: np.ndarray
    """Agents needed on queue, shape (planned days, intervals)."""
    open_min: float
    """Start of the first interval, minutes after midnight."""
    interval_min: float
    templates: tuple[Template, ...]
    rules: Rules = Rules()
    calendar: tuple[int, ...] | None = None
    """Calendar day (0-6 in the planning week) of each planned day; default 0, 1, 2, ..."""
    allowance: float = 0.0
    """Share of on-queue time lost to what no schedule shows (unplanned breaks, ...)."""
    login_loss_min: float = 0.0
    """Minutes of a shift's start lost to logging in."""
    max_agents: int | None = None
    breaks: str = "optimise"
    """"optimise": the programme places breaks; "stagger": every activity spread evenly
    over its positions (the published stagger: the two-step plan's set covering)."""
    consecutive_days: bool = False
    """Only day patterns of consecutive planned days (fewer patterns, a faster solve)."""
    integral_breaks: bool = True
    """Break starts as whole agents in the programme (exact). False: head counts whole,
    break starts continuous and rounded after (cumulative counts to the nearest agent, the
    stretch rule checked again; a far faster solve on a week of uneven requirements)."""

    tours: bool = False
    """Tour scheduling: each agent's start (and so shift) chosen per working day, breaks
    placed per day (:func:`solve` then solves the tour programme, :func:`_build_tours`);
    False: one start all week per agent."""

    @property
    def days(self) -> int:
        """Planned days."""
        return self.required.shape[0]

    @property
    def cal(self) -> tuple[int, ...]:
        """Calendar day of each planned day."""
        return self.calendar if self.calendar is not None else tuple(range(self.days))

    def interval_label(self, d: int, i: int) -> str:
        """``day 2 10:30``."""
        m = round(self.open_min + i * self.interval_min)
        return f"day {d} {m // 60 % 24:02d}:{m % 60:02d}"


@dataclass
class Group:
    """Agents of one template on one day pattern, with one placement of every activity."""

    template: Template
    days: tuple[int, ...]
    """Planned days worked."""
    agents: int
    offsets: tuple[float, ...]
    """Start of each of the template's activities, minutes after the shift's start."""
    per_day: dict[int, tuple[float, tuple[float, ...]]] | None = None
    """Tours: per planned day worked, (start minute, activity offsets); None: the
    template's start and ``offsets`` every day."""

    def day(self, d: int) -> tuple[float, tuple[float, ...]]:
        """(start minute, activity offsets) on planned day ``d``."""
        if self.per_day is not None and d in self.per_day:
            return self.per_day[d]
        return self.template.start_min, self.offsets

    @property
    def weekly_hours(self) -> float:
        """Paid hours a week of one agent."""
        return self.template.hours * len(self.days)


@dataclass
class Plan:
    """A solved roster: groups of agents alike, paid hours, and the solve's numbers."""

    groups: list[Group]
    paid_hours: float
    """Paid agent-hours over the planned days."""
    coverage: np.ndarray
    """Expected agents on queue (after the allowance), shape (days, intervals)."""
    required: np.ndarray
    lp_bound: float = math.nan
    """The LP relaxation's paid hours: no roster under these rules can pay fewer."""
    gap: float = 0.0
    """Relative MIP gap HiGHS proved (0: optimal)."""
    seconds: float = 0.0
    variables: int = 0
    nodes: int = 0
    """The most branch-and-bound nodes any solve behind this roster took (HiGHS's
    ``mip_node_count``; the node limit applies to each solve)."""
    stopped: str = "finished"
    """What stopped the worst of the solves behind this roster (:data:`STOPS`): "time"
    means the wall-clock safety net, so the roster depends on the machine's speed."""

    @property
    def agents(self) -> int:
        """Agents rostered."""
        return sum(g.agents for g in self.groups)

    def agent_weeks(self, problem: Problem) -> list[AgentWeek]:
        """One :class:`AgentWeek` per agent, for :func:`check_roster`."""
        return [w for g in self.groups for w in _weeks(g, problem)]


def _weeks(g: Group, problem: Problem) -> list[AgentWeek]:
    """The weeks of a group's agents (all alike)."""
    t = g.template
    days = {}
    for d in g.days:
        start, offsets = g.day(d)
        acts = tuple((a.name, a.kind, off, a.minutes, a.daily)
                     for a, off in zip(t.activities, offsets, strict=True))
        days[problem.cal[d]] = (start, t.hours, acts)
    return [AgentWeek(days) for _ in range(g.agents)]


@dataclass(frozen=True)
class AgentWeek:
    """One agent's week: per calendar day (0-6) worked, (start minute, hours, activities).

    Activities are ``(name, kind, start minutes after the shift's start, minutes, daily)``.
    """

    days: dict[int, tuple[float, float, tuple[tuple[str, str, float, float, bool], ...]]]

    @property
    def hours(self) -> float:
        """Paid hours in the week."""
        return sum(h for _, h, _ in self.days.values())


# --------------------------------------------------------------------------- the checker


def check_roster(agents: Sequence[AgentWeek], rules: Rules) -> list[str]:
    """Every rule each agent's week (and the roster's part-time share) breaks, in words.

    Independent of the programme: it reads a roster as a week of shifts per agent, so a
    roster built by hand (or by another planner) is checked the same way. Empty: legal.
    """
    out: list[str] = []
    part = 0
    for j, a in enumerate(agents):
        who = f"agent {j + 1}"
        hours = a.hours
        if hours < rules.full_time_hours - _EPS:
            part += 1
        if len(a.days) > rules.max_days_per_week:
            out.append(f"{who}: {len(a.days)} working days, over labour.max_days_per_week "
                       f"({rules.max_days_per_week})")
        if hours > rules.max_weekly_hours + _EPS:
            out.append(f"{who}: {hours:g} h in the week, over labour.max_weekly_hours "
                       f"({rules.max_weekly_hours:g})")
        if a.days and hours < rules.min_weekly_hours - _EPS:
            out.append(f"{who}: {hours:g} h in the week, under labour.min_weekly_hours "
                       f"({rules.min_weekly_hours:g})")
        spans = sorted((c * 1440 + s, c * 1440 + s + h * 60) for c, (s, h, _) in a.days.items())
        # the week repeats: its last shift and the next week's first are consecutive too
        wrap = [(spans[-1], (spans[0][0] + 7 * 1440, 0.0))] if len(spans) > 1 else []
        for (_, e1), (s2, _) in [*itertools.pairwise(spans), *wrap]:
            if s2 - e1 < rules.min_daily_rest_hours * 60 - _EPS:
                out.append(f"{who}: {(s2 - e1) / 60:g} h of rest between shifts, under "
                           f"labour.min_daily_rest_hours ({rules.min_daily_rest_hours:g})")
        if spans:
            rest = _longest_rest(spans)
            if rest < rules.min_weekly_rest_hours * 60 - _EPS:
                out.append(f"{who}: longest rest in the week {rest / 60:g} h, under "
                           f"labour.min_weekly_rest_hours ({rules.min_weekly_rest_hours:g})")
        for c, (_, h, acts) in sorted(a.days.items()):
            out += [f"{who}, day {c}: {m}" for m in _day_violations(h, acts, rules)]
    if agents and part > rules.max_part_time_share * len(agents) + _EPS:
        out.append(f"{part} of {len(agents)} agents part-time ({part / len(agents):.0%}), "
                   f"over labour.max_part_time_share ({rules.max_part_time_share:.0%})")
    return out


def _longest_rest(spans: list[tuple[float, float]]) -> float:
    """Longest gap between work spans of a week repeated every 7 days (minutes)."""
    week = 7 * 1440
    gaps = [s2 - e1 for (_, e1), (s2, _) in itertools.pairwise(spans)]
    gaps.append(spans[0][0] + week - spans[-1][1])
    return max(gaps)


def _day_violations(hours: float, acts: Sequence[tuple[str, str, float, float, bool]],
                    rules: Rules) -> list[str]:
    """The rules one shift with its activities breaks."""
    out = []
    length = hours * 60
    if hours > rules.max_daily_hours + _EPS:
        out.append(f"a {hours:g}-h shift, over labour.max_daily_hours "
                   f"({rules.max_daily_hours:g})")
    if hours < rules.min_shift_hours - _EPS:
        out.append(f"a {hours:g}-h shift, under labour.min_shift_hours "
                   f"({rules.min_shift_hours:g})")
    daily = sorted((s, s + m, kind) for _, kind, s, m, d in acts if d)
    breaks = sum(e - s for s, e, k in daily if k in ("break", "lunch"))
    if hours > rules.break_after_hours + _EPS and breaks <= 0:
        out.append(f"a {hours:g}-h shift without a break, over labour.break_after_hours "
                   f"({rules.break_after_hours:g})")
    if hours >= rules.min_break_shift_hours - _EPS and breaks < rules.min_break_minutes - _EPS:
        out.append(f"{breaks:g} minutes of breaks in a {hours:g}-h shift, under "
                   f"schedule.min_break_minutes ({rules.min_break_minutes:g})")
    allacts = sorted((s, s + m) for _, _, s, m, _ in acts)
    if any(s < -_EPS or e > length + _EPS for s, e in allacts):
        out.append("an activity outside the shift")
    if any(s2 < e1 - _EPS for (_, e1), (s2, _) in itertools.pairwise(allacts)):
        out.append("two activities overlap")
    edges = [0.0, *[x for s, e, _ in daily for x in (s, e)], length]
    stretch = max(edges[i + 1] - edges[i] for i in range(0, len(edges), 2))
    if stretch > rules.max_stretch_hours * 60 + _EPS:
        out.append(f"{stretch / 60:g} h on queue without a break, over "
                   f"labour.max_stretch_hours ({rules.max_stretch_hours:g})")
    return out


# --------------------------------------------------------------------------- the programme


def _template_problem(t: Template, rules: Rules) -> str | None:
    """Why a template may not be used under ``rules`` (None: it may)."""
    if t.hours > rules.max_daily_hours + _EPS:
        return "max_daily_hours"
    if t.hours < rules.min_shift_hours - _EPS:
        return "min_shift_hours"
    if (24 - t.hours) < rules.min_daily_rest_hours - _EPS:
        return "min_daily_rest_hours"
    daily_breaks = sum(a.minutes for a in t.activities if a.daily and a.is_break)
    if t.hours > rules.break_after_hours + _EPS and daily_breaks <= 0:
        return "break_after_hours"
    if t.hours >= rules.min_break_shift_hours - _EPS and \
            daily_breaks < rules.min_break_minutes - _EPS:
        return "min_break_minutes"
    if _stretch_positions(t, rules) is None:
        return "max_stretch_hours"
    return None


def _stretch_positions(t: Template, rules: Rules) -> list[tuple[float, ...]] | None:
    """Each activity's positions that the first and last stretch allow (None: none left)."""
    s = rules.max_stretch_hours * 60 + _EPS
    length = t.hours * 60
    daily = [k for k, a in enumerate(t.activities) if a.daily]
    pos = [tuple(a.positions) for a in t.activities]
    if not daily:
        return pos if length <= s else None
    first, last = daily[0], daily[-1]
    pos[first] = tuple(p for p in pos[first] if p <= s)
    a = t.activities[last]
    pos[last] = tuple(p for p in pos[last] if length - (p + a.minutes) <= s)
    if any(not p for p in pos):
        return None
    for k1, k2 in itertools.pairwise(daily):  # some pairing must exist
        if min(pos[k2]) - (min(pos[k1]) + t.activities[k1].minutes) > s:
            return None
    return pos


def _weeks_within_hours(problem: Problem, hours: float,
                        rules: Rules) -> Iterator[tuple[int, ...]]:
    """Sets of planned days that the weekly day and hour counts allow for shifts of ``hours``.

    Consecutive days only if the problem asks; the rest rules are the caller's to check.
    """
    n = problem.days
    if problem.consecutive_days:
        cands = [tuple(range(a, b)) for a in range(n) for b in range(a + 1, n + 1)]
    else:
        cands = [c for r in range(1, n + 1) for c in itertools.combinations(range(n), r)]
    for q in cands:
        week = hours * len(q)
        if len(q) > rules.max_days_per_week or week > rules.max_weekly_hours + _EPS:
            continue
        if week < rules.min_weekly_hours - _EPS:
            continue
        yield q


def _patterns(t: Template, problem: Problem, rules: Rules) -> list[tuple[int, ...]]:
    """The day patterns (planned days worked) the weekly rules allow for template ``t``."""
    cal = problem.cal
    out = []
    for q in _weeks_within_hours(problem, t.hours, rules):
        spans = sorted((cal[d] * 1440 + t.start_min, cal[d] * 1440 + t.start_min + t.hours * 60)
                       for d in q)
        if _longest_rest(spans) < rules.min_weekly_rest_hours * 60 - _EPS:
            continue
        if any(s2 - e1 < rules.min_daily_rest_hours * 60 - _EPS
               for (_, e1), (s2, _) in itertools.pairwise(spans)):
            continue
        out.append(q)
    return out


def _overlap(a0: float, a1: float, edges: np.ndarray, width: float) -> np.ndarray:
    """Share of each interval ``[edges[i], edges[i] + width)`` covered by ``[a0, a1)``."""
    return np.clip(np.minimum(a1, edges + width) - np.maximum(a0, edges), 0, None) / width


@dataclass
class _Built:
    """The programme's pieces, for one solve and its diagnosis."""

    groups: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    cols: int = 0
    n_col: list[int] = field(default_factory=list)
    b_cols: list[list[list[int]]] = field(default_factory=list)
    """Per group, per activity: the columns of its positions."""
    positions: list[list[tuple[float, ...]]] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    """Templates left out, by the rule that left them out."""


def _build(problem: Problem, rules: Rules):
    """Objective, constraints, integrality and bounds of the programme (and its layout)."""
    req = np.asarray(problem.required, float)
    n_days, n_int = req.shape
    edges = problem.open_min + problem.interval_min * np.arange(n_int)
    width = problem.interval_min
    keep = 1.0 - problem.allowance
    lay = _Built()
    rows: list[tuple[int, int, float]] = []  # coverage entries (row = d * n_int + i, col)
    eq_rows: list[list[tuple[int, float]]] = []  # == 0
    ge_rows: list[list[tuple[int, float]]] = []  # >= 0
    part_row: list[tuple[int, float]] = []  # <= 0
    share = rules.max_part_time_share
    for ti, t in enumerate(problem.templates):
        why = _template_problem(t, rules)
        if why is not None:
            lay.dropped[why] = lay.dropped.get(why, 0) + 1
            continue
        pos = _stretch_positions(t, rules)
        pats = _patterns(t, problem, rules)
        if not pats:
            lay.dropped["weekly"] = lay.dropped.get("weekly", 0) + 1
            continue
        on = _overlap(t.start_min, t.start_min + t.hours * 60, edges, width) * keep
        first = int(np.argmax(on > 0)) if on.any() else None
        if first is not None and problem.login_loss_min > 0:
            on[first] = max(0.0, on[first] - problem.login_loss_min / width * keep)
        act_loss = [[_overlap(t.start_min + p, t.start_min + p + a.minutes, edges, width)
                     * keep * a.share for p in pos[k]] for k, a in enumerate(t.activities)]
        for q in pats:
            lay.groups.append((ti, q))
            nc = lay.cols
            lay.cols += 1
            lay.n_col.append(nc)
            hours = t.hours * len(q)
            lay.cost.append(hours + _PER_AGENT)
            if hours < rules.full_time_hours - _EPS:
                part_row.append((nc, 1.0 - share))
            else:
                part_row.append((nc, -share))
            cover = on.copy()
            bc: list[list[int]] = []
            for k in range(len(t.activities)):
                if problem.breaks == "stagger" or len(pos[k]) == 1:
                    cover = cover - np.mean(act_loss[k], axis=0)
                    bc.append([])
                    continue
                cols = list(range(lay.cols, lay.cols + len(pos[k])))
                lay.cols += len(pos[k])
                lay.cost += [0.0] * len(pos[k])
                bc.append(cols)
                eq_rows.append([(nc, -1.0), *[(c, 1.0) for c in cols]])
                for c, loss in zip(cols, act_loss[k], strict=True):
                    for i in np.nonzero(loss)[0]:
                        for d in q:
                            rows.append((d * n_int + i, c, -loss[i]))
            for i in np.nonzero(np.abs(cover) > 1e-12)[0]:
                for d in q:
                    rows.append((d * n_int + i, nc, cover[i]))
            lay.b_cols.append(bc)
            lay.positions.append([tuple(p) for p in pos])
            if problem.breaks != "stagger":
                ge_rows += _stretch_rows(t, pos, bc, nc, rules)
    return req, lay, rows, eq_rows, ge_rows, part_row


def _stretch_rows(t: Template, pos: list[tuple[float, ...]], bc: list[list[int]],
                  nc: int | list[int], rules: Rules) -> list[list[tuple[int, float]]]:
    """``#(k+1 by tau + m_k + S) - #(k by tau) >= 0`` for consecutive daily activities.

    ``nc``: the head-count column (or the columns whose sum is the head count).
    """
    s = rules.max_stretch_hours * 60 + _EPS
    daily = [k for k, a in enumerate(t.activities) if a.daily]
    out = []
    heads = [nc] if isinstance(nc, int) else list(nc)

    def count(k: int, upto: float) -> list[tuple[int, float]]:
        if not bc[k]:  # a fixed start: everyone or no one
            return [(c, 1.0) for c in heads] if pos[k][0] <= upto + _EPS else []
        return [(c, 1.0) for c, p in zip(bc[k], pos[k], strict=True) if p <= upto + _EPS]

    for k1, k2 in itertools.pairwise(daily):
        m = t.activities[k1].minutes
        for tau in pos[k1]:
            later = count(k2, tau + m + s)
            earlier = count(k1, tau)
            if not bc[k2] and later:  # a fixed start in reach: n - #(k by tau) >= 0 holds
                continue
            out.append([*later, *[(c, -v) for c, v in earlier]])
    return out


def _matrix(entries: list[tuple[int, int, float]], n_rows: int, n_cols: int) -> sparse.csr_array:
    if not entries:
        return sparse.csr_array((n_rows, n_cols))
    r, c, v = zip(*entries, strict=True)
    return sparse.csr_array((v, (r, c)), shape=(n_rows, n_cols))


def _rows(rows: list[list[tuple[int, float]]], n_cols: int) -> sparse.csr_array:
    return _matrix([(j, c, v) for j, row in enumerate(rows) for c, v in row], len(rows), n_cols)


_LOG: ContextVar[list[tuple[str, int]] | None] = ContextVar("ccsim_plan_solves", default=None)


@contextmanager
def _recording() -> Iterator[list[tuple[str, int]]]:
    """Collect (what stopped it, nodes) of every HiGHS solve inside, nested calls included."""
    outer = _LOG.get()
    if outer is not None:
        yield outer
        return
    log: list[tuple[str, int]] = []
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


def _worst(log: Sequence[tuple[str, int]]) -> str:
    """The worst stop in ``log`` (:data:`STOPS`)."""
    return max((s for s, _ in log), key=STOPS.index, default="finished")


def _logged(plan: Plan, log: Sequence[tuple[str, int]]) -> Plan:
    """``plan`` with what stopped its solves and the most nodes one took, from ``log``."""
    return dataclasses.replace(plan, stopped=_worst([*log, (plan.stopped, 0)]),
                               nodes=max([plan.nodes, *(n for _, n in log)]))


def _milp(cost: np.ndarray, cons: list[LinearConstraint], whole: np.ndarray, bounds: Bounds,
          *, gap: float, node_limit: int, time_limit: float):
    """:func:`scipy.optimize.milp` stopped by ``gap`` or ``node_limit``; ``time_limit``: net.

    The result gains ``stopped`` (:data:`STOPS`), also logged for :func:`_recording`.
    """
    res = milp(cost, constraints=cons, integrality=whole, bounds=bounds,
               options={"time_limit": time_limit, "node_limit": int(node_limit),
                        "mip_rel_gap": gap, "presolve": True})
    # scipy maps HiGHS's node limit (kSolutionLimit, 16) to its "other" status 4, so the
    # HiGHS status in the message tells the limits apart (13: kTimeLimit)
    m = re.search(r"HiGHS Status (\d+)", str(getattr(res, "message", "")))
    code = int(m.group(1)) if m else -1
    res.stopped = "time" if code == 13 else "nodes" if code in (14, 16) else "finished"
    log = _LOG.get()
    if log is not None:
        log.append((res.stopped, int(getattr(res, "mip_node_count", 0) or 0)))
    return res


def _refuse_unsolved(problem: Problem, rules: Rules, res, lay,
                     node_limit: int, time_limit: float) -> None:
    """Raise the plan's error when the programme gave no roster (else return).

    No template fits (``res`` is None), a limit stopped the search first, or the rule or
    interval that makes every roster impossible (:func:`_diagnose`).
    """
    if res is None:
        raise PlanError(_no_template(problem, lay))
    if res.x is None:
        if res.stopped != "finished":
            raise PlanError(_no_roster_in_limits(res, node_limit, time_limit))
        raise PlanError(_diagnose(problem, rules))


def _no_roster_in_limits(res, node_limit: int, time_limit: float) -> str:
    """A solve stopped by a limit before any roster: which limit and what to change."""
    if res.stopped == "time":
        return (f"no roster found within the wall-clock safety net (--time-limit "
                f"{time_limit:g} s); allow more time or fewer templates "
                "(labour.start_step_minutes)")
    return (f"no roster found within the node limit (--node-limit {node_limit}); allow more "
            "nodes or fewer templates (labour.start_step_minutes)")


def _solve_once(problem: Problem, rules: Rules, *, integral: bool = True,
                time_limit: float = TIME_LIMIT, gap: float = 1e-4,
                node_limit: int = NODE_LIMIT,
                objective: Callable[[_Built], tuple[np.ndarray, np.ndarray, np.ndarray]]
                | None = None, shortfall: float = 0.0):
    """One HiGHS solve: (result, layout, requirement).

    ``objective(layout)``: (cost, lower, upper bounds) per column instead of paid hours and
    ``[0, inf)`` (the recovery placement fixes the head counts and prices break starts).
    ``shortfall`` (above 0): coverage may fall short, by a column per interval (after the
    layout's columns) costing this much an agent: the least total shortfall.
    """
    req, lay, rows, eq_rows, ge_rows, part_row = _build(problem, rules)
    if lay.cols == 0:
        return None, lay, req
    cost, lower, upper = (np.asarray(lay.cost), 0, np.inf) if objective is None else \
        objective(lay)
    n_days, n_int = req.shape
    n_cov = n_days * n_int
    extra = n_cov if shortfall > 0 else 0
    cols = lay.cols + extra
    cov = _matrix(rows, n_cov, lay.cols)
    if shortfall > 0:
        cov = sparse.hstack([cov, sparse.eye_array(n_cov)], format="csr")
        cost = np.r_[np.broadcast_to(cost, lay.cols), np.full(n_cov, shortfall)]
        lower = np.r_[np.broadcast_to(lower, lay.cols), np.zeros(n_cov)]
        upper = np.r_[np.broadcast_to(upper, lay.cols), np.full(n_cov, np.inf)]
    cons = [LinearConstraint(cov, req.ravel() - 1e-7, np.inf)]
    if eq_rows:
        cons.append(LinearConstraint(_rows(eq_rows, cols), 0, 0))
    if ge_rows:
        cons.append(LinearConstraint(_rows(ge_rows, cols), 0, np.inf))
    if rules.max_part_time_share < 1.0 - _EPS:
        cons.append(LinearConstraint(_rows([part_row], cols), -np.inf, 0))
    if problem.max_agents is not None:
        cons.append(LinearConstraint(_rows([[(c, 1.0) for c in lay.n_col]], cols),
                                     0, problem.max_agents))
    whole = np.zeros(cols)
    if integral:
        whole[lay.n_col if not problem.integral_breaks else slice(0, lay.cols)] = 1
    res = _milp(cost, cons, whole, Bounds(lower, upper), gap=gap, node_limit=node_limit,
                time_limit=time_limit)
    return res, lay, req


def solve(problem: Problem, *, time_limit: float = TIME_LIMIT, gap: float = 1e-4,
          lp_bound: bool = True, node_limit: int = NODE_LIMIT) -> Plan:
    """The roster of fewest paid hours meeting ``problem`` (or a :class:`PlanError`).

    Each HiGHS solve stops within ``gap`` (relative MIP gap) or after ``node_limit``
    branch-and-bound nodes, both deterministic: the same problem gives the same roster on
    any machine. ``time_limit`` (seconds of wall clock) is only a safety net; the plan
    says the gap it proved, its nodes and what stopped it (``Plan.stopped``: "time" when
    the safety net did, so the roster depends on the machine's speed). ``lp_bound``: also
    solve the LP relaxation, the bound no roster under these rules can beat.
    """
    with _recording() as log:
        plan = _solve(problem, time_limit=time_limit, gap=gap, lp_bound=lp_bound,
                      node_limit=node_limit)
    return _logged(plan, log)


def _solve(problem: Problem, *, time_limit: float, gap: float, lp_bound: bool,
           node_limit: int) -> Plan:
    """:func:`solve` inside its recording."""
    import time

    if problem.tours:
        return _solve_tours(problem, time_limit=time_limit, gap=gap, lp_bound=lp_bound,
                            node_limit=node_limit)
    t0 = time.perf_counter()
    rules = problem.rules
    _check_coverable(problem, rules)
    res, lay, req = _solve_once(problem, rules, time_limit=time_limit, gap=gap,
                                node_limit=node_limit)
    _refuse_unsolved(problem, rules, res, lay, node_limit, time_limit)
    groups = _groups(problem, lay, res.x)
    if not problem.integral_breaks:
        groups = _whole_breaks(problem, groups, _fixed_heads(problem, groups), time_limit,
                               node_limit)
    if not problem.integral_breaks and check_roster(
            [w for g in groups for w in _weeks(g, problem)[:1]],
            dataclasses.replace(rules, max_part_time_share=1.0)):
        # rounding broke a stretch: solve again with whole break starts (exact)
        return _solve(dataclasses.replace(problem, integral_breaks=True),
                      time_limit=time_limit, gap=gap, lp_bound=lp_bound, node_limit=node_limit)
    cover = coverage(problem, groups)
    paid = sum(g.template.hours * len(g.days) * g.agents for g in groups)
    bound = math.nan
    if lp_bound:
        bound = _lp_value(problem, rules, time_limit)
    gap_found = float(getattr(res, "mip_gap", 0.0) or 0.0)
    return Plan(groups, float(paid), cover, req, bound, gap_found,
                time.perf_counter() - t0, lay.cols, _nodes(res))


def _nodes(res) -> int:
    """Branch-and-bound nodes of a HiGHS result."""
    return int(getattr(res, "mip_node_count", 0) or 0)


def solve_within(problem: Problem, plan: Plan, *, time_limit: float = TIME_LIMIT,
                 gap: float = 1e-4, lp_bound: bool = True,
                 node_limit: int = NODE_LIMIT) -> Plan:
    """The fewest paid hours meeting ``problem`` with a subset of ``plan``'s agents.

    Each (template, day pattern)'s head count is at most ``plan``'s, breaks placed again:
    a roster that only drops agents, so where the requirement did not fall coverage stays
    as it was (a fresh :func:`solve` of a slightly lower requirement may move every shift
    and break, and the simulation's misses with them). ``plan`` must meet a requirement at
    least ``problem``'s, so the programme is feasible. ``lp_bound``: the LP bound of
    ``problem`` without the subset limit (no roster under these rules can pay fewer).
    """
    if problem.tours:
        raise ValueError("solve_within keeps one start per agent: use tours=False")
    with _recording() as log:
        out = _solve_within(problem, plan, time_limit=time_limit, gap=gap, lp_bound=lp_bound,
                            node_limit=node_limit)
    return _logged(out, log)


def _solve_within(problem: Problem, plan: Plan, *, time_limit: float, gap: float,
                  lp_bound: bool, node_limit: int) -> Plan:
    """:func:`solve_within` inside its recording."""
    import time

    t0 = time.perf_counter()
    counts: dict[tuple[Template, tuple[int, ...]], int] = {}
    for g in plan.groups:
        counts[g.template, g.days] = counts.get((g.template, g.days), 0) + g.agents

    def objective(lay: _Built) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hi = np.full(lay.cols, np.inf)
        for gi, (ti, q) in enumerate(lay.groups):
            hi[lay.n_col[gi]] = counts.get((problem.templates[ti], q), 0)
        return np.asarray(lay.cost, float), np.zeros(lay.cols), hi

    res, lay, req = _solve_once(problem, problem.rules, time_limit=time_limit, gap=gap,
                                objective=objective, node_limit=node_limit)
    if res is None or res.x is None:
        raise PlanError("no subset of the roster meets the requirement (it must meet one at "
                        "least as high)")
    groups = _groups(problem, lay, res.x)
    if not problem.integral_breaks:
        groups = _whole_breaks(problem, groups, _fixed_heads(problem, groups), time_limit,
                               node_limit)
        if check_roster([w for g in groups for w in _weeks(g, problem)[:1]],
                        dataclasses.replace(problem.rules, max_part_time_share=1.0)):
            return _solve_within(dataclasses.replace(problem, integral_breaks=True), plan,
                                 time_limit=time_limit, gap=gap, lp_bound=lp_bound,
                                 node_limit=node_limit)
    paid = sum(g.template.hours * len(g.days) * g.agents for g in groups)
    bound = _lp_value(problem, problem.rules, time_limit) if lp_bound else math.nan
    return Plan(groups, float(paid), coverage(problem, groups), req, bound,
                float(getattr(res, "mip_gap", 0.0) or 0.0), time.perf_counter() - t0, lay.cols,
                _nodes(res))


def _fixed_heads(problem: Problem, groups: Sequence[Group],
                 price: Callable[[_Built, int, int], np.ndarray] | None = None
                 ) -> Callable[[_Built], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """An objective for :func:`_solve_once` fixing each (template, pattern)'s head count.

    ``price(layout, group, activity)``: the cost of each of the activity's starts (none: 0).
    """
    counts: dict[tuple[Template, tuple[int, ...]], int] = {}
    for g in groups:
        counts[g.template, g.days] = counts.get((g.template, g.days), 0) + g.agents

    def objective(lay: _Built) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cost, lo, hi = np.zeros(lay.cols), np.zeros(lay.cols), np.full(lay.cols, np.inf)
        for gi, (ti, q) in enumerate(lay.groups):
            lo[lay.n_col[gi]] = hi[lay.n_col[gi]] = counts.get((problem.templates[ti], q), 0)
            if price is not None:
                for k, cols in enumerate(lay.b_cols[gi]):
                    if cols:
                        cost[cols] = price(lay, gi, k)
        return cost, lo, hi

    return objective


def _whole_breaks(problem: Problem, groups: list[Group],
                  objective: Callable[[_Built], tuple[np.ndarray, np.ndarray, np.ndarray]],
                  time_limit: float, node_limit: int = NODE_LIMIT) -> list[Group]:
    """``groups`` with whole break starts of the least coverage shortfall, if no worse.

    Rounding each activity's cumulative counts (:func:`_whole`) can leave intervals a
    fraction of an agent short where the programme had them covered (on base's week 25 of
    120 intervals, 2.2 agents in all); with the head counts fixed, a small programme in
    whole break starts finds the placement of least total shortfall (0.2 agents there, in
    a fraction of a second), within the stretch rule. Kept only when it falls less short.
    """
    whole = dataclasses.replace(problem, integral_breaks=True)
    res, lay, req = _solve_once(whole, problem.rules, integral=True, gap=1e-3,
                                time_limit=time_limit, node_limit=node_limit,
                                objective=objective, shortfall=1000.0)
    if res is None or res.x is None:
        return groups
    better = _groups(whole, lay, res.x[:lay.cols])

    def short(gs: list[Group]) -> float:
        return float(np.clip(req - coverage(problem, gs), 0, None).sum())

    return better if short(better) <= short(groups) + 1e-9 else groups


def _whole(frac: np.ndarray, n: int) -> np.ndarray:
    """Whole counts per position summing to ``n``: the cumulative counts rounded."""
    cum = np.rint(np.cumsum(np.clip(frac, 0, None)) - 1e-9)
    cum = np.minimum(np.maximum.accumulate(cum), n)
    cum[-1] = n
    return np.diff(np.r_[0.0, cum]).astype(int)


def _groups(problem: Problem, lay: _Built, x: np.ndarray) -> list[Group]:
    """Split each (template, pattern) into groups of agents with the same activity starts."""
    xf = x
    x = np.round(x).astype(int)
    out: list[Group] = []
    for gi, (ti, q) in enumerate(lay.groups):
        n = int(x[lay.n_col[gi]])
        if n <= 0:
            continue
        t = problem.templates[ti]
        per_act = []
        for k in range(len(t.activities)):
            cols = lay.b_cols[gi][k]
            pos = lay.positions[gi][k]
            if not cols:
                if problem.breaks == "stagger" and len(pos) > 1:  # the even stagger
                    j = np.arange(n)
                    idx = np.floor(j * (len(pos) - 1) / max(n - 1, 1) + 1e-9).astype(int)
                    per_act.append([pos[i] for i in idx] if n > 1 else [pos[0]])
                else:
                    per_act.append([pos[0]] * n)
                continue
            counts = _whole(xf[cols], n)
            seq = [p for p, c in zip(pos, counts, strict=True) for _ in range(int(c))]
            per_act.append(seq)
        combos: dict[tuple[float, ...], int] = {}
        for j in range(n):
            key = tuple(seq[j] for seq in per_act)
            combos[key] = combos.get(key, 0) + 1
        for key, c in combos.items():
            out.append(Group(t, q, c, key))
    return out


def coverage(problem: Problem, groups: Sequence[Group]) -> np.ndarray:
    """Expected agents on queue per planned day and interval (after the allowance)."""
    n_days, n_int = problem.required.shape
    edges = problem.open_min + problem.interval_min * np.arange(n_int)
    width, keep = problem.interval_min, 1.0 - problem.allowance
    out = np.zeros((n_days, n_int))
    for g in groups:
        t = g.template
        for d in g.days:
            start, offsets = g.day(d)
            on = _overlap(start, start + t.hours * 60, edges, width)
            if on.any() and problem.login_loss_min > 0:
                f = int(np.argmax(on > 0))
                on[f] = max(0.0, on[f] - problem.login_loss_min / width)
            for a, off in zip(t.activities, offsets, strict=True):
                on = on - a.share * _overlap(start + off, start + off + a.minutes, edges,
                                             width)
            out[d] += g.agents * on * keep
    return out


# --------------------------------------------------------------------------- tours


@dataclass(frozen=True)
class _Family:
    """Templates alike but for their start: a length, its activities, its allowed starts."""

    hours: float
    activities: tuple[Activity, ...]
    starts: tuple[float, ...]
    positions: list[tuple[float, ...]]
    """Each activity's positions that the stretch rule's first and last stretch allow."""

    def template(self, start: float) -> Template:
        """The template starting at ``start``."""
        return Template(start, self.hours, self.activities)


def _families(problem: Problem, rules: Rules, dropped: dict[str, int]) -> list[_Family]:
    """The allowed templates grouped by length and activities (``dropped``: by rule)."""
    by: dict[tuple[float, tuple[Activity, ...]], list[float]] = {}
    first: dict[tuple[float, tuple[Activity, ...]], Template] = {}
    for t in problem.templates:
        why = _template_problem(t, rules)
        if why is not None:
            dropped[why] = dropped.get(why, 0) + 1
            continue
        key = (t.hours, t.activities)
        by.setdefault(key, []).append(t.start_min)
        first.setdefault(key, t)
    out = []
    for key, starts in by.items():
        pos = _stretch_positions(first[key], rules)
        out.append(_Family(key[0], key[1], tuple(sorted(set(starts))), pos))
    return out


def _cyclic_pairs(cal: Sequence[int], q: Sequence[int]) -> list[tuple[int, int, int]]:
    """(day, next day worked, calendar days between) for a pattern, the week repeating."""
    days = sorted(q, key=lambda d: cal[d])
    if len(days) < 2:
        return [(days[0], days[0], 7)] if days else []
    out = []
    for j, d in enumerate(days):
        nxt = days[(j + 1) % len(days)]
        out.append((d, nxt, (cal[nxt] - cal[d]) % 7 or 7))
    return out


def _tour_patterns(f: _Family, problem: Problem, rules: Rules) -> list[tuple[int, ...]]:
    """Day patterns the weekly rules allow for family ``f`` whatever the daily starts.

    Weekly hours and days as for one start; the 35-hour weekly rest is kept for every
    choice of starts (some gap between working days keeps it with the latest end before it
    and the earliest start after it: conservative where starts could be chosen to keep it);
    the 11-hour daily rest must be possible between consecutive days (the programme's
    rest rows then keep it for the starts chosen).
    """
    cal = problem.cal
    length = f.hours * 60
    lo, hi = min(f.starts), max(f.starts)
    out = []
    for q in _weeks_within_hours(problem, f.hours, rules):
        pairs = _cyclic_pairs(cal, q)
        worst = max(g * 1440 + lo - (hi + length) for _, _, g in pairs)
        if worst < rules.min_weekly_rest_hours * 60 - _EPS:
            continue
        if any(g * 1440 + hi - (lo + length) < rules.min_daily_rest_hours * 60 - _EPS
               for d1, d2, g in pairs if d1 != d2):
            continue
        out.append(q)
    return out


@dataclass
class _TourBuilt:
    """The tour programme's pieces."""

    fams: list[_Family] = field(default_factory=list)
    tours: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    """(family, pattern) of each tour type."""
    n_col: list[int] = field(default_factory=list)
    y_col: dict[tuple[int, int, int], int] = field(default_factory=dict)
    """(tour type, planned day, start index) -> column: its agents starting there that day;
    a family whose starts are not per tour type has them under ``-1 - family``."""
    per_tour: dict[int, bool] = field(default_factory=dict)
    """Family -> whether its starts are per tour type (the daily rest binds)."""
    b_cols: dict[tuple[int, int, int], list[list[int]]] = field(default_factory=dict)
    """(family, planned day, start index) -> per activity, the columns of its positions."""
    cols: int = 0
    cost: list[float] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    rows: list[tuple[int, int, float]] = field(default_factory=list)
    eq_rows: list[list[tuple[int, float]]] = field(default_factory=list)
    ge_rows: list[list[tuple[int, float]]] = field(default_factory=list)
    part_row: list[tuple[int, float]] = field(default_factory=list)

    def new(self, n: int, cost: float = 0.0) -> list[int]:
        """``n`` new columns costing ``cost`` each."""
        c = list(range(self.cols, self.cols + n))
        self.cols += n
        self.cost += [cost] * n
        return c


def _build_tours(problem: Problem, rules: Rules) -> _TourBuilt:
    """The tour programme: head counts per tour type, starts per day, breaks per day.

    Columns: ``n[f, q]`` agents of family ``f`` (a length and its activities) on day
    pattern ``q`` (whole; paid ``hours x |q|``); ``y[f, q, d, s]`` of them starting at ``s``
    on day ``d`` of ``q`` (whole; ``sum_s y = n`` each day); ``b[f, d, s, k, p]`` agents of
    ``f`` starting at ``s`` on day ``d`` (whatever their pattern) taking activity ``k`` at
    position ``p`` (``sum_p b = sum_q y``). Breaks belong to the day's shift, not the
    tour, which keeps the programme small. Daily rest between days ``d1``, ``d2`` worked
    ``g`` calendar days apart: an agent starting at ``s1`` may start at ``s2`` only if
    ``s1 <= s2 + D`` (``D = g x 24 h - length - rest``); the starts of the two days can be
    paired so iff for every start ``sigma`` ``#(d2 by sigma) <= #(d1 by sigma + D)`` (Hall's
    condition on nested sets), a linear row. Pairing each day's starts in sorted order meets
    every such pair at once, so whole ``y`` always make legal weeks (:func:`_tour_groups`).
    """
    req = np.asarray(problem.required, float)
    n_days, n_int = req.shape
    edges = problem.open_min + problem.interval_min * np.arange(n_int)
    width = problem.interval_min
    keep = 1.0 - problem.allowance
    lay = _TourBuilt()
    share = rules.max_part_time_share
    rest = rules.min_daily_rest_hours * 60
    lay.fams = _families(problem, rules, lay.dropped)
    for fi, f in enumerate(lay.fams):
        pats = _tour_patterns(f, problem, rules)
        if not pats:
            lay.dropped["weekly"] = lay.dropped.get("weekly", 0) + len(f.starts)
            continue
        length = f.hours * 60
        pos = f.positions
        on, loss = [], []
        for s in f.starts:
            o = _overlap(s, s + length, edges, width) * keep
            if o.any() and problem.login_loss_min > 0:
                i0 = int(np.argmax(o > 0))
                o[i0] = max(0.0, o[i0] - problem.login_loss_min / width * keep)
            ls = [[_overlap(s + p, s + p + a.minutes, edges, width) * keep * a.share
                   for p in pos[k]] for k, a in enumerate(f.activities)]
            for k in range(len(f.activities)):  # staggered or fixed: the mean loss
                if problem.breaks == "stagger" or len(pos[k]) == 1:
                    o = o - np.mean(ls[k], axis=0)
            on.append(o)
            loss.append(ls)
        heads: dict[tuple[int, int], list[int]] = {}

        def starts_of(key: int, d: int, heads: dict = heads, f: _Family = f,
                      on: list = on) -> list[int]:
            ys = lay.new(len(f.starts))
            for si, c in enumerate(ys):
                lay.y_col[key, d, si] = c
                heads.setdefault((d, si), []).append(c)
                for i in np.nonzero(np.abs(on[si]) > 1e-12)[0]:
                    lay.rows.append((d * n_int + i, c, on[si][i]))
            return ys

        # the daily rest binds some pair of days: starts per tour type (the rest rows);
        # else per family and day, whatever the pattern (fewer whole columns, as exact)
        span = f.starts[-1] - f.starts[0] - _EPS
        per_tour = any(g * 1440 - length - rest < span for q in pats
                       for d1, d2, g in _cyclic_pairs(problem.cal, q) if d1 != d2)
        lay.per_tour[fi] = per_tour
        working: dict[int, list[int]] = {}
        for q in pats:
            ti = len(lay.tours)
            lay.tours.append((fi, q))
            (nc,) = lay.new(1, f.hours * len(q) + _PER_AGENT)
            lay.n_col.append(nc)
            full = f.hours * len(q) >= rules.full_time_hours - _EPS
            lay.part_row.append((nc, -share if full else 1.0 - share))
            for d in q:
                working.setdefault(d, []).append(nc)
                if per_tour:
                    ys = starts_of(ti, d)
                    lay.eq_rows.append([(nc, -1.0), *[(c, 1.0) for c in ys]])
            if not per_tour:
                continue
            for d1, d2, g in _cyclic_pairs(problem.cal, q):
                if d1 == d2:
                    continue
                slack = g * 1440 - length - rest  # s1 <= s2 + slack
                if slack >= f.starts[-1] - f.starts[0] - _EPS:
                    continue
                for j, sigma in enumerate(f.starts):
                    later = [lay.y_col[ti, d2, k] for k in range(j + 1)]
                    earlier = [lay.y_col[ti, d1, k] for k, s1 in enumerate(f.starts)
                               if s1 <= sigma + slack + _EPS]
                    if len(earlier) == len(f.starts):
                        continue
                    lay.ge_rows.append([*[(c, 1.0) for c in earlier],
                                        *[(c, -1.0) for c in later]])
        if not per_tour:
            for d, ncs in working.items():
                ys = starts_of(-1 - fi, d)
                lay.eq_rows.append([*[(c, -1.0) for c in ncs], *[(c, 1.0) for c in ys]])
        for (d, si), ys in heads.items():
            bc: list[list[int]] = []
            for k in range(len(f.activities)):
                if problem.breaks == "stagger" or len(pos[k]) == 1:
                    bc.append([])
                    continue
                cols = lay.new(len(pos[k]))
                bc.append(cols)
                lay.eq_rows.append([*[(c, -1.0) for c in ys], *[(c, 1.0) for c in cols]])
                for c, ls in zip(cols, loss[si][k], strict=True):
                    for i in np.nonzero(ls)[0]:
                        lay.rows.append((d * n_int + i, c, -ls[i]))
            lay.b_cols[fi, d, si] = bc
            if problem.breaks != "stagger":
                lay.ge_rows += _stretch_rows(f.template(f.starts[si]), pos, bc, ys, rules)
    return lay


def _solve_tours_once(problem: Problem, rules: Rules, *, integral: bool = True,
                      time_limit: float = TIME_LIMIT, gap: float = 1e-4,
                      node_limit: int = NODE_LIMIT,
                      fixed: np.ndarray | None = None, shortfall: float = 0.0,
                      whole_breaks: bool | None = None):
    """One HiGHS solve of the tour programme: (result, layout, requirement).

    ``fixed``: values for the head and start columns (``n``, ``y``; NaN elsewhere), held
    there (the whole-break repair). ``shortfall`` (above 0): coverage may fall short by a
    column per interval costing this much an agent, and the objective is the shortfall
    alone (paid hours are fixed then). ``whole_breaks``: break columns whole (default:
    ``problem.integral_breaks``).
    """
    lay = _build_tours(problem, rules)
    req = np.asarray(problem.required, float)
    if lay.cols == 0 or not lay.tours:
        return None, lay, req
    n_days, n_int = req.shape
    n_cov = n_days * n_int
    cost = np.asarray(lay.cost, float)
    lower, upper = np.zeros(lay.cols), np.full(lay.cols, np.inf)
    heads = np.zeros(lay.cols, bool)
    heads[lay.n_col] = True
    heads[list(lay.y_col.values())] = True
    if fixed is not None:
        hold = ~np.isnan(fixed)
        lower[hold] = upper[hold] = fixed[hold]
    cov = _matrix(lay.rows, n_cov, lay.cols)
    cols = lay.cols
    if shortfall > 0:
        cov = sparse.hstack([cov, sparse.eye_array(n_cov)], format="csr")
        cost = np.r_[np.zeros(lay.cols), np.full(n_cov, shortfall)]
        lower, upper = np.r_[lower, np.zeros(n_cov)], np.r_[upper, np.full(n_cov, np.inf)]
        cols += n_cov
    cons = [LinearConstraint(cov, req.ravel() - 1e-7, np.inf)]
    if lay.eq_rows:
        cons.append(LinearConstraint(_rows(lay.eq_rows, cols), 0, 0))
    if lay.ge_rows:
        cons.append(LinearConstraint(_rows(lay.ge_rows, cols), 0, np.inf))
    if rules.max_part_time_share < 1.0 - _EPS:
        cons.append(LinearConstraint(_rows([lay.part_row], cols), -np.inf, 0))
    if problem.max_agents is not None:
        cons.append(LinearConstraint(_rows([[(c, 1.0) for c in lay.n_col]], cols),
                                     0, problem.max_agents))
    whole = np.zeros(cols)
    if integral:
        whole[:lay.cols] = 1.0 if (problem.integral_breaks if whole_breaks is None
                                   else whole_breaks) else heads
    res = _milp(cost, cons, whole, Bounds(lower, upper), gap=gap, node_limit=node_limit,
                time_limit=time_limit)
    return res, lay, req


def _stagger(pos: tuple[float, ...], n: int) -> list[float]:
    """The published even stagger of ``n`` agents over positions ``pos``."""
    if n <= 1 or len(pos) == 1:
        return [pos[0]] * n
    idx = np.floor(np.arange(n) * (len(pos) - 1) / (n - 1) + 1e-9).astype(int)
    return [pos[i] for i in idx]


def _tour_groups(problem: Problem, lay: _TourBuilt, x: np.ndarray) -> list[Group]:
    """Agents of whole tours: each day's starts paired in sorted order, breaks per day.

    Sorted pairing keeps every daily-rest pair the rows allowed (:func:`_build_tours`);
    each day's agents of one start take that start's break placements (whole counts of the
    cumulative break columns, activities paired in sorted order; the stagger evenly).
    Agents alike all week make one group.
    """
    xr = np.round(x).astype(int)
    pools: dict[tuple[int, int, int], list[tuple[float, ...]]] = {}
    for (fi, d, si), bc in lay.b_cols.items():
        f = lay.fams[fi]
        keys = [ti for ti, (gf, q) in enumerate(lay.tours) if gf == fi and d in q] \
            if lay.per_tour[fi] else [-1 - fi]
        n = sum(int(xr[lay.y_col[k, d, si]]) for k in keys)
        if n <= 0:
            continue
        seqs = []
        for k, cols in enumerate(bc):
            pos = f.positions[k]
            if cols:
                counts = _whole(x[cols], n)
                seqs.append([p for p, c in zip(pos, counts, strict=True) for _ in range(c)])
            elif problem.breaks == "stagger":
                seqs.append(_stagger(pos, n))
            else:
                seqs.append([pos[0]] * n)
        pools[fi, d, si] = [tuple(seq[j] for seq in seqs) for j in range(n)]
    def seq(key: int, d: int, n: int, fi: int) -> list[int]:
        """Start indices of ``n`` agents on day ``d``, sorted (whole columns sum to n)."""
        out = [si for si in range(len(lay.fams[fi].starts))
               for _ in range(int(xr[lay.y_col[key, d, si]]))]
        return out[:n] + [out[-1] if out else 0] * (n - len(out))

    # each agent's start index per day: sorted pairing within a tour type (per tour), or
    # the family's day's starts dealt to its agents working that day (rest not binding)
    start_of: dict[tuple[int, int, int], int] = {}
    for fi in range(len(lay.fams)):
        types = [(ti, q) for ti, (gf, q) in enumerate(lay.tours) if gf == fi]
        days = sorted({d for _, q in types for d in q})
        for d in days:
            if lay.per_tour.get(fi):
                for ti, q in types:
                    if d in q:
                        n = int(xr[lay.n_col[ti]])
                        for j, si in enumerate(seq(ti, d, n, fi)):
                            start_of[ti, j, d] = si
            else:
                agents = [(ti, j) for ti, q in types if d in q
                          for j in range(int(xr[lay.n_col[ti]]))]
                for (ti, j), si in zip(agents, seq(-1 - fi, d, len(agents), fi), strict=True):
                    start_of[ti, j, d] = si
    taken: dict[tuple[int, int, int], int] = {}
    alike: dict[tuple[int, tuple[int, ...], tuple], int] = {}
    for ti, (fi, q) in enumerate(lay.tours):
        n = int(xr[lay.n_col[ti]])
        if n <= 0:
            continue
        f = lay.fams[fi]
        for j in range(n):
            week = []
            for d in q:
                si = start_of[ti, j, d]
                k = taken.get((fi, d, si), 0)
                taken[fi, d, si] = k + 1
                pool = pools.get((fi, d, si)) or [tuple(p[0] for p in f.positions)]
                week.append((d, f.starts[si], pool[min(k, len(pool) - 1)]))
            key = (fi, q, tuple(week))
            alike[key] = alike.get(key, 0) + 1
    out = []
    for (fi, q, week), c in alike.items():
        f = lay.fams[fi]
        _, s0, off0 = week[0]
        out.append(Group(f.template(s0), q, c, off0, {d: (s, off) for d, s, off in week}))
    return out


def _solve_tours(problem: Problem, *, time_limit: float, gap: float, lp_bound: bool,
                 node_limit: int) -> Plan:
    """:func:`solve` for ``problem.tours``: the tour programme, breaks made whole after."""
    import time

    t0 = time.perf_counter()
    rules = problem.rules
    _check_coverable(problem, rules)
    res, lay, req = _solve_tours_once(problem, rules, time_limit=time_limit, gap=gap,
                                      node_limit=node_limit)
    _refuse_unsolved(problem, rules, res, lay, node_limit, time_limit)
    x = res.x
    if not problem.integral_breaks and any(c for bc in lay.b_cols.values() for c in bc):
        # whole break starts of the least shortfall with the heads and starts held
        fixed = np.full(lay.cols, np.nan)
        for c in [*lay.n_col, *lay.y_col.values()]:
            fixed[c] = round(x[c])
        r2, _, _ = _solve_tours_once(problem, rules, time_limit=time_limit,
                                     node_limit=node_limit, gap=1e-3, fixed=fixed,
                                     shortfall=1000.0, whole_breaks=True)
        if r2 is not None and r2.x is not None:
            cand = r2.x[:lay.cols]
            short = [float(np.clip(req - coverage(problem, _tour_groups(problem, lay, v)),
                                   0, None).sum()) for v in (x, cand)]
            if short[1] <= short[0] + 1e-9:
                x = cand
    groups = _tour_groups(problem, lay, x)
    paid = sum(g.template.hours * len(g.days) * g.agents for g in groups)
    bound = _lp_value(problem, rules, time_limit) if lp_bound else math.nan
    found = float(getattr(res, "mip_gap", 0.0) or 0.0)
    if res.stopped != "finished" and found > 2 * gap + 1e-9:
        # stopped at its node limit (or the safety net) far short of the gap asked (the
        # two-step's staggered set covering, all whole, is the hard case): one start all
        # week is a subset of the tours, so its roster is one the tours allow; keep
        # whichever pays fewer hours. Decided on the node limit, so on any machine alike
        one = _solve(dataclasses.replace(problem, tours=False), time_limit=time_limit,
                     gap=gap, lp_bound=False, node_limit=node_limit)
        if one.paid_hours < paid - 1e-9:
            return Plan(one.groups, one.paid_hours, one.coverage, req, bound,
                        (one.paid_hours - bound) / one.paid_hours if lp_bound else one.gap,
                        time.perf_counter() - t0, lay.cols, max(_nodes(res), one.nodes))
    return Plan(groups, float(paid), coverage(problem, groups), req, bound, found,
                time.perf_counter() - t0, lay.cols, _nodes(res))


# --------------------------------------------------------------------------- diagnosis


def _check_coverable(problem: Problem, rules: Rules) -> None:
    """An interval that needs agents but lies outside every allowed shift: name it."""
    req = problem.required
    if not np.all(np.isfinite(req)) or (req < 0).any():
        raise PlanError("required agents must be finite and >= 0")
    n_int = req.shape[1]
    edges = problem.open_min + problem.interval_min * np.arange(n_int)
    usable = [t for t in problem.templates if _template_problem(t, rules) is None]
    reach = np.zeros(n_int)
    for t in usable:
        reach += _overlap(t.start_min, t.start_min + t.hours * 60, edges, problem.interval_min)
    for d, i in zip(*np.nonzero((req > 0) & (reach[None, :] <= 0)), strict=True):
        if usable:
            raise PlanError(
                f"{problem.interval_label(d, i)} needs {req[d, i]:g} agents on queue but no "
                "allowed shift covers it (shifts start from the opening time every "
                "labour.start_step_minutes and last labour.shift_hours)")
    if problem.max_agents is not None:
        worst = np.unravel_index(np.argmax(req), req.shape)
        if req[worst] > problem.max_agents:
            raise PlanError(f"{problem.interval_label(*worst)} needs {req[worst]:g} agents on "
                            f"queue, more than the {problem.max_agents} agents allowed in all")


def _no_template(problem: Problem, lay: _Built) -> str:
    """Every template was ruled out: by which rules."""
    parts = []
    for why, n in sorted(lay.dropped.items(), key=lambda kv: -kv[1]):
        if why == "weekly":
            parts.append(f"{n} by the weekly rules (no day pattern keeps labour."
                         "max_weekly_hours, min_weekly_hours, max_days_per_week and the "
                         "rests together)")
        else:
            parts.append(f"{n} by {RULES[why][1]} ({RULES[why][0]})")
    return ("no shift template is allowed: of the "
            f"{len(problem.templates)} templates, " + "; ".join(parts)
            + "; relax that rule or add templates (labour.shift_hours)")


def _diagnose(problem: Problem, rules: Rules) -> str:
    """No roster exists: the rule whose relaxation alone makes one, else the interval."""
    for rule in RULES:
        if getattr(rules, rule) == _RELAXED[rule]:
            continue
        once = _solve_tours_once if problem.tours else _solve_once
        res, _, _ = once(problem, rules.relaxed(rule), integral=False, time_limit=30)
        if res is not None and res.x is not None:
            what, name = RULES[rule]
            return (f"no roster meets the requirement under {name} = {getattr(rules, rule):g}"
                    f" ({what}); without that rule one exists: relax it or change the "
                    "templates")
    req = problem.required
    d, i = np.unravel_index(np.argmax(req), req.shape)
    return (f"no roster meets the requirement even with any one rule relaxed; the highest "
            f"need is {req[d, i]:g} agents at {problem.interval_label(d, i)}"
            + ("" if problem.max_agents is None else
               f" with at most {problem.max_agents} agents in all"))


# --------------------------------------------------------------------------- rule costs


@dataclass(frozen=True)
class RuleCost:
    """Paid hours with a rule and without it (the roster, and the LP relaxation)."""

    rule: str
    field: str
    what: str
    with_rule: float
    without: float
    lp_with: float = math.nan
    lp_without: float = math.nan
    stopped: str = "finished"
    """What stopped the worst of its solves (:data:`STOPS`; "time": the machine's speed)."""

    @property
    def cost(self) -> float:
        """Paid hours the rule adds to the roster (0: it does not bind)."""
        return self.with_rule - self.without

    @property
    def lp_cost(self) -> float:
        """What it adds to the LP bound: exact for the relaxation, free of solver tolerance."""
        return self.lp_with - self.lp_without


def rule_costs(problem: Problem, paid_hours: float, *, time_limit: float = TIME_LIMIT,
               gap: float = 1e-3, rules: Sequence[str] | None = None,
               node_limit: int = NODE_LIMIT, workers: int | None = None,
               solved: Plan | None = None) -> list[RuleCost]:
    """Paid hours without each rule, re-solved on the same requirement, beside ``paid_hours``.

    Each rule is switched off alone (the others kept) and the programme solved again; a
    rule that does not bind costs 0. ``gap``: each re-solve stops within this relative gap,
    so a cost smaller than ``gap * paid_hours`` is within the solver's tolerance.
    ``workers``: rules priced at once in threads (HiGHS releases the GIL while it solves;
    default: the machine's cores); each solve is the same whatever the number, so the
    prices are too. ``solved``: the roster ``paid_hours`` is of, if :func:`solve` made it
    from ``problem`` with these ``gap``, ``node_limit`` and ``time_limit``; a tour
    programme that switching a rule off leaves exactly as it is (on base's week, 9 rules of
    11) is then not solved again: the same programme gives the same roster, so the rule
    costs 0 and its LP bound is the same (exact, where a re-solve took 7 CPU-s each on the
    150-agent week).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    with _recording() as log:
        lp_with = _lp_value(problem, problem.rules, time_limit)
    first = _worst(log)
    # the tour solve reads its rules only through the programme (_build_tours) unless a
    # limit stopped it short (then the one-start fallback, which also checks the rounded
    # roster against the rules): so only a solve that finished may stand for another
    same = None
    if solved is not None and problem.tours and solved.stopped == "finished":
        same = _programme(problem, problem.rules)

    def price(rule: str) -> RuleCost:
        if getattr(problem.rules, rule) == _RELAXED[rule] or (
                same is not None and _programme(problem, problem.rules.relaxed(rule)) == same):
            return RuleCost(rule, RULES[rule][1], RULES[rule][0], paid_hours, paid_hours,
                            lp_with, lp_with, first)
        relaxed = problem.rules.relaxed(rule)
        p = dataclasses.replace(problem, rules=relaxed)
        with _recording() as log:  # a ContextVar: each thread records its own solves
            try:
                plan = solve(p, time_limit=time_limit, gap=gap, lp_bound=False,
                             node_limit=node_limit)
                without = min(plan.paid_hours, paid_hours)
            except PlanError:
                without = paid_hours
            lp_without = _lp_value(problem, relaxed, time_limit)
        return RuleCost(rule, RULES[rule][1], RULES[rule][0], paid_hours, without,
                        lp_with, lp_without, _worst([*log, (first, 0)]))

    names = list(rules or RULES)
    n = max(1, min(len(names), workers or os.cpu_count() or 1))
    if n == 1:
        return [price(r) for r in names]
    with ThreadPoolExecutor(n, thread_name_prefix="ccsim-price") as pool:
        return list(pool.map(price, names))


def _programme(problem: Problem, rules: Rules) -> dict[str, Any]:
    """Everything of the tour programme under ``rules`` that a solve and its roster read."""
    lay = _build_tours(problem, rules)
    return {k: v for k, v in vars(lay).items() if k != "dropped"}


def _lp_value(problem: Problem, rules: Rules, time_limit: float) -> float:
    """Paid hours of the LP relaxation under ``rules`` (NaN: infeasible)."""
    if problem.tours:
        res, tl, _ = _solve_tours_once(problem, rules, integral=False, time_limit=time_limit)
        if res is None or res.x is None:
            return math.nan
        return float(res.fun - _PER_AGENT * res.x[tl.n_col].sum())
    res, lay, _ = _solve_once(problem, rules, integral=False, time_limit=time_limit)
    if res is None or res.x is None:
        return math.nan
    return float(res.fun - _PER_AGENT * res.x[lay.n_col].sum())


# --------------------------------------------------------------------------- recovery


@dataclass(frozen=True)
class Recovery:
    """The stress law's recovery dynamics (``[stress]``, docs/stress.md) for placing breaks.

    Acute strain rises toward ``load x tau_work`` while an agent works and decays with
    ``tau_break`` on a break or lunch (no load). A day starts close to zero (the night's
    rest decays strain with ``tau_off``, 4.2 h: about 2% is left after 16 h), and the law is
    linear, so the size of the load scales every placement's strain alike: which placement
    has the least mean strain does not depend on it, and a unit load (1 an hour) is used.
    Meetings and training count as work (their load is small, and they are at fixed starts).
    """

    tau_work_min: float = 120.0
    tau_break_min: float = 60.0


def day_strain(length_min: float, rests: Sequence[tuple[float, float]],
               recovery: Recovery = Recovery()) -> tuple[float, float]:
    """(mean, end) acute strain of a shift at a unit load, rests ``(start, minutes)``.

    The closed form of the stress law (``sim.people.stress``): ``A(t) = L tau + (A0 - L tau)
    e^(-t / tau)`` between changes, the mean from its exact integral over the shift.
    """
    tw, tb = recovery.tau_work_min, recovery.tau_break_min
    lt = tw / 60.0  # the work asymptote at a load of 1 an hour
    t = a = area = 0.0
    segs = []
    for s, m in sorted(rests):
        segs += [(t, s, True), (s, s + m, False)]
        t = s + m
    segs.append((t, length_min, True))
    for s, e, work in segs:
        dt = e - s
        if dt <= 0:
            continue
        tau, target = (tw, lt) if work else (tb, 0.0)
        decay = math.exp(-dt / tau)
        area += target * dt + (a - target) * tau * (1 - decay)
        a = target + (a - target) * decay
    return area / length_min, a


def _rests(t: Template, offsets: Sequence[float]) -> list[tuple[float, float]]:
    return [(off, a.minutes) for a, off in zip(t.activities, offsets, strict=True)
            if a.daily and a.is_break]


def placements(t: Template, rules: Rules, recovery: Recovery = Recovery(),
               positions: Sequence[Sequence[float]] | None = None
               ) -> list[tuple[float, float, tuple[float, ...]]]:
    """Every legal placement of a template's activities: (mean strain, end strain, starts).

    Sorted by mean strain (least first); legal: within the rules (the stretch on queue).
    """
    pos = [tuple(p) for p in (positions or [a.positions for a in t.activities])]
    out = []
    for combo in itertools.product(*pos):
        acts = tuple((a.name, a.kind, off, a.minutes, a.daily)
                     for a, off in zip(t.activities, combo, strict=True))
        if _day_violations(t.hours, acts, rules):
            continue
        mean, end = day_strain(t.hours * 60, _rests(t, combo), recovery)
        out.append((mean, end, tuple(float(c) for c in combo)))
    out.sort()
    return out


def _strain_prices(t: Template, pos: Sequence[Sequence[float]], rules: Rules,
                   recovery: Recovery) -> list[np.ndarray]:
    """Per activity, the mean strain each start adds over the least-strain placement.

    Separable about the best placement: activity ``k`` moved to ``p``, the others kept
    where the best placement has them (the law couples breaks only weakly: the simulation
    and :func:`plan_strain` measure the placement that results, not this estimate).
    """
    legal = placements(t, rules, recovery, pos)
    if not legal:
        return [np.zeros(len(p)) for p in pos]
    best_mean, _, best = legal[0]
    out = []
    for k, a in enumerate(t.activities):
        if not (a.daily and a.is_break) or len(pos[k]) == 1:
            out.append(np.zeros(len(pos[k])))
            continue
        row = []
        for p in pos[k]:
            combo = list(best)
            combo[k] = p
            row.append(day_strain(t.hours * 60, _rests(t, combo), recovery)[0] - best_mean)
        out.append(np.maximum(np.array(row), 0.0))
    return out


def plan_strain(problem: Problem, plan: Plan,
                recovery: Recovery = Recovery()) -> tuple[float, float]:
    """(mean, end) strain at a unit load, averaged over the plan's agent-days (closed form)."""
    w = s_mean = s_end = 0.0
    for g in plan.groups:
        mean, end = day_strain(g.template.hours * 60, _rests(g.template, g.offsets), recovery)
        n = g.agents * len(g.days)
        w, s_mean, s_end = w + n, s_mean + n * mean, s_end + n * end
    return (s_mean / w, s_end / w) if w else (math.nan, math.nan)


def _finer(problem: Problem, groups: Sequence[Group], grain: float = 15.0) -> Problem:
    """``problem`` at a ``grain``-minute grain, each slice needing what ``groups`` give it.

    Less the interval's slack: each slice may lose at most what ``groups`` cover above the
    interval's requirement (on the interval's mean), so the interval stays covered and no
    slice of it falls further. Coverage by the interval's mean alone would let breaks bunch
    into one quarter-hour of a half-hour (the same mean, a worse queue: a first try cost
    base's week 0.9 points of service level for 0.3% less strain).
    """
    k = int(round(problem.interval_min / grain))
    if k < 1 or abs(k * grain - problem.interval_min) > 1e-9:
        k = 1
    fine = dataclasses.replace(problem, required=np.repeat(problem.required, k, axis=1),
                               interval_min=problem.interval_min / k)
    have = coverage(fine, groups).reshape(problem.days, -1, k)
    slack = np.clip(have.mean(axis=2) - problem.required, 0.0, None)
    need = (have - slack[:, :, None]).reshape(problem.days, -1)
    return dataclasses.replace(fine, required=np.clip(need - 1e-6, 0.0, None))


def place_for_recovery(problem: Problem, plan: Plan, recovery: Recovery = Recovery(), *,
                       time_limit: float = TIME_LIMIT, node_limit: int = NODE_LIMIT) -> Plan:
    """``plan``'s roster with its breaks moved to the least mean strain, coverage kept.

    The same programme with every group's head count fixed (so the same paid hours) and
    each break start priced by the strain it adds (:func:`_strain_prices`): an LP over the
    break starts, rounded as :func:`solve` rounds them (solved with whole starts if
    rounding broke the stretch rule). Coverage of the requirement stays a constraint, so
    breaks move to recover only where the queue can spare the agents.
    """
    if problem.breaks != "optimise" or problem.tours:
        raise ValueError("place_for_recovery needs breaks='optimise' (the programme's starts) "
                         "and one start per agent (tours=False)")
    with _recording() as log:
        out = _place_for_recovery(problem, plan, recovery, time_limit, node_limit)
    return _logged(dataclasses.replace(out, stopped=plan.stopped), log)


def _place_for_recovery(problem: Problem, plan: Plan, recovery: Recovery, time_limit: float,
                        node_limit: int) -> Plan:
    """:func:`place_for_recovery` inside its recording."""
    import time

    t0 = time.perf_counter()
    rules = problem.rules
    prices: dict[tuple[float, tuple[Activity, ...]], list[np.ndarray]] = {}

    def price(lay: _Built, gi: int, k: int) -> np.ndarray:
        ti, q = lay.groups[gi]
        t = problem.templates[ti]
        key = (t.hours, t.activities)
        if key not in prices:
            prices[key] = _strain_prices(t, lay.positions[gi], rules, recovery)
        return prices[key][k] * len(q)

    objective = _fixed_heads(problem, plan.groups, price)
    fine = _finer(problem, plan.groups)
    res, lay, _ = _solve_once(fine, rules, integral=False, time_limit=time_limit,
                              objective=objective)
    if res is None or res.x is None:
        raise PlanError("the breaks could not be placed for recovery with the plan's head "
                        "counts (the coverage-only roster is kept)")
    groups = _groups(fine, lay, res.x)
    if not fine.integral_breaks:
        # whole starts of the least shortfall, then of the least strain (an agent short in
        # one interval costs 1000, far above any start's strain price)
        groups = _whole_breaks(fine, groups, objective, time_limit, node_limit)
    if not fine.integral_breaks and check_roster(
            [w for g in groups for w in _weeks(g, fine)[:1]],
            dataclasses.replace(rules, max_part_time_share=1.0)):
        whole = dataclasses.replace(fine, integral_breaks=True)
        res, lay, _ = _solve_once(whole, rules, integral=True, time_limit=time_limit,
                                  node_limit=node_limit, objective=objective)
        if res.x is None:
            raise PlanError("the breaks could not be placed for recovery in whole agents "
                            "within the stretch rule (the coverage-only roster is kept)")
        groups = _groups(whole, lay, res.x)
    return Plan(groups, plan.paid_hours, coverage(problem, groups), plan.required,
                plan.lp_bound, plan.gap, time.perf_counter() - t0, lay.cols, plan.nodes)
