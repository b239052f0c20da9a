"""`ccsim sensitivity` (global sensitivity of a paired comparison) and `ccsim docs --section`.

Small and fast: a two-hour centre of 10 agents under the strict individual regime (A) and
the team-level regime (B), stress on, one or two days, few trajectories.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.experiment import ProcessExecutor, SerialExecutor, run_experiment
from analysis.sensitivity import (
    SWITCHES,
    describe,
    design,
    find_flips,
    indices,
    inert,
    parameters,
    run_sensitivity,
    select,
    sign_summary,
    top_parameters,
)
from analysis.store import ReplicationStore
from sim.scenario import Stress, load_scenario

A_TOML = """\
name = "strict"
description = "small centre, individual adherence used punitively"
rationale = "tests"

[horizon]
days = 2
warmup_days = 0  # cold: these tests are about the method, not the steady state
open = "08:00"
hours = 2
interval_minutes = 30

[demand]
calls_per_day = 300
profile = [1, 2, 2, 1]
busyness_cv = 0.1

[staffing.shifts.a]
start = "08:00"
hours = 2
agents = 6

[staffing.shifts.b]
start = "08:30"
hours = 1.5
agents = 4

[behaviour]
login_delay_max_s = 240

[teams]
size = 5

[measurement]
level = "individual"

[monitoring]
feedback = "punitive"

[stress]
enabled = true
"""

B_TOML = """\
extends = "strict.toml"
name = "team"
description = "the same centre, team-level measurement"
rationale = "tests"

