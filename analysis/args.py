"""Command-line argument types and parsers of ``ccsim``'s options.

Everything here reads text the user typed and turns it into values (or a one-line error).
It imports only the standard library, so that building the parser and ``ccsim --help``
stay fast: anything that needs the model imports it inside the function that needs it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: the executors of an experiment (:func:`analysis.experiment.make_executor`)
EXECUTORS = ("serial", "process", "dask")

#: documented ranges of options that size the work (the size guard checks the rest)
MAX_SEED = 2**32 - 1
MAX_REPS = 10_000
MAX_WORKERS = 1024
MAX_AGENTS = 100_000
MAX_CALLS = 100_000_000


class CLIError(Exception):
    """A user error: printed as one message, exit status 2."""


def arg_type(conv: Callable[[str], Any], check: Callable[[Any], bool],
             what: str) -> Callable[[str], Any]:
    """An argparse ``type``: ``conv(text)`` that must pass ``check``, else "expected WHAT"."""
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


positive_int = arg_type(int, lambda v: v > 0, "a whole number > 0")
seed = arg_type(int, lambda v: 0 <= v <= MAX_SEED, f"a whole number from 0 to {MAX_SEED}")
reps = arg_type(int, lambda v: 1 <= v <= MAX_REPS, f"a whole number from 1 to {MAX_REPS}")
workers = arg_type(int, lambda v: 1 <= v <= MAX_WORKERS,
                   f"a whole number from 1 to {MAX_WORKERS}")
agents = arg_type(int, lambda v: 1 <= v <= MAX_AGENTS, f"a whole number from 1 to {MAX_AGENTS}")
calls = arg_type(int, lambda v: 1 <= v <= MAX_CALLS, f"a whole number from 1 to {MAX_CALLS}")
nonneg_int = arg_type(int, lambda v: v >= 0, "a whole number >= 0")
positive_float = arg_type(float, lambda v: v > 0 and math.isfinite(v), "a number > 0")
nonneg_float = arg_type(float, lambda v: v >= 0 and math.isfinite(v), "a number >= 0")
half_open_share = arg_type(float, lambda v: 0.5 <= v < 1, "a confidence in [0.5, 1)")
share = arg_type(float, lambda v: 0 < v < 1, "a share between 0 and 1 (exclusive)")


def path(text: str) -> Path:
    """A file or folder option: ``~`` and ``~user`` at the start are expanded, as a shell would.

    A quoted ``'~/x'`` reaches ccsim unexpanded; without this it became a folder named ``~``
    in the working directory. A path with a NUL byte, or a ``~user`` that is not known, is
    refused naming the value ("" stays the working folder, which each command checks).
    """
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"expected a file or folder path, got {text!r}")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # no home folder known for this ~ or ~user
        raise argparse.ArgumentTypeError(
            f"{text!r}: cannot expand {text.split('/')[0]!r} (no such user or no home folder); "
            "give the path without ~") from None


def rate(text: str) -> float:
    """``--rate``: calls per second from ``"360/h"``, ``"6/min"``, ``"0.1/s"`` or per hour."""
    from sim.planning.stationary import parse_rate  # the model's own reading of a rate

    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_target(text: str) -> tuple[float, float]:
    """``"0.8@20"`` (or ``"80%@20"``) -> (share 0.8, threshold 20 s)."""
    share, sep, thr = text.partition("@")
    try:
        s = float(share.strip().rstrip("%")) / (100 if share.strip().endswith("%") else 1)
        t = float(thr)
    except ValueError:
        s = t = math.nan
    if not sep or not (0 < s < 1) or not (t >= 0 and math.isfinite(t)):
        raise ValueError(f"--target {text!r}: expected SHARE@SECONDS with 0 < SHARE < 1, "
                         "e.g. 0.8@20 (80% answered within 20 s)")
    return s, t


def sl_target(text: str) -> tuple[float, float]:
    """``--target SHARE@SECONDS`` of ``ccsim staff``."""
    try:
        return parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def until(text: str) -> tuple[str, float]:
    """``--until KPI=HALFWIDTH`` (HALFWIDTH > 0)."""
    kpi, sep, raw = text.partition("=")
    try:
        hw = float(raw)
    except ValueError:
        hw = math.nan
    if not sep or not kpi or not (hw > 0 and math.isfinite(hw)):
        raise argparse.ArgumentTypeError(f"expected KPI=HALFWIDTH with HALFWIDTH > 0, "
                                         f"got {text!r}")
    return kpi.strip(), hw


def parse_set(text: str) -> tuple[str, Any]:
    """``--set KEY=VALUE``: VALUE in TOML literal syntax (95, 0.5, "text", true, [1, 2]).

    Text that is not a TOML literal is kept as it is (a bare word).
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise CLIError(f"--set {text!r}: expected KEY=VALUE, e.g. staffing.agents=95")
    try:
        import tomllib
        doc = tomllib.loads(f"v = {raw}")
        # one TOML value, nothing after it: text holding a newline and a second key
        # ("95\nmeasurement.level = ...") is kept as text, never read as more keys
        value = doc["v"] if list(doc) == ["v"] else raw
    except Exception:
        value = raw
    return key.strip(), value


def overrides(sets: Iterable[str], days: int | None) -> dict[str, Any]:
    """The scenario overrides of ``--set KEY=VALUE`` (repeatable) and ``--days``."""
    out = dict(parse_set(s) for s in sets)
    if days:
        out["horizon.days"] = days
    return out


def split_values(raw: str) -> list[str]:
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


def parse_factor(text: str) -> tuple[str, list[Any]]:
    """``--set KEY=V1,V2,...`` of ``ccsim sweep``: the field and its values."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip() or not raw.strip():
        raise CLIError(f"--set {text!r}: expected KEY=V1,V2,..., e.g. staffing.agents=90,95,100")
    values = [parse_set(f"{key}={v}")[1] for v in split_values(raw)]
    if any(v == "" for v in values):
        raise CLIError(f"--set {text!r}: empty value in the list")
    return key.strip(), values


def parse_primary(text: str) -> tuple[str, ...]:
    """``--primary KPI[,KPI]``: known KPI names, in order, without repeats."""
    from sim.measure.kpi import KPIS

    names = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in names if k not in KPIS]
    if not names or unknown:
        raise CLIError(f"--primary: unknown KPI {(unknown or [text])[0]!r}; known: "
                       f"{', '.join(KPIS)}")
    return names


def known_kpi(option: str, kpi: str) -> str:
    """``kpi`` if the model has it, else a :class:`CLIError` naming ``option``."""
    from sim.measure.kpi import KPIS

    if kpi not in KPIS:
        raise CLIError(f"{option}: unknown KPI {kpi!r}; known: {', '.join(KPIS)}")
    return kpi
