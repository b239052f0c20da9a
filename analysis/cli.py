"""The ``ccsim`` command line: run scenarios, compute Erlang values, validate the model.

This module is the parser and one thin function per command; the work is done where it
belongs (:mod:`analysis.experiment`, :mod:`analysis.validation`, :mod:`analysis.selection`,
:mod:`analysis.sweep`, :mod:`analysis.staffing`, :mod:`analysis.report`). It imports only
the standard library and :mod:`analysis.args` at the top: the model (numpy, pandas, SimPy,
pydantic, SciPy) is imported inside the command that needs it, so that ``ccsim --help``
and a mistyped option answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import textwrap
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from analysis import args as argtypes
from analysis.args import CLIError

EPILOG = """examples:
  ccsim run scenarios/base.toml --reps 5
  ccsim erlang --rate 360/h --aht 240 --agents 27 --target 20
  ccsim validate --rate 360/h --aht 240 --agents 27 --patience 120 --target 20 --reps 10
  ccsim compare scenarios/base.toml scenarios/more-agents.toml --reps 10
  ccsim negotiate --days 5 --reps 3   # the case's proposals: a page and a PDF
  ccsim sweep scenarios/base.toml --set staffing.agents=90,95,100 --reps 5
  ccsim staff scenarios/base.toml --target 0.8@20
  ccsim plan scenarios/base.toml --target 0.8@20
  ccsim sensitivity scenarios/policy/individual-strict.toml \
      scenarios/policy/team-level.toml --set stress.enabled=true --days 5
  ccsim import-acd report.csv --out scenarios/mine.toml
  ccsim verify results/compare/base-vs-more-agents
  ccsim docs > docs/reference.md
"""


class Terminated(BaseException):
    """SIGTERM arrived: stop like Ctrl-C (finished replications are already stored)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated


