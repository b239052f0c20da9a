"""Size estimates against what one replication really takes, per shipped scenario.

For every scenario (default: ``scenarios/**/*.toml``), two fresh child processes:

- the estimate: the model imported and the scenario loaded (not timed), then the size guard
  as ``ccsim run`` consults it (``refuse``, then ``estimates`` with ``run``'s tables), timed
  in wall and CPU seconds: the goal is under 1 s of wall on a quiet machine;
- the real run: the same imports and scenario, then the replication's own warm-up (if the
  scenario has one) and replication 0 with ``run``'s tables written to a store, as the
  serial executor runs them; its CPU seconds, and its peak resident memory
  (``ru_maxrss``) less the process's peak before it (an idle interpreter with the model
  imported and the scenario loaded).

Printed per scenario: the estimate's wall and CPU; estimated against real CPU seconds of the
replication and of its warm-up (estimated: ``SizeGuard.warm_seconds`` on one core) and
memory, each ratio real/estimate; ``ok`` when every ratio is within 30% and the estimate
took under 1 CPU-s (its wall time on a quiet machine; a loaded one stretches the wall).
CPU seconds, not wall, are compared, and they inflate with the machine's load (2 cores
under a load of 15: base's replication took 0.60 to 0.98 CPU-s within minutes), so each
child also times the plain SimPy yardstick (``bench/plain_simpy.py``, 20,000 calls, the
least of three) beside its work, and the time ratios are at equal yardstick time ("ld" is
the real run's yardstick over the estimate's). The 1-minute load average is printed before
and after.

``--commands [NAME ...]``: whole commands as a user runs them (``COMMANDS``: ``ccsim run``
of base, the 2018 case, two-queues and copc with 3 replications, a ``compare`` of 2
scenarios, two small ``negotiate``), each in a fresh process with its output written: its
wall time, its process tree's CPU seconds (the pool's fork server and workers included) and
peak memory (every process's private pages, the shared ones once), against the command's
first estimate (``CCSIM_ESTIMATE_LOG``): the wall and CPU seconds before it plus what it
estimated left (wall, and CPU: ``cpu_left_s``), and its memory for the whole command. The
ratios real/estimated and their distribution; the goal is every one in [0.7, 1.3]. Under a
load well over the cores (6 helpers on 2), wall time is mostly the others' doing: compare
CPU. Measured on 2026-12-07 under a load of 12-18, the 7 commands twice (14 ratios each):
CPU 0.86 / 1.06 / 1.58 (least / median / most), 12 of 14 within [0.7, 1.3] (the misses: one
run's pilots of the 2018 case and two-queues, half a second of CPU each on a machine whose
CPU seconds for the same work moved by 1.7 times between spells); memory 0.89 / 0.95 /
1.11, 14 of 14; wall 0.35 / 0.92 / 1.31, 9 of 14 (docs/experiments.md, Size limits). With
the pilot timed by phase (6946b43), once each under a load of 10.5-13: CPU 0.86 / 0.98 /
1.12, 7 of 7; memory 0.91 / 0.94 / 1.11, 7 of 7; wall 0.92 / 1.16 / 1.33, 6 of 7; again at
7.5-11: CPU 0.67 / 0.93 / 1.25, 6 of 7 (a machine-speed reading of 1.93 in a short spell,
read again since 02ada5b), memory 7 of 7, wall 6 of 7.

``--spread [SCENARIO ...]``: the estimate's own spread (``SPREAD_SCENARIOS`` by default):
each scenario's estimate of one replication ``--repeat`` times (10) in one process, the
pilots run again each time, and once in each of as many fresh processes (what a command
gets); the coefficient of variation (standard deviation over mean) of each set, raw and at
equal machine speed (each estimate over the plain SimPy yardstick timed right after it, as
above), and the estimate's CPU seconds. Two-queues-tmr under a load of 12: 0.02 in one
process and 0.17 fresh after 6946b43; before it (aeebdb8) 0.10-0.15 and 0.08-0.20 under
loads of 6-12 (docs/experiments.md, Size limits).

``--report``: the cost of ``ccsim run``'s and ``compare``'s reports (``write_experiment``,
the report with its figures, matplotlib loaded inside) at a few sizes, against
``analysis.experiment.report_seconds``.

Usage::

    .venv/bin/python -m bench.bench_estimate                       # every shipped scenario
    .venv/bin/python -m bench.bench_estimate scenarios/base.toml scenarios/case/two-queues.toml
    .venv/bin/python -m bench.bench_estimate --estimate-only       # the 1 s goal only
    .venv/bin/python -m bench.bench_estimate --report              # the reports' cost
    .venv/bin/python -m bench.bench_estimate --spread              # the estimate's noise
    .venv/bin/python -m bench.bench_estimate --commands            # whole commands
    .venv/bin/python -m bench.bench_estimate --commands "run base" --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.proctree import processes, tree

ROOT = Path(__file__).resolve().parent.parent

_PRELUDE = """
import json, resource, sys, tempfile, time
from pathlib import Path
import sim.model
from analysis import experiment as ex
from analysis.cli import RUN_TABLES
from analysis.store import ReplicationStore
from sim.scenario import load_scenario

