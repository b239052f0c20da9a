"""The ``ccsim`` command line: run scenarios, compute Erlang values, validate the model."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import math
import os
import signal
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import docs
from analysis.experiment import (
    EXECUTORS,
    Experiment,
    default_out,
    fresh_out,
    guard,
    make_executor,
    run_experiment,
    run_until,
)
from analysis.staffing import (
    erlang_requirements,
    parse_target,
    search_head_count,
    with_head_count,
)
from analysis.stats import (
    Estimate,
    format_p,
    joint_test,
    paired_difference,
    paired_differences,
    summarise,
    t_interval,
)
from analysis.stats import format_difference as fmt_diff
from analysis.store import (
    ReplicationStore,
    StoreWarning,
    claim_output,
    held_outputs,
    json_safe,
    release_outputs,
    slug,
    write_csv,
    write_json,
    write_parquet,
)
from sim.erlang import agents_for_service_level
from sim.kpi import KPIS
from sim.kpi import format_kpi as fmt
from sim.model import simulate
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.schedule import CoverageWarning, check_coverage
from sim.stationary import (
    EXACT_KPIS,
    exact_metrics,
    parse_rate,
    run_length_note,
    stationary_scenario,
    warmup_calls_for,
)

EPILOG = """examples:
  ccsim run scenarios/base.toml --reps 5
  ccsim erlang --rate 360/h --aht 240 --agents 27 --target 20
  ccsim validate --rate 360/h --aht 240 --agents 27 --patience 120 --target 20 --reps 10
  ccsim compare scenarios/base.toml scenarios/more-agents.toml --reps 10
  ccsim sweep scenarios/base.toml --set staffing.agents=90,95,100 --reps 5
  ccsim staff scenarios/base.toml --target 0.8@20
  ccsim docs > docs/reference.md
