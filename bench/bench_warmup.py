"""What one replication's warm-up costs: CPU seconds of ``sim.model.warm_start``.

For each scenario, ``--reps`` replications' warm-ups (``horizon.warmup_days``, "auto"
resolved), each on its own streams and not cached, timed in process CPU seconds (what the
warm-ups cost whatever the load of a shared machine). Prints the mean and range per
scenario, and the days simulated. Run it on two checkouts to compare (the figures of
docs/experiments.md, "Warm-up")::

    .venv/bin/python -m bench.bench_warmup scenarios/case/telenor-2018-tmr.toml \\
        scenarios/case/two-queues-tmr.toml scenarios/case/union-proposal.toml --reps 3

With ``--state``, each warm-up's state at day 0 (mean E and T over seats, seats off sick
and vacant, warnings on record within the warning window per seat) and the KPIs of
``--days`` measured days after it (service level, measured stress, absence, warnings given
per agent in the measured days), means over the replications; ``--compare N ...`` adds
plain warm-ups of N days (no fast-forward) from the same streams, the long run the fast
one must match, and the paired z of the auto warm-up against the first of them (the mean
difference over replications over its standard error). Several ``--days`` measure each
warm-up's state over each length::

    .venv/bin/python -m bench.bench_warmup scenarios/case/telenor-2018-tmr.toml --reps 6 \\
        --state --compare 60 --days 5 10

With ``--cycle N``, a cold run of N days instead: each agent's gaps between warnings, less
the escalation interval (the wait R from the interval's end to the breach that makes the
next talk; sim.start.talk_ages leaves it to the simulated days), mean and quantiles::

    .venv/bin/python -m bench.bench_warmup scenarios/case/telenor-2018-tmr.toml --cycle 45
"""

from __future__ import annotations

import argparse
import json
import time
from statistics import mean, stdev

import numpy as np

from sim.model import simulate, warm_start
from sim.scenario import DAY_S, load_scenario
from sim.start import StartState

COLUMNS = ("cpu_s", "E", "T", "sick", "vacant", "warned", "service_level", "stress_mean",
           "absence_rate", "warnings")


def state_row(start: StartState, cpu: float, path: str, days: int, seed: int, rep: int
              ) -> dict[str, float]:
    """A warm-up's CPU seconds, its state's means over seats, and the measured KPIs."""
    seats, records = start.seats or (), start.records or ()
    s = load_scenario(path, overrides={"horizon.days": days})
    window = s.measurement.adherence.warning_window_days * DAY_S
    r = simulate(s, seed, rep, start=start)
    k = r.kpis
    n = sum(s.staffing.head_counts().values())
    return {"cpu_s": cpu, "E": mean(x.e for x in seats) if seats else 0.0,
            "T": mean(x.threat for x in seats) if seats else 0.0,
            "sick": sum(x.sick_days_left > 0 for x in seats),
            "vacant": sum(x.back_on is not None for x in seats),
            "warned": mean(sum(w > -window for w in x.warned) for x in records)
            if records else 0.0,
            "service_level": k["service_level"], "stress_mean": k.get("stress_mean", 0.0),
            "absence_rate": k.get("absence_rate", 0.0),
            "warnings": int((r.actions["action"] == "warning").sum()) / n}