def _signal_inside(exc: BaseException) -> BaseException | None:
    """The Ctrl-C or SIGTERM an error was raised from, if any (None: a real error).

    pydantic wraps what a serializer raises, KeyboardInterrupt too, in its own
    ``PydanticSerializationError`` (a ValueError): a signal landing while a scenario is
    written as TOML would otherwise end as "error" with status 2, not 130.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt | Terminated):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _stopped(prefix: str, exc: BaseException) -> int:
    """Say the command was stopped by a signal, what is kept, and its exit status."""
    what = "SIGTERM" if isinstance(exc, Terminated) else "interrupted (SIGINT)"
    print(f"\n{prefix}: {what}: stopped; {_kept()}", file=sys.stderr)
    return 143 if isinstance(exc, Terminated) else 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ccsim`` command line (see :mod:`analysis.entry`).

    A user error (bad scenario, option or folder) is one line on stderr and exit status 2;
    Ctrl-C / SIGTERM keep every finished replication and exit 130 / 143; a closed stdout
    (``| head``) ends quietly; a full disk or unwritable folder is one line, not a traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    prefix = f"ccsim {args.command}"
    quiet = getattr(args, "quiet", False) or getattr(args, "json", False)
    try:
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. called from a worker thread)
        old_term = None
    try:
        with warnings.catch_warnings():
            collecting: contextlib.AbstractContextManager = contextlib.nullcontext()
            if hasattr(args, "executor"):  # a command that runs replications
                from analysis.experiment import few_collections, guard
                from analysis.store import StoreWarning

                # the whole command collects garbage less often, not only its replications:
                # its tables, stores and report allocate too (about 0.4 CPU-s of collections
                # in a 60-day run of the case, half of them; sim.engine.runtime)
                collecting = few_collections()
                guard.force = args.force
                guard.notify = None if quiet else (lambda m: print(f"{prefix}: {m}",
                                                                   file=sys.stderr))
                warnings.simplefilter("always", StoreWarning)
            warnings.showwarning = _show_warning
            if getattr(args, "agent_timeline", None) is not None and not args.individual:
                # a second door to agent-level output takes the same key, refused before
                # anything (an output folder too) is made
                raise CLIError(AGENT_TIMELINE_NEEDS_INDIVIDUAL)
            out = getattr(args, "out", None)
            inputs = getattr(args, "scenarios", None) or (
                [args.scenario] if isinstance(getattr(args, "scenario", None), Path) else [])
            if inputs and hasattr(args, "out"):  # an output folder never is or holds an input
                from analysis.store import declare_inputs

                declare_inputs(inputs)
            if out is not None and not getattr(args, "no_write", False):
                from analysis.store import claim_output

                claim_output(out, args.command)  # before any work: a bad folder fails fast
            with collecting:
                status = args.func(args)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return status
    except (CLIError, ValueError) as exc:  # ValueError includes sim's ScenarioError
        stop = _signal_inside(exc)
        if stop is not None:  # Ctrl-C / SIGTERM that a library wrapped in its own error
            return _stopped(prefix, stop)
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as exc:
        return _stopped(prefix, exc)
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
        # only modules already imported: nothing of them is needed if they are not
        if (store := sys.modules.get("analysis.store")) is not None:
            store.release_outputs()
        if (experiment := sys.modules.get("analysis.experiment")) is not None:
            experiment.guard.force, experiment.guard.notify = False, None
            experiment.guard.report = None
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


#: the terminal width every printed table and sentence fits (an 80-100 column terminal)
WIDTH = 100


def fit(text: str, width: int | None = None) -> str:
    """``text`` with every line longer than ``width`` wrapped at spaces, indent kept.

    For the sentences the commands print (a recommendation, a verdict): tables are laid
    out to fit by their own functions, so only prose reaches the wrapping here. The width
    is :data:`WIDTH` unless the environment's ``CCSIM_WIDTH`` says otherwise (a wider
    terminal, or a script that reads whole lines).
    """
    if width is None:
        width = int(os.environ.get("CCSIM_WIDTH", WIDTH))
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        out.append(textwrap.fill(line.strip(), width, initial_indent=indent,
                                 subsequent_indent=indent + "  ", break_long_words=False,
                                 break_on_hyphens=False))
    return "\n".join(out)


def _kept() -> str:
    """What an interrupted or failed command leaves behind, and how to go on."""
    store = sys.modules.get("analysis.store")  # not imported: no folder was claimed
    held = store.held_outputs() if store is not None else []
    stored = [(f, len(list(f.glob("replications/*/rep-*/manifest.json")))) for f in held]
    stored = [(f, n) for f, n in stored if n]
    if not stored:
        return "nothing was stored"
    return "; ".join(f"{n} finished replication(s) are kept in {f}/" for f, n in stored) + \
        "; run the same command again to resume"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(fit(f"warning: {message}"), file=sys.stderr)


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
    r.add_argument("scenario", type=argtypes.path, help="scenario TOML file")
    r.add_argument("--days", type=argtypes.positive_int, help="override horizon.days")
    r.add_argument("--seed", type=argtypes.seed, default=1,
                   help=f"base seed, 0 to {argtypes.MAX_SEED} (default 1)")
    r.add_argument("--reps", type=argtypes.reps, default=1, help="replications (default 1)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. --set staffing.agents=95 (repeatable)")
    r.add_argument("--out", type=argtypes.path,
                   help="output folder (default results/<scenario>/<time>/;"
                   " re-running with the same folder resumes)")
    r.add_argument("--individual", action="store_true",
                   help="also write agent-level tables (statuses, agent_days, agents, "
                   "activities, schedule, breaks); off by default so that output stays "
                   "aggregate")
    r.add_argument("--agent-timeline", type=argtypes.nonneg_int, nargs="?", const=0, metavar="DAY",
                   help="also draw agents' statuses over day DAY (default 0) of replication 0 "
                   "beside their schedule, as timeline-dayDAY.png (one row per pseudonymous "
                   "agent: only with --individual)")
    r.add_argument("--from", dest="start_from", type=argtypes.path, metavar="OLD.toml",
                   help="start from the state OLD.toml's regime leaves: warm up "
                   "horizon.warmup_days under it, then measure SCENARIO (the same centre); "
                   "the report shows the transition week by week")
    r.add_argument("--no-write", action="store_true", help="print only, write nothing")
    r.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    r.add_argument("--explain", action="store_true",
                   help="print what each KPI means under its row (the table stays 100 columns)")
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
        e.add_argument("--rate", required=True, type=argtypes.rate,
                       help='arrival rate, e.g. "360/h", "6/min", "0.1/s" (bare number: per hour)')
        e.add_argument("--aht", required=True, type=argtypes.positive_float,
                       help="mean handle time in seconds (exponential in validate)")
        e.add_argument("--agents", required=True, type=argtypes.agents, help="agents")
        e.add_argument("--target", required=True, type=argtypes.nonneg_float,
                       help="service-level threshold T in seconds (answered within T)")
        e.add_argument("--patience", type=argtypes.positive_float, default=math.inf,
                       help="mean patience in seconds (exponential): Erlang A; omit for Erlang C")
        e.add_argument("--json", action="store_true", help="print one JSON object")
        e.add_argument("--quiet", action="store_true", help="no progress bar")
        e.set_defaults(func=fn)
        if name == "erlang":
            e.add_argument("--goal", type=argtypes.share,
                           help="also print the fewest agents whose service level >= GOAL")
        else:
            e.add_argument("--reps", type=argtypes.reps, default=30,
                           help="replications (default 30; the joint verdict, Hotelling's "
                           "T-squared, needs more replications than KPIs and its power "
                           "grows with n - KPIs)")
            e.add_argument("--calls", type=argtypes.calls, default=20_000,
                           help="measured calls per replication after the warm-up (default "
                           "20000; a warning says when a run is too short to be stationary)")
            e.add_argument("--seed", type=argtypes.seed, default=1,
                   help=f"base seed, 0 to {argtypes.MAX_SEED} (default 1)")
            _executor_options(e)

    c = sub.add_parser(
        "compare", help="compare scenarios with paired differences and write report.html",
        description="Simulate every SCENARIO for the same replications (common random "
        "numbers), print each KPI's mean and 95% CI per scenario and the paired difference "
        "against the first scenario, and write report.html with figures. Re-running the same "
        "command resumes: finished replications are not run again.")
    c.add_argument("scenarios", type=argtypes.path, nargs="+", metavar="SCENARIO",
                   help="scenario TOML files; the first is the baseline")
    _experiment_options(c, "compare")
    c.add_argument("--until", type=argtypes.until, metavar="KPI=HALFWIDTH",
                   help="sequential stopping: add replications (from --reps) until the paired "
                   "difference of KPI (or its mean, for one scenario) has a 95%% CI half-width "
                   "<= HALFWIDTH, e.g. --until service_level=0.005")
    c.add_argument("--max-reps", type=argtypes.reps, default=100,
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
    c.add_argument("--from", dest="start_from", type=argtypes.path, metavar="OLD.toml",
                   help="every scenario starts from the state OLD.toml's regime leaves "
                   "(horizon.warmup_days under it; replication k of every scenario starts "
                   "from the same state, its own)")
    _primary_option(c)
    c.set_defaults(func=cmd_compare)

    wu = sub.add_parser(
        "warmup", help="choose the warm-up length: MSER-5 and Welch's moving average",
        description="Simulate SCENARIO from zero (no warm-up) for --days working days and "
        "--reps replications; apply MSER-5 (White 1997) and Welch's moving average (Welch "
        "1983) to the daily mean of measured stress and the service level; print the "
        "truncation points and a recommended horizon.warmup_days; write warmup.png, "
        "warmup.csv and warmup.json.")
    wu.add_argument("scenario", type=argtypes.path, help="scenario TOML file")
    _experiment_options(wu, "warmup", reps=3)
    for action in wu._actions:  # --days is the length of the cold run here
        if action.dest == "days":
            action.help, action.default = "working days simulated from zero (default 60)", 60
    wu.set_defaults(func=cmd_warmup)

    ng = sub.add_parser(
        "negotiate", help="proposals against a base regime: one page and a PDF in plain words",
        description="Simulate the base and every PROPOSAL on the same calls (as compare "
        "does), then write negotiate.html and negotiate.pdf: one sentence per proposal with "
        "how likely its effect on stress and service level is (the IPCC's calibrated words), "
        "the numbers, the cost in paid hours and payroll a year, and the trade-off with the "
        "proposals no other beats. Without PROPOSAL: the case's 2016 agreement, the "
        "authority's order, the union's and the employer's proposals (scenarios/case/), "
        "against the 2018 regime. Scenarios on different horizons, service-level "
        "definitions or stress settings are refused. Re-running the same command resumes. "
        "See docs/negotiating.md.")
    ng.add_argument("scenarios", type=argtypes.path, nargs="*", metavar="PROPOSAL",
                    help="proposal scenario files (default: the case's four proposals)")
    ng.add_argument("--base", type=argtypes.path,
                    help="the regime the proposals are measured against (default "
                    "scenarios/case/telenor-2018-tmr.toml, the 2018 regime in force when "
                    "they were tabled)")
    ng.add_argument("--no-pdf", action="store_true",
                    help="write the page only (no headless browser is started)")
    ng.add_argument("--until", type=argtypes.until, action="append", default=[],
                    metavar="KPI=HALFWIDTH",
                    help="add runs (from --reps) until every proposal's change in KPI has a "
                    "95%% range of at most HALFWIDTH either side (repeatable), e.g. --until "
                    "service_level=0.01 --until stress_mean=0.1")
    ng.add_argument("--max-reps", type=argtypes.reps, default=30,
                    help="upper limit on runs with --until (default 30)")
    ng.add_argument("--lang", choices=("en", "nb"), default="en",
                    help="the language of the page, the PDF, the sentences and the refusals: "
                    "en (English, the default) or nb (Norwegian Bokmål); the analyst's "
                    "report.html stays in English")
    _experiment_options(ng, "negotiate")
    ng.set_defaults(func=cmd_negotiate)

    w = sub.add_parser(
        "sweep", help="full factorial over scenario fields",
        description="Simulate every combination of the --set values (full factorial), each "
        "validated like a scenario file; write a tidy table (one row per combination and KPI: "
        "mean and 95% CI) as sweep.csv and sweep.parquet and one PNG plot per KPI.")
    w.add_argument("scenario", type=argtypes.path, help="base scenario TOML file")
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
    st.add_argument("scenario", type=argtypes.path, help="scenario TOML file")
    st.add_argument("--target", required=True, type=argtypes.sl_target, metavar="SHARE@SECONDS",
                    help="service-level goal, e.g. 0.8@20 (80%% answered within 20 s)")
    st.add_argument("--max-agents", type=argtypes.agents, default=5000,
                    help="give up above this head count (default 5000)")
    st.add_argument("--confidence", type=argtypes.half_open_share, metavar="C",
                    help="require the goal with confidence C (e.g. 0.9): the one-sided lower "
                    "confidence bound of the mean service level must reach it, not the mean "
                    "alone (default: the mean)")
    st.add_argument("--interval-share", metavar="SHARE", type=argtypes.arg_type(
                        float, lambda v: 0 < v <= 1, "a share in (0, 1]"),
                    help="also a COPC-style interval goal: at least SHARE (e.g. 0.9) of the "
                    "reporting intervals at the target (intervals_below_target <= 1 - SHARE), "
                    "not only the day's mean; the answer meets both")
    st.add_argument("--no-confirm", action="store_true",
                    help="do not re-simulate the answer on fresh replications (by default "
                    "it is, because the search chose it on the replications it reports)")
    _experiment_options(st, "staff")
    st.set_defaults(func=cmd_staff)

    pl = sub.add_parser(
        "plan", help="shifts, days off and breaks for a service-level target, verified by "
        "simulation", description="Plans one week: Erlang agents per interval, then an "
        "integer programme (HiGHS) choosing shifts, day patterns and break starts at the "
        "fewest paid hours within [labour] and the schedule's windows; the plan is simulated, "
        "intervals that miss the target with confidence get an agent more, and it is solved "
        "again until the interval goal is met. A scenario with [call_types] and "
        "[agent_groups] is planned per group, and each call type's intervals are judged "
        "against its own target (docs/skills.md, Planning by skill). Writes scenario.toml "
        "(ccsim run takes it), roster.csv, staffing.png, report.md and plan.json.")
    pl.add_argument("scenario", type=argtypes.path, help="scenario TOML file")
    pl.add_argument("--target", required=True, type=argtypes.sl_target, metavar="SHARE@SECONDS",
                    help="service-level goal per interval, e.g. 0.8@20")
    pl.add_argument("--interval-share", type=argtypes.share, default=0.9, metavar="SHARE",
                    help="share of intervals that must meet the target (default 0.9)")
    pl.add_argument("--confidence", type=argtypes.half_open_share, default=0.95, metavar="C",
                    help="confidence of the interval goal and of a missed interval "
                    "(default 0.95)")
    pl.add_argument("--rounds", type=argtypes.positive_int, default=16,
                    help="most solve-and-simulate rounds (default 16: the base centre's week "
                    "was verified in 5 to 13 over five seeds)")
    pl.add_argument("--gap", type=argtypes.share, default=0.005, metavar="G",
                    help="each solve stops within this relative gap of the optimum (default "
                    "0.005: 0.5%%)")
    # the defaults are sim.planning.shifts.NODE_LIMIT and TIME_LIMIT, written out so the CLI
    # starts without scipy (tests/test_plan_tours.py checks they agree)
    pl.add_argument("--node-limit", type=argtypes.positive_int, default=20_000, metavar="N",
                    help="branch-and-bound nodes HiGHS may take per solve before it stops short "
                    "of --gap: the same roster on any machine (default 20,000; "
                    "docs/schedules.md, Stopping rules)")
    pl.add_argument("--time-limit", type=argtypes.positive_float, default=1800.0, metavar="S",
                    help="seconds (wall clock) HiGHS may take per solve, only a safety net: a "
                    "solve stopped by it depends on the machine's speed and the plan says so "
                    "(default 1800)")
    pl.add_argument("--no-two-step", action="store_true",
                    help="skip the two-step plan (Erlang, then set covering) it is compared with")
    pl.add_argument("--trim", type=argtypes.nonneg_int, default=0, metavar="N",
                    help="once the optimised plan meets the goal, up to N more rounds lowering "
                    "by one agent the intervals the simulation shows have room to spare, each "
                    "kept only if the goal still holds with fewer paid hours (default 0)")
    pl.add_argument("--no-costs", action="store_true",
                    help="skip the price of each rule (one solve per rule)")
    pl.add_argument("--no-fresh-check", action="store_true",
                    help="a roster whose rounds ran out is not simulated on --reps fresh "
                    "replications (a roster that meets the goal is always confirmed on fresh "
                    "replications before the rounds stop: docs/schedules.md)")
    pl.add_argument("--start", choices=("busy", "mean"), default=None,
                    help="the first requirement: Erlang per interval at the rates of a day "
                    "busier than --interval-share of days (busy, from "
                    "demand.busyness_cv: fewer rounds) or of the mean day (mean); both plans "
                    "alike; default busy for one queue, mean by skill, where the busy "
                    "start cost more paid hours: docs/skills.md")
    pl.add_argument("--breaks", choices=("coverage", "recovery"), default="coverage",
                    help="recovery: then move the roster's breaks to the least strain by the "
                    "stress model's recovery law (same head counts, coverage kept) and "
                    "simulate both placements side by side with the stress model on "
                    "(default coverage)")
    _experiment_options(pl, "plan", reps=10)
    pl.set_defaults(func=cmd_plan)

    se = sub.add_parser(
        "sensitivity", help="does a comparison's answer survive the assumed parameters? "
        "(Morris or Sobol over their plausible ranges)",
        description="Vary every scenario parameter that has a documented plausible range "
        "(ccsim docs shows them) and can move the difference of the pair (the others are "
        "named with the reason) by global designs; at each design point simulate A and B with "
        "the same parameter values and the same replications (common random numbers) and take "
        "the mean paired difference B - A of each KPI. Default (two-stage): Morris screening "
        "over all of them, Sobol indices on the --top few by mu*, then one-at-a-time sweeps "
        "that find the value at which an assumption flips the sign of each headline "
        "difference, said in words. --method morris or sobol: one design only. Cost: design "
        "points x 2 scenarios x --reps replications. Re-running the same command resumes: "
        "finished replications are not run again.")
    se.add_argument("scenarios", type=argtypes.path, nargs=2, metavar="SCENARIO",
                    help="scenario TOML files A and B (the difference is B - A)")
    se.add_argument("--section", default="all",
                    help="the section whose parameters are varied (default all: every "
                    "section's)")
    se.add_argument("--method", choices=("two-stage", "morris", "sobol"), default="two-stage",
                    help="two-stage (default: Morris, Sobol on the top few, flip sweeps), "
                    "morris (screening only) or sobol (variance shares only; costlier)")
    se.add_argument("--trajectories", type=argtypes.positive_int,
                    help="Morris trajectories (k + 1 points each; default 4 in two-stage, 10 "
                    "alone), or Sobol base samples with --method sobol (a power of 2; k + 2 "
                    "points each; default 32)")
    se.add_argument("--top", type=argtypes.positive_int, default=5,
                    help="two-stage: parameters Sobol analyses (the top by mu*) and, per KPI, "
                    "at most this many swept for a flip (default 5)")
    se.add_argument("--samples", type=int, default=8,
                    help="two-stage: Sobol base samples (a power of 2; 0 skips Sobol; "
                    "default 8)")
    se.add_argument("--levels", type=argtypes.positive_int, default=5,
                    help="two-stage: values per one-at-a-time sweep, both ends of the range "
                    "included (default 5)")
    se.add_argument("--param", dest="params", action="append", default=[], metavar="NAME",
                    help="vary only this parameter (repeatable; default: every parameter "
                    "of the section with a plausible range)")
    se.add_argument("--kpi", dest="kpis", action="append", default=[], metavar="KPI",
                    help="a KPI whose difference is analysed (repeatable; default: the "
                    "headline KPIs the pair measures, service_level, stress_mean, "
                    "absence_rate, attrition_rate; stress_mean and service_level with "
                    "--method morris or sobol)")
    _experiment_options(se, "sensitivity", reps=3)
    se.set_defaults(func=cmd_sensitivity)

    # ---- import-acd (issue 11: your own centre from its ACD interval report)
    ia = sub.add_parser(
        "import-acd", help="build a scenario from an ACD interval report (CSV)",
        description="Read an ACD interval report of 4 weeks or more (CSV columns date, "
        "interval, offered, answered, abandoned, aht; optional asa, agents, short_abandoned, "
        "answered_in_sl), check every cell, and write a scenario extending BASE with the "
        "report's opening hours, weekly pattern, holidays, busyness, handle time, a roster "
        "putting its agents on queue, and the patience and balking that reproduce its "
        "abandons; then replay the report's weeks and write recorded against simulated per "
        "interval (tables, figure, summary). See docs/own-centre.md.")
    ia.add_argument("report", type=argtypes.path,
                    help="the ACD interval report (CSV with a header)")
    ia.add_argument("--out", dest="scenario_out", type=argtypes.path, required=True,
                    metavar="FILE.toml", help="scenario file to write")
    ia.add_argument("--base", type=argtypes.path, default=Path("scenarios/base.toml"),
                    help="scenario the new one extends (default scenarios/base.toml)")
    ia.add_argument("--force", action="store_true", help="overwrite FILE.toml if it exists")
    ia.add_argument("--reps", type=argtypes.nonneg_int, default=10, metavar="N",
                    help="replications of the replay of the report's weeks (default 10; 0: "
                    "no replay)")
    ia.add_argument("--seed", type=argtypes.seed, default=0,
                    help="seed of the fit and the replay (default 0)")
    ia.add_argument("--replay-dir", type=argtypes.path, default=None, metavar="DIR",
                    help="folder for the replay's tables, figure and summary (default: "
                    "FILE-replay beside FILE.toml)")
    ia.add_argument("--json", action="store_true", help="print one JSON object")
    ia.set_defaults(func=cmd_import_acd)

    v = sub.add_parser(
        "verify", help="check a result folder: re-derive its KPIs, re-simulate a sample",
        description="Check a result folder (one ccsim wrote, or one you received): every "
        "stored replication's checksums and the KPIs its own tables determine (re-derived "
        "with the model's KPI functions), the folder's kpis.csv and kpis.parquet against "
        "them, and a random sample of replications simulated again from their scenario, "
        "seed and replication and compared byte for byte, and report.html and "
        "negotiate.html written again from them and compared line by line, and "
        "negotiate.pdf's text compared with that page's (its picture is not checked). Exit "
        "status 0: verified; 1: something differs (one line per failing "
        "replication or page says what); 3: made by other model code, or a page that could "
        "not be checked. Writes nothing.")
    v.add_argument("folder", type=argtypes.path, metavar="DIR", help="the result folder")
    v.add_argument("--sample", type=argtypes.nonneg_int, default=2, metavar="N",
                   help="replications simulated again (default 2; 0: re-derive only)")
    v.add_argument("--seed", type=argtypes.seed, default=0,
                   help="seed of the sample's draw (default 0: the same sample each time)")
    v.add_argument("--force", action="store_true",
                   help="re-simulate even if the size estimate is over the limits")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.set_defaults(func=cmd_verify)

    d = sub.add_parser("docs", help="print the scenario-field and KPI reference (Markdown)",
                       description="Print the reference of every scenario field (default, "
                       "source, description) and every KPI, as Markdown; with --section, "
                       "only that section's fields, with unit and plausible range.")
    d.add_argument("--section", metavar="NAME",
                   help="only this scenario section (e.g. stress, measurement, policy "
                   "sections), nested sections dotted")
    d.add_argument("--json", action="store_true",
                   help="with --section: a JSON list of objects (name, path, default, "
                   "required, unit, description, source, plausible)")
    d.set_defaults(func=cmd_docs)
    return p


# --------------------------------------------------------------------------- commands


#: aggregate tables, always written (team-days blanked under the privacy floor and for
#: complementary suppression: Privacy in docs/policy.md)
RUN_TABLES = ("calls", "intervals", "daily", "team_days")
#: ``--agent-timeline`` without ``--individual``: refused (docs/policy.md, Privacy)
AGENT_TIMELINE_NEEDS_INDIVIDUAL = (
    "--agent-timeline draws each agent's statuses and schedule, one row per (pseudonymous) "
    "agent, so it is individual output: it is allowed only with --individual, which also "
    "writes the agent-level tables; without --individual everything written is aggregate "
    "(groups of at least 5 agents): the intervals table gives the mean agents in each "
    "status and schedule state per interval for the whole centre, and report.html its "
    "net staffing")
#: tables about individual agents: written only with --individual
INDIVIDUAL_TABLES = ("statuses", "agent_days", "agents", "activities", "schedule", "breaks",
                     "imposed", "absences", "exceptions", "actions", "evaluations",
                     "alerts", "league")


def cmd_run(args: argparse.Namespace) -> int:
    """``ccsim run``."""
    from analysis.experiment import fresh_out, guard, run_experiment, write_experiment
    from analysis.stats import kpi_table, summarise
    from analysis.store import ReplicationStore, json_safe
    from analysis.warmup import start_text
    from sim.engine.schedule import CoverageWarning, check_coverage
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario, _overrides(args))
    start_from = _start_from(args, [scenario])
    # refused before the coverage check below builds a plan: the static model, no pilot
    guard.refuse([scenario])
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
        print(fit(f"warning: {w.message}"), file=sys.stderr)
    out = None
    if not args.no_write:
        out = args.out or fresh_out(scenario.name)
    tables = () if out is None else RUN_TABLES + (INDIVIDUAL_TABLES if args.individual else ())
    if out is not None and scenario.stress.enabled:  # the report's week by week view
        tables += ("people_days",)
    if scenario.call_types:  # several queues: per type, per group, across agents
        from sim.measure.skills import SKILL_TABLES

        tables += SKILL_TABLES
    # the report's strain over the day is recorded in these same replications
    observe = ("strain_profile",) if out is not None and scenario.stress.enabled else ()
    if args.agent_timeline is not None:  # and the timeline's day, in the same simulations
        from sim.people.observe import AgentTimeline

        observe += (AgentTimeline(day=args.agent_timeline),)
    guard.report = "run" if out is not None else None  # its time is in the estimate
    with _experiment_context(args, args.reps, args.quiet or args.json) as (executor, bar):
        exp = run_experiment([scenario], args.seed, args.reps, executor=executor,
                             store=ReplicationStore(out / "replications") if out else None,
                             tables=tables, individual=args.individual, progress=bar.update,
                             observe=observe, start_from=start_from)
    est = summarise(exp.kpi_rows(0))
    if out is not None:
        write_experiment(out, exp, _command_line(args), "run")
        _run_report(exp, out, args)
        if args.agent_timeline is not None:  # recorded in replication 0 as it ran
            from analysis.timeline import plot_timeline, recorded  # matplotlib: load late

            day = args.agent_timeline
            plot_timeline(recorded(exp, scenario, args.seed, day, start_from),
                          out / f"timeline-day{day}.png", day=day,
                          title=f"{scenario.name}: agents' statuses, day {day}")
    if args.json:
        print(json.dumps(json_safe({
            "scenario": scenario.name, "replications": args.reps, **exp.warmup(0),
            "kpis": {k: e.as_dict() for k, e in est.items()},
        })))
        return 0
    print(fit(f"\n{scenario.name}: {scenario.description}"))
    print(f"{args.reps} replication(s), seed {args.seed}, {scenario.horizon.days} day(s)")
    print(fit(start_text(exp, 0)) + "\n")
    print(kpi_table(est, args.reps > 1, explain=args.explain, width=WIDTH))
    if scenario.call_types:
        from analysis.skills_report import skills_text

        print(skills_text(exp.table("call_types"), exp.table("agent_groups"),
                          exp.table("agent_spread"), exp.table("written")))
    if out:
        if exp.resumed:
            print(fit(f"\nresumed: {exp.resumed} replication(s) were already finished in {out}/"))
        print(fit(f"\nwritten to {out}/ (report.html, kpis.csv, manifest.json, replications/)"))
        if args.agent_timeline is not None:
            print(fit(f"agent timeline: {out / f'timeline-day{args.agent_timeline}.png'}"))
    return 0


def _run_report(exp, out: Path, args: argparse.Namespace) -> None:
    """``ccsim run``'s report.html (matplotlib, SciPy: imported only here)."""
    from analysis.run_report import write_run_report

    write_run_report(exp, out, {"command": _command_line(args)})