"""


class CLIError(Exception):
    """A user error: printed as one message, exit status 2."""


class Terminated(BaseException):
    """SIGTERM arrived: stop like Ctrl-C (finished replications are already stored)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ccsim`` console script.

    A user error (bad scenario, option or folder) is one line on stderr and exit status 2;
    Ctrl-C / SIGTERM keep every finished replication and exit 130 / 143; a closed stdout
    (``| head``) ends quietly; a full disk or unwritable folder is one line, not a traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    prefix = f"ccsim {args.command}"
    quiet = getattr(args, "quiet", False) or getattr(args, "json", False)
    guard.force = getattr(args, "force", False)
    guard.notify = None if quiet else (lambda m: print(f"{prefix}: {m}", file=sys.stderr))
    try:
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. called from a worker thread)
        old_term = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", StoreWarning)
            warnings.showwarning = _show_warning
            out = getattr(args, "out", None)
            if out is not None and not getattr(args, "no_write", False):
                claim_output(out, args.command)  # before any work: a bad folder fails fast
            status = args.func(args)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return status
    except (ScenarioError, CLIError, ValueError) as exc:
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as exc:
        what = "SIGTERM" if isinstance(exc, Terminated) else "interrupted (SIGINT)"
        print(f"\n{prefix}: {what}: stopped; {_kept()}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:
        # the reader went away (| head): exit quietly, as Unix tools do
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 141
    except MemoryError:
        print(f"{prefix}: error: out of memory; use fewer days, agents, calls or --workers",
              file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"{prefix}: error: cannot read or write{where}: {exc.strerror or exc}; "
              f"{_kept()}", file=sys.stderr)
        return 2
    finally:
        release_outputs()
        guard.force, guard.notify = False, None
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _kept() -> str:
    """What an interrupted or failed command leaves behind, and how to go on."""
    stored = [(f, len(list(f.glob("replications/*/rep-*/manifest.json"))))
              for f in held_outputs()]
    stored = [(f, n) for f, n in stored if n]
    if not stored:
        return "nothing was stored"
    return "; ".join(f"{n} finished replication(s) are kept in {f}/" for f, n in stored) + \
        "; run the same command again to resume"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    p = argparse.ArgumentParser(
        prog="ccsim", description="Contact-centre simulator and what-if modeller.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="simulate a scenario and print its KPIs",
                       description="Simulate SCENARIO for R replications; print every KPI "
                       "(mean and 95% CI when R > 1) and write kpis.csv and the logs.")
    r.add_argument("scenario", type=Path, help="scenario TOML file")
    r.add_argument("--days", type=_positive_int, help="override horizon.days")
    r.add_argument("--seed", type=_seed, default=1,
                   help=f"base seed, 0 to {MAX_SEED} (default 1)")
    r.add_argument("--reps", type=_reps, default=1, help="replications (default 1)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. --set staffing.agents=95 (repeatable)")
    r.add_argument("--out", type=Path, help="output folder (default results/<scenario>/<time>/;"
                   " re-running with the same folder resumes)")
    r.add_argument("--individual", action="store_true",
                   help="also write agent-level tables (statuses, agent_days, agents, "
                   "activities, schedule, breaks); off by default so that output stays "
                   "aggregate")
    r.add_argument("--agent-timeline", type=_nonneg_int, nargs="?", const=0, metavar="DAY",
                   help="also draw agents' statuses over day DAY (default 0) of replication 0 "
                   "beside their schedule, as timeline-dayDAY.png (pseudonymous agents)")
    r.add_argument("--no-write", action="store_true", help="print only, write nothing")
    r.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    _executor_options(r)
    r.set_defaults(func=cmd_run)

    for name, fn, helptext in (
        ("erlang", cmd_erlang, "exact Erlang C / Erlang A values for a stationary queue"),
        ("validate", cmd_validate,
         "simulate a stationary queue and compare with the exact Erlang values, with one "
         "joint verdict for all KPIs"),
    ):
        e = sub.add_parser(name, help=helptext, description=helptext + ".")
        e.add_argument("--rate", required=True, type=_rate,
                       help='arrival rate, e.g. "360/h", "6/min", "0.1/s" (bare number: per hour)')
        e.add_argument("--aht", required=True, type=_positive_float,
                       help="mean handle time in seconds (exponential in validate)")
        e.add_argument("--agents", required=True, type=_agents, help="agents")
        e.add_argument("--target", required=True, type=_nonneg_float,
                       help="service-level threshold T in seconds (answered within T)")
        e.add_argument("--patience", type=_positive_float, default=math.inf,
                       help="mean patience in seconds (exponential): Erlang A; omit for Erlang C")
        e.add_argument("--json", action="store_true", help="print one JSON object")
        e.add_argument("--quiet", action="store_true", help="no progress bar")
        e.set_defaults(func=fn)
        if name == "erlang":
            e.add_argument("--goal", type=_share,
                           help="also print the fewest agents whose service level >= GOAL")
        else:
            e.add_argument("--reps", type=_reps, default=30,
                           help="replications (default 30; the joint verdict, Hotelling's "
                           "T-squared, needs more replications than KPIs and its power "
                           "grows with n - KPIs)")
            e.add_argument("--calls", type=_calls, default=20_000,
                           help="measured calls per replication after the warm-up (default "
                           "20000; a warning says when a run is too short to be stationary)")
            e.add_argument("--seed", type=_seed, default=1,
                   help=f"base seed, 0 to {MAX_SEED} (default 1)")
            _executor_options(e)

    c = sub.add_parser(
        "compare", help="compare scenarios with paired differences and write report.html",
        description="Simulate every SCENARIO for the same replications (common random "
        "numbers), print each KPI's mean and 95% CI per scenario and the paired difference "
        "against the first scenario, and write report.html with figures. Re-running the same "
        "command resumes: finished replications are not run again.")
    c.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO",
                   help="scenario TOML files; the first is the baseline")
    _experiment_options(c, "compare")
    c.add_argument("--until", type=_until, metavar="KPI=HALFWIDTH",
                   help="sequential stopping: add replications (from --reps) until the paired "
                   "difference of KPI (or its mean, for one scenario) has a 95%% CI half-width "
                   "<= HALFWIDTH, e.g. --until service_level=0.005")
    c.add_argument("--max-reps", type=_reps, default=100,
                   help="upper limit on replications with --until (default 100)")
    c.add_argument("--match", metavar="KPI",
                   help="equal-service question: for every other scenario also find the "
                   "fewest total agents (staffing.agents, spread over its shifts) whose mean "
                   "KPI reaches the baseline's, and add that scenario (NAME@AGENTS) to the "
                   "comparison, e.g. --match service_level")
    c.add_argument("--no-confirm", action="store_true",
                   help="with --until or --match, report the replications that made the "
                   "choice instead of confirming on as many fresh replications (cheaper; "
                   "the CIs can then be somewhat optimistic, and the output says so)")
    _primary_option(c)
    c.set_defaults(func=cmd_compare)

    w = sub.add_parser(
        "sweep", help="full factorial over scenario fields",
        description="Simulate every combination of the --set values (full factorial), each "
        "validated like a scenario file; write a tidy table (one row per combination and KPI: "
        "mean and 95% CI) as sweep.csv and sweep.parquet and one PNG plot per KPI.")
    w.add_argument("scenario", type=Path, help="base scenario TOML file")
    _experiment_options(w, "sweep", with_set=False)
    w.add_argument("--set", dest="factors", action="append", default=[], required=True,
                   metavar="KEY=V1,V2,...",
                   help="a factor: dotted field and comma-separated values, e.g. "
                   "--set staffing.agents=90,95,100 (repeatable; values are TOML literals)")
    _primary_option(w)
    w.set_defaults(func=cmd_sweep)

    st = sub.add_parser(
        "staff", help="how many agents for a service-level target (Erlang and simulation)",
        description="Per interval, the Erlang C/A agents on queue for the target (each interval "
        "alone, stationary); then, by simulation, the fewest total agents (staffing.agents, "
        "spread over the shifts in proportion) whose mean service level over the replications "
        "reaches the target. The scenario's service-level definition is kept; its threshold "
        "and target are set from --target.")
    st.add_argument("scenario", type=Path, help="scenario TOML file")
    st.add_argument("--target", required=True, type=_sl_target, metavar="SHARE@SECONDS",
                    help="service-level goal, e.g. 0.8@20 (80%% answered within 20 s)")
    st.add_argument("--max-agents", type=_agents, default=5000,
                    help="give up above this head count (default 5000)")
    st.add_argument("--confidence", type=_half_open_share, metavar="C",
                    help="require the goal with confidence C (e.g. 0.9): the one-sided lower "
                    "confidence bound of the mean service level must reach it, not the mean "
                    "alone (default: the mean)")
    st.add_argument("--no-confirm", action="store_true",
                    help="do not re-simulate the answer on fresh replications (by default "
                    "it is, because the search chose it on the replications it reports)")
    _experiment_options(st, "staff")
    st.set_defaults(func=cmd_staff)

    d = sub.add_parser("docs", help="print the scenario-field and KPI reference (Markdown)",
                       description="Print the reference of every scenario field (default, "
                       "source, description) and every KPI, as Markdown.")
    d.set_defaults(func=cmd_docs)
    return p


# --------------------------------------------------------------------------- commands


RUN_TABLES = ("calls", "intervals", "daily")
INDIVIDUAL_TABLES = ("statuses", "agent_days", "agents", "activities", "schedule", "breaks")


