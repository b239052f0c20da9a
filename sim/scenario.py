"""The scenario schema: frozen, validated models, and TOML loading with ``extends``.

A scenario is data. It is loaded from TOML (never executed), merged over the file it
``extends``, validated strictly, and frozen. Every error names the file, the dotted field
path, the value and what is allowed, so a user never meets a traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

DAY_S = 86_400.0


class ScenarioError(ValueError):
    """A scenario (file, dict or override) is not valid; the message says where and why."""


# --------------------------------------------------------------------------- helpers

_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


def parse_clock(value: Any) -> float:
    """Turn ``"HH:MM"`` or ``"HH:MM:SS"`` (00:00 to 24:00) into seconds after midnight."""
    if isinstance(value, str):
        m = _CLOCK.match(value.strip())
        if m:
            h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
            secs = h * 3600.0 + mi * 60.0 + s
            if secs <= DAY_S:
                return secs
    raise ValueError(f'expected a clock time "HH:MM" between 00:00 and 24:00, got {value!r}')


def format_clock(seconds: float) -> str:
    """Format seconds after midnight as ``"HH:MM"`` (``"HH:MM:SS"`` when needed)."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


Clock = Annotated[
    float,
    BeforeValidator(parse_clock),
    PlainSerializer(format_clock, return_type=str),
]

#: longest scenario name (it becomes part of output folder names)
NAME_MAX = 120
_SAFE_NAME = re.compile(r"\w[\w .,=@+:;()\[\]{}'\"-]*")


def check_name(value: str) -> str:
    """A scenario name that is safe as one folder name: no path separators, no climbing out."""
    if len(value) > NAME_MAX or not _SAFE_NAME.fullmatch(value):
        raise ValueError(
            f"{value[:NAME_MAX + 20]!r} is not allowed: a name starts with a letter or digit, "
            "uses only letters, digits, spaces and _ - . , = @ + : ; ( ) [ ] { } ' \" (no / or "
            f"\\), and has at most {NAME_MAX} characters")
    return value


SafeName = Annotated[str, AfterValidator(check_name)]


def _to_tuples(value: Any) -> Any:
    """TOML arrays arrive as lists; frozen models hold tuples."""
    if isinstance(value, list):
        return tuple(_to_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_tuples(v) for k, v in value.items()}
    return value


def _field(default: Any = ..., *, description: str, source: str, **kw: Any) -> Any:
    """A model field whose description and source (or "assumption") the docs show."""
    return Field(default, description=description, json_schema_extra={"source": source}, **kw)


class _Model(BaseModel):
    # no inf or nan anywhere: every quantity in a scenario is a finite number (callers who
    # never hang up are patience.distribution = "none", not an infinite mean)
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- sections


class Horizon(_Model):
    """How long a run lasts and how a day is cut into reporting intervals."""

    days: int = _field(
        1, ge=1, le=3660, description="Days simulated; state carries over between days.",
        source="scenario choice",
    )
    open: Clock = _field(
        description='Opening time of the queue each day ("HH:MM").', source="scenario choice"
    )
    hours: float = _field(
        gt=0, description="Opening hours per day (calls arrive only while open); more than 24 "
        "only in a single-day stationary run.", source="scenario choice",
    )
    interval_minutes: float = _field(
        15.0, gt=0, description="Length of a reporting interval; the demand profile has one "
        "weight per interval.", source="industry convention (15-minute ACD intervals)",
    )
    warmup_minutes: float = _field(
        0.0, ge=0, description="Calls arriving in the first minutes of day 0 are simulated but "
        "left out of KPIs (steady-state runs only; whole days need none).",
        source="simulation methodology",
    )

    @model_validator(mode="after")
    def _check(self) -> Horizon:
        if self.days > 1 and self.open + self.hours * 3600 > DAY_S:
            raise ValueError(
                f"hours: opening hours must end by 24:00 when days > 1 (open "
                f"{format_clock(self.open)} + {self.hours} h)"
            )
        n = self.hours * 60 / self.interval_minutes
        if abs(n - round(n)) > 1e-9:
            raise ValueError(
                f"hours: {self.hours} is not a whole number of intervals of "
                f"{self.interval_minutes} minutes"
            )
        if self.warmup_minutes >= self.hours * 60:
            raise ValueError(f"warmup_minutes: {self.warmup_minutes} must be shorter than the "
                             f"opening hours ({self.hours * 60:g} minutes)")
        return self

    @property
    def intervals_per_day(self) -> int:
        """Number of reporting intervals in a day's opening hours."""
        return round(self.hours * 60 / self.interval_minutes)

    @property
    def interval_s(self) -> float:
        """Reporting interval length in seconds."""
        return self.interval_minutes * 60.0


