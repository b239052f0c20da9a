"""Variance reduction for paired comparisons: control variates with known expectations.

A run's headline numbers move with how busy its days happened to be: each day's busyness is
drawn from a Gamma distribution of mean exactly 1 (``demand.busyness_cv``), on the busyness
stream keyed by the day, so replication ``k`` of every scenario meets the same days. A busy
run lowers the 2018 regime's service level by more than a proposal's, so the paired change
in service level follows the run's mean busyness (correlation about 0.8 on the case's
proposals: docs/negotiating.md). The mean busyness of a run's measured days is known
*before* simulating (it is a function of seed and replication only) and its expectation is
exactly 1: a control variate.

The estimator is the regression-adjusted mean (Lavenberg and Welch 1981; Nelson 1990; Law
and Kelton, *Simulation Modeling and Analysis*, ch. 11): fit ``d_k = a + b (C_k - mu) + e_k``
by least squares over the ``n`` replications, where ``d_k`` is the paired difference,
``C_k`` the ``q`` controls and ``mu`` their known expectations; ``a`` estimates the mean
difference. Its standard error is the regression's ``s * sqrt([(X'X)^-1]_00)`` with
``s^2 = RSS / (n - q - 1)``; under joint normality of ``(d, C)``, ``(a - mean) / se`` is
Student's t with ``n - q - 1`` degrees of freedom exactly (Nelson 1990), so the interval
accounts for the estimated coefficient: fewer degrees of freedom, and the ``(X'X)^-1``
term, which grows when the controls' sample mean is far from ``mu``. The busyness control is
Gamma, not normal; ``tests/test_variance.py`` checks the coverage at fixed seeds.

The second control is the run's **absence luck** (``provenance["absence_luck"]``, from
:meth:`sim.people.stress.Strain.set_window`): every morning's "does this seat's person fall
sick / quit today" is a draw against a hazard known before it, so the sum over the run's
draws of (measured seat-days the event takes) minus (the hazard times what it would take
on average) has expectation exactly 0 whatever the regime: an approximating martingale
(Henderson and Glynn 2002, *Math. Oper. Res.* 27(2)). It counts the draws of the warm-up
(days and start state) whose sickness and vacancies reach the measured days, so it sees the
state a run carries, which busyness cannot. The paired change uses the base's luck, as it
uses the base's busyness: the base's run is the one whose service level reacts (the 2018
regime at 91% occupancy loses points to each absent seat, the proposals' little); under
common random numbers the proposal's luck is the same draws against slightly different
hazards, and followed the change less closely (``bench/bench_variance.py``,
docs/negotiating.md); one column keeps ``q`` at 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.stats import Estimate, t_ppf
from sim.engine.demand import day_busyness
from sim.engine.streams import Streams
from sim.scenario import Scenario

#: the fewest replications with which the control-variate interval is used (4 degrees of
#: freedom with one control); with fewer, the plain paired interval. With a correlation of
#: 0.75 between control and difference the interval is then expected about 0.8 times as
#: wide as the plain one (the residual variance's ``1 - r^2``, the ``(n - 2) / (n - 3)``
#: of an estimated coefficient, and Student's t with a degree of freedom fewer); at 5 runs
#: it would gain little, at 3 it would lose
MIN_REPS = 6

#: the fewest replications with which the absence luck is a second control (df = n - 3):
#: two estimated coefficients cost more than one, so that at 6 runs a range is expected
#: narrower only when the two controls explain two thirds of the spread
#: (``t(3)/t(5) x sqrt((6 - 2)/(6 - 4))`` = 1.75 times ``sqrt(1 - R^2)``), at 8 runs from
#: 44% (1.33 times), as the case's proposals' changes reach (docs/negotiating.md)
MIN_REPS_LUCK = 8

#: where a run's absence luck is kept (``RunResult.provenance``, the stored manifest's too)
LUCK = "absence_luck"


@dataclass(frozen=True)
class Adjusted:
    """A control-variate estimate of a mean difference, with what went into it."""

    estimate: Estimate
    """The regression-adjusted mean and its Student-t interval (``df = n - q - 1``)."""
    plain: Estimate
    """The paired mean and interval without controls, from the same replications."""
    coefficients: tuple[float, ...]
    """The fitted ``b`` per control."""
    residual_sd: float
    """``s``: the spread of the differences the controls do not explain."""


def busyness_control(scenario: Scenario, seed: int, replication: int) -> float:
    """Mean busyness of a replication's measured days: its expectation is exactly 1.

    The days' :func:`sim.engine.demand.day_busyness`, the draws the run makes, read without
    simulating; 1.0 when the scenario has no day-to-day busyness (``demand.busyness_cv =
    0``).
    """
    if scenario.demand.busyness_cv <= 0:
        return 1.0
    streams = Streams(seed, replication)
    return float(np.mean([day_busyness(scenario, streams, d)
                          for d in range(scenario.horizon.days)]))


def controls(scenario: Scenario, seed: int, replications: Sequence[int],
             luck: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The controls of ``replications`` (one row each) and their expectations, or None.

    The runs' mean busyness (expectation 1) when the scenario's days are drawn at random,
    and ``luck`` (one absence luck per replication, expectation 0: :func:`run_luck`) when
    given and not all equal; None when no control varies.
    """
    cols, mu = [], []
    if scenario.demand.busyness_cv > 0:
        cols.append([busyness_control(scenario, seed, r) for r in replications])
        mu.append(1.0)
    if luck is not None and len(luck) == len(replications) and np.ptp(luck) > 0:
        cols.append([float(v) for v in luck])
        mu.append(0.0)
    if not cols:
        return None
    return np.array(cols, dtype=float).T, np.array(mu)


