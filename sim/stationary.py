"""Stationary single-queue systems (M/M/c, M/M/c+M) as scenarios, beside their exact values.

Used by ``ccsim validate`` and the validation tests: the system is simulated through the
same model code as any scenario (one long interval, exponential talk, no ACW, one shift
that outlasts the arrivals) and compared with Erlang C / Erlang A.
"""

from __future__ import annotations

import math

from sim.erlang import QueueMetrics, erlang_a_metrics, erlang_c_metrics
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


def stationary_scenario(rate: float, aht_s: float, agents: int, threshold_s: float,
                        patience_s: float = math.inf, calls: int = 20_000,
                        warmup_calls: int | None = None) -> Scenario:
    """An M/M/c (+M when ``patience_s`` is finite) system with ``calls`` measured calls.

    Arrivals stop after the measured calls; the shift lasts long enough to clear the queue,
    and under FIFO later arrivals never change an earlier call's wait, so nothing is biased.
    """
    if warmup_calls is None:
        warmup_calls = max(1000, calls // 10)
    span_s = (calls + warmup_calls) / rate
    hours = span_s / 3600
    drain_h = max(1.0, 100 * aht_s / 3600)
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
        "staffing": {"shifts": {"all": {"start": "00:00", "hours": hours + drain_h,
                                        "agents": agents}}},
        "service_level": {"threshold_s": threshold_s, "definition": "offered"},
    }, source="stationary system")


def exact_metrics(rate: float, aht_s: float, agents: int, threshold_s: float,
                  patience_s: float = math.inf) -> QueueMetrics:
    """Erlang C (infinite patience) or Erlang A values for the same system."""
    if math.isfinite(patience_s):
        return erlang_a_metrics(rate, aht_s, agents, threshold_s, patience_s)
    return erlang_c_metrics(rate, aht_s, agents, threshold_s)
