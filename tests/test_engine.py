"""The event engine against an independent FIFO recursion, call by call."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from sim.model import simulate
from sim.scenario import DAY_S, scenario_from_dict
from tests.conftest import small_dict


def fifo_reference(arrival, handle, deadline, agents):
    """Waits of a FIFO multi-server queue with reneging, by the Kiefer-Wolfowitz recursion.

    A call starts at max(arrival, earliest free agent) if its caller is still there
    (deadline > start); an abandoning call takes no agent. Homogeneous agents make the
    routing rule irrelevant for waits.
    """
    free = [0.0] * agents
    start = np.full(len(arrival), np.nan)
    for i in range(len(arrival)):
        s = max(arrival[i], free[0])
        if deadline[i] > s:
            start[i] = s
            heapq.heapreplace(free, s + handle[i])
    return start


def stationary(agents, patience):
    """One open-all-day shift, so the reference needs no shift logic."""
    return scenario_from_dict(small_dict(
        horizon={"days": 1, "open": "00:00", "hours": 6, "interval_minutes": 60},
        demand={"calls_per_day": 6 * 3600 / 30, "profile": [1, 3, 2, 2, 3, 1]},
        calls={"talk": {"distribution": "lognormal", "mean_s": 240, "cv": 1.2},
               "acw": {"distribution": "gamma", "mean_s": 30, "cv": 0.5},
               "patience": patience},
        staffing={"shifts": {"all": {"start": "00:00", "hours": 8, "agents": agents}}},
        closing={"rule": "serve", "max_overtime_minutes": 18 * 60},  # the queue clears
    ))


def check_against_reference(scenario, agents):
    """Every call's answer time equals the recursion's start time (or both abandon)."""
    r = simulate(scenario, seed=7)
    c = r.calls
    arrival = c["arrival_s"].to_numpy()
    start = fifo_reference(arrival, (c["talk_s"] + c["acw_s"]).to_numpy(),
                           arrival + c["patience_s"].to_numpy(), agents)
    got = c["answered_s"].to_numpy()
    assert np.array_equal(np.isnan(start), np.isnan(got)), "answered/abandoned differ"
    ok = ~np.isnan(start)
    assert np.allclose(start[ok], got[ok], rtol=0, atol=1e-6), np.abs(start[ok] - got[ok]).max()
    return r


def test_engine_matches_fifo_recursion_without_abandonment():
    """M/G/c: the simulation's answer times are the recursion's, call by call."""
    r = check_against_reference(stationary(8, {"distribution": "none"}), 8)
    assert r.kpis["p_wait"] > 0.2, "the case should queue for the check to mean anything"


def test_engine_matches_fifo_recursion_with_abandonment():
    """M/G/c+G: lazy abandonment gives exactly the recursion's outcomes."""
    r = check_against_reference(
        stationary(7, {"distribution": "lognormal", "mean_s": 90, "cv": 1.0}), 7)
    assert r.kpis["abandon_rate"] > 0.05, r.kpis


def test_longest_idle_agent_answers():
    """With calls far apart, agents take turns in the order they became idle."""
    s = scenario_from_dict(small_dict(
        horizon={"days": 1, "open": "00:00", "hours": 1, "interval_minutes": 60},
        demand={"calls_per_day": 12, "profile": [1]},
        calls={"talk": {"distribution": "fixed", "mean_s": 1},
               "acw": {"distribution": "fixed", "mean_s": 0}},
        staffing={"shifts": {"all": {"start": "00:00", "hours": 1, "agents": 3}}},
    ))
    c = simulate(s, seed=3).calls
    gaps = np.diff(c["arrival_s"].to_numpy())
    assert (gaps > 1).all(), "test needs calls that do not overlap"
    assert c["agent"].tolist() == [i % 3 for i in range(len(c))], c["agent"].tolist()


