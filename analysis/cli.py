"""The ``ccsim`` command line: run scenarios, compute Erlang values, validate the model."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import docs
from analysis.experiment import replications
from analysis.stats import Estimate, summarise
from analysis.store import json_safe, write_csv, write_json, write_parquet
from sim.erlang import agents_for_service_level
from sim.kpi import KPIS
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.stationary import EXACT_KPIS, exact_metrics, parse_rate, stationary_scenario

EPILOG = """examples:
  ccsim run scenarios/base.toml --reps 5
  ccsim erlang --rate 360/h --aht 240 --agents 27 --target 20
  ccsim validate --rate 360/h --aht 240 --agents 27 --patience 120 --target 20 --reps 10
  ccsim docs > docs/reference.md
"""


class CLIError(Exception):
    """A user error: printed as one message, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ccsim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, CLIError, ValueError) as exc:
        print(f"ccsim {args.command}: error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    p = argparse.ArgumentParser(
        prog="ccsim", description="Contact-centre simulator and what-if modeller.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="simulate a scenario and print its KPIs",
                       description="Simulate SCENARIO for R replications; print every KPI "
                       "(mean and 95%% CI when R > 1) and write kpis.csv and the logs.")
    r.add_argument("scenario", type=Path, help="scenario TOML file")
    r.add_argument("--days", type=_positive_int, help="override horizon.days")
    r.add_argument("--seed", type=_nonneg_int, default=1, help="base seed (default 1)")
    r.add_argument("--reps", type=_positive_int, default=1, help="replications (default 1)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. --set staffing.agents=95 (repeatable)")
    r.add_argument("--out", type=Path, help="output folder (default results/<scenario>/<time>/)")
    r.add_argument("--individual", action="store_true",
                   help="also write agent-level tables (statuses, agent_days); off by default "
                   "so that output stays aggregate")
    r.add_argument("--no-write", action="store_true", help="print only, write nothing")
    r.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    r.set_defaults(func=cmd_run)

    for name, fn, helptext in (
        ("erlang", cmd_erlang, "exact Erlang C / Erlang A values for a stationary queue"),
        ("validate", cmd_validate,
         "simulate a stationary queue and compare with the exact Erlang values"),
    ):
        e = sub.add_parser(name, help=helptext, description=helptext + ".")
        e.add_argument("--rate", required=True, type=_rate,
                       help='arrival rate, e.g. "360/h", "6/min", "0.1/s" (bare number: per hour)')
        e.add_argument("--aht", required=True, type=_positive_float,
                       help="mean handle time in seconds (exponential in validate)")
        e.add_argument("--agents", required=True, type=_positive_int, help="agents")
        e.add_argument("--target", required=True, type=_nonneg_float,
                       help="service-level threshold T in seconds (answered within T)")
        e.add_argument("--patience", type=_positive_float, default=math.inf,
                       help="mean patience in seconds (exponential): Erlang A; omit for Erlang C")
        e.add_argument("--json", action="store_true", help="print one JSON object")
        e.set_defaults(func=fn)
        if name == "erlang":
            e.add_argument("--goal", type=_share,
                           help="also print the fewest agents whose service level >= GOAL")
        else:
            e.add_argument("--reps", type=_positive_int, default=10,
                           help="replications (default 10)")
            e.add_argument("--calls", type=_positive_int, default=20_000,
                           help="measured calls per replication after warm-up (default 20000)")
            e.add_argument("--seed", type=_nonneg_int, default=1, help="base seed (default 1)")

    d = sub.add_parser("docs", help="print the scenario-field and KPI reference (Markdown)",
                       description="Print the reference of every scenario field (default, "
                       "source, description) and every KPI, as Markdown.")
    d.set_defaults(func=cmd_docs)
    return p


