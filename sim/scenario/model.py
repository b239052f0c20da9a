"""The scenario itself: every section, and the checks that span sections."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import (
    BaseModel,
    model_validator,
)

from sim.scenario.base import (
    DAY_S,
    NAME_MAX,
    PlainText,
    SafeName,
    _field,
    _Model,
    format_clock,
)
from sim.scenario.behaviour import Behaviour
from sim.scenario.checking import _set_dotted, _validate
from sim.scenario.labour import Labour
from sim.scenario.policy import (
    AdherenceRules,
    Measurement,
    Monitoring,
    Responses,
    Supervisor,
    Targets,
    Teams,
)
from sim.scenario.schedule import Schedule
from sim.scenario.sections import (
    AUTO_WARMUP_DAYS,
    MAX_CALLS,
    Calls,
    Closing,
    Cost,
    Demand,
    Horizon,
    ServiceLevel,
    Staffing,
)
from sim.scenario.skills import AgentGroup, CallType, Routing, check_skills
from sim.scenario.stress import Stress


class Scenario(_Model):
    """One contact centre to simulate: validated, frozen, hashable."""

    name: SafeName = _field(
        "scenario", description="Short name (defaults to the file name): starts with a letter "
        "or digit; letters, digits, spaces and `_ - . , = @ + : ; ( ) [ ] { } ' \"` only, at "
        f"most {NAME_MAX} characters (it names output folders, so no `/`, `\\` or leading "
        "`.`).", source="-",
    )
    description: PlainText = _field(description="What this scenario is.", source="-",
                                    min_length=1)
    rationale: PlainText = _field(description="Why it exists / where its numbers come from.",
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
    teams: Teams = _field(Teams(), description="Teams and the smallest reported group.",
                          source="-")
    measurement: Measurement = _field(
        Measurement(), description="Who sees an agent's numbers; the adherence rules.",
        source="-",
    )
    monitoring: Monitoring = _field(
        Monitoring(), description="The purpose of feedback (developmental or punitive).",
        source="-",
    )
    targets: Targets = _field(
        Targets(), description="COPC-style targets (AHT, quality, service level, abandon "
        "rate, adherence).", source="-",
    )
    stress: Stress = _field(
        Stress(), description="Strain, exhaustion, measured stress and sickness absence.",
        source="-",
    )
    supervisor: Supervisor = _field(
        Supervisor(), description="What a team leader's chases and warnings take.", source="-",
    )
    responses: Responses = _field(
        Responses(), description="How agents respond to being measured.", source="-",
    )
    cost: Cost = _field(
        Cost(), description="What a paid agent-hour costs (only the cost KPIs read it).",
        source="-",
    )
    labour: Labour = _field(
        Labour(), description="Shift templates and labour rules for `ccsim plan`, and a "
        "planned roster's days off.", source="-",
    )
    call_types: dict[str, CallType] = _field(
        {}, description="Call types (several queues), by name; none: one queue, as before "
        "(docs/skills.md).", source="-",
    )
    agent_groups: dict[str, AgentGroup] = _field(
        {}, description="Agent groups and their skills, by name (with `[call_types]` only).",
        source="-",
    )
    routing: Routing = _field(
        Routing(), description="Routing between call types and agent groups (with "
        "`[call_types]` only).", source="-",
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
        calls = self.demand.calls_per_day * self.horizon.days
        if calls > MAX_CALLS:
            raise ValueError(
                f"demand.calls_per_day: {self.demand.calls_per_day:g} calls a day over "
                f"horizon.days = {self.horizon.days} are {calls:.3g} calls; at most "
                f"{MAX_CALLS:,} are allowed in a run (use fewer days or calls)")
        opens, closes = self.horizon.open, self.horizon.open + self.horizon.hours * 3600
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
            if sh.agents and (sh.start >= closes or sh.start + sh.hours * 3600 <= opens):
                raise ValueError(
                    f"staffing.shifts.{name}.start: the shift ({format_clock(sh.start)}, "
                    f"{sh.hours:g} h) lies outside the opening hours (horizon.open "
                    f"{format_clock(opens)} + horizon.hours {self.horizon.hours:g}); a shift "
                    "must overlap them (its agents would never take a call)")
        for field in ("days_off", "starts", "activity_starts"):  # each keyed by shift
            for name in getattr(self.labour, field):
                if name not in self.staffing.shifts:
                    raise ValueError(f"labour.{field}.{name}: no shift named {name!r}; shifts "
                                     f"are {', '.join(self.staffing.shifts)}")
        for name, when in self.labour.starts.items():  # a roster's starts by weekday
            hours = self.staffing.shifts[name].hours
            for day, start in when.items():
                why = ("ends after 24:00" if start + hours * 3600 > DAY_S + 1e-6 else
                       "lies outside the opening hours" if start >= closes
                       or start + hours * 3600 <= opens else "")
                if why:
                    raise ValueError(
                        f"labour.starts.{name}.{day}: {format_clock(start)} with the shift's "
                        f"{hours:g} h {why} ({format_clock(opens)} for "
                        f"{self.horizon.hours:g} h); allowed: a start from which the shift "
                        "overlaps the opening hours and ends by 24:00")
        for name, when in self.labour.activity_starts.items():  # a roster's breaks by day
            hours = self.staffing.shifts[name].hours
            for day, acts in when.items():
                for act, minutes in acts.items():
                    a = self.schedule.activities.get(act)
                    if a is None or a.offset_minutes is None or not a.applies_to(name, hours):
                        raise ValueError(
                            f"labour.activity_starts.{name}.{day}.{act}: no activity with a "
                            f"fixed start applies to shift {name!r}; allowed: an activity of "
                            "schedule.activities with offset_minutes that applies to it")
                    if minutes + a.minutes > hours * 60 + 1e-9:
                        raise ValueError(
                            f"labour.activity_starts.{name}.{day}.{act}: {minutes:g} minutes "
                            f"+ the activity's {a.minutes:g} end after the shift's {hours:g} "
                            "h; allowed: within the shift")
        self._check_schedule()
        self._check_monitoring()
        self._check_policy()
        check_skills(self.call_types, self.agent_groups, self.staffing.head_counts(), n,
                     self.calls, self.routing)
        return self

    def _check_policy(self) -> None:
        """Policy fields that contradict each other: an error naming both fields."""
        teams, level = self.teams, self.measurement.level
        small = 0 < teams.size < teams.min_group
        if level == "team" and small:
            raise ValueError(
                f'measurement.level: "team" with teams.size = {teams.size}, below '
                f"teams.min_group = {teams.min_group}: no team aggregate may be shown; use "
                "teams of at least teams.min_group agents (or teams.size = 0: the centre)")
        if self.monitoring.league_table and level == "team" and teams.size == 0:
            raise ValueError(
                'monitoring.league_table: true under measurement.level "team" ranks teams, '
                "but teams.size = 0 (no teams); set teams.size (at least teams.min_group)")
        if self.monitoring.league_table and level == "team" and small:
            raise ValueError(
                f"monitoring.league_table: true ranks teams of teams.size = {teams.size}, "
                f"below teams.min_group = {teams.min_group}: a team that small may not be "
                "published")
        tg = self.targets
        for what, value in (("aht", tg.aht_s), ("adherence", tg.adherence)):
            applies = getattr(tg, f"{what}_applies_to")
            if applies == "team" and value is not None and teams.size == 0:
                raise ValueError(
                    f'targets.{what}_applies_to: "team" but teams.size = 0 (no teams); set '
                    f'teams.size, or apply targets.{"aht_s" if what == "aht" else what} to '
                    '"agent" or "centre"')
        m = self.measurement
        if m.share_probability > 0 and level != "voluntary":
            raise ValueError(
                f"measurement.share_probability: {m.share_probability:g} is set but "
                f'measurement.level is {level!r}; agents share their numbers only under '
                '"voluntary" (set share_probability = 0, or level = "voluntary")')
        mon = self.monitoring
        if mon.alert_tolerance_s is not None and not mon.realtime_alerts:
            raise ValueError(
                f"monitoring.alert_tolerance_s: {mon.alert_tolerance_s:g} is the grace of "
                "real-time alerts, but monitoring.realtime_alerts is false (it would be "
                "ignored; schedule.tolerance_s applies)")
        if mon.recorded_share > 0 and mon.recording == "none":
            raise ValueError(
                f'monitoring.recorded_share: {mon.recorded_share:g} of calls recorded, but '
                'monitoring.recording is "none"; set recording to "audio" or "audio_screen", '
                "or recorded_share = 0")

    def _check_monitoring(self) -> None:
        """Real-time alerts and league tables need someone who sees the numbers."""
        mon, level = self.monitoring, self.measurement.level
        if mon.realtime_alerts and level not in ("individual", "voluntary"):
            raise ValueError(f'monitoring.realtime_alerts: true needs measurement.level '
                             f'"individual" or "voluntary" (someone who sees an agent\'s '
                             f'exceptions), not {level!r}')
        if mon.league_table and level not in ("individual", "team"):
            raise ValueError(f'monitoring.league_table: true needs measurement.level '
                             f'"individual" (agents ranked) or "team" (teams ranked), not '
                             f'{level!r}')

    def _check_schedule(self) -> None:
        """Activities name real shifts, lie inside them, do not overlap, meet the break rule."""
        sched, shifts = self.schedule, self.staffing.shifts
        acts = sched.activities
        for name, a in acts.items():
            for s in a.shifts:
                if s not in shifts:
                    raise ValueError(f"schedule.activities.{name}.shifts: no shift named {s!r}; "
                                     f"shifts are {', '.join(shifts)}")
        for name, a in acts.items():
            if a.min_shift_hours is None and not any(a.applies_to(sn, sh.hours)
                                                     for sn, sh in shifts.items()):
                lname, longest = max(shifts.items(), key=lambda kv: kv[1].hours)
                raise ValueError(
                    f"schedule.activities.{name}: applies to no shift: it may end "
                    f"{a.last_end:g} minutes into a shift and needs a shift of "
                    f"{a.shortest_shift_hours:g} h or more, but the longest, {lname!r}, lasts only "
                    f"{longest.hours * 60:g} minutes; activities must lie inside the shift "
                    "(set min_shift_hours to plan it only for shifts that long)")
        delay = self.behaviour.login_delay_max_s
        for sname, sh in shifts.items():
            length = sh.hours * 60
            if delay >= length * 60:
                raise ValueError(f"behaviour.login_delay_max_s: {delay:g} s is not shorter than "
                                 f"shift {sname!r} ({sh.hours:g} h)")
            mine = sorted(((n, a) for n, a in acts.items() if a.applies_to(sname, sh.hours)),
                          key=lambda na: na[1].first_start)
            for n, a in mine:
                if a.last_end > length + 1e-9:
                    raise ValueError(
                        f"schedule.activities.{n}: may end {a.last_end:g} minutes into shift "
                        f"{sname!r}, which lasts only {length:g} minutes; activities must lie "
                        "inside the shift (set its min_shift_hours, or its shifts, to leave "
                        "shorter shifts out)")
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

    @property
    def warmup_days(self) -> int:
        """Working days of warm-up this run gets: ``horizon.warmup_days``, "auto" resolved.

        "auto" is :data:`AUTO_WARMUP_DAYS` with stress on (exhaustion and threat take weeks
        to settle) and 0 without (no slow state to settle).
        """
        w = self.horizon.warmup_days
        if w == "auto":
            return AUTO_WARMUP_DAYS if self.stress.enabled else 0
        return w

    @property
    def policy_active(self) -> bool:
        """Whether a regime runs: someone acts on the numbers, or calls are monitored."""
        m = self.monitoring
        return (self.measurement.level != "none" or m.evaluations_per_agent_month > 0
                or m.listen_in_per_agent_month > 0
                or (m.recording != "none" and m.recorded_share > 0))

    @property
    def adherence_rules(self) -> AdherenceRules:
        """The adherence rules in force.

        With flexible micro-breaks, unplanned breaks are the agent's to take: excused.
        """
        rules = self.measurement.adherence
        if self.monitoring.break_control == "flexible" and \
                "unplanned_break" not in rules.excused:
            rules = rules.model_copy(update={"excused": (*rules.excused, "unplanned_break")})
        return rules

    @property
    def adherence_schedule(self) -> Schedule:
        """The schedule as the adherence measure reads its tolerances.

        ``monitoring.alert_tolerance_s`` (real-time alerts) replaces every tolerance, so
        that the alerts and the end-of-run measure use the same grace.
        """
        tol = self.monitoring.alert_tolerance_s
        if tol is None or not self.monitoring.realtime_alerts:
            return self.schedule
        return self.schedule.model_copy(update={"tolerance_s": tol, "tolerance_by_state": {}})

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (clock times as text), as it would be written to TOML/JSON."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """A stable SHA-256 of the scenario's content (name and prose excluded).

        The keys are sorted, but the order of a user's named entries (shifts, call types,
        agent groups...) decides how agents and queues are numbered, so it is part of the
        content: where it is not already sorted it is hashed too (two scenarios that differ
        only in the order of their shifts simulate differently and must not share a store).
        """
        data = self.to_dict()
        for k in ("name", "description", "rationale"):
            data.pop(k)
        order = _entry_order(self)
        if order:
            data["__entry_order__"] = order
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def replace(self, overrides: Mapping[str, Any], source: str = "override") -> Scenario:
        """A new scenario with dotted keys set (``{"staffing.agents": 90}``), re-validated."""
        data = self.to_dict()
        for key, value in overrides.items():
            _set_dotted(data, key, value, source)
        return _validate(data, {k: source for k in overrides}, source, type(self))


def _entry_order(model: Any, path: str = "") -> dict[str, list[str]]:
    """Where a mapping of named entries in ``model`` is not in sorted order: its key order."""
    out: dict[str, list[str]] = {}
    items = model.__dict__.items() if isinstance(model, BaseModel) else ()
    for name, value in items:
        here = f"{path}.{name}" if path else name
        values = value.values() if isinstance(value, Mapping) else (
            value if isinstance(value, tuple) else (value,))
        if isinstance(value, Mapping):
            keys = [str(k) for k in value]
            if keys != sorted(keys):
                out[here] = keys
        for i, v in enumerate(values):
            if isinstance(v, BaseModel):
                out.update(_entry_order(v, f"{here}[{i}]" if not isinstance(value, _Model)
                                        else here))
    return out