class Demand(_Model):
    """How many calls arrive and when (a non-homogeneous Poisson process)."""

    calls_per_day: float = _field(
        gt=0, description="Expected calls offered per day (before the busyness factor).",
        source="scenario choice",
    )
    profile: tuple[float, ...] = _field(
        description="Relative call volume per reporting interval over the opening hours "
        "(any non-negative weights; they are normalised).", source="scenario choice",
        min_length=1,
    )
    busyness_cv: float = _field(
        0.0, ge=0, le=2, description="Coefficient of variation of a day-level Gamma busyness "
        "factor (mean 1) that scales the whole day; 0 gives plain Poisson arrivals.",
        source="assumption; real centres show over-dispersion of daily volume (typ. 0.05-0.15)",
    )

    @model_validator(mode="after")
    def _check(self) -> Demand:
        if any(not math.isfinite(w) or w < 0 for w in self.profile):
            raise ValueError(f"profile: weights must be finite and >= 0, got {self.profile}")
        if sum(self.profile) <= 0:
            raise ValueError("profile: weights must not all be zero")
        return self


class Duration(_Model):
    """A positive random duration given by its mean and coefficient of variation."""

    distribution: Literal["lognormal", "exponential", "gamma", "fixed"] = _field(
        "lognormal", description="Family of the distribution.",
        source="log-normal service times: Brown et al. (2005), JASA 100(469)",
    )
    mean_s: float = _field(ge=0, description="Mean in seconds (0 means none).", source="-")
    cv: float = _field(
        1.0, ge=0, le=10, description="Coefficient of variation (ignored by exponential: 1, "
        "and fixed: 0).", source="assumption",
    )

    @model_validator(mode="after")
    def _check(self) -> Duration:
        if self.distribution in ("lognormal", "gamma") and self.mean_s > 0 and self.cv == 0:
            raise ValueError(f"cv: must be > 0 for a {self.distribution} distribution; use "
                             'distribution = "fixed" for a constant')
        return self


class Patience(_Model):
    """How long a caller is willing to wait before hanging up."""

    distribution: Literal["exponential", "lognormal", "gamma", "fixed", "none"] = _field(
        "exponential", description='Family; "none" means callers never abandon.',
        source="exponential patience: Garnett, Mandelbaum & Reiman (2002), MSOM 4(3)",
    )
    mean_s: float = _field(
        180.0, gt=0, description="Mean patience in seconds.",
        source="assumption (illustrative: a few minutes)",
    )
    cv: float = _field(1.0, gt=0, le=10, description="Coefficient of variation (lognormal, "
                       "gamma).", source="assumption")


class Calls(_Model):
    """Attributes drawn for every call."""

    talk: Duration = _field(
        Duration(distribution="lognormal", mean_s=255.0, cv=0.8),
        description="Talk time.", source="assumption (illustrative; AHT ~5 min)",
    )
    acw: Duration = _field(
        Duration(distribution="lognormal", mean_s=45.0, cv=0.6),
        description="After Call Work (wrap-up) time.",
        source="assumption (illustrative; ACW ~15% of AHT)",
    )
    patience: Patience = _field(
        Patience(), description="Caller patience (abandonment).", source="assumption",
    )
    acw_callout: bool = _field(
        False, description="May the ACD give a call to an agent in After Call Work when no "
        "agent is Ready (the rest of the wrap-up is dropped)? Agents with a break or "
        "activity due, or whose shift is over, are never called out.",
        source="assumption; an ACD configuration choice (off: ACW is protected)",
    )


class Shift(_Model):
    """A shift pattern worked every day of the horizon."""

    start: Clock = _field(description='Log-in time ("HH:MM").', source="scenario choice")
    hours: float = _field(
        gt=0, description="Shift length in hours (agents finish the current call after it).",
        source="scenario choice",
    )
    agents: int = _field(ge=0, description="Agents working this shift.", source="scenario choice")


