"""The measurement regime at work: teams, the supervisor's daily review, agents' responses.

Built by ``sim.model.build`` only when the scenario's measurement level is not "none", so
a scenario without a regime costs nothing. The supervisor of each team reviews each day's
adherence exceptions after the day, with exactly the function the end-of-run measure uses
(``sim.exceptions.exceptions``), so its view agrees with the report; it sees what the
measurement level lets it see:

===========  ==================================================================
level        what the team leader sees of an agent's day
===========  ==================================================================
individual   every agent's exceptions
voluntary    an agent's exceptions only on days the agent shares them
             (``measurement.share_probability``; the 2016 agreement)
team         team aggregates only: no individual action is possible
===========  ==================================================================

With punitive feedback each breach it sees is chased, and ``warning_after`` breaches in
``warning_window_days`` make a warning; with developmental feedback the same count makes
a coaching talk instead, and nothing is chased. Conversations take the agent off queue at
its next log-in (imposed activities). Every action is a row of ``RunResult.actions`` with
its reason. Agents policed individually put off needed unplanned breaks with a chance
that rises with their warnings and recent breaches (``[responses]``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import simpy

from sim import tables
from sim.behaviour import Behaviour
from sim.scenario import DAY_S, SYSTEM_REASONS, Scenario
from sim.status import Status
from sim.streams import Streams, stable_key

if TYPE_CHECKING:
    from sim.agent import Agent
    from sim.model import Run

#: action log columns
ACTION_COLUMNS = ("agent", "team", "day", "time_s", "actor", "action", "reason", "detail")


def team_of(scenario: Scenario) -> np.ndarray:
    """Team index per agent: ``teams.size`` agents per team in roster order within a shift.

    Every agent is in team 0 when there are no teams.
    """
    from sim.schedule import roster

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


class AgentPolicy(Behaviour):
    """One agent under the regime: remembers its warnings and breaches, defers breaks."""

    watches_status = True  # to start pending conversations when it logs in

    def __init__(self, regime: Regime, k: int, rng: np.random.Generator) -> None:
        self.adjusts_handling = regime.aht_target
        self.regime = regime
        self.k = k
        self.rng = rng
        self.warnings = 0
        self.breaches: deque[float] = deque()  # times of recent breaches seen
        self.pending: list[tuple[int, float, str]] = []  # (status, seconds, reason)

    def recent_breaches(self, now: float) -> int:
        """Breaches within the warning window before ``now``."""
        window = self.regime.window_s
        while self.breaches and self.breaches[0] < now - window:
            self.breaches.popleft()
        return len(self.breaches)

    def defer_unplanned_break(self, agent: Agent, now: float) -> bool:
        """Under individual policing, put the break off with the logistic chance."""
        if not self.regime.policed:
            return False
        r = self.regime.responses
        z = (r.defer_break_logit + r.defer_break_per_warning * self.warnings
             + r.defer_break_per_breach * self.recent_breaches(now))
        if self.rng.random() < 1 / (1 + math.exp(-z)):
            self.regime.act(self.k, agent.day, now, "agent", "defer_break", "policed", "")
            return True
        return False

    def handling(self, agent: Agent, call: int, talk: float, acw: float
                 ) -> tuple[float, float, float]:
        """Under an individual AHT target: shorter talk and wrap-up, more left unresolved.

        Now and then a call is released early (a tenth of its talk; its caller calls again).
        """
        r = self.regime.responses
        if self.rng.random() < r.release_probability:
            agent.centre.released.add(call)
            return 0.1 * talk, 0.0, 1.0
        return talk * r.aht_talk_factor, acw * r.aht_acw_factor, r.aht_extra_repeat

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """At log-in, the conversations the supervisor has waiting for this agent."""
        if old == Status.LOGGED_OUT and self.pending:
            for status, seconds, reason in self.pending:
                agent.impose(status, seconds, reason)
            self.pending.clear()


class Regime:
    """The run's measurement regime: teams, the supervisor process, the action log."""

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.scenario = scenario
        m, mon = scenario.measurement, scenario.monitoring
        self.rules = scenario.adherence_rules
        self.level = m.level
        self.punitive = mon.feedback == "punitive"
        self.policed = m.level == "individual" and mon.break_control == "fixed"
        self.monitoring = mon
        per_month = scenario.schedule.days_per_year / 12  # working days in a month
        self.eval_rate = mon.evaluations_per_agent_month / per_month
        self.listen_rate = mon.listen_in_per_agent_month / per_month
        self.record_u: list[float] = []  # per call: recorded when below recorded_share
        self.evals: list[tuple] = []  # (call, agent, day, kind, score)
        t = scenario.targets
        self.aht_target = (t.aht_s is not None and t.aht_applies_to == "agent"
                           and m.level == "individual")
        self.responses = scenario.responses
        self.window_s = self.rules.warning_window_days * DAY_S
        self.team = team_of(scenario)
        self.streams = streams
        self.rows: list[tuple] = []
        self.strains: list | None = None  # the agents' strain, when stress is on
        self.policies: list[AgentPolicy] = []
        self.seen: list[pd.DataFrame] = []  # the exceptions the supervisor reviewed

    def behaviours(self, scenario: Scenario) -> list[AgentPolicy]:
        """One policy per agent, each drawing from its own response stream."""
        from sim.schedule import roster

        self.policies = [
            AgentPolicy(self, k, self.streams.rng("responses", stable_key(shift), j))
            for k, (_, shift, j) in enumerate(roster(scenario))]
        return self.policies

    def act(self, agent: int, day: int, time_s: float, actor: str, action: str, reason: str,
            detail: str) -> None:
        """Log one action with its reason (and let the agent's strain feel it)."""
        self.rows.append((agent, int(self.team[agent]), day, time_s, actor, action, reason,
                          detail))
        if self.strains is not None and actor == "supervisor":
            self.strains[agent].on_action(action, self.punitive, time_s)

    def table(self) -> pd.DataFrame:
        """The action log as a table (one row per chase, warning, talk or deferral)."""
        return self.empty_table(self.rows)

    @staticmethod
    def empty_table(rows: list[tuple] | None = None) -> pd.DataFrame:
        """The action table's columns and types (no rows when ``rows`` is None)."""
        out = pd.DataFrame(rows or [], columns=list(ACTION_COLUMNS))
        return out.astype({"agent": np.int64, "team": np.int64, "day": np.int64,
                           "time_s": float, "actor": str, "action": str, "reason": str,
                           "detail": str})

    def recorded(self, n_calls: int, n_first: int) -> np.ndarray:
        """Per call so far: recorded? (first calls from one draw, repeats each their own)."""
        mon = self.monitoring
        if mon.recording == "none" or mon.recorded_share == 0:
            return np.zeros(n_calls, dtype=bool)
        u = self.record_u
        if not u:
            u += self.streams.rng("monitoring", 0).random(n_first).tolist()
        while len(u) < n_calls:
            u.append(float(self.streams.rng("monitoring", 1, len(u)).random()))
        return np.asarray(u[:n_calls]) < mon.recorded_share

    def evaluations_table(self) -> pd.DataFrame:
        """One row per call scored: call, agent, day, kind (recorded or listen_in), score."""
        return self.evaluations_frame(self.evals)

    @staticmethod
    def evaluations_frame(rows: list[tuple]) -> pd.DataFrame:
        """The evaluations table's columns and types."""
        out = pd.DataFrame(rows, columns=["call", "agent", "day", "kind", "score"])
        return out.astype({"call": np.int64, "agent": np.int64, "day": np.int64,
                           "kind": str, "score": float})

    def exceptions_seen(self) -> pd.DataFrame:
        """Every exception the supervisors reviewed (all agents, whatever they could see)."""
        return pd.concat(self.seen, ignore_index=True) if self.seen else pd.DataFrame()

    # ------------------------------------------------------------------ the supervisor

    def reviews(self, run: Run) -> Generator[simpy.Event, None, None]:
        """SimPy process: after each day, review that day's exceptions and act on them."""
        from sim.exceptions import exceptions
        from sim.model import closings
        from sim.schedule import segments, splice

        env, scenario = run.env, run.scenario
        segs = segments(run.plan)
        seg_day = segs["day"].to_numpy()
        pos = 0
        shift_end = run.plan.shift_end
        for d, (_, cutoff) in enumerate(closings(scenario)):
            last_out = float(shift_end[:, d].max()) if shift_end.size else cutoff
            at = max(cutoff, last_out) + 3600.0  # everyone has finished the day's last call
            if scenario.horizon.days > 1:
                at = min(at, (d + 1) * DAY_S - 1.0)
            yield env.timeout(max(0.0, at - env.now))
            rows = run.log[pos:]
            pos = len(run.log)
            if not rows:
                continue
            statuses = _day_statuses(rows, d)
            imposed = tables.imposed_table(run.agents)
            mine = splice(segs[(seg_day == d)
                               & run.presence.present[segs["agent"].to_numpy(), seg_day]],
                          imposed[imposed["day"].to_numpy() == d])
            acts = tables.activities_table(run.agents, run.plan, run.presence, complete=False)
            brk = tables.breaks_table(run.agents)
            exc = exceptions(mine, statuses, acts, brk, scenario.schedule, self.rules,
                             len(run.agents), scenario.horizon.days)
            self.seen.append(exc)
            self._act_on(run, exc, d, env.now)
            if self.eval_rate > 0 or self.listen_rate > 0:
                self._monitor(run, d, env.now)

    def _visible(self, agent: int, day: int) -> bool:
        """Whether the team leader sees this agent's numbers for that day."""
        if self.level == "individual":
            return True
        if self.level == "voluntary":
            p = self.scenario.measurement.share_probability
            return bool(self.streams.rng("supervisor", agent, day).random() < p)
        return False  # team: aggregates only

    def _act_on(self, run: Run, exc: pd.DataFrame, day: int, now: float) -> None:
        sup = self.scenario.supervisor
        if len(exc) == 0:
            return
        breaches = exc[exc["breach"].to_numpy(bool)]
        for agent, g in breaches.groupby("agent", sort=True):
            agent = int(agent)
            if not self._visible(agent, day):
                continue
            pol = self.policies[agent]
            for row in g.itertuples():
                reason = str(row.reason)
                pol.breaches.append(float(row.start_s))
                if self.punitive:
                    self.act(agent, day, now, "supervisor", "chase", reason,
                             f"{row.counted_s:.0f} s out of adherence")
                    if sup.chase_minutes > 0:
                        pol.pending.append((Status.NOT_READY_MANAGER_APPROVED,
                                            sup.chase_minutes * 60, "chase"))
            n = pol.recent_breaches(now)
            if n >= self.rules.warning_after:
                window = g["reason"].astype(str).tolist()
                system = sum(r in SYSTEM_REASONS for r in window) / len(window)
                detail = f"{n} breaches; {system:.0%} outside the agent's control"
                if self.punitive:
                    pol.warnings += 1
                    self.act(agent, day, now, "supervisor", "warning",
                             "system" if system > 0.5 else "agent", detail)
                    pol.pending.append((Status.NOT_READY_MANAGER_APPROVED,
                                        sup.warning_minutes * 60, "warning"))
                else:
                    self.act(agent, day, now, "supervisor", "coaching",
                             "system" if system > 0.5 else "agent", detail)
                    pol.pending.append((Status.NOT_READY_TRAINING,
                                        sup.warning_minutes * 60, "coaching"))
                pol.breaches.clear()


    def _monitor(self, run: Run, day: int, now: float) -> None:
        """Score some of each agent's calls of the day (recorded, or heard live)."""
        mon, sup, target = self.monitoring, self.scenario.supervisor, self.scenario.targets
        centre = run.centre
        at = np.asarray(centre.answered_at)
        by = np.asarray(centre.answered_by)
        lo = day * DAY_S
        today = np.flatnonzero((at >= lo) & (at < lo + DAY_S))
        rec = self.recorded(len(at), centre.n_first)
        unresolved = set(centre.repeat_of.values()) | centre.released
        for agent in np.unique(by[today]):
            agent = int(agent)
            mine = today[by[today] == agent]
            rng = self.streams.rng("supervisor", 1, agent, day)
            n_eval, n_listen = rng.poisson(self.eval_rate), rng.poisson(self.listen_rate)
            pool = mine[rec[mine]] if mon.recording != "none" else mine[:0]
            chosen = [(int(i), "recorded") for i in rng.permutation(pool)[:n_eval]]
            heard = n_listen + (n_eval - len(chosen) if mon.recording == "none" else 0)
            rest = np.setdiff1d(mine, [i for i, _ in chosen])
            chosen += [(int(i), "listen_in") for i in rng.permutation(rest)[:heard]]
            for i, kind in chosen:
                quality = 0.4 if i in unresolved else 0.9
                score = float(np.clip(quality + rng.normal(0, mon.evaluator_noise_sd), 0, 1))
                self.evals.append((i, agent, day, kind, score))
                self.act(agent, day, now, "supervisor", "evaluation", kind, f"score {score:.2f}")
                live_talk = kind == "listen_in" and not self.punitive
                if not (self._visible(agent, day) or live_talk):
                    continue  # team level: the score goes into the team's figures only
                pol = self.policies[agent]
                if self.punitive:
                    if target.quality is not None and score < target.quality:
                        pol.breaches.append(now)
                        self.act(agent, day, now, "supervisor", "quality_breach", kind,
                                 f"score {score:.2f} < {target.quality:.2f}")
                elif sup.feedback_minutes > 0:
                    self.act(agent, day, now, "supervisor", "feedback", kind,
                             f"score {score:.2f}")
                    pol.pending.append((Status.NOT_READY_TRAINING, sup.feedback_minutes * 60,
                                        "feedback"))


def _day_statuses(rows: list[tuple[int, float, int]], day: int) -> pd.DataFrame:
    """Status spells of one day's slice of the log (each agent's session ends in it)."""
    agent, t, code = tables.log_arrays(rows)
    return tables.spells(agent, t, code, np.full(len(agent), day, dtype=np.int64))