# --------------------------------------------------------------------------- closing time
# An independent reference for whole days: shifts that end, log-in delays, planned breaks
# (kept length or fixed end, late and early returns), an under-staffed evening and both
# closing rules. It is a call-by-call recursion over agents' timelines, not an event
# simulation: each call, in arrival order, goes to the agent that can start it first.


class RefAgent:
    """One agent's day in the reference: when it is free, and what it has still to do."""

    def __init__(self, k: int, day) -> None:
        self.k = k
        self.x = day.login  # free (not in a call or activity) from here on
        self.ready_since = day.login
        self.shift_end = day.shift_end
        self.acts = [(a[1], a[2], a[4], a[5]) for a in day.activities]
        self.gone = False

    def settle(self, t: float) -> None:
        """Work the planned activities that start before ``t`` or while the agent is busy."""
        while self.acts and self.x < self.shift_end:
            ps, pe, keep, adj = self.acts[0]
            if ps > max(self.x, t):
                return
            start = max(self.x, ps)  # due while busy: at the end of the call
            if start >= self.shift_end:
                return
            self.acts.pop(0)
            end = (start + (pe - ps) if keep else pe) + adj
            self.x = self.ready_since = max(start, end)

    def start_time(self, t: float, close: float, serve: bool) -> float:
        """When this agent could answer a call waiting since ``t`` (inf: never today)."""
        if self.gone:
            return math.inf
        self.settle(t)
        if self.x < self.shift_end:
            if t >= self.shift_end:  # idle at its shift end: logs off
                self.gone = True
                return math.inf
            return max(self.x, t)
        # free after its shift: stays only if logged in at closing under "serve", and only
        # while a call is waiting (this one arrived before the agent came free)
        if serve and self.x >= close and t <= self.x:
            return self.x
        self.gone = True
        return math.inf


def closing_reference(scenario, result, streams_seed):
    """Outcome, answer or end time, and answering agent of every call, independently."""
    from sim.engine.schedule import agent_days, build_plan
    from sim.engine.streams import Streams
    from sim.model import closings

    plan = build_plan(scenario)
    days = agent_days(scenario, plan, Streams(streams_seed, 0))
    serve = scenario.closing.rule == "serve"
    c = result.calls
    arrival = c["arrival_s"].to_numpy()
    handle = (c["talk_s"] + c["acw_s"]).to_numpy()
    deadline = arrival + c["patience_s"].to_numpy()
    day = c["day"].to_numpy()
    outcome = np.empty(len(c), dtype=object)
    end = np.full(len(c), np.nan)
    who = np.full(len(c), -1)
    current = -1
    for i in range(len(c)):
        if day[i] != current:
            current = day[i]
            close, cutoff = closings(scenario)[current]
            agents = [RefAgent(k, days[k][current]) for k in range(len(days))]
        options = [(a.start_time(arrival[i], close, serve), a.ready_since, a.k) for a in agents]
        s, _, k = min(options)
        limit = (cutoff if serve else close) if math.isfinite(s) else close
        if s < deadline[i] and s <= limit:
            outcome[i], end[i], who[i] = "answered", s, k
            agents[k].x = agents[k].ready_since = s + handle[i]
        elif deadline[i] <= min(s, limit):
            outcome[i], end[i] = "abandoned", deadline[i]
        else:
            outcome[i], end[i] = "closed", limit
    return outcome, end, who


