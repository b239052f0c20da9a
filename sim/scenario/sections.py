"""Sections about the queue: horizon, demand, calls, staffing, service level, closing."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    model_validator,
)

from sim.scenario.base import DAY_S, Clock, PlainText, _field, _Model, format_clock
from sim.scenario.vocab import SLDefinition

#: working days of warm-up that ``horizon.warmup_days = "auto"`` means with stress on:
#: exhaustion's time constant is 21 working days, and the warm-up's fast-forward (a jump to
#: each week's fixed point after weeks one and two, the turnover before the warm-up drawn)
#: reaches the steady state of a long cold run in two weeks (docs/experiments.md, Warm-up;
#: tests/test_warmup.py)
AUTO_WARMUP_DAYS = 10

#: longest opening day or shift (hours): a leap year, in a single-day stationary run (what
#: ``ccsim validate`` builds: its calls at a low rate, plus the warm-up, on one long day)
MAX_HOURS = 8784.0
#: most agents in a scenario (as ``--agents`` allows)
MAX_AGENTS = 100_000
#: most expected calls per day, and over the whole horizon (as ``--calls`` allows)
MAX_CALLS_PER_DAY = 10_000_000
MAX_CALLS = 100_000_000
#: most reporting intervals in a day (a week of 1-minute intervals)
MAX_INTERVALS = 10_080


class Horizon(_Model):
    """How long a run lasts and how a day is cut into reporting intervals."""

    days: int = _field(
        1, ge=1, le=3660, description="Days simulated; state carries over between days.",
        source="scenario choice",
    )
    open: Clock = _field(
        ge=0, lt=DAY_S, describe_bounds=False,
        description='Opening time of the queue each day ("HH:MM"), from 00:00 to 23:59 (a '
        "queue opening at 24:00 opens the next day: give 00:00).", source="scenario choice"
    )
    hours: float = _field(
        gt=0, le=MAX_HOURS, description="Opening hours per day (calls arrive only while open); "
        "more than 24 only in a single-day stationary run (at most a year).",
        source="scenario choice",
    )
    interval_minutes: float = _field(
        15.0, gt=0, le=MAX_HOURS * 60, description="Length of a reporting interval; the demand "
        "profile has one weight per interval.",
        source="industry convention (15-minute ACD intervals)",
    )
    warmup_minutes: float = _field(
        0.0, ge=0, le=MAX_HOURS * 60, description="Calls arriving in the first minutes of day 0 "
        "are simulated but left out of KPIs (steady-state runs only; whole days need none).",
        source="simulation methodology",
    )
    warmup_days: Annotated[int, Field(ge=0, le=3660)] | Literal["auto"] = _field(
        "auto", description="Working days simulated before day 0 and never measured, "
        "so that a run starts in the steady state of a regime (strain, exhaustion, threat, "
        "absence, vacancies, the supervisor's record), not on day one of the universe; "
        "rounded up to whole weeks of `stress.work_days_per_week`, so day 0 is a week's first "
        "day. Simulated for every replication on its own streams (a shared warm-up would make "
        "confidence intervals too narrow: docs/experiments.md, Warm-up). "
        f'"auto": {AUTO_WARMUP_DAYS} with stress on (two weeks, each fast-forwarded to '
        "exhaustion's fixed point, and the turnover before them drawn: the steady state of "
        "a long warm-up), 0 without (nothing then carries across days but repeat calls). "
        "`ccsim warmup SCENARIO` checks a length (MSER-5 and Welch's moving average).",
        source="Welch 1983; White 1997 MSER; docs/experiments.md (Warm-up)",
        unit="working days",
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


#: the weekdays, Monday first (``datetime.date.weekday()`` order)
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Weekday = Literal[WEEKDAYS]  # type: ignore[valid-type]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Weight = Annotated[float, Field(ge=0, le=1e9)]


def _iso_date(value: object) -> object:
    """A TOML date (``2018-03-05`` unquoted) read as its ISO text, so both spellings work."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _check_date(value: str | None, field: str) -> None:
    if value is not None and (not _DATE.match(value) or not _valid_date(value)):
        raise ValueError(f"{field}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2018-03-05")


def _valid_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


