"""Full factorial sweeps over scenario fields: the scenarios, the tidy table and the plots."""

from __future__ import annotations

import itertools
import json
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.experiment import Experiment
from analysis.stats import (
    COMPARE_CONFIDENCE,
    format_p,
    paired_differences,
    summarise,
)
from analysis.stats import format_difference as fmt_diff
from analysis.store import slug
from sim.measure.kpi import format_ci
from sim.measure.kpi import format_kpi as fmt
from sim.scenario import Scenario


def literal(v: Any) -> str:
    """A factor value as the user would type it (TOML-like: ``true``, ``[1, 2]``, ``90``)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v) if isinstance(v, list | tuple | dict) else f"{v}"


def sweep_scenarios(base: Scenario, factors: Sequence[tuple[str, Sequence[Any]]]
                    ) -> tuple[list[str], list[tuple], list[Scenario]]:
    """Every combination of the factors' values (full factorial), each a validated scenario.

    ``factors`` are ``(dotted field, values)``; returns the fields, the combinations (in
    :func:`itertools.product` order) and one scenario per combination, named
    ``BASE[field=value,...]``. A field may be swept once.
    """
    keys = [k for k, _ in factors]
    if len(set(keys)) != len(keys):
        raise ValueError(f"--set: each field may be swept once, got {', '.join(keys)}")
    combos = list(itertools.product(*(vals for _, vals in factors)))
    scenarios = []
    for combo in combos:
        changes = dict(zip(keys, combo, strict=True))
        label = ",".join(f"{k}={literal(v)}" for k, v in changes.items())
        scenarios.append(base.replace({**changes, "name": f"{base.name}[{label}]"},
                                      source="--set"))
    return keys, combos, scenarios


def sweep_table(exp: Experiment, keys: list[str], combos: list[tuple],
                primary: Sequence[str] = ("service_level",)) -> pd.DataFrame:
    """Tidy table: one row per combination and KPI (mean, CI, half-width, n, NaNs dropped).

    Every combination after the first also gets its paired difference against the first
    (``diff``, ``diff_ci_low``, ``diff_ci_high``), the paired t-test ``p_value``, ``p_holm``
    (Holm-adjusted over the secondary KPIs of that combination; empty for a primary KPI),
    ``test`` (primary or secondary) and ``differs``.
    """
    rows = []
    base_rows = exp.kpi_rows(0)
    for i, combo in enumerate(combos):
        est = summarise(exp.kpi_rows(i), COMPARE_CONFIDENCE)
        diffs = (paired_differences(base_rows, exp.kpi_rows(i), list(est), primary,
                                    COMPARE_CONFIDENCE) if i else {})
        for kpi, e in est.items():
            d = diffs.get(kpi)
            rows.append({**dict(zip(keys, combo, strict=True)),
                         "scenario": exp.scenarios[i].name, "kpi": kpi, "mean": e.mean,
                         "ci_low": e.ci_low, "ci_high": e.ci_high,
                         "half_width": e.half_width, "n": e.n, "dropped": e.dropped,
                         "test": "primary" if kpi in primary else "secondary",
                         "diff": d.estimate.mean if d else math.nan,
                         "diff_ci_low": d.estimate.ci_low if d else math.nan,
                         "diff_ci_high": d.estimate.ci_high if d else math.nan,
                         "p_value": d.p_value if d else math.nan,
                         "p_holm": d.p_holm if d and d.p_holm is not None else math.nan,
                         "differs": d.differs if d else None})
    tidy = pd.DataFrame(rows)
    tidy["differs"] = tidy["differs"].astype("boolean")  # None (no test) stays missing
    return tidy


def parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed or non-scalar values become text (Parquet needs one type)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and not all(isinstance(v, str) for v in out[c]):
            out[c] = out[c].map(literal)
    return out


def sweep_plots(tidy: pd.DataFrame, keys: list[str], folder: Path) -> list[Path]:
    """One PNG per KPI: mean and CI against the first factor, a line per other combination."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.report import png_bytes
    from analysis.store import atomic_write

    x_key, others = keys[0], keys[1:]
    levels = list(dict.fromkeys(tidy[x_key].map(literal)))
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool)
                  for v in tidy[x_key])
    paths = []
    for kpi, part in tidy.groupby("kpi", sort=False):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        groups = part.groupby(others, sort=False) if others else [((), part)]
        for label, g in groups:
            x = g[x_key] if numeric else g[x_key].map(literal).map(levels.index)
            err = g["half_width"].where(g["half_width"].notna(), 0.0)
            label = label if isinstance(label, tuple) else (label,)
            name = ", ".join(f"{k}={literal(v)}" for k, v in zip(others, label, strict=True))
            ax.errorbar(x, g["mean"], yerr=err, marker="o", capsize=3, label=name or None)
        if not numeric:
            ax.set_xticks(range(len(levels)), levels)
        ax.set_xlabel(x_key)
        ax.set_ylabel(kpi)
        ax.set_title(f"{kpi} (mean and 95% CI)")
        if others:
            ax.legend(fontsize=8)
        fig.tight_layout()
        data = png_bytes(fig)
        paths.append(atomic_write(folder / f"{slug(str(kpi))}.png",
                                  lambda p, d=data: p.write_bytes(d)))
    return paths


