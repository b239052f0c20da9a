"""Erlang requirements are cached by their inputs: asked again, nothing is recomputed."""

from __future__ import annotations

import numpy as np

from analysis.staffing import erlang_requirements
from sim.engine.schedule import erlang_required
from sim.planning.erlang import agents_for_service_level
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS


def test_second_requirement_is_served_from_the_cache():
    """The case's requirement computed twice: the second time every interval is a hit."""
    s = load_scenario(SCENARIOS / "case" / "telenor-2018-tmr.toml")
    first = erlang_required(s)
    before = agents_for_service_level.cache_info()
    again = erlang_required(s)
    after = agents_for_service_level.cache_info()
    asked = int((np.asarray(s.demand.profile) > 0).sum())
    assert after.misses == before.misses, "a requirement was solved again"
    assert after.hits - before.hits == asked
    np.testing.assert_array_equal(first, again)


def test_report_and_coverage_share_the_run_requirement():
    """The report's requirement table after the coverage check solves no queue again."""
    s = load_scenario(SCENARIOS / "base.toml")
    erlang_required(s)  # what check_coverage computes before the run
    before = agents_for_service_level.cache_info()
    table = erlang_requirements(s, s.service_level.target, s.service_level.threshold_s)
    assert agents_for_service_level.cache_info().misses == before.misses
    assert (table["erlang_agents"] > 0).any()


def test_cached_answer_is_the_computed_one():
    """The cache returns what the uncached search computes, Erlang A and Erlang C alike."""
    for args in ((0.1, 240.0, 20.0, 0.8, 120.0), (0.3, 300.0, 20.0, 0.9, float("inf")),
                 (2.0, 180.0, 15.0, 0.75, 90.0)):
        assert agents_for_service_level(*args) == agents_for_service_level.__wrapped__(*args)