class Staffing(_Model):
    """Who is there: named shift patterns and their head counts."""

    agents: int | None = _field(
        None, ge=1, description="Optional total head count: if set, agents are distributed "
        "over the shifts in proportion to their `agents` (largest remainder).",
        source="scenario choice",
    )
    shifts: dict[str, Shift] = _field(
        description="Shift patterns by name.", source="scenario choice", min_length=1,
    )

    @model_validator(mode="after")
    def _check(self) -> Staffing:
        for name in self.shifts:
            if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
                raise ValueError(f"shifts: name {name!r} may use letters, digits, _ and - only")
        if sum(s.agents for s in self.shifts.values()) == 0:
            raise ValueError("shifts: at least one shift needs agents > 0")
        return self

    def head_counts(self) -> dict[str, int]:
        """Agents per shift after applying the optional total (largest remainder)."""
        base = {n: s.agents for n, s in self.shifts.items()}
        if self.agents is None:
            return base
        total = sum(base.values())
        quotas = {n: self.agents * c / total for n, c in base.items()}
        counts = {n: math.floor(q) for n, q in quotas.items()}
        left = self.agents - sum(counts.values())
        for n in sorted(quotas, key=lambda n: (counts[n] - quotas[n], n))[:left]:
            counts[n] += 1
        return counts



#: planned-activity kinds, each with the IWS Not Ready status it is worked in
ACTIVITY_KINDS: tuple[str, ...] = (
    "break", "lunch", "meeting", "training", "manager_approved", "deferred_transaction",
)
ActivityKind = Literal[
    "break", "lunch", "meeting", "training", "manager_approved", "deferred_transaction"
]
#: schedule states adherence compares: on queue (Ready/Talk/ACW) or one activity kind
SCHEDULE_STATES: tuple[str, ...] = ("on_queue", *ACTIVITY_KINDS)
ScheduleState = Literal[
    "on_queue", "break", "lunch", "meeting", "training", "manager_approved",
    "deferred_transaction",
]
_NAME = re.compile(r"[A-Za-z0-9_\-]+")


class Activity(_Model):
    """A planned activity of the shifts it applies to: a break, lunch, meeting, ROS, ..."""

    kind: ActivityKind = _field(
        description="What it is; the agent works it in the matching IWS status (break -> "
        '"Not Ready - Break", lunch -> "Not Ready - Lunch", training -> "Not Ready - '
        'Training", ...).', source="Genesys IWS statuses of the case (CASE.md)",
    )
    minutes: float = _field(gt=0, le=1440, description="Planned length in minutes.",
                            source="scenario choice")
    shifts: tuple[str, ...] = _field(
        (), description="Names of the shifts it applies to; empty means every shift.",
        source="scenario choice",
    )
    offset_minutes: float | None = _field(
        None, ge=0, description="Fixed start, minutes after the shift's start, the same for "
        "every agent (give this or `window_minutes`).", source="scenario choice",
    )
    window_minutes: tuple[float, float] | None = _field(
        None, description="Earliest and latest start, minutes after the shift's start; "
        "`stagger` places each agent's start inside it.", source="scenario choice",
    )
    stagger: Literal["even", "none"] = _field(
        "even", description='How starts are placed in the window: "even" spreads the shift\'s '
        'agents evenly over it (agent j of n at j/(n-1) of the way), "none" puts everyone at '
        "its start.", source="WFM practice: staggered breaks keep coverage",
    )
    step_minutes: float = _field(
        5.0, gt=0, description="Staggered starts are rounded down to multiples of this.",
        source="assumption (schedulers plan in 5-minute steps)",
    )
    per_year: float | None = _field(
        None, gt=0, description="If set, the activity is not daily: each agent has it this "
        "many times a year, spread evenly over the days and over the shift's agents (e.g. "
        "ROS conversations: 10).",
        source="CASE.md: fixed ROS conversations, about 10 a year per agent",
    )
    keep_length: bool | None = _field(
        None, description="If the agent starts late (finishing a call), does the activity "
        "keep its full length (true) or end at its planned end (false)? Default: true for "
        "break and lunch (the agent's entitlement), false for the rest (fixed meetings).",
        source="assumption",
    )

    @model_validator(mode="after")
    def _check(self) -> Activity:
        if (self.offset_minutes is None) == (self.window_minutes is None):
            raise ValueError("offset_minutes: give exactly one of offset_minutes (a fixed start) "
                             "or window_minutes (a staggered start)")
        if self.window_minutes is not None:
            lo, hi = self.window_minutes
            if not 0 <= lo <= hi:
                raise ValueError(f"window_minutes: expected [earliest, latest] with 0 <= earliest"
                                 f" <= latest, got {list(self.window_minutes)}")
        for s in self.shifts:
            if not _NAME.fullmatch(s):
                raise ValueError(f"shifts: {s!r} is not a shift name")
        return self

    @property
    def first_start(self) -> float:
        """Earliest start, minutes after shift start."""
        return self.offset_minutes if self.window_minutes is None else self.window_minutes[0]

    @property
    def last_end(self) -> float:
        """Latest planned end, minutes after shift start."""
        last = self.offset_minutes if self.window_minutes is None else self.window_minutes[1]
        return last + self.minutes

    @property
    def keeps_length(self) -> bool:
        """Whether a late start keeps the full length (see ``keep_length``)."""
        if self.keep_length is not None:
            return self.keep_length
        return self.kind in ("break", "lunch")


