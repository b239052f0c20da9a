"""Control variates (analysis.variance) and the common random numbers they rely on."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.experiment import SerialExecutor, run_experiment
from analysis.negotiate import ADJUSTED, PRIMARY, adjustments, comparison
from analysis.stats import t_interval
from analysis.variance import (
    LUCK,
    MIN_REPS,
    MIN_REPS_LUCK,
    adjusted_mean,
    busyness_control,
    controls,
    reps_needed,
    run_luck,
)
from sim.model import build, run, simulate
from sim.scenario import scenario_from_dict
from sim.start import SeatState, StartState, sickness, tenure
from tests.conftest import small_dict

#: the case's day-to-day busyness (scenarios/case/case-base.toml) and a 10-day run
CV, DAYS = 0.08, 10


def _synthetic(rng: np.random.Generator, n: int, m: int, rho: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """``m`` experiments of ``n`` paired differences following a run's mean Gamma busyness.

    Each run's control is the mean of ``DAYS`` Gamma days of mean 1 (skewed, as the model
    draws them); the difference is ``0.05 + b (C - 1) + e`` with normal ``e``, ``b`` chosen
    so that difference and control correlate at ``rho``. True mean difference: 0.05.
    """
    c = rng.gamma(DAYS / CV**2, CV**2 / DAYS, size=(m, n))
    sd_c = CV / math.sqrt(DAYS)
    b = rho / sd_c * 0.02  # differences of sd 0.02 (2 points of service level)
    e = rng.normal(0.0, 0.02 * math.sqrt(1 - rho**2), size=(m, n))
    return 0.05 + b * (c - 1) + e, c


@pytest.mark.parametrize("n", [MIN_REPS, 10])
def test_control_variate_interval_covers_the_true_mean_at_95_percent(n):
    """2,000 experiments at fixed seed: the adjusted 95% interval covers 0.05 in 95% (|z| <= 3)."""
    m = 2000
    d, c = _synthetic(np.random.default_rng(20 + n), n, m, rho=0.8)
    hits, widths, plain = 0, [], []
    for k in range(m):
        a = adjusted_mean(d[k], c[k][:, None], [1.0])
        hits += a.estimate.contains(0.05)
        widths.append(a.estimate.half_width)
        plain.append(a.plain.half_width)
    se = math.sqrt(0.95 * 0.05 / m)
    assert abs(hits / m - 0.95) <= 3 * se, hits / m
    # and it is narrower: the residual variance is 1 - 0.8^2 = 0.36 of the plain one, paid
    # for with a degree of freedom and an estimated coefficient (expected ratio about 0.7
    # at 6 runs, 0.65 at 10)
    assert np.mean(widths) < 0.75 * np.mean(plain)


def test_without_correlation_the_interval_still_covers():
    """A control that explains nothing: coverage still 95% (|z| <= 3), the range a bit wider."""
    m, n = 2000, 8
    d, c = _synthetic(np.random.default_rng(7), n, m, rho=0.0)
    hits = sum(adjusted_mean(d[k], c[k][:, None], [1.0]).estimate.contains(0.05)
               for k in range(m))
    assert abs(hits / m - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / m)


def _luck(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Skewed, mean-0 luck: a Poisson number of events, each of exponential seat-days."""
    k = rng.poisson(4.0, size=size)
    return rng.gamma(np.maximum(k, 1e-12), 8.0) * (k > 0) - 32.0


