"""Shared pieces of the schema: errors, clock times, safe names, the frozen model base."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
)

DAY_S = 86_400.0


class ScenarioError(ValueError):
    """A scenario (file, dict or override) is not valid; the message says where and why."""


# --------------------------------------------------------------------------- helpers

_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


def parse_clock(value: Any) -> float:
    """Turn ``"HH:MM"`` or ``"HH:MM:SS"`` (00:00 to 24:00) into seconds after midnight."""
    if isinstance(value, str):
        m = _CLOCK.match(value.strip())
        if m:
            h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
            secs = h * 3600.0 + mi * 60.0 + s
            if secs <= DAY_S:
                return secs
    raise ValueError(f'expected a clock time "HH:MM" between 00:00 and 24:00, got {value!r}')


def format_clock(seconds: float) -> str:
    """Format seconds after midnight as ``"HH:MM"`` (``"HH:MM:SS"`` when needed)."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


Clock = Annotated[
    float,
    BeforeValidator(parse_clock),
    PlainSerializer(format_clock, return_type=str),
]

#: longest scenario name (it becomes part of output folder names)
NAME_MAX = 120
_SAFE_NAME = re.compile(r"\w[\w .,=@+:;()\[\]{}'\"-]*")


def check_name(value: str) -> str:
    """A scenario name that is safe as one folder name: no path separators, no climbing out."""
    if len(value) > NAME_MAX or not _SAFE_NAME.fullmatch(value):
        raise ValueError(
            f"{value[:NAME_MAX + 20]!r} is not allowed: a name starts with a letter or digit, "
            "uses only letters, digits, spaces and _ - . , = @ + : ; ( ) [ ] { } ' \" (no / or "
            f"\\), and has at most {NAME_MAX} characters")
    return value


SafeName = Annotated[str, AfterValidator(check_name)]

#: characters a scenario's free text may not hold: C0 controls but tab, line feed and
#: carriage return, DEL, C1 controls, and the bidirectional overrides and isolates. A
#: received scenario's description is printed to terminals and pages: an escape sequence
#: would act on the reader's terminal, an override would show text in another order than
#: it is stored ("Trojan Source", CVE-2021-42574)
_NOT_PLAIN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                        "\u202a-\u202e\u2066-\u2069]")


def check_text(value: str) -> str:
    """Free text (a description, a label) that is plain: see :data:`_NOT_PLAIN`."""
    bad = _NOT_PLAIN.search(value)
    if bad:
        shown = repr(value[:60]) + ("..." if len(value) > 60 else "")  # escapes shown
        raise ValueError(
            f"{shown} holds the control character U+{ord(bad.group()):04X} at character "
            f"{bad.start() + 1}: plain text only (letters, digits, punctuation, spaces, tabs "
            "and new lines; no terminal escapes, control or bidirectional-override characters)")
    return value


PlainText = Annotated[str, AfterValidator(check_text)]


def _to_tuples(value: Any) -> Any:
    """TOML arrays arrive as lists; frozen models hold tuples."""
    if isinstance(value, list):
        return tuple(_to_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_tuples(v) for k, v in value.items()}
    return value


def _field(default: Any = ..., *, description: str, source: str, unit: str | None = None,
           plausible: tuple[float, float] | None = None, describe_bounds: bool = True,
           bounds: tuple[float, float] | None = None, **kw: Any) -> Any:
    """A model field whose description and source (or "assumption") the docs show.

    ``unit``: what the number counts (``"per hour"``, ``"hours"``, ``"share"``...), shown by
    ``ccsim docs``. ``plausible``: the (low, high) range an assumed parameter is varied over
    by ``ccsim sensitivity``; it must contain the default. A numeric field's bounds
    (``ge``/``gt`` and ``le``/``lt``) are appended to its description ("Allowed: ..."), so
    that ``ccsim docs`` shows them; ``describe_bounds=False`` when the description states
    them itself (clock times, which the docs show as "HH:MM"). ``bounds``: the (low, high)
    range of a field whose type cannot carry ``ge``/``le`` (``bool | float``), enforced by
    its model's validator and shown as "Allowed: ...".
    """
    if bounds is not None:
        extra_bounds = {"bounds": bounds}
        description = f"{description.rstrip()} Allowed: {bounds[0]:g} to {bounds[1]:g}."
    else:
        extra_bounds = {}
    bounds = _bounds_text(kw)
    if bounds and describe_bounds:
        description = f"{description.rstrip()} {bounds}"
    extra: dict[str, Any] = {"source": source, **extra_bounds}
    if unit is not None:
        extra["unit"] = unit
    if plausible is not None:
        lo, hi = plausible
        if not lo <= default <= hi:
            raise ValueError(f"plausible range {plausible} does not contain the default "
                             f"{default!r}")
        extra["plausible"] = (lo, hi)
    return Field(default, description=description, json_schema_extra=extra, **kw)


def _bounds_text(kw: Mapping[str, Any]) -> str:
    """The allowed range of a field with ``ge``/``gt``/``le``/``lt``, as the docs show it."""
    lo = (f">= {kw['ge']:g}" if "ge" in kw else f"> {kw['gt']:g}" if "gt" in kw else None)
    hi = (f"<= {kw['le']:g}" if "le" in kw else f"< {kw['lt']:g}" if "lt" in kw else None)
    parts = [p for p in (lo, hi) if p is not None]
    return f"Allowed: {' and '.join(parts)}." if parts else ""


class _Model(BaseModel):
    # no inf or nan anywhere: every quantity in a scenario is a finite number (callers who
    # never hang up are patience.distribution = "none", not an infinite mean)
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)
