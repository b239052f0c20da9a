"""Conservation of calls and agent time on random valid scenarios (property-based).

Every outcome is derived from the logs and the scenario's rules, never read back from a
column defined to make it hold.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.model import simulate
from sim.scenario import Scenario, format_clock, scenario_from_dict
from tests.conftest import assert_statuses_tile


@st.composite
def scenarios(draw):
    """Small random centres: 1-2 days, 1-3 shifts, every call-attribute family."""
    interval = draw(st.sampled_from([15, 30, 60]))
    hours = draw(st.integers(1, 4))
    n_int = hours * 60 // interval
    dist = st.sampled_from(["lognormal", "exponential", "gamma", "fixed"])
    # opening off the shifts' quarter-hour grid: nobody logs in at the closing instant
    open_s = 8 * 3600 + 60 * draw(st.sampled_from([5, 10, 20]))
    shifts = {}
    for k in range(draw(st.integers(1, 3))):
        start = 8 * 3600 + draw(st.integers(-4, 12)) * 900
        length = draw(st.sampled_from([0.5, 1, 2.25, 4]))
        # a shift must overlap the opening hours (the schema refuses one that does not)
        start = min(max(start, open_s - length * 3600 + 900), open_s + hours * 3600 - 900)
        shifts[f"s{k}"] = {
            "start": format_clock(start),
            "hours": length,
            "agents": draw(st.integers(0, 6)),
        }
    shifts["s0"]["agents"] = max(1, shifts["s0"]["agents"])
    patience = draw(st.sampled_from([
        {"distribution": "none"}, {"distribution": "exponential", "mean_s": 60},
        {"distribution": "fixed", "mean_s": 30}, {"distribution": "lognormal", "mean_s": 200},
    ]))
    return scenario_from_dict({
        "description": "random", "rationale": "property test",
        "horizon": {"days": draw(st.integers(1, 2)),
                    "open": format_clock(open_s),
                    "hours": hours,
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
        "closing": {"rule": draw(st.sampled_from(["serve", "close"])),
                    "max_overtime_minutes": draw(st.sampled_from([0, 5, 60]))},
    })


DAY_S = 86_400.0


def queue_closed_at(scenario, ad) -> list[float]:
    """Per day, when the calls still waiting were ended, from the scenario and log-in times.

    Written from the documented rule, not from the model: the queue closes at the end of
    opening hours. Under "close" that is the moment. Under "serve" the agents logged in
    then stay until the queue is empty, so calls still wait only until the overtime limit
    (never after midnight in a multi-day run); if nobody was logged in at closing, nobody
    is left to serve them and they end at closing.
    """
    h, c = scenario.horizon, scenario.closing
    login, logout = ad["login_s"].to_numpy(), ad["logout_s"].to_numpy()
    out = []
    for d in range(h.days):
        close = d * DAY_S + h.open + h.hours * 3600
        cutoff = close + c.max_overtime_minutes * 60
        if h.days > 1:
            cutoff = min(cutoff, (d + 1) * DAY_S)
        staffed = ((login <= close) & (close < logout)).any()
        out.append(cutoff if c.rule == "serve" and staffed else close)
    return out


def evening(rule: str, overtime: float, patience: dict) -> Scenario:
    """Two days whose evening is under-staffed: the queue is long when the shifts end."""
    return scenario_from_dict({
        "description": "under-staffed evening", "rationale": "closing rules",
        "horizon": {"days": 2, "open": "08:05", "hours": 3, "interval_minutes": 60},
        "demand": {"calls_per_day": 160, "profile": [1, 1, 3], "busyness_cv": 0.0},
        "calls": {"talk": {"distribution": "exponential", "mean_s": 240},
                  "acw": {"distribution": "fixed", "mean_s": 20}, "patience": patience},
        "staffing": {"shifts": {"day": {"start": "08:00", "hours": 3, "agents": 4},
                                "early": {"start": "08:00", "hours": 2, "agents": 3}}},
        "closing": {"rule": rule, "max_overtime_minutes": overtime},
    })


NEVER = {"distribution": "none"}
PATIENT = {"distribution": "exponential", "mean_s": 900}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**31))
@example(scenario=evening("serve", 60, NEVER), seed=1)
@example(scenario=evening("serve", 10, PATIENT), seed=1)
@example(scenario=evening("close", 60, NEVER), seed=1)
@example(scenario=evening("close", 0, PATIENT), seed=1)
def test_calls_and_agent_time_are_conserved(scenario, seed):
    """Every call's outcome follows from the logs; agents never idle while a caller waits.

    From the status log, the scenario and log-in times only (not from the calls table's
    own outcome or wait columns):

    * answered = the calls whose (agent, answer time) opens a Talk spell, one spell per
      call, lasting its talk time, answered before the caller's patience ran out and
      before the queue closed; per agent, Talk seconds = talk time of its calls;
    * of the rest, a call whose patience ran out before its day's queue closed is
      abandoned (at arrival + patience), any other is closed (at that closing moment);
    * so answered + abandoned + closed = offered, call by call and in the KPIs;
    * FIFO: no call is answered while an earlier caller is still waiting;
    * after its shift an agent takes calls only in overtime at closing (rule "serve"), and
      then does not leave while a call waits;
    * nothing ends on a later day than it arrived;
    * work conservation with FIFO: while a caller waits, no agent is Ready.
    """
    r = simulate(scenario, seed=seed)
    c, s, ad = r.calls, r.statuses, r.agent_days
    assert (s["duration_s"] >= 0).all()
    assert_statuses_tile(s, ad)
    assert (ad["logout_s"] >= ad["login_s"]).all()
    arrival, patience = c["arrival_s"].to_numpy(), c["patience_s"].to_numpy()
    deadline = arrival + patience
    day = c["day"].to_numpy()
    n = len(c)

    # answered: matched one to one with Talk spells of the answering agent
    talk = s[s["status"] == "Talk"]
    spell = {(a, t): dur for a, t, dur in
             zip(talk["agent"], talk["start_s"], talk["duration_s"], strict=True)}
    assert len(spell) == len(talk), "two Talk spells of one agent start at the same time"
    ans_s, agent = c["answered_s"].to_numpy(), c["agent"].to_numpy()
    matched = np.array([(a, t) in spell for a, t in zip(agent, ans_s, strict=True)])
    assert matched.sum() == len(talk), "a Talk spell answers no call, or a call two spells"
    assert np.allclose([spell[a, t] for a, t in zip(agent[matched], ans_s[matched],
                                                    strict=True)],
                       c["talk_s"].to_numpy()[matched], atol=1e-6)
    per_agent = talk.groupby("agent")["duration_s"].sum()
    handled = c[matched].groupby("agent")["talk_s"].sum()
    assert np.allclose(per_agent.sort_index(), handled.reindex(per_agent.index).sort_index(),
                       atol=1e-6)
    assert (ans_s[matched] >= arrival[matched]).all()
    assert (ans_s[matched] < deadline[matched]).all(), "answered after the caller hung up"

    # the rest: abandoned if patience ran out before the queue closed, else closed then
    closed_at = np.array(queue_closed_at(scenario, ad))[day]
    derived = np.where(matched, "answered",
                       np.where(deadline <= closed_at, "abandoned", "closed"))
    outcome = c["outcome"].astype(str).to_numpy()
    wrong = np.flatnonzero(derived != outcome)
    assert not len(wrong), (
        f"{len(wrong)} calls' outcome is not what the logs imply, e.g. "
        f"{c.iloc[wrong[0]].to_dict()} (derived {derived[wrong[0]]}, queue closed "
        f"{closed_at[wrong[0]]})")
    assert (ans_s[matched] <= closed_at[matched]).all(), "answered after the queue closed"
    ended = np.where(matched, ans_s, np.where(derived == "abandoned", deadline, closed_at))
    wait = c["wait_s"].to_numpy()
    assert np.allclose(wait, ended - arrival, rtol=0, atol=1e-6)
    assert (ended < (day + 1) * DAY_S).all(), "a call ended on a later day than it arrived"
    assert np.isnan(ans_s[~matched]).all() and (agent[~matched] == -1).all()
    counted = c["counted"].to_numpy()
    k = r.kpis
    for what in ("answered", "abandoned", "closed"):
        assert k[what] == (derived[counted] == what).sum(), what
    assert k["answered"] + k["abandoned"] + k["closed"] == k["offered"] == counted.sum()

    # after the shift: a call is taken only in overtime at closing (rule "serve", logged
    # in at closing), and such an agent leaves only when no call waits (or at the limit)
    h, rule = scenario.horizon, scenario.closing.rule
    close = h.open + h.hours * 3600 + DAY_S * np.arange(h.days)
    limit = np.array(queue_closed_at(scenario, ad))
    for row in ad.itertuples():
        d = row.day
        staffed = row.login_s <= close[d] < row.logout_s
        late = talk[(talk["agent"] == row.agent) & (talk["day"] == d)
                    & (talk["start_s"] >= row.shift_end_s)]["start_s"]
        if len(late):
            assert rule == "serve" and staffed, f"agent-day {row.agent, d} took a call " \
                f"after its shift at {late.min()} ({rule}, logged in at closing: {staffed})"
            assert (late >= close[d]).all() and (late <= limit[d]).all()
        if rule == "serve" and staffed and row.logout_s < limit[d]:
            left = (day == d) & (arrival < row.logout_s) & (ended > row.logout_s + 1e-9)
            assert not left.any(), f"agent-day {row.agent, d} left in overtime at " \
                f"{row.logout_s} with {left.sum()} calls waiting"

    # FIFO: no call is answered while an earlier arrival still waits
    order = np.argsort(arrival, kind="stable")
    earlier_end = np.r_[-np.inf, np.maximum.accumulate(ended[order])[:-1]]
    jumped = matched[order] & (earlier_end > ans_s[order] + 1e-9)
    assert not jumped.any(), f"{jumped.sum()} calls answered ahead of an earlier caller"

    # work conservation: no Ready spell overlaps a caller's wait (arrival, end of wait)
    ready = s[s["status"] == "Ready"]
    r0, r1 = np.sort(ready["start_s"].to_numpy()), np.sort(ready["end_s"].to_numpy())
    waited = ended > arrival
    # an agent Ready when the call arrived (and still after), or becoming Ready meanwhile
    ready_at_arrival = (np.searchsorted(r0, arrival, "right")
                        - np.searchsorted(r1, arrival, "right"))
    became_ready = (np.searchsorted(r0, ended - 1e-9, "left")
                    - np.searchsorted(r0, arrival, "right"))
    idle = waited & ((ready_at_arrival > 0) | (became_ready > 0))
    assert not idle.any(), (
        f"{idle.sum()} of {n} callers waited while an agent was Ready, e.g. "
        f"{c.iloc[np.flatnonzero(idle)[0]].to_dict()}")
