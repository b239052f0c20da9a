"""Loading scenarios: TOML files with ``extends``, overrides, and clear errors.

Every error names the file, the field, the value and what is allowed.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from sim.scenario.base import NAME_MAX, ScenarioError, _to_tuples
from sim.scenario.model import Scenario

# --------------------------------------------------------------------------- loading


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


def _merge(base: dict[str, Any], over: dict[str, Any], origin: dict[str, str], src: str,
           prefix: str = "") -> dict[str, Any]:
    """Deep-merge ``over`` into ``base``: tables merge, everything else replaces."""
    out = dict(base)
    for k, v in over.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v, origin, src, path + ".")
        else:
            out[k] = v
            origin[path] = src
            for p in [p for p in origin if p.startswith(path + ".")]:
                origin[p] = src
    return out


#: largest scenario file read, in bytes (a scenario is a few kB of TOML)
MAX_FILE_BYTES = 1 << 20
#: most files in one ``extends`` chain (the file itself included)
MAX_EXTENDS = 16


def read_text_file(path: Path, where: str) -> str:
    """The UTF-8 text of a regular file of at most ``MAX_FILE_BYTES``, else a ScenarioError.

    Folders, devices (``/dev/zero``), pipes and sockets are refused before anything is read,
    so a wrong path never blocks or fills memory; ``where`` says who named the path.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ScenarioError(f"{where}: file not found: {path}") from None
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot open {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ScenarioError(f"{where}: {path} is a folder, not a scenario file (give a "
                                ".toml file)")
        if not stat.S_ISREG(st.st_mode):
            raise ScenarioError(f"{where}: {path} is not a regular file (a device, pipe or "
                                "socket); give a .toml file")
        if st.st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{where}: {path} has {st.st_size} bytes; a scenario file may "
                                f"have at most {MAX_FILE_BYTES} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            try:
                chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            except OSError as exc:
                raise ScenarioError(f"{where}: cannot read {path}: {exc.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{where}: {path} has more than {MAX_FILE_BYTES} bytes; a scenario "
                            f"file may have at most {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); a scenario is a TOML "
                            "text file") from None


def _read_toml(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a file and everything it extends; return merged data and key -> file map."""
    shown = str(path)
    if path in chain:
        raise ScenarioError(f"{shown}: extends: cycle {' -> '.join(map(str, chain + (path,)))}")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(f"{chain[-1]}: extends: more than {MAX_EXTENDS} files in the chain "
                            f"starting at {chain[0]}; a scenario may extend at most "
                            f"{MAX_EXTENDS - 1} files in turn")
    text = read_text_file(path, f"{chain[-1]}: extends" if chain else "scenario")
    if not text.strip():
        raise ScenarioError(f"{shown}: the file is empty; a scenario file needs at least "
                            "description and rationale")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{shown}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{shown}: arrays or tables nested too deeply (a scenario needs "
                            f"at most {MAX_NESTING} levels)") from None
    for key in ("description", "rationale"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ScenarioError(
                f"{shown}: {key}: required text in every scenario file (a what-if states its "
                "own description and rationale)"
            )
    origin: dict[str, str] = {}
    parent = raw.pop("extends", None)
    if parent is None:
        data: dict[str, Any] = {}
    elif isinstance(parent, str) and not parent.strip():
        raise ScenarioError(f"{shown}: extends: empty file name; give the scenario file this "
                            "one builds on, e.g. extends = \"base.toml\"")
    elif isinstance(parent, str):
        data, origin = _read_toml((path.parent / parent).resolve(), chain + (path,))
    else:
        raise ScenarioError(f"{shown}: extends: expected a file name (text), got {parent!r}")
    return _merge(data, raw, origin, shown), origin


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario TOML file, following ``extends``, and validate it."""
    path = Path(path)
    data, origin = _read_toml(path.resolve(), ())
    # the default name is the file name, made safe (it names output folders)
    stem = re.sub(r"[^\w .,=@+:;()\[\]{}'\"-]+", "_", path.stem).lstrip("._ -")
    data.setdefault("name", stem[:NAME_MAX] or "scenario")
    if "name" not in origin:
        origin["name"] = str(path)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, "--set")
        origin[key] = "--set"
    # errors should name the file the user typed, not its resolved absolute path
    origin = {k: (str(path) if v == str(path.resolve()) else v) for k, v in origin.items()}
    return _validate(data, origin, str(path))


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a scenario given as plain data (e.g. built by code or a notebook)."""
    return _validate(dict(data), {}, source)


#: deepest nesting of tables and arrays in a scenario
MAX_NESTING = 16


def _nesting(value: Any, depth: int = 0) -> int:
    """Depth of nested tables and arrays, counting no further than ``MAX_NESTING + 1``."""
    if depth > MAX_NESTING or not isinstance(value, dict | list | tuple):
        return depth
    items = value.values() if isinstance(value, dict) else value
    return max((_nesting(v, depth + 1) for v in items), default=depth + 1)


def _validate(data: dict[str, Any], origin: dict[str, str], default_src: str) -> Scenario:
    if _nesting(data) > MAX_NESTING:
        raise ScenarioError(f"{default_src}: arrays or tables nested too deeply (a scenario "
                            f"needs at most {MAX_NESTING} levels)")
    try:
        return Scenario.model_validate(_to_tuples(data))
    except ValidationError as exc:
        lines = [_describe(err, data, origin, default_src) for err in exc.errors()]
        raise ScenarioError("invalid scenario:\n  " + "\n  ".join(lines)) from None


def _describe(err: Mapping[str, Any], data: Mapping[str, Any], origin: Mapping[str, str],
              default_src: str) -> str:
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
        allowed = _allowed_keys(loc[:-1])
        return (f"{src}: {path}: unknown key (value {err['input']!r}); allowed here: "
                f"{', '.join(allowed)}")
    if kind == "missing":
        return f"{src}: {path}: required field is missing"
    if kind == "finite_number":
        hint = ('; for callers who never hang up use distribution = "none"'
                if path.endswith("patience.mean_s") else "")
        return f"{src}: {path}: got {err['input']!r}; must be a finite number{hint}"
    msg = msg.removeprefix("Value error, ")
    if kind.startswith("value_error") or kind == "assertion_error":
        # model-level checks name their field first: "profile: has 3 weights but ..."
        m = re.match(r"^([a-z_]+(?:\.[A-Za-z0-9_\-]+)*): (.*)$", msg, re.S)
        if m:
            path = m[1] if path == "(top level)" else f"{path}.{m[1]}"
            msg = m[2]
            src = next((origin[k] for k in _prefixes(path) if k in origin), src)
        return f"{src}: {path}: {msg}"
    return f"{src}: {path}: got {err['input']!r}; {msg[0].lower()}{msg[1:]}"


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _allowed_keys(loc: list[str]) -> list[str]:
    model: Any = Scenario
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
