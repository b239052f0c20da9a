"""The event engine against an independent FIFO recursion, call by call."""

from __future__ import annotations

import heapq

import numpy as np

from sim.model import simulate
from sim.scenario import scenario_from_dict
from tests.conftest import small_dict


def fifo_reference(arrival, handle, deadline, agents):
    """Waits of a FIFO multi-server queue with reneging, by the Kiefer-Wolfowitz recursion.

    A call starts at max(arrival, earliest free agent) if its caller is still there
    (deadline > start); an abandoning call takes no agent. Homogeneous agents make the
    routing rule irrelevant for waits.
    """
    free = [0.0] * agents
    start = np.full(len(arrival), np.nan)
    for i in range(len(arrival)):
        s = max(arrival[i], free[0])
        if deadline[i] > s:
            start[i] = s
            heapq.heapreplace(free, s + handle[i])
    return start


def stationary(agents, patience):
    """One open-all-day shift, so the reference needs no shift logic."""
    return scenario_from_dict(small_dict(
        horizon={"days": 1, "open": "00:00", "hours": 6, "interval_minutes": 60},
        demand={"calls_per_day": 6 * 3600 / 30, "profile": [1, 3, 2, 2, 3, 1]},
        calls={"talk": {"distribution": "lognormal", "mean_s": 240, "cv": 1.2},
               "acw": {"distribution": "gamma", "mean_s": 30, "cv": 0.5},
               "patience": patience},
        staffing={"shifts": {"all": {"start": "00:00", "hours": 8, "agents": agents}}},
    ))


def check_against_reference(scenario, agents):
    """Every call's answer time equals the recursion's start time (or both abandon)."""
    r = simulate(scenario, seed=7)
    c = r.calls
    arrival = c["arrival_s"].to_numpy()
    start = fifo_reference(arrival, (c["talk_s"] + c["acw_s"]).to_numpy(),
                           arrival + c["patience_s"].to_numpy(), agents)
    got = c["answered_s"].to_numpy()
    assert np.array_equal(np.isnan(start), np.isnan(got)), "answered/abandoned differ"
    ok = ~np.isnan(start)
    assert np.allclose(start[ok], got[ok], rtol=0, atol=1e-6), np.abs(start[ok] - got[ok]).max()
    return r


def test_engine_matches_fifo_recursion_without_abandonment():
    """M/G/c: the simulation's answer times are the recursion's, call by call."""
    r = check_against_reference(stationary(8, {"distribution": "none"}), 8)
    assert r.kpis["p_wait"] > 0.2, "the case should queue for the check to mean anything"


def test_engine_matches_fifo_recursion_with_abandonment():
    """M/G/c+G: lazy abandonment gives exactly the recursion's outcomes."""
    r = check_against_reference(
        stationary(7, {"distribution": "lognormal", "mean_s": 90, "cv": 1.0}), 7)
    assert r.kpis["abandon_rate"] > 0.05, r.kpis


def test_longest_idle_agent_answers():
    """With calls far apart, agents take turns in the order they became idle."""
    s = scenario_from_dict(small_dict(
        horizon={"days": 1, "open": "00:00", "hours": 1, "interval_minutes": 60},
        demand={"calls_per_day": 12, "profile": [1]},
        calls={"talk": {"distribution": "fixed", "mean_s": 1},
               "acw": {"distribution": "fixed", "mean_s": 0}},
        staffing={"shifts": {"all": {"start": "00:00", "hours": 1, "agents": 3}}},
    ))
    c = simulate(s, seed=3).calls
    gaps = np.diff(c["arrival_s"].to_numpy())
    assert (gaps > 1).all(), "test needs calls that do not overlap"
    assert c["agent"].tolist() == [i % 3 for i in range(len(c))], c["agent"].tolist()
