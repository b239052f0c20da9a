"""The optimised plan's saving against the two-step plan on base's week, over several seeds.

    .venv/bin/python bench/bench_plan_seeds.py [--seeds 1,2,3,4,5] [--reps 10] [--rounds 16]
        [--start busy|mean] [--store DIR]

For each seed, ``analysis.plan.plan`` on base.toml's week in 30-minute intervals (the week
of ``bench_plan.py``), target 80/20 in at least 90% of intervals with 95% confidence, both
plans verified (each stops on a fresh block of replications), no rule prices: paid hours
of each plan, whether each is verified, and the saving. Then the saving's mean over the
seeds with its 95% t interval. Why seeds: each loop stops at the first roster a fresh
block confirms, so the roster each reaches, and the saving, moves with the replications
(docs/schedules.md, "Measured"). Issue 21's goal: at least 3% fewer paid hours.

A benchmark, not a test: minutes per seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plan import base_week  # noqa: E402

from analysis.experiment import make_executor  # noqa: E402
from analysis.plan import plan  # noqa: E402
from analysis.stats import t_interval  # noqa: E402
from analysis.store import ReplicationStore  # noqa: E402


def main() -> None:
    """Plan each seed's week; print each saving and their mean."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=16)
    p.add_argument("--start", choices=("busy", "mean"), default="busy")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--store", default=None, help="keep the replications here (a re-run "
                   "simulates nothing again)")
    args = p.parse_args()
    ex = make_executor("process", args.workers)
    week = base_week()
    savings = []
    try:
        for seed in (int(x) for x in args.seeds.split(",")):
            t0 = time.perf_counter()
            store = None if args.store is None else ReplicationStore(Path(args.store))
            a = plan(week, 0.8, 20, seed=seed, reps=args.reps, max_rounds=args.rounds,
                     executor=ex, store=store, costs=False, start=args.start)
            d = a.as_dict()
            o, t = d["optimised"], d["two_step"]
            both = o["meets_goal"] and t["meets_goal"]
            if both:
                savings.append(d["saving_vs_two_step"])
            print(f"SEED {seed}: optimised {o['paid_hours']:,.0f} paid hours after "
                  f"{len(o['rounds'])} round(s) (verified: {o['meets_goal']}), two-step "
                  f"{t['paid_hours']:,.0f} after {len(t['rounds'])} (verified: "
                  f"{t['meets_goal']}); saving {100 * d['saving_vs_two_step']:.1f}%"
                  + ("" if both else " (not both verified: left out of the mean)")
                  + f"; {time.perf_counter() - t0:.0f} s wall", flush=True)
    finally:
        ex.close()
    if len(savings) >= 2:
        est = t_interval(savings)
        print(f"GOAL base week, {len(savings)} seed(s) with both plans verified: saving "
              f"{100 * est.mean:.1f}% (95% CI {100 * est.ci_low:.1f}% to "
              f"{100 * est.ci_high:.1f}%; goal >= 3%)")


if __name__ == "__main__":
    main()