class DayPattern(_Model):
    """One weekday of the weekly pattern: its volume and, if its own, its intraday profile."""

    factor: float = _field(
        1.0, ge=0, le=100, description="Expected calls on this weekday as a multiple of "
        "`demand.calls_per_day` (0: open with no calls).",
        source="scenario choice (`ccsim import-acd`: the weekday's mean calls over the mean "
        "day's)", unit="factor",
    )
    profile: tuple[Weight, ...] | None = _field(
        None, description="This weekday's relative volume per interval, as `demand.profile` "
        "(one weight per interval, any from 0 to 1e9, not all 0; normalised); none: "
        "`demand.profile`.",
        source="scenario choice (`ccsim import-acd`: the weekday's mean per interval)",
        min_length=1, max_length=MAX_INTERVALS,
    )

    @model_validator(mode="after")
    def _check(self) -> DayPattern:
        if self.profile is not None and sum(self.profile) <= 0:
            raise ValueError("profile: weights must not all be zero (use factor = 0 for a "
                             "day without calls)")
        return self


class Holiday(_Model):
    """A day whose demand is scaled (0: closed to calls), by date or by simulated day."""

    date: Annotated[str | None, BeforeValidator(_iso_date)] = _field(
        None, description="The holiday's date (YYYY-MM-DD; needs `demand.start_date`); a "
        "date outside the horizon or on a weekday the centre is closed is ignored, so a whole "
        "year's public holidays may be listed.", source="scenario choice",
    )
    day: int | None = _field(
        None, ge=0, le=3660, description="Or the simulated day (0 is the first).",
        source="scenario choice",
    )
    factor: float = _field(
        0.0, ge=0, le=100, description="That day's expected calls as a multiple of an "
        "ordinary day of its weekday (0: no calls; the shifts still log in, so give the "
        "staffing a what-if of its own).", source="scenario choice", unit="factor",
    )
    name: PlainText = _field("", max_length=80, description="A label (e.g. Constitution Day).",
                       source="scenario choice")

    @model_validator(mode="after")
    def _check(self) -> Holiday:
        if (self.date is None) == (self.day is None):
            raise ValueError("give either date or day for a holiday, not "
                             + ("both" if self.date is not None else "neither"))
        _check_date(self.date, "date")
        return self


class Demand(_Model):
    """How many calls arrive and when (a non-homogeneous Poisson process).

    Without ``week`` every simulated day is alike. With it, the simulated days are the
    centre's open days in calendar order (the weekdays ``week`` names, from
    ``first_weekday`` or ``start_date``): a Monday-to-Friday centre's day 5 is the next
    Monday. ``holidays`` then scale single days.
    """

    calls_per_day: float = _field(
        gt=0, le=MAX_CALLS_PER_DAY, description="Expected calls offered per day (before the "
        f"busyness factor); over the whole horizon at most {MAX_CALLS:,} calls.",
        source="scenario choice",
    )
    profile: tuple[Annotated[float, Field(ge=0, le=1e9)], ...] = _field(
        description="Relative call volume per reporting interval over the opening hours "
        "(any weights from 0 to 1e9, not all 0; they are normalised); at most "
        f"{MAX_INTERVALS:,} intervals.", source="scenario choice",
        min_length=1, max_length=MAX_INTERVALS,
    )
    busyness_cv: float = _field(
        0.0, ge=0, le=2, description="Coefficient of variation of a day-level Gamma busyness "
        "factor (mean 1) that scales the whole day; 0 gives plain Poisson arrivals.",
        source="assumption; real centres show over-dispersion of daily volume (typ. 0.05-0.15)",
    )
    week: dict[Weekday, DayPattern] = _field(
        {}, description="The weekly pattern: for each weekday the centre is open (Mon ... "
        "Sun), its factor and optionally its own profile. Weekdays not named are closed and "
        "are not simulated days; empty (the default): every simulated day is an ordinary "
        "day (calls_per_day, profile).",
        source="scenario choice (`ccsim import-acd` estimates it from 4 or more weeks)",
    )
    first_weekday: Weekday | None = _field(
        None, description="The weekday of simulated day 0 (an open day of `week`); none: "
        "the weekday of `start_date`, else Monday.", source="scenario choice",
    )
    start_date: Annotated[str | None, BeforeValidator(_iso_date)] = _field(
        None, description="The date of simulated day 0 (YYYY-MM-DD), to place holidays given "
        "by date; its weekday is day 0's.", source="scenario choice",
    )
    holidays: tuple[Holiday, ...] = _field(
        (), description="Days whose calls are scaled (closed: factor 0), by date or by "
        "simulated day.", source="scenario choice (national and local holidays)",
        max_length=3660,
    )

    @model_validator(mode="after")
    def _check(self) -> Demand:
        if any(not math.isfinite(w) or w < 0 for w in self.profile):
            raise ValueError(f"profile: weights must be finite and >= 0, got {self.profile}")
        if sum(self.profile) <= 0:
            raise ValueError("profile: weights must not all be zero")
        for name, day in self.week.items():
            if day.profile is not None and len(day.profile) != len(self.profile):
                raise ValueError(f"week.{name}.profile: has {len(day.profile)} weights but "
                                 f"demand.profile has {len(self.profile)}; give one weight per "
                                 "interval")
        _check_date(self.start_date, "start_date")
        if self.start_date is not None and self.first_weekday is not None:
            on = WEEKDAYS[dt.date.fromisoformat(self.start_date).weekday()]
            if on != self.first_weekday:
                raise ValueError(f"first_weekday: {self.first_weekday!r} but start_date "
                                 f"{self.start_date} is a {on}; give one of them, or both "
                                 "agreeing")
        if self.week and self.first_day not in self.week:
            raise ValueError(f"first_weekday: day 0 is a {self.first_day}, on which the "
                             f"centre is closed (week names {', '.join(self.week)}); start "
                             "on an open day")
        if any(h.date is not None for h in self.holidays) and self.start_date is None:
            raise ValueError("holidays: a holiday given by date needs demand.start_date (the "
                             "date of simulated day 0); or give its day number")
        days = [(h.date, h.day) for h in self.holidays]
        dup = next((d for i, d in enumerate(days) if d in days[:i]), None)
        if dup is not None:
            raise ValueError(f"holidays: {dup[0] or f'day {dup[1]}'} is listed twice")
        return self

    @property
    def first_day(self) -> str:
        """The weekday of simulated day 0 (Mon ... Sun)."""
        if self.first_weekday is not None:
            return self.first_weekday
        if self.start_date is not None:
            return WEEKDAYS[dt.date.fromisoformat(self.start_date).weekday()]
        return "Mon"


