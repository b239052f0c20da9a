"""``ccsim verify`` checks the pages people read: ``ccsim run``'s report and the negotiate page.

A run folder (one replication) and a negotiate folder (two small stressed scenarios, two
runs each) are made once; each test edits a copy the way a forger would (a KPI cell, a
figure file, a proposal's sentence, a number in the picture, negotiate.json, the Matplotlib
that drew the figures) and checks the exact verdict. ``test_verify.py`` does the same for
the compare report.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
from pathlib import Path

import matplotlib
import pytest
import tomli_w

from analysis.cli import main
from analysis.store import release_outputs
from tests.conftest import small_dict
from tests.test_experiment_staff import SMALL

pytestmark = pytest.mark.usefixtures("no_output_locks")

SUMMARY = ("{folder}: {n} stored replication(s): 0 simulated again and identical (a sample of "
           "0, seed 0), {n} consistent with their own tables (not simulated again), 0 "
           "unverifiable (other model code), 0 failed: ")
CHECKED = ("{folder}/{page}: every sentence, table cell and figure is what the verified "
           "replications give")
PROVENANCE = "; not compared: the provenance's wall time and time written"
HOSTILE_DESCRIPTION = 'Strict <script>alert("d")</script>'
HOSTILE_RATIONALE = "<img src=x onerror=alert(1)> & </li></ul><h1>forged</h1>"


@pytest.fixture(autouse=True)
def whole_lines(monkeypatch):
    """Lines as verify writes them, unwrapped: each finding is compared as one line."""
    monkeypatch.setenv("CCSIM_WIDTH", "100000")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """``ccsim run`` of the small centre, one replication; its shifts not in sorted order.

    Shift ``z`` comes first: the order of shifts numbers the agents, so verify must read
    the scenario back in its own order (a manifest with sorted keys lost it).
    """
    root = tmp_path_factory.mktemp("run")
    (root / "small.toml").write_text(SMALL.replace("[staffing.shifts.a]", "[staffing.shifts.z]"))
    assert main(["run", str(root / "small.toml"), "--reps", "1", "--out", str(root / "out"),
                 "--executor", "serial", "--quiet", "--json"]) == 0
    release_outputs()
    return root / "out"


@pytest.fixture(scope="module")
def negotiate_folder(tmp_path_factory) -> Path:
    """``ccsim negotiate`` of a small stressed centre against two proposals, team and login.

    Given in that order, which is not the sorted one: the page keeps the command's order.
    """
    root = tmp_path_factory.mktemp("negotiate")
    base = small_dict(stress={"enabled": True}, teams={"size": 5},
                      horizon={"days": 1, "open": "08:00", "hours": 2, "interval_minutes": 30,
                               "warmup_days": 0},
                      measurement={"level": "individual"})
    del base["name"]
    # a received scenario's text is shown as text: HTML in it is never markup (the pages)
    base["description"] = HOSTILE_DESCRIPTION
    base["rationale"] = HOSTILE_RATIONALE
    (root / "strict.toml").write_text(tomli_w.dumps(base))
    (root / "team.toml").write_text(tomli_w.dumps({
        "extends": "strict.toml", "description": "Team level", "rationale": "tests",
        "measurement": {"level": "team"}}))
    (root / "login.toml").write_text(tomli_w.dumps({
        "extends": "strict.toml", "description": "Paid log-in", "rationale": "tests",
        "measurement": {"adherence": {"paid_login_minutes": 10}}}))
    assert main(["negotiate", str(root / "team.toml"), str(root / "login.toml"),
                 "--base", str(root / "strict.toml"),
                 "--out", str(root / "out"), "--executor", "serial", "--reps", "2",
                 "--no-pdf", "--quiet", "--json"]) == 0
    release_outputs()
    return root / "out"


def verify(capsys, folder: Path) -> tuple[int, list[str]]:
    """``ccsim verify FOLDER --sample 0``: exit status and the lines printed."""
    status = main(["verify", str(folder), "--sample", "0"])
    return status, capsys.readouterr().out.splitlines()


def test_a_run_report_forged_in_a_cell_and_a_figure_file_is_named(capsys, run_folder,
                                                                   tmp_path):
    """Untouched: verified; a KPI cell and figures/intraday.png edited: exit 1, both named."""
    folder = Path(shutil.copytree(run_folder, tmp_path / "received"))
    status = main(["verify", str(folder), "--sample", "1"])  # simulated again: identical
    assert (status, capsys.readouterr().out.splitlines()) == (0, [
        CHECKED.format(folder=folder, page="report.html") + PROVENANCE,
        f"{folder}: 1 stored replication(s): 1 simulated again and identical (a sample of 1, "
        "seed 0), 0 consistent with their own tables (not simulated again), 0 unverifiable "
        "(other model code), 0 failed: verified"])
    page = (folder / "report.html").read_text()
    row = re.search(r'<table class="kpis">.*?\n(<tr><td>offered</td><td>([^<]*)</td>)', page,
                    re.S)
    (folder / "report.html").write_text(page.replace(
        row.group(1), row.group(1).replace(row.group(2), "1000.0")))
    png = bytearray((folder / "figures" / "intraday.png").read_bytes())
    png[-20] ^= 1
    (folder / "figures" / "intraday.png").write_bytes(bytes(png))
    status, lines = verify(capsys, folder)
    assert (status, lines) == (1, [
        f"FAILED: {folder}: report.html: table 'kpis', row 'offered', 'mean': it says "
        f"'1000.0'; the verified replications give {row.group(2)!r}",
        f"FAILED: {folder}: figures/intraday.png is not the figure drawn from the verified "
        "replications (missing or altered)",
        SUMMARY.format(folder=folder, n=1) + "FAILED: do not use this folder's results"])


def test_figures_of_another_matplotlib_are_not_checked(capsys, run_folder, tmp_path):
    """Figures another Matplotlib drew cannot be compared: NOT CHECKED, exit 3, not verified."""
    folder = Path(shutil.copytree(run_folder, tmp_path / "received"))
    mine = matplotlib.__version__.encode()
    other = b"0" * len(mine)  # same length: the page's size and layout are unchanged

    def redrawn(m: re.Match[str]) -> str:
        png = base64.b64decode(m.group(2)).replace(b"Matplotlib version" + mine,
                                                   b"Matplotlib version" + other)
        return m.group(1) + base64.b64encode(png).decode() + '"'

    page = (folder / "report.html").read_text()
    (folder / "report.html").write_text(re.sub(
        r'(<img id="[^"]*" alt="[^"]*" src="data:image/png;base64,)([^"]*)"', redrawn, page))
    status, lines = verify(capsys, folder)
    assert (status, lines) == (3, [
        f"NOT CHECKED: {folder}/report.html, its figures: its figures were drawn by "
        f"Matplotlib {other.decode()}; this ccsim draws with {mine.decode()}, whose PNG bytes "
        "differ",
        CHECKED.format(folder=folder, page="report.html") + " (but its figures: not checked)"
        + PROVENANCE,
        SUMMARY.format(folder=folder, n=1) + "NOT VERIFIED: a report could not be checked"])


PDF_CHECKED = ("{folder}/negotiate.pdf: its text (every word and number, in order; spacing and "
               "line breaks aside) is that of negotiate.html rendered again from the verified "
               "replications, and it holds no script, action or attached file")
PDF_PICTURE = ("NOT CHECKED: {folder}/negotiate.pdf: its picture and layout: not checked (what is "
               "drawn rather than written, the trade-off picture or anything painted over the "
               "text, cannot be read back)")


def text_pdf(text: str, catalog: str = "") -> bytes:
    """A PDF that writes ``text`` in Helvetica, 90 characters a line, 60 lines a page.

    Made by hand (no browser): what a forger's tool could make; ``catalog`` adds entries
    to its catalogue (an automatic action, say).
    """
    lines = [text[i:i + 90] for i in range(0, len(text), 90)] or [""]
    pages = [lines[i:i + 60] for i in range(0, len(lines), 60)]
    objs = [f"<< /Type /Catalog /Pages 2 0 R {catalog}>>",
            "<< /Type /Pages /Kids [" + " ".join(f"{4 + 2 * k} 0 R" for k in range(len(pages)))
            + f"] /Count {len(pages)} >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    for k, page in enumerate(pages):
        body = "BT /F1 9 Tf 40 800 Td 11 TL " + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            + ") Tj T*" for line in page) + " ET"
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
                    f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * k} 0 R >>")
        data = body.encode("cp1252")
        objs.append(f"<< /Length {len(data)} >>\nstream\n".encode("cp1252") + data
                    + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + (obj if isinstance(obj, bytes) else obj.encode())
        out += b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return bytes(out)


def test_an_untouched_negotiate_folder_is_verified_but_for_its_pdfs_picture(
        capsys, negotiate_folder, tmp_path):
    """Both pages checked; a PDF with the page's text is checked, its picture said not to be."""
    from analysis.verify_report import page_text

    folder = Path(shutil.copytree(negotiate_folder, tmp_path / "received"))
    for name in ("negotiate.html", "report.html"):  # the base's text: shown, never markup
        page = (folder / name).read_text()
        assert html.escape(HOSTILE_DESCRIPTION) in page and html.escape(HOSTILE_RATIONALE) \
            in page, name
        assert "<script" not in page and "<img src=x" not in page and "<h1>forged" not in page
    text = page_text((folder / "negotiate.html").read_text())
    assert len(text) > 2000 and text.startswith("Whattheproposalsdo")
    (folder / "negotiate.pdf").write_bytes(text_pdf(text))
    status, lines = verify(capsys, folder)
    assert (status, lines) == (0, [
        PDF_PICTURE.format(folder=folder),
        CHECKED.format(folder=folder, page="report.html") + PROVENANCE,
        CHECKED.format(folder=folder, page="negotiate.html"),
        PDF_CHECKED.format(folder=folder),
        SUMMARY.format(folder=folder, n=6)
        + "verified (but for the PDF's picture and layout, not checked)"])


