"""Every numeric scenario field has a documented lower and upper bound; contradictions fail.

Huge finite values (a tolerance of 1e300 s, an AHT of 1e12 s, a million opening hours) are
refused like infinity is; policy fields that contradict each other are one error naming
both fields; size limits are refused by the schema, before anything is built.
"""

from __future__ import annotations

import time
import types
import typing
from collections.abc import Iterator
from typing import Any

import annotated_types as at
import pytest
from pydantic import BaseModel

from analysis.docs import reference
from sim.scenario import Scenario, ScenarioError, scenario_from_dict
from tests.conftest import small_dict


def _numeric_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, lower bound, upper bound, description) of every numeric leaf field."""
    for name, f in model.model_fields.items():
        extra = f.json_schema_extra or {}
        yield from _walk(f.annotation, list(f.metadata), prefix + name, f.description or "",
                         extra.get("bounds"))


def _walk(ann: Any, metadata: list, path: str, desc: str,
          declared: tuple[float, float] | None) -> Iterator[tuple[str, Any]]:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        base, *meta = args
        inner = [m2 for m in meta for m2 in getattr(m, "metadata", [m])]
        yield from _walk(base, metadata + inner, path, desc, declared)
    elif isinstance(ann, type) and issubclass(ann, BaseModel):
        yield from _numeric_fields(ann, path + ".")
    elif origin in (typing.Union, types.UnionType):
        numeric = [a for a in args if a in (int, float)]
        if declared is not None and numeric:  # bool | float: bounds kept by a validator
            yield path, declared[0], declared[1], desc
            return
        for a in args:
            if a is not type(None):
                yield from _walk(a, metadata, path, desc, declared)
    elif origin is tuple:
        for i, a in enumerate(x for x in args if x is not Ellipsis):
            yield from _walk(a, [], f"{path}[{i}]", desc, None)
    elif origin is dict:
        yield from _walk(args[1], [], path + ".NAME", desc, None)
    elif ann in (int, float):
        lo = next((getattr(m, k) for m in metadata for k in ("ge", "gt")
                   if isinstance(m, at.Ge | at.Gt) and hasattr(m, k)), None)
        hi = next((getattr(m, k) for m in metadata for k in ("le", "lt")
                   if isinstance(m, at.Le | at.Lt) and hasattr(m, k)), None)
        yield path, lo, hi, desc


FIELDS = list(_numeric_fields(Scenario))


def test_the_walk_finds_the_numeric_fields():
    """The walk reaches nested sections, dict entries, tuples and optional fields."""
    paths = {p for p, *_ in FIELDS}
    assert {"horizon.days", "demand.profile[0]", "staffing.shifts.NAME.agents",
            "schedule.activities.NAME.window_minutes[1]", "schedule.tolerance_by_state.NAME",
            "targets.aht_s", "targets.service_level_interval", "stress.load_talk"} <= paths
    assert len(FIELDS) > 100


@pytest.mark.parametrize(("path", "lo", "hi", "desc"), FIELDS, ids=[f[0] for f in FIELDS])
def test_every_numeric_field_has_both_bounds_and_documents_them(path, lo, hi, desc):
    """Lower and upper bound are set, finite, ordered, and the description states a range."""
    assert lo is not None, f"{path}: no lower bound"
    assert hi is not None, f"{path}: no upper bound"
    assert float("-inf") < lo < hi < float("inf")
    assert "Allowed:" in desc or " to " in desc or "from " in desc, desc


def test_the_reference_shows_the_bounds():
    """`ccsim docs` prints each field's allowed range beside its description."""
    text = reference()
    assert "| `horizon.days` |" in text and "Allowed: >= 1 and <= 3660." in text
    assert "Allowed: >= 0 and <= 3600." in text  # schedule.tolerance_s


def _refused(match: str, **changes: Any) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(small_dict(**changes))
    msg = str(info.value)
    assert match in msg, msg
    return msg


