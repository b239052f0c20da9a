"""Wires a run together: ``simulate(scenario, seed, replication) -> RunResult``."""

from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim import adherence
from sim.agent import Agent
from sim.centre import Centre
from sim.demand import DayCalls, sample_day
from sim.kpi import KPIData, compute_kpis, service_level_masks
from sim.scenario import DAY_S, SCHEDULE_STATES, Scenario
from sim.schedule import (
    Plan,
    agent_days,
    build_plan,
    interval_bounds,
    roster,
    segments,
    time_in,
)
from sim.status import LABELS, Status
from sim.streams import Streams

STATUS_CATEGORIES = pd.CategoricalDtype([LABELS[s] for s in Status], ordered=False)
OUTCOMES = pd.CategoricalDtype(["answered", "abandoned", "closed"])


@dataclass(frozen=True)
class RunResult:
    """Everything one run produced: logs as DataFrames, KPIs, and where they came from."""

    calls: pd.DataFrame
    """One row per call: arrival, attributes, outcome, wait, agent."""
    statuses: pd.DataFrame
    """One row per status spell: agent, day, status (IWS name), start_s, end_s, duration_s."""
    agent_days: pd.DataFrame
    """One row per agent and day worked: log-in/out, seconds per status, calls, occupancy."""
    agents: pd.DataFrame
    """One row per agent: pseudonym and shift."""
    intervals: pd.DataFrame
    """One row per day and reporting interval: queue KPIs and mean agents per status."""
    daily: pd.DataFrame
    """One row per day: every KPI for that day."""
    kpis: dict[str, float]
    """Every KPI over the whole measurement window."""
    provenance: dict[str, Any] = field(default_factory=dict)
    """Scenario hash, seed, replication, versions, git revision, wall time."""
    activities: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per planned activity: plan, what happened (taken, displaced, shortened,
    missed), actual start and end."""
    schedule: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The published schedule as segments tiling each agent-day's shift: agent, day,
    start_s, end_s, state (on_queue or an activity kind)."""
    breaks: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per unplanned-break need: when it arose, and the break taken (NaN if it was
    met by another break or activity, or the shift ended first)."""


def simulate(scenario: Scenario, seed: int = 0, replication: int = 0, *,
             calls: list[DayCalls] | None = None,
             setup: Callable[[list[Agent]], None] | None = None) -> RunResult:
    """Simulate ``scenario`` for its horizon with the streams of ``(seed, replication)``.

    ``calls`` replaces the sampled calls (one :class:`DayCalls` per day, e.g. hand-made in
    a test); ``setup`` is called with the agents before the run starts (e.g. a policy layer
    setting ``defer_unplanned_break``).
    """
    t0 = time.perf_counter()
    streams = Streams(seed, replication)
    days = calls if calls is not None else [
        sample_day(scenario, streams, d) for d in range(scenario.horizon.days)]
    staff = _roster(scenario)
    plan = build_plan(scenario)
    day_plans = agent_days(scenario, plan, streams)

    env = simpy.Environment()
    arrival = np.concatenate([d.arrival for d in days])
    centre = Centre(
        env, arrival,
        np.concatenate([d.patience for d in days]),
        np.concatenate([d.talk for d in days]),
        np.concatenate([d.acw for d in days]),
        closings(scenario), scenario.closing.rule == "serve",
    )
    centre.acw_callout = scenario.calls.acw_callout
    log: list[tuple[int, float, int]] = []
    agents = []
    for k in range(len(staff)):
        sessions = list(zip(plan.shift_start[k].tolist(), plan.shift_end[k].tolist(),
                            strict=True))
        agent = Agent(env, centre, k, sessions, log, day_plans[k])
        agents.append(agent)
    if setup is not None:
        setup(agents)
    for agent in agents:
        env.process(agent.working_life())
    env.process(centre.arrivals())
    env.process(centre.closing())
    env.run()
    sim_s = time.perf_counter() - t0

    calls = _calls_table(scenario, days, centre)
    statuses = _statuses_table(log)
    agents_df = pd.DataFrame({
        "agent": np.arange(len(staff)),
        "pseudonym": [name for name, _ in staff],
        "shift": pd.Categorical([s for _, s in staff]),
    })
    activities = _activities_table(agents, plan)
    breaks = _breaks_table(agents)
    segs = segments(plan)
    agent_days_df = _agent_days_table(agents, agents_df, statuses, calls)
    measured, pieces = adherence.measure(segs, statuses, activities, breaks,
                                         scenario.schedule, len(staff), scenario.horizon.days)
    agent_days_df = _add_overtime(_add_adherence(agent_days_df, measured, plan, activities,
                                                 breaks, scenario.horizon.days))
    in_window = _clip_to_opening(statuses, scenario)
    intervals = _intervals_table(scenario, calls, statuses, segs, pieces)
    counted = calls[calls["counted"]]
    sl = scenario.service_level
    kpis = compute_kpis(KPIData(counted, in_window, sl, agent_days_df))
    daily = pd.DataFrame([
        {"day": d.day, "busyness": d.busyness,
         **compute_kpis(KPIData(counted[counted["day"] == d.day],
                                in_window[in_window["day"] == d.day], sl,
                                agent_days_df[agent_days_df["day"] == d.day]))}
        for d in days
    ])
    provenance = {
        "scenario": scenario.name,
        "scenario_hash": scenario.digest(),
        "seed": seed,
        "replication": replication,
        "calls": len(calls),
        "agents": len(staff),
        "simulation_s": round(sim_s, 4),
        "wall_s": round(time.perf_counter() - t0, 4),
        **versions(),
    }
    schedule = segs.assign(state=pd.Categorical.from_codes(
        segs["state"].to_numpy(), categories=list(SCHEDULE_STATES))).drop(columns="row")
    return RunResult(calls, statuses, agent_days_df, agents_df, intervals, daily, kpis,
                     provenance, activities, schedule, breaks)


def closings(scenario: Scenario) -> list[tuple[float, float]]:
    """Per day: (closing time, cut-off after which no call waits), in seconds from day 0.

    The cut-off is closing plus ``closing.max_overtime_minutes`` under the "serve" rule and
    closing itself under "close"; in a multi-day run it is never after midnight.
    """
    h, c = scenario.horizon, scenario.closing
    extra = c.max_overtime_minutes * 60 if c.rule == "serve" else 0.0
    out = []
    for d in range(h.days):
        close = d * DAY_S + h.open + h.hours * 3600
        cutoff = close + extra
        if h.days > 1:
            cutoff = min(cutoff, (d + 1) * DAY_S)
        out.append((close, max(close, cutoff)))
    return out


def _roster(scenario: Scenario) -> list[tuple[str, str]]:
    """(pseudonym, shift) per agent; pseudonyms are stable within a shift."""
    return [(name, shift) for name, shift, _ in roster(scenario)]


OUTCOMES_ACT = pd.CategoricalDtype(["taken", "displaced", "shortened", "missed"])


def _activities_table(agents: list[Agent], plan: Plan) -> pd.DataFrame:
    """Every planned activity with what happened to it (exactly one record per plan row)."""
    recs = [r for a in agents for r in a.activity_log]
    rows = np.array([r[0] for r in recs], dtype=np.int64)
    if len(rows) != len(plan) or (len(rows) and
                                  not np.array_equal(np.sort(rows), np.arange(len(plan)))):
        raise RuntimeError("planned activities lost or duplicated: the agent model is broken")
    act_s = np.full(len(plan), np.nan)
    act_e = np.full(len(plan), np.nan)
    if len(rows):
        act_s[rows] = [r[1] for r in recs]
        act_e[rows] = [r[2] for r in recs]
    out = plan.table()
    out["keep_length"] = plan.keep_length
    out["actual_start_s"] = act_s
    out["actual_end_s"] = act_e
    out["displaced_s"] = act_s - plan.start
    planned_len = plan.end - plan.start
    got = act_e - act_s
    missed = np.isnan(act_s) | (got <= 0)
    code = np.where(missed, 3, np.where(got < planned_len - 1e-9, 2,
                                        np.where(out["displaced_s"] > 1e-9, 1, 0)))
    out["outcome"] = pd.Categorical.from_codes(code, dtype=OUTCOMES_ACT)
    out["late_return_s"] = np.where(missed, np.nan, act_e - np.where(
        plan.keep_length, act_s + planned_len, plan.end))
    return out


def _breaks_table(agents: list[Agent]) -> pd.DataFrame:
    rows = [(a.index, *r) for a in agents for r in a.break_log]
    out = pd.DataFrame(rows, columns=["agent", "day", "need_s", "start_s", "end_s"])
    out = out.astype({"agent": np.int64, "day": np.int64, "need_s": float, "start_s": float,
                      "end_s": float})
    out["duration_s"] = out["end_s"] - out["start_s"]
    return out.sort_values(["agent", "need_s"], kind="stable").reset_index(drop=True)


def _add_adherence(out: pd.DataFrame, measured: pd.DataFrame, plan: Plan,
                   activities: pd.DataFrame, breaks: pd.DataFrame, days: int) -> pd.DataFrame:
    """Schedule, adherence, conformance, shrinkage and loss reasons per agent-day."""
    g = (out["agent"].to_numpy() * days + out["day"].to_numpy())
    out = out.copy()
    out.insert(2, "shift_start_s", plan.shift_start.ravel()[g])
    out.insert(3, "shift_end_s", plan.shift_end.ravel()[g])
    out.insert(4, "login_delay_s", out["login_s"] - out["shift_start_s"])
    m = measured.iloc[g].reset_index(drop=True)
    for col in m.columns:
        out[col] = m[col].to_numpy()
    out["adherence"] = out["in_adherence_s"] / out["scheduled_s"].where(lambda x: x > 0)
    on_queue = out["ready_s"] + out["talk_s"] + out["acw_s"]
    out["conformance"] = on_queue / out["scheduled_on_queue_s"].where(lambda x: x > 0)
    out["shrinkage"] = 1 - out["on_queue_in_shift_s"] / out["scheduled_s"].where(
        lambda x: x > 0)
    n_groups = len(measured)
    ag = (activities["agent"].to_numpy() * days + activities["day"].to_numpy()).astype(int)
    for name in OUTCOMES_ACT.categories:
        hit = (activities["outcome"] == name).to_numpy()
        out[f"activities_{name}"] = np.bincount(ag[hit], minlength=n_groups)[g]
    disp = np.nan_to_num(activities["displaced_s"].to_numpy())
    out["displaced_s"] = np.bincount(ag, weights=disp, minlength=n_groups)[g]
    bg = (breaks["agent"].to_numpy() * days + breaks["day"].to_numpy()).astype(int)
    took = breaks["duration_s"].notna().to_numpy()
    out["unplanned_breaks"] = np.bincount(bg[took], minlength=n_groups)[g]
    out["unplanned_needs"] = np.bincount(bg, minlength=n_groups)[g]
    return out


def _calls_table(scenario: Scenario, days: list[DayCalls], centre: Centre) -> pd.DataFrame:
    h = scenario.horizon
    arrival = np.asarray(centre.arrival)
    answered_at = np.asarray(centre.answered_at)
    deadline = np.asarray(centre.deadline)
    patience = np.concatenate([d.patience for d in days])
    closed_at = np.asarray(centre.closed_at)
    answered = ~np.isnan(answered_at)
    closed = ~np.isnan(closed_at)
    abandoned = ~answered & ~closed & (deadline <= centre.env.now)
    lost = ~(answered | closed | abandoned)
    if lost.any() or (answered & closed).any():
        raise RuntimeError(f"{int(lost.sum())} calls neither answered, abandoned nor closed "
                           "by the end of the run: the closing model is broken")
    outcome = np.where(answered, 0, np.where(abandoned, 1, 2))  # codes of OUTCOMES
    wait = np.where(answered, answered_at - arrival,
                    np.where(abandoned, deadline - arrival, closed_at - arrival))
    day = np.repeat([d.day for d in days], [len(d) for d in days])
    since_open = arrival - day * DAY_S - h.open
    interval = np.minimum((since_open // h.interval_s).astype(int), h.intervals_per_day - 1)
    return pd.DataFrame({
        "call": np.arange(len(arrival)),
        "day": day,
        "interval": interval,
        "arrival_s": arrival,
        "talk_s": np.concatenate([d.talk for d in days]),
        "acw_s": np.asarray(centre.acw, dtype=float),  # as done (ACW call-out may cut it)
        "patience_s": patience,
        "outcome": pd.Categorical.from_codes(outcome, dtype=OUTCOMES),
        "answered_s": answered_at,
        "wait_s": wait,
        "agent": np.asarray(centre.answered_by),
        "counted": (day > 0) | (since_open >= h.warmup_minutes * 60),
    })


def _statuses_table(log: list[tuple[int, float, int]]) -> pd.DataFrame:
    """Status spells from the change log; each agent's rows are in time order already."""
    rows = np.array(log, dtype=float).reshape(-1, 3)
    agent, t, code = rows[:, 0].astype(np.int64), rows[:, 1], rows[:, 2].astype(np.int64)
    order = np.argsort(agent, kind="stable")
    agent, t, code = agent[order], t[order], code[order]
    end = np.empty_like(t)
    end[:-1] = t[1:]
    end[-1:] = t[-1:]
    # session number: log-outs before each row, per agent
    logout = code == Status.LOGGED_OUT
    first = np.r_[True, agent[1:] != agent[:-1]]
    cum = np.cumsum(logout) - logout
    session = cum - np.maximum.accumulate(np.where(first, cum, 0))
    keep = ~logout
    return pd.DataFrame({
        "agent": agent[keep],
        "day": session[keep],
        # categories are in Status order, so the codes are the status values
        "status": pd.Categorical.from_codes(code[keep], dtype=STATUS_CATEGORIES),
        "start_s": t[keep],
        "end_s": end[keep],
        "duration_s": end[keep] - t[keep],
    })


