"""Measured stress: the strain law in closed form, what it leaves alone, and its effects.

Direction of effect, and sickness absence through the presence seam.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from analysis.stats import t_interval
from sim.model import simulate
from sim.scenario import load_scenario
from sim.status import Status
from sim.stress import Strain
from tests.conftest import SCENARIOS


def strain(**changes):
    """One agent's strain under base.toml with stress on (no regime: m = 0, ctrl = 0.4)."""
    s = load_scenario(SCENARIOS / "base.toml").replace(
        {"stress.enabled": True, **{f"stress.{k}": v for k, v in changes.items()}})
    rng = np.random.default_rng(0)
    return Strain(s, 0, rng, lambda day: np.random.default_rng(day)), s


class FakeAgent:
    """What the strain reads of an agent."""

    day = 0


def test_constant_load_follows_the_closed_form():
    """In Talk from A = 0: A(t) = L tau (1 - e^(-t/tau)), its integral exact too."""
    st, s = strain(hostile_probability=0.0)
    p = s.stress
    scale = 1 - p.control_buffer * 0.4  # m = 0; no regime: control 0.4
    load, tau = p.load_talk * scale / 3600, p.tau_work_h * 3600
    st.on_status(FakeAgent, Status.LOGGED_OUT, Status.TALK, 0.0)
    st.advance(5400.0)
    expected = load * tau * (1 - math.exp(-5400 / tau))
    assert st.a == pytest.approx(expected, rel=1e-12)
    area, _ = integrate.quad(lambda t: load * tau * (1 - math.exp(-t / tau)), 0, 5400)
    assert st.area == pytest.approx(area, rel=1e-9)


def test_a_break_recovers_and_an_impulse_adds():
    """On a break A decays with tau_break; an impulse adds its size at once."""
    st, s = strain(hostile_probability=0.0)
    st.a, st.t, st.status = 1.2, 0.0, int(Status.NOT_READY_BREAK)
    st.advance(600.0)  # a 10-minute break
    assert st.a == pytest.approx(1.2 * math.exp(-600 / (s.stress.tau_break_min * 60)))
    before = st.a
    st.impulse(0.3, 600.0)
    assert st.a == pytest.approx(before + 0.3)


def test_hostile_calls_add_their_impulse():
    """With every call hostile, each Talk start adds the impulse."""
    st, s = strain(hostile_probability=1.0)
    st.on_status(FakeAgent, Status.LOGGED_OUT, Status.TALK, 0.0)
    assert st.a == pytest.approx(s.stress.hostile_impulse) and st.hostile == 1


def test_measuring_stress_changes_nothing_in_the_queue():
    """Strain is measured, not fed back: the queue and statuses are those without it."""
    base = load_scenario(SCENARIOS / "base.toml").replace({"horizon.days": 2})
    a = simulate(base, seed=4)
    b = simulate(base.replace({"stress.enabled": True}), seed=4)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.statuses, b.statuses)
    assert "stress" in b.agent_days and "stress" not in a.agent_days
    assert math.isnan(a.kpis["stress_mean"]) and b.kpis["stress_mean"] > 0


def test_individual_strict_is_more_stressful_than_team_level():
    """Issue 10: stress_mean of individual-strict above team-level beyond both CIs (5 days)."""
    def runs(name):
        s = load_scenario(SCENARIOS / "policy" / f"{name}.toml").replace(
            {"stress.enabled": True})
        return t_interval([simulate(s, seed=11, replication=k).kpis["stress_mean"]
                           for k in range(3)])

    strict, team = runs("individual-strict"), runs("team-level")
    assert strict.ci_low > team.ci_high, (strict, team)


def test_sickness_absence_goes_through_presence():
    """A certain spell on day 0: nobody logs in, it is absence (never log-in delay)."""
    s = load_scenario(SCENARIOS / "base.toml").replace(
        {"horizon.days": 3, "stress.enabled": True, "stress.absence": True,
         "stress.absence_base_hazard": 1.0, "stress.absence_exhaustion_effect": 0.0,
         "stress.spell_short_share": 1.0})
    r = simulate(s, seed=2)
    n = len(r.agents)
    ab = r.absences
    assert (ab["reason"] == "sickness").all()
    assert set(ab.loc[ab["day"] == 0, "agent"]) == set(range(n)), "all sick on day 0"
    assert not (r.agent_days["day"] == 0).any()
    # spells of 1-3 days: after a spell the next day starts a new one (hazard 1)
    assert len(ab) == 3 * n and r.kpis["absence_rate"] == 1.0
    none = simulate(s.replace({"stress.absence_base_hazard": 0.0}), seed=2)
    assert len(none.absences) == 0 and none.kpis["absence_rate"] == 0.0
    with pytest.raises(ValueError, match="absence"):
        s.replace({"stress.enabled": False})
