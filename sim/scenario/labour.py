"""The labour section: shift templates and the rules a roster must keep (``ccsim plan``).

The planner reads it (``sim.planning.shifts``, ``analysis.plan``); a simulation reads only
``days_off`` (a planned roster's days off), ``starts`` (its starts by weekday) and
``activity_starts`` (its activities by weekday), whose defaults are none, so the defaults
leave every run unchanged. The rules come from three places, and each field's source says
which: the Norwegian Working Environment Act (arbeidsmiljøloven, "the Act"; section numbers
as in the Act of 2005 as amended), the collective agreement (figures marked "assumption"
where the case material gives none), and the regime's own break rules (the activities of
``[schedule]`` with their windows, plus the longest stretch on queue allowed here).

A planning week is 7 calendar days from simulated day 0's weekday: the weekdays the centre
is closed (``demand.week``) and those the horizon does not reach are days off for everyone,
so base.toml's 5-day horizon is a working week with its weekend off.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer, model_validator

from sim.scenario.base import DAY_S, _field, _Model, format_clock, parse_clock
from sim.scenario.sections import Weekday


def _start_clock(value: object) -> float:
    """A start "HH:MM" from 00:00 to 23:59 in seconds (24:00 ends a day; it starts none)."""
    secs = parse_clock(value)
    if secs >= DAY_S:
        raise ValueError("24:00 is the end of the day; a start must lie from 00:00 to 23:59")
    return secs


#: a shift's start on one weekday: "HH:MM" from 00:00 to 23:59 (the bounds are declared for
#: the schema's reference; the message for 24:00 comes from :func:`_start_clock` first)
StartClock = Annotated[float, BeforeValidator(_start_clock), Field(ge=0, lt=DAY_S),
                       PlainSerializer(format_clock, return_type=str)]

_NAME = re.compile(r"[A-Za-z0-9_\-]+")

#: days of a planning week (the Act's weekly limits count 7 days: s. 10-4, s. 10-8)
WEEK_DAYS = 7


class Labour(_Model):
    """Shift templates a plan may use and the labour rules every roster must keep."""

    shift_hours: tuple[Annotated[float, Field(gt=0, le=24)], ...] = _field(
        (4.0, 6.0, 8.0), description="Shift lengths (paid hours, breaks included) the planner "
        "may use; each from 0 to 24 hours.", source="scenario choice (base.toml's 4-, 6- and "
        "8-hour shifts)", unit="hours", min_length=1, max_length=24,
    )
    start_step_minutes: float = _field(
        30.0, gt=0, le=720, description="Shifts may start every this many minutes from "
        "the opening time.", source="assumption (planners use half-hour starts)",
        unit="minutes",
    )
    break_step_minutes: float = _field(
        15.0, gt=0, le=720, description="A break with a window (`schedule.activities.*."
        "window_minutes`) may start at the window's earliest start and every this many "
        "minutes after it, up to its latest start.",
        source="assumption (15-minute break positions)", unit="minutes",
    )
    max_daily_hours: float = _field(
        9.0, gt=0, le=24, description="Longest shift (the Act's normal working hours per "
        "24 hours).", source="arbeidsmiljoloven s. 10-4 (1): at most 9 hours in 24 hours",
        unit="hours",
    )
    max_weekly_hours: float = _field(
        40.0, gt=0, le=168, description="Most paid hours per agent in a week (7 days).",
        source="arbeidsmiljoloven s. 10-4 (1): at most 40 hours in 7 days", unit="hours",
    )
    min_daily_rest_hours: float = _field(
        11.0, ge=0, le=24, description="Shortest rest between the end of one shift and the "
        "start of the next.", source="arbeidsmiljoloven s. 10-8 (1): 11 hours of "
        "continuous rest in 24 hours", unit="hours",
    )
    min_weekly_rest_hours: float = _field(
        35.0, ge=0, le=168, description="Longest continuous rest each agent must have in a "
        "week (days off and the nights around them; days the horizon does not cover count "
        "as off).", source="arbeidsmiljoloven s. 10-8 (2): 35 hours of continuous rest in "
        "7 days", unit="hours",
    )
    break_after_hours: float = _field(
        5.5, gt=0, le=24, description="A shift longer than this must have a planned break or "
        "lunch (`schedule.activities` of kind break or lunch).",
        source="arbeidsmiljoloven s. 10-9 (1): a break when the working day exceeds 5.5 "
        "hours", unit="hours",
    )
    max_stretch_hours: float = _field(
        3.0, gt=0, le=24, description="Longest continuous time on queue an agent may be "
        "planned without a break, lunch or other activity (the regime's own break rule).",
        source="assumption (the windows of base.toml's breaks allow up to 2.75 h; the Act "
        "sets no stretch limit below break_after_hours)", unit="hours",
    )
    max_days_per_week: int = _field(
        5, ge=1, le=WEEK_DAYS, description="Most working days per agent in a week.",
        source="assumption (a five-day week in the collective agreement)", unit="days",
    )
    full_time_hours: float = _field(
        37.5, gt=0, le=168, description="Weekly hours of a full-time agent: an agent "
        "rostered fewer is part-time.", source="assumption (the 37.5-hour week of Norwegian "
        "collective agreements, as cost.fte_hours_per_day)", unit="hours",
    )
    min_weekly_hours: float = _field(
        12.0, ge=0, le=168, description="Fewest paid hours a week an agent may be rostered "
        "(the smallest part-time position).", source="assumption (agreements discourage "
        "very small positions)", unit="hours",
    )
    min_shift_hours: float = _field(
        4.0, ge=0, le=24, description="Shortest shift the agreement allows (shorter "
        "`shift_hours` are not used).", source="assumption (a minimum shift length in the "
        "collective agreement)", unit="hours",
    )
    max_part_time_share: float = _field(
        0.6, ge=0, le=1, description="Largest share of agents who may be part-time "
        "(fewer weekly hours than `full_time_hours`).", source="assumption (base.toml's "
        "plan has 52% part-timers; a full-time culture is a common agreement goal)",
        unit="share",
    )

    days_off: dict[str, tuple[Weekday, ...]] = _field(
        {}, description="Planned days off by shift name: the weekdays (Mon ... Sun; a "
        "simulated day's weekday as `demand.week` and `demand.first_weekday` give it) on "
        "which that shift's agents do not work (not paid, not measured; `agent_days` lacks "
        'them and `absences` lists them with reason "day_off"). A shift not named works '
        "every simulated day. `ccsim plan` writes it.",
        source="scenario choice (a roster's days off)",
    )

    starts: dict[str, dict[Weekday, StartClock]] = _field(
        {}, description="Planned shift starts by shift name and weekday (Mon ... Sun; as "
        '`days_off`), e.g. `{ p01 = { Mon = "08:00", Fri = "10:00" } }`: on those weekdays '
        "that shift's agents log in at the given time (\"HH:MM\", 00:00 to 23:59) instead "
        "of `staffing.shifts.<name>.start`; the length stays the shift's and its activities "
        "keep their minutes after the start. A shift or weekday not named keeps the shift's "
        "start. The shift must still overlap the opening hours and end by 24:00.",
        source="scenario choice (a roster whose starts differ by weekday)",
    )

    activity_starts: dict[str, dict[Weekday, dict[str, Annotated[float, Field(
        ge=0, le=1440)]]]] = _field(
        {}, description="Planned activity starts by shift name, weekday and activity "
        "(minutes after that day's shift start, 0 to 1440), e.g. `{ p01 = { Tue = { "
        '"p01-lunch" = 240 } } }`: on those weekdays that shift\'s agents take that activity '
        "there instead of at its `offset_minutes` (a roster whose breaks differ by day). The "
        "activity must apply to the shift and have a fixed start, and still lie inside the "
        "shift. `ccsim plan` writes it.",
        source="scenario choice (a roster whose breaks differ by weekday)",
    )

    @model_validator(mode="after")
    def _check(self) -> Labour:
        for name in self.activity_starts:
            if not _NAME.fullmatch(name):
                raise ValueError(f"activity_starts: {name!r} is not a shift name")
        for name in self.starts:
            if not _NAME.fullmatch(name):
                raise ValueError(f"starts: {name!r} is not a shift name")
        for name, days in self.days_off.items():
            if not _NAME.fullmatch(name):
                raise ValueError(f"days_off: {name!r} is not a shift name")
            if len(set(days)) != len(days):
                raise ValueError(f"days_off.{name}: {list(days)} names a day twice")
        usable = [h for h in self.shift_hours
                  if self.min_shift_hours - 1e-9 <= h <= self.max_daily_hours + 1e-9]
        if not usable:
            raise ValueError(
                f"shift_hours: none of {list(self.shift_hours)} lies between min_shift_hours "
                f"({self.min_shift_hours:g}) and max_daily_hours ({self.max_daily_hours:g}); "
                "the rules leave no shift to plan")
        if self.min_weekly_hours > self.max_weekly_hours:
            raise ValueError(
                f"min_weekly_hours: {self.min_weekly_hours:g} is more than max_weekly_hours "
                f"({self.max_weekly_hours:g}); no agent could be rostered")
        return self

    def usable_hours(self) -> list[float]:
        """Shift lengths the agreement's minimum and the Act's daily maximum both allow."""
        return sorted({h for h in self.shift_hours
                       if self.min_shift_hours - 1e-9 <= h <= self.max_daily_hours + 1e-9})
