"""Speed and memory as the user feels them (issue 18): every goal as a ratio with its target.

Each figure is a separate process timed from start to exit, with the plain SimPy model
(``bench/plain_simpy.py``, a whole process too) timed in the same run, so that the ratios
are taken under the same load:

1. **Everything on, twelve weeks, whole process**: ``ccsim run
   scenarios/case/telenor-2018-tmr.toml --days 60 --reps 1 --executor serial`` (the 2018
   TMR regime with stress, absence, attrition and feedback, as in ``case-base.toml``), from
   the prompt to the written report. Calls per second (the run's calls, from its manifest,
   over the process's wall time) against the plain model's: goal at least 0.5.
2. **The case's two phone queues and e-mail, everything on, twelve weeks** (issue 22):
   the same for ``scenarios/case/two-queues-tmr.toml`` (the 2018 regime on the queues,
   groups and written work of ``two-queues.toml``; ``--queues``): goal at least 0.4.
3. **Peak resident memory per call**, marginal between a 5-day and a 60-day ``ccsim run``
   (whole process, its own ``ru_maxrss``): goal at most 1,024 bytes everything on and at
   most 768 bytes for ``scenarios/base.toml``.
4. **``ccsim validate``**, whole process, against the plain script on the same M/M/100+M
   system (``--calls`` calls): the plain script's time over ccsim's, goal at least 1.5.
5. **Erlang requirements cached by their inputs**: the requirement of the case scenario
   computed twice in one process; the second must be a cache hit (no recomputation).
6. **KPIs by day from one grouping**: ``compute_kpis(data, by="day")`` against the loop it
   replaced (``compute_kpis`` once per day over filtered frames) on a 20-day everything-on
   run, with the two checked equal.

Wall time is what the user feels; on a shared machine it also measures the neighbours, so
each line also gives the ratio of CPU time (user + system of the child) taken in the same
run. A benchmark, not a test: it asserts nothing (it stops if a process fails or a check of
identical results does not hold). ``make bench`` runs it; ``--json`` prints one object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CCSIM = str(Path(sys.executable).parent / "ccsim")
CASE = "scenarios/case/telenor-2018-tmr.toml"
#: issue 22's whole-process goal: the case's two phone queues and e-mail, everything on
QUEUES = "scenarios/case/two-queues-tmr.toml"
BASE = "scenarios/base.toml"
#: the plain M/M/100+M system of the validate figure (as in bench_process.py)
SYSTEM = ["--aht", "300", "--agents", "100", "--patience", "120"]

ERLANG_SCRIPT = """
import json, sys, time
from sim.scenario import load_scenario
from sim.engine.schedule import erlang_required
from sim.planning.erlang import agents_for_service_level as f
s = load_scenario(sys.argv[1])
cached = hasattr(f, "cache_info")  # code before the cache: every interval is solved again
t0 = time.perf_counter(); first = erlang_required(s); t1 = time.perf_counter()
before = f.cache_info() if cached else None
again = erlang_required(s); t2 = time.perf_counter()
after = f.cache_info() if cached else None
asked = int((first > 0).sum())
print(json.dumps({"first_s": t1 - t0, "second_s": t2 - t1, "intervals": len(first),
                  "same": bool((first == again).all()),
                  "misses_second": after.misses - before.misses if cached else asked,
                  "hits_second": after.hits - before.hits if cached else 0}))
"""

KPI_SCRIPT = """
import json, sys, time
import pandas as pd
from sim.model import simulate
from sim.measure import kpi
from sim.scenario import load_scenario
s = load_scenario(sys.argv[1]).replace({"horizon.days": int(sys.argv[2])})
res = simulate(s, 1, 0)
# the KPI inputs, rebuilt from the result as collect builds them
from sim.measure.tables import clip_to_opening
counted = res.calls[res.calls["counted"]]
in_window = clip_to_opening(res.statuses, s)
base = dict(absences=res.absences, actions=res.actions, exceptions=res.exceptions,
            evaluations=res.evaluations,
            working_days_per_month=s.schedule.days_per_year / 12, cost=s.cost,
            paid_login_s=s.measurement.adherence.paid_login_minutes * 60.0,
            targets=s.targets, team_of=res.agents["team"].to_numpy())