@pytest.mark.parametrize(("changes", "expect"), [
    ({"schedule__tolerance_s": 1e300},
     "schedule.tolerance_s: got 1e+300; input should be less than or equal to 3600"),
    ({"calls__talk": {"mean_s": 1e12}},
     "calls.talk.mean_s: got 1000000000000.0; input should be less than or equal to 86400"),
    ({"horizon__hours": 1_000_000.0},
     "horizon.hours: got 1000000.0; input should be less than or equal to 8784"),
    ({"horizon__open": "24:00"},
     "horizon.open: got 86400.0; input should be less than 86400"),
    ({"demand__calls_per_day": 1e9},
     "demand.calls_per_day: got 1000000000.0; input should be less than or equal to 10000000"),
    ({"staffing__agents": 1_000_000},
     "staffing.agents: got 1000000; input should be less than or equal to 100000"),
    ({"closing__max_overtime_minutes": 1e9},
     "closing.max_overtime_minutes: got 1000000000.0; input should be less than or equal"),
    ({"schedule__tolerance_by_state": {"break": 1e9}},
     "schedule.tolerance_by_state.break: got 1000000000.0; input should be less than or "
     "equal to 3600"),
])
def test_huge_finite_values_are_refused_naming_field_and_value(changes, expect):
    """A finite but absurd value is refused like infinity, naming field, value and bound."""
    _refused(expect, **changes)


def test_the_shifts_agents_together_are_bounded():
    """Many shifts each under the bound, together over it: refused naming the total."""
    shifts = {f"s{i}": {"start": "08:00", "hours": 2, "agents": 60_000} for i in range(2)}
    _refused("staffing.shifts: 120,000 agents in all; at most 100,000 are allowed",
             staffing={"shifts": shifts})


def test_calls_over_the_horizon_are_bounded():
    """Ten million calls a day for 20 days is over the run's 100 million."""
    msg = _refused("demand.calls_per_day: 1e+07 calls a day over horizon.days = 20 are "
                   "2e+08 calls; at most 100,000,000 are allowed",
                   horizon={"days": 20, "open": "08:00", "hours": 2, "interval_minutes": 30},
                   demand={"calls_per_day": 1e7, "profile": [1, 1, 1, 1]})
    assert "use fewer days or calls" in msg


@pytest.mark.parametrize("start", ["10:00", "12:00", "05:00"])
def test_a_shift_outside_the_opening_hours_is_refused(start):
    """The queue is open 08:00-10:00: a shift at or after closing, or over before opening."""
    _refused(f"staffing.shifts.b.start: the shift ({start}, 1.5 h) lies outside the opening "
             "hours (horizon.open 08:00 + horizon.hours 2)",
             staffing={"shifts": {"a": {"start": "08:00", "hours": 2, "agents": 6},
                                  "b": {"start": start, "hours": 1.5, "agents": 4}}})


# --------------------------------------------------------------------------- contradictions

@pytest.mark.parametrize(("changes", "expect"), [
    ({"teams": {"size": 2, "min_group": 5}, "measurement": {"level": "team"}},
     'measurement.level: "team" with teams.size = 2, below teams.min_group = 5'),
    ({"teams": {"size": 0}, "measurement": {"level": "team"},
      "monitoring": {"league_table": True}},
     'monitoring.league_table: true under measurement.level "team" ranks teams, but '
     "teams.size = 0"),
    ({"targets": {"aht_s": 300, "aht_applies_to": "team"}},
     'targets.aht_applies_to: "team" but teams.size = 0 (no teams)'),
    ({"targets": {"adherence": 0.9, "adherence_applies_to": "team"}},
     'targets.adherence_applies_to: "team" but teams.size = 0 (no teams)'),
    ({"measurement": {"level": "individual", "share_probability": 0.3}},
     "measurement.share_probability: 0.3 is set but measurement.level is 'individual'"),
    ({"measurement": {"level": "individual"}, "monitoring": {"alert_tolerance_s": 60}},
     "monitoring.alert_tolerance_s: 60 is the grace of real-time alerts, but "
     "monitoring.realtime_alerts is false"),
    ({"monitoring": {"recorded_share": 0.5}},
     'monitoring.recorded_share: 0.5 of calls recorded, but monitoring.recording is "none"'),
])
def test_contradicting_policy_fields_name_both(changes, expect):
    """Each contradiction is one error naming both fields and the values."""
    _refused(expect, **changes)


