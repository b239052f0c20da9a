"""One agent under the regime: its record with the supervisor and its documented responses.

:class:`AgentPolicy` is the agent's behaviour object (the hooks of
:class:`sim.engine.behaviour.Behaviour`). It remembers what the supervisor knows of the
agent (its breaches still counting, in the rule engine's :class:`BreachRecord`, and its
warnings), starts the conversations the supervisor has waiting when the agent logs in, and
responds as the evidence says agents do (``[responses]``, docs/evidence.md §3 and §7 fact
8): policed individually it puts a needed unplanned break off with a chance that rises with
its warnings and breaches within the warning window, decided once per need; a need put off
is held until a planned break or lunch meets it or until ``defer_break_limit_min`` after it
arose, when it is taken anyway (action ``break_limit``) and shows as out-of-adherence time
like any unplanned break. Under an individual AHT target it shortens calls and leaves more
of them unresolved. With real-time alerts its tracker sees each status change first. What
the supervisor did while the agent was logged out is felt at its next log-in (``hear``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.behaviour import Behaviour
from sim.engine.status import ON_QUEUE, Status
from sim.engine.streams import Uniforms
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
    #: a change between on-queue statuses does nothing here (see ``on_status``: the
    #: tracker's spell is then a queue spell, and the agent was not logged out)
    watches_queue = False

    def __init__(self, k: int, rng: np.random.Generator, rules: Rules, responses: Responses,
                 act: Act, *, policed: bool, aht_target: bool) -> None:
        self.adjusts_handling = aht_target
        self.k = k
        self.rng = rng
        #: its uniforms (all that is drawn from ``rng``), a block at a time: the same numbers
        self.uniforms = Uniforms(rng)
        self.rules = rules
        self.responses = responses
        self.act = act
        self.policed = policed
        self.warnings = 0  # warnings had (all; the deferral counts those in the window)
        self.warned: deque[float] = deque()  # when they were given
        self.breaches = BreachRecord()  # the breaches still counting toward a talk
        self.pending: list[tuple[int, float, str]] = []  # (status, seconds, reason)
        self.tracker: Tracker | None = None  # real-time adherence, when alerts are on
        #: the need last decided on and the answer (one decision per need)
        self._need: tuple[float, float] | None = None
        self._defer = False
        self.limit_s = responses.defer_break_limit_min * 60
        #: ``hear(agent, now)``: what the supervisor did while it was logged out, felt now;
        #: ``forget(agent)``: a new person in the seat never hears it (set by the supervisor)
        self.hear: Callable[[int, float], None] | None = None
        self.forget: Callable[[int], None] | None = None

    def new_person(self) -> None:
        """A new person in the seat: the record was of the one who left."""
        self.breaches.clear()
        self.pending.clear()
        self.warnings = 0
        self.warned.clear()
        self._need, self._defer = None, False
        if self.forget is not None:
            self.forget(self.k)

    def warned_at(self, now: float) -> None:
        """A warning given at ``now``."""
        self.warnings += 1
        self.warned.append(now)

    def recent_breaches(self, now: float) -> int:
        """Breaches within the warning window before ``now``."""
        return self.rules.recent(self.breaches, now)

    def recent_warnings(self, now: float) -> int:
        """Warnings within the warning window ``(now - window, now]`` (older ones forgotten).

        A warning weighs on the agent while it counts on its record, like the breaches
        behind the next one: the same window, not for ever.
        """
        warned, edge = self.warned, now - self.rules.window_s
        while warned and warned[0] <= edge:
            warned.popleft()
        return len(warned)

    def defer_unplanned_break(self, agent: Agent, now: float) -> bool:
        """Under individual policing, put a need off with the logistic chance, once per need.

        The first time a need is asked about, one draw decides. A need put off is held
        (the same answer whenever the agent asks again) until ``defer_break_limit_min``
        after it arose: then it is taken anyway (action ``break_limit``) and, being an
        unplanned break, counts out of adherence like any other. The agent is woken at
        that moment if it is waiting for a call.
        """
        if not self.policed:
            return False
        need = agent.need
        if need is None:
            return False
        if need is self._need:  # decided already
            if not self._defer:
                return False
            deadline = need[0] + self.limit_s
            if now < deadline - 1e-6:
                return True
            self._defer = False
            self.act(self.k, agent.day, now, "agent", "break_limit", "limit",
                     f"need put off {(now - need[0]) / 60:.1f} min; taken anyway")
            return False
        r = self.responses
        z = (r.defer_break_logit + r.defer_break_per_warning * self.recent_warnings(now)
             + r.defer_break_per_breach * self.recent_breaches(now))
        self._need = need
        self._defer = bool(self.uniforms.random() < 1 / (1 + math.exp(-z)))
        if self._defer:
            self.act(self.k, agent.day, now, "agent", "defer_break", "policed", "")
            agent.recall_need(need[0] + self.limit_s)
        return self._defer

    def handling(self, agent: Agent, call: int, talk: float, acw: float
                 ) -> tuple[float, float, float]:
        """Under an individual AHT target: shorter talk and wrap-up, more left unresolved.

        Now and then a call is released early (a tenth of its talk; its caller calls again).
        """
        r = self.responses
        uni = self.uniforms  # self.rng.random(), from the block (Uniforms.random inline)
        u = next(uni.it, None)
        if u is None:
            u = uni.refill()
        if u < r.release_probability:
            agent.centre.released.add(call)
            return r.release_talk_share * talk, 0.0, 1.0
        return talk * r.aht_talk_factor, acw * r.aht_acw_factor, r.aht_extra_repeat

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """At log-in, what the supervisor did meanwhile: felt now, its talks started.

        With real-time alerts, the agent's tracker sees the change first.
        """
        tracker = self.tracker
        # the tracker's own first test, inline: Ready, Talk and ACW during a queue spell
        # change nothing it measures (most changes of a run)
        if tracker is not None and not (new in _QUEUE and tracker.spell[1] == QUEUE):
            tracker.on_status(agent, old, new, now)
        if old == _LOGGED_OUT:
            if self.hear is not None:
                self.hear(self.k, now)  # what the supervisor did overnight, felt now
            if self.pending:
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
