"""The measurement regime: teams, who sees what, adherence rules, monitoring, responses.

The adherence rules are those people negotiate; the supervisor acts on what the regime
lets it see; the agents respond.

Every section is off by default (no teams, level "none"): a scenario without them runs
exactly as before. Each behavioural number has a default, a unit in its description and
a source or the word "assumption" (docs/evidence.md §6); an assumed number has a plausible
range that ``ccsim sensitivity`` varies it over.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from sim.scenario.base import _field, _Model
from sim.scenario.vocab import MEASUREMENT_LEVELS, LossReason

MeasurementLevel = Literal[MEASUREMENT_LEVELS]  # type: ignore[valid-type]


class Teams(_Model):
    """Agents belong to teams, each with a team leader (the supervisor)."""

    size: int = _field(
        0, ge=0, le=1000, description="Agents per team, filled in roster order within each "
        "shift (0: no teams; the whole centre is one group).", source="scenario choice",
    )
    min_group: int = _field(
        5, ge=1, le=1000, description="Smallest group an aggregate is reported for (team "
        "league tables, the run's `team_days`), so that no individual can be singled out. "
        "What ccsim writes without `--individual` uses at least 5 (the floor, "
        "`sim.measure.tables.PUBLISH_FLOOR`): a scenario can raise it, not lower it; only "
        "the run option `--individual` does. See Privacy in docs/policy.md.",
        source="privacy by design (docs/policy.md, Privacy); the threshold rule of Hundepool "
        "et al. (2012), Statistical Disclosure Control, ch. 4",
    )


class AdherenceRules(_Model):
    """How adherence exceptions are counted: the rules a local agreement can set."""

    convention: Literal["after_change", "exception_start"] = _field(
        "after_change", description='Where the tolerance applies: "after_change" forgives the '
        "first `schedule.tolerance_s` after each scheduled change (WFM suites such as NICE "
        'and Verint schedule adherence with a change tolerance), "exception_start" forgives '
        "the first seconds of every exception wherever it starts (Genesys Cloud WFM's "
        "adherence exception threshold).",
        source="vendor documentation of the conventions; scenario choice",
    )
    excused: tuple[LossReason, ...] = _field(
        (), description='Reasons whose lost time is not counted against the agent, e.g. '
        '["login_delay"] (the system\'s log-in delay); still reported, as excused.',
        source="docs/case.md: the 4-minute log-in delay counted against adherence",
    )
    paid_login_minutes: float = _field(
        0.0, ge=0, le=60, description="Paid time before the shift to log in: agents start "
        "logging in this early, so the system's delay falls outside the scheduled shift.",
        source="a negotiable remedy for the log-in delay; scenario choice",
    )
    exception_threshold_s: float = _field(
        120.0, ge=0, le=28_800, description="An exception (time out of adherence, after the "
        'tolerance) counts as a breach when it lasts longer than this ("late by more than 2 '
        'minutes").',
        source="docs/case.md: 'logged in 2 minutes late'; scenario choice",
    )
    warning_after: int = _field(
        3, ge=1, le=1000, description="Breaches within `warning_window_days` that make a "
        "warning (punitive feedback only).",
        source="docs/evidence.md §6: >=3 breaches in 30 days -> a warning (assumption)",
    )
    warning_window_days: float = _field(
        30.0, gt=0, le=366, description="Window, in days, in which breaches are counted.",
        source="docs/evidence.md §6 (assumption)",
    )


class Measurement(_Model):
    """Who sees an agent's numbers, and how adherence exceptions are counted."""

    level: MeasurementLevel = _field(
        "none", description='"none": nobody acts on the numbers; "team": managers see team '
        'aggregates, each agent sees their own; "individual": managers see each agent\'s '
        'numbers; "voluntary": an agent\'s numbers reach the manager only if the agent shares '
        "them (the 2016 local agreement).",
        source="docs/case.md; docs/policy.md",
    )
    share_probability: float = _field(
        0.0, ge=0, le=1, description='Under "voluntary": chance that an agent shares a given '
        "day's numbers with the manager.", source="assumption",
    )
    adherence: AdherenceRules = _field(
        AdherenceRules(), description="The adherence rules.", source="-",
    )


