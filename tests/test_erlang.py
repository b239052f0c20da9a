"""Tests for sim.planning.erlang: exact Erlang B, C and A formulas and staffing."""

import dataclasses
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from sim.planning.erlang import (
    QueueMetrics,
    agents_for_service_level,
    erlang_a_distribution,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
)

# Textbook case: 360 calls/h (0.1/s), AHT 240 s -> 24 Erlangs, 27 agents, 20 s target.
RATE, AHT, AGENTS, THRESHOLD = 0.1, 240.0, 27, 20.0


def exact_b_c(servers: int, load: Fraction) -> tuple[Fraction, Fraction]:
    """Return Erlang B and C from the factorial formulas in exact rational arithmetic."""
    terms = [load**k / math.factorial(k) for k in range(servers + 1)]
    b = terms[-1] / sum(terms)
    top = terms[-1] * servers / (servers - load)
    c = top / (sum(terms[:-1]) + top)
    return b, c


def rel(x: float, y: float) -> float:
    """Return |x - y| relative to |y| (absolute when y is 0)."""
    return abs(x - y) / abs(y) if y else abs(x)


def tagged_call_check(
    rate: float, aht: float, servers: int, threshold: float, patience: float
) -> tuple[float, float]:
    """Return (service level, ASA) of Erlang A from a dense generator with serve/abandon states.

    Independent of the module's factorisation: the tagged waiting call is a chain on
    "i calls ahead" with two absorbing outcomes, solved with scipy.linalg.expm and a
    linear solve instead of P(served | j) times a hypoexponential CDF.
    """
    pi = erlang_a_distribution(rate, aht, servers, patience)
    mu, theta = 1.0 / aht, 1.0 / patience
    q = pi[servers:]
    m = q.size
    served, abandoned = m, m + 1
    gen = np.zeros((m + 2, m + 2))
    for i in range(m):
        gen[i, i - 1 if i else served] += servers * mu + i * theta
        gen[i, abandoned] += theta
        gen[i, i] = -(servers * mu + (i + 1) * theta)
    answered_by_t = scipy.linalg.expm(gen * threshold)[:m, served]
    transient = gen[:m, :m]
    to_served = gen[:m, served]
    p_served = np.linalg.solve(-transient, to_served)  # P(eventually answered | i ahead)
    wait_and_served = np.linalg.solve(-transient, p_served)  # E[wait; answered | i ahead]
    p_now = pi[:servers].sum()
    service_level = p_now + q @ answered_by_t
    asa = (q @ wait_and_served) / (p_now + q @ p_served)
    return float(service_level), float(asa)


# ------------------------------------------------------------------------ Erlang B / C


@pytest.mark.parametrize(
    ("servers", "load"),
    [(1, Fraction(1, 2)), (5, Fraction(3)), (AGENTS, Fraction(24)), (50, Fraction(91, 2))],
)
def test_erlang_b_c_match_exact_factorial_formulas(servers: int, load: Fraction) -> None:
    """Erlang B and C equal the exact rational factorial formulas to 1e-12 relative."""
    want_b, want_c = exact_b_c(servers, load)
    got_b, got_c = erlang_b(servers, float(load)), erlang_c(servers, float(load))
    assert rel(got_b, float(want_b)) < 1e-12, f"B({servers}, {load}) = {got_b}, want {want_b}"
    assert rel(got_c, float(want_c)) < 1e-12, f"C({servers}, {load}) = {got_c}, want {want_c}"


def test_erlang_c_metrics_textbook_case() -> None:
    """The 24 Erlang, 27 agent case gives the exact P(wait), 20 s service level, ASA, occupancy."""
    _, c = exact_b_c(AGENTS, Fraction(24))
    pw = float(c)
    m = erlang_c_metrics(RATE, AHT, AGENTS, THRESHOLD)
    want = {
        "p_wait": pw,
        "service_level": 1.0 - pw * math.exp(-(AGENTS - 24) * THRESHOLD / AHT),
        "asa_s": pw * AHT / (AGENTS - 24),
        "occupancy": 24 / AGENTS,
        "abandon_rate": 0.0,
    }
    got = m.as_dict()
    assert set(got) == set(want), f"as_dict keys {sorted(got)}"
    for key, value in want.items():
        assert rel(got[key], value) < 1e-12, f"{key} = {got[key]}, want {value}"
    assert 0.449 < m.p_wait < 0.450 and 0.649 < m.service_level < 0.650, f"saw {m}"


