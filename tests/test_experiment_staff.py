"""`ccsim staff` and `ccsim compare --match`: head counts for a service-level goal."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from analysis.args import parse_target
from analysis.cli import main
from analysis.experiment import make_executor, run_experiment
from analysis.staffing import (
    erlang_requirements,
    scheduled_agents,
    search_head_count,
    with_head_count,
)
from analysis.stats import t_interval
from analysis.store import ReplicationStore
from sim.engine.schedule import coverage
from sim.planning.erlang import agents_for_service_level
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
    at_open = [sh.agents for sh in base.staffing.shifts.values() if sh.start == base.horizon.open]
    assert sched[0] == sum(at_open)
    assert 0 < sched.max() <= sum(base.staffing.head_counts().values())
    alone = base.replace({"staffing.shifts": {"x": {"start": "08:00", "hours": 12,
                                                      "agents": 7}}})
    assert (scheduled_agents(alone) == 7).all()


def test_staff_finds_fewest_agents(capsys, tmp_path, small_files):
    """The answer reaches the goal and one agent fewer does not (same replications)."""
    small, out_dir = str(small_files[0]), tmp_path / "out"
    assert main(["staff", small, "--target", "0.8@20", *QUICK, "--out", str(out_dir),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    n, tried = out["agents"], out["tried"]
    assert out["current_agents"] == 10 and n > 10
    assert tried[str(n)]["mean"] >= 0.8 > tried[str(n - 1)]["mean"]
    assert out["erlang"]["peak_agents"] > 0
    assert pd.read_csv(out_dir / "erlang.csv")["erlang_agents"].max() == \
        out["erlang"]["peak_agents"]
    assert json.loads((out_dir / "staff.json").read_text()) == out
    assert main(["staff", small, "--target", "0.8@20", *QUICK, "--out", str(out_dir)]) == 0
    assert f"{n} agents (spread over the shifts" in capsys.readouterr().out


def test_staff_reports_a_range_and_confirms_on_fresh_replications(capsys, tmp_path,
                                                                  small_files):
    """The range and the confirmation, recomputed from the stored replications.

    low / high are the fewest head counts whose 95% CI reaches 80% at its upper / lower end;
    the answer is re-run on replications R..2R-1.
    """
    small, out_dir = small_files[0], tmp_path / "out"
    assert main(["staff", str(small), "--target", "0.8@20", "--days", "1", "--reps", "4",
                 "--executor", "serial", "--out", str(out_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    n, rng = out["agents"], out["range"]
    assert rng["confidence"] == 0.95 and rng["low"] <= n <= rng["high"], rng
    assert rng["low"] < rng["high"], "4 replications cannot pin a single head count"
    scenario = load_scenario(small, {"horizon.days": 1, "service_level.threshold_s": 20,
                                     "service_level.target": 0.8})
    store = ReplicationStore(out_dir / "replications")

    def sl(agents, reps):
        exp = run_experiment([with_head_count(scenario, agents)], 1, reps, store=store,
                             tables=("daily",))
        return exp, t_interval([r["service_level"] for r in exp.kpi_rows(0)])

    for k, edge in ((rng["low"], "ci_high"), (rng["high"], "ci_low")):
        exp, at = sl(k, 4)
        _, below = sl(k - 1, 4)
        assert exp.ran == 0, "range not computed from the search's stored replications"
        assert getattr(at, edge) >= 0.8 > getattr(below, edge), (k, edge, at, below)
    conf = out["confirmation"]
    assert conf["replications"] == [4, 5, 6, 7] and conf["agents"] == n
    exp, fresh = sl(n, range(4, 8))
    assert exp.ran == 0 and math.isclose(conf["service_level"]["mean"], fresh.mean)
    assert conf["meets_goal"] == (fresh.mean >= 0.8)
    assert main(["staff", str(small), "--target", "0.8@20", "--days", "1", "--reps", "4",
                 "--executor", "serial", "--out", str(out_dir), "--quiet"]) == 0
    text = capsys.readouterr().out.replace("\n", " ")
    assert f"{rng['low']} to {rng['high']} agents" in text
    assert "Confirmed on 4 fresh replications (replications 4-7" in text


def test_staff_counts_under_staffed_intervals_like_run(capsys, tmp_path):
    """`ccsim staff` counts under-staffed intervals as `ccsim run` warns (breaks taken out)."""
    args = ["--days", "1", "--set", "staffing.agents=90"]
    assert main(["run", BASE, *args, "--no-write", "--reps", "1", "--executor", "serial",
                 "--quiet"]) == 0
    warned = re.search(r"(\d+) under-staffed interval", capsys.readouterr().err)
    sl = load_scenario(BASE).service_level
    assert main(["staff", BASE, *args, "--target", f"{sl.target}@{sl.threshold_s}",
                 "--reps", "1", "--executor", "serial", "--out", str(tmp_path / "o"),
                 "--json", "--no-confirm", "--max-agents", "120"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert warned and out["erlang"]["intervals_understaffed"] == int(warned.group(1)) > 0
    assert out["erlang"]["intervals"] == load_scenario(BASE).horizon.intervals_per_day
    scenario = load_scenario(BASE, {"horizon.days": 1, "staffing.agents": 90})
    erl = erlang_requirements(scenario, sl.target, sl.threshold_s)
    cov = coverage(scenario)
    assert np.allclose(erl["on_queue_agents"], cov.groupby("interval")["scheduled"].mean())
    assert (erl["on_queue_agents"] <= erl["scheduled_agents"] + 1e-9).all()
    assert (erl["on_queue_agents"] < erl["scheduled_agents"]).any(), "breaks not taken out"


def test_compare_match_service_level(capsys, tmp_path, small_files):
    """--match adds OTHER@N: the fewest agents at which OTHER's service level reaches base's.

    On the search's own replications (--no-confirm) N reaches the baseline and N - 1 does
    not; by default the table is re-run on as many fresh replications, and says so.
    """
    small, more = map(str, small_files)
    out_dir = str(tmp_path / "out")
    assert main(["compare", small, more, *QUICK, "--out", out_dir, "--match", "service_level",
                 "--no-confirm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    matched = [n for n in out["scenarios"] if n.startswith("small-more@")]
    assert len(matched) == 1 and set(out["differences"]) == {"small-more", matched[0]}
    agents = int(matched[0].split("@")[1])
    assert agents < 12, "small-more already beats small; fewer agents should match it"
    assert out["selection"]["matched_agents"] == {"small-more": agents}
    assert out["replications"] == out["selection"]["chosen_on"] == [0, 1]
    sl = {n: v["kpis"]["service_level"]["mean"] for n, v in out["scenarios"].items()}
    assert sl[matched[0]] >= sl["small"]
    fewer = run_experiment([with_head_count(load_scenario(more, {"horizon.days": 1}),
                                            agents - 1)], 1, 2, tables=("daily",),
                           store=ReplicationStore(tmp_path / "out" / "replications"))
    assert fewer.ran == 0, "N - 1 was not tried by the search"
    assert t_interval([r["service_level"] for r in fewer.kpi_rows(0)]).mean < sl["small"]
    assert main(["compare", small, more, *QUICK, "--out", out_dir, "--match",
                 "service_level"]) == 0
    text = capsys.readouterr().out
    assert f"small-more needs {agents} agents (it has 12)" in text
    assert "2 fresh replications (replications 2-3)" in text.replace("\n", " ")
    confirmed = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert confirmed["replications"] == [2, 3] and confirmed["selection"]["fresh"]
    assert main(["compare", BASE, BASE, *QUICK, "--out", str(tmp_path / "x"), "--match",
                 "x"]) == 2
    assert "--match: unknown KPI 'x'" in capsys.readouterr().err


def test_staff_with_stated_confidence(small_files, tmp_path):
    """With confidence 0.9 the answer's one-sided lower bound reaches the goal, one fewer's not.

    Both searches share a store: the second loads the head counts the first simulated (the
    same replications either way) instead of simulating them again.
    """
    scenario = load_scenario(small_files[0])
    store = ReplicationStore(tmp_path / "replications")
    mean_res = search_head_count(scenario, "service_level", 0.8, 1, 4, increasing=True,
                                 executor=make_executor("serial"), store=store)
    res = search_head_count(scenario, "service_level", 0.8, 1, 4, increasing=True,
                            confidence=0.9, executor=make_executor("serial"), store=store)
    n = res.agents

    def lower(k):
        return t_interval(res.values[k], 0.8).ci_low  # one-sided 90% = two-sided 80%

    assert lower(n) >= 0.8 > lower(n - 1), (n, res.values[n], res.values[n - 1])
    assert n >= mean_res.agents, "asking for confidence cannot need fewer agents"


def test_staff_interval_goal(capsys, tmp_path, small_files):
    """--interval-share: the answer also keeps that share of intervals at the target.

    Under common random numbers the interval KPI falls with agents, so the answer is the
    fewest head count whose mean intervals_below_target <= 1 - share, and never fewer than
    the day's-mean answer; one agent fewer misses one of the goals.
    """
    small = str(small_files[0])
    out = tmp_path / "out"
    assert main(["staff", small, "--target", "0.8@20", "--interval-share", "0.9", "--reps",
                 "4", "--executor", "serial", "--quiet", "--no-confirm", "--out", str(out),
                 "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    n, goal = res["agents"], res["interval_goal"]
    assert goal["share"] == 0.9 and math.isclose(goal["max_intervals_below_target"], 0.1)
    assert n == max(res["day_goal_agents"], goal["agents"]), res
    tried = {int(k): v["mean"] for k, v in goal["tried"].items()}
    assert tried[goal["agents"]] <= 0.1 + 1e-12 < tried[goal["agents"] - 1], tried
    assert goal["agents"] > res["day_goal_agents"], \
        "on this centre the interval goal should need more agents than the day's mean"
    assert main(["staff", small, "--target", "0.8@20", "--interval-share", "0.9", "--reps",
                 "4", "--executor", "serial", "--quiet", "--no-confirm", "--out",
                 str(out)]) == 0
    text = capsys.readouterr().out
    assert "interval goal (COPC style): at least 90% of intervals" in text
    assert f"{n} agents (spread over the shifts" in text
    with pytest.raises(SystemExit):
        main(["staff", small, "--target", "0.8@20", "--interval-share", "1.5"])
    assert "--interval-share: expected a share in (0, 1], got '1.5'" in capsys.readouterr().err


def test_compare_match_reports_the_extra_paid_hours(capsys, tmp_path, small_files):
    """--match says how many paid agent-hours a day equal service costs, from paid_agent_hours."""
    small, more = map(str, small_files)
    out_dir = str(tmp_path / "out")
    assert main(["compare", more, small, *QUICK, "--out", out_dir, "--match", "service_level",
                 "--no-confirm"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    m = re.search(r"small needs (\d+) agents \(it has 10\) to reach small-more's [\d.]+% "
                  r"\(mean over 2 replications\): \+([\d.]+) paid agent-hours a day "
                  r"\(NOK \+([\d,]+) a day at 450/h", text)
    assert m, text[:3000]
    res = json.loads((tmp_path / "out" / "comparison.json").read_text())
    paid = {n: v["kpis"]["paid_agent_hours"]["mean"] for n, v in res["scenarios"].items()}
    extra = paid[f"small@{m[1]}"] - paid["small"]
    assert float(m[2]) == pytest.approx(extra, abs=0.051), (m[2], extra)
    assert int(m[3].replace(",", "")) == pytest.approx(450 * extra, abs=1)
    assert extra > 0, "matching a better-staffed baseline needs more paid hours"
