"""The estimate printed before a run: warm-ups counted, --until's runs projected."""

from __future__ import annotations

import re

import pytest

from analysis.experiment import (
    Experiment,
    RepOutput,
    SizeGuard,
    static_estimate,
    until_reps_needed,
)
from analysis.stats import replications_needed


def test_a_warm_up_costs_its_days_at_the_scenarios_simulated_day(small):
    """20 warm-up days cost 20 days without the fixed part at the warm-up share, on one core.

    A warm-up collects nothing: measured on the 2018 case, a warm-up day cost 0.83 of a
    measured one (``WARM_DAY_SHARE``).
    """
    from analysis.experiment import WARM_DAY_SHARE

    three = small.replace({"horizon.days": 3})
    est = static_estimate(three)
    got = SizeGuard.warm_seconds([three], [est], [(three, 20)], workers=1, cores=1.0)
    assert got == pytest.approx(WARM_DAY_SHARE * 20 * (est.seconds - est.fixed_s) / 3)
    # two warm-ups on two cores take the time of one
    two = SizeGuard.warm_seconds([three], [est], [(three, 20), (three, 20)], workers=2,
                                 cores=2.0)
    assert two == pytest.approx(got)


def test_the_announced_estimate_includes_the_warm_ups(small):
    """The line printed before a run names the warm-ups and adds their time to the total."""
    said: list[str] = []
    guard = SizeGuard(notify=said.append, notify_after_s=0.0, pilot_after_s=1e9)
    without = guard.check([small], tasks=4, workers=1)
    with_warm = guard.check([small], tasks=4, workers=1, warm=[(small, 40)])
    assert with_warm > without
    assert "after 1 warm-up(s) of 40 days" in said[1]
    assert "warm-up" not in said[0]


def _experiment(series: list[list[float]]) -> Experiment:
    """An experiment holding the given service levels, one list per scenario."""
    exp = Experiment([], seed=1)
    exp.scenarios = [None] * len(series)  # only the count is read
    for i, values in enumerate(series):
        for r, v in enumerate(values):
            exp.outputs[i, r] = RepOutput(i, r, {"service_level": v, "stress_mean": 2.0}, {},
                                          {})
    return exp


def test_until_projects_the_runs_the_widest_paired_difference_needs():
    """The projection is replications_needed of the noisiest proposal's paired differences."""
    base = [0.80, 0.82, 0.79, 0.81, 0.80]
    calm = [b + 0.01 for b in base]                      # constant difference: 2 runs do
    noisy = [b + d for b, d in zip(base, [0.03, -0.02, 0.01, 0.04, -0.03], strict=True)]
    exp = _experiment([base, calm, noisy])
    need = replications_needed([n - b for n, b in zip(noisy, base, strict=True)], 0.01)
    assert need > 5
    assert until_reps_needed(exp, [("service_level", 0.01)], max_reps=100) == need
    assert until_reps_needed(exp, [("service_level", 0.01)], max_reps=8) == 8
    # a target already met needs no more than the runs done
    assert until_reps_needed(exp, [("stress_mean", 0.1)], max_reps=100) == 5


def test_runs_added_to_an_experiment_warm_up_only_their_own():
    """--until's later steps warm up only the replications they add; nothing else again."""
    import pandas as pd

    from analysis.experiment import SerialExecutor, run_experiment
    from sim.scenario import scenario_from_dict
    from tests.conftest import small_dict

    s = scenario_from_dict(small_dict(stress={"enabled": True, "absence": True},
                                      horizon={**small_dict()["horizon"], "days": 1,
                                               "warmup_days": 5}))
    exp = run_experiment([s], 3, 1, executor=SerialExecutor())
    assert exp.starts == {}  # a state is handed to its replication, not kept
    spent, first = exp.warmup_s, exp.outputs[0, 0]
    exp = run_experiment([s], 3, 2, executor=SerialExecutor(), experiment=exp)
    assert exp.warmup_s > spent and exp.outputs[0, 0] is first and exp.ran == 2
    whole = run_experiment([s], 3, 2, executor=SerialExecutor())
    cols = ["stress_mean", "service_level", "warmup_days"]
    pd.testing.assert_frame_equal(exp.kpi_table()[cols], whole.kpi_table()[cols])


