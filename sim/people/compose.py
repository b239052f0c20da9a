"""Each agent's behaviour, built from the scenario in one place: policy, strain, observers.

``build_behaviours`` gives every agent one object the agent calls through the engine's
hooks (:mod:`sim.engine.behaviour`): the regime's per-agent policy, the agent's strain
and the watchers of any observers asked for before the run (:mod:`sim.people.observe`),
composed by :func:`compose`. Nothing is wrapped or patched after the build.

Cost: an agent with nothing to do keeps the shared ``NULL`` object (the engine calls no
hook), an agent with one part gets that part itself (no composite in between), and a
:class:`Composite` chooses once, at build, the parts each hook goes to, so a status change
or a call costs one extra Python call at most. An observer not asked for is not
built and costs nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sim.engine.behaviour import NULL, Behaviour
from sim.engine.schedule import roster
from sim.engine.streams import Streams, stable_key
from sim.people.observe import Observer, Recorder, observers
from sim.people.stress import Strain

if TYPE_CHECKING:
    from sim.engine.agent import Agent
    from sim.engine.presence import Presence
    from sim.scenario import Scenario


class PolicySource(Protocol):
    """What the composite needs of a regime: one policy behaviour per agent.

    (:class:`sim.regime.policy.Regime` is one; people do not import the regime, which acts
    on their strain.)
    """

    def behaviours(self, scenario: Scenario) -> Sequence[Behaviour]:
        """One policy behaviour per agent, in roster order."""
        ...


@dataclass
class People:
    """What ``build_behaviours`` made for one run."""

    behaviours: list[Behaviour]
    """One per agent, in agent order (``NULL`` where nothing changes the engine's way)."""
    strains: list[Strain] | None = None
    """The agents' strain, with ``stress.enabled`` (what the regime's actions strain)."""
    recorders: list[Recorder] = field(default_factory=list)
    """One per observer asked for: their records become ``RunResult.observed``."""


def make_strains(scenario: Scenario, streams: Streams) -> list[Strain]:
    """One strain per agent, each drawing from the streams of its seat (shift, index)."""
    attrition = scenario.stress.attrition
    seats = roster(scenario)
    # every seat's day stream hashed at once (a block per seat otherwise: Streams.prefetch)
    streams.prefetch("stress", [(stable_key(shift), j, 1) for _, shift, j in seats],
                     scenario.horizon.days)
    out = []
    for k, (_, shift, j) in enumerate(seats):
        key = stable_key(shift)
        out.append(Strain(scenario, k, streams.rng("stress", key, j, 0),
                          # the day's stream, drawn from at once: the cheap generator
                          functools.partial(streams.fast, "stress", key, j, 1),
                          streams.rng("stress", key, j, 2) if attrition else None,
                          functools.partial(streams.rng, "stress", key, j, 3)))
    return out


def build_behaviours(scenario: Scenario, streams: Streams, regime: PolicySource | None = None,
                     observe: Sequence[str | Observer] = ()) -> People:
    """Every agent's behaviour from the scenario's data, with the observers asked for.

    The regime's policy (when a regime is active), the strain (``stress.enabled``) and the
    observers' watchers are composed per agent; each is built only from the scenario and
    the run's random streams, so a run is the same on every executor. Observers draw no
    random numbers and change no state: a run observed is the run unobserved.
    """
    n = len(roster(scenario))
    policies: Sequence[Behaviour] = (regime.behaviours(scenario) if regime is not None
                                     else [NULL] * n)
    strains = make_strains(scenario, streams) if scenario.stress.enabled else None
    recorders = [o.start(scenario, strains) for o in observers(observe)]
    behaviours = []
    for k in range(n):
        watchers = [w for rec in recorders if (w := rec.watcher(k)) is not None]
        behaviours.append(compose(policies[k], strains[k] if strains is not None else None,
                                  watchers))
    return People(behaviours, strains, recorders)


def compose(policy: Behaviour = NULL, strain: Strain | None = None,
            watchers: Sequence[Behaviour] = ()) -> Behaviour:
    """One agent's behaviour: the part itself when there is one, else a :class:`Composite`."""
    parts = [p for p in (policy, strain) if p is not None and p is not NULL]
    if not watchers and len(parts) <= 1:
        return parts[0] if parts else NULL
    watching = sum(p.watches_status for p in (*parts, *watchers))
    # the common case, strain and policy, calls both without a loop
    return (_PairComposite if watching == 2 else Composite)(policy, strain, watchers)


class Composite(Behaviour):
    """An agent's policy, strain and observers' watchers behind the engine's hooks.

    Each hook goes only to the parts that ask for it (``watches_status``,
    ``adjusts_handling``, ``watches_days``), chosen once when the composite is built:

    - ``on_status``: the strain first (it sees the status the agent had), then the
      policy, then the watchers, which so see the change after every part has reacted;
    - ``handling``: the policy's response (e.g. to an AHT target), then strain's on top;
      the added chances of leaving the call unresolved add up;
    - ``defer_unplanned_break``: the policy's answer; a break put off strains
      (``Strain.defer_break``, the ``deferred_break_load``);
    - ``day_start``: the strain (absence, quits), the policy, the watchers; a new person
      in the seat starts with a clean record under the regime.
    """

    def __init__(self, policy: Behaviour = NULL, strain: Strain | None = None,
                 watchers: Sequence[Behaviour] = ()) -> None:
        self.policy, self.strain, self.watchers = policy, strain, tuple(watchers)
        parts = [p for p in (strain, policy) if p is not None and p is not NULL]
        #: the parts told of a status change, in order
        self.status_parts = tuple(p for p in (*parts, *self.watchers) if p.watches_status)
        self.watches_status = bool(self.status_parts)
        if self.status_parts:
            self._s0 = self.status_parts[0]
            self._s1 = self.status_parts[1] if len(self.status_parts) > 1 else None
        #: their hooks, bound: the agent calls them directly (no frame of the composite)
        self.status_hooks = tuple(p.on_status for p in self.status_parts)
        #: those called for a change between two on-queue statuses (``watches_queue``)
        self.queue_hooks = tuple(p.on_status for p in self.status_parts if p.watches_queue)
        self.watches_queue = bool(self.queue_hooks)
        adjust = [p for p in (policy, strain) if p is not None and p.adjusts_handling]
        self.adjusts_handling = bool(adjust)
        #: the parts shaping handling, in order, bound (the agent adds their extra chances)
        self.handling_hooks = tuple(p.handling for p in adjust)
        self._h0 = adjust[0] if adjust else NULL
        self._h1 = adjust[1] if len(adjust) > 1 else None
        self._days = tuple(p for p in (*parts, *self.watchers) if p.watches_days)
        self.watches_days = bool(self._days)

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """Each part that watches status, in order."""
        for part in self.status_parts:
            part.on_status(agent, old, new, now)

    def handling(self, agent: Agent, call: int, talk: float, acw: float
                 ) -> tuple[float, float, float]:
        """The policy's times, then the strain's on them; the extra chances add up."""
        talk, acw, extra = self._h0.handling(agent, call, talk, acw)
        second = self._h1
        if second is not None:
            talk, acw, more = second.handling(agent, call, talk, acw)
            extra += more
        return talk, acw, extra

    def defer_unplanned_break(self, agent: Agent, now: float) -> bool:
        """The policy's answer; putting the break off strains (``deferred_break_load``)."""
        deferred = self.policy.defer_unplanned_break(agent, now)
        if deferred and self.strain is not None:
            self.strain.defer_break(now)
        return deferred

    def day_start(self, agent: Agent, day: int, presence: Presence) -> None:
        """Each part that watches days, in order; the regime forgets a person who left."""
        strain = self.strain
        hire = strain.hire if strain is not None else 0
        for part in self._days:
            part.day_start(agent, day, presence)
            if part is strain and strain.hire != hire:
                forget_person(self.policy)


class _PairComposite(Composite):
    """A composite with exactly two parts watching status: both called without a loop."""

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """The first part, then the second (as :meth:`Composite.on_status`)."""
        self._s0.on_status(agent, old, new, now)
        self._s1.on_status(agent, old, new, now)


def forget_person(policy: Behaviour) -> None:
    """A new person in the seat: the regime's memory was of the one who left.

    A policy may say what it forgets (``new_person()``); otherwise its warnings, recent
    breaches and pending talks are cleared.
    """
    new_person = getattr(policy, "new_person", None)
    if callable(new_person):
        new_person()
        return
    for name in ("breaches", "pending"):
        getattr(policy, name, []).clear()
    if hasattr(policy, "warnings"):
        policy.warnings = 0  # type: ignore[attr-defined]


__all__ = ["Composite", "People", "build_behaviours", "compose", "forget_person",
           "make_strains"]