def cmd_run(args: argparse.Namespace) -> int:
    """``ccsim run``."""
    scenario = load_scenario(args.scenario, _overrides(args))
    if args.agent_timeline is not None:
        if args.no_write:
            raise CLIError("--agent-timeline writes a PNG; it cannot be used with --no-write")
        if args.agent_timeline >= scenario.horizon.days:
            raise CLIError(f"--agent-timeline: day {args.agent_timeline} is outside the "
                           f"horizon (days 0 to {scenario.horizon.days - 1})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        check_coverage(scenario)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    out = None
    if not args.no_write:
        out = args.out or fresh_out(scenario.name)
    tables = () if out is None else RUN_TABLES + (INDIVIDUAL_TABLES if args.individual else ())
    with _experiment_context(args, args.reps, args.quiet or args.json) as (executor, bar):
        exp = run_experiment([scenario], args.seed, args.reps, executor=executor,
                             store=ReplicationStore(out / "replications") if out else None,
                             tables=tables, individual=args.individual, progress=bar.update)
    est = summarise(exp.kpi_rows(0))
    if out is not None:
        _write_experiment(out, exp, args, "run")
        if args.agent_timeline is not None:  # replication 0 again, in full (deterministic)
            from analysis.timeline import plot_timeline  # matplotlib: load late
            day = args.agent_timeline
            plot_timeline(simulate(scenario, seed=args.seed, replication=0),
                          out / f"timeline-day{day}.png", day=day,
                          title=f"{scenario.name}: agents' statuses, day {day}")
    if args.json:
        print(json.dumps(json_safe({
            "scenario": scenario.name, "replications": args.reps,
            "kpis": {k: e.as_dict() for k, e in est.items()},
        })))
        return 0
    print(f"\n{scenario.name}: {scenario.description}")
    print(f"{args.reps} replication(s), seed {args.seed}, {scenario.horizon.days} day(s)\n")
    print(_kpi_table(est, args.reps > 1))
    if out:
        if exp.resumed:
            print(f"\nresumed: {exp.resumed} replication(s) were already finished in {out}/")
        print(f"\nwritten to {out}/ (kpis.csv, manifest.json, replications/)")
        if args.agent_timeline is not None:
            print(f"agent timeline: {out / f'timeline-day{args.agent_timeline}.png'}")
    return 0


def cmd_erlang(args: argparse.Namespace) -> int:
    """``ccsim erlang``."""
    m = exact_metrics(args.rate, args.aht, args.agents, args.target, args.patience)
    result: dict[str, Any] = m.as_dict()
    if args.goal is not None:
        result["agents_for_goal"] = agents_for_service_level(
            args.rate, args.aht, args.target, args.goal, args.patience)
    if args.json:
        print(json.dumps(json_safe(result)))
        return 0
    model = "Erlang A (M/M/c+M)" if math.isfinite(args.patience) else "Erlang C (M/M/c)"
    print(f"{model}: {args.rate * 3600:g} calls/h, AHT {args.aht:g} s, {args.agents} agents, "
          f"load {args.rate * args.aht:.2f} Erlangs, T = {args.target:g} s")
    for k, v in result.items():
        print(f"  {k:<16} {fmt(k, v)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``ccsim validate``: simulate a stationary queue; one joint verdict against Erlang."""
    conf = VALIDATE_CONFIDENCE
    exact = exact_metrics(args.rate, args.aht, args.agents, args.target, args.patience)
    warmup = warmup_calls_for(args.rate, args.aht, args.agents, args.patience, args.calls)
    scenario = stationary_scenario(args.rate, args.aht, args.agents, args.target,
                                   args.patience, calls=args.calls, warmup_calls=warmup)
    notes = []
    note = run_length_note(args.rate, args.aht, args.agents, args.patience, args.calls, warmup)
    if note:
        notes.append(f"run too short to be stationary: {note}")
    with _experiment_context(args, args.reps, args.quiet or args.json) as (executor, bar):
        exp = run_experiment([scenario], args.seed, args.reps, executor=executor, tables=(),
                             progress=bar.update)
    rows = exp.kpi_rows(0)
    cut = sum(r.get("closed", 0.0) for r in rows)
    if cut > 0:
        notes.append(f"{cut:,.0f} measured call(s) were still waiting when the queue closed "
                     "(outcome 'closed'): their waits are cut short, so ASA and service level "
                     "are biased; the stationary system should drain completely")
    est = summarise([{k: r[k] for k in EXACT_KPIS} for r in rows], conf)
    exact_d = exact.as_dict()
    null = [exact_d[k] for k in EXACT_KPIS]
    joint, p, p_holm = joint_test([[r[k] for k in EXACT_KPIS] for r in rows], null, conf)
    passed = joint.passed(conf)
    if args.json:
        print(json.dumps(json_safe({
            "exact": exact_d, "simulated": {k: e.as_dict() for k, e in est.items()},
            "calls": args.calls, "warmup_calls": warmup, "replications": args.reps,
            "seed": args.seed, "confidence": conf,
            "inside": {k: est[k].contains(exact_d[k]) for k in EXACT_KPIS},
            "p_values": dict(zip(EXACT_KPIS, p, strict=True)),
            "p_holm": dict(zip(EXACT_KPIS, p_holm, strict=True)),
            "joint": {**joint.as_dict(), "passed": passed},
            "verdict": "pass" if passed else "fail", "notes": notes,
        })))
        return 0
    pct = f"{100 * conf:g}%"
    print(f"\n{scenario.description} (load {args.rate * args.aht:.2f} Erlang); "
          f"{args.reps} replications of {args.calls:,} calls after {warmup:,} warm-up calls, "
          f"seed {args.seed}\n")
    print(f"{'KPI':<14} {'exact':>10} {'simulated':>10}   {pct + ' CI':<24} inside"
          f"{'p':>8} {'Holm p':>8}")
    for j, k in enumerate(EXACT_KPIS):
        e = est[k]
        ci = f"[{fmt(k, e.ci_low)}, {fmt(k, e.ci_high)}]"
        inside = "yes" if e.contains(exact_d[k]) else "no"
        print(f"{k:<14} {fmt(k, exact_d[k]):>10} {fmt(k, e.mean):>10}   {ci:<24} "
              f"{inside:<6}{format_p(p[j]):>8} {format_p(p_holm[j]):>8}{e.dropped_note()}")
    print()
    print(_validate_verdict(joint, passed, conf, len(EXACT_KPIS)))
    for n in notes:
        print(f"\nwarning: {n}")
    return 0


#: confidence of validate's intervals and false-alarm rate 1 - this of its joint verdict
VALIDATE_CONFIDENCE = 0.95


def _validate_verdict(joint, passed: bool, conf: float, kpis: int) -> str:
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


def cmd_compare(args: argparse.Namespace) -> int:
    """``ccsim compare``."""
    from analysis.report import compare, rep_range, text_table, write_report  # matplotlib

    overrides = _overrides(args)
    scenarios = _unique_names([load_scenario(p, overrides) for p in args.scenarios])
    out = args.out or default_out("compare", [s.name for s in scenarios])
    quiet = args.quiet or args.json
    primary = _primary(args.primary)
    if args.until and args.until[0] not in KPIS:
        raise CLIError(f"--until: unknown KPI {args.until[0]!r}; known: {', '.join(KPIS)}")
    if args.match and args.match not in KPIS:
        raise CLIError(f"--match: unknown KPI {args.match!r}; known: {', '.join(KPIS)}")
    if args.until and args.max_reps < max(2, args.reps):
        raise CLIError(f"--max-reps {args.max_reps} is below --reps {args.reps}")
    selecting = bool(args.until or args.match)
    total = None if selecting else len(scenarios) * args.reps
    with _experiment_context(args, total, quiet) as (executor, bar):
        kwargs = {"executor": executor, "store": ReplicationStore(out / "replications"),
                  "progress": bar.update}
        if args.until:
            kpi, hw = args.until
            exp = run_until(scenarios, args.seed, kpi, hw, min_reps=max(2, args.reps),
                            max_reps=args.max_reps, **kwargs)
        else:
            exp = run_experiment(scenarios, args.seed, args.reps, **kwargs)
        selection, notes = None, []
        if selecting:
            chosen = exp.reps(0)
            parts = []
            if args.until:
                kpi, hw = args.until
                reached = _until_half_width(exp, kpi)
                parts.append(f"--until {kpi}={hw:g} added replications until the "
                             f"{'paired difference' if len(scenarios) > 1 else 'mean'} of "
                             f"{kpi} had a {100 * COMPARE_CONFIDENCE:g}% CI half-width <= "
                             f"{fmt_diff(kpi, hw).lstrip('+')}: it stopped at {len(chosen)} "
                             f"(half-width {fmt_diff(kpi, reached).lstrip('+')}"
                             f"{'' if reached <= hw else ', --max-reps reached'}).")
            matched: dict[str, int | None] = {}
            if args.match:
                exp, notes, matched = _matched(scenarios, exp, args, kwargs)
                parts.append(f"--match {args.match} searched the head counts (NAME@AGENTS) "
                             "on the same replications.")
            selection = {"chosen_on": chosen, "until": list(args.until or []) or None,
                         "match": args.match, "matched_agents": matched or None}
            if args.no_confirm:
                parts.append(f"The table uses the same {rep_range(chosen)} that made these "
                             "choices, so its CIs can be somewhat optimistic (stopping when the "
                             "CI first looks narrow enough, or taking the head count that "
                             "just reaches the goal, favours lucky replications); without "
                             "--no-confirm they are confirmed on fresh replications.")
                selection.update(reported_on=chosen, fresh=False)
            else:
                fresh = range(chosen[-1] + 1, chosen[-1] + 1 + len(chosen))
                confirm = run_experiment(exp.scenarios, args.seed, fresh, **kwargs)
                confirm.ran += exp.ran
                confirm.resumed += exp.resumed
                confirm.wall_s += exp.wall_s
                exp = confirm
                parts.append(f"The table uses {len(chosen)} fresh replications "
                             f"({rep_range(fresh)}) that took no part in these choices, so "
                             "its CIs and verdicts are not biased by them.")
                selection.update(reported_on=list(fresh), fresh=True)
            what = " and ".join(w for w, on in (("the replication count", args.until),
                                                ("the head counts", args.match)) if on)
            selection["text"] = " ".join([f"{rep_range(chosen).capitalize()} chose {what}.",
                                          *parts])
    comp = compare(exp, COMPARE_CONFIDENCE, primary, selection)
    _write_experiment(out, exp, args, "compare")
    write_json(comp.as_json(), out / "comparison.json")
    report = write_report(exp, comp, out, {"command": _command_line(args)})
    if args.json:
        print(json.dumps(comp.as_json(), allow_nan=False))
        return 0
    print(f"\n{len(exp.scenarios)} scenarios x {comp.reps} replications "
          f"({rep_range(comp.replications)}), seed {args.seed}, "
          f"{scenarios[0].horizon.days} day(s); differences paired against {comp.baseline} "
          "(common random numbers); shares differ in percentage points (pp)\n")
    print(text_table(comp))
    print()
    print(textwrap.fill(comp.explanation(), width=92))
    for line in notes:
        print(line)
    if selection:
        print()
        print(textwrap.fill(selection["text"], width=92))
    if exp.resumed:
        print(f"\nresumed: {exp.resumed} replication(s) were already finished in {out}/")
    print(f"\n{exp.ran + exp.resumed} replications in {exp.wall_s:.1f} s "
          f"({exp.executor}, {exp.workers} worker(s))")
    print(f"report written to {report}")
    return 0


#: confidence of compare's and sweep's intervals (and 1 - the primary tests' level)
COMPARE_CONFIDENCE = 0.95


def _primary(text: str) -> tuple[str, ...]:
    """``--primary KPI[,KPI]``: known KPI names, in order, without repeats."""
    names = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in names if k not in KPIS]
    if not names or unknown:
        raise CLIError(f"--primary: unknown KPI {(unknown or [text])[0]!r}; known: "
                       f"{', '.join(KPIS)}")
    return names


def _until_half_width(exp, kpi: str) -> float:
    """The largest half-width the --until rule looks at (paired differences, or the mean)."""
    rows = [[r.get(kpi, math.nan) for r in exp.kpi_rows(i)] for i in range(len(exp.scenarios))]
    if len(rows) == 1:
        return t_interval(rows[0], COMPARE_CONFIDENCE).half_width
    return max(paired_difference(rows[0], r, COMPARE_CONFIDENCE).half_width for r in rows[1:])


def _matched(scenarios: list[Scenario], exp, args: argparse.Namespace,
             kwargs: dict[str, Any]):
    """``exp`` plus, for each non-baseline scenario, the head count matching the baseline KPI.

    The matched scenario is named ``NAME@AGENTS``; its replications are those the search
    ran at that head count (same seed and replication numbers, so still paired). Returns
    the merged experiment, lines to print and ``{scenario: agents found or None}``.
    """
    kpi = args.match
    goal = summarise(exp.kpi_rows(0))[kpi].mean
    reps = exp.reps(0)
    merged = Experiment(list(scenarios), exp.seed, dict(exp.outputs), exp.resumed, exp.ran,
                        exp.wall_s, exp.executor, exp.workers)
    notes = [""]
    found_agents: dict[str, int | None] = {}
    for s in scenarios[1:]:
        res = search_head_count(s, kpi, goal, args.seed, reps, store=kwargs["store"],
                                executor=kwargs["executor"], progress=kwargs["progress"])
        for e in res.experiments.values():
            merged.ran, merged.resumed = merged.ran + e.ran, merged.resumed + e.resumed
            merged.wall_s += e.wall_s
        now = s.staffing.agents or sum(s.staffing.head_counts().values())
        found_agents[s.name] = res.agents
        if res.agents is None:
            notes.append(f"equal {kpi}: {s.name} does not reach {scenarios[0].name}'s "
                         f"{fmt(kpi, goal)} with up to 5000 agents")
            continue
        found = res.experiments[res.agents]
        j = len(merged.scenarios)
        merged.scenarios.append(found.scenarios[0])
        for (_, r), out in found.outputs.items():
            merged.outputs[j, r] = dataclasses.replace(out, index=j)
        notes.append(f"equal {kpi}: {s.name} needs {res.agents} agents (it has {now}) to reach "
                     f"{scenarios[0].name}'s {fmt(kpi, goal)} (mean over {len(reps)} "
                     "replications)")
    return merged, notes, found_agents


def cmd_staff(args: argparse.Namespace) -> int:
    """``ccsim staff``."""
    from analysis.report import rep_range

    share, threshold = args.target
    overrides = {**_overrides(args), "service_level.threshold_s": threshold,
                 "service_level.target": share}
    scenario = load_scenario(args.scenario, overrides)
    erl = erlang_requirements(scenario, share, threshold)
    with warnings.catch_warnings():  # the same check `ccsim run` warns with, counted here
        warnings.simplefilter("ignore", CoverageWarning)
        short = check_coverage(scenario)
    h = scenario.horizon
    now = scenario.staffing.agents or sum(scenario.staffing.head_counts().values())
    out = args.out or default_out("staff", [scenario.name, f"{share:g}at{threshold:g}"])
    quiet = args.quiet or args.json
    store = ReplicationStore(out / "replications")
    with _experiment_context(args, None, quiet) as (executor, bar):
        res = search_head_count(scenario, "service_level", share, args.seed, args.reps,
                                executor=executor, store=store, increasing=True,
                                max_agents=args.max_agents, confidence=args.confidence,
                                with_range=True, progress=bar.update)
        confirm = None
        if res.agents is not None and not args.no_confirm:
            fresh = range(args.reps, 2 * args.reps)
            exp = run_experiment([with_head_count(scenario, res.agents)], args.seed, fresh,
                                 executor=executor, store=store, tables=("daily",),
                                 progress=bar.update)
            est = t_interval([r["service_level"] for r in exp.kpi_rows(0)])
            level = 0.95 if args.confidence is None else 2 * args.confidence - 1
            check = (est.mean if args.confidence is None else
                     t_interval([r["service_level"] for r in exp.kpi_rows(0)], level).ci_low)
            confirm = {"replications": list(fresh), "agents": res.agents,
                       "service_level": est.as_dict(), "meets_goal": bool(check >= share)}
    result = {
        "scenario": scenario.name, "target": share, "threshold_s": threshold,
        "definition": scenario.service_level.definition, "current_agents": now,
        "agents": res.agents, "confidence": args.confidence,
        "range": res.as_dict()["range"],
        "replications": args.reps, "seed": args.seed,
        "tried": res.as_dict()["tried"],
        "confirmation": confirm,
        "erlang": {"peak_agents": int(erl["erlang_agents"].max()),
                   "peak_interval": erl.loc[erl["erlang_agents"].idxmax(), "start"],
                   "agent_hours": float(erl["erlang_agents"].sum() * h.interval_s / 3600),
                   "intervals_understaffed": len(short),
                   "intervals": h.days * h.intervals_per_day},
    }
    write_csv(erl, out / "erlang.csv")
    write_json(result, out / "staff.json")
    if args.json:
        print(json.dumps(json_safe(result)))
        return 0
    e = result["erlang"]
    sl = "service_level"
    print(f"\n{scenario.name}: goal {100 * share:g}% answered within {threshold:g} s "
          f"({scenario.service_level.definition}); {now} agents now\n")
    print(textwrap.fill(
        f"Erlang (each interval alone): peak {e['peak_agents']} agents on queue at "
        f"{e['peak_interval']}, {e['agent_hours']:.0f} agent-hours per day. The schedule has "
        f"fewer agents on queue than that (breaks and activities taken out) in "
        f"{e['intervals_understaffed']} of {e['intervals']} intervals over {h.days} day(s): "
        "the coverage check `ccsim run` warns with.", width=92))
    print(f"\nsimulated head counts ({rep_range(range(args.reps))} each, seed {args.seed}):")
    for n, est in sorted(res.tried.items()):
        mark = "  <- fewest reaching the goal" if n == res.agents else ""
        print(f"  {n:>6} agents: service level {fmt(sl, est.mean):>8} "
              f"[{fmt(sl, est.ci_low)}, {fmt(sl, est.ci_high)}]{est.dropped_note()}{mark}")
    if res.agents is None:
        print(f"\nnot reached with up to {args.max_agents} agents")
        print(f"written to {out}/ (staff.json, erlang.csv)")
        return 0
    how = ("a mean service level" if args.confidence is None else
           f"a service level with {100 * args.confidence:g}% confidence")
    print()
    print(textwrap.fill(f"{res.agents} agents (spread over the shifts in proportion; now "
                        f"{now}) reach {how} >= {100 * share:g}% on these replications.",
                        width=92))
    if res.low is not None:
        pct = f"{100 * res.range_confidence:g}%"
        high = (f"{res.high}" if res.high is not None
                else f"more than {args.max_agents}")
        print(textwrap.fill(
            f"The answer's own uncertainty: {res.low} to {high} agents. With {res.low - 1} or "
            f"fewer even the upper end of the {pct} CI is below the goal; from {high} on its "
            f"lower end reaches it. Inside the range these replications cannot tell a "
            "head count from the goal; more --reps narrow it.", width=92))
    if confirm is not None:
        c = confirm["service_level"]
        verdict = "reach" if confirm["meets_goal"] else "do NOT reach"
        print(textwrap.fill(
            f"Confirmed on {args.reps} fresh replications ({rep_range(confirm['replications'])},"
            f" not used by the search): {res.agents} agents give {fmt(sl, c['mean'])} "
            f"[{fmt(sl, c['ci_low'])}, {fmt(sl, c['ci_high'])}], so they {verdict} {how} >= "
            f"{100 * share:g}%.", width=92))
    else:
        print(f"(the service levels above are from the replications that chose {res.agents}; "
              "without --no-confirm it is checked on fresh replications)")
    print(f"written to {out}/ (staff.json, erlang.csv)")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``ccsim sweep``."""
    base = load_scenario(args.scenario, _overrides(args))
    primary = _primary(args.primary)
    factors = [_parse_factor(text) for text in args.factors]
    keys = [k for k, _ in factors]
    if len(set(keys)) != len(keys):
        raise CLIError(f"--set: each field may be swept once, got {', '.join(keys)}")
    combos = list(itertools.product(*(vals for _, vals in factors)))
    scenarios = []
    for combo in combos:
        changes = dict(zip(keys, combo, strict=True))
        label = ",".join(f"{k}={_literal(v)}" for k, v in changes.items())
        scenarios.append(base.replace({**changes, "name": f"{base.name}[{label}]"},
                                      source="--set"))
    out = args.out or default_out("sweep", [base.name, *(t.replace(",", "_")
                                                         for t in args.factors)])
    quiet = args.quiet or args.json
    with _experiment_context(args, len(scenarios) * args.reps, quiet) as (executor, bar):
        exp = run_experiment(scenarios, args.seed, args.reps, executor=executor,
                             store=ReplicationStore(out / "replications"),
                             tables=("daily",), progress=bar.update)
    tidy = sweep_table(exp, keys, combos, primary)
    _write_experiment(out, exp, args, "sweep")
    write_csv(tidy, out / "sweep.csv")
    write_parquet(_parquet_safe(tidy), out / "sweep.parquet")
    plots = sweep_plots(tidy, keys, out / "plots")
    if args.json:
        print(json.dumps(json_safe({"base": base.name, "factors": keys,
                                    "rows": tidy.to_dict(orient="records")})))
        return 0
    print(f"\n{base.name}: {len(combos)} combinations x {args.reps} replications, seed "
          f"{args.seed}; differences paired against the first combination "
          f"({', '.join(f'{k}={_literal(v)}' for k, v in zip(keys, combos[0], strict=True))}),"
          " shares in percentage points (pp)\n")
    show = tidy.assign(**{c: tidy.apply(lambda r, c=c: fmt(r["kpi"], r[c]), axis=1)
                          for c in ("mean", "ci_low", "ci_high")})
    show = show.assign(**{c: tidy.apply(lambda r, c=c: fmt_diff(r["kpi"], r[c]), axis=1)
                          for c in ("diff", "diff_ci_low", "diff_ci_high")})
    show = show.assign(**{c: tidy[c].map(format_p) for c in ("p_value", "p_holm")},
                       differs=tidy["differs"].map(
                           lambda v: "-" if pd.isna(v) else "yes" if v else "no"))
    drop = ["scenario", "half_width"] + ([] if tidy["dropped"].any() else ["dropped"])
    print(show.drop(columns=drop).to_string(index=False))
    n_sec = tidy.loc[tidy["test"] == "secondary", "kpi"].nunique()
    print("\n" + textwrap.fill(
        f"differs (against the first combination): the primary KPI(s) ({', '.join(primary)})"
        f" tested at {100 * COMPARE_CONFIDENCE:g}% each, unadjusted; the other {n_sec} KPIs "
        "are secondary, Holm-adjusted together within each combination (p_holm), so the "
        f"chance of any false 'differs' among them is at most "
        f"{100 * (1 - COMPARE_CONFIDENCE):g}%. Combinations are not adjusted for each other; "
        "CIs are unadjusted.", width=92))
    print(f"\n{exp.ran + exp.resumed} replications in {exp.wall_s:.1f} s "
          f"({exp.executor}, {exp.workers} worker(s))")
    print(f"written to {out}/ (sweep.csv, sweep.parquet, {len(plots)} plots in plots/)")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """``ccsim docs``."""
    print(docs.reference(), end="")
    return 0


# --------------------------------------------------------------------------- helpers


def _experiment_options(p: argparse.ArgumentParser, kind: str, with_set: bool = True) -> None:
    p.add_argument("--reps", type=_reps, default=5,
                   help="replications per scenario (default 5)")
    p.add_argument("--seed", type=_seed, default=1,
                   help=f"base seed, 0 to {MAX_SEED} (default 1)")
    p.add_argument("--out", type=Path, help=f"output folder (default results/{kind}/<names>/; "
                   "re-running with the same folder resumes)")
    p.add_argument("--days", type=_positive_int, help="override horizon.days of every scenario")
    if with_set:
        p.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a field of every scenario "
                       "(repeatable)")
    _executor_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object (no progress bar)")


def _primary_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--primary", default="service_level", metavar="KPI[,KPI]",
                   help="the KPI(s) the comparison is for (default service_level): their "
                   "differences are tested at 95%% each; every other KPI is secondary and "
                   "Holm-adjusted, so that 13 KPIs do not give 13 chances of a false "
                   "'differs'")


def _executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=EXECUTORS, default="process",
                   help="serial, process (local process pool, default) or dask")
    p.add_argument("--workers", type=_workers,
                   help="worker processes for --executor process (default: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="Dask scheduler address (implies --executor dask)")
    p.add_argument("--force", action="store_true",
                   help="run even if the size estimate (memory per replication, memory of "
                   "the replications running at once) is over the limits")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides = dict(_parse_set(s) for s in getattr(args, "overrides", []))
    if args.days:
        overrides["horizon.days"] = args.days
    return overrides


def _unique_names(scenarios: list[Scenario]) -> list[Scenario]:
    seen: dict[str, int] = {}
    out = []
    for s in scenarios:
        seen[s.name] = seen.get(s.name, 0) + 1
        out.append(s if seen[s.name] == 1 else
                   s.replace({"name": f"{s.name}-{seen[s.name]}"}, source="name"))
    return out


@contextlib.contextmanager
def _experiment_context(args: argparse.Namespace, total: int | None, quiet: bool):
    from tqdm import tqdm

    executor = make_executor(args.executor, args.workers, args.scheduler)
    # disable=None: no bar when stderr is not a terminal (logs, pipes)
    bar = tqdm(total=total, unit="rep", file=sys.stderr, disable=True if quiet else None,
               dynamic_ncols=True,
               desc=f"{args.command} ({executor.name}, {executor.workers} worker(s))")
    ticking = _tick(bar)  # elapsed time moves even while one long replication runs
    try:
        yield executor, bar
    except BaseException:
        ticking.set()
        bar.close()
        getattr(executor, "abort", executor.close)()  # stop workers now, do not wait
        raise
    ticking.set()
    bar.close()
    executor.close()


def _tick(bar, every_s: float = 1.0):
    """Refresh ``bar`` every second from a daemon thread; set the returned event to stop."""
    import threading

    stop = threading.Event()
    if not bar.disable:
        def loop() -> None:
            while not stop.wait(every_s):
                with contextlib.suppress(Exception):
                    bar.refresh()
        threading.Thread(target=loop, name="ccsim-progress", daemon=True).start()
    return stop


def _command_line(args: argparse.Namespace) -> str:
    return " ".join(["ccsim", *sys.argv[1:]]) if sys.argv[1:2] == [args.command] else \
        f"ccsim {args.command}"


def _write_experiment(out: Path, exp, args: argparse.Namespace, kind: str) -> None:
    kpis = exp.kpi_table()
    write_csv(kpis, out / "kpis.csv")
    write_parquet(kpis, out / "kpis.parquet")
    write_json({
        "command": _command_line(args), "kind": kind, "seed": exp.seed,
        "scenarios": {s.name: {"hash": s.digest(), "scenario": s.to_dict()}
                      for s in exp.scenarios},
        "executor": exp.executor, "workers": exp.workers, "wall_s": round(exp.wall_s, 3),
        "replications_run": exp.ran, "replications_resumed": exp.resumed,
        "provenance": exp.provenance(),
    }, out / "manifest.json")


def sweep_table(exp, keys: list[str], combos: list[tuple],
                primary: Sequence[str] = ("service_level",)) -> pd.DataFrame:
    """Tidy table: one row per combination and KPI (mean, CI, half-width, n, NaNs dropped).

    Every combination after the first also gets its paired difference against the first
    (``diff``, ``diff_ci_low``, ``diff_ci_high``), the paired t-test ``p_value``, ``p_holm``
    (Holm-adjusted over the secondary KPIs of that combination; empty for a primary KPI),
    ``test`` (primary or secondary) and ``differs``.
    """
    rows = []
    base_rows = exp.kpi_rows(0)
    for i, combo in enumerate(combos):
        est = summarise(exp.kpi_rows(i), COMPARE_CONFIDENCE)
        diffs = (paired_differences(base_rows, exp.kpi_rows(i), list(est), primary,
                                    COMPARE_CONFIDENCE) if i else {})
        for kpi, e in est.items():
            d = diffs.get(kpi)
            rows.append({**dict(zip(keys, combo, strict=True)),
                         "scenario": exp.scenarios[i].name, "kpi": kpi, "mean": e.mean,
                         "ci_low": e.ci_low, "ci_high": e.ci_high,
                         "half_width": e.half_width, "n": e.n, "dropped": e.dropped,
                         "test": "primary" if kpi in primary else "secondary",
                         "diff": d.estimate.mean if d else math.nan,
                         "diff_ci_low": d.estimate.ci_low if d else math.nan,
                         "diff_ci_high": d.estimate.ci_high if d else math.nan,
                         "p_value": d.p_value if d else math.nan,
                         "p_holm": d.p_holm if d and d.p_holm is not None else math.nan,
                         "differs": d.differs if d else None})
    tidy = pd.DataFrame(rows)
    tidy["differs"] = tidy["differs"].astype("boolean")  # None (no test) stays missing
    return tidy


def sweep_plots(tidy: pd.DataFrame, keys: list[str], folder: Path) -> list[Path]:
    """One PNG per KPI: mean and CI against the first factor, a line per other combination."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.report import png_bytes
    from analysis.store import atomic_write

    x_key, others = keys[0], keys[1:]
    levels = list(dict.fromkeys(tidy[x_key].map(_literal)))
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool)
                  for v in tidy[x_key])
    paths = []
    for kpi, part in tidy.groupby("kpi", sort=False):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        groups = part.groupby(others, sort=False) if others else [((), part)]
        for label, g in groups:
            x = g[x_key] if numeric else g[x_key].map(_literal).map(levels.index)
            err = g["half_width"].where(g["half_width"].notna(), 0.0)
            label = label if isinstance(label, tuple) else (label,)
            name = ", ".join(f"{k}={_literal(v)}" for k, v in zip(others, label, strict=True))
            ax.errorbar(x, g["mean"], yerr=err, marker="o", capsize=3, label=name or None)
        if not numeric:
            ax.set_xticks(range(len(levels)), levels)
        ax.set_xlabel(x_key)
        ax.set_ylabel(kpi)
        ax.set_title(f"{kpi} (mean and 95% CI)")
        if others:
            ax.legend(fontsize=8)
        fig.tight_layout()
        data = png_bytes(fig)
        paths.append(atomic_write(folder / f"{slug(str(kpi))}.png",
                                  lambda p, d=data: p.write_bytes(d)))
    return paths


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed or non-scalar values become text (Parquet needs one type)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and not all(isinstance(v, str) for v in out[c]):
            out[c] = out[c].map(_literal)
    return out


