"""The goals of ``ccsim plan`` (issue 21) on the base centre, measured and printed.

    .venv/bin/python bench/bench_plan.py [--reps 10] [--workers 2] [--scale 1.25]
        [--rounds 12] [--raise-rule all|greedy] [--breaks coverage|recovery] [--no-costs]
        [--trim 4] [--store DIR] [--confirm-seed 1001] [--no-tours] [--time-limit 1800]
        [--loop both|optimise|stagger] [--start busy|mean]

Both plans are tour-scheduled (each agent's start and breaks chosen per working day, the
two-step plan with the same tours) unless ``--no-tours``.

1. base.toml's week in 30-minute intervals (its 15-minute profile summed in pairs), target
   80/20 in at least 90% of intervals with 95% confidence: the optimised plan and the
   two-step plan (Erlang per interval, then set covering with the published stagger), each
   raised by simulation until it meets the goal; paid hours of each, the saving (goal: at
   least 3% fewer than the two-step plan), and the optimised plan against the LP lower
   bound of its last requirement (goal: within 5%).
2. The same centre with ``--scale`` times the calls (1.25: about 150 agents), planned and
   verified by the optimised loop alone with the rule prices, timed (goal: at most 10
   minutes on 2 cores), wall clock and CPU seconds of this process and its workers
   (``--scale 0``: skip it; ``--skip-base``: only it).
``--trim N``: after the optimised plan meets the goal, up to N rounds lowering the
intervals with room to spare (``analysis.plan.trim_candidates``), each kept only if the
goal still holds with fewer paid hours. ``--store DIR``: keep every replication there, so
a re-run (same code, seed and options) simulates nothing again. ``--confirm-seed S``:
each final roster simulated again on S's replications (each loop stopped at the first
round meeting the goal on ``--seed``'s replications 0 to reps - 1 and confirmed on a fresh
block of them: another seed is a third check, independent of both).

3. ``--breaks recovery``: the base week's final roster with its breaks moved for recovery,
   both placements simulated with the stress model on (paired), in the printed report.

Benchmarks, not tests: numbers depend on the seed (``--seed``) and, for time, the machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analysis.experiment import make_executor  # noqa: E402
from analysis.plan import plan  # noqa: E402
from analysis.store import ReplicationStore  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process, its finished children and its live process tree.

    The simulation workers are forked by a fork server, so they are not this process's
    children until it exits: their CPU is read from ``/proc`` while they live
    (``bench/proctree.py``; the pool keeps its workers, so none is lost between reads).
    """
    import os

    from proctree import processes, tree

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    children, cpu = processes()
    others = sum(cpu.get(p, 0.0) for p in tree(os.getpid(), children) if p != os.getpid())
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime + others


def base_week(scale: float = 1.0):
    """base.toml in 30-minute intervals, calls scaled by ``scale``."""
    b = load_scenario("scenarios/base.toml")
    prof = np.add.reduceat(np.asarray(b.demand.profile), np.arange(0, 48, 2)).tolist()
    return b.replace({"horizon.interval_minutes": 30, "demand.profile": prof,
                      "demand.calls_per_day": b.demand.calls_per_day * scale,
                      "name": f"base-30min-x{scale:g}"})


def _confirm(answer, args, ex, store) -> None:
    """Each final roster simulated on fresh replications (``--confirm-seed``): the goal."""
    from analysis.plan import verify

    for label, lp in (("optimised", answer.optimised), ("two-step", answer.two_step)):
        if lp is None or lp.final is None:
            continue
        f = lp.final
        v = verify(f.scenario, f.plan, f.required, target=0.8, interval_share=0.9,
                   confidence=0.95, seed=args.confirm_seed, reps=args.reps, executor=ex,
                   store=store)
        print(f"CONFIRM {label} (seed {args.confirm_seed}, {args.reps} replications): "
              f"{f.plan.paid_hours:.1f} paid hours, intervals below target "
              f"{100 * v.below.mean:.1f}%, upper 95% bound {100 * v.below_bound:.1f}%, "
              f"meets goal: {v.meets}")


