"""A needed break put off is held to a limit, then taken as a breach; chases felt when heard.

Hand-made days of one agent without calls (``tests.test_policy``'s): the agent is idle, so
every need is asked about the moment it arises and every outcome can be worked out by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.status import LABELS
from sim.model import build, collect, run, simulate
from sim.regime.responses import AgentPolicy
from sim.regime.rules import Rules
from sim.scenario import Responses
from tests.test_policy import DAY, T0, actions, agent_days_scenario, no_calls

LIMIT_MIN = 20.0
LUNCH = 2 * 3600.0  # the lunch starts two hours into the 4-hour shift, for 30 minutes


@pytest.mark.parametrize("logit", [20.0, 0.0])
def test_a_need_put_off_is_held_to_the_limit_then_taken_as_a_breach(logit):
    """One decision per need; a need put off is met by lunch or taken at the limit exactly.

    Logit 20: every need asked about is put off; logit 0: about half. A need arising in
    lunch, in an unplanned break or while another is held is met by it (no decision). A
    held need is met by a lunch starting before its limit, else taken at the limit (then
    action ``break_limit``), else never (the shift ends first). A break taken at the limit
    is an unplanned break like any other: an exception the supervisor chases as a breach.
    """
    days = 3
    s = agent_days_scenario(
        days, {"login_delay_min_s": 0, "login_delay_max_s": 0,
               "unplanned_breaks_per_hour": 1.5},
        {"exception_threshold_s": 60},
        responses={"defer_break_logit": logit, "defer_break_limit_min": LIMIT_MIN})
    r = simulate(s, seed=3, calls=no_calls(days))
    limit = LIMIT_MIN * 60
    put_off = actions(r, "defer_break")["time_s"].tolist()
    at_limit = actions(r, "break_limit")
    assert len(put_off) == len(set(put_off))  # one decision per need
    asked = taken_at_limit = 0
    for d in range(days):
        day0 = d * DAY + T0
        lunch0, lunch1, end = day0 + LUNCH, day0 + LUNCH + 1800, day0 + 4 * 3600
        busy_until, held_until = -math.inf, -math.inf
        for need, start, stop in r.breaks[r.breaks["day"] == d][
                ["need_s", "start_s", "end_s"]].itertuples(index=False):
            if lunch0 <= need < lunch1 or need < busy_until or need < held_until:
                assert math.isnan(start) and need not in put_off  # met by what is under way
                continue
            asked += 1
            if need not in put_off:
                assert start == need  # taken at once
                busy_until = stop
                continue
            deadline = need + limit
            held_until = min(deadline, lunch0) if need < lunch0 else deadline
            if need < lunch0 <= deadline or deadline >= end:
                assert math.isnan(start)  # met by lunch, or the shift ended first
                continue
            assert start == pytest.approx(deadline, abs=1e-6)
            assert at_limit["time_s"].eq(start).sum() == 1
            busy_until = stop
            taken_at_limit += 1
    assert len(put_off) <= asked and taken_at_limit == len(at_limit) >= 1
    if logit > 0:
        assert len(put_off) == asked
    else:
        assert 0 < len(put_off) < asked
    assert (at_limit["detail"] == f"need put off {LIMIT_MIN:.1f} min; taken anyway").all()
    # the break at the limit is out of adherence like any unplanned break: the review's
    # rule engine counts it and chases it
    exc = r.exceptions
    for t in at_limit["time_s"]:
        row = exc[(exc["start_s"] <= t) & (t < exc["end_s"])]
        assert row["reason"].astype(str).tolist() == ["unplanned_break"]
    breaches = exc[exc["breach"] & (exc["reason"] == "unplanned_break")]
    assert len(breaches) >= 1
    chased = actions(r, "chase")
    assert (chased["reason"] == "unplanned_break").sum() == len(breaches)


def test_warnings_weigh_on_a_deferral_only_within_the_window():
    """A warning counts toward putting breaks off while it is in the warning window."""
    rules = Rules(threshold_s=60.0, excused=frozenset(), convention="after_change",
                  warning_after=3, window_s=30 * DAY)
    pol = AgentPolicy(0, np.random.default_rng(0), rules, Responses(), lambda *a: None,
                      policed=True, aht_target=False)
    pol.warned_at(0.0)
    pol.warned_at(10 * DAY)
    assert pol.recent_warnings(29 * DAY) == 2
    assert pol.recent_warnings(30 * DAY) == 1  # exactly a window back: out, as breaches
    assert pol.recent_warnings(41 * DAY) == 0
    assert pol.warnings == 2  # the record keeps them all


def _strain_end(case: str, impulse: float):
    """The run of ``case`` with ``stress.chase_impulse`` = ``impulse``; its strain's taus."""
    stress = {"enabled": True, "chase_impulse": impulse, "feedback": False}
    if case == "review":  # the log-in delay, chased at the end-of-day review
        s = agent_days_scenario(
            2, {"login_delay_min_s": 240, "login_delay_max_s": 240},
            {"exception_threshold_s": 120}, stress=stress)
    else:
        beh = ({"login_delay_min_s": 240, "login_delay_max_s": 240} if case == "realtime_out"
               else {"login_delay_min_s": 0, "login_delay_max_s": 0,
                     "returns": {"lunch": {"late_probability": 1.0,
                                           "late": {"distribution": "fixed",
                                                    "mean_s": 300}}}})
        s = agent_days_scenario(
            1, beh, {"exception_threshold_s": 120 if case == "realtime_out" else 60},
            stress=stress)
        s = s.replace({"monitoring.realtime_alerts": True, "monitoring.alert_tolerance_s": 60})
    r = build(s, 1, 0, calls=no_calls(s.horizon.days))
    run(r)
    return collect(r), r.strains[0].tau