@pytest.mark.parametrize("n", [8, 12])
def test_two_controls_cover_the_true_mean_at_95_percent(n):
    """Busyness and a skewed luck (q = 2), 2,000 experiments: 95% coverage (|z| <= 3), narrower.

    The differences follow both controls (together r = 0.85) plus normal noise; the luck is
    a compound Poisson sum less its mean, as lopsided as a run's absence luck.
    """
    m = 2000
    rng = np.random.default_rng(40 + n)
    c = rng.gamma(DAYS / CV**2, CV**2 / DAYS, size=(m, n))
    luck = _luck(rng, (m, n))
    sd_luck = math.sqrt(4.0 * 2 * 8.0**2)  # compound Poisson: lambda E[X^2]
    d = (0.05 + 0.4 * 0.02 * (c - 1) / (CV / math.sqrt(DAYS)) - 0.75 * 0.02 * luck / sd_luck
         + rng.normal(0.0, 0.02 * math.sqrt(1 - 0.4**2 - 0.75**2), size=(m, n)))
    hits, widths, plain = 0, [], []
    for k in range(m):
        a = adjusted_mean(d[k], np.column_stack([c[k], luck[k]]), [1.0, 0.0])
        hits += a.estimate.contains(0.05)
        widths.append(a.estimate.half_width)
        plain.append(a.plain.half_width)
        assert a.estimate.df == n - 3
    assert abs(hits / m - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / m), hits / m
    # residual variance 1 - 0.85^2 = 0.28 of the plain one: expected width ratio about
    # 0.53 x t(n-3)/t(n-1) x sqrt((n-2)/(n-4)), 0.69 at 8 runs and 0.63 at 12
    assert np.mean(widths) < {8: 0.78, 12: 0.7}[n] * np.mean(plain)


def test_adjusted_mean_is_the_regression_intercept_with_n_minus_2_degrees_of_freedom():
    """The estimate is OLS's intercept at the known mean; its interval uses t with n - q - 1 df."""
    y = np.array([0.10, 0.14, 0.05, 0.12, 0.08, 0.11, 0.09])
    c = np.array([1.01, 1.04, 0.97, 1.03, 0.99, 1.02, 1.00])
    a = adjusted_mean(y, c[:, None], [1.0])
    x = np.column_stack([np.ones(7), c - 1.0])
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ coef
    se = math.sqrt(resid @ resid / 5 * np.linalg.inv(x.T @ x)[0, 0])
    assert a.estimate.mean == pytest.approx(coef[0], abs=1e-12)
    assert a.estimate.half_width == pytest.approx(2.570582 * se, rel=1e-6)  # t(0.975, 5)
    assert (a.estimate.df, a.coefficients[0]) == (5.0, pytest.approx(coef[1], abs=1e-12))
    assert a.plain == t_interval(y)
    # NaN values leave their control out with them; too few values: the plain interval
    b = adjusted_mean([*y, math.nan], np.append(c, 1.5)[:, None], [1.0])
    assert (b.estimate.mean, b.estimate.dropped) == (pytest.approx(coef[0]), 1)
    few = adjusted_mean(y[:2], c[:2, None], [1.0])
    assert few.estimate == t_interval(y[:2])


def test_reps_needed_grows_with_the_spread_left_and_stops_at_the_cap():
    """Runs for a half-width: t(n-2) s sqrt((n-2)/(n-3)/n) <= h, at least MIN_REPS, at most cap."""
    assert reps_needed(0.01, 0.01, 1, 0.95, 60) == 8  # 8: 2.447 x 0.01 x sqrt(1.2 / 8) <= 0.01
    assert reps_needed(0.02, 0.01, 1, 0.95, 60) == 19
    assert reps_needed(0.2, 0.01, 1, 0.95, 60) == 60
    assert reps_needed(0.0, 0.01, 1, 0.95, 60) == MIN_REPS


# --------------------------------------------------------------------------- on the model


@pytest.fixture(scope="module")
def stressed() -> tuple[dict, dict]:
    """A small stressed centre over 3 days with frequent sickness, and a lenient regime of it."""
    strict = small_dict(horizon={"days": 3, "open": "08:00", "hours": 2, "interval_minutes": 30},
                        stress={"enabled": True, "absence": True, "absence_base_hazard": 0.2,
                                "absence_exhaustion_effect": 0.0},
                        measurement={"level": "individual",
                                     "adherence": {"exception_threshold_s": 60,
                                                   "warning_after": 1}},
                        monitoring={"feedback": "punitive", "recording": "audio_screen",
                                    "recorded_share": 0.8})
    lenient = small_dict(**{k: v for k, v in strict.items() if k not in ("measurement",
                                                                           "monitoring")})
    lenient["name"] = "lenient"
    return strict, lenient


