"""One agent's working life as a SimPy process: calls, planned activities, unplanned breaks.

The agent logs in (after the system's log-in delay), cycles through Ready/Talk/ACW, works
its planned activities and unplanned breaks, and logs off. Nothing polls: planned
activities and break needs are timeouts with callbacks (like the shift end). An idle agent
is taken out of the ready queue at once; a busy one finishes the call and its ACW first
(the activity is displaced, and the record says by how much).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING

import simpy

from sim.centre import Centre
from sim.status import Status

if TYPE_CHECKING:
    from sim.schedule import AgentDay

#: what an idle agent is woken with at shift end instead of a call
LOG_OFF = -1
#: what an idle agent is woken with when a planned activity or a break need comes due
WORK = -2
#: what an agent in interruptible ACW is woken with when the wrap-up is done
ACW_DONE = -3

READY, TALK, ACW, LOGGED_OUT = Status.READY, Status.TALK, Status.ACW, Status.LOGGED_OUT
NR_BREAK = Status.NOT_READY_BREAK

# what the agent is doing besides calls (for needs arising meanwhile)
_ON_QUEUE, _PLANNED, _UNPLANNED = 0, 1, 2


def never_defer(agent: Agent, now: float) -> bool:
    """Default unplanned-break policy: take the break at the first chance."""
    return False


class Agent:
    """An agent working a list of sessions ``(log-in time, shift end)``.

    Every status change is appended to the shared ``log`` as ``(agent, time, status)``;
    a session ends with a ``LOGGED_OUT`` row, so the rows tile logged-in time exactly.
    With ``days`` (one :class:`~sim.schedule.AgentDay` per session) the agent also logs in
    after its log-in delay, works its planned activities and takes unplanned breaks;
    ``activity_log`` and ``break_log`` record what happened to each.
    """

    #: hook for a policy layer, ``(agent, now) -> bool``: True puts off a pending unplanned
    #: break (reconsidered at the next call end). Replace per agent (``agent.defer_...
    #: = f``) or for all (``Agent.defer_unplanned_break = staticmethod(f)``).
    defer_unplanned_break: Callable[[Agent, float], bool] = staticmethod(never_defer)

    def __init__(self, env: simpy.Environment, centre: Centre, index: int,
                 sessions: Sequence[tuple[float, float]], log: list[tuple[int, float, int]],
                 days: Sequence[AgentDay] | None = None) -> None:
        self.env = env
        self.centre = centre
        self.index = index
        self.sessions = sessions
        self.log = log
        self.days = days
        self.shift_over = False
        #: set by the centre at closing (rule "serve"): clear the queue before logging off
        self.overtime = False
        self.idle = False
        self.wake: simpy.Event | None = None
        self.logins: list[tuple[float, float]] = []  # actual (log-in, log-off) per session
        self.day = 0
        self.doing = _ON_QUEUE
        self.due: deque[tuple[int, float, float, int, bool, float]] = deque()
        self.need: tuple[float, float] | None = None
        self._acw_timer: simpy.Event | None = None
        #: (plan row, actual start, actual end); NaN start and end: never taken
        self.activity_log: list[tuple[int, float, float]] = []
        #: (day, time the need arose, start, end); NaN start and end: merged or never taken
        self.break_log: list[tuple[int, float, float, float]] = []

    def offer(self, item: int) -> None:
        """Give this idle agent a call (or ``LOG_OFF`` / ``WORK``); it leaves the ready queue."""
        self.idle = False
        self.wake.succeed(item)

    def call_out(self, item: int) -> None:
        """Give this agent, in interruptible ACW, a call: the wrap-up ends now."""
        self._acw_timer = None
        self.wake.succeed(item)

    def _acw_over(self, event: simpy.Event) -> None:
        if event is self._acw_timer:  # not called out meanwhile
            self._acw_timer = None
            self.centre.in_acw.pop(self, None)
            self.wake.succeed(ACW_DONE)

    def _interrupt_idle(self, item: int) -> None:
        self.centre.ready.remove(self)
        self.offer(item)

    def _end_shift(self, _event: simpy.Event) -> None:
        self.shift_over = True
        self.centre.in_acw.pop(self, None)  # never called out after the shift
        if self.idle:  # waiting in Ready: log off now, not at the next call
            self._interrupt_idle(LOG_OFF)

    def _activity_due(self, event: simpy.Event) -> None:
        self.due.append(event.value)
        self.centre.in_acw.pop(self, None)  # the activity comes after this ACW
        if self.idle:
            self._interrupt_idle(WORK)

    def _need_due(self, event: simpy.Event) -> None:
        t, _ = event.value
        if self.doing != _ON_QUEUE or self.need is not None or self.shift_over:
            # met by the break or activity under way, or merged with the pending need
            self.break_log.append((self.day, t, math.nan, math.nan))
            return
        self.need = event.value
        self.centre.in_acw.pop(self, None)
        if self.idle and not self.defer_unplanned_break(self, self.env.now):
            self._interrupt_idle(WORK)

    def working_life(self) -> Generator[simpy.Event, object, None]:
        """SimPy process: every session of the horizon in turn."""
        env = self.env
        for d, (login, shift_end) in enumerate(self.sessions):
            plan = self.days[d] if self.days is not None else None
            if plan is not None:
                login = plan.login
            yield env.timeout(max(0.0, login - env.now))
            start = env.now
            self.day = d
            self.shift_over = False
            self.overtime = False
            self.centre.logged_in[self] = None
            env.timeout(max(0.0, shift_end - start)).callbacks.append(self._end_shift)
            if plan is not None:
                for act in plan.activities:
                    if act[1] <= start:
                        self.due.append(act)
                    else:
                        env.timeout(act[1] - start, act).callbacks.append(self._activity_due)
                for need in plan.needs:
                    env.timeout(max(0.0, need[0] - start), need).callbacks.append(
                        self._need_due)
            yield from self.session()
            self.logins.append((start, env.now))
            self.centre.logged_off(self, env.now)

    def session(self) -> Generator[simpy.Event, object, None]:
        """One logged-in session: calls and breaks until the shift is over and the call done."""
        env, centre, log, k = self.env, self.centre, self.log, self.index
        timeout, talk, acw = env.timeout, centre.talk, centre.acw
        callout = centre.acw_callout
        nxt: int | None = None  # a call given to this agent in ACW
        while True:
            if not self.shift_over and (self.due or self.need is not None):
                yield from self._other_work()
            if self.shift_over and nxt is None:
                # after the shift only overtime at closing, and only while calls wait
                i = centre.next_call(env.now) if self.overtime else None
                if i is None:
                    break
            elif nxt is not None:
                i, nxt = nxt, None
            else:
                i = centre.next_call(env.now)
            if i is None:
                log.append((k, env.now, READY))
                self.wake = env.event()
                self.idle = True
                centre.ready.append(self)
                i = yield self.wake
                if i == LOG_OFF:
                    break
                if i == WORK:
                    continue
            now = env.now
            centre.answer(i, k, now)
            log.append((k, now, TALK))
            yield timeout(talk[i])
            wrap = acw[i]
            if wrap > 0:
                if callout and not (self.shift_over or self.due or self.need is not None):
                    nxt = yield from self._interruptible_acw(i, wrap)
                else:
                    log.append((k, env.now, ACW))
                    yield timeout(wrap)
        # anything still due when the shift is over is not taken (recorded, never lost)
        nan = math.nan
        for act in self.due:
            self.activity_log.append((act[0], nan, nan))
        self.due.clear()
        if self.need is not None:
            self.break_log.append((self.day, self.need[0], nan, nan))
            self.need = None
        log.append((k, env.now, LOGGED_OUT))

    def _interruptible_acw(self, i: int, wrap: float
                           ) -> Generator[simpy.Event, object, int | None]:
        """ACW that the ACD may cut short with a call; returns that call, if any.

        A call already waiting takes the agent at once (no ACW at all). The ACW actually
        done is written back to the call's record.
        """
        env, centre = self.env, self.centre
        start = env.now
        j = centre.next_call(start)
        if j is None:
            self.log.append((self.index, start, ACW))
            self.wake = env.event()
            centre.in_acw[self] = None
            self._acw_timer = env.timeout(wrap)
            self._acw_timer.callbacks.append(self._acw_over)
            got = yield self.wake
            if got == ACW_DONE:
                return None
            j = got
        centre.acw[i] = env.now - start
        return j

    def _other_work(self) -> Generator[simpy.Event, object, None]:
        """Planned activities that are due (in order), then a pending unplanned break."""
        env = self.env
        while not self.shift_over:
            if self.due:
                row, p_start, p_end, status, keep, adjust = self.due.popleft()
                start = env.now
                end = (start + (p_end - p_start) if keep else p_end) + adjust
                if end <= start:  # a fixed-end activity displaced past its end, or returned
                    self.activity_log.append((row, start, start))  # early at once: no spell
                    continue
                self.doing = _PLANNED
                self.log.append((self.index, start, status))
                yield env.timeout(end - start)
                self.doing = _ON_QUEUE
                self.activity_log.append((row, start, env.now))
            elif self.need is not None and not self.defer_unplanned_break(self, env.now):
                t, length = self.need
                self.need = None
                start = env.now
                self.doing = _UNPLANNED
                self.log.append((self.index, start, NR_BREAK))
                yield env.timeout(length)
                self.doing = _ON_QUEUE
                self.break_log.append((self.day, t, start, env.now))
            else:
                return
