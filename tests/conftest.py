"""Shared fixtures: small scenarios built in code, so tests state what they simulate."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import Scenario, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def small_dict(**changes) -> dict:
    """A two-hour, one-day centre with two shifts: quick to simulate."""
    d = {
        "name": "small",
        "description": "test centre",
        "rationale": "tests",
        "horizon": {"days": 1, "open": "08:00", "hours": 2, "interval_minutes": 30},
        "demand": {"calls_per_day": 300, "profile": [1, 2, 2, 1], "busyness_cv": 0.1},
        "staffing": {"shifts": {"a": {"start": "08:00", "hours": 2, "agents": 6},
                                "b": {"start": "08:30", "hours": 1.5, "agents": 4}}},
    }
    for key, value in changes.items():
        node = d
        parts = key.split("__")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return d


@pytest.fixture
def small() -> Scenario:
    """The small centre as a validated scenario."""
    return scenario_from_dict(small_dict())


@pytest.fixture(scope="session")
def base() -> Scenario:
    """The shipped base scenario."""
    return load_scenario(SCENARIOS / "base.toml")
