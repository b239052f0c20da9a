"""`ccsim sweep`: full factorial, validated like --set, tidy table and plots."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re

import pandas as pd
import pytest
from scipy import stats

from analysis.args import split_values
from analysis.cli import main
from sim.measure.kpi import KPIS
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import SCENARIOS
from tests.test_compare import holm_by_closed_testing

BASE = str(SCENARIOS / "base.toml")
QUICK = ["--days", "1", "--reps", "2", "--executor", "serial", "--quiet"]


@pytest.fixture(scope="module")
def factorial(tmp_path_factory):
    """One 2 x 2 sweep, three replications, asa_s primary: its folder and what it printed.

    Read by the table test and the differences test, so the sweep and its plots (most of
    its cost: one PNG per KPI) are made once.
    """
    out = tmp_path_factory.mktemp("factorial")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):  # what the command printed, for the tests
        assert main(["sweep", BASE, "--set", "staffing.agents=90,100",
                     "--set", "calls.patience.mean_s=120,180.0", "--days", "1", "--reps", "3",
                     "--executor", "serial", "--quiet", "--out", str(out),
                     "--primary", "asa_s"]) == 0
    return out, buf.getvalue()


def test_sweep_full_factorial_tidy_table(factorial):
    """2 x 2 combinations: one row per combination and KPI, CSV = Parquet, a plot per KPI."""
    tmp_path, text = factorial
    assert "4 combinations x 3 replications" in text
    tidy = pd.read_parquet(tmp_path / "sweep.parquet")
    csv = pd.read_csv(tmp_path / "sweep.csv")
    assert len(tidy) == len(csv) == 4 * len(KPIS)
    assert {"staffing.agents", "calls.patience.mean_s", "kpi", "mean", "ci_low", "ci_high",
            "n"} <= set(tidy.columns)
    combos = tidy[["staffing.agents", "calls.patience.mean_s"]].drop_duplicates()
    assert sorted(map(tuple, combos.to_numpy().tolist())) == [
        (90, 120), (90, 180), (100, 120), (100, 180)]
    assert set(tidy["kpi"]) == set(KPIS)
    # every KPI with a value has all three replications; one with none (no stress measured,
    # nothing scored) has none in any combination
    n = tidy.groupby("kpi")["n"].agg(["min", "max"])
    assert ((n["min"] == n["max"]) & n["max"].isin([0, 3])).all(), n
    assert (n.loc[["service_level", "asa_s", "occupancy"], "max"] == 3).all()
    for kpi in KPIS:
        assert (tmp_path / "plots" / f"{kpi}.png").is_file(), kpi
    sl = tidy[tidy["kpi"] == "service_level"].set_index(
        ["staffing.agents", "calls.patience.mean_s"])["mean"]
    assert sl[100, 180] > sl[90, 180], "more agents, better service"
    # each combination is the base scenario with --set applied: same as loading it so
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    want = load_scenario(BASE, {"horizon.days": 1, "staffing.agents": 90,
                                "calls.patience.mean_s": 120})
    hashes = {v["hash"] for v in manifest["scenarios"].values()}
    assert want.digest() in hashes and len(hashes) == 4


@pytest.mark.heavy
def test_sweep_json(capsys, tmp_path):
    """--json prints the tidy rows."""
    assert main(["sweep", BASE, "--set", "staffing.agents=95", *QUICK, "--out", str(tmp_path),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["factors"] == ["staffing.agents"]
    assert {r["kpi"] for r in out["rows"]} == set(KPIS)


@pytest.mark.parametrize("factor, override", [
    ("staffing.agentz=90,95", {"staffing.agentz": 90}),
    ("staffing.agents=95,0", {"staffing.agents": 0}),
    ("calls.patience.mean_s=120,soon", {"calls.patience.mean_s": "soon"}),
    ("horizon.days.x=1", {"horizon.days.x": 1}),
])
def test_sweep_bad_key_or_value_same_clear_error(capsys, tmp_path, factor, override):
    """A bad key or value fails before any run, with Scenario.replace's message."""
    base = load_scenario(BASE, {"horizon.days": 1})
    with pytest.raises(ScenarioError) as exc:
        base.replace(override, source="--set")
    assert main(["sweep", BASE, "--set", factor, *QUICK, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(exc.value) in err and "Traceback" not in err
    assert not (tmp_path / "replications").exists(), "ran before validating every combination"


def test_sweep_value_lists():
    """Values split on top-level commas only; a bad --set shape is a clear error."""
    assert split_values('1, [2, 3], "a,b"') == ["1", "[2, 3]", '"a,b"']
    assert main(["sweep", BASE, "--set", "staffing.agents", *QUICK]) == 2


def test_sweep_differences_against_the_first_combination(factorial, capsys, tmp_path):
    """Each later combination: paired difference vs the first, primary unadjusted, rest Holm."""
    out, text = factorial
    assert "Holm-adjusted" in text and "(asa_s)" in text
    assert re.search(r"service_level .* [+-]\d+\.\d\d pp", text), "share difference not in pp"
    tidy = pd.read_parquet(out / "sweep.parquet")
    keys = ["staffing.agents", "calls.patience.mean_s"]
    first = tidy[(tidy[keys[0]] == 90) & (tidy[keys[1]] == 120)]
    assert len(first) and first["diff"].isna().all() and first["differs"].isna().all()
    kpis = pd.read_parquet(out / "kpis.parquet")

    def runs(agents, patience):
        """The replications of one combination, by replication number."""
        name = kpis["scenario"]
        return kpis[name.str.contains(f"staffing.agents={agents}[,\\]]")
                    & name.str.contains(f"calls.patience.mean_s={patience}(?:\\.0)?[,\\]]")
                    ].set_index("replication")

    a = runs(90, 120)
    assert len(a) == 3, kpis["scenario"].unique()
    for agents, patience in ((90, 180), (100, 120), (100, 180)):
        later = tidy[(tidy[keys[0]] == agents) & (tidy[keys[1]] == patience)].set_index("kpi")
        b = runs(agents, patience)
        assert len(b) == 3, (agents, patience, kpis["scenario"].unique())
        raw = {}
        for k in KPIS:
            d = (b[k] - a[k]).dropna()
            if len(d) == 0:  # no value in this run (e.g. nothing scored): no test
                raw[k] = math.nan
                assert pd.isna(later.loc[k, "diff"]) and pd.isna(later.loc[k, "p_value"]), k
                continue
            raw[k] = 1.0 if (d == 0).all() else stats.ttest_1samp(d, 0).pvalue
            assert math.isclose(later.loc[k, "diff"], d.mean(), rel_tol=1e-9, abs_tol=1e-12), k
            assert math.isclose(later.loc[k, "p_value"], raw[k], rel_tol=1e-6,
                                abs_tol=1e-12), k
        assert later.loc["asa_s", "test"] == "primary" and pd.isna(later.loc["asa_s", "p_holm"])
        secondary = [k for k in KPIS if k != "asa_s" and not math.isnan(raw[k])]
        want = holm_by_closed_testing([raw[k] for k in secondary])
        for k, w in zip(secondary, want, strict=True):
            assert math.isclose(later.loc[k, "p_holm"], w, rel_tol=1e-6, abs_tol=1e-12), k
            assert bool(later.loc[k, "differs"]) == (w < 0.05), k
    assert main(["sweep", BASE, "--set", "staffing.agents=95", *QUICK, "--out",
                 str(tmp_path / "x"), "--primary", "stress"]) == 2
    assert "--primary: unknown KPI 'stress'" in capsys.readouterr().err
