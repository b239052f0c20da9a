"""Writing results atomically: a reader never sees a half-written file."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import shutil
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model import model_digest
from sim.scenario import Scenario

#: every temporary file or folder ccsim makes starts with this; the clean-up removes nothing else
TMP_PREFIX = ".ccsim-tmp-"
#: the whole name of one of ccsim's temporaries: prefix, the name it stands for, ``mkstemp``'s
#: eight random characters, ``.tmp`` (being written) or ``.old`` (being replaced)
_TEMPORARY = re.compile(r"\.ccsim-tmp-.+\.[a-z0-9_]{8}\.(?:tmp|old)", re.DOTALL)


def is_temporary(name: str) -> bool:
    """Whether ``name`` is one of ccsim's own temporaries (checked exactly, whole name)."""
    return _TEMPORARY.fullmatch(name) is not None


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    Inside a claimed output folder nothing is written through a symbolic link
    (:func:`check_no_links`).
    """
    check_no_links(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.",
                               suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


#: rows converted and written at a time (a row group each): bounds the memory of a write
PARQUET_ROWS = 1 << 16


def to_parquet(df: pd.DataFrame, path: Path, rows: int = PARQUET_ROWS) -> None:
    """``df.to_parquet(path, index=False)``, ``rows`` rows at a time.

    The same table reads back (same columns, dtypes and values); only the file's layout
    differs (a row group per slice). Converting and encoding a whole large table at once
    held about three times its size (the Arrow copy and the encoded column chunks): the
    peak memory of a long run was this write, not the simulation.
    """
    if len(df) <= rows:
        df.to_parquet(path, index=False)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, writer = None, None
    try:
        for lo in range(0, len(df), rows):
            part = pa.Table.from_pandas(df.iloc[lo:lo + rows], schema=schema,
                                        preserve_index=False)
            if writer is None:
                schema = part.schema
                writer = pq.ParquetWriter(path, schema, compression="snappy")
            writer.write_table(part)
    finally:
        if writer is not None:
            writer.close()


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as Parquet, atomically."""
    return atomic_write(path, lambda p: to_parquet(df, p))


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as CSV, atomically."""
    return atomic_write(path, lambda p: df.to_csv(p, index=False))


def json_safe(data: Any) -> Any:
    """Replace NaN and infinities by None, recursively, so the JSON is standard."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {str(k): json_safe(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(v) for v in data]
    return data


def write_json(data: Any, path: Path) -> Path:
    """Write JSON (sorted keys, NaN as null), atomically."""
    text = json.dumps(json_safe(data), indent=2, sort_keys=True, default=str, allow_nan=False)
    return atomic_write(path, lambda p: p.write_text(text + "\n", encoding="utf-8"))


# --------------------------------------------------------------------------- replication store

MANIFEST = "manifest.json"


