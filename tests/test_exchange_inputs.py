"""Files received from others (issue 19): what ccsim reads from them and what it writes.

An ACD report's file name cannot become scenario content; every input file is a regular
file of bounded size in a known encoding; ``--out`` cannot replace an input; ``~`` in a
path is the home folder; zero talk or ACW is what the schema documents; Erlang A answers
every legal question, including very long patience.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import tomllib
from pathlib import Path

import pytest
import tomli_w

from analysis.acd import (
    MAX_REPORT_BYTES,
    AcdError,
    decode_report,
    estimate,
    import_report,
    one_line,
    read_report,
)
from analysis.args import parse_set, path
from analysis.cli import main
from sim.planning.erlang import (
    _window_metrics,
    erlang_a_metrics,
    erlang_c_metrics,
)
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import small_dict

HOSTILE = ('week3\nmeasurement.level = "individual"\nmonitoring.feedback = "punitive"\n'
           "#.csv")


def _base(folder: Path) -> Path:
    """The small two-hour centre of conftest as a scenario file (08:00-10:00)."""
    data = small_dict()
    data.pop("name")
    p = folder / "base.toml"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    return p


def _report_text(extra_header: str = "", extra_cell: str = "") -> str:
    """Four weeks (import-acd's least) of half-hourly intervals over the small centre's hours."""
    rows = [f"date,interval,offered,answered,abandoned,aht,asa{extra_header}"]
    for d in range(28):
        day = dt.date(2018, 3, 5) + dt.timedelta(d)
        for k, clock in enumerate(("08:00", "08:30", "09:00", "09:30")):
            rows.append(f"{day},{clock},{40 + 10 * k},{38 + 10 * k},2,300,15"
                        f"{extra_cell}")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- injection


def test_hostile_report_name_cannot_add_lines_to_the_scenario(tmp_path):
    """A report named with newlines and TOML keys leaves measurement and monitoring alone."""
    base = _base(tmp_path)
    report = tmp_path / HOSTILE
    report.write_text(_report_text(), encoding="utf-8")
    out = tmp_path / "mine.toml"
    assert main(["import-acd", str(report), "--out", str(out), "--base", str(base),
                 "--reps", "2"]) == 0
    text = out.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert sorted(data) == ["calls", "demand", "description", "extends", "horizon", "rationale",
                            "staffing"]
    assert not [ln for ln in text.splitlines() if ln.startswith(("measurement", "monitoring"))]
    got, want = load_scenario(out), load_scenario(base)
    assert got.measurement == want.measurement and got.monitoring == want.monitoring
    escaped = ('week3\\nmeasurement.level = "individual"\\nmonitoring.feedback = '
               '"punitive"\\n#.csv')
    assert escaped in " ".join(got.rationale.split("\n"))  # the rationale is wrapped
    assert "\nmeasurement.level" not in got.rationale
    assert got.description == "mine: demand and handle time imported from an ACD report (28 days)"


@pytest.mark.parametrize(("field", "value", "code", "at"), [
    ("description", "ok\x1b[2J\x1b]0;pwned\x07", "001B", 3),
    ("rationale", "cheap \u202edecnalab", "202E", 7),
    ("description", "nul\x00", "0000", 4),
    ("description", "c1 \x9b31m", "009B", 4),
])
def test_a_received_scenarios_text_holds_no_control_characters(tmp_path, field, value, code, at):
    """An escape sequence, a bidi override, NUL or a C1 control in free text: one error.

    The error names the file, the field, the value (escaped) and what is allowed; a
    description with tabs, new lines and any script's letters still loads.
    """
    data = small_dict()
    data[field] = value
    p = tmp_path / "received.toml"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    assert str(info.value) == (
        f"invalid scenario:\n  {p}: {field}: {value!r} holds the control character U+{code} at "
        f"character {at}: plain text only (letters, digits, punctuation, spaces, tabs and new "
        "lines; no terminal escapes, control or bidirectional-override characters)")
    data[field] = "Tabs\tand\nlines, æøå, العربية, 中文 ✓"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert getattr(load_scenario(p), field) == data[field]


def test_a_holiday_label_holds_no_control_characters():
    """A holiday's name (shown in reports) is plain text too."""
    from sim.scenario import scenario_from_dict

    with pytest.raises(ScenarioError, match=r"demand\.holidays\.0\.name: 'x\\x1b\[2J' holds "
                       r"the control character U\+001B at character 2: plain text only"):
        scenario_from_dict(small_dict(demand__holidays=[
            {"day": 0, "factor": 0.5, "name": "x\x1b[2J"}]))


def test_one_line_makes_outside_text_visible_and_single_line():
    """Newlines, escape sequences and bidi overrides become escapes; length is capped."""
    assert one_line("a\nb\x1b[31mc\u202ed\\e f") == "a\\nb\\x1b[31mc\\u202ed\\\\e f"
    assert one_line("x" * 300, limit=10) == "xxxxxxx..."


def test_set_with_a_newline_is_one_value_not_more_keys():
    """--set KEY=VALUE reads one TOML value; a trailing line with another key stays text."""
    assert parse_set("staffing.agents=95") == ("staffing.agents", 95)
    assert parse_set('a=95\nmeasurement.level = "individual"') == (
        "a", '95\nmeasurement.level = "individual"')


# --------------------------------------------------------------------------- input files


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_report_that_is_not_a_regular_file_is_refused_unread(tmp_path, kind):
    """/dev/zero, a FIFO and a folder are refused naming the file, without reading."""
    if kind == "device":
        p = Path("/dev/zero")
        want = ("the report: /dev/zero is not a regular file (a device, pipe or socket), not "
                "an ACD report; give the report as a .csv file")
    elif kind == "fifo":
        p = tmp_path / "r.csv"
        os.mkfifo(p)  # no writer: a blocking open or read would hang here
        want = (f"the report: {p} is not a regular file (a device, pipe or socket), not an "
                "ACD report; give the report as a .csv file")
    else:
        p = tmp_path
        want = f"the report: {p} is a folder, not an ACD report (give the report as a .csv file)"
    with pytest.raises(AcdError) as info:
        read_report(p)
    assert str(info.value) == want


def test_scenario_from_a_device_is_refused():
    """A scenario path that is a device is refused naming it (not read to the end)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario("/dev/zero")
    assert str(info.value) == ("scenario: /dev/zero is not a regular file (a device, pipe or "
                               "socket), not a scenario file; give a .toml file")


def test_report_over_the_size_limit_is_refused_before_reading(tmp_path):
    """A report larger than MAX_REPORT_BYTES is refused by its size (a sparse file here)."""
    p = tmp_path / "big.csv"
    with p.open("wb") as fh:
        fh.truncate(MAX_REPORT_BYTES + 1)
    with pytest.raises(AcdError) as info:
        read_report(p)
    assert str(info.value) == (f"the report: {p} has {MAX_REPORT_BYTES + 1} bytes; an ACD "
                               f"report may have at most {MAX_REPORT_BYTES} bytes")


def test_windows_1252_report_is_read_and_says_so(tmp_path):
    """A cp1252 report (a spreadsheet's 'CSV' on Windows) is decoded and the note says so."""
    p = tmp_path / "win.csv"
    p.write_bytes(_report_text(",Bemerkung", ",Störung – 5€").encode("cp1252"))
    df = read_report(p)
    assert df.attrs["encoding"] == "cp1252" and len(df) == 112
    est = estimate(df, load_scenario(_base(tmp_path)), source=p.name)
    assert est.notes[0] == ("the report is not UTF-8; it was read as cp1252 (Windows-1252, "
                            "what spreadsheet programs on Windows write)")
    assert est.calls_per_day == 220


def test_report_in_neither_encoding_names_file_line_byte_and_encoding():
    """Bytes that are neither UTF-8 nor cp1252 give an error naming the encoding to use."""
    with pytest.raises(AcdError) as info:
        decode_report(Path("r.csv"), b"date,interval\n2018-03-05,08:00\x81\n")
    assert str(info.value) == ("r.csv: line 2: byte 0x81 is neither UTF-8 nor Windows-1252 "
                               "(cp1252) text; save the report as CSV with the encoding UTF-8")
    assert decode_report(Path("r.csv"), "\ufeffdate".encode()) == ("date", "utf-8")


def test_latin1_scenario_names_the_encoding(tmp_path):
    """A scenario saved as Latin-1 is refused naming the file, the byte and UTF-8."""
    p = tmp_path / "s.toml"
    p.write_bytes('description = "Störung"\nrationale = "r"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    assert str(info.value) == (f"{p}: not UTF-8 text (byte 17 is 0xf6); a scenario is a TOML "
                               "text file and TOML is UTF-8: save it with the encoding UTF-8")


# --------------------------------------------------------------------------- paths


def test_out_with_a_tilde_is_the_home_folder(tmp_path, monkeypatch, capsys):
    """--out '~/x.toml' writes into $HOME, not into a folder named ~ here."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    base = _base(tmp_path)
    report = tmp_path / "r.csv"
    report.write_text(_report_text())
    assert main(["import-acd", str(report), "--out", "~/mine.toml", "--base", str(base),
                 "--reps", "0"]) == 0  # the replay (and its folder) in tests/test_acd.py
    assert (home / "mine.toml").is_file() and not (tmp_path / "~").exists()
    assert path("~/a/b") == home / "a" / "b" and path("a/~/b") == Path("a/~/b")
    with pytest.raises(argparse.ArgumentTypeError) as info:
        path("~no_such_user_ccsim/x")
    assert str(info.value) == ("'~no_such_user_ccsim/x': cannot expand '~no_such_user_ccsim' "
                               "(no such user or no home folder); give the path without ~")


@pytest.mark.parametrize("which", ["base", "extended", "hard link", "report"])
def test_out_that_is_an_input_is_refused_even_with_force(tmp_path, capsys, which):
    """--out naming the base, a file it extends (also via a hard link) or the report: refused."""
    extended = _base(tmp_path)
    base = tmp_path / "mine.toml"
    base.write_text('extends = "base.toml"\ndescription = "d"\nrationale = "r"\n')
    report = tmp_path / "r.toml"  # a .toml name, so only the input check can refuse it
    report.write_text(_report_text())
    if which == "hard link":
        os.link(extended, tmp_path / "link.toml")
    out = {"base": base, "extended": extended, "hard link": tmp_path / "link.toml",
           "report": report}[which]
    before = {p: p.read_bytes() for p in (base, extended, report)}
    assert main(["import-acd", str(report), "--out", str(out), "--base", str(base),
                 "--force"]) == 2
    what = {"base": f"the base scenario (--base) {base}",
            "extended": f"a file the base extends (1 step up its extends chain) {extended}",
            "hard link": f"a file the base extends (1 step up its extends chain) {extended}",
            "report": f"the ACD report {report}"}[which]
    assert capsys.readouterr().err == (
        f"ccsim import-acd: error: --out {out}: is {what}; writing it would replace an input "
        "of this import (with or without --force); choose another --out\n")
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_import_report_leaves_no_temporary_behind_when_the_result_does_not_load(tmp_path):
    """A written scenario that fails to load is removed; the folder holds only the inputs."""
    base = _base(tmp_path)
    report = tmp_path / "r.csv"
    # calls 08:00-08:30 only: shift b (08:30) lies outside those hours, so the result fails
    report.write_text("\n".join(ln for ln in _report_text().splitlines()
                                if ",08:30," not in ln and ",09:" not in ln) + "\n")
    with pytest.raises(ScenarioError):
        import_report(report, tmp_path / "out.toml", base)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.toml", "r.csv"]


# --------------------------------------------------------------------------- errors


def test_zero_talk_and_acw_each_allowed_both_refused_naming_both():
    """Talk or ACW of mean 0 is 'none'; both 0 is one error naming both fields."""
    base = Path(__file__).resolve().parents[1] / "scenarios" / "base.toml"
    assert load_scenario(base, {"calls.acw.mean_s": 0}).calls.acw.mean_s == 0
    assert load_scenario(base, {"calls.talk.mean_s": 0}).calls.talk.mean_s == 0
    with pytest.raises(ScenarioError) as info:
        load_scenario(base, {"calls.talk.mean_s": 0, "calls.acw.mean_s": 0})
    assert str(info.value) == (
        "invalid scenario:\n  --set: calls.talk.mean_s: 0 with calls.acw.mean_s also 0; each "
        "may be 0 (none), but not both: a call's handle time (talk + ACW) must be > 0 s")


def test_erlang_a_with_patience_far_beyond_the_chain_cap():
    """12 agents at 30 calls/s, AHT 300 s, patience 1 day or 1e6 s: all busy, the rest abandon."""
    for patience in (86_400.0, 1e6):
        m = erlang_a_metrics(30.0, 300.0, 12, 20.0, patience)
        assert m.abandon_rate == pytest.approx(1 - 0.04 / 30.0, rel=1e-12)
        assert (m.p_wait, m.service_level) == (1.0, 0.0)
        # occupancy is lam (1 - abandon) / (c mu): 1 - abandon is 0.04 / 30, so the 1e-12 the
        # abandon rate is held to above allows far more here than rounding leaves (exactly
        # 1.0 when this was written; 0.99999999999989 with the numpy 2.4.6 and scipy 1.17.1
        # a fresh install took on 8 December 2026)
        assert m.occupancy == pytest.approx(1.0, rel=1e-12) and m.occupancy <= 1.0
        # answered calls climbed from the mode (lam - c mu) / theta: log(lam / c mu) / theta
        assert m.asa_s == pytest.approx(math.log(30.0 / 0.04) * patience, rel=1e-3)


def test_erlang_a_window_equals_the_exact_chain_where_both_apply():
    """The window method (used past the cap) gives the exact chain's metrics to 1e-10."""
    for rate, aht, c, t, patience in [(11 / 300, 300, 12, 20, 180), (20 / 300, 300, 12, 20, 600),
                                      (0.5, 100, 40, 20, 120), (0.1, 300, 12, 3000, 3000)]:
        exact = erlang_a_metrics(rate, aht, c, t, patience).as_dict()
        window = _window_metrics(rate, 1 / aht, 1 / patience, c, t).as_dict()
        assert window == pytest.approx(exact, rel=1e-10, abs=1e-15)


def test_erlang_a_with_negligible_abandonment_is_erlang_c():
    """Near capacity with patience 1e22 s (a chain of millions of states): Erlang C's values."""
    rate, aht, c = 11.998 / 300, 300.0, 12
    a = erlang_a_metrics(rate, aht, c, 20.0, 1e22).as_dict()
    ec = erlang_c_metrics(rate, aht, c, 20.0).as_dict()
    assert a.pop("abandon_rate") == pytest.approx(ec.pop("abandon_rate") + ec["asa_s"] / 1e22)
    assert a == pytest.approx(ec, rel=1e-12)
