"""The stress section: acute strain, exhaustion, threat, measured stress, sickness absence.

Every number is an assumption calibrated to correlational evidence (docs/evidence.md §6);
each field says so. Off by default: a scenario without ``[stress]`` runs exactly as before.
"""

from __future__ import annotations

from pydantic import model_validator

from sim.scenario.base import _field, _Model

_S6 = "docs/evidence.md §6 (assumption)"


class Stress(_Model):
    """Per-agent strain dynamics and what they lead to."""

    enabled: bool = _field(
        False, description="Track each agent's acute strain A, exhaustion E and threat T, and "
        "measure stress at the end of each shift. Measuring changes nothing in the queue.",
        source="docs/stress.md (the law)",
        unit="-",
    )
    absence: bool = _field(
        False, description="Sickness absence from exhaustion: a daily hazard of a spell "
        "(the agent does not log in; reported as absence, never as log-in delay).",
        source="Swider & Zimmerman 2010; Deery et al. 2002 (docs/evidence.md §2)",
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
        50.0, gt=0, le=1440, description="Time constant (minutes) of recovery on a break, "
        "lunch or other Not Ready time without load.",
        source="Albulescu et al. 2022 micro-breaks d = .35 (calibration target, "
        "calibrated at steady state (docs/stress.md, Calibration)); " + _S6,
        unit="minutes", plausible=(30.0, 90.0))
    tau_off_h: float = _field(4.2, gt=0, le=48, description="Time constant (hours) of "
                              "recovery between shifts.", source="two-process sleep model "
                              "recovery constant (Borbely/Daan); assumption",
                              unit="hours", plausible=(2.1, 6.3))
    hostile_probability: float = _field(
        0.10, ge=0, le=1, description="Chance that a call is hostile (verbal aggression).",
        source="Grandey et al. 2004: about 10 a day (docs/evidence.md §2)",
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
    deferred_break_load: float = _field(
        0.5, ge=0, le=10, description="Extra load per hour while an agent puts off a needed "
        "unplanned break (from the first deferral until a break, lunch or the end of the "
        "shift meets the need).", source=_S6, unit="strain units per hour",
        plausible=(0.25, 0.75))
    tau_threat_days: float = _field(14.0, gt=0, le=366, description="Days over which "
                                    "threat decays.", source=_S6,
                                    unit="days", plausible=(7.0, 21.0))
    control_buffer: float = _field(
        0.15, ge=0, le=1, description="c: load is multiplied by (1 - c x control).",
        source="Hausser et al. 2010 (buffering weak and inconsistent); §6 proposes 0.3, "
        "calibrated to 0.15 so that monitored vs unmonitored gives r = .11-.13 "
        "(docs/stress.md)", unit="share (0-1)", plausible=(0.075, 0.3))
    strain_baseline: float = _field(
        1.5, ge=0, le=100, description="A0: end-of-shift strain a day may leave without "
        "adding to exhaustion (about a typical day of base.toml); only strain above it "
        "accumulates.", source="assumption (docs/evidence.md §6 leaves A0 open)",
        unit="strain units", plausible=(0.75, 2.25))
    alpha: float = _field(0.05, ge=0, le=10, description="Share of the day's unrecovered "
                          "strain that becomes exhaustion E.", source="docs/evidence.md §6 "
                          "proposes 0.1; calibrated at steady state (docs/stress.md, Calibration)",
                          unit="share per day", plausible=(0.025, 0.1))
    tau_exhaustion_days: float = _field(21.0, gt=0, le=3660, description="Working days over "
                                        "which exhaustion decays (twice as fast on days "
                                        "off).", source=_S6,
                                        unit="working days", plausible=(10.5, 31.5))
    noise_sd: float = _field(0.25, ge=0, le=10, description="Standard deviation of the "
                             "survey's error on measured stress (half the between-person "
                             "SD, as docs/evidence.md §6 sets it).", source=_S6,
                             unit="survey scale units", plausible=(0.125, 0.375))
    trait_sd: float = _field(
        0.5, ge=0, le=10, description="Between-person standard deviation of the survey's "
        "reading: people differ in how stressed they report being whatever the job; each "
        "person keeps their own level (a new hire draws anew). It changes no dynamics.",
        source="calibrated: a 10-minute break then lowers strain by d = .35 of the survey's "
        "SD at tau_break_min = 60 (Albulescu et al. 2022; docs/stress.md)",
        unit="survey scale units", plausible=(0.25, 0.75))
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
        0.7, ge=0, le=10, description="Log-hazard increase per unit of exhaustion E.",
        source="Swider & Zimmerman 2010 R = .23 (absence); docs/evidence.md §6 proposes 0.35 "
        "with alpha 0.1: doubled with alpha halved, so the same strain history gives the "
        "same hazard", unit="log-hazard per unit of exhaustion", plausible=(0.35, 1.05))
    spell_short_share: float = _field(
        0.7, ge=0, le=1, description="Share of spells that last 1-3 days (uniform); the rest "
        "are geometric with mean `spell_long_mean_days`.", source=_S6,
        unit="share (0-1)", plausible=(0.35, 1.0))
    spell_long_mean_days: float = _field(10.0, ge=1, le=365, description="Mean length of a "
                                         "long spell (days).", source=_S6,
                                         unit="days", plausible=(5.0, 15.0))

    # --- weeks, feedback on work, attrition (issue 10, second part) ---
    work_days_per_week: int = _field(
        5, ge=1, le=7, description="A simulated day is a working day of the centre; after "
        "every this many the agents have 7 minus this many days off (a weekend): strain, "
        "exhaustion and threat recover over them in closed form. 7: no days off.",
        source="AML s. 10-4 (at most 40 hours per 7 days: five 8-hour days); assumption",
        unit="working days per 7 calendar days")
    feedback: bool = _field(
        False, description="Strain feeds back on work: handle time slows under high strain, "
        "strained agents leave more calls unresolved (repeat calls), and callers who waited "
        "long are more often hostile. Off: the queue is exactly that of the run without "
        "stress.", source="Dong et al. 2015; de Vericourt & Zhou 2005; Grandey et al. 2004 "
        "(docs/evidence.md §2, §3)", unit="-")
    slowdown_strain: float = _field(
        1.5, ge=0, le=100, description="Strain A above which handle time slows and more "
        "calls are left unresolved (feedback).", source=_S6,
        unit="strain units", plausible=(0.75, 2.25))
    slowdown_per_strain: float = _field(
        0.1, ge=0, le=10, description="Talk and wrap-up are multiplied by 1 + this x (A - "
        "slowdown_strain) when A is above it (feedback).",
        source="Dong, Feldman & Yom-Tov 2015 (slowdown under congestion); " + _S6,
        unit="relative handle time per strain unit", plausible=(0.05, 0.15))
    slowdown_cap: float = _field(
        1.5, ge=1, le=10, description="Largest strain slowdown multiplier of handle time "
        "(feedback).", source="assumption", unit="multiplier", plausible=(1.25, 2.0))
    repeat_per_strain: float = _field(
        0.02, ge=0, le=1, description="Added chance that a call is left unresolved (its "
        "caller calls again) per unit of strain above slowdown_strain (feedback).",
        source="de Vericourt & Zhou 2005; " + _S6, unit="probability per strain unit",
        plausible=(0.01, 0.03))
    hostile_per_wait_minute: float = _field(
        0.2, ge=0, le=10, description="Log-odds increase of a hostile call per minute the "
        "caller waited (feedback): p = logistic(logit(hostile_probability) + this x wait in "
        "minutes); a call answered at once keeps hostile_probability.",
        source="assumption (direction: Grandey et al. 2004; size not anchored)",
        unit="log-odds per minute waited", plausible=(0.1, 0.3))
    attrition: bool = _field(
        False, description="Quits from exhaustion and warnings: a quitter's seat is vacant "
        "(absence reason \"quit\") until a replacement arrives after hiring_delay_days, "
        "a new pseudonymous agent with E = T = 0 and a learning curve.",
        source="Swider & Zimmerman 2010 (burnout and turnover R = .33); Batt & Colvin 2011 "
        "(docs/evidence.md §2, §3)", unit="-")
    quit_base_monthly: float = _field(
        0.0165, ge=0, le=1, description="q0: monthly chance of quitting at E = T = 0. The "
        "monthly chance q is applied per working day as 1 - (1 - q)^(12 / "
        "schedule.days_per_year); 0.0165 gives about 20 quits per 100 heads a year.",
        source="ContactBabel UK 16-21% a year; Holman, Batt & Holtgrewe 2007 (docs/evidence.md "
        "§3); " + _S6, unit="probability per month", plausible=(0.0124, 0.0206))
    quit_exhaustion_effect: float = _field(
        0.9, ge=0, le=10, description="Log-hazard increase of quitting per unit of "
        "exhaustion E.", source="Swider & Zimmerman 2010 R = .33 (turnover); docs/evidence.md "
        "§6 proposes 0.45 with alpha 0.1: doubled with alpha halved (the same strain history "
        "gives the same hazard); target 5 holds at steady state",
        unit="log-hazard per unit of exhaustion", plausible=(0.45, 1.35))
    quit_threat_effect: float = _field(
        0.25, ge=0, le=10, description="Log-hazard increase of quitting per unit of threat T "
        "(about one per recent warning).", source="Batt & Colvin 2011 (direction); " + _S6,
        unit="log-hazard per unit of threat", plausible=(0.125, 0.375))
    hiring_delay_days: float = _field(
        28.0, ge=0, le=730, description="Calendar days from a quit until the replacement takes "
        "calls (recruiting and initial training); the replacement starts on the first "
        "working day at least this long after the quit day.", source="assumption",
        unit="calendar days", plausible=(14.0, 56.0))
    learning_start: float = _field(
        1.3, ge=1, le=10, description="A new hire's handle-time multiplier on the first "
        "day; it falls linearly to 1 over learning_days.",
        source="Gans, Liu, Mandelbaum, Shen & Ye 2010 (service times fall with tenure); "
        "size an assumption", unit="multiplier", plausible=(1.15, 1.45))
    learning_days: float = _field(
        40.0, ge=0, le=730, description="Working days until a new hire's handle time is that "
        "of the others.", source="Gans et al. 2010 (learning over the first months); "
        "assumption", unit="working days", plausible=(20.0, 60.0))

    # --- the regime's constants as they reach a person (issue 17): m, control, impulses ---
    monitoring_load_team: float = _field(
        0.05, ge=0, le=5, description="m, the extra load of being watched, when managers see "
        "team aggregates only (level \"team\"); the load is multiplied by (1 + m).",
        source=_S6, unit="share of load", plausible=(0.0, 0.1))
    monitoring_load_voluntary: float = _field(
        0.05, ge=0, le=5, description="m under level \"voluntary\" (an agent's numbers reach "
        "the manager only if shared).", source=_S6, unit="share of load",
        plausible=(0.0, 0.1))
    monitoring_load_individual: float = _field(
        0.06, ge=0, le=5, description="m under level \"individual\" without an AHT or "
        "quality target.", source="docs/evidence.md §6 proposes 0.15 (week 1); "
        "calibrated at steady state (docs/stress.md, Calibration)", unit="share of load",
        plausible=(0.03, 0.15))
    monitoring_load_targets: float = _field(
        0.1, ge=0, le=5, description="m under level \"individual\" with an AHT or quality "
        "target (individual statistics with targets).", source="docs/evidence.md §6 proposes "
        "0.25 (week 1); calibrated at steady state (docs/stress.md, Calibration)",
        unit="share of load", plausible=(0.05, 0.25))
    monitoring_load_audio: float = _field(
        0.08, ge=0, le=5, description="m at least this when calls are recorded as audio "
        "(monitoring.recording = \"audio\", recorded_share > 0).", source="docs/evidence.md "
        "§6 proposes 0.2 (week 1); calibrated at steady state (docs/stress.md, Calibration)",
        unit="share of load", plausible=(0.04, 0.2))
    monitoring_load_audio_screen: float = _field(
        0.14, ge=0, le=5, description="m at least this when audio and screen are recorded "
        "(monitoring.recording = \"audio_screen\", recorded_share > 0: TMR).",
        source="docs/evidence.md §5, §6 proposes 0.35 (week 1); calibrated at steady state "
        "(docs/stress.md, Calibration)",
        unit="share of load", plausible=(0.07, 0.35))
    monitoring_load_listen_in: float = _field(
        0.05, ge=0, le=5, description="m at least this when supervisors listen in live "
        "(monitoring.listen_in_per_agent_month > 0).", source=_S6, unit="share of load",
        plausible=(0.0, 0.1))
    developmental_factor: float = _field(
        0.6, ge=0, le=1, description="m is multiplied by this under developmental feedback "
        "(purpose matters less than intensity, but a developmental purpose lessens it).",
        source="Wells et al. 2007; docs/evidence.md §1, §6 (assumption)", unit="multiplier",
        plausible=(0.3, 1.0))
    control_none: float = _field(
        0.4, ge=0, le=1, description="Job control under measurement level \"none\" (the "
        "load is multiplied by 1 - control_buffer x control).", source=_S6,
        unit="share (0-1)", plausible=(0.2, 0.6))
    control_team: float = _field(
        0.5, ge=0, le=1, description="Job control under level \"team\".", source=_S6,
        unit="share (0-1)", plausible=(0.3, 0.7))
    control_voluntary: float = _field(
        0.6, ge=0, le=1, description="Job control under level \"voluntary\" (agents own "
        "their data).", source=_S6, unit="share (0-1)", plausible=(0.4, 0.8))
    control_individual: float = _field(
        0.2, ge=0, le=1, description="Job control under level \"individual\".", source=_S6,
        unit="share (0-1)", plausible=(0.1, 0.4))
    control_flexible_breaks: float = _field(
        0.3, ge=0, le=1, description="Added to job control when monitoring.break_control is "
        "\"flexible\" (at most 1 in all).",
        source="Holman 2002; Albulescu et al. 2022; docs/evidence.md §6 (assumption)",
        unit="share (0-1)", plausible=(0.15, 0.45))
    warning_threat: float = _field(
        1.0, ge=0, le=10, description="Added to threat T by a warning (T then decays over "
        "tau_threat_days and loads strain by threat_load per unit).", source=_S6,
        unit="units of threat", plausible=(0.5, 1.5))
    ranking_impulse: float = _field(
        0.3, ge=0, le=10, description="Strain added to an agent by a bottom-quartile place "
        "in a published league table (a \"ranking\" action); the same as a chase by default.",
        source="docs/evidence.md §1, §6 (league tables as a stressor; assumption)",
        unit="strain units", plausible=(0.15, 0.45))

    @model_validator(mode="after")
    def _check(self) -> Stress:
        if self.absence and not self.enabled:
            raise ValueError("absence: sickness absence follows exhaustion, so it needs "
                             "stress.enabled = true")
        for name in ("feedback", "attrition"):
            if getattr(self, name) and not self.enabled:
                raise ValueError(f"{name}: it follows strain, so it needs "
                                 "stress.enabled = true")
        return self