from bench.plain_simpy import plain_model


def reference():
    # CPU seconds of the plain SimPy yardstick now (this machine, this load): the least of
    # three, the one other work disturbed least
    times = []
    for _ in range(3):
        c0 = time.process_time()
        plain_model(20000, 1)
        times.append(time.process_time() - c0)
    return min(times)


s = load_scenario(sys.argv[1])
tables = RUN_TABLES + (("people_days",) if s.stress.enabled else ())
if s.call_types:
    from sim.measure.skills import SKILL_TABLES
    tables += SKILL_TABLES
"""

ESTIMATE = _PRELUDE + """
ref = reference()
guard = ex.SizeGuard()
c0, w0 = time.process_time(), time.perf_counter()
guard.refuse([s])
(est,) = guard.estimates([s], tables, tasks=1, parallel=1)
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
warm = ex.warmup_length(s) if s.warmup_days else 0
warm_s = ex.SizeGuard.warm_seconds([s], [est], [(s, warm)], 1, cores=1.0) if warm else 0.0
print(json.dumps({"estimate_wall_s": wall, "estimate_cpu_s": cpu, "measured": est.measured,
                  "rep_s": est.seconds, "fixed_s": est.fixed_s, "warm_s": warm_s,
                  "memory_mib": est.memory_bytes / 2**20, "warm_days": warm,
                  "days": s.horizon.days, "ref_s": ref}))
"""

REAL = _PRELUDE + """
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

base = peak()
ref = reference()
out = {}
start = None
if s.warmup_days:
    c0 = time.process_time()
    start = sim.model.warm_start(s, 1, 0)
    out["warm_cpu_s"] = time.process_time() - c0
c0 = time.process_time()
o = ex.run_task(ex.Task(0, s, 1, 0, tables, start=start))
with tempfile.TemporaryDirectory() as tmp:
    ReplicationStore(Path(tmp)).save(s, 1, 0, o.kpis, o.provenance, o.tables)
out["rep_cpu_s"] = time.process_time() - c0
out["memory_mib"] = (peak() - base) / 2**20
out["ref_s"] = (ref + reference()) / 2  # before and after
print(json.dumps(out))
"""

SPREAD = _PRELUDE + """
import dataclasses
n = int(sys.argv[2])
observe = ("strain_profile",) if s.stress.enabled else ()
out = []
for i in range(n):
    ex._PILOTS.clear()  # each estimate pilots again, as a fresh command's first one does
    c0 = time.process_time()
    e = ex.estimate(s, tables, observe=observe)
    cpu = time.process_time() - c0
    pilots = [dataclasses.asdict(p) if dataclasses.is_dataclass(p) else p
              for p in ex._PILOTS.values()]
    out.append({"est_s": e.seconds, "fixed_s": e.fixed_s, "cpu_s": cpu, "pilots": pilots,
                "ref_s": reference()})
print(json.dumps(out))
"""

REPORT = """
import json, sys, tempfile, time
from pathlib import Path
from analysis import experiment as ex
from analysis.cli import RUN_TABLES
from sim.scenario import load_scenario

kind, days, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ss = ex.unique_names([load_scenario(p).replace({"horizon.days": days,
                                                "horizon.warmup_days": 0}, source="bench")
                      for p in sys.argv[4:]])
