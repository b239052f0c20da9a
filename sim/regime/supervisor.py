"""The team leaders: what they see of each agent, and the chases, warnings and coaching talks.

What a leader sees depends on the measurement level:

===========  ==================================================================
level        what the team leader sees of an agent's day
===========  ==================================================================
individual   every agent's exceptions
voluntary    an agent's exceptions only on days the agent shares them
             (``measurement.share_probability``; the 2016 agreement)
team         team aggregates only: no individual action is possible
===========  ==================================================================

Each breach seen counts toward a talk by the rule engine (:mod:`sim.regime.rules`), the
same for the end-of-day review (:meth:`Supervisor.review`, on the day's exceptions table
computed with exactly the function the end-of-run measure uses) and for real-time alerts
(:meth:`Supervisor.on_alert`). With punitive feedback each breach is chased and the count
makes a warning; with developmental feedback nothing is chased and the count makes a
coaching talk. Conversations are imposed activities: at once in real time, at the agent's
next log-in after a review. Every action is a row of the :class:`ActionLog` with its reason,
at the moment the supervisor acts; the agent's strain feels it when the agent hears it: at
once when it is logged in (a real-time chase, minutes after the breach), else at its next
log-in (a review's chases, warnings and scores, read when it is back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine.schedule import splice
from sim.engine.status import Status, StatusLog
from sim.engine.streams import Streams
from sim.measure import tables
from sim.measure.adherence import AdherenceData
from sim.regime.responses import AgentPolicy
from sim.regime.rules import Rules
from sim.scenario import Scenario

if TYPE_CHECKING:
    import simpy

    from sim.engine.agent import Agent
    from sim.engine.centre import Centre
    from sim.engine.presence import Presence
    from sim.engine.schedule import Plan

_LOGGED_OUT = int(Status.LOGGED_OUT)

#: action log columns
ACTION_COLUMNS = ("agent", "team", "day", "time_s", "actor", "action", "reason", "detail")


@dataclass(frozen=True)
class Floor:
    """What the regime watches of a run: the clock, the plan, the agents and their logs."""

    env: simpy.Environment
    plan: Plan
    log: StatusLog
    agents: list[Agent]
    presence: Presence
    centre: Centre


class ActionLog:
    """Every action of the regime, one row each; an agent's strain feels the supervisor's."""

    def __init__(self, teams: list[int], punitive: bool) -> None:
        self.rows: list[tuple] = []
        self.strains: list | None = None  # the agents' strain, when stress is on
        self._teams = teams
        self._punitive = punitive
        #: per agent, the actions done while it was logged out, not yet felt
        self.unheard: dict[int, list[str]] = {}

    def act(self, agent: int, day: int, time_s: float, actor: str, action: str, reason: str,
            detail: str) -> None:
        """Log one action with its reason; the agent's strain feels it when it hears it.

        At once when the agent is logged in; else at its next log-in (:meth:`hear`).
        """
        self.rows.append((agent, self._teams[agent], day, time_s, actor, action, reason,
                          detail))
        if self.strains is not None and actor == "supervisor":
            strain = self.strains[agent]
            if strain.status == _LOGGED_OUT:
                self.unheard.setdefault(agent, []).append(action)
            else:
                strain.on_action(action, self._punitive, time_s)

    def hear(self, agent: int, now: float) -> None:
        """The agent has logged in: what was done while it was out is felt now."""
        actions = self.unheard.pop(agent, None)
        if actions and self.strains is not None:
            strain = self.strains[agent]
            for action in actions:
                strain.on_action(action, self._punitive, now)

    def forget(self, agent: int) -> None:
        """A new person in the seat: the one who left never hears what was waiting."""
        self.unheard.pop(agent, None)

    def act_on_team(self, team: int, day: int, time_s: float, action: str, reason: str,
                    detail: str) -> None:
        """Log an action about a whole team (agent -1): nobody's strain feels it."""
        self.rows.append((-1, team, day, time_s, "supervisor", action, reason, detail))

    def table(self) -> pd.DataFrame:
        """The action log as a table (one row per chase, warning, talk or deferral)."""
        return action_frame(self.rows)


def action_frame(rows: list[tuple] | None = None) -> pd.DataFrame:
    """The action table's columns and types (no rows when ``rows`` is None)."""
    out = pd.DataFrame(rows or [], columns=list(ACTION_COLUMNS))
    return out.astype({"agent": np.int64, "team": np.int64, "day": np.int64,
                       "time_s": float, "actor": str, "action": str, "reason": str,
                       "detail": str})


