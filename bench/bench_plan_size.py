"""The planning programme alone on base's week: one start all week against tours.

    .venv/bin/python bench/bench_plan_size.py [--time-limit 1800] [--gap 0.005]
        [--node-limit 20000] [--only uneven] [--models tours] [--methods stagger]

base.toml in 30-minute intervals (``bench_plan.base_week``), the Erlang 80/20 requirement
and the same with 30% of the intervals raised by one agent at random (seed 0; uneven days,
as the verification rounds leave them), each solved by the optimised programme and by the
two-step plan's set covering, with one start per agent all week and with tours (each
agent's start and breaks chosen per day): paid hours, agents, the LP bound, the gap HiGHS
proved, columns, the branch-and-bound nodes of the main solve (HiGHS's ``mip_node_count``)
and what stopped it (the gap, the node limit or the wall clock), CPU seconds of the solve
and the roster check. No simulation. ``--node-limit`` large measures how many nodes each
solve needs to reach its gap (docs/schedules.md, "Stopping rules").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plan import base_week  # noqa: E402

from analysis.roster import build_problem, erlang_requirement  # noqa: E402
from sim.planning.shifts import NODE_LIMIT, TIME_LIMIT, check_roster, solve  # noqa: E402


def main() -> None:
    """Print one line per requirement, method and model."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time-limit", type=float, default=TIME_LIMIT)
    p.add_argument("--node-limit", type=int, default=NODE_LIMIT)
    p.add_argument("--gap", type=float, default=0.005)
    p.add_argument("--only", choices=("Erlang", "uneven"), default=None)
    p.add_argument("--models", choices=("one", "tours"), nargs="*", default=["one", "tours"])
    p.add_argument("--methods", choices=("optimise", "stagger"), nargs="*",
                   default=["optimise", "stagger"])
    args = p.parse_args()
    sc = base_week()
    req = erlang_requirement(sc, 0.8, 20)
    uneven = req + (np.random.default_rng(0).random(req.shape) < 0.3)
    for label, r in (("Erlang", req), ("uneven", uneven)):
        if args.only not in (None, label):
            continue
        for tours in [m == "tours" for m in args.models]:
            for method in args.methods:
                problem = build_problem(sc, r, breaks=method, tours=tours)
                c0 = time.process_time()
                plan = solve(problem, time_limit=args.time_limit, gap=args.gap,
                             node_limit=args.node_limit)
                bad = check_roster(plan.agent_weeks(problem), problem.rules)
                print(f"{label} {'tours' if tours else 'one start'} {method}: "
                      f"{plan.paid_hours:g} paid hours, {plan.agents} agents, LP bound "
                      f"{plan.lp_bound:.1f}, gap {100 * plan.gap:.2f}%, {plan.variables} "
                      f"columns, {plan.nodes} nodes, stopped: {plan.stopped}, "
                      f"{time.process_time() - c0:.1f} CPU-s, "
                      f"{len(bad)} rule violation(s)", flush=True)


if __name__ == "__main__":
    main()