class Schedule(_Model):
    """Planned activities per shift, the break rule they must meet, and adherence settings."""

    activities: dict[str, Activity] = _field(
        {}, description="Planned activities by name; none means agents are on queue for the "
        "whole shift (the Erlang validation model).", source="scenario choice",
    )
    min_break_minutes: float = _field(
        30.0, ge=0, description="Minimum planned break + lunch minutes per shift of "
        "`min_break_shift_hours` or more, checked whenever activities are given (0 turns "
        "the rule off).",
        source="Norwegian Working Environment Act (arbeidsmiljoloven) s. 10-9: breaks of at "
        "least 30 minutes in total when the working day is at least 8 hours",
    )
    min_break_shift_hours: float = _field(
        8.0, gt=0, description="Shifts at least this long must meet `min_break_minutes`.",
        source="arbeidsmiljoloven s. 10-9",
    )
    days_per_year: float = _field(
        230.0, gt=0, le=366, description="Working days per agent per year, to spread "
        "`per_year` activities.", source="assumption (about 230 working days a year)",
    )
    tolerance_s: float = _field(
        60.0, ge=0, description="Adherence grace: the first seconds after each scheduled "
        "state change in which being in another state is not counted against adherence.",
        source="WFM practice (typical 1-minute adherence tolerance); assumption",
    )
    tolerance_by_state: dict[ScheduleState, float] = _field(
        {}, description="Grace per schedule state entered (on_queue, break, lunch, ...), "
        "overriding `tolerance_s`.", source="assumption",
    )

    @model_validator(mode="after")
    def _check(self) -> Schedule:
        for name in self.activities:
            if not _NAME.fullmatch(name):
                raise ValueError(f"activities: name {name!r} may use letters, digits, _ and - "
                                 "only")
        for state, tol in self.tolerance_by_state.items():
            if not (tol >= 0 and math.isfinite(tol)):
                raise ValueError(f"tolerance_by_state.{state}: must be >= 0 seconds, got {tol}")
        for name, a in self.activities.items():
            if a.per_year is not None and a.per_year > self.days_per_year:
                raise ValueError(f"activities.{name}.per_year: {a.per_year} is more than once "
                                 f"a working day (days_per_year = {self.days_per_year:g})")
        return self

    def tolerance(self, state: str) -> float:
        """Grace in seconds after a scheduled change into ``state``."""
        return self.tolerance_by_state.get(state, self.tolerance_s)


class ReturnTiming(_Model):
    """How punctually agents come back from one kind of planned activity."""

    late_probability: float = _field(
        0.0, ge=0, le=1, description="Chance of coming back late.", source="assumption",
    )
    late: Duration = _field(
        Duration(distribution="exponential", mean_s=90.0),
        description="How late, when late.", source="assumption (illustrative)",
    )
    early_probability: float = _field(
        0.0, ge=0, le=1, description="Chance of coming back early (the activity is "
        "shortened).", source="assumption",
    )
    early: Duration = _field(
        Duration(distribution="exponential", mean_s=60.0),
        description="How early, when early (at most the activity's length).",
        source="assumption (illustrative)",
    )

    @model_validator(mode="after")
    def _check(self) -> ReturnTiming:
        if self.late_probability + self.early_probability > 1:
            raise ValueError(f"late_probability: late ({self.late_probability}) + early "
                             f"({self.early_probability}) probabilities exceed 1")
        return self


