"""Confidence intervals over independent replications, and tests for several KPIs at once."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from sim.measure.kpi import KPIS, UNIT_WORDS, format_ci, format_kpi

#: confidence of compare's and sweep's intervals (and 1 - the primary tests' level)
COMPARE_CONFIDENCE = 0.95


# The distributions' functions are scipy.special's, the very ones scipy.stats.t, .f and
# .norm call after their argument checks (the same checks are made here): importing
# scipy.stats takes about 0.3 s, which a short command would spend before it starts.

def t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t with ``df`` degrees of freedom (``scipy.stats.t.ppf``)."""
    if not (df > 0 and 0 <= q <= 1):
        return math.nan
    if q in (0, 1):
        return -math.inf if q == 0 else math.inf
    return float(special.stdtrit(df, q))


def t_sf(x: float, df: float) -> float:
    """Upper tail ``P(T > x)`` of Student's t (``scipy.stats.t.sf``)."""
    if not df > 0 or math.isnan(x):
        return math.nan
    return float(special.stdtr(df, -x))


def norm_ppf(q: float) -> float:
    """Quantile of the standard normal distribution (``scipy.stats.norm.ppf``)."""
    if not 0 <= q <= 1:
        return math.nan
    if q in (0, 1):
        return -math.inf if q == 0 else math.inf
    return float(special.ndtri(q))


def f_sf(x: float, dfn: float, dfd: float) -> float:
    """Upper tail ``P(F > x)`` of the F distribution (``scipy.stats.f.sf``)."""
    if not (dfn > 0 and dfd > 0) or math.isnan(x):
        return math.nan
    if x <= 0 or x == math.inf:
        return 1.0 if x <= 0 else 0.0
    return float(special.fdtrc(dfn, dfd, x))