def _one_loop(args, ex, store) -> None:
    """One loop on the base week with its fresh check (and ``--confirm-seed``'s)."""
    from analysis.plan import confirm, plan_loop, verify

    t0, c0 = time.perf_counter(), _cpu()
    label = "optimised" if args.loop == "optimise" else "two-step"
    loop = plan_loop(base_week(), 0.8, 20, method=args.loop, interval_share=0.9,
                     confidence=0.95, seed=args.seed, reps=args.reps, max_rounds=args.rounds,
                     executor=ex, store=store, time_limit=args.time_limit, gap=0.005,
                     node_limit=args.node_limit, say=print, raise_rule=args.raise_rule,
                     start=args.start,
                     tours=not args.no_tours)
    f = loop.final
    kw = dict(target=0.8, interval_share=0.9, confidence=0.95, executor=ex, store=store)
    fresh = loop.confirmed
    if fresh is None:  # rounds ran out before one met the goal: its fresh verdict all the same
        loop.blocks += 1
        fresh = confirm(f, f.scenario, f.plan, seed=args.seed, reps=args.reps, block=loop.blocks,
                        **kw)
    print(f"GOAL base week, {label}: {f.plan.agents} agents, {f.plan.paid_hours:.1f} paid "
          f"hours after {len(loop.rounds)} round(s), verified: {loop.meets} (replications "
          f"0-{args.reps - 1}: below target {100 * f.below.mean:.1f}%, upper 95% bound "
          f"{100 * f.below_bound:.1f}%; fresh replications {fresh.replications[0]}-"
          f"{fresh.replications[1]}: below {100 * fresh.below.mean:.1f}%, bound "
          f"{100 * fresh.below_bound:.1f}%, meets: {fresh.meets}); LP bound of the last "
          f"requirement {f.plan.lp_bound:.1f}; {time.perf_counter() - t0:.0f} s wall, "
          f"{_cpu() - c0:.0f} CPU-s", flush=True)
    if args.confirm_seed is not None:
        v = verify(f.scenario, f.plan, f.required, seed=args.confirm_seed, reps=args.reps, **kw)
        print(f"CONFIRM {label} (seed {args.confirm_seed}, {args.reps} replications): "
              f"below {100 * v.below.mean:.1f}%, bound {100 * v.below_bound:.1f}%, meets: "
              f"{v.meets}", flush=True)


