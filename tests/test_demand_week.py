"""The weekly pattern, holidays and balking callers (issue 21, demand from history)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.demand import (
    DayCalls,
    date_of,
    day_factor,
    expected_calls,
    sample_day,
    weekday,
)
from sim.engine.streams import Streams
from sim.model import simulate
from sim.planning.stationary import stationary_scenario
from sim.scenario import ScenarioError, scenario_from_dict
from tests.conftest import small_dict

#: a Monday-to-Friday centre: Monday busiest, Friday with its own (late) profile
WEEK = {"Mon": {"factor": 1.3}, "Tue": {"factor": 1.0}, "Wed": {}, "Thu": {"factor": 0.9},
        "Fri": {"factor": 0.8, "profile": [1, 1, 1, 3]}}


def _week(**changes) -> dict:
    """The small centre (conftest) with the weekly pattern and the given changes."""
    return small_dict(demand__week=WEEK, **changes)


def test_no_pattern_and_an_all_ones_week_sample_the_same_calls():
    """A week of seven factor-1 days draws exactly the calls of a scenario without one."""
    plain = scenario_from_dict(small_dict())
    flat = scenario_from_dict(small_dict(
        demand__week={d: {} for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}))
    for day in range(3):
        a, b = (sample_day(s, Streams(5, 1), day) for s in (plain, flat))
        for f in ("arrival", "talk", "acw", "patience"):
            assert np.array_equal(getattr(a, f), getattr(b, f)), f
        np.testing.assert_allclose(expected_calls(plain, day), [50, 100, 100, 50])


def test_calendar_skips_closed_weekdays_and_places_holidays():
    """Days are the open days from a Wednesday; holidays by date and by day number."""
    s = scenario_from_dict(_week(horizon__days=12, demand__start_date="2018-03-07",
                                 demand__holidays=[
                                     {"date": "2018-03-12", "name": "closed Monday"},
                                     {"date": "2018-03-10"},  # a Saturday: not a day here
                                     {"day": 6, "factor": 0.5},
                                     {"date": "2019-01-01"}]))  # after the horizon
    got = [(weekday(s, d), str(date_of(s, d)), day_factor(s, d)) for d in range(12)]
    assert got == [("Wed", "2018-03-07", 1.0), ("Thu", "2018-03-08", 0.9),
                   ("Fri", "2018-03-09", 0.8), ("Mon", "2018-03-12", 0.0),
                   ("Tue", "2018-03-13", 1.0), ("Wed", "2018-03-14", 1.0),
                   ("Thu", "2018-03-15", 0.45), ("Fri", "2018-03-16", 0.8),
                   ("Mon", "2018-03-19", 1.3), ("Tue", "2018-03-20", 1.0),
                   ("Wed", "2018-03-21", 1.0), ("Thu", "2018-03-22", 0.9)]
    np.testing.assert_allclose(expected_calls(s, 2), [40, 40, 40, 120])  # Friday's profile
    np.testing.assert_allclose(expected_calls(s, 8), [65, 130, 130, 65])
    assert len(sample_day(s, Streams(1, 0), 3)) == 0  # the closed Monday has no calls


def test_sampled_weekdays_match_expected_calls():
    """Over 40 sampled weeks each weekday's mean calls is its expectation (|z| <= 3)."""
    s = scenario_from_dict(_week(horizon__days=200))
    streams = Streams(3, 0)
    counts: dict[str, list[int]] = {}
    for d in range(200):
        counts.setdefault(weekday(s, d), []).append(len(sample_day(s, streams, d)))
    cv = s.demand.busyness_cv
    for name, n in counts.items():
        mean = expected_calls(s, WEEK_DAYS.index(name)).sum()
        sd = math.sqrt(mean + (cv * mean) ** 2) / math.sqrt(len(n))  # Poisson + Gamma day
        assert abs(np.mean(n) - mean) <= 3 * sd, (name, np.mean(n), mean)


#: simulated day k of the week above (day 0 a Monday)
WEEK_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")


