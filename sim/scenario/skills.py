"""Several call types and agent groups with skills, and the routing policy between them.

Without ``[call_types]`` the centre has one queue and one pool of agents, exactly as before
(the ``[agent_groups]`` and ``[routing]`` sections are then unused and must be left out).
With them, every call has a type (drawn by share, from a stream of its own), every agent
belongs to the group of its shift, and ``[routing]`` says which waiting call a free agent
takes and which idle agent an arriving call gets (:mod:`sim.engine.routing_skills`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from sim.scenario.base import DAY_S, _field, _Model
from sim.scenario.sections import MAX_INTERVALS, Calls

#: most call types and most agent groups in a scenario
MAX_TYPES = 200
_NAME = re.compile(r"[A-Za-z0-9_\-]+")


class CallType(_Model):
    """One kind of call: its share of the demand, handle times, patience and target."""

    kind: Literal["phone", "written"] = _field(
        "phone", description='"phone": a call in a queue, its callers may hang up; '
        '"written": e-mails or chat transcripts (a deferrable queue): `per_day` items arrive '
        "over the opening hours, nobody hangs up, an agent of a group with the skill works "
        'one (status "Not Ready - Deferred Transaction", talk_mean_s long) only when no '
        "phone call it could take is waiting, and the backlog carries over to the next day.",
        source="the case's IWS status list (Deferred Transaction); docs/skills.md",
    )
    share: float = _field(
        1.0, gt=0, le=1e9, description="Phone types: relative share of "
        "`demand.calls_per_day` (any positive weights; normalised over the phone types).",
        source="scenario choice", unit="weight",
    )
    per_day: float | None = _field(
        None, gt=0, le=1e7, description="Written types only: expected items a day (Poisson, "
        "spread over the opening hours by `profile`).", source="scenario choice",
        unit="per day",
    )
    deadline_h: float = _field(
        24.0, gt=0, le=24 * 366, description="Written types only: an item should be done "
        "within this many hours of its arrival (the deadline-attainment KPI).",
        source="assumption (illustrative: e-mails answered within a day)", unit="hours",
    )
    profile: tuple[Annotated[float, Field(ge=0, le=1e9)], ...] | None = _field(
        None, description="Optional weight of this type per reporting interval (one per "
        "interval of the opening hours): a call arriving in an interval is of this type with "
        "a chance proportional to `share` x this weight; the centre's total volume and "
        "profile stay `[demand]`'s. Unset: the same weight all day.",
        source="scenario choice", unit="weight", max_length=MAX_INTERVALS,
    )
    talk_mean_s: float | None = _field(
        None, gt=0, le=DAY_S, description="Mean talk time of this type; unset: "
        "`calls.talk.mean_s`. The family and CV are `calls.talk`'s (the draws are scaled).",
        source="scenario choice",
    )
    acw_mean_s: float | None = _field(
        None, gt=0, le=DAY_S, description="Mean After Call Work of this type; unset: "
        "`calls.acw.mean_s`. The family and CV are `calls.acw`'s.", source="scenario choice",
    )
    patience_mean_s: float | None = _field(
        None, gt=0, le=DAY_S, description="Mean patience of this type's callers; unset: "
        "`calls.patience.mean_s`. The family and CV are `calls.patience`'s.",
        source="scenario choice",
    )
    threshold_s: float | None = _field(
        None, ge=0, le=3600, description="Service-level threshold T of this type; unset: "
        "`service_level.threshold_s`.", source="scenario choice",
    )
    target: float | None = _field(
        None, gt=0, le=1, description="Service-level target of this type; unset: "
        "`service_level.target`.", source="scenario choice", unit="share",
    )
    priority: int = _field(
        0, ge=-1000, le=1000, description='Static priority under `routing.calls = '
        '"priority"`: a free agent takes a waiting call of the highest priority it can '
        "answer (ties: the call that waited longest).", source="scenario choice",
    )


class AgentGroup(_Model):
    """Agents with the same skills: the agents of the shifts named here."""

    shifts: tuple[str, ...] = _field(
        description="The `staffing.shifts` whose agents form this group; every shift with "
        "agents belongs to exactly one group.", source="scenario choice", min_length=1,
    )
    skills: tuple[str, ...] = _field(
        description="The call types this group answers (names of `[call_types]`; at least "
        "one).", source="scenario choice", max_length=MAX_TYPES,
    )
    level: dict[str, Annotated[float, Field(gt=0, le=10)]] = _field(
        {}, description="Skill level per call type: a multiplier of talk and ACW when an "
        "agent of this group answers it (0.8: 20% faster; unset: 1). Allowed: over 0, up to 10 "
        "each.",
        source="assumption (handle time falls with experience; scenario choice)",
        unit="multiplier",
    )
    priority: int = _field(
        0, ge=-1000, le=1000, description='Under `routing.agents = "priority"` an arriving '
        "call goes to an idle agent of the highest-priority group that answers it (ties: "
        "longest idle).", source="scenario choice",
    )
    overflow_after_s: dict[str, Annotated[float, Field(ge=0, le=DAY_S)]] = _field(
        {}, description="Per call type: this group takes a call of that type only once it "
        "has waited this long (delay-based overflow; unset: at once). Allowed: 0 to 86400 "
        "each.",
        source="scenario choice", unit="seconds",
    )
    phones_at_queue: int | None = _field(
        None, ge=1, le=100_000, description="Agents scheduled on written work: while its "
        "written backlog has items, this group takes a phone call only when at least this many "
        "calls of its types wait (call-out to the phones; an item under way is finished "
        "first). Unset: phones first, written work between calls.",
        source="the case's IWS status list (Deferred Transaction); scenario choice",
        unit="calls",
    )
    reserve: dict[str, Annotated[int, Field(ge=0, le=100_000)]] = _field(
        {}, description="Agents reserved per call type: a call of another type takes an "
        "agent of this group only while more than the other types' reserves are idle "
        "(trunk reservation). Allowed: 0 to 100000 each.", source="scenario choice",
        unit="agents",
    )


class Routing(_Model):
    """Which waiting call a free agent takes, and which idle agent an arriving call gets."""

    calls: Literal["longest_waiting", "priority"] = _field(
        "longest_waiting", description='"longest_waiting": a free agent takes the call that '
        'has waited longest among the types it answers (FCFS across queues); "priority": '
        "the highest `call_types.NAME.priority` first, then the longest waiting.",
        source="Gans, Koole and Mandelbaum (2003), MSOM 5(2), s. 4",
    )
    agents: Literal["longest_idle", "random", "fastest", "priority"] = _field(
        "longest_idle", description='"longest_idle": an arriving call goes to the compatible '
        'agent idle longest; "random": to one at random; "fastest": to one of the group with '
        'the lowest skill level (handle-time multiplier) for its type, then longest idle; '
        '"priority": to the group with the highest `agent_groups.NAME.priority`, then '
        "longest idle.", source="Visschers, Adan and Weiss (2012); scenario choice",
    )


def check_skills(types: dict[str, CallType], groups: dict[str, AgentGroup],
                 shifts: dict[str, int], intervals: int, calls: Calls,
                 routing: Routing) -> None:
    """Errors naming the field, the value and what is allowed (or nothing when consistent).

    ``shifts``: head count per shift; ``intervals``: reporting intervals a day; ``calls``:
    the calls section whose draws the types scale.
    """
    if not types:
        if groups:
            raise ValueError("agent_groups: given without [call_types]; groups answer call "
                             "types (add [call_types], or leave [agent_groups] out)")
        if routing != Routing():
            raise ValueError("routing: set without [call_types]; with one queue the ACD "
                             "routes first in, first out to the agent idle longest (add "
                             "[call_types], or leave [routing] out)")
        return
    if len(types) > MAX_TYPES or len(groups) > MAX_TYPES:
        raise ValueError(f"call_types: {len(types)} types and {len(groups)} groups; at "
                         f"most {MAX_TYPES} of each")
    for name in (*types, *groups):
        if not _NAME.fullmatch(name):
            raise ValueError(f"call_types: name {name!r} may use letters, digits, _ and - "
                             "only")
    if not groups:
        raise ValueError("agent_groups: missing; with [call_types] every shift's agents "
                         "belong to a group (e.g. [agent_groups.all] shifts = [...], "
                         f"skills = {list(types)})")
    phones = [n for n, t in types.items() if t.kind == "phone"]
    if not phones:
        raise ValueError("call_types: only written types; at least one phone type is needed "
                         "(the demand's calls)")
    for tname, t in types.items():
        if t.kind == "written" and t.per_day is None:
            raise ValueError(f"call_types.{tname}.per_day: missing; a written type says how "
                             "many items arrive a day")
        if t.kind == "phone" and t.per_day is not None:
            raise ValueError(f"call_types.{tname}.per_day: {t.per_day:g} is for written "
                             "types; a phone type's volume is its share of "
                             "demand.calls_per_day")
        if t.profile is not None and len(t.profile) != intervals:
            raise ValueError(f"call_types.{tname}.profile: has {len(t.profile)} weights; "
                             f"the opening hours have {intervals} intervals (one weight each)")
    owner: dict[str, str] = {}
    for gname, g in groups.items():
        for s in g.shifts:
            if s not in shifts:
                raise ValueError(f"agent_groups.{gname}.shifts: no shift named {s!r}; "
                                 f"allowed: {', '.join(shifts)}")
            if s in owner:
                raise ValueError(f"agent_groups.{gname}.shifts: shift {s!r} is already in "
                                 f"group {owner[s]!r}; a shift belongs to one group")
            owner[s] = gname
        if not g.skills:
            raise ValueError(f"agent_groups.{gname}.skills: empty; a group answers at least "
                             f"one call type; allowed: {', '.join(types)}")
        for what in ("skills", "level", "overflow_after_s", "reserve"):
            for t in getattr(g, what):
                if t not in types:
                    raise ValueError(f"agent_groups.{gname}.{what}: no call type named "
                                     f"{t!r}; allowed: {', '.join(types)}")
        if g.phones_at_queue is not None and not any(types[t].kind == "written"
                                                     for t in g.skills):
            raise ValueError(f"agent_groups.{gname}.phones_at_queue: {g.phones_at_queue} but "
                             "the group has no written type among its skills")
        for what in ("overflow_after_s", "reserve"):
            for t in getattr(g, what):
                if types[t].kind == "written":
                    raise ValueError(f"agent_groups.{gname}.{what}: {t!r} is written work; "
                                     "overflow delays and reserves are for phone types")
        for what in ("level", "overflow_after_s", "reserve"):
            for t in getattr(g, what):
                if t not in g.skills:
                    raise ValueError(f"agent_groups.{gname}.{what}: {t!r} is not one of the "
                                     f"group's skills ({', '.join(g.skills)})")
    for s, n in shifts.items():
        if n > 0 and s not in owner:
            raise ValueError(f"agent_groups: shift {s!r} ({n} agents) is in no group; name it "
                             "in one group's shifts")
    staffed = {t for g in groups.values() if sum(shifts[s] for s in g.shifts) > 0
               for t in g.skills}
    for tname in types:
        if tname not in staffed:
            raise ValueError(f"call_types.{tname}: no agent answers it (no group with agents "
                             f"has it in its skills); groups: "
                             + "; ".join(f"{gn} = {list(g.skills)}" for gn, g in groups.items()))
    if intervals and any(types[n].profile is not None for n in phones):
        for j in range(intervals):
            if all(types[n].profile is not None and types[n].profile[j] == 0 for n in phones):
                raise ValueError(f"call_types: every type's profile is 0 in interval {j}; "
                                 "a call arriving then would have no type")
    for tname, t in types.items():
        for what, base in (("talk", calls.talk), ("acw", calls.acw)):
            if getattr(t, f"{what}_mean_s") is not None and base.mean_s == 0:
                raise ValueError(
                    f"call_types.{tname}.{what}_mean_s: {getattr(t, f'{what}_mean_s'):g} s, but "
                    f"calls.{what}.mean_s is 0 (none); a type's time scales the calls "
                    f"section's draws, so set calls.{what}.mean_s > 0 first")
        if t.patience_mean_s is not None and calls.patience.distribution == "none":
            raise ValueError(
                f"call_types.{tname}.patience_mean_s: {t.patience_mean_s:g} s, but "
                'calls.patience.distribution is "none" (callers never hang up); choose a '
                "patience distribution in [calls.patience] first")
