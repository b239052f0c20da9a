"""How much the busyness control variate narrows each proposal's change: from a finished folder.

Reads a finished ``ccsim negotiate`` (or ``ccsim compare``) folder (its runs' daily tables,
as ``bench/bench_negotiate_days.py`` does) and prints, per KPI and proposal, over the runs
the folder holds (the first ``--days`` measured days of each, default all):

- ``sd``: the spread of the paired change against the base (the first scenario);
- ``r``: its correlation with the run's mean busyness (the control: expectation exactly 1;
  the daily table's ``busyness`` is the control :func:`analysis.variance.busyness_control`
  computes from the streams, ``tests/test_variance.py``);
- ``residual_sd``: the spread the control leaves (what :func:`analysis.variance.reps_needed`
  plans with);
- ``plain_hw`` and ``adjusted_hw``: the 95% half-widths of the paired mean and of the
  control-variate estimate from those runs (:func:`analysis.variance.adjusted_mean`).

Usage::

    .venv/bin/python -m bench.bench_variance /tmp/neg [--days 10]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from analysis.variance import adjusted_mean
from bench.bench_negotiate_days import daily_tables, prefix


def main(argv: list[str] | None = None) -> int:
    """Print one JSON object: per KPI and proposal, spread, correlation and half-widths."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="a finished ccsim negotiate or compare folder")
    p.add_argument("--days", type=int, default=10**6, help="the runs' first N measured days")
    args = p.parse_args(argv)
    names, tables = daily_tables(args.out)
    n = min(len(v) for v in tables.values())
    busy = np.array([tables[names[0]][r].query(f"day < {args.days}")["busyness"].mean()
                     for r in range(n)])
    report: dict = {"folder": str(args.out), "runs": n, "kpis": {}}
    for kpi in ("service_level", "stress_mean"):
        base = np.array([prefix(tables[names[0]][r], kpi, args.days) for r in range(n)])
        rows = {}
        for name in names[1:]:
            d = np.array([prefix(tables[name][r], kpi, args.days) for r in range(n)]) - base
            a = adjusted_mean(d, busy[:, None], [1.0])
            rows[name] = {"sd": round(float(np.std(d, ddof=1)), 5),
                          "r": round(float(np.corrcoef(d, busy)[0, 1]), 3),
                          "residual_sd": round(a.residual_sd, 5),
                          "plain_hw": round(a.plain.half_width, 5),
                          "adjusted_hw": round(a.estimate.half_width, 5)}
        report["kpis"][kpi] = rows
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
