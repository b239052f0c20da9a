"""Staffing by skill: head counts per agent group for each call type's service-level target.

A simple simulation search in the spirit of Wallace and Whitt (2005), *A staffing
algorithm for call centers with skill-based routing*, M&SOM 7(4): start from the
scenario's head counts, simulate, and while some call type misses its target add agents
to a group that answers the type worst off, then simulate again (the same seeds and
replications every step: common random numbers, so a step's change is the staffing's, not
the noise's). The group chosen answers that type at once (no overflow delay) and has the
fewest skills (a specialist adds capacity where it is short), ties to the larger group.
It stops when every type's mean service level reaches its target, or after ``max_steps``.
Greedy, not optimal: it never removes agents, and the result depends on the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.measure.skills import skill_tables
from sim.model import simulate
from sim.scenario import Scenario


@dataclass
class SkillStaffing:
    """The search's answer: head counts per group, and each step's per-type service level."""

    scenario: Scenario
    """The scenario with the head counts found (each shift's agents, no total)."""
    groups: dict[str, int]
    met: bool
    steps: list[dict[str, Any]] = field(default_factory=list)

    def text(self) -> str:
        """The steps and the answer in words."""
        lines = ["Staffing by skill (greedy search by simulation; docs/skills.md):"]
        for s in self.steps:
            sl = ", ".join(f"{t} {100 * v:.1f}%" for t, v in s["service_level"].items())
            lines.append(f"  step {s['step']}: {s['groups']} -> {sl}"
                         + (f"; add {s['added']} to {s['group']}" if s.get("group") else ""))
        state = "every type meets its target" if self.met else "targets NOT all met"
        lines.append(f"Head counts per group: {self.groups} ({state}).")
        return "\n".join(lines)


def _groups(s: Scenario) -> dict[str, int]:
    counts = s.staffing.head_counts()
    return {g: sum(counts[x] for x in grp.shifts) for g, grp in s.agent_groups.items()}


def staff_by_skill(scenario: Scenario, seed: int = 1, reps: int = 3, step: int = 1,
                   max_steps: int = 50) -> SkillStaffing:
    """The greedy search (see the module docstring) from ``scenario``'s head counts."""
    if not scenario.call_types:
        raise ValueError("staffing by skill needs [call_types] and [agent_groups]")
    counts = scenario.staffing.head_counts()
    s = scenario.replace({"staffing.agents": None,
                          **{f"staffing.shifts.{n}.agents": c for n, c in counts.items()}},
                         source="staffing by skill")
    targets = {n: (t.target if t.target is not None else s.service_level.target)
               for n, t in s.call_types.items()}
    steps: list[dict[str, Any]] = []
    for k in range(max_steps + 1):
        rows = [skill_tables(simulate(s, seed=seed, replication=r), s)["call_types"]
                for r in range(reps)]
        sl = pd.concat(rows).groupby("type", sort=False)["service_level"].mean()
        entry: dict[str, Any] = {"step": k, "groups": _groups(s),
                                 "service_level": sl.to_dict()}
        steps.append(entry)
        short = {t: targets[t] - v for t, v in sl.items() if v < targets[t]}
        if not short or k == max_steps:
            return SkillStaffing(s, _groups(s), not short, steps)
        worst = max(short, key=short.get)
        answer = [(g, grp) for g, grp in s.agent_groups.items()
                  if worst in grp.skills and grp.overflow_after_s.get(worst, 0.0) == 0.0] or \
                 [(g, grp) for g, grp in s.agent_groups.items() if worst in grp.skills]
        sizes = _groups(s)
        g, grp = min(answer, key=lambda p: (len(p[1].skills), -sizes[p[0]], p[0]))
        heads = s.staffing.head_counts()
        shift = max(grp.shifts, key=lambda x: (heads[x], x))
        s = s.replace({f"staffing.shifts.{shift}.agents": heads[shift] + step},
                      source="staffing by skill")
        entry.update(group=g, added=step, type=worst)
    raise AssertionError("unreachable")
