"""report.html: self-contained, figures embedded, KPI table, parameter diff, provenance."""

from __future__ import annotations

import base64
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from analysis.cli import main
from analysis.report import TRADE_OFF_KPI, flatten, parameter_diff
from sim.measure.kpi import KPIS, format_kpi
from sim.scenario import format_clock
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
    assert f"no scenario measured stress (<code>{TRADE_OFF_KPI}</code>" in html, \
        "missing trade-off plot not explained"


def test_report_tables(report):
    """The KPI table lists every KPI; the appendix shows the differing parameters."""
    html = (report / "report.html").read_text()
    kpi_table = html[html.index('<table class="kpis">'):]
    kpi_table = kpi_table[:kpi_table.index("</table>")]
    note = html[html.index("Not shown:"):]
    note = note[:note.index("</p>")]
    for k in KPIS:  # each KPI in the table, or named as having no value in these scenarios
        assert (f"<td>{k}</td>" in kpi_table) != (f" {k}," in note or f" {k}." in note), k
    assert "stress_mean" in note and "<td>stress_mean</td>" not in kpi_table
    assert "<th>more-agents</th>" in kpi_table
    diffs = html[html.index("<h3>more-agents - base</h3>"):]
    diffs = diffs[diffs.index('<table class="differences">'):diffs.index("</table>")]
    for k in KPIS:
        assert (f"<td>{k}</td>" in diffs or f"<td>{k} *</td>" in diffs
                or f" {k}," in note or f" {k}." in note), k
    diff = html[html.index('<table class="diff">'):]
    assert "staffing.shifts.mid.agents" in diff and "staffing.shifts.day.agents" in diff
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