# --------------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    """``ccsim run``."""
    overrides = dict(_parse_set(s) for s in args.overrides)
    if args.days:
        overrides["horizon.days"] = args.days
    scenario = load_scenario(args.scenario, overrides)
    progress = None if args.json else _progress(f"{scenario.name}")
    results = list(replications(scenario, args.seed, args.reps, progress))
    rows = [r.kpis for r in results]
    est = summarise(rows)
    out = None
    if not args.no_write:
        out = args.out or Path("results") / scenario.name / dt.datetime.now().strftime(
            "%Y%m%d-%H%M%S")
        _write_run(out, scenario, args, results)
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
        print(f"\nwritten to {out}/")
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
        print(f"  {k:<16} {_fmt(k, v)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``ccsim validate``."""
    exact = exact_metrics(args.rate, args.aht, args.agents, args.target, args.patience)
    scenario = stationary_scenario(args.rate, args.aht, args.agents, args.target,
                                   args.patience, calls=args.calls)
    progress = None if args.json else _progress("validate")
    rows = [{k: r.kpis[k] for k in EXACT_KPIS}
            for r in replications(scenario, args.seed, args.reps, progress)]
    est = summarise(rows)
    exact_d = exact.as_dict()
    if args.json:
        print(json.dumps(json_safe({
            "exact": exact_d, "simulated": {k: e.as_dict() for k, e in est.items()},
            "calls": args.calls,
        })))
        return 0
    print(f"\n{scenario.description}; {args.reps} replications of {args.calls} calls\n")
    print(f"{'KPI':<14} {'exact':>10} {'simulated':>10}   95% CI{'':<16} inside")
    for k in EXACT_KPIS:
        e = est[k]
        inside = "yes" if e.contains(exact_d[k]) else "NO"
        print(f"{k:<14} {_fmt(k, exact_d[k]):>10} {_fmt(k, e.mean):>10}   "
              f"[{_fmt(k, e.ci_low)}, {_fmt(k, e.ci_high)}]{'':<4} {inside}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """``ccsim docs``."""
    print(docs.reference(), end="")
    return 0


# --------------------------------------------------------------------------- helpers


def _write_run(out: Path, scenario: Scenario, args: argparse.Namespace, results: list) -> None:
    kpis = pd.DataFrame([{"replication": r.provenance["replication"], "seed": args.seed,
                          **r.kpis} for r in results])
    write_csv(kpis, out / "kpis.csv")
    for r in results:
        rep = out / f"rep-{r.provenance['replication']:03d}"
        calls = r.calls if args.individual else r.calls.drop(columns="agent")
        write_parquet(calls, rep / "calls.parquet")
        write_parquet(r.intervals, rep / "intervals.parquet")
        write_parquet(r.daily, rep / "daily.parquet")
        if args.individual:
            write_parquet(r.statuses, rep / "statuses.parquet")
            write_parquet(r.agent_days, rep / "agent_days.parquet")
            write_parquet(r.agents, rep / "agents.parquet")
    write_json({
        "scenario": scenario.to_dict(),
        "scenario_file": str(args.scenario),
        "overrides": args.overrides,
        "individual_output": args.individual,
        "provenance": [r.provenance for r in results],
    }, out / "manifest.json")


def _kpi_table(est: dict[str, Estimate], with_ci: bool) -> str:
    lines = [f"{'KPI':<16} {'mean':>11}" + (f"   {'95% CI':<24}" if with_ci else "   ")
             + "meaning"]
    for k, e in est.items():
        ci = f"[{_fmt(k, e.ci_low)}, {_fmt(k, e.ci_high)}]" if with_ci else ""
        desc = KPIS[k].description if k in KPIS else ""
        lines.append(f"{k:<16} {_fmt(k, e.mean):>11}   " + (f"{ci:<24}" if with_ci else "")
                     + desc)
    return "\n".join(lines)


def _fmt(kpi: str, v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, int) or kpi.startswith("agents"):
        return f"{v}"
    unit = KPIS[kpi].unit if kpi in KPIS else ("share" if kpi != "asa_s" else "s")
    if unit == "share":
        return f"{100 * v:.2f}%"
    if unit == "calls":
        return f"{v:,.1f}"
    if math.isinf(v):
        return "inf"
    return f"{v:.2f}"


def _progress(label: str):
    """A one-line progress report on stderr (only when stderr is a terminal)."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{label}: replication {done}/{total}", end=end, file=sys.stderr, flush=True)

    return report


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
_nonneg_int = _arg_type(int, lambda v: v >= 0, "a whole number >= 0")
_positive_float = _arg_type(float, lambda v: v > 0 and math.isfinite(v), "a number > 0")
_nonneg_float = _arg_type(float, lambda v: v >= 0 and math.isfinite(v), "a number >= 0")
_share = _arg_type(float, lambda v: 0 < v < 1, "a share between 0 and 1 (exclusive)")


def _rate(text: str) -> float:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
