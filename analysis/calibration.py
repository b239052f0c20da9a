"""The stress layer against its calibration targets (STRESS-EVIDENCE.md §6).

The stress parameters are assumptions fixed by calibration to correlational field
evidence. This module measures the model's answer to each target, from replications with
common random numbers, so the calibration is a repeatable measurement and the tests in
``tests/test_calibration.py`` can hold the defaults to it:

1. monitored against unmonitored agents at equal staffing: a small stress difference
   (r ≈ .11 ± .03, Cohen's d ≈ 0.22) and no output difference;
2. measured stress rises monotonically with monitoring intensity;
3. group-level monitoring gives lower stress than individual monitoring, at no loss of
   output;
4. a 10-minute break lowers acute strain by about d = .35 (Albulescu et al. 2022);
5. the annual quit rate of the strict individual regime lies 5-15 points above the team
   regime's (needs attrition; see ``quit_gap``).

Standardised differences divide by the standard deviation of the measured stress of the
agent-days of a scenario (the survey's scale), pooled over the pair: what a field study
comparing monitored and unmonitored agents would divide by. ``python -m
analysis.calibration`` prints the table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.stats import Estimate, t_interval

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.toml"

#: the monitoring-intensity ladder, each a set of overrides of base.toml (with stress on):
#: from nobody watching to the TMR regime the data protection authority stopped
LADDER: dict[str, dict[str, Any]] = {
    "none": {},
    "team": {"teams.size": 12, "measurement.level": "team"},
    "monitored": {  # a typical monitored centre: individual statistics, recorded calls
        "teams.size": 12, "measurement.level": "individual",
        "monitoring.recording": "audio", "monitoring.recorded_share": 0.5,
        "monitoring.evaluations_per_agent_month": 4,
        "monitoring.feedback": "developmental",
        "measurement.adherence.exception_threshold_s": 300},
    "individual_targets": {
        "teams.size": 12, "measurement.level": "individual",
        "monitoring.recording": "audio", "monitoring.recorded_share": 0.5,
        "monitoring.evaluations_per_agent_month": 4, "monitoring.feedback": "punitive",
        "measurement.adherence.exception_threshold_s": 120,
        "targets.aht_s": 280, "targets.quality": 0.8},
    "tmr": {
        "teams.size": 12, "measurement.level": "individual",
        "monitoring.recording": "audio_screen", "monitoring.recorded_share": 1.0,
        "monitoring.evaluations_per_agent_month": 10, "monitoring.feedback": "punitive",
        "measurement.adherence.exception_threshold_s": 60,
        "targets.aht_s": 280, "targets.quality": 0.8},
}

#: every rung a measurement can run: the ladder, and the team regime with agents' control
#: over their breaks (target 5's "team + developmental + control"), not on the ladder
RUNGS: dict[str, dict[str, Any]] = {
    **LADDER, "team_control": {**LADDER["team"], "monitoring.break_control": "flexible"}}

#: target 3: the same rules seen by the manager per agent or per team only
GROUP_PAIR = ("team", "monitored")


def scenario(name: str, days: int, extra: Mapping[str, Any] | None = None):
    """A rung of the ladder as a scenario: base.toml, stress on, ``days`` days."""
    from sim.scenario import load_scenario

    over = {"horizon.days": days, "stress.enabled": True, **RUNGS[name], **(extra or {})}
    return load_scenario(BASE).replace(over, source=f"calibration ladder: {name}")


@dataclass(frozen=True)
class Pair:
    """One comparison of two rungs over replications."""

    d: Estimate  # standardised stress difference (b - a) / pooled SD of S_obs
    stress: Estimate  # raw paired stress difference
    service_level: Estimate  # paired difference of service level (b - a)


def _reading(result) -> np.ndarray:
    return result.agent_days["stress"].to_numpy(float)


def run_rung(name: str, days: int, reps: int, seed: int,
             extra: Mapping[str, Any] | None = None) -> list:
    """``reps`` replications of one rung (common random numbers across rungs)."""
    from sim.model import simulate

    s = scenario(name, days, extra)
    return [simulate(s, seed=seed, replication=k) for k in range(reps)]


def pair(a: list, b: list) -> Pair:
    """Standardised and raw paired differences of stress, and of service level."""
    ds, dstress, dsl = [], [], []
    for ra, rb in zip(a, b, strict=True):
        xa, xb = _reading(ra), _reading(rb)
        sd = math.sqrt((xa.var(ddof=1) + xb.var(ddof=1)) / 2)
        dstress.append(xb.mean() - xa.mean())
        ds.append((xb.mean() - xa.mean()) / sd)
        dsl.append(rb.kpis["service_level"] - ra.kpis["service_level"])
    return Pair(t_interval(ds), t_interval(dstress), t_interval(dsl))


def r_from_d(d: float) -> float:
    """Point-biserial r of a half-and-half population with standardised difference d."""
    return d / math.sqrt(d * d + 4)


def break_effect(days: int = 3, seed: int = 1, reps: int = 4,
                 extra: Mapping[str, Any] | None = None) -> Estimate:
    """Target 4: the fall of A over a 10-minute break, in SDs of measured stress.

    Every break's strain at its start (each change to Not Ready - Break, scheduled or
    not) is recorded through the status funnel by the ``break_strain`` observer; A falls
    in closed form on a break (no load), so a 10-minute break lowers it by
    ``A0 (1 - e^(-10 min / tau_break))``. Divided by the SD of the agent-days' readings.
    """
    from sim.model import simulate

    s = scenario("none", days, extra)
    tau = s.stress.tau_break_min * 60
    effects = []
    for k in range(reps):
        r = simulate(s, seed=seed, replication=k, observe=("break_strain",))
        at_start = r.observed["break_strain"]["strain"].to_numpy()
        drop = float(np.mean(at_start)) * (1 - math.exp(-600 / tau))
        effects.append(drop / _reading(r).std(ddof=1))
    return t_interval(effects)


def quit_rates(name: str, days: int, reps: int, seed: int,
               extra: Mapping[str, Any] | None = None) -> tuple[list[float], list]:
    """Expected annual quit rate of one rung, per replication, and the runs.

    With absence and attrition on, every morning each person at work has a chance of
    quitting (``Strain.quit_hazard``); the mean of those chances over the worked
    agent-days times ``schedule.days_per_year`` is the expected annual quit rate. It is
    the realised ``attrition_rate``'s expectation given the strain paths, with far less
    noise than counting the few quits of one run (a Rao-Blackwell estimate). The chances
    are those the model drew against, recorded by the ``quit_hazard`` observer.
    """
    from sim.model import simulate

    over = {"stress.absence": True, "stress.attrition": True, **(extra or {})}
    s = scenario(name, days, over)
    rates, runs = [], []
    for k in range(reps):
        r = simulate(s, seed=seed, replication=k, observe=("quit_hazard",))
        runs.append(r)
        seen = r.observed["quit_hazard"]["hazard"].to_numpy()
        rates.append(float(np.mean(seen)) * s.schedule.days_per_year)
    return rates, runs


#: target 5: the strict individual regime against the team regime with agents' control
QUIT_PAIR = ("team_control", "individual_targets")


def quit_gap(days: int = 60, reps: int = 2, seed: int = 1,
             extra: Mapping[str, Any] | None = None) -> dict[str, Estimate]:
    """Target 5: expected annual quit rates of the pair and their paired difference."""
    a, _ = quit_rates(QUIT_PAIR[0], days, reps, seed, extra)
    b, _ = quit_rates(QUIT_PAIR[1], days, reps, seed, extra)
    return {"team": t_interval(a), "strict": t_interval(b),
            "gap": t_interval([y - x for x, y in zip(a, b, strict=True)])}


#: the spiral: the reference centre 5% under-staffed (demand up), under each regime
SPIRAL = {"team": "scenarios/policy/team-level.toml",
          "strict": "scenarios/policy/individual-strict.toml"}


def spiral(days: int = 60, reps: int = 3, seed: int = 1, demand: float = 1.05
           ) -> dict[str, np.ndarray]:
    """Service level lost to absence and attrition, per regime, replication and week.

    Each regime runs twice on the same replications: with strain measured only, and with
    sickness absence and attrition on. The loss is the paired difference of the week's
    service level (offered-weighted over its days); ``[regime][replication, week]``.
    """
    from sim.model import simulate
    from sim.scenario import load_scenario

    out = {}
    for name, path in SPIRAL.items():
        s = load_scenario(ROOT / path)
        s = s.replace({"horizon.days": days, "stress.enabled": True,
                       "demand.calls_per_day": s.demand.calls_per_day * demand})
        on = s.replace({"stress.absence": True, "stress.attrition": True})
        week = s.stress.work_days_per_week
        losses = []
        for k in range(reps):
            a = simulate(s, seed=seed, replication=k).daily
            b = simulate(on, seed=seed, replication=k).daily
            losses.append([_weekly(a, week)[w] - _weekly(b, week)[w]
                           for w in range(days // week)])
        out[name] = np.asarray(losses)
    return out


def _weekly(daily, week: int) -> list[float]:
    """Service level per week of a daily table (answered within threshold / offered)."""
    sl = daily["service_level"].to_numpy(float)
    offered = daily["offered"].to_numpy(float)
    return [float(np.average(sl[i:i + week], weights=offered[i:i + week]))
            for i in range(0, len(sl) - week + 1, week)]


def measure(days: int = 5, reps: int = 3, seed: int = 1,
            extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Targets 1-4 of STRESS-EVIDENCE §6 from one set of replications per rung.

    ``extra``: overrides on every rung (e.g. other stress parameters to try).
    """
    runs = {name: run_rung(name, days, reps, seed, extra) for name in LADDER}
    means = {name: t_interval([_reading(r).mean() for r in rs]) for name, rs in runs.items()}
    sl = {name: t_interval([r.kpis["service_level"] for r in rs]) for name, rs in runs.items()}
    return {
        "monitored_vs_none": pair(runs["none"], runs["monitored"]),
        "ladder": means,
        "ladder_service_level": sl,
        "individual_vs_team": pair(runs[GROUP_PAIR[0]], runs[GROUP_PAIR[1]]),
        "break": break_effect(min(days, 3), seed, max(reps, 4), extra),
    }


