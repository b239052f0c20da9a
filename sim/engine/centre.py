"""The ACD: one FIFO queue, longest-idle-agent routing, abandonment without events.

Abandonment is exact and costs no event: a waiting call's deadline (arrival + patience)
is known on arrival, so when an agent looks for work, calls at the head of the queue
whose deadline has passed are recorded as abandoned at their deadline and skipped. Only
calls that are still waiting can be answered, as if each had hung up on time.

Closing is explicit (``scenario.closing``): the queue takes no call after closing time.
Under ``serve`` the agents logged in at closing stay on until the queue is empty; calls
that nobody is left to serve, or that still wait when the overtime limit runs out, end
as ``closed``. Under ``close`` every call still waiting at closing ends as ``closed``.
Either way nothing waits past the day's cut-off, which is never after midnight.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING

import simpy

if TYPE_CHECKING:
    from sim.engine.agent import Agent
    from sim.engine.demand import CallSet
    from sim.engine.repeats import Repeats


class Centre:
    """Routes one run's calls (all days, sorted by arrival) to agents."""

    def __init__(self, env: simpy.Environment, calls: CallSet,
                 closings: list[tuple[float, float]] | None = None,
                 serve_after_close: bool = True) -> None:
        """``closings``: per day (closing time, cut-off); ``serve_after_close``: the rule."""
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
        self.queue: deque[int] = deque()
        self.ready: deque[Agent] = deque()  # idle agents, longest idle on the left
        self.acw_callout = False
        #: agents in ACW who may be called out (only with acw_callout), longest in ACW first
        self.in_acw: dict[Agent, None] = {}
        self.answered_at = [math.nan] * n
        self.answered_by = [-1] * n
        #: when a call still waiting was ended by closing (NaN: it was not)
        self.closed_at = [math.nan] * n
        #: agents logged in now (insertion-ordered)
        self.logged_in: dict[Agent, None] = {}
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

    def arrivals(self) -> Generator[simpy.Event, None, None]:
        """SimPy process: each call arrives, goes to the longest-idle agent or queues."""
        env, timeout, ready, queue = self.env, self.env.timeout, self.ready, self.queue
        in_acw = self.in_acw
        arrival = self.arrival
        for i in range(self.n_first):
            t = arrival[i]
            yield timeout(t - env.now)
            arrival[i] = env.now  # the clock's own value, so waits are exactly >= 0
            self.deadline[i] = env.now + (self.deadline[i] - t)
            if ready:
                ready.popleft().offer(i)
            elif in_acw:  # only ever filled when ACW call-out is allowed
                agent = next(iter(in_acw))
                del in_acw[agent]
                agent.call_out(i)
            else:
                queue.append(i)

    def call_ended(self, i: int, now: float, extra: float) -> None:
        """The talk of call ``i`` is over: if left unresolved, its caller will call again."""
        rep = self.repeats
        if rep is None or not rep.unresolved(i, extra):
            return
        nxt = rep.repeat_of(i, now)
        if nxt is None:
            return
        t, talk, acw, patience = nxt
        j = len(self.arrival)
        self.arrival.append(t)
        self.deadline.append(t + patience)
        self.talk.append(talk)
        self.acw.append(acw)
        self.answered_at.append(math.nan)
        self.answered_by.append(-1)
        self.closed_at.append(math.nan)
        self.repeat_of[j] = i
        self.env.timeout(t - now, j).callbacks.append(self._repeat_arrives)

    def _repeat_arrives(self, event: simpy.Event) -> None:
        j = event.value
        now = self.env.now
        self.deadline[j] = now + (self.deadline[j] - self.arrival[j])
        self.arrival[j] = now  # the clock's own value, as for first calls
        if self.ready:
            self.ready.popleft().offer(j)
        elif self.in_acw:
            agent = next(iter(self.in_acw))
            del self.in_acw[agent]
            agent.call_out(j)
        else:
            self.queue.append(j)

    def next_call(self, now: float) -> int | None:
        """The first still-waiting call, skipping (= abandoning) those past their deadline."""
        queue, deadline = self.queue, self.deadline
        while queue:
            i = queue.popleft()
            if deadline[i] > now:
                return i
        return None

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

    def logged_off(self, agent: Agent, now: float) -> None:
        """``agent`` logged off; after closing, calls nobody is left to serve end as closed."""
        del self.logged_in[agent]
        if self.after_close and not self.logged_in:
            self.close_queue(now)

    def close_queue(self, now: float) -> None:
        """End every call still waiting now as closed (those past their deadline abandoned)."""
        queue, deadline, closed_at = self.queue, self.deadline, self.closed_at
        while queue:
            i = queue.popleft()
            if deadline[i] > now:
                closed_at[i] = now

    def release(self) -> None:
        """Drop the per-call lists once the run's tables are built (they hold copies)."""
        for name in ("arrival", "deadline", "talk", "acw", "answered_at", "answered_by",
                     "closed_at"):
            setattr(self, name, [])

    def waiting(self, now: float) -> int:
        """Calls waiting now (for supervisors and dashboards; O(queue length))."""
        deadline = self.deadline
        return sum(1 for i in self.queue if deadline[i] > now)
