"""Exact Erlang B, Erlang C (M/M/c) and Erlang A (M/M/c+M) queue formulas.

Rates are per second and times are in seconds; a load is ``rate * mean_service_s``
in Erlangs. Nothing here forms a factorial or a power of the load: Erlang B uses the
stable recursion ``B(n) = a B(n-1) / (n + a B(n-1))``, and the Erlang A stationary
distribution is built in log space, so thousands of agents neither overflow nor
underflow into nonsense.

Erlang A (Palm; Garnett, Mandelbaum and Reiman) is solved exactly on the birth-death
chain of the number of calls in system, with exponential patience of rate
``theta = 1 / mean_patience_s``. Waiting calls are served first come, first served.
An arrival that finds ``j`` calls waiting leaves its place in the queue at rate
``R_i = c*mu + i*theta + theta`` while ``i`` calls are still ahead of it. It is answered
with probability ``prod (c*mu + i*theta) / R_i``. Once answered, its wait is the sum of
independent ``Exp(R_i)``, ``i = 0..j``. Its distribution function is the matrix
exponential of a pure-death chain, evaluated by uniformisation (every term nonnegative),
never by partial fractions, which cancel catastrophically.

A chain too long to hold (more than 2,000,000 states: very long patience near or above
capacity) is solved on the window around its mode that holds all but ~1e-20 of the mass,
with the answer probability ``c mu / (c mu + (j+1) theta)`` and the mean climb time of the
states below it in closed form; where even that window is too wide, the theta -> 0 limit is
exact to rounding (Erlang C below capacity, all agents busy far above it). So every
staffing question a scenario can ask has an answer (``_window_metrics``, ``_limit_metrics``).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import digamma, gammainc, gammaln, logsumexp

__all__ = [
    "QueueMetrics",
    "agents_for_service_level",
    "erlang_a_distribution",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
]

_LOG_CUTOFF = -700.0  # drop queue states with pi_k < exp(-700) ~ 1e-304 of the largest
_NEGLIGIBLE = 1e-18  # total probability that shortcuts in the service level may ignore
_MAX_STATES = 2_000_000  # cap on the truncated Erlang A chain (memory and time guard)
# Past the cap (a queue far out in overload, or near critical load with very long patience)
# the metrics use a window of the chain around its mode instead (_window_metrics): states
# below exp(-_WINDOW_CUT) of the largest are dropped (their total is below ~1e-20 there),
# and the answer probabilities and waits of the dropped lower states come in closed form.
_WINDOW_CUT = 60.0
_MAX_WINDOW = 8_000_000  # states in that window (its width grows as sqrt(rate * patience))
_EXACT_SUM = 50_000_000  # sums of more terms than this use the gamma-function closed form


class _ChainTooLong(ValueError):
    """The exact truncated chain would exceed ``_MAX_STATES`` states."""


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state performance of one staffing level; probabilities are per offered call."""

    p_wait: float
    service_level: float
    asa_s: float
    occupancy: float
    abandon_rate: float

    def as_dict(self) -> dict[str, float]:
        """Return the five metrics as a plain ``{name: value}`` dict."""
        return asdict(self)


# --------------------------------------------------------------------------- validation


