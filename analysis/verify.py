"""``ccsim verify DIR``: checks that a result folder is what its scenarios, seeds and code give.

A result folder travels (negotiators exchange them, planners import colleagues' work); its
checksums only show that its files are as its manifests say, and anyone can recompute
them. Verifying a folder therefore does two things (``docs/experiments.md``, "Verifying a
result folder"):

- every stored replication: its manifest's checksum, every table's size and SHA-256, the
  folder it lies in (scenario, hash, seed, replication), and every KPI its tables determine
  re-derived with the model's own KPI functions (:func:`analysis.store.kpi_mismatches`);
  the folder's ``kpis.parquet`` and ``kpis.csv`` must carry the stored replications' KPIs;
- a random sample of replications (seeded: the same sample each time) simulated again
  from their scenario, seed and replication number, and compared byte for byte: every
  table's SHA-256 and every KPI;
- the pages people read (``report.html``, ``negotiate.html``, ``negotiate.json``) written
  again from the replications just checked and compared line by line
  (:mod:`analysis.verify_report`); ``negotiate.pdf``'s text compared with that page's.

A replication made by other model code (its ``model_digest`` differs from this ccsim's)
cannot be re-simulated: it is reported as unverifiable, never as verified.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.store import (
    MANIFEST,
    _manifest_checksum,
    _real_dir,
    _same,
    file_sha256,
    json_safe,
    kpi_mismatches,
    read_manifest_text,
    slug,
    to_parquet,
)
from analysis.verify_report import ReportCheck, check_reports

#: what a line printed to a terminal may not hold as such: C0 and C1 controls (an escape
#: sequence would act on the reader's terminal) and bidirectional overrides and isolates
#: (text shown in another order than stored); a received folder names its files
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown(line: str) -> str:
    """``line`` with every control or bidirectional character written as its escape."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                            line)

#: replications re-simulated by default (each costs one replication's run time)
DEFAULT_SAMPLE = 2
#: a stored table's name: what ccsim writes (letters, digits, underscores)
_TABLE = re.compile(r"[A-Za-z0-9_]{1,64}")
#: exit status of ``ccsim verify``: every replication checked and consistent
OK, FAILED, UNVERIFIABLE = 0, 1, 3


@dataclass
class RepCheck:
    """What verifying one stored replication found."""

    folder: Path
    status: str
    """``verified`` (simulated again: identical), ``re-derived`` (consistent with its own
    tables, not simulated again), ``unverifiable`` (other model code) or ``failed``."""
    problems: list[str] = field(default_factory=list)
    """What differs, one entry each (empty unless failed or unverifiable)."""


