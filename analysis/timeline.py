"""A Gantt chart of agents' statuses over one day, drawn over their published schedule."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from analysis.experiment import Experiment  # noqa: E402
from analysis.store import atomic_write  # noqa: E402
from sim.model import RunResult, simulate  # noqa: E402
from sim.people.observe import AgentTimeline  # noqa: E402
from sim.scenario import DAY_S, Scenario  # noqa: E402

#: one colour per IWS status (on-queue statuses in greens/blues, Not Ready in warm colours)
STATUS_COLOURS: dict[str, str] = {
    "Ready": "#a6d96a",
    "Talk": "#1a9641",
    "After Call Work": "#66c2a5",
    "Not Ready - Break": "#fdae61",
    "Not Ready - Lunch": "#d7191c",
    "Not Ready - Manager Approved": "#9e79c9",
    "Not Ready - Meeting": "#5e3c99",
    "Not Ready - Training": "#2b83ba",
    "Not Ready - Deferred Transaction": "#8c6d31",
    "Logged Out": "#bdbdbd",
    "Log Off": "#636363",
}
#: schedule states, coloured like the status that adheres to them
STATE_COLOURS: dict[str, str] = {
    "on_queue": "#d9f0d3",
    "break": STATUS_COLOURS["Not Ready - Break"],
    "lunch": STATUS_COLOURS["Not Ready - Lunch"],
    "meeting": STATUS_COLOURS["Not Ready - Meeting"],
    "training": STATUS_COLOURS["Not Ready - Training"],
    "manager_approved": STATUS_COLOURS["Not Ready - Manager Approved"],
    "deferred_transaction": STATUS_COLOURS["Not Ready - Deferred Transaction"],
}


def recorded(exp: Experiment, scenario: Scenario, seed: int, day: int,
             start_from: Scenario | None = None) -> pd.DataFrame:
    """Replication 0's ``agent_timeline`` records of ``day`` (``ccsim run --agent-timeline``).

    Recorded in the replication as it ran (:class:`sim.people.observe.AgentTimeline`); only
    a replication 0 resumed from an output folder (not simulated by this command, and
    stored without the records of individual agents) is simulated here, once, to record
    them.
    """
    tables = exp.outputs[0, 0].tables
    if "agent_timeline" in tables:
        return tables["agent_timeline"]
    r = simulate(scenario, seed=seed, replication=0, start_from=start_from,
                 observe=(AgentTimeline(day=day),))
    return r.observed["agent_timeline"]


def timeline_table(result: RunResult, day: int) -> pd.DataFrame:
    """A run's ``day`` as the ``agent_timeline`` observer records it (statuses, schedule).

    For a :class:`~sim.model.RunResult` at hand (a notebook); ``ccsim run`` records the
    table during the run instead (:class:`sim.people.observe.AgentTimeline`).
    """
    names = result.agents.set_index("agent")["pseudonym"]
    st = result.statuses[result.statuses["day"] == day]
    sched = result.schedule
    sched = sched[sched["day"] == day] if len(sched) else sched
    parts = [pd.DataFrame({"agent": st["agent"].to_numpy(np.int64), "layer": "status",
                           "state": st["status"].astype(str).to_numpy(),
                           "start_s": st["start_s"].to_numpy(float),
                           "end_s": st["end_s"].to_numpy(float)})]
    if len(sched):
        parts.append(pd.DataFrame({"agent": sched["agent"].to_numpy(np.int64),
                                   "layer": "schedule",
                                   "state": sched["state"].astype(str).to_numpy(),
                                   "start_s": sched["start_s"].to_numpy(float),
                                   "end_s": sched["end_s"].to_numpy(float)}))
    out = pd.concat(parts, ignore_index=True)
    out.insert(1, "pseudonym", [str(names.get(a, a)) for a in out["agent"].tolist()])
    return out


def plot_timeline(result: RunResult | pd.DataFrame, path: str | Path, day: int = 0,
                  agents: Sequence[int] | None = None, max_agents: int = 40,
                  title: str | None = None) -> Path:
    """Draw each agent's status spells of ``day`` over a thin bar of their schedule; save PNG.

    ``result``: a run, or the day's ``agent_timeline`` table (recorded during the run,
    :class:`sim.people.observe.AgentTimeline`). ``agents`` picks agents by number (default:
    the first ``max_agents`` who worked that day). Each row shows the published schedule
    (upper thin bar) and what the status log recorded (lower thick bar), so displaced
    breaks, late returns, unplanned breaks and the log-in delay are visible at a glance.
    Returns the path written.
    """
    path = Path(path)
    if isinstance(result, pd.DataFrame):
        table, scenario = result, ""
    else:
        table, scenario = timeline_table(result, day), result.provenance.get("scenario", "")
    st = table[table["layer"] == "status"]
    sched = table[table["layer"] == "schedule"]
    ids = list(agents) if agents is not None else sorted(st["agent"].unique())[:max_agents]
    if not ids:
        raise ValueError(f"no agent worked on day {day}")
    names = dict(zip(table["agent"].tolist(), table["pseudonym"].tolist(), strict=True))
    base = day * DAY_S
    fig, ax = plt.subplots(figsize=(12, 0.8 + 0.32 * len(ids)))
    for row, a in enumerate(ids):
        y = len(ids) - 1 - row
        mine = st[st["agent"] == a]
        ax.broken_barh(
            list(zip((mine["start_s"] - base) / 3600, (mine["end_s"] - mine["start_s"]) / 3600,
                     strict=True)),
            (y - 0.35, 0.5), facecolors=[STATUS_COLOURS[s] for s in mine["state"]],
            linewidth=0)
        if len(sched):
            sm = sched[sched["agent"] == a]
            ax.broken_barh(
                list(zip((sm["start_s"] - base) / 3600, (sm["end_s"] - sm["start_s"]) / 3600,
                         strict=True)),
                (y + 0.2, 0.2), facecolors=[STATE_COLOURS[s] for s in sm["state"]],
                edgecolor="#444444", linewidth=0.3)
    ax.set_yticks(range(len(ids)), [names.get(a, str(a)) for a in reversed(ids)], fontsize=7)
    ax.set_xlabel(f"hour of day {day}")
    ax.grid(axis="x", alpha=0.3)
    used = sorted(set(st[st["agent"].isin(ids)]["state"]), key=list(STATUS_COLOURS).index)
    handles = [Patch(color=STATUS_COLOURS[s], label=s) for s in used]
    handles.append(Patch(facecolor="white", edgecolor="#444444",
                         label="thin bar above: schedule"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title or f"{scenario}: statuses and schedule, day {day}")
    fig.tight_layout()
    # atomically, and never through a link planted in the output folder
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)
    return path