def test_after_the_warm_ups_the_replications_are_timed_at_their_pace(small):
    """Two 20-day warm-ups in 10 s on 2 workers: 8 five-day replications take 40/40 of it."""
    said: list[str] = []
    guard = SizeGuard(notify=said.append, notify_after_s=0.0)
    got = guard.paced([5] * 8, [(small, 20), (small, 20)], 10.0, workers=2)
    # a worker simulated 20 warm-up days in 10 s; a measured day costs 1/0.83 of one
    assert got == pytest.approx(40 * (10.0 * 2 / 40 / guard.warm_day_share) / 2)
    assert said == [f"the warm-ups took 10 s: at their pace the 8 replication(s) take about "
                    f"{got:.0f} s more"]


def test_negotiate_until_announces_its_range_and_then_its_projection():
    """--until: the range before the start, then the runs the first runs' spread asks for."""
    from analysis import experiment
    from analysis.experiment import SerialExecutor
    from analysis.negotiate import run_until_precise
    from sim.scenario import scenario_from_dict
    from tests.conftest import small_dict

    a = scenario_from_dict(small_dict())
    b = scenario_from_dict(small_dict(name="more", demand={**small_dict()["demand"],
                                                           "calls_per_day": 330}))
    said: list[str] = []
    notify, experiment.guard.notify = experiment.guard.notify, said.append
    try:
        exp = run_until_precise([a, b], 1, 2, [("service_level", 1e-9)], 3,
                                executor=SerialExecutor())
    finally:
        experiment.guard.notify = notify
    assert len(exp.reps(1)) == 3
    assert said[0].startswith("with --until: from 2 to at most 3 runs of each of the 2 "
                              "scenarios, at least ")
    assert said[-1].startswith("the first 2 runs' spread says about 3 runs of each are "
                               "needed (at most 3): about ")


def test_the_pilots_are_half_a_day_and_a_small_one_and_run_once(small, monkeypatch):
    """Two pilots, each run once per process: the estimate's pilot cost is bounded.

    The time pilot is the case's day cut to ``PILOT_AGENTS`` agents with the calls that
    keep their load (the simulation's CPU per unit of static time was within 5% between 45
    and 134 agents), the fixed-cost one ``MIN_PILOT_AGENTS`` agents; together at most 0.6 of
    one of its days in the static model's time. A second estimate (``--until``'s range,
    then its runs) runs none.
    """
    from analysis import experiment
    from analysis.experiment import MIN_PILOT_AGENTS, PILOT_AGENTS, estimate, pilots
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    tmr = load_scenario(SCENARIOS / "case" / "telenor-2018-tmr.toml")
    small_pilot, large = pilots(tmr)
    assert (large.horizon.days, large.warmup_days) == (1, 0)
    assert sum(large.staffing.head_counts().values()) == PILOT_AGENTS
    assert large.demand.calls_per_day == pytest.approx(5600 * PILOT_AGENTS / 134)
    assert sum(small_pilot.staffing.head_counts().values()) == MIN_PILOT_AGENTS
    assert small_pilot.demand.calls_per_day == pytest.approx(5600 * MIN_PILOT_AGENTS / 134)
    day = static_estimate(tmr).seconds / tmr.horizon.days
    assert static_estimate(large).seconds + static_estimate(small_pilot).seconds <= 0.6 * day
    three = small.replace({"horizon.days": 3, "name": "pilot-count"})
    # an empty cache, as in a fresh command: a test before this one on the same worker may
    # have piloted the same small centre
    monkeypatch.setattr(experiment, "_PILOTS", {})
    before = set(experiment._PILOTS)
    first = estimate(three)
    ran = set(experiment._PILOTS) - before
    lo, hi = pilots(three)  # the small one's tables written, the large one's not
    assert ran == {(lo.digest(), experiment.DEFAULT_TABLES, True),
                   (hi.digest(), experiment.DEFAULT_TABLES, False)}
    assert estimate(three) == first and set(experiment._PILOTS) - before == ran
    # other tables (negotiate's range, then its runs): the same pilots, none run again
    assert estimate(three, ("calls", "daily")) == first
    assert set(experiment._PILOTS) - before == ran


