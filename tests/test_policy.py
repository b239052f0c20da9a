"""The measurement regime: teams, the supervisor's review, chases, warnings, responses.

The chat cases of CASE.md are hand-made days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.stats import paired_difference, t_interval
from sim.engine.behaviour import NULL
from sim.engine.demand import DayCalls
from sim.model import build, collect, run, simulate
from sim.regime.policy import team_of
from sim.scenario import load_scenario, scenario_from_dict
from tests.conftest import SCENARIOS, small_dict

DAY = 86_400.0
T0 = 8 * 3600.0


def agent_days_scenario(days: int, behaviour: dict, adherence: dict, level="individual",
                        feedback="punitive", **changes):
    """One agent, 08:00-12:00 for ``days`` days, a 30-minute lunch at 10:00, no calls."""
    return scenario_from_dict(small_dict(
        horizon={"days": days, "open": "08:00", "hours": 4, "interval_minutes": 60},
        demand={"calls_per_day": 1, "profile": [1, 1, 1, 1]},
        staffing={"shifts": {"a": {"start": "08:00", "hours": 4, "agents": 1}}},
        schedule={"min_break_minutes": 0, "tolerance_s": 60, "activities": {
            "lunch": {"kind": "lunch", "minutes": 30, "offset_minutes": 120}}},
        behaviour=behaviour,
        measurement={"level": level, "adherence": adherence},
        monitoring={"feedback": feedback},
        **changes,
    ))


def no_calls(days: int) -> list[DayCalls]:
    """Days without a single call (the agent's day is only its schedule)."""
    empty = np.zeros(0)
    return [DayCalls(d, 1.0, empty, empty, empty, empty) for d in range(days)]


def actions(r, what: str) -> pd.DataFrame:
    """The regime's actions of one kind."""
    return r.actions[r.actions["action"] == what]


def test_teams_fill_each_shift_in_roster_order():
    """Four agents a team, per shift: a has 6 agents (teams 0, 1), b has 4 (team 2)."""
    s = scenario_from_dict(small_dict(teams={"size": 4}))
    assert team_of(s).tolist() == [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
    assert simulate(s, seed=1).agents["team"].tolist() == [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
    assert set(team_of(scenario_from_dict(small_dict()))) == {0}


def test_without_a_regime_nothing_is_built():
    """Level "none": no regime, the null behaviour, no actions.

    The golden run pins the rest: results identical to the model without the layer.
    """
    s = scenario_from_dict(small_dict())
    r = build(s, 1)
    assert r.regime is None and all(a.behaviour is NULL for a in r.agents)
    run(r)
    res = collect(r)
    assert len(res.actions) == 0 and res.kpis["warnings_per_agent"] == 0


@pytest.mark.parametrize("excused", [False, True])
def test_login_delay_is_chased_unless_excused(excused):
    """CASE.md: a 4-minute log-in (the system's delay) breaches a 2-minute rule.

    It is chased after the day and talked about at the next log-in; excused, nothing happens.
    """
    s = agent_days_scenario(
        2, {"login_delay_min_s": 240, "login_delay_max_s": 240},
        {"exception_threshold_s": 120, "excused": ["login_delay"] if excused else []})
    r = simulate(s, seed=1, calls=no_calls(2))
    chases = actions(r, "chase")
    if excused:
        assert len(chases) == 0 and len(r.imposed) == 0
        assert (r.exceptions["excused"]).all() and not r.exceptions["breach"].any()
        return
    # one breach a day: 240 s logged out, 60 s of it forgiven after the shift start
    assert chases["day"].tolist() == [0, 1]
    assert (chases["reason"] == "login_delay").all()
    assert chases["detail"].iloc[0] == "180 s out of adherence"
    # the day-0 chase is a 2-minute talk at day 1's log-in (after its 240 s delay)
    im = r.imposed
    assert im["day"].tolist() == [1] and im["reason"].tolist() == ["chase"]
    assert im["start_s"].iloc[0] == pytest.approx(DAY + T0 + 240)
    assert im["end_s"].iloc[0] - im["start_s"].iloc[0] == pytest.approx(120)
    # the talk is a schedule exception the supervisor entered: it costs no adherence
    d1 = r.agent_days.set_index("day").loc[1]
    assert d1["lost_login_delay_s"] == pytest.approx(180)
    assert d1["in_adherence_s"] == pytest.approx(4 * 3600 - 180)


@pytest.mark.parametrize("feedback", ["punitive", "developmental"])
def test_long_lunch_is_an_exception_and_the_third_a_warning(feedback):
    """CASE.md: lunch 31:12 against 30:00 with 60 s tolerance loses 12 s.

    With a rule "to the second" (threshold 0) each is a breach, and three in the window
    make a warning (punitive) or a coaching talk (developmental, never chased).
    """
    s = agent_days_scenario(
        4, {"returns": {"lunch": {"late_probability": 1.0,
                                  "late": {"distribution": "fixed", "mean_s": 72}}}},
        {"exception_threshold_s": 0, "warning_after": 3}, feedback=feedback)
    r = simulate(s, seed=1, calls=no_calls(4))
    exc = r.exceptions
    assert len(exc) == 4 and (exc["reason"] == "late_return").all()
    assert np.allclose(exc["counted_s"], 12.0)
    talk = "warning" if feedback == "punitive" else "coaching"
    assert actions(r, talk)["day"].tolist() == [2]
    assert len(actions(r, "chase")) == (4 if feedback == "punitive" else 0)
    assert actions(r, talk)["reason"].tolist() == ["agent"]  # late returns are the agent's
    kpi = r.kpis["warnings_per_agent"]
    assert kpi == (1.0 if feedback == "punitive" else 0.0)
    # the conversation happens at day 3's log-in, off queue for 15 minutes
    im = r.imposed[r.imposed["reason"] == talk]
    assert im["day"].tolist() == [3]
    assert im["end_s"].iloc[0] - im["start_s"].iloc[0] == pytest.approx(15 * 60)


@pytest.fixture(scope="module")
def short_regimes():
    """Base and the policy scenarios over 2 days, 4 replications each."""
    out = {}
    for name in ("../base", "individual-strict", "team-level", "voluntary-agreement"):
        s = load_scenario(SCENARIOS / "policy" / f"{name}.toml").replace({"horizon.days": 2})
        out[name] = [simulate(s, seed=7, replication=k) for k in range(4)]
    return out


def test_supervisor_sees_what_the_report_shows(short_regimes):
    """The daily review uses the end-of-run measure: its exceptions equal the report's."""
    s = load_scenario(SCENARIOS / "policy" / "individual-strict.toml").replace(
        {"horizon.days": 2})
    r = build(s, 7, 0)
    run(r)
    def in_order(df):
        return df.sort_values(["agent", "day", "start_s"], kind="stable").reset_index(drop=True)

    seen = in_order(r.regime.exceptions_seen())
    res = collect(r)
    assert len(seen) > 0
    pd.testing.assert_frame_equal(seen, in_order(res.exceptions))
    # and every breach of an agent the leader can see was chased
    assert len(actions(res, "chase")) == int(res.exceptions["breach"].sum())


def test_individual_policing_warns_more_than_team_level(short_regimes):
    """individual-strict gives warnings; team-level cannot (no individual data)."""
    strict = t_interval([r.kpis["warnings_per_agent"] for r in short_regimes["individual-strict"]])
    team = [r.kpis["warnings_per_agent"] for r in short_regimes["team-level"]]
    assert team == [0.0] * 4
    assert strict.ci_low > 0, strict


def test_voluntary_without_sharing_gives_the_manager_nothing():
    """share_probability 0: no individual data reaches the manager, so no action at all."""
    s = load_scenario(SCENARIOS / "policy" / "voluntary-agreement.toml").replace(
        {"horizon.days": 2, "measurement.share_probability": 0.0})
    r = simulate(s, seed=3)
    assert len(r.actions) == 0 and r.kpis["warnings_per_agent"] == 0
    assert r.exceptions["breach"].any(), "the breaches are there; nobody sees them"


def test_individual_policing_lowers_unplanned_breaks_taken(short_regimes):
    """Agents policed individually put breaks off: fewer unplanned breaks are taken."""
    def taken(r):
        return r.breaks["duration_s"].notna().sum() / len(r.agent_days)

    diff = paired_difference([taken(r) for r in short_regimes["../base"]],
                             [taken(r) for r in short_regimes["individual-strict"]])
    assert diff.ci_high < 0, diff
    assert all(r.kpis["breaks_deferred_per_agent"] > 0
               for r in short_regimes["individual-strict"])


@pytest.fixture(scope="module")
def aht_pair():
    """aht-target.toml and the same without the target, 3 days, 3 paired replications."""
    a = load_scenario(SCENARIOS / "policy" / "aht-target.toml").replace({"horizon.days": 3})
    b = a.replace({"targets.aht_s": None})
    return ([simulate(b, seed=7, replication=k) for k in range(3)],
            [simulate(a, seed=7, replication=k) for k in range(3)])


def test_individual_aht_target_lowers_aht_and_raises_repeat_calls(aht_pair):
    """Stylised fact 6: shorter calls, more callers calling again."""
    base, target = aht_pair
    aht = paired_difference([r.kpis["aht_s"] for r in base], [r.kpis["aht_s"] for r in target])
    rep = paired_difference([r.kpis["repeat_call_rate"] for r in base],
                            [r.kpis["repeat_call_rate"] for r in target])
    assert aht.ci_high < 0, aht
    assert rep.ci_low > 0, rep
    assert all(r.kpis["released_rate"] > 0 for r in target)
    assert all(r.kpis["released_rate"] == 0 for r in base)


def test_repeat_calls_come_later_in_opening_hours_and_keep_first_calls(aht_pair):
    """A repeat comes after the call it repeats, inside opening hours.

    Adding repeats changes no first call (common random numbers).
    """
    base, _ = aht_pair
    r = base[0]
    c = r.calls
    rep = c[c["repeat_of"] >= 0]
    assert len(rep) > 0
    orig = c.set_index("call").loc[rep["repeat_of"].to_numpy()]
    assert (orig["outcome"] == "answered").all()
    assert (rep["arrival_s"].to_numpy() > (orig["answered_s"] + orig["talk_s"]).to_numpy()).all()
    since = rep["arrival_s"] - rep["day"] * DAY - T0  # inside the day's opening hours
    assert ((since >= 0) & (since < 12 * 3600)).all()
    s = load_scenario(SCENARIOS / "policy" / "aht-target.toml").replace(
        {"horizon.days": 3, "targets.aht_s": None, "calls.repeat_probability": 0.0})
    none = simulate(s, seed=7, replication=0).calls
    first = c[c["repeat_of"] < 0]
    assert len(first) == len(none)
    for col in ("arrival_s", "patience_s"):
        assert np.array_equal(first[col].to_numpy(), none[col].to_numpy()), col


def test_repeats_from_closed_hours_come_as_the_days_calls_come():
    """A repeat that falls while the centre is closed comes as the day's calls come.

    It is placed in the next opening at a time drawn from the demand profile, not all in
    its first hour (the inverse of the profile's distribution, by hand and on a run).
    """
    from sim.engine.repeats import _inverse_profile

    w = [1.0, 3.0, 0.0, 4.0]
    cum = list(np.cumsum(w) / 8)
    weights = [x / 8 for x in w]
    assert _inverse_profile(cum, weights, 900.0, 0.0) == 0.0
    assert _inverse_profile(cum, weights, 900.0, 0.0625) == pytest.approx(450.0)
    assert _inverse_profile(cum, weights, 900.0, 0.25) == pytest.approx(1200.0)
    assert _inverse_profile(cum, weights, 900.0, 0.5) == pytest.approx(2700.0)  # skips 0
    assert _inverse_profile(cum, weights, 900.0, 0.75) == pytest.approx(3150.0)
    assert _inverse_profile(cum, weights, 900.0, 0.999999) < 3600.0
    s = load_scenario(SCENARIOS / "base.toml").replace(
        {"horizon.days": 4, "calls.repeat_probability": 0.3})
    c = simulate(s, seed=3).calls
    rep = c[c["repeat_of"] >= 0]
    since = (rep["arrival_s"] - rep["day"] * DAY - T0).to_numpy()
    first = c[(c["repeat_of"] < 0) & (c["day"] > 0)]
    first_since = (first["arrival_s"] - first["day"] * DAY - T0).to_numpy()
    # the first opening hour gets about its share of the day's calls, not every overnight
    # repeat: its share of repeats within 1.5x of its share of first calls
    assert (since < 3600).mean() < 1.5 * (first_since < 3600).mean()
    assert (since >= 11 * 3600).mean() > 0


def test_new_fields_reject_bad_values():
    """Every field of the regime refuses a bad value with one clear error naming it."""
    from sim.scenario import ScenarioError
    bad = [("measurement.level", "strict"), ("measurement.share_probability", 1.5),
           ("measurement.adherence.convention", "sometimes"),
           ("measurement.adherence.excused", ["coffee"]),
           ("measurement.adherence.exception_threshold_s", -1),
           ("measurement.adherence.warning_after", 0), ("teams.size", -2),
           ("monitoring.feedback", "harsh"), ("targets.aht_s", 0),
           ("targets.aht_applies_to", "everyone"), ("calls.repeat_probability", 2),
           ("responses.aht_talk_factor", 0), ("monitoring.recording", "video"),
           ("monitoring.recorded_share", -0.1), ("monitoring.break_control", "free"),
           ("targets.quality", 1.5), ("stress.tau_work_h", 0), ("stress.noise_sd", -1),
           ("stress.hostile_probability", 2), ("closing.rule", "later"),
           ("closing.max_overtime_minutes", -5), ("monitoring.alert_tolerance_s", -1),
           ("monitoring.realtime_alerts", "yes"), ("monitoring.league_table", 1),
           ("monitoring.league_table_days", 0), ("targets.service_level", 0),
           ("targets.service_level_interval", 1.5), ("targets.abandon_rate", 2),
           ("targets.adherence", 1.01), ("targets.adherence_applies_to", "nobody")]
    base = load_scenario(SCENARIOS / "base.toml")
    for field, value in bad:
        with pytest.raises(ScenarioError) as err:
            base.replace({field: value})
        assert field in str(err.value), (field, str(err.value))


@pytest.mark.parametrize("name", ["copc", "listen-in-only", "telenor-tmr"])
def test_monitoring_does_what_the_scenario_says(name):
    """Recorded share, evaluations per agent-month and feedback follow the section.

    Counts are checked against 99% intervals (Poisson for evaluations, binomial for the
    recorded share) over three replications of three days.
    """
    s = load_scenario(SCENARIOS / "policy" / f"{name}.toml").replace({"horizon.days": 3})
    runs = [simulate(s, seed=2026, replication=k) for k in range(3)]
    mon = s.monitoring
    months = 3 / (s.schedule.days_per_year / 12)
    n_ev = sum(len(r.evaluations) for r in runs)
    expected = (mon.evaluations_per_agent_month + mon.listen_in_per_agent_month) * \
        sum(r.agent_days["agent"].nunique() for r in runs) * months
    assert abs(n_ev - expected) < 2.58 * np.sqrt(expected), (n_ev, expected)
    share = mon.recorded_share if mon.recording != "none" else 0.0
    for r in runs:
        ev = r.evaluations
        ans = r.calls["outcome"] == "answered"
        n = int(ans.sum())
        rec = r.calls.loc[ans, "recorded"].mean()
        assert abs(rec - share) <= 2.58 * np.sqrt(share * (1 - share) / n) + 1e-12
        if mon.recording == "none":
            assert (ev["kind"] == "listen_in").all()
            assert r.kpis["monitored_share"] == pytest.approx(ev["call"].nunique() / n)
        else:
            assert set(ev["kind"]) == {"recorded"}
            assert r.calls.set_index("call").loc[ev["call"], "recorded"].all()
        # every scored call was answered by the agent it is credited to
        c = r.calls.set_index("call").loc[ev["call"]]
        assert (c["agent"].to_numpy() == ev["agent"].to_numpy()).all()
        acts = r.actions["action"].value_counts()
        if mon.feedback == "developmental":
            # a feedback talk after each score the supervisor may discuss with the agent
            assert acts.get("feedback", 0) == len(ev) and acts.get("quality_breach", 0) == 0
        else:
            below = int((ev["score"] < s.targets.quality).sum())
            assert acts.get("quality_breach", 0) == below > 0 and acts.get("feedback", 0) == 0


def test_team_days_add_up_and_hide_small_groups():
    """Team-day figures are the sums of their agents' days.

    Groups under min_group are blanked, head count too, so that no individual can be
    singled out (complementary suppression: tests/test_privacy.py).
    """
    s = load_scenario(SCENARIOS / "policy" / "individual-strict.toml").replace(
        {"horizon.days": 2, "teams.size": 7, "teams.min_group": 5})
    r = simulate(s, seed=1)
    td, ad = r.team_days, r.agent_days
    team = r.agents.set_index("agent")["team"]
    sizes = team.value_counts()
    assert (sizes < 5).any(), "the case needs a small team"
    for row in td.itertuples():
        mine = ad[(team.loc[ad["agent"]].to_numpy() == row.team) & (ad["day"] == row.day)]
        if len(mine) < 5 or row.suppressed:
            assert row.suppressed and np.isnan(row.agents) and np.isnan(row.adherence) \
                and np.isnan(row.chases)
            continue
        assert row.agents == len(mine)
        assert row.in_adherence_s == pytest.approx(mine["in_adherence_s"].sum())
        assert row.adherence == pytest.approx(mine["in_adherence_s"].sum()
                                              / mine["scheduled_s"].sum())
        acts = r.actions[(r.actions["team"] == row.team) & (r.actions["day"] == row.day)]
        assert row.chases == (acts["action"] == "chase").sum()


def mixed_causes(realtime: bool, feedback: str):
    """One agent, 5 days: a 4-minute log-in each day, a lunch (returned 72 s late) on day 4.

    The log-in delay is the system's (``SYSTEM_REASONS``), the late return the agent's.
    The lunch is planned only on day 4 (``per_year``: every 8th working day, the first at
    day 4); to the second (threshold 0), each is a breach: 180 s and 12 s counted after
    the 60 s grace. Six breaches make a talk, so the talk comes on day 4: in real time at
    the late return (10:31:00), the sixth breach; under the review after day 4.
    """
    return scenario_from_dict(small_dict(
        horizon={"days": 5, "open": "08:00", "hours": 4, "interval_minutes": 60},
        demand={"calls_per_day": 1, "profile": [1, 1, 1, 1]},
        staffing={"shifts": {"a": {"start": "08:00", "hours": 4, "agents": 1}}},
        schedule={"min_break_minutes": 0, "tolerance_s": 60, "days_per_year": 240,
                  "activities": {"lunch": {"kind": "lunch", "minutes": 30,
                                           "offset_minutes": 120, "per_year": 30}}},
        behaviour={"login_delay_min_s": 240, "login_delay_max_s": 240,
                   "returns": {"lunch": {"late_probability": 1.0,
                                         "late": {"distribution": "fixed", "mean_s": 72}}}},
        measurement={"level": "individual",
                     "adherence": {"exception_threshold_s": 0, "warning_after": 6}},
        # the alerts' grace is the schedule's 60 s either way (set only where alerts exist)
        monitoring={"feedback": feedback, "realtime_alerts": realtime,
                    **({"alert_tolerance_s": 60} if realtime else {})},
    ))


@pytest.mark.parametrize("feedback", ["punitive", "developmental"])
@pytest.mark.parametrize("realtime", [False, True])
def test_a_talk_is_labelled_by_the_breaches_behind_it(realtime, feedback):
    """A warning (or coaching talk) is labelled by the majority of the breaches behind it.

    Behind the talk of day 4 are five log-in delays (days 0-4, the system's) and one late
    return (day 4, the agent's): 5 of 6 outside the agent's control, so "system", not
    the day's own half-and-half. The end-of-day review and the real-time screen agree.
    """
    r = simulate(mixed_causes(realtime, feedback), seed=1, calls=no_calls(5))
    b = r.exceptions[r.exceptions["breach"]]
    assert b["day"].tolist() == [0, 1, 2, 3, 4, 4]
    assert b["reason"].astype(str).tolist() == ["login_delay"] * 5 + ["late_return"]
    talk = actions(r, "warning" if feedback == "punitive" else "coaching")
    assert talk["day"].tolist() == [4]
    assert talk["reason"].tolist() == ["system"]
    assert talk["detail"].tolist() == ["6 breaches; 83% outside the agent's control"]
    if realtime:  # at the sixth breach, the late return from lunch
        assert talk["time_s"].iloc[0] == pytest.approx(4 * DAY + T0 + 150 * 60 + 60)
    if feedback == "punitive":
        assert r.kpis["warnings_system_share"] == 1.0


def test_the_rule_engine_by_hand():
    """Rules.talk: the count, the window's open edge, the escalation pace and the label."""
    from sim.regime.rules import BreachRecord, Rules

    rules = Rules(threshold_s=120.0, excused=frozenset(), convention="after_change",
                  warning_after=3, window_s=10.0, escalation_s=5.0)
    rec = BreachRecord()
    rec.add(0.0, "login_delay")
    rec.add(4.0, "late_return")
    assert rules.talk(rec, 4.0) is None  # two of three
    rec.add(10.0, "call")
    assert rules.talk(rec, 10.0) is None and len(rec) == 2  # 0 is a window back: out
    rec.add(12.0, "login_delay")
    talk = rules.talk(rec, 12.0)  # behind it: 4 (agent), 10 and 12 (system)
    assert (talk.breaches, talk.first_s, talk.system, talk.why) == (3, 4.0, 2, "system")
    assert talk.detail == "3 breaches; 67% outside the agent's control"
    assert len(rec) == 0 and rec.last_talk == 12.0  # the count starts again
    for t in (13.0, 14.0, 15.0):
        rec.add(t, "late_return")
    assert rules.talk(rec, 15.0) is None and len(rec) == 3  # 3 s after the last: they wait
    rec.add(17.0, "late_return")
    talk = rules.talk(rec, 17.0)  # 5 s after the last talk: due, with all four behind it
    assert (talk.breaches, talk.system, talk.why) == (4, 0, "agent")
