"""The four service-level definitions, on a hand-made calls table and on a simulated one.

``service_level.definition`` chooses the denominator; the numerator is always the calls
answered within T (wait <= T):

=================================  ================================================
definition                         denominator
=================================  ================================================
offered                            every call offered
answered                           answered calls
answered_and_late_abandons         answered + calls lost after waiting more than T
offered_excluding_short_abandons   offered - abandons within ``short_abandon_s``
=================================  ================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.measure.kpi import KPIS, KPIData, service_level_masks
from sim.model import OUTCOMES, simulate
from sim.scenario import ServiceLevel, scenario_from_dict
from tests.conftest import small_dict

DEFINITIONS = ("offered", "answered", "answered_and_late_abandons",
               "offered_excluding_short_abandons")
T, SHORT = 20.0, 5.0

# Ten calls, each placed on a boundary a wrong formula would get wrong (T = 20, short = 5).
HAND = [
    ("answered", 0.0),     # within T
    ("answered", 20.0),    # within T: the threshold is inclusive
    ("answered", 20.5),    # late
    ("answered", 60.0),    # late
    ("abandoned", 3.0),    # short abandon
    ("abandoned", 5.0),    # short abandon: inclusive
    ("abandoned", 12.0),   # not short, before T
    ("abandoned", 20.0),   # at T: not a *late* abandon (late means wait > T)
    ("abandoned", 45.0),   # late abandon
    ("abandoned", 100.0),  # late abandon
]
# within T: 2 calls. Denominators 10, 4, 4 + 2, 10 - 2.
HAND_EXPECTED = {"offered": 2 / 10, "answered": 2 / 4, "answered_and_late_abandons": 2 / 6,
                 "offered_excluding_short_abandons": 2 / 8}


def calls_table(rows) -> pd.DataFrame:
    """A calls table with the columns the service-level KPI reads, outcomes as the model's."""
    out, wait = zip(*rows, strict=True)
    return pd.DataFrame({"outcome": pd.Categorical(out, dtype=OUTCOMES),
                         "wait_s": np.array(wait, dtype=float)})


def sl_kpi(calls: pd.DataFrame, definition: str) -> float:
    """The registered ``service_level`` KPI on ``calls`` under ``definition``."""
    sl = ServiceLevel(threshold_s=T, short_abandon_s=SHORT, definition=definition)
    empty = pd.DataFrame({"status": pd.Series([], dtype=str), "duration_s": []})
    return KPIS["service_level"].func(KPIData(calls, empty, sl))


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_each_definition_on_a_hand_made_table(definition):
    """Each definition gives its own hand-computed value on the same ten calls."""
    assert len(set(HAND_EXPECTED.values())) == 4, "the table must tell the definitions apart"
    assert sl_kpi(calls_table(HAND), definition) == pytest.approx(HAND_EXPECTED[definition],
                                                                  abs=1e-15)


def test_definition_is_read_from_the_scenario():
    """The scenario's [service_level] table reaches the KPI (not only the function)."""
    s = scenario_from_dict(small_dict(service_level={
        "threshold_s": T, "short_abandon_s": SHORT,
        "definition": "offered_excluding_short_abandons"}))
    within, den = service_level_masks(calls_table(HAND), s.service_level)
    assert within.sum() == 2 and den.sum() == 8


@pytest.mark.skipif("closed" not in OUTCOMES.categories,
                    reason="the model has no 'closed' outcome yet")
def test_closed_calls_in_each_definition():
    """Calls ended at closing are offered and never answered; one that waited > T is lost late.

    Two closed calls (waited 10 s and 300 s) added to the hand table: they join every
    denominator that counts offered calls, only the long one joins the late losses, and no
    closed call is an abandon, short or not.
    """
    rows = [*HAND, ("closed", 10.0), ("closed", 300.0)]
    expected = {"offered": 2 / 12, "answered": 2 / 4, "answered_and_late_abandons": 2 / 7,
                "offered_excluding_short_abandons": 2 / 10}
    for d in DEFINITIONS:
        assert sl_kpi(calls_table(rows), d) == pytest.approx(expected[d], abs=1e-15), d


# ---------------------------------------------------------------- simulated