def cmd_erlang(args: argparse.Namespace) -> int:
    """``ccsim erlang``."""
    from analysis import validation

    values = validation.erlang_values(args.rate, args.aht, args.agents, args.target,
                                      args.patience, args.goal)
    if args.json:
        from analysis.store import json_safe

        print(json.dumps(json_safe(values)))
        return 0
    print(fit(validation.erlang_text(values, args.rate, args.aht, args.agents, args.target,
                                     args.patience)))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``ccsim validate``: simulate a stationary queue; one joint verdict against Erlang."""
    from analysis import validation

    with _experiment_context(args, args.reps, args.quiet or args.json) as (executor, bar):
        v = validation.validate(args.rate, args.aht, args.agents, args.target, args.patience,
                                calls=args.calls, reps=args.reps, seed=args.seed,
                                executor=executor, progress=bar.update)
    print(json.dumps(v.as_json()) if args.json else fit(v.text()))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``ccsim compare``."""
    from analysis.experiment import default_out, guard, unique_names, write_experiment
    from analysis.report import compare, compare_text, write_report  # matplotlib
    from analysis.selection import run_selected
    from analysis.stats import COMPARE_CONFIDENCE
    from analysis.store import ReplicationStore, write_json
    from analysis.warmup import start_text
    from sim.scenario import load_scenario

    overrides = _overrides(args)
    scenarios = unique_names([load_scenario(p, overrides) for p in args.scenarios])
    start_from = _start_from(args, scenarios)
    if start_from is not None and args.match:
        raise CLIError("--from cannot be used with --match: the matched head counts are "
                       "other centres, and a warmed state carries over only to the same one")
    out = args.out or default_out("compare", [s.name for s in scenarios])
    quiet = args.quiet or args.json
    primary = argtypes.parse_primary(args.primary)
    if args.until:
        argtypes.known_kpi("--until", args.until[0])
    if args.match:
        argtypes.known_kpi("--match", args.match)
    if args.until and args.max_reps < max(2, args.reps):
        raise CLIError(f"--max-reps {args.max_reps} is below --reps {args.reps}")
    total = None if (args.until or args.match) else len(scenarios) * args.reps
    skills = any(s.call_types for s in scenarios)  # several queues: per-type tables too
    if skills:
        from analysis.experiment import DEFAULT_TABLES
        from sim.measure.skills import SKILL_TABLES
    guard.report = "compare"  # its time is in the estimate
    with _experiment_context(args, total, quiet) as (executor, bar):
        run = run_selected(scenarios, args.seed, args.reps, until=args.until,
                           max_reps=args.max_reps, match=args.match,
                           confirm=not args.no_confirm, executor=executor,
                           store=ReplicationStore(out / "replications"), progress=bar.update,
                           start_from=start_from,
                           tables=DEFAULT_TABLES + SKILL_TABLES if skills else None)
    exp = run.experiment
    comp = compare(exp, COMPARE_CONFIDENCE, primary, run.selection)
    inputs = exp.inputs()  # simulated here, or resumed and re-derived from stored tables
    notes = [*run.notes, inputs["text"],
             "Start: " + "; ".join(start_text(exp, i) for i in range(len(exp.scenarios)))]
    write_experiment(out, exp, _command_line(args), "compare")
    start = {s.name: exp.warmup(i) for i, s in enumerate(exp.scenarios)}
    write_json({**comp.as_json(), "inputs": inputs, "start": start}, out / "comparison.json")
    report = write_report(exp, comp, out, {"command": _command_line(args)}, notes)
    if args.json:
        print(json.dumps({**comp.as_json(), "inputs": inputs, "start": start},
                         allow_nan=False))
        return 0
    print(fit(compare_text(exp, comp, notes)))
    if skills:  # side by side: each scenario's queues, groups and spread across agents
        from analysis.skills_report import scenario_skills_text

        for s in exp.scenarios:
            if s.call_types:
                print(f"\n== {s.name}" + scenario_skills_text(exp, s.name))
    _print_ran(exp, out)
    print(fit(f"report written to {report}"))
    return 0


