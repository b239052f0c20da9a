"""report.html: self-contained, figures embedded, KPI table, parameter diff, provenance."""

from __future__ import annotations

import base64
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.report import TRADE_OFF_KPI, flatten, parameter_diff
from sim.kpi import KPIS
from tests.conftest import SCENARIOS

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A small comparison's output folder."""
    out = tmp_path_factory.mktemp("compare")
    assert main(["compare", str(SCENARIOS / "base.toml"), str(SCENARIOS / "more-agents.toml"),
                 "--days", "1", "--reps", "2", "--executor", "serial", "--quiet",
                 "--out", str(out)]) == 0
    return out


def test_report_is_self_contained(report):
    """Figures are embedded as base64 PNG (also written as files); no external resources."""
    html = (report / "report.html").read_text()
    imgs = re.findall(r'<img id="([^"]+)"[^>]*src="data:image/png;base64,([^"]+)"', html)
    assert {name for name, _ in imgs} == {"intraday_service_level", "agents_by_status"}
    for name, data in imgs:
        png = base64.b64decode(data)
        assert png.startswith(b"\x89PNG") and png == (report / "figures" / f"{name}.png"
                                                      ).read_bytes()
    assert not re.search(r'(src|href)="(http|//)', html), "external resource in the report"
    assert f"no <code>{TRADE_OFF_KPI}</code> KPI" in html, "missing trade-off KPI not explained"


def test_report_tables(report):
    """The KPI table lists every KPI; the appendix shows the differing parameters."""
    html = (report / "report.html").read_text()
    kpi_table = html[html.index('<table class="kpis">'):]
    kpi_table = kpi_table[:kpi_table.index("</table>")]
    for k in KPIS:
        assert f"<td>{k}</td>" in kpi_table, k
    assert "more-agents - base" in kpi_table
    diff = html[html.index('<table class="diff">'):]
    assert "staffing.shifts.mid.agents" in diff and "staffing.shifts.late.agents" in diff
    assert "demand.calls_per_day" not in diff[:diff.index("</table>")]
    prov = html[html.index('<table class="provenance">'):]
    for item in ("git revision", "versions", "scenario hashes", "seed", "executor"):
        assert f"<td>{item}</td>" in prov, item


def test_parameter_diff(base):
    """Flattened dotted keys; only differing parameters, prose excluded."""
    other = base.replace({"name": "x", "description": "other", "staffing.agents": 90,
                          "calls.patience.mean_s": 120.0})
    keys = dict(parameter_diff([base, other]))
    assert keys == {"staffing.agents": [None, 90], "calls.patience.mean_s": [180.0, 120.0]}
    assert flatten({"a": {"b": 1, "c": [1, 2]}}) == {"a.b": 1, "a.c": [1, 2]}


def test_report_renders_in_headless_chromium(report, tmp_path):
    """The report renders in a browser: the KPI table and the figures are in the DOM."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed: cannot render report.html in a browser "
                    "(the report's content is checked without one by the other tests)")
    exe = shutil.which(str(CHROMIUM))
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         (report / "report.html").resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    dom = proc.stdout
    assert proc.returncode == 0 and dom, proc.stderr[-2000:]
    assert '<table class="kpis">' in dom
    assert dom.count("<img") >= 2
    for k in KPIS:
        assert f"<td>{k}</td>" in dom, k


def test_report_says_which_kpis_are_primary(report):
    """The report explains primary vs Holm-adjusted KPIs; share differences are in pp."""
    html = (report / "report.html").read_text()
    assert "Holm-adjusted" in html and "primary KPI (service_level)" in html
    kpi_table = html[html.index('<table class="kpis">'):]
    kpi_table = kpi_table[:kpi_table.index("</table>")]
    assert "<th>Holm p</th>" in kpi_table and "<td>primary</td>" in kpi_table
    assert re.search(r"<td>[+-]\d+\.\d\d pp</td>", kpi_table), "share difference not in pp"


def test_tables_say_how_many_nan_replications_were_left_out(small):
    """A KPI with no value in some replications shows how many were left out, everywhere."""
    from analysis.experiment import Experiment, RepOutput
    from analysis.report import compare, table_rows
    from analysis.stats import kpi_table

    a, b = small, small.replace({"name": "b"})
    values = {0: [1.0, math.nan, 3.0, 4.0], 1: [2.0, 2.5, math.nan, 5.0]}
    outputs = {(i, r): RepOutput(i, r, {"asa_s": values[i][r], "service_level": 0.5 + r / 10},
                                 {}, {})
               for i in (0, 1) for r in range(4)}
    c = compare(Experiment([a, b], 1, outputs))
    assert c.kpis["small"]["asa_s"].dropped == 1
    assert c.differences["b"]["asa_s"].estimate.dropped == 2
    header, rows = table_rows(c)
    row = next(r for r in rows if r[0] == "asa_s")
    assert "(1 NaN left out)" in row[header.index("small mean") + 1]
    assert "(2 NaN left out)" in row[header.index("b - small") + 1]
    assert c.as_json()["differences"]["b"]["asa_s"]["dropped"] == 2
    text = kpi_table(c.kpis["small"], with_ci=True)
    assert "1 of 4 replications had no value and were left out" in text


def test_trade_off_plot_appears_once_stress_is_measured(tmp_path):
    """With [stress] on, the report leads with service level against measured stress."""
    strict = tmp_path / "strict.toml"
    strict.write_text(f'extends = "{SCENARIOS / "policy" / "individual-strict.toml"}"\n'
                      'description = "strict, stress measured"\nrationale = "test"\n'
                      '[stress]\nenabled = true\n')
    team = tmp_path / "team.toml"
    team.write_text(f'extends = "{SCENARIOS / "policy" / "team-level.toml"}"\n'
                    'description = "team, stress measured"\nrationale = "test"\n'
                    '[stress]\nenabled = true\n')
    out = tmp_path / "out"
    assert main(["compare", str(team), str(strict), "--days", "1", "--reps", "2",
                 "--executor", "serial", "--quiet", "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert 'id="service_level_vs_stress"' in html
    assert (out / "figures" / "service_level_vs_stress.png").read_bytes().startswith(b"\x89PNG")