class Behaviour(_Model):
    """How agents deviate from the schedule (each agent draws from its own random stream)."""

    login_delay_min_s: float = _field(
        0.0, ge=0, description="Log-in delay (a system delay, not the agent's fault: the "
        "agent is Logged Out meanwhile) is uniform between this and `login_delay_max_s`.",
        source="CASE.md: logging in took 4 minutes (2016 chat logs)",
    )
    login_delay_max_s: float = _field(
        0.0, ge=0, description="Upper end of the uniform log-in delay (0 = none).",
        source="CASE.md: logging in took 4 minutes (2016 chat logs)",
    )
    returns: dict[ActivityKind, ReturnTiming] = _field(
        {}, description="Late and early returns per activity kind (kinds not listed: on "
        "time).", source="assumption",
    )
    unplanned_breaks_per_hour: float = _field(
        0.0, ge=0, le=60, description='Rate at which a need for an unplanned "Not Ready - '
        'Break" (e.g. a toilet visit) arises while on queue; it is taken at the next call '
        "end (or at once if idle); needs arising in a break or activity are met by it.",
        source="assumption",
    )
    unplanned_break: Duration = _field(
        Duration(distribution="lognormal", mean_s=240.0, cv=0.5),
        description="Length of an unplanned break.", source="assumption (illustrative)",
    )

    @model_validator(mode="after")
    def _check(self) -> Behaviour:
        if self.login_delay_max_s < self.login_delay_min_s:
            raise ValueError(f"login_delay_max_s: {self.login_delay_max_s} is below "
                             f"login_delay_min_s ({self.login_delay_min_s})")
        return self


SL_DEFINITIONS: dict[str, str] = {
    "offered": "answered within T / offered (abandoned and closed calls count against)",
    "answered": "answered within T / answered (ignores abandons)",
    "answered_and_late_abandons": (
        "answered within T / (answered + abandoned or closed after T)"
    ),
    "offered_excluding_short_abandons": (
        "answered within T / (offered - abandoned within the short-abandon time)"
    ),
}


class ServiceLevel(_Model):
    """How service level is defined and what it is measured against."""

    threshold_s: float = _field(
        20.0, ge=0, description="T: answered within this many seconds counts as in service.",
        source="industry convention (80/20)",
    )
    target: float = _field(
        0.8, gt=0, le=1, description="Target share (e.g. 0.8 for 80/20).",
        source="industry convention (80/20)",
    )
    definition: Literal[
        "offered", "answered", "answered_and_late_abandons", "offered_excluding_short_abandons"
    ] = _field(
        "offered", description="Which service-level formula the `service_level` KPI uses; see "
        "the KPI docs.", source="industry practice varies; 'offered' is the strictest",
    )
    short_abandon_s: float = _field(
        5.0, ge=0, description="Abandons within this many seconds are not counted by "
        "`offered_excluding_short_abandons`.", source="industry convention",
    )


class Closing(_Model):
    """What happens to calls still waiting when the queue closes at the end of opening hours.

    At closing the ACD stops taking calls (no call arrives after it). Nothing ever waits
    over midnight: a run's every call ends answered, abandoned or ``closed`` on the day it
    arrived.
    """

    rule: Literal["serve", "close"] = _field(
        "serve", description='"serve": agents still logged in at closing stay on (overtime, '
        "in agent_days.overtime_s) until the queue is empty; calls that no agent is left to "
        'serve, or that still wait when max_overtime_minutes runs out, end as "closed". '
        '"close": every call still waiting at closing ends at once as "closed" (a message '
        "asks the caller to call back) and agents log off at their shift end.",
        source="ACD practice: the queue closes to new calls and the calls in it are served; "
        "assumption for the default",
    )
    max_overtime_minutes: float = _field(
        60.0, ge=0, description='Under "serve", calls still waiting this long after closing '
        'end as "closed" and agents leave after their current call; never later than '
        "midnight of a multi-day run.",
        source="assumption",
    )

    @model_validator(mode="after")
    def _check(self) -> Closing:
        if not math.isfinite(self.max_overtime_minutes):
            raise ValueError(f"max_overtime_minutes: must be a finite number of minutes, got "
                             f"{self.max_overtime_minutes}")
        return self