def cmd_negotiate(args: argparse.Namespace) -> int:
    """``ccsim negotiate``: the work is :func:`analysis.negotiate.negotiate`."""
    from analysis import negotiate as ng
    from analysis.experiment import default_out, guard
    from analysis.i18n import language
    from analysis.store import declare_inputs

    paths = [ng.shown(p) for p in [args.base or ng.DEFAULT_BASE,
                                   *(args.scenarios or ng.DEFAULT_PROPOSALS)]]
    declare_inputs(paths)
    overrides = _overrides(args)
    with language(args.lang):  # refusals and warnings in the page's language
        loaded = ng.load(paths, overrides)  # incomparable scenarios fail before any folder
    for w in loaded[1].warnings:
        print(fit(f"ccsim negotiate: warning: {w}"), file=sys.stderr)
    for kpi, _ in args.until:
        argtypes.known_kpi("--until", kpi)
    if args.until and args.max_reps < max(2, args.reps):
        raise CLIError(f"--max-reps {args.max_reps} is below --reps {args.reps}")
    out = args.out or default_out("negotiate", [s.name for s in loaded[0]])
    quiet = args.quiet or args.json
    total = None if args.until else len(paths) * args.reps
    guard.report = "negotiate" if args.no_pdf else "negotiate-pdf"  # in the estimate
    with _experiment_context(args, total, quiet) as (executor, bar):
        ans, line = ng.negotiate(paths, out, seed=args.seed, reps=args.reps,
                                 overrides=overrides, executor=executor, progress=bar.update,
                                 command=_command_line(args), pdf=not args.no_pdf,
                                 loaded=loaded, until=args.until, max_reps=args.max_reps,
                                 lang=args.lang)
    if args.json:
        print(json.dumps({**ans.as_json(), "out": str(out)}, allow_nan=False))
        return 0
    print(ng.text(ans))
    print(f"\n{line}")
    return 0