def test_a_forged_pdf_is_named(capsys, negotiate_folder, tmp_path):
    """A number changed in the PDF: FAILED, exit 1, naming where the texts part.

    Then, checked against the same page (the fixture's, verified above): a script run on
    opening, bytes that are not a PDF and a link are each named; a PDF with no page beside
    it to render again is NOT CHECKED.
    """
    from analysis.verify_report import ReportCheck, check_pdf, check_reports, page_text

    folder = Path(shutil.copytree(negotiate_folder, tmp_path / "received"))
    pdf = folder / "negotiate.pdf"
    page = (folder / "negotiate.html").read_text()
    text = page_text(page)
    number = re.search(r"service level (\d+\.\d)%", page).group(1)
    at = text.index(f"servicelevel{number}%") + len("servicelevel")
    forged = text[:at] + text[at:].replace(number, "97.5", 1)
    pdf.write_bytes(text_pdf(forged))
    assert verify(capsys, folder) == (1, [
        f"FAILED: {folder}: negotiate.pdf: its text is not that of the page the verified "
        f"replications give (spacing aside): after {text[at - 20:at]!r}, the page reads "
        f"{text[at:at + 40]!r} and the PDF {forged[at:at + 40]!r}; print it again from the "
        "checked negotiate.html (no headers or footers)",
        CHECKED.format(folder=folder, page="report.html") + PROVENANCE,
        CHECKED.format(folder=folder, page="negotiate.html"),
        SUMMARY.format(folder=folder, n=6) + "FAILED: do not use this folder's results"])

    def check(data: bytes | None) -> ReportCheck:
        pdf.unlink(missing_ok=True)
        if data is None:
            pdf.symlink_to(folder / "negotiate.html")
        else:
            pdf.write_bytes(data)
        out = ReportCheck()
        check_pdf(out, pdf, page)
        return out

    out = check(text_pdf(text, "/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "))
    assert (out.problems, out.checked) == ([
        "negotiate.pdf holds /JS, /JavaScript, /OpenAction (scripts, actions or attached "
        "files): ccsim prints none"], [])
    out = check(b"%PDF-1.4\n")
    assert len(out.problems) == 1 and not out.checked and out.problems[0].startswith(
        "negotiate.pdf cannot be read as a PDF (pypdf cannot read it: ")
    assert check(b"<html>").problems == [
        "negotiate.pdf cannot be read as a PDF (it does not start with %PDF-)"]
    assert check(None).problems == [
        "negotiate.pdf cannot be read as a PDF (negotiate.pdf is a symbolic link)"]
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "negotiate.pdf").write_bytes(text_pdf(text))
    out = check_reports(alone, {}, {}, None)
    assert (out.not_checked, out.problems, out.checked) == ([
        "negotiate.pdf: not checked (no negotiate.html beside it, the page it prints)"], [], [])


