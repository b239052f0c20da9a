"""The stress layer against its calibration targets (docs/evidence.md §6).

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


def scenario(name: str, days: int, extra: Mapping[str, Any] | None = None,
             warmup: int = 0):
    """A rung of the ladder as a scenario: base.toml, stress on, ``days`` measured days.

    ``warmup``: working days run under the rung's own regime before the measured days
    (``horizon.warmup_days``): 0 measures from the first day of the universe (week 1).
    """
    from sim.scenario import load_scenario

    over = {"horizon.days": days, "stress.enabled": True, **RUNGS[name],
            "horizon.warmup_days": warmup, **(extra or {})}  # 0: cold, whatever "auto" says
    return load_scenario(BASE).replace(over, source=f"calibration ladder: {name}")


@dataclass(frozen=True)
class Pair:
    """One comparison of two rungs over replications."""

    d: Estimate  # standardised stress difference (b - a) / pooled SD of S_obs
    stress: Estimate  # raw paired stress difference
    service_level: Estimate  # paired difference of service level (b - a)


def _reading(result) -> np.ndarray:
    return result.agent_days["stress"].to_numpy(float)


def replicate(s, reps: int, seed: int, observe: tuple[str, ...] = ()) -> list:
    """``reps`` replications of scenario ``s`` (common random numbers across scenarios).

    With ``horizon.warmup_days``, every replication is warmed up on its own streams, as
    ``ccsim run`` does (replications sharing a warm-up vary too little: docs/experiments.md,
    Warm-up).
    """
    from sim.model import simulate

    return [simulate(s, seed=seed, replication=k, observe=observe) for k in range(reps)]


def run_rung(name: str, days: int, reps: int, seed: int,
             extra: Mapping[str, Any] | None = None, warmup: int = 0) -> list:
    """``reps`` replications of one rung (common random numbers across rungs)."""
    return replicate(scenario(name, days, extra, warmup), reps, seed)


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


#: the observer :func:`break_effect` reads (a run recorded with it is the same run)
BREAK_OBSERVER = ("break_strain",)


def break_effect(days: int = 3, seed: int = 1, reps: int = 4,
                 extra: Mapping[str, Any] | None = None, warmup: int = 0) -> Estimate:
    """Target 4: the fall of A over a 10-minute break, in SDs of measured stress.

    Every break's strain at its start (each change to Not Ready - Break, scheduled or
    not) is recorded through the status funnel by the ``break_strain`` observer; A falls
    in closed form on a break (no load), so a 10-minute break lowers it by
    ``A0 (1 - e^(-10 min / tau_break))``. Divided by the SD of the agent-days' readings.
    """
    s = scenario("none", days, extra, warmup)
    return break_effect_of(replicate(s, reps, seed, observe=BREAK_OBSERVER),
                           s.stress.tau_break_min)


def break_effect_of(runs: list, tau_break_min: float) -> Estimate:
    """Target 4 from runs recorded with :data:`BREAK_OBSERVER` (see :func:`break_effect`).

    So a caller that simulates the "none" rung anyway (the ladder) records the breaks in the
    same runs instead of simulating the rung, warm-ups included, a second time.
    """
    tau = tau_break_min * 60
    effects = []
    for r in runs:
        at_start = r.observed["break_strain"]["strain"].to_numpy()
        drop = float(np.mean(at_start)) * (1 - math.exp(-600 / tau))
        effects.append(drop / _reading(r).std(ddof=1))
    return t_interval(effects)


def quit_rates(name: str, days: int, reps: int, seed: int,
               extra: Mapping[str, Any] | None = None, warmup: int = 0
               ) -> tuple[list[float], list]:
    """Expected annual quit rate of one rung, per replication, and the runs.

    With absence and attrition on, every morning each person at work has a chance of
    quitting (``Strain.quit_hazard``); the mean of those chances over the worked
    agent-days times ``schedule.days_per_year`` is the expected annual quit rate. It is
    the realised ``attrition_rate``'s expectation given the strain paths, with far less
    noise than counting the few quits of one run (a Rao-Blackwell estimate). The chances
    are those the model drew against, recorded by the ``quit_hazard`` observer.
    """
    over = {"stress.absence": True, "stress.attrition": True, **(extra or {})}
    s = scenario(name, days, over, warmup)
    rates, runs = [], []
    for r in replicate(s, reps, seed, observe=("quit_hazard",)):
        runs.append(r)
        seen = r.observed["quit_hazard"]["hazard"].to_numpy()
        rates.append(float(np.mean(seen)) * s.schedule.days_per_year)
    return rates, runs


#: target 5: the strict individual regime against the team regime with agents' control
QUIT_PAIR = ("team_control", "individual_targets")


def quit_gap(days: int = 60, reps: int = 2, seed: int = 1,
             extra: Mapping[str, Any] | None = None, warmup: int = 0
             ) -> dict[str, Estimate]:
    """Target 5: expected annual quit rates of the pair and their paired difference."""
    a, _ = quit_rates(QUIT_PAIR[0], days, reps, seed, extra, warmup)
    b, _ = quit_rates(QUIT_PAIR[1], days, reps, seed, extra, warmup)
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
        # from a cold start (warmup_days 0): the spiral is the onset, week by week
        s = s.replace({"horizon.days": days, "stress.enabled": True, "horizon.warmup_days": 0,
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


#: extra rungs for the facts of docs/evidence.md §7 the model claims: purpose (the monitored
#: rung with punitive feedback) and an individual handle-time target on the monitored rung
FACT_RUNGS: dict[str, dict[str, Any]] = {
    "monitored_punitive": {**LADDER["monitored"], "monitoring.feedback": "punitive"},
    "monitored_aht": {**LADDER["monitored"], "targets.aht_s": 280},
}
RUNGS.update(FACT_RUNGS)

#: measured working days of the steady-state phase, and its warm-up under the rung's regime
STEADY_DAYS = 10
STEADY_WARMUP = 20


@dataclass(frozen=True)
class Phase:
    """When a target is measured: ``days`` measured days after ``warmup`` unmeasured ones."""

    name: str
    days: int
    warmup: int
    quit_days: int  # measured days of target 5 (quits are rare: a longer window)


WEEK1 = Phase("week 1", 5, 0, 10)


def steady(warmup: int = STEADY_WARMUP, days: int = STEADY_DAYS) -> Phase:
    """The steady-state phase: ``days`` measured after a ``warmup`` under the same regime."""
    return Phase("steady state", days, warmup, days)


def _policed_share(runs: list) -> Estimate:
    """Share of agents who put off a needed break at least once in the measured days."""
    shares = []
    for r in runs:
        a = r.actions
        deferring = (a.loc[a["action"] == "defer_break", "agent"].nunique()
                     if len(a) else 0)
        shares.append(deferring / r.agent_days["agent"].nunique())
    return t_interval(shares)


def paired_difference(a: list, b: list, kpi: str) -> Estimate:
    """Paired difference ``b - a`` of one KPI over replications."""
    return t_interval([rb.kpis[kpi] - ra.kpis[kpi] for ra, rb in zip(a, b, strict=True)])


def measure(phase: Phase = WEEK1, reps: int = 3, seed: int = 1,
            extra: Mapping[str, Any] | None = None, quits: bool = True) -> dict[str, Any]:
    """Every target of docs/evidence.md §6 and the §7 facts the model claims, in one phase.

    ``extra``: overrides on every rung (e.g. other stress parameters to try); ``quits``:
    also target 5 (absence and attrition on, the slowest part).
    """
    names = [*LADDER, "team_control", *FACT_RUNGS]
    runs = {n: run_rung(n, phase.days, reps, seed, extra, phase.warmup) for n in names}
    m: dict[str, Any] = {
        "phase": phase,
        "monitored_vs_none": pair(runs["none"], runs["monitored"]),
        "ladder": {n: t_interval([_reading(r).mean() for r in runs[n]]) for n in LADDER},
        "ladder_steps": {f"{a} < {b}": pair(runs[a], runs[b]).stress
                         for a, b in zip(LADDER, list(LADDER)[1:], strict=False)},
        "ladder_service_level": {n: t_interval([r.kpis["service_level"] for r in runs[n]])
                                 for n in LADDER},
        "individual_vs_team": pair(runs[GROUP_PAIR[0]], runs[GROUP_PAIR[1]]),
        "break": break_effect(min(phase.days, 3), seed, max(reps, 4), extra, phase.warmup),
        "punitive_vs_developmental": pair(runs["monitored"], runs["monitored_punitive"]),
        "control": pair(runs["team"], runs["team_control"]),
        "aht_service_level": paired_difference(runs["monitored"], runs["monitored_aht"],
                                               "service_level"),
        "aht_repeats": paired_difference(runs["monitored"], runs["monitored_aht"],
                                         "repeat_call_rate"),
        "deferring_agents": _policed_share(runs["monitored"]),
    }
    if quits:
        m["quits"] = quit_gap(phase.quit_days, max(reps - 1, 2), seed, extra, phase.warmup)
    return m


def _ci(e: Estimate, scale: float = 1.0, sign: str = "") -> str:
    """``mean [low, high]`` of an estimate, scaled (100 for percentage points)."""
    f = f"{sign}.{2 if scale != 1 else 3}f"
    return (f"{scale * e.mean:{f}} [{scale * e.ci_low:{f}}, {scale * e.ci_high:{f}}]")


#: d of target 1: r = .11 +- .03 as Cohen's d of a half-and-half population
D_BAND = tuple(2 * r / math.sqrt(1 - r * r) for r in (0.08, 0.14))


@dataclass(frozen=True)
class Row:
    """One line of the calibration table: a target, its band, and per phase value and verdict."""

    target: str
    band: str
    values: dict[str, str]
    held: dict[str, bool]


def rows(measures: Mapping[str, Mapping[str, Any]]) -> list[Row]:
    """The table's rows from one :func:`measure` per phase (``{phase name: measures}``)."""
    def row(target: str, band: str, cell, check) -> Row:
        return Row(target, band, {p: cell(m) for p, m in measures.items()},
                   {p: bool(check(m)) for p, m in measures.items()})

    lo, hi = D_BAND
    out = [
        row("1. monitored vs none: stress", f"d {lo:.2f}-{hi:.2f} (r .11 ± .03)",
            lambda m: f"d = {_ci(m['monitored_vs_none'].d)}, "
                      f"r = {r_from_d(m['monitored_vs_none'].d.mean):.3f}",
            lambda m: lo <= m["monitored_vs_none"].d.mean <= hi),
        row("1. monitored vs none: output", "about no difference (under 1 pp)",
            lambda m: f"{_ci(m['monitored_vs_none'].service_level, 100, '+')} pp",
            lambda m: abs(m["monitored_vs_none"].service_level.mean) < 0.01),
        row("2. stress rises with intensity", "each step's paired CI above 0",
            lambda m: " < ".join(f"{n} {v.mean:.2f}" for n, v in m["ladder"].items()),
            lambda m: all(v.ci_low > 0 for v in m["ladder_steps"].values())),
        row("3. individual vs team", "d above 0; output not lower under team",
            lambda m: f"d = {_ci(m['individual_vs_team'].d)}; service level "
                      f"{_ci(m['individual_vs_team'].service_level, 100, '+')} pp",
            lambda m: (m["individual_vs_team"].d.ci_low > 0
                       and m["individual_vs_team"].service_level.ci_low <= 0)),
        row("4. a 10-minute break", "d about .35 (CI covers it)",
            lambda m: f"d = {_ci(m['break'])}",
            lambda m: m["break"].ci_low <= 0.35 <= m["break"].ci_high),
    ]
    if all("quits" in m for m in measures.values()):
        out += [
            row("5. annual quits, strict minus team", "+5 to +15 points",
                lambda m: f"{_ci(m['quits']['gap'], 100, '+')} points",
                lambda m: 0.05 <= m["quits"]["gap"].mean <= 0.15),
            row("5. annual quits, team with control", "about 20% (15-25%)",
                lambda m: f"{_ci(m['quits']['team'], 100)}%",
                lambda m: 0.15 <= m["quits"]["team"].mean <= 0.25),
        ]
    out += [
        row("§7.3 purpose: punitive vs developmental", "punitive higher (CI above 0)",
            lambda m: f"d = {_ci(m['punitive_vs_developmental'].d)}",
            lambda m: m["punitive_vs_developmental"].d.ci_low > 0),
        row("§7.3 control buffers: team with control vs team", "lower (CI below 0)",
            lambda m: f"d = {_ci(m['control'].d)}",
            lambda m: m["control"].d.ci_high < 0),
        row("§7.6 an individual AHT target: service level", "gains little or nothing "
            "(under +1 pp)", lambda m: f"{_ci(m['aht_service_level'], 100, '+')} pp; "
            f"repeat rate {_ci(m['aht_repeats'], 100, '+')} pp",
            lambda m: m["aht_service_level"].mean < 0.01),
        row("§7.8 agents who put off a needed break (monitored)", "more than a quarter",
            lambda m: f"{_ci(m['deferring_agents'], 100)}%",
            lambda m: m["deferring_agents"].mean > 0.25),
    ]
    return out