def cmd_warmup(args: argparse.Namespace) -> int:
    """``ccsim warmup``: MSER-5 and Welch's moving average on a cold run's days."""
    from analysis import warmup
    from analysis.experiment import default_out
    from analysis.report import png_bytes
    from analysis.store import atomic_write, json_safe, write_csv, write_json
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario, argtypes.overrides(args.overrides, None))
    if args.days < 2 * warmup.BATCH:
        raise CLIError(f"--days {args.days}: MSER-5 needs at least {2 * warmup.BATCH} days")
    if not scenario.stress.enabled:
        print(f"note: {args.scenario}: stress.enabled is false; only the service level is "
              "checked (exhaustion, threat and absence are what a warm-up is for: "
              "--set stress.enabled=true)", file=sys.stderr)
    with _experiment_context(args, args.reps, args.quiet or args.json) as (executor, bar):
        found = warmup.check(scenario, args.seed, args.days, args.reps, executor=executor,
                             progress=bar.update)
    out = args.out or default_out("warmup", [scenario.name])
    write_csv(found.daily, out / "warmup.csv")
    write_json(json_safe(found.as_json()), out / "warmup.json")
    data = png_bytes(warmup.figure(found))
    atomic_write(out / "warmup.png", lambda p: p.write_bytes(data))
    if args.json:
        print(json.dumps(json_safe(found.as_json())))
        return 0
    print(fit(found.text()))
    print(fit(f"\nwritten to {out}/ (warmup.png, warmup.csv, warmup.json)"))
    return 0


