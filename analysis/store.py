"""Writing results atomically: a reader never sees a half-written file."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
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


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as Parquet, atomically."""
    return atomic_write(path, lambda p: df.to_parquet(p, index=False))


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
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def slug(text: str) -> str:
    """A file-name-safe version of ``text`` (letters, digits, ``.``, ``_``, ``-``, ``=``)."""
    s = re.sub(r"[^A-Za-z0-9._=\-]+", "_", text).strip("_.")
    return s[:80] or "scenario"


class ReplicationStore:
    """One folder per finished replication under ``root``; the basis of resuming.

    ``root/<scenario>-<hash12>-seed<seed>/rep-00007/`` holds one Parquet file per table and
    ``manifest.json`` (scenario as data and its hash, seed, replication, KPIs, provenance,
    the tables written). Each folder appears by one atomic rename, so a replication is either
    finished or absent; it counts as finished only when its manifest names the same scenario
    hash, seed and model code (``model_digest``) and every table it lists exists. Nothing is
    pickled.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def folder(self, scenario: Scenario, seed: int, replication: int) -> Path:
        """Where replication ``replication`` of ``scenario`` with ``seed`` lives."""
        group = f"{slug(scenario.name)}-{scenario.digest()[:12]}-seed{seed}"
        return self.root / group / f"rep-{replication:05d}"

    def load(self, scenario: Scenario, seed: int, replication: int,
             kpis: Iterable[str] = ()) -> dict[str, Any] | None:
        """The stored replication as ``{"kpis", "provenance", "tables"}``, or None if unfinished.

        ``kpis``: KPI names the caller needs; a replication stored by an older model that
        lacks one of them is treated as unfinished (so it is simulated again).
        """
        folder = self.folder(scenario, seed, replication)
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (manifest.get("scenario_hash") != scenario.digest() or manifest.get("seed") != seed
                or manifest.get("replication") != replication
                or manifest.get("provenance", {}).get("model_digest") != model_digest()):
            return None  # another scenario, seed, or model code: simulate it again
        files = {name: folder / f"{name}.parquet" for name in manifest.get("tables", [])}
        if not all(p.is_file() for p in files.values()):
            return None
        try:
            tables = {name: pd.read_parquet(p) for name, p in files.items()}
        except (OSError, ValueError):
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
            for name, df in tables.items():
                df.to_parquet(tmp / f"{name}.parquet", index=False)
            text = json.dumps(json_safe({
                "scenario": scenario.to_dict(), "scenario_hash": scenario.digest(),
                "seed": seed, "replication": replication, "kpis": kpis,
                "kpi_order": list(kpis),
                "tables": sorted(tables), "provenance": provenance,
            }), indent=2, sort_keys=True, default=str, allow_nan=False)
            (tmp / MANIFEST).write_text(text + "\n", encoding="utf-8")

        return atomic_dir(self.folder(scenario, seed, replication), fill)
