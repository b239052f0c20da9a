"""Agents' behaviour objects: where policy and stress layers change what an agent does.

``simulate`` gives every agent a behaviour built from the scenario
(:func:`sim.people.compose.build_behaviours`: the regime's policy, the strain and any
observers, composed), so a response to measurement is scenario data and runs the same on
every executor. The
default, ``NULL``, changes nothing and costs nothing: the agent calls no hook on a status
change unless its behaviour asks for it (``watches_status``), and the run starts no
day-start process unless some behaviour asks for one (``watches_days``).

A hook sees the agent as :class:`AgentView`, the part of :class:`sim.engine.agent.Agent`
every hook may read, so this interface does not depend on the agent's module (which
depends on it); a layer that reads more of the agent types it as that class itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import simpy

    from sim.engine.presence import Presence


class AgentView(Protocol):
    """What a hook may read of the agent it is called for, and the one thing it may ask."""

    #: the agent's number (row of the roster)
    index: int
    #: the day of its current or last session
    day: int
    #: its current status (an IWS code of :class:`sim.engine.status.Status`)
    status: int
    #: the run's SimPy environment (``env.now`` is the time)
    env: simpy.Environment

    def impose(self, status: int, length_s: float, reason: str) -> bool:
        """Take the agent off queue for ``length_s`` in ``status`` (after its call)."""


class Behaviour:
    """What one agent does where the schedule leaves it a choice. The base class is null."""

    #: call ``on_status`` at every status change (the status funnel)
    watches_status: bool = False
    #: with ``watches_status``, call it for a change between two on-queue statuses (Ready,
    #: Talk, After Call Work: most changes of a run) too; False only for a part whose
    #: ``on_status`` does nothing then (the agent skips the call)
    watches_queue: bool = True
    #: call ``handling`` for every call answered (talk and wrap-up as worked)
    adjusts_handling: bool = False
    #: call ``day_start`` at the start of every day, before anyone logs in
    watches_days: bool = False

    def defer_unplanned_break(self, agent: AgentView, now: float) -> bool:
        """True puts off a pending unplanned break (reconsidered at the next call end)."""
        return False

    def handling(self, agent: AgentView, call: int, talk: float, acw: float
                 ) -> tuple[float, float, float]:
        """(talk, ACW) as this agent works the call, and the added chance it is unresolved."""
        return talk, acw, 0.0

    def on_status(self, agent: AgentView, old: int, new: int, now: float) -> None:
        """A status change of ``agent`` (IWS status codes of :class:`sim.engine.status.Status`)."""

    def day_start(self, agent: AgentView, day: int, presence: Presence) -> None:
        """Day ``day`` begins: e.g. mark the agent absent (``presence.mark_absent``)."""


#: the shared null behaviour (it holds no state)
NULL = Behaviour()