def _start_from(args: argparse.Namespace, scenarios: list) -> object:
    """The ``--from`` scenario, checked against every scenario it starts (or None)."""
    if getattr(args, "start_from", None) is None:
        return None
    from sim.scenario import load_scenario
    from sim.start import compatible

    old = load_scenario(args.start_from)
    paths = [args.scenario] if hasattr(args, "scenario") else args.scenarios
    for path, s in zip(paths, scenarios, strict=True):
        if s.warmup_days <= 0:
            raise CLIError(f"--from {args.start_from}: {path} has horizon.warmup_days = "
                           f"{s.warmup_days}; the warm-up under the old regime needs "
                           "at least 1 day (e.g. --set horizon.warmup_days=20; `ccsim warmup "
                           f"{args.start_from}` recommends a length)")
        try:
            compatible(old, s, str(args.start_from), str(path))
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    return old


def cmd_staff(args: argparse.Namespace) -> int:
    """``ccsim staff``."""
    from analysis.experiment import default_out
    from analysis.staffing import erlang_need, staff
    from analysis.store import ReplicationStore, json_safe, write_csv, write_json
    from sim.scenario import load_scenario

    share, threshold = args.target
    overrides = {**_overrides(args), "service_level.threshold_s": threshold,
                 "service_level.target": share}
    scenario = load_scenario(args.scenario, overrides)
    if scenario.call_types:  # several queues: each group sized for every type's target
        from analysis.skill_staffing import staff_by_skill

        found = staff_by_skill(scenario, args.seed, args.reps)
        if args.json:
            print(json.dumps(json_safe({"groups": found.groups, "met": found.met,
                                        "steps": found.steps})))
        else:
            print(fit(found.text()))
        return 0 if found.met else 1
    erl, understaffed = erlang_need(scenario, share, threshold)
    out = args.out or default_out("staff", [scenario.name, f"{share:g}at{threshold:g}"])
    quiet = args.quiet or args.json
    store = ReplicationStore(out / "replications")
    with _experiment_context(args, None, quiet) as (executor, bar):
        answer = staff(scenario, share, threshold, args.seed, args.reps, erlang=erl,
                       understaffed=understaffed, executor=executor, store=store,
                       max_agents=args.max_agents, confidence=args.confidence,
                       confirm=not args.no_confirm, interval_share=args.interval_share,
                       progress=bar.update)
    result = answer.as_dict()
    write_csv(erl, out / "erlang.csv")
    write_json(result, out / "staff.json")
    if args.json:
        print(json.dumps(json_safe(result)))
        return 0
    print(fit(answer.text()))
    print(fit(f"written to {out}/ (staff.json, erlang.csv)"))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """``ccsim plan``."""
    from analysis.experiment import default_out
    from analysis.plan import plan, write
    from analysis.store import ReplicationStore, json_safe
    from sim.scenario import load_scenario

    share, threshold = args.target
    overrides = {**_overrides(args), "service_level.threshold_s": threshold,
                 "service_level.target": share}
    scenario = load_scenario(args.scenario, overrides)
    out = args.out or default_out("plan", [scenario.name, f"{share:g}at{threshold:g}"])
    quiet = args.quiet or args.json
    store = ReplicationStore(out / "replications")
    say = None if quiet else (lambda m: print(fit(m), file=sys.stderr))
    stop = threading.Event()
    with _experiment_context(args, None, quiet) as (executor, bar):
        answer = _beside(lambda: plan(
            scenario, share, threshold, interval_share=args.interval_share,
            confidence=args.confidence, seed=args.seed, reps=args.reps,
            max_rounds=args.rounds, executor=executor, store=store,
            two_step=not args.no_two_step, costs=not args.no_costs,
            time_limit=args.time_limit, gap=args.gap, progress=bar.update,
            node_limit=args.node_limit, say=say, breaks=args.breaks, trim=args.trim,
            fresh=not args.no_fresh_check, start=args.start, stop=stop), stop)
    names = write(answer, out)
    if args.json:
        print(json.dumps(json_safe(answer.as_dict())))
        return 0
    print(fit(answer.text()))
    print(fit(f"written to {out}/ ({', '.join(names)})"))
    return 0