stress = ss[0].stress.enabled
tables = (RUN_TABLES + (("people_days",) if stress else ())) if kind == "run" \\
    else ex.DEFAULT_TABLES
observe = ("strain_profile",) if kind == "run" and stress else ()
exp = ex.run_experiment(ss, 1, reps, executor=ex.SerialExecutor(), tables=tables,
                        observe=observe)
with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp)
    c0 = time.process_time()
    ex.write_experiment(out, exp, "bench", kind)
    if kind == "run":
        from analysis.run_report import write_run_report
        write_run_report(exp, out, {"command": "bench"})
    else:
        from analysis.report import compare, write_report
        from analysis.stats import COMPARE_CONFIDENCE
        write_report(exp, compare(exp, COMPARE_CONFIDENCE), out, {"command": "bench"}, [])
    cpu = time.process_time() - c0
model = ex.report_seconds(kind, [s for s in ss for _ in range(reps)])
print(json.dumps({"cpu_s": cpu, "model_s": model}))
"""


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter with ``args``; its one line of JSON."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"{args}: child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ratio(real: float | None, est: float | None) -> float | None:
    return None if not real or not est else real / est


def scenario_rows(paths: list[str], real: bool) -> list[dict]:
    """Estimate and (with ``real``) the real run of each scenario, one dict each."""
    rows = []
    for p in paths:
        row = {"scenario": p, **child(ESTIMATE, p)}
        if real:
            r = child(REAL, p)
            row.update({"real_rep_s": r["rep_cpu_s"], "real_warm_s": r.get("warm_cpu_s"),
                        "real_memory_mib": r["memory_mib"]})
            # CPU seconds inflate with the machine's load, which moves between the two
            # children: each is divided by the plain SimPy yardstick timed beside it
            load = r["ref_s"] / row["ref_s"]
            row["load_factor"] = load
            row["rep_ratio"] = _ratio(row["real_rep_s"], row["rep_s"] * load)
            row["warm_ratio"] = _ratio(row["real_warm_s"], row["warm_s"] * load)
            row["memory_ratio"] = _ratio(row["real_memory_mib"], row["memory_mib"])
        ratios = [row.get(k) for k in ("rep_ratio", "warm_ratio", "memory_ratio")]
        # the estimate's CPU: its wall on a quiet machine (a loaded one stretches the wall)
        row["ok"] = row["estimate_cpu_s"] < 1.0 and all(
            r is None or 1 / 1.3 <= r <= 1.3 for r in ratios)
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _f(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


HEADER = (f"{'scenario':42s} {'est wall':>8s} {'cpu':>5s} {'ld':>4s} | {'rep est':>7s} "
          f"{'real':>6s} {'ratio':>5s} | {'warm est':>8s} {'real':>6s} {'ratio':>5s} | "
          f"{'MiB est':>7s} {'real':>6s} {'ratio':>5s} | goal")


def _line(r: dict) -> str:
    return (f"{r['scenario'][:42]:42s} {r['estimate_wall_s']:8.2f} {r['estimate_cpu_s']:5.2f} "
            f"{_f(r.get('load_factor'), '4.2f')} | "
            f"{r['rep_s']:7.2f} {_f(r.get('real_rep_s'), '6.2f')} "
            f"{_f(r.get('rep_ratio'), '5.2f')} | {_f(r['warm_s'] or None, '8.2f')} "
            f"{_f(r.get('real_warm_s'), '6.2f')} {_f(r.get('warm_ratio'), '5.2f')} | "
            f"{r['memory_mib']:7.0f} {_f(r.get('real_memory_mib'), '6.0f')} "
            f"{_f(r.get('memory_ratio'), '5.2f')} | {'ok' if r['ok'] else 'MISSED'}")


REPORT_CASES = [
    ("run", 1, 1, ["scenarios/base.toml"]),
    ("run", 5, 3, ["scenarios/base.toml"]),
    ("run", 20, 5, ["scenarios/base.toml"]),
    ("run", 2, 2, ["scenarios/case/case-base.toml"]),
    ("compare", 5, 3, ["scenarios/base.toml", "scenarios/more-agents.toml"]),
    ("compare", 20, 5, ["scenarios/base.toml", "scenarios/more-agents.toml"]),
    ("compare", 2, 2, ["scenarios/case/telenor-2018-tmr.toml",
                       "scenarios/case/agreement-2016.toml"]),
]


def spread_rows(paths: list[str], repeat: int) -> list[dict]:
    """Each scenario's estimate ``repeat`` times in one process and once in each of
    ``repeat`` fresh processes: the coefficient of variation (sd / mean) of each set."""
    import statistics

    def cv(xs: list[float]) -> float:
        return statistics.stdev(xs) / statistics.mean(xs) if len(xs) > 1 else float("nan")

    rows = []
    for p in paths:
        one = child(SPREAD, p, str(repeat))
        fresh = [child(SPREAD, p, "1")[0] for _ in range(repeat)]
        row = {"scenario": p, "one_process": one, "fresh": fresh,
               "cv_one": cv([r["est_s"] for r in one]),
               "cv_fresh": cv([r["est_s"] for r in fresh]),
               # at equal machine speed: each estimate over the plain SimPy yardstick timed
               # right after it (the machine's speed for such work moves with its load)
               "cv_one_ref": cv([r["est_s"] / r["ref_s"] for r in one]),
               "cv_fresh_ref": cv([r["est_s"] / r["ref_s"] for r in fresh]),
               "mean_one": statistics.mean(r["est_s"] for r in one),
               "mean_fresh": statistics.mean(r["est_s"] for r in fresh),
               "cpu_fresh": sorted(r["cpu_s"] for r in fresh),
               "load": os.getloadavg()[0]}
        rows.append(row)
        print(f"{p[:36]:36s} one process: mean {row['mean_one']:5.2f} s cv {row['cv_one']:.3f}"
              f" ({row['cv_one_ref']:.3f} at equal speed) | fresh: mean "
              f"{row['mean_fresh']:5.2f} s cv {row['cv_fresh']:.3f} ({row['cv_fresh_ref']:.3f})"
              " | estimate "
              f"CPU {row['cpu_fresh'][0]:.2f}-{row['cpu_fresh'][-1]:.2f} s | load "
              f"{row['load']:.1f}", flush=True)
    return rows


def report_rows() -> list[dict]:
    """The reports' CPU seconds against the model, at a few sizes."""
    rows = []
    for kind, days, reps, paths in REPORT_CASES:
        r = child(REPORT, kind, str(days), str(reps), *paths)
        row = {"kind": kind, "days": days, "reps": reps, "scenarios": paths, **r,
               "ratio": r["cpu_s"] / r["model_s"]}
        rows.append(row)
        print(f"{kind:8s} {len(paths)} scenario(s) x {reps} rep(s) x {days:2d} day(s): "
              f"{r['cpu_s']:5.2f} CPU-s, model {r['model_s']:5.2f}, ratio {row['ratio']:.2f}",
              flush=True)
    return rows


