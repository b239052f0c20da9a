"""Whole-process benchmark: what a user feels, from the prompt to the answer.

Times, as separate processes in one run (best of ``--repeat``):
- ``ccsim --help`` (start-up: the goal is under 0.3 s);
- ``ccsim validate`` on an M/M/100+M day of ``--calls`` calls (1080 calls/h, AHT 300 s,
  patience 120 s), with the default executor and with ``--executor serial``;
- ``bench/plain_simpy.py`` on the same system: a plain idiomatic SimPy model that prints
  its KPIs, the yardstick. The ratio is ccsim's measured calls per second over the plain
  model's (goal: at least 1.2);
- the memory of a long run: ``simulate`` of scenarios/base.toml over ``--days`` days
  (default 84, twelve weeks) in a fresh process, as peak resident memory per simulated
  call above the process's start-up (goal: at most 1 KiB).

A benchmark, not a test: it asserts nothing. ``make bench`` runs it after the engine
benchmark; ``--json`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
CCSIM = str(BIN / "ccsim")

MEMORY_SCRIPT = """
import json, resource, sys
from sim.scenario import load_scenario, scenario_from_dict
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from sim.model import simulate
d = load_scenario("scenarios/base.toml").to_dict()
d["horizon"]["days"] = int(sys.argv[1])
imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = simulate(scenario_from_dict(d), seed=1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"calls": len(r.calls), "start_kib": start, "imported_kib": imported,
                  "peak_kib": peak}))
"""


def timed(cmd: list[str], repeat: int) -> tuple[float, str]:
    """Best wall time of ``repeat`` runs of ``cmd`` (it must succeed), and its last output."""
    best, out = float("inf"), ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        took = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        best, out = min(best, took), proc.stdout
    return best, out


def figures(calls: int, repeat: int, days: int) -> dict:
    """All the whole-process figures."""
    system = ["--aht", "300", "--agents", "100", "--patience", "120"]
    validate = [CCSIM, "validate", "--rate", "1080/h", "--target", "20", "--calls",
                str(calls), "--reps", "1", *system]
    help_s, _ = timed([CCSIM, "--help"], max(repeat, 5))
    plain_s, _ = timed([sys.executable, str(HERE / "plain_simpy.py"), "--calls", str(calls),
                        "--rate", "1080", *system], repeat)
    val_s, _ = timed(validate, repeat)
    serial_s, _ = timed([*validate, "--executor", "serial"], repeat)
    _, mem_out = timed([sys.executable, "-c", MEMORY_SCRIPT, str(days)], 1)
    mem = json.loads(mem_out)
    per_call = (mem["peak_kib"] - mem["imported_kib"]) * 1024 / mem["calls"]
    return {
        "calls": calls,
        "help_s": help_s,
        "plain_simpy_s": plain_s,
        "validate_s": val_s,
        "validate_serial_s": serial_s,
        "ratio_validate": plain_s / val_s,
        "ratio_validate_serial": plain_s / serial_s,
        "memory": {"days": days, **mem, "bytes_per_call": per_call},
    }


def main(argv: list[str] | None = None) -> None:
    """Run and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--days", type=int, default=84, help="days of base.toml for the memory run")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    f = figures(a.calls, a.repeat, a.days)
    if a.json:
        print(json.dumps(f, indent=2))
        return
    m = f["memory"]
    print(f"whole processes, {a.calls:,} calls, best of {a.repeat}")
    print(f"  ccsim --help                      {f['help_s']:6.2f} s   (goal < 0.3 s)")
    print(f"  plain SimPy model (script)        {f['plain_simpy_s']:6.2f} s")
    print(f"  ccsim validate                    {f['validate_s']:6.2f} s   ratio "
          f"{f['ratio_validate']:.2f} (goal >= 1.2; > 1 means ccsim is faster)")
    print(f"  ccsim validate --executor serial  {f['validate_serial_s']:6.2f} s   ratio "
          f"{f['ratio_validate_serial']:.2f}")
    print(f"memory: base.toml over {m['days']} days, {m['calls']:,} calls: peak "
          f"{m['peak_kib'] / 1024:,.0f} MiB, {m['bytes_per_call']:,.0f} bytes per call above "
          f"start-up (goal <= 1024)")


if __name__ == "__main__":
    main()
