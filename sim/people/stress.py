"""Measured stress: each agent's acute strain, exhaustion and threat, and sickness absence.

Acute strain A follows a first-order effort-recovery law, per status s:
``dA/dt = L_s (1 + m)(1 - c ctrl) + k T - A / tau_s``, plus impulses (a hostile call, a
chase, a scored call). Between two status changes L and tau are constant, so A is updated
exactly with the closed form ``A(t) = L tau + (A0 - L tau) e^(-t/tau)`` when the status
changes, through the agent's status funnel: no time steps and no SimPy events of its own.
The time integral of A over the same stretch is closed-form too, so the day's mean strain
is exact. At the end of each shift exhaustion E takes in the strain left above a baseline A0
and decays; threat T (+``warning_threat`` per warning) decays over weeks; the survey records
``mean A + E + noise``. With ``absence`` on, each morning an agent not already off sick
starts a spell with a daily hazard rising with E (the presence seam: it does not log in).

A simulated day is a working day of the centre: after every ``work_days_per_week`` of them
the agents have the rest of the week off, and A, E and T get those days' recovery in closed
form at the next day's start (no simulated time passes). With ``feedback`` on, strain acts
on work through the handling hook: handle time slows above a strain threshold, more calls
are left unresolved, and callers who waited long are more often hostile (one draw per call
from the agent's own stream). With ``attrition`` on, each working day the person in a seat
quits with a daily hazard converted from a monthly one rising with E and T; the seat is
vacant (absence reason "quit") until a replacement arrives after the hiring delay, with
E = T = 0 and a handle-time learning curve.

Monitoring load m and job control ctrl come from the measurement regime (assumptions,
documented in docs/stress.md); every parameter is in the ``[stress]`` section.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine.behaviour import Behaviour
from sim.engine.status import Status
from sim.engine.streams import Uniforms
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.engine.agent import Agent
    from sim.engine.presence import Presence
    from sim.scenario.stress import Stress

HOUR = 3600.0
DAY = 86_400.0
# plain ints for the per-status-change path: an int compare, not an enum attribute lookup
_LOGGED_OUT = int(Status.LOGGED_OUT)
_TALK = int(Status.TALK)
#: statuses that meet a pending break need (and end the load of putting it off)
_RESTS = frozenset({int(Status.NOT_READY_BREAK), int(Status.NOT_READY_LUNCH),
                    int(Status.LOGGED_OUT)})
_exp = math.exp
ROW_COLUMNS = ("agent", "day", "strain_mean", "strain_end", "exhaustion", "threat", "stress",
               "hostile_calls")


def monitoring_load(scenario: Scenario) -> float:
    """m: the extra load of being watched, from the regime (docs/evidence.md §6).

    Each value is a ``[stress]`` field (``monitoring_load_*``, ``developmental_factor``).
    """
    level, mon, tgt, p = (scenario.measurement.level, scenario.monitoring, scenario.targets,
                          scenario.stress)
    m = {"none": 0.0, "team": p.monitoring_load_team, "voluntary": p.monitoring_load_voluntary,
         "individual": p.monitoring_load_individual}[level]
    if level == "individual" and (tgt.aht_s is not None or tgt.quality is not None):
        m = p.monitoring_load_targets  # individual statistics with targets
    if mon.recording == "audio_screen" and mon.recorded_share > 0:
        m = max(m, p.monitoring_load_audio_screen)  # TMR
    elif mon.recording == "audio" and mon.recorded_share > 0:
        m = max(m, p.monitoring_load_audio)
    if mon.listen_in_per_agent_month > 0:
        m = max(m, p.monitoring_load_listen_in)
    if mon.feedback == "developmental":
        m *= p.developmental_factor
    return m


def job_control(scenario: Scenario) -> float:
    """Job control in [0, 1]: higher where agents keep their data and time (``control_*``)."""
    level, p = scenario.measurement.level, scenario.stress
    ctrl = {"none": p.control_none, "team": p.control_team,
            "voluntary": p.control_voluntary, "individual": p.control_individual}[level]
    if scenario.monitoring.break_control == "flexible":
        ctrl += p.control_flexible_breaks
    return min(ctrl, 1.0)


def quit_hazard(p: Stress, e: float, threat: float, per_year: float) -> float:
    """Chance that a person of exhaustion ``e`` and threat ``threat`` quits on a working day.

    ``q = min(1, q0 e^(b_E E + b_T T))`` a month, ``1 - (1 - q)^(12 / per_year)`` a working
    day (so that a month of working days compounds back to q).
    """
    q = min(1.0, p.quit_base_monthly * math.exp(p.quit_exhaustion_effect * e
                                               + p.quit_threat_effect * threat))
    return 1 - (1 - q) ** (12 / per_year)


def absence_hazard(p: Stress, e: float) -> float:
    """Chance that a sickness spell starts on a working day at exhaustion ``e``."""
    return min(1.0, p.absence_base_hazard * math.exp(p.absence_exhaustion_effect * e))


def replacement_day(day: int, week: int, delay_days: float) -> int:
    """First working day at least ``delay_days`` calendar days after working day ``day``.

    ``week`` working days a week, from a week's first day; any day, negative ones too.
    Never ``day`` itself: a vacancy lasts at least the day of the quit.
    """
    target = (day // week) * 7 + day % week + math.ceil(delay_days - 1e-9)
    weeks, dow = divmod(target, 7)
    first = weeks * week + dow if dow < week else (weeks + 1) * week
    return max(day + 1, first)


def spell_survival(p: Stress, n: int) -> list[float]:
    """``cum[m]``, m = 0..n: the expected days of a new sickness spell among its first m.

    ``cum[m] = sum_{j < m} P(L > j)`` for the spell length L drawn in
    :meth:`Strain.day_start` (1-3 days uniformly with ``spell_short_share``, else geometric
    of mean ``spell_long_mean_days``), so a spell begun on day d covers on average
    ``cum[hi - d] - cum[max(0, lo - d)]`` days of a window [lo, hi) (d < hi).
    """
    s, q = p.spell_short_share, 1 / max(1.0, p.spell_long_mean_days)
    cum, acc = [0.0], 0.0
    for j in range(n):
        short = (1.0, 2 / 3, 1 / 3)[j] if j < 3 else 0.0
        acc += s * short + (1 - s) * (1 - q) ** j
        cum.append(acc)
    return cum


class Strain(Behaviour):
    """One agent's strain, updated at each of its status changes."""

    watches_status = True

    def __init__(self, scenario: Scenario, k: int, rng: np.random.Generator,
                 day_rng: Callable[[int], np.random.Generator],
                 quit_rng: np.random.Generator | None = None,
                 person_rng: Callable[[int], np.random.Generator] | None = None) -> None:
        """Agent ``k``'s strain; ``rng`` draws hostile calls.

        ``day_rng(day)`` draws the day's survey noise and absence, so they are common random
        numbers across scenarios whatever the calls were; ``quit_rng`` one uniform per
        working day for quitting (attrition), drawn up front for the same reason;
        ``person_rng(hire)`` the trait of each person who holds the seat.
        """
        p = scenario.stress
        self.p = p
        self.k = k
        self.rng = rng
        #: its uniforms (all that is drawn from ``rng``), a block at a time: the same numbers
        self.uniforms = Uniforms(rng)
        self.day_rng = day_rng
        self.watches_days = p.absence or p.attrition
        self.adjusts_handling = p.feedback or p.attrition
        self.days = scenario.horizon.days
        self.week = p.work_days_per_week
        self.per_year = scenario.schedule.days_per_year
        self.quit_u: list[float] = []
        if p.attrition:
            gen = quit_rng if quit_rng is not None else np.random.default_rng([k, 2])
            self.quit_u = gen.random(self.days).tolist()
        if p.hostile_probability <= 0 or p.hostile_probability >= 1:
            self.hostile_logit = None  # a certain answer: waiting changes nothing
        else:
            self.hostile_logit = math.log(p.hostile_probability / (1 - p.hostile_probability))
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
        self.deferred_load = p.deferred_break_load / HOUR
        self.extra = 0.0  # extra load now: a needed break put off (0.0 adds nothing, exactly)
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
        self.cal_day = 0  # the last day whose preceding days off are accounted for
        self.hire = 0  # which person holds the seat (0: the first)
        self.hired_on = 0  # the day the current person started
        self.back_on: int | None = None  # while vacant: the replacement's first day
        self.learn = 1.0  # today's handle-time multiplier of the learning curve
        self.person_rng = person_rng or (lambda hire: np.random.default_rng([k, 3, hire]))
        self.trait = self._trait()
        #: told each morning's quit hazard (k, day, hazard) when an observer subscribes
        self.hazard_seen: Callable[[int, int, float], None] | None = None
        #: absence luck: the sum over this seat's sickness and quit draws of (seat-days of
        #: the measured window the event takes) minus (their expectation before the draw),
        #: a martingale of mean exactly 0 whatever the regime (:meth:`set_window`)
        self.luck = 0.0
        if self.watches_days:
            self.set_window(0, self.days)

    def set_window(self, lo: int, hi: int) -> None:
        """Count absence luck over this run's days [lo, hi): the measured days.

        A measured run's are its own; a warm-up's lie after its end
        (:func:`sim.model.warm_start`). A quit on day d takes the days [d, replacement) of
        the window, known before the draw: ``w_d``; a spell begun on day d its first L days
        from d, whose expectation is :func:`spell_survival`'s. Each draw adds (what it
        took) - (its hazard) x (what it would take on average): no new draws, so the run is
        the same with or without it (Henderson and Glynn 2002: an approximating
        martingale; docs/negotiating.md).
        """
        self.window = (lo, hi)
        self.spell_cum = spell_survival(self.p, hi)
        self.quit_w = [max(0, min(self.replacement_day(d), hi) - max(d, lo))
                       for d in range(self.days)] if self.p.attrition else []

    def advance(self, now: float) -> None:
        """Bring A to ``now`` with the current status's load and time constant (exact).

        ``on_status`` has the same arithmetic inline (the hot path): change both together.
        """
        dt = now - self.t
        if dt <= 0:
            return
        s = self.status
        tau = self.tau[s]
        a = self.a
        if s != _LOGGED_OUT:
            lt = (self.load[s] + self.threat_load * self.threat + self.extra) * tau
            decay = _exp(-dt / tau)
            self.area += lt * dt + (a - lt) * tau * (1 - decay)
        else:  # no load logged out (load[LOGGED_OUT] is 0, so lt = (0 + 0) tau = 0)
            lt = 0.0
            decay = _exp(-dt / tau)
        self.a = lt + (a - lt) * decay
        self.t = now

    def defer_break(self, now: float) -> None:
        """A needed break is put off: the extra load runs from now until a rest."""
        if not self.extra and self.deferred_load:
            self.advance(now)
            self.extra = self.deferred_load

    def impulse(self, size: float, now: float) -> None:
        """A sudden rise of strain (a hostile call, a chase, a scored call)."""
        self.advance(now)
        self.a += size

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """The funnel: update A exactly, then switch to the new status's law.

        ``advance(now)`` inline, with the same expressions in the same order (bit for bit).
        """
        dt = now - self.t
        if dt > 0:
            s = self.status
            tau = self.tau[s]
            a = self.a
            if s != _LOGGED_OUT:
                lt = (self.load[s] + self.threat_load * self.threat + self.extra) * tau
                decay = _exp(-dt / tau)
                self.area += lt * dt + (a - lt) * tau * (1 - decay)
            else:
                lt = 0.0
                decay = _exp(-dt / tau)
            self.a = lt + (a - lt) * decay
            self.t = now
        if old == _LOGGED_OUT:
            self.catch_up(agent.day)
            self.area, self.day_start_s, self.hostile = 0.0, now, 0
            self.learn = self.learning(agent.day)
        if self.extra and new in _RESTS:
            self.extra = 0.0  # the need is met (or the day is over)
        if new == _TALK:
            p = self.p
            if not p.feedback and self.uniforms.random() < p.hostile_probability:
                self.a += p.hostile_impulse
                self.hostile += 1
        elif new == _LOGGED_OUT:
            self._end_day(agent.day, now)
        self.status = new

    # ------------------------------------------------------------ weeks and days off

    def days_off_before(self, day: int) -> int:
        """Calendar days off between working day ``day - 1`` and ``day`` (a weekend)."""
        w = self.week
        return 7 - w if w < 7 and day > 0 and day % w == 0 else 0

    def calendar_day(self, day: int) -> int:
        """Calendar day (from day 0's) of working day ``day``."""
        return (day // self.week) * 7 + day % self.week

    def catch_up(self, day: int) -> None:
        """The recovery of every day off before working day ``day`` not yet accounted for.

        Logged out, A decays with ``tau_off_h`` whatever else happens (zero load), so the
        extra days' factor ``e^(-n 24 h / tau_off)`` may be applied at any time before the
        next log-in; E recovers at twice its working-day rate, ``(1 - 2/tau_E)`` per day off
        (as on a sick day); T decays ``e^(-1/tau_T)`` per calendar day.
        """
        p = self.p
        while self.cal_day < day:
            self.cal_day += 1
            n = self.days_off_before(self.cal_day)
            if n:
                self.a *= math.exp(-n * DAY / (p.tau_off_h * HOUR))
                self.e *= max(0.0, 1 - 2 / p.tau_exhaustion_days) ** n
                self.threat *= math.exp(-n / p.tau_threat_days)

    # ---------------------------------------------------------------- work feedback

    def learning(self, day: int) -> float:
        """Handle-time multiplier of the seat's person on ``day`` (1 for the first holder)."""
        p = self.p
        if self.hire == 0 or p.learning_days <= 0:
            return 1.0
        left = 1 - (day - self.hired_on) / p.learning_days
        return 1 + (p.learning_start - 1) * max(0.0, left)

    def hostile_chance(self, wait_s: float) -> float:
        """Chance that a call answered after ``wait_s`` seconds is hostile (feedback)."""
        p = self.p
        if self.hostile_logit is None or p.hostile_per_wait_minute == 0:
            return p.hostile_probability
        z = self.hostile_logit + p.hostile_per_wait_minute * wait_s / 60
        return 1 / (1 + math.exp(-z))

    def handling(self, agent: Agent, call: int, talk: float, acw: float
                 ) -> tuple[float, float, float]:
        """Talk and wrap-up as this person works them now, and the added unresolved chance.

        With ``feedback``: the call's hostility is drawn here (its wait is known), then
        handle time is multiplied by ``min(cap, 1 + s (A - A_s))`` and the chance it is
        left unresolved raised by ``r (A - A_s)`` when A is above ``slowdown_strain`` A_s.
        A new hire's learning-curve multiplier applies on top (attrition).
        """
        p = self.p
        factor, extra = self.learn, 0.0
        if p.feedback:
            centre = agent.centre
            uni = self.uniforms  # self.rng.random(), from the block (Uniforms.random inline)
            u = next(uni.it, None)
            if u is None:
                u = uni.refill()
            # hostile_chance(wait) inline (once per call), the same expressions
            if self.hostile_logit is None or p.hostile_per_wait_minute == 0:
                chance = p.hostile_probability
            else:
                z = (self.hostile_logit + p.hostile_per_wait_minute
                     * (centre.answered_at[call] - centre.arrival[call]) / 60)
                chance = 1 / (1 + _exp(-z))
            if u < chance:
                self.a += p.hostile_impulse
                self.hostile += 1
            over = self.a - p.slowdown_strain
            if over > 0:
                factor *= min(p.slowdown_cap, 1 + p.slowdown_per_strain * over)
                extra = p.repeat_per_strain * over
        if factor == 1.0:
            return talk, acw, extra
        return talk * factor, acw * factor, extra

    # ------------------------------------------------------------------- attrition

    def quit_hazard(self) -> float:
        """Chance that the person quits today (:func:`quit_hazard` of the seat's E and T)."""
        return quit_hazard(self.p, self.e, self.threat, self.per_year)

    def replacement_day(self, day: int) -> int:
        """First working day at least ``hiring_delay_days`` calendar days after ``day``."""
        return replacement_day(day, self.week, self.p.hiring_delay_days)

    def _quit(self, day: int, presence: Presence) -> None:
        self.back_on = self.replacement_day(day)
        self.sick_days_left = 0
        presence.quit(self.k, day, self.back_on)

    def _hire(self, day: int, now: float, presence: Presence) -> None:
        """A new person in the seat: fresh (A = E = T = 0), learning."""
        self.back_on = None
        self.hire += 1
        self.hired_on = day
        self.a, self.e, self.threat, self.t = 0.0, 0.0, 0.0, now
        self.trait = self._trait()
        presence.hired(self.k, day)

    def _trait(self) -> float:
        """The person's own level on the survey's scale (between-person differences)."""
        sd = self.p.trait_sd
        return float(self.person_rng(self.hire).normal(0.0, sd)) if sd > 0 else 0.0

    def _end_day(self, day: int, now: float) -> None:
        p = self.p
        worked = now - self.day_start_s
        mean = self.area / worked if worked > 0 else self.a
        self.e += p.alpha * max(0.0, self.a - p.strain_baseline) - self.e / p.tau_exhaustion_days
        self.threat *= math.exp(-1.0 / p.tau_threat_days)
        measured = mean + self.e + self.trait + self.day_rng(day).normal(0.0, p.noise_sd)
        self.rows.append((self.k, day, mean, self.a, self.e, self.threat, measured,
                          self.hostile))

    def day_start(self, agent: Agent, day: int, presence: Presence) -> None:
        """Each morning: a vacant seat filled or not, a quit, still off sick, or a new spell.

        The quit comes first (the day's uniform from the seat's own stream), then
        sickness as before (its draws are those of the run without attrition).
        """
        p = self.p
        self.catch_up(day)
        if self.back_on is not None:
            if day < self.back_on:
                return  # vacant: marked absent ("quit") when the person left
            self._hire(day, agent.env.now, presence)
        if p.attrition:
            hazard = self.quit_hazard()
            if self.hazard_seen is not None:  # an observer (sim.people.observe.QuitHazard)
                self.hazard_seen(self.k, day, hazard)
            w = self.quit_w[day]
            if self.quit_u[day] < hazard:
                self.luck += w * (1 - hazard)
                self._quit(day, presence)
                return
            self.luck -= w * hazard
        if not p.absence:
            return
        if self.sick_days_left > 0:
            self.sick_days_left -= 1
        else:
            rng = self.day_rng(day)
            rng.normal()  # the survey's draw comes first in the day's stream
            hazard = absence_hazard(p, self.e)
            lo, hi = self.window
            cum = self.spell_cum
            expected = cum[hi - day] - cum[max(0, lo - day)] if day < hi else 0.0
            if rng.random() >= hazard:
                self.luck -= hazard * expected
                return
            if rng.random() < p.spell_short_share:
                length = int(rng.integers(1, 4))
            else:
                length = int(rng.geometric(1 / p.spell_long_mean_days))
            self.luck += max(0, min(day + length, hi) - max(day, lo)) - hazard * expected
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
            self.threat += p.warning_threat
        elif action == "evaluation":
            self.impulse(p.evaluation_impulse_punitive if punitive
                         else p.evaluation_impulse_developmental, now)
        elif action == "ranking":  # bottom quartile of a league table (sim/regime/policy.py)
            self.impulse(p.ranking_impulse, now)


def stress_table(strains: list[Strain]) -> pd.DataFrame:
    """One row per agent-day worked: the latent values and the survey's reading."""
    rows = [r for s in strains for r in s.rows]
    out = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    return out.astype({"agent": np.int64, "day": np.int64, "hostile_calls": np.int64})


def add_attrition_columns(presence: Presence, agent_days: pd.DataFrame,
                          absences: pd.DataFrame, agents: pd.DataFrame) -> None:
    """Who held each seat (``stress.attrition``), still pseudonymous: in place.

    ``agent_days.hire`` and ``absences.hire``: which person of the seat (0 its first holder,
    1 the first replacement...); ``absences.quit_start``: the day a person quit (the first
    of the vacancy); ``agents.hires``: replacements in the run.
    """
    a, d = agent_days["agent"].to_numpy(), agent_days["day"].to_numpy()
    agent_days["hire"] = presence.hire[a, d].astype(np.int64)
    a, d = absences["agent"].to_numpy(), absences["day"].to_numpy()
    absences["hire"] = presence.hire[a, d].astype(np.int64)
    absences["quit_start"] = presence.quit_day[a, d]
    agents["hires"] = (presence.hire[:, -1].astype(np.int64) if presence.hire.shape[1]
                       else np.zeros(len(agents), dtype=np.int64))
