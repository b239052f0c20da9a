"""Schedules: validation, the published plan, and conservation with random schedules."""

from __future__ import annotations

import textwrap
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.schedule import (
    CoverageWarning,
    _splice_day,
    build_plan,
    check_coverage,
    coverage,
    splice,
)
from sim.measure.adherence import REASONS, SHRINK
from sim.model import simulate
from sim.scenario import ScenarioError, format_clock, load_scenario, scenario_from_dict
from sim.scenario.vocab import ACTIVITY_KINDS
from tests.conftest import SCENARIOS, assert_statuses_tile, small_dict

GOOD = textwrap.dedent('''
    description = "d"
    rationale = "r"
    [horizon]
    open = "08:00"
    hours = 8
    interval_minutes = 60
    [demand]
    calls_per_day = 500
    profile = [1, 1, 1, 1, 1, 1, 1, 1]
    [staffing.shifts.early]
    start = "08:00"
    hours = 8
    agents = 6
    [schedule.activities.break1]
    kind = "break"
    minutes = 15
    window_minutes = [90, 150]
    [schedule.activities.lunch]
    kind = "lunch"
    minutes = 30
    window_minutes = [210, 270]
''')

BAD = [
    # (what is wrong, replacement applied to GOOD, expected fragments of the message)
    ("unknown kind", ('kind = "lunch"', 'kind = "nap"'),
     ["s.toml", "schedule.activities.lunch.kind", "'nap'", "break"]),
    ("outside the shift", ("window_minutes = [210, 270]", "window_minutes = [210, 470]"),
     ["s.toml", "schedule.activities.lunch", "500 minutes", "480 minutes", "inside the shift"]),
    ("overlap", ("window_minutes = [210, 270]", "window_minutes = [100, 270]"),
     ["schedule.activities.lunch", "overlapping schedule.activities.break1", "minute 100"]),
    ("break rule", ("minutes = 30", "minutes = 10"),
     ["schedule.activities", "'early'", "25 minutes", "min_break_minutes", "at least 30"]),
    ("both offset and window", ("window_minutes = [90, 150]",
                                "window_minutes = [90, 150]\noffset_minutes = 90"),
     ["schedule.activities.break1.offset_minutes", "exactly one"]),
    ("neither offset nor window", ("window_minutes = [90, 150]\n", ""),
     ["schedule.activities.break1.offset_minutes", "exactly one"]),
    ("window backwards", ("window_minutes = [90, 150]", "window_minutes = [150, 90]"),
     ["schedule.activities.break1.window_minutes", "[150.0, 90.0]"]),
    ("unknown shift", ("kind = \"break\"", 'kind = "break"\nshifts = ["late"]'),
     ["schedule.activities.break1.shifts", "'late'", "early"]),
    ("negative length", ("minutes = 15", "minutes = -15"),
     ["schedule.activities.break1.minutes", "-15", "greater than 0"]),
    ("bad stagger", ("kind = \"break\"", 'kind = "break"\nstagger = "random"'),
     ["schedule.activities.break1.stagger", "'random'", "even"]),
    ("per_year too often", ("kind = \"break\"", 'kind = "break"\nper_year = 400'),
     ["schedule.activities.break1.per_year", "400"]),
    ("login delay range", ("[schedule.activities.break1]",
                           "[behaviour]\nlogin_delay_min_s = 100\nlogin_delay_max_s = 50\n"
                           "[schedule.activities.break1]"),
     ["behaviour.login_delay_max_s", "50", "below"]),
    ("return probabilities", ("[schedule.activities.break1]",
                              "[behaviour.returns.lunch]\nlate_probability = 0.7\n"
                              "early_probability = 0.5\n[schedule.activities.break1]"),
     ["behaviour.returns.lunch.late_probability", "exceed 1"]),
    ("unknown grace state", ("[schedule.activities.break1]",
                             "[schedule.tolerance_by_state]\nnap = 5\n"
                             "[schedule.activities.break1]"),
     ["schedule.tolerance_by_state.nap", "on_queue"]),
]


