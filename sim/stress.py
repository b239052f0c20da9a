"""Measured stress: each agent's acute strain, exhaustion and threat, and sickness absence.

Acute strain A follows a first-order effort-recovery law, per status s:
``dA/dt = L_s (1 + m)(1 - c ctrl) + k T - A / tau_s``, plus impulses (a hostile call, a
chase, a scored call). Between two status changes L and tau are constant, so A is updated
exactly with the closed form ``A(t) = L tau + (A0 - L tau) e^(-t/tau)`` when the status
changes, through the agent's status funnel: no time steps and no SimPy events of its own.
The time integral of A over the same stretch is closed-form too, so the day's mean strain
is exact. At the end of each shift exhaustion E takes in the strain left above a baseline A0
and decays; threat T (+1 per warning) decays over weeks; the survey records
``mean A + E + noise``. With ``absence`` on, each morning an agent not already off sick
starts a spell with a daily hazard rising with E (the presence seam: it does not log in).

Monitoring load m and job control ctrl come from the measurement regime (assumptions,
documented in docs/stress.md); every parameter is in the ``[stress]`` section.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.behaviour import Behaviour
from sim.scenario import Scenario
from sim.status import Status

if TYPE_CHECKING:
    from sim.agent import Agent
    from sim.presence import Presence

HOUR = 3600.0
ROW_COLUMNS = ("agent", "day", "strain_mean", "strain_end", "exhaustion", "threat", "stress",
               "hostile_calls")


def monitoring_load(scenario: Scenario) -> float:
    """m: the extra load of being watched, from the regime (STRESS-EVIDENCE §6 table)."""
    level, mon, tgt = scenario.measurement.level, scenario.monitoring, scenario.targets
    m = {"none": 0.0, "team": 0.05, "voluntary": 0.05, "individual": 0.15}[level]
    if level == "individual" and (tgt.aht_s is not None or tgt.quality is not None):
        m = 0.25  # individual statistics with targets
    if mon.recording == "audio_screen" and mon.recorded_share > 0:
        m = max(m, 0.35)  # TMR
    elif mon.recording == "audio" and mon.recorded_share > 0:
        m = max(m, 0.2)
    if mon.listen_in_per_agent_month > 0:
        m = max(m, 0.05)
    if mon.feedback == "developmental":
        m *= 0.6
    return m


def job_control(scenario: Scenario) -> float:
    """Job control in [0, 1]: higher where agents keep their data and time (assumption)."""
    level = scenario.measurement.level
    ctrl = {"none": 0.4, "team": 0.5, "voluntary": 0.6, "individual": 0.2}[level]
    if scenario.monitoring.break_control == "flexible":
        ctrl += 0.3
    return min(ctrl, 1.0)


class Strain(Behaviour):
    """One agent's strain, updated at each of its status changes."""

    watches_status = True

    def __init__(self, scenario: Scenario, k: int, rng: np.random.Generator,
                 day_rng: Callable[[int], np.random.Generator]) -> None:
        """Agent ``k``'s strain; ``rng`` draws hostile calls.

        ``day_rng(day)`` draws the day's survey noise and absence, so they are common random
        numbers across scenarios whatever the calls were.
        """
        p = scenario.stress
        self.p = p
        self.k = k
        self.rng = rng
        self.day_rng = day_rng
        self.watches_days = p.absence
        scale = (1 + monitoring_load(scenario)) * (1 - p.control_buffer * job_control(scenario))
        work, brk = p.tau_work_h * HOUR, p.tau_break_min * 60
        load = np.zeros(len(Status))
        tau = np.full(len(Status), brk)
        for s, value in ((Status.READY, p.load_ready), (Status.TALK, p.load_talk),
                         (Status.ACW, p.load_acw),
                         (Status.NOT_READY_DEFERRED_TRANSACTION, p.load_talk),
                         (Status.NOT_READY_MEETING, p.load_meeting),
                         (Status.NOT_READY_TRAINING, p.load_meeting)):
            load[s], tau[s] = value * scale / HOUR, work
        tau[Status.LOGGED_OUT] = p.tau_off_h * HOUR
        self.load, self.tau = load.tolist(), tau.tolist()
        self.threat_load = p.threat_load / HOUR
        self.a = 0.0  # acute strain
        self.e = 0.0  # exhaustion
        self.threat = 0.0
        self.t = 0.0  # time of the last update
        self.status = int(Status.LOGGED_OUT)
        self.area = 0.0  # integral of A over the day's logged-in time
        self.day_start_s = 0.0
        self.hostile = 0
        self.sick_days_left = 0
        self.rows: list[tuple] = []

    def advance(self, now: float) -> None:
        """Bring A to ``now`` with the current status's load and time constant (exact)."""
        dt = now - self.t
        if dt <= 0:
            return
        s = self.status
        tau = self.tau[s]
        lt = (self.load[s] + (self.threat_load * self.threat
                              if s != Status.LOGGED_OUT else 0.0)) * tau
        decay = math.exp(-dt / tau)
        if s != Status.LOGGED_OUT:
            self.area += lt * dt + (self.a - lt) * tau * (1 - decay)
        self.a = lt + (self.a - lt) * decay
        self.t = now

    def impulse(self, size: float, now: float) -> None:
        """A sudden rise of strain (a hostile call, a chase, a scored call)."""
        self.advance(now)
        self.a += size

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """The funnel: update A exactly, then switch to the new status's law."""
        self.advance(now)
        if old == Status.LOGGED_OUT:
            self.area, self.day_start_s, self.hostile = 0.0, now, 0
        if new == Status.TALK and self.rng.random() < self.p.hostile_probability:
            self.a += self.p.hostile_impulse
            self.hostile += 1
        if new == Status.LOGGED_OUT:
            self._end_day(agent.day, now)
        self.status = new

    def _end_day(self, day: int, now: float) -> None:
        p = self.p
        worked = now - self.day_start_s
        mean = self.area / worked if worked > 0 else self.a
        self.e += p.alpha * max(0.0, self.a - p.strain_baseline) - self.e / p.tau_exhaustion_days
        self.threat *= math.exp(-1.0 / p.tau_threat_days)
        measured = mean + self.e + self.day_rng(day).normal(0.0, p.noise_sd)
        self.rows.append((self.k, day, mean, self.a, self.e, self.threat, measured,
                          self.hostile))

    def day_start(self, agent: Agent, day: int, presence: Presence) -> None:
        """Each morning: still off sick, or a new spell with a hazard rising with E."""
        p = self.p
        if self.sick_days_left > 0:
            self.sick_days_left -= 1
        else:
            rng = self.day_rng(day)
            rng.normal()  # the survey's draw comes first in the day's stream
            hazard = min(1.0, p.absence_base_hazard * math.exp(
                p.absence_exhaustion_effect * self.e))
            if rng.random() >= hazard:
                return
            if rng.random() < p.spell_short_share:
                length = int(rng.integers(1, 4))
            else:
                length = int(rng.geometric(1 / p.spell_long_mean_days))
            self.sick_days_left = length - 1
        presence.mark_absent(self.k, day, "sickness")
        self.e -= 2 * self.e / p.tau_exhaustion_days  # a day off: recovers twice as fast
        self.threat *= math.exp(-1.0 / p.tau_threat_days)

    def on_action(self, action: str, punitive: bool, now: float) -> None:
        """What the regime's actions do to strain and threat."""
        p = self.p
        if action == "chase":
            self.impulse(p.chase_impulse, now)
        elif action == "warning":
            self.advance(now)
            self.threat += 1.0
        elif action == "evaluation":
            self.impulse(p.evaluation_impulse_punitive if punitive
                         else p.evaluation_impulse_developmental, now)


