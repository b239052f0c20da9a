"""The ACD: calls arriving, waiting, abandoning, coming back and closing.

The centre keeps each call's record (arrival, deadline, handling, answer, closing) and
runs the arrivals and the closings; which agent a call goes to, and which waiting call an
agent takes, is the router's (:mod:`sim.engine.routing`), and so is abandonment: exact and
eventless, a call past its deadline is skipped when an agent looks, as if its caller had
hung up on time.

Closing is explicit (``scenario.closing``): the queue takes no call after closing time.
Under ``serve`` the agents logged in at closing stay on until the queue is empty; calls
that nobody is left to serve, or that still wait when the overtime limit runs out, end
as ``closed``. Under ``close`` every call still waiting at closing ends as ``closed``.
Either way nothing waits past the day's cut-off, which is never after midnight.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Protocol

import simpy

from sim.engine.loop import Call, Light
from sim.engine.routing import FifoLongestIdle, Router

if TYPE_CHECKING:
    from sim.engine.demand import CallSet
    from sim.engine.repeats import Repeats
    from sim.engine.routing_skills import Typing


#: ``repeat_of`` of a repeat call whose first call was before day 0 (a warm-up's)
CARRIED = -2


class OnShift(Protocol):
    """What the centre's closing needs of a logged-in agent."""

    #: set at closing (rule "serve"): clear the queue before logging off
    overtime: bool