BAD = [
    ({"demand__week": {"Mon": {"profile": [1, 2]}}},
     "demand.week.Mon.profile: has 2 weights but demand.profile has 4; give one weight per "
     "interval"),
    ({"demand__week": {"Sat": {}}, "demand__first_weekday": "Mon"},
     "demand.first_weekday: day 0 is a Mon, on which the centre is closed (week names Sat); "
     "start on an open day"),
    ({"demand__start_date": "2018-03-07", "demand__first_weekday": "Mon"},
     "demand.first_weekday: 'Mon' but start_date 2018-03-07 is a Wed; give one of them, or "
     "both agreeing"),
    ({"demand__start_date": "2018-02-30"},
     "demand.start_date: '2018-02-30' is not a date; use YYYY-MM-DD, e.g. 2018-03-05"),
    ({"demand__holidays": [{"date": "2018-05-17"}]},
     "demand.holidays: a holiday given by date needs demand.start_date (the date of "
     "simulated day 0); or give its day number"),
    ({"demand__holidays": [{"date": "2018-05-17", "day": 3}], "demand__start_date": "2018-05-14"},
     "demand.holidays.0: give either date or day for a holiday, not both"),
    ({"demand__holidays": [{"day": 3}, {"day": 3, "factor": 0.5}]},
     "demand.holidays: day 3 is listed twice"),
    ({"demand__week": {"Holiday": {}}},
     "demand.week.Holiday.[key]: got 'Holiday'; input should be 'Mon', 'Tue', 'Wed', 'Thu', "
     "'Fri', 'Sat' or 'Sun'"),
    ({"calls": {"balk_probability": 1.5}},
     "calls.balk_probability: got 1.5; input should be less than or equal to 1"),
]


@pytest.mark.parametrize("changes,message", BAD, ids=[str(b[0])[:40] for b in BAD])
def test_bad_weeks_holidays_and_balking_are_refused_naming_the_field(changes, message):
    """Each contradiction is one error naming the field, the value and what is allowed."""
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(small_dict(**changes))
    assert str(info.value) == f"invalid scenario:\n  <dict>: {message}"


# --------------------------------------------------------------------------- balking


def test_balking_zeroes_patience_of_its_share_and_keeps_every_other_draw():
    """With p = 0.3 about 30% of patience is 0; arrivals, talk and other patience unchanged."""
    plain = scenario_from_dict(small_dict(demand__calls_per_day=5000))
    balk = scenario_from_dict(small_dict(demand__calls_per_day=5000,
                                         calls={"balk_probability": 0.3}))
    a, b = sample_day(plain, Streams(2, 0), 0), sample_day(balk, Streams(2, 0), 0)
    assert np.array_equal(a.arrival, b.arrival) and np.array_equal(a.talk, b.talk)
    zero = b.patience == 0
    kept = ~zero
    assert np.array_equal(a.patience[kept], b.patience[kept])
    n = len(b)
    assert abs(zero.mean() - 0.3) <= 3 * math.sqrt(0.3 * 0.7 / n), zero.mean()


def test_balking_trace_by_hand():
    """One agent, four calls: a balker is answered if the agent is free, else abandoned at 0 s.

    Talk is 60 s, no wrap-up. 08:00:10 call 0 is answered at once; 08:00:20 call 1 balks
    (patience 0) and the agent is busy: abandoned, wait 0; 08:00:30 call 2 (patience 100 s)
    waits until 08:01:10 (40 s); 08:05:00 call 3 balks but the agent is free: answered, 0 s.
    """
    s = scenario_from_dict(small_dict(
        staffing={"shifts": {"a": {"start": "08:00", "hours": 2, "agents": 1}}},
        calls={"talk": {"distribution": "fixed", "mean_s": 60},
               "acw": {"distribution": "fixed", "mean_s": 0}},
        behaviour={"login_delay_max_s": 0, "unplanned_breaks_per_hour": 0}))
    t0 = 8 * 3600
    arrival = np.array([t0 + 10.0, t0 + 20, t0 + 30, t0 + 300])
    calls = DayCalls(day=0, busyness=1.0, arrival=arrival, talk=np.full(4, 60.0),
                     acw=np.zeros(4), patience=np.array([50.0, 0.0, 100.0, 0.0]))
    r = simulate(s, calls=[calls])
    c = r.calls
    assert c["outcome"].tolist() == ["answered", "abandoned", "answered", "answered"]
    assert c["wait_s"].tolist() == [0.0, 0.0, 40.0, 0.0]
    assert r.kpis["abandoned"] == 1 and r.kpis["abandon_rate"] == 0.25
    assert r.kpis["service_level"] == 0.5  # offered: 2 of 4 within 20 s; the balker counts
    assert r.kpis["p_wait"] == 0.5  # the balker had to wait (it would have)


