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


def shown(path: str | Path) -> str:
    r"""A path (or any text from outside) as one printable line for a message.

    Newlines, terminal escape sequences and other unprintable characters become visible
    escapes (``\n``, ``\x1b``), so a hostile file name can neither add lines to an error
    nor drive the terminal.
    """
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in str(path))


def read_limited(path: Path, where: str, limit: int, kind: str = "a scenario file",
                 hint: str = "give a .toml file", error: type[Exception] = ScenarioError) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else ``error`` naming the file.

    Folders, devices (``/dev/zero``), pipes and sockets are refused before anything is read,
    and the read stops one byte past ``limit``, so a wrong path never blocks or fills memory
    (a file that grows while read is cut there too); ``where`` says who named the path,
    ``kind`` what the file should be and ``hint`` what to give instead.
    """
    name = shown(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{where}: file not found: {name}") from None
    except OSError as exc:
        raise error(f"{where}: cannot open {name}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{where}: {name} is a folder, not {kind} ({hint})")
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{where}: {name} is not a regular file (a device, pipe or socket), "
                        f"not {kind}; {hint}")
        if st.st_size > limit:
            raise error(f"{where}: {name} has {st.st_size} bytes; {kind} may have at most "
                        f"{limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            try:
                chunk = os.read(fd, min(limit + 1 - size, 1 << 24))
            except OSError as exc:
                raise error(f"{where}: cannot read {name}: {exc.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{where}: {name} has more than {limit} bytes; {kind} may have at most "
                    f"{limit} bytes")
    return data


def read_text_file(path: Path, where: str) -> str:
    """The UTF-8 text of a regular file of at most ``MAX_FILE_BYTES``, else a ScenarioError.

    See :func:`read_limited`; TOML is UTF-8 by its specification, so a file in another
    encoding (e.g. Windows-1252 from a spreadsheet program) is refused, naming the encoding.
    """
    data = read_limited(path, where, MAX_FILE_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{shown(path)}: not UTF-8 text (byte {exc.start} is "
                            f"0x{data[exc.start]:02x}); a scenario is a TOML text file and "
                            "TOML is UTF-8: save it with the encoding UTF-8") from None


def extends_chain(path: str | Path) -> list[Path]:
    """The resolved files a scenario is made of: itself, then what it extends, in turn.

    For a scenario that loads (:func:`load_scenario` checked it); a file that does not read
    ends the chain. Used to refuse writing over any of them.
    """
    chain: list[Path] = []
    here: Path | None = Path(path).resolve()
    while here is not None and here not in chain and len(chain) < MAX_EXTENDS:
        chain.append(here)
        try:
            parent = tomllib.loads(read_text_file(here, "scenario")).get("extends")
        except (ValueError, RecursionError):
            break
        here = (here.parent / parent).resolve() if isinstance(parent, str) and parent else None
    return chain


def _read_toml(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a file and everything it extends; return merged data and key -> file map."""
    name = shown(path)
    if path in chain:
        raise ScenarioError(f"{name}: extends: cycle {' -> '.join(map(str, chain + (path,)))}")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(f"{chain[-1]}: extends: more than {MAX_EXTENDS} files in the chain "
                            f"starting at {chain[0]}; a scenario may extend at most "
                            f"{MAX_EXTENDS - 1} files in turn")
    text = read_text_file(path, f"{chain[-1]}: extends" if chain else "scenario")
    if not text.strip():
        raise ScenarioError(f"{name}: the file is empty; a scenario file needs at least "
                            "description and rationale")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{name}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{name}: arrays or tables nested too deeply (a scenario needs "
                            f"at most {MAX_NESTING} levels)") from None
    for key in ("description", "rationale"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ScenarioError(
                f"{name}: {key}: required text in every scenario file (a what-if states its "
                "own description and rationale)"
            )
    origin: dict[str, str] = {}
    parent = raw.pop("extends", None)
    if parent is None:
        data: dict[str, Any] = {}
    elif isinstance(parent, str) and not parent.strip():
        raise ScenarioError(f"{name}: extends: empty file name; give the scenario file this "
                            "one builds on, e.g. extends = \"base.toml\"")
    elif isinstance(parent, str):
        data, origin = _read_toml((path.parent / parent).resolve(), chain + (path,))
    else:
        raise ScenarioError(f"{name}: extends: expected a file name (text), got {parent!r}")
    return _merge(data, raw, origin, name), origin


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