class Centre:
    """One run's calls (all days, sorted by arrival), handed to agents by its router."""

    def __init__(self, env: simpy.Environment, calls: CallSet,
                 closings: list[tuple[float, float]] | None = None,
                 serve_after_close: bool = True, router: Router | None = None,
                 typing: Typing | None = None) -> None:
        """Per day ``closings`` (closing time, cut-off), the closing rule, the routing policy.

        ``router`` defaults to one FIFO queue, longest idle agent first. ``typing``: the
        calls' types (:func:`sim.engine.routing_skills.type_calls`), None with one queue.
        """
        self.env = env
        arrival = calls.arrival
        patience, talk, acw = calls.patience, calls.talk, calls.acw
        self.closings = closings or []
        self.serve_after_close = serve_after_close
        self.arrival = arrival.tolist()
        self.deadline = (arrival + patience).tolist()
        self.talk = talk.tolist()
        self.acw = acw.tolist()
        n = len(self.arrival)
        #: each call's type (repeats inherit theirs); None: one call type, no column
        self.typing = typing
        self.types: list[int] | None = typing.type.tolist() if typing is not None else None
        #: the one place that pairs waiting calls with agents
        self.router: Router = router if router is not None else FifoLongestIdle()
        self.router.bind(self)
        self.answered_at = [math.nan] * n
        self.answered_by = [-1] * n
        #: when a call still waiting was ended by closing (NaN: it was not)
        self.closed_at = [math.nan] * n
        #: agents logged in now (insertion-ordered)
        self.logged_in: dict[OnShift, None] = {}
        #: between a closing (rule "serve") and its cut-off
        self.after_close = False
        self.n_first = n
        #: the repeat-call rule (None: callers never call again)
        self.repeats: Repeats | None = None
        #: repeat call index -> the call it repeats; calls an agent released early
        self.repeat_of: dict[int, int] = {}
        self.released: set[int] = set()
        #: calls answered since the supervisor last looked (None: nobody looks)
        self.answered: list[int] | None = None

    def arrivals(self) -> Light:
        """The arrivals' process (``env.process`` starts it): each call handed to the router."""
        return Light(self.env, self._arrivals())

    def _arrivals(self) -> Generator[float, None, None]:
        """Each call arrives and is handed to the router (a light process: yields delays)."""
        env, arrive = self.env, self.router.arrive
        arrival, deadline = self.arrival, self.deadline
        now = env.now  # read once per call: the clock does not move while this runs
        for i in range(self.n_first):
            t = arrival[i]
            yield t - now
            now = env._now  # the clock's attribute (env.now is a property: a Python call)
            arrival[i] = now  # the clock's own value, so waits are exactly >= 0
            deadline[i] = now + (deadline[i] - t)
            arrive(i)

    def call_ended(self, i: int, now: float, extra: float) -> None:
        """The talk of call ``i`` is over: if left unresolved, its caller will call again."""
        rep = self.repeats
        # Repeats.unresolved(i, extra), inline (once per call)
        if rep is None or not rep.u[i] < rep.p + extra:
            return
        nxt = rep.repeat_of(i, now)
        if nxt is None:
            return
        t, talk, acw, patience = nxt
        if self.types is not None:  # the caller calls again about the same kind of thing
            talk, acw, patience = self._scaled(self.types[i], talk, acw, patience)
        j = self._add_repeat(t, talk, acw, patience, i)
        self.env.call_later(t - now, self._repeat_arrives, j)  # two days ahead on average

    def _add_repeat(self, t: float, talk: float, acw: float, patience: float,
                    of: int) -> int:
        """A repeat call arriving at ``t`` appended to the call arrays; its index."""
        j = len(self.arrival)
        self.arrival.append(t)
        self.deadline.append(t + patience)
        self.talk.append(talk)
        self.acw.append(acw)
        self.answered_at.append(math.nan)
        self.answered_by.append(-1)
        self.closed_at.append(math.nan)
        self.repeat_of[j] = of
        return j

    def _scaled(self, kind: int, talk: float, acw: float, patience: float
                ) -> tuple[float, float, float]:
        """A repeat call's times as its type's (its draws scaled like the first calls')."""
        self.types.append(kind)
        f_talk, f_acw, f_patience = self.typing.scale_rows[kind]  # typing.scale[kind]
        return talk * f_talk, acw * f_acw, patience * f_patience

    def carried_repeat(self, t: float, talk: float, acw: float, patience: float,
                       unresolved_u: float) -> None:
        """A repeat of a call before day 0 (a warm-up's, ``sim.start``) arriving at ``t``.

        Its ``repeat_of`` is :data:`CARRIED` (the call it repeats is not in this run).
        """
        if self.types is not None:  # its type is not known here: drawn by the shares
            typing = self.typing
            kind = typing.carried_type()  # rng.choice(len(share), p=share), its draws
            talk, acw, patience = self._scaled(kind, talk, acw, patience)
        j = self._add_repeat(t, talk, acw, patience, CARRIED)
        if self.repeats is not None:  # its own chance of being left unresolved again
            self.repeats.u.append(unresolved_u)
        self.env.call_later(t - self.env.now, self._repeat_arrives, j)

    def _repeat_arrives(self, event: Call) -> None:
        j = event.value
        now = self.env._now  # the clock's attribute (env.now is a property: a Python call)
        self.deadline[j] = now + (self.deadline[j] - self.arrival[j])
        self.arrival[j] = now  # the clock's own value, as for first calls
        self.router.arrive(j)

    def answer(self, i: int, agent: int, now: float) -> None:
        """Record that call ``i`` is answered by ``agent`` now."""
        self.answered_at[i] = now
        self.answered_by[i] = agent
        if self.answered is not None:
            self.answered.append(i)

    def closing(self) -> Generator[simpy.Event, None, None]:
        """SimPy process: each day's closing, then its cut-off (see the module docstring)."""
        env = self.env
        for close, cutoff in self.closings:
            yield env.timeout(max(0.0, close - env.now))
            if self.serve_after_close and self.logged_in:
                for agent in self.logged_in:
                    agent.overtime = True
                self.after_close = True
                yield env.timeout(max(0.0, cutoff - env.now))
                self.after_close = False
            self.close_queue(env.now)

    def logged_off(self, agent: OnShift, now: float) -> None:
        """``agent`` logged off; after closing, calls nobody is left to serve end as closed."""
        del self.logged_in[agent]
        if self.after_close and not self.logged_in:
            self.close_queue(now)

    def close_queue(self, now: float) -> None:
        """End every call still waiting now as closed (those past their deadline abandoned)."""
        closed_at = self.closed_at
        for i in self.router.close(now):
            closed_at[i] = now

    def release(self) -> None:
        """Drop the per-call lists once the run's tables are built (they hold copies)."""
        for name in ("arrival", "deadline", "talk", "acw", "answered_at", "answered_by",
                     "closed_at", *(("types",) if self.types is not None else ())):
            setattr(self, name, [])
        self.router.bind(self)  # so the router holds no reference to the old lists either

    def waiting(self, now: float) -> int:
        """Calls waiting now (for supervisors and dashboards)."""
        return self.router.waiting(now)
