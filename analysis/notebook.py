"""Small helpers for the notebooks (``notebooks/*.ipynb``).

Scenarios by name, replications, tables of means with confidence intervals, headlines in
words, paid hours, and strain over a day.

Everything here calls the package (``sim``, ``analysis.experiment``, ``analysis.report``,
``analysis.stats``); nothing re-implements the model. The notebooks stay thin by using these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis.experiment import DEFAULT_TABLES, Experiment, SerialExecutor, run_experiment
from analysis.report import Comparison
from analysis.stats import Estimate, format_difference, summarise, t_interval
from sim.measure.kpi import format_ci, format_kpi
from sim.model import simulate
from sim.people.observe import StrainProfile
from sim.scenario import Scenario, load_scenario

#: the repository's scenarios folder (the notebooks run from ``notebooks/``)
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def scenario(path: str, overrides: dict | None = None) -> Scenario:
    """``scenarios/<path>`` loaded, with dotted-key overrides (``{"horizon.days": 1}``)."""
    s = load_scenario(SCENARIOS / path)
    return s.replace(overrides, source="notebook") if overrides else s


def replicate(scenarios: Sequence[Scenario], reps: int, seed: int = 1,
              tables: Sequence[str] = DEFAULT_TABLES) -> Experiment:
    """``reps`` replications of every scenario, serially (common random numbers by replication).

    Scenario names must differ (the comparison keys on them).
    """
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ, got {names}")
    return run_experiment(list(scenarios), seed, reps, executor=SerialExecutor(),
                          tables=tuple(tables))


def ci_text(kpi: str, e: Estimate, difference: bool = False) -> str:
    """``"84.20% [82.10%, 86.30%]"``: a mean and its CI in the KPI's unit.

    With ``difference``, signed, and shares in percentage points (``+2.10 pp``).
    """
    f = format_difference if difference else format_kpi
    if math.isnan(e.ci_low):
        return f(kpi, e.mean)
    if not difference:  # a mean's bounds inside the KPI's range: no 105% service level
        return f"{f(kpi, e.mean)} {format_ci(kpi, e.ci_low, e.ci_high)}"
    return f"{f(kpi, e.mean)} [{f(kpi, e.ci_low)}, {f(kpi, e.ci_high)}]"


def ci_frame(exp: Experiment, kpis: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """One row per scenario, one column per KPI: ``mean [95% CI]`` over its replications."""
    rows = {}
    for i, name in enumerate(exp.names):
        est = summarise(exp.kpi_rows(i), confidence)
        rows[name] = {k: ci_text(k, est[k]) for k in kpis}
    return pd.DataFrame.from_dict(rows, orient="index")


def difference_frame(c: Comparison, kpis: Sequence[str]) -> pd.DataFrame:
    """One row per scenario other than the baseline: the paired difference and its CI."""
    rows = {name: {k: ci_text(k, d[k].estimate, difference=True) for k in kpis}
            for name, d in c.differences.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def headline(c: Comparison, other: str, kpis: Sequence[str]) -> str:
    """A sentence: ``OTHER against BASE: service_level +2.10 pp [1.00 pp, 3.20 pp], ...``."""
    d = c.differences[other]
    parts = [f"{k} {ci_text(k, d[k].estimate, difference=True)}" for k in kpis]
    return (f"{other} against {c.baseline}: " + ", ".join(parts)
            + f" (paired 95% CIs over {c.reps} replications)")


def paid_hours(s: Scenario) -> float:
    """Paid agent-hours of the published shifts over the horizon.

    Head count x shift hours x days; overtime is not included.
    """
    counts = s.staffing.head_counts()
    return float(sum(counts[n] * sh.hours for n, sh in s.staffing.shifts.items())
                 * s.horizon.days)


def per_day(exp: Experiment, table: str, column: str, confidence: float = 0.95
            ) -> pd.DataFrame:
    """Per scenario and day: the mean of ``column`` and its CI over replications.

    ``column`` of a per-replication table is averaged over its rows of each day first
    (e.g. over agents); columns ``scenario, day, mean, ci_low, ci_high``.
    """
    df = exp.table(table)
    if df.empty or column not in df:
        raise ValueError(f"table {table!r} has no column {column!r}: ask replicate() for it")
    per_rep = df.groupby(["scenario", "day", "replication"], sort=False)[column].mean()
    rows = []
    for (name, day), values in per_rep.groupby(level=["scenario", "day"], sort=False):
        e = t_interval(values.to_numpy(), confidence)
        rows.append({"scenario": name, "day": int(day), "mean": e.mean, "ci_low": e.ci_low,
                     "ci_high": e.ci_high})
    order = {n: i for i, n in enumerate(exp.names)}
    return (pd.DataFrame(rows)
            .sort_values(["scenario", "day"], key=lambda c: c.map(order) if c.name == "scenario"
                         else c, kind="stable")
            .reset_index(drop=True))


def strain_over_day(s: Scenario, seed: int = 1, replication: int = 0, day: int = 0,
                    step_minutes: float = 15) -> pd.DataFrame:
    """Mean acute strain of the agents logged in, every ``step_minutes`` of one day.

    Runs the scenario once (``stress.enabled`` must be on) with the ``strain_profile``
    observer (:class:`sim.people.observe.StrainProfile`): each agent's strain A is taken
    at every status change, as the model updates it, and between changes follows the
    model's own closed form with that agent's load and time constant, evaluated at the
    grid times. Observation only: the run is the same as without it. Columns: ``time_s``
    (seconds since midnight of the day), ``strain`` (mean over agents logged in), ``agents``.
    For a run's replications, ask ``run_experiment(..., observe=("strain_profile",))``
    instead of calling this once more.
    """
    if not s.stress.enabled:
        raise ValueError("strain_over_day: the scenario needs stress.enabled = true")
    r = simulate(s, seed, replication, observe=(StrainProfile(step_minutes),))
    prof = r.observed[StrainProfile.name]
    return (prof[prof["day"] == day].drop(columns="day")[["time_s", "strain", "agents"]]
            .reset_index(drop=True))


def parameter_table() -> pd.DataFrame:
    """Every scenario field with its default, source and description (as ``ccsim docs``).

    Parsed from :func:`analysis.docs.reference`, so it is the same table as
    docs/reference.md; section headers (``[horizon]``) are rows with ``section`` True.
    """
    from analysis.docs import reference

    rows = []
    in_fields = False
    header: list[str] = []
    for line in reference().splitlines():
        if line.startswith("## "):
            in_fields = line == "## Scenario fields"
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if in_fields and line.startswith("| field "):
            # columns by their header's names: the table may gain columns (unit, range)
            header = cells
        elif in_fields and line.startswith("| `"):
            row = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
            field = row.pop("field").strip("`")
            rows.append({"field": field, **row, "section": field.startswith("[")})
    return pd.DataFrame(rows)