def render(page: Path, tmp_path: Path, width: int = 1280) -> str:
    """The DOM of ``page`` after headless Chromium loaded it in a window ``width`` wide."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed: cannot render report.html in a browser "
                    "(the report's content is checked without one by the other tests)")
    exe = shutil.which(str(CHROMIUM))
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--window-size={width},900", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout, proc.stderr[-2000:]
    return proc.stdout


#: appended to a copy of a report: after layout, lists every element reaching past the
#: viewport's right edge (or left of 0) into <pre id="overflow">
OVERFLOW_PROBE = """<script>
window.addEventListener("load", () => {
  const w = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > w + 1 || r.left < -1))
      bad.push(el.tagName + "." + el.className + " right=" + Math.round(r.right));
  }
  const pre = document.createElement("pre");
  pre.id = "overflow";
  pre.textContent = "viewport=" + w + " scroll=" + document.documentElement.scrollWidth +
    " overflowing=" + bad.length + " " + bad.slice(0, 8).join("; ");
  document.body.appendChild(pre);
});
</script>"""


def overflow(report_html: Path, tmp_path: Path, width: int = 1280) -> tuple[int, int, int, str]:
    """(viewport width, page scroll width, elements overflowing, what) in headless Chromium."""
    probe = tmp_path / "probe.html"
    probe.write_text(report_html.read_text().replace("</body>", OVERFLOW_PROBE + "</body>"))
    dom = render(probe, tmp_path, width)
    m = re.search(r"viewport=(\d+) scroll=(\d+) overflowing=(\d+)([^<]*)", dom)
    assert m, "the overflow probe did not run"
    return int(m[1]), int(m[2]), int(m[3]), m[4]


def test_report_renders_in_headless_chromium(report, tmp_path):
    """The report renders in a browser: the KPI table and the figures are in the DOM."""
    dom = render(report / "report.html", tmp_path)
    assert '<table class="kpis">' in dom
    assert dom.count("<img") >= 2
    for k in KPIS:
        assert f"<td>{k}</td>" in dom or f" {k}," in dom or f" {k}." in dom, k


def test_report_says_which_kpis_are_primary(report):
    """The report explains primary vs Holm-adjusted KPIs; share differences are in pp."""
    html = (report / "report.html").read_text()
    assert "Holm-adjusted" in html and "primary KPI (service_level)" in html
    diffs = html[html.index('<table class="differences">'):]
    diffs = diffs[:diffs.index("</table>")]
    assert "<th>Holm p</th>" in diffs and "<td>service_level *</td>" in diffs
    assert re.search(r"<td>[+-]\d+\.\d\d pp</td>", diffs), "share difference not in pp"


def test_tables_say_how_many_nan_replications_were_left_out(small):
    """A KPI with no value in some replications shows how many were left out, everywhere."""
    from analysis.experiment import Experiment, RepOutput
    from analysis.report import compare, difference_rows, means_rows
    from analysis.stats import kpi_table

    a, b = small, small.replace({"name": "b"})
    values = {0: [1.0, math.nan, 3.0, 4.0], 1: [2.0, 2.5, math.nan, 5.0]}
    outputs = {(i, r): RepOutput(i, r, {"asa_s": values[i][r], "service_level": 0.5 + r / 10},
                                 {}, {})
               for i in (0, 1) for r in range(4)}
    c = compare(Experiment([a, b], 1, outputs))
    assert c.kpis["small"]["asa_s"].dropped == 1
    assert c.differences["b"]["asa_s"].estimate.dropped == 2
    header, rows = means_rows(c, with_ci=True)
    row = next(r for r in rows if r[0] == "asa_s")
    assert "(1 NaN left out)" in row[header.index("small")]
    header, rows = difference_rows(c, "b")
    row = next(r for r in rows if r[0] == "asa_s")
    assert "(2 NaN left out)" in row[header.index("95% CI (paired)")]
    assert c.as_json()["differences"]["b"]["asa_s"]["dropped"] == 2
    text = kpi_table(c.kpis["small"], with_ci=True)
    assert "1 of 4 replications had no value and were left out" in text


def test_trade_off_plot_appears_once_stress_is_measured(tmp_path):
    """With [stress] on, the report leads with service level against measured stress."""
    strict = tmp_path / "strict.toml"
    strict.write_text(f'extends = "{SCENARIOS / "policy" / "individual-strict.toml"}"\n'
                      'description = "strict, stress measured"\nrationale = "test"\n'
                      '[stress]\nenabled = true\n[horizon]\nwarmup_days = 0\n')
    team = tmp_path / "team.toml"
    team.write_text(f'extends = "{SCENARIOS / "policy" / "team-level.toml"}"\n'
                    'description = "team, stress measured"\nrationale = "test"\n'
                    '[stress]\nenabled = true\n[horizon]\nwarmup_days = 0\n')
    out = tmp_path / "out"
    assert main(["compare", str(team), str(strict), "--days", "1", "--reps", "2",
                 "--executor", "serial", "--quiet", "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert 'id="service_level_vs_stress"' in html
    assert (out / "figures" / "service_level_vs_stress.png").read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- five scenarios

FIVE = ("telenor-2018-tmr", "agreement-2016-team-level", "copc-individual-targets",
        "listen-in-only-least-intrusive", "flexible-microbreaks-team")


@pytest.fixture(scope="module")
def five(tmp_path_factory) -> tuple[Path, str]:
    """Five scenarios with long names and measured stress: (output folder, printed text)."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("five")
    paths = []
    for name, parent in zip(FIVE, ("individual-strict", "team-level", "copc",
                                   "listen-in-only", "team-level"), strict=True):
        p = folder / f"{name}.toml"
        p.write_text(f'extends = "{SCENARIOS / "policy" / f"{parent}.toml"}"\n'
                     f'name = "{name}"\ndescription = "{name}"\nrationale = "test"\n'
                     "[stress]\nenabled = true\n"
                     "[horizon]\nwarmup_days = 0\n")  # the layout, not the steady state
        paths.append(str(p))
    out = folder / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["compare", *paths, "--days", "1", "--reps", "2", "--executor", "serial",
                     "--quiet", "--out", str(out)]) == 0
    return out, buf.getvalue()


def test_five_scenarios_fit_a_terminal(five):
    """The printed comparison of five scenarios fits 100 columns, every KPI still shown."""
    _, text = five
    wide = [line for line in text.splitlines() if len(line) > 100]
    assert not wide, f"{len(wide)} lines wider than 100 columns, e.g. {wide[0]!r}"
    for name in FIVE[1:]:
        assert f"{name} - {FIVE[0]}, paired" in text, name
    note = " ".join(text[text.index("Not shown:"):].split("\n\n")[0].split())
    for k in KPIS:  # in the tables, or named as having no value in these five scenarios
        assert (f"\n{k} " in text) != (f" {k}," in note or f" {k}." in note), k


def test_headline_in_words_with_cis(five):
    """Each scenario's headline names service level, measured stress and paid hours with CIs."""
    out, text = five
    html = (out / "report.html").read_text()
    for name in FIVE[1:]:
        line = " ".join(text[text.index(f"{name} against {FIVE[0]}:"):].split("\n\n")[0]
                        .split())
        assert re.search(r"service level [+-]\d+\.\d\d pp \[[+-]\d+\.\d\d pp, ", line), line
        assert "measured stress" in line and "paid agent-hours per day" in line, line
        assert "warnings per agent" in line, line  # the strict regime warns
        assert f'<p class="headline">{name} against {FIVE[0]}: service level' in html
    assert html.index('class="headline"') < html.index('id="service_level_vs_stress"') \
        < html.index('<table class="kpis">'), "headline, then trade-off, then the tables"


def test_five_scenario_report_does_not_overflow(five, tmp_path):
    """Nothing in the five-scenario report reaches past the page (Chromium, 1280 and 1024 px).

    The paired differences, the point of the comparison, stay on it.
    """
    out, _ = five
    for width in (1280, 1024):
        view, scroll, n, what = overflow(out / "report.html", tmp_path, width)
        assert n == 0 and scroll <= view, f"{width} px: {n} elements overflow: {what}"


# --------------------------------------------------------------------------- ccsim run


@pytest.fixture(scope="module")
def run_report(tmp_path_factory) -> Path:
    """``ccsim run`` of the base centre, one day, two replications: its output folder."""
    out = tmp_path_factory.mktemp("run")
    assert main(["run", str(SCENARIOS / "base.toml"), "--days", "1", "--reps", "2",
                 "--executor", "serial", "--quiet", "--out", str(out)]) == 0
    return out


def test_run_writes_its_report(run_report):
    """report.html: a headline, intraday service level and net staffing figures, the KPIs."""
    html = (run_report / "report.html").read_text()
    head = re.search(r'<p class="headline" id="headline">([^<]*)</p>', html)
    assert head, "no headline"
    m = re.search(r"^base: service level \d+\.\d\d% \[[\d.]+%, [\d.]+%\] against the 80% target"
                  r".*; intervals below target [\d.]+%; worst interval [\d.]+% \(the "
                  r"average day lowest at (\d\d:\d\d), (\d+)%\); occupancy [\d.]+%; "
                  r"coverage: agents on queue short of the Erlang requirement in (\d+) of 48 "
                  r"intervals of the day; [\d,]+ paid agent-hours a day, "
                  r"NOK [\d,]+ \(NOK [\d.]+ per answered call\)", head[1])
    assert m, head[1]
    imgs = set(re.findall(r'<img id="([^"]+)"', html))
    assert imgs == {"intraday", "net_staffing"}, imgs
    kpis = html[html.index('<table class="kpis">'):]
    kpis = kpis[:kpis.index("</table>")]
    for k in KPIS:
        assert f"<td>{k}</td>" in kpis, k
    net = html[html.index('<table class="net">'):]
    assert net[:net.index("</table>")].count("<tr>") == 48 + 1


def test_run_report_numbers_are_the_runs(base):
    """The headline's interval count, worst interval and net staffing come from the tables."""
    from analysis.experiment import run_experiment
    from analysis.run_report import headline, interval_profile, net_staffing
    from analysis.stats import summarise

    s = base.replace({"horizon.days": 2})
    exp = run_experiment([s], 1, 2)
    iv = exp.table("intervals")
    by_hand = iv.groupby(["interval", "replication"])["service_level"].mean() \
        .groupby("interval").mean()
    prof = interval_profile(exp, "service_level")
    assert np.allclose(prof["mean"], by_hand.to_numpy())
    net = net_staffing(exp)
    assert np.allclose(net["on_queue"], iv.groupby("interval")["agents_on_queue"].mean())
    assert (net["erlang_agents"] > 0).all() and len(net) == s.horizon.intervals_per_day
    text = headline(s, summarise(exp.kpi_rows(0)), prof, net, 2)
    est = summarise(exp.kpi_rows(0))
    worst = by_hand.idxmin()
    clock = format_clock(s.horizon.open + worst * s.horizon.interval_s)
    below, low = (format_kpi(k, est[k].mean)
                  for k in ("intervals_below_target", "worst_interval_service_level"))
    assert (f"; intervals below target {below}; worst interval {low} (the average day lowest "
            f"at {clock}, {100 * by_hand.min():.0f}%);") in text, text
    assert f"short of the Erlang requirement in {int((net['net'] < -0.5).sum())} of 48" in text


def test_run_report_with_stress_shows_strain(tmp_path):
    """With measured stress: strain over the last day and stress over the horizon."""
    strict = tmp_path / "strict.toml"
    strict.write_text(f'extends = "{SCENARIOS / "policy" / "individual-strict.toml"}"\n'
                      'description = "strict, stress measured"\nrationale = "test"\n'
                      '[stress]\nenabled = true\n[horizon]\nwarmup_days = 0\n')
    out = tmp_path / "out"
    assert main(["run", str(strict), "--days", "2", "--reps", "2", "--executor", "serial",
                 "--quiet", "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    imgs = set(re.findall(r'<img id="([^"]+)"', html))
    assert imgs == {"intraday", "net_staffing", "strain_over_day", "stress_over_horizon"}
    assert "Strain over day 1" in html and "measured stress" in html


def test_run_report_does_not_overflow(run_report, tmp_path):
    """The run report fits the page in headless Chromium."""
    view, scroll, n, what = overflow(run_report / "report.html", tmp_path)
    assert n == 0 and scroll <= view, f"{n} elements overflow: {what}"