@dataclass(frozen=True)
class Estimate:
    """A mean with its Student-t confidence interval (NaN bounds for a single value)."""

    mean: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float
    dropped: int = 0
    """Replications left out because their value was NaN (e.g. no call answered)."""
    df: float | None = None
    """Degrees of freedom of the interval when not ``n - 1`` (Welch)."""

    @property
    def half_width(self) -> float:
        """Half the CI width."""
        return (self.ci_high - self.ci_low) / 2

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (inclusive)."""
        return self.ci_low <= value <= self.ci_high

    def p_value(self, null: float = 0.0) -> float:
        """Two-sided Student-t p-value of ``mean == null``, consistent with the interval.

        ``p < 1 - confidence`` exactly when the interval excludes ``null``. With no spread
        (every value equal) it is 1 when the mean equals ``null`` and 0 otherwise; NaN when
        there is no interval (fewer than two values).
        """
        if self.n < 2 or math.isnan(self.ci_low):
            return math.nan
        half = self.half_width
        if half == 0:
            return 1.0 if self.mean == null else 0.0
        df = self.n - 1 if self.df is None else self.df
        se = half / t_ppf(0.5 + self.confidence / 2, df)
        return float(2 * t_sf(abs(self.mean - null) / se, df))

    def as_dict(self) -> dict[str, float | int | None]:
        """``{"mean", "ci_low", "ci_high"}`` with NaN as None (for JSON).

        ``dropped`` (replications left out as NaN) is added when there were any.
        """
        out: dict[str, float | int | None] = {
            k: (None if math.isnan(v) else v) for k, v in
            (("mean", self.mean), ("ci_low", self.ci_low), ("ci_high", self.ci_high))}
        if self.dropped:
            out["dropped"] = self.dropped
        return out

    def dropped_note(self) -> str:
        """``""``, or e.g. ``" (2 of 10 replications had no value and were left out)"``."""
        if not self.dropped:
            return ""
        return (f" ({self.dropped} of {self.n + self.dropped} replications had no value "
                "and were left out)")


def t_interval(values: Iterable[float], confidence: float = 0.95) -> Estimate:
    """Student-t CI of the mean of independent replications.

    NaN values (a KPI with no value in a replication, e.g. ASA when no call was answered)
    are left out; how many is ``Estimate.dropped``, so that tables can say so.
    """
    x = np.asarray(list(values), dtype=float)
    nan = np.isnan(x)
    dropped = int(nan.sum())
    x = x[~nan]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, confidence, dropped)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1, confidence, dropped)
    half = float(t_ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Estimate(mean, mean - half, mean + half, n, confidence, dropped)


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
    dropped = int(np.isnan(a).sum() + np.isnan(b).sum())
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n = min(len(a), len(b))
    if len(a) == 0 or len(b) == 0:
        return Estimate(math.nan, math.nan, math.nan, n, confidence, dropped)
    diff = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return Estimate(diff, math.nan, math.nan, n, confidence, dropped)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return Estimate(diff, diff, diff, n, confidence, dropped)
    df = se2 ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(t_ppf(0.5 + confidence / 2, df) * math.sqrt(se2))
    return Estimate(diff, diff - half, diff + half, n, confidence, dropped, float(df))


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
    n = max(2, math.ceil((norm_ppf(q) * s / half_width) ** 2))
    while n < max_reps and n < math.ceil((t_ppf(q, n - 1) * s / half_width) ** 2):
        n += 1
    return min(n, max_reps)


def target_reached(values: Sequence[float], half_width: float,
                   confidence: float = 0.95) -> bool:
    """Sequential stopping rule: the CI of ``values`` has half-width <= ``half_width``."""
    est = t_interval(values, confidence)
    return est.n >= 2 and not math.isnan(est.ci_low) and est.half_width <= half_width


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control, any dependence).

    The k-th smallest of m p-values is multiplied by ``m - k + 1``, then made monotone and
    capped at 1; rejecting where the adjusted value is below alpha keeps the chance of any
    false "differs" among the m at most alpha. NaN p-values (no interval) stay NaN and do
    not count in m.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), math.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * float(p[i])))
        out[i] = running
    return out.tolist()


@dataclass(frozen=True)
class JointTest:
    """One test that several simulated means equal their exact values together."""

    method: str
    """``"hotelling"`` (Hotelling's T-squared) or ``"holm"`` (smallest Holm-adjusted p)."""
    statistic: float
    """T-squared (hotelling) or the smallest unadjusted p-value (holm)."""
    p_value: float
    dims: int
    """Dimensions tested: KPIs whose replication values vary, less exact linear relations."""
    n: int
    """Replications used (those with a value for every KPI)."""
    df: tuple[float, float] | None = None
    """F distribution degrees of freedom of the hotelling test: (dims, n - dims)."""
    note: str = ""

    def passed(self, confidence: float) -> bool:
        """Whether the test does not reject at level ``1 - confidence``."""
        return not (self.p_value < 1 - confidence)

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON (NaN as None)."""
        def clean(v: float) -> float | None:
            return None if math.isnan(v) else v
        return {"method": self.method, "statistic": clean(self.statistic),
                "p_value": clean(self.p_value), "dims": self.dims, "n": self.n,
                "df": list(self.df) if self.df else None, "note": self.note}


def hotelling_test(values: np.ndarray, null: Sequence[float], rel_eig: float = 1e-9
                   ) -> JointTest | None:
    """Hotelling's one-sample T-squared test of ``mean(values) == null`` (rows: replications).

    Replications are independent and, for long runs, their KPI vectors are close to
    multivariate normal; then ``(n - p) / (p (n - 1)) T^2`` follows F(p, n - p) exactly, and
    the test's false-alarm rate is the stated one for all KPIs *together*, whatever their
    correlation. KPIs are standardised first; a KPI that never varies is left out (and, if it
    differs from its null value, the test fails: p = 0), and exact linear relations between
    KPIs (e.g. service level at T = 0 is 1 - P(wait)) are removed by keeping only the
    correlation matrix's eigen-directions with eigenvalue above ``rel_eig`` times the largest.
    Rows with a NaN are left out. None when there are too few replications (n <= p).
    """
    x = np.asarray(values, dtype=float)
    mu = np.asarray(null, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n = len(x)
    if n < 2:
        return None
    sd = x.std(axis=0, ddof=1)
    mean = x.mean(axis=0)
    scale = np.maximum(np.abs(mu), np.abs(mean)) + 1e-300
    const = sd <= 1e-12 * scale
    if np.any(const & ~np.isclose(mean, mu, rtol=1e-9, atol=1e-12)):
        return JointTest("hotelling", math.inf, 0.0, int((~const).sum()), n, None,
                         "a KPI that is the same in every replication differs from its "
                         "exact value")
    z = (x[:, ~const] - mu[~const]) / sd[~const]
    if z.shape[1] == 0:
        return JointTest("hotelling", 0.0, 1.0, 0, n, None, "no KPI varies")
    if n <= z.shape[1]:  # the sample covariance is singular whatever the KPIs' relations
        return None
    d = z.mean(axis=0)
    lam, vec = np.linalg.eigh(np.corrcoef(z, rowvar=False) if z.shape[1] > 1
                              else np.ones((1, 1)))
    keep = lam > rel_eig * lam.max()
    p = int(keep.sum())
    proj = vec.T @ d
    if np.any(np.abs(proj[~keep]) > 1e-6):
        return JointTest("hotelling", math.inf, 0.0, p, n, None,
                         "the exact values break a relation the simulated KPIs always keep")
    t2 = float(n * np.sum(proj[keep] ** 2 / lam[keep]))
    f = (n - p) / (p * (n - 1)) * t2
    return JointTest("hotelling", t2, f_sf(f, p, n - p), p, n,
                     (float(p), float(n - p)))


def joint_test(values: np.ndarray, null: Sequence[float], confidence: float = 0.95
               ) -> tuple[JointTest, list[float], list[float]]:
    """Joint test of several KPIs against exact values, and the per-KPI p-values.

    Returns the joint test (Hotelling's T-squared when there are more replications than
    KPIs, else Holm over the per-KPI t-tests), the per-KPI two-sided t-test p-values and
    their Holm-adjusted values.
    """
    x = np.asarray(values, dtype=float)
    ests = [t_interval(x[:, j], confidence) for j in range(x.shape[1])]
    p = [e.p_value(v) for e, v in zip(ests, null, strict=True)]
    adj = holm(p)
    test = hotelling_test(x, null)
    if test is None:
        finite = [v for v in adj if not math.isnan(v)]
        test = JointTest("holm", min(p) if finite else math.nan,
                         min(finite) if finite else math.nan, len(finite),
                         min(e.n for e in ests), None,
                         "too few replications for Hotelling's test (need more than one "
                         "per KPI): the smallest Holm-adjusted p-value decides")
    return test, p, adj


def format_difference(kpi: str, v: float | None) -> str:
    """A difference of two KPI values, signed: shares in percentage points (``+5.53 pp``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    unit = KPIS[kpi].unit if kpi in KPIS else ""
    if unit == "share" and math.isfinite(v):
        return f"{100 * v:+.2f} pp"
    text = format_kpi(kpi, v)
    return text if text.startswith("-") or v == 0 else f"+{text}"


@dataclass(frozen=True)
class Difference:
    """A paired difference of one KPI, its p-value, and whether it counts as "differs"."""

    estimate: Estimate
    p_value: float
    """Two-sided paired t-test p-value of "no difference" (unadjusted)."""
    p_holm: float | None
    """Holm-adjusted p-value among the comparison's secondary KPIs (None: primary KPI)."""

    @property
    def primary(self) -> bool:
        """A primary KPI: tested at the stated confidence, not adjusted."""
        return self.p_holm is None

    @property
    def differs(self) -> bool | None:
        """Distinguishable from zero (None without an interval).

        Primary: the CI excludes 0 (the same as p < alpha). Secondary: Holm p < alpha.
        """
        if self.p_holm is None:
            return distinguishable(self.estimate)
        return None if math.isnan(self.p_holm) else self.p_holm < 1 - self.estimate.confidence

    def as_dict(self) -> dict[str, object]:
        """The estimate's fields plus ``p_value``, ``p_holm``, ``test`` and ``differs``."""
        def clean(v: float | None) -> float | None:
            return None if v is None or math.isnan(v) else v
        return {**self.estimate.as_dict(), "p_value": clean(self.p_value),
                "p_holm": clean(self.p_holm),
                "test": "primary" if self.primary else "secondary (Holm)",
                "differs": self.differs}


def paired_differences(baseline: Sequence[Mapping[str, float]],
                       other: Sequence[Mapping[str, float]], kpis: Sequence[str],
                       primary: Sequence[str], confidence: float = 0.95
                       ) -> dict[str, Difference]:
    """Every KPI's paired difference ``other - baseline`` with a multiplicity-aware verdict.

    ``baseline[k]`` and ``other[k]`` are the KPI dicts of the same replication ``k``. The
    ``primary`` KPIs are tested at ``confidence`` each, unadjusted (the comparison was set
    up to answer them). Every other KPI is secondary: their p-values are Holm-adjusted
    together, so the chance of any false "differs" among them is at most ``1 - confidence``.
    """
    est = {k: paired_difference([r.get(k, math.nan) for r in baseline],
                                [r.get(k, math.nan) for r in other], confidence)
           for k in kpis}
    p = {k: e.p_value() for k, e in est.items()}
    secondary = [k for k in kpis if k not in primary]
    adj = dict(zip(secondary, holm([p[k] for k in secondary]), strict=True))
    return {k: Difference(est[k], p[k], None if k in primary else adj[k]) for k in kpis}


def format_p(v: float | None) -> str:
    """A p-value for a table: ``-`` when there is none, ``<0.001`` when tiny."""
    if v is None or math.isnan(v):
        return "-"
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def kpi_table(est: Mapping[str, Estimate], with_ci: bool, explain: bool = False,
              width: int = 100) -> str:
    """Every KPI's mean (and CI) in its unit: the table ``ccsim run`` prints.

    It fits ``width`` columns: the KPI meanings, the long part, come only with ``explain``
    (``ccsim run --explain``), each wrapped under its row; a CI is shown inside the
    values the KPI can take (:func:`sim.measure.kpi.format_ci`).
    """
    w = max([16, *map(len, est)])  # the KPI column fits the longest name
    unit = {k: UNIT_WORDS.get(KPIS[k].unit, KPIS[k].unit) if k in KPIS else "" for k in est}
    lines = [f"{'KPI':<{w}} {'mean':>11}" + (f"   {'95% CI':<24}" if with_ci else "   ")
             + "unit"]
    gone = [k for k, e in est.items() if math.isnan(e.mean)]
    fill = {"width": width, "initial_indent": "    ", "subsequent_indent": "    "}
    for k, e in est.items():
        if math.isnan(e.mean):
            continue  # nothing to measure in this scenario: named below
        ci = format_ci(k, e.ci_low, e.ci_high) if with_ci else ""
        lines.append(f"{k:<{w}} {format_kpi(k, e.mean):>11}   "
                     + (f"{ci:<24}" if with_ci else "") + unit[k])
        if e.dropped:
            lines.append(textwrap.fill(e.dropped_note().strip(" ()") + ".", **fill))
        if explain and k in KPIS:
            lines.append(textwrap.fill(KPIS[k].description, **fill))
    lines += ["", textwrap.fill(
        "% is a share shown as per cent; stress pts are the model's survey scale (0: no "
        "strain; above stress.high_threshold: high); per agent counts are over the run."
        + ("" if explain else " What each KPI means: add --explain (or see ccsim docs)."),
        width=width)]
    if gone:
        lines += ["", textwrap.fill(f"Not shown: {len(gone)} KPI(s) with no value in this "
                                    "scenario (what they measure is not in it, or, for "
                                    "the agents' figures, fewer agents worked than the "
                                    "publication floor: docs/policy.md, Privacy): "
                                    f"{', '.join(gone)}.", width=width)]
    return "\n".join(lines)