def recompute(calls: pd.DataFrame, definition: str) -> float:
    """Service level from the calls table's raw columns, written out independently.

    Waits are taken from the answer time (answered) and the patience (abandoned), not from
    the table's ``wait_s``; calls ended at closing (if any) use ``wait_s``, the only record
    of when they were ended.
    """
    n = len(calls)
    out = calls["outcome"].astype(str)
    answered = calls[out == "answered"]
    abandoned = calls[out == "abandoned"]
    closed = calls[out == "closed"]
    waited_answered = answered["answered_s"] - answered["arrival_s"]
    within = int((waited_answered <= T).sum())
    late_abandons = int((abandoned["patience_s"] > T).sum())
    late_closed = int((closed["wait_s"] > T).sum())
    short_abandons = int((abandoned["patience_s"] <= SHORT).sum())
    den = {"offered": n, "answered": len(answered),
           "answered_and_late_abandons": len(answered) + late_abandons + late_closed,
           "offered_excluding_short_abandons": n - short_abandons}[definition]
    return within / den if den else float("nan")


@pytest.fixture(scope="module")
def runs():
    """One overloaded day with impatient callers (and a warm-up), under each definition."""
    base = small_dict(
        demand={"calls_per_day": 420, "profile": [1, 2, 2, 1], "busyness_cv": 0.1},
        horizon={"days": 1, "open": "08:00", "hours": 2, "interval_minutes": 30,
                 "warmup_minutes": 15},
        calls={"patience": {"distribution": "exponential", "mean_s": 60}},
        service_level={"threshold_s": T, "short_abandon_s": SHORT})
    out = {}
    for d in DEFINITIONS:
        sd = {**base, "service_level": {**base["service_level"], "definition": d}}
        out[d] = simulate(scenario_from_dict(sd), seed=11)
    return out


def test_simulated_values_agree_with_a_recomputation(runs):
    """Run, day and interval service level equal an independent recomputation per definition.

    The definition changes only the measure, never the calls: all four runs have the same
    calls table. The values must differ and be ordered as the denominators are nested.
    """
    calls = runs["offered"].calls
    c = calls[calls["counted"]]
    assert 0 < len(c) < len(calls), "the warm-up must leave calls out"
    # the data must exercise every branch: early and late answers, short, early and late
    # abandons (otherwise two definitions could coincide by accident)
    ab = c.loc[c["outcome"] == "abandoned", "patience_s"]
    wait = (c["answered_s"] - c["arrival_s"]).dropna()
    assert (wait <= T).sum() > 50 and (wait > T).sum() > 20
    assert (ab <= SHORT).sum() > 5 and ((ab > SHORT) & (ab <= T)).sum() > 5 and (ab > T).sum() > 5
    value = {}
    for d, r in runs.items():
        assert r.calls.equals(calls), f"{d}: the definition changed the simulated calls"
        value[d] = r.kpis["service_level"]
        assert value[d] == pytest.approx(recompute(c, d), abs=1e-12), d
        assert r.daily["service_level"].iloc[0] == pytest.approx(recompute(c, d), abs=1e-12)
        for row in r.intervals.itertuples():
            part = calls[(calls["day"] == row.day) & (calls["interval"] == row.interval)]
            assert row.service_level == pytest.approx(recompute(part, d), abs=1e-12,
                                                      nan_ok=True), (d, row.interval)
    assert len(set(value.values())) == 4, value
    assert value["offered"] < value["offered_excluding_short_abandons"] < value["answered"]
    assert value["offered"] < value["answered_and_late_abandons"] < value["answered"]


def test_interval_kpis_agree_with_the_intervals_table():
    """intervals_below_target and the worst interval are read off the intervals table."""
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    s = load_scenario(SCENARIOS / "base.toml")
    # 10% more calls than planned for: some intervals miss the target, most do not
    s = s.replace({"horizon.days": 2, "demand.calls_per_day": 1.1 * s.demand.calls_per_day})
    r = simulate(s, seed=8)
    iv = r.intervals["service_level"].dropna()
    assert 0 < r.kpis["intervals_below_target"] < 1, "the case should miss some intervals"
    assert r.kpis["intervals_below_target"] == pytest.approx((iv < 0.8).mean())
    assert r.kpis["worst_interval_service_level"] == pytest.approx(iv.min())
    for day in (0, 1):
        daily = r.daily.set_index("day").loc[day]
        ivd = r.intervals.loc[r.intervals["day"] == day, "service_level"].dropna()
        assert daily["intervals_below_target"] == pytest.approx((ivd < 0.8).mean())