whole = kpi.KPIData(counted, in_window, s.service_level, res.agent_days, **base)
t0 = time.perf_counter()
loop = pd.DataFrame([
    kpi.compute_kpis(kpi.KPIData(
        counted[counted["day"] == d], in_window[in_window["day"] == d], s.service_level,
        res.agent_days[res.agent_days["day"] == d],
        **{**base, **{k: base[k][base[k]["day"] == d]
                      for k in ("absences", "actions", "exceptions", "evaluations")}}))
    for d in range(s.horizon.days)])
t1 = time.perf_counter()
if not hasattr(kpi, "split"):  # code before KPIs by day: the loop is all there is
    print(json.dumps({"loop_s": t1 - t0, "by_s": t1 - t0, "days": s.horizon.days,
                      "same": True}))
    sys.exit()
by = kpi.compute_kpis(whole, by="day", keys=range(s.horizon.days))
t2 = time.perf_counter()
got = by.drop(columns="day").reset_index(drop=True)
same = bool(((got == loop) | (got.isna() & loop.isna())).all().all())
print(json.dumps({"loop_s": t1 - t0, "by_s": t2 - t1, "days": s.horizon.days,
                  "same": same}))
"""


#: the figures ``--only`` may choose (all by default)
GOALS = ("run", "queues", "memory", "validate", "erlang", "kpis")


def measure(cmd: list[str]) -> dict:
    """Run ``cmd`` in a fresh process: wall and CPU seconds, its own peak RSS, its output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True)
        _, status, ru = os.wait4(proc.pid, 0)  # this child's own rusage (maxrss included)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read()}")
        return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
                "maxrss_kib": ru.ru_maxrss, "stdout": out.read()}


def best(cmd: list[str], repeat: int) -> dict:
    """The fastest (wall) of ``repeat`` runs; the peak memory is the largest seen."""
    runs = [measure(cmd) for _ in range(repeat)]
    fastest = min(runs, key=lambda r: r["wall_s"])
    return {**fastest, "cpu_s": min(r["cpu_s"] for r in runs),
            "maxrss_kib": max(r["maxrss_kib"] for r in runs)}


def ccsim_run(scenario: str, days: int, repeat: int) -> dict:
    """``ccsim run SCENARIO --days DAYS --reps 1 --executor serial`` into a fresh folder."""
    runs = []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="bench-user-"))
        try:
            r = measure([CCSIM, "run", scenario, "--days", str(days), "--reps", "1",
                         "--executor", "serial", "--quiet", "--out", str(folder / "out")])
            manifest = json.loads((folder / "out" / "manifest.json").read_text())
            r["calls"] = manifest["provenance"][0]["calls"]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        runs.append(r)
    fastest = min(runs, key=lambda r: r["wall_s"])
    return {**fastest, "cpu_s": min(r["cpu_s"] for r in runs),
            "maxrss_kib": max(r["maxrss_kib"] for r in runs), "days": days}


def plain(calls: int, repeat: int) -> dict:
    """The plain SimPy script on the M/M/100+M system, ``calls`` calls."""
    r = best([sys.executable, str(HERE / "plain_simpy.py"), "--calls", str(calls),
              "--rate", "1080", *SYSTEM], repeat)
    return {**r, "calls": calls}


def snippet(script: str, *args: str) -> dict:
    """A Python snippet in a fresh process; its last line of output as JSON."""
    r = measure([sys.executable, "-c", script, *args])
    return json.loads(r["stdout"].strip().splitlines()[-1])


def marginal(short: dict, long: dict) -> float:
    """Peak resident bytes per call between two runs of different length."""
    return ((long["maxrss_kib"] - short["maxrss_kib"]) * 1024
            / (long["calls"] - short["calls"]))