def test_a_pdf_printed_by_the_browser_is_checked(negotiate_folder, tmp_path):
    """The headless browser's own print of the page passes the text check (Chromium)."""
    from analysis.negotiate import find_browser, print_pdf

    browser = find_browser()
    if browser is None:
        pytest.skip("no headless Chromium here (the CI installs Debian's)")
    from analysis.verify_report import ReportCheck, check_pdf

    page = negotiate_folder / "negotiate.html"  # verified in the test above
    pdf = print_pdf(page, tmp_path / "negotiate.pdf", browser)
    out = ReportCheck()
    check_pdf(out, pdf, page.read_text())
    assert out.problems == [] and out.checked == [
        PDF_CHECKED.format(folder=tmp_path).removeprefix(f"{tmp_path}/")]


def test_a_forged_negotiate_page_and_json_are_named(capsys, negotiate_folder, tmp_path):
    """A word of a proposal's sentence, a point of the picture and negotiate.json: exit 1."""
    folder = Path(shutil.copytree(negotiate_folder, tmp_path / "received"))
    page = (folder / "negotiate.html").read_text()
    answer = re.search(r'<p class="answer">(team is .*?)</p>', page).group(1)
    forged = answer.replace("team is", "team is clearly", 1)
    tick = re.search(r'<use xlink:href="#[^"]*" x="([0-9.]+)"', page)  # a tick of an axis
    page = page.replace(answer, forged, 1).replace(tick.group(0), tick.group(0).replace(
        tick.group(1), "1" + tick.group(1)), 1)
    (folder / "negotiate.html").write_text(page)
    data = (folder / "negotiate.json").read_text()
    (folder / "negotiate.json").write_text(data.replace("team is", "team is clearly"))
    status, lines = verify(capsys, folder)
    assert (status, lines) == (1, [
        f"FAILED: {folder}: negotiate.json: its 'proposals' is not what the verified "
        "replications give",
        f"FAILED: {folder}: negotiate.html: a proposal's sentence reads "
        f"{html.unescape(forged)!r}; the verified replications give {html.unescape(answer)!r}",
        f"FAILED: {folder}: negotiate.html: the trade-off picture (SVG) is not the one drawn "
        "from the verified replications",
        CHECKED.format(folder=folder, page="report.html") + PROVENANCE,
        SUMMARY.format(folder=folder, n=6) + "FAILED: do not use this folder's results"])


def test_a_long_tables_header_may_be_printed_again_at_a_page_break():
    """The browser repeats a split table's header: allowed once after a row, nowhere else."""
    from analysis.verify_report import page_pattern, page_text

    rows = "".join(f"<tr><td>row {i}</td><td>{i}.5</td></tr>" for i in range(3))
    page = (f"<p>Before</p><table><thead><tr><th>name</th><th>value</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><ol><li>one</li><li>two</li></ol>")
    text = page_text(page)
    assert text == "Beforenamevaluerow00.5row11.5row22.51.one2.two"
    pattern = page_pattern(page)
    assert pattern.fullmatch(text)
    assert pattern.fullmatch(text.replace("row11.5", "row11.5namevalue"))  # a page break
    for forged in (text.replace("row11.5", "row11.5namevaluenamevalue"),  # twice
                   text.replace("row11.5", "row1namevalue1.5"),  # inside a row
                   text.replace("row11.5", "row19.5"), text + "x"):
        assert pattern.fullmatch(forged) is None, forged
