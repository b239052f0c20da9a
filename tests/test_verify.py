"""Forgery is detected: stored KPIs are re-derived from their tables; ``ccsim verify`` re-simulates.

One small comparison (two one-day scenarios, two replications each) is made once; each test
alters a copy the way a hostile sender would (a manifest's KPI with its checksum recomputed,
a table and its recorded SHA-256, the folder's kpis.csv, the model digest) and checks the
exact verdict.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.store import (
    ReplicationStore,
    StoreWarning,
    _manifest_checksum,
    file_sha256,
    release_outputs,
    to_parquet,
)
from sim.model import model_digest
from sim.scenario import load_scenario
from tests.test_experiment_staff import SMALL

pytestmark = pytest.mark.usefixtures("no_output_locks")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[list[Path], Path]:
    """Two scenario files and the comparison folder ccsim made of them (2 replications)."""
    root = tmp_path_factory.mktemp("verify")
    small, more = root / "small.toml", root / "more.toml"
    small.write_text(SMALL)
    more.write_text('extends = "small.toml"\ndescription = "more"\nrationale = "tests"\n'
                    "[staffing.shifts.a]\nagents = 8\n")
    out = root / "out"
    assert main(["compare", str(small), str(more), "--reps", "2", "--out", str(out),
                 "--executor", "serial", "--quiet", "--json"]) == 0
    release_outputs()
    return [small, more], out


@pytest.fixture
def folder(made, tmp_path) -> Path:
    """A copy of the comparison folder, to alter."""
    return Path(shutil.copytree(made[1], tmp_path / "received"))


def rep_folder(out: Path, name: str, rep: int) -> Path:
    """Where replication ``rep`` of scenario ``name`` is stored."""
    return next((out / "replications").glob(f"{name}-*-seed1")) / f"rep-{rep:05d}"


def rewrite(rep: Path, change) -> dict:
    """Apply ``change(manifest)`` and recompute the manifest's plain SHA-256, as a forger can."""
    path = rep / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    manifest["checksum"] = _manifest_checksum(manifest)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


@pytest.fixture(autouse=True)
def whole_lines(monkeypatch):
    """Lines as verify writes them, unwrapped: each finding is compared as one line."""
    monkeypatch.setenv("CCSIM_WIDTH", "100000")


def verify(capsys, *argv: str) -> tuple[int, str]:
    """Run ``ccsim verify``; its exit status and what it printed."""
    status = main(["verify", *argv])
    return status, capsys.readouterr().out


def test_a_fresh_folder_is_verified(capsys, folder):
    """A folder as ccsim wrote it: a sample re-simulated identical, the rest consistent."""
    status, out = verify(capsys, str(folder), "--sample", "2")
    assert status == 0
    assert out.splitlines() == [
        f"{folder}/report.html: every sentence, table cell and figure is what the verified "
        "replications give; not compared: the provenance's wall time and time written",
        f"{folder}: 4 stored replication(s): 2 simulated again and identical (a sample of 2, "
        "seed 0), 2 consistent with their own tables (not simulated again), 0 unverifiable "
        "(other model code), 0 failed: verified"]


