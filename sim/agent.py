"""One agent's working life as a SimPy process: log in, Ready/Talk/ACW cycles, log off."""

from __future__ import annotations

from collections.abc import Generator, Sequence

import simpy

from sim.centre import Centre
from sim.status import Status

#: what an idle agent is woken with at shift end instead of a call
LOG_OFF = -1

READY, TALK, ACW, LOGGED_OUT = Status.READY, Status.TALK, Status.ACW, Status.LOGGED_OUT


class Agent:
    """An agent working a list of sessions ``(log-in time, shift end)``.

    Every status change is appended to the shared ``log`` as ``(agent, time, status)``;
    a session ends with a ``LOGGED_OUT`` row, so the rows tile logged-in time exactly.
    """

    def __init__(self, env: simpy.Environment, centre: Centre, index: int,
                 sessions: Sequence[tuple[float, float]], log: list[tuple[int, float, int]]
                 ) -> None:
        self.env = env
        self.centre = centre
        self.index = index
        self.sessions = sessions
        self.log = log
        self.shift_over = False
        self.idle = False
        self.wake: simpy.Event | None = None
        self.logins: list[tuple[float, float]] = []  # actual (log-in, log-off) per session

    def offer(self, item: int) -> None:
        """Give this idle agent a call (or ``LOG_OFF``); it leaves the ready queue."""
        self.idle = False
        self.wake.succeed(item)

    def _end_shift(self, _event: simpy.Event) -> None:
        self.shift_over = True
        if self.idle:  # waiting in Ready: log off now, not at the next call
            self.centre.ready.remove(self)
            self.offer(LOG_OFF)

    def working_life(self) -> Generator[simpy.Event, object, None]:
        """SimPy process: every session of the horizon in turn."""
        env = self.env
        for login, shift_end in self.sessions:
            yield env.timeout(max(0.0, login - env.now))
            start = env.now
            self.shift_over = False
            env.timeout(shift_end - start).callbacks.append(self._end_shift)
            yield from self.session()
            self.logins.append((start, env.now))

    def session(self) -> Generator[simpy.Event, object, None]:
        """One logged-in session: take calls until the shift is over and the call is done."""
        env, centre, log, k = self.env, self.centre, self.log, self.index
        timeout, talk, acw = env.timeout, centre.talk, centre.acw
        while True:
            i = centre.next_call(env.now)
            if i is None:
                if self.shift_over:
                    break
                log.append((k, env.now, READY))
                self.wake = env.event()
                self.idle = True
                centre.ready.append(self)
                i = yield self.wake
                if i == LOG_OFF:
                    break
            now = env.now
            centre.answer(i, k, now)
            log.append((k, now, TALK))
            yield timeout(talk[i])
            wrap = acw[i]
            if wrap > 0:
                log.append((k, env.now, ACW))
                yield timeout(wrap)
            if self.shift_over:
                break
        log.append((k, env.now, LOGGED_OUT))
