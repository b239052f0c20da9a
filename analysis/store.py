"""Writing results atomically: a reader never sees a half-written file."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model import model_digest
from sim.scenario import Scenario


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        fill(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
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
#: names ccsim writes into an output folder (a folder holding only these is ccsim output)
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


def _ours(name: str) -> bool:
    return (name in OUTPUT_NAMES or re.fullmatch(r"timeline-day\d+\.png", name) is not None
            or (name.startswith(".") and name.endswith((".tmp", ".old"))))


def claim_output(folder: Path, kind: str, label: str = "--out") -> Path:
    """Check, create and lock an output folder for command ``kind`` (``run``, ``compare``...).

    Refused with a ``ValueError`` that says why: ``folder`` is a file or a device; it
    holds files that ccsim did not write (nothing a user made is overwritten); it holds the
    output of another command; or another process holds its lock (``fcntl.flock``, released
    by the operating system when that process ends, however it ends). The lock is kept until
    :func:`release_outputs` or the end of the process. Temporary files left by a killed run
    are removed (safe: nobody else is writing while we hold the lock). ``label`` names the
    folder in messages (the option that gave it).
    """
    folder = Path(folder)
    key = folder.resolve()
    if key in _held:
        return folder
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            what = "a file" if folder.is_file() else ("a broken link" if not folder.exists()
                                                      else "not a folder (a device or pipe)")
            raise ValueError(f"{label} {folder}: is {what}; give a folder (new or empty, or "
                             "one ccsim wrote before, to resume it)")
        names = sorted(p.name for p in folder.iterdir())
        marker = _read_marker(folder)
        if marker is None:
            foreign = [n for n in names if not _ours(n)]
            if foreign:
                shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
                raise ValueError(f"{label} {folder}: the folder exists and holds files ccsim did "
                                 f"not write ({shown}); give a new or empty folder (nothing "
                                 "is overwritten)")
            legacy = _read_json(folder / "manifest.json")
            marker = legacy.get("kind") if isinstance(legacy, dict) else None
        if marker is not None and marker != kind:
            raise ValueError(f"{label} {folder}: holds the output of `ccsim {marker}`; give "
                             f"another folder for `ccsim {kind}` (nothing is overwritten)")
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
    """Release every output-folder lock this process holds."""
    while _held:
        key, fd = _held.popitem()
        _held_as_given.pop(key, None)
        os.close(fd)


def _lock(folder: Path, label: str) -> int:
    import fcntl

    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
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
    data = _read_json(folder / MARKER)
    return data.get("kind") if isinstance(data, dict) else None


def _remove_temporaries(folder: Path) -> None:
    """Remove the ``.NAME.*.tmp`` and ``.old`` files and folders a killed process left.

    Looked for in the output folder, its figure folders and its replication store.
    """
    places = [folder, *[p for p in (folder / "figures", folder / "plots") if p.is_dir()]]
    store = folder / "replications"
    if store.is_dir():
        places += [p for p in store.iterdir() if p.is_dir() and not p.name.startswith(".")]
        places.append(store)
    for place in places:
        for p in place.iterdir():
            if p.name.startswith(".") and p.name.endswith((".tmp", ".old")):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)


class StoreWarning(UserWarning):
    """A stored replication is damaged (or unreadable) and will be simulated again."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    exists with the recorded size and SHA-256. A truncated or altered replication is
    reported (:class:`StoreWarning`) and simulated again, never used. Nothing is pickled.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def folder(self, scenario: Scenario, seed: int, replication: int) -> Path:
        """Where replication ``replication`` of ``scenario`` with ``seed`` lives."""
        group = f"{slug(scenario.name)}-{scenario.digest()[:12]}-seed{seed}"
        return inside(self.root, group, f"rep-{replication:05d}")

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
            text = mpath.read_text(encoding="utf-8")
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
                size = p.stat().st_size
                ok = size == want.get("bytes") and file_sha256(p) == want.get("sha256")
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
        kpis = {k: (math.nan if raw[k] is None else float(raw[k])) for k in order}
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
            text = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False)
            (tmp / MANIFEST).write_text(text + "\n", encoding="utf-8")

        return atomic_dir(self.folder(scenario, seed, replication), fill)