class Duration(_Model):
    """A positive random duration given by its mean and coefficient of variation."""

    distribution: Literal["lognormal", "exponential", "gamma", "fixed"] = _field(
        "lognormal", description="Family of the distribution.",
        source="log-normal service times: Brown et al. (2005), JASA 100(469)",
    )
    mean_s: float = _field(ge=0, le=DAY_S, description="Mean in seconds (0 means none).",
                           source="-")
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
        180.0, gt=0, le=DAY_S, description="Mean patience in seconds.",
        source="assumption (illustrative: a few minutes)",
    )
    cv: float = _field(1.0, gt=0, le=10, description="Coefficient of variation (lognormal, "
                       "gamma).", source="assumption")


class Calls(_Model):
    """Attributes drawn for every call."""

    talk: Duration = _field(
        Duration(distribution="lognormal", mean_s=255.0, cv=0.8),
        description="Talk time (a mean of 0: none; talk and ACW may not both be 0).",
        source="assumption (illustrative; AHT ~5 min)",
    )
    acw: Duration = _field(
        Duration(distribution="lognormal", mean_s=45.0, cv=0.6),
        description="After Call Work (wrap-up) time (a mean of 0: none; talk and ACW may not "
        "both be 0).", source="assumption (illustrative; ACW ~15% of AHT)",
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
    balk_probability: float = _field(
        0.0, ge=0, le=1, description="Share of callers who, finding that they would have to "
        "wait (no agent free), hang up at once: abandoned with a wait of 0 s (the short "
        "abandons of an ACD report). Drawn from its own stream, so other draws keep common "
        "random numbers; a repeat call never balks.",
        source="assumption (0: off); `ccsim import-acd` estimates it from short abandons",
        unit="share",
    )
    repeat_probability: float = _field(
        0.0, ge=0, le=1, description="Chance that an answered call is left unresolved and the "
        "caller calls again later in the run (a repeat call; 0: off). Repeat calls are drawn "
        "from their own stream, so first calls keep common random numbers.",
        source="first-call resolution of 70-80% (industry surveys); 0.20 is an assumption",
    )
    repeat_delay_hours: float = _field(
        48.0, gt=0, le=24 * 366, description="Mean of the exponential delay before a repeat "
        "call; one falling outside opening hours comes in the next opening at a time drawn "
        "from the demand profile, "
        "one after the horizon is lost to the run (counted).",
        source="assumption (a mean of 2 days)",
    )

    @model_validator(mode="after")
    def _check(self) -> Calls:
        # each may be 0 ("none": no wrap-up, or a call that is all wrap-up), but a call of
        # no time at all has no queue, no occupancy and no staffing to plan (Erlang needs an
        # AHT > 0), so both 0 is refused here, naming both, not later as "must be positive"
        if self.talk.mean_s == 0 and self.acw.mean_s == 0:
            raise ValueError("talk.mean_s: 0 with calls.acw.mean_s also 0; each may be 0 "
                             "(none), but not both: a call's handle time (talk + ACW) must be "
                             "> 0 s")
        return self


class Shift(_Model):
    """A shift pattern worked every day of the horizon."""

    start: Clock = _field(
        ge=0, le=DAY_S, describe_bounds=False, description='Log-in time ("HH:MM", 00:00 to '
        "24:00; before 24:00 when days > 1); the shift must overlap the opening hours.",
        source="scenario choice")
    hours: float = _field(
        gt=0, le=MAX_HOURS, description="Shift length in hours (agents finish the current call "
        "after it); at most 24 when days > 1.", source="scenario choice",
    )
    agents: int = _field(ge=0, le=MAX_AGENTS, description="Agents working this shift.",
                         source="scenario choice")


class Staffing(_Model):
    """Who is there: named shift patterns and their head counts."""

    agents: int | None = _field(
        None, ge=1, le=MAX_AGENTS, description="Optional total head count: if set, agents are "
        "distributed over the shifts in proportion to their `agents` (largest remainder); "
        f"the shifts' agents together are at most {MAX_AGENTS:,} too.",
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
        total = sum(s.agents for s in self.shifts.values())
        if total == 0:
            raise ValueError("shifts: at least one shift needs agents > 0")
        if total > MAX_AGENTS:
            raise ValueError(f"shifts: {total:,} agents in all; at most {MAX_AGENTS:,} are "
                             "allowed")
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



class ServiceLevel(_Model):
    """How service level is defined and what it is measured against."""

    threshold_s: float = _field(
        20.0, ge=0, le=3600,
        description="T: answered within this many seconds counts as in service.",
        source="industry convention (80/20)",
    )
    target: float = _field(
        0.8, gt=0, le=1, description="Target share (e.g. 0.8 for 80/20).",
        source="industry convention (80/20)",
    )
    definition: SLDefinition = _field(
        "offered", description="Which service-level formula the `service_level` KPI uses; see "
        "the KPI docs.", source="industry practice varies; 'offered' is the strictest",
    )
    short_abandon_s: float = _field(
        5.0, ge=0, le=3600, description="Abandons within this many seconds are not counted by "
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
        60.0, ge=0, le=1440, description='Under "serve", calls still waiting this long after '
        'closing end as "closed" and agents leave after their current call; never later than '
        "midnight of a multi-day run.",
        source="assumption",
    )

    @model_validator(mode="after")
    def _check(self) -> Closing:
        if not math.isfinite(self.max_overtime_minutes):
            raise ValueError(f"max_overtime_minutes: must be a finite number of minutes, got "
                             f"{self.max_overtime_minutes}")
        return self


class Cost(_Model):
    """What an agent-hour costs: the price of a proposal beside its effect.

    Paid hours are the rostered shifts (worked, and absent when ``absence_paid``), the
    paid pre-shift log-in minutes and the overtime logged after shift end. Only KPIs read
    this section; it changes nothing in the simulation.
    """

    hourly_cost: float = _field(
        450.0, ge=0, le=1e6, description="Fully loaded cost of one paid agent-hour (wage, holiday "
        "pay, pension, employer's tax, overhead), in `currency`.",
        source="assumption (illustrative figure for a Norwegian contact centre, NOK 450/h "
        "fully loaded; use your own)",
    )
    currency: str = _field(
        "NOK", min_length=1, max_length=12, pattern=r"^[A-Za-z$€£¥.]+$",
        description="Currency of `hourly_cost` (a label only).", source="scenario choice",
    )
    overtime_premium: float = _field(
        0.4, ge=0, le=5, description="Extra pay on overtime hours as a share of "
        "`hourly_cost` (0.4: paid at 140%).",
        source="Norwegian Working Environment Act (arbeidsmiljoloven) s. 10-6 (11): at "
        "least 40% overtime supplement",
    )
    absence_paid: bool = _field(
        True, description="Are rostered agent-days lost to sickness absence paid (sick "
        "pay)? They then count in paid hours and cost. A seat vacant after a quit, a day "
        "off or leave never counts (holiday pay is in `hourly_cost`).",
        source="Norwegian sick pay is full pay (employer period, then NAV); assumption that "
        "the centre bears it",
    )
    fte_hours_per_day: float = _field(
        7.5, gt=0, le=24, description="Paid hours of one full-time equivalent per working "
        "day, to express paid hours as FTE.",
        source="37.5-hour week over 5 days (Norwegian collective agreements); assumption",
    )