def _balking_erlang_a(lam: float, mu: float, theta: float, c: int, b: float
                      ) -> tuple[float, float]:
    """(abandon share, P(wait)) of M/M/c+M where a caller finding all busy balks with b.

    A birth-death chain: births lam below c, lam (1 - b) from c on; deaths min(n, c) mu +
    (n - c)+ theta. Balkers leave at arrival; joiners abandon at rate theta each.
    """
    n_max = c + 400
    p = np.zeros(n_max + 1)
    p[0] = 1.0
    for n in range(1, n_max + 1):
        birth = lam if n - 1 < c else lam * (1 - b)
        p[n] = p[n - 1] * birth / (min(n, c) * mu + max(n - c, 0) * theta)
    p /= p.sum()
    busy = p[c:].sum()
    queue = float((np.maximum(np.arange(n_max + 1) - c, 0) * p).sum())
    return (lam * b * busy + theta * queue) / lam, busy


@pytest.fixture(scope="module")
def stationary_balk():
    """An M/M/10+M run with balking 0.2: 30,000 measured calls at load 0.95."""
    rate, aht, agents, patience = 0.95 * 10 / 200, 200.0, 10, 150.0
    base = stationary_scenario(rate, aht, agents, 20.0, patience, calls=30_000)
    s = base.replace({"calls.balk_probability": 0.2})
    return s, simulate(s, seed=11), (rate, aht, agents, patience)


def test_balking_matches_the_birth_death_chain(stationary_balk):
    """Abandon share and P(wait) of the simulation equal the chain's within |z| <= 3.

    The calls of a stationary run are correlated; the batch-means standard error (30
    batches) allows for it.
    """
    s, r, (rate, aht, agents, patience) = stationary_balk
    want_ab, want_wait = _balking_erlang_a(rate, 1 / aht, 1 / patience, agents, 0.2)
    c = r.calls[r.calls["counted"]]
    ab = (c["outcome"] == "abandoned").to_numpy(float)
    waited = ~((c["outcome"] == "answered") & (c["wait_s"] == 0)).to_numpy()
    for got, want in ((ab, want_ab), (waited.astype(float), want_wait)):
        batches = np.array_split(got, 30)
        se = np.std([x.mean() for x in batches], ddof=1) / math.sqrt(30)
        assert abs(got.mean() - want) <= 3 * se, (got.mean(), want, se)
    balked = c[(c["outcome"] == "abandoned") & (c["wait_s"] == 0)]
    assert (balked["patience_s"] == 0).all()
    # the balkers are 0.2 of those who had to wait, within binomial error
    share = len(balked) / waited.sum()
    assert abs(share - 0.2) <= 3 * math.sqrt(0.2 * 0.8 / waited.sum()), share


def test_a_repeat_after_hours_comes_in_by_its_own_days_profile():
    """A repeat that falls before a day's opening comes in as that weekday's calls come.

    Friday's own profile puts half its calls in the last interval: the uniforms 0.7 and 0.9
    land in it on Friday; on the other days (profile 1, 2, 2, 1) 0.7 lands in the third.
    """
    from sim.engine.repeats import Repeats, opening_time
    from sim.scenario import DAY_S

    s = scenario_from_dict(_week(horizon__days=5, demand__first_weekday="Mon",
                                 calls__repeat_probability=0.5))
    assert [weekday(s, d) for d in range(5)] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    opening, interval = 8 * 3600.0, 1800.0
    # Friday: cumulative shares 1/6, 2/6, 3/6, 1: u = 0.9 is 0.8 of the way into interval 3
    fri = opening_time(s, 4 * DAY_S + 3600.0, 0.9) - (4 * DAY_S + opening)
    assert fri == pytest.approx((3 + 0.8) * interval * (1 - 1e-9))
    # the default profile (cumulative 1/6, 3/6, 5/6, 1) puts u = 0.7 0.6 of the way into
    # interval 2 (Wednesday); Friday's 0.4 of the way into interval 3
    wed = opening_time(s, 2 * DAY_S + 3600.0, 0.7) - (2 * DAY_S + opening)
    fri7 = opening_time(s, 4 * DAY_S + 3600.0, 0.7) - (4 * DAY_S + opening)
    assert wed == pytest.approx((2 + 0.6) * interval * (1 - 1e-9))
    assert fri7 == pytest.approx((3 + 0.4) * interval * (1 - 1e-9))
    # the run's own repeats use the same tables: one per distinct profile
    r = Repeats(s, Streams(1, 0), [])
    assert len({id(x) for x in r._dist}) == 2 and r._dist[4] is not r._dist[3]