@pytest.mark.parametrize("what,change,fragments", BAD, ids=[b[0] for b in BAD])
def test_bad_schedule_names_file_field_and_value(tmp_path, what, change, fragments):
    """Each malformed schedule gives one ScenarioError naming file, field and value."""
    old, new = change
    assert old in GOOD, f"test table is stale for {what!r}"
    p = tmp_path / "s.toml"
    p.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    msg = str(info.value)
    for frag in fragments:
        assert frag in msg, f"{what}: {frag!r} not in message:\n{msg}"


def test_good_schedule_loads_and_rule_can_be_switched_off(tmp_path):
    """The valid file loads; the break rule is the scenario's to state."""
    p = tmp_path / "s.toml"
    p.write_text(GOOD)
    s = load_scenario(p)
    assert set(s.schedule.activities) == {"break1", "lunch"}
    p.write_text(GOOD.replace("minutes = 30", "minutes = 10")
                 + "[schedule]\nmin_break_minutes = 20\n")
    assert load_scenario(p).schedule.min_break_minutes == 20


def test_stagger_spreads_starts_and_none_does_not(tmp_path):
    """Even stagger puts the shift's agents at distinct 5-minute steps across the window."""
    p = tmp_path / "s.toml"
    p.write_text(GOOD)
    s = load_scenario(p)
    plan = build_plan(s).table()
    lunch = plan[plan["activity"] == "lunch"]
    offs = (lunch["planned_start_s"] - 8 * 3600) / 60
    assert sorted(offs) == [210, 220, 230, 245, 255, 270]  # 60*j/5 rounded down to 5
    assert (offs % 5 == 0).all()
    flat = build_plan(s.replace({"schedule.activities.lunch.stagger": "none"})).table()
    assert (flat.loc[flat["activity"] == "lunch", "planned_start_s"] == 8 * 3600 + 210 * 60).all()


def test_per_year_activities_are_spread_over_days_and_agents(base):
    """ROS conversations 10 a year: over 46 days each agent has 2, on different days.

    At minutes 420-450 of the shift they fit only base's 8-hour shifts (its part-time
    shifts are shorter), so only those shifts' agents have them.
    """
    s = base.replace({"horizon.days": 46, "schedule.min_break_minutes": 0,
                      "schedule.activities": {"ros": {
                          "kind": "training", "minutes": 30, "offset_minutes": 420,
                          "per_year": 10}}})
    plan = build_plan(s).table()
    ros = plan[plan["activity"] == "ros"]
    per_agent = ros.groupby("agent").size()
    full_time = sum(sh.agents for sh in base.staffing.shifts.values() if sh.hours * 60 >= 450)
    assert 0 < full_time < sum(sh.agents for sh in base.staffing.shifts.values())
    assert len(per_agent) == full_time and (per_agent == 2).all()
    per_day = ros.groupby("day").size()
    assert per_day.max() - per_day.min() <= 6, per_day.describe()


def test_without_schedule_nothing_changes(small):
    """No schedule: on queue all shift, adherence 1, no shrinkage, no activity rows."""
    r = simulate(small, seed=5)
    assert len(r.activities) == 0 and len(r.breaks) == 0
    assert r.kpis["adherence"] == 1.0 and r.kpis["shrinkage"] == 0.0
    explicit = small.replace({"schedule": {}, "behaviour": {}})
    r2 = simulate(explicit, seed=5)
    np.testing.assert_equal(r2.kpis, r.kpis)  # NaN KPIs (nothing to measure) equal too
    assert r.calls.equals(r2.calls) and r.statuses.equals(r2.statuses)


