"""How much the control variates narrow each proposal's change: from a finished folder.

Reads a finished ``ccsim negotiate`` (or ``ccsim compare``) folder (its runs' daily tables
and manifests, as ``bench/bench_negotiate_days.py`` does) and prints, per KPI and proposal,
over the runs the folder holds (the first ``--days`` measured days of each, default all):

- ``sd``: the spread of the paired change against the base (the first scenario);
- ``r_busy``: its correlation with the run's mean busyness (expectation exactly 1; the
  daily table's ``busyness`` is the control :func:`analysis.variance.busyness_control`
  computes from the streams, ``tests/test_variance.py``);
- ``r_luck``, ``r_luck_prop``, ``r_luck_pair``: its correlation with the base's runs'
  absence luck (``provenance["absence_luck"]``, expectation exactly 0:
  :func:`analysis.variance.run_luck`), the proposal's, and their mean; only over all the
  measured days (the luck counts the whole window);
- ``r_both``: the multiple correlation of the change with busyness and the base's luck;
- ``plain_hw``, ``busy_hw``, ``adjusted_hw``: the 95% half-widths of the paired mean, of
  the estimate with the busyness control alone, and with busyness and the base's luck (what
  the page uses: :func:`analysis.negotiate.adjustments`); ``pair_hw`` with the mean of the
  two lucks instead, ``three_hw`` with the two lucks as separate controls (q = 3);
- ``residual_sd`` and ``reps_1pt``: the spread the page's controls leave, and the runs
  of each that it says a half-width of ``--goal`` needs (:func:`analysis.variance.
  reps_needed`); ``reps_1pt_plain`` the same without controls.

Usage::

    .venv/bin/python -m bench.bench_variance /tmp/neg [--days 10] [--goal 0.01]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from analysis.stats import replications_needed
from analysis.variance import LUCK, adjusted_mean, reps_needed
from bench.bench_negotiate_days import daily_tables, prefix


def lucks(out: Path, names: list[str]) -> dict[str, list[float]] | None:
    """Each scenario's absence luck by replication, from the runs' manifests (None: absent)."""
    manifest = json.loads((out / "manifest.json").read_text())
    got: dict[str, list[float]] = {}
    for name in names:
        digest = manifest["scenarios"][name]["hash"][:12]
        (folder,) = (out / "replications").glob(f"*-{digest}-seed*")
        prov = [json.loads((r / "manifest.json").read_text())["provenance"]
                for r in sorted(folder.glob("rep-*"))]
        if any(LUCK not in p for p in prov):
            return None
        got[name] = [float(p[LUCK]) for p in prov]
    return got


def _r(x: np.ndarray, y: np.ndarray) -> float:
    return round(float(np.corrcoef(x, y)[0, 1]), 3)


def main(argv: list[str] | None = None) -> int:
    """Print one JSON object: per KPI and proposal, spread, correlations and half-widths."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="a finished ccsim negotiate or compare folder")
    p.add_argument("--days", type=int, default=10**6, help="the runs' first N measured days")
    p.add_argument("--goal", type=float, default=0.01,
                   help="the half-width wanted for service level (share, 0.01 = 1 point)")
    args = p.parse_args(argv)
    names, tables = daily_tables(args.out)
    n = min(len(v) for v in tables.values())
    busy = np.array([tables[names[0]][r].query(f"day < {args.days}")["busyness"].mean()
                     for r in range(n)])
    whole = args.days >= max(len(t) for t in tables[names[0]])
    luck = lucks(args.out, names) if whole else None
    report: dict = {"folder": str(args.out), "runs": n, "kpis": {}}
    for kpi in ("service_level", "stress_mean"):
        base = np.array([prefix(tables[names[0]][r], kpi, args.days) for r in range(n)])
        rows = {}
        for name in names[1:]:
            d = np.array([prefix(tables[name][r], kpi, args.days) for r in range(n)]) - base
            a = adjusted_mean(d, busy[:, None], [1.0])
            row = {"sd": round(float(np.std(d, ddof=1)), 5), "r_busy": _r(d, busy),
                   "plain_hw": round(a.plain.half_width, 5),
                   "busy_hw": round(a.estimate.half_width, 5)}
            if luck is not None:
                lb, lp = np.array(luck[names[0]][:n]), np.array(luck[name][:n])
                pair = (lb + lp) / 2
                c = adjusted_mean(d, np.column_stack([busy, lb]), [1.0, 0.0])
                pc = adjusted_mean(d, np.column_stack([busy, pair]), [1.0, 0.0])
                three = adjusted_mean(d, np.column_stack([busy, lb, lp]), [1.0, 0.0, 0.0])
                rss = c.residual_sd ** 2 * (n - 3)  # R^2 = 1 - RSS / TSS
                tss = float(((d - d.mean()) ** 2).sum())
                row |= {"r_luck": _r(d, lb), "r_luck_prop": _r(d, lp),
                        "r_luck_pair": _r(d, pair),
                        "r_both": round(max(0.0, 1 - rss / tss) ** 0.5, 3),
                        "adjusted_hw": round(c.estimate.half_width, 5),
                        "pair_hw": round(pc.estimate.half_width, 5),
                        "three_hw": round(three.estimate.half_width, 5),
                        "residual_sd": round(c.residual_sd, 5)}
                a = c
            if kpi == "service_level":
                row["reps_1pt"] = reps_needed(a.residual_sd, args.goal, len(a.coefficients),
                                              0.95, 200)
                row["reps_1pt_plain"] = replications_needed(d, args.goal, 0.95, 200)
            rows[name] = row
        report["kpis"][kpi] = rows
    if luck is not None:
        report["luck_sd"] = {k: round(float(np.std(v[:n], ddof=1)), 2) for k, v in luck.items()}
        report["luck_mean"] = {k: round(float(np.mean(v[:n])), 2) for k, v in luck.items()}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