def test_refusing_runs_no_pilot_and_names_the_size():
    """--days 3660 of the case is refused by the static model at once; the case itself passes.

    ``refuse`` runs before anything is built: no pilot whatever the size (memory is the
    static model's, calibrated on measured peaks).
    """
    from analysis import experiment
    from analysis.experiment import TooLargeError
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    tmr = load_scenario(SCENARIOS / "case" / "telenor-2018-tmr.toml")
    before = dict(experiment._PILOTS)
    SizeGuard().refuse([tmr])
    with pytest.raises(TooLargeError) as info:
        SizeGuard().refuse([tmr.replace({"horizon.days": 3660})])
    assert experiment._PILOTS == before
    assert str(info.value) == (
        "too large: about 30.8 GiB of memory per replication (2.05e+07 calls, 490,440 "
        "agent-days, 6.18e+07 status rows); over the limit of 4 GiB per replication; use "
        "fewer days, agents or calls (or --force to run it anyway)")


def test_memory_counts_the_fixed_part_and_the_warm_up_piece():
    """The case's 10 warm-up days run in pieces (sim.model.warm_start), a week each.

    Memory: ``_BYTES_FIXED`` plus the larger of the replication's and its longest warm-up
    piece's logs, plus ``_WARM_KEPT`` of the smaller (measured: the replication reuses
    what the warm-up freed).
    """
    from analysis.experiment import _BYTES_FIXED, _WARM_KEPT, warmup_piece_days
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    tmr = load_scenario(SCENARIOS / "case" / "telenor-2018-tmr.toml")
    assert [warmup_piece_days(tmr.replace({"horizon.warmup_days": w})) for w in
            (0, 3, 5, 10, 15, 20, 40)] == [0, 5, 5, 5, 5, 10, 10]
    cold = static_estimate(tmr.replace({"horizon.warmup_days": 0}))
    run = cold.memory_bytes - _BYTES_FIXED
    assert static_estimate(tmr).memory_bytes == pytest.approx(
        _BYTES_FIXED + run + _WARM_KEPT * run * 5 / 20)
    two = static_estimate(tmr.replace({"horizon.days": 2}))  # the warm-up piece is larger
    assert two.memory_bytes == pytest.approx(_BYTES_FIXED + run * 5 / 20 + _WARM_KEPT * run
                                             * 2 / 20)


def test_the_report_is_in_the_announced_time(small):
    """A command that writes a report announces its time too; none without one."""
    from analysis.experiment import REPORT_REP_DAY_S, REPORT_S, REPORT_STRESS_S, report_seconds

    stressed = small.replace({"stress.enabled": True})
    days = small.horizon.days
    assert report_seconds("run", [small] * 3) == pytest.approx(
        REPORT_S["run"] + REPORT_REP_DAY_S["run"] * 3 * days)
    assert report_seconds("run", [small, stressed]) == pytest.approx(
        REPORT_S["run"] + REPORT_STRESS_S["run"] + REPORT_REP_DAY_S["run"] * 2 * days)
    assert report_seconds("compare", [small, stressed]) == REPORT_S["compare"]
    assert report_seconds("sweep", [small]) == 0.0
    said: list[str] = []
    guard = SizeGuard(notify=said.append, notify_after_s=0.0, pilot_after_s=1e9)
    without = guard.check([small], tasks=1, workers=1)
    guard.report = "run"
    with_report = guard.check([small], tasks=1, workers=1)
    assert with_report > without  # the report over the cores' share this process gets
    assert "report" not in said[0]
    assert re.search(r" on 1 worker\(s\) and the report \(about \d+ s\)", said[1])


