"""The golden run's tables: build them, compare them, rewrite the committed copies.

Two runs are pinned: ``golden.toml`` (two short days, every deviation of the engine on;
its tables beside this file) and ``everything.toml`` (the regime, real-time alerts, stress,
absence, attrition and feedback over eight days; its tables in ``everything/``).
``python -m tests.golden.regenerate`` re-simulates both and rewrites the CSV files,
printing what changed table by table, so the commit that changes them can say why.
``tests/test_golden.py`` compares fresh runs with the committed files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "golden.toml"
SEED = 2026
TABLES = ("calls", "statuses", "activities", "agent_days", "breaks")
#: the everything-on run pins the policy and stress layers' tables too
TABLES_ALL = (*TABLES, "imposed", "absences", "actions", "evaluations", "alerts", "league",
              "exceptions", "team_days", "daily")
#: name -> (scenario file, tables pinned, folder of the committed CSV files)
RUNS = {
    "golden": (SCENARIO, TABLES, HERE),
    "everything": (HERE / "everything.toml", TABLES_ALL, HERE / "everything"),
}
#: seconds: far below any modelled duration, far above float noise across platforms
ATOL = 1e-6


def golden_tables(run: str = "golden") -> dict[str, pd.DataFrame]:
    """The tables of one run of a golden scenario, as plain columns (categories as text)."""
    from sim.model import simulate
    from sim.scenario import load_scenario

    scenario, names, _ = RUNS[run]
    r = simulate(load_scenario(scenario), seed=SEED, replication=0)
    out = {}
    for name in names:
        df = getattr(r, name).reset_index(drop=True).copy()
        for col in df.columns:
            if isinstance(df[col].dtype, pd.CategoricalDtype):
                df[col] = df[col].astype(str)
        out[name] = df
    out["kpis"] = pd.DataFrame({"kpi": list(r.kpis), "value": list(r.kpis.values())})
    return out


def read_committed(run: str = "golden") -> dict[str, pd.DataFrame]:
    """The committed tables of one golden run."""
    _, names, folder = RUNS[run]
    return {name: pd.read_csv(folder / f"{name}.csv", keep_default_na=True)
            for name in (*names, "kpis")}


def differences(expected: pd.DataFrame, got: pd.DataFrame) -> list[str]:
    """What differs between two versions of one table, in words (empty: the same)."""
    out = []
    if "kpi" in expected.columns and "kpi" in got.columns:  # compare KPIs by name
        old_k, new_k = list(expected["kpi"]), list(got["kpi"])
        if old_k != new_k:
            out.append(f"kpis: removed {[k for k in old_k if k not in new_k]}, added "
                       f"{[k for k in new_k if k not in old_k]}")
        both = [k for k in old_k if k in new_k]
        expected = expected.set_index("kpi").loc[both].reset_index()
        got = got.set_index("kpi").loc[both].reset_index()
    if list(expected.columns) != list(got.columns):
        gone = [c for c in expected.columns if c not in got.columns]
        new = [c for c in got.columns if c not in expected.columns]
        out.append(f"columns: removed {gone}, added {new}")
    if len(expected) != len(got):
        out.append(f"rows: {len(expected)} -> {len(got)}")
        return out
    for col in (c for c in expected.columns if c in got.columns):
        a, b = expected[col], got[col]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            same = (np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= ATOL)
        else:
            # an empty text cell reads back from CSV as NaN
            same = (a.fillna("").astype(str).to_numpy() == b.fillna("").astype(str).to_numpy())
        if not same.all():
            first = int(np.flatnonzero(~same)[0])
            out.append(f"{col}: {int((~same).sum())} rows differ, first row {first}: "
                       f"{a.iloc[first]!r} -> {b.iloc[first]!r}")
    return out


def main() -> int:
    """Rewrite the committed tables of both runs and say what changed."""
    changed = False
    for run, (scenario, names, folder) in RUNS.items():
        folder.mkdir(exist_ok=True)
        old = read_committed(run) if (folder / "calls.csv").exists() else {}
        new = golden_tables(run)
        for name, df in new.items():
            diffs = differences(old[name], df) if name in old else ["new table"]
            if diffs:
                changed = True
                print(f"{run}/{name}:", *diffs, sep="\n  ")
            df.to_csv(folder / f"{name}.csv", index=False, float_format="%.17g")
        (folder / "README.json").write_text(json.dumps(
            {"scenario": scenario.name, "seed": SEED, "tables": [*names, "kpis"],
             "rows": {n: len(d) for n, d in new.items()}}, indent=1) + "\n")
    print("unchanged" if not changed else "rewritten; commit them with the reason",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
