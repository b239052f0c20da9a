"""Adherence, conformance and shrinkage: hand-computed cases and direction of effect."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stats import t_interval
from sim.engine.behaviour import Behaviour
from sim.engine.demand import DayCalls
from sim.model import simulate
from sim.scenario import scenario_from_dict
from tests.conftest import small_dict

SHIFT_S = 4 * 3600.0
T0 = 8 * 3600.0  # 08:00


def one_agent(schedule=None, behaviour=None, **changes):
    """One agent, 08:00-12:00, a 15-minute break at 09:00 and a 30-minute lunch at 10:00."""
    sched = {"activities": {
        "break": {"kind": "break", "minutes": 15, "offset_minutes": 60},
        "lunch": {"kind": "lunch", "minutes": 30, "offset_minutes": 120},
    }}
    sched.update(schedule or {})
    return scenario_from_dict(small_dict(
        horizon={"days": 1, "open": "08:00", "hours": 4, "interval_minutes": 60},
        demand={"calls_per_day": 1, "profile": [1, 1, 1, 1]},
        staffing={"shifts": {"a": {"start": "08:00", "hours": 4, "agents": 1}}},
        schedule=sched, behaviour=behaviour or {}, **changes,
    ))


def calls(*spec):
    """Hand-made calls: (arrival seconds after 08:00, talk, ACW), never abandoning."""
    arr = np.array([T0 + a for a, _, _ in spec], float)
    return [DayCalls(0, 1.0, arr, np.array([t for _, t, _ in spec], float),
                     np.array([w for _, _, w in spec], float), np.full(len(spec), np.inf))]


def day_row(r):
    """The only agent-day."""
    assert len(r.agent_days) == 1
    return r.agent_days.iloc[0]


def test_perfect_agent_without_calls_is_fully_adherent():
    """Following the schedule exactly, with no calls: adherence 100%, nothing lost."""
    r = simulate(one_agent(), calls=calls())
    row = day_row(r)
    assert row["scheduled_s"] == SHIFT_S
    assert row["adherence"] == 1.0 and row["in_adherence_s"] == SHIFT_S
    assert row["scheduled_on_queue_s"] == SHIFT_S - 45 * 60
    assert row["conformance"] == 1.0
    assert row["shrinkage"] == pytest.approx(45 * 60 / SHIFT_S)
    assert row["shrink_break_s"] == 900 and row["shrink_lunch_s"] == 1800
    s = r.statuses
    assert s["status"].tolist() == ["Ready", "Not Ready - Break", "Ready",
                                    "Not Ready - Lunch", "Ready"]
    assert s["start_s"].tolist() == [T0, T0 + 3600, T0 + 4500, T0 + 7200, T0 + 9000]
    assert (r.activities["outcome"] == "taken").all()
    assert r.kpis["adherence"] == 1.0 and r.kpis["conformance"] == 1.0


@pytest.mark.parametrize("tolerance", [0.0, 60.0])
@pytest.mark.parametrize("late", [30.0, 300.0])
def test_late_return_costs_exactly_its_length_beyond_the_grace(tolerance, late):
    """Back from lunch k seconds late: adherence falls by (k - grace)+ / scheduled time."""
    r = simulate(one_agent(
        schedule={"tolerance_s": tolerance},
        behaviour={"returns": {"lunch": {"late_probability": 1.0,
                                         "late": {"distribution": "fixed", "mean_s": late}}}},
    ), calls=calls())
    row = day_row(r)
    lost = max(0.0, late - tolerance)
    assert row["in_adherence_s"] == pytest.approx(SHIFT_S - lost, abs=1e-9)
    assert row["adherence"] == pytest.approx(1 - lost / SHIFT_S, abs=1e-12)
    assert row["lost_late_return_s"] == pytest.approx(lost, abs=1e-9)
    lunch = r.activities.set_index("activity").loc["lunch"]
    assert lunch["late_return_s"] == pytest.approx(late)
    # conformance: on-queue time shrinks by the whole lateness, grace or not
    assert row["conformance"] == pytest.approx((SHIFT_S - 2700 - late) / (SHIFT_S - 2700))


def test_early_return_and_per_state_grace():
    """Back from the break 2 minutes early: 120 s out of adherence (no change to forgive)."""
    r = simulate(one_agent(
        schedule={"tolerance_by_state": {"on_queue": 0.0}},
        behaviour={"returns": {"break": {"early_probability": 1.0,
                                         "early": {"distribution": "fixed", "mean_s": 120}},
                               "lunch": {"late_probability": 1.0,
                                         "late": {"distribution": "fixed", "mean_s": 100}}}},
    ), calls=calls())
    row = day_row(r)
    assert row["lost_early_return_s"] == pytest.approx(120)
    assert row["lost_late_return_s"] == pytest.approx(100)  # on_queue grace is 0 here
    assert row["in_adherence_s"] == pytest.approx(SHIFT_S - 220)


def test_login_delay_is_recorded_as_the_systems_not_the_agents():
    """A fixed 150 s log-in delay: Logged Out meanwhile, 90 s lost (after 60 s grace)."""
    r = simulate(one_agent(behaviour={"login_delay_min_s": 150, "login_delay_max_s": 150}),
                 calls=calls())
    row = day_row(r)
    assert row["login_s"] == T0 + 150 and row["login_delay_s"] == 150
    assert row["lost_login_delay_s"] == pytest.approx(90)
    assert row["in_adherence_s"] == pytest.approx(SHIFT_S - 90)
    assert row["shrink_logged_out_s"] == pytest.approx(150)
    assert row["logged_in_s"] == SHIFT_S - 150


def test_call_running_into_a_break_displaces_it():
    """A call ending 100 s into a break displaces it; both of its ends count (minus grace).

    The break starts when the call's ACW ends, keeps its 15 minutes and so runs 100 s past
    its planned end.
    """
    # arrives 08:55 (3300 s), talks 350 s, ACW 50 s: done at 09:01:40, 100 s into the break
    r = simulate(one_agent(), calls=calls((3300, 350, 50)))
    row = day_row(r)
    brk = r.activities.set_index("activity").loc["break"]
    assert brk["outcome"] == "displaced" and brk["displaced_s"] == pytest.approx(100)
    assert brk["actual_end_s"] - brk["actual_start_s"] == pytest.approx(900)
    assert row["lost_call_s"] == pytest.approx(2 * (100 - 60))
    assert row["in_adherence_s"] == pytest.approx(SHIFT_S - 80)
    assert row["activities_displaced"] == 1 and row["activities_taken"] == 1


def test_meeting_displaced_keeps_its_planned_end():
    """A fixed meeting (keep_length false) that starts late ends when planned: shortened."""
    s = one_agent(schedule={"activities": {
        "break": {"kind": "meeting", "minutes": 15, "offset_minutes": 60},
        "lunch": {"kind": "lunch", "minutes": 30, "offset_minutes": 120}}})
    r = simulate(s, calls=calls((3300, 350, 50)))
    m = r.activities.set_index("activity").loc["break"]
    assert m["outcome"] == "shortened"
    assert m["actual_end_s"] == pytest.approx(T0 + 3600 + 900)
    assert day_row(r)["lost_call_s"] == pytest.approx(100 - 60)


def test_unplanned_break_waits_for_the_call_and_the_hook_can_defer_it():
    """A need arising mid-call is taken at the call's end; a policy may defer it."""
    s = one_agent(behaviour={"unplanned_breaks_per_hour": 3.0,
                             "unplanned_break": {"distribution": "fixed", "mean_s": 200}},
                  schedule={"activities": {}, "min_break_minutes": 0})
    busy = [(60 + 600 * i, 500, 50) for i in range(20)]
    r = simulate(s, seed=4, calls=calls(*busy))
    b = r.breaks.dropna()
    assert len(b) >= 2
    assert (b["start_s"] >= b["need_s"]).all()
    # taken at a call end (an ACW end) or at once if the agent was idle
    st = r.statuses
    ends = set(st.loc[st["status"] == "After Call Work", "end_s"])
    assert all(t in ends or t == n for t, n in zip(b["start_s"], b["need_s"], strict=True))
    row = day_row(r)
    assert row["lost_unplanned_break_s"] > 0
    assert row["shrink_unplanned_break_s"] == pytest.approx(b["duration_s"].sum())

    class Never(Behaviour):
        def defer_unplanned_break(self, agent, now):
            return True

    r2 = simulate(s, seed=4, calls=calls(*busy), behaviours=lambda agent: Never())
    assert r2.breaks["start_s"].isna().all() and len(r2.breaks) == len(r.breaks)
    assert "Not Ready - Break" not in set(r2.statuses["status"])


