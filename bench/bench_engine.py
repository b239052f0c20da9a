"""Engine benchmark: ccsim against a plain, idiomatic SimPy model of the same system.

Both sides simulate one stationary M/M/c+M day (100 agents, load 0.9, exponential talk
with mean 300 s and no ACW, exponential patience with mean 180 s) for about ``--calls``
calls, each ``--repeat`` times, and the best (minimum) wall time of each is reported as
calls simulated per second. The ccsim side is timed twice over: the whole of
``simulate()`` (which also builds the pandas result tables and KPIs) and the
``provenance["simulation_s"]`` figure it reports itself (sampling plus the event loop,
including the full agent status log). The KPIs of both models are printed beside the
exact Erlang A values as a check that they simulate the same system.

``--frames`` counts instead of timing: the Python frames and builtin calls per call of
ccsim's event loop and of the plain model, and of the everything-on case (2018 TMR, two
days from a five-day warm-up: its loop and its whole ``simulate()``), the same on a quiet
and on a loaded machine (so a change to the hot path can be judged where timings are noise).

This is a benchmark, not a test: it asserts nothing. Run it with ``make bench`` or
``.venv/bin/python bench/bench_engine.py [--calls N] [--repeat R] [--json] [--frames]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import simpy
from plain_simpy import (  # bench/ is on sys.path when run as a script
    AGENTS,
    AHT_S,
    LOAD,
    PATIENCE_S,
    RATE,
    THRESHOLD_S,
    plain_kpis,
    plain_model,
)

from sim.model import build, run, simulate, versions, warm_start
from sim.planning.erlang import erlang_a_metrics
from sim.planning.stationary import stationary_scenario
from sim.scenario import load_scenario

#: the everything-on scenario of the frame counts
CASE = str(Path(__file__).resolve().parent.parent / "scenarios/case/telenor-2018-tmr.toml")

KPI_NAMES = ("abandon_rate", "p_wait", "service_level", "asa_s")


@dataclass
class Timing:
    """Best-of-R figures for one model."""

    calls: int = 0
    seconds: float = math.inf
    event_loop_s: float = math.inf  # ccsim only: provenance["simulation_s"]
    events: int | None = None
    kpis: dict[str, float] = field(default_factory=dict)
    runs: list[float] = field(default_factory=list)


# ------------------------------------------------------------------------ event count


def events_scheduled(env: simpy.Environment) -> int | None:
    """Events an environment has scheduled so far (all processed once ``run()`` empties it).

    Reads SimPy's private event-id counter, so it costs nothing during the run; returns
    None if a SimPy version does not have it.
    """
    eid = getattr(env, "_eid", None)
    return next(eid) if eid is not None else None


@contextmanager
def capture_environments() -> Iterator[list[simpy.Environment]]:
    """Collect every ``simpy.Environment`` created inside the block (one call per run)."""
    envs: list[simpy.Environment] = []
    original = simpy.Environment.__init__

    def init(self: simpy.Environment, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        envs.append(self)

    simpy.Environment.__init__ = init  # type: ignore[method-assign]
    try:
        yield envs
    finally:
        simpy.Environment.__init__ = original  # type: ignore[method-assign]


# ---------------------------------------------------------------------------- ccsim


def run_ccsim(calls: int, seed: int, best: Timing) -> None:
    """Time one ``simulate()`` of the benchmark system and fold it into ``best``."""
    scenario = stationary_scenario(RATE, AHT_S, AGENTS, THRESHOLD_S, PATIENCE_S,
                                   calls=calls, warmup_calls=0)
    gc.collect()
    with capture_environments() as envs:
        t0 = time.perf_counter()
        result = simulate(scenario, seed, 0)
        total = time.perf_counter() - t0
    best.runs.append(total)
    best.calls = len(result.calls)
    best.seconds = min(best.seconds, total)
    best.event_loop_s = min(best.event_loop_s, float(result.provenance["simulation_s"]))
    best.events = events_scheduled(envs[-1]) if envs else None
    best.kpis = {k: float(result.kpis[k]) for k in KPI_NAMES}


# ------------------------------------------------------------------------ plain SimPy


def run_plain(calls: int, seed: int, best: Timing) -> None:
    """Time one run of the plain SimPy model and fold it into ``best``."""
    gc.collect()
    t0 = time.perf_counter()
    env, _arrival, wait, abandoned = plain_model(calls, seed)
    total = time.perf_counter() - t0
    best.runs.append(total)
    best.calls = len(wait)
    best.seconds = min(best.seconds, total)
    best.events = events_scheduled(env)
    best.kpis = plain_kpis(wait, abandoned)


# ----------------------------------------------------------------------- frame counts


def count_calls(work: Any) -> tuple[int, int]:
    """(Python frames, builtin calls) that ``work()`` makes, counted by a profile hook."""
    counts = {"call": 0, "c_call": 0}

    def hook(_frame: Any, event: str, _arg: Any) -> None:
        if event in counts:
            counts[event] += 1

    sys.setprofile(hook)
    try:
        work()
    finally:
        sys.setprofile(None)
    return counts["call"], counts["c_call"]


def frames(calls: int, seed: int) -> dict[str, dict[str, float]]:
    """Python frames and builtin calls per simulated call: ccsim's event loop, plain SimPy."""
    scenario = stationary_scenario(RATE, AHT_S, AGENTS, THRESHOLD_S, PATIENCE_S,
                                   calls=calls, warmup_calls=0)
    r = build(scenario, seed, 0)
    n = r.centre.n_first
    py, c = count_calls(lambda: run(r))
    out = {"ccsim event loop": {"calls": n, "frames": py / n, "builtin": c / n}}
    # everything on (the 2018 case: regime, real-time alerts, stress, absence, attrition,
    # feedback), two measured days from a five-day warm-up: the event loop alone, and
    # simulate() as a whole (with the tables and KPIs it collects)
    case = load_scenario(CASE).replace({"horizon.days": 2})
    start = warm_start(case, seed, days=5)
    r = build(case, seed, 0, start=start)
    py, c = count_calls(lambda: run(r))
    n = len(r.centre.arrival)  # first calls and repeats
    out["everything on, loop"] = {"calls": n, "frames": py / n, "builtin": c / n}
    py, c = count_calls(lambda: simulate(case, seed, 0, start=start))
    out["everything on, simulate()"] = {"calls": n, "frames": py / n, "builtin": c / n}
    plain: list[int] = []
    py, c = count_calls(lambda: plain.append(len(plain_model(calls, seed)[2])))
    out["plain SimPy"] = {"calls": plain[0], "frames": py / plain[0], "builtin": c / plain[0]}
    return out


