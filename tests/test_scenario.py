"""Scenario loading: extends, overrides, and clear errors for bad input."""

from __future__ import annotations

import textwrap

import pytest
from pydantic import ValidationError

from sim.scenario import ScenarioError, load_scenario
from tests.conftest import SCENARIOS

GOOD = textwrap.dedent('''
    description = "d"
    rationale = "r"
    [horizon]
    open = "08:00"
    hours = 1
    interval_minutes = 30
    [demand]
    calls_per_day = 100
    profile = [1, 1]
    [staffing.shifts.early]
    start = "08:00"
    hours = 1
    agents = 3
''')


def write(tmp_path, text, name="s.toml"):
    """Write a scenario file and return its path."""
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_shipped_scenarios_load():
    """Every shipped scenario file is valid."""
    files = sorted(SCENARIOS.rglob("*.toml"))
    assert len(files) >= 5, files
    for f in files:
        assert load_scenario(f).description


def test_extends_merges_tables_and_names_child(tmp_path):
    """A what-if file overrides one field of its parent and keeps the rest."""
    write(tmp_path, GOOD, "parent.toml")
    child = write(tmp_path, '''
        extends = "parent.toml"
        description = "more agents"
        rationale = "test"
        [staffing.shifts.early]
        agents = 5
    ''', "child.toml")
    s = load_scenario(child)
    assert s.name == "child"
    assert s.staffing.shifts["early"].agents == 5
    assert s.staffing.shifts["early"].hours == 1
    assert s.demand.calls_per_day == 100


def test_override_and_total_agents(tmp_path):
    """staffing.agents rescales shifts by largest remainder, keeping the shift mix."""
    s = load_scenario(write(tmp_path, GOOD), {"staffing.shifts.late": {
        "start": "08:30", "hours": 0.5, "agents": 1}, "staffing.agents": 9})
    assert s.staffing.head_counts() == {"early": 7, "late": 2}
    assert sum(s.staffing.head_counts().values()) == 9


def test_scenario_is_frozen_and_hash_stable(tmp_path):
    """Scenarios cannot be mutated; equal content gives an equal digest."""
    a = load_scenario(write(tmp_path, GOOD))
    b = load_scenario(write(tmp_path, GOOD, "other.toml"))
    with pytest.raises(ValidationError, match="frozen"):
        a.horizon.days = 3
    assert a.digest() == b.digest()
    assert a.replace({"horizon.days": 2}).digest() != a.digest()


BAD = [
    # (what is wrong, replacement applied to GOOD, expected fragments of the message)
    ("unknown key", ("hours = 1\ninterval", "hour = 1\nhours = 1\ninterval"),
     ["s.toml", "horizon.hour", "unknown key", "interval_minutes"]),
    ("wrong type", ("agents = 3", 'agents = "three"'),
     ["staffing.shifts.early.agents", "'three'", "integer"]),
    ("float for int", ("agents = 3", "agents = 3.5"), ["staffing.shifts.early.agents", "3.5"]),
    ("negative rate", ("calls_per_day = 100", "calls_per_day = -5"),
     ["demand.calls_per_day", "-5", "greater than 0"]),
    ("shift ends before it starts", ('hours = 1\nagents', 'hours = -2\nagents'),
     ["staffing.shifts.early.hours", "-2"]),
    ("bad clock", ('start = "08:00"', 'start = "25:00"'),
     ["staffing.shifts.early.start", "25:00", "HH:MM"]),
    ("profile length", ("profile = [1, 1]", "profile = [1, 1, 1]"),
     ["demand.profile", "3 weights", "2 intervals"]),
    ("negative weight", ("profile = [1, 1]", "profile = [1, -1]"),
     ["demand.profile.1", "got -1", "greater than or equal to 0"]),
    ("bool for number", ("calls_per_day = 100", "calls_per_day = true"),
     ["demand.calls_per_day", "True"]),
    ("unknown distribution", ("[demand]", '[calls.talk]\ndistribution = "weibull"\n'
                              "mean_s = 200\n[demand]"),
     ["calls.talk.distribution", "weibull", "lognormal"]),
    ("no agents", ("agents = 3", "agents = 0"), ["staffing.shifts", "agents > 0"]),
    ("hours not whole intervals", ("interval_minutes = 30", "interval_minutes = 25"),
     ["horizon.hours", "25"]),
    ("missing section", ("[demand]\ncalls_per_day = 100\nprofile = [1, 1]\n", ""),
     ["demand", "missing"]),
    ("missing rationale", ('rationale = "r"\n', ""), ["rationale", "required"]),
    ("not TOML", ("[demand]", "[demand"), ["s.toml", "not valid TOML"]),
    ("multi-day past midnight", ("hours = 1\ninterval", "hours = 20\ninterval"),
     ["horizon"]),
]


@pytest.mark.parametrize("what,change,fragments", BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_names_the_field(tmp_path, what, change, fragments):
    """Each malformed file gives one ScenarioError naming file, field and value."""
    old, new = change
    assert old in GOOD, f"test table is stale for {what!r}"
    text = GOOD.replace(old, new, 1)
    if what == "multi-day past midnight":
        text = text.replace('open = "08:00"', 'open = "08:00"\ndays = 2')
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    msg = str(info.value)
    for frag in fragments:
        assert frag in msg, f"{what}: {frag!r} not in message:\n{msg}"


def test_error_names_the_file_that_set_the_value(tmp_path):
    """A bad value in a child file is reported against the child, not its parent."""
    write(tmp_path, GOOD, "parent.toml")
    child = write(tmp_path, '''
        extends = "parent.toml"
        description = "d"
        rationale = "r"
        [staffing.shifts.early]
        agents = -1
    ''', "child.toml")
    with pytest.raises(ScenarioError, match=r"child\.toml: staffing\.shifts\.early\.agents"):
        load_scenario(child)


def test_extends_cycle_and_missing_parent(tmp_path):
    """Cycles and missing parents are errors, not recursion or tracebacks."""
    write(tmp_path, 'extends = "b.toml"\ndescription = "d"\nrationale = "r"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\ndescription = "d"\nrationale = "r"\n', "b.toml")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")
    write(tmp_path, 'extends = "nope.toml"\ndescription = "d"\nrationale = "r"\n', "c.toml")
    with pytest.raises(ScenarioError, match="nope.toml"):
        load_scenario(tmp_path / "c.toml")


def test_bad_override_names_override():
    """A bad --set value is reported against the override."""
    with pytest.raises(ScenarioError, match=r"--set: staffing\.agents"):
        load_scenario(SCENARIOS / "base.toml", {"staffing.agents": -3})


def test_digest_counts_the_order_of_named_entries():
    """Shifts in another order number the agents otherwise: another digest, another store."""
    from sim.model import simulate
    from sim.scenario import scenario_from_dict
    from tests.conftest import small_dict

    d = small_dict()
    d["staffing"] = {"shifts": {"a": {"start": "08:00", "hours": 2, "agents": 3},
                                "b": {"start": "09:00", "hours": 1, "agents": 2}}}
    ab = scenario_from_dict(d)
    d["staffing"]["shifts"] = dict(reversed(list(d["staffing"]["shifts"].items())))
    ba = scenario_from_dict(d)
    assert list(ab.staffing.shifts) == ["a", "b"] and list(ba.staffing.shifts) == ["b", "a"]
    assert ab.digest() != ba.digest() and ab.digest() == scenario_from_dict(ab.to_dict()).digest()
    run_ab, run_ba = simulate(ab, 1, 0), simulate(ba, 1, 0)
    assert not run_ab.agents["shift"].equals(run_ba.agents["shift"])