def test_the_share_of_cores_reads_the_processes_running_now():
    """The load behind an estimate includes the runnable processes now, this one among them."""
    from analysis.experiment import _cores_free, _running_now

    now = _running_now(samples=2, gap_s=0.0)
    if now is None:
        pytest.skip("no /proc/loadavg on this system")
    assert now >= 1  # this process is running while it reads
    cores, others = _cores_free(1)
    assert 0 < cores <= 1 and others >= 0
    assert _cores_free(2)[0] >= cores  # two workers get at least what one does


def test_a_centre_of_a_few_dozen_agents_gets_a_smaller_fixed_cost_pilot():
    """erlang-c-small (27 agents): the fixed-cost pilot may go under MIN_PILOT_AGENTS.

    With the floor it is nearly as large as the time pilot, and the fixed cost of a
    replication cannot be told from the part that grows.
    """
    from analysis.experiment import (
        MIN_PILOT_AGENTS,
        SMALL_PILOT_AGENTS,
        SMALL_PILOT_CALLS,
        pilot_scenario,
        static_estimate,
    )
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    s = load_scenario(SCENARIOS / "validation" / "erlang-c-small.toml")
    large = static_estimate(pilot_scenario(s)).seconds
    floored = pilot_scenario(s, SMALL_PILOT_CALLS, SMALL_PILOT_AGENTS)
    assert sum(floored.staffing.head_counts().values()) >= MIN_PILOT_AGENTS
    assert large <= 1.5 * static_estimate(floored).seconds  # too close to split
    small = pilot_scenario(s, SMALL_PILOT_CALLS, SMALL_PILOT_AGENTS, least=1)
    assert sum(small.staffing.head_counts().values()) < MIN_PILOT_AGENTS
    assert large > 1.5 * static_estimate(small).seconds



def test_a_regimes_later_days_cost_more_than_its_pilot_day(small):
    """Under a regime, days after the first cost REGIME_LATER_DAYS of the pilot's cold day 0.

    The estimate is the pilots' fixed cost plus their time per unit, scaled by the static
    model and, for the 2 days after the first of 3, by ``REGIME_LATER_DAYS`` (measured:
    five days of policy/copc, the 2018 case and policy/team-level cost 1.20-1.23 times the
    estimate from day 0 alone).
    """
    from analysis import experiment
    from analysis.experiment import (
        COLLECT_PER_UNIT,
        REGIME_LATER_DAYS,
        estimate,
        pilot_fit,
        pilots,
    )

    ruled = small.replace({"horizon.days": 3, "measurement.level": "team",
                           "name": "regime-days"})
    assert ruled.policy_active
    est = estimate(ruled)
    lo, hi = pilots(ruled)
    timed = {d: s for (d, _, _), s in experiment._PILOTS.items()}  # any tables: one each
    t_lo, t_hi = timed[lo.digest()], timed[hi.digest()]
    assert t_lo.output > 0 and t_hi.collect == t_hi.output == 0  # the large one: simulated
    r_lo, r_hi = static_estimate(lo).seconds, static_estimate(hi).seconds
    speed = experiment._SPEED[1]  # the machine's speed the estimate used (kept 10 s)
    fixed, sim, collect = pilot_fit(t_lo, t_hi, r_lo, r_hi, COLLECT_PER_UNIT * speed)
    growth = 1 + (REGIME_LATER_DAYS - 1) * 2 / 3
    assert est.seconds == pytest.approx(fixed + (sim * growth + collect)
                                        * static_estimate(ruled).seconds)
    assert est.fixed_s == pytest.approx(fixed)


def test_the_pilot_fit_differences_only_the_simulation():
    """A simulation growing linearly with the static time gives back its slope.

    The small pilot's collecting and tables (the phases that vary most) go to the fixed
    cost only: however long they took, the slope does not move; collecting grows at the
    given rate; the fixed cost and the slopes times the small pilot's size add up to its
    whole time.
    """
    from analysis.experiment import PilotTime, pilot_fit

    r_small, r_large, sim, col = 0.01, 0.06, 3.0, 0.5

    def at(r: float, collect: float = 0.0, output: float = 0.0) -> PilotTime:
        return PilotTime(0.02 + sim * r, collect, output)

    small = at(r_small, 0.08, 0.1)
    fixed, slope, collect = pilot_fit(small, at(r_large), r_small, r_large, col)
    assert (slope, collect) == (pytest.approx(sim), col)
    assert fixed + (slope + collect) * r_small == pytest.approx(small.total)
    # the small pilot's collecting and tables twice as long: the slopes stay, fixed grows
    slower = at(r_small, 0.16, 0.2)
    fixed2, slope2, _ = pilot_fit(slower, at(r_large), r_small, r_large, col)
    assert slope2 == pytest.approx(sim) and fixed2 == pytest.approx(fixed + 0.18)