def test_league_table_of_teams_below_min_group_is_refused():
    """A league table of teams of 2 (min_group 5) under team level names both fields."""
    msg = _refused('measurement.level: "team" with teams.size = 2, below teams.min_group = 5',
                   teams={"size": 2, "min_group": 5}, measurement={"level": "team"},
                   monitoring={"league_table": True})
    assert "teams.min_group" in msg


def test_consistent_policies_still_load():
    """The same fields without the contradiction load (the check is not over-broad)."""
    ok = scenario_from_dict(small_dict(
        teams={"size": 5, "min_group": 5}, measurement={"level": "voluntary",
                                                        "share_probability": 0.3},
        targets={"aht_s": 300, "aht_applies_to": "team"}))
    assert ok.measurement.share_probability == 0.3 and ok.teams.size == 5


# --------------------------------------------------------------------------- refused early

def test_a_million_agents_is_refused_by_the_schema_in_well_under_a_second():
    """No plan, no estimate is built: the schema refuses the head count at once."""
    t0 = time.perf_counter()
    _refused("staffing.agents: got 1000000; input should be less than or equal to 100000",
             staffing={"agents": 1_000_000,
                       "shifts": {"a": {"start": "08:00", "hours": 2, "agents": 6}}})
    assert time.perf_counter() - t0 < 0.5


# --------------------------------------------------------------------------- size estimates

def test_the_pilot_keeps_everything_on_and_is_small():
    """The pilot of the TMR case: one day, scaled-down calls, the whole regime still on."""
    from analysis.experiment import PILOT_AGENTS, PILOT_CALLS, pilot_scenario
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    tmr = load_scenario(SCENARIOS / "case" / "telenor-2018-tmr.toml")
    pilot = pilot_scenario(tmr)
    assert pilot.horizon.days == 1
    assert pilot.demand.calls_per_day <= PILOT_CALLS + 1e-9
    assert sum(pilot.staffing.head_counts().values()) <= PILOT_AGENTS
    for section in ("measurement", "monitoring", "targets", "stress", "schedule", "behaviour",
                    "teams", "supervisor", "responses"):
        assert getattr(pilot, section) == getattr(tmr, section), section


def test_a_measured_estimate_scales_the_pilot_and_keeps_the_sizes(small):
    """A piloted estimate has the static sizes, measured time and memory, and says so."""
    from analysis.experiment import estimate, static_estimate

    big = small.replace({"horizon.days": 3})
    est, static = estimate(big), static_estimate(big)
    assert est.measured and not static.measured
    assert (est.calls, est.agent_days, est.status_rows) == (
        static.calls, static.agent_days, static.status_rows)
    assert est.seconds > 0 and est.memory_bytes > 0
    assert "measured by a pilot" in est.describe() and "roughly" in static.describe()


def test_small_work_is_not_piloted(small):
    """Work the static model puts under a second keeps the static estimate (no pilot cost)."""
    from analysis.experiment import SizeGuard

    (est,) = SizeGuard().estimates([small], tasks=1, parallel=1)
    assert not est.measured


def test_days_3660_is_refused_before_anything_is_built_in_under_a_second(base):
    """3660 days of base: refused by the guard's early check at once, naming the limit."""
    from analysis.experiment import SizeGuard, TooLargeError

    long = base.replace({"horizon.days": 3660})
    t0 = time.perf_counter()
    with pytest.raises(TooLargeError) as info:
        SizeGuard().refuse([long])
    assert time.perf_counter() - t0 < 1
    assert "2.56e+07 calls, 457,500 agent-days" in str(info.value)
    assert "over the limit of 4 GiB per replication" in str(info.value)
