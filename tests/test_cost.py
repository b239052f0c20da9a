"""Cost KPIs ([cost]): paid agent-hours, FTE and cost per answered call, from the roster."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.measure.kpi import KPIS, KPIData
from sim.model import simulate
from sim.scenario import Cost, ScenarioError, ServiceLevel, scenario_from_dict
from tests.conftest import small_dict

COST_KPIS = ("paid_agent_hours", "fte", "staff_cost_per_day", "cost_per_answered_call",
             "paid_hours_per_answered_call")


def test_cost_kpis_are_registered():
    """Every cost KPI is in the registry, so run, compare, sweep and the reports show it."""
    for k in COST_KPIS:
        assert k in KPIS, k


def test_paid_hours_are_the_roster_plus_overtime(small):
    """Small centre: 6 agents x 2 h + 4 x 1.5 h = 18 rostered hours, plus overtime, per day."""
    r = simulate(small, seed=3)
    k = r.kpis
    overtime = k["overtime_hours"]
    assert k["paid_agent_hours"] == pytest.approx(18.0 + overtime, abs=1e-9), k
    assert k["fte"] == pytest.approx(k["paid_agent_hours"] / 7.5)
    cost = 450.0 * (18.0 + overtime) + 450.0 * 0.4 * overtime
    assert k["staff_cost_per_day"] == pytest.approx(cost)
    assert k["cost_per_answered_call"] == pytest.approx(cost / k["answered"])
    assert k["paid_hours_per_answered_call"] == pytest.approx((18.0 + overtime) / k["answered"])


def test_paid_login_minutes_are_paid(small):
    """Ten paid log-in minutes for 10 agents add 10/6 paid hours (beyond any overtime change)."""
    paid = scenario_from_dict(small_dict(measurement__adherence={"paid_login_minutes": 10}))
    a, b = simulate(small, seed=3).kpis, simulate(paid, seed=3).kpis
    extra = (b["paid_agent_hours"] - b["overtime_hours"]) - \
        (a["paid_agent_hours"] - a["overtime_hours"])
    assert extra == pytest.approx(10 * 10 / 60), (a, b)


def test_the_cost_section_changes_only_the_cost_kpis(small):
    """Doubling the hourly cost doubles the cost KPIs and leaves every other KPI as it was."""
    dear = scenario_from_dict(small_dict(cost={"hourly_cost": 900.0, "currency": "EUR"}))
    a, b = simulate(small, seed=3).kpis, simulate(dear, seed=3).kpis
    for k in a:
        if k in ("staff_cost_per_day", "cost_per_answered_call"):
            assert b[k] == pytest.approx(2 * a[k]), k
        else:
            assert (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k], k


def _data(cost: Cost, answered: int = 100) -> KPIData:
    """Two days of hand-made agent-days, absences and calls.

    Day 0: two agents worked 8 h (one 0.5 h overtime); day 1: one worked, one was sick, one
    seat was vacant after a quit.
    """
    ad = pd.DataFrame({"agent": [0, 1, 0], "day": [0, 0, 1],
                       "scheduled_s": [28800.0, 28800.0, 28800.0],
                       "overtime_s": [1800.0, 0.0, 0.0]})
    absences = pd.DataFrame({"agent": [1, 2], "day": [1, 1], "reason": ["sickness", "quit"],
                             "scheduled_s": [28800.0, 28800.0]})
    calls = pd.DataFrame({"outcome": ["answered"] * answered + ["abandoned"] * 5,
                          "wait_s": 0.0, "day": 0, "interval": 0})
    return KPIData(calls, pd.DataFrame({"day": [], "status": [], "duration_s": []}),
                   ServiceLevel(), ad, absences=absences, cost=cost, paid_login_s=600.0)


def _cost_kpis(d: KPIData) -> dict[str, float]:
    return {k: KPIS[k].func(d) for k in COST_KPIS}


def test_absence_is_paid_unless_said_otherwise():
    """By hand: 3 shifts of 8 h + 3 x 10 min paid log-in + 0.5 h overtime (+ 8 h sick pay).

    The vacant seat after a quit is never paid.
    """
    worked = 3 * 8 + 3 * 10 / 60 + 0.5
    k = _cost_kpis(_data(Cost()))
    assert k["paid_agent_hours"] == pytest.approx((worked + 8) / 2)
    assert k["staff_cost_per_day"] == pytest.approx(450 * (worked + 8 + 0.4 * 0.5) / 2)
    k = _cost_kpis(_data(Cost(absence_paid=False, overtime_premium=0.0)))
    assert k["paid_agent_hours"] == pytest.approx(worked / 2)
    assert k["cost_per_answered_call"] == pytest.approx(450 * worked / 100)
    assert k["fte"] == pytest.approx(worked / 2 / 7.5)


def test_no_cost_section_no_cost_kpis():
    """KPIData without a cost (a hand-made table) gives NaN, not a made-up price."""
    k = _cost_kpis(_data(None))  # type: ignore[arg-type]
    assert all(math.isnan(k[name]) for name in COST_KPIS), k


@pytest.mark.parametrize(("field", "value", "expect"), [
    ("hourly_cost", -1.0, "cost.hourly_cost"),
    ("fte_hours_per_day", 0.0, "cost.fte_hours_per_day"),
    ("currency", "N/K", "cost.currency"),
])
def test_bad_cost_is_one_clear_error(field, value, expect):
    """A bad [cost] value names the field and its value."""
    with pytest.raises(ScenarioError, match=expect) as err:
        scenario_from_dict(small_dict(cost={field: value}))
    assert str(value) in str(err.value)
