"""The adherence-rule engine: which breaches count, when they make a warning, and its label.

One engine for every path that applies ``measurement.adherence`` and ``[supervisor]``: the
supervisor's end-of-day review and the real-time tracker (both through
:mod:`sim.regime.supervisor`), the agents' responses (recent breaches) and the table of
warnings due replayed from an exceptions table (:func:`warnings`). A breach is an
exception whose reason is not excused and whose counted time passes
``exception_threshold_s`` (the exceptions table computes it in bulk, the tracker one at a
time, both with these rules). Each agent's breaches are kept in a :class:`BreachRecord`;
``warning_after`` of them within ``warning_window_days`` (the window ``(now - window,
now]``: a breach exactly a window back is out of it) make a talk, a warning under punitive
feedback and a coaching talk under developmental, at most one per
``supervisor.escalation_interval_days``; the count then starts again. A talk is labelled
by the breaches behind it (those counted since the agent's previous talk, within the
window), whatever day it is given on: "system" when more than half of them have a reason
outside the agent's control (``SYSTEM_REASONS``), else "agent"; its detail gives the count
and that share.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.scenario import DAY_S, SYSTEM_REASONS, AdherenceRules, Scenario

#: columns of the warnings table, in order
WARNING_COLUMNS = ("agent", "day", "time_s", "first_breach_s", "breaches",
                   "system_breaches", "system")


class BreachRecord:
    """One agent's breaches still counting toward a talk, and when its last talk was."""

    __slots__ = ("times", "reasons", "last_talk")

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.reasons: deque[str] = deque()
        self.last_talk = -math.inf

    def add(self, t: float, reason: str) -> None:
        """A breach at ``t`` (breaches are added in time order)."""
        self.times.append(t)
        self.reasons.append(reason)

    def clear(self) -> None:
        """Forget the breaches (the last talk is kept: it paces the next one)."""
        self.times.clear()
        self.reasons.clear()

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True)
class Talk:
    """A warning or coaching talk due: the breaches behind it and its label."""

    breaches: int
    """Breaches behind it (within the window, since the last talk)."""
    first_s: float
    """When the earliest of them happened."""
    system: int
    """How many of them have a reason outside the agent's control."""

    @property
    def share(self) -> float:
        """Share of the breaches behind it outside the agent's control."""
        return self.system / max(self.breaches, 1)

    @property
    def why(self) -> str:
        """The label: "system" when more than half are outside the agent's control."""
        return "system" if self.share > 0.5 else "agent"

    @property
    def detail(self) -> str:
        """The action log's detail: the count and the share outside the agent's control."""
        return f"{self.breaches} breaches; {self.share:.0%} outside the agent's control"


def system_count(reasons: Iterable[str]) -> int:
    """How many of ``reasons`` are outside the agent's control (``SYSTEM_REASONS``)."""
    return sum(r in SYSTEM_REASONS for r in reasons)


@dataclass(frozen=True)
class Rules:
    """The rules in force: what a breach is, the window and count, the escalation pace."""

    threshold_s: float
    """Counted seconds an exception must pass to be a breach."""
    excused: frozenset[str]
    """Loss reasons that never make a breach."""
    convention: str
    """Where the tolerance applies ("after_change" or "exception_start")."""
    warning_after: int
    """Breaches within the window that make a talk."""
    window_s: float
    """The window, in seconds."""
    escalation_s: float = 0.0
    """Least time between two talks of one agent, in seconds."""

    @classmethod
    def of(cls, scenario: Scenario) -> Rules:
        """The rules of a scenario (``measurement.adherence`` and ``[supervisor]``)."""
        return cls.from_adherence(scenario.adherence_rules,
                                  scenario.supervisor.escalation_interval_days)

    @classmethod
    def from_adherence(cls, rules: AdherenceRules, escalation_days: float = 0.0) -> Rules:
        """The rules of ``measurement.adherence``, with an escalation interval in days."""
        return cls(rules.exception_threshold_s, frozenset(rules.excused), rules.convention,
                   rules.warning_after, rules.warning_window_days * DAY_S,
                   escalation_days * DAY_S)

    def excuses(self, reason: str) -> bool:
        """Whether an exception of this reason is excused (never a breach)."""
        return reason in self.excused

    def recent(self, record: BreachRecord, now: float) -> int:
        """The agent's breaches within the window ending at ``now`` (older ones dropped)."""
        times, reasons, edge = record.times, record.reasons, now - self.window_s
        while times and times[0] <= edge:
            times.popleft()
            reasons.popleft()
        return len(times)

    def talk(self, record: BreachRecord, now: float) -> Talk | None:
        """The talk due at ``now``, if any: the count reached and the last talk far enough back.

        It is labelled by the breaches behind it; it starts the count again and paces the
        next.
        """
        n = self.recent(record, now)
        if n < self.warning_after:
            return None
        if now - record.last_talk < self.escalation_s:
            return None  # one formal step at a time: the breaches keep counting
        record.last_talk = now
        out = Talk(n, record.times[0], system_count(record.reasons))
        record.clear()
        return out


def warnings(exceptions: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """One row per talk due, replayed from an exceptions table with the engine's rule.

    Per agent, breaches are taken in the order they happened (``breach_s``, the moment
    each passed the threshold) and each is a moment the rule is applied: a warning is due
    at the breach that makes ``warning_after`` within the window (and, with an escalation
    interval, at least that long after the agent's last one); the count then starts again.
    ``system_breaches`` counts the breaches behind it whose reason is outside the agent's
    control (``SYSTEM_REASONS``: the log-in delay, a call running into an activity);
    ``system`` is its label. Columns: :data:`WARNING_COLUMNS`, sorted by agent and time.
    """
    rows = []
    b = exceptions[exceptions["breach"].to_numpy(bool)]
    for agent, mine in b.sort_values("breach_s", kind="stable").groupby("agent", sort=True):
        record = BreachRecord()
        for day, t, reason in zip(mine["day"].to_numpy(), mine["breach_s"].to_numpy(),
                                  mine["reason"].astype(str).to_numpy(), strict=True):
            record.add(float(t), str(reason))
            talk = rules.talk(record, float(t))
            if talk is not None:
                rows.append((int(agent), int(day), float(t), talk.first_s, talk.breaches,
                             talk.system, talk.why == "system"))
    out = pd.DataFrame(rows, columns=list(WARNING_COLUMNS))
    return out.astype({"agent": np.int64, "day": np.int64, "time_s": float,
                       "first_breach_s": float, "breaches": np.int64,
                       "system_breaches": np.int64, "system": bool})
