"""Checking scenario data: dotted overrides, nesting limits, validation with clear errors.

Every error names the file, the field, the value and what is allowed. The functions take
the model class as an argument, so that the schema (:mod:`sim.scenario.model`) and the
file loader (:mod:`sim.scenario.loading`) both use them without importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sim.scenario.base import ScenarioError, _to_tuples

M = TypeVar("M", bound=BaseModel)

#: deepest nesting of tables and arrays in a scenario
MAX_NESTING = 16


def _set_dotted(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node = data
    for i, p in enumerate(parts[:-1]):
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        if not isinstance(nxt, dict):
            raise ScenarioError(
                f"{source}: {'.'.join(parts[: i + 1])}: is a value, not a section, so "
                f"{key!r} cannot be set"
            )
        node = nxt
    node[parts[-1]] = value


def _nesting(value: Any, depth: int = 0) -> int:
    """Depth of nested tables and arrays, counting no further than ``MAX_NESTING + 1``."""
    if depth > MAX_NESTING or not isinstance(value, dict | list | tuple):
        return depth
    items = value.values() if isinstance(value, dict) else value
    return max((_nesting(v, depth + 1) for v in items), default=depth + 1)


def _validate(data: dict[str, Any], origin: dict[str, str], default_src: str,
              model: type[M]) -> M:
    """``data`` as a validated ``model``, or one error naming file, field, value and rule."""
    if _nesting(data) > MAX_NESTING:
        raise ScenarioError(f"{default_src}: arrays or tables nested too deeply (a scenario "
                            f"needs at most {MAX_NESTING} levels)")
    try:
        return model.model_validate(_to_tuples(data))
    except ValidationError as exc:
        lines = [_describe(err, data, origin, default_src, model) for err in exc.errors()]
        raise ScenarioError("invalid scenario:\n  " + "\n  ".join(lines)) from None


def _describe(err: Mapping[str, Any], data: Mapping[str, Any], origin: Mapping[str, str],
              default_src: str, root: type[BaseModel]) -> str:
    """One line: file: dotted.path: value — what is allowed."""
    loc = [str(p) for p in err["loc"]]
    path = ".".join(loc) or "(top level)"
    src = default_src
    for i in range(len(loc), 0, -1):
        key = ".".join(loc[:i])
        if key in origin:
            src = origin[key]
            break
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], root)
        return (f"{src}: {path}: unknown key (value {_as_given(err['input'])!r}); allowed here: "
                f"{', '.join(allowed)}")
    if kind == "missing":
        return f"{src}: {path}: required field is missing"
    if kind == "finite_number":
        hint = ('; for callers who never hang up use distribution = "none"'
                if path.endswith("patience.mean_s") else "")
        return f"{src}: {path}: got {_as_given(err['input'])!r}; must be a finite number{hint}"
    msg = msg.removeprefix("Value error, ")
    if kind.startswith("value_error") or kind == "assertion_error":
        # model-level checks name their field first: "profile: has 3 weights but ..."
        m = re.match(r"^([a-z_]+(?:\.[A-Za-z0-9_\-]+)*): (.*)$", msg, re.S)
        if m:
            path = m[1] if path == "(top level)" else f"{path}.{m[1]}"
            msg = m[2]
            src = next((origin[k] for k in _prefixes(path) if k in origin), src)
        return f"{src}: {path}: {msg}"
    return f"{src}: {path}: got {_as_given(err['input'])!r}; {msg[0].lower()}{msg[1:]}"


def _as_given(value: Any) -> Any:
    """A value as the user wrote it: the arrays that validation turned into tuples as lists."""
    if isinstance(value, tuple):
        return [_as_given(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_given(v) for k, v in value.items()}
    return value


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _allowed_keys(loc: list[str], root: type[BaseModel]) -> list[str]:
    model: Any = root
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            # a dict entry (e.g. staffing.shifts.<name>): step into the dict's value model
            args = getattr(model, "__args__", ())
            model = args[-1] if args else model
            continue
        model = field.annotation
        args = getattr(model, "__args__", ())
        if args and not hasattr(model, "model_fields"):
            model = next((a for a in args if hasattr(a, "model_fields")), args[-1])
    return sorted(getattr(model, "model_fields", {}))

