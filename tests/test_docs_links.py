"""The documentation is self-contained and names only what exists.

A fresh clone has nothing beside the repository, so README, docs, notebooks, scenario files
and the package's own texts must not send a reader outside it (the team's notes, absolute
paths of one machine); literature on the web (http, https) is fine. ``docs/design.md``
describes the model as built, so every path and every dotted ``sim.``/``analysis.`` name it
writes in backquotes must exist, or the page has drifted from the code; the same holds for
README and every other page of ``docs/``.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: names of the team's notes outside the repository (docs/case.md, docs/evidence.md and
#: docs/design.md are the project's own versions; matched case-sensitively, so the lower-case
#: project files do not count)
OUTSIDE_NAMES = ("STRESS-EVIDENCE", "CASE.md", "DESIGN.md", "../shared", "shared/context")
#: absolute paths of a particular machine
ABSOLUTE = re.compile(r"(?<![\w.~])/(?:work|home|Users|root|mnt)/")
#: a Markdown link or image: [text](target)
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
#: files a newcomer reads, by pattern under the repository
READ = ("README.md", "docs/*.md", "notebooks/*.ipynb", "notebooks/README.md",
        "scenarios/README.md", "scenarios/**/*.toml", "bench/README.md")
#: the package's sources: their strings become errors, field sources and reports
CODE = ("sim/**/*.py", "analysis/**/*.py")

DESIGN = ROOT / "docs" / "design.md"
#: a backquoted path of the repository (a top-level folder, then anything)
PATH = re.compile(r"^(?:sim|analysis|tests|docs|scenarios|notebooks|bench)/[\w./-]*$")
#: a backquoted dotted name of the package
DOTTED = re.compile(r"^(?:sim|analysis|tests)(?:\.\w+)+$")


def files(patterns: tuple[str, ...]) -> list[Path]:
    """The repository's files matching ``patterns``, each once, in a stable order."""
    found = {p for pattern in patterns for p in ROOT.glob(pattern) if p.is_file()}
    return sorted(found)


def text_of(path: Path) -> str:
    """What a reader sees of a file: a notebook's cell sources and outputs, else the text."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts: list[str] = []
    for cell in nb["cells"]:
        parts.append("".join(cell.get("source", "")))
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            for kind, value in out.get("data", {}).items():
                if kind.startswith("text/"):
                    parts.append("".join(value))
    return "\n".join(parts)


def outside_references(path: Path, text: str | None = None) -> list[str]:
    """Every reference in ``path`` (or ``text`` read there) to outside the repository."""
    bad = []
    for n, line in enumerate((text_of(path) if text is None else text).splitlines(), 1):
        hits = [name for name in OUTSIDE_NAMES if name in line]
        hits += ABSOLUTE.findall(line)
        links = MD_LINK.findall(line) if path.suffix in (".md", ".ipynb") else []
        for target in links:
            if re.match(r"^(?:https?:|mailto:|#|data:)", target):
                continue
            where = (path.parent / target.split("#")[0]).resolve()
            if not where.is_relative_to(ROOT) or not where.exists():
                hits.append(target)
        bad += [f"{n}: {hit}" for hit in hits]
    return bad


def test_outside_references_are_found():
    """The checker finds each kind of reference to outside the repository, not web links."""
    text = ("see ../shared/DESIGN.md\nSTRESS-EVIDENCE §6\n[c](../../CASE.md)\n/work/main/x\n"
            "[ok](case.md) and <https://example.org/a/../b>\n[gone](nowhere.md)\n")
    found = outside_references(ROOT / "docs" / "probe.md", text)
    assert found == ["1: DESIGN.md", "1: ../shared", "2: STRESS-EVIDENCE", "3: CASE.md",
                     "3: ../../CASE.md", "4: /work/", "6: nowhere.md"]


@pytest.mark.parametrize("path", files(READ) + files(CODE),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reference_outside_the_repository(path):
    """README, docs, notebooks, scenarios and the package cite only the repository's files."""
    assert outside_references(path) == [], (
        f"{path.relative_to(ROOT)} refers outside the repository; cite docs/case.md, "
        f"docs/evidence.md §N or docs/design.md instead")


def named_in(page: Path = DESIGN) -> tuple[list[str], list[str]]:
    """The paths and the dotted names ``page`` writes in backquotes."""
    quoted = re.findall(r"`([^`\n]+)`", page.read_text(encoding="utf-8"))
    paths = sorted({q for q in quoted if PATH.match(q)})
    dotted = sorted({q for q in quoted if DOTTED.match(q)})
    return paths, dotted


def resolve(name: str) -> object:
    """The object a dotted name denotes: the longest importable module, then attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)  # AttributeError names what is missing
        return obj
    raise ModuleNotFoundError(name)


def test_design_names_enough_to_check():
    """docs/design.md names the packages it describes (so the checks below are not vacuous)."""
    paths, dotted = named_in()
    for package in ("sim/engine/", "sim/people/", "sim/regime/", "sim/measure/",
                    "sim/planning/", "sim/scenario/", "sim/model.py", "sim/start.py"):
        assert package in paths
    assert "sim.model.simulate" in dotted and len(dotted) > 50


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: files the docs tell a reader to make (``ccsim import-acd ... --out scenarios/mine.toml``)
MADE_BY_READER = {"scenarios/mine.toml"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(page):
    """Every file or folder docs/design.md (or README, another page) names exists."""
    paths, _ = named_in(page)
    missing = [p for p in paths if not (ROOT / p).exists() and p not in MADE_BY_READER]
    assert missing == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_dotted_names_exist(page):
    """Every module, class, function or constant a page names by dotted name exists."""
    _, dotted = named_in(page)
    missing = []
    for name in dotted:
        try:
            resolve(name)
        except (ImportError, AttributeError) as err:
            missing.append(f"{name}: {err}")
    assert missing == []