# ---------------------------------------------------------------------------- report


def figures(calls: int, repeat: int, seed: int) -> dict[str, Any]:
    """Run both models ``repeat`` times (interleaved) and collect the figures."""
    versions()  # cached git/version lookup: keep its subprocess out of the first timing
    cc, pl = Timing(), Timing()
    for _ in range(repeat):
        run_ccsim(calls, seed, cc)
        run_plain(calls, seed, pl)
    exact = erlang_a_metrics(RATE, AHT_S, AGENTS, THRESHOLD_S, PATIENCE_S).as_dict()
    cps_total = cc.calls / cc.seconds
    cps_loop = cc.calls / cc.event_loop_s
    cps_plain = pl.calls / pl.seconds
    return {
        "system": {"agents": AGENTS, "load": LOAD, "rate_per_s": RATE, "aht_s": AHT_S,
                   "patience_s": PATIENCE_S, "threshold_s": THRESHOLD_S,
                   "calls_requested": calls, "repeat": repeat, "seed": seed},
        "ccsim": {
            "calls": cc.calls,
            "simulate_s": cc.seconds,
            "event_loop_s": cc.event_loop_s,
            "calls_per_s_total": cps_total,
            "calls_per_s_event_loop": cps_loop,
            "events": cc.events,
            "runs_s": cc.runs,
            "kpis": cc.kpis,
        },
        "plain": {
            "calls": pl.calls,
            "seconds": pl.seconds,
            "calls_per_s": cps_plain,
            "events": pl.events,
            "runs_s": pl.runs,
            "kpis": pl.kpis,
        },
        "ratio_total_vs_plain": cps_total / cps_plain,
        "ratio_event_loop_vs_plain": cps_loop / cps_plain,
        "exact_erlang_a": {k: exact[k] for k in KPI_NAMES},
        "python": platform.python_version(),
        "versions": {k: v for k, v in versions()["versions"].items()
                     if k in ("ccsim", "simpy", "numpy", "pandas")},
    }


def print_report(f: dict[str, Any]) -> None:
    """Human-readable tables of :func:`figures`."""
    s, cc, pl = f["system"], f["ccsim"], f["plain"]
    print(f"M/M/{s['agents']}+M, load {s['load']}, AHT {s['aht_s']:g} s, patience "
          f"{s['patience_s']:g} s, ~{s['calls_requested']} calls, best of {s['repeat']} "
          f"(Python {f['python']}, SimPy {f['versions']['simpy']})")
    print()

    def ev(n: int | None, calls: int) -> str:
        return f"{n:>10,} {n / calls:>9.2f}" if n is not None else f"{'-':>10} {'-':>9}"

    head = f"{'model':<26} {'calls':>8} {'seconds':>8} {'calls/s':>9} {'events':>10} {'ev/call':>9}"
    print(head)
    print("-" * len(head))
    rows = (
        ("ccsim simulate() total", cc["calls"], cc["simulate_s"], cc["events"]),
        ("ccsim event loop", cc["calls"], cc["event_loop_s"], cc["events"]),
        ("plain SimPy", pl["calls"], pl["seconds"], pl["events"]),
    )
    for name, calls, secs, events in rows:
        print(f"{name:<26} {calls:>8,} {secs:>8.3f} {calls / secs:>9,.0f} {ev(events, calls)}")
    print()
    print(f"ratio (simulate total / plain): {f['ratio_total_vs_plain']:.2f}  "
          "(calls/s; > 1 means ccsim is faster)")
    print(f"ratio (event loop / plain):     {f['ratio_event_loop_vs_plain']:.2f}")
    print()
    print(f"{'KPI':<16} {'Erlang A':>10} {'ccsim':>10} {'plain':>10}")
    for k in KPI_NAMES:
        print(f"{k:<16} {f['exact_erlang_a'][k]:>10.4f} {cc['kpis'][k]:>10.4f} "
              f"{pl['kpis'][k]:>10.4f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000,
                        help="calls to simulate per run (default 200000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each model; the best time is reported (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of both models (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.add_argument("--frames", action="store_true",
                        help="count Python frames and builtin calls per call instead of timing")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.repeat < 1:
        parser.error("--calls and --repeat must be >= 1")
    if args.frames:
        counts = frames(args.calls, args.seed)
        if args.json:
            print(json.dumps(counts, indent=2))
            return
        print(f"{'per call':<27} {'calls':>8} {'Python frames':>14} {'builtin calls':>14}")
        for name, c in counts.items():
            print(f"{name:<27} {c['calls']:>8,} {c['frames']:>14.3f} {c['builtin']:>14.3f}")
        return
    f = figures(args.calls, args.repeat, args.seed)
    if args.json:
        print(json.dumps(f, indent=2))
    else:
        print_report(f)


if __name__ == "__main__":
    main()
