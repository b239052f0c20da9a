"""Stationary single-queue systems (M/M/c, M/M/c+M) as scenarios, beside their exact values.

Used by ``ccsim validate`` and the validation tests: the system is simulated through the
same model code as any scenario (one long interval, exponential talk, no ACW, one shift
that outlasts the arrivals) and compared with Erlang C / Erlang A.
"""

from __future__ import annotations

import math

from sim.planning.erlang import QueueMetrics, erlang_a_metrics, erlang_c_metrics
from sim.scenario import Scenario, scenario_from_dict

#: KPIs that the exact formulas give, by their KPI names
EXACT_KPIS = ("p_wait", "service_level", "asa_s", "abandon_rate", "occupancy")


def parse_rate(text: str | float) -> float:
    """Arrival rate per second from ``"360/h"``, ``"6/min"``, ``"0.1/s"`` or calls per hour."""
    if isinstance(text, int | float):
        value, unit = float(text), "h"
    else:
        value_s, _, unit = str(text).strip().partition("/")
        try:
            value = float(value_s)
        except ValueError:
            raise ValueError(f'rate: expected e.g. "360/h", got {text!r}') from None
        unit = unit.strip() or "h"
    per = {"h": 3600.0, "hour": 3600.0, "min": 60.0, "m": 60.0, "s": 1.0, "sec": 1.0}
    if unit not in per:
        raise ValueError(f"rate: unit must be /h, /min or /s, got {text!r}")
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"rate: must be a positive number of calls, got {text!r}")
    return value / per[unit]


#: warm-up length in relaxation times: the start-up bias decays like exp(-t / tau)
WARMUP_TAUS = 10.0
#: a replication shorter than this many relaxation times gives skewed replication means
MIN_MEASURED_TAUS = 20.0
#: warm-up calls are capped (memory and time); run_length_note says when that bites
MAX_WARMUP_CALLS = 2_000_000


def relaxation_time_s(rate: float, aht_s: float, agents: int,
                      patience_s: float = math.inf) -> float:
    """Approximate relaxation time of an M/M/c (+M) queue started empty, in seconds.

    Erlang C: ``1 / (mu (sqrt(c) - sqrt(a))^2)``, the exact relaxation time of M/M/1 and
    the heavy-traffic one of M/M/c (Abate and Whitt 1987; a = offered load); infinite at
    a >= c. Abandonment bounds it by about a patience plus a service time. Never below one
    mean service time.
    """
    mu, a = 1 / aht_s, rate * aht_s
    tau = math.inf if a >= agents else 1 / (mu * (math.sqrt(agents) - math.sqrt(a)) ** 2)
    if math.isfinite(patience_s):
        tau = min(tau, patience_s + aht_s)
    return max(tau, aht_s)


