"""What one replication's warm-up costs: CPU seconds of ``sim.model.warm_start``.

For each scenario, ``--reps`` replications' warm-ups (``horizon.warmup_days``, "auto"
resolved), each on its own streams and not cached, timed in process CPU seconds (what the
warm-ups cost whatever the load of a shared machine). Prints the mean and range per
scenario, and the days simulated. Run it on two checkouts to compare (the figures of
docs/experiments.md, "Warm-up")::

    .venv/bin/python -m bench.bench_warmup scenarios/case/telenor-2018-tmr.toml \\
        scenarios/case/two-queues-tmr.toml scenarios/case/union-proposal.toml --reps 3
"""

from __future__ import annotations

import argparse
import json
import time

from sim.model import warm_start
from sim.scenario import load_scenario


def main(argv: list[str] | None = None) -> None:
    """Print each scenario's warm-up CPU seconds per replication."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
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