def test_adding_an_agent_changes_no_other_agents_draws(base):
    """Each agent's deviations come from its own stream (shift name, index in shift)."""
    s = base.replace({"horizon.days": 1, "behaviour": {
        "login_delay_max_s": 240, "unplanned_breaks_per_hour": 0.5}})
    a = simulate(s, seed=2).agent_days
    n = base.staffing.shifts["mid"].agents
    b = simulate(s.replace({"staffing.shifts.mid.agents": n + 1}), seed=2).agent_days
    key = ["shift", "login_delay_s"]
    a_rows = a[key].astype({"shift": str})
    b_rows = b[key].astype({"shift": str})
    merged = b_rows[b_rows["shift"] != "mid"].reset_index(drop=True)
    assert merged.equals(a_rows[a_rows["shift"] != "mid"].reset_index(drop=True))
    assert a.loc[a["shift"] == "mid", "login_delay_s"].tolist() == \
        b.loc[b["shift"] == "mid", "login_delay_s"].tolist()[:n]


def test_coverage_check_warns_but_never_errors(base):
    """Everyone lunching at once leaves a gap the coverage check reports as a warning."""
    s = base.replace({"horizon.days": 1, "schedule.activities": {
        "lunch": {"kind": "lunch", "minutes": 60, "offset_minutes": 180},
    }, "schedule.min_break_minutes": 0})
    cov = coverage(s)
    assert {"required", "scheduled"} <= set(cov.columns)
    with pytest.warns(CoverageWarning, match="under-staffed"):
        msgs = check_coverage(s)
    assert any("11:00" in m for m in msgs)


# ---------------------------------------------------------------- property-based


@st.composite
def scheduled_scenarios(draw):
    """Small centres with random valid schedules and random deviations."""
    hours = draw(st.sampled_from([2, 3, 4]))
    shifts = {}
    for k in range(draw(st.integers(1, 2))):
        shifts[f"s{k}"] = {"start": format_clock(8 * 3600 + draw(st.integers(0, 4)) * 900),
                           "hours": hours, "agents": draw(st.integers(1, 5))}
    kinds = st.sampled_from(["break", "lunch", "meeting", "training", "manager_approved",
                             "deferred_transaction"])
    acts, at = {}, draw(st.integers(0, 30))
    for k in range(draw(st.integers(0, 4))):
        minutes = draw(st.integers(1, 30))
        width = draw(st.sampled_from([0, 10, 30]))
        if at + width + minutes > hours * 60:
            break
        a = {"kind": draw(kinds), "minutes": minutes}
        if width == 0:
            a["offset_minutes"] = at
        else:
            a["window_minutes"] = [at, at + width]
            a["stagger"] = draw(st.sampled_from(["even", "none"]))
        if draw(st.booleans()):
            a["keep_length"] = draw(st.booleans())
        if draw(st.integers(0, 4)) == 0:
            a["per_year"] = 100
        acts[f"a{k}"] = a
        at += width + minutes + draw(st.integers(0, 20))
    late = {"late_probability": 0.5, "early_probability": 0.3,
            "late": {"distribution": "exponential", "mean_s": 200}}
    behaviour = {
        "login_delay_max_s": draw(st.sampled_from([0, 240])),
        "unplanned_breaks_per_hour": draw(st.sampled_from([0, 1.0, 4.0])),
        "returns": {k: late for k in draw(st.lists(kinds, max_size=3))},
    }
    return scenario_from_dict(small_dict(
        horizon={"days": draw(st.integers(1, 2)), "open": "08:00", "hours": 4,
                 "interval_minutes": 60},
        demand={"calls_per_day": draw(st.floats(20, 400)), "profile": [1, 2, 2, 1]},
        calls={"patience": {"distribution": "exponential", "mean_s": 120},
               "acw_callout": draw(st.booleans())},
        staffing={"shifts": shifts},
        schedule={"activities": acts, "days_per_year": 200,
                  "tolerance_s": draw(st.sampled_from([0, 60])),
                  "tolerance_by_state": draw(st.sampled_from([{}, {"lunch": 300,
                                                                   "on_queue": 0}]))},
        behaviour=behaviour,
    ))


