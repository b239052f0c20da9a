"""The measurement regime of a run: a small facade over the regime's parts, and the day's review.

Built by ``sim.model.build`` only when the scenario's measurement level is not "none", so
a scenario without a regime costs nothing. :class:`Regime` composes the parts, each in its
own module: the rule engine (:mod:`sim.regime.rules`), the team leaders and their action
log (:mod:`sim.regime.supervisor`), each agent's record and responses
(:mod:`sim.regime.responses`), recording and scored calls (:mod:`sim.regime.monitoring`),
daily adherence and the adherence target (:mod:`sim.regime.targets`), league tables
(:mod:`sim.regime.league`) and the real-time screen (:mod:`sim.regime.realtime`). It is
given what it watches of the run as a :class:`~sim.regime.supervisor.Floor` when the run
starts, and runs one SimPy process: after each day, the day's exceptions (with exactly the
function the end-of-run measure uses) go to the supervisor's review (unless real-time
alerts acted on each breach already), the targets and the league tables, and the day's
calls are scored.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine.schedule import closings, roster, segments
from sim.engine.streams import Streams, stable_key
from sim.measure.exceptions import exceptions
from sim.regime.league import League, league_frame
from sim.regime.monitoring import Monitoring, evaluations_frame
from sim.regime.realtime import Screen, alerts_frame
from sim.regime.responses import AgentPolicy
from sim.regime.rules import Rules
from sim.regime.supervisor import ActionLog, Floor, Supervisor, action_frame, day_data
from sim.regime.targets import Targets
from sim.scenario import DAY_S, Scenario

if TYPE_CHECKING:
    import simpy

__all__ = ["Floor", "Regime", "team_of"]


def team_of(scenario: Scenario) -> np.ndarray:
    """Team index per agent: ``teams.size`` agents per team in roster order within a shift.

    Every agent is in team 0 when there are no teams.
    """
    size = scenario.teams.size
    out, next_team, current = [], 0, None
    for _, shift, j in roster(scenario):
        if size == 0:
            out.append(0)
            continue
        if shift != current:
            current = shift
            base = next_team
        team = base + j // size
        next_team = max(next_team, team + 1)
        out.append(team)
    return np.asarray(out, dtype=np.int64)


class Regime:
    """The run's measurement regime: its parts, and the supervisor's process."""

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.scenario = scenario
        m, mon, t = scenario.measurement, scenario.monitoring, scenario.targets
        self.rules = Rules.of(scenario)
        self.policed = m.level == "individual" and mon.break_control == "fixed"
        self.aht_target = (t.aht_s is not None and t.aht_applies_to == "agent"
                           and m.level == "individual")
        self.team = team_of(scenario)
        self.streams = streams
        self.log = ActionLog(self.team.tolist(), mon.feedback == "punitive")
        self.supervisor = Supervisor(scenario, streams, self.rules, self.log)
        self.monitoring = Monitoring(scenario, streams, self.supervisor)
        self.targets = Targets(scenario, self.supervisor)
        self.league = League(scenario, self.team, self.log) if mon.league_table else None
        self.screen = (Screen(self.rules, scenario.adherence_schedule, scenario.horizon.days,
                              self.supervisor.visible, self.supervisor.on_alert)
                       if mon.realtime_alerts else None)
        self.seen: list[pd.DataFrame] = []  # the exceptions the supervisor reviewed

    # ------------------------------------------------------------------ set-up

    @property
    def strains(self) -> list | None:
        """The agents' strain (stress on), which feels the supervisor's actions."""
        return self.log.strains

    @strains.setter
    def strains(self, value: list | None) -> None:
        self.log.strains = value

    @property
    def policies(self) -> list[AgentPolicy]:
        """Each agent's policy (its behaviour under the regime)."""
        return self.supervisor.policies

    def behaviours(self, scenario: Scenario) -> list[AgentPolicy]:
        """One policy per agent, each drawing from its own response stream."""
        self.supervisor.policies = [
            AgentPolicy(k, self.streams.rng("responses", stable_key(shift), j), self.rules,
                        scenario.responses, self.log.act, policed=self.policed,
                        aht_target=self.aht_target)
            for k, (_, shift, j) in enumerate(roster(scenario))]
        return self.supervisor.policies

    def start(self, floor: Floor) -> None:
        """Start the supervisor's process on the run's floor."""
        floor.env.process(self.reviews(floor))

    # ------------------------------------------------------------------ the day's review

    def reviews(self, floor: Floor) -> Generator[simpy.Event, None, None]:
        """SimPy process: after each day, review that day's exceptions and act on them."""
        env, scenario = floor.env, self.scenario
        segs = segments(floor.plan)
        if self.screen is not None:
            for pol, tracker in zip(self.policies, self.screen.start(
                    env, floor.agents, floor.presence, segs), strict=True):
                pol.tracker = tracker
        need_exc = self.screen is None or self.targets.adh_target or self.league is not None
        scores = self.monitoring.scores
        if scores:
            floor.centre.answered = []  # the calls to choose from, day by day
        pos = 0
        shift_end = floor.plan.shift_end
        review_s = scenario.supervisor.review_delay_minutes * 60
        for d, (_, cutoff) in enumerate(closings(scenario)):
            last_out = float(shift_end[:, d].max()) if shift_end.size else cutoff
            # everyone has finished the day's last call (supervisor.review_delay_minutes)
            at = max(cutoff, last_out) + review_s
            if scenario.horizon.days > 1:
                at = min(at, (d + 1) * DAY_S - 1.0)
            yield env.timeout(max(0.0, at - env.now))
            start, pos = pos, len(floor.log)
            if start == pos:
                continue
            if not need_exc:  # real time has acted on every breach already
                if scores:
                    self.monitoring.score_day(floor.centre, d, env.now)
                continue
            data = day_data(floor, segs, d, start, scenario)
            exc = exceptions(data)
            self.seen.append(exc)
            if self.screen is None:
                self.supervisor.review(exc, d, env.now)
            if self.targets.adh_target or self.league is not None:
                self.targets.review(data.segments, data.statuses, exc, len(floor.agents), d,
                                    env.now)
            if scores:
                self.monitoring.score_day(floor.centre, d, env.now)
            if self.league is not None and self.league.due(d):
                self.league.publish(d, env.now, self.targets.day_adherence)

    # ------------------------------------------------------------------ tables

    def table(self) -> pd.DataFrame:
        """The action log as a table (one row per chase, warning, talk or deferral)."""
        return self.log.table()

    @staticmethod
    def empty_table(rows: list[tuple] | None = None) -> pd.DataFrame:
        """The action table's columns and types (no rows when ``rows`` is None)."""
        return action_frame(rows)

    def recorded(self, n_calls: int, n_first: int) -> np.ndarray:
        """Per call so far: recorded? (first calls from one draw, repeats each their own)."""
        return self.monitoring.recorded(n_calls, n_first)

    def evaluations_table(self) -> pd.DataFrame:
        """One row per call scored: call, agent, day, kind (recorded or listen_in), score."""
        return self.monitoring.table()

    @staticmethod
    def evaluations_frame(rows: list[tuple]) -> pd.DataFrame:
        """The evaluations table's columns and types."""
        return evaluations_frame(rows)

    def exceptions_seen(self) -> pd.DataFrame:
        """Every exception the supervisors reviewed (all agents, whatever they could see)."""
        return pd.concat(self.seen, ignore_index=True) if self.seen else pd.DataFrame()

    @property
    def alerts(self) -> list[tuple]:
        """Real time: (agent, day, time_s, reason, counted, seen) per breach shown."""
        return self.screen.alerts if self.screen is not None else []

    def alerts_table(self) -> pd.DataFrame:
        """Every breach the real-time screen showed (``seen``: the leader could see it)."""
        return alerts_frame(self.alerts)

    def league_table(self) -> pd.DataFrame:
        """The published league tables: one row per unit ranked per table."""
        return league_frame(self.league.rows if self.league is not None else [])
