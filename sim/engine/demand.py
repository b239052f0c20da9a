"""A day's calls: arrival times and attributes, sampled with numpy up front."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.streams import Streams
from sim.scenario import DAY_S, Duration, Patience, Scenario


@dataclass(frozen=True)
class DayCalls:
    """The calls offered on one day, sorted by arrival (absolute seconds)."""

    day: int
    busyness: float
    arrival: np.ndarray
    talk: np.ndarray
    acw: np.ndarray
    patience: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival)


@dataclass(frozen=True)
class CallSet:
    """A run's calls, every day, sorted by arrival: what the ACD is given, by name."""

    arrival: np.ndarray
    talk: np.ndarray
    acw: np.ndarray
    patience: np.ndarray

    @classmethod
    def join(cls, days: list[DayCalls]) -> CallSet:
        """The calls of consecutive days as one set."""
        return cls(*(np.concatenate([getattr(d, f) for d in days]) if days else np.zeros(0)
                     for f in ("arrival", "talk", "acw", "patience")))

    def __len__(self) -> int:
        return len(self.arrival)


def sample_duration(rng: np.random.Generator, d: Duration | Patience, n: int) -> np.ndarray:
    """Draw ``n`` durations of the given family by mean and coefficient of variation."""
    kind, mean = d.distribution, d.mean_s
    if kind == "none":
        return np.full(n, np.inf)
    if mean == 0 or kind == "fixed":
        return np.full(n, float(mean))
    if kind == "exponential":
        return rng.exponential(mean, n)
    if kind == "lognormal":
        s2 = np.log1p(d.cv**2)
        return rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2), n)
    if kind == "gamma":
        shape = 1.0 / d.cv**2
        return rng.gamma(shape, mean / shape, n)
    raise ValueError(f"unknown distribution {kind!r}")


def sample_day(scenario: Scenario, streams: Streams, day: int) -> DayCalls:
    """Sample day ``day``: Gamma busyness, piecewise-constant Poisson arrivals, attributes.

    Each attribute has its own stream keyed by the day, so call *i* of day *d* gets the
    same arrival, talk, ACW and patience in every scenario with the same demand.
    """
    h, dem, calls = scenario.horizon, scenario.demand, scenario.calls
    cv = dem.busyness_cv
    busy = streams.rng("busyness", day).gamma(1 / cv**2, cv**2) if cv > 0 else 1.0
    weights = np.asarray(dem.profile, dtype=float)
    expected = dem.calls_per_day * busy * weights / weights.sum()
    rng = streams.rng("arrivals", day)
    counts = rng.poisson(expected)
    starts = day * DAY_S + h.open + h.interval_s * np.arange(len(weights))
    arrival = np.repeat(starts, counts) + rng.uniform(0.0, h.interval_s, counts.sum())
    arrival.sort()
    n = len(arrival)
    return DayCalls(
        day=day,
        busyness=float(busy),
        arrival=arrival,
        talk=sample_duration(streams.rng("talk", day), calls.talk, n),
        acw=sample_duration(streams.rng("acw", day), calls.acw, n),
        patience=sample_duration(streams.rng("patience", day), calls.patience, n),
    )
