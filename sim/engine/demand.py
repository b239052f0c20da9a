"""A day's calls: arrival times and attributes, sampled with numpy up front.

The calendar of the weekly pattern is here too: which weekday and date a simulated day
falls on (:func:`weekday`, :func:`date_of`), its factor (:func:`day_factor`, weekday and
holiday) and profile (:func:`day_profile`), and so the expected calls per interval of any
day (:func:`expected_calls`), which planning reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.engine.streams import Streams
from sim.scenario import DAY_S, Duration, Patience, Scenario
from sim.scenario.sections import WEEKDAYS, Demand


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


def _open_weekdays(dem: Demand) -> tuple[int, ...]:
    """The weekdays (0 = Monday) the centre is open, in calendar order from day 0's."""
    first = WEEKDAYS.index(dem.first_day)
    week = range(first, first + 7)
    if not dem.week:
        return tuple(w % 7 for w in week)
    return tuple(w % 7 for w in week if WEEKDAYS[w % 7] in dem.week)


def _calendar_offset(dem: Demand, day: int) -> int:
    """Calendar days from day 0 to simulated day ``day`` (closed weekdays skipped)."""
    opened = _open_weekdays(dem)
    first = opened[0]
    weeks, k = divmod(day, len(opened))
    return 7 * weeks + (opened[k] - first) % 7


def weekday(scenario: Scenario, day: int) -> str:
    """The weekday (Mon ... Sun) simulated day ``day`` falls on."""
    dem = scenario.demand
    opened = _open_weekdays(dem)
    return WEEKDAYS[opened[day % len(opened)]]


def date_of(scenario: Scenario, day: int) -> dt.date | None:
    """The date of simulated day ``day`` (None without ``demand.start_date``)."""
    dem = scenario.demand
    if dem.start_date is None:
        return None
    return dt.date.fromisoformat(dem.start_date) + dt.timedelta(_calendar_offset(dem, day))


def _simulated_day(dem: Demand, date: dt.date) -> int | None:
    """The simulated day falling on ``date`` (None: before day 0, or a closed weekday)."""
    if dem.start_date is None:
        return None
    offset = (date - dt.date.fromisoformat(dem.start_date)).days
    if offset < 0:
        return None
    opened = _open_weekdays(dem)
    weeks, rest = divmod(offset, 7)
    shifts = [(w - opened[0]) % 7 for w in opened]
    return weeks * len(opened) + shifts.index(rest) if rest in shifts else None


def _holiday_factor(dem: Demand, day: int) -> float:
    """The factor of the holiday falling on simulated day ``day`` (1: none)."""
    for h in dem.holidays:
        on = h.day if h.day is not None else _simulated_day(dem, dt.date.fromisoformat(h.date
                                                                                      or ""))
        if on == day:
            return h.factor
    return 1.0


def day_factor(scenario: Scenario, day: int) -> float:
    """Day ``day``'s expected calls over ``demand.calls_per_day``: weekday times holiday."""
    dem = scenario.demand
    f = 1.0
    if dem.week:
        f = dem.week[weekday(scenario, day)].factor
    if dem.holidays:
        f *= _holiday_factor(dem, day)
    return f


def day_profile(scenario: Scenario, day: int) -> tuple[float, ...]:
    """Day ``day``'s relative volume per interval (its weekday's, else ``demand.profile``)."""
    dem = scenario.demand
    if dem.week:
        own = dem.week[weekday(scenario, day)].profile
        if own is not None:
            return own
    return dem.profile


def expected_calls(scenario: Scenario, day: int) -> np.ndarray:
    """Expected calls offered per interval of simulated day ``day`` (busyness has mean 1).

    First calls only (repeat calls come on top when ``calls.repeat_probability`` > 0). The
    planner's demand: what :func:`sample_day` draws from, before the day's busyness.
    """
    weights = np.asarray(day_profile(scenario, day), dtype=float)
    return scenario.demand.calls_per_day * day_factor(scenario, day) * weights / weights.sum()


def day_busyness(scenario: Scenario, streams: Streams, day: int) -> float:
    """Day ``day``'s busyness: Gamma of mean exactly 1 and CV ``demand.busyness_cv``.

    1.0 at CV 0. On the day's own stream, so every scenario's replication ``k`` meets the
    same days, and a control variate can read it without simulating (analysis.variance).
    """
    cv = scenario.demand.busyness_cv
    return streams.rng("busyness", day).gamma(1 / cv**2, cv**2) if cv > 0 else 1.0


def sample_day(scenario: Scenario, streams: Streams, day: int) -> DayCalls:
    """Sample day ``day``: Gamma busyness, piecewise-constant Poisson arrivals, attributes.

    Each attribute has its own stream keyed by the day, so call *i* of day *d* gets the
    same arrival, talk, ACW and patience in every scenario with the same demand. A
    balking caller (``calls.balk_probability``) gets patience 0: answered if an agent is
    free on arrival, else abandoned at once (wait 0).
    """
    h, dem, calls = scenario.horizon, scenario.demand, scenario.calls
    busy = day_busyness(scenario, streams, day)
    if dem.week or dem.holidays:
        weights = np.asarray(day_profile(scenario, day), dtype=float)
        expected = dem.calls_per_day * day_factor(scenario, day) * busy * weights / weights.sum()
    else:  # no pattern: the expression of every earlier version, bit for bit
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
        patience=_balk(streams, day, calls.balk_probability,
                       sample_duration(streams.rng("patience", day), calls.patience, n)),
    )


def day_with_counts(scenario: Scenario, streams: Streams, day: int,
                    counts: np.ndarray) -> DayCalls:
    """Day ``day`` with ``counts`` calls in its intervals (a replay of recorded counts).

    As :func:`sample_day` with the Poisson counts given: arrival times uniform within each
    interval, talk, ACW, patience and balking from the same streams. For fitting patience
    and balking to a report's own arrivals (``analysis.acd_replay``), not for a scenario's
    runs, which always sample their counts.
    """
    h, calls = scenario.horizon, scenario.calls
    counts = np.asarray(counts, dtype=np.int64)
    rng = streams.rng("arrivals", day)
    starts = day * DAY_S + h.open + h.interval_s * np.arange(len(counts))
    arrival = np.repeat(starts, counts) + rng.uniform(0.0, h.interval_s, counts.sum())
    arrival.sort()
    n = len(arrival)
    return DayCalls(
        day=day, busyness=1.0, arrival=arrival,
        talk=sample_duration(streams.rng("talk", day), calls.talk, n),
        acw=sample_duration(streams.rng("acw", day), calls.acw, n),
        patience=_balk(streams, day, calls.balk_probability,
                       sample_duration(streams.rng("patience", day), calls.patience, n)),
    )


def _balk(streams: Streams, day: int, p: float, patience: np.ndarray) -> np.ndarray:
    """Patience 0 for the share ``p`` of callers who would not wait (own stream; none at 0)."""
    if p <= 0 or not len(patience):
        return patience
    u = streams.rng("balk", day).random(len(patience))
    return np.where(u < p, 0.0, patience)