def test_a_forged_kpi_is_damage_and_resimulated_on_resume(capsys, made, folder):
    """A manifest's service level edited and re-summed is named, simulated again, not used."""
    rep = rep_folder(folder, "more", 1)
    true = json.loads((rep / "manifest.json").read_text())["kpis"]["service_level"]
    daily = pd.read_parquet(rep / "daily.parquet")
    assert daily["service_level"].iloc[0] == true  # one day: the day's value is the run's
    rewrite(rep, lambda m: m["kpis"].update(service_level=0.99))
    scenario = load_scenario(made[0][1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ReplicationStore(folder / "replications").load(scenario, 1, 1) is None
    assert [str(w.message) for w in caught if w.category is StoreWarning] == [
        f"stored replication {rep} is damaged (its KPIs do not match its own tables: "
        f"service_level: stored 0.99, but the daily table gives {true!r}); it is simulated "
        "again"]
    assert main(["compare", *map(str, made[0]), "--reps", "2", "--out", str(folder),
                 "--executor", "serial", "--quiet", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["inputs"] == {
        "simulated": 1, "re_derived": 3, "verified": False,
        "text": "Inputs: 1 replication(s) simulated by this command; 3 resumed from the "
        "output folder's replications/, checksums matched and KPIs re-derived from their "
        "stored tables, not simulated again (`ccsim verify FOLDER` re-simulates a sample)."}
    assert json.loads((folder / "comparison.json").read_text())["inputs"] == printed["inputs"]
    kpis = pd.read_parquet(folder / "kpis.parquet").set_index(["scenario", "replication"])
    assert kpis.loc[("more", 1), "service_level"] == true
    assert json.loads((rep / "manifest.json").read_text())["kpis"]["service_level"] == true


def test_fresh_inputs_are_verified_in_the_report(made):
    """Compare's JSON and report.html say the inputs were all simulated by the command."""
    data = json.loads((made[1] / "comparison.json").read_text())
    assert data["inputs"] == {"simulated": 4, "re_derived": 0, "verified": True,
                              "text": "Inputs: 4 replication(s) simulated by this command."}
    assert "<p>Inputs: 4 replication(s) simulated by this command.</p>" in (
        made[1] / "report.html").read_text()


def test_verify_names_a_forged_replication(capsys, folder):
    """Ccsim verify refuses a forged KPI without simulating anything: exit 1, what differs."""
    rep = rep_folder(folder, "small", 0)
    true = json.loads((rep / "manifest.json").read_text())["kpis"]["service_level"]
    rewrite(rep, lambda m: m["kpis"].update(service_level=0.99))
    status, out = verify(capsys, str(folder), "--sample", "0")
    assert status == 1
    assert out.splitlines() == [
        f"FAILED: {rep}: service_level: stored 0.99, but the daily table gives {true!r}",
        f"NOT CHECKED: {folder}/report.html: not checked (not every stored replication passed)",
        f"{folder}: 4 stored replication(s): 0 simulated again and identical (a sample of 0, "
        "seed 0), 3 consistent with their own tables (not simulated again), 0 unverifiable "
        "(other model code), 1 failed: FAILED: do not use this folder's results"]


def test_a_consistent_forgery_is_caught_by_resimulation(capsys, folder):
    """Table, its SHA-256, the KPI and the checksum forged together: re-simulation finds it."""
    rep = rep_folder(folder, "small", 1)
    daily = pd.read_parquet(rep / "daily.parquet")
    offered = float(daily["offered"].iloc[0])
    forged = (round(daily["service_level"].iloc[0] * offered) - 10) / offered  # 10 calls fewer
    daily.loc[0, "service_level"] = forged
    to_parquet(daily, rep / "daily.parquet")
    true = json.loads((rep / "manifest.json").read_text())["kpis"]["service_level"]

    def change(m: dict) -> None:
        m["kpis"]["service_level"] = forged
        m["files"]["daily"] = {"bytes": (rep / "daily.parquet").stat().st_size,
                               "sha256": file_sha256(rep / "daily.parquet")}

    rewrite(rep, change)
    status, out = verify(capsys, str(folder), "--sample", "0")
    assert status == 1  # the folder's kpis tables still carry the true value
    assert f"kpis.csv: scenario 'small', replication 1: service_level is {true!r}" in out
    for name in ("kpis.csv", "kpis.parquet"):  # forged too
        path = folder / name
        kpis = pd.read_csv(path) if name.endswith(".csv") else pd.read_parquet(path)
        kpis.loc[(kpis["scenario"] == "small") & (kpis["replication"] == 1),
                 "service_level"] = forged
        kpis.to_csv(path, index=False) if name.endswith(".csv") else to_parquet(kpis, path)
    for name in ("comparison.json", "report.html"):  # a thorough forger writes them
        (folder / name).unlink()  # again; here: gone
    status, out = verify(capsys, str(folder), "--sample", "0")
    assert status == 0, out  # re-derivation alone cannot see a forgery this thorough
    status, out = verify(capsys, str(folder), "--sample", "4")
    assert status == 1
    head = (f"FAILED: {rep}: simulated again from its scenario, seed and replication, it "
            "differs: ")
    assert out.splitlines()[:2] == [
        f"{head}KPI service_level: stored {forged!r}, simulated again {true!r}",
        f"{head}the daily table differs in column service_level (1 row(s); row 0: stored "
        f"{forged!r}, simulated again {true!r}); its SHA-256 differs"]
    assert out.splitlines()[-1].endswith("3 simulated again and identical (a sample of 4, "
                                         "seed 0), 0 consistent with their own tables (not "
                                         "simulated again), 0 unverifiable (other model "
                                         "code), 1 failed: FAILED: do not use this folder's "
                                         "results")


def test_other_model_code_is_unverifiable(capsys, folder):
    """A replication from other model code is reported unverifiable, never verified (exit 3)."""
    rep = rep_folder(folder, "more", 0)
    rewrite(rep, lambda m: m["provenance"].update(model_digest="0" * 64))
    status, out = verify(capsys, str(folder), "--sample", "1")
    assert status == 3
    assert out.splitlines()[0] == (
        f"UNVERIFIABLE: {rep}: made by other model code (model digest {'0' * 64}; this "
        f"ccsim's is {model_digest()}): it cannot be simulated again here, and its KPIs may "
        "follow other definitions")
    assert out.splitlines()[-1].endswith("1 unverifiable (other model code), 0 failed: NOT "
                                         "VERIFIED: made by other model code")


def test_an_edited_kpis_table_is_named(capsys, folder):
    """The folder's kpis.csv must carry its replications' KPIs: an edited cell is named."""
    kpis = pd.read_csv(folder / "kpis.csv")
    row = kpis.index[(kpis["scenario"] == "small") & (kpis["replication"] == 1)][0]
    true = kpis.loc[row, "service_level"]
    kpis.loc[row, "service_level"] = 0.5
    kpis.to_csv(folder / "kpis.csv", index=False)
    status, out = verify(capsys, str(folder), "--sample", "0", "--json")
    assert status == 1
    assert json.loads(out)["folder_problems"] == [
        f"kpis.csv: scenario 'small', replication 1: service_level is 0.5, its replication "
        f"says {float(true)!r}"]


def test_an_altered_table_is_named(capsys, folder):
    """A table whose bytes changed (checksum not updated) fails by name."""
    rep = rep_folder(folder, "more", 1)
    with open(rep / "intervals.parquet", "ab") as f:
        f.write(b"\0")
    status, out = verify(capsys, str(folder), "--sample", "0")
    assert status == 1
    assert out.splitlines()[0] == (f"FAILED: {rep}: intervals.parquet does not match its "
                                   "recorded size and SHA-256")


def test_verify_needs_a_result_folder(capsys, tmp_path):
    """A folder without replications/ is one clear error (exit 2)."""
    assert main(["verify", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ccsim verify: error: {tmp_path}: no replications/ folder (a link is not followed); "
        "give a folder ccsim run, compare, sweep, staff or sensitivity wrote")


def test_an_edited_comparison_is_named(capsys, folder):
    """comparison.json is computed again from the replications: an edited headline is named."""
    path = folder / "comparison.json"
    data = json.loads(path.read_text())
    true = data["differences"]["more"]["service_level"]["mean"]
    data["differences"]["more"]["service_level"]["mean"] = 0.25
    path.write_text(json.dumps(data))
    status, out = verify(capsys, str(folder), "--sample", "0")
    assert status == 1
    assert out.splitlines()[0] == (
        f"FAILED: {folder}: comparison.json: differences.more.service_level.mean is 0.25, its "
        f"replications give {true!r}")


def test_a_forged_report_is_named_cell_by_cell(capsys, folder):
    """A KPI cell, a difference, a headline word, a note and a figure byte forged in report.html."""
    page = (folder / "report.html").read_text()
    lines = page.splitlines()
    kpis = lines.index(next(x for x in lines if x.startswith('<table class="kpis">')))
    row = lines[kpis + 1]  # the first KPI's row: offered
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[0] == "offered"
    headline = next(x for x in lines if x.startswith('<p class="headline">small: '))
    diff = lines.index(next(x for x in lines if x.startswith('<table class="differences">')))
    diff_cells = re.findall(r"<td>([^<]*)</td>", lines[diff + 1])
    img = re.search(r'(<img id="agents_by_status" alt="[^"]*" src="data:image/png;base64,)'
                    r'([^"]*)"', page)
    png = bytearray(base64.b64decode(img.group(2)))
    png[len(png) // 2] ^= 1  # one bit of one byte
    forged = (page.replace(row, row.replace(f"<td>{cells[1]}</td>", "<td>999.0</td>", 1))
              .replace(headline, headline.replace("service level", "service levels", 1))
              .replace(lines[diff + 1], lines[diff + 1].replace(
                  f"<td>{diff_cells[1]}</td>", "<td>+12.0</td>", 1))
              .replace(img.group(2), base64.b64encode(bytes(png)).decode())
              .replace("<h2>Scenarios</h2>", "<p>more lifts service level by 20 pp.</p>\n"
                       "<h2>Scenarios</h2>"))  # a note ccsim does not write
    (folder / "report.html").write_text(forged)
    status, out = verify(capsys, str(folder), "--sample", "0")
    assert status == 1
    words = html.unescape(re.sub(r"<[^>]+>", "", headline))
    assert out.splitlines() == [
        f"FAILED: {folder}: report.html: a headline reads "
        f"{words.replace('service level', 'service levels', 1)!r}; the verified "
        f"replications give {words!r}",
        f"FAILED: {folder}: report.html: 'more lifts service level by 20 pp.' is not what "
        "the verified replications give",
        f"FAILED: {folder}: report.html: table 'kpis', row 'offered', 'small': it says "
        f"'999.0'; the verified replications give {html.unescape(cells[1])!r}",
        f"FAILED: {folder}: report.html: table 'differences', row 'offered', 'difference': it "
        f"says '+12.0'; the verified replications give {html.unescape(diff_cells[1])!r}",
        f"FAILED: {folder}: report.html: figure 'agents_by_status': its embedded PNG is not "
        "the one drawn from the verified replications",
        f"{folder}: 4 stored replication(s): 0 simulated again and identical (a sample of 0, "
        "seed 0), 4 consistent with their own tables (not simulated again), 0 unverifiable "
        "(other model code), 0 failed: FAILED: do not use this folder's results"]


def test_a_received_file_name_cannot_drive_the_terminal(capsys, folder):
    """A stored name holding an escape sequence and a bidi override is shown escaped: exit 1.

    The received folder names its files; verify prints them, so an ESC there would act on
    the reader's terminal (clear it, retitle it) and U+202E would show the line reversed.
    """
    evil = folder / "replications" / "x\x1b]0;verified\x07\x1b[2J\u202eevil"
    evil.write_text("")
    status, out = verify(capsys, str(folder), "--sample", "0")
    assert status == 1 and "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert out.splitlines()[0] == (
        f"FAILED: {folder}/replications/x\\x1b]0;verified\\x07\\x1b[2J\\u202eevil: not a "
        "folder (a link is not followed)")
