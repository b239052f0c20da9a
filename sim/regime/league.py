"""League tables: agents or teams ranked on adherence and published every few days.

With ``monitoring.league_table`` the adherence of the last ``league_table_days`` (the
daily rows of :mod:`sim.regime.targets`) is ranked and published: agents under level
individual, teams under level team (only teams of at least ``teams.min_group`` agents, so
that nobody is singled out). The worst quarter (``n // 4`` of ``n`` ranked, nobody when
fewer than four) gets a "ranking" action; an agent's strain feels it, a team's ranking is
logged with agent -1 and reaches nobody's strain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.regime.supervisor import ActionLog
from sim.scenario import Scenario

#: columns of the league table
LEAGUE_COLUMNS = ("table", "day", "unit", "id", "rank", "ranked", "adherence")


class League:
    """The published league tables of a run."""

    def __init__(self, scenario: Scenario, team: np.ndarray, log: ActionLog) -> None:
        self.days = scenario.monitoring.league_table_days
        self.by_team = scenario.measurement.level == "team"
        self.min_group = scenario.teams.min_group
        self.team = team
        self.log = log
        self.rows: list[tuple] = []  # published tables

    def due(self, day: int) -> bool:
        """Whether a table is published after ``day``."""
        return (day + 1) % self.days == 0

    def publish(self, day: int, now: float,
                day_adherence: list[tuple[int, int, float, float]]) -> None:
        """Rank agents (individual level) or teams (team level) on adherence; publish it.

        ``day_adherence``: (agent, day, in adherence, scheduled) per agent-day so far.
        """
        lo = day + 1 - self.days
        rows = [r for r in day_adherence if lo <= r[1] <= day]
        if not rows:
            return
        k, _, inside, sched = (np.asarray(c) for c in zip(*rows, strict=True))
        by_team = self.by_team
        unit = self.team[k.astype(np.int64)] if by_team else k.astype(np.int64)
        units = np.unique(unit)
        idx = np.searchsorted(units, unit)
        a_in = np.bincount(idx, weights=inside)
        a_s = np.bincount(idx, weights=sched)
        if by_team:  # only groups big enough that no individual is singled out
            people = np.array([len(np.unique(k[unit == u])) for u in units])
            ok = people >= self.min_group
            units, a_in, a_s = units[ok], a_in[ok], a_s[ok]
        value = a_in / a_s
        order = np.lexsort((units, -value))  # best first; ties by number
        n = len(units)
        week = day // self.days
        for rank, i in enumerate(order, start=1):
            u = int(units[i])
            self.rows.append((week, day, "team" if by_team else "agent", u, rank, n,
                              float(value[i])))
            if rank <= n - n // 4 or n < 4:
                continue
            detail = f"rank {rank} of {n}, adherence {value[i]:.1%}"
            if by_team:
                self.log.act_on_team(u, day, now, "ranking", "bottom_quartile", detail)
            else:
                self.log.act(u, day, now, "supervisor", "ranking", "bottom_quartile", detail)


def league_frame(rows: list[tuple]) -> pd.DataFrame:
    """The published league tables: one row per unit ranked per table."""
    out = pd.DataFrame(rows, columns=list(LEAGUE_COLUMNS))
    return out.astype({"table": np.int64, "day": np.int64, "unit": str, "id": np.int64,
                       "rank": np.int64, "ranked": np.int64, "adherence": float})
