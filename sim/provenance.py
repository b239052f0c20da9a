"""Where a run's numbers came from: package versions, git revision, the model's digest."""

from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

#: the model package whose source decides a replication's numbers
MODEL_ROOT = Path(__file__).resolve().parent


@functools.cache
def versions() -> dict[str, Any]:
    """Package versions, Python, machine and git revision of the code that ran."""
    pkgs = {}
    for name in ("ccsim", "simpy", "numpy", "pandas", "scipy", "pydantic"):
        try:
            pkgs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pkgs[name] = None
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=MODEL_ROOT,
            capture_output=True, text=True, timeout=5, check=False,
        )
        rev = proc.stdout.strip() if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        rev = None
    return {"versions": pkgs, "python": platform.python_version(),
            "machine": platform.machine(), "git_revision": rev, "model_digest": model_digest()}


@functools.cache
def model_digest() -> str:
    """SHA-256 of the model's source: every ``.py`` and ``.toml`` file under ``sim/``.

    Stored replications from other model code differ. Unlike the git revision it also
    covers uncommitted edits; it walks subpackages too, so an edit anywhere in the model
    (not only ``sim/*.py``) invalidates stored results, and it ignores changes outside the
    model (analysis, docs), which cannot change a replication's numbers.
    """
    h = hashlib.sha256()
    files = sorted(p for p in MODEL_ROOT.rglob("*")
                   if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts)
    for path in files:
        h.update(path.relative_to(MODEL_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