def figures(a: argparse.Namespace) -> dict:
    """Every goal's figures, the plain model timed before and after (the better kept)."""
    only = set(a.only or GOALS)
    f: dict = {"plain": plain(a.calls, a.repeat)}
    if "run" in only or "memory" in only:
        f["case_long"] = ccsim_run(a.case, a.days, a.repeat)
    if "queues" in only:
        f["queues_long"] = ccsim_run(a.queues, a.days, a.repeat)
    if "memory" in only:
        f["case_short"] = ccsim_run(a.case, a.short_days, 1)
        f["base_short"] = ccsim_run(BASE, a.short_days, 1)
        f["base_long"] = ccsim_run(BASE, a.days, 1)
    if "validate" in only:
        f["validate"] = best([CCSIM, "validate", "--rate", "1080/h", "--target", "20",
                              "--calls", str(a.calls), "--reps", "1", *SYSTEM], a.repeat)
    if "erlang" in only:
        f["erlang"] = snippet(ERLANG_SCRIPT, a.case)
    if "kpis" in only:
        f["kpis"] = snippet(KPI_SCRIPT, a.case, str(a.kpi_days))
    again = plain(a.calls, a.repeat)  # the load may have changed over the run
    if again["wall_s"] < f["plain"]["wall_s"]:
        f["plain"] = again
    return f


#: each goal's line in the report: what it is, and the unit its value and goal are in
LABELS: dict[str, tuple[str, str]] = {
    "run_calls_per_s": ("everything on: calls/s, wall, vs plain SimPy", "x"),
    "run_calls_per_cpu_s": ("everything on: calls/s, CPU, vs plain SimPy", "x"),
    "queues_calls_per_s": ("two queues and e-mail, everything on: calls/s, wall", "x"),
    "queues_calls_per_cpu_s": ("two queues and e-mail, everything on: calls/s, CPU", "x"),
    "memory_case_bytes_per_call": ("peak memory per call, everything on (marginal)", "B"),
    "memory_base_bytes_per_call": ("peak memory per call, base centre (marginal)", "B"),
    "validate": ("ccsim validate vs plain SimPy, wall", "x"),
    "validate_cpu": ("ccsim validate vs plain SimPy, CPU", "x"),
    "erlang_recomputed_second_run": ("Erlang requirements solved again", ""),
    "kpis_by_day_speedup": ("KPIs by day: one grouping vs a loop", "x"),
}


def ratios(f: dict) -> dict:
    """The goals as ratios: (name, value, goal, higher is better)."""
    p = f["plain"]
    out = {}
    if "case_long" in f:
        c = f["case_long"]
        out["run_calls_per_s"] = ((c["calls"] / c["wall_s"]) / (p["calls"] / p["wall_s"]),
                                  0.5, True)
        out["run_calls_per_cpu_s"] = ((c["calls"] / c["cpu_s"]) / (p["calls"] / p["cpu_s"]),
                                      0.5, True)
    if "queues_long" in f:
        q = f["queues_long"]
        out["queues_calls_per_s"] = ((q["calls"] / q["wall_s"]) / (p["calls"] / p["wall_s"]),
                                     0.4, True)
        out["queues_calls_per_cpu_s"] = ((q["calls"] / q["cpu_s"])
                                         / (p["calls"] / p["cpu_s"]), 0.4, True)
    if "case_short" in f:
        out["memory_case_bytes_per_call"] = (marginal(f["case_short"], f["case_long"]),
                                             1024, False)
        out["memory_base_bytes_per_call"] = (marginal(f["base_short"], f["base_long"]),
                                             768, False)
    if "validate" in f:
        out["validate"] = (p["wall_s"] / f["validate"]["wall_s"], 1.5, True)
        out["validate_cpu"] = (p["cpu_s"] / f["validate"]["cpu_s"], 1.5, True)
    if "erlang" in f:
        e = f["erlang"]
        out["erlang_recomputed_second_run"] = (e["misses_second"], 0, False)
    if "kpis" in f:
        k = f["kpis"]
        out["kpis_by_day_speedup"] = (k["loop_s"] / k["by_s"], 1.0, True)
    return out


