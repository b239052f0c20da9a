"""The whole process of a ccsim command, as a negotiator runs it: wall, CPU, load, estimate.

Runs the command given after ``--`` (for example ``ccsim negotiate --until
service_level=0.01 --until stress_mean=0.1``), and reports:

- ``wall_s``: the whole process, start to exit (what ``/usr/bin/time`` says as "real");
- ``cpu_s``: CPU seconds of the whole process tree, the pool's workers included (which
  ``/usr/bin/time`` does not count: they are the fork server's children, not the
  command's); sampled from ``/proc`` every 0.2 s, so a process's last 0.2 s may be missed;
- ``load_before``/``load_after``: the 1-minute load average, for how quiet the machine was;
- ``warmup_s``, ``experiment_s``: from the output folder's ``manifest.json`` (the warm-ups,
  and the runs with their warm-ups); the rest of the wall time is start-up, the pilot,
  the page, the analyst's report and the PDF;
- ``estimate_s``: what the command announced before the runs ("about T in all"), and
  ``real/estimate``; ``first_real/predicted``: the whole process's wall time over the end
  that first announcement predicted (printed at t: t + T), which does not charge the
  estimate for the start-up and pilot before it (every estimate is announced: the command
  runs with ``CCSIM_ANNOUNCE_AFTER_S=0`` unless the environment sets it);
- ``announced``: every announcement with the second it was printed, the end it predicted
  (printed at t, "about T more" or "in all": t + T) and ``real/predicted`` (the whole
  process's wall time over that predicted end).

Usage::

    .venv/bin/python -m bench.bench_negotiate --out /tmp/neg -- \\
        .venv/bin/ccsim negotiate --until service_level=0.01 --until stress_mean=0.1

``--out`` is added to the command (and removed first, so nothing is resumed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.proctree import processes, tree


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Add the CPU seconds of ``root`` and its descendants to ``seen`` (by pid, last value)."""
    children, stats = processes()
    for pid in tree(root, children):
        if pid in stats:
            seen[pid] = max(seen.get(pid, 0.0), stats[pid])


_DURATION = re.compile(r"about (\d+(?:\.\d+)?) (s|min|h|days) (in all|more)")
_UNIT = {"s": 1, "min": 60, "h": 3600, "days": 86400}


def predicted(line: str) -> float | None:
    """Seconds still to go that an announcement predicts ("about T in all" or "T more")."""
    found = _DURATION.findall(line)
    if not found:
        return None
    value, unit, _ = found[-1]
    return float(value) * _UNIT[unit]


def main(argv: list[str] | None = None) -> int:
    """Run the command, print one JSON object with the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="the command's output folder")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    cmd = [c for c in args.command if c != "--"]
    shutil.rmtree(args.out, ignore_errors=True)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    # every estimate announced, however short the run (the command's default: over 10 s)
    env = {**os.environ, "CCSIM_ANNOUNCE_AFTER_S": os.environ.get("CCSIM_ANNOUNCE_AFTER_S",
                                                                  "0")}
    proc = subprocess.Popen([*cmd, "--out", str(args.out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    seen: dict[int, float] = {}
    stop = threading.Event()
    lines: list[tuple[float, str]] = []

    def read_err() -> None:
        for line in proc.stderr:
            lines.append((time.perf_counter() - t0, line.rstrip("\n")))

    reader = threading.Thread(target=read_err, daemon=True)
    reader.start()

    def sample() -> None:
        while not stop.is_set():
            _tree_cpu(proc.pid, seen)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.stdout.read()
    proc.wait()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    reader.join()
    err = "\n".join(line for _, line in lines)
    manifest = {}
    if (args.out / "manifest.json").exists():
        manifest = json.loads((args.out / "manifest.json").read_text())
    said = [(t, line, predicted(line)) for t, line in lines if predicted(line) is not None]
    est = said[0][2] if said else None
    reps = manifest.get("replications_run")
    print(json.dumps({
        "command": " ".join(cmd), "rc": proc.returncode, "wall_s": round(wall, 1),
        "cpu_s": round(sum(seen.values()), 1),
        "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
        "warmup_s": manifest.get("warmup_s"), "experiment_s": manifest.get("wall_s"),
        "replications_run": reps,
        "runs_per_scenario": reps // len(manifest["scenarios"]) if reps else None,
        "estimate_s": est, "real/estimate": round(wall / est, 2) if est else None,
        # the first announcement's accuracy: what was left when it was printed, against it
        "first_real/predicted": round(wall / (said[0][0] + est), 2) if est else None,
        "announced": [{"at_s": round(t, 1), "line": line, "predicted_end_s": round(t + p, 1),
                       "real/predicted": round(wall / (t + p), 2)} for t, line, p in said],
        "stderr_tail": err.splitlines()[-3:] if proc.returncode else [],
    }, indent=1))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
