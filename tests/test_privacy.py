"""Privacy that a scenario cannot switch off: the floor and complementary suppression.

What ``ccsim run`` writes without ``--individual`` is read back from the output folder and
attacked the way a reader of the tables would: every table with a group dimension is
checked day by day, column by column, for a blanked group recoverable by subtracting the
published groups from the day's total (the centre's daily figures make every total known).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

from analysis.cli import main
from sim.measure.tables import (
    PUBLISH_FLOOR,
    agent_figures,
    interval_heads,
    publish_floor,
    published_centre,
    small_intervals,
    suppress_cells,
)
from sim.model import simulate
from sim.scenario import load_scenario, scenario_from_dict
from tests.conftest import small_dict

SEED = 11
#: shifts of 7, 7, 6, 2, 2 and 1 agents in teams of up to 7: teams 0-5 of those sizes, so a
#: day has groups over the floor, small groups at the floor together (but not without one
#: of them, which the insider rule needs), and a group of one
MIXED = {"a": 7, "a2": 7, "b": 6, "c": 2, "d": 2, "e": 1}


def mixed_scenario(tmp_path: Path, size: int = 7, min_group: int = 1) -> Path:
    """Three short days of the mixed teams under a punitive individual regime, as a file.

    Sickness absence is frequent (hazard 0.1 a day) so that some team-days are short of
    agents or empty; the regime's actions fill the count columns.
    """
    d = small_dict(horizon={"days": 3, "open": "08:00", "hours": 2, "interval_minutes": 30})
    d["staffing"] = {"shifts": {k: {"start": "08:00", "hours": 2, "agents": n}
                                for k, n in MIXED.items()}}
    d["teams"] = {"size": size, "min_group": min_group}
    d["measurement"] = {"level": "individual"}
    d["monitoring"] = {"feedback": "punitive"}
    d["stress"] = {"enabled": True, "absence": True, "absence_base_hazard": 0.1}
    path = tmp_path / "received.toml"
    path.write_bytes(tomli_w.dumps(d).encode())
    return path


def run_cli(scenario: Path, out: Path, *extra: str) -> Path:
    """``ccsim run`` one replication into ``out``; the replication's stored folder."""
    assert main(["run", str(scenario), "--reps", "1", "--seed", str(SEED), "--executor",
                 "serial", "--out", str(out), "--quiet", *extra]) == 0
    (folder,) = out.glob("replications/*/rep-00000")
    return folder


def truth(scenario: Path) -> pd.DataFrame:
    """Per team and day, what the blanked cells hide: agents and every additive column.

    Computed here from the run's agent-days and actions (the same seed and replication as
    the CLI's), independently of the code under test.
    """
    s = load_scenario(scenario)
    r = simulate(s, seed=SEED, replication=0)
    ad = r.agent_days.assign(team=r.agents["team"].to_numpy()[r.agent_days["agent"]])
    cols = [c for c in ("scheduled_s", "in_adherence_s", "excused_s", "ready_s", "talk_s",
                        "acw_s", "calls", "overtime_s", "unplanned_breaks") if c in ad]
    cols += [c for c in ad.columns if c.startswith("lost_") and c.endswith("_s")]
    grid = pd.MultiIndex.from_product([sorted(r.agents["team"].unique()),
                                       range(s.horizon.days)], names=["team", "day"])
    g = ad.groupby(["team", "day"])
    out = g[cols].sum().reindex(grid, fill_value=0)
    out["agents"] = g.size().reindex(grid, fill_value=0)
    for what in ("chase", "warning", "defer_break", "evaluation"):
        a = r.actions[r.actions["action"] == what]
        out[f"{what}s"] = a.groupby(["team", "day"]).size().reindex(grid, fill_value=0)
    return out.astype(float)