def _positive(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and > 0."""
    v = _real(name, value)
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _nonnegative(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and >= 0."""
    v = _real(name, value)
    if not (math.isfinite(v) and v >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _patience(value: float) -> float:
    """Return a mean patience as a float, or raise ValueError unless it is > 0 (inf allowed)."""
    v = _real("mean_patience_s", value)
    if not v > 0.0:  # also rejects nan
        raise ValueError(f"mean_patience_s must be > 0 (math.inf for none), got {value!r}")
    return v


def _real(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ValueError if it is not a real number."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def _count(name: str, value: int) -> int:
    """Return ``value`` as an int, or raise ValueError unless it is an integer >= 1."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return n


# --------------------------------------------------------------------- Erlang B and C


def erlang_b(servers: int, load: float) -> float:
    """Return the Erlang B blocking probability of ``servers`` lines offered ``load`` Erlangs."""
    n = _count("servers", servers)
    a = _nonnegative("load", load)
    b = 1.0
    for k in range(1, n + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Return the M/M/c probability of waiting; 1.0 when ``load >= servers`` (unstable)."""
    n = _count("servers", servers)
    a = _nonnegative("load", load)
    if a >= n:
        return 1.0
    b = erlang_b(n, a)
    return min(1.0, b / (1.0 - (a / n) * (1.0 - b)))


def erlang_c_metrics(
    rate: float, mean_service_s: float, servers: int, threshold_s: float
) -> QueueMetrics:
    """Return M/M/c metrics; service level is P(wait <= threshold_s) over all calls."""
    lam = _positive("rate", rate)
    s = _positive("mean_service_s", mean_service_s)
    c = _count("servers", servers)
    t = _nonnegative("threshold_s", threshold_s)
    a = lam * s
    if a >= c:
        return QueueMetrics(
            p_wait=1.0, service_level=0.0, asa_s=math.inf, occupancy=1.0, abandon_rate=0.0
        )
    p_wait = erlang_c(c, a)
    gap = (c - a) / s  # c*mu - lambda, the rate at which the wait tail decays
    return QueueMetrics(
        p_wait=p_wait,
        service_level=1.0 - p_wait * math.exp(-gap * t),
        asa_s=p_wait / gap,
        occupancy=a / c,
        abandon_rate=0.0,
    )


# ---------------------------------------------------------------------------- Erlang A


def _log_weights(lam: float, mu: float, theta: float, c: int) -> np.ndarray:
    """Return unnormalised log pi_k, k = 0..c+J, of M/M/c+M with the negligible tail cut."""
    a = lam / mu
    k = np.arange(c + 1, dtype=float)
    head = k * math.log(a) - gammaln(k + 1.0)  # log(a^k / k!), k <= c
    top = float(head.max())
    log_rho = math.log(lam / (c * mu))
    ratio = theta / (c * mu)
    # log pi_{c+j} - log pi_{c+j-1} = log(lam / (c mu + j theta)); < 0 once j > j_peak
    j_peak = max(0.0, (lam - c * mu) / theta)
    chunks: list[np.ndarray] = []
    last = float(head[-1])
    j, size = 1, 1024
    while True:
        if j > _MAX_STATES:
            raise _ChainTooLong(
                f"Erlang A chain needs more than {_MAX_STATES} states: the queue is at "
                f"or near overload (load {a:.6g} Erlangs on {c} servers) and mean patience "
                f"{1.0 / theta:.6g} s is too long for an exact solution; use Erlang C "
                "(math.inf patience) or more servers"
            )
        size = min(size, _MAX_STATES + 1 - j)
        idx = np.arange(j, j + size, dtype=float)
        seg = last + np.cumsum(log_rho - np.log1p(idx * ratio))
        chunks.append(seg)
        top = max(top, float(seg.max()))
        last = float(seg[-1])
        j += size
        if idx[-1] > j_peak and last < top + _LOG_CUTOFF:
            break
        size *= 2
    tail = np.concatenate(chunks)
    keep = np.flatnonzero(tail >= top + _LOG_CUTOFF)
    n_keep = int(keep[-1]) + 1 if keep.size else 0
    return np.concatenate([head, tail[:n_keep]])


def _distribution(lam: float, mu: float, theta: float, c: int) -> np.ndarray:
    """Return the normalised stationary distribution of M/M/c+M (validated inputs)."""
    logw = _log_weights(lam, mu, theta, c)
    return np.exp(logw - logsumexp(logw))


def erlang_a_distribution(
    rate: float, mean_service_s: float, servers: int, mean_patience_s: float
) -> np.ndarray:
    """Return pi_k = P(k calls in system), k = 0..K, for M/M/c+M (tail below ~1e-304 cut)."""
    lam = _positive("rate", rate)
    s = _positive("mean_service_s", mean_service_s)
    c = _count("servers", servers)
    patience = _patience(mean_patience_s)
    if math.isinf(patience):
        raise ValueError("mean_patience_s must be finite for erlang_a_distribution, got inf")
    return _distribution(lam, 1.0 / s, 1.0 / patience, c)


def _cdf_upper_log_bound(rates: np.ndarray, t: float) -> np.ndarray:
    """Return Chernoff bounds on log P(sum_{i<=j} Exp(rates_i) <= t) for every j."""
    best = np.zeros(rates.size)
    top = math.ceil(math.log2(rates.size + 1)) + 8
    scaled = rates * t  # may underflow to 0 for a tiny t: the bound is then -inf, correctly
    with np.errstate(divide="ignore", over="ignore"):
        for e in range(-4, top):
            st = 2.0**e  # s * t for the Chernoff parameter s = 2**e / t
            best = np.minimum(best, st - np.cumsum(np.log1p(st / scaled)))
    return best


def _survival_upper_log_bound(rates: np.ndarray, t: float) -> np.ndarray:
    """Return Chernoff bounds on log P(sum_{i<=j} Exp(rates_i) > t); rates increase in i."""
    best = np.zeros(rates.size)
    r0 = float(rates[0])
    fractions = [2.0**-e for e in range(10, 0, -1)] + [1.0 - 2.0**-e for e in range(2, 13)]
    for f in fractions:
        s = f * r0
        best = np.minimum(best, -s * t - np.cumsum(np.log1p(-s / rates)))
    return best


def _answered_within(weights: np.ndarray, rates: np.ndarray, t: float) -> float:
    """Return sum_j weights_j P(sum_{i=0..j} Exp(rates_i) <= t) via a pure-death chain."""
    if t == 0.0 or not weights.any():
        return 0.0
    # Start states that almost surely cannot be answered by t: drop them (adds <= 1e-18).
    cdf_bound = weights * np.exp(_cdf_upper_log_bound(rates, t))
    beyond = np.cumsum(cdf_bound[::-1])[::-1]  # beyond[j] = sum of bounds over j' >= j
    needed = np.flatnonzero(beyond > _NEGLIGIBLE)
    m = int(needed[-1]) + 1 if needed.size else 0
    if m == 0:
        return 0.0
    w, r = weights[:m], rates[:m]
    total = float(w.sum())
    # All kept calls almost surely answered by t: the sum is their weight (error <= 1e-18).
    if float(np.dot(w, np.exp(_survival_upper_log_bound(r, t)))) <= _NEGLIGIBLE:
        return total
    return min(max(_absorbed_by(w, r, t), 0.0), total)


def _absorbed_by(weights: np.ndarray, rates: np.ndarray, t: float) -> float:
    """Return the mass absorbed by time t in the pure-death chain i -> i-1 at rate rates_i.

    Uniformisation (randomisation) computes exp(G t) p0 exactly up to a Poisson tail
    below 1e-26: with ``L = max rate`` the chain jumps at Poisson(L t) epochs and moves
    down with probability ``rates_i / L``. Every term is nonnegative, so nothing cancels.
    """
    top = float(rates[-1])  # rates increase with i
    mean = top * t
    if mean < 1e-300:  # answered by t with probability <= mean: nothing
        return 0.0
    n_max = math.ceil(mean + 12.0 * math.sqrt(mean) + 40.0)
    n = np.arange(n_max + 1, dtype=float)
    poisson = np.exp(n * math.log(mean) - mean - gammaln(n + 1.0))
    move = rates / top
    stay = 1.0 - move
    p = weights.astype(float)
    absorbed = 0.0  # mass absorbed after the current number of jumps
    acc = 0.0
    for k in range(n_max + 1):
        acc += poisson[k] * absorbed
        if p.sum() <= 1e-30:  # all absorbed: later jump counts add absorbed * P(N > k)
            return float(acc + absorbed * poisson[k + 1 :].sum())
        out = p * move
        absorbed += float(out[0])
        p = p * stay
        p[:-1] += out[1:]
    return float(acc)


def erlang_a_metrics(
    rate: float,
    mean_service_s: float,
    servers: int,
    threshold_s: float,
    mean_patience_s: float,
) -> QueueMetrics:
    """Return exact M/M/c+M metrics; service level is P(answered within threshold_s)."""
    lam = _positive("rate", rate)
    s = _positive("mean_service_s", mean_service_s)
    c = _count("servers", servers)
    t = _nonnegative("threshold_s", threshold_s)
    patience = _patience(mean_patience_s)
    if math.isinf(patience):
        return erlang_c_metrics(lam, s, c, t)
    mu, theta = 1.0 / s, 1.0 / patience
    try:
        pi = _distribution(lam, mu, theta, c)
    except _ChainTooLong:
        return _window_metrics(lam, mu, theta, c, t)
    p_now = float(pi[:c].sum())  # answered at once
    q = pi[c:]  # q[j]: an arrival finds j calls waiting
    p_wait = float(q.sum())
    i = np.arange(q.size, dtype=float)
    down = c * mu + i * theta  # rate of moving one place up (or being answered at i = 0)
    rates = down + theta  # R_i: also its own abandonment
    log_served = -np.cumsum(np.log1p(theta / down))  # log P(answered | j waiting)
    w = q * np.exp(log_served)
    abandon = float(np.dot(q, -np.expm1(log_served)))
    p_answered = p_now + float(w.sum())
    waited = float(np.dot(w, np.cumsum(1.0 / rates)))  # E[wait; answered]
    service_level = p_now + _answered_within(w, rates, t)
    return QueueMetrics(
        p_wait=min(p_wait, 1.0),
        service_level=min(max(service_level, 0.0), 1.0),
        asa_s=waited / p_answered,
        occupancy=min(lam * (1.0 - abandon) / mu / c, 1.0),  # clip ~1e-12 rounding
        abandon_rate=abandon,
    )


def _log1p_sum(r: float, j: int) -> float:
    """Return sum_{i=1..j} log1p(i r), summed in chunks, or in closed form past _EXACT_SUM.

    The closed form ``j log r + lgamma(1/r + j + 1) - lgamma(1/r + 1)`` loses absolute
    precision for huge arguments; it is used only where the mode is so far out that the
    states it places (the ones at once answered) weigh nothing next to it.
    """
    if j <= 0:
        return 0.0
    if j > _EXACT_SUM:
        return j * math.log(r) + math.lgamma(1.0 / r + j + 1.0) - math.lgamma(1.0 / r + 1.0)
    total, chunk = 0.0, 1 << 20
    for lo in range(1, j + 1, chunk):
        total += float(np.log1p(np.arange(lo, min(j, lo + chunk - 1) + 1, dtype=float) * r).sum())
    return total


def _inverse_sum(c_mu: float, theta: float, j: int) -> float:
    """Return sum_{i=1..j} 1 / (c_mu + i theta): the mean time to climb j places."""
    if j <= 0:
        return 0.0
    if j > _EXACT_SUM:  # (digamma(b + j + 1) - digamma(b + 1)) / theta with b = c_mu / theta
        b = c_mu / theta
        return float((digamma(b + j + 1.0) - digamma(b + 1.0)) / theta)
    total, chunk = 0.0, 1 << 20
    for lo in range(1, j + 1, chunk):
        i = np.arange(lo, min(j, lo + chunk - 1) + 1, dtype=float)
        total += float((1.0 / (c_mu + i * theta)).sum())
    return total


def _walk(start: float, first: int, step: int, lam: float, c_mu: float, theta: float,
          floor: float, stop: int) -> np.ndarray:
    """Return log q_j of queue states first, first+step, ... until below ``floor`` (or stop).

    ``start`` is log q of the state before ``first``; log q_j - log q_{j-1} =
    log(lam / (c_mu + j theta)). Walking down (step -1), state j-1 comes from state j.
    """
    chunks: list[np.ndarray] = []
    last, j, size, walked = start, first, 1024, 0
    log_rho, ratio = math.log(lam / c_mu), theta / c_mu
    while (j <= stop) if step > 0 else (j >= stop):
        n = min(size, (stop - j) // step + 1)
        idx = j + step * np.arange(n, dtype=float)
        d = log_rho - np.log1p(idx * ratio)  # log q_idx - log q_(idx-1)
        seg = last + (np.cumsum(d) if step > 0 else -np.cumsum(d))
        chunks.append(seg)
        last, j, walked = float(seg[-1]), j + step * n, walked + n
        if last < floor:
            break
        if walked > _MAX_WINDOW:
            raise ValueError(
                f"Erlang A: the queue's distribution spans more than {_MAX_WINDOW} states "
                f"(rate {lam:.6g}/s, {c_mu / theta:.6g} service-to-patience ratio); no "
                "staffing question needs such a load: check the rate, AHT and patience")
        size *= 2
    return np.concatenate(chunks) if chunks else np.empty(0)


def _limit_metrics(lam: float, mu: float, theta: float, c: int,
                   t: float) -> QueueMetrics | None:
    """Return the theta -> 0 limit of M/M/c+M where it is exact to rounding, else None.

    Below capacity with ``theta c mu / (c mu - lam)^2 <= 1e-12`` (log pi_{c+j} differs from
    Erlang C's by about ``j^2 theta / (2 c mu)``, and Erlang C's queue has ``E[j^2] ~
    2 / (1 - rho)^2``), the queue is Erlang C's to ~1e-12 and each call abandons with
    probability theta x its mean wait (to first order, added). Far above capacity (the
    mode ``(lam - c mu) / theta`` more than 40 standard deviations ``sqrt(lam / theta)``
    from an empty queue, the window too wide to hold, and no call answered by ``t`` from
    the mode's neighbourhood): all agents always busy (to exp(-800)), so a share
    ``c mu / lam`` is answered, none within ``t``, after ``log(lam / c mu) / theta`` (the
    climb from the mode; relative error O(1 / sqrt(lam / theta))).
    """
    c_mu = c * mu
    if lam < c_mu and theta * c_mu / (c_mu - lam) ** 2 <= 1e-12:
        m = erlang_c_metrics(lam, 1.0 / mu, c, t)
        abandon = min(theta * m.asa_s, 1.0)
        return QueueMetrics(p_wait=m.p_wait, service_level=m.service_level, asa_s=m.asa_s,
                            occupancy=min(lam * (1.0 - abandon) / mu / c, 1.0),
                            abandon_rate=abandon)
    mode = (lam - c_mu) / theta
    if (lam > c_mu and mode >= 40.0 * math.sqrt(lam / theta) and lam / theta > 1e10
            and lam * t < mode / 2):
        return QueueMetrics(p_wait=1.0, service_level=0.0,
                            asa_s=math.log(lam / c_mu) / theta, occupancy=1.0,
                            abandon_rate=1.0 - c_mu / lam)
    return None


def _window_metrics(lam: float, mu: float, theta: float, c: int, t: float,
                    from_zero: bool = False) -> QueueMetrics:
    """Return M/M/c+M metrics from the window of the chain that holds all its mass.

    Exact up to the dropped states (below exp(-60) of the largest each, ~1e-20 in all):
    an arrival finding j calls waiting is answered with probability
    ``c mu / (c mu + (j+1) theta)`` (the product of the stage probabilities telescopes) and,
    if answered, has waited ``sum_{i=1..j+1} 1 / (c mu + i theta)`` on average. A window
    that starts at j_lo > 0 adds nothing to the service level when a Gamma bound on being
    answered by ``t`` from so far back says so (<= 1e-18); else the chain from 0 is used.
    """
    c_mu = c * mu
    limit = _limit_metrics(lam, mu, theta, c, t)
    if limit is not None and not from_zero:
        return limit
    a = lam / mu
    k = np.arange(c, dtype=float)
    # log pi_k - log pi_c for k < c: (k - c) log a + log c! - log k!
    log_head = (k - c) * math.log(a) + gammaln(c + 1.0) - gammaln(k + 1.0)
    head_top = float(log_head.max()) if c else -math.inf
    ratio = theta / c_mu
    mode = 0 if from_zero else max(0, math.floor((lam - c_mu) / theta))
    at_mode = mode * math.log(lam / c_mu) - _log1p_sum(ratio, mode)
    top = max(at_mode, head_top)
    floor = top - _WINDOW_CUT
    up = _walk(at_mode, mode + 1, 1, lam, c_mu, theta, floor, mode + 4 * _MAX_WINDOW)
    down = _walk(at_mode, mode, -1, lam, c_mu, theta, -math.inf if from_zero else floor, 1)
    log_q = np.concatenate([down[::-1], [at_mode], up])
    j_lo = mode - down.size
    keep = np.flatnonzero(log_q >= floor)
    if not from_zero and keep.size:  # trim the ends below the floor (mass ~1e-26 each)
        j_lo += int(keep[0])
        log_q = log_q[keep[0]:keep[-1] + 1]
    head = np.exp(log_head - top)
    q = np.exp(log_q - top)
    z = float(head.sum() + q.sum())
    head, q = head / z, q / z
    j = np.arange(j_lo, j_lo + q.size, dtype=float)
    rates = c_mu + (j + 1.0) * theta  # R_j: the stage rate with j still ahead
    served = c_mu / rates  # P(answered | j waiting), telescoped
    w = q * served
    abandon = float(np.dot(q, (j + 1.0) * theta / rates))
    p_now = float(head.sum())
    p_answered = p_now + float(w.sum())
    waited_by = _inverse_sum(c_mu, theta, j_lo) + np.cumsum(1.0 / rates)
    waited = float(np.dot(w, waited_by))
    if j_lo == 0:
        within = _answered_within(w, rates, t)
    else:
        # answered by t from j ahead needs j+1 stages each no faster than R_j:
        # P <= P(Gamma(j+1, R_j) <= t) = gammainc(j+1, R_j t)
        if t > 0.0 and float(np.dot(w, gammainc(j + 1.0, rates * t))) > _NEGLIGIBLE:
            return _window_metrics(lam, mu, theta, c, t, from_zero=True)
        within = 0.0
    return QueueMetrics(
        p_wait=min(float(q.sum()), 1.0),
        service_level=min(max(p_now + within, 0.0), 1.0),
        asa_s=waited / p_answered,
        occupancy=min(lam * (1.0 - abandon) / mu / c, 1.0),
        abandon_rate=abandon,
    )


# -------------------------------------------------------------------------- staffing


# A pure function of hashable numbers, and the one a requirement per interval calls: a
# run, its coverage check and its report ask for the same intervals again (each costing
# about ten Erlang A solutions), so answers are kept by their inputs for the process.
@functools.lru_cache(maxsize=65_536)
def agents_for_service_level(
    rate: float,
    mean_service_s: float,
    threshold_s: float,
    target: float,
    mean_patience_s: float = math.inf,
    max_agents: int = 100000,
) -> int:
    """Return the fewest agents whose service level reaches ``target`` (Erlang C or A).

    Cached by its arguments (``agents_for_service_level.cache_info()``): asked again with
    the same inputs it answers without solving a queue.
    """
    lam = _positive("rate", rate)
    s = _positive("mean_service_s", mean_service_s)
    t = _nonnegative("threshold_s", threshold_s)
    goal = _real("target", target)
    if not 0.0 < goal < 1.0:
        raise ValueError(f"target must be a service level strictly between 0 and 1, got {target!r}")
    patience = _patience(mean_patience_s)
    cap = _count("max_agents", max_agents)
    load = lam * s

    if math.isinf(patience):

        def reaches(n: int) -> bool:
            return erlang_c_metrics(lam, s, n, t).service_level >= goal

        # Fewer than `load` servers are unstable: service level 0.
        start = max(1, math.floor(load))
    else:

        def reaches(n: int) -> bool:
            return erlang_a_metrics(lam, s, n, t, patience).service_level >= goal

        # Answered calls cannot exceed n / load of those offered, so n <= goal*load fails.
        start = max(1, math.floor(goal * load))
    start = min(start, cap)

    # Service level is non-decreasing in servers: find lo failing, hi reaching, bisect.
    if reaches(start):
        lo, hi = 0, start  # zero agents answer nobody
    else:
        lo, step = start, 1
        while True:
            hi = min(start + step, cap)
            if reaches(hi):
                break
            if hi == cap:
                raise ValueError(
                    f"no staffing up to max_agents={cap} reaches target {goal!r} "
                    f"(load {load:.6g} Erlangs)"
                )
            lo, step = hi, 2 * step
    return first_true(reaches, lo, hi)


def first_true(ok: Callable[[int], bool], lo: int, hi: int) -> int:
    """Bisect a monotone predicate: the smallest n in (lo, hi] with ok(n), given ok(hi).

    ``lo`` must fail (or stand for a count that trivially fails, e.g. 0 agents).
    """
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi
