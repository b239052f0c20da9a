"""Paired comparisons: CRN sharpens differences; statistics helpers; `ccsim compare`."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.cli import main
from analysis.experiment import run_experiment
from analysis.stats import (
    distinguishable,
    format_difference,
    holm,
    hotelling_test,
    joint_test,
    paired_difference,
    paired_differences,
    replications_needed,
    t_interval,
    target_reached,
    welch_difference,
)
from analysis.store import MARKER, ReplicationStore, release_outputs
from sim.measure.kpi import KPIS
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS


def test_crn_paired_ci_at_least_twice_narrower_than_welch(base):
    """Two scenarios differing only in agents: paired CI >= 2x narrower than unpaired."""
    a = base.replace({"horizon.days": 1, "staffing.agents": 95, "name": "a95"})
    b = a.replace({"staffing.agents": 100, "name": "b100"})
    exp = run_experiment([a, b], 1, 6)
    for kpi in ("service_level", "asa_s", "abandon_rate", "occupancy"):
        x = [r[kpi] for r in exp.kpi_rows(0)]
        y = [r[kpi] for r in exp.kpi_rows(1)]
        paired, welch = paired_difference(x, y), welch_difference(x, y)
        assert math.isclose(paired.mean, welch.mean, rel_tol=1e-9, abs_tol=1e-12)
        assert paired.half_width * 2 <= welch.half_width, (
            f"{kpi}: paired half-width {paired.half_width:.4g}, Welch {welch.half_width:.4g}")


def test_paired_and_welch_match_textbook():
    """Paired CI is the t interval of differences; Welch matches scipy's Welch test df."""
    a, b = [1.0, 2.0, 3.0, 4.0], [1.5, 2.7, 3.4, 4.9]
    p = paired_difference(a, b)
    assert p == t_interval(np.subtract(b, a))
    assert distinguishable(p) is True
    w = welch_difference(a, b)
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert math.isclose(w.ci_low, ci.low) and math.isclose(w.ci_high, ci.high)
    assert distinguishable(w) is False
    assert distinguishable(t_interval([1.0])) is None
    with pytest.raises(ValueError, match="equal replications"):
        paired_difference([1.0, 2.0], [1.0])


def test_replications_needed_reaches_the_half_width():
    """The n found by iterating n = ceil((t_{n-1} s / h)^2) is the smallest that works."""
    rng = np.random.default_rng(0)
    pilot = rng.normal(0.8, 0.05, size=10)
    s = pilot.std(ddof=1)
    for h in (0.05, 0.02, 0.005):
        n = replications_needed(pilot, h)
        assert stats.t.ppf(0.975, n - 1) * s / math.sqrt(n) <= h
        if n > 2:
            assert stats.t.ppf(0.975, n - 2) * s / math.sqrt(n - 1) > h
    assert replications_needed([1.0, 1.0, 1.0], 0.1) == 2
    with pytest.raises(ValueError):
        replications_needed([1.0], 0.1)
    assert target_reached([1.0, 1.1, 0.9, 1.0], 1.0)
    assert not target_reached([1.0, 1.1, 0.9, 1.0], 0.01)


def compare_args(tmp_path, *extra):
    """A quick two-scenario comparison (one day, 3 replications, serial)."""
    return ["compare", str(SCENARIOS / "base.toml"), str(SCENARIOS / "more-agents.toml"),
            "--days", "1", "--reps", "3", "--executor", "serial", "--out", str(tmp_path),
            *extra]


@pytest.fixture(scope="session")
def stored_pair(tmp_path_factory) -> Path:
    """The replications of ``compare_args``, simulated once (per worker) and stored.

    The tests of what ``compare`` prints and chooses copy them into their own output folder
    first, so the command resumes these six days instead of simulating them again (resumed
    replications are the fresh ones: test_compare_table_and_resume_message, tests of the
    store). Session-scoped: a copy is cheap, so its readers need not share one worker.
    """
    out = tmp_path_factory.mktemp("compare-pair")
    assert main(compare_args(out, "--quiet")) == 0
    release_outputs()
    return out / "replications"


def resume_from(stored: Path, out: Path) -> Path:
    """``out`` with a copy of the stored replications (and ccsim's marker), to resume."""
    shutil.copytree(stored, out / "replications")
    shutil.copy(stored.parent / MARKER, out / MARKER)  # a folder ccsim wrote
    return out


def test_compare_json_contract_and_files(capsys, tmp_path, stored_pair):
    """`--json` prints the comparison; p-values are paired t-tests, the secondary ones Holm."""
    assert main(compare_args(resume_from(stored_pair, tmp_path), "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"baseline", "confidence", "primary", "replications", "selection",
                        "scenarios", "differences", "inputs", "start"}
    assert out["inputs"]["re_derived"] == 6 and out["inputs"]["verified"] is False
    assert out["baseline"] == "base" and out["primary"] == ["service_level"]
    assert out["confidence"] == 0.95 and out["replications"] == [0, 1, 2]
    assert out["selection"] is None
    assert set(out["scenarios"]) == {"base", "more-agents"}
    assert set(out["differences"]) == {"more-agents"}
    for name, entry in out["scenarios"].items():
        assert set(entry) == {"kpis"} and set(entry["kpis"]) == set(KPIS), name
        for e in entry["kpis"].values():
            assert set(e) - {"dropped"} == {"mean", "ci_low", "ci_high"}
    diff = out["differences"]["more-agents"]
    assert set(diff) == set(KPIS)
    assert diff["offered"] == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p_value": 1.0,
                               "p_holm": 1.0, "test": "secondary (Holm)",
                               "differs": False}, "CRN: same calls"
    assert diff["occupancy"]["ci_high"] < 0, "more agents, lower occupancy"
    kpis = pd.read_parquet(tmp_path / "kpis.parquet")
    assert list(kpis["scenario"]) == ["base"] * 3 + ["more-agents"] * 3
    a = kpis[kpis["scenario"] == "base"].set_index("replication")
    b = kpis[kpis["scenario"] == "more-agents"].set_index("replication")
    raw = {}
    for k in KPIS:
        d = (b[k] - a[k]).dropna()
        if len(d) == 0:  # a KPI with no value here (e.g. no warnings to share out)
            raw[k] = math.nan
            assert diff[k]["p_value"] is None and diff[k]["p_holm"] is None, k
            continue
        raw[k] = (1.0 if (d == 0).all() else stats.ttest_1samp(d, 0).pvalue)
        assert math.isclose(diff[k]["p_value"], raw[k], rel_tol=1e-6, abs_tol=1e-12), k
    # the Holm family: every secondary KPI that has a p-value
    secondary = [k for k in KPIS if k != "service_level" and not math.isnan(raw[k])]
    want = holm_by_closed_testing([raw[k] for k in secondary])
    for k, w in zip(secondary, want, strict=True):
        assert math.isclose(diff[k]["p_holm"], w, rel_tol=1e-6, abs_tol=1e-12), k
        assert diff[k]["differs"] == (w < 0.05) and diff[k]["test"] == "secondary (Holm)"
    sl = diff["service_level"]
    assert sl["test"] == "primary" and sl["p_holm"] is None
    assert sl["differs"] == (not sl["ci_low"] <= 0 <= sl["ci_high"]) == (sl["p_value"] < 0.05)
    assert json.loads((tmp_path / "comparison.json").read_text()) == out
    assert (tmp_path / "report.html").is_file()
    assert (tmp_path / "figures" / "intraday_service_level.png").is_file()


def test_compare_table_and_resume_message(capsys, tmp_path):
    """The text table shows both scenarios, the paired difference in pp, and its verdict."""
    assert main(compare_args(tmp_path, "--quiet")) == 0
    text = capsys.readouterr().out
    for word in ("more-agents - base", "differs", "Holm p", "primary", "secondary",
                 "Holm-adjusted", *KPIS, "report written to", "more-agents against base"):
        assert word in text, word
    sl_row = next(line for line in text.splitlines() if line.startswith("service_level *"))
    assert re.search(r"[+-]\d+\.\d\d pp\s+\[[+-]\d+\.\d\d pp, [+-]\d+\.\d\d pp\]", sl_row), sl_row
    assert main(compare_args(tmp_path, "--quiet")) == 0
    assert "resumed: 6 replication(s)" in capsys.readouterr().out