def _agent_days_table(agents: list[Agent], agents_df: pd.DataFrame, statuses: pd.DataFrame,
                      calls: pd.DataFrame) -> pd.DataFrame:
    rows = [(a.index, d, login, logout) for a in agents
            for d, (login, logout) in enumerate(a.logins)]
    out = pd.DataFrame(rows, columns=["agent", "day", "login_s", "logout_s"])
    out["shift"] = agents_df["shift"].to_numpy()[out["agent"].to_numpy()]
    out["logged_in_s"] = out["logout_s"] - out["login_s"]
    per = statuses.pivot_table(index=["agent", "day"], columns="status", values="duration_s",
                               aggfunc="sum", observed=True, fill_value=0.0)
    for s in (Status.READY, Status.TALK, Status.ACW):
        col = LABELS[s]
        vals = per[col] if col in per else pd.Series(0.0, index=per.index)
        out[f"{s.name.lower()}_s"] = (
            vals.reindex(pd.MultiIndex.from_frame(out[["agent", "day"]])).fillna(0.0).to_numpy()
        )
    handled = calls[calls["agent"] >= 0].groupby(["agent", "day"]).size()
    out["calls"] = (handled.reindex(pd.MultiIndex.from_frame(out[["agent", "day"]]))
                    .fillna(0).astype(int).to_numpy())
    busy = out["talk_s"] + out["acw_s"]
    out["occupancy"] = busy / (busy + out["ready_s"]).where(lambda x: x > 0)
    return out