def markdown(table: list[Row], measures: Mapping[str, Mapping[str, Any]],
             command: str) -> str:
    """The table as markdown, with the command that made it and each phase's window."""
    phases = list(measures)
    head = "| target | band | " + " | ".join(phases) + " |"
    lines = [head, "|" + "---|" * (2 + len(phases))]
    for r in table:
        cells = [f"{r.values[p]} {'(held)' if r.held[p] else '(**not held**)'}"
                 for p in phases]
        lines.append(f"| {r.target} | {r.band} | " + " | ".join(cells) + " |")
    windows = "; ".join(
        f"{p}: {m['phase'].days} measured days after {m['phase'].warmup} days of warm-up "
        f"(target 5: {m['phase'].quit_days} days)" for p, m in measures.items())
    return "\n".join([f"Made by `{command}` ({windows}).", "", *lines])


START, END = "<!-- calibration-table:start -->", "<!-- calibration-table:end -->"


def write_table(path: Path, text: str) -> None:
    """Replace the text between the calibration-table markers of ``path`` (atomically)."""
    from analysis.store import atomic_write

    doc = path.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        raise SystemExit(f"{path}: no {START} ... {END} markers to write the table between")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{text}\n{END}{tail}"
    atomic_write(path, lambda tmp: tmp.write_text(new, encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.calibration``: the calibration table, week 1 and steady state."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m analysis.calibration", description=main.__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=STEADY_WARMUP,
                    help="working days of warm-up before the steady-state phase")
    ap.add_argument("--days", type=int, default=STEADY_DAYS,
                    help="measured working days of the steady-state phase")
    ap.add_argument("--write", type=Path, default=None,
                    help="a markdown file whose calibration-table markers get the table")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                    help="an override on every rung (trying other parameters)")
    a = ap.parse_args(argv)
    import json

    extra = {k: json.loads(v) for k, v in (x.split("=", 1) for x in a.set)} or None
    measures = {p.name: measure(p, a.reps, a.seed, extra)
                for p in (WEEK1, steady(a.warmup, a.days))}
    cmd = "python -m analysis.calibration" + "".join(
        f" --{k} {v}" for k, v in (("reps", a.reps), ("seed", a.seed),
                                   ("warmup", a.warmup), ("days", a.days))
        if v != ap.get_default(k)) + "".join(f" --set {x}" for x in a.set)
    text = markdown(rows(measures), measures, cmd + (f" --write {a.write}" if a.write else ""))
    print(text)
    if a.write:
        write_table(a.write, text)
    return 0


if __name__ == "__main__":  # pragma: no cover - a measurement to read
    raise SystemExit(main())