def warmup_calls_for(rate: float, aht_s: float, agents: int, patience_s: float,
                     calls: int) -> int:
    """Calls to discard: ``WARMUP_TAUS`` relaxation times, at least 1,000 and calls / 10."""
    tau = relaxation_time_s(rate, aht_s, agents, patience_s)
    scaled = rate * WARMUP_TAUS * tau if math.isfinite(tau) else math.inf
    return int(min(MAX_WARMUP_CALLS, max(1000, calls // 10, math.ceil(scaled))))


def drain_s(rate: float, aht_s: float, agents: int, patience_s: float, calls: int) -> float:
    """Overtime after the last arrival long enough that no caller is cut off in practice.

    The longest wait among n calls exceeds t with probability below n P(W > t); t is chosen
    so that this is about 1e-6: Erlang C's tail ``P(W > t) = P(wait) exp(-(c mu - lambda) t)``,
    or the exponential patience's tail when callers abandon.
    """
    n = calls * 1e6
    mu, a = 1 / aht_s, rate * aht_s
    t = math.inf
    if a < agents:
        t = math.log(max(n, 1.0)) / (agents * mu - rate)
    if math.isfinite(patience_s):
        t = min(t, patience_s * math.log(max(n, 1.0)))
    if not math.isfinite(t):  # overloaded without abandonment: the queue never empties
        t = (calls / rate) * (a / agents - 1) + 100 * aht_s
    return max(3600.0, 100 * aht_s, t)


def run_length_note(rate: float, aht_s: float, agents: int, patience_s: float, calls: int,
                    warmup_calls: int) -> str | None:
    """A warning when a run of this length cannot be treated as stationary (else None)."""
    tau = relaxation_time_s(rate, aht_s, agents, patience_s)
    if not math.isfinite(tau):
        return (f"the offered load {rate * aht_s:.3g} Erlang is not below {agents} agents and "
                "callers never hang up: the queue grows without bound, so there is no "
                "steady state to compare with")
    warm, span = warmup_calls / rate, calls / rate
    notes = []
    if warm < WARMUP_TAUS * tau * (1 - 1e-9):
        notes.append(f"the warm-up ({warmup_calls:,} calls, {warm / tau:.1f} relaxation "
                     f"times) is too short to forget the empty start: means are biased low")
    if span < MIN_MEASURED_TAUS * tau:
        notes.append(f"each replication measures {span / tau:.1f} relaxation times "
                     f"(tau = {tau:,.0f} s) where {MIN_MEASURED_TAUS:g} are needed for "
                     f"replication means near normal; use --calls "
                     f"{math.ceil(MIN_MEASURED_TAUS * tau * rate):,} or more")
    return "; ".join(notes) or None


def stationary_scenario(rate: float, aht_s: float, agents: int, threshold_s: float,
                        patience_s: float = math.inf, calls: int = 20_000,
                        warmup_calls: int | None = None) -> Scenario:
    """An M/M/c (+M when ``patience_s`` is finite) system with ``calls`` measured calls.

    The queue closes after the measured calls and the agents clear it as overtime (rule
    "serve"); under FIFO later arrivals never change an earlier call's wait, so nothing is
    biased. The warm-up scales with the queue's relaxation time (``warmup_calls_for``).
    """
    if warmup_calls is None:
        warmup_calls = warmup_calls_for(rate, aht_s, agents, patience_s, calls)
    span_s = (calls + warmup_calls) / rate
    hours = span_s / 3600
    drain = drain_s(rate, aht_s, agents, patience_s, calls + warmup_calls)
    return scenario_from_dict({
        "name": "stationary",
        "description": f"M/M/{agents}{'+M' if math.isfinite(patience_s) else ''} at "
                       f"{rate * 3600:g} calls/h, mean service {aht_s:g} s",
        "rationale": "Validation against exact queueing formulas (Erlang C / Erlang A).",
        "horizon": {"days": 1, "open": "00:00", "hours": hours, "interval_minutes": hours * 60,
                    "warmup_minutes": warmup_calls / rate / 60},
        "demand": {"calls_per_day": rate * span_s, "profile": [1.0], "busyness_cv": 0.0},
        "calls": {
            "talk": {"distribution": "exponential", "mean_s": aht_s},
            "acw": {"distribution": "fixed", "mean_s": 0.0},
            "patience": ({"distribution": "exponential", "mean_s": patience_s}
                         if math.isfinite(patience_s) else {"distribution": "none"}),
        },
        "staffing": {"shifts": {"all": {"start": "00:00", "hours": hours, "agents": agents}}},
        "service_level": {"threshold_s": threshold_s, "definition": "offered"},
        "closing": {"rule": "serve", "max_overtime_minutes": drain / 60},
    }, source="stationary system")


def exact_metrics(rate: float, aht_s: float, agents: int, threshold_s: float,
                  patience_s: float = math.inf) -> QueueMetrics:
    """Erlang C (infinite patience) or Erlang A values for the same system."""
    if math.isfinite(patience_s):
        return erlang_a_metrics(rate, aht_s, agents, threshold_s, patience_s)
    return erlang_c_metrics(rate, aht_s, agents, threshold_s)
