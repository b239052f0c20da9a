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
from sim.engine.status import Status
from sim.model import simulate
from sim.people.stress import Strain
from sim.scenario import load_scenario
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


def strict_above_team(warmup_days: int | str) -> None:
    """stress_mean of individual-strict above team-level beyond both CIs.

    2 measured days of 3 replications, each warmed up ``warmup_days`` under its own regime.
    """
    def runs(name):
        s = load_scenario(SCENARIOS / "policy" / f"{name}.toml").replace(
            {"stress.enabled": True, "horizon.days": 2, "horizon.warmup_days": warmup_days})
        return t_interval([simulate(s, seed=11, replication=k).kpis["stress_mean"]
                           for k in range(3)])

    strict, team = runs("individual-strict"), runs("team-level")
    assert strict.ci_low > team.ci_high, (strict, team)


@pytest.mark.slow
def test_individual_strict_is_more_stressful_than_team_level():
    """Issue 10: stress_mean of individual-strict above team-level beyond both CIs.

    Each after the default warm-up (its steady state), 2 measured days of 3 replications:
    at seed 11 strict 1.43 [1.37, 1.49] against team 1.15 [1.12, 1.18]; the scenarios' 5
    days cost 3 more days a run and add no power the claim needs (one day is too noisy:
    its CIs overlap). Six 20-day warm-ups (``make test-slow``): ``make test`` holds the same
    claim after one week (the test below).
    """
    strict_above_team("auto")


@pytest.mark.heavy
def test_individual_strict_is_more_stressful_than_team_level_after_a_week():
    """Issue 10's claim of the steady-state test above, each run warmed up one week (5 days).

    7 simulated days a replication instead of 22 (``make test-slow`` holds the steady state).
    """
    strict_above_team(5)


def test_sickness_absence_goes_through_presence():
    """A certain spell on day 0: nobody logs in, it is absence (never log-in delay)."""
    # cold (no warm-up): the mechanism acts from the first morning; "auto" would warm each
    # run up two weeks, in which everyone is sick every day too, to no purpose here
    s = load_scenario(SCENARIOS / "base.toml").replace(
        {"horizon.days": 3, "stress.enabled": True, "stress.absence": True,
         "stress.absence_base_hazard": 1.0, "stress.absence_exhaustion_effect": 0.0,
         "stress.spell_short_share": 1.0, "horizon.warmup_days": 0})
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


# ------------------------------------------------------------------ weeks and feedback


def test_weekend_recovery_in_closed_form():
    """After every 5th working day, 2 days off: A, E, T get their recovery at once."""
    st, s = strain()
    p = s.stress
    assert [st.days_off_before(d) for d in range(11)] == [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2]
    st.a, st.e, st.threat = 1.0, 0.8, 2.0
    st.catch_up(4)  # Monday to Friday: no day off in between
    assert (st.a, st.e, st.threat) == (1.0, 0.8, 2.0)
    st.catch_up(5)  # the Monday after a weekend
    assert st.a == pytest.approx(math.exp(-2 * 24 / p.tau_off_h))
    assert st.e == pytest.approx(0.8 * (1 - 2 / 21) ** 2)
    assert st.threat == pytest.approx(2.0 * math.exp(-2 / 14))
    st.catch_up(5)  # once only
    assert st.e == pytest.approx(0.8 * (1 - 2 / 21) ** 2)
    seven, _ = strain(work_days_per_week=7)
    assert [seven.days_off_before(d) for d in range(15)] == [0] * 15
    three, _ = strain(work_days_per_week=3)
    assert [three.calendar_day(d) for d in range(7)] == [0, 1, 2, 7, 8, 9, 14]


class _Centre:
    """What the feedback reads of the ACD: when call 0 arrived and was answered."""

    def __init__(self, wait: float) -> None:
        self.arrival, self.answered_at = [100.0], [100.0 + wait]


class _Agent:
    day = 0

    def __init__(self, wait: float = 0.0) -> None:
        self.centre = _Centre(wait)


def test_feedback_slows_strained_agents_and_leaves_more_unresolved():
    """Above A = 1.5: handle time x (1 + 0.1 (A - 1.5)), capped at 1.5; +0.02 (A - 1.5)."""
    st, _ = strain(feedback=True, hostile_probability=0.0)
    assert st.handling(_Agent(), 0, 200.0, 40.0) == (200.0, 40.0, 0.0)  # A = 0
    st.a = 2.5
    talk, acw, extra = st.handling(_Agent(), 0, 200.0, 40.0)
    assert talk == pytest.approx(200 * 1.1) and acw == pytest.approx(40 * 1.1)
    assert extra == pytest.approx(0.02)
    st.a = 20.0
    talk, acw, extra = st.handling(_Agent(), 0, 200.0, 40.0)
    assert talk == pytest.approx(300.0) and extra == pytest.approx(0.02 * 18.5)