def test_busyness_control_is_each_runs_own_mean_busyness(stressed):
    """The control made from the streams is the mean of the daily table's busyness, any rep."""
    s = scenario_from_dict(stressed[0])
    for rep in (0, 3):
        daily = simulate(s, seed=5, replication=rep).daily
        assert busyness_control(s, 5, rep) == pytest.approx(daily["busyness"].mean(), abs=0)
    flat = s.replace({"demand.busyness_cv": 0.0})
    assert busyness_control(flat, 5, 0) == 1.0 and controls(flat, 5, [0, 1]) is None


@pytest.fixture(scope="module")
def lucky_run():
    """300 seats over 30 short days, frequent sickness and quits; odd seats count days 12-24."""
    s = scenario_from_dict(small_dict(
        horizon={"days": 30, "open": "08:00", "hours": 1, "interval_minutes": 30},
        demand={"calls_per_day": 20, "profile": [1, 1], "busyness_cv": 0.1},
        staffing={"shifts": {"a": {"start": "08:00", "hours": 1, "agents": 300}}},
        stress={"enabled": True, "absence": True, "attrition": True,
                "absence_base_hazard": 0.05, "quit_base_monthly": 0.3,
                "hiring_delay_days": 14}))
    r = build(s, 1, 0)
    for st in r.strains[1::2]:  # as a warm-up counts the measured days after its own
        st.set_window(12, 25)
    run(r)
    return r


@pytest.mark.parametrize("window", [0, 1])
def test_absence_luck_has_mean_zero_per_seat(lucky_run, window):
    """Each seat's luck is a martingale: over 150 seats its mean is 0 (|z| <= 3), either window.

    Seats' lucks are uncorrelated (each a sum of martingale differences on its own
    uniforms), so the sample standard error holds. The luck follows the seat's absent days
    in its window (what it is for): correlation above 0.5.
    """
    seats = lucky_run.strains[window::2]
    luck = np.array([st.luck for st in seats])
    assert abs(luck.mean()) <= 3 * luck.std(ddof=1) / math.sqrt(len(luck)), luck.mean()
    lo, hi = seats[0].window
    absent = ~lucky_run.presence.present[window::2, lo:hi]
    assert np.corrcoef(luck, absent.sum(axis=1))[0, 1] > 0.5


def test_start_state_draws_add_luck_of_mean_zero():
    """Tenure and sickness: 200 states of 150 seats, the luck they add has mean 0 (|z| <= 3)."""
    s = scenario_from_dict(small_dict(
        horizon={"days": 10, "open": "08:00", "hours": 2, "interval_minutes": 30},
        stress={"enabled": True, "absence": True, "attrition": True,
                "quit_base_monthly": 0.2, "hiring_delay_days": 28}))
    seat = [SeatState(a=0.0, e=0.2 * (k % 5), threat=0.1 * (k % 3), trait=0.0, t=0.0,
                      hire=0, hired_on=0, back_on=None, sick_days_left=0) for k in range(150)]
    state = StartState("x", "h", 1, 10, 150, 5, tuple(seat))
    for draw in (tenure, sickness):
        gens = [np.random.default_rng([7, r]) for r in range(200)]
        luck = np.array([draw(state, s, 10, lambda k, g=g: g).luck for g in gens])
        assert luck.std() > 1 and abs(luck.mean()) <= 3 * luck.std(ddof=1) / math.sqrt(200)


