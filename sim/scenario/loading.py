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

from sim.scenario.base import NAME_MAX, ScenarioError
from sim.scenario.checking import MAX_NESTING, _set_dotted, _validate
from sim.scenario.model import Scenario

# --------------------------------------------------------------------------- loading




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
    return _validate(data, origin, str(path), Scenario)


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a scenario given as plain data (e.g. built by code or a notebook)."""
    return _validate(dict(data), {}, source, Scenario)