def _ci(e: Estimate, scale: float = 1.0, sign: str = "") -> str:
    """``mean [low, high]`` of an estimate, scaled (100 for percentage points)."""
    f = f"{sign}.{2 if scale != 1 else 3}f"
    return (f"{scale * e.mean:{f}} [{scale * e.ci_low:{f}}, {scale * e.ci_high:{f}}]")


def report(m: Mapping[str, Any]) -> str:
    """The calibration table in words."""
    mon, grp = m["monitored_vs_none"], m["individual_vs_team"]
    ladder = "  ".join(f"{k} {v.mean:.3f}" for k, v in m["ladder"].items())
    sl = "  ".join(f"{k} {100 * v.mean:.1f}%" for k, v in m["ladder_service_level"].items())
    return "\n".join([
        f"target 1, monitored vs none: d = {_ci(mon.d)} (r = {r_from_d(mon.d.mean):.3f}; "
        f"target r .11 +- .03, d .16-.28); service level "
        f"{_ci(mon.service_level, 100, '+')} pp",
        f"target 2, stress by intensity: {ladder}",
        f"          service level:       {sl}",
        f"target 3, individual vs team: d = {_ci(grp.d)}; service level "
        f"{_ci(grp.service_level, 100, '+')} pp",
        f"target 4, 10-minute break: d = {_ci(m['break'])} (target .35)",
    ])


if __name__ == "__main__":  # pragma: no cover - a measurement to read
    import json
    import sys

    days = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    if days >= 20:
        q = quit_gap(days, reps, extra=extra)
        print("target 5, expected annual quit rate: team with control "
              f"{_ci(q['team'], 100)}%, individual with targets {_ci(q['strict'], 100)}%, "
              f"gap {_ci(q['gap'], 100, '+')} points (target +5 to +15)")
    else:
        print(report(measure(days, reps, extra=extra)))
