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
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import gammaln, logsumexp

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
            raise ValueError(
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
    pi = _distribution(lam, mu, theta, c)
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