def test_erlang_c_unstable_and_edge_values() -> None:
    """Load >= servers is unstable (wait certain, SL 0, infinite ASA) and zero load never blocks."""
    assert erlang_c(24, 24.0) == 1.0 and erlang_c(10, 30.0) == 1.0
    m = erlang_c_metrics(RATE, AHT, 24, THRESHOLD)
    assert m == QueueMetrics(1.0, 0.0, math.inf, 1.0, 0.0), f"saw {m}"
    assert erlang_b(3, 0.0) == 0.0 and erlang_c(3, 0.0) == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.p_wait = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("servers", [1000, 2000])
def test_large_systems_are_stable(servers: int) -> None:
    """At 1000 and 2000 agents and 95% load every formula is finite, in range and warning-free."""
    load = 0.95 * servers
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b, c = erlang_b(servers, load), erlang_c(servers, load)
        mc = erlang_c_metrics(load / AHT, AHT, servers, THRESHOLD)
        ma = erlang_a_metrics(load / AHT, AHT, servers, THRESHOLD, 180.0)
    want_b = poisson.pmf(servers, load) / poisson.cdf(servers, load)  # independent, stable
    assert rel(b, want_b) < 1e-9, f"B = {b}, want {want_b}"
    assert 0.0 < b < c < 1.0, f"B = {b}, C = {c}"
    for m in (mc, ma):
        probs = (m.p_wait, m.service_level, m.occupancy, m.abandon_rate)
        assert all(0.0 <= p <= 1.0 for p in probs), f"saw {m}"
        assert math.isfinite(m.asa_s) and m.asa_s >= 0.0, f"saw {m}"
    assert ma.p_wait < mc.p_wait, f"abandonment should shorten the queue: {ma} vs {mc}"


def test_staffing_is_fast_and_exact_for_1000_erlangs() -> None:
    """At 1000 Erlangs staffing returns n with SL(n) >= target > SL(n-1) for C and A."""
    rate = 1000.0 / AHT
    n_c = agents_for_service_level(rate, AHT, THRESHOLD, 0.8)
    sl = [erlang_c_metrics(rate, AHT, n, THRESHOLD).service_level for n in (n_c - 1, n_c)]
    assert sl[0] < 0.8 <= sl[1], f"Erlang C: n = {n_c}, SL(n-1), SL(n) = {sl}"
    n_a = agents_for_service_level(rate, AHT, THRESHOLD, 0.8, mean_patience_s=180.0)
    sl = [erlang_a_metrics(rate, AHT, n, THRESHOLD, 180.0).service_level for n in (n_a - 1, n_a)]
    assert sl[0] < 0.8 <= sl[1], f"Erlang A: n = {n_a}, SL(n-1), SL(n) = {sl}"
    # Abandonment sheds load, so Erlang A staffs below the 1000 Erlangs Erlang C must exceed.
    assert 800 < n_a < 1000 < n_c, f"Erlang A n = {n_a}, Erlang C n = {n_c}"


# ---------------------------------------------------------------------------- Erlang A


def test_erlang_a_tends_to_erlang_c_for_huge_patience() -> None:
    """With 1e9 s mean patience Erlang A matches Erlang C to 1e-6, and converges linearly."""
    # The true gap is proportional to theta: at 27 agents and 1e9 s the ASA still differs
    # by 1.8e-6 (real, not rounding), so the 1e-6 check uses 30 agents, 80% occupancy.
    a = erlang_a_metrics(RATE, AHT, 30, THRESHOLD, 1e9)
    c = erlang_c_metrics(RATE, AHT, 30, THRESHOLD)
    for key in ("p_wait", "service_level", "asa_s", "occupancy"):
        got, want = getattr(a, key), getattr(c, key)
        assert rel(got, want) < 1e-6, f"{key}: Erlang A {got}, Erlang C {want}"
    assert a.abandon_rate < 1e-6, f"abandon_rate {a.abandon_rate}"
    c = erlang_c_metrics(RATE, AHT, AGENTS, THRESHOLD)
    for patience, tol in ((1e9, 2e-6), (1e12, 2e-9)):
        a = erlang_a_metrics(RATE, AHT, AGENTS, THRESHOLD, patience)
        for key in ("p_wait", "service_level", "asa_s"):
            got, want = getattr(a, key), getattr(c, key)
            assert rel(got, want) < tol, f"patience {patience} {key}: A {got}, C {want}"
    same = erlang_a_metrics(RATE, AHT, AGENTS, THRESHOLD, math.inf)
    assert same == c, f"inf patience gave {same}, Erlang C {c}"