def subtraction_attack(published: pd.DataFrame, real: pd.DataFrame, floor: int) -> dict:
    """Try total minus published groups on every day and additive column; count outcomes.

    Asserts, for each day with a blanked group: the residual is exactly the blanked groups'
    sum (so that is all the attack gives), it covers at least two groups that worked with
    at least ``floor`` agents together, and it equals no single blanked group's value
    wherever two or more of them are non-zero. The insider's attack too: a member of one
    blanked group who subtracts their own group's figures still faces at least two groups
    that worked, with at least ``floor`` agents together.
    """
    seen = {"days_attacked": 0, "residuals": 0, "distinct_from_each": 0, "insider": 0}
    pub = published.set_index(["team", "day"]).sort_index()
    assert list(pub.index) == list(real.index), "a team-day row is missing or extra"
    for day in sorted(real.index.get_level_values("day").unique()):
        p, t = pub.xs(day, level="day"), real.xs(day, level="day")
        hidden = p["suppressed"].to_numpy()
        shown = ~hidden
        figures = [c for c in p.columns if c != "suppressed"]
        assert p.loc[hidden, figures].isna().all().all(), "a blanked row shows a figure"
        if not hidden.any():
            continue
        seen["days_attacked"] += 1
        sizes = t["agents"].to_numpy()[hidden]
        assert (sizes > 0).sum() >= 2 and sizes.sum() >= floor, \
            f"day {day}: the blanked teams {list(t.index[hidden])} hold {sizes.tolist()} agents"
        for own in range(len(sizes)):  # an insider of blanked team `own` subtracts it too
            rest = np.delete(sizes, own)
            assert (rest > 0).sum() >= 2 and rest.sum() >= floor, \
                f"day {day}: without blanked team {own}, {rest.tolist()} agents are left"
            seen["insider"] += 1
        for col in real.columns:
            residual = t[col].sum() - p.loc[shown, col].sum()
            assert residual == pytest.approx(t.loc[hidden, col].sum(), abs=1e-6)
            seen["residuals"] += 1
            values = t.loc[hidden, col].to_numpy()
            if (values != 0).sum() >= 2:
                assert not np.isclose(values, residual, atol=1e-6).any(), \
                    f"day {day}, {col}: the residual {residual} is one team's value"
                seen["distinct_from_each"] += 1
    return seen


def test_floor_only_raised_by_scenario_only_lowered_by_individual():
    """A scenario's min_group raises the floor; only the --individual option lowers it."""
    assert PUBLISH_FLOOR == 5
    assert publish_floor(1) == 5 and publish_floor(5) == 5 and publish_floor(8) == 8
    assert publish_floor(1, individual=True) == 1 and publish_floor(8, individual=True) == 8


@pytest.mark.parametrize(("sizes", "blanked"), [
    ([7, 6, 9], [False, False, False]),  # nothing under the floor
    ([6, 6, 6, 6, 2], [True, True, False, False, True]),  # one small team: two others join
    ([7, 6, 2], [True, True, True]),  # only three teams: all three are needed
    ([7, 6, 2, 2, 1], [False, True, True, True, True]),  # 5 together, 3 without one: +6
    ([7, 6, 2, 2], [True, True, True, True]),  # 4, then 10 but 4 without the 6: +7
    ([7, 0], [True, True]),  # an empty team and one other: the day is blanked whole
    ([3], [True]),  # a centre under the floor: its only group is blanked
])
def test_suppress_cells_rule(sizes, blanked):
    """Primary cells under the floor, then the smallest others until an insider is kept out.

    Without any one blanked team, at least two that worked and 5 agents must remain.
    """
    got = suppress_cells(np.array(sizes), np.zeros(len(sizes), dtype=int), 5)
    assert got.tolist() == blanked


