"""The planning programme alone on base's week: one start all week against tours.

    .venv/bin/python bench/bench_plan_size.py [--time-limit 300] [--gap 0.005]

base.toml in 30-minute intervals (``bench_plan.base_week``), the Erlang 80/20 requirement
and the same with 30% of the intervals raised by one agent at random (seed 0; uneven days,
as the verification rounds leave them), each solved by the optimised programme and by the
two-step plan's set covering, with one start per agent all week and with tours (each
agent's start and breaks chosen per day): paid hours, agents, the LP bound, the gap HiGHS
proved, columns, CPU seconds of the solve and the roster check. No simulation.
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
from sim.planning.shifts import check_roster, solve  # noqa: E402


def main() -> None:
    """Print one line per requirement, method and model."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time-limit", type=float, default=300.0)
    p.add_argument("--gap", type=float, default=0.005)
    args = p.parse_args()
    sc = base_week()
    req = erlang_requirement(sc, 0.8, 20)
    uneven = req + (np.random.default_rng(0).random(req.shape) < 0.3)
    for label, r in (("Erlang", req), ("uneven", uneven)):
        for tours in (False, True):
            for method in ("optimise", "stagger"):
                problem = build_problem(sc, r, breaks=method, tours=tours)
                c0 = time.process_time()
                plan = solve(problem, time_limit=args.time_limit, gap=args.gap)
                bad = check_roster(plan.agent_weeks(problem), problem.rules)
                print(f"{label} {'tours' if tours else 'one start'} {method}: "
                      f"{plan.paid_hours:g} paid hours, {plan.agents} agents, LP bound "
                      f"{plan.lp_bound:.1f}, gap {100 * plan.gap:.2f}%, {plan.variables} "
                      f"columns, {time.process_time() - c0:.1f} CPU-s, "
                      f"{len(bad)} rule violation(s)", flush=True)


if __name__ == "__main__":
    main()
