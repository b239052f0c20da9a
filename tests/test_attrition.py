"""Attrition: quits from exhaustion and warnings, vacant seats, replacements that learn.

The quit hazard's conversion from a monthly chance to a working day's, the hiring delay in
calendar days, the learning curve, the KPIs, and a run where seats change hands.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.engine.behaviour import Behaviour
from sim.engine.presence import Presence
from sim.measure.kpi import KPIData, attrition_rate, fte_available
from sim.model import simulate
from sim.people.compose import Composite
from sim.people.stress import Strain
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS


def strain(**changes):
    """One seat's strain under base.toml with stress and attrition on."""
    s = load_scenario(SCENARIOS / "base.toml").replace(
        {"horizon.days": 30, "stress.enabled": True, "stress.attrition": True,
         **{f"stress.{k}": v for k, v in changes.items()}})
    return Strain(s, 0, np.random.default_rng(0), lambda day: np.random.default_rng(day),
                  np.random.default_rng(1)), s


def test_quit_hazard_converts_a_monthly_chance_to_a_working_day():
    """Per working day 1 - (1 - q)^(12/230), q = q0 e^(b_E E + b_T T); ~20/100/year."""
    st, s = strain()
    q0 = s.stress.quit_base_monthly
    assert st.quit_hazard() == pytest.approx(1 - (1 - q0) ** (12 / 230))
    assert st.quit_hazard() * 230 == pytest.approx(0.20, abs=0.005)  # ContactBabel 16-21%
    # a month of working days compounds back to the monthly chance
    assert 1 - (1 - st.quit_hazard()) ** (230 / 12) == pytest.approx(q0)
    st.e, st.threat = 1.0, 2.0
    q = q0 * math.exp(s.stress.quit_exhaustion_effect * 1.0 + s.stress.quit_threat_effect * 2.0)
    assert st.quit_hazard() == pytest.approx(1 - (1 - q) ** (12 / 230))
    st.e = 100.0
    assert st.quit_hazard() == 1.0  # the monthly chance is capped at 1


def test_replacement_arrives_after_the_hiring_delay_in_calendar_days():
    """Working days 0-4 are Monday-Friday of week 0; 28 days after a Thursday is a Thursday."""
    st, _ = strain()
    assert st.replacement_day(3) == 23  # Thursday (calendar 3) -> calendar 31, Thursday
    assert st.replacement_day(4) == 24
    short, _ = strain(hiring_delay_days=2.0)
    assert short.replacement_day(4) == 5  # Friday + 2 days is Sunday: Monday, day 5
    assert short.replacement_day(2) == 4  # Wednesday + 2 days: Friday
    none, _ = strain(hiring_delay_days=0.0)
    assert none.replacement_day(7) == 8  # a vacancy lasts at least the day of the quit
    every_day, _ = strain(work_days_per_week=7, hiring_delay_days=10.0)
    assert every_day.replacement_day(3) == 13


def test_learning_curve_falls_linearly_to_one():
    """A new hire: x1.3 on the first day, 1.15 after 20 of 40 working days, 1 from 40 on."""
    st, _ = strain()
    assert st.learning(10) == 1.0  # the seat's first holder is experienced
    st.hire, st.hired_on = 1, 10
    assert [st.learning(d) for d in (10, 30, 50, 60)] == pytest.approx([1.3, 1.15, 1.0, 1.0])
    st.learn = st.learning(10)
    talk, acw, extra = st.handling(object(), 0, 100.0, 20.0)  # no feedback: no centre read
    assert (talk, acw, extra) == pytest.approx((130.0, 26.0, 0.0))


class _Env:
    now = 86_400.0 * 23


class _Seat:
    env = _Env()


class _Policy(Behaviour):
    """What a regime remembers of the person in a seat."""

    adjusts_handling = watches_days = False

    def __init__(self) -> None:
        self.warnings, self.breaches, self.pending = 2, [1.0], [(1, 60.0, "warning")]

    def day_start(self, agent, day, presence) -> None:
        """Nothing."""


