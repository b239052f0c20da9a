"""The router: the one place that decides which call an agent takes and which agent a call gets.

The centre hands every arriving call (first or repeat) to :meth:`Router.arrive`; an agent
looking for work asks :meth:`Router.next_call`; an agent with nothing to do waits with the
router (:meth:`Router.idle`) until the router gives it a call (``agent.offer(i)``) or the
agent leaves (:meth:`Router.leave_idle`: a planned activity, a break, the shift end); an
agent in After Call Work that the ACD may cut short registers with :meth:`Router.acw_open`
and the router may give it a call (``agent.call_out(i)``); at closing the router's queues
are emptied (:meth:`Router.close`). Agents never see a queue.

A policy sees a call as its index into the centre's per-call lists and an agent as the
small :class:`Routable` protocol (its ``index`` and the two ways of handing it a call), so a
policy with several queues, call types and skills looks those up by index (tables bound
with the run) and plugs in without touching :mod:`sim.engine.agent`.

Abandonment is the router's too and is exact without an event: a waiting call's deadline
(arrival + patience) is known on arrival, so when an agent looks for work the calls past
their deadline are skipped, which the tables record as abandoned at their deadline.

:class:`FifoLongestIdle` is the first policy: one FIFO queue, longest-idle agent first, the
fast path of every scenario without call types. Several call types and agent groups with
skills are :class:`sim.engine.routing_skills.SkillRouter`, its policies set by ``[routing]``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Protocol

from sim.engine.routing_skills import Typing, skill_router

if TYPE_CHECKING:
    from sim.scenario import Scenario


class Routable(Protocol):
    """What a router may know of an agent and do with it."""

    #: the agent's number (row of the roster): a policy looks skills and groups up by it
    index: int

    def offer(self, item: int) -> None:
        """Give this agent, waiting idle with the router, call ``item``."""

    def call_out(self, item: int) -> None:
        """Give this agent, in After Call Work opened to the router, call ``item``."""


class CallRecords(Protocol):
    """What a router reads of the centre's per-call lists (indexed by call, repeats appended)."""

    #: when each call's caller hangs up if still waiting (arrival + patience)
    deadline: list[float]


class Router(Protocol):
    """A routing policy: pairs waiting calls with agents (see the module docstring)."""

    #: may a call take an agent in After Call Work when nobody is idle?
    acw_callout: bool

    def bind(self, calls: CallRecords) -> None:
        """Read the run's per-call records from ``calls`` (again when the centre drops them)."""

    def arrive(self, i: int) -> None:
        """Call ``i`` arrives now: give it to an agent, or let it wait."""

    def next_call(self, agent: Routable, now: float) -> int | None:
        """The call ``agent`` takes now (taken off its queue), or None; skips abandoned calls."""

    def idle(self, agent: Routable) -> None:
        """``agent`` waits for a call; the router will ``agent.offer`` it one."""

    def leave_idle(self, agent: Routable) -> None:
        """``agent``, waiting idle now (not offered a call since), leaves: other work, shift end."""

    def acw_open(self, agent: Routable) -> None:
        """``agent`` is in After Call Work that a call may cut short (``agent.call_out``).

        Asked only when ``acw_callout`` is set.
        """

    def acw_close(self, agent: Routable) -> None:
        """``agent``, whose ACW is open (not called out since), may no longer be called out."""

    def close(self, now: float) -> list[int]:
        """Empty the queues at closing: the calls still waiting now (abandoned ones dropped)."""

    def waiting(self, now: float) -> int:
        """Calls waiting now, not yet past their deadline."""


class FifoLongestIdle:
    """One FIFO queue, longest idle agent first: the first routing policy.

    A call goes to the agent idle longest, else (with ACW call-out) to the agent longest in
    open ACW, else waits; an agent takes the call that has waited longest.
    """

    def __init__(self, acw_callout: bool = False) -> None:
        """``acw_callout``: a call may take an agent in ACW when nobody is idle."""
        self._acw_callout = acw_callout
        self.queue: deque[int] = deque()
        #: idle agents, longest idle on the left
        self.ready: deque[Routable] = deque()
        #: agents in open ACW, longest in ACW first (insertion order)
        self.in_acw: dict[Routable, None] = {}
        self.deadline: list[float] = []
        # An agent registers and leaves at nearly every call: these are the containers' own
        # (C) methods, so the seam costs no Python frame on the hottest path. The agent's
        # side of the contract (leave only when waiting, close only an open ACW) lets them
        # be the strict ones (deque.remove, dict.pop without a default).
        self.idle = self.ready.append
        self.leave_idle = self.ready.remove
        if acw_callout:
            self.acw_open = self.in_acw.setdefault  # inserts the agent -> None, in order
            self.acw_close = self.in_acw.pop
        else:  # never asked by an agent; a no-op keeps the rule for any other caller
            self.acw_open = self.acw_close = _ignore

    @property
    def acw_callout(self) -> bool:
        """Whether a call may take an agent in ACW when nobody is idle (fixed when built)."""
        return self._acw_callout

    def bind(self, calls: CallRecords) -> None:
        """Read deadlines from ``calls`` (the same list object, so repeat calls are seen)."""
        self.deadline = calls.deadline

    def arrive(self, i: int) -> None:
        """Call ``i`` goes to the longest-idle agent, else one in open ACW, else waits."""
        ready = self.ready
        if ready:
            ready.popleft().offer(i)
        elif self.in_acw:  # only ever filled when ACW call-out is allowed
            in_acw = self.in_acw
            agent = next(iter(in_acw))
            del in_acw[agent]
            agent.call_out(i)
        else:
            self.queue.append(i)

    def next_call(self, agent: Routable, now: float) -> int | None:
        """The first still-waiting call, skipping (= abandoning) those past their deadline."""
        queue, deadline = self.queue, self.deadline
        while queue:
            i = queue.popleft()
            if deadline[i] > now:
                return i
        return None

    def close(self, now: float) -> list[int]:
        """Empty the queue: the calls still waiting now, in order (abandoned ones dropped)."""
        deadline = self.deadline
        out = [i for i in self.queue if deadline[i] > now]
        self.queue.clear()
        return out

    def waiting(self, now: float) -> int:
        """Calls waiting now (for supervisors and dashboards; O(queue length))."""
        deadline = self.deadline
        return sum(1 for i in self.queue if deadline[i] > now)


def _ignore(agent: Routable) -> None:
    """Do nothing (ACW call-out is not allowed)."""


def build_router(scenario: Scenario, typing: Typing | None = None) -> Router:
    """The scenario's routing policy: one FIFO queue, longest idle first, without call types.

    With ``[call_types]`` the skill-based router (:mod:`sim.engine.routing_skills`);
    ``typing`` (the run's call types) gives it its own random generator.
    """
    if scenario.call_types:
        return skill_router(scenario, typing)
    return FifoLongestIdle(acw_callout=scenario.calls.acw_callout)
