"""Writing results atomically: a reader never sees a half-written file."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


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
