"""Observers: what a run records beyond its tables, chosen before the run starts.

An observer is a small, picklable description (``simulate(..., observe=("strain_profile",))``
or an instance with its own settings, e.g. ``StrainProfile(step_minutes=1)``), so it
travels with a replication to any worker. When the run is built, each observer starts a
:class:`Recorder`, which subscribes a watcher per agent to the status funnel (composed
into the agent's behaviour by :mod:`sim.people.compose`) or to the agent's strain; when
the run ends, the recorder's table is ``RunResult.observed[name]``. Watchers only read:
they draw no random numbers and change no state, so an observed run is the same run.
An observer not asked for is never built and costs nothing.

Every observer here but ``agent_timeline`` reads the strain, so it needs
``stress.enabled``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.engine.behaviour import Behaviour
from sim.engine.schedule import build_plan, roster, segments
from sim.engine.status import LABELS, Status
from sim.scenario import SCHEDULE_STATES

if TYPE_CHECKING:
    from sim.engine.agent import Agent
    from sim.people.stress import Strain
    from sim.scenario import Scenario

DAY = 86_400.0
_LOGGED_OUT = int(Status.LOGGED_OUT)
_BREAK = int(Status.NOT_READY_BREAK)
_exp = math.exp


class Recorder:
    """One observer's recording in one run: watchers per agent, then a table."""

    name: str = ""

    def watcher(self, k: int) -> Behaviour | None:
        """Agent ``k``'s watcher on the status funnel (None: this recorder needs none)."""
        return None

    def table(self) -> pd.DataFrame:
        """The records of the run (``RunResult.observed[name]``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Observer:
    """What to record, chosen before the run: a name and settings (picklable)."""

    name: ClassVar[str] = ""
    #: its records are about individual agents (pseudonymous): an experiment stores them
    #: only when asked to keep individual data (``ccsim run --individual``)
    individual: ClassVar[bool] = False

    def start(self, scenario: Scenario, strains: list[Strain] | None) -> Recorder:
        """The recorder of one run (``strains``: the agents' strain, or None)."""
        raise NotImplementedError

    def _strains(self, scenario: Scenario, strains: list[Strain] | None) -> list[Strain]:
        if strains is None or not scenario.stress.enabled:
            raise ValueError(f"observer {self.name!r} records strain: the scenario needs "
                             "stress.enabled = true")
        return strains


# --------------------------------------------------------------- strain over the day


@dataclass(frozen=True)
class StrainProfile(Observer):
    """Mean acute strain of the agents logged in, every ``step_minutes`` of each day.

    The grid runs from opening to closing (both included). Each agent's strain A is
    taken at its status changes, as the model updates it; between changes A follows the
    model's closed form with the agent's load, threat and deferral load of that status,
    evaluated at the grid times (an impulse between two changes, such as a chase, shows
    from the next change). Table: ``day``, ``time_s`` (seconds since the day's
    midnight), ``strain`` (mean over the agents logged in, NaN if none), ``agents``.
    One row per grid time: what the run report draws, small enough to store.
    """

    name: ClassVar[str] = "strain_profile"
    step_minutes: float = 15.0

    def start(self, scenario: Scenario, strains: list[Strain] | None) -> Recorder:
        """A recorder with the run's grid."""
        if not self.step_minutes > 0:
            raise ValueError(f"strain_profile: step_minutes must be > 0, got "
                             f"{self.step_minutes}")
        return _Profile(scenario, self._strains(scenario, strains), self.step_minutes * 60)


class _Profile(Recorder):
    name = StrainProfile.name

    def __init__(self, scenario: Scenario, strains: list[Strain], step_s: float) -> None:
        h = scenario.horizon
        offsets = np.arange(0, h.hours * 3600 + 1, step_s)
        times = (np.arange(h.days)[:, None] * DAY + h.open + offsets[None, :]).ravel()
        self.per_day = len(offsets)
        self.times = times
        self.order = np.argsort(times, kind="stable")  # a watcher walks the grid in time
        self.grid: list[float] = times[self.order].tolist()
        self.total = [0.0] * len(times)
        self.count = [0] * len(times)
        self.strains = strains

    def watcher(self, k: int) -> Behaviour:
        """A watcher of agent ``k``'s strain."""
        return _ProfileWatch(self.strains[k], self.grid, self.total, self.count)

    def table(self) -> pd.DataFrame:
        """One row per day and grid time."""
        total, count = np.empty(len(self.times)), np.empty(len(self.times), dtype=np.int64)
        total[self.order], count[self.order] = self.total, self.count
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        day = np.arange(len(self.times)) // self.per_day
        return pd.DataFrame({"day": day.astype(np.int64), "time_s": self.times - day * DAY,
                             "strain": mean, "agents": count})


class _ProfileWatch(Behaviour):
    """One agent: its strain after each change, evaluated at the grid times it spans."""

    watches_status = True

    def __init__(self, strain: Strain, grid: list[float], total: list[float],
                 count: list[int]) -> None:
        self.strain, self.grid, self.total, self.count = strain, grid, total, count
        self.i = 0  # the first grid time not yet evaluated
        self.next = grid[0] if grid else math.inf
        self.t = -math.inf  # the last change, and the strain's law after it
        self.a = self.threat = self.extra = 0.0
        self.status = _LOGGED_OUT

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """Grid times before ``now`` take the law since the last change; keep the new one."""
        if now > self.next:
            self._fill(now)
        s = self.strain
        self.t, self.a, self.status, self.threat, self.extra = now, s.a, new, s.threat, s.extra

    def _fill(self, now: float) -> None:
        grid, i, n = self.grid, self.i, len(self.grid)
        status = self.status
        if status != _LOGGED_OUT:  # logged out (or before the first log-in): not counted
            s = self.strain
            tau = s.tau[status]
            lt = (s.load[status] + s.threat_load * self.threat + self.extra) * tau
            a, t = self.a, self.t
            total, count = self.total, self.count
            while i < n and grid[i] < now:
                total[i] += lt + (a - lt) * _exp(-(grid[i] - t) / tau)
                count[i] += 1
                i += 1
        else:
            while i < n and grid[i] < now:
                i += 1
        self.i = i
        self.next = grid[i] if i < n else math.inf


# ------------------------------------------------------------------ strain at changes


@dataclass(frozen=True)
class StrainTrace(Observer):
    """Every agent's strain right after each of its status changes.

    Table: ``agent``, ``day``, ``time_s``, ``status`` (the new status's IWS code, a
    :class:`sim.engine.status.Status`), ``strain`` (A), ``threat`` and ``extra`` (the load
    of a break put off, per second). A row per status change: for a notebook or a test,
    too large to store with every replication of a long run.
    """

    name: ClassVar[str] = "strain_trace"

    def start(self, scenario: Scenario, strains: list[Strain] | None) -> Recorder:
        """A recorder of every change."""
        return _Trace(self._strains(scenario, strains))


class _Trace(Recorder):
    name = StrainTrace.name
    columns = ("agent", "day", "time_s", "status", "strain", "threat", "extra")

    def __init__(self, strains: list[Strain]) -> None:
        self.strains = strains
        self.rows: list[tuple] = []

    def watcher(self, k: int) -> Behaviour:
        """A watcher of agent ``k``'s strain."""
        return _TraceWatch(self.strains[k], self.rows)

    def table(self) -> pd.DataFrame:
        """One row per status change, in the order they happened."""
        df = pd.DataFrame(self.rows, columns=list(self.columns))
        return df.astype({"agent": np.int64, "day": np.int64, "status": np.int64,
                          "time_s": float, "strain": float, "threat": float, "extra": float})


class _TraceWatch(Behaviour):
    watches_status = True

    def __init__(self, strain: Strain, rows: list[tuple]) -> None:
        self.strain, self.rows = strain, rows

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """Record the strain after the change."""
        s = self.strain
        self.rows.append((s.k, agent.day, now, new, s.a, s.threat, s.extra))


@dataclass(frozen=True)
class BreakStrain(Observer):
    """Strain at the start of every break (each change to ``Not Ready - Break``).

    What calibration target 4 reads: a break lowers A in closed form, so the strain at
    its start gives the effect of a break of any length. Table: ``agent``, ``day``,
    ``time_s``, ``strain``, in the order the breaks started.
    """

    name: ClassVar[str] = "break_strain"

    def start(self, scenario: Scenario, strains: list[Strain] | None) -> Recorder:
        """A recorder of break starts."""
        return _Breaks(self._strains(scenario, strains))


class _Breaks(Recorder):
    name = BreakStrain.name

    def __init__(self, strains: list[Strain]) -> None:
        self.strains = strains
        self.rows: list[tuple[int, int, float, float]] = []

    def watcher(self, k: int) -> Behaviour:
        """A watcher of agent ``k``'s breaks."""
        return _BreakWatch(self.strains[k], self.rows)

    def table(self) -> pd.DataFrame:
        """One row per break started."""
        df = pd.DataFrame(self.rows, columns=["agent", "day", "time_s", "strain"])
        return df.astype({"agent": np.int64, "day": np.int64, "time_s": float,
                          "strain": float})


class _BreakWatch(Behaviour):
    watches_status = True
    watches_queue = False  # a break starts from any status, never between queue statuses

    def __init__(self, strain: Strain, rows: list[tuple[int, int, float, float]]) -> None:
        self.strain, self.rows = strain, rows

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """At a break's start, the strain the break starts from."""
        if new == _BREAK:
            self.rows.append((self.strain.k, agent.day, now, self.strain.a))


# ------------------------------------------------------------------------ attrition


@dataclass(frozen=True)
class QuitHazard(Observer):
    """Each morning's chance of quitting of every person at work in a seat (attrition).

    Subscribes to the strain (``Strain.hazard_seen``), not to the funnel: one row per
    seat and working day on which the hazard was drawn against (``stress.attrition``),
    ``agent``, ``day``, ``hazard`` (a working day's chance), in the order drawn. Their
    mean times ``schedule.days_per_year`` is the expected annual quit rate.
    """

    name: ClassVar[str] = "quit_hazard"

    def start(self, scenario: Scenario, strains: list[Strain] | None) -> Recorder:
        """A recorder subscribed to every strain's morning hazard."""
        strains = self._strains(scenario, strains)
        if not scenario.stress.attrition:
            raise ValueError("observer 'quit_hazard' needs stress.attrition = true")
        return _Hazards(strains)


class _Hazards(Recorder):
    name = QuitHazard.name

    def __init__(self, strains: list[Strain]) -> None:
        self.rows: list[tuple[int, int, float]] = []
        for s in strains:
            s.hazard_seen = self.seen

    def seen(self, k: int, day: int, hazard: float) -> None:
        """Seat ``k``'s hazard on ``day``, as the strain drew against it."""
        self.rows.append((k, day, hazard))

    def table(self) -> pd.DataFrame:
        """One row per seat and morning drawn."""
        df = pd.DataFrame(self.rows, columns=["agent", "day", "hazard"])
        return df.astype({"agent": np.int64, "day": np.int64, "hazard": float})


# ------------------------------------------------------------------- agent timeline


@dataclass(frozen=True)
class AgentTimeline(Observer):
    """What every agent did on ``day`` and what its schedule said: a Gantt chart's data.

    Watches the status funnel for that day's changes only (a comparison on the other days)
    and takes the day's published schedule from the plan. Table, one row per bar:
    ``agent``, ``pseudonym``, ``layer`` ("status": a status spell as the statuses table has
    it, Logged Out left out; "schedule": a schedule segment), ``state`` (the IWS status
    name, or the schedule state), ``start_s``, ``end_s``; a spell's rows in the order the
    agent lived them. What ``ccsim run --agent-timeline`` draws (``analysis.timeline``),
    recorded in the replication itself rather than by simulating it again.
    """

    name: ClassVar[str] = "agent_timeline"
    individual: ClassVar[bool] = True
    day: int = 0

    def start(self, scenario: Scenario, strains: list[Strain] | None) -> Recorder:
        """A recorder of the day's changes (the day must be in the horizon)."""
        if not 0 <= self.day < scenario.horizon.days:
            raise ValueError(f"agent_timeline: day {self.day} is outside the horizon (days 0 "
                             f"to {scenario.horizon.days - 1})")
        return _Timeline(scenario, self.day)


class _Timeline(Recorder):
    name = AgentTimeline.name

    def __init__(self, scenario: Scenario, day: int) -> None:
        self.scenario, self.day = scenario, day
        self.rows: list[tuple[int, float, int]] = []  # (agent, time, new status) in order

    def watcher(self, k: int) -> Behaviour:
        """A watcher of agent ``k``'s changes on the day."""
        return _TimelineWatch(self.day, self.rows)

    def table(self) -> pd.DataFrame:
        """The day's status spells and schedule segments (see :class:`AgentTimeline`)."""
        names = [name for name, _, _ in roster(self.scenario)]
        cols = ("agent", "pseudonym", "layer", "state", "start_s", "end_s")
        out: list[tuple] = []
        rows = sorted(self.rows, key=lambda r: r[0])  # stable: each agent's in order
        for j, (k, t, status) in enumerate(rows):
            if status == _LOGGED_OUT:
                continue  # a session ends with Logged Out: the last spell's end
            end = rows[j + 1][1] if j + 1 < len(rows) else t
            out.append((k, names[k], "status", LABELS[Status(status)], t, end))
        segs = segments(build_plan(self.scenario))
        segs = segs[segs["day"] == self.day]
        for k, s0, s1, state in zip(segs["agent"].tolist(), segs["start_s"].tolist(),
                                    segs["end_s"].tolist(), segs["state"].tolist(),
                                    strict=True):
            out.append((k, names[k], "schedule", SCHEDULE_STATES[state], s0, s1))
        df = pd.DataFrame(out, columns=list(cols))
        return df.astype({"agent": np.int64, "pseudonym": str, "layer": str, "state": str,
                          "start_s": float, "end_s": float})


class _TimelineWatch(Behaviour):
    watches_status = True

    def __init__(self, day: int, rows: list[tuple[int, float, int]]) -> None:
        self.day, self.rows = day, rows

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """Each change of the agent's session on the day (``agent.day``: its session's)."""
        if agent.day == self.day:
            self.rows.append((agent.index, now, new))


# --------------------------------------------------------------------------- names

#: every observer by name, with its default settings
OBSERVERS: dict[str, type[Observer]] = {
    o.name: o for o in (StrainProfile, StrainTrace, BreakStrain, QuitHazard, AgentTimeline)}


def observers(observe: Sequence[str | Observer]) -> list[Observer]:
    """The observers asked for: names (default settings) or instances; names unique."""
    if isinstance(observe, str | Observer):
        observe = (observe,)
    out = []
    for o in observe:
        if isinstance(o, str):
            if o not in OBSERVERS:
                raise ValueError(f"observe: unknown observer {o!r}; known: "
                                 f"{', '.join(OBSERVERS)}")
            o = OBSERVERS[o]()
        elif not isinstance(o, Observer):
            raise TypeError(f"observe: {o!r} is neither an observer's name nor an Observer")
        out.append(o)
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise ValueError(f"observe: each observer at most once, got {names}")
    return out


__all__ = ["OBSERVERS", "AgentTimeline", "BreakStrain", "Observer", "QuitHazard", "Recorder",
           "StrainProfile", "StrainTrace", "observers"]