class Supervisor:
    """The team leaders of the run: what they see and what they do about breaches."""

    def __init__(self, scenario: Scenario, streams: Streams, rules: Rules,
                 log: ActionLog) -> None:
        self.level = scenario.measurement.level
        self.share_probability = scenario.measurement.share_probability
        self.punitive = scenario.monitoring.feedback == "punitive"
        self.config = scenario.supervisor
        self.rules = rules
        self.log = log
        self.streams = streams
        self._policies: list[AgentPolicy] = []

    @property
    def policies(self) -> list[AgentPolicy]:
        """Each agent's policy; each hears the action log's unheard actions at log-in."""
        return self._policies

    @policies.setter
    def policies(self, value: list[AgentPolicy]) -> None:
        for pol in value:
            pol.hear, pol.forget = self.log.hear, self.log.forget
        self._policies = value

    def visible(self, agent: int, day: int) -> bool:
        """Whether the team leader sees this agent's numbers for that day."""
        if self.level == "individual":
            return True
        if self.level == "voluntary":
            p = self.share_probability
            return bool(self.streams.rng("supervisor", agent, day).random() < p)
        return False  # team: aggregates only

    def review(self, exc: pd.DataFrame, day: int, now: float) -> None:
        """After the day: chase each breach seen; a talk when an agent's count is reached.

        At most one talk per agent comes of one review.
        """
        if len(exc) == 0:
            return
        b = exc["breach"].to_numpy(bool)
        if not b.any():
            return
        agents = exc["agent"].to_numpy()[b]
        order = np.argsort(agents, kind="stable")  # by agent, in table order within one
        agents = agents[order].tolist()
        starts = exc["start_s"].to_numpy(float)[b][order].tolist()
        counted = exc["counted_s"].to_numpy(float)[b][order].tolist()
        reasons = exc["reason"].astype(str).to_numpy()[b][order].tolist()
        act, chase_s = self.log.act, self.config.chase_minutes * 60
        lo = 0
        while lo < len(agents):
            agent = int(agents[lo])
            hi = lo
            while hi < len(agents) and agents[hi] == agent:
                hi += 1
            first, lo = lo, hi
            if not self.visible(agent, day):
                continue
            pol = self.policies[agent]
            for j in range(first, hi):
                pol.breaches.add(starts[j], reasons[j])
                if self.punitive:
                    act(agent, day, now, "supervisor", "chase", reasons[j],
                        f"{counted[j]:.0f} s out of adherence")
                    if chase_s > 0:
                        pol.give_later(Status.NOT_READY_MANAGER_APPROVED, chase_s, "chase")
            self.count(agent, day, now, pol.give_later)

    def on_alert(self, agent: Agent, day: int, now: float, reason: str,
                 counted: float) -> None:
        """A breach seen in real time: chased now (punitive), counted toward a talk.

        The chase (and a talk, when the count is reached) takes the agent off queue at
        once, after its call and wrap-up, or at its next log-in when it is logged out.
        """
        k = agent.index
        pol = self.policies[k]
        pol.breaches.add(now, reason)
        if self.punitive:
            self.log.act(k, day, now, "supervisor", "chase", reason,
                         f"{counted:.0f} s counted at the {self.rules.threshold_s:.0f} s "
                         "threshold (real time)")
            if self.config.chase_minutes > 0:
                pol.give(agent, Status.NOT_READY_MANAGER_APPROVED,
                         self.config.chase_minutes * 60, "chase")
        self.count(k, day, now, lambda st, sec, why: pol.give(agent, st, sec, why))

    def count(self, agent: int, day: int, now: float,
              give: Callable[[int, float, str], None]) -> None:
        """A warning (punitive) or coaching talk when the rule engine says one is due.

        Labelled by the breaches behind it; ``give(status, seconds, reason)`` schedules it.
        """
        pol = self.policies[agent]
        talk = self.rules.talk(pol.breaches, now)
        if talk is None:
            return
        seconds = self.config.warning_minutes * 60
        if self.punitive:
            pol.warned_at(now)
            self.log.act(agent, day, now, "supervisor", "warning", talk.why, talk.detail)
            give(Status.NOT_READY_MANAGER_APPROVED, seconds, "warning")
        else:
            self.log.act(agent, day, now, "supervisor", "coaching", talk.why, talk.detail)
            give(Status.NOT_READY_TRAINING, seconds, "coaching")


def day_data(floor: Floor, segs: pd.DataFrame, day: int, start: int,
             scenario: Scenario) -> AdherenceData:
    """What the review of ``day`` measures: the day's schedule, logs and the rules.

    ``segs``: the run's schedule segments; ``start``: the status log's first row of the
    day. Absent agent-days are left out, and the talks imposed that day entered.
    """
    statuses = _day_statuses(floor.log, start, day)
    imposed = tables.imposed_table(floor.agents, day=day)
    seg_day = segs["day"].to_numpy()
    mine = splice(segs[(seg_day == day)
                       & floor.presence.present[segs["agent"].to_numpy(), seg_day]],
                  imposed[imposed["day"].to_numpy() == day])
    return AdherenceData(
        segments=mine, statuses=statuses,
        activities=tables.activities_table(floor.agents, floor.plan, floor.presence, day=day),
        breaks=tables.breaks_table(floor.agents, day=day),
        schedule=scenario.adherence_schedule, rules=scenario.adherence_rules,
        n_agents=len(floor.agents), days=scenario.horizon.days)


def _day_statuses(log: StatusLog, start: int, day: int) -> pd.DataFrame:
    """Status spells of the log's rows ``start:``, one day's (each session ends in them)."""
    agent, t, code = tables.log_arrays(log, start)
    return tables.spells(agent, t, code, np.full(len(agent), day, dtype=np.int64))
