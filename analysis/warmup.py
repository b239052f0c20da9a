"""Choosing the warm-up's length the way the simulation literature does, and the weekly view.

``ccsim warmup SCENARIO`` simulates the scenario from zero (no warm-up) for ``--days``
working days and ``--reps`` replications, takes each day's mean over the replications of
the measured stress (``stress_mean``) and the service level, and applies two methods:

- **MSER-5** (White 1997; White, Cobb & Spratt 2000): the daily series is cut into
  batches of 5 days; for each truncation point ``d`` (in batches, over the first half) the
  statistic ``sum((x_i - mean_d)^2) / (n - d)^2`` of the batches left is computed; the
  truncation point is where it is smallest (the bias removed outweighs the precision lost).
- **Welch's moving average** (Welch 1983): the series smoothed with a window of ``w`` days
  either side (shorter near the start); the warm-up ends where the curve flattens. Read by
  eye from the figure; as a number, the first day after which the curve stays within a
  band around the mean of the run's second half: 2% of it, or the curve's own noise
  (1.96 standard deviations of the second half's days over ``sqrt(2 w + 1)``), whichever
  is wider.

MSER-5 is known to cut too early when a slow trend hides in noise (a few replications of
exhaustion's month-long rise), and Welch's curve shows such a trend; so the recommendation
is the largest of both methods' points over the series, rounded up to whole weeks (what
``horizon.warmup_days`` becomes) - for a plain warm-up from zero; with the fast-forward
(``sim.start.jump``) a shorter one reaches the same state (``tests/test_warmup.py``). A
truncation in the last batch of the first half means the run is too short to tell: the
output says so (run longer).

:func:`weekly` is the week-by-week view of a run (the transition after ``--from``): the
daily KPIs and the people's daily means by week.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.experiment import Experiment, run_experiment
from analysis.stats import t_interval
from sim.scenario import Scenario
from sim.start import warmup_length

#: the series the check reads (daily KPI columns), in order
SERIES = ("stress_mean", "service_level")
BATCH = 5
WELCH_BAND = 0.02


def mser(values: Sequence[float], batch: int = BATCH) -> tuple[int, list[float]]:
    """MSER-``batch``: the truncation point in days, and the statistic per batch point.

    Batches of ``batch`` consecutive values (a last partial one is dropped); truncation
    points range over the first half of the batches. NaN values are left out of a batch.
    """
    y = np.asarray(values, dtype=float)
    n = len(y) // batch
    if n < 2:
        raise ValueError(f"MSER-{batch} needs at least {2 * batch} days, got {len(y)}")
    means = np.array([np.nanmean(y[i * batch:(i + 1) * batch]) for i in range(n)])
    stats = []
    for d in range(n // 2 + (n % 2)):
        rest = means[d:]
        stats.append(float(((rest - rest.mean()) ** 2).sum() / len(rest) ** 2))
    return int(np.argmin(stats)) * batch, stats


def welch(values: Sequence[float], window: int) -> np.ndarray:
    """Welch's moving average: window ``window`` either side, ``i`` either side near the start.

    As Welch (1983): for ``i < window`` the mean of the first ``2 i + 1`` values; the
    curve ends ``window`` values before the series does.
    """
    y = np.asarray(values, dtype=float)
    out = []
    for i in range(len(y) - window):
        half = min(i, window)
        out.append(float(np.nanmean(y[i - half:i + half + 1])))
    return np.asarray(out)


def welch_end(smooth: np.ndarray, reference: float, band: float = WELCH_BAND,
              noise: float = 0.0) -> int:
    """The first day after which the moving average stays near ``reference``.

    Near: within ``band`` (relative) of it, or ``noise`` (absolute), whichever is wider.
    """
    if not len(smooth) or not math.isfinite(reference):
        return 0
    outside = np.abs(smooth - reference) > max(band * abs(reference), noise)
    idx = np.flatnonzero(outside)
    return int(idx[-1]) + 1 if len(idx) else 0


@dataclass
class Check:
    """What ``ccsim warmup`` found for one scenario."""

    scenario: Scenario
    days: int
    reps: int
    seed: int
    daily: pd.DataFrame
    """Per day: each series' mean over replications (and ``_lo``/``_hi``: its 95% CI)."""
    window: int
    truncation: dict[str, int] = field(default_factory=dict)
    """MSER-5 truncation (days) per series."""
    welch_day: dict[str, int] = field(default_factory=dict)
    """Where Welch's moving average settles (days) per series."""
    at_edge: list[str] = field(default_factory=list)
    """Series whose MSER-5 truncation is at the edge of the half searched (run longer)."""
    recommended: int = 0

    def as_json(self) -> dict[str, Any]:
        """The check as data (``warmup.json``)."""
        return {"scenario": self.scenario.name, "days": self.days, "reps": self.reps,
                "seed": self.seed, "batch": BATCH, "welch_window": self.window,
                "mser5_truncation_days": self.truncation, "welch_settles_day": self.welch_day,
                "too_short_for": self.at_edge, "recommended_warmup_days": self.recommended}

    def text(self) -> str:
        """The check in words and a small table, as ``ccsim warmup`` prints it."""
        s = self.scenario
        lines = [f"{s.name}: {self.days} working days from zero, {self.reps} replication(s), "
                 f"seed {self.seed}", ""]
        lines.append(f"{'series':<16}{'MSER-5 cut':>12}{'Welch settles':>15}"
                     f"{'first week':>12}{'after cut':>12}")
        for name in self.truncation:
            y = self.daily[name].to_numpy()
            cut = self.truncation[name]
            week = s.stress.work_days_per_week
            lines.append(f"{name:<16}{cut:>9} d  {self.welch_day[name]:>11} d  "
                         f"{np.nanmean(y[:week]):>11.3f} {np.nanmean(y[cut:]):>11.3f}")
        lines.append("")
        if self.at_edge:
            lines.append("warning: MSER-5 cuts at the edge of the half it searches, or "
                         "Welch's curve settles only in the second half, for "
                         f"{', '.join(self.at_edge)}: the run is too short to show the steady "
                         "state; run again with more --days")
        lines.append(f"recommendation: horizon.warmup_days = {self.recommended} (the latest "
                     "point of MSER-5 and Welch over the series, in whole weeks of "
                     f"{s.stress.work_days_per_week} days, for a warm-up from zero; the "
                     "fast-forward after week 1 reaches it sooner); e.g. --set "
                     f"horizon.warmup_days={self.recommended}")
        return "\n".join(lines)