#: the piloted scenarios whose estimates ``--spread`` repeats by default
SPREAD_SCENARIOS = ["scenarios/case/two-queues-tmr.toml", "scenarios/case/telenor-2018-tmr.toml",
                    "scenarios/policy/copc.toml", "scenarios/case/two-queues.toml"]

#: whole commands as a user runs them (fresh processes, output written): ``--commands``
COMMANDS = {
    "run base": ["run", "scenarios/base.toml"],
    "run case 2018": ["run", "scenarios/case/telenor-2018-tmr.toml"],
    "run two-queues": ["run", "scenarios/case/two-queues.toml"],
    "run copc x3": ["run", "scenarios/policy/copc.toml", "--reps", "3"],
    "compare base more-agents x2": ["compare", "scenarios/base.toml",
                                    "scenarios/more-agents.toml", "--reps", "2"],
    "negotiate x2 (4 days, 4 warm-up)": [
        "negotiate", "--reps", "2", "--days", "4", "--set", "horizon.warmup_days=4",
        "--no-pdf"],
    "negotiate x2 pdf (1 day)": [
        "negotiate", "--reps", "2", "--days", "1", "--set", "horizon.warmup_days=0"],
}


def _tree(root: int) -> dict[int, tuple[float, float, float]]:
    """(CPU seconds, RSS, private memory in bytes) of ``root`` and its descendants now, by pid."""
    children, cpu = processes()
    out = {}
    for pid in tree(root, children):
        kib: dict[str, float] = {}
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
                key, value = line.split(":", 1)
                kib[key] = float(value.split()[0]) * 1024
        except (OSError, ValueError, IndexError):
            continue
        private = kib.get("Private_Clean", 0.0) + kib.get("Private_Dirty", 0.0)
        out[pid] = (cpu.get(pid, 0.0), kib.get("Rss", 0.0), private)
    return out