class Monitoring(_Model):
    """How closely work is watched, and what the feedback is for.

    The supervisor reviews each day's numbers after the day (as in the 2016 chats:
    "how much lunch did you have yesterday?"), or, with `realtime_alerts`, sees each
    adherence breach while it happens.
    Monitoring runs whatever the measurement level; what comes of it depends on the level
    (individual feedback only where the manager may see individual data).
    """

    recording: Literal["none", "audio", "audio_screen"] = _field(
        "none", description='Calls recorded: "audio", or "audio_screen" (audio and screen, as '
        "Telenor's TMR did until the data protection authority found it too extensive in "
        "2018).", source="docs/case.md; Datatilsynet 2018 (docs/evidence.md §5)",
    )
    recorded_share: float = _field(
        0.0, ge=0, le=1, description="Share of calls recorded (with `recording`).",
        source="scenario choice",
    )
    evaluations_per_agent_month: float = _field(
        0.0, ge=0, le=200, description="Calls scored per agent per month (from recorded calls, "
        "or listened to live when nothing is recorded).",
        source="COPC: three monitoring sessions per agent per month (vendor case study); "
        "surveys: 4-10 in 43% of centres (docs/evidence.md §4)",
    )
    listen_in_per_agent_month: float = _field(
        0.0, ge=0, le=200, description='Live listen-in sessions ("medlytt": a supervisor '
        "listens without recording) per agent per month; each scores the call heard.",
        source="Datatilsynet: live listening as the least intrusive measure for training",
    )
    evaluator_noise_sd: float = _field(
        0.1, ge=0, le=1, description="Standard deviation of an evaluator's error on a quality "
        "score (0-1 scale).", source="assumption (evaluators are calibrated, COPC)",
        unit="score units (0-1)", plausible=(0.05, 0.2),
    )
    score_resolved: float = _field(
        0.9, ge=0, le=1, description="Expected quality score of a scored call that was "
        "resolved (before the evaluator's noise); under punitive feedback a score below "
        "targets.quality is a breach.", source="assumption", unit="score units (0-1)",
        plausible=(0.8, 0.98),
    )
    score_unresolved: float = _field(
        0.4, ge=0, le=1, description="Expected quality score of a scored call that was "
        "repeated (left unresolved) or released early.", source="assumption",
        unit="score units (0-1)", plausible=(0.2, 0.6),
    )
    break_control: Literal["fixed", "flexible"] = _field(
        "fixed", description='"flexible": agents take short unplanned breaks when they need '
        "them, counted neither against adherence nor deferred; \"fixed\": breaks are the "
        "schedule's.", source="Holman 2002; Albulescu et al. 2022 micro-breaks (assumption)",
    )

    realtime_alerts: bool = _field(
        False, description="Real-time adherence alerts: the team leader sees a breach the "
        "moment its counted time passes `measurement.adherence.exception_threshold_s` (as a "
        "WFM real-time adherence screen shows it) and acts then, instead of at the review "
        "after the day. Needs level `individual` or `voluntary`.",
        source="WFM real-time adherence (RTA) screens; docs/case.md chats; scenario choice",
    )
    alert_tolerance_s: float | None = _field(
        None, ge=0, le=3600, description="Seconds an exception runs before it counts (the "
        "grace of the alert): replaces `schedule.tolerance_s` for the alerts and the "
        "end-of-run measure alike, so the two agree (none: `schedule.tolerance_s`).",
        source="docs/case.md: a 60 s tolerance; scenario choice",
    )
    league_table: bool = _field(
        False, description="Rank and publish each `league_table_days` days: agents on their "
        "adherence under level `individual`, teams (of at least `teams.min_group` agents) "
        "under level `team`; the bottom quartile gets a \"ranking\" action.",
        source="docs/evidence.md §1, §6 (league tables as a stressor); scenario choice",
    )
    league_table_days: int = _field(
        5, ge=1, le=366, description="Days between two league tables (5: a working week).",
        source="assumption (weekly publication)",
    )

    feedback: Literal["developmental", "punitive"] = _field(
        "developmental", description='"punitive": breaches are chased and counted toward '
        'warnings; "developmental": they are discussed in coaching, never warned.',
        source="Holman et al. 2002; Wells et al. 2007 (docs/evidence.md §1)",
    )


