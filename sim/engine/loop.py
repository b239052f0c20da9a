"""The event loop: SimPy's environment with its two hottest paths as one Python frame each.

A run processes a few events per call, and most of them are timeouts. SimPy builds a
timeout through a descriptor, the ``Timeout`` constructor and ``Environment.schedule``
(three frames), and its ``run`` calls ``step`` once per event (one more). Here
:meth:`Environment.timeout` and :meth:`Environment.run` (without ``until``) do the same
work inline: the same event objects, the same ``(time, priority, event id)`` order in the
same queue, so a run gives the same results to the last bit (``tests/test_golden.py``).
Everything else (processes, plain events, conditions, ``run(until=...)``) is SimPy's own.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, Timeout

_new_timeout = Timeout.__new__


class Environment(simpy.Environment):
    """A :class:`simpy.Environment` whose ``timeout`` and ``run()`` are one frame each."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        # SimPy binds its descriptors to the instance only for its own class's attributes
        for name in ("process", "event", "all_of", "any_of"):
            setattr(self, name, getattr(self, name))

    def timeout(self, delay: float, value: Any = None) -> Timeout:
        """A :class:`simpy.Timeout` of ``delay`` (as ``Timeout(env, delay, value)``)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        ev = _new_timeout(Timeout)
        # Timeout.__init__ and Environment.schedule(ev, NORMAL, delay), inline
        ev.env = self
        ev.callbacks = []
        ev._value = value
        ev._delay = delay
        ev._ok = True
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), ev))
        return ev

    def run(self, until: Any = None) -> Any:
        """Process events until none is left (``until``: SimPy's own loop)."""
        if until is not None:
            return super().run(until)
        queue = self._queue
        while queue:
            # Environment.step, inline (an empty queue ends the run instead of raising)
            self._now, _, _, event = heappop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        return None
