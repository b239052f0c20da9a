"""The event loop: SimPy's environment with its two hottest paths as one Python frame each.

A run processes a few events per call, and most of them are timeouts. SimPy builds a
timeout through a descriptor, the ``Timeout`` constructor and ``Environment.schedule``
(three frames), and its ``run`` calls ``step`` once per event (one more). Here
:meth:`Environment.timeout` and :meth:`Environment.run` (without ``until``) do the same
work inline: the same event objects, the same ``(time, priority, event id)`` order in the
same queue, so a run gives the same results to the last bit (``tests/test_golden.py``).
Everything else (processes, plain events, conditions, ``run(until=...)``) is SimPy's own.

The hottest processes (each agent's working life, the arrivals) are :class:`Light` ones:
their generator yields a delay (a number: SimPy's ``yield env.timeout(delay)``) or nothing
(``yield``: wait until someone :meth:`Light.wake` s it, SimPy's ``yield event`` on an event
triggered later), and the loop resumes it itself. No ``Timeout``, ``Event`` or
``Process._resume`` frame per wait; each wait takes its place in the queue with the same
``(time, priority, event id)`` as SimPy's event would, taken at the same moment (a delay
when it is yielded, a wake when it is given), so the order of everything is unchanged.
Likewise a :class:`Call` (:meth:`Environment.call_in`) is SimPy's
``env.timeout(delay, value).callbacks.append(fn)``: one function called with it at its
time, without the event. :meth:`Environment.call_later` is the same for calls far ahead
(repeat calls, two days on average): they wait in a heap of their own and only the next
of them sits in the loop's queue, which is then a tenth of the size and cheaper to pop
(every event pops it); the entries and their order are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import EmptySchedule
from simpy.events import NORMAL, URGENT, Event, Timeout

_new_timeout = Timeout.__new__


class Light:
    """A process the loop resumes itself (see the module docstring), one per generator.

    Started by :meth:`Environment.process` (SimPy's ``Initialize``: urgent, now); when its
    generator ends, an event is scheduled now, as SimPy's ``Process`` schedules itself.
    """

    __slots__ = ("send", "value", "env", "waiting")

    def __init__(self, env: simpy.Environment, generator: Generator[Any, Any, Any]) -> None:
        self.env = env
        self.send = generator.send
        #: what the generator is resumed with: None after a delay, a wake's value
        self.value: Any = None
        #: it has yielded (or is about to yield) nothing, and nobody has woken it yet
        self.waiting = False

    def wake(self, value: Any) -> None:
        """Resume the waiting generator now with ``value`` (SimPy's ``event.succeed``)."""
        if not self.waiting:
            raise RuntimeError(f"{self} is not waiting: woken twice")
        self.waiting = False
        self.value = value
        env = self.env
        heappush(env._queue, (env._now, NORMAL, next(env._eid), self))


class Call:
    """A function called at its time with this object (``value``: what it is about)."""

    __slots__ = ("fn", "value")

    def __init__(self, fn: Callable[[Call], Any], value: Any) -> None:
        self.fn, self.value = fn, value


class Environment(simpy.Environment):
    """A :class:`simpy.Environment` whose ``timeout`` and ``run()`` are one frame each."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        #: calls far ahead (:meth:`call_later`) not yet in the queue; every one of them
        #: comes after the gate, the one such entry in the queue that lets the next in
        self._later: list[tuple[float, int, int, Call]] = []
        self._gate: tuple[float, int, int, Call] | None = None
        self._gate_fn: Callable[[Call], Any] | None = None
        # SimPy binds its descriptors to the instance only for its own class's attributes
        for name in ("event", "all_of", "any_of"):
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

    def call_in(self, delay: float, fn: Callable[[Call], Any], value: Any = None) -> Call:
        """Call ``fn(call)`` after ``delay``: ``timeout(delay, value).callbacks.append(fn)``.

        The same place in the queue as that timeout; the :class:`Call` is returned (a
        caller may compare it to tell a stale one).
        """
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        call = Call(fn, value)
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), call))
        return call

    def call_later(self, delay: float, fn: Callable[[Call], Any], value: Any = None) -> Call:
        """:meth:`call_in` for a call far ahead: the same entry, out of the queue till next.

        An entry before the gate goes into the queue at once; any other waits in
        ``_later`` until the gate is called, which lets the earliest of them in as the
        next gate. So the queue always holds the earliest entry of all, and the loop pops
        everything in the order :meth:`call_in` would give.
        """
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        call = Call(fn, value)
        entry = (self._now + delay, NORMAL, next(self._eid), call)
        gate = self._gate
        if gate is None:
            self._open_gate(entry)
        elif entry < gate:  # (time, priority, id): ids differ, calls are never compared
            heappush(self._queue, entry)
        else:
            heappush(self._later, entry)
        return call

    def _open_gate(self, entry: tuple[float, int, int, Call]) -> None:
        call = entry[3]
        self._gate, self._gate_fn, call.fn = entry, call.fn, self._pass_gate
        heappush(self._queue, entry)

    def _pass_gate(self, call: Call) -> None:
        """The gate's time: the next waiting entry becomes the gate, then the call is made."""
        fn = self._gate_fn
        if self._later:
            self._open_gate(heappop(self._later))
        else:
            self._gate = None
        fn(call)

    def process(self, generator: Any) -> Any:
        """Start a process: a :class:`Light` one as such, else SimPy's ``Process``."""
        if generator.__class__ is Light:
            heappush(self._queue, (self._now, URGENT, next(self._eid), generator))
            return generator
        return simpy.Process(self, generator)

    def _resume(self, light: Light) -> None:
        """Resume ``light`` (the loop's inline code, for :meth:`step`)."""
        try:
            delay = light.send(light.value)
        except StopIteration:
            self._ended()
            return
        if delay is not None:
            if delay < 0:
                raise ValueError(f"Negative delay {delay}")
            light.value = None
            heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), light))

    def _ended(self) -> None:
        """A light process ended: its event now, as SimPy's ``Process`` schedules itself."""
        done = Event(self)
        done._ok, done._value = True, None
        heappush(self._queue, (self._now, NORMAL, next(self._eid), done))

    def step(self) -> None:
        """SimPy's ``step`` (for ``run(until=...)``), light processes included."""
        queue = self._queue
        if queue and queue[0][3].__class__ in (Light, Call):
            self._now, _, _, event = heappop(queue)
            if event.__class__ is Light:
                self._resume(event)
            else:
                event.fn(event)
            return
        if not queue:
            raise EmptySchedule
        super().step()

    def run(self, until: Any = None) -> Any:
        """Process events until none is left (``until``: SimPy's own loop)."""
        if until is not None:
            return super().run(until)
        queue, eid = self._queue, self._eid
        while queue:
            # Environment.step, inline (an empty queue ends the run instead of raising)
            self._now, _, _, event = heappop(queue)
            if event.__class__ is Light:  # _resume, inline
                try:
                    delay = event.send(event.value)
                except StopIteration:
                    self._ended()
                    continue
                if delay is not None:
                    if delay < 0:
                        raise ValueError(f"Negative delay {delay}")
                    event.value = None
                    heappush(queue, (self._now + delay, NORMAL, next(eid), event))
                continue
            if event.__class__ is Call:
                event.fn(event)
                continue
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        return None