def test_a_quit_leaves_the_seat_vacant_then_a_fresh_person_takes_it():
    """Certain quit on day 3: days 3-22 vacant ("quit"); day 23 a new person.

    The new person has E = T = 0, and the regime forgets the warnings of the one who left.
    """
    st, _ = strain(quit_base_monthly=1.0)
    presence = Presence(1, 30)
    both = Composite(_Policy(), st)
    st.e, st.threat, st.cal_day = 3.0, 1.0, 3
    both.day_start(_Seat, 3, presence)
    assert list(np.flatnonzero(~presence.present[0])) == list(range(3, 23))
    assert set(presence.reasons(np.zeros(20, int), np.arange(3, 23))) == {"quit"}
    assert presence.quit_day[0].sum() == 1 and presence.quit_day[0, 3]
    for d in range(4, 23):
        both.day_start(_Seat, d, presence)
    assert st.hire == 0 and presence.hire[0].max() == 0
    st.p = st.p.model_copy(update={"quit_base_monthly": 0.0})  # the new person stays
    both.day_start(_Seat, 23, presence)
    assert st.hire == 1 and st.hired_on == 23 and (st.e, st.threat, st.a) == (0, 0, 0)
    assert list(presence.hire[0]) == [0] * 23 + [1] * 7
    pol = both.policy
    assert (pol.warnings, pol.breaches, pol.pending) == (0, [], [])


def test_kpis_attrition_rate_and_fte_available_by_hand():
    """One quit in 94 person-days employed: 230/94 a year; 90 of 100 agent-days worked."""
    ad = pd.DataFrame({"agent": np.zeros(90, int), "day": np.arange(90)})
    ab = pd.DataFrame({"agent": np.ones(10, int), "day": np.arange(10),
                       "reason": ["quit"] * 6 + ["sickness"] * 4,
                       "quit_start": [True] + [False] * 9})
    d = KPIData(pd.DataFrame(), pd.DataFrame(), None, agent_days=ad, absences=ab,
                working_days_per_month=230 / 12)
    assert attrition_rate(d) == pytest.approx(230 / 94)
    assert fte_available(d) == pytest.approx(0.9)
    assert math.isnan(attrition_rate(KPIData(pd.DataFrame(), pd.DataFrame(), None,
                                             agent_days=ad, absences=ab.drop(
                                                 columns="quit_start"))))


def test_attrition_in_a_run_honours_the_hiring_delay_and_is_never_log_in_delay():
    """High quit hazard over three weeks: each vacancy lasts exactly the hiring delay.

    It runs from the quit day to the day before the replacement's first day; vacant days
    are absences, never worked days, never adherence exceptions or log-in delay.
    """
    s = load_scenario(SCENARIOS / "base.toml").replace(
        {"horizon.days": 15, "horizon.warmup_days": 0, "stress.enabled": True,
         "stress.attrition": True,
         "stress.quit_base_monthly": 0.5, "stress.hiring_delay_days": 7.0})
    r = simulate(s, seed=3)
    ab, ad, days = r.absences, r.agent_days, 15
    quits = ab[ab["quit_start"]]
    assert len(quits) >= 10 and (quits["reason"] == "quit").all()
    held = {}  # (agent, day) -> person, from both tables
    for t in (ad, ab):
        held.update(zip(zip(t["agent"], t["day"], strict=True), t["hire"], strict=True))
    assert len(held) == len(r.agents) * days  # every scheduled agent-day once
    replaced = 0
    for row in quits.itertuples():
        back = row.day + 5  # 7 calendar days after a working day: the same weekday
        vacant = ab[(ab["agent"] == row.agent) & (ab["hire"] == row.hire)
                    & (ab["reason"] == "quit")]
        assert list(vacant["day"]) == list(range(row.day, min(back, days)))
        assert all(held[(row.agent, d)] == row.hire for d in range(row.day, min(back, days)))
        if back < days:
            assert held[(row.agent, back)] == row.hire + 1
            replaced += 1
    assert replaced > 0
    assert r.agents["hires"].sum() == replaced
    # vacant days are absences: no worked row, no adherence exception, no log-in delay
    vac = set(zip(ab.loc[ab["reason"] == "quit", "agent"], ab.loc[ab["reason"] == "quit",
                                                                 "day"], strict=True))
    assert not vac & set(zip(ad["agent"], ad["day"], strict=True))
    assert not vac & set(zip(r.exceptions["agent"], r.exceptions["day"], strict=True))
    assert ad["login_delay_s"].max() < 3600
    k = r.kpis
    assert k["fte_available"] == pytest.approx(1 - k["absence_rate"])
    employed = len(ad) + len(ab) - len(vac)
    assert k["attrition_rate"] == pytest.approx(len(quits) * 230 / employed)
    # the new people start fresh: their first day's exhaustion is only that day's
    new = ad[ad["hire"] > 0].sort_values("day").groupby(["agent", "hire"]).head(1)
    assert len(new) > 0 and (new["threat"] == 0).all()
    assert (new["exhaustion"] <= s.stress.alpha * new["strain_end"] + 1e-12).all()