[measurement]
level = "team"
"""

FEW = ("alpha", "load_talk", "hostile_impulse")


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    """A.toml and B.toml in a folder of their own."""
    d = tmp_path_factory.mktemp("scen")
    (d / "strict.toml").write_text(A_TOML)
    (d / "team.toml").write_text(B_TOML)
    return d / "strict.toml", d / "team.toml"


@pytest.fixture(scope="session")
def pair(files):
    """The two scenarios, loaded."""
    return tuple(load_scenario(p, {"horizon.days": 1}) for p in files)


# --------------------------------------------------------------------------- docs


def test_docs_section_json_shape_and_a_known_default(capsys):
    """Every stress field: name, default, unit, description, source; alpha's default 0.05."""
    assert main(["docs", "--section", "stress", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(Stress.model_fields)
    for r in rows:
        assert {"name", "default", "unit", "description", "source"} <= set(r), r
        assert r["unit"] and r["description"] and r["source"], r["name"]
        if r["plausible"] is not None:
            lo, hi = r["plausible"]
            assert lo <= r["default"] <= hi, r["name"]
    alpha = next(r for r in rows if r["name"] == "alpha")
    assert alpha["default"] == 0.05 and alpha["path"] == "stress.alpha"
    assert alpha["unit"] == "share per day" and alpha["plausible"] == [0.025, 0.1]
    assert next(r for r in rows if r["name"] == "tau_work_h")["unit"] == "hours"


def test_docs_nested_sections_are_dotted_and_unknown_section_lists_known(capsys):
    """measurement.adherence fields are dotted; a unit comes from the name's suffix."""
    assert main(["docs", "--section", "measurement", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    thr = rows["adherence.exception_threshold_s"]
    assert thr["default"] == 120.0 and thr["unit"] == "seconds"
    assert main(["docs", "--section", "stress"]) == 0  # Markdown, with unit and range
    md = capsys.readouterr().out
    assert "| `stress.alpha` | 0.05 | share per day | 0.025 to 0.1 |" in md
    assert main(["docs", "--section", "nope", "--json"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "known:" in err and "stress" in err and "measurement" in err


# --------------------------------------------------------------------------- design


def test_morris_design_covers_each_parameter_range():
    """Every parameter takes both ends of its plausible range; Sobol stays inside it."""
    params = parameters("stress")
    k = len(params)
    assert k >= 20 and all(p.low < p.default < p.high or p.high == p.default
                           for p in params)
    x = design(params, "morris", 20, seed=3)
    assert x.shape == (20 * (k + 1), k)
    for j, p in enumerate(params):
        grid = np.linspace(p.low, p.high, 4)  # Morris's 4 levels, both ends included
        assert np.isclose(x[:, j][:, None], grid[None, :]).any(axis=1).all(), p.name
        assert x[:, j].min() == pytest.approx(p.low) and x[:, j].max() == pytest.approx(p.high)
    s = design(params, "sobol", 8, seed=3)
    assert s.shape == (8 * (k + 2), k)
    lows, highs = np.array([p.low for p in params]), np.array([p.high for p in params])
    assert (s >= lows).all() and (s <= highs).all()
    spans = (s.max(axis=0) - s.min(axis=0)) / (highs - lows)
    assert (spans > 0.5).all()  # spread over the range, not stuck at the default
    np.testing.assert_array_equal(x, design(params, "morris", 20, seed=3))  # deterministic
    with pytest.raises(ValueError, match="power of 2"):
        design(params, "sobol", 6)
    with pytest.raises(ValueError, match="not a varied parameter.*varied: "):
        parameters("stress", ["high_threshold"])
    with pytest.raises(ValueError, match="nothing to vary"):
        parameters("horizon")


# --------------------------------------------------------------------------- summaries


def test_sign_summary_counts_and_words_on_synthetic_differences():
    """Flips, one-signed and all-equal cases, said in words; CIs that exclude zero counted."""
    s = sign_summary([-0.2, -0.1, 0.05, 0.0, math.nan], [0.05, 0.2, 0.01, 0.0, math.nan])
    assert (s.points, s.lower, s.higher, s.equal, s.missing) == (5, 2, 1, 1, 1)
    assert (s.min, s.max, s.lower_sure, s.higher_sure) == (-0.2, 0.05, 1, 1) and s.flips
    text = describe("stress_mean", s, "A", "B", ["alpha"])
    assert text.startswith("stress_mean: the sign flips: B is lower than A at 2 of 4 design "
                           "points (50%) and higher at 1 (25%), equal at 1 (25%)")
    assert "no value at 1 point" in text and text.endswith("depends most on alpha")
    d = s.as_dict()
    assert d["share_lower"] == 0.5 and d["flips"] is True
    one = sign_summary([-0.3, -0.1, -0.2])
    assert not one.flips
    assert describe("stress_mean", one, "A", "B", ["alpha", "load_talk"]) == (
        "stress_mean: B is lower than A at all 3 design points (B - A from -0.3 to -0.1; one "
        "replication per point: no CI); the sign never flips; the answer depends most on "
        "alpha, load_talk")
    sure = sign_summary([-0.3, -0.1, -0.2], [0.1, 0.2, 0.1])
    assert "(B - A from -0.3 to -0.1; the 95% CI excludes zero at 2)" in describe(
        "stress_mean", sure, "A", "B", [])
    same = sign_summary([0.0, 0.0])
    assert "equal at all 2 design points" in describe("service_level", same, "A", "B", [])


def test_constructed_flip_is_found_and_blamed_on_its_parameter():
    """B - A = 10 (alpha - 0.1) + 0.01 load_talk: negative for small alpha, positive for large.

    The summary says the sign flips, the share of each sign matches the design, and alpha
    ranks first (Morris mu* and Sobol ST).
    """
    params = parameters("stress", ["alpha", "load_talk", "noise_sd"])
    for method, n in (("morris", 10), ("sobol", 64)):
        x = design(params, method, n, seed=5)
        col = {p.name: x[:, j] for j, p in enumerate(params)}  # the section's order
        y = 10 * (col["alpha"] - 0.1) + 0.01 * col["load_talk"]
        table = indices(params, x, y, method, seed=5)
        assert list(table["parameter"])[0] == "alpha"
        assert top_parameters(table, method) == ["alpha"]
        noise = table.set_index("parameter").loc["noise_sd"]
        assert (noise["mu_star"] if method == "morris" else noise["ST"]) == pytest.approx(
            0, abs=1e-3)
        s = sign_summary(y)
        assert s.flips and s.lower == int((y < 0).sum()) and s.higher == int((y > 0).sum())
        assert "the sign flips" in describe("x", s, "A", "B", top_parameters(table, method))


# --------------------------------------------------------------------------- runs


@pytest.mark.heavy
def test_command_runs_end_to_end_and_reports_every_parameter(files, tmp_path, capsys):
    """Every stress parameter that can act in the pair is ranked for both default KPIs.

    The others are named with the reason (here: no recording, no scoring, no voluntary
    level...); the files are written.
    """
    a, b = files
    out = tmp_path / "sens"
    switches = [x for sw in SWITCHES["stress"] for x in ("--set", f"stress.{sw}=true")]
    assert main(["sensitivity", str(a), str(b), "--trajectories", "2", "--reps", "1",
                 "--days", "1", "--out", str(out), "--executor", "serial", "--json",
                 "--method", "morris", "--section", "stress", *switches]) == 0
    res = json.loads(capsys.readouterr().out)
    on = {f"stress.{sw}": True for sw in SWITCHES["stress"]}
    kept, skipped = select(*(load_scenario(p, {**on, "horizon.days": 1}) for p in files),
                           "stress")
    assert res["not_varied"] == {k: list(v) for k, v in skipped.items()}
    assert res["not_varied"]["it acts only when audio and screen are recorded, which holds "
                             "in neither scenario"] == ["monitoring_load_audio_screen"]
    k = len(kept)
    assert 25 <= k < len(parameters("stress"))
    assert res["points"] == 2 * (k + 1) and res["replications"] == 1
    assert res["replications_run"] == 2 * res["distinct_points"]
    names = {p.name for p in kept}
    for kpi in ("stress_mean", "service_level"):
        got = res["kpis"][kpi]
        assert {r["parameter"] for r in got["indices"]} == names
        assert got["summary"].startswith(f"{kpi}: ")
    sm = res["kpis"]["stress_mean"]
    assert sm["signs"]["lower"] + sm["signs"]["higher"] + sm["signs"]["equal"] == res["points"]
    design_csv = pd.read_csv(out / "design.csv")
    assert len(design_csv) == res["points"] and "stress_mean_diff" in design_csv
    assert json.loads((out / "sensitivity.json").read_text())["kind"] == "sensitivity"
    assert len(pd.read_csv(out / "indices.csv")) == 2 * k


# --------------------------------------------------------------------------- issue 17

#: every constant between a regime and a person (sim/people/stress.py, sim/regime/*)
REGIME_CONSTANTS = (
    "stress.monitoring_load_team", "stress.monitoring_load_voluntary",
    "stress.monitoring_load_individual", "stress.monitoring_load_targets",
    "stress.monitoring_load_audio", "stress.monitoring_load_audio_screen",
    "stress.monitoring_load_listen_in", "stress.developmental_factor", "stress.control_none",
    "stress.control_team", "stress.control_voluntary", "stress.control_individual",
    "stress.control_flexible_breaks", "stress.warning_threat", "stress.ranking_impulse",
    "stress.chase_impulse", "stress.evaluation_impulse_punitive",
    "stress.evaluation_impulse_developmental", "stress.threat_load",
    "stress.deferred_break_load", "monitoring.score_resolved", "monitoring.score_unresolved",
    "monitoring.evaluator_noise_sd", "supervisor.review_delay_minutes",
    "supervisor.chase_minutes", "supervisor.feedback_minutes", "supervisor.warning_minutes",
    "supervisor.escalation_interval_days", "responses.defer_break_logit",
    "responses.defer_break_per_warning", "responses.defer_break_per_breach",
    "responses.aht_talk_factor", "responses.aht_acw_factor", "responses.aht_extra_repeat",
    "responses.release_probability", "responses.release_talk_share",
)


def test_every_regime_constant_is_a_ranged_parameter(capsys):
    """Each constant between a regime and a person has a range, a unit and a project source.

    Its default is today's constant (a few spot values), and ``ccsim docs`` lists it with
    default, unit, range and source.
    """
    params = {p.path: p for p in parameters()}
    missing = [c for c in REGIME_CONSTANTS if c not in params]
    assert not missing, missing
    spot = {"stress.monitoring_load_audio_screen": (0.14, 0.07, 0.35),
            "stress.control_individual": (0.2, 0.1, 0.4),
            "stress.developmental_factor": (0.6, 0.3, 1.0),
            "stress.warning_threat": (1.0, 0.5, 1.5),
            "supervisor.review_delay_minutes": (60.0, 15.0, 240.0),
            "monitoring.score_unresolved": (0.4, 0.2, 0.6)}
    for path, (default, lo, hi) in spot.items():
        p = params[path]
        assert (p.default, p.low, p.high) == (default, lo, hi), path
    for section in ("stress", "monitoring", "supervisor", "responses", "measurement"):
        assert main(["docs", "--section", section, "--json"]) == 0
        for r in json.loads(capsys.readouterr().out):
            assert r["unit"] or r["plausible"] is None, r["path"]
            assert not any(w in r["source"] for w in ("STRESS-EVIDENCE", "CASE.md",
                                                      "DESIGN.md")), r["path"]
            if r["path"] in REGIME_CONSTANTS:
                assert r["plausible"] is not None and r["source"], r["path"]
    assert main(["docs"]) == 0
    assert ("| `stress.monitoring_load_audio_screen` | 0.14 | share of load | 0.07 to 0.35 | "
            "docs/evidence.md §5, §6 proposes 0.35 (week 1); calibrated at steady state "
            "(docs/stress.md, Calibration) |") in capsys.readouterr().out


def test_select_names_why_a_parameter_is_not_varied(pair):
    """A parameter the pair differs in, or one that cannot act in either, is left out."""
    a, b = pair
    kept, skipped = select(a, b.replace({"stress.load_talk": 1.2}))
    names = {p.name for p in kept}
    assert skipped["its value differs between the two scenarios (it is what they "
                   "compare)"] == ("stress.load_talk",)
    assert "stress.monitoring_load_team" in names  # B is team level
    assert "stress.control_individual" in names and "stress.chase_impulse" in names
    assert "stress.control_voluntary" not in names and "stress.load_talk" not in names
    absent = skipped["it acts only when stress.absence is on, which holds in neither scenario"]
    assert absent == tuple(f"stress.{n}" for n in SWITCHES["stress"]["absence"])
    # alpha by its own name finds stress.alpha; a name no section has is refused
    assert [p.path for p in parameters(only=["alpha"])] == ["stress.alpha"]
    with pytest.raises(ValueError, match="--param 'nope': not a varied parameter of any "
                       "section"):
        parameters(only=["nope"])


def test_find_flips_interpolates_the_root_on_each_side():
    """A linear difference flips exactly at its root; a U-shaped one on both sides."""
    x = [0.05, 0.1625, 0.275, 0.35, 0.3875, 0.5]
    lin = [10 * (v - 0.12) for v in x]
    (f,) = find_flips("k", "p", 0.35, x, lin)
    assert (f.side, f.bracket) == ("below", (0.05, 0.1625))
    assert f.at == pytest.approx(0.12, abs=1e-12)
    assert f.words() == "p is below 0.12 (default 0.35)"
    u = [(v - 0.2) * (v - 0.4) for v in x]  # negative at 0.35, positive at both ends
    low, high = find_flips("k", "p", 0.35, x, u)
    assert (low.side, low.bracket, high.side, high.bracket) == (
        "below", (0.1625, 0.275), "above", (0.3875, 0.5))
    assert low.bracket[0] <= low.at <= low.bracket[1] and 0.3875 <= high.at <= 0.5
    # a sign change smaller than the noise of one point is found but not clear
    small = [0.5, -0.01, 0.2, 0.3, 0.4, 0.5]
    (noisy,) = find_flips("k", "p", 0.35, x, small, noise=0.05)
    assert (noisy.bracket, noisy.clear) == ((0.1625, 0.275), False)
    assert find_flips("k", "p", 0.35, x, small, noise=0.005)[0].clear
    assert find_flips("k", "p", 0.35, x, [0.0] * 6) == []  # no sign at the default
    assert find_flips("k", "p", 0.35, x, [1.0] * 6) == []  # never flips


AUDIO_TOML = """\
extends = "strict.toml"
name = "audio"
description = "the strict centre, half the calls recorded as audio"
rationale = "tests"

[monitoring]
feedback = "developmental"
recording = "audio"
recorded_share = 0.5
"""

SCREEN_TOML = """\
extends = "audio.toml"
name = "screen"
description = "the same, audio and screen recorded"
rationale = "tests"

[monitoring]
recording = "audio_screen"
"""


def test_two_stage_finds_the_driver_and_where_it_flips(files, tmp_path, capsys):
    """A pair differing only in recording: the screen's load ranks first and flips at 0.08.

    B - A in stress is (m_B - m_A) x strain: m_A = max(individual 0.06, audio 0.08) = 0.08
    and m_B = monitoring_load_audio_screen, so the difference is exactly zero at 0.08 and
    negative below; the queue is the same in both (stress feedback off), so service level
    has no sign to flip.
    """
    d = files[0].parent
    (d / "audio.toml").write_text(AUDIO_TOML)
    (d / "screen.toml").write_text(SCREEN_TOML)
    out = tmp_path / "two"
    assert main(["sensitivity", str(d / "audio.toml"), str(d / "screen.toml"), "--days", "1",
                 "--reps", "1", "--trajectories", "2", "--samples", "0", "--levels", "5",
                 "--param", "monitoring_load_audio_screen", "--param", "load_talk",
                 "--param", "noise_sd", "--executor", "serial", "--out", str(out),
                 "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["method"] == "two-stage"
    ranked = res["screening"]["kpis"]["stress_mean"]["indices"]
    assert ranked[0]["parameter"] == "stress.monitoring_load_audio_screen"
    sm = res["kpis"]["stress_mean"]
    assert sm["at_defaults"] > 0 and sm["swept"][0] == "stress.monitoring_load_audio_screen"
    (flip,) = sm["flips"]
    assert (flip["parameter"], flip["side"], flip["bracket"], flip["clear"]) == (
        "stress.monitoring_load_audio_screen", "below", [0.07, 0.14], True)
    assert sm["at_defaults"] - sm["at_defaults_half_width"] > 0  # 5 replications: a sign
    assert flip["bracket"][0] <= flip["at"] <= flip["bracket"][1]
    assert "the stress_mean difference flips if stress.monitoring_load_audio_screen is " \
           f"below {flip['at']:.3g} (default 0.14)" in res["headline"]
    assert res["kpis"]["service_level"]["at_defaults"] == 0
    assert res["kpis"]["service_level"]["flips"] == []
    assert set(res["kpis_not_analysed"]) == {"absence_rate", "attrition_rate"}
    assert (out / "sweeps.csv").exists() and not (out / "sobol_design.csv").exists()
    # the true root: at 0.08 both scenarios carry the same load, so the difference is 0
    a, b = (load_scenario(d / f, {"horizon.days": 1,
                                  "stress.monitoring_load_audio_screen": 0.08})
            for f in ("audio.toml", "screen.toml"))
    exp = run_experiment([a, b], 1, 1, tables=())
    assert exp.kpi_rows(0)[0]["stress_mean"] == exp.kpi_rows(1)[0]["stress_mean"]


def test_bad_requests_are_one_clear_error(files, tmp_path, capsys):
    """Unknown KPI or parameter, stress off in both: exit 2 and a message saying why."""
    a, b = files
    base = ["sensitivity", str(a), str(b), "--executor", "serial", "--days", "1"]
    assert main([*base, "--kpi", "nope", "--out", str(tmp_path / "1")]) == 2
    assert "unknown KPI 'nope'" in capsys.readouterr().err
    assert main([*base, "--param", "nope", "--out", str(tmp_path / "2")]) == 2
    assert "--param 'nope'" in capsys.readouterr().err
    assert main([*base, "--section", "stress", "--set", "stress.enabled=false",
                 "--out", str(tmp_path / "3")]) == 2
    assert "stress.enabled is false in both" in capsys.readouterr().err
    assert main([*base, "--samples", "6", "--out", str(tmp_path / "4")]) == 2
    assert "--samples 6: Sobol needs a power of 2" in capsys.readouterr().err


def _frames(res):
    return res.design_table(), res.indices_table()


#: the small design the runs below share: two trajectories of three parameters, paired
SMALL_DESIGN = {"trajectories": 2, "reps": 2, "seed": 3, "only": FEW}


@pytest.fixture(scope="module")
def serial(pair):
    """The small design run once on one core, uninterrupted: what the other runs must equal."""
    a, b = pair
    return run_sensitivity(a, b, executor=SerialExecutor(), **SMALL_DESIGN)


def test_serial_equals_parallel(pair, serial):
    """The same seed gives identical design tables and indices on one core or a pool."""
    a, b = pair
    pool = ProcessExecutor(2)
    try:
        parallel = run_sensitivity(a, b, executor=pool, **SMALL_DESIGN)
    finally:
        pool.close()
    for x, y in zip(_frames(serial), _frames(parallel), strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    assert serial.texts == parallel.texts
    # stress feedback is off: the queue is the same at every point, so service level's
    # difference depends on no parameter
    sl = serial.design_table()["service_level_diff"]
    assert sl.nunique() == 1 and (serial.tables["service_level"]["mu_star"] == 0).all()
    assert "none of the parameters moves" in serial.texts["service_level"]


def test_switch_table_names_real_parameters(pair):
    """Every parameter the switch table leaves out exists, has a range, and its switch too."""
    varied = {p.name for p in parameters("stress")}
    for switch, names in SWITCHES["stress"].items():
        assert switch in Stress.model_fields
        assert set(names) <= varied, set(names) - varied
    a, b = pair
    assert set(inert("stress", pair)) == {"absence", "feedback", "attrition"}
    on = a.replace({"stress.absence": True})
    assert set(inert("stress", (on, b))) == {"feedback", "attrition"}


def test_resume_after_interruption_does_not_recompute(pair, serial, tmp_path):
    """Interrupted after 5 replications: the next run loads those 5 and runs only the rest."""
    a, b = pair
    kw = {**SMALL_DESIGN, "executor": SerialExecutor()}
    store = ReplicationStore(tmp_path / "replications")
    done = []

    def stop_after_five(n: int) -> None:
        done.append(n)
        if len(done) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sensitivity(a, b, store=store, progress=stop_after_five, **kw)
    again = run_sensitivity(a, b, store=store, **kw)
    total = again.distinct * 2 * 2
    assert (again.resumed, again.ran) == (5, total - 5)
    for x, y in zip(_frames(again), _frames(serial), strict=True):  # as if uninterrupted
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    third = run_sensitivity(a, b, store=store, **kw)
    assert (third.resumed, third.ran) == (total, 0)
