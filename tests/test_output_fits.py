"""Output that fits: every command's terminal text within 100 columns, one interval vocabulary.

Each command runs once, in process, on the two-hour test centre (stress measured, the
individual regime, so stress and warnings show); the tests read what it printed and wrote.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
from pathlib import Path

import pytest
import tomli_w

from analysis.cli import main
from analysis.stats import Estimate, kpi_table
from sim.measure.kpi import INTERVAL_TERMS, KPIS, format_ci, in_range
from tests.conftest import ROOT, small_dict

WIDTH = 100
QUICK = ["--days", "1", "--reps", "2", "--executor", "serial", "--quiet"]


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, str]:
    """Each command's standard output by name; the output folders under ``out``.

    About 20 CPU-seconds in all, most of it the sweep's 52 plots.
    """
    d = tmp_path_factory.mktemp("fits")
    centre = small_dict(stress={"enabled": True}, measurement={"level": "individual"})
    (d / "a.toml").write_bytes(tomli_w.dumps(centre).encode())
    more = {**centre, "name": "more", "staffing": {"shifts": {
        "a": {"start": "08:00", "hours": 2, "agents": 8},
        "b": {"start": "08:30", "hours": 1.5, "agents": 4}}}}
    (d / "b.toml").write_bytes(tomli_w.dumps(more).encode())
    a, b, out = str(d / "a.toml"), str(d / "b.toml"), d / "out"
    commands = {
        "run": ["run", a, *QUICK, "--out", str(out / "run")],
        "run --explain": ["run", a, *QUICK, "--no-write", "--explain"],
        "compare": ["compare", a, b, *QUICK, "--no-confirm", "--out", str(out / "compare")],
        "sweep": ["sweep", a, "--set", "staffing.shifts.a.agents=5,7", *QUICK,
                  "--out", str(out / "sweep")],
        "warmup": ["warmup", a, "--days", "10", "--reps", "2", "--executor", "serial",
                   "--quiet", "--out", str(out / "warmup")],
        "erlang": ["erlang", "--rate", "360/h", "--aht", "240", "--agents", "27",
                   "--target", "20"],
        "validate": ["validate", "--rate", "360/h", "--aht", "240", "--agents", "27",
                     "--target", "20", "--reps", "2", "--calls", "2000", "--executor", "serial",
                     "--quiet"],
        "verify": ["verify", str(out / "compare")],
    }
    got = {"out": str(out)}
    for name, argv in commands.items():
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            status = main(argv)
        assert status == 0, (name, buf.getvalue()[-500:])
        got[name] = buf.getvalue()
    return got


# `ccsim staff` (a head-count search, about 7 CPU-seconds here) and `ccsim sensitivity`
# (minutes) are left out to keep the file cheap; measured by hand at 93 and 100 columns.
@pytest.mark.parametrize("name", ["run", "run --explain", "compare", "sweep", "warmup",
                                  "erlang", "validate", "verify"])
def test_every_printed_line_fits_100_columns(printed, name):
    """No line any command prints is wider than 100 characters."""
    wide = [line for line in printed[name].splitlines() if len(line) > WIDTH]
    assert wide == [], f"{name}: {len(wide)} line(s) over {WIDTH}, e.g. {wide[0]!r}"


def test_meanings_come_with_explain_only(printed):
    """`run` names the flag and shows no meaning; `run --explain` shows each under its KPI."""
    plain, explained = printed["run"], printed["run --explain"]
    assert "What each KPI means: add --explain" in plain
    flat = " ".join(explained.split())
    for k in ("service_level", "stress_mean", "warnings_per_agent", "intervals_below_target"):
        assert " ".join(KPIS[k].description.split()) in flat, k
        assert KPIS[k].description[:40] not in " ".join(plain.split()), k


def test_values_in_their_unit_and_range(printed):
    """Shares print as %, stress names its scale, no share's CI passes 100% or 0%."""
    rows = {line.split()[0]: line for line in printed["run"].splitlines() if line.strip()}
    assert re.fullmatch(r"service_level +\d+\.\d\d% +\[\d+\.\d\d%, \d+\.\d\d%\] +%",
                        rows["service_level"]), rows["service_level"]
    assert rows["stress_mean"].endswith("stress pts"), rows["stress_mean"]
    assert "stress pts are the model's survey scale" in " ".join(printed["run"].split())
    for text in (printed["run"], printed["sweep"], printed["compare"]):
        for pct in re.findall(r"(-?\d+\.\d\d)%", text):
            assert 0 <= float(pct) <= 100 or "conformance" in text, pct


def test_a_ci_is_shown_inside_the_kpis_range():
    """93.59% [82.04%, 105.13%] shows as [82.04%, 100.00%]; conformance may pass 100%."""
    assert format_ci("service_level", 0.8204, 1.0513) == "[82.04%, 100.00%]"
    assert format_ci("abandon_rate", -0.05, 0.1) == "[0.00%, 10.00%]"
    assert format_ci("conformance", 0.9, 1.2) == "[90.00%, 120.00%]"
    assert format_ci("overtime_hours", -2.57, 4.0) == "[0, 4.00]"
    assert in_range("service_level", 0.5) == 0.5
    table = kpi_table({"service_level": Estimate(0.9359, 0.8204, 1.0513, 3, 0.95)}, True)
    assert "93.59%   [82.04%, 100.00%]" in table and "105" not in table


def _plain(path: Path) -> str:
    """An HTML file's text, tags dropped, entities read, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    return " ".join(html.unescape(text).split())


def test_run_and_compare_reports_state_intervals_in_the_same_words(printed):
    """Both reports list every interval term with its one definition, word for word."""
    out = Path(printed["out"])
    reports = {n: _plain(out / n / "report.html") for n in ("run", "compare")}
    for term, meaning in INTERVAL_TERMS.items():
        for name, text in reports.items():
            assert f"{term} {meaning}." in text, (name, term)
    assert "intervals below target" in reports["run"] and "worst interval" in reports["run"]


def test_kpi_descriptions_and_docs_use_the_vocabulary():
    """The interval KPIs and docs/reference.md quote the same definitions."""
    assert INTERVAL_TERMS["intervals below target"] in KPIS["intervals_below_target"].description
    assert INTERVAL_TERMS["worst interval"] in KPIS["worst_interval_service_level"].description
    reference = " ".join((ROOT / "docs" / "reference.md").read_text().split())
    for meaning in INTERVAL_TERMS.values():
        assert meaning in reference, meaning