def states(path: str, reps: int, seed: int, days: list[int], compare: list[int],
           first: int = 0, rows_to: str | None = None) -> None:
    """Print the auto warm-up's and each plain one's state and KPIs (mean, SE), and z.

    Replications ``first`` to ``first + reps - 1``; ``rows_to``: every row as JSON too.
    """
    s = load_scenario(path)
    print(f"{path}: {reps} replication(s), seed {seed}, {days} measured days")
    found: dict[tuple[str, int], list[dict[str, float]]] = {}
    runs = ((f"auto ({s.warmup_days} d)", None, True),
            *((f"plain {n} d", n, False) for n in compare))
    for label, n, ff in runs:
        for rep in range(first, first + reps):
            t0 = time.process_time()
            start = warm_start(s, seed, rep, days=n, fast_forward=ff, cached=False)
            cpu = time.process_time() - t0
            for d in days:
                found.setdefault((label, d), []).append(
                    state_row(start, cpu, path, d, seed, rep))
    if rows_to:
        with open(rows_to, "w") as f:
            json.dump([{"warmup": label, "days": d, "rep": first + i, **row}
                       for (label, d), rows in found.items() for i, row in enumerate(rows)], f)
    for d in days:
        print(f"{d} measured days")
        print(f"{'warm-up':<24}" + "".join(f"{c:>15}" for c in COLUMNS))
        for label, _, _ in runs:
            rows = found[(label, d)]
            cells = []
            for c in COLUMNS:
                v = [r[c] for r in rows]
                se = stdev(v) / len(v) ** 0.5 if len(v) > 1 else float("nan")
                cells.append(f"{mean(v):>8.3f} ({se:.3f})")
            print(f"{label:<24}" + "".join(f"{x:>15}" for x in cells), flush=True)
        if compare and reps > 1:  # paired by replication: the auto against the first plain
            a, b = found[(runs[0][0], d)], found[(runs[1][0], d)]
            cells = []
            for c in COLUMNS:
                diff = [x[c] - y[c] for x, y in zip(a, b, strict=True)]
                se = stdev(diff) / len(diff) ** 0.5
                cells.append(f"{mean(diff) / se:>15.2f}" if se > 0 else f"{'-':>15}")
            print(f"{'z, auto - ' + runs[1][0]:<24}" + "".join(cells), flush=True)


def cycle(path: str, days: int, seed: int) -> None:
    """Print the waits R past the escalation interval between an agent's warnings (cold)."""
    s = load_scenario(path, overrides={"horizon.days": days, "horizon.warmup_days": 0})
    a = simulate(s, seed, 0).actions
    talks = a[a["action"] == "warning"]
    interval = s.supervisor.escalation_interval_days
    waits = [g - interval for _, t in talks.groupby("agent")["time_s"]
             for g in np.diff(np.sort(t.to_numpy()) / DAY_S)]
    q = np.quantile(waits, [0.5, 0.9, 0.99]) if waits else [float("nan")] * 3
    print(f"{path}: {days} cold days, seed {seed}: {len(waits)} cycles, interval "
          f"{interval:g} d, R mean {np.mean(waits):.3f} d, median {q[0]:.3f}, 90% {q[1]:.3f}, "
          f"99% {q[2]:.3f}, max {max(waits, default=float('nan')):.3f}")


def main(argv: list[str] | None = None) -> None:
    """Print each scenario's warm-up CPU seconds per replication."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--state", action="store_true", help="the state and measured KPIs")
    ap.add_argument("--days", type=int, nargs="+", default=[5],
                    help="measured days (--state; several: each)")
    ap.add_argument("--compare", type=int, nargs="*", default=[],
                    help="plain warm-ups of these lengths (--state)")
    ap.add_argument("--first", type=int, default=0, help="first replication (--state)")
    ap.add_argument("--rows", help="write every replication's row to this JSON file (--state)")
    ap.add_argument("--cycle", type=int, default=0,
                    help="days of a cold run whose warning cycles to measure")
    args = ap.parse_args(argv)
    if args.cycle:
        for path in args.scenarios:
            cycle(path, args.cycle, args.seed)
        return
    if args.state:
        for path in args.scenarios:
            states(path, args.reps, args.seed, args.days, args.compare, args.first,
                   args.rows)
        return
    out = {}
    for path in args.scenarios:
        s = load_scenario(path)
        cpu = []
        for rep in range(args.reps):
            t0 = time.process_time()
            warm_start(s, args.seed, rep, cached=False)
            cpu.append(time.process_time() - t0)
        out[path] = {"warmup_days": s.warmup_days, "cpu_s": cpu,
                     "mean_cpu_s": sum(cpu) / len(cpu)}
        if not args.json:
            print(f"{path}: warm-up of {s.warmup_days} working days, {args.reps} "
                  f"replication(s): {sum(cpu) / len(cpu):.2f} CPU-s each "
                  f"({min(cpu):.2f}-{max(cpu):.2f})", flush=True)
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