class Both(Behaviour):
    """An agent under a regime and with strain: each hook goes to both parts."""

    watches_status = True

    def __init__(self, policy: Behaviour, strain: Strain) -> None:
        self.policy, self.strain = policy, strain
        self.adjusts_handling = policy.adjusts_handling
        self.watches_days = policy.watches_days or strain.watches_days

    def defer_unplanned_break(self, agent: Agent, now: float) -> bool:
        """The regime's answer."""
        return self.policy.defer_unplanned_break(agent, now)

    def handling(self, agent: Agent, call: int, talk: float, acw: float
                 ) -> tuple[float, float, float]:
        """The regime's answer."""
        return self.policy.handling(agent, call, talk, acw)

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """Strain first (it sees the status the agent had), then the regime."""
        self.strain.on_status(agent, old, new, now)
        self.policy.on_status(agent, old, new, now)

    def day_start(self, agent: Agent, day: int, presence: Presence) -> None:
        """Both."""
        self.strain.day_start(agent, day, presence)
        self.policy.day_start(agent, day, presence)


def stress_table(strains: list[Strain]) -> pd.DataFrame:
    """One row per agent-day worked: the latent values and the survey's reading."""
    rows = [r for s in strains for r in s.rows]
    out = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    return out.astype({"agent": np.int64, "day": np.int64, "hostile_calls": np.int64})
