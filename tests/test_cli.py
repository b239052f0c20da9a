"""The command line: JSON contracts, files written, and clear errors."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from analysis import docs
from analysis.cli import main
from sim.erlang import erlang_a_metrics
from sim.kpi import KPIS
from sim.scenario import Scenario
from tests.conftest import ROOT, SCENARIOS


def run_json(capsys, *argv):
    """Run ccsim with --json and parse its one JSON object."""
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def rep_folder(out, replication):
    """The one stored folder of ``replication`` under a run's output."""
    (folder,) = out.glob(f"replications/*/rep-{replication:05d}")
    return folder


def test_run_resumes_and_runs_in_parallel(capsys, tmp_path):
    """A re-run into the same folder resumes; serial and process pool give equal KPIs."""
    args = ["run", str(SCENARIOS / "base.toml"), "--days", "1", "--reps", "3", "--out",
            str(tmp_path)]
    serial = run_json(capsys, *args, "--executor", "serial")
    again = run_json(capsys, *args, "--reps", "4", "--executor", "process", "--workers", "2")
    assert main([*args, "--quiet"]) == 0
    assert "resumed: 3 replication(s)" in capsys.readouterr().out
    fresh = run_json(capsys, *args[:-1], str(tmp_path / "fresh"), "--executor", "process")
    assert serial == fresh
    assert again["replications"] == 4 and again["kpis"] != serial["kpis"]


def test_erlang_json(capsys):
    """`ccsim erlang --json` prints the stable keys with the exact values."""
    out = run_json(capsys, "erlang", "--rate", "360/h", "--aht", "240", "--agents", "27",
                   "--target", "20", "--patience", "120")
    assert set(out) == {"p_wait", "service_level", "asa_s", "occupancy", "abandon_rate"}
    exact = erlang_a_metrics(0.1, 240, 27, 20, 120).as_dict()
    assert all(math.isclose(out[k], exact[k]) for k in exact)


def test_run_json_and_files(capsys, tmp_path):
    """`ccsim run` prints every KPI with a CI and writes kpis.csv, manifest and Parquet logs."""
    out = run_json(capsys, "run", str(SCENARIOS / "base.toml"), "--days", "1", "--reps", "2",
                   "--seed", "3", "--out", str(tmp_path))
    assert out["scenario"] == "base" and out["replications"] == 2
    assert set(out["kpis"]) == set(KPIS)
    sl = out["kpis"]["service_level"]
    assert sl["ci_low"] <= sl["mean"] <= sl["ci_high"]
    kpis = pd.read_csv(tmp_path / "kpis.csv")
    assert len(kpis) == 2 and set(KPIS) <= set(kpis.columns)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["scenarios"]["base"]["scenario"]["horizon"]["days"] == 1
    assert sorted(p["replication"] for p in manifest["provenance"]) == [0, 1]
    rep0 = rep_folder(tmp_path, 0)
    calls = pd.read_parquet(rep0 / "calls.parquet")
    assert "agent" not in calls.columns, "agent identity written without --individual"
    assert not (rep0 / "statuses.parquet").exists()
    assert len(calls) == kpis.loc[0, "offered"]


def test_run_individual_writes_agent_tables(capsys, tmp_path):
    """--individual adds the agent-level tables."""
    run_json(capsys, "run", str(SCENARIOS / "base.toml"), "--days", "1", "--out",
             str(tmp_path), "--individual")
    rep0 = rep_folder(tmp_path, 0)
    for table in ("statuses", "agent_days", "agents", "activities", "schedule", "breaks"):
        assert (rep0 / f"{table}.parquet").exists(), table
    assert "agent" in pd.read_parquet(rep0 / "calls.parquet").columns


def test_validate_json(capsys):
    """`ccsim validate --json` gives exact values and simulated CIs under stable names."""
    out = run_json(capsys, "validate", "--rate", "360/h", "--aht", "240", "--agents", "27",
                   "--target", "20", "--patience", "120", "--reps", "3", "--calls", "3000")
    assert set(out) == {"exact", "simulated", "calls"} and out["calls"] == 3000
    assert set(out["simulated"]["service_level"]) == {"mean", "ci_low", "ci_high"}
    assert set(out["exact"]) == set(out["simulated"])


def test_bad_scenario_is_one_clear_error(capsys, tmp_path):
    """A bad file exits with status 2 and a message naming the field, no traceback."""
    bad = tmp_path / "bad.toml"
    base = (SCENARIOS / "base.toml").as_posix()
    bad.write_text(f'extends = "{base}"\ndescription = "d"\nrationale = "r"\n[demand]\n'
                   "calls_per_day = -1\n")
    assert main(["run", str(bad), "--no-write"]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: demand.calls_per_day" in err and "Traceback" not in err


def test_bad_set_and_bad_rate(capsys):
    """A bad --set key and a bad --rate are reported, not raised."""
    assert main(["run", str(SCENARIOS / "base.toml"), "--set", "staffing.agentz=3",
                 "--no-write"]) == 2
    assert "staffing.agentz" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["erlang", "--rate", "fast", "--aht", "240", "--agents", "2", "--target", "20"])
    assert exc.value.code == 2
    assert "rate" in capsys.readouterr().err


def test_help_is_complete(capsys):
    """Every sub-command has help that mentions its options."""
    for cmd, option in (("run", "--reps"), ("erlang", "--patience"), ("validate", "--calls"),
                        ("docs", "Markdown")):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert option in capsys.readouterr().out


def test_reference_docs_are_current_and_complete():
    """docs/reference.md is what `ccsim docs` prints; every field has a description."""
    text = docs.reference()
    current = (ROOT / "docs" / "reference.md").read_text()
    assert current == text, "stale: run ccsim docs > docs/reference.md"
    for path, _, source, desc in docs._fields(Scenario):
        assert desc, f"{path} has no description"
        assert source, f"{path} has no source"


def test_agent_timeline_and_coverage_warning(capsys, tmp_path):
    """--agent-timeline writes the Gantt PNG; an under-staffed plan is warned about."""
    assert main(["run", str(SCENARIOS / "base.toml"), "--days", "2", "--agent-timeline", "1",
                 "--out", str(tmp_path), "--quiet"]) == 0
    captured = capsys.readouterr()
    png = tmp_path / "timeline-day1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert str(png) in captured.out
    assert "under-staffed interval" in captured.err
    assert main(["run", str(SCENARIOS / "base.toml"), "--days", "2", "--agent-timeline", "2",
                 "--out", str(tmp_path / "x")]) == 2
    assert "outside the horizon" in capsys.readouterr().err
    assert main(["run", str(SCENARIOS / "base.toml"), "--agent-timeline", "--no-write"]) == 2
    assert "--no-write" in capsys.readouterr().err