#: statuses that adhere to each schedule state (written out here, not taken from sim/)
ADHERES = {"on_queue": {"Ready", "Talk", "After Call Work"}, "break": {"Not Ready - Break"},
           "lunch": {"Not Ready - Lunch"}, "meeting": {"Not Ready - Meeting"},
           "training": {"Not Ready - Training"},
           "manager_approved": {"Not Ready - Manager Approved"},
           "deferred_transaction": {"Not Ready - Deferred Transaction"}}


def overlap(a0, a1, b0, b1) -> float:
    """Total length of the intersections of intervals [a0, a1) with intervals [b0, b1)."""
    a0, a1, b0, b1 = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (a0, a1, b0, b1))
    if not (len(a0) and len(b0)):
        return 0.0
    d = np.minimum(a1[:, None], b1[None, :]) - np.maximum(a0[:, None], b0[None, :])
    return float(np.clip(d, 0.0, None).sum())


def check_losses_per_agent_day(r, scenario) -> None:
    """Each agent-day's time out of adherence, and each reason for it, recomputed by hand.

    Per schedule segment [s0, s1) the counted window is [s0 + grace(state), s1): time in it
    not spent in a status of the scheduled state is lost. The reasons, per agent-day:
    log-in delay = counted time before log-in; unplanned break = counted time in an
    unplanned break outside a scheduled break; early return = counted time on queue in an
    activity's segment after the activity actually ended; call + late return = counted
    time in some *other* planned activity, plus counted time on queue in an activity's
    segment before it ended (or when it was never taken: missed). Nothing is left over
    for "other": every lost second of an agent-day is explained by that agent-day's own
    log, activities (missed ones included) and breaks.
    """
    s, ad, acts, sched = r.statuses, r.agent_days, r.activities, r.schedule
    tol = scenario.schedule.tolerance
    taken_breaks = r.breaks.dropna(subset=["start_s"])
    for row in ad.itertuples():
        key = (row.agent, row.day)
        sp = s[(s["agent"] == row.agent) & (s["day"] == row.day)]
        sg = sched[(sched["agent"] == row.agent) & (sched["day"] == row.day)]
        ac = acts[(acts["agent"] == row.agent) & (acts["day"] == row.day)]
        br = taken_breaks[(taken_breaks["agent"] == row.agent) &
                          (taken_breaks["day"] == row.day)]
        label = sp["status"].astype(str).to_numpy()
        sp0, sp1 = sp["start_s"].to_numpy(), sp["end_s"].to_numpy()
        onq = np.isin(label, list(ADHERES["on_queue"]))
        # planned-activity spells: they start when an activity taken started
        took = ac[ac["actual_end_s"] > ac["actual_start_s"]]
        planned = np.isin(sp0, took["actual_start_s"].to_numpy()) & ~onq
        total = login = unpl = early = call_late = 0.0
        for g in sg.itertuples():
            state = str(g.state)
            w0, w1 = min(g.start_s + tol(state), g.end_s), g.end_s
            ok = np.isin(label, list(ADHERES[state]))
            total += (w1 - w0) - overlap(w0, w1, sp0[ok], sp1[ok])
            login += overlap(w0, w1, row.shift_start_s, row.login_s)
            if state != "break":
                unpl += overlap(w0, w1, br["start_s"], br["end_s"])
            call_late += overlap(w0, w1, sp0[planned & ~ok], sp1[planned & ~ok])
            if state != "on_queue":
                a = ac[(ac["planned_start_s"] == g.start_s) & (ac["planned_end_s"] == g.end_s)]
                assert len(a) == 1, f"{key}: segment {g} is not one planned activity"
                end = a["actual_end_s"].iloc[0]
                end = np.inf if np.isnan(end) else end
                call_late += overlap(w0, min(w1, max(w0, end)), sp0[onq], sp1[onq])
                early += overlap(max(w0, min(w1, end)), w1, sp0[onq], sp1[onq])
        got = {"total": row.scheduled_s - row.in_adherence_s, "login": row.lost_login_delay_s,
               "unplanned": row.lost_unplanned_break_s, "early": row.lost_early_return_s,
               "call+late": row.lost_call_s + row.lost_late_return_s,
               "other": row.lost_other_s}
        want = {"total": total, "login": login, "unplanned": unpl, "early": early,
                "call+late": call_late, "other": 0.0}
        bad = {k: (got[k], want[k]) for k in got if abs(got[k] - want[k]) > 1e-6}
        assert not bad, f"agent-day {key}: (model, recomputed) {bad}"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scheduled_scenarios(), seed=st.integers(0, 2**31))
