"""Everything-on benchmark: twelve weeks of a 100-agent centre under a regime, with stress.

Issue 10's speed goal: a 12-week run (60 working days) of the 100-agent reference centre
with everything on (the strict individual regime of the 2018 TMR case: teams, individual
adherence policed with warnings, recording and evaluations, an AHT target; measured
stress with its feedback on handle time, sickness absence and attrition) simulates at
least half as many calls per second as the plain SimPy M/M/c+M model
(``bench/plain_simpy.py``, 200,000 calls) timed in the same run, with at most 1 KiB of
peak memory per simulated call. Each side runs in a fresh process: the plain model's
time is its event loop (as in ``bench_engine.py``), ccsim's is the whole ``simulate()``
(the event loop, the supervisor's daily reviews and the end-of-run tables and KPIs).

A benchmark, not a test: it asserts nothing. ``make bench`` runs it; ``--json`` prints one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIO = "scenarios/policy/telenor-tmr.toml"

#: everything on, over the scenario's own settings
OVERRIDES = {
    "stress.enabled": True,
    "stress.absence": True,
    "stress.attrition": True,
    "stress.feedback": True,
}

CCSIM_SCRIPT = """
import json, resource, sys, time
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from sim.model import simulate
from sim.scenario import load_scenario
over = json.loads(sys.argv[3])
s = load_scenario(sys.argv[1]).replace({"horizon.days": int(sys.argv[2]), **over})
imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
r = simulate(s, seed=1)
took = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
k = r.kpis
print(json.dumps({"calls": len(r.calls), "seconds": took, "imported_kib": imported,
                  "peak_kib": peak, "simulation_s": r.provenance.get("simulation_s"),
                  "kpis": {n: k.get(n) for n in ("service_level", "stress_mean",
                           "absence_rate", "attrition_rate", "warnings_per_agent")}}))
"""

PLAIN_SCRIPT = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from plain_simpy import plain_model
n = int(sys.argv[1])
t0 = time.perf_counter()
plain_model(n, 1)
print(json.dumps({"calls": n, "seconds": time.perf_counter() - t0}))
"""


def run_json(args: list[str]) -> dict:
    """Run a Python snippet in a fresh process and read its one JSON line."""
    proc = subprocess.run([sys.executable, "-c", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark process failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def figures(days: int, calls: int, repeat: int) -> dict:
    """Best of ``repeat`` for each side, and the ratio and memory figures."""
    plain = min((run_json([PLAIN_SCRIPT, str(calls), str(HERE)]) for _ in range(repeat)),
                key=lambda f: f["seconds"])
    runs = [run_json([CCSIM_SCRIPT, SCENARIO, str(days), json.dumps(OVERRIDES)])
            for _ in range(repeat)]
    ccsim = min(runs, key=lambda f: f["seconds"])
    plain_rate = plain["calls"] / plain["seconds"]
    rate = ccsim["calls"] / ccsim["seconds"]
    per_call = (ccsim["peak_kib"] - ccsim["imported_kib"]) * 1024 / ccsim["calls"]
    return {"scenario": SCENARIO, "overrides": OVERRIDES, "days": days,
            "plain_calls_per_s": plain_rate, "ccsim_calls_per_s": rate,
            "ratio": rate / plain_rate, "bytes_per_call": per_call, "ccsim": ccsim,
            "plain": plain}


def main(argv: list[str] | None = None) -> None:
    """Run and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=60, help="working days (60: twelve weeks)")
    p.add_argument("--calls", type=int, default=200_000, help="calls of the plain model")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    f = figures(a.days, a.calls, a.repeat)
    if a.json:
        print(json.dumps(f, indent=2))
        return
    c = f["ccsim"]
    print(f"everything on: {SCENARIO} with {', '.join(OVERRIDES)}, {a.days} working days")
    print(f"  plain SimPy M/M/c+M, {a.calls:,} calls   {f['plain_calls_per_s']:10,.0f} calls/s")
    print(f"  ccsim, {c['calls']:,} calls             {f['ccsim_calls_per_s']:10,.0f} calls/s"
          f"   ratio {f['ratio']:.2f} (goal >= 0.5)")
    print(f"  memory: {f['bytes_per_call']:,.0f} bytes per call above start-up "
          f"(goal <= 1024)")
    print("  " + ", ".join(f"{k} {v:.3g}" for k, v in c["kpis"].items() if v is not None))


if __name__ == "__main__":
    main()