class Targets(_Model):
    """COPC-style targets; each optional (none configured: nothing changes).

    Attainment is reported as KPIs (``*_target_met``); the supervisor acts on the agent-level
    ones it can see (AHT, quality, adherence).
    """

    aht_s: float | None = _field(
        None, gt=0, le=86_400, description="Average handle time target in seconds (none: no "
        "target).", source="COPC-style operations targets; scenario choice",
    )
    quality: float | None = _field(
        None, gt=0, le=1, description="Quality score target (0-1) of evaluated calls (none: "
        "no target); a score below it is a breach under punitive feedback.",
        source="COPC: 95% quality (vendor case study; docs/evidence.md §5)",
    )
    service_level: float | None = _field(
        None, gt=0, le=1, description="Service-level goal for the day (share of calls "
        "answered within `service_level.threshold_s`, by `service_level.definition`); "
        "applies to the centre (the queue is shared; none: no target).",
        source="COPC-style operations targets (e.g. 80% in 20 s); scenario choice",
    )
    service_level_interval: bool | float = _field(
        False, description="Also a goal per reporting interval: true uses `service_level`, a "
        "number (0-1] is its own goal per interval, false: none.",
        source="COPC: service level measured per interval as well as per day",
        bounds=(0, 1),
    )
    abandon_rate: float | None = _field(
        None, ge=0, le=1, description="Highest abandon rate (abandoned / offered) allowed, for "
        "the centre (none: no target).", source="COPC-style operations targets; scenario choice",
    )
    adherence: float | None = _field(
        None, gt=0, le=1, description="Schedule adherence goal (the `adherence` KPI's "
        "measure), for `adherence_applies_to`; under level `individual` an agent's day below "
        "it is a breach (reason \"adherence_target\") the supervisor counts toward warnings.",
        source="COPC-style targets (adherence goals of 85-95% are common); scenario choice",
    )
    adherence_applies_to: Literal["agent", "team", "centre"] = _field(
        "agent", description="Whom the adherence target is measured on.",
        source="scenario choice",
    )
    aht_applies_to: Literal["agent", "team", "centre"] = _field(
        "agent", description="Whom the AHT target is measured on; agents respond to it only "
        'when it is theirs ("agent") and the manager sees it ("individual" level).',
        source="scenario choice",
    )

    @model_validator(mode="after")
    def _check_interval(self) -> Targets:
        v = self.service_level_interval
        if not isinstance(v, bool) and not 0 < v <= 1:
            raise ValueError(f"service_level_interval: {v!r} is not allowed; give true, false "
                             "or a per-interval goal above 0 and at most 1")
        if v is True and self.service_level is None:
            raise ValueError("service_level_interval: true needs targets.service_level (the "
                             "goal to apply per interval); give it, or a number as the goal")
        return self

    @property
    def interval_goal(self) -> float | None:
        """The per-interval service-level goal, if any."""
        v = self.service_level_interval
        if v is False:
            return None
        return self.service_level if v is True else float(v)

    @property
    def any_set(self) -> bool:
        """Whether any target is configured."""
        return (self.aht_s is not None or self.quality is not None
                or self.service_level is not None or self.interval_goal is not None
                or self.abandon_rate is not None or self.adherence is not None)


class Supervisor(_Model):
    """What a team leader does with what the regime lets them see."""

    chase_minutes: float = _field(
        2.0, ge=0, le=60, description="A chase (a message or a word about a breach) takes the "
        "agent off queue this long; 0 makes it a message that takes no time.",
        source="assumption", unit="minutes", plausible=(1.0, 5.0),
    )
    feedback_minutes: float = _field(
        10.0, ge=0, le=120, description="Developmental feedback on an evaluated call takes the "
        'agent off queue this long (as "Not Ready - Training"); 0: written feedback.',
        source="assumption", unit="minutes", plausible=(5.0, 20.0),
    )
    warning_minutes: float = _field(
        15.0, gt=0, le=240, description="A warning conversation takes the agent off queue this "
        'long (as "Not Ready - Manager Approved").', source="assumption",
        unit="minutes", plausible=(10.0, 30.0),
    )
    escalation_interval_days: float = _field(
        20.0, ge=0, le=366, description="A warning or coaching talk about adherence comes at "
        "most once in this many working days per agent; breaches in between are chased "
        "(punitive) and keep counting toward the next. A formal warning is an HR step toward "
        "dismissal, not a daily message (0: whenever the count is reached).",
        source="assumption (one formal step a month); it keeps the strict regime's "
        "warnings in the range a workplace sees (docs/stress.md, calibration)",
        unit="working days", plausible=(10.0, 40.0),
    )
    review_delay_minutes: float = _field(
        60.0, ge=0, le=1440, description="The end-of-day review (chases, warnings, scored "
        "calls) comes this long after the day's closing or its last log-out, whichever is "
        "later (at most just before the next day begins).",
        source="assumption (everyone has finished the day's last call)", unit="minutes",
        plausible=(15.0, 240.0),
    )