def _needed(now: dict[int, tuple[float, float, float]]) -> float:
    """Memory a process tree needs: every process's private pages, the shared ones once.

    The shared pages (the libraries, what the pool's workers share with their fork server)
    counted once at the largest process's; not PSS, which divides pages shared with other
    users' processes of the same libraries (on a shared machine, those of other commands).
    """
    return sum(p for _, _, p in now.values()) + max(
        (r - p for _, r, p in now.values()), default=0.0)


def command_row(name: str, argv: list[str]) -> dict:
    """Run ``ccsim ARGV`` as a user would (a fresh process); what it took and was estimated.

    Sampled every 0.1 s from ``/proc``: the process tree's CPU seconds (the pool's fork
    server and workers included) and the memory it needs (:func:`_needed`; and the sum of
    RSS, which counts shared pages in every process). The estimate is read from the
    ``CCSIM_ESTIMATE_LOG`` the command appends to (its first check: what it announces
    first), with the wall and tree CPU seconds at that time.
    """
    import tempfile
    import threading
    import time

    with tempfile.TemporaryDirectory(prefix="ccsim-bench-") as tmp:
        log = Path(tmp) / "estimate.jsonl"
        env = {**os.environ, "CCSIM_ANNOUNCE_AFTER_S": "0", "CCSIM_ESTIMATE_LOG": str(log)}
        cmd = [str(Path(sys.executable).parent / "ccsim"), *argv, "--out",
               str(Path(tmp) / "out"), "--quiet"]
        load0 = os.getloadavg()[0]
        t0 = time.time()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT, env=env)
        seen: dict[int, float] = {}
        by_pid: dict[int, tuple[float, float]] = {}  # peak (private, RSS) of each process
        peak = {"needed": 0.0, "rss": 0.0, "main_rss": 0.0}
        trace: list[tuple[float, float]] = []  # (time, tree CPU seconds)
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                now = _tree(proc.pid)
                for pid, (c, _, _) in now.items():
                    seen[pid] = max(seen.get(pid, 0.0), c)
                for pid, (_, r, p) in now.items():
                    by_pid[pid] = max(by_pid.get(pid, (0.0, 0.0)), (p, r))
                peak["needed"] = max(peak["needed"], _needed(now))
                peak["rss"] = max(peak["rss"], sum(r for _, r, _ in now.values()))
                if proc.pid in now:
                    peak["main_rss"] = max(peak["main_rss"], now[proc.pid][1])
                trace.append((time.time() - t0, sum(seen.values())))
                stop.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.time() - t0
        stop.set()
        sampler.join()
        if status:
            raise SystemExit(f"{name}: ccsim failed:\n{err[-2000:]}")
        # the tree's CPU: the sampled figures, the main process's own from wait4 (exact)
        cpu = sum(c for pid, c in seen.items() if pid != proc.pid) + usage.ru_utime \
            + usage.ru_stime
        logs = [json.loads(line) for line in log.read_text().splitlines()] \
            if log.exists() else []
    row = {"command": name, "argv": argv, "wall_s": wall, "cpu_s": cpu,
           "peak_mib": peak["needed"] / 2**20, "peak_rss_mib": peak["rss"] / 2**20,
           "main_maxrss_mib": usage.ru_maxrss / 1024, "load_before": load0,
           "main_cpu_s": usage.ru_utime + usage.ru_stime,
           "main_peak_private_mib": by_pid.get(proc.pid, (0.0, 0.0))[0] / 2**20,
           "other_peak_private_mib": sorted((round(p / 2**20) for pid, (p, _) in
                                             by_pid.items() if pid != proc.pid), reverse=True),
           "other_cpu_s": sorted((round(c, 2) for pid, c in seen.items() if pid != proc.pid),
                                 reverse=True),
           "load_after": os.getloadavg()[0]}
    if logs:
        first = logs[0]
        at = first["at"] - t0
        cpu_at = max((c for t, c in trace if t <= at), default=first["cpu"])
        row.update({"announce_at_s": at, "cpu_at_s": cpu_at, "estimate": first,
                    "est_wall_s": at + first["total_s"],
                    "est_cpu_s": cpu_at + first.get("cpu_left_s", float("nan")),
                    "est_memory_mib": first.get("command_memory_bytes", float("nan")) / 2**20})
        row["wall_ratio"] = wall / row["est_wall_s"]
        row["cpu_ratio"] = cpu / row["est_cpu_s"]
        row["memory_ratio"] = row["peak_mib"] / row["est_memory_mib"]
    return row


