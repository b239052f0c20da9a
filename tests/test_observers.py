"""Behaviours as a composite, and observers chosen before the run.

An observed run is the same run; each observer records what it says; ``ccsim run``
simulates each replication once, its strain figure recorded in that one simulation.
"""

from __future__ import annotations

import cProfile
import dataclasses
import math
import pickle
import pstats
import re

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.experiment import SerialExecutor, Task, published_profile, run_experiment
from analysis.run_report import strain_day
from analysis.store import ReplicationStore
from sim.engine.behaviour import NULL, Behaviour
from sim.engine.status import Status
from sim.engine.streams import Streams
from sim.model import simulate
from sim.people.compose import Composite, build_behaviours, compose
from sim.people.observe import OBSERVERS, AgentTimeline, StrainProfile, observers
from sim.people.stress import Strain
from sim.regime.policy import Regime
from sim.scenario import load_scenario
from tests.golden.regenerate import SCENARIO, SEED

EVERYTHING = SCENARIO.parent / "everything.toml"
ALL = ("strain_trace", "break_strain", "quit_hazard", StrainProfile(step_minutes=5),
       AgentTimeline(day=1))


@pytest.fixture(scope="module")
def everything():
    """The everything-on golden scenario (regime, alerts, stress, absence, attrition), cold.

    Cold (no warm-up): on day 0 every person is at E = T = 0, which the hazard test uses.
    """
    return load_scenario(EVERYTHING).replace({"horizon.warmup_days": 0})


@pytest.fixture(scope="module")
def runs(everything):
    """(unobserved, observed by every observer) runs of the everything-on scenario."""
    return simulate(everything, seed=SEED), simulate(everything, seed=SEED, observe=ALL)


def test_an_observed_run_is_the_same_run(runs):
    """Every table and KPI of a run with all observers equals the run without: bit for bit."""
    plain, seen = runs
    assert plain.observed == {}
    assert set(seen.observed) == set(OBSERVERS)
    for f in dataclasses.fields(plain):
        a, b = getattr(plain, f.name), getattr(seen, f.name)
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=f.name)
    assert plain.kpis.keys() == seen.kpis.keys()
    for k, v in plain.kpis.items():  # NaN-safe exact equality
        assert v == seen.kpis[k] or (math.isnan(v) and math.isnan(seen.kpis[k])), k


def _profile_from_trace(s, trace: pd.DataFrame, step_s: float) -> pd.DataFrame:
    """The strain profile re-derived from the change-by-change trace (the old notebook way)."""
    st = Strain(s, 0, np.random.default_rng(0), lambda day: np.random.default_rng(day))
    h = s.horizon
    offsets = np.arange(0, h.hours * 3600 + 1, step_s)
    rows = []
    trace = trace.sort_values(["agent", "time_s"], kind="stable")
    for day in range(h.days):
        grid = day * 86_400 + h.open + offsets
        total, count = np.zeros(len(grid)), np.zeros(len(grid), dtype=int)
        for _, g in trace.groupby("agent"):
            t = g["time_s"].to_numpy()
            idx = np.searchsorted(t, grid, side="right") - 1
            for j, i in enumerate(idx):
                status = int(g["status"].iloc[i]) if i >= 0 else int(Status.LOGGED_OUT)
                if status == Status.LOGGED_OUT:
                    continue
                tau = st.tau[status]
                lt = (st.load[status] + st.threat_load * g["threat"].iloc[i]
                      + g["extra"].iloc[i]) * tau
                a = g["strain"].iloc[i]
                total[j] += lt + (a - lt) * math.exp(-(grid[j] - t[i]) / tau)
                count[j] += 1
        rows.append(pd.DataFrame({"day": day, "time_s": offsets + h.open,
                                  "strain": np.where(count > 0, total / np.maximum(count, 1),
                                                     np.nan), "agents": count}))
    return pd.concat(rows, ignore_index=True)


