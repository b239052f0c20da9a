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


def paired_difference(baseline: Sequence[float], other: Sequence[float],
                      confidence: float = 0.95) -> Estimate:
    """CI of the mean of ``other[k] - baseline[k]`` (common random numbers pair replications).

    Replication ``k`` of both scenarios saw the same calls, so the differences are independent
    across ``k`` and a Student-t interval on them is exact under normality. Pairs where either
    value is NaN are dropped.
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired difference needs equal replications, got {len(a)} and {len(b)}")
    return t_interval(b - a, confidence)


def welch_difference(baseline: Sequence[float], other: Sequence[float],
                     confidence: float = 0.95) -> Estimate:
    """Unpaired (Welch) CI of ``mean(other) - mean(baseline)``: what CRN is compared with."""
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n = min(len(a), len(b))
    if len(a) == 0 or len(b) == 0:
        return Estimate(math.nan, math.nan, math.nan, n, confidence)
    diff = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return Estimate(diff, math.nan, math.nan, n, confidence)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return Estimate(diff, diff, diff, n, confidence)
    df = se2 ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * math.sqrt(se2))
    return Estimate(diff, diff - half, diff + half, n, confidence)


def distinguishable(est: Estimate) -> bool | None:
    """Whether a difference's CI excludes zero (None when there is no CI)."""
    if math.isnan(est.ci_low) or math.isnan(est.ci_high):
        return None
    return not (est.ci_low <= 0.0 <= est.ci_high)


def replications_needed(values: Sequence[float], half_width: float,
                        confidence: float = 0.95, max_reps: int = 100_000) -> int:
    """Replications for a Student-t CI of half-width <= ``half_width``.

    With the sample standard deviation ``s`` of the pilot ``values``, the answer is the
    smallest ``n`` with ``n >= (t_{n-1} * s / h)^2``. The textbook fixed-point iteration
    ``n = ceil((t_{n-1} s / h)^2)`` can oscillate for small ``n`` (t changes fast there), so
    this starts from the normal-theory value ``ceil((z s / h)^2)``, a lower bound because
    ``t > z``, and steps up until the condition holds (it is monotone in ``n``). Never less
    than 2 (a CI needs two values); capped at ``max_reps``.
    """
    if not half_width > 0:
        raise ValueError(f"half_width must be > 0, got {half_width}")
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        raise ValueError(f"need at least 2 pilot values to estimate the spread, got {len(x)}")
    s = float(x.std(ddof=1))
    if s == 0:
        return 2
    q = 0.5 + confidence / 2
    n = max(2, math.ceil((float(stats.norm.ppf(q)) * s / half_width) ** 2))
    while n < max_reps and n < math.ceil((float(stats.t.ppf(q, n - 1)) * s / half_width) ** 2):
        n += 1
    return min(n, max_reps)


def target_reached(values: Sequence[float], half_width: float,
                   confidence: float = 0.95) -> bool:
    """Sequential stopping rule: the CI of ``values`` has half-width <= ``half_width``."""
    est = t_interval(values, confidence)
    return est.n >= 2 and not math.isnan(est.ci_low) and est.half_width <= half_width
