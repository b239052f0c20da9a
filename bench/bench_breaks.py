"""Coverage-only against recovery-aware breaks on the base centre's week (issue 21).

    .venv/bin/python bench/bench_breaks.py [--reps 10] [--extra 1] [--workers 2]

The optimised roster (``sim.planning.shifts.solve``) for base.toml's week in 30-minute
intervals (``bench_plan.base_week``), at the Erlang requirement for 80/20 plus ``--extra``
agents in every interval (a roster near the verified one, without the rounds of
``bench_plan.py``), then its breaks moved for recovery (the same head counts) and both
simulated with the stress model on, paired by replication (``analysis.plan.
compare_breaks``): the report's side-by-side section, and the CPU seconds it took. Goal:
mean strain at least 10% lower at equal service level, or a reason why not.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plan import base_week  # noqa: E402

from analysis.experiment import make_executor  # noqa: E402
from analysis.plan import (  # noqa: E402
    build_problem,
    compare_breaks,
    erlang_requirement,
    to_scenario,
)
from sim.planning.shifts import solve  # noqa: E402


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    """Print the side-by-side."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--extra", type=float, default=1.0)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    t0, c0 = time.perf_counter(), _cpu()
    s = base_week()
    req = erlang_requirement(s, 0.8, 20) + args.extra
    problem = build_problem(s, req)
    plan = solve(problem, gap=0.005, lp_bound=False)
    planned = to_scenario(s, plan, problem, f"{s.name}-plan-erlang+{args.extra:g}")
    ex = make_executor("process", args.workers)
    try:
        b = compare_breaks(s, planned, plan, problem, seed=args.seed, reps=args.reps,
                           executor=ex, store=None)
    finally:
        ex.close()
    print(f"# base week, Erlang 80/20 + {args.extra:g} agent(s) an interval: {plan.agents} "
          f"agents, {plan.paid_hours:,.1f} paid hours; seed {args.seed}, {args.reps} "
          "replications")
    print("\n".join(b.text()))
    d = b.difference["strain_mean"]
    m = b.coverage["strain_mean"].mean
    print(f"GOAL recovery breaks: mean strain {100 * d.mean / m:+.2f}% "
          f"[{100 * d.ci_low / m:+.2f}, {100 * d.ci_high / m:+.2f}] (goal <= -10%); "
          f"service level {100 * b.difference['service_level'].mean:+.2f} points; "
          f"{time.perf_counter() - t0:.0f} s wall, {_cpu() - c0:.0f} CPU-s of this process "
          "(the workers, forked by a fork server, are not counted)")


if __name__ == "__main__":
    main()