class Scenario(_Model):
    """One contact centre to simulate: validated, frozen, hashable."""

    name: SafeName = _field(
        "scenario", description="Short name (defaults to the file name): starts with a letter "
        "or digit; letters, digits, spaces and `_ - . , = @ + : ; ( ) [ ] { } ' \"` only, at "
        f"most {NAME_MAX} characters (it names output folders, so no `/`, `\\` or leading "
        "`.`).", source="-",
    )
    description: str = _field(description="What this scenario is.", source="-", min_length=1)
    rationale: str = _field(description="Why it exists / where its numbers come from.",
                            source="-", min_length=1)
    horizon: Horizon = _field(description="Run length and intervals.", source="-")
    demand: Demand = _field(description="Call arrivals.", source="-")
    calls: Calls = _field(Calls(), description="Call attributes.", source="-")
    staffing: Staffing = _field(description="Shifts and head counts.", source="-")
    service_level: ServiceLevel = _field(
        ServiceLevel(), description="Service-level definition and target.", source="-"
    )
    schedule: Schedule = _field(
        Schedule(), description="Planned activities (breaks, lunch, meetings, training) and "
        "adherence settings.", source="-",
    )
    behaviour: Behaviour = _field(
        Behaviour(), description="Agents' deviations from the schedule: log-in delay, late "
        "and early returns, unplanned breaks.", source="-",
    )
    closing: Closing = _field(
        Closing(), description="What happens to calls still waiting at closing time.",
        source="-",
    )

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        n = self.horizon.intervals_per_day
        if len(self.demand.profile) != n:
            raise ValueError(
                f"demand.profile: has {len(self.demand.profile)} weights but the opening hours "
                f"({self.horizon.hours:g} h of {self.horizon.interval_minutes:g}-minute "
                f"intervals) have {n} intervals; give one weight per interval"
            )
        for name, sh in self.staffing.shifts.items():
            if self.horizon.days > 1 and sh.hours > 24:
                raise ValueError(f"staffing.shifts.{name}.hours: {sh.hours} h is longer than "
                                 "24 h, allowed only in a single-day run")
            if self.horizon.days > 1 and sh.start >= DAY_S:
                raise ValueError(f"staffing.shifts.{name}.start: 24:00 is the end of the day; "
                                 "a shift must start before 24:00 when days > 1 (use 00:00 "
                                 "for a shift starting at midnight)")
            if self.horizon.days > 1 and sh.start + sh.hours * 3600 > DAY_S + 1e-6:
                raise ValueError(
                    f"staffing.shifts.{name}.hours: the shift starts at "
                    f"{format_clock(sh.start)} and lasts {sh.hours:g} h, so it would end after "
                    "midnight; shifts must end by 24:00 when days > 1 (split a night shift "
                    "into one ending at 24:00 and one starting at 00:00)")
        self._check_schedule()
        return self

    def _check_schedule(self) -> None:
        """Activities name real shifts, lie inside them, do not overlap, meet the break rule."""
        sched, shifts = self.schedule, self.staffing.shifts
        acts = sched.activities
        for name, a in acts.items():
            for s in a.shifts:
                if s not in shifts:
                    raise ValueError(f"schedule.activities.{name}.shifts: no shift named {s!r}; "
                                     f"shifts are {', '.join(shifts)}")
        delay = self.behaviour.login_delay_max_s
        for sname, sh in shifts.items():
            length = sh.hours * 60
            if delay >= length * 60:
                raise ValueError(f"behaviour.login_delay_max_s: {delay:g} s is not shorter than "
                                 f"shift {sname!r} ({sh.hours:g} h)")
            mine = sorted(((n, a) for n, a in acts.items() if not a.shifts or sname in a.shifts),
                          key=lambda na: na[1].first_start)
            for n, a in mine:
                if a.last_end > length + 1e-9:
                    raise ValueError(
                        f"schedule.activities.{n}: may end {a.last_end:g} minutes into shift "
                        f"{sname!r}, which lasts only {length:g} minutes; activities must lie "
                        "inside the shift")
            for (n1, a1), (n2, a2) in zip(mine, mine[1:], strict=False):
                if a2.first_start < a1.last_end - 1e-9:
                    raise ValueError(
                        f"schedule.activities.{n2}: may start at minute {a2.first_start:g} of "
                        f"shift {sname!r}, overlapping schedule.activities.{n1} (minutes "
                        f"{a1.first_start:g}-{a1.last_end:g}); activities of a shift must not "
                        "overlap (windows included)")
            if acts and sched.min_break_minutes > 0 and sh.hours >= sched.min_break_shift_hours:
                breaks = sum(a.minutes for _, a in mine
                             if a.kind in ("break", "lunch") and a.per_year is None)
                if breaks < sched.min_break_minutes - 1e-9:
                    raise ValueError(
                        f"schedule.activities: shift {sname!r} ({sh.hours:g} h) has {breaks:g} "
                        f"minutes of daily breaks and lunch; the rule "
                        f"(schedule.min_break_minutes) asks for at least "
                        f"{sched.min_break_minutes:g} in a shift of "
                        f"{sched.min_break_shift_hours:g} h or more")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (clock times as text), as it would be written to TOML/JSON."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """A stable SHA-256 of the scenario's content (name and prose excluded)."""
        data = self.to_dict()
        for k in ("name", "description", "rationale"):
            data.pop(k)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def replace(self, overrides: Mapping[str, Any], source: str = "override") -> Scenario:
        """A new scenario with dotted keys set (``{"staffing.agents": 90}``), re-validated."""
        data = self.to_dict()
        for key, value in overrides.items():
            _set_dotted(data, key, value, source)
        return _validate(data, {k: source for k in overrides}, source)


