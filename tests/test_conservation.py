"""Conservation of calls and agent time on random valid scenarios (property-based)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import simulate
from sim.scenario import format_clock, scenario_from_dict
from tests.conftest import assert_statuses_tile


@st.composite
def scenarios(draw):
    """Small random centres: 1-2 days, 1-3 shifts, every call-attribute family."""
    interval = draw(st.sampled_from([15, 30, 60]))
    hours = draw(st.integers(1, 4))
    n_int = hours * 60 // interval
    dist = st.sampled_from(["lognormal", "exponential", "gamma", "fixed"])
    shifts = {}
    for k in range(draw(st.integers(1, 3))):
        shifts[f"s{k}"] = {
            "start": format_clock(8 * 3600 + draw(st.integers(-4, 12)) * 900),
            "hours": draw(st.sampled_from([0.5, 1, 2.25, 4])),
            "agents": draw(st.integers(0, 6)),
        }
    shifts["s0"]["agents"] = max(1, shifts["s0"]["agents"])
    patience = draw(st.sampled_from([
        {"distribution": "none"}, {"distribution": "exponential", "mean_s": 60},
        {"distribution": "fixed", "mean_s": 30}, {"distribution": "lognormal", "mean_s": 200},
    ]))
    return scenario_from_dict({
        "description": "random", "rationale": "property test",
        "horizon": {"days": draw(st.integers(1, 2)), "open": "08:00", "hours": hours,
                    "interval_minutes": interval},
        "demand": {"calls_per_day": draw(st.floats(5, 400)),
                   "profile": draw(st.lists(st.floats(0.1, 3), min_size=n_int,
                                            max_size=n_int)),
                   "busyness_cv": draw(st.sampled_from([0.0, 0.2]))},
        "calls": {"talk": {"distribution": draw(dist), "mean_s": draw(st.floats(20, 400)),
                           "cv": 0.7},
                  "acw": {"distribution": draw(dist), "mean_s": draw(st.sampled_from([0, 30])),
                          "cv": 0.5},
                  "patience": patience},
        "staffing": {"shifts": shifts},
    })


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**31))
def test_calls_and_agent_time_are_conserved(scenario, seed):
    """Every call ends exactly one way; every agent's statuses tile their logged-in time."""
    r = simulate(scenario, seed=seed)
    c, s, ad = r.calls, r.statuses, r.agent_days
    # calls: exactly one outcome, counts add up
    k = r.kpis
    assert k["answered"] + k["abandoned"] + k["unanswered"] == k["offered"] == len(c)
    ans = (c["outcome"] == "answered").to_numpy()
    assert np.isnan(c["answered_s"].to_numpy()[~ans]).all()
    assert (c["agent"].to_numpy()[ans] >= 0).all() and (c["agent"].to_numpy()[~ans] == -1).all()
    # waits are never negative; abandoned callers waited exactly their patience
    wait = c["wait_s"].to_numpy()
    assert (wait[ans] >= 0).all()
    ab = (c["outcome"] == "abandoned").to_numpy()
    assert np.array_equal(wait[ab], c["patience_s"].to_numpy()[ab])
    assert np.isinf(c["patience_s"].to_numpy()[(c["outcome"] == "unanswered").to_numpy()]).all()
    # agent time: contiguous spells from log-in to log-out, nothing lost
    assert (s["duration_s"] >= 0).all()
    assert_statuses_tile(s, ad)
    # no call is answered by a logged-out agent: each answer opens a Talk spell of that agent
    talk = s[s["status"] == "Talk"]
    answered = c[ans]
    assert len(talk) == len(answered)
    pairs = set(zip(talk["agent"], talk["start_s"], strict=True))
    assert all(p in pairs for p in zip(answered["agent"], answered["answered_s"], strict=True))
    # and the Talk spell lasts exactly the call's talk time
    merged = answered.merge(talk, left_on=["agent", "answered_s"], right_on=["agent", "start_s"])
    assert np.allclose(merged["duration_s"], merged["talk_s"], atol=1e-6)
    # agents log in no earlier than their shift and never leave during a call
    assert (ad["logout_s"] >= ad["login_s"]).all()