@dataclass
class Verification:
    """The verdict on a result folder: one :class:`RepCheck` per stored replication."""

    folder: Path
    checks: list[RepCheck]
    folder_problems: list[str]
    """Problems of the folder's own tables (``kpis.parquet``, ``kpis.csv``)."""
    sample: int
    seed: int
    reports: ReportCheck = field(default_factory=ReportCheck)
    """What checking ``report.html``, ``negotiate.html`` and ``negotiate.pdf``'s text found;
    its problems are among ``folder_problems``."""

    def count(self, status: str) -> int:
        """Replications with ``status``."""
        return sum(c.status == status for c in self.checks)

    @property
    def status(self) -> int:
        """Exit status: 0 consistent, 1 something failed, 3 unverifiable.

        Unverifiable: made by other model code, or a report (or part of one) that could not
        be checked; a PDF whose text was checked is said to have its picture not checked.
        """
        if self.folder_problems or self.count("failed"):
            return FAILED
        return UNVERIFIABLE if self.count("unverifiable") or self.reports.not_checked else OK

    def text(self) -> str:
        """The verdict in words: one line per failing replication, then the summary."""
        lines = []
        for c in self.checks:
            if c.status in ("failed", "unverifiable"):
                lines += [f"{c.status.upper()}: {c.folder}: {p}" for p in c.problems]
        lines += [f"FAILED: {self.folder}: {p}" for p in self.folder_problems]
        lines += [f"NOT CHECKED: {self.folder}/{p}" for p in (*self.reports.not_checked,
                                                              *self.reports.pdf_not_checked)]
        lines += [f"{self.folder}/{p}" for p in self.reports.checked]
        n = len(self.checks)
        summary = (f"{self.folder}: {n} stored replication(s): {self.count('verified')} "
                   f"simulated again and identical (a sample of {self.sample}, seed "
                   f"{self.seed}), {self.count('re-derived')} consistent with their own "
                   f"tables (not simulated again), {self.count('unverifiable')} unverifiable "
                   f"(other model code), {self.count('failed')} failed")
        verdict = {OK: "verified", FAILED: "FAILED: do not use this folder's results",
                   UNVERIFIABLE: "NOT VERIFIED: made by other model code" if
                   self.count("unverifiable") else
                   "NOT VERIFIED: a report could not be checked"}[self.status]
        if self.status == OK and self.reports.pdf_not_checked:
            verdict += " (but for the PDF's picture and layout, not checked)"
        # names of a received folder's files are shown, never obeyed by the terminal
        return "\n".join(shown(line) for line in [*lines, f"{summary}: {verdict}"])

    def as_json(self) -> dict[str, Any]:
        """The ``ccsim verify --json`` object."""
        return json_safe({
            "folder": str(self.folder), "status": self.status,
            "verified": self.status == OK, "sample": self.sample, "seed": self.seed,
            "counts": {s: self.count(s) for s in ("verified", "re-derived", "unverifiable",
                                                  "failed")},
            "replications": [{"folder": str(c.folder), "status": c.status,
                              "problems": c.problems} for c in self.checks],
            "folder_problems": self.folder_problems,
            "reports": {"checked": self.reports.checked,
                        "not_checked": [*self.reports.not_checked,
                                        *self.reports.pdf_not_checked]},
        })