def _beside(work: Callable[[], Any], stop: threading.Event) -> Any:
    """``work()`` in a thread of its own while this (the main) thread waits for it.

    Python runs a signal's handler in the main thread, and only between bytecodes: while
    that thread is inside one long HiGHS solve (46 s on a 150-agent week) a Ctrl-C would
    wait for the solve to end. Waiting here instead, in short joins, the Ctrl-C (or
    SIGTERM) is raised at once and the command ends with what the store kept; ``stop`` is
    set so that ``work`` starts no further round, and the thread (a daemon) is left to
    finish its solve (the console script then ends the process without waiting).
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["out"] = work()
        except BaseException as exc:  # handed to the main thread below
            box["exc"] = exc

    t = threading.Thread(target=run, name="ccsim-work", daemon=True)
    t.start()
    try:
        while t.is_alive():
            t.join(0.2)
    except BaseException:
        stop.set()
        raise
    if "exc" in box:
        raise box["exc"]
    return box["out"]


def cmd_sweep(args: argparse.Namespace) -> int:
    """``ccsim sweep``."""
    from analysis import sweep
    from analysis.experiment import default_out, run_experiment, write_experiment
    from analysis.store import ReplicationStore, json_safe, write_csv, write_parquet
    from sim.scenario import load_scenario

    base = load_scenario(args.scenario, _overrides(args))
    primary = argtypes.parse_primary(args.primary)
    factors = [argtypes.parse_factor(text) for text in args.factors]
    keys, combos, scenarios = sweep.sweep_scenarios(base, factors)
    out = args.out or default_out("sweep", [base.name, *(t.replace(",", "_")
                                                         for t in args.factors)])
    quiet = args.quiet or args.json
    with _experiment_context(args, len(scenarios) * args.reps, quiet) as (executor, bar):
        exp = run_experiment(scenarios, args.seed, args.reps, executor=executor,
                             store=ReplicationStore(out / "replications"),
                             tables=("daily",), progress=bar.update)
    tidy = sweep.sweep_table(exp, keys, combos, primary)
    write_experiment(out, exp, _command_line(args), "sweep")
    write_csv(tidy, out / "sweep.csv")
    write_parquet(sweep.parquet_safe(tidy), out / "sweep.parquet")
    plots = sweep.sweep_plots(tidy, keys, out / "plots")
    if args.json:
        print(json.dumps(json_safe({"base": base.name, "factors": keys,
                                    "rows": tidy.to_dict(orient="records")})))
        return 0
    print(sweep.sweep_text(tidy, base.name, keys, combos, args.reps, args.seed, primary))
    _print_ran(exp)
    print(fit(f"written to {out}/ (sweep.csv, sweep.parquet, {len(plots)} plots in plots/)"))
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``ccsim sensitivity``."""
    from analysis.experiment import default_out
    from analysis.sensitivity import (
        DEFAULT_KPIS,
        TWO_STAGE,
        run_sensitivity,
        run_two_stage,
        write_sensitivity,
        write_two_stage,
    )
    from analysis.store import ReplicationStore, json_safe
    from sim.scenario import load_scenario

    two = args.method == TWO_STAGE
    kpis = [argtypes.known_kpi("--kpi", k) for k in dict.fromkeys(args.kpis)] or \
        (None if two else list(DEFAULT_KPIS))
    if two and args.samples and (args.samples < 2 or args.samples & (args.samples - 1)):
        raise ValueError(f"--samples {args.samples}: Sobol needs a power of 2 (e.g. 4, 8, 16) "
                         "or 0 to skip it")
    overrides = _overrides(args)
    a, b = (load_scenario(p, overrides) for p in args.scenarios)
    if a.name == b.name:
        b = b.replace({"name": f"{b.name}-2"}, source="name")
    out = args.out or default_out("sensitivity", [a.name, b.name, args.section, args.method])
    quiet = args.quiet or args.json
    with _experiment_context(args, None, quiet) as (executor, bar):
        def on_design(n: int) -> None:
            if not bar.disable:
                bar.total = n
                bar.refresh()

        store = ReplicationStore(out / "replications")
        if two:
            res = run_two_stage(a, b, args.section, trajectories=args.trajectories or 4,
                                top=args.top, samples=args.samples, levels=args.levels,
                                reps=args.reps, seed=args.seed, kpis=kpis,
                                only=args.params or None, executor=executor, store=store,
                                progress=bar.update, on_design=on_design)
        else:
            res = run_sensitivity(a, b, args.section, method=args.method,
                                  trajectories=args.trajectories or
                                  (10 if args.method == "morris" else 32),
                                  reps=args.reps, seed=args.seed,
                                  kpis=kpis, only=args.params or None, executor=executor,
                                  store=store, progress=bar.update, on_design=on_design)
    files = (write_two_stage if two else write_sensitivity)(out, res, _command_line(args))
    if args.json:
        print(json.dumps(json_safe(res.as_json()), allow_nan=False))
        return 0
    print(fit(res.text()))
    if res.resumed:
        print(fit(f"\nresumed: {res.resumed} replication(s) were already finished in {out}/"))
    print(f"\n{res.ran + res.resumed} replications in {res.wall_s:.1f} s ({res.executor}, "
          f"{res.workers} worker(s))")
    print(fit(f"written to {out}/ ({', '.join(files)}, replications/)"))
    return 0