def evening_centre(rule: str, patience: dict, max_overtime: float = 60.0):
    """Three days, shifts ending before and after closing, breaks, too few agents at 11-12."""
    return scenario_from_dict(small_dict(
        horizon={"days": 3, "open": "08:00", "hours": 4, "interval_minutes": 30},
        demand={"calls_per_day": 380, "profile": [1, 1, 1.2, 1.2, 1, 1, 1.3, 1.3],
                "busyness_cv": 0.1},
        calls={"talk": {"distribution": "lognormal", "mean_s": 240, "cv": 0.9},
               "acw": {"distribution": "gamma", "mean_s": 30, "cv": 0.5},
               "patience": patience},
        staffing={"shifts": {
            "early": {"start": "08:00", "hours": 3, "agents": 7},
            "mid": {"start": "09:00", "hours": 3, "agents": 3},
            "late": {"start": "10:00", "hours": 2.25, "agents": 2}}},
        schedule={"min_break_minutes": 0, "activities": {
            "break": {"kind": "break", "minutes": 15, "window_minutes": [50, 80]},
            "lunch": {"kind": "lunch", "minutes": 20, "window_minutes": [100, 110],
                      "shifts": ["early", "mid"], "keep_length": False},
            "meeting": {"kind": "meeting", "minutes": 10, "offset_minutes": 20,
                        "shifts": ["late"]}}},
        behaviour={"login_delay_min_s": 5, "login_delay_max_s": 240,
                   "returns": {k: {"late_probability": 0.6, "early_probability": 0.4}
                               for k in ("break", "lunch", "meeting")}},
        closing={"rule": rule, "max_overtime_minutes": max_overtime},
    ))


@pytest.mark.parametrize("rule,patience,overtime", [
    ("serve", {"distribution": "none"}, 60.0),
    ("serve", {"distribution": "none"}, 12.0),
    ("serve", {"distribution": "lognormal", "mean_s": 200, "cv": 1.0}, 60.0),
    ("close", {"distribution": "none"}, 60.0),
    ("close", {"distribution": "lognormal", "mean_s": 200, "cv": 1.0}, 60.0),
])
def test_days_with_closings_match_reference(rule, patience, overtime):
    """Every call's outcome, answer (or end) time and agent equal the reference's."""
    s = evening_centre(rule, patience, overtime)
    r = simulate(s, seed=11)
    c = r.calls
    outcome, end, who = closing_reference(s, r, 11)
    got = c["outcome"].astype(str).to_numpy()
    bad = np.flatnonzero(got != outcome)
    assert not len(bad), f"{len(bad)} outcomes differ, first call {bad[:3]}: " \
        f"{got[bad[:3]]} vs {outcome[bad[:3]]}"
    got_end = np.where(got == "answered", c["answered_s"], c["arrival_s"] + c["wait_s"])
    assert np.allclose(got_end, end, rtol=0, atol=1e-6), np.abs(got_end - end).max()
    assert np.array_equal(c["agent"].to_numpy(), who), "a different agent answered"
    # the case must exercise what it is about: a queue at closing, and its outcome
    counts = c["outcome"].value_counts()
    assert r.agent_days["overtime_s"].sum() > 0
    if rule == "close" or overtime < 60:
        assert counts["closed"] > 0, counts
    else:
        assert counts["closed"] == 0, counts
    if patience["distribution"] != "none":
        assert counts["abandoned"] > 0, counts


@pytest.mark.parametrize("rule", ["serve", "close"])
def test_no_call_outlives_its_day(rule):
    """Under-staffed evening, callers who never hang up: every call ends on its own day."""
    s = evening_centre(rule, {"distribution": "none"})
    d = s.to_dict()
    d["staffing"]["shifts"]["late"]["agents"] = 0
    d["staffing"]["shifts"]["mid"]["agents"] = 1
    d["schedule"]["activities"]["meeting"]["shifts"] = ["early"]
    s = scenario_from_dict(d)
    c = simulate(s, seed=5).calls
    ended = np.where(c["outcome"] == "answered", c["answered_s"], c["arrival_s"] + c["wait_s"])
    assert (ended // DAY_S == c["day"]).all(), "a call waited past midnight"
    assert (c["outcome"] != "abandoned").all(), "callers who never hang up abandoned"
    assert (c["outcome"] == "closed").sum() > 0, "the evening should leave calls waiting"
    close = s.horizon.open + s.horizon.hours * 3600
    limit = close + (s.closing.max_overtime_minutes * 60 if rule == "serve" else 0)
    assert (ended - c["day"] * DAY_S <= limit + 1e-6).all()