def _decay(res, tau: list[float], day: int, t0: float) -> float:
    """The factor by which strain added at ``t0`` is left at the day's log-out (exact)."""
    code = {label: int(s) for s, label in LABELS.items()}
    st = res.statuses[res.statuses["day"] == day]
    expo = 0.0
    for label, s0, s1 in st[["status", "start_s", "end_s"]].itertuples(index=False):
        lo = max(s0, t0)
        if s1 > lo:
            expo += (s1 - lo) / tau[code[str(label)]]
    return math.exp(-expo)


@pytest.mark.parametrize(("case", "day", "chased_at", "felt_at"), [
    # chased at the review after the day; heard at day 1's log-in (after its 240 s delay)
    ("review", 1, None, DAY + T0 + 240),
    # real time while logged in: late from lunch, 60 s grace + 60 s threshold after its end
    ("realtime_in", 0, T0 + LUNCH + 1800 + 120, T0 + LUNCH + 1800 + 120),
    # real time while still logged out (the log-in delay): heard at the log-in
    ("realtime_out", 0, T0 + 180, T0 + 240),
])
def test_a_chase_is_felt_when_the_agent_hears_it(case, day, chased_at, felt_at):
    """The chase's strain impulse lands at the chase in the shift, else at the next log-in.

    Strain is linear in its impulses, so a run with ``chase_impulse`` 0.3 ends the day
    with strain higher by exactly 0.3 times the closed-form decay from the moment the
    impulse landed to the log-out (each status spell at its time constant), and the day
    before the impulse lands is unchanged.
    """
    res, tau = _strain_end(case, 0.3)
    base, _ = _strain_end(case, 0.0)
    chase = actions(res, "chase")
    assert len(chase) >= 1
    if chased_at is not None:
        assert chase["time_s"].iloc[0] == pytest.approx(chased_at, abs=1e-6)
    else:  # at the end-of-day review, after the agent has logged out
        assert chase["time_s"].iloc[0] > res.agent_days["logout_s"].iloc[0]
    end, end0 = (x.agent_days.set_index("day")["strain_end"] for x in (res, base))
    assert end.loc[day] - end0.loc[day] == pytest.approx(
        0.3 * _decay(res, tau, day, felt_at), rel=1e-9)
    for earlier in range(day):
        assert end.loc[earlier] == end0.loc[earlier]  # not felt while logged out