def test_a_pilot_fit_that_cannot_split_scales_all_of_the_large_pilot():
    """Two sizes too close, or a simulation no dearer at the larger size: no split.

    Then all of the large pilot's simulation scales with the size (an upper bound), and
    the small pilot's collecting and tables are the fixed cost, never a negative one.
    """
    from analysis.experiment import PilotTime, pilot_fit

    small, large = PilotTime(0.2, 0.1, 0.05), PilotTime(0.25, 0.0)
    assert pilot_fit(small, large, 0.1, 0.14, 0.5) == (
        pytest.approx(0.15), pytest.approx(0.25 / 0.14), 0.5)
    assert pilot_fit(small, PilotTime(0.1, 0.0), 0.01, 0.12, 0.5) == (
        pytest.approx(0.15), pytest.approx(0.1 / 0.12), 0.5)


def test_a_slow_speed_reading_is_taken_again_and_the_least_kept():
    """A reading over SLOW_SPEED is read again after a pause, and the least kept.

    A fast reading, or SPEED_TRIES slow ones (a slower machine), end it.
    """
    from analysis.experiment import SPEED_TRIES, least_reading

    def reader(values: list[float]):
        it = iter(values)
        return lambda: next(it)

    pauses: list[None] = []
    assert least_reading(reader([1.9, 1.0, 5.0]), lambda: pauses.append(None)) == 1.0
    assert len(pauses) == 1
    assert least_reading(reader([1.0, 5.0]), lambda: pauses.append(None)) == 1.0
    assert len(pauses) == 1  # a fast first reading: no pause, no second reading
    slow = [2.0, 1.8, 1.9, 0.1]  # the fourth is never read
    assert least_reading(reader(slow), lambda: pauses.append(None)) == 1.8
    assert len(pauses) == 1 + SPEED_TRIES - 1


def test_a_process_pool_about_to_start_adds_its_start_to_the_estimate():
    """A fresh pool for several tasks or warm-ups costs POOL_START_S; one task runs here."""
    from analysis.experiment import (
        POOL_START_S,
        ProcessExecutor,
        SerialExecutor,
        pool_start_seconds,
    )

    pool = ProcessExecutor(2)
    assert pool_start_seconds(pool, 4, 0) == POOL_START_S
    assert pool_start_seconds(pool, 1, 2) == POOL_START_S  # warm-ups on the pool
    assert pool_start_seconds(pool, 1, 1) == 0.0  # a batch of one runs in this process
    assert pool_start_seconds(SerialExecutor(), 4, 4) == 0.0


def test_ccsim_run_announces_its_report_and_none_without_one(capsys, small_file, tmp_path):
    """``ccsim run`` counts its report.html in the announced total; ``--no-write`` does not."""
    from analysis import experiment
    from analysis.cli import main

    after, experiment.guard.notify_after_s = experiment.guard.notify_after_s, 0.0
    try:
        assert main(["run", str(small_file), "--reps", "1", "--no-write"]) == 0
        bare = capsys.readouterr().err
        assert main(["run", str(small_file), "--reps", "1", "--out", str(tmp_path / "o")]) == 0
        written = capsys.readouterr().err
    finally:
        experiment.guard.notify_after_s = after
    assert "ccsim run: estimate: about " in bare and "report" not in bare
    assert re.search(r" on 1 worker\(s\) and the report \(about \d+ s\)", written)
    assert experiment.guard.report is None  # reset when the command ends


