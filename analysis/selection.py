"""Choosing on replications, reporting on fresh ones: ``ccsim compare --until`` / ``--match``.

``--until`` chooses how many replications to run (until a CI is narrow enough) and
``--match`` chooses head counts (the fewest agents at which a scenario reaches the
baseline's KPI). Both choose on the replications they ran, which favours lucky ones; unless
told otherwise, the chosen experiment is run again on as many fresh replications and the
table is computed from those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.experiment import (
    Executor,
    Experiment,
    rep_range,
    run_experiment,
    run_until,
    until_half_width,
)
from analysis.staffing import match_head_counts
from analysis.stats import COMPARE_CONFIDENCE
from analysis.stats import format_difference as fmt_diff
from analysis.store import ReplicationStore
from sim.scenario import Scenario


@dataclass
class Selected:
    """The experiment to report, how it was chosen, and lines to print about it."""

    experiment: Experiment
    selection: dict[str, Any] | None = None
    """None without ``--until`` or ``--match``; else what chose what, on which replications
    the table is computed (``reported_on``, ``fresh``) and all of it in words (``text``)."""
    notes: list[str] = field(default_factory=list)
    """``--match``: what each scenario needs (the first line is empty)."""


def run_selected(scenarios: Sequence[Scenario], seed: int, reps: int, *,
                 until: tuple[str, float] | None = None, max_reps: int = 100,
                 match: str | None = None, confirm: bool = True,
                 executor: Executor | None = None, store: ReplicationStore | None = None,
                 progress: Callable[[int], None] | None = None,
                 start_from: Scenario | None = None,
                 tables: Sequence[str] | None = None) -> Selected:
    """Run the comparison's replications; with ``until`` or ``match``, choose and confirm.

    Without either: ``reps`` replications of every scenario. ``until=(kpi, half_width)``:
    sequential stopping from ``max(2, reps)`` up to ``max_reps`` replications
    (:func:`analysis.experiment.run_until`). ``match=kpi``: for every scenario after the
    first, the head count matching the baseline's mean ``kpi`` is added as ``NAME@AGENTS``
    (:func:`analysis.staffing.match_head_counts`). With ``confirm`` the chosen scenarios are
    then simulated on as many fresh replications, and those are reported.
    """
    kwargs: dict[str, Any] = {"executor": executor, "store": store, "progress": progress,
                              "start_from": start_from}
    if tables is not None:  # the tables each replication keeps (default: the experiment's)
        kwargs["tables"] = tuple(tables)
    if until:
        kpi, hw = until
        exp = run_until(scenarios, seed, kpi, hw, min_reps=max(2, reps), max_reps=max_reps,
                        **kwargs)
    else:
        exp = run_experiment(scenarios, seed, reps, **kwargs)
    if not (until or match):
        return Selected(exp)
    chosen = exp.reps(0)
    parts = []
    if until:
        kpi, hw = until
        reached = until_half_width(exp, kpi)
        parts.append(f"--until {kpi}={hw:g} added replications until the "
                     f"{'paired difference' if len(scenarios) > 1 else 'mean'} of "
                     f"{kpi} had a {100 * COMPARE_CONFIDENCE:g}% CI half-width <= "
                     f"{fmt_diff(kpi, hw).lstrip('+')}: it stopped at {len(chosen)} "
                     f"(half-width {fmt_diff(kpi, reached).lstrip('+')}"
                     f"{'' if reached <= hw else ', --max-reps reached'}).")
    matched: dict[str, int | None] = {}
    notes: list[str] = []
    if match:
        # --match with --from is refused (its head counts are other centres): no start_from
        m = match_head_counts(exp, match, seed,
                              **{k: v for k, v in kwargs.items() if k != "start_from"})
        exp, notes, matched = m.experiment, m.notes, m.agents
        parts.append(f"--match {match} searched the head counts (NAME@AGENTS) "
                     "on the same replications.")
    selection: dict[str, Any] = {"chosen_on": chosen, "until": list(until or []) or None,
                                 "match": match, "matched_agents": matched or None}
    if not confirm:
        parts.append(f"The table uses the same {rep_range(chosen)} that made these "
                     "choices, so its CIs can be somewhat optimistic (stopping when the "
                     "CI first looks narrow enough, or taking the head count that "
                     "just reaches the goal, favours lucky replications); without "
                     "--no-confirm they are confirmed on fresh replications.")
        selection.update(reported_on=chosen, fresh=False)
    else:
        fresh = range(chosen[-1] + 1, chosen[-1] + 1 + len(chosen))
        again = run_experiment(exp.scenarios, seed, fresh, **kwargs)
        again.ran += exp.ran
        again.resumed += exp.resumed
        again.wall_s += exp.wall_s
        exp = again
        parts.append(f"The table uses {len(chosen)} fresh replications "
                     f"({rep_range(fresh)}) that took no part in these choices, so "
                     "its CIs and verdicts are not biased by them.")
        selection.update(reported_on=list(fresh), fresh=True)
    what = " and ".join(w for w, on in (("the replication count", until),
                                        ("the head counts", match)) if on)
    selection["text"] = " ".join([f"{rep_range(chosen).capitalize()} chose {what}.", *parts])
    return Selected(exp, selection, notes)
