"""The warm-up: a start state carried across the day boundary, shared by replications."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

from analysis.cli import main
from analysis.experiment import ProcessExecutor, SerialExecutor, run_experiment
from analysis.stats import t_interval
from analysis.store import ReplicationStore
from analysis.verify import verify_folder
from analysis.warmup import mser, welch, welch_end
from sim.engine.repeats import opening_time
from sim.engine.status import Status
from sim.model import build, run, simulate, warm_start
from sim.scenario import DAY_S, Scenario, load_scenario, scenario_from_dict
from sim.start import (
    RecordState,
    SeatState,
    StartState,
    compatible,
    export,
    fixed_point,
    phase_uniforms,
    phased,
    settle_record,
    sickness,
    start_threat,
    talk_ages,
    tenure,
    warmup_length,
)
from tests.conftest import small_dict


def stressed(**changes) -> Scenario:
    """The small centre with stress, absence and attrition on, policed individually."""
    return scenario_from_dict(small_dict(
        stress={"enabled": True, "absence": True, "attrition": True},
        measurement={"level": "individual"}, **changes))


def test_fixed_point_is_where_the_weekly_map_settles():
    """Iterating a week of E's closed-form steps from zero ends at fixed_point's value."""
    tau, c = 21.0, 0.01
    e = 0.0
    for _ in range(400):
        for _ in range(4):  # four worked days, one sick day, a two-day weekend
            e = e * (1 - 1 / tau) + c
        e *= (1 - 2 / tau) ** 3
    one_week = 0.0
    for _ in range(4):
        one_week = one_week * (1 - 1 / tau) + c
    one_week *= (1 - 2 / tau) ** 3
    assert fixed_point(0.0, one_week, 4, 3, tau) == pytest.approx(e, rel=1e-12)
    assert fixed_point(e, e, 4, 3, tau) == pytest.approx(e, rel=1e-12)  # a fixed point


def test_warmup_length_is_whole_weeks():
    """horizon.warmup_days is rounded up to whole weeks of stress.work_days_per_week."""
    s = stressed(horizon__warmup_days=7)
    assert warmup_length(s) == 10
    assert warmup_length(s, 10) == 10
    assert warmup_length(s, 0) == 0


def test_the_state_round_trips_through_a_build():
    """A warmed state applied to a run and exported before it runs is the same state."""
    s = stressed(horizon__days=2, horizon__warmup_days=10)
    state = warm_start(s, seed=3)
    assert state.days == 10 and state.jumped and state.seats is not None
    assert any(seat.e > 0 for seat in state.seats)
    r = build(s, 3, 0, start=state)
    again = export(s, 3, 0, r.strains, r.regime)
    assert again.seats == state.seats
    assert again.records == state.records


def test_vacancy_sickness_and_waiting_talks_continue_into_the_measured_days():
    """A vacancy, a sickness spell and a pending warning of the state go on after day 0."""
    s = stressed(horizon__days=3)
    seat = SeatState(a=0.5, e=0.2, threat=1.0, trait=0.0, t=-30_000.0, hire=0,
                     hired_on=-40, back_on=None, sick_days_left=0)
    rec = RecordState(warnings=1, breach_times=(), breach_reasons=(), last_talk=-1e6,
                      pending=())
    talk = (int(Status.NOT_READY_MANAGER_APPROVED), 300.0, "warning")
    state = StartState(
        "old", "-", 1, 20, 10, 5,
        seats=(replace(seat, hire=1, hired_on=-45, back_on=2),
               replace(seat, sick_days_left=1), *[seat] * 8),
        records=(rec, rec, replace(rec, pending=(talk,)), *[rec] * 7))
    r = simulate(s, 1, 0, start=state)
    absent = r.absences[r.absences["agent"] < 3][["agent", "day", "reason"]]
    assert absent.values.tolist() == [[0, 0, "quit"], [0, 1, "quit"], [1, 0, "sickness"]]
    seat0 = r.agent_days[r.agent_days["agent"] == 0]
    assert seat0["day"].tolist() == [2] and seat0["hire"].tolist() == [1]  # replaced on day 2
    assert seat0["exhaustion"].tolist() == [0.0]  # a new person starts rested
    imposed = r.imposed[["agent", "day", "reason", "length_s"]].values.tolist()
    assert imposed == [[2, 0, "warning", 300.0]]  # the talk waiting at the first log-in
    day0 = r.agent_days[(r.agent_days["agent"] == 2) & (r.agent_days["day"] == 0)]
    tau_t = s.stress.tau_threat_days
    assert day0["threat"].item() == pytest.approx(np.exp(-1 / tau_t))  # T carried, decayed
    assert r.provenance["warmup_days"] == 20 and r.provenance["warmup_scenario"] == "old"


def test_another_centre_is_refused_with_both_names_and_the_field():
    """Starting from a scenario with other shifts is refused, naming both and the field."""
    old, new = stressed(), stressed(staffing={"shifts": {
        "a": {"start": "08:00", "hours": 2, "agents": 7},
        "b": {"start": "08:30", "hours": 1.5, "agents": 4}}})
    with pytest.raises(ValueError) as err:
        compatible(old, new, "old.toml", "new.toml")
    assert str(err.value) == (
        "cannot start new.toml from the state of old.toml: staffing (shift names and agents "
        "per shift) differs ({'a': 6, 'b': 4} in old.toml, {'a': 7, 'b': 4} in new.toml); "
        "the seats and weeks of a warmed state carry over only to the same centre")


def test_replications_branch_from_one_state_the_same_serial_or_parallel():
    """Two warmed scenarios, two replications: identical serial and in a process pool.

    In the pool the two warm-ups run in workers too (``ProcessExecutor.warm``).
    """
    s = stressed(horizon__days=2, horizon__warmup_days=5)
    t = stressed(name="team", horizon__days=2, horizon__warmup_days=5, measurement__level="team")
    serial = run_experiment([s, t], 4, 2, executor=SerialExecutor())
    pool = ProcessExecutor(2)
    try:
        parallel = run_experiment([s, t], 4, 2, executor=pool)
    finally:
        pool.close()
    a, b = serial.kpi_table(), parallel.kpi_table()
    pd.testing.assert_frame_equal(a, b)
    assert a["warmup_days"].tolist() == [5, 5, 5, 5]
    assert a["warmup_scenario"].tolist() == ["small", "small", "team", "team"]
    assert a["stress_mean"].iloc[0] != a["stress_mean"].iloc[1]  # own streams each
    assert [p["warmup_days"] for p in serial.provenance()] == [5, 5, 5, 5]


def test_a_resumed_warmed_experiment_is_the_uninterrupted_one(tmp_path):
    """Replication 0 stored, then 0-1 asked for: the warm-up is simulated again, the same."""
    s = stressed(horizon__days=2, horizon__warmup_days=5)
    store = ReplicationStore(tmp_path / "replications")
    run_experiment([s], 5, 1, store=store)
    resumed = run_experiment([s], 5, 2, store=store)
    assert resumed.resumed == 1 and resumed.ran == 1
    whole = run_experiment([s], 5, 2)
    cols = ["stress_mean", "service_level", "warmup_days"]
    pd.testing.assert_frame_equal(resumed.kpi_table()[cols], whole.kpi_table()[cols])


def test_a_warm_start_is_reproducible_and_not_the_cold_one():
    """The same scenario, seed and replication warm to the same state; cold runs differ.

    Each replication warms up on streams of its own (replication 1's state is not 0's),
    and ``simulate`` starts a replication from its own warm-up.
    """
    s = stressed(horizon__days=2, horizon__warmup_days=5)
    assert warm_start(s, 2, cached=False) == warm_start(s, 2, cached=False)
    assert warm_start(s, 2) is warm_start(s, 2)  # kept: asked again, not warmed again
    one = warm_start(s, 2, 1)
    assert one.replication == 1 and one.seats != warm_start(s, 2, 0).seats
    assert simulate(s, 2, 1).calls.equals(simulate(s, 2, 1, start=one).calls)
    warm, cold = simulate(s, 2, 0), simulate(s.replace({"horizon.warmup_days": 0}), 2, 0)
    assert cold.provenance["warmup_days"] == 0 and warm.provenance["warmup_days"] == 5
    assert warm.agent_days["exhaustion"].mean() > cold.agent_days["exhaustion"].mean()


def _steady(seeds: range, plain_days: int, warm_days: int, measured: int
            ) -> tuple[list[float], list[float], list[float], list[float], list[float]]:
    """Per seed: mean E and stress late in a long cold run and after a warm-up; cold E early."""
    base = stressed(stress__attrition=False, stress__trait_sd=0.0)
    e_plain, s_plain, e_warm, s_warm, e_cold = [], [], [], [], []
    for seed in seeds:
        long = simulate(base.replace({"horizon.days": plain_days, "horizon.warmup_days": 0}),
                        seed, 0).agent_days
        tail = long[long["day"] >= plain_days - measured]
        e_plain.append(tail["exhaustion"].mean())
        s_plain.append(tail["stress"].mean())
        e_cold.append(long.loc[long["day"] < measured, "exhaustion"].mean())
        warm = simulate(base.replace({"horizon.days": measured,
                                      "horizon.warmup_days": warm_days}), seed, 0).agent_days
        e_warm.append(warm["exhaustion"].mean())
        s_warm.append(warm["stress"].mean())
    return e_plain, s_plain, e_warm, s_warm, e_cold


def _same_within_ci(a: list[float], b: list[float]) -> None:
    """The 95% CI of the mean difference of two independent samples contains 0."""
    diff = np.asarray(b) - np.asarray(a)  # different streams: each pair is independent
    ci = t_interval(diff.tolist(), 0.95)
    assert ci.ci_low <= 0 <= ci.ci_high, (np.mean(a), np.mean(b), ci)


@pytest.mark.slow
def test_a_jump_started_warmup_reaches_the_steady_state_of_a_long_run():
    """Mean E and stress after a 20-day jump-started warm-up: those of days 60-79 cold."""
    e_plain, s_plain, e_warm, s_warm, e_cold = _steady(range(6), 80, 20, 20)
    _same_within_ci(e_plain, e_warm)
    _same_within_ci(s_plain, s_warm)
    # the check can tell: the cold start's first 20 days are far from it
    assert t_interval(np.subtract(e_plain, e_cold).tolist()).ci_low > 0


#: the everything-on centre of the golden run: the regime, real-time alerts, stress,
#: absence, attrition (a quit hazard high enough that turnover matters) and feedback
EVERYTHING = Path(__file__).parent / "golden" / "everything.toml"
#: what is compared: the start state's means over seats and the measured KPIs
STATE = ("E", "T", "sick", "vacant", "warned", "service_level", "stress_mean")


def _state_and_kpis(start: StartState, scenario: Scenario, seed: int, rep: int
                    ) -> dict[str, float]:
    """A start state's means over seats and the KPIs of the run measured from it."""
    seats, records = start.seats, start.records
    assert seats is not None and records is not None
    r = simulate(scenario, seed, rep, start=start)
    return {"E": float(np.mean([s.e for s in seats])),
            "T": float(np.mean([s.threat for s in seats])),
            "sick": sum(s.sick_days_left > 0 for s in seats),
            "vacant": sum(s.back_on is not None for s in seats),
            "warned": float(np.mean([len(rec.warned) for rec in records])),
            "service_level": r.kpis["service_level"], "stress_mean": r.kpis["stress_mean"]}