def test_long_waits_make_hostile_calls_likelier():
    """Hostile: logistic(logit(0.1) + 0.2 x minutes waited); answered at once: 0.1."""
    st, _ = strain(feedback=True)
    assert st.hostile_chance(0.0) == pytest.approx(0.1)
    z = math.log(0.1 / 0.9) + 0.2 * 5
    assert st.hostile_chance(300.0) == pytest.approx(1 / (1 + math.exp(-z)))
    sure, _ = strain(feedback=True, hostile_probability=1.0)
    assert sure.hostile_chance(300.0) == 1.0
    # drawn at the answer, from the agent's own stream, with the call's wait
    st, _ = strain(feedback=True, hostile_probability=0.5, hostile_per_wait_minute=10.0)
    st.handling(_Agent(wait=600.0), 0, 200.0, 40.0)
    assert st.hostile == 1


@pytest.mark.parametrize("name", ["base", "policy/individual-strict", "policy/telenor-tmr"])
def test_features_off_or_without_effect_leave_the_queue_alone(name):
    """Features off, or on with zero effect sizes: the calls of the run without stress.

    Same seed, exactly; weekends on (every day is followed by one here).
    """
    s = load_scenario(SCENARIOS / f"{name}.toml").replace({"horizon.days": 2})
    plain = simulate(s, seed=5).calls
    # cold (no warm-up): a warmed run carries repeat calls and the regime's record
    on = {"stress.enabled": True, "stress.work_days_per_week": 1, "horizon.warmup_days": 0}
    off = simulate(s.replace(on), seed=5)
    pd.testing.assert_frame_equal(plain, off.calls)
    idle = simulate(s.replace({**on, "stress.feedback": True, "stress.slowdown_per_strain": 0.0,
                               "stress.repeat_per_strain": 0.0, "stress.attrition": True,
                               "stress.quit_base_monthly": 0.0}), seed=5)
    pd.testing.assert_frame_equal(plain, idle.calls)
    assert idle.kpis["attrition_rate"] == 0.0 and math.isnan(off.kpis["attrition_rate"])


def test_feedback_changes_work_but_not_the_callers():
    """With feedback, strained agents' calls take longer; the callers' draws are the same."""
    # cold (no warm-up): the mechanism acts from the first strained call, and each run would
    # otherwise warm up 20 days of its own (feedback changes the regime's digest)
    s = load_scenario(SCENARIOS / "policy" / "individual-strict.toml").replace(
        {"horizon.days": 2, "stress.enabled": True, "horizon.warmup_days": 0})
    off = simulate(s, seed=5).calls
    on = simulate(s.replace({"stress.feedback": True}), seed=5).calls
    first = off["repeat_of"] < 0
    n = int(first.sum())
    for col in ("arrival_s", "patience_s"):
        np.testing.assert_array_equal(off[col].to_numpy()[:n], on[col].to_numpy()[:n])
    assert not off["talk_s"].equals(on["talk_s"])
    assert on["talk_s"].sum() > off["talk_s"].sum()


def test_a_deferred_break_adds_its_load_until_a_rest():
    """STRESS-EVIDENCE §6: +0.5 per hour while a needed break is put off, in closed form."""
    st, s = strain(hostile_probability=0.0)
    p = s.stress
    scale = 1 - p.control_buffer * 0.4  # m = 0; no regime: control 0.4
    tau = p.tau_work_h * 3600
    st.on_status(FakeAgent, Status.LOGGED_OUT, Status.READY, 0.0)
    st.defer_break(0.0)
    st.advance(1800.0)
    lt = (p.load_ready * scale / 3600 + p.deferred_break_load / 3600) * tau
    assert st.a == pytest.approx(lt * (1 - math.exp(-1800 / tau)), rel=1e-12)
    st.defer_break(1800.0)  # a second deferral of the same need adds nothing more
    st.on_status(FakeAgent, Status.READY, Status.NOT_READY_BREAK, 3600.0)
    assert st.extra == 0.0, "the break meets the need"
    at_break = st.a  # A at the break's start
    st.advance(3600.0 + 600.0)
    assert st.a == pytest.approx(at_break * math.exp(-600 / (p.tau_break_min * 60)))
