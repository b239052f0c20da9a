"""Repeat calls: callers whose problem was left unresolved call again later in the run.

Whether a call is left unresolved is drawn up front for first calls (one uniform per call
from the ``repeats`` stream keyed by its day), and each repeat's own timing and attributes
are keyed by the call it repeats (a row of draws, :class:`sim.engine.streams.Rows`), so
first calls keep their common random numbers whatever happens to repeats. A repeat falling
outside opening hours comes in the next opening at a time drawn from that day's demand
profile (callers call back when callers call, not all at opening); one after the last day's
closing is lost to the run (counted).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right

import numpy as np

from sim.engine.demand import DayCalls, day_profile, sample_duration
from sim.engine.streams import Rows, Streams
from sim.scenario import DAY_S, Scenario


class Repeats:
    """The repeat-call rule of one run."""

    def __init__(self, scenario: Scenario, streams: Streams, days: list[DayCalls]) -> None:
        c, h = scenario.calls, scenario.horizon
        self.calls = c
        self.p = c.repeat_probability
        self.mean_delay_s = c.repeat_delay_hours * 3600
        self.streams = streams
        self.u = array("d", np.concatenate(  # 8 bytes a call (a list: 32)
            [streams.rng("repeats", 0, d.day).random(len(d)) for d in days] or [np.zeros(0)]
        ).tobytes())
        self.opens = [d * DAY_S + h.open for d in range(h.days)]
        self.closes = [o + h.hours * 3600 for o in self.opens]
        self.lost = 0
        #: repeats falling after the last closing, kept when a warm-up's are carried into
        #: the measured run (sim.start): (time, uniform, talk, ACW, patience, unresolved
        #: uniform); None: not kept (and nothing more is drawn for them)
        self.beyond: list[tuple[float, float, float, float, float, float]] | None = None
        # each day's demand profile (its weekday's) as a distribution over the opening:
        # where a repeat that fell outside opening hours comes in (one uniform through its
        # inverse CDF); days with the same profile share one
        dists: dict[tuple[float, ...], tuple[list[float], list[float]]] = {}
        self._dist = [dists.setdefault(p, _distribution(p))
                      for p in (day_profile(scenario, d) for d in range(h.days))]
        self._interval_s = h.interval_s
        #: per call that ends: its repeat's delay, placing uniform, talk, ACW, patience and
        #: chance of being left unresolved in turn (drawn a block of calls at a time)
        self.draws = Rows(streams, "repeats", (2,), self._draw, 6)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` calls' repeat draws: one column each (see ``draws``)."""
        c = self.calls
        return np.stack([rng.exponential(self.mean_delay_s, n), rng.random(n),
                         sample_duration(rng, c.talk, n), sample_duration(rng, c.acw, n),
                         sample_duration(rng, c.patience, n), rng.random(n)], axis=1)

    def unresolved(self, i: int, extra: float) -> bool:
        """Whether call ``i`` is left unresolved (its chance raised by ``extra``)."""
        return self.u[i] < self.p + extra

    def repeat_of(self, i: int, t_end: float) -> tuple[float, float, float, float] | None:
        """(arrival, talk, ACW, patience) of call ``i``'s repeat, or None beyond the run."""
        delay, u, talk, acw, patience, again = self.draws.row(i)
        t = t_end + delay
        k = bisect_right(self.closes, t)  # the first day closing after t
        if k == len(self.closes):
            self.lost += 1
            if self.beyond is not None:  # the same draws as a repeat that comes in
                self.beyond.append((t, u, talk, acw, patience, again))
            return None
        o, c = self.opens[k], self.closes[k]
        if t < o:  # before this day's opening: in it, as the day's calls come
            t = o + min(_inverse_profile(*self._dist[k], self._interval_s, u), c - o) * (1 - 1e-9)
        self.u.append(again)
        return t, talk, acw, patience


def _distribution(profile: tuple[float, ...]) -> tuple[list[float], list[float]]:
    """A profile's cumulative shares and shares (the inverse CDF's tables)."""
    w = np.asarray(profile, dtype=float)
    return (np.cumsum(w) / w.sum()).tolist(), (w / w.sum()).tolist()


def _inverse_profile(cum: list[float], weights: list[float], interval_s: float,
                     u: float) -> float:
    """Seconds after opening at which the demand profile's distribution reaches ``u``."""
    i = min(bisect_right(cum, u), len(cum) - 1)
    while weights[i] == 0:  # never into an interval without calls
        i -= 1
    below = cum[i] - weights[i]
    return (i + (u - below) / weights[i]) * interval_s


def opening_time(scenario: Scenario, t: float, u: float) -> float | None:
    """Where a repeat call meant for time ``t`` comes in (``u``: its uniform), or None.

    As :meth:`Repeats.repeat_of` places one: within the first opening that closes after
    ``t``, at ``t`` if the queue is open then, else at a time drawn from that day's profile;
    None after the last closing. For the repeats a warm-up carries into the measured run.
    """
    opens, closes, dists = _placing(scenario)
    k = bisect_right(closes, t)
    if k == len(closes):
        return None
    o, c = opens[k], closes[k]
    if t >= o:
        return t
    cum, weights = dists[k]
    return o + min(_inverse_profile(cum, weights, scenario.horizon.interval_s, u), c - o) * (
        1 - 1e-9)


#: the last scenario's openings, closings and profile tables (:func:`_placing`)
_PLACING: list = [None, None]


def _placing(scenario: Scenario) -> tuple[list[float], list[float], list[tuple]]:
    """Each day's opening, closing and profile tables, made once for a scenario.

    A warm-up carries thousands of repeats into a run, each placed by :func:`opening_time`
    (35 us each when these were made every time).
    """
    if _PLACING[0] is not scenario:
        h = scenario.horizon
        opens = [d * DAY_S + h.open for d in range(h.days)]
        closes = [o + h.hours * 3600 for o in opens]
        dists: dict[tuple[float, ...], tuple[list[float], list[float]]] = {}
        tables = [dists.setdefault(p, _distribution(p))
                  for p in (day_profile(scenario, d) for d in range(h.days))]
        _PLACING[:] = [scenario, (opens, closes, tables)]
    return _PLACING[1]
