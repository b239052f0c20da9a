"""The stationary queue: its exact Erlang values, and the model validated against them.

``ccsim erlang`` prints the exact values; ``ccsim validate`` simulates the same queue and
gives one joint verdict for all KPIs.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analysis.experiment import Executor, run_experiment
from analysis.stats import Estimate, JointTest, format_p, joint_test, summarise
from analysis.store import json_safe
from sim.measure.kpi import format_kpi as fmt
from sim.planning.erlang import agents_for_service_level
from sim.planning.stationary import (
    EXACT_KPIS,
    exact_metrics,
    run_length_note,
    stationary_scenario,
    warmup_calls_for,
)

#: confidence of validate's intervals and false-alarm rate 1 - this of its joint verdict
VALIDATE_CONFIDENCE = 0.95


# --------------------------------------------------------------------------- ccsim erlang


def erlang_values(rate: float, aht_s: float, agents: int, threshold_s: float,
                  patience_s: float = math.inf, goal: float | None = None) -> dict[str, Any]:
    """Exact Erlang C (``patience_s`` infinite) or Erlang A values of a stationary queue.

    With ``goal``, also ``agents_for_goal``: the fewest agents whose service level >= goal.
    """
    result: dict[str, Any] = exact_metrics(rate, aht_s, agents, threshold_s,
                                           patience_s).as_dict()
    if goal is not None:
        result["agents_for_goal"] = agents_for_service_level(rate, aht_s, threshold_s, goal,
                                                             patience_s)
    return result


def erlang_text(values: dict[str, Any], rate: float, aht_s: float, agents: int,
                threshold_s: float, patience_s: float = math.inf) -> str:
    """The values of :func:`erlang_values` with the system they are for."""
    model = "Erlang A (M/M/c+M)" if math.isfinite(patience_s) else "Erlang C (M/M/c)"
    lines = [f"{model}: {rate * 3600:g} calls/h, AHT {aht_s:g} s, {agents} agents, "
             f"load {rate * aht_s:.2f} Erlangs, T = {threshold_s:g} s"]
    lines += [f"  {k:<16} {fmt(k, v)}" for k, v in values.items()]
    return "\n".join(lines)


# --------------------------------------------------------------------------- ccsim validate


@dataclass
class Validation:
    """Simulated KPIs of a stationary queue against their exact values, and the verdict."""

    rate: float
    aht_s: float
    calls: int
    """Measured calls per replication (after the warm-up)."""
    warmup: int
    reps: int
    seed: int
    confidence: float
    description: str
    """The stationary scenario's description (the system in words)."""
    exact: dict[str, float]
    estimates: dict[str, Estimate]
    joint: JointTest
    p: list[float]
    """Per-KPI two-sided t-test p-values against the exact values (``EXACT_KPIS`` order)."""
    p_holm: list[float]
    notes: list[str]

    @property
    def passed(self) -> bool:
        """The joint test does not reject at ``1 - confidence``."""
        return self.joint.passed(self.confidence)

    def as_json(self) -> dict[str, Any]:
        """The ``ccsim validate --json`` contract."""
        return json_safe({
            "exact": self.exact,
            "simulated": {k: e.as_dict() for k, e in self.estimates.items()},
            "calls": self.calls, "warmup_calls": self.warmup, "replications": self.reps,
            "seed": self.seed, "confidence": self.confidence,
            "inside": {k: self.estimates[k].contains(self.exact[k]) for k in EXACT_KPIS},
            "p_values": dict(zip(EXACT_KPIS, self.p, strict=True)),
            "p_holm": dict(zip(EXACT_KPIS, self.p_holm, strict=True)),
            "joint": {**self.joint.as_dict(), "passed": self.passed},
            "verdict": "pass" if self.passed else "fail", "notes": self.notes,
        })

    def text(self) -> str:
        """The table (exact, simulated, CI, inside, p, Holm p), the verdict and warnings."""
        conf, exact = self.confidence, self.exact
        pct = f"{100 * conf:g}%"
        lines = [f"\n{self.description} (load {self.rate * self.aht_s:.2f} Erlang); "
                 f"{self.reps} replications of {self.calls:,} calls after {self.warmup:,} "
                 f"warm-up calls, seed {self.seed}\n"]
        lines.append(f"{'KPI':<14} {'exact':>10} {'simulated':>10}   {pct + ' CI':<24} inside"
                     f"{'p':>8} {'Holm p':>8}")
        for j, k in enumerate(EXACT_KPIS):
            e = self.estimates[k]
            ci = f"[{fmt(k, e.ci_low)}, {fmt(k, e.ci_high)}]"
            inside = "yes" if e.contains(exact[k]) else "no"
            lines.append(f"{k:<14} {fmt(k, exact[k]):>10} {fmt(k, e.mean):>10}   {ci:<24} "
                         f"{inside:<6}{format_p(self.p[j]):>8} {format_p(self.p_holm[j]):>8}"
                         f"{e.dropped_note()}")
        lines.append("")
        lines.append(verdict_text(self.joint, self.passed, conf, len(EXACT_KPIS)))
        lines += [f"\nwarning: {n}" for n in self.notes]
        return "\n".join(lines)