# --------------------------------------------------------------------------- loading


def _set_dotted(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node = data
    for i, p in enumerate(parts[:-1]):
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        if not isinstance(nxt, dict):
            raise ScenarioError(
                f"{source}: {'.'.join(parts[: i + 1])}: is a value, not a section, so "
                f"{key!r} cannot be set"
            )
        node = nxt
    node[parts[-1]] = value


def _merge(base: dict[str, Any], over: dict[str, Any], origin: dict[str, str], src: str,
           prefix: str = "") -> dict[str, Any]:
    """Deep-merge ``over`` into ``base``: tables merge, everything else replaces."""
    out = dict(base)
    for k, v in over.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v, origin, src, path + ".")
        else:
            out[k] = v
            origin[path] = src
            for p in [p for p in origin if p.startswith(path + ".")]:
                origin[p] = src
    return out


#: largest scenario file read, in bytes (a scenario is a few kB of TOML)
MAX_FILE_BYTES = 1 << 20
#: most files in one ``extends`` chain (the file itself included)
MAX_EXTENDS = 16


def read_text_file(path: Path, where: str) -> str:
    """The UTF-8 text of a regular file of at most ``MAX_FILE_BYTES``, else a ScenarioError.

    Folders, devices (``/dev/zero``), pipes and sockets are refused before anything is read,
    so a wrong path never blocks or fills memory; ``where`` says who named the path.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ScenarioError(f"{where}: file not found: {path}") from None
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot open {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ScenarioError(f"{where}: {path} is a folder, not a scenario file (give a "
                                ".toml file)")
        if not stat.S_ISREG(st.st_mode):
            raise ScenarioError(f"{where}: {path} is not a regular file (a device, pipe or "
                                "socket); give a .toml file")
        if st.st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{where}: {path} has {st.st_size} bytes; a scenario file may "
                                f"have at most {MAX_FILE_BYTES} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            try:
                chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            except OSError as exc:
                raise ScenarioError(f"{where}: cannot read {path}: {exc.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{where}: {path} has more than {MAX_FILE_BYTES} bytes; a scenario "
                            f"file may have at most {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); a scenario is a TOML "
                            "text file") from None


def _read_toml(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a file and everything it extends; return merged data and key -> file map."""
    shown = str(path)
    if path in chain:
        raise ScenarioError(f"{shown}: extends: cycle {' -> '.join(map(str, chain + (path,)))}")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(f"{chain[-1]}: extends: more than {MAX_EXTENDS} files in the chain "
                            f"starting at {chain[0]}; a scenario may extend at most "
                            f"{MAX_EXTENDS - 1} files in turn")
    text = read_text_file(path, f"{chain[-1]}: extends" if chain else "scenario")
    if not text.strip():
        raise ScenarioError(f"{shown}: the file is empty; a scenario file needs at least "
                            "description and rationale")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{shown}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{shown}: arrays or tables nested too deeply (a scenario needs "
                            f"at most {MAX_NESTING} levels)") from None
    for key in ("description", "rationale"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ScenarioError(
                f"{shown}: {key}: required text in every scenario file (a what-if states its "
                "own description and rationale)"
            )
    origin: dict[str, str] = {}
    parent = raw.pop("extends", None)
    if parent is None:
        data: dict[str, Any] = {}
    elif isinstance(parent, str) and not parent.strip():
        raise ScenarioError(f"{shown}: extends: empty file name; give the scenario file this "
                            "one builds on, e.g. extends = \"base.toml\"")
    elif isinstance(parent, str):
        data, origin = _read_toml((path.parent / parent).resolve(), chain + (path,))
    else:
        raise ScenarioError(f"{shown}: extends: expected a file name (text), got {parent!r}")
    return _merge(data, raw, origin, shown), origin


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario TOML file, following ``extends``, and validate it."""
    path = Path(path)
    data, origin = _read_toml(path.resolve(), ())
    # the default name is the file name, made safe (it names output folders)
    stem = re.sub(r"[^\w .,=@+:;()\[\]{}'\"-]+", "_", path.stem).lstrip("._ -")
    data.setdefault("name", stem[:NAME_MAX] or "scenario")
    if "name" not in origin:
        origin["name"] = str(path)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, "--set")
        origin[key] = "--set"
    # errors should name the file the user typed, not its resolved absolute path
    origin = {k: (str(path) if v == str(path.resolve()) else v) for k, v in origin.items()}
    return _validate(data, origin, str(path))


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a scenario given as plain data (e.g. built by code or a notebook)."""
    return _validate(dict(data), {}, source)


#: deepest nesting of tables and arrays in a scenario
MAX_NESTING = 16


def _nesting(value: Any, depth: int = 0) -> int:
    """Depth of nested tables and arrays, counting no further than ``MAX_NESTING + 1``."""
    if depth > MAX_NESTING or not isinstance(value, dict | list | tuple):
        return depth
    items = value.values() if isinstance(value, dict) else value
    return max((_nesting(v, depth + 1) for v in items), default=depth + 1)


def _validate(data: dict[str, Any], origin: dict[str, str], default_src: str) -> Scenario:
    if _nesting(data) > MAX_NESTING:
        raise ScenarioError(f"{default_src}: arrays or tables nested too deeply (a scenario "
                            f"needs at most {MAX_NESTING} levels)")
    try:
        return Scenario.model_validate(_to_tuples(data))
    except ValidationError as exc:
        lines = [_describe(err, data, origin, default_src) for err in exc.errors()]
        raise ScenarioError("invalid scenario:\n  " + "\n  ".join(lines)) from None


def _describe(err: Mapping[str, Any], data: Mapping[str, Any], origin: Mapping[str, str],
              default_src: str) -> str:
    """One line: file: dotted.path: value — what is allowed."""
    loc = [str(p) for p in err["loc"]]
    path = ".".join(loc) or "(top level)"
    src = default_src
    for i in range(len(loc), 0, -1):
        key = ".".join(loc[:i])
        if key in origin:
            src = origin[key]
            break
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return (f"{src}: {path}: unknown key (value {err['input']!r}); allowed here: "
                f"{', '.join(allowed)}")
    if kind == "missing":
        return f"{src}: {path}: required field is missing"
    if kind == "finite_number":
        hint = ('; for callers who never hang up use distribution = "none"'
                if path.endswith("patience.mean_s") else "")
        return f"{src}: {path}: got {err['input']!r}; must be a finite number{hint}"
    msg = msg.removeprefix("Value error, ")
    if kind.startswith("value_error") or kind == "assertion_error":
        # model-level checks name their field first: "profile: has 3 weights but ..."
        m = re.match(r"^([a-z_]+(?:\.[A-Za-z0-9_\-]+)*): (.*)$", msg, re.S)
        if m:
            path = m[1] if path == "(top level)" else f"{path}.{m[1]}"
            msg = m[2]
            src = next((origin[k] for k in _prefixes(path) if k in origin), src)
        return f"{src}: {path}: {msg}"
    return f"{src}: {path}: got {err['input']!r}; {msg[0].lower()}{msg[1:]}"


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _allowed_keys(loc: list[str]) -> list[str]:
    model: Any = Scenario
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            # a dict entry (e.g. staffing.shifts.<name>): step into the dict's value model
            args = getattr(model, "__args__", ())
            model = args[-1] if args else model
            continue
        model = field.annotation
        args = getattr(model, "__args__", ())
        if args and not hasattr(model, "model_fields"):
            model = next((a for a in args if hasattr(a, "model_fields")), args[-1])
    return sorted(getattr(model, "model_fields", {}))
