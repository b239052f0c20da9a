"""KPIs of a run with several call types and agent groups, and how its load falls on agents.

``skill_tables(result, scenario)`` gives the three tables ``ccsim run`` writes and prints
when a scenario has ``[call_types]``: ``call_types`` (the call-side KPIs per type, each
against its own service-level threshold), ``agent_groups`` (per group: its agents, the
calls it answered, occupancy; groups of fewer agents than the publication floor are blanked
unless individual figures are allowed, and further groups so that none is the centre's total
minus the others, also to an insider: :func:`sim.measure.tables.suppress_cells`) and
``agent_spread`` (the distribution across agents of occupancy, and of measured stress and
strain when stress is on; its percentiles are of groups of at least the floor's agents).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from sim.engine.routing_skills import written_items
from sim.measure.kpi import (
    KPIData,
    agent_spread,
    compute_kpis,
    outcome_is,
    service_level_masks,
)
from sim.measure.tables import clip_to_opening, suppress_cells
from sim.scenario import DAY_S

if TYPE_CHECKING:
    from sim.scenario import Scenario


class RunTables(Protocol):
    """The tables of a run that these KPIs read (a ``sim.model.RunResult``)."""

    calls: pd.DataFrame
    statuses: pd.DataFrame
    agent_days: pd.DataFrame
    agents: pd.DataFrame
    imposed: pd.DataFrame
    provenance: dict

#: the tables :func:`skill_tables` gives (names of an experiment's per-replication tables)
SKILL_TABLES = ("call_types", "agent_groups", "agent_spread", "written", "type_intervals")
#: the call-side KPIs per call type and reporting interval (``type_intervals``)
INTERVAL_KPIS = ("offered", "answered", "service_level", "asa_s", "abandon_rate")
#: the call-side KPIs shown per call type
TYPE_KPIS = ("offered", "answered", "abandoned", "service_level", "asa_s", "abandon_rate",
             "p_wait", "aht_s")
#: the KPIs shown per agent group
GROUP_KPIS = ("answered", "aht_s", "occupancy", "overflow_answered")


def group_of(scenario: Scenario, shifts: np.ndarray) -> np.ndarray:
    """The agent group (its index in ``[agent_groups]``) of each agent, from its shift."""
    by_shift = {s: k for k, g in enumerate(scenario.agent_groups.values()) for s in g.shifts}
    return np.array([by_shift[str(s)] for s in shifts], dtype=np.int64)


def skill_tables(result: RunTables, scenario: Scenario, floor: int = 1
                 ) -> dict[str, pd.DataFrame]:
    """The per-type, per-group and across-agent tables of one run (empty without types).

    ``floor``: groups with fewer agents than this have their figures blanked (the
    publication floor; 1 shows every group), with complementary suppression.
    """
    if not scenario.call_types:
        return {name: pd.DataFrame() for name in SKILL_TABLES}
    calls = result.calls
    counted = calls if calls["counted"].all() else calls[calls["counted"]]
    sl = scenario.service_level
    levels = tuple(sl.model_copy(update={
        "threshold_s": sl.threshold_s if t.threshold_s is None else t.threshold_s,
        "target": sl.target if t.target is None else t.target})
        for t in scenario.call_types.values())
    groups = group_of(scenario, result.agents["shift"].to_numpy())
    data = KPIData(counted, clip_to_opening(result.statuses, scenario, agent=True), sl,
                   result.agent_days, group_of=groups, type_levels=levels)
    names = list(scenario.call_types)
    phone = [k for k, t in enumerate(scenario.call_types.values()) if t.kind == "phone"]
    by_type = compute_kpis(data, by="type", keys=range(len(names)))
    by_type = by_type[["type", *TYPE_KPIS]].assign(
        type=names, threshold_s=[lv.threshold_s for lv in levels],
        target=[lv.target for lv in levels])
    # overflows: answered calls taken by a group that answers their type only after a delay
    gnames = list(scenario.agent_groups)
    delayed = np.array([[g.overflow_after_s.get(t, 0.0) > 0 for t in names]
                        for g in scenario.agent_groups.values()], dtype=bool)
    answered = counted[counted["agent"].to_numpy() >= 0]
    kind = answered["type"].cat.codes.to_numpy(np.int64)
    by = groups[answered["agent"].to_numpy(np.int64)]
    over = delayed[by, kind]
    by_type["overflowed"] = np.bincount(kind[over], minlength=len(names))
    by_type = by_type.iloc[phone].reset_index(drop=True)  # written work: its own table
    by_group = compute_kpis(data, by="group", keys=range(len(gnames)))
    by_group = by_group[["group", *GROUP_KPIS[:-1]]].assign(group=gnames)
    by_group["overflow_answered"] = np.bincount(by[over], minlength=len(gnames)).astype(float)
    by_group.insert(1, "agents", np.bincount(groups, minlength=len(gnames)))
    # primary and complementary suppression, as for teams (the centre's totals are
    # published, so one blanked group would be the total minus the others); a group nobody
    # is rostered in is known from the scenario and describes nobody
    size = by_group["agents"].to_numpy()
    small = np.zeros(len(size), dtype=bool)
    small[size > 0] = suppress_cells(size[size > 0], np.zeros(int((size > 0).sum()), int),
                                     floor)
    by_group.loc[small, list(GROUP_KPIS)] = np.nan
    # its percentiles microaggregated in groups of the floor: none is one agent's value
    spread = agent_spread(result.agent_days, floor)
    return {"call_types": by_type, "agent_groups": by_group, "agent_spread": spread,
            "written": written_table(result, scenario),
            "type_intervals": type_intervals(counted, levels, names, phone)}


def type_intervals(counted: pd.DataFrame, levels: tuple, names: list[str],
                   phone: list[int]) -> pd.DataFrame:
    """Per phone type, day and reporting interval: its calls' KPIs (its own threshold).

    The same definitions as the centre's KPIs (``service_level_masks``, ``outcome_is``),
    summed per interval at once.
    """
    codes = counted["type"].cat.codes.to_numpy()
    parts = []
    for k in phone:
        mine = counted[codes == k]
        num, den = service_level_masks(mine, levels[k])
        answered = outcome_is(mine, "answered")
        wait = np.where(answered, mine["wait_s"].to_numpy(float), 0.0)
        g = pd.DataFrame({"day": mine["day"].to_numpy(), "interval": mine["interval"].to_numpy(),
                          "offered": 1, "answered": answered.astype(int),
                          "abandoned": outcome_is(mine, "abandoned").astype(int),
                          "num": num.astype(int), "den": den.astype(int), "wait": wait}
                         ).groupby(["day", "interval"], sort=True).sum().reset_index()
        with np.errstate(invalid="ignore", divide="ignore"):
            g["service_level"] = g["num"] / g["den"].where(g["den"] > 0)
            g["asa_s"] = g["wait"] / g["answered"].where(g["answered"] > 0)
            g["abandon_rate"] = g["abandoned"] / g["offered"]
        parts.append(g.assign(type=names[k]))
    if not parts:
        return pd.DataFrame(columns=["type", "day", "interval", *INTERVAL_KPIS])
    out = pd.concat(parts, ignore_index=True)
    return out[["type", "day", "interval", *INTERVAL_KPIS]].astype({"offered": float,
                                                                   "answered": float})


def written_table(result: RunTables, scenario: Scenario) -> pd.DataFrame:
    """Per written type: items arrived, carried in, done, backlog at the end, deadlines met.

    The items are drawn again from the run's seed and replication (the same draws); each
    worked item is the imposed activity whose reason names it. Items carried in from a
    warm-up (``written TYPE carried #j arrived T``: not started by its end) are counted in
    ``carried`` and, once worked, in ``done``; the backlog is ``items + carried - done``.
    Attainment is the share of the items (carried ones included) done within their
    deadline, among those done or past their deadline by the last closing (items still open
    with time left are not yet judged).
    """
    cols = ["type", "items", "carried", "done", "backlog", "deadline_met", "mean_done_h"]
    seed, rep = result.provenance.get("seed"), result.provenance.get("replication")
    items = (written_items(scenario, int(seed), int(rep)) if seed is not None else None)
    if items is None:
        return pd.DataFrame(columns=cols)
    arrival, _, kind = items
    end = np.full(len(arrival), np.nan)
    names = list(scenario.call_types)
    im = result.imposed
    c_arrival, c_end, c_kind = (np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
    if len(im):
        mine = im["reason"].str.startswith("written ")
        reason = im.loc[mine, "reason"]
        own = reason.str.extract(r"^written \S+ #(\d+)$")[0]
        hit = own.notna().to_numpy()
        end[own[hit].astype(np.int64).to_numpy()] = im.loc[mine, "end_s"].to_numpy(float)[hit]
        carried = reason.str.extract(r"^written (\S+) carried #\d+ arrived (\S+)$")
        got = carried[0].notna().to_numpy()
        c_arrival = carried[1][got].astype(float).to_numpy()
        c_end = im.loc[mine, "end_s"].to_numpy(float)[got]
        c_kind = np.array([names.index(n) for n in carried[0][got]], dtype=np.int64)
    # items carried in but never started this run: the start state's, not in any table
    start = result.provenance.get("written_carried") or {}
    h = scenario.horizon
    last = (h.days - 1) * DAY_S + h.open + h.hours * 3600
    rows = []
    for w, (name, t) in enumerate(scenario.call_types.items()):
        if t.kind != "written":
            continue
        sel, csel = kind == w, c_kind == w
        a = np.r_[arrival[sel], c_arrival[csel]]
        e = np.r_[end[sel], c_end[csel]]
        due = a + t.deadline_h * 3600
        done = ~np.isnan(e)
        judged = done | (due <= last)
        met = done & (e <= due)
        n_carried = int(start.get(name, csel.sum()))
        rows.append((name, int(sel.sum()), n_carried, int(done.sum()),
                     int(sel.sum()) + n_carried - int(done.sum()),
                     met[judged].mean() if judged.any() else np.nan,
                     ((e - a)[done] / 3600).mean() if done.any() else np.nan))
    return pd.DataFrame(rows, columns=cols)
