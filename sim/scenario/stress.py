"""The stress section: acute strain, exhaustion, threat, measured stress, sickness absence.

Every number is an assumption calibrated to correlational evidence (STRESS-EVIDENCE.md §6);
each field says so. Off by default: a scenario without ``[stress]`` runs exactly as before.
"""

from __future__ import annotations

from pydantic import model_validator

from sim.scenario.base import _field, _Model

_S6 = "STRESS-EVIDENCE §6 (assumption)"


class Stress(_Model):
    """Per-agent strain dynamics and what they lead to."""

    enabled: bool = _field(
        False, description="Track each agent's acute strain A, exhaustion E and threat T, and "
        "measure stress at the end of each shift. Measuring changes nothing in the queue.",
        source="DESIGN.md §3",
        unit="-",
    )
    absence: bool = _field(
        False, description="Sickness absence from exhaustion: a daily hazard of a spell "
        "(the agent does not log in; reported as absence, never as log-in delay).",
        source="Swider & Zimmerman 2010; Deery et al. 2002 (STRESS-EVIDENCE §2)",
        unit="-",
    )
    load_talk: float = _field(1.0, ge=0, le=10, description="Load in Talk and Deferred "
                              "Transaction (units of strain per hour).", source=_S6,
                              unit="strain units per hour", plausible=(0.5, 1.5))
    load_acw: float = _field(0.5, ge=0, le=10, description="Load in After Call Work "
                             "(per hour).", source=_S6,
                             unit="strain units per hour", plausible=(0.25, 0.75))
    load_ready: float = _field(0.2, ge=0, le=10, description="Vigilance load while Ready "
                               "(per hour).", source=_S6,
                               unit="strain units per hour", plausible=(0.1, 0.3))
    load_meeting: float = _field(0.1, ge=0, le=10, description="Load in meetings and "
                                 "training (per hour).", source=_S6,
                                 unit="strain units per hour", plausible=(0.05, 0.15))
    tau_work_h: float = _field(2.0, gt=0, le=48, description="Time constant (hours) of "
                               "strain while working.", source="effort-recovery (Meijman & "
                               "Mulder 1998); " + _S6,
                               unit="hours", plausible=(1.0, 3.0))
    tau_break_min: float = _field(
        60.0, gt=0, le=1440, description="Time constant (minutes) of recovery on a break, "
        "lunch or other Not Ready time without load.",
        source="Albulescu et al. 2022 micro-breaks d = .35 (calibration target); " + _S6,
        unit="minutes", plausible=(30.0, 90.0))
    tau_off_h: float = _field(4.2, gt=0, le=48, description="Time constant (hours) of "
                              "recovery between shifts.", source="two-process sleep model "
                              "recovery constant (Borbely/Daan); assumption",
                              unit="hours", plausible=(2.1, 6.3))
    hostile_probability: float = _field(
        0.10, ge=0, le=1, description="Chance that a call is hostile (verbal aggression).",
        source="Grandey et al. 2004: about 10 a day (STRESS-EVIDENCE §2)",
        unit="probability per call", plausible=(0.075, 0.125))
    hostile_impulse: float = _field(0.3, ge=0, le=10, description="Strain added by a "
                                    "hostile call.", source=_S6,
                                    unit="strain units", plausible=(0.15, 0.45))
    chase_impulse: float = _field(0.3, ge=0, le=10, description="Strain added by a chase "
                                  "about a breach.", source=_S6,
                                  unit="strain units", plausible=(0.15, 0.45))
    evaluation_impulse_punitive: float = _field(
        0.2, ge=0, le=10, description="Strain added by a scored call under punitive "
        "feedback.", source="Holman et al. 2002; " + _S6,
        unit="strain units", plausible=(0.1, 0.3))
    evaluation_impulse_developmental: float = _field(
        0.05, ge=0, le=10, description="Strain added by a scored call under developmental "
        "feedback.", source="Holman et al. 2002; Wells et al. 2007; " + _S6,
        unit="strain units", plausible=(0.025, 0.075))
    threat_load: float = _field(0.1, ge=0, le=10, description="Background load per hour per "
                                "unit of threat T (T rises by 1 per warning).", source=_S6,
                                unit="strain units per hour per unit of threat",
                                plausible=(0.05, 0.15))
    tau_threat_days: float = _field(14.0, gt=0, le=366, description="Days over which "
                                    "threat decays.", source=_S6,
                                    unit="days", plausible=(7.0, 21.0))
    control_buffer: float = _field(0.3, ge=0, le=1, description="c: load is multiplied by "
                                   "(1 - c x control).", source="Hausser et al. 2010; " + _S6,
                                   unit="share (0-1)", plausible=(0.15, 0.45))
    strain_baseline: float = _field(
        1.5, ge=0, le=100, description="A0: end-of-shift strain a day may leave without "
        "adding to exhaustion (about a typical day of base.toml); only strain above it "
        "accumulates.", source="assumption (STRESS-EVIDENCE §6 leaves A0 open)",
        unit="strain units", plausible=(0.75, 2.25))
    alpha: float = _field(0.1, ge=0, le=10, description="Share of the day's unrecovered "
                          "strain that becomes exhaustion E.", source=_S6,
                          unit="share per day", plausible=(0.05, 0.15))
    tau_exhaustion_days: float = _field(21.0, gt=0, le=3660, description="Working days over "
                                        "which exhaustion decays (twice as fast on days "
                                        "off).", source=_S6,
                                        unit="working days", plausible=(10.5, 31.5))
    noise_sd: float = _field(0.15, ge=0, le=10, description="Standard deviation of the "
                             "survey's error on measured stress.", source=_S6,
                             unit="survey scale units", plausible=(0.075, 0.225))
    high_threshold: float = _field(2.0, ge=0, le=100, description="Measured stress above "
                                   "this counts as high (`stress_high_share`); a typical "
                                   "day of base.toml reads about 1.5.",
                                   source="assumption",
                                   unit="survey scale units")
    absence_base_hazard: float = _field(
        0.0153, ge=0, le=1, description="Daily chance of starting a sickness spell at zero "
        "exhaustion: with the spell lengths below, about 6.3% of days lost.",
        source="SSB table 301240: 6.2-6.5% of working days lost in Norway; " + _S6,
        unit="probability per day", plausible=(0.0115, 0.0191))
    absence_exhaustion_effect: float = _field(
        0.35, ge=0, le=10, description="Log-hazard increase per unit of exhaustion E.",
        source="Swider & Zimmerman 2010 R = .23 (absence); " + _S6,
        unit="log-hazard per unit of exhaustion", plausible=(0.175, 0.525))
    spell_short_share: float = _field(
        0.7, ge=0, le=1, description="Share of spells that last 1-3 days (uniform); the rest "
        "are geometric with mean `spell_long_mean_days`.", source=_S6,
        unit="share (0-1)", plausible=(0.35, 1.0))
    spell_long_mean_days: float = _field(10.0, ge=1, le=365, description="Mean length of a "
                                         "long spell (days).", source=_S6,
                                         unit="days", plausible=(5.0, 15.0))

    @model_validator(mode="after")
    def _check(self) -> Stress:
        if self.absence and not self.enabled:
            raise ValueError("absence: sickness absence follows exhaustion, so it needs "
                             "stress.enabled = true")
        return self