def _quantity(value: float, unit: str) -> str:
    """A goal's value with its unit: 0.31x, 1,004 B, 0."""
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "B":
        return f"{value:,.0f} B"
    return f"{value:g}"


def report(f: dict, a: argparse.Namespace) -> None:
    """Print the figures and the ratios against their goals."""
    p = f["plain"]
    print(f"plain SimPy script, {p['calls']:,} calls: {p['wall_s']:.2f} s wall, "
          f"{p['cpu_s']:.2f} s CPU ({p['calls'] / p['wall_s']:,.0f} calls/s)")
    for key, label in (("case_long", f"ccsim run {a.case} --days {a.days}"),
                       ("queues_long", f"ccsim run {a.queues} --days {a.days}"),
                       ("case_short", f"ccsim run {a.case} --days {a.short_days}"),
                       ("base_long", f"ccsim run {BASE} --days {a.days}"),
                       ("base_short", f"ccsim run {BASE} --days {a.short_days}")):
        if key in f:
            c = f[key]
            print(f"{label}: {c['calls']:,} calls, {c['wall_s']:.2f} s wall, {c['cpu_s']:.2f} "
                  f"s CPU, peak {c['maxrss_kib'] / 1024:,.0f} MiB")
    if "validate" in f:
        v = f["validate"]
        print(f"ccsim validate (M/M/100+M, {a.calls:,} calls): {v['wall_s']:.2f} s wall, "
              f"{v['cpu_s']:.2f} s CPU")
    if "erlang" in f:
        e = f["erlang"]
        print(f"Erlang requirement of {a.case} ({e['intervals']} intervals): first "
              f"{e['first_s'] * 1000:.1f} ms, again {e['second_s'] * 1000:.2f} ms "
              f"({e['hits_second']} cache hits, {e['misses_second']} recomputed, same: "
              f"{e['same']})")
    if "kpis" in f:
        k = f["kpis"]
        print(f"KPIs of {k['days']} days: per-day loop {k['loop_s']:.2f} s, by='day' "
              f"{k['by_s']:.2f} s (same values: {k['same']})")
    print(f"\n{'goal (whole processes; plain SimPy timed in the same run)':57s} "
          f"{'value':>9s}  {'goal':11s} met")
    for name, (value, goal, higher) in ratios(f).items():
        label, unit = LABELS[name]
        met = value >= goal if higher else value <= goal
        sign = ">=" if higher else "<="
        print(f"  {label:55s} {_quantity(value, unit):>9s}  {sign} {_quantity(goal, unit):8s} "
              f"{'yes' if met else 'NO'}")


def main(argv: list[str] | None = None) -> None:
    """Run and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=60, help="the long runs (60: twelve weeks)")
    p.add_argument("--short-days", type=int, default=5, help="the short runs of the memory "
                   "figure")
    p.add_argument("--calls", type=int, default=200_000, help="calls of the plain model and "
                   "of validate")
    p.add_argument("--kpi-days", type=int, default=20, help="days of the KPI-by-day figure")
    p.add_argument("--repeat", type=int, default=1, help="runs of each timed figure (best)")
    p.add_argument("--only", nargs="*", choices=GOALS, help="some goals only")
    p.add_argument("--case", default=CASE, help="the everything-on scenario of the run and "
                   f"memory figures (default {CASE})")
    p.add_argument("--queues", default=QUEUES, help="the scenario of issue 22's goal of "
                   f"0.4x (default {QUEUES})")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    f = figures(a)
    if a.json:
        for v in f.values():
            if isinstance(v, dict):
                v.pop("stdout", None)
        print(json.dumps({"figures": f, "ratios": ratios(f)}, indent=2))
        return
    report(f, a)


if __name__ == "__main__":
    main()