def check(scenario: Scenario, seed: int, days: int, reps: int, **kwargs: Any) -> Check:
    """Simulate ``scenario`` cold for ``days`` and ``reps``; MSER-5 and Welch on the days.

    ``kwargs`` go to :func:`analysis.experiment.run_experiment` (executor, progress).
    """
    cold = scenario.replace({"horizon.days": days, "horizon.warmup_days": 0},
                            source="ccsim warmup")
    exp = run_experiment([cold], seed, reps, tables=("daily",), **kwargs)
    daily = exp.table("daily")
    series = [c for c in SERIES if c in daily and daily[c].notna().any()]
    rows = []
    for day, g in daily.groupby("day", sort=True):
        row: dict[str, float] = {"day": int(day)}
        for c in series:
            e = t_interval(g[c].to_numpy())
            row[c], row[f"{c}_lo"], row[f"{c}_hi"] = e.mean, e.ci_low, e.ci_high
        rows.append(row)
    return analyse(scenario, seed, reps, pd.DataFrame(rows))


def analyse(scenario: Scenario, seed: int, reps: int, table: pd.DataFrame) -> Check:
    """MSER-5 and Welch on a daily table (``warmup.csv``: ``day`` and each series' mean)."""
    days = len(table)
    series = [c for c in SERIES if c in table and table[c].notna().any()]
    window = max(1, min(scenario.stress.work_days_per_week, days // 4))
    out = Check(scenario, days, reps, seed, table, window)
    for c in series:
        y = table[c].to_numpy()
        cut, stats = mser(y)
        out.truncation[c] = cut
        if len(stats) > 1 and cut == (len(stats) - 1) * BATCH:
            out.at_edge.append(c)
        smooth = welch(y, window)
        late = y[len(y) // 2:]
        noise = 1.96 * float(np.nanstd(late, ddof=1)) / math.sqrt(2 * window + 1)
        out.welch_day[c] = welch_end(smooth, float(np.nanmean(late)), noise=noise)
        if out.welch_day[c] > days // 2 and c not in out.at_edge:
            out.at_edge.append(c)  # still moving in the half taken as the reference
    longest = max([*out.truncation.values(), *out.welch_day.values()], default=0)
    out.recommended = warmup_length(scenario, longest)
    return out


def figure(c: Check) -> Any:
    """The daily series with their CI, Welch's moving average and the MSER-5 cut."""
    from analysis.report import plt  # matplotlib, Agg: only when a figure is drawn

    names = list(c.truncation)
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.8 * max(1, len(names))),
                             squeeze=False, sharex=True)
    for ax, name in zip(axes[:, 0], names, strict=True):
        d = c.daily
        ax.fill_between(d["day"], d[f"{name}_lo"], d[f"{name}_hi"], alpha=0.2, color="C0",
                        label="95% CI over replications")
        ax.plot(d["day"], d[name], color="C0", lw=1, label="daily mean")
        smooth = welch(d[name].to_numpy(), c.window)
        ax.plot(d["day"][:len(smooth)], smooth, color="C1", lw=2,
                label=f"Welch moving average (w = {c.window})")
        ax.axvline(c.truncation[name], color="C3", ls="--",
                   label=f"MSER-5 cut: day {c.truncation[name]}")
        ax.set_ylabel(name)
        ax.legend(fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("working day from a cold start")
    fig.suptitle(f"{c.scenario.name}: warm-up check (recommended {c.recommended} days)")
    fig.tight_layout()
    return fig


def weekly(daily: pd.DataFrame, people: pd.DataFrame | None, week: int) -> pd.DataFrame:
    """Week by week: each day's KPIs and people's means, averaged over the week's days.

    ``daily``: the experiment's daily table (a ``replication`` column); ``people``: its
    ``people_days`` table or None. Columns: ``week``, then the mean over replications of
    stress, exhaustion, service level and absence (those present).
    """
    d = daily.assign(week=daily["day"] // week)
    cols = [c for c in ("stress_mean", "service_level", "absence_rate") if c in d]
    out = d.groupby(["week", "replication"])[cols].mean().groupby("week").mean()
    if people is not None and len(people) and "exhaustion" in people:
        p = people.assign(week=people["day"] // week)
        more = p.groupby(["week", "replication"])[["exhaustion", "threat"]].mean()
        out = out.join(more.groupby("week").mean())
    return out.reset_index()


def start_text(exp: Experiment, index: int) -> str:
    """How scenario ``index``'s runs started, in words (every report says it)."""
    w = exp.warmup(index)
    name = exp.scenarios[index].name
    if not w["warmup_days"]:
        return f"{name}: cold start (horizon.warmup_days = 0: day 0 is the first day worked)"
    under = ("its own regime" if w["warmup_scenario"] == name
             else f"the regime of {w['warmup_scenario']!r} (--from)")
    return (f"{name}: warmed up {w['warmup_days']} unmeasured working days under {under}, "
            "each replication on its own streams")
