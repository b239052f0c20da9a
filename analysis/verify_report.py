"""``ccsim verify``: a result folder's reports checked against its verified replications.

Negotiators exchange ``negotiate.html`` and ``report.html``, not Parquet files; a number
edited in a page must be caught as surely as one edited in a table. Each report is
therefore written again, with the same functions that wrote it, from the replications
``ccsim verify`` has just checked (their stored tables and KPIs) into a temporary folder,
and the two pages are compared line by line: every headline sentence, every cell of every
table and every embedded figure (PNG byte for byte; the negotiate page's SVG with the
random ids and date matplotlib writes into it normalised). What cannot be derived is
named, never passed over:

- the provenance's wall time and the time a report was written differ on every run: those
  two rows are not compared;
- the command, executor and how many replications the command ran or resumed come from the
  folder's ``manifest.json`` (not results); the compare report's notes are derived ("Start:",
  and "Inputs:" from those counts), but for those of a ``--match`` search (and "Inputs:"
  after a selection), taken from the page;
- a figure drawn by another Matplotlib version cannot be compared byte for byte: the
  figures are then reported NOT CHECKED, and so is a report that cannot be rendered again
  (no comparison to render it from);
- ``negotiate.pdf``, printed by a browser, cannot be derived byte for byte (the browser
  writes the time and its own version into it). Its text is checked instead (:func:`pdf_text`,
  pypdf): every word and number, in order, must be the text of ``negotiate.html`` rendered
  again from the verified replications (:func:`page_text`), spacing, line breaks and
  ligatures aside, and a long table's header repeated at a page break allowed
  (:func:`page_pattern`); and it must hold no script, automatic action or attached file. What is
  drawn rather than written (the trade-off picture, or anything painted over the text as
  shapes or an image) and the layout are reported NOT CHECKED.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import html
import json
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from analysis.store import read_manifest_text, read_regular_bytes

#: rows of a report's provenance table that differ on every run (not results)
UNCOMPARED_ROWS = ("wall time (s)", "written")
#: a PNG's text chunk naming the Matplotlib that drew it
_SOFTWARE = re.compile(rb"tEXtSoftware\x00Matplotlib version([^\x00,]+)")
_IMG = re.compile(r'<img id="([^"]*)" alt="[^"]*" src="data:image/png;base64,([^"]*)">')
_CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)
_TABLE = re.compile(r'<table(?: class="([^"]*)")?>')


@dataclass
class ReportCheck:
    """What checking a folder's reports found."""

    problems: list[str] = field(default_factory=list)
    """Differences: each names the file and what differs (the folder then fails)."""
    not_checked: list[str] = field(default_factory=list)
    """Reports or parts that could not be checked, with why (never counted as verified)."""
    checked: list[str] = field(default_factory=list)
    """One line per report found identical to its re-derivation, saying what was compared."""
    pdf_not_checked: list[str] = field(default_factory=list)
    """What of a PDF whose text was checked is not (its picture and layout); said in the
    output (a PDF that cannot be checked at all is among ``not_checked``)."""


def _short(text: str, n: int = 160) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", text)).strip()
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


def _cells(line: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in _CELL.findall(line)]


def _sorted_json(cell: str) -> str:
    """A cell holding a JSON object with its keys sorted (a stored manifest sorts them)."""
    if not cell.startswith("{"):
        return cell
    try:
        value = json.loads(cell)
    except ValueError:
        return cell
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else cell


def _mask(lines: list[str]) -> list[str]:
    """The provenance rows that differ on every run replaced by a fixed line; JSON sorted.

    A replication's stored manifest has its keys sorted, so a provenance value such as the
    package versions comes back in another order than the run wrote it: the order is not
    compared.
    """
    out = []
    for line in lines:
        cells = _cells(line) if line.startswith("<tr>") else []
        if cells and cells[0] in UNCOMPARED_ROWS:
            line = f"<!-- {cells[0]}: not compared -->"
        elif cells and any(c.startswith("{") for c in cells):
            line = "<tr>" + "".join(f"<td>{html.escape(_sorted_json(c))}</td>"
                                    for c in cells) + "</tr>"
        out.append(line)
    return out


