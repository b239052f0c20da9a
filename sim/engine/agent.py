"""One agent's working life as a SimPy process: calls, planned activities, unplanned breaks.

The agent logs in (after the system's log-in delay), cycles through Ready/Talk/ACW, works
its planned activities and unplanned breaks, and logs off. Nothing polls: planned
activities and break needs are timeouts with callbacks (like the shift end). An idle agent
leaves the router at once; a busy one finishes the call and its ACW first (the activity is
displaced, and the record says by how much). Which call it takes is the router's choice
(:mod:`sim.engine.routing`): the agent only asks for work, waits with the router and leaves
it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Sequence
from heapq import heappush
from typing import TYPE_CHECKING

import simpy
from simpy.events import NORMAL

from sim.engine.behaviour import NULL, Behaviour
from sim.engine.centre import Centre
from sim.engine.loop import Call, Light
from sim.engine.status import Status, StatusLog

if TYPE_CHECKING:
    from sim.engine.presence import Presence
    from sim.engine.schedule import AgentDay

#: what an idle agent is woken with at shift end instead of a call
LOG_OFF = -1
#: what an idle agent is woken with when a planned activity or a break need comes due
WORK = -2
#: what an agent in interruptible ACW is woken with when the wrap-up is done
ACW_DONE = -3

READY, TALK, ACW, LOGGED_OUT = Status.READY, Status.TALK, Status.ACW, Status.LOGGED_OUT
NR_BREAK = Status.NOT_READY_BREAK

#: planned statuses that meet a pending need (as the strain's rests: a break, lunch)
_RESTS = frozenset({int(Status.NOT_READY_BREAK), int(Status.NOT_READY_LUNCH)})

# what the agent is doing besides calls (for needs arising meanwhile)
_ON_QUEUE, _PLANNED, _UNPLANNED = 0, 1, 2


class Agent:
    """An agent working a list of sessions ``(log-in time, shift end)``, one per day.

    Every status change goes through :meth:`set_status` (written out inline, the same
    lines, for Ready, Talk and ACW in :meth:`working_life`: change them together), the one
    door where it is appended to the shared ``log`` (a :class:`~sim.engine.status.StatusLog`,
    typed columns) as ``(agent, time, status)`` and where the agent's behaviour may watch
    it; a session ends with a ``LOGGED_OUT`` row, so the rows tile logged-in time exactly.
    With ``days``
    (one :class:`~sim.engine.schedule.AgentDay` per session) the agent also logs in after its
    log-in delay, works its planned activities and takes unplanned breaks;
    ``activity_log`` and ``break_log`` record what happened to each. ``presence`` says
    which days it works at all; :meth:`impose` takes it off queue at run time (a
    supervisor's conversation), recorded in ``imposed_log``.
    """

    def __init__(self, env: simpy.Environment, centre: Centre, index: int,
                 sessions: Sequence[tuple[float, float]], log: StatusLog,
                 days: Sequence[AgentDay] | None = None, behaviour: Behaviour = NULL,
                 presence: Presence | None = None) -> None:
        self.env = env
        self.centre = centre
        self.index = index
        self.sessions = sessions
        self.log = log
        self.days = days
        self.set_behaviour(behaviour)
        self.presence = presence
        self.status = int(LOGGED_OUT)
        self.shift_over = False
        #: set by the centre at closing (rule "serve"): clear the queue before logging off
        self.overtime = False
        self.idle = False
        #: the working life, resumed by the event loop itself (:class:`sim.engine.loop.Light`):
        #: it yields a delay, or nothing to wait for a call (``offer``, ``call_out``) or a
        #: wake-up (``LOG_OFF``, ``WORK``, ``ACW_DONE``)
        self.life: Light | None = None
        #: (day, log-in, log-off) per session worked
        self.logins: list[tuple[int, float, float]] = []
        self.day = 0
        self.doing = _ON_QUEUE
        self.due: deque[tuple[int, float, float, int, bool, float]] = deque()
        self.need: tuple[float, float] | None = None
        #: the pending need has been put off (the behaviour said so)
        self.need_held = False
        self._acw_timer: Call | None = None
        #: the router may call this agent out of its ACW now
        self._acw_open = False
        #: (plan row, actual start, actual end); NaN start and end: never taken
        self.activity_log: list[tuple[int, float, float]] = []
        #: (day, time the need arose, start, end); NaN start and end: merged or never taken
        self.break_log: list[tuple[int, float, float, float]] = []
        #: (day, reason, status, length, requested at, start, end); NaN: never taken
        self.imposed_log: list[list] = []

    def set_behaviour(self, behaviour: Behaviour) -> None:
        """Give the agent its behaviour; the hooks it calls are bound here, once.

        A composite's parts (``status_hooks``, ``handling_hooks``) are called directly, one
        Python frame less per status change and per call (the hot path of a run).
        """
        self.behaviour = behaviour
        self._watch = behaviour.watches_status
        self._adjusts = behaviour.adjusts_handling
        hooks = getattr(behaviour, "status_hooks", None)
        self._hooks = (tuple(hooks) if hooks is not None else (behaviour.on_status,)
                       ) if self._watch else ()
        # a change between two on-queue statuses (most of a run's) goes only to the parts
        # that watch those too (``Behaviour.watches_queue``)
        queue = getattr(behaviour, "queue_hooks", None)
        if queue is None:
            queue = self._hooks if behaviour.watches_queue else ()
        self._queue_hooks = tuple(queue) if self._watch else ()
        handling = getattr(behaviour, "handling_hooks", None)
        if handling is None:
            handling = (behaviour.handling,)
        self._handle0 = handling[0] if self._adjusts else None
        self._handle1 = handling[1] if self._adjusts and len(handling) > 1 else None

    def set_status(self, status: int, now: float) -> None:
        """The one place a status changes: logged, and shown to a watching behaviour."""
        log = self.log  # three typed columns, not a tuple per change (13 bytes a row)
        log.agent.append(self.index)
        log.t.append(now)
        log.status.append(status)
        old, self.status = self.status, status
        # empty unless the behaviour watches status; Ready, Talk and ACW are 1, 2 and 3
        for hook in self._queue_hooks if 0 < old < 4 and 0 < status < 4 else self._hooks:
            hook(self, old, status, now)

    def impose(self, status: int, length_s: float, reason: str) -> bool:
        """Take the agent off queue now for ``length_s`` in ``status`` (after its call).

        For a supervisor's conversation (coaching, a warning): an idle agent starts at once,
        a busy one after its call and wrap-up, like a displaced planned activity. Returns
        False (and records nothing) when the agent is not on shift.
        """
        if self.status == LOGGED_OUT or self.shift_over or not length_s > 0:
            return False
        now = self.env.now
        j = len(self.imposed_log)
        self.imposed_log.append([self.day, reason, int(status), float(length_s), now,
                                 math.nan, math.nan])
        self.due.append((-1 - j, now, now + length_s, int(status), True, 0.0))
        self._close_acw()
        if self.idle:
            self._interrupt_idle(WORK)
        return True

    def offer(self, item: int) -> None:
        """Give this idle agent a call (or ``LOG_OFF`` / ``WORK``); it is no longer idle."""
        self.idle = False
        # self.life.wake(item), inline (most calls go to an idle agent): the same (time,
        # priority, id) in the queue as SimPy's wake-up event had
        life, env = self.life, self.env
        if not life.waiting:
            raise RuntimeError(f"agent {self.index} is not waiting: offered {item} twice")
        life.waiting = False
        life.value = item
        heappush(env._queue, (env._now, NORMAL, next(env._eid), life))

    def call_out(self, item: int) -> None:
        """Give this agent, in interruptible ACW, a call: the wrap-up ends now."""
        self._acw_timer = None
        self._acw_open = False  # the router has let go of it
        self.life.wake(item)

    def _acw_over(self, event: Call) -> None:
        if event is self._acw_timer:  # not called out meanwhile
            self._acw_timer = None
            if self._acw_open:  # as _close_acw, inline: this runs after most such ACWs
                self._acw_open = False
                self.centre.router.acw_close(self)
            self.life.wake(ACW_DONE)

    def _close_acw(self) -> None:
        """The ACW is over, or something comes after it: no call-out from it any more."""
        if self._acw_open:  # only then does the router hold the agent (ACW call-out)
            self._acw_open = False
            self.centre.router.acw_close(self)

    def _interrupt_idle(self, item: int) -> None:
        self.centre.router.leave_idle(self)
        self.offer(item)

    def _end_shift(self, _event: Call) -> None:
        self.shift_over = True
        self._close_acw()  # never called out after the shift
        if self.idle:  # waiting in Ready: log off now, not at the next call
            self._interrupt_idle(LOG_OFF)

    def _activity_due(self, event: Call) -> None:
        self.due.append(event.value)
        self._close_acw()  # the activity comes after this ACW
        if self.idle:
            self._interrupt_idle(WORK)

    def _need_due(self, event: Call) -> None:
        t, _ = event.value
        if self.doing != _ON_QUEUE or self.need is not None or self.shift_over:
            # met by the break or activity under way, or merged with the pending need
            self.break_log.append((self.day, t, math.nan, math.nan))
            return
        self.need = event.value
        self._close_acw()
        if self.idle:
            if self.behaviour.defer_unplanned_break(self, self.env.now):
                self.need_held = True
            else:
                self._interrupt_idle(WORK)

    def recall_need(self, at: float) -> None:
        """Ask about the pending need again at ``at`` (a deferral's limit), even if idle.

        A busy agent asks anyway at the end of its call; one waiting for a call is woken.
        """
        need = self.need

        def again(_event: Call) -> None:
            if self.need is need and self.idle and not self.shift_over:
                self._interrupt_idle(WORK)

        self.env.call_in(max(0.0, at - self.env.now), again)

    def working_life(self) -> Light:
        """The agent's process (``env.process`` starts it): every session in turn."""
        self.life = Light(self.env, self._life())
        return self.life

    def _life(self) -> Generator[float | None, object, None]:
        """Every session of the horizon in turn (absent days skipped).

        A light process (:class:`sim.engine.loop.Light`): ``yield delay`` is SimPy's
        ``yield env.timeout(delay)``; a bare ``yield`` waits until the agent is woken.
        """
        env, presence = self.env, self.presence
        for d, (login, shift_end) in enumerate(self.sessions):
            plan = self.days[d] if self.days is not None else None
            if plan is not None:
                login = plan.login
            yield max(0.0, login - env.now)
            if presence is not None and not presence.present[self.index, d]:
                if plan is not None:  # a schedule exception: nothing of the day happens
                    self.activity_log += [(a[0], math.nan, math.nan) for a in plan.activities]
                continue
            start = env.now
            self.day = d
            self.shift_over = False
            self.overtime = False
            self.centre.logged_in[self] = None
            env.call_in(max(0.0, shift_end - start), self._end_shift)
            if plan is not None:
                for act in plan.activities:
                    if act[1] <= start:
                        self.due.append(act)
                    else:
                        env.call_in(act[1] - start, self._activity_due, act)
                for need in plan.needs:
                    env.call_in(max(0.0, need[0] - start), self._need_due, need)
            # one logged-in session, written out here rather than ``yield from`` a session
            # generator (each resume would pass through both frames, about three a call):
            # calls and breaks until the shift is over and the call done
            env, centre, k, life = self.env, self.centre, self.index, self.life
            talk, acw = centre.talk, centre.acw
            # set_status inline for Ready, Talk and ACW (a Python frame less at most changes)
            log_agent, log_t, log_status = (self.log.agent.append, self.log.t.append,
                                            self.log.status.append)
            hooks, queue_hooks = self._hooks, self._queue_hooks
            router = centre.router
            next_call, idle, callout = router.next_call, router.idle, router.acw_callout
            handle0, handle1 = self._handle0, self._handle1
            call_ended = centre.call_ended
            # Centre.call_ended's first test, inline: most calls are resolved (no frame)
            repeats = centre.repeats
            rep_u, rep_p = (repeats.u, repeats.p) if repeats is not None else (None, 0.0)
            answered_at, answered_by = centre.answered_at, centre.answered_by
            nxt: int | None = None  # a call given to this agent in ACW
            # ``now`` is read from the clock once after each wait, as the attribute SimPy keeps
            # it in (``env.now`` is a property, a Python call each time, about three a call);
            # nothing between two waits moves the clock
            while True:
                if not self.shift_over and (self.due or self.need is not None):
                    yield from self._other_work()
                now = env._now
                if self.shift_over and nxt is None:
                    # after the shift only overtime at closing, and only while calls wait
                    i = next_call(self, now) if self.overtime else None
                    if i is None:
                        break
                elif nxt is not None:
                    i, nxt = nxt, None
                else:
                    i = next_call(self, now)
                if i is None:
                    # set_status(READY, now), inline
                    log_agent(k)
                    log_t(now)
                    log_status(READY)
                    old, self.status = self.status, READY
                    for hook in queue_hooks if 0 < old < 4 else hooks:
                        hook(self, old, READY, now)
                    if self.due:  # imposed by a behaviour watching this very change
                        continue
                    life.waiting = True
                    self.idle = True
                    idle(self)
                    i = yield
                    if i == LOG_OFF:
                        break
                    if i == WORK:
                        continue
                    now = env._now
                # centre.answer(i, k, now), inline (once per call)
                answered_at[i] = now
                answered_by[i] = k
                if centre.answered is not None:
                    centre.answered.append(i)
                # set_status(TALK, now), inline
                log_agent(k)
                log_t(now)
                log_status(TALK)
                old, self.status = self.status, TALK
                for hook in queue_hooks if 0 < old < 4 else hooks:
                    hook(self, old, TALK, now)
                extra = 0.0
                if handle0 is not None:  # the behaviour shapes the talk and wrap-up worked
                    # as Composite.handling: the first part's times, the second's on them
                    t_i, a_i, extra = handle0(self, i, talk[i], acw[i])
                    if handle1 is not None:
                        t_i, a_i, more = handle1(self, i, t_i, a_i)
                        extra += more
                    talk[i], acw[i] = t_i, a_i
                yield talk[i]
                now = env._now
                if rep_u is not None and rep_u[i] < rep_p + extra:
                    call_ended(i, now, extra)
                wrap = acw[i]
                if wrap > 0:
                    if callout and not (self.shift_over or self.due or self.need is not None):
                        nxt = yield from self._interruptible_acw(i, wrap)
                    else:
                        # set_status(ACW, now), inline: from Talk, a change between queue
                        # statuses (a hook may have changed nothing of the status since)
                        log_agent(k)
                        log_t(now)
                        log_status(ACW)
                        old, self.status = self.status, ACW
                        for hook in queue_hooks if 0 < old < 4 else hooks:
                            hook(self, old, ACW, now)
                        yield wrap
            # anything still due when the shift is over is not taken (recorded, never lost)
            nan = math.nan
            for act in self.due:
                if act[0] >= 0:  # an imposed activity keeps its NaN start and end
                    self.activity_log.append((act[0], nan, nan))
            self.due.clear()
            if self.need is not None:
                self.break_log.append((self.day, self.need[0], nan, nan))
                self.need = None
                self.need_held = False
            self.set_status(LOGGED_OUT, env.now)
            self.logins.append((d, start, env.now))
            self.centre.logged_off(self, env.now)

    def _interruptible_acw(self, i: int, wrap: float
                           ) -> Generator[float | None, object, int | None]:
        """ACW that the ACD may cut short with a call; returns that call, if any.

        A call already waiting takes the agent at once (no ACW at all). The ACW actually
        done is written back to the call's record.
        """
        env, centre = self.env, self.centre
        start = env.now
        j = centre.router.next_call(self, start)
        if j is None:
            self.set_status(ACW, start)
            self.life.waiting = True
            self._acw_open = True
            centre.router.acw_open(self)
            self._acw_timer = env.call_in(wrap, self._acw_over)
            got = yield
            if got == ACW_DONE:
                return None
            j = got
        centre.acw[i] = env.now - start
        return j

    def _other_work(self) -> Generator[float | None, object, None]:
        """Activities that are due (planned or imposed, in order), then an unplanned break."""
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
                if self.need is not None and status in _RESTS:
                    # a need still pending (put off, or waiting for the call to end) is met
                    # by the planned break or lunch, as one arising during it is
                    self.break_log.append((self.day, self.need[0], math.nan, math.nan))
                    self.need, self.need_held = None, False
                self.set_status(status, start)
                yield end - start
                self.doing = _ON_QUEUE
                if row >= 0:
                    self.activity_log.append((row, start, env.now))
                else:
                    self.imposed_log[-1 - row][5:] = [start, env.now]
            elif self.need is not None:
                if self.behaviour.defer_unplanned_break(self, env.now):
                    self.need_held = True
                    return
                t, length = self.need
                self.need, self.need_held = None, False
                start = env.now
                self.doing = _UNPLANNED
                self.set_status(NR_BREAK, start)
                yield length
                self.doing = _ON_QUEUE
                self.break_log.append((self.day, t, start, env.now))
            else:
                return
