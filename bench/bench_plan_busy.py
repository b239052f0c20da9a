"""Base's week planned once for Erlang at a quantile of the day factor, both methods, checked.

    .venv/bin/python bench/bench_plan_busy.py 0.85 0.9 0.925 0.95 [--reps 10]
        [--seeds 1,1001] [--one-start]

For each quantile ``p`` of the day-level busyness factor (``demand.busyness_cv``'s Gamma,
mean 1), the Erlang requirement at ``p``'s factor times the expected calls (80/20 per
30-minute interval), planned once (no raising rounds) by the optimised programme and by
the two-step plan's set covering with the published stagger (tours, each agent's start
chosen per day, as ``ccsim plan`` does; ``--one-start``: one start all week), each roster
simulated on ``--reps`` replications of each of ``--seeds`` (independent sets): intervals
below 80/20 and the goal (at most 10% with 95% confidence). The goal is lost on busy
days, which hit every interval of a day at once; this asks how far above the mean day
each method's roster must be planned, and what each pays at equal service
(docs/schedules.md, "What the saving measures"). Exploratory, not a timed test; numbers
depend on the seeds (and, through the solver's wall-clock limit, on the machine's load).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plan import base_week  # noqa: E402

from analysis.experiment import make_executor  # noqa: E402
from analysis.plan import verify  # noqa: E402
from analysis.roster import build_problem, erlang_requirement, to_scenario  # noqa: E402
from sim.planning.shifts import solve  # noqa: E402


def main() -> None:
    """Print paid hours and the goal per quantile and method."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("quantiles", type=float, nargs="+")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seeds", default="1,1001")
    p.add_argument("--one-start", action="store_true", help="one start per agent all week "
                   "(the programme before tours)")
    args = p.parse_args()
    t0 = time.perf_counter()
    sc = base_week()
    cv = sc.demand.busyness_cv
    ex = make_executor("process", args.workers)
    try:
        for q in args.quantiles:
            factor = float(stats.gamma.ppf(q, 1 / cv**2, scale=cv**2))
            busy = sc.replace({"demand.calls_per_day": sc.demand.calls_per_day * factor})
            req = erlang_requirement(busy, 0.8, 20)
            for method in ("optimise", "stagger"):
                problem = build_problem(sc, req, breaks=method, tours=not args.one_start)
                plan = solve(problem, gap=0.005, lp_bound=False)  # the node limit stops it
                planned = to_scenario(sc, plan, problem, f"base-q{q:g}-{method}", "")
                out = []
                for seed in (int(x) for x in args.seeds.split(",")):
                    v = verify(planned, plan, req, target=0.8, interval_share=0.9,
                               confidence=0.95, seed=seed, reps=args.reps, executor=ex,
                               store=None)
                    out.append(f"seed {seed}: below {100 * v.below.mean:.1f}% bound "
                               f"{100 * v.below_bound:.1f}% meets {v.meets}")
                print(f"quantile {q:g} (day factor {factor:.3f}) {method}: {plan.paid_hours:g} "
                      f"paid hours, {plan.agents} agents; " + "; ".join(out)
                      + f" [{time.perf_counter() - t0:.0f} s]", flush=True)
    finally:
        ex.close()


if __name__ == "__main__":
    main()