def _context(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Per line: the table it lies in (its class, or the heading above it) and its header.

    A line of an inline SVG picture lies in the table ``"<svg>"``.
    """
    out: list[tuple[str, list[str]]] = []
    table, header, heading, svg = "", [], "", False
    for line in lines:
        svg = svg or line.lstrip().startswith("<svg")
        if svg:
            out.append(("<svg>", []))
            svg = "</svg>" not in line
            continue
        h = re.search(r"<h[23]>(.*?)</h[23]>", line)
        if h:
            heading = _short(h.group(1), 80)
        m = _TABLE.search(line)
        if m:
            table = m.group(1) or heading
            header = _cells(line[m.end():]) if "<th>" in line else []
        out.append((table, header))
        if "</table>" in line:
            table, header = "", []
    return out


def _what(name: str, line: str, where: tuple[str, list[str]], other: str | None) -> str:
    """One differing line of ``name`` in words: what it is and how it differs."""
    img = _IMG.search(line)
    if img:
        return (f"{name}: figure {img.group(1)!r}: its embedded PNG is not the one drawn "
                "from the verified replications")
    if where[0] == "<svg>":
        return (f"{name}: the trade-off picture (SVG) is not the one drawn from the "
                "verified replications")
    if 'class="headline"' in line or 'class="answer"' in line:
        kind = "headline" if "headline" in line else "proposal's sentence"
        whole = 100_000  # a sentence is quoted whole: it is what people read
        return (f"{name}: a {kind} reads {_short(line, whole)!r}; the verified replications "
                f"give {_short(other, whole) if other is not None else '(no such sentence)'!r}")
    table, header = where
    if line.startswith("<tr>") and table:
        cells = _cells(line)
        theirs = _cells(other) if other is not None and other.startswith("<tr>") else []
        for j, cell in enumerate(cells):
            if j >= len(theirs) or cell != theirs[j]:
                col = header[j] if j < len(header) else f"column {j + 1}"
                give = theirs[j] if j < len(theirs) else "(no such cell)"
                return (f"{name}: table {table!r}, row {cells[0]!r}, {col!r}: it says "
                        f"{cell!r}; the verified replications give {give!r}")
        return (f"{name}: table {table!r}: a row the verified replications do not give "
                f"({_short(line)!r})")
    if other is None:
        return f"{name}: {_short(line)!r} is not what the verified replications give"
    return f"{name}: {_short(line)!r}; the verified replications give {_short(other)!r}"


def compare_pages(name: str, stored: str, fresh: str, limit: int = 10) -> list[str]:
    """What differs between a stored page and the same page rendered again, in words."""
    a, b = _mask(stored.splitlines()), _mask(fresh.splitlines())
    ctx = _context(a)
    problems: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op == "insert":
            problems.append(f"{name}: {_short(b[j1])!r} is missing (the verified replications "
                            "give it)")
            continue
        for k in range(i1, i2):
            other = b[j1 + k - i1] if j1 + k - i1 < j2 else None
            problems.append(_what(name, a[k], ctx[k], other))
    return list(dict.fromkeys(problems))[:limit]


def _normal_svg(page: str) -> str:
    """The page with what matplotlib writes differently each time in an SVG made equal.

    Its ids are salted with a random value (``svg.hashsalt`` unset) and its metadata
    carries the time drawn: both are renamed in order of appearance or dropped.
    """
    page = re.sub(r"<dc:date>[^<]*</dc:date>", "<dc:date></dc:date>", page)
    salted = dict.fromkeys(re.findall(r'id="([a-z]*[0-9a-f]{10})"', page))
    if not salted:
        return page
    names = {old: f"salted-id-{i}" for i, old in enumerate(salted)}
    return re.sub(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b",
                  lambda m: names[m.group(0)], page)


def _matplotlib_of(page: str) -> set[str]:
    """The Matplotlib versions that drew a page's embedded PNGs."""
    out = set()
    for m in _IMG.finditer(page):
        try:
            png = base64.b64decode(m.group(2), validate=True)
        except ValueError:
            continue
        found = _SOFTWARE.search(png)
        if found:
            out.add(found.group(1).decode("ascii", "replace"))
    return out


def _figures_other_matplotlib(page: str) -> str | None:
    """Why a page's figures cannot be compared byte for byte here, or None."""
    import matplotlib

    theirs = _matplotlib_of(page) - {matplotlib.__version__}
    if theirs:
        return (f"its figures were drawn by Matplotlib {', '.join(sorted(theirs))}; this "
                f"ccsim draws with {matplotlib.__version__}, whose PNG bytes differ")
    return None


def _without_figures(page: str) -> str:
    return _IMG.sub(lambda m: f'<img id="{m.group(1)}" (not compared)>', page)


def _read(path: Path) -> str:
    return read_manifest_text(path)  # regular file, no link followed, bounded, UTF-8


# --------------------------------------------------------------------------- the PDF

#: largest ``negotiate.pdf`` read (ccsim's are a few pages, about 100 kB)
MAX_PDF_BYTES = 16 << 20
#: PDF names that make a document act when opened or clicked, or carry other files: a page
#: printed by ccsim has none (links, ``/URI``, are harmless and allowed)
ACTIVE_PDF_NAMES = frozenset({
    "/JavaScript", "/JS", "/Launch", "/OpenAction", "/AA", "/EmbeddedFile",
    "/EmbeddedFiles", "/RichMedia", "/XFA", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"})
#: elements of a page whose text is not printed as text (or not printed at all)
_UNPRINTED = frozenset({"head", "style", "script", "title", "svg"})


class _PageText(HTMLParser):
    """The text a browser prints of a page: numbered list items get their numbers.

    ``parts`` holds the text in order, and after each body row of a table with a header
    None: where a page break may fall, and the browser prints the header again.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str | None] = []
        self.headers: list[str] = []  # the header text after each None of parts, in order
        self.skip = 0
        self.lists: list[int | None] = []  # per open list: the next number, None: bullets
        self.tables: list[list[str] | None] = []  # per open table: its header's text
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNPRINTED:
            self.skip += 1
        elif tag in ("ol", "ul"):
            self.lists.append(1 if tag == "ol" else None)
        elif tag == "li" and self.lists and self.lists[-1] is not None:
            self.parts.append(f"{self.lists[-1]}.")  # the browser writes an ol's numbers
            self.lists[-1] += 1
        elif tag == "table":
            self.tables.append(None)
        elif tag == "thead" and self.tables:
            self.tables[-1], self.in_head = [], True

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNPRINTED:
            self.skip = max(0, self.skip - 1)
        elif tag in ("ol", "ul") and self.lists:
            self.lists.pop()
        elif tag == "table" and self.tables:
            self.tables.pop()
        elif tag == "thead":
            self.in_head = False
        elif tag == "tr" and not self.in_head and self.tables and self.tables[-1]:
            self.parts.append(None)
            self.headers.append("".join(self.tables[-1]))

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)
            if self.in_head and self.tables and self.tables[-1] is not None:
                self.tables[-1].append(data)


def _letters(text: str) -> str:
    """Text without what printing changes: whitespace, ligatures (NFKC), invisible marks."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def _page_parts(page: str) -> _PageText:
    parser = _PageText()
    parser.feed(page)
    parser.close()
    return parser


def page_text(page: str) -> str:
    """What a browser prints of an HTML page as text, spacing aside (see :func:`_letters`)."""
    return _letters("".join(p for p in _page_parts(page).parts if p is not None))


def page_pattern(page: str) -> re.Pattern[str]:
    """:func:`page_text` as a pattern that also allows a table's header printed again.

    A table longer than a printed page is split between two rows, and the browser repeats
    its header on the next page: that header, once, may follow any of its body rows.
    """
    parser = _page_parts(page)
    headers = iter(parser.headers)
    out, run = [], []
    for p in parser.parts:
        if p is not None:
            run.append(p)
            continue
        out.append(re.escape(_letters("".join(run))))
        run = []
        out.append(f"(?:{re.escape(_letters(next(headers)))})?")
    out.append(re.escape(_letters("".join(run))))
    return re.compile("".join(out))


def _active_names(reader: Any) -> set[str]:
    """The :data:`ACTIVE_PDF_NAMES` used as keys or values anywhere in a PDF's objects."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    todo: list[Any] = [reader.trailer]
    while todo:
        obj = todo.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            found |= {str(k) for k in obj if k in ACTIVE_PDF_NAMES}
            todo.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            todo.extend(obj)
        elif isinstance(obj, NameObject) and obj in ACTIVE_PDF_NAMES:
            found.add(str(obj))
    return found


def pdf_text(data: bytes) -> tuple[str, set[str]]:
    """A PDF's text as :func:`page_text` gives a page's, and the active names it holds.

    Raises ``ValueError`` saying why when the bytes are not a PDF pypdf can read.
    """
    import io
    import logging

    from pypdf import PdfReader

    if not data.startswith(b"%PDF-"):
        raise ValueError("it does not start with %PDF-")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its repairs are not ours to print
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValueError("it is encrypted")
        text = "".join(page.extract_text() or "" for page in reader.pages)
        return _letters(text), _active_names(reader)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - a third-party parser on received bytes
        raise ValueError(f"pypdf cannot read it: {type(exc).__name__}: {exc}") from None


def _first_difference(mine: str, theirs: str, width: int = 40) -> str:
    """Where two texts (spacing removed) first differ: a short stretch of each."""
    n = 0
    while n < min(len(mine), len(theirs)) and mine[n] == theirs[n]:
        n += 1
    lo = max(0, n - width // 2)
    return (f"after {mine[lo:n][-width // 2:]!r}, the page reads {mine[n:n + width]!r} "
            f"and the PDF {theirs[n:n + width]!r}")


def check_pdf(out: ReportCheck, pdf: Path, fresh: str) -> None:
    """Check ``negotiate.pdf``'s text against ``fresh`` (its page rendered again); see above.

    A difference, active content or a file that is not a readable PDF is a problem; the
    picture and the layout are said to be not checked.
    """
    try:
        import pypdf  # noqa: F401 - a dependency of ccsim; an older install may lack it
    except ImportError:
        out.not_checked.append(f"{pdf.name}: not checked (pypdf, which reads its text, is not "
                               "installed: pip install pypdf)")
        return
    try:
        theirs, active = pdf_text(read_regular_bytes(pdf, MAX_PDF_BYTES))
    except (OSError, ValueError) as exc:
        out.problems.append(f"{pdf.name} cannot be read as a PDF ({exc})")
        return
    if active:
        out.problems.append(f"{pdf.name} holds {', '.join(sorted(active))} (scripts, actions "
                            "or attached files): ccsim prints none")
    mine = page_text(fresh)
    same = theirs == mine or page_pattern(fresh).fullmatch(theirs) is not None
    if not same:
        out.problems.append(
            f"{pdf.name}: its text is not that of the page the verified replications give "
            f"(spacing aside): {_first_difference(mine, theirs)}; print it again from the "
            "checked negotiate.html (no headers or footers)")
    if active or not same:
        return
    out.checked.append(
        f"{pdf.name}: its text (every word and number, in order; spacing and line breaks "
        "aside) is that of negotiate.html rendered again from the verified replications, "
        "and it holds no script, action or attached file")
    out.pdf_not_checked.append(
        f"{pdf.name}: its picture and layout: not checked (what is drawn rather than written, "
        "the trade-off picture or anything painted over the text, cannot be read back)")


def _experiment(folder: Path, names: list[str], reps: list[int],
                infos: dict[tuple[str, int], list[tuple]], manifest: dict[str, Any]) -> Any:
    """The experiment the report was written from, rebuilt from verified replications.

    Raises ``ValueError`` saying why it cannot be (a replication missing or ambiguous).
    """
    from analysis.experiment import Experiment, RepOutput
    from sim.scenario import scenario_from_dict

    hashes = {n: (s or {}).get("hash") for n, s in (manifest.get("scenarios") or {}).items()
              if isinstance(s, dict)}
    scenarios, outputs, seeds, start = [], {}, set(), None
    for i, n in enumerate(names):
        chosen = None
        for r in reps:
            found = infos.get((n, r), [])
            if len(found) > 1:  # a resumed folder keeping an older version: the manifest's
                found = [f for f in found if f[0].digest() == hashes.get(n)]
            if len(found) != 1:
                raise ValueError(f"scenario {n!r}, replication {r}: no single verified stored "
                                 "replication carries it")
            scenario, seed, rep, rep_manifest, tables, kpis = found[0]
            if chosen is not None and scenario.digest() != chosen.digest():
                raise ValueError(f"scenario {n!r}: its replications were run from different "
                                 "versions of it")
            chosen = scenario
            seeds.add(seed)
            prov = rep_manifest.get("provenance") or {}
            if prov.get("warmup_from") and start is None:
                start = scenario_from_dict(prov["warmup_from"], "warmup_from of a replication")
            outputs[i, r] = RepOutput(i, r, kpis, prov, tables)
        scenarios.append(chosen)
    if len(seeds) != 1:
        raise ValueError(f"its replications have {len(seeds)} seeds; a report has one")
    exp = Experiment(scenarios, seeds.pop(), outputs, start_from=start)
    exp.executor = str(manifest.get("executor", "serial"))
    exp.workers = int(manifest.get("workers", 1))
    exp.ran = int(manifest.get("replications_run", 0))
    exp.resumed = int(manifest.get("replications_resumed", 0))
    return exp


def _notes(stored: str, exp: Any, selection: dict[str, Any] | None, kind: str) -> list[str]:
    """The compare report's notes, derived where they can be.

    "Start:" (how the runs started) is derived; "Inputs:" (how many replications the command
    simulated or resumed) from the folder manifest's counts when no selection ran
    replications outside the table; the notes of a ``--match`` search are taken from the
    page. Any other paragraph there is not what ccsim writes, and the comparison of the
    pages names it.
    """
    from analysis.warmup import start_text

    lines = stored.splitlines()
    try:
        end = lines.index("<h2>Scenarios</h2><ul>")
    except ValueError:
        end = 0
    notes = []
    i = end - 1
    while i > 0 and re.fullmatch(r"<p>(.*)</p>", lines[i]) and \
            not lines[i].startswith("<p><b>Selection.</b>") and \
            "differs: the primary KPI" not in lines[i]:
        notes.insert(0, html.unescape(lines[i][3:-4]))
        i -= 1
    if selection is None and exp.ran + exp.resumed == len(exp.outputs):
        # the counts the folder's manifest recorded, in the words the command used
        counted = type(exp)(exp.scenarios, exp.seed, {
            key: dataclasses.replace(o, checked="simulated" if k < exp.ran else "re-derived")
            for k, (key, o) in enumerate(exp.outputs.items())})
        inputs = counted.inputs()["text"]
    else:
        inputs = next((n for n in notes if n.startswith("Inputs: ")), "")
    if kind == "negotiate":
        return [inputs]
    match = [n for n in notes if not n.startswith(("Inputs: ", "Start: "))] \
        if (selection or {}).get("match") else []
    start = "Start: " + "; ".join(start_text(exp, i) for i in range(len(exp.scenarios)))
    return [*match, *([inputs] if inputs else []), start]


def _check_page(out: ReportCheck, name: str, stored: str, fresh: str, tmp: Path,
                folder: Path, svg: bool = False) -> None:
    """Compare a page with its re-rendering; and the folder's figures/ with the fresh ones."""
    why = _figures_other_matplotlib(stored)
    if svg:
        stored, fresh = _normal_svg(stored), _normal_svg(fresh)
    if why:
        stored, fresh = _without_figures(stored), _without_figures(fresh)
        out.not_checked.append(f"{name}, its figures: {why}")
    found = compare_pages(name, stored, fresh)
    out.problems += found
    if not why and (tmp / "figures").is_dir():
        for png in sorted((tmp / "figures").iterdir()):
            mine = folder / "figures" / png.name
            try:
                same = mine.is_file() and not mine.is_symlink() and \
                    mine.read_bytes() == png.read_bytes()
            except OSError:
                same = False
            if not same:
                out.problems.append(f"figures/{png.name} is not the figure drawn from the "
                                    "verified replications (missing or altered)")
    if not found:
        out.checked.append(
            f"{name}: every sentence, table cell and figure is what the verified replications "
            f"give{' (but its figures: not checked)' if why else ''}"
            + ("" if svg else "; not compared: the provenance's wall time and time written"))


def check_reports(folder: Path, infos: dict[tuple[str, int], list[tuple]],
                  kpi_reps: dict[str, list[int]], blocked: str | None) -> ReportCheck:
    """Check ``report.html``, ``negotiate.html`` and ``negotiate.pdf``'s text (see above).

    ``infos``: (scenario name, replication) -> the verified stored replications as
    (scenario, seed, replication, manifest, tables, kpis); ``kpi_reps``: the replications
    the folder's kpis tables list per scenario (a run report's replications); ``blocked``:
    why the pages cannot be checked (a replication or a table of the folder failed, and is
    reported already), or None.
    """
    out = ReportCheck()
    report, page = folder / "report.html", folder / "negotiate.html"
    present = [p for p in (report, page) if p.exists() or p.is_symlink()]
    pdf = folder / "negotiate.pdf"
    pdf_why = _check_reports(out, folder, present, infos, kpi_reps, blocked)
    if pdf_why is not None and (pdf.exists() or pdf.is_symlink()):
        out.not_checked.append(f"{pdf.name}: not checked ({pdf_why})")
    return out


def _check_reports(out: ReportCheck, folder: Path, present: list[Path],
                   infos: dict[tuple[str, int], list[tuple]], kpi_reps: dict[str, list[int]],
                   blocked: str | None) -> str | None:
    """:func:`check_reports`' work; returns why ``negotiate.pdf`` was not checked (or None).

    The PDF (if any) is checked against ``negotiate.html`` rendered again, so it cannot be
    when that page is missing or cannot be rendered again.
    """
    page, pdf = folder / "negotiate.html", folder / "negotiate.pdf"
    pdf_why: str | None = "no negotiate.html beside it, the page it prints"
    if not present:
        return pdf_why
    if blocked:
        out.not_checked += [f"{p.name}: not checked ({blocked})" for p in present]
        return blocked
    try:
        manifest = json.loads(_read(folder / "manifest.json"))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        why = f"the folder's manifest.json cannot be read: {exc}"
        out.not_checked += [f"{p.name}: not checked ({why})" for p in present]
        return why
    with tempfile.TemporaryDirectory(prefix="ccsim-verify-") as tmp_name:
        tmp = Path(tmp_name)
        for path in present:
            try:
                stored = _read(path)
            except (OSError, ValueError) as exc:
                out.problems.append(f"{path.name} cannot be read ({exc})")
                if path == page:
                    pdf_why = f"{path.name}, the page it prints, cannot be read"
                continue
            try:
                if path == page:
                    fresh, wrong = _negotiate_page(folder, infos, manifest, list(kpi_reps))
                    out.problems += wrong
                    _check_page(out, path.name, stored, fresh, tmp / "page", folder, svg=True)
                    if pdf.exists() or pdf.is_symlink():
                        check_pdf(out, pdf, fresh)
                    pdf_why = None
                else:
                    fresh = _report(folder, stored, infos, kpi_reps, manifest, tmp / "report")
                    _check_page(out, path.name, stored, fresh, tmp / "report", folder)
            except ValueError as exc:
                out.not_checked.append(f"{path.name}: not checked ({exc})")
                if path == page:
                    pdf_why = f"{path.name}, the page it prints, cannot be rendered again"
            except (KeyError, IndexError, TypeError, AttributeError) as exc:
                # a received folder whose tables lack what the page is drawn from: the
                # page cannot be rendered again, so it is not checked (never a traceback)
                out.not_checked.append(f"{path.name}: not checked (it cannot be rendered "
                                       f"again from the stored tables: {type(exc).__name__}: "
                                       f"{exc})")
                if path == page:
                    pdf_why = f"{path.name}, the page it prints, cannot be rendered again"
    return pdf_why


def _comparison_data(folder: Path, order: list[str]) -> dict[str, Any]:
    """What ``comparison.json`` says to compare, with the scenarios in the command's order.

    The file's keys are sorted (it is written with sorted keys), so the order the command
    gave the scenarios in is taken from the kpis table (``order``), whose rows keep it.
    """
    try:
        data = json.loads(_read(folder / "comparison.json"))
        others = sorted(data["differences"], key=lambda n: (
            order.index(n) if n in order else len(order), n))
        return {"names": [data["baseline"], *others],
                "reps": [int(r) for r in data["replications"]],
                "confidence": float(data["confidence"]), "primary": list(data["primary"]),
                "selection": data.get("selection")}
    except FileNotFoundError:
        raise ValueError("no comparison.json to render it from") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"comparison.json cannot be read as a comparison ({exc})") from None


def _report(folder: Path, stored: str, infos: dict, kpi_reps: dict[str, list[int]],
            manifest: dict[str, Any], tmp: Path) -> str:
    """``report.html`` rendered again: ``ccsim run``'s or the comparison's, by its title."""
    command = {"command": str(manifest.get("command", ""))}
    if stored.startswith("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                         "<title>ccsim run: "):
        from analysis.run_report import write_run_report

        if len(kpi_reps) != 1:
            raise ValueError(f"a run report, but kpis.csv lists {len(kpi_reps)} scenarios")
        (name, reps), = kpi_reps.items()
        exp = _experiment(folder, [name], reps, infos, manifest)
        return write_run_report(exp, tmp, command).read_text(encoding="utf-8")
    from analysis.report import compare, write_report

    c = _comparison_data(folder, list(kpi_reps))
    exp = _experiment(folder, c["names"], c["reps"], infos, manifest)
    comp = compare(exp, c["confidence"], c["primary"], c["selection"])
    notes = _notes(stored, exp, c["selection"], str(manifest.get("kind", "")))
    return write_report(exp, comp, tmp, command, notes).read_text(encoding="utf-8")


def _negotiate_page(folder: Path, infos: dict, manifest: dict[str, Any],
                    order: list[str]) -> tuple[str, list[str]]:
    """``negotiate.html`` rendered again from the verified replications.

    The files the proposals were read from, the comparability warnings and the notes on
    how the runs were chosen are taken from ``negotiate.json`` (the base's file from the
    page's list of proposals); the sentences, numbers, costs and picture are derived.
    Returns the page and what differs in ``negotiate.json`` (rendered again too).
    """
    from analysis import negotiate as ng
    from analysis.i18n import language

    try:
        data = json.loads(_read(folder / "negotiate.json"))
        lang = str(data["language"])
        files = {n: Path(p["file"]) for n, p in data["proposals"].items()}
        warnings, notes = list(data["warnings"]), list(data["notes"])
    except FileNotFoundError:
        raise ValueError("no negotiate.json beside it") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"negotiate.json cannot be read ({exc})") from None
    c = _comparison_data(folder, order)
    exp = _experiment(folder, c["names"], c["reps"], infos, manifest)
    with language(lang):
        comp = ng.comparison(exp)  # the page's: service level adjusted for busyness
        base = exp.scenarios[0]
        stored = _read(folder / "negotiate.html")
        m = re.search(r"<li><b>" + re.escape(html.escape(ng.label(base))) + r"</b> \((.*?)\): ",
                      stored)
        files[base.name] = Path(html.unescape(m.group(1))) if m else Path("?")
        ans = ng.answer(comp, exp.scenarios, [files.get(s.name, Path("?"))
                                              for s in exp.scenarios], warnings)
        ans.notes = notes
        text = ng.page(ans, ng.page_info(exp, comp, str(manifest.get("command", ""))))
    fresh = json.loads(json.dumps(ans.as_json(), allow_nan=False))
    wrong = [f"negotiate.json: its {k!r} is not what the verified replications give"
             for k in sorted(set(fresh) | set(data)) if fresh.get(k) != data.get(k)]
    return text, wrong
