"""KPIs by one function with a ``by`` dimension: the same values as filtering each table.

``compute_kpis(data, by=...)`` groups every table once; each group's KPIs must be exactly
those of the tables filtered to that group (the definition the per-day loop used), and the
run's ``daily`` table must be that per-day computation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.measure.kpi import FRAMES, KPIS, KPIData, compute_kpis
from sim.measure.tables import clip_to_opening
from sim.model import simulate
from sim.scenario import load_scenario
from tests.conftest import ROOT

EVERYTHING = ROOT / "tests" / "golden" / "everything.toml"


@pytest.fixture(scope="module")
def run():
    """The everything-on golden scenario (8 days, 10 agents in teams) and its result."""
    s = load_scenario(EVERYTHING)
    return s, simulate(s, seed=2026)


def kpi_data(s, r, agent: bool = False) -> KPIData:
    """The KPI inputs of a run, rebuilt from its tables as the model builds them."""
    return KPIData(r.calls[r.calls["counted"]], clip_to_opening(r.statuses, s, agent=agent),
                   s.service_level, r.agent_days, absences=r.absences, actions=r.actions,
                   exceptions=r.exceptions, evaluations=r.evaluations,
                   working_days_per_month=s.schedule.days_per_year / 12, cost=s.cost,
                   paid_login_s=s.measurement.adherence.paid_login_minutes * 60.0,
                   targets=s.targets, team_of=r.agents["team"].to_numpy())


def filtered(d: KPIData, keep) -> KPIData:
    """``d`` with every table filtered row by row (``keep(name, table)`` -> mask)."""
    from dataclasses import replace

    return replace(d, **{n: getattr(d, n)[keep(n, getattr(d, n))] for n in FRAMES
                         if getattr(d, n) is not None})


def same(a: float, b: float) -> bool:
    """Equal to the last bit, NaN equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_rows_equal(table: pd.DataFrame, key: str, expected: dict[int, dict[str, float]]):
    """Each group's row of ``table`` holds exactly the expected KPI values."""
    assert table[key].tolist() == list(expected)
    for _, row in table.iterrows():
        want = expected[int(row[key])]
        diff = [k for k in KPIS if not same(float(row[k]), float(want[k]))]
        assert not diff, f"{key} {row[key]}: {diff}"


def test_by_day_equals_filtering_each_day(run):
    """By day, every KPI equals the KPI of the tables filtered to that day, exactly."""
    s, r = run
    d = kpi_data(s, r)
    days = range(s.horizon.days)
    expected = {k: compute_kpis(filtered(d, lambda n, t, k=k: (t["day"] == k).to_numpy()))
                for k in days}
    assert_rows_equal(compute_kpis(d, by="day", keys=days), "day", expected)


def test_daily_table_is_kpis_by_day(run):
    """The run's daily table is the KPIs by day (with each day's busyness)."""
    s, r = run
    by = compute_kpis(kpi_data(s, r), by="day", keys=range(s.horizon.days))
    pd.testing.assert_frame_equal(r.daily.drop(columns="busyness"), by, check_exact=True)


def test_by_team_equals_filtering_each_team(run):
    """By team, every KPI equals the KPI of the rows of that team's agents (calls: answered)."""
    s, r = run
    d = kpi_data(s, r, agent=True)
    team = r.agents["team"].to_numpy()
    teams = sorted(set(team.tolist()))
    assert len(teams) > 1, "the scenario should have several teams"

    def of(k):
        def keep(name, t):
            a = t["agent"].to_numpy()
            return (a >= 0) & (team[np.maximum(a, 0)] == k)
        return keep

    expected = {k: compute_kpis(filtered(d, of(k))) for k in teams}
    by = compute_kpis(d, by="team")
    assert_rows_equal(by, "team", expected)
    assert by["answered"].sum() == compute_kpis(d)["answered"]  # every answered call, once


def test_by_team_needs_agents_in_the_status_time(run):
    """Status time without agents cannot be cut by team: one clear error, not a wrong KPI."""
    s, r = run
    with pytest.raises(ValueError, match="statuses table has no agent column"):
        compute_kpis(kpi_data(s, r), by="team")


def test_by_interval_matches_the_intervals_table(run):
    """By interval, the call KPIs of each (day, interval) are the intervals table's."""
    s, r = run
    by = compute_kpis(kpi_data(s, r), by="interval")
    counted = r.calls[r.calls["counted"]]
    assert by["offered"].sum() == len(counted)
    iv = r.intervals.set_index(["day", "interval"])
    # the intervals table counts every call, also the warm-up's: compare the counted ones
    full = by.set_index(["day", "interval"])
    warm = counted.groupby(["day", "interval"]).size()
    assert (full["offered"] == warm.reindex(full.index)).all()
    whole = full.index[(full["offered"] == iv.loc[full.index, "offered"]).to_numpy()]
    assert len(whole) > 10
    for col in ("service_level", "abandon_rate"):
        np.testing.assert_array_equal(full.loc[whole, col].to_numpy(),
                                      iv.loc[whole, col].to_numpy())
    assert full["occupancy"].isna().all()  # agent time has no interval here


def test_by_day_covers_every_key_asked(run):
    """A day asked for with no rows gets a row of its own (counts zero, ratios NaN)."""
    s, r = run
    by = compute_kpis(kpi_data(s, r), by="day", keys=[0, 99])
    assert by["day"].tolist() == [0, 99]
    assert by.loc[1, "offered"] == 0 and math.isnan(by.loc[1, "service_level"])


def test_unknown_dimension_is_refused(run):
    """An unknown ``by`` names what is allowed."""
    s, r = run
    with pytest.raises(ValueError, match="day, team, interval"):
        compute_kpis(kpi_data(s, r), by="week")


def test_planned_days_off_are_not_absences():
    """A roster's days off (labour.days_off) leave absence at 0 and every scheduled day staffed.

    Shift a works Monday to Wednesday of a three-day horizon but has Tuesday off: its
    agents work 2 of 3 days, and none of the missing days is an absence.
    """
    from sim.model import simulate
    from sim.scenario import scenario_from_dict
    from tests.conftest import small_dict

    d = small_dict(horizon={**small_dict()["horizon"], "days": 3},
                   demand={**small_dict()["demand"], "first_weekday": "Mon"})
    d["staffing"] = {"shifts": {"a": {"start": "08:00", "hours": 2, "agents": 6},
                                "b": {"start": "08:00", "hours": 2, "agents": 6}}}
    d["labour"] = {"days_off": {"a": ["Tue"]}, "max_part_time_share": 1}
    r = simulate(scenario_from_dict(d), 1, 0)
    assert (r.absences["reason"].astype(str) == "day_off").sum() == 6
    assert len(r.agent_days) == 12 * 3 - 6
    assert r.kpis["absence_rate"] == 0 and r.kpis["fte_available"] == 1