def test_random_schedules_conserve_time_and_activities(scenario, seed):
    """Statuses tile logged-in time; no planned activity is lost; adherence adds up.

    Every planned activity is taken, shortened, displaced or recorded as missed.
    """
    r = simulate(scenario, seed=seed)
    s, ad, acts = r.statuses, r.agent_days, r.activities
    assert_statuses_tile(s, ad)
    # ACW spells are exactly the wrap-up the calls record (cut short or not)
    c = r.calls[r.calls["outcome"] == "answered"]
    acw_spells = s.loc[s["status"] == "After Call Work", "duration_s"]
    assert abs(acw_spells.sum() - c["acw_s"].sum()) < 1e-6
    assert (c["acw_s"] >= 0).all()
    # every plan row has exactly one outcome; taken ones are spells of the right status
    plan = build_plan(scenario)
    assert len(acts) == len(plan)
    assert acts["outcome"].notna().all()
    spells = set(zip(s["agent"], s["start_s"], s["end_s"], s["status"].astype(str),
                     strict=True))
    label = {"break": "Not Ready - Break", "lunch": "Not Ready - Lunch",
             "meeting": "Not Ready - Meeting", "training": "Not Ready - Training",
             "manager_approved": "Not Ready - Manager Approved",
             "deferred_transaction": "Not Ready - Deferred Transaction"}
    for a in acts[acts["outcome"] != "missed"].itertuples():
        assert a.actual_start_s >= a.planned_start_s
        assert (a.agent, a.actual_start_s, a.actual_end_s, label[a.kind]) in spells
    # unplanned breaks taken are Not Ready - Break spells too
    for b in r.breaks.dropna().itertuples():
        assert (b.agent, b.start_s, b.end_s, "Not Ready - Break") in spells
        assert b.start_s >= b.need_s
    # every Not Ready spell is a planned activity or an unplanned break
    nr = s[~s["status"].isin(["Ready", "Talk", "After Call Work"])]
    assert len(nr) == (acts["outcome"] != "missed").sum() + r.breaks["start_s"].notna().sum()
    # adherence bookkeeping
    assert np.allclose(ad["scheduled_s"], ad["shift_end_s"] - ad["shift_start_s"])
    lost = sum(ad[f"lost_{x}_s"] for x in REASONS)
    assert np.allclose(ad["scheduled_s"] - ad["in_adherence_s"], lost, atol=1e-6)
    assert (ad[[f"lost_{x}_s" for x in REASONS]] >= -1e-9).all().all()
    check_losses_per_agent_day(r, scenario)
    shrink = sum(ad[f"shrink_{x}_s"] for x in SHRINK)
    assert np.allclose(ad["on_queue_in_shift_s"] + shrink, ad["scheduled_s"], atol=1e-6)
    assert ((ad["adherence"] >= 0) & (ad["adherence"] <= 1 + 1e-12)).all()
    assert 0 <= r.kpis["adherence"] <= 1
    iv = r.intervals
    assert (iv["agents_in_adherence"] <= iv["agents_scheduled"] + 1e-9).all()


def test_validation_scenarios_have_no_schedule():
    """The Erlang validation systems run without schedules or deviations (so theory holds)."""
    for f in sorted((SCENARIOS / "validation").glob("*.toml")):
        s = load_scenario(f)
        assert not s.schedule.activities, f
        assert s.behaviour.login_delay_max_s == 0 and s.behaviour.unplanned_breaks_per_hour == 0