def _command_line(r: dict) -> str:
    return (f"{r['command'][:34]:34s} {r['load_before']:4.1f} | {r.get('announce_at_s', 0):5.1f}"
            f" {r['wall_s']:6.1f} {_f(r.get('est_wall_s'), '6.1f')} "
            f"{_f(r.get('wall_ratio'), '5.2f')} | {r['cpu_s']:6.1f} "
            f"{_f(r.get('est_cpu_s'), '6.1f')} {_f(r.get('cpu_ratio'), '5.2f')} | "
            f"{r['peak_mib']:6.0f} {_f(r.get('est_memory_mib'), '6.0f')} "
            f"{_f(r.get('memory_ratio'), '5.2f')}")


COMMAND_HEADER = (f"{'command':34s} {'load':>4s} | {'at':>5s} {'wall':>6s} {'est':>6s} "
                  f"{'ratio':>5s} | {'CPU':>6s} {'est':>6s} {'ratio':>5s} | {'MiB':>6s} "
                  f"{'est':>6s} {'ratio':>5s}")


def _distribution(rows: list[dict]) -> str:
    """The ratios' least, median and most, and how many lie within [0.7, 1.3]."""
    import statistics

    out = []
    for key in ("wall_ratio", "cpu_ratio", "memory_ratio"):
        xs = sorted(r[key] for r in rows if r.get(key) == r.get(key) and key in r)
        if xs:
            inside = sum(0.7 <= x <= 1.3 for x in xs)
            out.append(f"{key}: {xs[0]:.2f} / {statistics.median(xs):.2f} / {xs[-1]:.2f} "
                       f"(least / median / most), {inside} of {len(xs)} in [0.7, 1.3]")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print the table (and one JSON object with ``--json``)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenarios", nargs="*", help="scenario files (default: every shipped one)")
    p.add_argument("--estimate-only", action="store_true", help="time the estimates only")
    p.add_argument("--report", action="store_true", help="the reports' cost instead")
    p.add_argument("--commands", nargs="*", metavar="NAME", default=None,
                   help="whole commands in fresh processes instead (default: all of "
                   + ", ".join(COMMANDS) + ")")
    p.add_argument("--spread", action="store_true",
                   help="the estimate's spread: --repeat estimates in one process and in as "
                   "many fresh ones (default 10)")
    p.add_argument("--repeat", type=int, default=None,
                   help="runs of each command (default 1), estimates of --spread (10)")
    p.add_argument("--json", action="store_true", help="also print one JSON object")
    args = p.parse_args(argv)
    load0 = os.getloadavg()[0]
    print(f"load average before: {load0:.2f} on {os.cpu_count()} cores")
    if args.commands is not None:
        print(COMMAND_HEADER)
        rows = []
        for _ in range(args.repeat or 1):
            for name in args.commands or COMMANDS:
                rows.append(command_row(name, COMMANDS[name]))
                print(_command_line(rows[-1]), flush=True)
        print(_distribution(rows))
    elif args.report:
        rows = report_rows()
    elif args.spread:
        rows = spread_rows(args.scenarios or SPREAD_SCENARIOS, args.repeat or 10)
    else:
        paths = args.scenarios or sorted(str(q.relative_to(ROOT)) for q in
                                         (ROOT / "scenarios").rglob("*.toml"))
        print(HEADER)
        rows = scenario_rows(paths, real=not args.estimate_only)
        missed = [r["scenario"] for r in rows if not r["ok"]]
        print(f"{len(rows) - len(missed)} of {len(rows)} within 30% and under 1 CPU-s"
              + (f"; missed: {', '.join(missed)}" if missed else ""))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        print(json.dumps({"load_before": load0, "load_after": os.getloadavg()[0],
                          "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