def validate(rate: float, aht_s: float, agents: int, threshold_s: float,
             patience_s: float = math.inf, *, calls: int = 20_000, reps: int = 30,
             seed: int = 1, confidence: float = VALIDATE_CONFIDENCE,
             executor: Executor | None = None,
             progress: Callable[[int], None] | None = None) -> Validation:
    """Simulate the stationary queue ``reps`` times; test its KPIs against the exact values.

    Each replication measures ``calls`` calls after a warm-up long enough to forget the
    empty start (:func:`sim.planning.stationary.warmup_calls_for`). The verdict is one joint test of
    all KPIs (:func:`analysis.stats.joint_test`); notes say when the run is too short to
    be stationary or when measured calls were cut short by the closing.
    """
    exact = exact_metrics(rate, aht_s, agents, threshold_s, patience_s).as_dict()
    warmup = warmup_calls_for(rate, aht_s, agents, patience_s, calls)
    scenario = stationary_scenario(rate, aht_s, agents, threshold_s, patience_s, calls=calls,
                                   warmup_calls=warmup)
    notes = []
    note = run_length_note(rate, aht_s, agents, patience_s, calls, warmup)
    if note:
        notes.append(f"run too short to be stationary: {note}")
    exp = run_experiment([scenario], seed, reps, executor=executor, tables=(),
                         progress=progress)
    rows = exp.kpi_rows(0)
    cut = sum(r.get("closed", 0.0) for r in rows)
    if cut > 0:
        notes.append(f"{cut:,.0f} measured call(s) were still waiting when the queue closed "
                     "(outcome 'closed'): their waits are cut short, so ASA and service level "
                     "are biased; the stationary system should drain completely")
    est = summarise([{k: r[k] for k in EXACT_KPIS} for r in rows], confidence)
    null = [exact[k] for k in EXACT_KPIS]
    joint, p, p_holm = joint_test([[r[k] for k in EXACT_KPIS] for r in rows], null, confidence)
    return Validation(rate, aht_s, calls, warmup, reps, seed, confidence,
                      scenario.description, exact, est, joint, p, p_holm, notes)


def verdict_text(joint: JointTest, passed: bool, conf: float, kpis: int) -> str:
    """The joint verdict and what a miss means, in words."""
    alpha = 1 - conf
    one_in = f"1 time in {round(1 / alpha):g}"
    if joint.method == "hotelling":
        how = (f"Hotelling's T² = {joint.statistic:.2f} over {joint.dims} KPI dimension(s) "
               f"and {joint.n} replications, p = {format_p(joint.p_value)}")
    else:
        how = f"smallest Holm-adjusted p = {format_p(joint.p_value)} ({joint.note})"
    head = (f"verdict: PASS - the simulated means agree with the exact values, all KPIs "
            f"together ({how}; a fail needs p < {alpha:g})." if passed else
            f"verdict: FAIL - the simulated means disagree with the exact values, all KPIs "
            f"together ({how} < {alpha:g}).")
    if joint.method == "hotelling" and joint.note:
        head += f" {joint.note[0].upper()}{joint.note[1:]}."
    any_miss = 1 - conf ** kpis
    return "\n".join(textwrap.wrap(
        f"{head} What a miss means: each {100 * conf:g}% interval misses its exact value "
        f"{one_in} by chance even when the model is exact. With {kpis} KPIs at least one "
        f"miss happens in up to {100 * any_miss:.0f}% of runs (1 - {conf:g}^{kpis}, if they "
        "were independent), and they are not: a run whose replications happened to see a "
        "little more traffic than average has a higher P(wait), ASA, abandon rate and "
        "occupancy and a lower service level (and the other way round), so one unlucky run "
        "can miss on every KPI at once. The joint test (the "
        "verdict) accounts for that correlation: an exact model fails it "
        f"{one_in}; a model that is wrong by more than the intervals' width fails it almost "
        "always. To tell a chance fail from a real one, re-run with more --reps: a wrong "
        "model's p-value then falls further, a chance fail passes again.", width=92))