def main() -> None:
    """Print the goals' numbers."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scale", type=float, default=1.25)
    p.add_argument("--skip-base", action="store_true")
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--raise-rule", choices=("all", "greedy"), default="all")
    p.add_argument("--start", choices=("busy", "mean"), default="busy",
                   help="the first requirement at a busy day's rates or the mean day's")
    p.add_argument("--breaks", choices=("coverage", "recovery"), default="coverage")
    p.add_argument("--no-costs", action="store_true", help="skip the rule prices")
    p.add_argument("--no-two-step", action="store_true",
                   help="base week: the optimised loop alone (no saving printed)")
    p.add_argument("--trim", type=int, default=0,
                   help="base week: trim rounds of the optimised plan once it meets the goal")
    p.add_argument("--store", default=None,
                   help="keep the replications in this folder (a re-run resumes)")
    p.add_argument("--loop", choices=("both", "optimise", "stagger"), default="both",
                   help="base week: one loop alone (optimised or two-step), with its fresh "
                   "check, so the two can run as two processes side by side")
    p.add_argument("--time-limit", type=float, default=1800.0,
                   help="seconds of wall clock for each of HiGHS's solves: the safety net "
                   "(both plans alike)")
    p.add_argument("--node-limit", type=int, default=20_000,
                   help="branch-and-bound nodes for each of HiGHS's solves (both plans alike)")
    p.add_argument("--no-tours", action="store_true",
                   help="one start all week per agent (before tour scheduling)")
    p.add_argument("--confirm-seed", type=int, default=None,
                   help="base week: simulate each final roster again with this seed (fresh "
                   "replications: the loops chose their rosters on --seed's)")
    args = p.parse_args()
    ex = make_executor("process", args.workers)
    store = None if args.store is None else ReplicationStore(Path(args.store))
    say = print
    try:
        if not args.skip_base and args.loop != "both":
            _one_loop(args, ex, store)
        elif not args.skip_base:
            t0, c0 = time.perf_counter(), _cpu()
            a = plan(base_week(), 0.8, 20, reps=args.reps, seed=args.seed, executor=ex,
                     costs=not args.no_costs, say=say, max_rounds=args.rounds,
                     two_step=not args.no_two_step, store=store, trim=args.trim,
                     raise_rule=args.raise_rule, breaks=args.breaks, tours=not args.no_tours,
                     time_limit=args.time_limit, node_limit=args.node_limit,
                     start=args.start)
            d = a.as_dict()
            o, t = d["optimised"], d["two_step"]
            print(a.text())
            if t is None:
                print(f"GOAL base week: optimised {o['paid_hours']:.1f} paid hours (meets goal: "
                      f"{o['meets_goal']}, intervals below target "
                      f"{100 * o['intervals_below_target']['mean']:.1f}%, upper 95% bound "
                      f"{100 * o['intervals_below_target_bound']:.1f}%); LP bound of the last "
                      f"requirement {o['lp_bound']:.1f}, the plan "
                      f"{100 * d['over_lp_bound']:.1f}% over it (goal <= 5%); "
                      f"{time.perf_counter() - t0:.0f} s wall, {_cpu() - c0:.0f} CPU-s")
            else:
                print(f"GOAL base week: optimised {o['paid_hours']:.1f} paid hours "
                      f"(meets goal: {o['meets_goal']}, intervals below target "
                      f"{100 * o['intervals_below_target']['mean']:.1f}%, upper 95% bound "
                      f"{100 * o['intervals_below_target_bound']:.1f}%); two-step "
                      f"{t['paid_hours']:.1f} (meets goal: {t['meets_goal']}); saving "
                      f"{100 * d['saving_vs_two_step']:.1f}% (goal >= 3%); LP bound of the "
                      f"last requirement {o['lp_bound']:.1f}, the plan "
                      f"{100 * d['over_lp_bound']:.1f}% over it (goal <= 5%); "
                      f"{time.perf_counter() - t0:.0f} s wall, {_cpu() - c0:.0f} CPU-s")
            if args.confirm_seed is not None:
                _confirm(a, args, ex, store)
        if args.scale <= 0:  # the base comparison only
            return
        t0, c0 = time.perf_counter(), _cpu()
        s = base_week(args.scale)
        a = plan(s, 0.8, 20, reps=args.reps, seed=args.seed, executor=ex, two_step=False,
                 store=store,
                 costs=not args.no_costs, say=say, max_rounds=args.rounds,
                 raise_rule=args.raise_rule,
                 tours=not args.no_tours, time_limit=args.time_limit,
                 node_limit=args.node_limit, start=args.start)
        o = a.as_dict()["optimised"]
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        c = o["confirmed"]
        fresh = "" if c is None else (
            f"; fresh check: below {100 * c['intervals_below_target']['mean']:.1f}%, bound "
            f"{100 * c['intervals_below_target_bound']:.1f}%, meets: {c['meets_goal']}")
        print(f"GOAL {args.scale:g}x week: {o['agents']} agents, {o['paid_hours']:.1f} paid "
              f"hours, meets goal: {o['meets_goal']} after {len(o['rounds'])} round(s){fresh}, "
              f"rule prices {'not ' if args.no_costs else ''}included: {wall:.0f} s wall, "
              f"{cpu:.0f} CPU-s with the workers (goal <= 600 s on 2 cores)")
    finally:
        ex.close()


if __name__ == "__main__":
    main()
