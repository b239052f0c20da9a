"""Several queues in planning: the everything-on case variant, and ccsim plan by skill."""

from __future__ import annotations

from sim.scenario import load_scenario
from tests.conftest import SCENARIOS

SKILL_SECTIONS = ("call_types", "agent_groups", "routing")


def test_two_queues_tmr_is_the_2018_regime_on_the_two_queues():
    """two-queues-tmr.toml has two-queues.toml's queues and groups and the 2018 regime."""
    case = SCENARIOS / "case"
    tmr = load_scenario(case / "two-queues-tmr.toml").to_dict()
    queues = load_scenario(case / "two-queues.toml").to_dict()
    regime = load_scenario(case / "telenor-2018-tmr.toml").to_dict()
    assert tmr["call_types"] and tmr["stress"]["attrition"] and tmr["monitoring"][
        "realtime_alerts"]
    for key, value in tmr.items():
        if key in ("name", "description", "rationale"):
            continue
        assert value == (queues if key in SKILL_SECTIONS else regime)[key], key
