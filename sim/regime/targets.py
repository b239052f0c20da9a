"""Each agent's adherence of the day, and the agent-level adherence target's breaches.

After each day the review computes every agent's adherence with the report's measure
(scheduled time less counted time plus excused time, from the day's exceptions; a test
checks it against ``agent_days.adherence``). The rows feed the league tables
(:mod:`sim.regime.league`). Under an agent-level adherence target (``[targets]``) with
level individual, or voluntary on days shared, a day below the target is a breach the
leader counts toward a talk (action ``target_breach``, reason ``adherence_target``),
through the same rule engine as every other breach.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.regime.supervisor import Supervisor
from sim.scenario import Scenario


class Targets:
    """The daily adherence per agent and the agent-level adherence target."""

    def __init__(self, scenario: Scenario, supervisor: Supervisor) -> None:
        t, level = scenario.targets, scenario.measurement.level
        self.goal = t.adherence
        self.adh_target = (t.adherence is not None and t.adherence_applies_to == "agent"
                           and level in ("individual", "voluntary"))
        self.excused = scenario.adherence_rules.excused
        self.supervisor = supervisor
        self.day_adherence: list[tuple[int, int, float, float]] = []  # agent, day, in, sched

    def review(self, segs: pd.DataFrame, statuses: pd.DataFrame, exc: pd.DataFrame,
               n: int, day: int, now: float) -> None:
        """Each agent's adherence of the day (the report's measure), and the target.

        In adherence = scheduled - counted + excused, from the day's exceptions. Under an
        agent-level adherence target a day below it is a breach the leader counts.
        """
        worked = np.unique(statuses["agent"].to_numpy())
        sched = np.bincount(segs["agent"].to_numpy(), minlength=n,
                            weights=(segs["end_s"] - segs["start_s"]).to_numpy())
        ea = exc["agent"].to_numpy()
        lost = np.bincount(ea, weights=exc["counted_s"].to_numpy(), minlength=n)
        for r in self.excused:
            lost -= np.bincount(ea, weights=exc[f"lost_{r}_s"].to_numpy(), minlength=n)
        goal, sup = self.goal, self.supervisor
        for k in worked.tolist():
            if sched[k] <= 0:
                continue
            inside = sched[k] - lost[k]
            self.day_adherence.append((k, day, float(inside), float(sched[k])))
            if not self.adh_target or inside / sched[k] >= goal or not sup.visible(k, day):
                continue
            pol = sup.policies[k]
            pol.breaches.add(now, "adherence_target")
            sup.log.act(k, day, now, "supervisor", "target_breach", "adherence_target",
                        f"adherence {inside / sched[k]:.1%} < {goal:.1%}")
            sup.count(k, day, now, pol.give_later)