@pytest.mark.parametrize(("servers", "load"), [(1, 0.3), (27, 24.0), (10, 25.0), (300, 280.0)])
def test_erlang_a_with_patience_equal_to_service_is_poisson(servers: int, load: float) -> None:
    """With theta == mu the system is M/M/inf, so P(wait) = P(Poisson(a) >= c) to 1e-10."""
    m = erlang_a_metrics(load / AHT, AHT, servers, THRESHOLD, AHT)
    want = poisson.sf(servers - 1, load)
    assert abs(m.p_wait - want) < 1e-10, f"p_wait {m.p_wait}, Poisson tail {want}"
    pi = erlang_a_distribution(load / AHT, AHT, servers, AHT)
    k = np.arange(pi.size)
    assert np.allclose(pi, poisson.pmf(k, load), rtol=1e-9, atol=1e-300), "pi is not Poisson"


@pytest.mark.parametrize(
    ("rate", "servers", "patience"), [(RATE, AGENTS, 120.0), (0.2, 30, 60.0), (0.05, 3, 30.0)]
)
def test_erlang_a_flow_identities(rate: float, servers: int, patience: float) -> None:
    """abandon_rate = theta E[Q] / lambda and occupancy = E[busy agents] / c, from pi directly."""
    m = erlang_a_metrics(rate, AHT, servers, THRESHOLD, patience)
    pi = erlang_a_distribution(rate, AHT, servers, patience)
    k = np.arange(pi.size)
    assert abs(pi.sum() - 1.0) < 1e-12, f"pi sums to {pi.sum()}"
    queue = np.maximum(k - servers, 0) @ pi
    want_abandon = queue / patience / rate
    assert rel(m.abandon_rate, want_abandon) < 1e-10, f"{m.abandon_rate} vs {want_abandon}"
    busy = np.minimum(k, servers) @ pi
    assert rel(m.occupancy, busy / servers) < 1e-10, f"{m.occupancy} vs {busy / servers}"
    assert rel(m.p_wait, pi[servers:].sum()) < 1e-12, f"{m.p_wait} vs {pi[servers:].sum()}"


@pytest.mark.parametrize(
    ("rate", "servers", "threshold", "patience"),
    [(RATE, AGENTS, THRESHOLD, 120.0), (0.2, 40, 60.0, 300.0), (0.05, 2, 15.0, 20.0)],
)
def test_erlang_a_matches_dense_tagged_call_chain(
    rate: float, servers: int, threshold: float, patience: float
) -> None:
    """Service level and ASA equal a dense-expm solution of the tagged call's own chain."""
    m = erlang_a_metrics(rate, AHT, servers, threshold, patience)
    want_sl, want_asa = tagged_call_check(rate, AHT, servers, threshold, patience)
    assert abs(m.service_level - want_sl) < 1e-11, f"SL {m.service_level} vs {want_sl}"
    assert rel(m.asa_s, want_asa) < 1e-10, f"ASA {m.asa_s} vs {want_asa}"


def test_erlang_a_service_level_limits_in_threshold() -> None:
    """Service level is 1 - p_wait at T = 0 and tends to 1 - abandon_rate as T grows."""
    at_zero = erlang_a_metrics(RATE, AHT, AGENTS, 0.0, 120.0)
    assert abs(at_zero.service_level - (1.0 - at_zero.p_wait)) < 1e-14, f"saw {at_zero}"
    for big in (3600.0, 1e6):
        late = erlang_a_metrics(RATE, AHT, AGENTS, big, 120.0)
        assert abs(late.service_level - (1.0 - late.abandon_rate)) < 1e-12, f"T={big}: {late}"
    mid = erlang_a_metrics(RATE, AHT, AGENTS, 600.0, 120.0).service_level
    assert at_zero.service_level < mid < 1.0 - at_zero.abandon_rate + 1e-15, f"mid SL {mid}"