def run_luck(provenances: Sequence[dict]) -> list[float] | None:
    """Each run's absence luck from its provenance (None when a run has none).

    None for scenarios without sickness or quits, and for runs stored before it was kept.
    """
    if any(LUCK not in p for p in provenances):
        return None
    return [float(p[LUCK]) for p in provenances]


def adjusted_mean(values: Sequence[float], control: np.ndarray, mu: Sequence[float],
                  confidence: float = 0.95) -> Adjusted:
    """The control-variate estimate of the mean of ``values`` and its t interval.

    ``control``: one row per value, one column per control; ``mu`` their known expectations.
    Values that are NaN are left out (their rows too). With fewer than ``q + 2`` values, or
    controls that do not vary, the plain t interval is returned as the estimate.
    """
    from analysis.stats import t_interval

    y = np.asarray(values, dtype=float)
    c = np.asarray(control, dtype=float).reshape(len(y), -1)
    keep = ~np.isnan(y)
    y, c = y[keep], c[keep]
    dropped = int((~keep).sum())
    plain = t_interval(y, confidence)
    n, q = c.shape
    if n < q + 2 or np.any(np.ptp(c, axis=0) == 0):
        return Adjusted(plain, plain, (math.nan,) * q, math.nan)
    x = np.column_stack([np.ones(n), c - np.asarray(mu, dtype=float)])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    df = n - q - 1
    s2 = float(resid @ resid) / df
    xtx_inv = np.linalg.inv(x.T @ x)
    se = math.sqrt(s2 * xtx_inv[0, 0])
    mean = float(coef[0])
    half = float(t_ppf(0.5 + confidence / 2, df)) * se
    est = Estimate(mean, mean - half, mean + half, n, confidence, dropped,
                   df=None if df == n - 1 else float(df))
    return Adjusted(est, plain, tuple(float(b) for b in coef[1:]), math.sqrt(s2))


def reps_needed(residual_sd: float, half_width: float, q: int, confidence: float,
                cap: int) -> int:
    """Replications whose control-variate interval is about ``half_width`` wide, at most ``cap``.

    ``t(n - q - 1) * s * sqrt(v / n) <= half_width`` with ``v = (n - 2) / (n - q - 2)``, the
    expected inflation of ``[(X'X)^-1]_00`` over ``1 / n`` for normal controls (Lavenberg
    and Welch 1981); ``s`` the residual spread so far.
    """
    if math.isnan(residual_sd) or residual_sd == 0:
        return MIN_REPS
    n = max(MIN_REPS, q + 3)
    while n < cap:
        v = (n - 2) / (n - q - 2)
        if t_ppf(0.5 + confidence / 2, n - q - 1) * residual_sd * math.sqrt(v / n) \
                <= half_width:
            return n
        n += 1
    return cap