def cmd_import_acd(args: argparse.Namespace) -> int:
    """``ccsim import-acd``."""
    from analysis.acd import import_report, read_report, replay_folder, summary
    from analysis.acd_replay import replay, write_replay
    from analysis.store import claim_output, json_safe

    if args.reps == 1:
        raise CLIError("--reps 1: give 0 (no replay) or at least 2 (the band of one "
                       "realisation needs the spread of two replications or more)")
    folder = args.replay_dir or replay_folder(args.scenario_out)
    if args.reps and (folder.exists() or folder.is_symlink()):
        claim_output(folder, "import-acd", label="--replay-dir")  # refused before the work
    est, scenario = import_report(args.report, args.scenario_out, args.base, args.force,
                                  seed=args.seed)
    out: dict = {"scenario": str(args.scenario_out), "extends": str(args.base),
                 "summary": summary(est).splitlines(), "replay": None}
    if not args.json:
        print(fit(summary(est)))
        print(f"written {args.scenario_out} (extends {args.base})")
    if args.reps:
        claim_output(folder, "import-acd", label="--replay-dir")
        r = replay(scenario, read_report(args.report), reps=args.reps, seed=args.seed)
        write_replay(r, folder, args.scenario_out.stem)
        out["replay"] = {"folder": str(folder), "reps": args.reps,
                         "totals": r.totals.to_dict(orient="records"),
                         "summary": r.summary, "unexplained": r.unexplained}
        if not args.json:
            print(fit("replay of the report's weeks (" f"{args.reps} replications): "
                      + "; ".join(r.summary[:3])))
            for u in r.unexplained[:10]:
                print(fit(f"not explained: {u}"))
            if len(r.unexplained) > 10:
                print(f"... and {len(r.unexplained) - 10} more in {folder / 'replay.md'}")
            print(f"replay written to {folder} (replay.md, replay.png, replay-*.csv)")
    if args.json:
        print(json.dumps(json_safe(out), allow_nan=False))
    else:
        print(f"next: ccsim run {args.scenario_out} --reps 5, then plan its shifts "
              "(docs/own-centre.md)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``ccsim verify``: exit 0 verified, 1 something differs, 3 other model code."""
    from analysis.experiment import guard
    from analysis.verify import verify_folder

    guard.force = args.force  # reset by main
    result = verify_folder(args.folder, sample=args.sample, seed=args.seed)
    print(json.dumps(result.as_json(), allow_nan=False) if args.json
          else fit(result.text()))
    return result.status


def cmd_docs(args: argparse.Namespace) -> int:
    """``ccsim docs``."""
    from analysis import docs

    if args.json and not args.section:
        raise CLIError("--json needs --section NAME (e.g. --section stress); known sections: "
                       f"{', '.join(docs.sections())}")
    if args.section is None:
        print(docs.reference(), end="")
    elif args.json:
        print(json.dumps(docs.section_records(args.section), indent=2, ensure_ascii=False))
    else:
        print(docs.section_reference(args.section), end="")
    return 0


# --------------------------------------------------------------------------- helpers


def _experiment_options(p: argparse.ArgumentParser, kind: str, with_set: bool = True,
                        reps: int = 5) -> None:
    p.add_argument("--reps", type=argtypes.reps, default=reps,
                   help=f"replications per scenario (default {reps})")
    p.add_argument("--seed", type=argtypes.seed, default=1,
                   help=f"base seed, 0 to {argtypes.MAX_SEED} (default 1)")
    p.add_argument("--out", type=argtypes.path,
                   help=f"output folder (default results/{kind}/<names>/; "
                   "re-running with the same folder resumes)")
    p.add_argument("--days", type=argtypes.positive_int,
                   help="override horizon.days of every scenario")
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
    p.add_argument("--executor", choices=argtypes.EXECUTORS, default="process",
                   help="serial, process (local process pool, default) or dask")
    p.add_argument("--workers", type=argtypes.workers,
                   help="worker processes for --executor process (default: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="Dask scheduler address (implies --executor dask)")
    p.add_argument("--force", action="store_true",
                   help="run even if the size estimate (memory per replication, memory of "
                   "the replications running at once) is over the limits")


def _overrides(args: argparse.Namespace) -> dict:
    return argtypes.overrides(getattr(args, "overrides", []), args.days)


class _NoBar:
    """The part of a tqdm bar the commands use, doing nothing (and not importing tqdm)."""

    disable = True

    def update(self, n: int = 1) -> None:
        """Nothing to show."""

    def refresh(self) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


@contextlib.contextmanager
def _experiment_context(args: argparse.Namespace, total: int | None, quiet: bool):
    from analysis.experiment import make_executor

    executor = make_executor(args.executor, args.workers, args.scheduler)
    if quiet or (hasattr(sys.stderr, "isatty") and not sys.stderr.isatty()):  # logs, pipes
        bar = _NoBar()
    else:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="rep", file=sys.stderr, dynamic_ncols=True,
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


def _print_ran(exp, out: Path | None = None) -> None:
    """How many replications ran (and were resumed from ``out``), on what, in how long."""
    if out is not None and exp.resumed:
        print(fit(f"\nresumed: {exp.resumed} replication(s) were already finished in {out}/"))
    print(f"\n{exp.ran + exp.resumed} replications in {exp.wall_s:.1f} s "
          f"({exp.executor}, {exp.workers} worker(s))")
