"""One agent under the regime: its record with the supervisor and its documented responses.

:class:`AgentPolicy` is the agent's behaviour object (the hooks of
:class:`sim.engine.behaviour.Behaviour`). It remembers what the supervisor knows of the
agent (its breaches still counting, in the rule engine's :class:`BreachRecord`, and its
warnings), starts the conversations the supervisor has waiting when the agent logs in, and
responds as the evidence says agents do (``[responses]``, STRESS-EVIDENCE §6): policed
individually it puts needed unplanned breaks off with a chance that rises with its warnings
and recent breaches; under an individual AHT target it shortens calls and leaves more of
them unresolved. With real-time alerts its tracker sees each status change first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.behaviour import Behaviour
from sim.engine.status import ON_QUEUE, Status
from sim.regime.realtime import QUEUE
from sim.regime.rules import BreachRecord, Rules
from sim.scenario import Responses

if TYPE_CHECKING:
    from sim.engine.agent import Agent
    from sim.regime.realtime import Tracker

#: ``act(agent, day, time_s, actor, action, reason, detail)``: log one action
Act = Callable[[int, int, float, str, str, str, str], None]

_LOGGED_OUT = int(Status.LOGGED_OUT)  # a plain int: compared at every status change
#: the on-queue statuses as plain ints (``sim.regime.realtime.Tracker.on_status``'s test)
_QUEUE = frozenset(int(s) for s in ON_QUEUE)


class AgentPolicy(Behaviour):
    """One agent under the regime: remembers its warnings and breaches, defers breaks."""

    watches_status = True  # to start pending conversations when it logs in

    def __init__(self, k: int, rng: np.random.Generator, rules: Rules, responses: Responses,
                 act: Act, *, policed: bool, aht_target: bool) -> None:
        self.adjusts_handling = aht_target
        self.k = k
        self.rng = rng
        self.rules = rules
        self.responses = responses
        self.act = act
        self.policed = policed
        self.warnings = 0
        self.breaches = BreachRecord()  # the breaches still counting toward a talk
        self.pending: list[tuple[int, float, str]] = []  # (status, seconds, reason)
        self.tracker: Tracker | None = None  # real-time adherence, when alerts are on

    def new_person(self) -> None:
        """A new person in the seat: the record was of the one who left."""
        self.breaches.clear()
        self.pending.clear()
        self.warnings = 0

    def recent_breaches(self, now: float) -> int:
        """Breaches within the warning window before ``now``."""
        return self.rules.recent(self.breaches, now)

    def defer_unplanned_break(self, agent: Agent, now: float) -> bool:
        """Under individual policing, put the break off with the logistic chance."""
        if not self.policed:
            return False
        r = self.responses
        z = (r.defer_break_logit + r.defer_break_per_warning * self.warnings
             + r.defer_break_per_breach * self.recent_breaches(now))
        if self.rng.random() < 1 / (1 + math.exp(-z)):
            self.act(self.k, agent.day, now, "agent", "defer_break", "policed", "")
            return True
        return False

    def handling(self, agent: Agent, call: int, talk: float, acw: float
                 ) -> tuple[float, float, float]:
        """Under an individual AHT target: shorter talk and wrap-up, more left unresolved.

        Now and then a call is released early (a tenth of its talk; its caller calls again).
        """
        r = self.responses
        if self.rng.random() < r.release_probability:
            agent.centre.released.add(call)
            return r.release_talk_share * talk, 0.0, 1.0
        return talk * r.aht_talk_factor, acw * r.aht_acw_factor, r.aht_extra_repeat

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """At log-in, the conversations the supervisor has waiting for this agent.

        With real-time alerts, the agent's tracker sees the change first.
        """
        tracker = self.tracker
        # the tracker's own first test, inline: Ready, Talk and ACW during a queue spell
        # change nothing it measures (most changes of a run)
        if tracker is not None and not (new in _QUEUE and tracker.spell[1] == QUEUE):
            tracker.on_status(agent, old, new, now)
        if old == _LOGGED_OUT and self.pending:
            for status, seconds, reason in self.pending:
                self.impose(agent, status, seconds, reason)
            self.pending.clear()

    def impose(self, agent: Agent, status: int, seconds: float, reason: str) -> bool:
        """Take the agent off queue now (after its call), told to the tracker if any."""
        ok = agent.impose(status, seconds, reason)
        if ok and self.tracker is not None:
            self.tracker.imposed_asked(agent.due[-1])
        return ok

    def give(self, agent: Agent, status: int, seconds: float, reason: str) -> None:
        """A talk now if the agent is on shift, else at its next log-in."""
        if not self.impose(agent, status, seconds, reason):
            self.pending.append((status, seconds, reason))

    def give_later(self, status: int, seconds: float, reason: str) -> None:
        """A talk at the agent's next log-in (after a review held when it is logged out)."""
        self.pending.append((status, seconds, reason))