def test_strain_profile_is_the_trace_between_changes(everything, runs):
    """The profile, made on the fly, equals the strain law evaluated from the full trace."""
    _, seen = runs
    prof, trace = seen.observed["strain_profile"], seen.observed["strain_trace"]
    h = everything.horizon
    assert len(prof) == h.days * (h.hours * 60 // 5 + 1)
    expected = _profile_from_trace(everything, trace, 300.0)
    assert (prof["agents"].to_numpy() == expected["agents"].to_numpy()).all()
    assert np.allclose(prof["strain"], expected["strain"], rtol=1e-12, equal_nan=True)
    assert prof["agents"].max() > 0 and prof["strain"].notna().any()
    # the trace is one row per status change, as the status log has them
    changes = seen.statuses
    assert len(trace[trace["status"] != Status.LOGGED_OUT]) == len(changes)


def test_break_strain_is_the_trace_at_break_starts(runs):
    """break_strain holds the strain at each change to Not Ready - Break, in order."""
    _, seen = runs
    trace, brk = seen.observed["strain_trace"], seen.observed["break_strain"]
    at = trace[trace["status"] == Status.NOT_READY_BREAK]
    assert len(brk) > 0
    assert brk["strain"].tolist() == at["strain"].tolist()
    assert brk[["agent", "day", "time_s"]].values.tolist() == \
        at[["agent", "day", "time_s"]].values.tolist()


def test_agent_timeline_is_the_days_statuses_and_schedule(runs):
    """agent_timeline holds day 1's status spells and schedule segments, as the tables do."""
    _, seen = runs
    tl = seen.observed["agent_timeline"]
    st = seen.statuses[seen.statuses["day"] == 1]
    spells = tl[tl["layer"] == "status"]
    assert len(spells) == len(st) > 0
    assert spells["agent"].tolist() == st["agent"].tolist()
    assert spells["state"].tolist() == st["status"].astype(str).tolist()
    assert spells["start_s"].tolist() == st["start_s"].tolist()
    assert spells["end_s"].tolist() == st["end_s"].tolist()
    sched = seen.schedule[seen.schedule["day"] == 1]
    segs = tl[tl["layer"] == "schedule"]
    assert segs["state"].tolist() == sched["state"].astype(str).tolist()
    assert segs[["agent", "start_s", "end_s"]].values.tolist() == \
        sched[["agent", "start_s", "end_s"]].values.tolist()
    names = dict(zip(seen.agents["agent"], seen.agents["pseudonym"], strict=True))
    assert tl["pseudonym"].tolist() == [names[a] for a in tl["agent"]]


def test_quit_hazard_each_morning_of_an_occupied_seat(everything, runs):
    """One hazard per seat and morning not vacant; on day 0 (E = T = 0) the base hazard."""
    _, seen = runs
    hz = seen.observed["quit_hazard"]
    p = everything.stress
    base = 1 - (1 - p.quit_base_monthly) ** (12 / everything.schedule.days_per_year)
    day0 = hz[hz["day"] == 0]
    assert sorted(day0["agent"]) == list(range(10))
    assert np.allclose(day0["hazard"], base, rtol=1e-12)
    assert (hz["hazard"] >= base * (1 - 1e-12)).all() and (hz["hazard"] <= 1).all()
    vacant = seen.absences[seen.absences["reason"] == "quit"]
    quit_days = set(zip(vacant["agent"], vacant["day"], strict=True))
    starts = set(zip(vacant.loc[vacant["quit_start"], "agent"],
                     vacant.loc[vacant["quit_start"], "day"], strict=True))
    drawn = set(zip(hz["agent"], hz["day"], strict=True))
    # a seat is drawn for every morning it is held, including the morning its person quits
    assert drawn == {(a, d) for a in range(10) for d in range(everything.horizon.days)
                     if (a, d) not in quit_days or (a, d) in starts}


def test_observers_are_asked_for_by_name_and_checked(everything):
    """Unknown names, duplicates, observers without stress and observed test hooks fail."""
    with pytest.raises(ValueError, match="unknown observer 'strain'"):
        observers(["strain"])
    with pytest.raises(ValueError, match="at most once"):
        observers(["strain_profile", StrainProfile(5)])
    plain = load_scenario(SCENARIO)
    with pytest.raises(ValueError, match="stress.enabled"):
        simulate(plain, seed=SEED, observe=("strain_profile",))
    with pytest.raises(ValueError, match="stress.attrition"):
        simulate(everything.replace({"stress.attrition": False}), observe=("quit_hazard",))
    with pytest.raises(ValueError, match="built from the scenario"):
        simulate(plain, behaviours=[NULL] * 8, observe=("strain_trace",))
    with pytest.raises(ValueError, match=r"agent_timeline: day 9 is outside the horizon "
                       r"\(days 0 to 1\)"):
        simulate(plain, observe=(AgentTimeline(day=9),))
    task = Task(0, everything, SEED, 0, observe=("strain_profile", StrainProfile(1)))
    assert pickle.loads(pickle.dumps(task)) == task  # travels to any worker


class Part(Behaviour):
    """A part that notes each hook it gets in a shared journal."""

    def __init__(self, name, journal, status=False, handling=False, days=False):
        self.name, self.journal, self.hire = name, journal, 0
        self.watches_status, self.adjusts_handling, self.watches_days = status, handling, days

    def on_status(self, agent, old, new, now):
        """Note the change."""
        self.journal.append((self.name, "status"))

    def handling(self, agent, call, talk, acw):
        """Double the talk; add 0.1 to the chance of a repeat."""
        self.journal.append((self.name, "handling"))
        return 2 * talk, acw, 0.1

    def day_start(self, agent, day, presence):
        """Note the day."""
        self.journal.append((self.name, "day"))

    def defer_unplanned_break(self, agent, now):
        """Always put the break off."""
        return True

    def defer_break(self, now):
        """Note the strain of a deferral."""
        self.journal.append((self.name, "deferred"))


def test_composite_calls_each_hook_on_the_parts_that_ask_in_order():
    """Strain, then policy, then watchers; handling policy then strain; hooks bound once."""
    j: list = []
    pol = Part("policy", j, status=True, handling=True)
    st = Part("strain", j, status=True, handling=True, days=True)
    w = Part("watcher", j, status=True)
    c = compose(pol, st, [w])
    assert isinstance(c, Composite) and c.watches_status and c.watches_days
    c.on_status(None, 0, 1, 0.0)
    assert j == [("strain", "status"), ("policy", "status"), ("watcher", "status")]
    j.clear()
    assert c.handling(None, 0, 10.0, 5.0) == (40.0, 5.0, 0.2)
    assert j == [("policy", "handling"), ("strain", "handling")]
    j.clear()
    assert c.defer_unplanned_break(None, 0.0) is True and j == [("strain", "deferred")]
    j.clear()
    c.day_start(None, 0, None)
    assert j == [("strain", "day")]  # the policy does not watch days: not called
    j.clear()
    # one part adjusting handling, one watching status: each hook goes to its part alone
    lone = compose(Part("policy", j, status=True), Part("strain", j, handling=True))
    assert lone.handling(None, 0, 10.0, 5.0) == (20.0, 5.0, 0.1)
    lone.on_status(None, 0, 1, 0.0)
    assert j == [("strain", "handling"), ("policy", "status")]
    j.clear()
    pair = compose(Part("policy", j, status=True), Part("strain", j, status=True))
    pair.on_status(None, 0, 1, 0.0)
    assert j == [("strain", "status"), ("policy", "status")]
    assert type(pair) is not Composite  # two parts watching status: no loop (the hot path)


def test_null_and_single_parts_are_not_wrapped(everything):
    """No part: the shared NULL; one part: that part itself; observers only when asked."""
    assert compose() is NULL
    p = Part("p", [])
    assert compose(p) is p and compose(NULL, p) is p
    streams = Streams(SEED, 0)
    stress_only = load_scenario(SCENARIO).replace({"stress.enabled": True})
    assert not stress_only.policy_active
    people = build_behaviours(stress_only, streams)
    assert all(type(b) is Strain for b in people.behaviours)
    assert people.behaviours == people.strains
    regime = Regime(everything, streams)
    people = build_behaviours(everything, streams, regime)
    assert all(isinstance(b, Composite) and b.watchers == () for b in people.behaviours)
    assert [b.strain for b in people.behaviours] == people.strains
    watched = build_behaviours(everything, streams, Regime(everything, streams),
                               ("strain_profile",))
    assert all(len(b.watchers) == 1 for b in watched.behaviours)
    assert [r.name for r in watched.recorders] == ["strain_profile"]


def test_experiment_stores_observed_records_and_resumes_them(everything, tmp_path):
    """Records travel with each replication, are stored, and a resumed run reads them."""
    s = everything.replace({"horizon.days": 2})
    store = ReplicationStore(tmp_path / "reps")
    exp = run_experiment([s], SEED, 2, executor=SerialExecutor(), store=store,
                         observe=("strain_profile",))
    prof = exp.table("strain_profile")
    assert exp.ran == 2 and sorted(prof["replication"].unique()) == [0, 1]
    direct = simulate(s, seed=SEED, replication=1, observe=("strain_profile",))
    # stored without --individual: the profile as published (means over few agents blanked)
    pd.testing.assert_frame_equal(
        prof[prof["replication"] == 1].drop(columns=["scenario", "replication"])
        .reset_index(drop=True), published_profile(direct.observed["strain_profile"], s),
        check_exact=True)
    again = run_experiment([s], SEED, 2, executor=SerialExecutor(), store=store,
                           observe=("strain_profile",))
    assert again.ran == 0 and again.resumed == 2
    pd.testing.assert_frame_equal(again.table("strain_profile"), prof)
    curve, day, n = strain_day(again)
    last = prof[prof["day"] == 1].groupby("time_s")["strain"].mean()
    assert day == 1 and n == 2
    assert np.allclose(curve["mean"], last.to_numpy(), equal_nan=True)


def test_ccsim_run_simulates_each_replication_once(tmp_path):
    """Profiled, ``ccsim run`` with stress builds and collects one run per replication.

    The strain-over-day figure is in the report and the agent timeline is drawn all the
    same: both come from the records of those runs (before, the report and the timeline
    each built and ran replication 0 a second time).
    """
    out = tmp_path / "out"
    prof = cProfile.Profile()
    prof.enable()
    try:
        code = main(["run", str(EVERYTHING), "--days", "2", "--reps", "2", "--executor",
                     "serial", "--quiet", "--out", str(out), "--set", "horizon.warmup_days=5",
                     "--agent-timeline", "1", "--individual"])
    finally:
        prof.disable()
    assert code == 0
    calls = {fn: nc for (path, _, fn), (_, nc, *_) in pstats.Stats(prof).stats.items()
             if path.replace("\\", "/").endswith("sim/model.py")}
    # each replication's warm-up is simulated once (one segment of 5 days, nothing collected)
    assert calls.get("_warm_start") == 2, calls
    assert calls.get("build") == 2 + 2 and calls.get("collect") == 2, calls
    html = (out / "report.html").read_text()
    assert "strain_over_day" in set(re.findall(r'<img id="([^"]+)"', html))
    assert "Strain over day 1" in html
    # the agent timeline too is drawn from replication 0 as it ran (it is about individual
    # agents, so --individual is needed and it is stored with the agent-level tables)
    assert (out / "timeline-day1.png").stat().st_size > 0
    assert list(out.rglob("agent_timeline*"))