# ----------------------------------------------------------------- direction of effect

REPS = 5
SCHED = {"activities": {
    "break1": {"kind": "break", "minutes": 15, "window_minutes": [90, 150]},
    "lunch": {"kind": "lunch", "minutes": 30, "window_minutes": [210, 270]},
    "break2": {"kind": "break", "minutes": 15, "window_minutes": [345, 405]},
}}


def paired(a, b, kpi):
    """Paired differences b - a (common random numbers), and their 95% CI."""
    d = [simulate(b, seed=11, replication=k).kpis[kpi]
         - simulate(a, seed=11, replication=k).kpis[kpi] for k in range(REPS)]
    return d, t_interval(d, 0.95)


@pytest.fixture(scope="module")
def scheduled(base):
    """The base centre for one day with an explicit staggered schedule and no deviations."""
    return base.replace({"horizon.days": 1, "schedule": SCHED, "behaviour": {}})


def test_extra_break_without_extra_staff_lowers_service_level(scheduled):
    """A third 15-minute break per agent, same head count: service level falls."""
    more = dict(SCHED["activities"])
    more["break3"] = {"kind": "break", "minutes": 15, "window_minutes": [420, 450]}
    d, ci = paired(scheduled, scheduled.replace({"schedule.activities": more}),
                   "service_level")
    assert ci.ci_high < 0, f"differences {np.round(d, 4)}, CI {ci}"


