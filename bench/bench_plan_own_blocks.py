"""A candidate stopping rule for ``ccsim plan``, measured: every round on a block of its own.

    .venv/bin/python -u bench/bench_plan_own_blocks.py optimise|stagger [--seeds 1,2,3,4,5]
        [--reps 10] [--rounds 16]

``ccsim plan`` (``analysis.plan.plan_loop``) simulates every round's roster on block 0
(replications 0 to reps - 1, common random numbers) and confirms a roster that meets the
goal there on a fresh block. Here instead round ``r``'s roster is simulated on block ``r``
alone: replications no earlier round saw, so its verdict is already one on replications it
was not chosen on, and the loop stops at the first round that meets the goal, with one
simulation a round. Misses are raised from that block (``raise_requirement``, the busy
day's Erlang aim, as ``plan_loop``). Base's week in 30-minute intervals (``bench_plan.py``),
80/20 in at least 90% of intervals with 95% confidence, tours, no replication store.

Prints, per seed, the paid hours of the roster that met the goal, its rounds, and each
round's (paid hours, % of intervals below target, its upper bound). Compare with
``bench_plan_seeds.py`` (the rule ``ccsim plan`` uses). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plan import base_week  # noqa: E402

from analysis.experiment import make_executor  # noqa: E402
from analysis.plan import raise_requirement, verify  # noqa: E402
from analysis.roster import build_problem, erlang_requirement, to_scenario  # noqa: E402
from analysis.staffing import busy_day, requirement  # noqa: E402
from sim.planning.shifts import solve  # noqa: E402


def own_blocks(method: str, seed: int, ex, reps: int, rounds: int
               ) -> tuple[float | None, int, list[tuple[float, float, float]]]:
    """(paid hours of the roster that met the goal or None, rounds, each round's figures)."""
    s = base_week()
    busy = busy_day(s, 0.9)
    req = erlang_requirement(s, 0.8, 20, busy)
    cached: dict[tuple[int, float], object] = {}

    def aim(d: int, i: int, goal: float) -> float:
        key = (d, round(goal, 3))
        if key not in cached:
            cached[key] = requirement(s, d, key[1], 20, busy)
        return float(cached[key][i])

    seen = []
    for r in range(rounds):
        problem = build_problem(s, req, breaks=method, tours=True)
        plan = solve(problem, gap=0.005, lp_bound=False)
        planned = to_scenario(s, plan, problem, f"{s.name}-own-{method}-r{r}")
        v = verify(planned, plan, req, target=0.8, interval_share=0.9, confidence=0.95,
                   seed=seed, reps=range(r * reps, (r + 1) * reps), executor=ex, store=None)
        seen.append((plan.paid_hours, round(100 * v.below.mean, 1),
                     round(100 * v.below_bound, 1)))
        if v.meets:
            return plan.paid_hours, r + 1, seen
        req, _ = raise_requirement(v, 0.8, 0.1, aim)
    return None, rounds, seen


def main() -> None:
    """Each seed's loop; one line each."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("method", choices=("optimise", "stagger"))
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=16)
    args = p.parse_args()
    ex = make_executor("process", 2)
    try:
        for seed in (int(x) for x in args.seeds.split(",")):
            t0 = time.perf_counter()
            hours, n, seen = own_blocks(args.method, seed, ex, args.reps, args.rounds)
            print(f"{args.method} seed {seed}: {hours} paid hours after {n} round(s); rounds "
                  f"(paid hours, % below, bound): {seen}; {time.perf_counter() - t0:.0f} s",
                  flush=True)
    finally:
        ex.close()


if __name__ == "__main__":
    main()