def _segments(rows: list[tuple]) -> pd.DataFrame:
    """A schedule's segments (agent, day, start_s, end_s, state, row) as splice reads them."""
    return pd.DataFrame(rows, columns=["agent", "day", "start_s", "end_s", "state", "row"]
                        ).astype({"start_s": float, "end_s": float})


def _spans(rows: list[tuple]) -> pd.DataFrame:
    """Imposed activities (agent, day, start_s, end_s, status label)."""
    return pd.DataFrame(rows, columns=["agent", "day", "start_s", "end_s", "status"]
                        ).astype({"start_s": float, "end_s": float})


def test_splice_enters_overlapping_and_separate_spans_as_written_by_hand():
    """Overlapping spans go in one at a time, the later over the earlier; separate ones at once."""
    meeting = 1 + ACTIVITY_KINDS.index("meeting")
    training = 1 + ACTIVITY_KINDS.index("training")
    segs = _segments([(1, 0, 0, 100, 0, 0), (1, 0, 100, 200, 1, 1), (1, 0, 200, 300, 0, 2),
                      (2, 0, 0, 100, 0, 3), (2, 0, 100, 300, 0, 4),
                      (3, 0, 0, 300, 0, 5)])  # agent 3: no span, kept as it is
    spans = _spans([(1, 0, 50, 150, "Not Ready - Meeting"),
                    (1, 0, 120, 250, "Not Ready - Training"),  # overlaps the meeting
                    (2, 0, 20, 40, "Not Ready - Meeting"),
                    (2, 0, 250, 400, "Not Ready - Training"),  # cut at the day's end
                    (2, 1, 0, 50, "Not Ready - Meeting")])  # a day not in the schedule
    got = splice(segs, spans)
    want = _segments([(1, 0, 0, 50, 0, 0), (1, 0, 50, 120, meeting, -1),
                      (1, 0, 120, 250, training, -1), (1, 0, 250, 300, 0, 2),
                      (2, 0, 0, 20, 0, 3), (2, 0, 20, 40, meeting, -1), (2, 0, 40, 100, 0, 3),
                      (2, 0, 100, 250, 0, 4), (2, 0, 250, 300, training, -1),
                      (3, 0, 0, 300, 0, 5)])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 30), st.integers(1, 12),
                          st.sampled_from(["Not Ready - Meeting", "Not Ready - Training"])),
                max_size=8),
       st.lists(st.integers(1, 29), max_size=4, unique=True))
def test_splice_at_once_equals_one_span_at_a_time(raw, cuts):
    """Every agent-day spliced together equals each day's spans entered one at a time."""
    bounds = [0, *sorted(cuts), 30]
    segs = _segments([(a, 0, 10 * s, 10 * e, 0, 10 * a + k)
                      for a in range(3) for k, (s, e) in enumerate(pairwise(bounds))])
    spans = _spans([(a, 0, 10 * s, 10 * (s + n), label) for a, s, n, label in raw])
    got = splice(segs, spans).reset_index(drop=True)
    state = {"Not Ready - Meeting": 1 + ACTIVITY_KINDS.index("meeting"),
             "Not Ready - Training": 1 + ACTIVITY_KINDS.index("training")}
    parts = []
    for a in range(3):
        mine = segs[segs["agent"] == a]
        sp = spans[(spans["agent"] == a) & (spans["end_s"] > spans["start_s"])]
        cols = [mine[c].to_numpy() for c in mine.columns]
        parts.append(pd.DataFrame(dict(zip(segs.columns, _splice_day(
            cols, sp["start_s"].tolist(), sp["end_s"].tolist(),
            [state[s] for s in sp["status"]]) if len(sp) else cols, strict=True))))
    want = pd.concat(parts, ignore_index=True).astype(segs.dtypes.to_dict())
    pd.testing.assert_frame_equal(got, want)
