"""How many agents: Erlang requirements per interval, and head-count search by simulation.

The Erlang answer is the classic planning number for each interval taken alone (stationary,
exponential talk, no day-to-day busyness, agents always on queue). The simulated answer is
the fewest agents in total, spread over the scenario's shifts in proportion to their head
counts (``staffing.agents``), whose mean KPI over replications reaches the goal. Head counts
are compared under common random numbers, so the KPI is (practically) monotone in agents and
a bisection is reliable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.experiment import Executor, Experiment, run_experiment
from analysis.stats import Estimate, t_interval
from analysis.store import ReplicationStore
from sim.erlang import first_true
from sim.scenario import Scenario, format_clock
from sim.schedule import coverage, erlang_required


def parse_target(text: str) -> tuple[float, float]:
    """``"0.8@20"`` (or ``"80%@20"``) -> (share 0.8, threshold 20 s)."""
    share, sep, thr = text.partition("@")
    try:
        s = float(share.strip().rstrip("%")) / (100 if share.strip().endswith("%") else 1)
        t = float(thr)
    except ValueError:
        s = t = math.nan
    if not sep or not (0 < s < 1) or not (t >= 0 and math.isfinite(t)):
        raise ValueError(f"--target {text!r}: expected SHARE@SECONDS with 0 < SHARE < 1, "
                         "e.g. 0.8@20 (80% answered within 20 s)")
    return s, t


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


def erlang_requirements(scenario: Scenario, target: float, threshold_s: float) -> pd.DataFrame:
    """Per interval: offered rate, and the Erlang C/A agents on queue for the target.

    The requirement is :func:`sim.schedule.erlang_required` (the same number the coverage
    check warns with), beside the agents the shifts log in (``scheduled_agents``) and the
    agents the published schedule has on queue, breaks and activities taken out, as a mean
    over the days (``on_queue_agents``: what :func:`sim.schedule.check_coverage` compares).
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
        "erlang_agents": erlang_required(scenario, target, threshold_s),
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
