"""How many measured days a run should have: the spread of a change against run length.

Reads a finished ``ccsim negotiate`` (or ``ccsim compare``) output folder whose runs each
warmed up on their own, and for every run length ``D`` up to the runs' horizon takes each
run's first ``D`` measured days (its daily table: service level weighted by calls offered,
measured stress as the mean of the days' means). A run's first D days are what a run of D
days measures: the days are simulated in order and a day never depends on the horizon.

For each D and each proposal, the standard deviation between runs of the paired change
against the base (the first scenario); then the model ``var(D) = between + within / D``
fitted to the pooled variances (least squares on 1/D, weighted by D), where ``between``
is what the warm-up leaves (it does not shrink with longer runs) and ``within`` the day to
day noise. A run of D days costs ``warmup_equiv + D`` measured-day equivalents (its own
warm-up: ``--warmup-days`` x ``--warmup-cost``), so the total work to a half-width ``h``
is about ``(t sd(D) / h)^2 (warmup_equiv + D)`` per scenario (the smallest number of runs
whose Student-t range is that narrow, as ``--until`` decides), smallest near
``D* = sqrt(within * warmup_equiv / between)``.

Usage::

    .venv/bin/python -m bench.bench_negotiate_days /tmp/neg \\
        --until service_level=0.01 --until stress_mean=0.1 --day-cpu 0.8

prints one JSON object: per KPI the largest and the pooled SD per D, the fit, D*, and the
replications and CPU seconds each D needs for the half-width (with ``--day-cpu``, the
measured CPU seconds of one measured day of one scenario).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.stats import t_ppf


def runs_for(sd: float, half_width: float) -> int:
    """The fewest runs whose 95% Student-t range of a change with this spread is narrow enough."""
    n = 2
    while t_ppf(0.975, n - 1) * sd / math.sqrt(n) > half_width:
        n += 1
    return n


def daily_tables(out: Path) -> tuple[list[str], dict[str, list[pd.DataFrame]]]:
    """The scenarios (base first) and each one's daily tables by replication."""
    manifest = json.loads((out / "manifest.json").read_text())
    # the experiment's order (the base first) is kpis.csv's; the manifest's keys are sorted
    names = list(dict.fromkeys(pd.read_csv(out / "kpis.csv", usecols=["scenario"])["scenario"]))
    tables: dict[str, list[pd.DataFrame]] = {}
    for name in names:
        digest = manifest["scenarios"][name]["hash"][:12]
        folders = [f for f in (out / "replications").glob(f"*-{digest}-seed*")]
        if len(folders) != 1:
            raise SystemExit(f"{out}: {len(folders)} replication folders for {name} ({digest})")
        reps = sorted(folders[0].glob("rep-*"))
        tables[name] = [pd.read_parquet(r / "daily.parquet") for r in reps]
    return names, tables


def prefix(daily: pd.DataFrame, kpi: str, days: int) -> float:
    """The KPI over the run's first ``days`` days (service level weighted by calls offered)."""
    d = daily[daily["day"] < days]
    if kpi == "service_level":
        return float((d["service_level"] * d["offered"]).sum() / d["offered"].sum())
    return float(d[kpi].mean())


def spread(names: list[str], tables: dict[str, list[pd.DataFrame]], kpi: str,
           days: int) -> list[float]:
    """Per proposal, the SD between runs of its change against the base over ``days`` days."""
    n = min(len(v) for v in tables.values())
    base = np.array([prefix(tables[names[0]][r], kpi, days) for r in range(n)])
    out = []
    for name in names[1:]:
        x = np.array([prefix(tables[name][r], kpi, days) for r in range(n)]) - base
        out.append(float(np.std(x, ddof=1)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the spread of each change by run length, the fit and the best run length."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="a finished ccsim negotiate or compare folder")
    p.add_argument("--until", action="append", default=[],
                   help="KPI=HALFWIDTH (as ccsim negotiate --until)")
    p.add_argument("--warmup-days", type=float, default=20)
    p.add_argument("--warmup-cost", type=float, default=0.83,
                   help="a warm-up day's cost in measured days (docs/negotiating.md)")
    p.add_argument("--day-cpu", type=float, default=None,
                   help="CPU seconds of one measured day of one scenario")
    args = p.parse_args(argv)
    names, tables = daily_tables(args.out)
    horizon = int(min(t["day"].max() for v in tables.values() for t in v)) + 1
    reps = min(len(v) for v in tables.values())
    goals = [(k, float(v)) for k, v in (u.split("=") for u in args.until)] or [
        ("service_level", 0.01), ("stress_mean", 0.1)]
    warm = args.warmup_days * args.warmup_cost
    lengths = sorted({d for d in (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 40, 60) if d <= horizon}
                     | {horizon})
    report = {"folder": str(args.out), "scenarios": names, "runs": reps, "horizon": horizon,
              "warmup_equiv_days": warm, "kpis": {}}
    for kpi, hw in goals:
        rows = []
        for d in lengths:
            sds = spread(names, tables, kpi, d)
            rows.append({"days": d, "max_sd": max(sds), "pooled_sd": float(np.sqrt(np.mean(
                np.square(sds)))), "sd": [round(s, 5) for s in sds]})
        # var(D) = between + within / D, least squares on the pooled variances (weights D:
        # the short runs' variances are the noisiest in absolute terms)
        x = np.array([1 / r["days"] for r in rows])
        y = np.array([r["pooled_sd"] ** 2 for r in rows])
        w = np.array([r["days"] for r in rows], dtype=float)
        a = np.vstack([np.ones_like(x), x]).T * np.sqrt(w)[:, None]
        between, within = np.linalg.lstsq(a, y * np.sqrt(w), rcond=None)[0]
        best = math.sqrt(max(within, 0) * warm / between) if between > 0 else math.inf
        for r in rows:
            # runs of every scenario for the worst proposal's half-width, and their work
            need = runs_for(r["max_sd"], hw)
            r["runs_needed"] = need
            r["day_equivalents_per_scenario"] = round(need * (warm + r["days"]), 1)
            if args.day_cpu:
                r["cpu_s_all"] = round(need * (warm + r["days"]) * args.day_cpu
                                       * len(names), 0)
        report["kpis"][kpi] = {"half_width": hw, "by_days": rows,
                               "fit": {"between_var": between, "within_var": within,
                                       "best_days": best}}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
