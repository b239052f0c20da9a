"""The measurement regime at work: teams, the supervisor's daily review, agents' responses.

Built by ``sim.model.build`` only when the scenario's measurement level is not "none", so
a scenario without a regime costs nothing. The supervisor of each team reviews each day's
adherence exceptions after the day, with exactly the function the end-of-run measure uses
(``sim.measure.exceptions.exceptions``), so its view agrees with the report; it sees what the
measurement level lets it see:

===========  ==================================================================
level        what the team leader sees of an agent's day
===========  ==================================================================
individual   every agent's exceptions
voluntary    an agent's exceptions only on days the agent shares them
             (``measurement.share_probability``; the 2016 agreement)
team         team aggregates only: no individual action is possible
===========  ==================================================================

With ``monitoring.realtime_alerts`` the leader sees each breach the moment it happens
instead (``sim.regime.realtime``: no polling, one timeout per predicted breach) and acts then; the
talks start at once (after the agent's call or activity) or at its next log-in. Targets
(``[targets]``) add breaches for agent-days under the adherence target; league tables
(``monitoring.league_table``) rank agents or teams on adherence every few days.

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

from sim.engine.behaviour import Behaviour
from sim.engine.status import Status, StatusLog
from sim.engine.streams import Streams, stable_key
from sim.measure import tables
from sim.scenario import DAY_S, SYSTEM_REASONS, Scenario

if TYPE_CHECKING:
    from sim.engine.agent import Agent
    from sim.model import Run
    from sim.regime.realtime import Tracker

#: action log columns
ACTION_COLUMNS = ("agent", "team", "day", "time_s", "actor", "action", "reason", "detail")


def team_of(scenario: Scenario) -> np.ndarray:
    """Team index per agent: ``teams.size`` agents per team in roster order within a shift.

    Every agent is in team 0 when there are no teams.
    """
    from sim.engine.schedule import roster

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


_LOGGED_OUT = int(Status.LOGGED_OUT)  # a plain int: compared at every status change


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
        self.reasons: deque[tuple[float, str]] = deque()  # real time: (time, reason)
        self.last_talk = -math.inf  # time of the last warning or coaching talk
        self.pending: list[tuple[int, float, str]] = []  # (status, seconds, reason)
        self.tracker: Tracker | None = None  # real-time adherence, when alerts are on

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
        """At log-in, the conversations the supervisor has waiting for this agent.

        With real-time alerts, the agent's tracker sees the change first.
        """
        if self.tracker is not None:
            self.tracker.on_status(agent, old, new, now)
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
        self.record_u = bytearray()  # per call: recorded (its uniform below recorded_share)
        self.evals: list[tuple] = []  # (call, agent, day, kind, score)
        t = scenario.targets
        self.aht_target = (t.aht_s is not None and t.aht_applies_to == "agent"
                           and m.level == "individual")
        self.responses = scenario.responses
        self.window_s = self.rules.warning_window_days * DAY_S
        self.team = team_of(scenario)
        self._teams: list[int] = self.team.tolist()  # the same, for the action log
        self.streams = streams
        self.rows: list[tuple] = []
        self.strains: list | None = None  # the agents' strain, when stress is on
        self.policies: list[AgentPolicy] = []
        self.seen: list[pd.DataFrame] = []  # the exceptions the supervisor reviewed
        self.realtime = mon.realtime_alerts
        self.alerts: list[tuple] = []  # real time: (agent, day, time_s, reason, counted, seen)
        self.run: Run | None = None
        self._segs: dict[tuple[int, int], list[list]] = {}
        self.adh_target = (t.adherence is not None and t.adherence_applies_to == "agent"
                           and m.level in ("individual", "voluntary"))
        self.league = mon.league_table
        self.day_adherence: list[tuple[int, int, float, float]] = []  # agent, day, in, sched
        self.league_rows: list[tuple] = []  # published tables
        self._repeated: set[int] = set()  # calls repeated so far (seen by _monitor)
        self._rep_pos = 0  # call indices up to here looked at for repeats

    def behaviours(self, scenario: Scenario) -> list[AgentPolicy]:
        """One policy per agent, each drawing from its own response stream."""
        from sim.engine.schedule import roster

        self.policies = [
            AgentPolicy(self, k, self.streams.rng("responses", stable_key(shift), j))
            for k, (_, shift, j) in enumerate(roster(scenario))]
        return self.policies

    def act(self, agent: int, day: int, time_s: float, actor: str, action: str, reason: str,
            detail: str) -> None:
        """Log one action with its reason (and let the agent's strain feel it)."""
        self.rows.append((agent, self._teams[agent], day, time_s, actor, action, reason,
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
        return np.frombuffer(self._record_flags(n_calls, n_first), dtype=bool)[:n_calls].copy()

    def _recorded_at(self, idx: np.ndarray, n_calls: int, n_first: int) -> np.ndarray:
        """:meth:`recorded` of the calls ``idx`` only (the draws up to ``n_calls`` made)."""
        mon = self.monitoring
        if mon.recording == "none" or mon.recorded_share == 0:
            return np.zeros(len(idx), dtype=bool)
        flags = self._record_flags(n_calls, n_first)
        return np.array([flags[i] for i in idx.tolist()], dtype=bool)

    def _record_flags(self, n_calls: int, n_first: int) -> bytearray:
        """Recorded? per call (1/0), drawn up to ``n_calls``.

        First calls from one draw, each repeat from its own generator (keyed by its index).
        """
        u, share = self.record_u, self.monitoring.recorded_share
        if not u:
            u += (self.streams.rng("monitoring", 0).random(n_first) < share).tobytes()
        while len(u) < n_calls:
            u.append(self.streams.first_uniform("monitoring", 1, len(u)) < share)
        return u

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
        from sim.engine.schedule import segments, splice
        from sim.measure.exceptions import exceptions
        from sim.model import closings

        env, scenario = run.env, run.scenario
        self.run = run
        segs = segments(run.plan)
        seg_day = segs["day"].to_numpy()
        if self.realtime:
            self._start_realtime(run, segs)
        need_exc = not self.realtime or self.adh_target or self.league
        if self.eval_rate > 0 or self.listen_rate > 0:
            run.centre.answered = []  # the calls to choose from, day by day
        pos = 0
        shift_end = run.plan.shift_end
        for d, (_, cutoff) in enumerate(closings(scenario)):
            last_out = float(shift_end[:, d].max()) if shift_end.size else cutoff
            at = max(cutoff, last_out) + 3600.0  # everyone has finished the day's last call
            if scenario.horizon.days > 1:
                at = min(at, (d + 1) * DAY_S - 1.0)
            yield env.timeout(max(0.0, at - env.now))
            start, pos = pos, len(run.log)
            if start == pos:
                continue
            if not need_exc:  # real time has acted on every breach already
                if self.eval_rate > 0 or self.listen_rate > 0:
                    self._monitor(run, d, env.now)
                continue
            statuses = _day_statuses(run.log, start, d)
            imposed = tables.imposed_table(run.agents, day=d)
            mine = splice(segs[(seg_day == d)
                               & run.presence.present[segs["agent"].to_numpy(), seg_day]],
                          imposed[imposed["day"].to_numpy() == d])
            acts = tables.activities_table(run.agents, run.plan, run.presence, day=d)
            brk = tables.breaks_table(run.agents, day=d)
            exc = exceptions(mine, statuses, acts, brk, scenario.adherence_schedule,
                             self.rules, len(run.agents), scenario.horizon.days)
            self.seen.append(exc)
            if not self.realtime:
                self._act_on(run, exc, d, env.now)
            if self.adh_target or self.league:
                self._day_adherence(run, mine, statuses, exc, d, env.now)
            if self.eval_rate > 0 or self.listen_rate > 0:
                self._monitor(run, d, env.now)
            if self.league and (d + 1) % self.monitoring.league_table_days == 0:
                self._league_table(run, d, env.now)

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
        b = exc["breach"].to_numpy(bool)
        if not b.any():
            return
        agents = exc["agent"].to_numpy()[b]
        order = np.argsort(agents, kind="stable")  # by agent, in table order within one
        agents = agents[order].tolist()
        starts = exc["start_s"].to_numpy(float)[b][order].tolist()
        counted = exc["counted_s"].to_numpy(float)[b][order].tolist()
        reasons = exc["reason"].astype(str).to_numpy()[b][order].tolist()
        lo = 0
        while lo < len(agents):
            agent = int(agents[lo])
            hi = lo
            while hi < len(agents) and agents[hi] == agent:
                hi += 1
            window = reasons[lo:hi]
            first, lo = lo, hi
            if not self._visible(agent, day):
                continue
            pol = self.policies[agent]
            for j in range(first, hi):
                pol.breaches.append(starts[j])
                if self.punitive:
                    self.act(agent, day, now, "supervisor", "chase", reasons[j],
                             f"{counted[j]:.0f} s out of adherence")
                    if sup.chase_minutes > 0:
                        pol.pending.append((Status.NOT_READY_MANAGER_APPROVED,
                                            sup.chase_minutes * 60, "chase"))
            self._count(agent, day, now, window,
                        lambda st, sec, why, pol=pol: pol.pending.append((st, sec, why)))

    def _count(self, agent: int, day: int, now: float, window: list[str], give) -> None:
        """A warning (punitive) or coaching talk when the recent breaches reach the count.

        ``window``: the reasons behind it (for the share outside the agent's control);
        ``give(status, seconds, reason)`` schedules the talk.
        """
        pol, sup = self.policies[agent], self.scenario.supervisor
        n = pol.recent_breaches(now)
        if n < self.rules.warning_after:
            return
        if now - pol.last_talk < sup.escalation_interval_days * DAY_S:
            return  # one formal step at a time: the breaches keep counting
        pol.last_talk = now
        system = sum(r in SYSTEM_REASONS for r in window) / max(len(window), 1)
        detail = f"{n} breaches; {system:.0%} outside the agent's control"
        why = "system" if system > 0.5 else "agent"
        if self.punitive:
            pol.warnings += 1
            self.act(agent, day, now, "supervisor", "warning", why, detail)
            give(Status.NOT_READY_MANAGER_APPROVED, sup.warning_minutes * 60, "warning")
        else:
            self.act(agent, day, now, "supervisor", "coaching", why, detail)
            give(Status.NOT_READY_TRAINING, sup.warning_minutes * 60, "coaching")
        pol.breaches.clear()
        pol.reasons.clear()


    # ------------------------------------------------------------------ real time

    def _start_realtime(self, run: Run, segs: pd.DataFrame) -> None:
        """Trackers for every agent, the schedule per agent-day, a start-of-day process."""
        from sim.regime.realtime import Tracker

        a, d = segs["agent"].to_numpy(), segs["day"].to_numpy()
        vals = zip(a.tolist(), d.tolist(), segs["start_s"].tolist(), segs["end_s"].tolist(),
                   segs["state"].tolist(), segs["row"].tolist(), strict=True)
        for k, day, s0, s1, state, row in vals:
            self._segs.setdefault((k, day), []).append([s0, s1, state, row])
        for pol, agent in zip(self.policies, run.agents, strict=True):
            pol.tracker = Tracker(self, agent)
        run.env.process(self._day_starts(run))

    def _day_starts(self, run: Run) -> Generator[simpy.Event, None, None]:
        """SimPy process: at each midnight, the trackers start the day (logged out)."""
        for d in range(self.scenario.horizon.days):
            yield run.env.timeout(max(0.0, d * DAY_S - run.env.now))
            for pol in self.policies:
                if pol.tracker.day != d and pol.tracker.agent.status == Status.LOGGED_OUT:
                    pol.tracker.start_day(d)

    def day_segments(self, agent: int, day: int) -> list[list]:
        """The agent-day's schedule segments ``[start, end, state, plan row]`` (a copy)."""
        return [list(s) for s in self._segs.get((agent, day), [])]

    def present(self, agent: int, day: int) -> bool:
        """Whether the agent works that day."""
        return bool(self.run.presence.present[agent, day])

    def alert(self, agent: Agent, day: int, now: float, reason: str, counted: float) -> None:
        """A breach seen in real time: chased now (punitive), counted toward warnings.

        The chase (and a warning, when the count is reached) takes the agent off queue at
        once, after its call and wrap-up, or at its next log-in when it is logged out.
        """
        k = agent.index
        seen = self._visible(k, day)
        self.alerts.append((k, day, now, reason, counted, seen))
        if not seen:
            return
        pol, sup = self.policies[k], self.scenario.supervisor
        pol.breaches.append(now)
        pol.reasons.append((now, reason))
        while pol.reasons and pol.reasons[0][0] < now - self.window_s:
            pol.reasons.popleft()
        if self.punitive:
            self.act(k, day, now, "supervisor", "chase", reason,
                     f"{counted:.0f} s counted at the {self.rules.exception_threshold_s:.0f} s "
                     "threshold (real time)")
            if sup.chase_minutes > 0:
                pol.give(agent, Status.NOT_READY_MANAGER_APPROVED, sup.chase_minutes * 60,
                         "chase")
        self._count(k, day, now, [r for _, r in pol.reasons],
                    lambda st, sec, why: pol.give(agent, st, sec, why))

    def alerts_table(self) -> pd.DataFrame:
        """Every breach the real-time screen showed (``seen``: the leader could see it)."""
        out = pd.DataFrame(self.alerts, columns=["agent", "day", "time_s", "reason",
                                                 "counted_s", "seen"])
        return out.astype({"agent": np.int64, "day": np.int64, "time_s": float,
                           "reason": str, "counted_s": float, "seen": bool})

    # ------------------------------------------------------------------ targets, rankings

    def _day_adherence(self, run: Run, segs: pd.DataFrame, statuses: pd.DataFrame,
                       exc: pd.DataFrame, day: int, now: float) -> None:
        """Each agent's adherence of the day (the report's measure), and the target.

        In adherence = scheduled - counted + excused, from the day's exceptions. Under an
        agent-level adherence target a day below it is a breach the leader counts.
        """
        n = len(run.agents)
        worked = np.unique(statuses["agent"].to_numpy())
        sched = np.bincount(segs["agent"].to_numpy(), minlength=n,
                            weights=(segs["end_s"] - segs["start_s"]).to_numpy())
        ea = exc["agent"].to_numpy()
        lost = np.bincount(ea, weights=exc["counted_s"].to_numpy(), minlength=n)
        for r in self.rules.excused:
            lost -= np.bincount(ea, weights=exc[f"lost_{r}_s"].to_numpy(), minlength=n)
        goal = self.scenario.targets.adherence
        for k in worked.tolist():
            if sched[k] <= 0:
                continue
            inside = sched[k] - lost[k]
            self.day_adherence.append((k, day, float(inside), float(sched[k])))
            if not self.adh_target or inside / sched[k] >= goal or not self._visible(k, day):
                continue
            pol = self.policies[k]
            pol.breaches.append(now)
            self.act(k, day, now, "supervisor", "target_breach", "adherence_target",
                     f"adherence {inside / sched[k]:.1%} < {goal:.1%}")
            self._count(k, day, now, ["adherence_target"],
                        lambda st, sec, why, pol=pol: pol.pending.append((st, sec, why)))

    def _league_table(self, run: Run, day: int, now: float) -> None:
        """Rank agents (individual level) or teams (team level) on adherence; publish it.

        The worst quarter (``n // 4`` of ``n`` ranked, none under four) gets a "ranking"
        action; an agent's strain feels it. Teams under ``teams.min_group`` agents are not
        ranked.
        """
        lo = day + 1 - self.monitoring.league_table_days
        rows = [r for r in self.day_adherence if lo <= r[1] <= day]
        if not rows:
            return
        k, _, inside, sched = (np.asarray(c) for c in zip(*rows, strict=True))
        by_team = self.level == "team"
        unit = self.team[k.astype(np.int64)] if by_team else k.astype(np.int64)
        units = np.unique(unit)
        idx = np.searchsorted(units, unit)
        a_in = np.bincount(idx, weights=inside)
        a_s = np.bincount(idx, weights=sched)
        if by_team:  # only groups big enough that no individual is singled out
            people = np.array([len(np.unique(k[unit == u])) for u in units])
            ok = people >= self.scenario.teams.min_group
            units, a_in, a_s = units[ok], a_in[ok], a_s[ok]
        value = a_in / a_s
        order = np.lexsort((units, -value))  # best first; ties by number
        n = len(units)
        week = day // self.monitoring.league_table_days
        for rank, i in enumerate(order, start=1):
            u = int(units[i])
            self.league_rows.append((week, day, "team" if by_team else "agent", u, rank, n,
                                     float(value[i])))
            if rank <= n - n // 4 or n < 4:
                continue
            detail = f"rank {rank} of {n}, adherence {value[i]:.1%}"
            if by_team:
                self.rows.append((-1, u, day, now, "supervisor", "ranking", "bottom_quartile",
                                  detail))
            else:
                self.act(u, day, now, "supervisor", "ranking", "bottom_quartile", detail)

    def league_table(self) -> pd.DataFrame:
        """The published league tables: one row per unit ranked per table."""
        out = pd.DataFrame(self.league_rows, columns=["table", "day", "unit", "id", "rank",
                                                      "ranked", "adherence"])
        return out.astype({"table": np.int64, "day": np.int64, "unit": str, "id": np.int64,
                           "rank": np.int64, "ranked": np.int64, "adherence": float})

    def _monitor(self, run: Run, day: int, now: float) -> None:
        """Score some of each agent's calls of the day (recorded, or heard live)."""
        mon, sup, target = self.monitoring, self.scenario.supervisor, self.scenario.targets
        centre = run.centre
        at_all, by_all = centre.answered_at, centre.answered_by
        lo = day * DAY_S
        # the calls answered since the last review (each answered once), today's of them
        new, centre.answered = centre.answered, []
        today = np.array(sorted(i for i in new if lo <= at_all[i] < lo + DAY_S), dtype=np.intp)
        by = np.array([by_all[i] for i in today.tolist()], dtype=np.int64)
        rec_today = self._recorded_at(today, len(at_all), centre.n_first)
        rec = np.zeros(len(at_all), dtype=bool)
        rec[today] = rec_today
        # the calls repeated since the last review
        for j in range(max(self._rep_pos, centre.n_first), len(at_all)):
            if j in centre.repeat_of:
                self._repeated.add(centre.repeat_of[j])
        self._rep_pos = len(at_all)
        released, repeated = centre.released, self._repeated
        for agent in np.unique(by):
            agent = int(agent)
            mine = today[by == agent]
            rng = self.streams.fast("supervisor", 1, agent, day)
            n_eval, n_listen = rng.poisson(self.eval_rate), rng.poisson(self.listen_rate)
            pool = mine[rec[mine]] if mon.recording != "none" else mine[:0]
            chosen = [(int(i), "recorded") for i in rng.permutation(pool)[:n_eval]]
            heard = n_listen + (n_eval - len(chosen) if mon.recording == "none" else 0)
            rest = np.setdiff1d(mine, [i for i, _ in chosen])
            chosen += [(int(i), "listen_in") for i in rng.permutation(rest)[:heard]]
            for i, kind in chosen:
                quality = 0.4 if i in repeated or i in released else 0.9
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


def _day_statuses(log: StatusLog, start: int, day: int) -> pd.DataFrame:
    """Status spells of the log's rows ``start:``, one day's (each session ends in them)."""
    agent, t, code = tables.log_arrays(log, start)
    return tables.spells(agent, t, code, np.full(len(agent), day, dtype=np.int64))
