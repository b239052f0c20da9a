"""The 150-agent week planned and verified as a user runs it: ``ccsim plan``, timed whole.

    .venv/bin/python bench/bench_plan_user.py [--scale 1.25] [ccsim plan options ...]

Writes the week (base.toml in 30-minute intervals, its profile summed in pairs, calls times
``--scale``: the week ``bench_plan.py --scale`` plans) to a temporary folder, runs
``ccsim plan WEEK --target 0.8@20`` with ccsim's defaults (both plans, the rule prices) and
any further options given, and prints the wall clock and the CPU seconds of the command
and of every process below it (its simulation workers are its fork server's children,
read from ``/proc`` while they live: ``bench/proctree.py``), then the report's verdicts.
Issue 21's goal: at most 10 minutes on 2 cores. A benchmark, not a test: the time is the
machine's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent))

from proctree import processes, tree  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def week_toml(scale: float) -> str:
    """base.toml's week in 30-minute intervals with ``scale`` times its calls, as TOML
    (written by a serializer: the checkout's path may hold any character)."""
    from sim.scenario import load_scenario

    b = load_scenario(ROOT / "scenarios" / "base.toml")
    prof = np.add.reduceat(np.asarray(b.demand.profile), np.arange(0, 48, 2)).tolist()
    return tomli_w.dumps({
        "extends": str(ROOT / "scenarios" / "base.toml"), "name": f"base-30min-x{scale:g}",
        "description": f"base.toml at {scale:g} times its calls in 30-minute intervals",
        "rationale": "bench/bench_plan_user.py: the week issue 21 times.",
        "horizon": {"interval_minutes": 30},
        "demand": {"calls_per_day": b.demand.calls_per_day * scale,
                   "profile": [round(float(x), 10) for x in prof]}})


def main() -> None:
    """Run and time the command; print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.25)
    args, extra = p.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        week = Path(tmp) / "week.toml"
        week.write_text(week_toml(args.scale))
        cmd = [str(Path(sys.executable).parent / "ccsim"), "plan", str(week), "--target",
               "0.8@20", "--out", str(Path(tmp) / "out"), *extra]
        t0 = time.perf_counter()
        # whole lines: the report's verdicts are picked out by their starts below
        env = {**os.environ, "CCSIM_WIDTH": "100000"}
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
        seen: dict[int, float] = {}
        while proc.poll() is None:
            children, cpu = processes()
            for pid in tree(proc.pid, children):
                seen[pid] = max(seen.get(pid, 0.0), cpu.get(pid, 0.0))
            time.sleep(0.5)
        out = proc.stdout.read()
        wall = time.perf_counter() - t0
    own = seen.get(proc.pid, 0.0)
    below = sum(v for k, v in seen.items() if k != proc.pid)
    for line in out.splitlines():
        if line.startswith(("- Optimised", "- Two-step", "  On ", "- Paid hours", "- LP ")):
            print(line)
    print(f"GOAL {args.scale:g}x week, ccsim plan {' '.join(extra) or '(defaults)'}: exit "
          f"{proc.returncode}, {wall:.0f} s wall (goal <= 600 s on 2 cores); about "
          f"{own + below:.0f} CPU-s ({own:.0f} in the command, {below:.0f} in the processes "
          "below it, the last half-second of each unseen)")


if __name__ == "__main__":
    main()