def _literal(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v) if isinstance(v, list | tuple | dict) else f"{v}"


def _split_values(raw: str) -> list[str]:
    """Split on commas that are not inside brackets or quotes."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in raw:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _parse_factor(text: str) -> tuple[str, list[Any]]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip() or not raw.strip():
        raise CLIError(f"--set {text!r}: expected KEY=V1,V2,..., e.g. staffing.agents=90,95,100")
    values = [_parse_set(f"{key}={v}")[1] for v in _split_values(raw)]
    if any(v == "" for v in values):
        raise CLIError(f"--set {text!r}: empty value in the list")
    return key.strip(), values


def _sl_target(text: str) -> tuple[float, float]:
    try:
        return parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _until(text: str) -> tuple[str, float]:
    kpi, sep, raw = text.partition("=")
    try:
        hw = float(raw)
    except ValueError:
        hw = math.nan
    if not sep or not kpi or not (hw > 0 and math.isfinite(hw)):
        raise argparse.ArgumentTypeError(f"expected KPI=HALFWIDTH with HALFWIDTH > 0, "
                                         f"got {text!r}")
    return kpi.strip(), hw


def _kpi_table(est: dict[str, Estimate], with_ci: bool) -> str:
    lines = [f"{'KPI':<16} {'mean':>11}" + (f"   {'95% CI':<24}" if with_ci else "   ")
             + "meaning"]
    for k, e in est.items():
        ci = f"[{fmt(k, e.ci_low)}, {fmt(k, e.ci_high)}]" if with_ci else ""
        desc = KPIS[k].description if k in KPIS else ""
        lines.append(f"{k:<16} {fmt(k, e.mean):>11}   " + (f"{ci:<24}" if with_ci else "")
                     + desc + e.dropped_note())
    return "\n".join(lines)


def _parse_set(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise CLIError(f"--set {text!r}: expected KEY=VALUE, e.g. staffing.agents=95")
    try:  # TOML literal syntax: 95, 0.5, "text", true, [1, 2]
        import tomllib
        value = tomllib.loads(f"v = {raw}")["v"]
    except Exception:
        value = raw
    return key.strip(), value


def _arg_type(conv, check, what):
    def parse(text: str):
        try:
            v = conv(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not check(v):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v
    parse.__name__ = what
    return parse


_positive_int = _arg_type(int, lambda v: v > 0, "a whole number > 0")
#: documented ranges of options that size the work (the size guard checks the rest)
MAX_SEED = 2**32 - 1
MAX_REPS = 10_000
MAX_WORKERS = 1024
MAX_AGENTS = 100_000
MAX_CALLS = 100_000_000
_seed = _arg_type(int, lambda v: 0 <= v <= MAX_SEED, f"a whole number from 0 to {MAX_SEED}")
_reps = _arg_type(int, lambda v: 1 <= v <= MAX_REPS, f"a whole number from 1 to {MAX_REPS}")
_workers = _arg_type(int, lambda v: 1 <= v <= MAX_WORKERS,
                     f"a whole number from 1 to {MAX_WORKERS}")
_agents = _arg_type(int, lambda v: 1 <= v <= MAX_AGENTS,
                    f"a whole number from 1 to {MAX_AGENTS}")
_calls = _arg_type(int, lambda v: 1 <= v <= MAX_CALLS, f"a whole number from 1 to {MAX_CALLS}")
_nonneg_int = _arg_type(int, lambda v: v >= 0, "a whole number >= 0")
_positive_float = _arg_type(float, lambda v: v > 0 and math.isfinite(v), "a number > 0")
_nonneg_float = _arg_type(float, lambda v: v >= 0 and math.isfinite(v), "a number >= 0")
_half_open_share = _arg_type(float, lambda v: 0.5 <= v < 1, "a confidence in [0.5, 1)")
_share = _arg_type(float, lambda v: 0 < v < 1, "a share between 0 and 1 (exclusive)")


def _rate(text: str) -> float:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
