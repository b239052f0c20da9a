"""How base.toml's shifts were planned: an integer programme over candidate shifts.

    .venv/bin/python scenarios/tools/plan_shifts.py [scenario.toml] [--paid-hours 800]

For every candidate shift inside the opening hours (8-hour shifts starting every 30
minutes, 6- and 4-hour shifts every hour; for base.toml 08:00-12:00, 08:00-14:00 and
08:00-16:00) the scenario's own
schedule rules give the share of the shift's agents planned on queue in each 15-minute
interval (breaks, lunch and ROS conversations staggered as the schedule publishes them,
computed by ``sim.engine.schedule.coverage`` for a shift of 12 agents), less a behavioural
allowance (the mean log-in delay in the shift's first interval and 1.5% for unplanned
breaks and late returns: base's measured conformance is about 98.6%). The requirement
per interval is Erlang A for the service-level target (``sim.engine.schedule.erlang_required``).

``scipy.optimize.milp`` then chooses whole head counts per candidate that minimise the
total shortfall (agents on queue below the requirement, summed over the intervals)
within the paid hours and head count given (by default the same 800 paid hours a day as
the old plan of 100 agents on 8-hour shifts, and at most 125 agents), and, among plans
with that shortfall, uses the fewest shift patterns. A planning aid only: the simulation
then says what the plan achieves.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.engine.schedule import coverage, erlang_required
from sim.scenario import format_clock, load_scenario

ALLOWANCE = 0.015


def candidates(scenario) -> list[tuple[float, float]]:
    """(hours, start minute) of every candidate shift inside the opening hours."""
    h = scenario.horizon
    open_m, close_m = h.open / 60, h.open / 60 + h.hours * 60
    out = []
    for hours, every in ((8.0, 30), (6.0, 60), (4.0, 60)):
        start = open_m
        while start + hours * 60 <= close_m + 1e-9:
            out.append((hours, start))
            start += every
    return out


def shares(scenario, hours: float, start_min: float) -> np.ndarray:
    """Share of a shift's agents expected on queue per interval of day 0."""
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
    return np.clip(per * (1 - ALLOWANCE), 0, None)


def plan(scenario, paid_hours: float, max_agents: int
         ) -> dict[str, tuple[float, float, int]]:
    """Head count per chosen candidate: name -> (hours, start minute, agents)."""
    req = erlang_required(scenario).astype(float)
    cands = candidates(scenario)
    a = np.column_stack([shares(scenario, h, s) for h, s in cands])
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
    cov = a @ x
    gap = np.clip(req - cov, 0, None)
    print(f"least shortfall: {short:.1f} agent-intervals; the plan chosen (fewest patterns "
          f"within 0.5 of it): {int((gap > 1e-6).sum())} of {n} intervals short by "
          f"{gap.sum():.2f} agents in all (behavioural allowance included)", file=sys.stderr)
    return {f"{h:g}h-{format_clock(s * 60)}": (h, s, int(n))
            for (h, s), n in zip(cands, x, strict=True) if n > 0}


def main() -> None:
    """Print the chosen shifts as TOML."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="scenarios/base.toml")
    p.add_argument("--paid-hours", type=float, default=800.0)
    p.add_argument("--max-agents", type=int, default=125)
    args = p.parse_args()
    chosen = plan(load_scenario(args.scenario), args.paid_hours, args.max_agents)
    for name, (h, s, n) in chosen.items():
        print(f"# {name}\nstart = \"{format_clock(s * 60)}\"\nhours = {h:g}\nagents = {n}\n")
    print(f"# {sum(n for _, _, n in chosen.values())} agents, "
          f"{sum(h * n for h, _, n in chosen.values()):g} paid hours a day")


if __name__ == "__main__":
    main()