def test_subtraction_attack_on_every_written_table(tmp_path):
    """No blanked team-day is recoverable from a day's total in what run writes.

    The received scenario asks for groups of 1; the floor (5) holds without --individual.
    """
    scenario = mixed_scenario(tmp_path)
    rep = run_cli(scenario, tmp_path / "out")
    written = {p.stem: pd.read_parquet(p) for p in rep.glob("*.parquet")}
    assert set(written) == {"calls", "intervals", "daily", "team_days", "strain_profile",
                            "people_days"}
    for name, df in written.items():  # only team_days has a group below the centre
        assert "agent" not in df.columns, name
        assert ("team" in df.columns) == (name == "team_days"), name
    prof = written["strain_profile"]  # a mean over the agents logged in at a grid time
    assert (prof["strain"].isna() | (prof["agents"] >= PUBLISH_FLOOR)).all()
    assert prof.loc[prof["agents"].isna(), "strain"].isna().all()
    people = written["people_days"]  # per day: means over the agents who worked it
    assert (people["exhaustion"].isna() | (people["agents"] >= PUBLISH_FLOOR)).all()
    assert people.loc[people["agents"].isna(), "exhaustion"].isna().all()
    real = truth(scenario)
    seen = subtraction_attack(written["team_days"], real, PUBLISH_FLOOR)
    td = written["team_days"].set_index(["team", "day"]).sort_index()
    shown = ~td["suppressed"]
    assert (td.loc[shown, "agents"] >= PUBLISH_FLOOR).all()
    for col in real.columns:  # published figures are the true sums
        assert np.allclose(td.loc[shown, col], real.loc[shown[shown].index, col])
    # the case has teeth: published teams beside blanked ones, secondary suppression of a
    # team over the floor, and residuals of several non-zero teams
    secondary = td["suppressed"] & (real["agents"] >= PUBLISH_FLOOR)
    assert shown.any() and secondary.any() and seen["days_attacked"] == 3
    assert seen["distinct_from_each"] > 0 and seen["insider"] > 0, seen


def test_teams_of_one_write_no_agent_rows(tmp_path):
    """teams.size = 1, min_group = 1 writes no per-agent figure without --individual.

    With --individual (the run option) the scenario's groups of one are written.
    """
    scenario = mixed_scenario(tmp_path, size=1, min_group=1)
    td = pd.read_parquet(run_cli(scenario, tmp_path / "agg") / "team_days.parquet")
    assert len(td) == sum(MIXED.values()) * 3 and td["suppressed"].all()
    assert td.drop(columns=["team", "day", "suppressed"]).isna().all().all()
    ind = pd.read_parquet(run_cli(scenario, tmp_path / "ind", "--individual")
                          / "team_days.parquet")
    worked = ind[~ind["suppressed"]]
    assert len(worked) > 0 and (worked["agents"] == 1).all()


# --------------------------------------------------------------------------- small centres


def tiny_scenario(tmp_path: Path) -> Path:
    """A received centre of 3 agents on two days under a punitive individual regime."""
    d = small_dict(horizon={"days": 2, "open": "08:00", "hours": 2, "interval_minutes": 30,
                            "warmup_days": 0})
    d["staffing"] = {"shifts": {"a": {"start": "08:00", "hours": 2, "agents": 3}}}
    d["demand"]["calls_per_day"] = 60
    d["teams"] = {"size": 3, "min_group": 1}
    d["measurement"] = {"level": "individual"}
    d["monitoring"] = {"feedback": "punitive"}
    path = tmp_path / "tiny.toml"
    path.write_bytes(tomli_w.dumps(d).encode())
    return path


def test_a_centre_under_the_floor_is_described_by_nothing_written(tmp_path):
    """3 agents: no written table, KPI or report cell gives their figures; --individual does.

    The customers' figures (offered, answered, service level, ASA...) stay.
    """
    scenario = tiny_scenario(tmp_path)
    out = tmp_path / "agg"
    rep = run_cli(scenario, out)
    daily, intervals = (pd.read_parquet(rep / f"{n}.parquet") for n in ("daily", "intervals"))
    kpis = pd.read_csv(out / "kpis.csv")
    manifest = json.loads((rep / "manifest.json").read_text())["kpis"]
    for name, table in (("daily", daily), ("intervals", intervals), ("kpis.csv", kpis)):
        agents = agent_figures(c for c in table.columns if c not in ("scenario", "replication",
                                                                     "warmup_days"))
        assert {"occupancy", "adherence"} & set(agents) or "agents_ready" in agents, name
        assert table[agents].isna().all().all(), f"{name}: {table[agents].notna().any()}"
        assert table["offered"].notna().all() and table["service_level"].notna().all(), name
    assert manifest["occupancy"] is None and manifest["warnings_per_agent"] is None
    assert manifest["service_level"] is not None and manifest["asa_s"] is not None
    assert pd.read_parquet(rep / "team_days.parquet")["suppressed"].all()
    assert "agent" not in pd.read_parquet(rep / "calls.parquet").columns
    page = (out / "report.html").read_text()
    for k in ("occupancy", "adherence", "warnings_per_agent", "paid_agent_hours"):
        assert re.search(rf"<tr><td>{k}</td><td>-", page), k  # the mean cell is blank
    assert "; coverage not shown: fewer agents at work than the publication floor " in page
    assert "occupancy -" not in page and "; occupancy " not in page
    # with the run option --individual the same run writes them (and the agent tables)
    ind_out = tmp_path / "ind"
    ind = run_cli(scenario, ind_out, "--individual")
    ind_daily = pd.read_parquet(ind / "daily.parquet")
    assert ind_daily["occupancy"].notna().all() and ind_daily["adherence"].notna().all()
    assert (ind / "agent_days.parquet").exists()
    assert json.loads((ind / "manifest.json").read_text())["kpis"]["occupancy"] is not None