def test_staggered_lunch_beats_everyone_lunching_at_once(scheduled):
    """Spreading lunches over the window raises service level vs all at its start."""
    d, ci = paired(scheduled.replace({"schedule.activities.lunch.stagger": "none"}),
                   scheduled, "service_level")
    assert ci.ci_low > 0, f"differences {np.round(d, 4)}, CI {ci}"


def test_login_delay_alone_lowers_measured_adherence(scheduled):
    """Agents who behave perfectly still lose adherence to a 0-4 minute log-in delay.

    Three days: the adherence lost to calls running into activities differs between the
    paired runs by a few tenths of a point a day, as much as the delay's own 0.3 points.
    """
    three = scheduled.replace({"horizon.days": 3})
    delayed = three.replace({"behaviour.login_delay_max_s": 240})
    d, ci = paired(three, delayed, "adherence")
    assert ci.ci_high < 0, f"differences {np.round(d, 5)}, CI {ci}"
    ad = simulate(delayed, seed=11).agent_days
    assert ad["lost_login_delay_s"].sum() > 0
    assert ad["lost_late_return_s"].sum() == 0 and ad["lost_unplanned_break_s"].sum() == 0


@pytest.mark.parametrize("callout", [False, True])
def test_acw_call_out_only_when_the_scenario_allows_it(callout):
    """An agent in ACW takes a new call only if calls.acw_callout is set.

    Call A (talk 100 s, ACW 100 s) at 0; B at 150 s: B waits for the ACW unless call-out
    is on, when it is answered at once and A's ACW is cut to 50 s. C at 50 s waits for A's
    talk; with call-out, A's agent skips ACW for C altogether.
    """
    s = one_agent(schedule={"activities": {}}, calls={"acw_callout": callout})
    r = simulate(s, calls=calls((0, 100, 100), (150, 10, 0)))
    c = r.calls
    assert c["answered_s"].tolist() == [T0, T0 + (150 if callout else 200)]
    assert c["acw_s"].tolist() == [50 if callout else 100, 0]
    r = simulate(s, calls=calls((0, 100, 100), (50, 10, 5)))
    assert r.calls["answered_s"].tolist() == [T0, T0 + (100 if callout else 200)]
    assert r.calls["acw_s"].tolist() == [0 if callout else 100, 5]
    acw = r.statuses[r.statuses["status"] == "After Call Work"]
    assert acw["duration_s"].sum() == r.calls["acw_s"].sum()