def _read_manifest(path: Path) -> dict[str, Any]:
    """A manifest as data: a regular file (no link followed), bounded in size, a JSON object."""
    try:
        text = read_manifest_text(path)
    except FileNotFoundError:
        raise ValueError("no manifest.json (an unfinished or damaged replication)") from None
    except OSError as exc:
        raise ValueError(f"manifest.json cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError("manifest.json is not UTF-8 text") from None
    try:
        manifest = json.loads(text)
    except ValueError:
        raise ValueError("manifest.json is not valid JSON (truncated?)") from None
    if not isinstance(manifest, dict):
        raise ValueError("manifest.json is not a JSON object")
    return manifest


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _check_stored(folder: Path, current_digest: str) -> tuple[RepCheck, Any]:
    """Check one stored replication without simulating it; with what a re-simulation needs."""
    from sim.scenario import scenario_from_dict

    check = RepCheck(folder, "failed")
    try:
        manifest = _read_manifest(folder / MANIFEST)
    except ValueError as exc:
        check.problems.append(str(exc))
        return check, None
    if manifest.get("checksum") != _manifest_checksum(manifest):
        check.problems.append("the manifest's checksum does not match its content (edited?)")
        return check, None
    try:
        scenario = scenario_from_dict(manifest.get("scenario") or {}, f"{folder}/{MANIFEST}")
    except ValueError as exc:
        check.problems.append(f"its scenario is not valid: {exc}")
        return check, None
    seed, rep = manifest.get("seed"), manifest.get("replication")
    if scenario.digest() != manifest.get("scenario_hash"):
        check.problems.append(f"scenario_hash {manifest.get('scenario_hash')!r} is not the "
                              f"hash of its scenario ({scenario.digest()})")
    if not isinstance(seed, int) or not isinstance(rep, int):
        check.problems.append(f"seed {seed!r} and replication {rep!r} must be whole numbers")
        return check, None
    group = f"{slug(scenario.name)}-{scenario.digest()[:12]}-seed{seed}"
    if (folder.parent.name, folder.name) != (group, f"rep-{rep:05d}"):
        check.problems.append(f"it lies in {folder.parent.name}/{folder.name}, but its "
                              f"manifest is for {group}/rep-{rep:05d}")
    names = manifest.get("tables") or []
    recorded = manifest.get("files") or {}
    tables: dict[str, pd.DataFrame] = {}
    for name in names:
        if not isinstance(name, str) or not _TABLE.fullmatch(name):
            check.problems.append(f"table name {name!r} is not one ccsim writes")
            continue
        path = folder / f"{name}.parquet"
        want = recorded.get(name) or {}
        if not _regular(path):
            check.problems.append(f"{path.name} is missing or not a regular file")
            continue
        if path.stat().st_size != want.get("bytes") or file_sha256(path) != want.get("sha256"):
            check.problems.append(f"{path.name} does not match its recorded size and SHA-256")
            continue
        try:
            tables[name] = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            check.problems.append(f"{path.name} cannot be read: {exc}")
    if check.problems:
        return check, None
    digest = (manifest.get("provenance") or {}).get("model_digest")
    if digest != current_digest:
        check.status = "unverifiable"
        check.problems.append(f"made by other model code (model digest {digest}; this ccsim's "
                              f"is {current_digest}): it cannot be simulated again here, and "
                              "its KPIs may follow other definitions")
        return check, None
    raw = manifest.get("kpis") or {}
    try:
        kpis = {k: math.nan if v is None else float(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        check.problems.append("its KPIs are not numbers")
        return check, None
    check.problems += kpi_mismatches(scenario, tables, kpis)
    if check.problems:
        return check, None
    check.status = "re-derived"
    return check, (scenario, seed, rep, manifest, tables)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds (so messages read ``0.5``)."""
    return value.item() if hasattr(value, "item") else value


def _table_difference(name: str, stored: pd.DataFrame, fresh: pd.DataFrame) -> str:
    """What differs between a stored table and the same table simulated again, in words."""
    if list(stored.columns) != list(fresh.columns):
        return f"the {name} table's columns differ"
    if len(stored) != len(fresh):
        return f"the {name} table has {len(stored)} rows; simulated again, {len(fresh)}"
    for col in stored.columns:
        a, b = stored[col].reset_index(drop=True), fresh[col].reset_index(drop=True)
        same = (a == b) | (a.isna() & b.isna())
        if not bool(same.all()):
            row = int((~same).to_numpy().nonzero()[0][0])
            return (f"the {name} table differs in column {col} ({int((~same).sum())} row(s); "
                    f"row {row}: stored {_plain(a[row])!r}, simulated again "
                    f"{_plain(b[row])!r})")
    return f"the {name} table's bytes differ (same values: another Parquet writer?)"


def _resimulate(check: RepCheck, info: tuple) -> None:
    """Simulate a replication again and compare it byte for byte with what is stored."""
    from analysis.experiment import Task, guard, run_task
    from sim.people.observe import OBSERVERS
    from sim.scenario import scenario_from_dict

    scenario, seed, rep, manifest, tables = info
    guard.check([scenario], 1, 1)  # a received scenario too large to run is refused first
    observe = tuple(n for n in tables if n in OBSERVERS)
    plain = tuple(n for n in tables if n not in OBSERVERS)
    individual = "calls" in tables and "agent" in tables["calls"].columns
    # warmed under another scenario's regime (--from): that scenario, as the run recorded it
    old = (manifest.get("provenance") or {}).get("warmup_from")
    start_from = scenario_from_dict(old, "warmup_from of the replication's provenance") if old \
        else None
    out = run_task(Task(0, scenario, seed, rep, plain, individual, observe,
                        start_from=start_from))
    problems = []
    fresh_kpis = json.loads(json.dumps(json_safe(out.kpis), allow_nan=False))
    for k, v in (manifest.get("kpis") or {}).items():
        if fresh_kpis.get(k, "absent") != v:
            problems.append(f"KPI {k}: stored {v!r}, simulated again {fresh_kpis.get(k)!r}")
    recorded = manifest.get("files") or {}
    with tempfile.TemporaryDirectory(prefix="ccsim-verify-") as tmp:
        for name, df in out.tables.items():
            path = Path(tmp) / f"{name}.parquet"
            to_parquet(df, path)
            if file_sha256(path) != (recorded.get(name) or {}).get("sha256"):
                problems.append(_table_difference(name, tables[name], df)
                                + "; its SHA-256 differs")
    if problems:
        check.status = "failed"
        check.problems = ["simulated again from its scenario, seed and replication, it "
                          "differs: " + p for p in problems]
    else:
        check.status = "verified"


def _folder_tables(folder: Path, stored: dict[tuple[str, int], list[dict[str, Any]]],
                   complete: bool) -> list[str]:
    """Where the folder's ``kpis.parquet`` / ``kpis.csv`` disagree with its replications.

    ``stored``: (scenario name, replication) -> the KPIs of the replications that passed
    (a resumed folder may keep an older version of a scenario beside the current one).
    ``complete``: every replication passed, so a row without one is itself a problem (else
    the failing replication is reported already).
    """
    problems = []
    for name in ("kpis.parquet", "kpis.csv"):
        path = folder / name
        if not path.exists() and not path.is_symlink():
            continue
        if not _regular(path):
            problems.append(f"{name} is not a regular file")
            continue
        try:
            df = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
        except (OSError, ValueError) as exc:
            problems.append(f"{name} cannot be read: {exc}")
            continue
        if not {"scenario", "replication"} <= set(df.columns):
            problems.append(f"{name} has no scenario and replication columns")
            continue
        for row in df.to_dict(orient="records"):
            key = (str(row["scenario"]), int(row["replication"]))
            candidates = stored.get(key)
            if candidates is None:
                if complete:
                    problems.append(f"{name}: scenario {key[0]!r}, replication {key[1]}: no "
                                    "stored replication carries it")
                continue
            wrong = [[f"{k} is {float(v)!r}, its replication says {kpis[k]!r}"
                      for k, v in row.items() if k in kpis and not _same(float(v),
                                                                         float(kpis[k]))]
                     for kpis in candidates]
            if all(wrong):
                problems.append(f"{name}: scenario {key[0]!r}, replication {key[1]}: "
                                + "; ".join(wrong[0]))
    return problems


def verify_folder(folder: Path, sample: int = DEFAULT_SAMPLE, seed: int = 0,
                  progress: Any = None) -> Verification:
    """Check every stored replication of a result folder; re-simulate ``sample`` of them.

    The sample is drawn (``random.Random(seed)``) among the replications that pass the
    stored checks and were made by this model code, so the same call checks the same
    replications. Raises ``ValueError`` when ``folder`` is not a result folder.
    """
    from sim.model import model_digest

    folder = Path(folder)
    store = folder / "replications"
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder; give a result folder (one with "
                         "replications/)")
    if not _real_dir(store):
        raise ValueError(f"{folder}: no replications/ folder (a link is not followed); "
                         "give a folder ccsim run, compare, sweep, staff or sensitivity wrote")
    digest = model_digest()
    checks: list[RepCheck] = []
    passed: list[tuple[RepCheck, tuple]] = []
    groups = []
    for group in sorted(store.iterdir()):  # --from experiments store apart: one level down
        if group.name.startswith("from-") and group.is_dir() and not group.is_symlink():
            groups += sorted(group.iterdir())
        else:
            groups.append(group)
    for group in groups:
        if group.name.startswith("."):
            continue
        if group.is_symlink() or not group.is_dir():
            checks.append(RepCheck(group, "failed", ["not a folder (a link is not followed)"]))
            continue
        for rep in sorted(group.iterdir()):
            if rep.name.startswith("."):
                continue
            if rep.is_symlink() or not rep.is_dir():
                checks.append(RepCheck(rep, "failed", ["not a folder (a link is not "
                                                       "followed)"]))
                continue
            check, info = _check_stored(rep, digest)
            checks.append(check)
            if info is not None:
                passed.append((check, info))
    if not checks:
        raise ValueError(f"{folder}: replications/ holds no stored replication")
    chosen = random.Random(seed).sample(range(len(passed)), min(max(0, sample), len(passed)))
    for i in sorted(chosen):
        _resimulate(*passed[i])
        if progress is not None:
            progress(1)
    stored: dict[tuple[str, int], list[dict[str, Any]]] = {}
    scenarios: dict[str, Any] = {}
    for check, info in passed:
        if check.status != "failed":
            raw = info[3].get("kpis") or {}
            order = info[3].get("kpi_order") or list(raw)
            kpis = {n: math.nan if raw.get(n) is None else raw[n] for n in order}
            stored.setdefault((info[0].name, info[2]), []).append(kpis)
            scenarios[info[0].name] = info[0]
    complete = all(c.status in ("verified", "re-derived") for c in checks)
    problems = _folder_tables(folder, stored, complete)
    problems += _comparison(folder, stored, scenarios, complete)
    infos: dict[tuple[str, int], list[tuple]] = {}
    for check, info in passed:
        if check.status != "failed":
            kpis = stored[info[0].name, info[2]][0] if len(
                stored[info[0].name, info[2]]) == 1 else dict(info[3].get("kpis") or {})
            infos.setdefault((info[0].name, info[2]), []).append((*info, kpis))
    # the pages are drawn from the replications, not from the folder's other tables:
    # checked whenever every replication passed
    reports = check_reports(folder, infos, _kpi_reps(folder),
                            None if complete else "not every stored replication passed")
    problems += reports.problems
    return Verification(folder, checks, problems, min(sample, len(passed)), seed, reports)


def _kpi_reps(folder: Path) -> dict[str, list[int]]:
    """The replications the folder's kpis table lists, per scenario (checked before)."""
    for name in ("kpis.parquet", "kpis.csv"):
        path = folder / name
        if _regular(path):
            try:
                df = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
                out: dict[str, list[int]] = {}
                for s, r in zip(df["scenario"], df["replication"], strict=True):
                    out.setdefault(str(s), []).append(int(r))
                return {s: sorted(r) for s, r in out.items()}
            except (OSError, ValueError, KeyError):
                continue
    return {}


def _leaves(data: Any, path: str = "") -> dict[str, Any]:
    """Every number (or null) of a JSON value by its dotted path."""
    if isinstance(data, dict):
        return {k: v for key, val in data.items()
                for k, v in _leaves(val, f"{path}.{key}" if path else str(key)).items()}
    if isinstance(data, bool) or not isinstance(data, int | float | None):
        return {}
    return {path: data}


def _comparison(folder: Path, stored: dict[tuple[str, int], list[dict[str, Any]]],
                scenarios: dict[str, Any], complete: bool) -> list[str]:
    """Where ``comparison.json`` disagrees with the comparison its replications give.

    The estimates and paired differences are computed again (:func:`analysis.report.compare`)
    from the stored replications' KPIs, on the replications and with the confidence and
    primary KPIs it names; every number is compared (relative tolerance 1e-9).
    """
    from analysis.experiment import Experiment, RepOutput
    from analysis.report import compare

    path = folder / "comparison.json"
    if not path.exists() and not path.is_symlink():
        return []
    try:
        data = json.loads(read_manifest_text(path))
        names = [data["baseline"], *data["differences"]]
        reps = [int(r) for r in data["replications"]]
        confidence, primary = float(data["confidence"]), list(data["primary"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"comparison.json cannot be read as a comparison ({exc})"]
    missing = [(n, r) for n in names for r in reps if len(stored.get((n, r), [])) != 1]
    if missing:
        n, r = missing[0]
        return ([f"comparison.json: scenario {n!r}, replication {r}: no single stored "
                 "replication carries it"] if complete else [])
    exp = Experiment([scenarios[n] for n in names], 0)
    for i, n in enumerate(names):
        for r in reps:
            exp.outputs[i, r] = RepOutput(i, r, stored[n, r][0], {}, {})
    try:
        again = compare(exp, confidence, primary, data.get("selection")).as_json()
    except ValueError as exc:
        return [f"comparison.json cannot be computed again ({exc})"]
    problems = []
    for part in ("scenarios", "differences"):
        want, have = _leaves(again[part], part), _leaves(data.get(part), part)
        for key in sorted(set(want) | set(have)):
            a, b = have.get(key, "absent"), want.get(key, "absent")
            a_num = math.nan if a is None else a
            b_num = math.nan if b is None else b
            if isinstance(a_num, str) or isinstance(b_num, str) or not _same(float(a_num),
                                                                              float(b_num)):
                problems.append(f"comparison.json: {key} is {a!r}, its replications give {b!r}")
    return problems[:10]
