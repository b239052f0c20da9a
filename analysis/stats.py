"""Confidence intervals over independent replications."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """A mean with its Student-t confidence interval (NaN bounds for a single value)."""

    mean: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float

    @property
    def half_width(self) -> float:
        """Half the CI width."""
        return (self.ci_high - self.ci_low) / 2

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (inclusive)."""
        return self.ci_low <= value <= self.ci_high

    def as_dict(self) -> dict[str, float | None]:
        """``{"mean", "ci_low", "ci_high"}`` with NaN as None (for JSON)."""
        return {k: (None if math.isnan(v) else v) for k, v in
                (("mean", self.mean), ("ci_low", self.ci_low), ("ci_high", self.ci_high))}


def t_interval(values: Iterable[float], confidence: float = 0.95) -> Estimate:
    """Student-t CI of the mean of independent replications (NaNs are dropped)."""
    x = np.asarray(list(values), dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, confidence)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1, confidence)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Estimate(mean, mean - half, mean + half, n, confidence)


def summarise(rows: Sequence[Mapping[str, float]], confidence: float = 0.95
              ) -> dict[str, Estimate]:
    """Per KPI (every key of the rows, in order), the CI over replications."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return {k: t_interval((r.get(k, math.nan) for r in rows), confidence) for k in keys}
