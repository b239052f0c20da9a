"""Property-based fuzzing of the scenario schema (Hypothesis).

Scenario dicts are generated around the small test centre: valid ones (fields drawn inside
their documented bounds) and perturbed ones (a field set to a wrong type, an absurd or
non-finite number, an unknown key, a removed section). Whatever is given, loading returns
a Scenario or raises ``ScenarioError`` naming the source, a field path and the value, never
another exception; a loaded scenario round-trips through ``to_dict`` to the same digest.
Derandomized, so CI sees the same examples every run.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario import Scenario, ScenarioError, scenario_from_dict
from tests.conftest import small_dict

SOURCE = "fuzz.toml"
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

#: (dotted path, values inside the documented bounds) for a valid draw
VALID: list[tuple[str, st.SearchStrategy]] = [
    ("demand.calls_per_day", st.floats(1, 2000)),
    ("demand.busyness_cv", st.floats(0, 2)),
    ("calls.talk.mean_s", st.floats(1, 900)),
    ("calls.talk.cv", st.floats(0.05, 3)),
    ("calls.acw.mean_s", st.floats(0, 300)),
    ("calls.patience.mean_s", st.floats(1, 3600)),
    ("calls.repeat_probability", st.floats(0, 1)),
    ("service_level.threshold_s", st.floats(0, 3600)),
    ("service_level.target", st.floats(0.01, 1)),
    ("schedule.tolerance_s", st.floats(0, 3600)),
    ("behaviour.unplanned_breaks_per_hour", st.floats(0, 60)),
    ("closing.rule", st.sampled_from(["serve", "close"])),
    ("closing.max_overtime_minutes", st.floats(0, 1440)),
    ("measurement.level", st.sampled_from(["none", "team", "individual", "voluntary"])),
    ("monitoring.feedback", st.sampled_from(["developmental", "punitive"])),
    ("monitoring.evaluations_per_agent_month", st.floats(0, 200)),
    ("targets.aht_s", st.floats(1, 86_400)),
    ("targets.abandon_rate", st.floats(0, 1)),
    ("stress.enabled", st.booleans()),
    ("stress.load_talk", st.floats(0, 10)),
    ("cost.hourly_cost", st.floats(0, 1e6)),
    ("staffing.shifts.a.agents", st.integers(0, 50)),
    ("staffing.shifts.a.start", st.sampled_from(["07:00", "08:00", "09:15", "09:59"])),
    ("horizon.days", st.integers(1, 3)),
]
PATHS = [p for p, _ in VALID] + ["horizon.open", "horizon.hours", "demand.profile",
                                 "staffing.shifts", "teams.size", "teams.min_group",
                                 "schedule.tolerance_by_state", "no_such_section.x",
                                 "calls.no_such_field", "measurement.share_probability"]

#: values that are wrong for most fields
JUNK = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, 1e12, -1, 0, 2**63, "", "24:00", "25:00", "08:00"]),
    st.integers(-2**70, 2**70),
    st.text(max_size=12),
    st.booleans(),
    st.lists(st.integers(-3, 3), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _set(d: dict[str, Any], path: str, value: Any) -> None:
    node = d
    *parents, last = path.split(".")
    for p in parents:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[last] = value


@st.composite
def valid_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """The small centre with a few fields drawn inside their documented bounds."""
    d = small_dict()
    for path, strategy in draw(st.lists(st.sampled_from(VALID), max_size=6, unique_by=id)):
        _set(d, path, draw(strategy))
    return d


@st.composite
def perturbed_dicts(draw: st.DrawFn) -> tuple[dict[str, Any], str, Any]:
    """A valid dict with one field set to junk (or one section removed)."""
    d = copy.deepcopy(draw(valid_dicts()))
    path = draw(st.sampled_from(PATHS))
    if draw(st.booleans()) and "." not in path.rstrip("x"):
        d.pop(path.split(".")[0], None)
        return d, path, None
    value = draw(JUNK)
    _set(d, path, value)
    return d, path, value


def _check_error(msg: str, path: str, value: Any) -> None:
    """The message names the source and a field; a per-field refusal names the value."""
    lines = msg.splitlines()
    assert lines[0] == "invalid scenario:" or lines[0].startswith(SOURCE), msg
    body = [ln.strip() for ln in lines[1:]] or [lines[0]]
    for ln in body:
        assert ln.startswith(f"{SOURCE}: "), msg
        assert re.match(rf"{re.escape(SOURCE)}: [A-Za-z0-9_.\-\[\]() ]+:", ln), msg
    mine = [ln for ln in body if ln.startswith(f"{SOURCE}: {path}: got ")]
    for ln in mine:  # a type or bound error on the perturbed field shows the value given
        shown = {repr(value), str(value), f"{value!r}".replace("'", '"')}
        if isinstance(value, float) and math.isfinite(value):
            shown.add(f"{value:g}")
        assert any(s in ln for s in shown), (ln, value)


def _load(d: dict[str, Any]) -> Scenario | ScenarioError:
    try:
        return scenario_from_dict(d, SOURCE)
    except ScenarioError as exc:
        return exc


@FUZZ
@given(valid_dicts())
def test_valid_draws_load_or_say_which_rule_they_break(d):
    """In-bounds fields: a Scenario, or a ScenarioError naming source and field."""
    out = _load(d)
    if isinstance(out, ScenarioError):
        _check_error(str(out), "", None)
    else:
        assert isinstance(out, Scenario)


@FUZZ
@given(perturbed_dicts())
def test_perturbed_dicts_raise_only_scenario_errors_naming_field_and_value(case):
    """Junk anywhere: never another exception type; the error names source, field, value."""
    d, path, value = case
    out = _load(d)  # any other exception type fails the test here
    if isinstance(out, ScenarioError):
        _check_error(str(out), path, value)


@FUZZ
@given(valid_dicts())
def test_a_loaded_scenario_round_trips_to_the_same_digest(d):
    """to_dict -> load gives an equal scenario with the same digest."""
    out = _load(d)
    if isinstance(out, Scenario):
        again = scenario_from_dict(out.to_dict(), SOURCE)
        assert again == out and again.digest() == out.digest()


def test_the_fuzzer_reaches_both_outcomes():
    """The strategies produce loadable scenarios and refused ones (the properties bite)."""
    loaded = refused = 0

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(perturbed_dicts())
    def count(case):
        nonlocal loaded, refused
        if isinstance(_load(case[0]), Scenario):
            loaded += 1
        else:
            refused += 1

    count()
    assert loaded > 0 and refused > 0