def test_erlang_a_overload_is_stable() -> None:
    """Erlang A stays well defined far past Erlang C's stability limit (load 2x agents)."""
    m = erlang_a_metrics(2 * 27 / AHT, AHT, 27, THRESHOLD, 90.0)
    assert 0.5 < m.p_wait <= 1.0 and 0.0 < m.service_level < 0.5, f"saw {m}"
    assert 0.45 < m.abandon_rate < 0.55 and 0.95 < m.occupancy <= 1.0, f"saw {m}"


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: erlang_b(0, 1.0), "servers"),
        (lambda: erlang_b(2.5, 1.0), "servers"),
        (lambda: erlang_c(3, -1.0), "load"),
        (lambda: erlang_c_metrics(0.0, AHT, 3, 20.0), "rate"),
        (lambda: erlang_c_metrics(RATE, -5.0, 3, 20.0), "mean_service_s"),
        (lambda: erlang_c_metrics(RATE, AHT, 3, -1.0), "threshold_s"),
        (lambda: erlang_a_metrics(RATE, AHT, 3, 20.0, 0.0), "mean_patience_s"),
        (lambda: erlang_a_metrics(math.nan, AHT, 3, 20.0, 60.0), "rate"),
        (lambda: erlang_a_distribution(RATE, AHT, 3, math.inf), "mean_patience_s"),
        (lambda: agents_for_service_level(RATE, AHT, 20.0, 1.0), "target"),
        (lambda: agents_for_service_level(RATE, AHT, 20.0, 0.0), "target"),
        (lambda: agents_for_service_level(-RATE, AHT, 20.0, 0.8), "rate"),
        (lambda: agents_for_service_level(RATE, AHT, 20.0, 0.8, max_agents=0), "max_agents"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(call, name: str) -> None:
    """Invalid arguments raise ValueError whose message names the argument."""
    with pytest.raises(ValueError, match=name) as info:
        call()
    assert name in str(info.value), f"message was {info.value}"


def test_staffing_reports_unreachable_target() -> None:
    """A target beyond max_agents raises ValueError instead of returning a wrong count."""
    with pytest.raises(ValueError, match="max_agents=30"):
        agents_for_service_level(RATE, AHT, THRESHOLD, 0.99, max_agents=30)


# ----------------------------------------------------------------------- pyworkforce


def test_matches_pyworkforce_erlang_c() -> None:
    """The ErlangC class of pyworkforce gives the same P(wait) and service level as ours."""
    pyworkforce_queuing = pytest.importorskip("pyworkforce.queuing")
    # pyworkforce works in minutes: transactions per `interval`, aht, and `asa` = threshold.
    for calls, interval, aht_min, asa_min, agents in [
        (360, 60, 4, 20 / 60, 27),
        (100, 30, 3, 1, 14),
    ]:
        theirs = pyworkforce_queuing.ErlangC(
            transactions=calls, aht=aht_min, asa=asa_min, interval=interval
        )
        ours = erlang_c_metrics(calls / (interval * 60), aht_min * 60, agents, asa_min * 60)
        pw, sl = theirs.waiting_probability(agents), theirs.service_level(agents)
        assert rel(ours.p_wait, pw) < 1e-9, f"p_wait {ours.p_wait} vs pyworkforce {pw}"
        assert rel(ours.service_level, sl) < 1e-9, f"SL {ours.service_level} vs pyworkforce {sl}"


# ------------------------------------------------------------------------ properties

rates = st.floats(0.005, 1.0)
ahts = st.floats(20.0, 600.0)
thresholds = st.floats(0.0, 120.0)
patiences = st.one_of(st.just(math.inf), st.floats(5.0, 2000.0))
hypothesis_settings = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def metrics(rate: float, aht: float, servers: int, threshold: float, patience: float):
    """Return Erlang C metrics for infinite patience, else Erlang A metrics."""
    if math.isinf(patience):
        return erlang_c_metrics(rate, aht, servers, threshold)
    return erlang_a_metrics(rate, aht, servers, threshold, patience)


@hypothesis_settings
@given(rates, ahts, st.integers(1, 60), thresholds, st.floats(0.0, 300.0), patiences)
def test_service_level_monotone_in_servers_and_threshold(
    rate: float, aht: float, servers: int, threshold: float, extra: float, patience: float
) -> None:
    """Service level never falls with one more agent or a longer threshold; P(wait) is in [0, 1]."""
    base = metrics(rate, aht, servers, threshold, patience)
    more_agents = metrics(rate, aht, servers + 1, threshold, patience)
    longer = metrics(rate, aht, servers, threshold + extra, patience)
    assert 0.0 <= base.p_wait <= 1.0, f"p_wait {base.p_wait}"
    assert 0.0 <= base.service_level <= 1.0, f"SL {base.service_level}"
    assert more_agents.service_level >= base.service_level - 1e-12, f"{base} -> {more_agents}"
    assert longer.service_level >= base.service_level - 1e-12, f"{base} -> {longer}"


@hypothesis_settings
@given(rates, ahts, thresholds, st.floats(0.05, 0.95), patiences)
def test_staffing_is_the_smallest_sufficient_count(
    rate: float, aht: float, threshold: float, target: float, patience: float
) -> None:
    """agents_for_service_level returns n with SL(n) >= target and SL(n - 1) < target."""
    n = agents_for_service_level(rate, aht, threshold, target, mean_patience_s=patience)
    at_n = metrics(rate, aht, n, threshold, patience).service_level
    assert at_n >= target, f"n = {n}: SL {at_n} < target {target}"
    if n > 1:
        below = metrics(rate, aht, n - 1, threshold, patience).service_level
        assert below < target, f"n - 1 = {n - 1} already reaches {below} >= {target}"
