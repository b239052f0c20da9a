"""Who comes to work: scheduled agent-days that are worked, and why the others are not.

Absence (sickness, a quit, a day off) is a schedule exception with its own reason: the
agent does not log in, the day's schedule is not measured for adherence, and it is never
reported as log-in delay. The mask can change during a run (a day-start process, e.g. the
stress layer's daily absence hazard); each agent reads it when its log-in comes due. With
quits (``stress.attrition``) a seat is held by a sequence of people: ``hire`` says which
one on each day (0 the first holder), ``quit_day`` marks the day a vacancy began.
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
        #: which person holds each seat on each day: 0 the first, 1 its first replacement...
        self.hire = np.zeros((n_agents, days), dtype=np.int16)
        #: the day a person quit (the first day of the seat's vacancy)
        self.quit_day = np.zeros((n_agents, days), dtype=bool)

    def mark_absent(self, agent: int, day: int, reason: str) -> None:
        """Agent ``agent`` will not work day ``day`` (from its next log-in on), for ``reason``."""
        if reason not in ABSENCE_REASONS:
            raise ValueError(f"absence reason {reason!r} is not one of "
                             f"{', '.join(ABSENCE_REASONS)}")
        self.present[agent, day] = False
        self.reason[agent, day] = ABSENCE_REASONS.index(reason)

    def quit(self, agent: int, day: int, until: int) -> None:
        """The person in seat ``agent`` quits on ``day``: vacant (reason "quit") until ``until``."""
        self.quit_day[agent, day] = True
        for d in range(day, min(until, self.present.shape[1])):
            self.mark_absent(agent, d, "quit")

    def hired(self, agent: int, day: int) -> None:
        """A new person takes seat ``agent`` from ``day`` on."""
        self.hire[agent, day:] += 1

    def is_present(self, agent: int, day: int) -> bool:
        """Whether the agent works that day."""
        return bool(self.present[agent, day])

    def reasons(self, agent: np.ndarray, day: np.ndarray) -> list[str]:
        """The absence reason of each (agent, day) pair ("" when present)."""
        codes = self.reason[agent, day]
        return ["" if c < 0 else ABSENCE_REASONS[c] for c in codes]
