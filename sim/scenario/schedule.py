"""The schedule section: planned activities per shift and adherence settings."""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from sim.scenario.base import _field, _Model
from sim.scenario.vocab import ActivityKind, ScheduleState

_NAME = re.compile(r"[A-Za-z0-9_\-]+")
#: minutes into a shift (at most a week, the longest single-day shift)
_Minutes = Annotated[float, Field(ge=0, le=10_080)]


class Activity(_Model):
    """A planned activity of the shifts it applies to: a break, lunch, meeting, ROS, ..."""

    kind: ActivityKind = _field(
        description="What it is; the agent works it in the matching IWS status (break -> "
        '"Not Ready - Break", lunch -> "Not Ready - Lunch", training -> "Not Ready - '
        'Training", ...).', source="Genesys IWS statuses of the case (docs/case.md)",
    )
    minutes: float = _field(gt=0, le=1440, description="Planned length in minutes.",
                            source="scenario choice")
    shifts: tuple[str, ...] = _field(
        (), description="Names of the shifts it applies to; empty means every shift.",
        source="scenario choice",
    )
    offset_minutes: float | None = _field(
        None, ge=0, le=10_080, description="Fixed start, minutes after the shift's start, the "
        "same for every agent (give this or `window_minutes`).", source="scenario choice",
    )
    window_minutes: tuple[_Minutes, _Minutes] | None = _field(
        None, description="Earliest and latest start, minutes after the shift's start (each "
        "from 0 to 10080); `stagger` places each agent's start inside it.",
        source="scenario choice",
    )
    stagger: Literal["even", "none"] = _field(
        "even", description='How starts are placed in the window: "even" spreads the shift\'s '
        'agents evenly over it (agent j of n at j/(n-1) of the way), "none" puts everyone at '
        "its start.", source="WFM practice: staggered breaks keep coverage",
    )
    step_minutes: float = _field(
        5.0, gt=0, le=1440, description="Staggered starts are rounded down to multiples of this.",
        source="assumption (schedulers plan in 5-minute steps)",
    )
    per_year: float | None = _field(
        None, gt=0, le=366, description="If set, the activity is not daily: each agent has it this "
        "many times a year, spread evenly over the days and over the shift's agents (e.g. "
        "ROS conversations: 10).",
        source="docs/case.md: fixed ROS conversations, about 10 a year per agent",
    )
    min_shift_hours: float | None = _field(
        None, ge=0, le=24, description="The activity applies only to shifts at least this "
        "long (hours), e.g. 5.5 for lunch. Default: with `shifts` empty, every shift it fits "
        "in (its latest planned end inside the shift), so a short part-time shift simply "
        "gets the breaks that fit in it; with `shifts` named, every named shift. A shift it "
        "applies to but does not fit in is an error; so is, without `min_shift_hours`, an "
        "activity that fits no shift (a typo, most likely).",
        source="scenario choice; arbeidsmiljoloven s. 10-9 asks for a break when the working "
        "day exceeds 5.5 hours",
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
    def shortest_shift_hours(self) -> float:
        """Shortest shift (hours) the activity applies to (see ``min_shift_hours``)."""
        if self.min_shift_hours is not None:
            return self.min_shift_hours
        if self.shifts:
            return 0.0
        return self.last_end / 60.0

    def applies_to(self, shift: str, hours: float) -> bool:
        """Whether shift ``shift`` of ``hours`` hours has this activity."""
        if self.shifts and shift not in self.shifts:
            return False
        return hours >= self.shortest_shift_hours - 1e-9

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
        30.0, ge=0, le=1440, description="Minimum planned break + lunch minutes per shift of "
        "`min_break_shift_hours` or more, checked whenever activities are given (0 turns "
        "the rule off).",
        source="Norwegian Working Environment Act (arbeidsmiljoloven) s. 10-9: breaks of at "
        "least 30 minutes in total when the working day is at least 8 hours",
    )
    min_break_shift_hours: float = _field(
        8.0, gt=0, le=168, description="Shifts at least this long must meet `min_break_minutes`.",
        source="arbeidsmiljoloven s. 10-9",
    )
    days_per_year: float = _field(
        230.0, gt=0, le=366, description="Working days per agent per year, to spread "
        "`per_year` activities.", source="assumption (about 230 working days a year)",
    )
    tolerance_s: float = _field(
        60.0, ge=0, le=3600, description="Adherence grace: the first seconds after each scheduled "
        "state change in which being in another state is not counted against adherence.",
        source="WFM practice (typical 1-minute adherence tolerance); assumption",
    )
    tolerance_by_state: dict[ScheduleState, Annotated[float, Field(ge=0, le=3600)]] = _field(
        {}, description="Grace per schedule state entered (on_queue, break, lunch, ...), "
        "overriding `tolerance_s` (each from 0 to 3600 seconds).", source="assumption",
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