def sweep_text(tidy: pd.DataFrame, base: str, keys: list[str], combos: list[tuple],
               reps: int, seed: int, primary: Sequence[str], width: int = 100) -> str:
    """The sweep as text within ``width`` columns: what was run, a table per combination.

    The first combination shows each KPI's mean and 95% CI; every later one its mean and
    the paired difference from the first with its CI, the p-value that decides and the
    verdict. KPIs with no value anywhere are named once; the full table (CI of every
    mean, both p-values) is sweep.csv.
    """
    first = ", ".join(f"{k}={literal(v)}" for k, v in zip(keys, combos[0], strict=True))
    lines = [textwrap.fill(
        f"{base}: {len(combos)} combinations x {reps} replications, seed {seed}; "
        f"differences paired against the first combination ({first}), shares in "
        "percentage points (pp)", width=width)]
    gone = sorted(set(tidy["kpi"]) - set(tidy.loc[tidy["n"] > 0, "kpi"]),
                  key=list(tidy["kpi"]).index)
    w = max(map(len, tidy["kpi"]))
    for i, (combo, part) in enumerate(tidy.groupby(keys, sort=False)):
        combo = combo if isinstance(combo, tuple) else (combo,)
        lines += ["", ", ".join(f"{k}={literal(v)}" for k, v in zip(keys, combo, strict=True))]
        lines.append(f"  {'KPI':<{w}} {'mean':>9}  " + (
            "95% CI" if i == 0 else f"{'difference [95% CI]':<34}{'p':>6}  differs"))
        for r in part.itertuples(index=False):
            if r.kpi in gone:
                continue
            k, mean = r.kpi, fmt(r.kpi, r.mean)
            if i == 0:
                cell = format_ci(k, r.ci_low, r.ci_high) if r.n > 1 else ""
            else:
                diff = (f"{fmt_diff(k, r.diff)} [{fmt_diff(k, r.diff_ci_low)}, "
                        f"{fmt_diff(k, r.diff_ci_high)}]")
                p = r.p_value if r.test == "primary" else r.p_holm
                verdict = "-" if pd.isna(r.differs) else "yes" if r.differs else "no"
                cell = f"{diff:<34}{format_p(p):>6}  {verdict}"
            lines.append(f"  {k:<{w}} {mean:>9}  {cell}".rstrip())
    if gone:
        lines += ["", textwrap.fill(f"No value in any combination ({len(gone)} KPIs: what they "
                                    f"measure is not in the scenario): {', '.join(gone)}.",
                                    width=width)]
    n_sec = tidy.loc[tidy["test"] == "secondary", "kpi"].nunique()
    lines.append("\n" + textwrap.fill(
        f"differs (against the first combination): the primary KPI(s) ({', '.join(primary)})"
        f" tested at {100 * COMPARE_CONFIDENCE:g}% each, unadjusted; the other {n_sec} KPIs "
        "are secondary, Holm-adjusted together within each combination (p is then p_holm), "
        f"so the chance of any false 'differs' among them is at most "
        f"{100 * (1 - COMPARE_CONFIDENCE):g}%. Combinations are not adjusted for each other; "
        "CIs are unadjusted. Every column of every combination: sweep.csv.", width=width))
    return "\n".join(lines)