def test_small_intervals_rule():
    """An interval under the floor, then the smallest others until an insider is kept out.

    Six agents work 08:00-10:00 and two 10:00-11:00 (hourly intervals): the last interval
    (2 agents) is blanked, and with it the first (6 agents, the first on ties), so the
    blanked intervals hold 8 agents: 7 without any one of them. An interval nobody worked
    describes nobody; with four agents and then one, the day's intervals are blanked whole.
    """
    ad = pd.DataFrame({"day": 0, "login_s": [8 * 3600.0] * 6 + [10 * 3600.0] * 2,
                       "logout_s": [10 * 3600.0] * 6 + [11 * 3600.0] * 2})
    iv = pd.DataFrame({"day": 0, "interval": [0, 1, 2],
                       "start_s": [8 * 3600.0, 9 * 3600.0, 10 * 3600.0]})
    assert interval_heads(ad, iv["start_s"].to_numpy(), 3600.0).tolist() == [6, 6, 2]
    assert small_intervals(ad, iv, 3600.0, 5).tolist() == [True, False, True]
    assert small_intervals(ad.iloc[:6], iv, 3600.0, 5).tolist() == [False] * 3  # 0: nobody
    # four agents, then one: 4 without one of them, whatever else is blanked
    few = ad.iloc[[0, 1, 2, 3, 6]]
    assert small_intervals(few, iv, 3600.0, 5).tolist() == [True, True, True]
    assert small_intervals(ad, iv, 3600.0, 2).tolist() == [False, False, False]


def test_a_small_day_blanks_the_days_and_the_runs_agent_figures():
    """A day with 3 agents among days with 6: its row and intervals, and the run's KPIs.

    The run's KPIs combine the days, so the small day would be the run minus the others.
    """
    ad = pd.DataFrame({"day": [0] * 6 + [1] * 3, "login_s": [0.0] * 6 + [86400.0] * 3,
                       "logout_s": [3600.0] * 6 + [90000.0] * 3})
    daily = pd.DataFrame({"day": [0, 1], "offered": [50, 40], "occupancy": [0.8, 0.9]})
    iv = pd.DataFrame({"day": [0, 1], "interval": [0, 0], "start_s": [0.0, 86400.0],
                       "offered": [50, 40], "agents_ready": [1.5, 0.5]})
    kpis = {"offered": 90.0, "occupancy": 0.85, "stress_mean": 1.2}
    d, i, k = published_centre(daily, iv, kpis, ad, 2, 3600.0, 5)
    assert d["occupancy"].isna().tolist() == [False, True] and d["offered"].tolist() == [50, 40]
    assert i["agents_ready"].isna().tolist() == [False, True]
    assert k["offered"] == 90.0 and np.isnan(k["occupancy"]) and np.isnan(k["stress_mean"])
    same = published_centre(daily, iv, kpis, pd.concat([ad, ad.iloc[6:]]), 2, 3600.0, 5)
    assert same[0].equals(daily) and same[1].equals(iv) and same[2] == kpis  # 6 on day 1
    # without tables (sensitivity, staff: KPIs only) the KPIs are blanked all the same
    assert np.isnan(published_centre(None, None, kpis, ad, 2, 3600.0, 5)[2]["occupancy"])
    # a day nobody worked (closed) describes nobody: it blanks nothing
    shut = published_centre(daily.iloc[:1], iv.iloc[:1], kpis, ad.iloc[:6], 2, 3600.0, 5)
    assert shut[2] == kpis and shut[0].equals(daily.iloc[:1])