class Responses(_Model):
    """How agents respond to being measured (each rule documented with its source)."""

    defer_break_logit: float = _field(
        -2.2, ge=-20, le=20, description="Intercept of the chance (logit) that an agent puts "
        "off a needed unplanned break when adherence is policed individually (about 0.10 at "
        "baseline); team or no measurement: never.",
        source="docs/evidence.md §6; UNISON survey: >25% had toilet breaks restricted",
        unit="log-odds", plausible=(-3.0, -1.4),
    )
    defer_break_per_warning: float = _field(
        1.2, ge=0, le=20, description="Added to that logit per warning the agent has had "
        "within the warning window (measurement.adherence.warning_window_days).",
        source="docs/evidence.md §6 (assumption)", unit="log-odds per warning",
        plausible=(0.6, 1.8),
    )
    aht_talk_factor: float = _field(
        0.92, gt=0, le=2, description="Talk time multiplier of an agent under an individual "
        "AHT target.", source="docs/evidence.md §6; Oliva & Sterman 2001 (assumption)",
        unit="multiplier", plausible=(0.85, 0.98),
    )
    aht_acw_factor: float = _field(
        0.7, ge=0, le=2, description="After Call Work multiplier under an individual AHT "
        "target.", source="docs/evidence.md §6 (assumption)", unit="multiplier",
        plausible=(0.5, 0.9),
    )
    aht_extra_repeat: float = _field(
        0.15, ge=0, le=1, description="Added to a call's chance of being left unresolved "
        "(a repeat call) under an individual AHT target.",
        source="de Vericourt & Zhou 2005; docs/evidence.md §6 proposes 0.05, which left an AHT "
        "target a net service gain of several points; calibrated to §7 fact 6 (little or no "
        "net gain at steady state; docs/stress.md, Calibration)",
        unit="probability per call", plausible=(0.05, 0.25),
    )
    release_probability: float = _field(
        0.005, ge=0, le=1, description="Chance that an agent under an individual AHT target "
        "releases a call early (a tenth of its talk, no wrap-up); the caller calls again.",
        source="docs/evidence.md §6; Brown et al. 2005 (recalled; assumption)",
        unit="probability per call", plausible=(0.0025, 0.01),
    )
    release_talk_share: float = _field(
        0.1, ge=0, le=1, description="Share of its talk a call released early has (no "
        "wrap-up; its caller calls again).", source="assumption",
        unit="share of talk time", plausible=(0.05, 0.3),
    )
    defer_break_per_breach: float = _field(
        0.8, ge=0, le=20, description="Added to that logit per breach in the warning window.",
        source="docs/evidence.md §6 (assumption)", unit="log-odds per breach",
        plausible=(0.4, 1.2),
    )
    defer_break_limit_min: float = _field(
        30.0, gt=0, le=480, description="How long a needed unplanned break put off can be "
        "held: this long after the need arose it is taken anyway (after the call under way), "
        "and counts out of adherence like any unplanned break (action break_limit). A "
        "planned break or lunch before it meets the need. Each need is decided once.",
        source="assumption: guidance asks for toilet access without undue delay and names no "
        "number of minutes (UK Workplace (Health, Safety and Welfare) Regulations 1992 "
        "ACoP; US OSHA interpretation of 29 CFR 1910.141, 6 April 1998); holding on longer "
        "risks urinary tract infection and incontinence (NIOSH Science Blog, Bathroom "
        "Breaks, 2019); docs/evidence.md §3", unit="minutes", plausible=(15.0, 60.0),
    )
