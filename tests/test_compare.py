"""Paired comparisons: CRN sharpens differences; statistics helpers; `ccsim compare`."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.cli import main
from analysis.experiment import run_experiment
from analysis.stats import (
    distinguishable,
    paired_difference,
    replications_needed,
    t_interval,
    target_reached,
    welch_difference,
)
from sim.kpi import KPIS
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


def test_compare_json_contract_and_files(capsys, tmp_path):
    """`--json` prints exactly baseline/scenarios/differences; the table files are written."""
    assert main(compare_args(tmp_path, "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"baseline", "scenarios", "differences"}
    assert out["baseline"] == "base"
    assert set(out["scenarios"]) == {"base", "more-agents"}
    assert set(out["differences"]) == {"more-agents"}
    for name, entry in out["scenarios"].items():
        assert set(entry) == {"kpis"} and set(entry["kpis"]) == set(KPIS), name
        for e in entry["kpis"].values():
            assert set(e) == {"mean", "ci_low", "ci_high"}
    diff = out["differences"]["more-agents"]
    assert set(diff) == set(KPIS)
    assert diff["offered"] == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}, "CRN: same calls"
    assert diff["occupancy"]["ci_high"] < 0, "more agents, lower occupancy"
    kpis = pd.read_parquet(tmp_path / "kpis.parquet")
    assert list(kpis["scenario"]) == ["base"] * 3 + ["more-agents"] * 3
    assert json.loads((tmp_path / "comparison.json").read_text()) == out
    assert (tmp_path / "report.html").is_file()
    assert (tmp_path / "figures" / "intraday_service_level.png").is_file()


def test_compare_table_and_resume_message(capsys, tmp_path):
    """The text table shows both scenarios, the paired difference and its verdict."""
    assert main(compare_args(tmp_path, "--quiet")) == 0
    text = capsys.readouterr().out
    for word in ("base mean", "more-agents mean", "more-agents - base", "differs",
                 *KPIS, "report written to"):
        assert word in text, word
    assert main(compare_args(tmp_path, "--quiet")) == 0
    assert "resumed: 6 replication(s)" in capsys.readouterr().out


def test_compare_until_adds_replications(capsys, tmp_path):
    """--until KPI=H runs past --reps until the paired half-width is reached (or max)."""
    assert main(compare_args(tmp_path, "--until", "occupancy=0.0000001", "--max-reps", "4",
                             "--json")) == 0
    assert len(pd.read_parquet(tmp_path / "kpis.parquet")) == 8
    assert main(compare_args(tmp_path, "--until", "stress=0.1")) == 2
    assert "unknown KPI 'stress'" in capsys.readouterr().err


def test_compare_same_file_twice_gets_distinct_names(capsys, tmp_path):
    """Comparing a file with itself works (names made unique); every difference is zero."""
    base = str(SCENARIOS / "base.toml")
    assert main(["compare", base, base, "--days", "1", "--reps", "2", "--executor", "serial",
                 "--out", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["scenarios"]) == ["base", "base-2"]
    assert all(d["mean"] == 0 for d in out["differences"]["base-2"].values())