def test_agent_groups_are_not_recoverable_from_the_centres_total():
    """Groups of 6 and 4 agents: the 4 are blanked, and the 6 with them (two groups only).

    Published alone, the 6's answered calls would give the 4's as the centre's total (in
    ``daily``) minus the 6's. With a floor of 1 (``--individual`` and ``min_group = 1``)
    both are shown.
    """
    from sim.measure.skills import skill_tables

    d = small_dict(demand={"calls_per_day": 200, "profile": [1, 2, 2, 1]})
    s = scenario_from_dict({**d, "call_types": {"tel": {"share": 2}, "mob": {"share": 1}},
                            "agent_groups": {"g": {"shifts": ["a"], "skills": ["tel", "mob"]},
                                             "h": {"shifts": ["b"], "skills": ["tel"]}}})
    r = simulate(s, seed=2)
    groups = skill_tables(r, s, publish_floor(s.teams.min_group))["agent_groups"]
    assert groups["agents"].tolist() == [6, 4]
    assert groups[["answered", "aht_s", "occupancy"]].isna().all().all()
    shown = skill_tables(r, s, publish_floor(1, individual=True))
    assert shown["agent_groups"]["answered"].sum() == r.kpis["answered"]


# --------------------------------------------------------------------------- agent timeline


def test_agent_timeline_needs_individual(tmp_path, capsys):
    """--agent-timeline without --individual is refused, naming both; nothing is written.

    Its Gantt chart has one row per (pseudonymous) agent: a second door to agent-level
    output, so it takes the same key as the agent-level tables.
    """
    from analysis.cli import AGENT_TIMELINE_NEEDS_INDIVIDUAL

    scenario = tiny_scenario(tmp_path)
    for extra in ([], ["1"], ["0", "--reps", "2"]):
        out = tmp_path / f"agg{len(extra)}"
        assert main(["run", str(scenario), "--agent-timeline", *extra, "--out", str(out),
                     "--quiet"]) == 2
        assert capsys.readouterr().err == f"ccsim run: error: {AGENT_TIMELINE_NEEDS_INDIVIDUAL}\n"
        assert not out.exists()  # refused before the output folder is made
    assert AGENT_TIMELINE_NEEDS_INDIVIDUAL.startswith("--agent-timeline draws each agent's")
    assert "allowed only with --individual" in AGENT_TIMELINE_NEEDS_INDIVIDUAL
    # with --individual the chart is drawn (and the agent-level tables are written)
    ind = tmp_path / "ind"
    assert main(["run", str(scenario), "--agent-timeline", "1", "--individual", "--out",
                 str(ind), "--quiet", "--executor", "serial"]) == 0
    assert (ind / "timeline-day1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(ind.glob("replications/*/rep-00000/agent_days.parquet"))


# --------------------------------------------------------------------------- agent spread


def spread_weights(n: int, floor: int) -> np.ndarray:
    """The published linear figures of n agents' sorted values, as rows of weights on them.

    The figures (the total, i.e. mean times agents; p10, p50, p90) are piecewise linear in
    the values: for distinct values kept in order, a small change of one value changes each
    figure by its weight on that value exactly (up to rounding).
    """
    from sim.measure.kpi import spread_row

    x = np.arange(n, dtype=float) + np.linspace(0, 0.3, n) ** 2  # distinct, unevenly spaced

    def figures(v: np.ndarray) -> np.ndarray:
        row = spread_row(v, floor)
        return np.array([row[0] * row[1], row[3], row[4], row[5]])

    eps = 1e-3  # well under the gaps: the order stays
    base = figures(x)
    return np.column_stack([(figures(x + eps * np.eye(n)[i]) - base) / eps
                            for i in range(n)])


def disclosed(weights: np.ndarray, known: list[int]) -> list[int]:
    """Agents whose value follows from the published figures and the ``known`` values."""
    n = weights.shape[1]
    rows = np.vstack([weights, np.eye(n)[known]]) if known else weights
    out = []
    for i in set(range(n)) - set(known):
        target = np.eye(n)[i]
        coef, *_ = np.linalg.lstsq(rows.T, target, rcond=None)
        if np.abs(rows.T @ coef - target).max() < 1e-6:
            out.append(i)
    return out


def test_agent_spread_percentiles_disclose_no_agent():
    """The spread's figures give no agent's value, by any combination, even to an insider.

    For 5 to 24, 31 and 40 agents at the floor 5 (each percentile microaggregated): no agent's value
    is a linear combination of the published total and percentiles, also once any one
    agent's own value is known. The plain percentiles (the floor 1, ``--individual``) give
    the median agent's value of an odd number of agents, and sliding windows of 5 around
    each percentile would give the top agent of 6 as the total minus the lowest window.
    """
    for n in (*range(5, 25), 31, 40):
        w = spread_weights(n, PUBLISH_FLOOR)
        assert disclosed(w, []) == [], n
        for insider in range(n):
            assert disclosed(w, [insider]) == [], (n, insider)
    for n in (5, 7, 11, 21):  # the plain median of an odd count is one agent's value
        assert (n - 1) // 2 in disclosed(spread_weights(n, 1), []), n
    windows = np.zeros((2, 6))  # total, and the mean of the 5 lowest (a window round p10)
    windows[0], windows[1, :5] = 1.0, 0.2
    assert disclosed(windows, []) == [5]


def test_microaggregate_groups():
    """Groups of k to 2k - 1 neighbours by rank, as equal as possible; k = 1 sorts only."""
    from sim.measure.kpi import microaggregate, spread_row

    x = np.array([9.0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11])  # 11 values: groups of 6 and 5
    assert microaggregate(x, 5).tolist() == [3.5] * 6 + [9.0] * 5
    assert microaggregate(x, 1).tolist() == sorted(x.tolist())
    assert microaggregate(x[:4], 5).tolist() == [] and spread_row(x[:4], 5) is None
    assert microaggregate(x[:9], 5).tolist() == [5.0] * 9  # 9 < 10: one group
    agents, mean, sd, p10, p50, p90, spread = spread_row(x, 5)
    assert (agents, mean, p10, p90) == (11, 6.0, 3.5, 9.0)
    assert p50 == 3.5 and spread == 5.5 and sd == pytest.approx(np.std(x, ddof=1))
    assert spread_row(x, 1)[4] == 6.0  # the plain median: the 6th agent's value


def test_written_agent_spread_is_no_agents_value(tmp_path):
    """11 agents on two queues: no written spread figure is an agent's; --individual's are.

    Read back from what ``ccsim run`` writes: without ``--individual`` no percentile, mean
    or spread equals any agent's occupancy (each percentile is a group's mean of at least
    5 agents, still between the lowest and the highest agent and in order), though the
    scenario sets ``min_group = 1``; with it (a floor of 1) the median is the 6th agent's.
    """
    d = small_dict(demand={"calls_per_day": 200, "profile": [1, 2, 2, 1]})
    d["staffing"]["shifts"]["b"]["agents"] = 5
    d["teams"] = {"min_group": 1}  # a received scenario's: the floor stays 5 all the same
    d.update(call_types={"tel": {"share": 2}, "mob": {"share": 1}},
             agent_groups={"g": {"shifts": ["a"], "skills": ["tel", "mob"]},
                           "h": {"shifts": ["b"], "skills": ["tel"]}})
    path = tmp_path / "queues.toml"
    path.write_bytes(tomli_w.dumps(d).encode())
    from sim.measure.skills import skill_tables

    s = load_scenario(path)
    r = simulate(s, seed=SEED, replication=0)
    ad = r.agent_days
    g = ad.groupby("agent")
    busy = g["talk_s"].sum() + g["acw_s"].sum()
    occ = np.sort((busy / (busy + g["ready_s"].sum())).to_numpy())
    assert len(occ) == 11 and len(np.unique(occ)) == 11
    figures = ["mean", "p10", "p50", "p90", "p90_p10"]
    agg = pd.read_parquet(run_cli(path, tmp_path / "agg") / "agent_spread.parquet")
    row = agg.set_index("measure").loc["occupancy"]
    assert row["agents"] == 11 and row["mean"] == pytest.approx(occ.mean(), rel=1e-12)
    for f in figures:
        assert not np.isclose(occ, row[f], rtol=0, atol=1e-12).any(), (f, row[f], occ)
    assert occ[0] < row["p10"] <= row["p50"] <= row["p90"] < occ[-1]
    assert row["p10"] == row["p50"] == pytest.approx(occ[:6].mean(), rel=1e-12)
    assert row["p90"] == pytest.approx(occ[6:].mean(), rel=1e-12)
    # what --individual writes (the same run's tables under the scenario's own floor, 1)
    ind = skill_tables(r, s, publish_floor(1, individual=True))["agent_spread"]
    assert ind.set_index("measure").loc["occupancy", "p50"] == pytest.approx(occ[5], rel=1e-12)


# --------------------------------------------------------------------------- calls' clock times


def call_links(answered: pd.DataFrame) -> dict[int, int]:
    """The chain attack's links: answered call (row) -> the call that follows it.

    A waiting call is answered at the very time an agent's last call's wrap-up ended, so a
    call whose answer time equals exactly one call's end follows it at the same agent;
    chains of such links are an agent's calls in order. No clock times: no links.
    """
    if "answered_s" in answered:
        at = answered["answered_s"].to_numpy()
    elif "arrival_s" in answered:
        at = (answered["arrival_s"] + answered["wait_s"]).to_numpy()
    else:
        return {}
    ends: dict[float, list[int]] = {}
    for i, e in enumerate(at + answered["talk_s"].to_numpy() + answered["acw_s"].to_numpy()):
        ends.setdefault(float(e), []).append(i)
    follows = {}
    for j, a in enumerate(at):
        before = ends.get(float(a), [])
        if len(before) == 1:
            follows[before[0]] = j
    return follows


def chained_calls(calls: pd.DataFrame) -> np.ndarray:
    """The lengths of the chains :func:`call_links` makes of a table's answered calls."""
    answered = calls[calls["outcome"] == "answered"].reset_index(drop=True)
    follows = call_links(answered)
    lengths = []
    for first in set(range(len(answered))) - set(follows.values()):
        n, i = 1, first
        while i in follows:
            n, i = n + 1, follows[i]
        lengths.append(n)
    return np.array(lengths)


def test_written_calls_cannot_be_chained_into_agents_days():
    """An understaffed centre's calls: their clock times chain them into agents' days.

    Run as ``ccsim run`` runs it (10 agents, service level about 30%): in the run's own
    table most answered calls fall into chains of 5 or more calls of one agent (the agent
    column confirms each link); the table written without ``--individual`` has no clock
    times, so nothing links, and every call KPI is still re-derived from it.
    """
    from analysis.experiment import Task, run_task
    from analysis.store import kpi_mismatches

    s = scenario_from_dict(small_dict(demand={"calls_per_day": 300, "profile": [1, 2, 2, 1]}))
    r = simulate(s, seed=1)
    lengths = chained_calls(r.calls)
    answered = r.calls[r.calls["outcome"] == "answered"].reset_index(drop=True)
    agent = answered["agent"].to_numpy()
    assert all(agent[i] == agent[j] for i, j in call_links(answered).items())
    assert lengths.sum() == (r.calls["outcome"] == "answered").sum()
    assert lengths.max() >= 10 and lengths[lengths >= 5].sum() > 0.5 * lengths.sum(), lengths
    out = run_task(Task(0, s, 1, 0, ("calls", "daily", "intervals")))
    written = out.tables["calls"]
    assert not {"agent", "arrival_s", "answered_s"} & set(written.columns)
    assert (chained_calls(written) == 1).all()
    assert kpi_mismatches(s, out.tables, out.kpis) == []
    shown = run_task(Task(0, s, 1, 0, ("calls",), individual=True)).tables["calls"]
    assert {"agent", "arrival_s", "answered_s"} <= set(shown.columns)
