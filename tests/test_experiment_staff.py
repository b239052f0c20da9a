"""`ccsim staff` and `ccsim compare --match`: head counts for a service-level goal."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.cli import main
from analysis.experiment import make_executor
from analysis.staffing import (
    erlang_requirements,
    parse_target,
    scheduled_agents,
    search_head_count,
)
from analysis.stats import t_interval
from sim.erlang import agents_for_service_level
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS

BASE = str(SCENARIOS / "base.toml")
QUICK = ["--days", "1", "--reps", "2", "--executor", "serial", "--quiet"]

SMALL = """description = "two-hour test centre"
rationale = "tests"
[horizon]
days = 1
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
"""


@pytest.fixture
def small_files(tmp_path):
    """small.toml and small-more.toml (two more agents on shift a) in a temporary folder."""
    (tmp_path / "small.toml").write_text(SMALL)
    (tmp_path / "small-more.toml").write_text(
        'extends = "small.toml"\ndescription = "more"\nrationale = "tests"\n'
        "[staffing.shifts.a]\nagents = 8\n")
    return tmp_path / "small.toml", tmp_path / "small-more.toml"


def test_parse_target():
    """0.8@20 and 80%@20 mean the same; nonsense is a clear error."""
    assert parse_target("0.8@20") == parse_target("80%@20") == (0.8, 20.0)
    for bad in ("0.8", "1.2@20", "0.8@-1", "x@y"):
        with pytest.raises(ValueError, match="SHARE@SECONDS"):
            parse_target(bad)


def test_erlang_requirements_per_interval(base):
    """Each interval's Erlang agents are the Erlang A answer for its own rate."""
    erl = erlang_requirements(base, 0.8, 20)
    assert len(erl) == base.horizon.intervals_per_day
    i = int(erl["calls_per_h"].idxmax())
    rate = erl.loc[i, "calls_per_h"] / 3600
    aht = base.calls.talk.mean_s + base.calls.acw.mean_s
    assert erl.loc[i, "erlang_agents"] == agents_for_service_level(
        rate, aht, 20, 0.8, base.calls.patience.mean_s)
    sched = scheduled_agents(base)
    assert sched[0] == base.staffing.shifts["early"].agents
    assert sched.max() == sum(base.staffing.head_counts().values())


def test_staff_finds_fewest_agents(capsys, tmp_path, small_files):
    """The answer reaches the goal and one agent fewer does not (same replications)."""
    small = str(small_files[0])
    assert main(["staff", small, "--target", "0.8@20", *QUICK, "--out", str(tmp_path),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    n, tried = out["agents"], out["tried"]
    assert out["current_agents"] == 10 and n > 10
    assert tried[str(n)]["mean"] >= 0.8 > tried[str(n - 1)]["mean"]
    assert out["erlang"]["peak_agents"] > 0
    assert pd.read_csv(tmp_path / "erlang.csv")["erlang_agents"].max() == \
        out["erlang"]["peak_agents"]
    assert json.loads((tmp_path / "staff.json").read_text()) == out
    assert main(["staff", small, "--target", "0.8@20", *QUICK, "--out", str(tmp_path)]) == 0
    assert f"{n} agents (spread over the shifts" in capsys.readouterr().out


def test_compare_match_service_level(capsys, tmp_path, small_files):
    """--match adds OTHER@N: the fewest agents at which OTHER's service level reaches base's."""
    small, more = map(str, small_files)
    out_dir = str(tmp_path / "out")
    assert main(["compare", small, more, *QUICK, "--out", out_dir, "--match", "service_level",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    matched = [n for n in out["scenarios"] if n.startswith("small-more@")]
    assert len(matched) == 1 and set(out["differences"]) == {"small-more", matched[0]}
    agents = int(matched[0].split("@")[1])
    assert agents < 12, "small-more already beats small; fewer agents should match it"
    sl = {n: v["kpis"]["service_level"]["mean"] for n, v in out["scenarios"].items()}
    assert sl[matched[0]] >= sl["small"]
    assert main(["compare", small, more, *QUICK, "--out", out_dir, "--match",
                 "service_level"]) == 0
    assert f"small-more needs {agents} agents (it has 12)" in capsys.readouterr().out
    assert main(["compare", BASE, BASE, *QUICK, "--out", str(tmp_path), "--match", "x"]) == 2
    assert "--match: unknown KPI 'x'" in capsys.readouterr().err


def test_staff_with_stated_confidence(small_files):
    """With confidence 0.9 the answer's one-sided lower bound reaches the goal, one fewer's not."""
    scenario = load_scenario(small_files[0])
    mean_res = search_head_count(scenario, "service_level", 0.8, 1, 4, increasing=True,
                                 executor=make_executor("serial"))
    res = search_head_count(scenario, "service_level", 0.8, 1, 4, increasing=True,
                            confidence=0.9, executor=make_executor("serial"))
    n = res.agents

    def lower(k):
        return t_interval(res.values[k], 0.8).ci_low  # one-sided 90% = two-sided 80%

    assert lower(n) >= 0.8 > lower(n - 1), (n, res.values[n], res.values[n - 1])
    assert n >= mean_res.agents, "asking for confidence cannot need fewer agents"