def _fast_and_plain(reps: int, plain_days: int, measured: int
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per replication: the auto warm-up's state and KPIs, a long plain one's, a cold run's."""
    s = load_scenario(EVERYTHING).replace({"horizon.days": measured})
    assert s.warmup_days == 10  # "auto": two weeks, each fast-forwarded
    fast, plain, cold = [], [], []
    for rep in range(reps):
        fast.append(_state_and_kpis(warm_start(s, 7, rep, cached=False), s, 7, rep))
        long = warm_start(s, 7, rep, days=plain_days, fast_forward=False, cached=False)
        plain.append(_state_and_kpis(long, s, 7, rep))
        cold.append(simulate(s.replace({"horizon.warmup_days": 0}), 7, rep).kpis)
    return pd.DataFrame(fast), pd.DataFrame(plain), pd.DataFrame(cold)


def _z(a: pd.Series, b: pd.Series) -> float:
    """The paired difference's mean over its standard error (0 when both are identical).

    The two warm-ups of a replication share their first week's streams and the measured
    run's, so the pairs are compared, not two independent samples.
    """
    d = (a - b).to_numpy(float)
    se = d.std(ddof=1) / np.sqrt(len(d))
    return 0.0 if se == 0 and d.mean() == 0 else float(d.mean() / se)


def _check_steady(reps: int, plain_days: int, measured: int) -> None:
    """Every compared quantity within |z| <= 3 of the long plain warm-up; cold is not."""
    fast, plain, cold = _fast_and_plain(reps, plain_days, measured)
    z = {k: _z(fast[k], plain[k]) for k in STATE}
    assert all(abs(v) <= 3 for v in z.values()), (z, fast.mean(), plain.mean())
    # the check can tell: a cold start's measured stress is far below the steady state's
    assert _z(plain["stress_mean"], cold["stress_mean"]) > 3


@pytest.mark.heavy
def test_the_auto_warmup_reaches_the_state_of_a_long_plain_one():
    """Ten fast-forwarded days vs 30 plain (everything on): start state and KPIs, |z| <= 3."""
    _check_steady(6, 30, 2)


@pytest.mark.slow
def test_the_auto_warmup_reaches_the_state_of_a_long_plain_one_many_replications():
    """The same with 20 replications against 60 plain warm-up days and 5 measured."""
    _check_steady(20, 60, 5)


def test_tenure_draws_vacancies_and_recent_hires_from_the_quit_hazard():
    """A seat's first person is replaced as the drawn history says; others are left alone."""
    s = stressed()  # hiring delay 28 calendar days (20 working days), learning 40 days
    seat = SeatState(a=0.0, e=0.4, threat=0.5, trait=0.0, t=-30_000.0, hire=0, hired_on=-10,
                     back_on=None, sick_days_left=2)
    rec = RecordState(warnings=2, breach_times=(-5.0,), breach_reasons=("late",),
                      last_talk=-9.0, pending=(), warned=(-9.0,))
    state = StartState("small", "-", 1, 10, 10, 5, seats=(
        seat, replace(seat, hire=1, hired_on=-3), replace(seat, back_on=4), *[seat] * 7),
        records=(rec,) * 10)
    # days back from the warm-up's first day (day -10) to the quit of the person before
    draws = {0: 1, 3: 40, 4: 500, 5: 15}
    out = tenure(state, s, 10, lambda k: _Geometric(draws.get(k, 10_000)))
    assert out.seats is not None and out.records is not None
    left = RecordState(0, (), (), -9.0, ())  # the record leaves with the person
    # quit on day -11: the replacement is due 28 calendar days later, measured day 9
    assert out.seats[0] == replace(seat, back_on=9, sick_days_left=0)
    assert out.records[0] == left
    assert out.seats[1:3] == state.seats[1:3]  # hired in the warm-up, or vacant: as they are
    m = ((1 - 1 / 21) ** 5 * (1 - 2 / 21) ** 2) ** (1 / 5)  # a mean working day of E's map
    # quit on day -50, replaced on day -30: learning, E built up over 30 days, own record
    assert out.seats[3] == replace(seat, e=pytest.approx(0.4 * (1 - m ** 30)), hire=1,
                                   hired_on=-30)
    assert out.records[3] == rec
    # replaced on day -5, during the simulated days: no threat or record of its own yet
    assert out.seats[5] == replace(seat, e=pytest.approx(0.4 * (1 - m ** 5)), hire=1,
                                   hired_on=-5, threat=0.0, sick_days_left=0)
    assert out.records[5] == left
    assert out.seats[4] == seat and out.seats[6:] == state.seats[6:]  # long ago, or never
    assert tenure(state, stressed(stress__attrition=False), 10, _Geometric) is state


def test_sickness_draws_the_long_spells_begun_before_the_warmup():
    """A held seat not off sick is off sick when its uniform falls below the spell chance."""
    s = stressed()
    p = s.stress
    seat = SeatState(a=0.0, e=0.4, threat=0.0, trait=0.0, t=-30_000.0, hire=0, hired_on=-10,
                     back_on=None, sick_days_left=0)
    state = StartState("small", "-", 1, 10, 10, 5, seats=(
        seat, seat, replace(seat, sick_days_left=2), replace(seat, back_on=3), *[seat] * 6))
    q = 1 / p.spell_long_mean_days
    chance = (p.absence_base_hazard * np.exp(p.absence_exhaustion_effect * 0.4)
              * (1 - p.spell_short_share) * (1 - q) ** 11 / q)
    uniforms = {0: chance * 0.99, 1: chance * 1.01}  # just inside, just outside
    out = sickness(state, s, 10, lambda k: _Geometric(7, uniforms.get(k, 0.0)))
    assert out.seats is not None
    assert out.seats[0].sick_days_left == 7 and out.seats[1] == seat
    assert out.seats[2:4] == state.seats[2:4]  # off sick already, or vacant: as they are
    assert sickness(state, stressed(stress__absence=False), 10, _Geometric) is state


class _Geometric:
    """A generator whose draws are given (for :func:`sim.start.tenure` and ``sickness``)."""

    def __init__(self, value: int, uniform: float = 0.0) -> None:
        self.value = value
        self.uniform = uniform

    def geometric(self, p: float) -> int:
        """The given number of days, whatever the chance."""
        return self.value

    def random(self) -> float:
        """The given uniform."""
        return self.uniform


def test_mser5_cuts_a_transient_and_not_a_flat_series():
    """MSER-5 truncates a series at the end of its initial transient, a flat one at 0."""
    rng = np.random.default_rng(0)
    flat = 1 + 0.01 * rng.standard_normal(60)
    transient = flat + np.where(np.arange(60) < 15, 0.5, 0.0)
    assert mser(transient)[0] == 15
    assert mser(flat)[0] == 0
    with pytest.raises(ValueError, match="MSER-5 needs at least 10 days, got 9"):
        mser(flat[:9])


def test_welch_moving_average_and_where_it_settles():
    """Welch's average widens its window from the start; it settles where it stays near."""
    y = np.arange(10, dtype=float)
    assert welch(y, 2).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    smooth = np.array([0.5, 0.9, 0.99, 1.01, 1.0, 0.995])
    assert welch_end(smooth, 1.0) == 2  # day 2 on: within 2% of 1.0
    assert welch_end(smooth, 1.0, noise=0.2) == 1  # the curve's noise is wider than 2%


def small_toml(path: Path, **changes) -> Path:
    """The small centre with stress on, as a scenario file."""
    d = small_dict(stress={"enabled": True, "absence": True},
                   measurement={"level": "individual"}, **changes)
    path.write_bytes(tomli_w.dumps(d).encode())
    return path


def test_run_from_another_regime_reports_the_start_everywhere(tmp_path, capsys, monkeypatch):
    """`ccsim run NEW --from OLD`: the start in the text, kpis.csv, manifest and report."""
    monkeypatch.setenv("CCSIM_WIDTH", "100000")  # the start line whole, not wrapped
    old = small_toml(tmp_path / "old.toml", name="old")
    new = small_toml(tmp_path / "new.toml", name="new", measurement__level="team")
    out = tmp_path / "out"
    assert main(["run", str(new), "--from", str(old), "--days", "10", "--set",
                 "horizon.warmup_days=5", "--reps", "1", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    start = ("new: warmed up 5 unmeasured working days under the regime of 'old' (--from), "
             "each replication on its own streams")
    assert start in text
    kpis = pd.read_csv(out / "kpis.csv")
    assert kpis[["warmup_days", "warmup_scenario"]].values.tolist() == [[5, "old"]]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["start_from"]["name"] == "old"
    assert manifest["scenarios"]["new"]["warmup_days"] == 5
    assert manifest["provenance"][0]["warmup_scenario"] == "old"
    report = (out / "report.html").read_text()
    assert "warmed up 5 unmeasured working days under the regime of &#x27;old&#x27;" in report
    assert "Week by week" in report and 'id="by_week"' in report  # the table and figure
    assert (out / "figures" / "by_week.png").stat().st_size > 0
    checked = verify_folder(out, sample=1)  # simulated again from the old regime's state
    assert [c.status for c in checked.checks] == ["verified"] and checked.status == 0


def test_from_refusals_name_the_files_field_and_value(tmp_path, capsys):
    """--from is refused for a cold new scenario and for another centre, saying why."""
    old = small_toml(tmp_path / "old.toml", name="old")
    new = small_toml(tmp_path / "new.toml", name="new", horizon__warmup_days=0)
    assert main(["run", str(new), "--from", str(old), "--no-write", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (f"--from {old}: {new} has horizon.warmup_days = 0; the warm-up under the old "
            "regime needs at least 1 day") in err
    assert main(["run", str(new), "--from", str(old), "--no-write", "--quiet",
                 "--set", "horizon.warmup_days=5",
                 "--set", "staffing.shifts.a.agents=7"]) == 2
    err = capsys.readouterr().err
    assert (f"cannot start {new} from the state of {old}: staffing (shift names and agents "
            f"per shift) differs ({{'a': 6, 'b': 4}} in {old}, {{'a': 7, 'b': 4}} in {new})"
            ) in err


def test_warmup_command_prints_the_cut_and_writes_its_files(tmp_path, capsys):
    """`ccsim warmup`: MSER-5 and Welch per series, a recommendation, the figure and data."""
    scenario = small_toml(tmp_path / "s.toml")
    out = tmp_path / "wu"
    assert main(["warmup", str(scenario), "--days", "10", "--reps", "2", "--out", str(out),
                 "--executor", "serial", "--quiet", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert set(found["mser5_truncation_days"]) == {"stress_mean", "service_level"}
    cut = max([*found["mser5_truncation_days"].values(), *found["welch_settles_day"].values()])
    assert found["recommended_warmup_days"] == -(-cut // 5) * 5
    assert {p.name for p in out.iterdir()} >= {"warmup.png", "warmup.csv", "warmup.json"}
    assert len(pd.read_csv(out / "warmup.csv")) == 10


def test_calls_still_to_come_back_are_carried_into_the_measured_days():
    """Repeats the warm-up's callers make after its last day arrive in the measured run."""
    s = stressed(horizon__days=3, horizon__warmup_days=5, calls={"repeat_probability": 0.2})
    state = warm_start(s, 1)
    assert state.repeats and all(t > -DAY_S for t, *_ in state.repeats)
    warm = simulate(s, 1, 0, start=state)
    carried = warm.calls[warm.calls["repeat_of"] == -2]
    placed = [opening_time(s, t, u) for t, u, *_ in state.repeats]
    assert sorted(carried["arrival_s"].tolist()) == pytest.approx(
        sorted(p for p in placed if p is not None))
    cold = simulate(s.replace({"horizon.warmup_days": 0}), 1, 0)
    day0 = {name: r.daily.loc[r.daily["day"] == 0, "repeat_call_rate"].item()
            for name, r in (("warm", warm), ("cold", cold))}
    assert day0["cold"] < 0.01 < 0.05 < day0["warm"]  # a cold day 0 has no repeats yet


def test_compare_from_one_state_says_so_in_its_json(tmp_path, capsys):
    """`ccsim compare A B --from OLD --json`: warm-ups under OLD, named for each scenario."""
    old = small_toml(tmp_path / "old.toml", name="old")
    a = small_toml(tmp_path / "a.toml", name="a")
    b = small_toml(tmp_path / "b.toml", name="b", measurement__level="team")
    assert main(["compare", str(a), str(b), "--from", str(old), "--days", "1", "--reps", "2",
                 "--set", "horizon.warmup_days=5", "--out", str(tmp_path / "out"),
                 "--executor", "serial", "--json"]) == 0
    start = json.loads(capsys.readouterr().out)["start"]
    assert start == {"a": {"warmup_days": 5, "warmup_scenario": "old"},
                     "b": {"warmup_days": 5, "warmup_scenario": "old"}}
    saved = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert saved["start"] == start


#: the everything-on centre with the default escalation interval (20 working days): its
#: talks come about once an interval, whose phase a warm-up from zero would synchronise
PACED = {"supervisor.escalation_interval_days": 20}


def test_talk_ages_phased_and_start_threat_follow_the_drawn_phase():
    """Last talk u x interval back, warnings every interval before it, their threat decayed."""
    s = stressed(measurement__adherence__warning_window_days=30,
                 monitoring={"feedback": "punitive"}, supervisor={"escalation_interval_days": 20})
    ages = talk_ages(s, [0.25, 0.75])
    assert ages == (5.0, 15.0)
    records = phased(s, 1, ages).records
    assert records is not None and len(records) == 2
    assert records[0] == RecordState(2, (), (), -5 * DAY_S, (), (-25 * DAY_S, -5 * DAY_S))
    assert records[1] == RecordState(1, (), (), -15 * DAY_S, (), (-15 * DAY_S,))
    p = s.stress  # T decays per calendar day: 7/5 of them per working day
    m = np.exp(-20 * 1.4 / p.tau_threat_days)
    assert start_threat(s, ages) == pytest.approx(
        [p.warning_threat * np.exp(-a * 1.4 / p.tau_threat_days) / (1 - m) for a in ages])
    coaching = s.replace({"monitoring.feedback": "developmental"})
    assert phased(coaching, 1, ages).records[0].warned == ()  # type: ignore[index]
    assert start_threat(coaching, ages) == (0.0, 0.0)
    assert talk_ages(s.replace({"measurement.level": "team"}), [0.5]) is None
    assert talk_ages(s.replace({"supervisor.escalation_interval_days": 0}), [0.5]) is None


def test_settle_record_repeats_the_breaches_back_to_the_talk_before_the_warmup():
    """Breaches repeat back to a talk before the warm-up, within the window; others are kept."""
    breaches = (-8 * DAY_S, -3 * DAY_S)
    before = RecordState(1, breaches, ("late", "call"), -24 * DAY_S, (),
                         (-40 * DAY_S, -24 * DAY_S))
    during = RecordState(1, breaches, ("late", "call"), -9 * DAY_S, (), (-9 * DAY_S,))
    state = StartState("s", "-", 1, 10, 2, 5, records=(before, during))
    out = settle_record(state, 10, 30.0).records
    assert out is not None
    assert out[0].breach_times == (-23 * DAY_S, -18 * DAY_S, -13 * DAY_S, *breaches)
    assert out[0].breach_reasons == ("call", "late", "call", "late", "call")
    assert out[0].warned == (-24 * DAY_S,)  # the warning 40 days back is out of the window
    assert out[1] == during


def test_the_same_seat_gets_the_same_phase_under_every_regime():
    """A seat still on its talk from before the warm-up has it W + u x interval back, any regime."""
    s = load_scenario(EVERYTHING, overrides=PACED)
    u = phase_uniforms(7, 0, 10)
    assert u == phase_uniforms(7, 0, 10) and len(set(u)) == 10
    for scenario, interval in ((s, 20), (s.replace({"monitoring.feedback": "developmental"}), 20),
                               (s.replace({"supervisor.escalation_interval_days": 10}), 10)):
        records = warm_start(scenario, 7, 0, cached=False).records
        assert records is not None
        kept = [k for k, r in enumerate(records) if r.last_talk < -10 * DAY_S]
        assert kept  # seats whose next talk falls after the warm-up
        assert [records[k].last_talk for k in kept] == pytest.approx(
            [-(10 + u[k] * interval) * DAY_S for k in kept])


def _talks(scenario: Scenario, seed: int, rep: int, start: StartState | None) -> int:
    """Warnings given in the measured days of one replication (the action log, uncollected)."""
    r = build(scenario, seed, rep, start=start)
    run(r)
    assert r.regime is not None
    return sum(row[5] == "warning" for row in r.regime.log.rows)


@pytest.fixture(scope="module")
def paced_talks() -> pd.DataFrame:
    """Per replication: warnings in 5 measured days after auto, 20 plain days and cold."""
    s = load_scenario(EVERYTHING, overrides={**PACED, "horizon.days": 5})
    rows = []
    for rep in range(5):
        rows.append({
            "auto": _talks(s, 7, rep, warm_start(s, 7, rep, cached=False)),
            "plain": _talks(s, 7, rep, warm_start(s, 7, rep, days=20, fast_forward=False,
                                                  cached=False)),
            "cold": _talks(s.replace({"horizon.warmup_days": 0}), 7, rep, None)})
    return pd.DataFrame(rows)


def test_a_window_shorter_than_the_interval_does_not_depend_on_the_warmup_length(
        paced_talks):
    """Talks in 5 days: auto as after 20 plain days, at the stationary share; cold told apart."""
    # synchronised, the two warm-ups put every talk on measured day 11 and 1 respectively
    t = paced_talks
    assert abs(_z(t["auto"], t["plain"])) <= 3, t
    n, share = 5 * 10, 5 / 20  # seat-replications, the stationary chance of a talk in 5 days
    assert abs(t["auto"].sum() - n * share) <= 3 * np.sqrt(n * share * (1 - share)), t
    assert _z(t["cold"], t["plain"]) > 3, t  # the check can tell a synchronised phase