def test_sickness_and_the_survey_draw_the_same_numbers_per_seat_in_every_regime(stressed):
    """Common random numbers per seat: absence spells and survey errors do not depend on regime.

    With no effect of exhaustion on sickness, the hazard is the same under both regimes, so
    the same uniforms (inverse transform per seat and day) must give the same spells; and
    the survey's reading minus the latent strain and exhaustion (the person's own level plus
    the day's survey error) must be the same on every agent-day worked under both.
    """
    a = simulate(scenario_from_dict(stressed[0]), seed=3, replication=1)
    b = simulate(scenario_from_dict(stressed[1]), seed=3, replication=1)
    assert len(a.absences) > 0
    pd.testing.assert_frame_equal(a.absences.reset_index(drop=True),
                                  b.absences.reset_index(drop=True))
    cols = ["agent", "day", "stress", "strain_mean", "exhaustion"]
    both = a.agent_days[cols].merge(b.agent_days[cols], on=["agent", "day"])
    own_a = both["stress_x"] - both["strain_mean_x"] - both["exhaustion_x"]
    own_b = both["stress_y"] - both["strain_mean_y"] - both["exhaustion_y"]
    assert len(both) > 10 and (both["strain_mean_x"] != both["strain_mean_y"]).any()
    np.testing.assert_allclose(own_a, own_b, rtol=0, atol=1e-12)


def test_the_page_adjusts_service_level_for_busyness_then_luck(stressed):
    """The page's service level: plain below MIN_REPS runs, busyness from it, luck too later.

    With MIN_REPS runs the busyness control alone (n - 2 df); from MIN_REPS_LUCK runs the
    base's absence luck as a second control (n - 3 df); stress is never adjusted.
    """
    scen = [scenario_from_dict(d).replace({"horizon.days": 1}) for d in stressed]
    exp = run_experiment(scen, 2, MIN_REPS - 1, executor=SerialExecutor())
    assert adjustments(exp) == {}
    assert ADJUSTED == ("service_level",) and set(PRIMARY) - set(ADJUSTED) == {"stress_mean"}
    for n, q in ((MIN_REPS, 1), (MIN_REPS_LUCK, 2)):
        exp = run_experiment(scen, 2, n, executor=SerialExecutor(), experiment=exp)
        d = comparison(exp).differences["lenient"]
        sl = [exp.outputs[1, r].kpis["service_level"] - exp.outputs[0, r].kpis["service_level"]
              for r in range(n)]
        luck = run_luck([exp.outputs[0, r].provenance for r in range(n)])
        assert luck == [exp.outputs[0, r].provenance[LUCK] for r in range(n)]
        ctl = [[busyness_control(scen[0], 2, r), luck[r]][:q] for r in range(n)]
        assert d["service_level"].estimate == \
            adjusted_mean(sl, np.array(ctl), [1.0, 0.0][:q]).estimate
        assert d["service_level"].estimate.df == n - 1 - q
        assert d["service_level"].p_value == d["service_level"].estimate.p_value()
        st = [exp.outputs[1, r].kpis["stress_mean"] - exp.outputs[0, r].kpis["stress_mean"]
              for r in range(n)]
        assert d["stress_mean"].estimate == t_interval(st)
    assert np.ptp(luck) > 0 and run_luck([{}, {LUCK: 1.0}]) is None


@pytest.mark.slow
def test_adjusted_ranges_cover_the_small_centres_true_change():
    """1,200 small-centre runs: 60 adjusted 10-run ranges cover the 600-run mean (|z| <= 3).

    The true change (one more agent in the first shift) is estimated by the mean of all 600
    paired runs, whose standard error is about a twentieth of a 10-run range's half-width;
    the busyness control is the model's own.
    """
    base = scenario_from_dict(small_dict(demand={"calls_per_day": 300,
                                                 "profile": [1, 2, 2, 1], "busyness_cv": 0.25}))
    more = base.replace({"staffing.shifts.a.agents": 7})
    reps = range(600)
    d = np.array([simulate(more, seed=9, replication=r).kpis["service_level"]
                  - simulate(base, seed=9, replication=r).kpis["service_level"] for r in reps])
    c = np.array([busyness_control(base, 9, r) for r in reps])
    truth = d.mean()
    batches = [adjusted_mean(d[k:k + 10], c[k:k + 10, None], [1.0]) for k in range(0, 600, 10)]
    hits = sum(a.estimate.contains(truth) for a in batches)
    assert abs(hits / 60 - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / 60), hits
    assert np.mean([a.estimate.half_width for a in batches]) < \
        np.mean([a.plain.half_width for a in batches])