def atomic_dir(path: Path, fill: Callable[[Path], None]) -> Path:
    """Call ``fill(tmp)`` on a fresh temporary folder beside ``path``, then rename it into place.

    A folder at ``path`` left by an earlier, different run is moved aside and removed only
    after the new one is in place, so ``path`` is always either complete or absent.
    """
    check_no_links(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.",
                                suffix=".tmp"))
    try:
        fill(tmp)
        if path.exists() or path.is_symlink():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.",
                                        suffix=".old"))
            os.replace(path, old / path.name)
            _replace_dir(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            _replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _replace_dir(tmp: Path, path: Path) -> None:
    """Rename folder ``tmp`` to ``path``, or keep the folder another writer put there first.

    A task is a pure function of its inputs, so both folders hold the same result.
    """
    try:
        os.replace(tmp, path)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not path.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def slug(text: str) -> str:
    """A file-name-safe version of ``text`` (letters, digits, ``.``, ``_``, ``-``, ``=``)."""
    s = re.sub(r"[^A-Za-z0-9._=\-]+", "_", text).strip("_.")
    return s[:80] or "scenario"


class UnsafePathError(ValueError):
    """A path built from data (a scenario name, a table name) would leave its root folder."""


def inside(root: Path, *parts: str) -> Path:
    """``root / parts...``, refused unless it resolves to ``root`` or below it.

    Defence in depth: names are already validated (``sim.scenario.check_name``) and slugged,
    but no output path built from data may climb out of its root (``..``, an absolute part,
    a symbolic link placed inside the root).
    """
    path = Path(root).joinpath(*parts)
    top, full = Path(root).resolve(), path.resolve()
    if full != top and top not in full.parents:
        raise UnsafePathError(f"refusing to write {path}: it resolves to {full}, outside "
                              f"{top}")
    return path


# --------------------------------------------------------------------------- output folders

#: marks a folder as ccsim output and says which command wrote it
MARKER = ".ccsim-output.json"
LOCK = ".ccsim.lock"
#: names ccsim writes into an output folder (and the folders it enters: no link among them)
OUTPUT_NAMES = {
    MARKER, LOCK, "replications", "kpis.csv", "kpis.parquet", "manifest.json",
    "comparison.json", "report.html", "figures", "plots", "sweep.csv", "sweep.parquet",
    "staff.json", "erlang.csv", "sensitivity.json", "design.csv", "indices.csv",
}
_held: dict[Path, int] = {}
"""Output folders whose lock this process holds: resolved folder -> lock file descriptor."""
_held_as_given: dict[Path, Path] = {}


class FolderBusyError(ValueError):
    """Another process is writing to the output folder."""


#: the folders ccsim enters inside an output folder (a link among them is refused)
OUTPUT_FOLDERS = ("replications", "figures", "plots")
_inputs: dict[Path, str] = {}
"""Input files of the running command (resolved path -> what it is), never an output."""


def _ours(name: str) -> bool:
    """Whether ``name`` is one ccsim writes in an output folder."""
    return (name in OUTPUT_NAMES or re.fullmatch(r"timeline-day\d+\.png", name) is not None
            or is_temporary(name))


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _link_error(link: Path, root: Path, label: str = "--out") -> UnsafePathError:
    try:
        target = os.readlink(link)
    except OSError:
        target = "?"
    return UnsafePathError(f"{label} {root}: {link} is a symbolic link (to {target}); ccsim "
                           "writes nothing through a link inside its output folder (it would "
                           "write where the link points): remove the link or give another "
                           "folder")


def no_links(root: Path, parts: Iterable[str], label: str = "--out") -> None:
    """Refuse (:class:`UnsafePathError`) if ``root``/parts... passes through a symbolic link.

    Each component below ``root`` is looked at with ``lstat`` (never followed), down to the
    first that does not exist yet (ccsim creates the rest, as real folders).
    """
    path = Path(root)
    for part in parts:
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            raise _link_error(path, Path(root), label)


def check_no_links(path: Path) -> None:
    """Refuse a write to ``path`` that would pass through a link inside a held output folder."""
    full = Path(os.path.abspath(path))
    for given in list(_held_as_given.values()):
        root = Path(os.path.abspath(given))
        if full != root and root in full.parents:
            no_links(given, full.relative_to(root).parts, "output folder")


def declare_inputs(paths: Iterable[Path]) -> None:
    """The running command's input files (scenarios and their ``extends`` chains).

    :func:`claim_output` refuses an output folder that is one of them or holds one, whatever
    ``--force`` says: ccsim never writes where its inputs are.
    """
    for path in paths:
        for file, what in input_chain(Path(path)):
            _inputs.setdefault(file, what)


def input_chain(path: Path) -> list[tuple[Path, str]]:
    """``path`` (resolved) and every file its ``extends`` chain names, each with what it is.

    Read as the loader reads them (regular files, size-limited); a file that cannot be read
    ends the chain here (loading the scenario reports it, with its own message).
    """
    import tomllib

    from sim.scenario.loading import MAX_EXTENDS, read_text_file

    out: list[tuple[Path, str]] = []
    current, what = Path(path).resolve(), f"the scenario file {path}"
    while current not in (p for p, _ in out) and len(out) < MAX_EXTENDS:
        out.append((current, what))
        try:
            parent = tomllib.loads(read_text_file(current, "input")).get("extends")
        except (ValueError, OSError, RecursionError):  # the loader reports it, in its words
            break
        if not isinstance(parent, str) or not parent.strip():
            break
        what = f"{parent!r}, extended by {current}"
        current = (current.parent / parent).resolve()
    return out


def _check_inputs(folder: Path, label: str) -> None:
    key = Path(folder).resolve()
    for file, what in _inputs.items():
        if file == key or key in file.parents:
            where = "is" if file == key else f"holds {file}:"
            raise ValueError(f"{label} {folder}: {where} an input of this command ({what}); "
                             "ccsim never writes where its inputs are: give another output "
                             "folder (--force does not change this)")


def claim_output(folder: Path, kind: str, label: str = "--out") -> Path:
    """Check, create and lock an output folder for command ``kind`` (``run``, ``compare``...).

    A folder is ccsim's only if it is new, empty, or carries ccsim's marker (``MARKER``,
    written when ccsim claims it). Refused with a ``ValueError`` that says why: ``folder``
    is a file or a device; it is not empty and has no marker (the message names what is in
    it: nothing a user made is overwritten, even under names ccsim writes); it holds the
    output of another command; it is or holds an input of the command
    (:func:`declare_inputs`); a folder ccsim enters in it (``replications/``,
    ``figures/``, ...) or its lock or marker is a symbolic link (nothing is written where a
    link points); or another process holds its lock (``fcntl.flock``, released by the
    operating system when that process ends, however it ends). The lock is kept until
    :func:`release_outputs` or the end of the process. ccsim's own temporaries left by a
    killed run (``TMP_PREFIX`` names, checked exactly) are removed, nothing else. ``label``
    names the folder in messages (the option that gave it).
    """
    folder = Path(folder)
    key = folder.resolve()
    if key in _held:
        return folder
    _check_inputs(folder, label)
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            what = "a file" if folder.is_file() else ("a broken link" if not folder.exists()
                                                      else "not a folder (a device or pipe)")
            raise ValueError(f"{label} {folder}: is {what}; give a folder (new or empty, or "
                             "one ccsim wrote before, to resume it)")
        names = sorted(p.name for p in folder.iterdir())
        marker = _read_marker(folder)
        if marker is None and names:
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            raise ValueError(f"{label} {folder}: the folder is not empty and is not ccsim's (no "
                             f"{MARKER} marker); {shown} {'is' if len(names) == 1 else 'are'} "
                             "not ccsim's: give a new or empty folder, or one ccsim wrote "
                             "(nothing is overwritten)")
        if marker is not None and marker != kind:
            raise ValueError(f"{label} {folder}: holds the output of `ccsim {marker}`; give "
                             f"another folder for `ccsim {kind}` (nothing is overwritten)")
        _check_links(folder, label)
    folder.mkdir(parents=True, exist_ok=True)
    fd = _lock(folder, label)
    try:
        if _read_marker(folder) is None:
            write_json({"kind": kind, "tool": "ccsim"}, folder / MARKER)
        _remove_temporaries(folder)
    except BaseException:
        os.close(fd)
        raise
    _held[key] = fd
    _held_as_given[key] = folder
    return folder


def held_outputs() -> list[Path]:
    """Output folders this process holds, as given."""
    return list(_held_as_given.values())


def release_outputs() -> None:
    """Release every output-folder lock this process holds (and forget the inputs declared)."""
    _inputs.clear()
    while _held:
        key, fd = _held.popitem()
        _held_as_given.pop(key, None)
        os.close(fd)


def _check_links(folder: Path, label: str) -> None:
    """Refuse a symbolic link where ccsim writes or enters in output folder ``folder``.

    The marker, the lock, every name ccsim writes at the top, the folders it enters and, in
    ``replications/``, every scenario group and replication folder (the store writes there).
    """
    for name in sorted(OUTPUT_NAMES | {n.name for n in folder.iterdir() if _ours(n.name)}):
        if _is_link(folder / name):
            raise _link_error(folder / name, folder, label)
    store = folder / "replications"
    if store.is_dir():
        for group in sorted(store.iterdir()):
            if _is_link(group):
                raise _link_error(group, folder, label)
            if group.is_dir():
                for rep in sorted(group.iterdir()):
                    if _is_link(rep):
                        raise _link_error(rep, folder, label)


def _lock(folder: Path, label: str) -> int:
    import fcntl

    try:  # O_NOFOLLOW: a lock file planted as a link must not truncate what it points to
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _link_error(folder / LOCK, folder, label) from None
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise FolderBusyError(f"{label} {folder}: another ccsim process (pid {holder}) is "
                              "writing to this folder; wait for it to finish or give another "
                              "folder") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _read_marker(folder: Path) -> str | None:
    """The command named by the folder's marker; None without one (a link is not a marker)."""
    try:
        if not stat.S_ISREG(os.lstat(folder / MARKER).st_mode):
            return None
    except OSError:
        return None
    data = _read_json(folder / MARKER)
    return data.get("kind") if isinstance(data, dict) else None


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _remove_temporaries(folder: Path) -> None:
    """Remove ccsim's own temporaries a killed process left: names :func:`is_temporary` accepts.

    Looked for in the output folder, its figure folders and its replication store (real
    folders only: a link is never entered). Anything else, hidden or not, is left alone.
    """
    places = [folder, *[p for p in (folder / "figures", folder / "plots") if _real_dir(p)]]
    store = folder / "replications"
    if _real_dir(store):
        places += [p for p in store.iterdir() if _real_dir(p) and not is_temporary(p.name)]
        places.append(store)
    for place in places:
        for p in place.iterdir():
            if is_temporary(p.name):
                if _real_dir(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)  # a file, or a link itself (never its target)


class StoreWarning(UserWarning):
    """A stored replication is damaged (or unreadable) and will be simulated again."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: largest replication manifest read (a scenario, KPIs and provenance: a few kB)
MAX_MANIFEST_BYTES = 16 << 20


def read_manifest_text(path: Path) -> str:
    """A manifest's text: a regular file (a link is not followed), at most MAX_MANIFEST_BYTES.

    ``FileNotFoundError`` when absent; ``OSError`` or ``ValueError`` (saying why) when it is
    a link, a device or pipe, too large or not UTF-8, so a received store's manifest that
    points at ``/dev/zero`` is damage, not a read that never ends.
    """
    return read_regular_bytes(path, MAX_MANIFEST_BYTES).decode("utf-8")


def read_regular_bytes(path: Path, limit: int) -> bytes:
    """A received file's bytes: a regular file (no link followed), at most ``limit`` bytes.

    ``FileNotFoundError`` when absent; ``OSError`` or ``ValueError`` (saying why) when it is
    a link, a device or pipe, or larger than ``limit`` (also if it grows while read).
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError(f"{path.name} is a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if st.st_size > limit:
            raise ValueError(f"{path.name} has {st.st_size:,} bytes, over {limit:,}")
        data = b""
        while len(data) <= limit and (chunk := os.read(fd, 1 << 20)):
            data += chunk
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"{path.name} grew over {limit:,} bytes while read")
    return data


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


class ReplicationStore:
    """One folder per finished replication under ``root``; the basis of resuming.

    ``root/<scenario>-<hash12>-seed<seed>/rep-00007/`` holds one Parquet file per table and
    ``manifest.json`` (scenario as data and its hash, seed, replication, KPIs, provenance,
    the tables written with each file's size and SHA-256, and a SHA-256 of the manifest
    itself). Each folder appears by one atomic rename, so a replication is either finished
    or absent; it counts as finished only when its manifest names the same scenario hash,
    seed and model code (``model_digest``), its checksum matches, and every table it lists
    exists with the recorded size and SHA-256, and its KPIs are what its own tables give
    (:func:`kpi_mismatches`, the model's KPI functions re-run on the stored ``calls``,
    ``daily`` and ``intervals`` tables). A truncated or altered replication is reported
    (:class:`StoreWarning`) and simulated again, never used. Nothing is pickled.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def folder(self, scenario: Scenario, seed: int, replication: int) -> Path:
        """Where replication ``replication`` of ``scenario`` with ``seed`` lives."""
        group = f"{slug(scenario.name)}-{scenario.digest()[:12]}-seed{seed}"
        rep = f"rep-{replication:05d}"
        if _is_link(self.root):
            raise _link_error(self.root, self.root.parent, "replication store")
        no_links(self.root, (group, rep), "replication store")
        return inside(self.root, group, rep)

    def _damaged(self, folder: Path, why: str) -> None:
        warnings.warn(StoreWarning(f"stored replication {folder} is damaged ({why}); it is "
                                   "simulated again"), stacklevel=3)

    def load(self, scenario: Scenario, seed: int, replication: int,
             kpis: Iterable[str] = ()) -> dict[str, Any] | None:
        """The stored replication as ``{"kpis", "provenance", "tables"}``, or None if unfinished.

        ``kpis``: KPI names the caller needs; a replication stored by an older model that
        lacks one of them is treated as unfinished (so it is simulated again). A damaged one
        (bad checksum, truncated or missing file, unreadable manifest) also gives None, with
        a :class:`StoreWarning`.
        """
        folder = self.folder(scenario, seed, replication)
        mpath = folder / MANIFEST
        try:
            text = read_manifest_text(mpath)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._damaged(folder, f"manifest unreadable: {exc}")
            return None
        try:
            manifest = json.loads(text)
        except ValueError:
            self._damaged(folder, "manifest is not valid JSON (truncated?)")
            return None
        if not isinstance(manifest, dict):
            self._damaged(folder, "manifest is not a JSON object")
            return None
        if "checksum" not in manifest:
            return None  # stored by an older ccsim: simulate it again
        if manifest["checksum"] != _manifest_checksum(manifest):
            self._damaged(folder, "manifest checksum does not match its content")
            return None
        if (manifest.get("scenario_hash") != scenario.digest() or manifest.get("seed") != seed
                or manifest.get("replication") != replication
                or manifest.get("provenance", {}).get("model_digest") != model_digest()):
            return None  # another scenario, seed, or model code: simulate it again
        recorded = manifest.get("files", {})
        files = {name: folder / f"{name}.parquet" for name in manifest.get("tables", [])}
        for name, p in files.items():
            want = recorded.get(name, {})
            try:
                st = os.lstat(p)  # a table planted as a link is not followed
                ok = (stat.S_ISREG(st.st_mode) and st.st_size == want.get("bytes")
                      and file_sha256(p) == want.get("sha256"))
            except OSError:
                self._damaged(folder, f"{p.name} is missing or unreadable")
                return None
            if not ok:
                self._damaged(folder, f"{p.name} does not match its recorded size and SHA-256")
                return None
        try:
            tables = {name: pd.read_parquet(p) for name, p in files.items()}
        except (OSError, ValueError) as exc:
            self._damaged(folder, f"a table cannot be read: {exc}")
            return None
        raw = manifest.get("kpis", {})
        if any(k not in raw for k in kpis):
            return None
        order = manifest.get("kpi_order") or list(raw)
        try:
            kpis = {k: (math.nan if raw[k] is None else float(raw[k])) for k in order}
        except (KeyError, TypeError, ValueError):
            self._damaged(folder, "its KPIs are not numbers")
            return None
        # the checksums only show the files are as the manifest says: the KPIs must also
        # be what the stored tables give (a manifest edited and re-summed is caught here)
        problems = kpi_mismatches(scenario, tables, kpis)
        if problems:
            more = f" (and {len(problems) - 2} more)" if len(problems) > 2 else ""
            self._damaged(folder, "its KPIs do not match its own tables: "
                          + "; ".join(problems[:2]) + more)
            return None
        return {"kpis": kpis, "provenance": manifest.get("provenance", {}), "tables": tables}

    def save(self, scenario: Scenario, seed: int, replication: int, kpis: dict[str, float],
             provenance: dict[str, Any], tables: dict[str, pd.DataFrame]) -> Path:
        """Write one finished replication (tables first, manifest last, then one rename)."""

        def fill(tmp: Path) -> None:
            files = {}
            for name, df in tables.items():
                path = tmp / f"{name}.parquet"
                to_parquet(df, path)
                files[name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
            manifest = json.loads(json.dumps(json_safe({
                "scenario": scenario.to_dict(), "scenario_hash": scenario.digest(),
                "seed": seed, "replication": replication, "kpis": kpis,
                "kpi_order": list(kpis), "tables": sorted(tables), "files": files,
                "provenance": provenance,
            }), default=str, allow_nan=False))  # as it will read back
            manifest["checksum"] = _manifest_checksum(manifest)
            # keys in the order written, not sorted: the order of a scenario's shifts,
            # call types and groups is part of what it simulates (its agents are numbered
            # in it), so `ccsim verify` must read the scenario back in the same order; the
            # checksum sorts the keys itself
            text = json.dumps(manifest, indent=2, allow_nan=False)
            (tmp / MANIFEST).write_text(text + "\n", encoding="utf-8")

        return atomic_dir(self.folder(scenario, seed, replication), fill)


# --------------------------------------------------------------------------- re-deriving KPIs

#: KPIs the calls table alone determines (the others need agent time, agent-days or the
#: regime's records, which an aggregate replication does not store)
CALL_KPIS = ("offered", "answered", "abandoned", "closed", "service_level",
             "intervals_below_target", "worst_interval_service_level", "asa_s", "abandon_rate",
             "p_wait", "aht_s", "repeat_call_rate", "released_rate", "service_level_target_met",
             "intervals_target_met_share", "abandon_target_met")
#: relative tolerance of a re-derived KPI: sums in another order differ in the last bits only
REDERIVE_RTOL = 1e-9


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= REDERIVE_RTOL * max(1.0, abs(a), abs(b))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def kpis_from_calls(scenario: Scenario, calls: pd.DataFrame
                    ) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """:data:`CALL_KPIS` of a stored calls table: the whole run's and each day's.

    Computed by the model's own KPI functions (:mod:`sim.measure.kpi`) on the calls that
    count (arrived in the measurement window), as ``collect`` computes them.
    """
    from sim.measure.kpi import KPIS, KPIData, split

    counted = calls if calls["counted"].all() else calls[calls["counted"]]
    # no status table: none of CALL_KPIS reads it, and split() leaves a missing table out
    data = KPIData(counted, None, scenario.service_level,  # type: ignore[arg-type]
                   targets=scenario.targets)
    whole = {k: float(KPIS[k].func(data)) for k in CALL_KPIS}
    days = {day: {k: float(KPIS[k].func(part)) for k in CALL_KPIS}
            for day, part in split(data, "day", list(range(scenario.horizon.days)))}
    return whole, days


def kpis_from_daily(scenario: Scenario, daily: pd.DataFrame) -> dict[str, float]:
    """The whole run's KPIs that a stored daily table determines, aggregated as the run does.

    Counts are the days' sums; a share over offered (or answered) calls is the sum of each
    day's share times its offered (answered) calls, rounded to the whole call it counts, over
    the total; a mean over answered calls (ASA, AHT) is weighted by answered calls; the worst
    interval is the worst day's. Service level only for the definitions ``offered`` and
    ``answered`` (the others' denominators are not in the table).
    """
    col = {c: daily[c].to_numpy(float) for c in daily.columns if c in CALL_KPIS}
    out: dict[str, float] = {}
    for c in ("offered", "answered", "abandoned", "closed"):
        if c in col:
            out[c] = float(col[c].sum())
    if "offered" not in out or "answered" not in out:
        return out
    totals = {"offered": out["offered"], "answered": out["answered"]}

    def count(share: str, over: str) -> float | None:
        v = col.get(share)
        if v is None or (np.isnan(v).all() and totals[over] > 0):
            return None  # the KPI has no value in this run (e.g. no repeat calls modelled)
        return float(np.rint(np.nan_to_num(v * col[over])).sum())

    def mean(kpi: str) -> float | None:
        v = col.get(kpi)
        if v is None:
            return None
        return _ratio(float(np.nansum(np.nan_to_num(v) * col["answered"])), totals["answered"])

    for kpi, over in (("abandon_rate", "offered"), ("p_wait", "offered"),
                      ("repeat_call_rate", "offered"), ("released_rate", "answered")):
        if kpi == "abandon_rate" and "abandoned" in out:
            out[kpi] = _ratio(out["abandoned"], totals["offered"])
        elif (n := count(kpi, over)) is not None:
            out[kpi] = _ratio(n, totals[over])
    definition = scenario.service_level.definition
    if definition in ("offered", "answered") and (n := count("service_level",
                                                             definition)) is not None:
        out["service_level"] = _ratio(n, totals[definition])
    for kpi in ("asa_s", "aht_s"):
        if (m := mean(kpi)) is not None:
            out[kpi] = m
    if "worst_interval_service_level" in col:
        v = col["worst_interval_service_level"]
        out["worst_interval_service_level"] = (float(np.nanmin(v)) if not np.isnan(v).all()
                                               else math.nan)
    return out


def _daily_from_intervals(scenario: Scenario, daily: pd.DataFrame, intervals: pd.DataFrame
                          ) -> list[str]:
    """Where the daily table disagrees with the intervals table (days whose calls all count).

    Day 0's warm-up calls are in its intervals but not in its KPIs: that day is compared
    only without a warm-up.
    """
    problems = []
    warm = scenario.horizon.warmup_minutes > 0
    by_day = intervals.groupby("day", sort=True)
    for _, row in daily.iterrows():
        day = int(row["day"])
        if (warm and day == 0) or day not in by_day.groups:
            continue
        iv = by_day.get_group(day)
        sl = iv["service_level"].to_numpy(float)
        sl = sl[~np.isnan(sl)]
        want = {c: float(iv[c].sum()) for c in ("offered", "answered", "abandoned", "closed")}
        want["worst_interval_service_level"] = float(sl.min()) if len(sl) else math.nan
        want["intervals_below_target"] = _ratio(
            float((sl < scenario.service_level.target).sum()), float(len(sl)))
        for c, v in want.items():
            if c in row and not _same(float(row[c]), v):
                problems.append(f"the daily table's {c} of day {day} is {float(row[c])!r} but "
                                f"its intervals give {v!r}")
    return problems


def kpi_mismatches(scenario: Scenario, tables: dict[str, pd.DataFrame],
                   kpis: dict[str, float]) -> list[str]:
    """Every stored KPI (and daily value) its own stored tables contradict, in words.

    What the tables determine is re-derived with the model's KPI functions and compared
    (relative tolerance ``REDERIVE_RTOL``): the whole run's KPIs from the ``calls`` table
    (when stored) and from the ``daily`` table aggregated; each day's values from the
    ``calls`` table and from the ``intervals`` table. An empty list: nothing contradicts.
    """
    problems: list[str] = []

    def check(derived: dict[str, float], source: str) -> None:
        for k, v in derived.items():
            if k in kpis and not _same(float(kpis[k]), v):
                problems.append(f"{k}: stored {float(kpis[k])!r}, but the {source} table "
                                f"gives {v!r}")

    calls, daily, intervals = (tables.get(n) for n in ("calls", "daily", "intervals"))
    try:
        if calls is not None and {"counted", "day", "outcome", "wait_s"} <= set(calls):
            whole, days = kpis_from_calls(scenario, calls)
            check(whole, "calls")
            if daily is not None and "day" in daily:
                for _, row in daily.iterrows():
                    for k, v in days.get(int(row["day"]), {}).items():
                        if k in row and not _same(float(row[k]), v):
                            problems.append(f"the daily table's {k} of day {int(row['day'])} "
                                            f"is {float(row[k])!r}, but the calls table gives "
                                            f"{v!r}")
        if daily is not None and "day" in daily:
            check(kpis_from_daily(scenario, daily), "daily")
            if intervals is not None and {"day", "service_level", "offered"} <= set(intervals):
                problems += _daily_from_intervals(scenario, daily, intervals)
    except (KeyError, ValueError, TypeError) as exc:  # a table without the expected columns
        problems.append(f"the tables cannot be re-derived ({type(exc).__name__}: {exc})")
    return problems
