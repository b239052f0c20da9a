"""Who comes to work: scheduled agent-days that are worked, and why the others are not.

Absence (sickness, a quit, a day off) is a schedule exception with its own reason: the
agent does not log in, the day's schedule is not measured for adherence, and it is never
reported as log-in delay. The mask can change during a run (a day-start process, e.g. the
stress layer's daily absence hazard); each agent reads it when its log-in comes due.
"""

from __future__ import annotations

import numpy as np

#: why a scheduled agent-day is not worked (codes of ``agent_days.absence``; append only)
ABSENCE_REASONS: tuple[str, ...] = ("sickness", "quit", "day_off", "leave")


class Presence:
    """A mask (agents x days) of scheduled agent-days that are worked, with reasons."""

    def __init__(self, n_agents: int, days: int) -> None:
        self.present = np.ones((n_agents, days), dtype=bool)
        self.reason = np.full((n_agents, days), -1, dtype=np.int8)

    def mark_absent(self, agent: int, day: int, reason: str) -> None:
        """Agent ``agent`` will not work day ``day`` (from its next log-in on), for ``reason``."""
        if reason not in ABSENCE_REASONS:
            raise ValueError(f"absence reason {reason!r} is not one of "
                             f"{', '.join(ABSENCE_REASONS)}")
        self.present[agent, day] = False
        self.reason[agent, day] = ABSENCE_REASONS.index(reason)

    def is_present(self, agent: int, day: int) -> bool:
        """Whether the agent works that day."""
        return bool(self.present[agent, day])

    def reasons(self, agent: np.ndarray, day: np.ndarray) -> list[str]:
        """The absence reason of each (agent, day) pair ("" when present)."""
        codes = self.reason[agent, day]
        return ["" if c < 0 else ABSENCE_REASONS[c] for c in codes]