def test_compare_primary_option(capsys, tmp_path, stored_pair):
    """--primary names the unadjusted KPIs; the Holm family is every other KPI."""
    resume_from(stored_pair, tmp_path)
    assert main(compare_args(tmp_path, "--primary", "occupancy, asa_s", "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["primary"] == ["occupancy", "asa_s"]
    diff = out["differences"]["more-agents"]
    assert diff["occupancy"]["p_holm"] is None and diff["asa_s"]["p_holm"] is None
    secondary = [k for k in KPIS if k not in ("occupancy", "asa_s")
                 and diff[k]["p_value"] is not None]
    want = holm_by_closed_testing([diff[k]["p_value"] for k in secondary])
    assert np.allclose([diff[k]["p_holm"] for k in secondary], want)
    assert main(compare_args(tmp_path, "--primary", "stress")) == 2
    assert "--primary: unknown KPI 'stress'" in capsys.readouterr().err


@pytest.mark.heavy
def test_compare_until_stops_at_the_first_n_then_confirms_on_fresh_replications(
        capsys, tmp_path, stored_pair):
    """--until stops at the first n whose paired half-width <= H; the table uses n fresh ones.

    The half-widths are recomputed here from the stored replications (loaded, not re-run).
    """
    resume_from(stored_pair, tmp_path)  # the pilot's first three
    h = 0.02  # 2 pp of service level: reached after several replications of one day (8)
    assert main(compare_args(tmp_path, "--reps", "3", "--until", f"service_level={h}",
                             "--max-reps", "12", "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    sel = out["selection"]
    n = len(sel["chosen_on"])
    assert sel["chosen_on"] == list(range(n)) and 3 < n < 12, sel
    assert sel["fresh"] and sel["reported_on"] == list(range(n, 2 * n))
    assert out["replications"] == list(range(n, 2 * n))
    assert "fresh replications" in sel["text"]
    kpis = pd.read_parquet(tmp_path / "kpis.parquet")
    assert sorted(set(kpis["replication"])) == list(range(n, 2 * n))
    pair = [load_scenario(SCENARIOS / f, {"horizon.days": 1})
            for f in ("base.toml", "more-agents.toml")]
    pilot = run_experiment(pair, 1, n, store=ReplicationStore(tmp_path / "replications"))
    assert pilot.ran == 0, "the pilot replications were not stored"

    def half(k):
        a, b = ([r["service_level"] for r in pilot.kpi_rows(i)[:k]] for i in (0, 1))
        return paired_difference(a, b).half_width

    assert half(n) <= h < half(n - 1), (n, half(n), half(n - 1))
    fresh = out["differences"]["more-agents"]["service_level"]
    a = kpis[kpis["scenario"] == "base"]["service_level"].to_numpy()
    b = kpis[kpis["scenario"] == "more-agents"]["service_level"].to_numpy()
    assert math.isclose(fresh["mean"], (b - a).mean(), rel_tol=1e-9)
    assert main(compare_args(tmp_path, "--until", "stress=0.1")) == 2
    assert "unknown KPI 'stress'" in capsys.readouterr().err


def test_compare_until_no_confirm_says_so(capsys, tmp_path, stored_pair):
    """--no-confirm reports the replications that chose n, and says so in words."""
    resume_from(stored_pair, tmp_path)  # the pilot's first three
    assert main(compare_args(tmp_path, "--reps", "3", "--until", "service_level=0.012",
                             "--max-reps", "12", "--no-confirm", "--quiet")) == 0
    text = capsys.readouterr().out
    assert "uses the same replications 0-" in text.replace("\n", " ")
    assert "optimistic" in text
    comparison = json.loads((tmp_path / "comparison.json").read_text())
    assert comparison["selection"]["fresh"] is False
    assert comparison["replications"] == comparison["selection"]["chosen_on"]


def test_compare_same_file_twice_gets_distinct_names(capsys, tmp_path):
    """Comparing a file with itself works (names made unique); every difference is zero."""
    base = str(SCENARIOS / "base.toml")
    assert main(["compare", base, base, "--days", "1", "--reps", "2", "--executor", "serial",
                 "--out", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["scenarios"]) == ["base", "base-2"]
    diffs = out["differences"]["base-2"]
    # zero wherever the KPI has a value (those without one, e.g. no warnings, are None)
    assert all(d["mean"] == 0 for d in diffs.values() if d["mean"] is not None)
    assert sum(d["mean"] is not None for d in diffs.values()) > 10


# --------------------------------------------------------------------------- multiplicity


def holm_by_closed_testing(p):
    """Holm's adjusted p-values by their definition as closed Bonferroni tests.

    The adjusted p of hypothesis i is the largest, over every subset S holding i, of the
    Bonferroni p of S: min(1, |S| min_{j in S} p_j). For a given size s the largest such
    minimum takes i with the s - 1 largest other p-values, so the maximum over all 2^m
    subsets is a maximum over m sizes (exact, and independent of holm()'s step-down).
    """
    m = len(p)
    out = []
    for i in range(m):
        others = sorted((p[j] for j in range(m) if j != i), reverse=True)
        worst = min(1.0, p[i])
        for size in range(2, m + 1):
            worst = max(worst, min(1.0, size * min(p[i], others[size - 2])))
        out.append(worst)
    return out


def test_closed_testing_shortcut_equals_brute_force():
    """The size-wise maximum above equals the maximum over every subset (small m)."""
    import itertools

    rng = np.random.default_rng(4)
    for m in range(1, 8):
        p = rng.uniform(0, 0.2, m).tolist()
        brute = [max(min(1.0, len(s) * min(p[j] for j in s))
                     for size in range(1, m + 1)
                     for s in itertools.combinations(range(m), size) if i in s)
                 for i in range(m)]
        assert np.allclose(holm_by_closed_testing(p), brute)


def test_holm_equals_closed_bonferroni_testing():
    """holm() equals the closed-testing definition on random and tied p-values; NaN skipped."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        p = rng.uniform(0, 0.2, size=rng.integers(1, 7)).tolist()
        assert np.allclose(holm(p), holm_by_closed_testing(p))
    assert np.allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    adj = holm([0.01, math.nan, 0.02])
    assert math.isnan(adj[1]) and np.allclose([adj[0], adj[2]], [0.02, 0.02])


def test_p_value_matches_scipy_and_the_interval():
    """Estimate.p_value is scipy's one-sample t-test; p < 0.05 exactly when the CI misses."""
    rng = np.random.default_rng(4)
    for _ in range(200):
        x = rng.normal(rng.uniform(-1, 1), 1, size=rng.integers(2, 12))
        e = t_interval(x)
        assert math.isclose(e.p_value(), stats.ttest_1samp(x, 0).pvalue, rel_tol=1e-9)
        assert (e.p_value() < 0.05) == (not e.contains(0.0))
        assert math.isclose(e.p_value(0.3), stats.ttest_1samp(x, 0.3).pvalue, rel_tol=1e-9)
    w = welch_difference([1.0, 2.0, 3.5, 4.0], [2.5, 3.1, 4.9, 5.2, 6.0])
    ref = stats.ttest_ind([2.5, 3.1, 4.9, 5.2, 6.0], [1.0, 2.0, 3.5, 4.0], equal_var=False)
    assert math.isclose(w.p_value(), ref.pvalue, rel_tol=1e-9)
    assert t_interval([2.0, 2.0]).p_value(2.0) == 1.0 and t_interval([2.0, 2.0]).p_value() == 0
    assert math.isnan(t_interval([1.0]).p_value())


def test_distribution_functions_are_scipy_stats_exactly():
    """t, F and normal quantiles and tails equal scipy.stats' to the last bit, edges included.

    analysis.stats calls scipy.special directly (importing scipy.stats takes about 0.3 s).
    """
    from analysis.stats import f_sf, norm_ppf, t_ppf, t_sf

    rng = np.random.default_rng(8)
    qs = [0.0, 1.0, 0.5, 0.975, 0.95, 1e-12, 1 - 1e-12, math.nan, -0.1, 1.1,
          *rng.uniform(0, 1, 50)]
    dfs = [1, 2, 4.5, 29, 1e6, math.inf, 0, -1, math.nan, *rng.uniform(0.1, 200, 10)]
    xs = [0.0, 1.96, -3.0, 1e-300, 50.0, math.inf, -math.inf, math.nan, *rng.normal(0, 3, 30)]

    def same(a: float, b: float) -> bool:
        return (math.isnan(a) and math.isnan(b)) or a == b

    for df in dfs:
        for q in qs:
            assert same(t_ppf(q, df), float(stats.t.ppf(q, df))), (q, df)
        for x in xs:
            assert same(t_sf(x, df), float(stats.t.sf(x, df))), (x, df)
            for dfd in (1, 7, 25.5, math.inf, 0):
                assert same(f_sf(x, df, dfd), float(stats.f.sf(x, df, dfd))), (x, df, dfd)
    for q in qs:
        assert same(norm_ppf(q), float(stats.norm.ppf(q))), q


def test_nan_replications_are_counted_not_hidden():
    """t_interval and paired differences say how many NaN replications they left out."""
    e = t_interval([1.0, math.nan, 2.0, math.nan, 3.0])
    assert (e.n, e.dropped) == (3, 2) and e.as_dict()["dropped"] == 2
    assert "2 of 5 replications had no value" in e.dropped_note()
    assert "dropped" not in t_interval([1.0, 2.0]).as_dict()
    d = paired_difference([1.0, math.nan, 3.0, 4.0], [2.0, 5.0, math.nan, 6.0])
    assert (d.n, d.dropped) == (2, 2)


def test_hotelling_matches_the_textbook_formula_and_is_calibrated():
    """T^2 = n d' S^-1 d with F(p, n - p); false alarms ~5% under H0, power under H1."""
    rng = np.random.default_rng(5)
    cov = 0.8 * np.ones((4, 4)) + 0.2 * np.eye(4)
    x = rng.multivariate_normal(np.zeros(4), cov, size=15)
    null = [0.1, -0.2, 0.0, 0.3]
    d = x.mean(0) - null
    t2 = 15 * d @ np.linalg.inv(np.cov(x, rowvar=False)) @ d
    ref_p = stats.f.sf((15 - 4) / (4 * 14) * t2, 4, 11)
    got = hotelling_test(x, null)
    assert math.isclose(got.statistic, t2, rel_tol=1e-9)
    assert math.isclose(got.p_value, ref_p, rel_tol=1e-9) and got.df == (4, 11)
    # calibration: 4000 data sets under H0 (correlated KPIs), 5% test
    rejects = sum(hotelling_test(rng.multivariate_normal(np.zeros(4), cov, size=12),
                                 np.zeros(4)).p_value < 0.05 for _ in range(4000))
    assert abs(rejects / 4000 - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 4000), rejects
    # power against a shift across the correlation (one KPI up, one down) is the noncentral
    # F's: n d' Sigma^-1 d = 12 * 2.5 here, found about 9 times in 10
    delta = np.array([0.5, -0.5, 0, 0])
    lam = 12 * delta @ np.linalg.inv(cov) @ delta
    power = stats.ncf.sf(stats.f.isf(0.05, 4, 8), 4, 8, lam)
    hits = sum(hotelling_test(rng.multivariate_normal(delta, cov, size=12),
                              np.zeros(4)).p_value < 0.05 for _ in range(2000))
    assert abs(hits / 2000 - power) < 4 * math.sqrt(power * (1 - power) / 2000), (hits, power)


def test_hotelling_handles_exact_relations_and_constants():
    """An exact linear relation is one dimension, not a singular matrix; constants decide."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(10, 3))
    null = [0.2, 0.1, -0.1]
    base = hotelling_test(x, null)
    with_relation = np.c_[x, 1 - x[:, 0]]  # e.g. service level at T=0 = 1 - P(wait)
    same = hotelling_test(with_relation, [*null, 1 - null[0]])
    assert same.dims == 3 and math.isclose(same.p_value, base.p_value, rel_tol=1e-6)
    broken = hotelling_test(with_relation, [*null, 1 - null[0] + 0.01])
    assert broken.p_value == 0.0 and "relation" in broken.note
    const = np.c_[x, np.zeros(10)]
    assert math.isclose(hotelling_test(const, [*null, 0.0]).p_value, base.p_value)
    assert hotelling_test(const, [*null, 0.5]).p_value == 0.0
    assert hotelling_test(x[:3], null) is None  # n <= p: no test
    test, p, adj = joint_test(x[:3], null)
    assert test.method == "holm" and math.isclose(test.p_value, min(adj))


def test_paired_differences_primary_unadjusted_secondary_holm():
    """The primary KPI keeps its own p; the secondary KPIs share one Holm family."""
    rng = np.random.default_rng(7)
    base = [{"a": rng.normal(), "b": rng.normal(), "c": rng.normal()} for _ in range(8)]
    other = [{"a": r["a"] + 0.6 + rng.normal(0, 0.5), "b": r["b"] + 0.6 + rng.normal(0, 0.5),
              "c": r["c"] + rng.normal()} for r in base]
    d = paired_differences(base, other, ["a", "b", "c"], primary=["a"])
    raw = {k: stats.ttest_rel([r[k] for r in other], [r[k] for r in base]).pvalue
           for k in "abc"}
    assert d["a"].primary and d["a"].p_holm is None
    assert math.isclose(d["a"].p_value, raw["a"], rel_tol=1e-6)
    assert np.allclose([d["b"].p_holm, d["c"].p_holm], holm([raw["b"], raw["c"]]))
    for k in "bc":
        assert d[k].differs == (d[k].p_holm < 0.05)
    assert d["a"].differs == (not d["a"].estimate.contains(0.0))


def test_share_differences_are_percentage_points():
    """A difference of two shares prints as signed percentage points; others signed."""
    assert format_difference("service_level", 0.0553) == "+5.53 pp"
    assert format_difference("abandon_rate", -0.012) == "-1.20 pp"
    assert format_difference("asa_s", 2.5) == "+2.50"
    assert format_difference("asa_s", -2.5) == "-2.50"
    assert format_difference("asa_s", math.nan) == "-"