def _add_overtime(out: pd.DataFrame) -> pd.DataFrame:
    """Seconds logged in after the shift's end: a call finished late, the queue cleared."""
    out["overtime_s"] = np.maximum(0.0, out["logout_s"] - out["shift_end_s"])
    return out


def _clip_to_opening(statuses: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Status rows cut to each day's opening hours (and day 0's warm-up removed).

    Time-based KPIs such as occupancy describe the hours the queue is open; overtime after
    closing (rule "serve": clearing the queue; see ``overtime_hours``) and a steady-state
    run's warm-up are left out.
    """
    h = scenario.horizon
    day = statuses["day"].to_numpy()
    lo = day * DAY_S + h.open + np.where(day == 0, h.warmup_minutes * 60, 0.0)
    hi = day * DAY_S + h.open + h.hours * 3600
    start = np.maximum(statuses["start_s"].to_numpy(), lo)
    end = np.minimum(statuses["end_s"].to_numpy(), hi)
    keep = end > start
    out = statuses[keep].copy()
    out["start_s"], out["end_s"] = start[keep], end[keep]
    out["duration_s"] = end[keep] - start[keep]
    return out


def _intervals_table(scenario: Scenario, calls: pd.DataFrame, statuses: pd.DataFrame,
                     segs: pd.DataFrame, pieces: pd.DataFrame) -> pd.DataFrame:
    h, sl = scenario.horizon, scenario.service_level
    n_int = h.intervals_per_day
    idx = pd.MultiIndex.from_product([range(h.days), range(n_int)], names=["day", "interval"])
    out = pd.DataFrame(index=idx)
    out["start_s"] = interval_bounds(scenario)[0]
    by = [calls["day"], calls["interval"]]
    out["offered"] = calls.groupby(by).size().reindex(idx, fill_value=0)
    ans = calls["outcome"] == "answered"
    for name, mask in (("answered", ans), ("abandoned", calls["outcome"] == "abandoned"),
                       ("closed", calls["outcome"] == "closed"),
                       ("answered_within", ans & (calls["wait_s"] <= sl.threshold_s))):
        out[name] = mask.groupby(by).sum().reindex(idx, fill_value=0).astype(int)
    within, den = service_level_masks(calls, sl)
    num = pd.Series(within).groupby(by).sum().reindex(idx, fill_value=0)
    den_n = pd.Series(den).groupby(by).sum().reindex(idx, fill_value=0)
    out["service_level"] = num / den_n.where(den_n > 0)
    wait_ans = calls["wait_s"].where(ans)
    out["asa_s"] = wait_ans.groupby(by).mean().reindex(idx)
    out["abandon_rate"] = out["abandoned"] / out["offered"].where(out["offered"] > 0)
    out = out.reset_index()
    # mean agents per status and per schedule state, interval by interval (time-weighted)
    lo, hi = interval_bounds(scenario)
    on_q = segs[segs["state"] == 0]
    spans = {
        f"agents_{s.name.lower()}": (sp["start_s"].to_numpy(), sp["end_s"].to_numpy())
        for s in (Status.READY, Status.TALK, Status.ACW)
        for sp in [statuses[statuses["status"] == LABELS[s]]]
    }
    spans |= {
        "agents_scheduled": (segs["start_s"].to_numpy(), segs["end_s"].to_numpy()),
        "agents_scheduled_on_queue": (on_q["start_s"].to_numpy(), on_q["end_s"].to_numpy()),
        "agents_in_adherence": (pieces["start_s"].to_numpy(),
                                pieces["start_s"].to_numpy() + pieces["adherent_s"].to_numpy()),
    }
    for name, (st, en) in spans.items():
        out[name] = time_in(st, en, lo, hi) / h.interval_s
    out.insert(out.columns.get_loc("agents_acw") + 1, "agents_on_queue",
               out[["agents_ready", "agents_talk", "agents_acw"]].sum(axis=1))
    out["adherence"] = out["agents_in_adherence"] / out["agents_scheduled"].where(
        lambda x: x > 0)
    return out


@functools.cache
def versions() -> dict[str, Any]:
    """Package versions, Python, machine and git revision of the code that ran."""
    pkgs = {}
    for name in ("ccsim", "simpy", "numpy", "pandas", "scipy", "pydantic"):
        try:
            pkgs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pkgs[name] = None
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=Path(__file__).parent,
            capture_output=True, text=True, timeout=5, check=False,
        )
        rev = proc.stdout.strip() if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        rev = None
    return {"versions": pkgs, "python": platform.python_version(),
            "machine": platform.machine(), "git_revision": rev, "model_digest": model_digest()}


@functools.cache
def model_digest() -> str:
    """SHA-256 of the model's source (``sim/*.py``): stored results from other code differ.

    Unlike the git revision it also covers uncommitted edits, and it ignores changes
    outside the model (analysis, docs), which cannot change a replication's numbers.
    """
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