def test_the_whole_commands_memory_adds_the_pool_or_the_replication_and_the_report():
    """The command's peak: this process, then the pool (or the replication here), the report.

    On a pool: this process as it is now, the fork server (``POOL_SERVER_BYTES``) and one
    replication per worker at once; here: what this process held before its pilots plus
    the replication (it reuses what the pilots freed); then the report's figures here.
    """
    from analysis.experiment import POOL_SERVER_BYTES, REPORT_BYTES, WORKER_BYTES

    mib = 2**20
    guard = SizeGuard()
    pool = 170 * mib + POOL_SERVER_BYTES + 2 * (60 * mib + WORKER_BYTES)
    assert guard.command_memory(60 * mib, 2, True, now=170 * mib, before=140 * mib) == pool
    # here: 140 + 60 = 200 over the 170 held now; a small replication fits in what the
    # pilots left (170)
    assert guard.command_memory(60 * mib, 1, False, now=170 * mib, before=140 * mib) == (
        200 * mib)
    assert guard.command_memory(10 * mib, 1, False, now=170 * mib, before=140 * mib) == (
        170 * mib)
    guard.report = "run"
    assert guard.command_memory(60 * mib, 1, False, now=170 * mib, before=140 * mib) == (
        200 * mib + REPORT_BYTES["run"])
    # after a pool's replications only this process draws the report: the pool is larger
    assert guard.command_memory(60 * mib, 2, True, now=170 * mib, before=140 * mib) == pool
    guard.report = "negotiate-pdf"  # its pages and PDF while its pool still holds workers
    assert guard.command_memory(60 * mib, 2, True, now=170 * mib, before=140 * mib) == (
        pool + REPORT_BYTES["negotiate-pdf"])


def test_the_logged_estimate_scales_with_days_and_tasks_and_keeps_its_fixed_costs(
        small, tmp_path, monkeypatch):
    """Twice the days or the tasks: twice the replications' CPU; report and pool stay fixed.

    Read from ``CCSIM_ESTIMATE_LOG`` (what ``bench_estimate --commands`` sets against whole
    commands): the CPU left is the replications', the report's and the pool's start, the
    fixed ones at this machine's measured speed, and the announced total includes them.
    """
    import json

    from analysis import experiment
    from analysis.experiment import POOL_START_S, REPORT_S

    log = tmp_path / "estimates.jsonl"
    monkeypatch.setenv("CCSIM_ESTIMATE_LOG", str(log))
    monkeypatch.setattr(experiment, "_SPEED", [])  # measured afresh, as in a new command
    guard = SizeGuard(pilot_after_s=1e9)  # the static model: no pilot, exact ratios
    guard.report = "compare"
    two = small.replace({"horizon.days": 2})
    four = small.replace({"horizon.days": 4})
    guard.check([two], tasks=2, workers=2, pool_start_s=POOL_START_S)
    guard.check([four], tasks=2, workers=2, pool_start_s=POOL_START_S)
    guard.check([two], tasks=4, workers=2, pool_start_s=POOL_START_S)
    a, b, c = (json.loads(line) for line in log.read_text().splitlines())
    for r in (a, b, c):
        # a machine between 5 times faster and 20 times slower than the calibration's
        assert 0.2 < r["speed"] < 20
        assert r["report_cpu_s"] == pytest.approx(REPORT_S["compare"] * r["speed"])
        assert r["pool_cpu_s"] == pytest.approx(POOL_START_S * r["speed"])
        assert r["cpu_left_s"] == pytest.approx(r["rep_cpu_s"] + r["report_cpu_s"]
                                                + r["pool_cpu_s"])
        assert r["total_s"] >= r["report_s"] + r["rep_cpu_s"] / 2
    # the static model's time at the speed measured (once per 10 s: here, for all three)
    unit = [r["rep_cpu_s"] / r["speed"] for r in (a, b, c)]
    assert unit[1] == pytest.approx(2 * unit[0])
    assert unit[2] == pytest.approx(2 * unit[0])
    assert b["memory_bytes"] > a["memory_bytes"]  # the command's adds it twice (2 workers)
