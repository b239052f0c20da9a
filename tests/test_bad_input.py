"""Hostile input: every bad scenario, option or folder is one clear error, never a traceback.

Each case names the file or option, the field and the value, and exits with status 2. No
scenario file or option value writes outside ``results/`` or ``--out``, and nothing a user
made earlier is overwritten.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis import experiment
from analysis.cli import main
from analysis.experiment import SizeGuard, TooLargeError, estimate, fresh_out
from analysis.store import UnsafePathError, claim_output, inside
from sim.model import simulate
from sim.scenario import (
    MAX_EXTENDS,
    MAX_FILE_BYTES,
    ScenarioError,
    load_scenario,
    scenario_from_dict,
)
from tests.conftest import ROOT, SCENARIOS, small_dict
from tests.test_experiment_staff import SMALL

pytestmark = pytest.mark.usefixtures("no_output_locks")



def fails(capsys, *argv: str) -> str:
    """Run ccsim; it must exit 2 with one error on stderr (no traceback); return stderr."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error:" in err
    return err


# --------------------------------------------------------------------------- schema values

@pytest.mark.parametrize(("key", "value", "expect"), [
    ("horizon.hours", "inf", "horizon.hours: got inf; must be a finite number"),
    ("horizon.hours", "nan", "horizon.hours"),
    ("calls.patience.mean_s", "inf", 'use distribution = "none"'),
    ("calls.talk.mean_s", "inf", "calls.talk.mean_s: got inf"),
    ("schedule.tolerance_s", "inf", "schedule.tolerance_s: got inf; must be a finite"),
    ("schedule.tolerance_by_state.break", "inf", "tolerance_by_state.break: got inf"),
    ("behaviour.unplanned_break.mean_s", "inf", "behaviour.unplanned_break.mean_s: got inf"),
    ("behaviour.returns.break.late.mean_s", "inf", "returns.break.late.mean_s: got inf"),
    ("staffing.shifts.a.hours", "inf", "staffing.shifts.a.hours: got inf"),
    ("schedule.activities.b",
     '{kind = "break", minutes = 15, window_minutes = [10, 40], step_minutes = inf}',
     "schedule.activities.b.step_minutes: got inf"),
    ("name", '"../../../x"', "name: '../../../x' is not allowed"),
    ("name", '"/tmp/abs"', "name: '/tmp/abs' is not allowed"),
    ("name", '"a\\\\b"', "is not allowed"),
    ("name", '".hidden"', "name: '.hidden' is not allowed"),
    ("name", '"x' + "y" * 130 + '"', "at most 120 characters"),
    ("monitoring.realtime_alerts", "true", "monitoring.realtime_alerts: true needs"),
    ("monitoring.alert_tolerance_s", "-1", "monitoring.alert_tolerance_s"),
    ("monitoring.league_table_days", "0", "monitoring.league_table_days"),
    ("targets.service_level", "1.5", "targets.service_level"),
    ("targets.service_level_interval", "2", "targets.service_level_interval: 2"),
    ("targets.abandon_rate", "-0.1", "targets.abandon_rate"),
    ("targets.adherence_applies_to", '"everyone"', "targets.adherence_applies_to"),
])
def test_bad_value_is_one_clear_error(capsys, small_file, key, value, expect):
    """Non-finite numbers and unsafe names are refused, naming where, field and value."""
    err = fails(capsys, "run", str(small_file), "--set", f"{key}={value}", "--no-write")
    assert expect in err
    assert "--set" in err  # where the value came from


def test_name_in_a_file_names_the_file(capsys, tmp_path):
    """A climbing name written in a scenario file: the error names that file."""
    path = tmp_path / "evil.toml"
    path.write_text('name = "../../../escaped"\n' + SMALL)
    out = tmp_path / "work"
    out.mkdir()
    err = fails(capsys, "run", str(path), "--quiet")
    assert f"{path}: name: '../../../escaped' is not allowed" in err
    assert not list(tmp_path.rglob("escaped*"))


def test_safe_names_still_pass():
    """Names the tools build (sweep labels, matched head counts, duplicates) stay valid."""
    base = scenario_from_dict(small_dict())
    for name in ("small[staffing.agents=90,calls.patience.mean_s=120.5]", "small@95",
                 "small-2", "Bemanning høst 2025 (v2)", 'x[demand.profile=[1, 2]]'):
        assert base.replace({"name": name}).name == name


def test_default_name_from_an_odd_file_name_is_made_safe(tmp_path):
    """The default name (the file's stem) is slugged, not refused: the user did not set it."""
    path = tmp_path / ".odd#name.toml"
    path.write_text(SMALL)
    assert load_scenario(path).name == "odd_name"


@pytest.mark.parametrize(("start", "hours", "expect"), [
    ("23:00", 2, "staffing.shifts.a.hours: the shift starts at 23:00 and lasts 2 h, so it "
                 "would end after midnight"),
    ("24:00", 1, "staffing.shifts.a.start: 24:00 is the end of the day"),
    ("16:00", 8.5, "would end after midnight"),
])
def test_shift_past_midnight_in_a_multi_day_run(start, hours, expect):
    """Shifts crossing midnight or starting at 24:00 are refused when days > 1."""
    # the queue open 08:00-24:00, so that a shift ending at midnight overlaps it
    d = small_dict(horizon__days=2, horizon__hours=16, horizon__interval_minutes=240)
    d["staffing"]["shifts"]["a"].update(start=start, hours=hours)
    with pytest.raises(ScenarioError, match=expect):
        scenario_from_dict(d)
    d["staffing"]["shifts"]["a"].update(start="16:00", hours=8)  # ends exactly at 24:00
    scenario_from_dict(d)


# --------------------------------------------------------------------------- scenario files

def test_scenario_path_that_is_a_folder_or_empty(capsys, tmp_path):
    """A folder (or "", which is the working folder) as the scenario: one error."""
    err = fails(capsys, "run", str(tmp_path), "--no-write")
    assert f"scenario: {tmp_path} is a folder, not a scenario file" in err
    err = fails(capsys, "run", "", "--no-write")
    assert "is a folder, not a scenario file" in err


@pytest.mark.parametrize(("extends", "expect"), [
    ('""', "extends: empty file name"),
    ('"."', "is a folder, not a scenario file"),
    ('"sub"', "sub is a folder, not a scenario file"),
    ('"missing.toml"', "extends: file not found"),
    ('"/dev/zero"', "/dev/zero is not a regular file"),
    ("3", "extends: expected a file name (text), got 3"),
])
def test_bad_extends(capsys, tmp_path, extends, expect):
    """``extends`` naming nothing, a folder or a device: one error naming the file."""
    (tmp_path / "sub").mkdir()
    path = tmp_path / "child.toml"
    path.write_text(f"extends = {extends}\n" + SMALL)
    err = fails(capsys, "run", str(path), "--no-write")
    assert expect in err


def test_dev_zero_and_a_fifo_are_refused_at_once(capsys, tmp_path):
    """Devices and pipes are refused before reading: no MemoryError, no blocking."""
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    assert "/dev/zero is not a regular file" in fails(capsys, "run", "/dev/zero", "--no-write")
    assert "pipe.toml is not a regular file" in fails(capsys, "run", str(fifo), "--no-write")
    assert time.perf_counter() - t0 < 5


def test_empty_huge_and_binary_files(capsys, tmp_path):
    """An empty file, one over the size limit, and one that is not UTF-8: one error each."""
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert "the file is empty" in fails(capsys, "run", str(empty), "--no-write")
    huge = tmp_path / "huge.toml"
    huge.write_text(SMALL + "# " + "x" * MAX_FILE_BYTES + "\n")
    size = huge.stat().st_size
    err = fails(capsys, "run", str(huge), "--no-write")
    assert f"has {size} bytes; a scenario file may have at most {MAX_FILE_BYTES} bytes" in err
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8 text" in fails(capsys, "run", str(binary), "--no-write")


def test_deeply_nested_values(capsys, tmp_path):
    """Arrays nested thousands deep: one error, no RecursionError."""
    deep = tmp_path / "deep.toml"
    deep.write_text(SMALL + "x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "nested too deeply" in fails(capsys, "run", str(deep), "--no-write")
    deep.write_text(SMALL + "x = " + "[" * 100 + "]" * 100 + "\n")
    assert "nested too deeply" in fails(capsys, "run", str(deep), "--no-write")


def test_long_extends_chain_and_cycle(capsys, tmp_path):
    """A chain longer than MAX_EXTENDS, and a cycle: one error each, no RecursionError."""
    n = 2000  # deep enough to exhaust Python's recursion limit without the cap
    for i in range(n):
        (tmp_path / f"c{i}.toml").write_text(
            f'extends = "c{i + 1}.toml"\ndescription = "d"\nrationale = "r"\n')
    (tmp_path / f"c{n}.toml").write_text(SMALL)
    err = fails(capsys, "run", str(tmp_path / "c0.toml"), "--no-write")
    assert f"more than {MAX_EXTENDS} files in the chain" in err
    # the longest allowed chain loads
    assert load_scenario(tmp_path / f"c{n - MAX_EXTENDS + 1}.toml").horizon.days == 1
    (tmp_path / "a.toml").write_text('extends = "b.toml"\ndescription = "d"\nrationale = "r"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\ndescription = "d"\nrationale = "r"\n')
    assert "extends: cycle" in fails(capsys, "run", str(tmp_path / "a.toml"), "--no-write")


# --------------------------------------------------------------------------- output folders

def test_out_that_is_a_file_or_a_device(capsys, small_file, tmp_path):
    """--out naming a file or /dev/null: one error, and the file is untouched."""
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    err = fails(capsys, "run", str(small_file), "--out", str(target), "--quiet")
    assert f"--out {target}: is a file" in err
    assert target.read_text() == "mine"
    err = fails(capsys, "run", str(small_file), "--out", "/dev/null", "--quiet")
    assert "--out /dev/null: is not a folder" in err
    err = fails(capsys, "compare", str(small_file), "--out", str(target), "--quiet")
    assert "is a file" in err


def test_out_never_overwrites_what_a_user_made(capsys, small_file, tmp_path):
    """An existing folder with other files is refused; one written by another command too."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "manifest.json").write_text('{"my": "data"}')
    (mine / "thesis.tex").write_text("chapter 1")
    err = fails(capsys, "run", str(small_file), "--out", str(mine), "--quiet",
                "--executor", "serial")
    assert (f"--out {mine}: the folder is not empty and is not ccsim's (no .ccsim-output.json "
            "marker); manifest.json, thesis.tex are not ccsim's" in err)
    assert (mine / "manifest.json").read_text() == '{"my": "data"}'
    assert sorted(p.name for p in mine.iterdir()) == ["manifest.json", "thesis.tex"]

    out = tmp_path / "runs"
    assert main(["run", str(small_file), "--out", str(out), "--quiet", "--executor",
                 "serial"]) == 0
    before = (out / "kpis.csv").read_bytes()
    err = fails(capsys, "compare", str(small_file), str(small_file), "--out", str(out),
                "--quiet", "--executor", "serial", "--reps", "2")
    assert "holds the output of `ccsim run`" in err
    assert (out / "kpis.csv").read_bytes() == before
    # the same command again resumes into it (the user asked for that folder)
    assert main(["run", str(small_file), "--out", str(out), "--quiet", "--executor",
                 "serial"]) == 0


def test_fresh_timestamped_folder_is_never_reused(monkeypatch, tmp_path):
    """Two runs in the same second get two folders, both inside results/."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(experiment.time, "strftime", lambda fmt: "20250101-120000")
    first = fresh_out("small")
    second = fresh_out("small")
    assert first == Path("results/small/20250101-120000")
    assert second == Path("results/small/20250101-120000-2")
    assert first.is_dir() and second.is_dir()
    # defence in depth: even a name that skipped validation stays inside results/
    sneaky = fresh_out("../../../escape")
    assert Path("results").resolve() in sneaky.resolve().parents
    assert not (tmp_path.parent / "escape").exists()


def test_output_paths_cannot_leave_their_root(tmp_path):
    """Defence in depth: a path built from data that resolves outside its root is refused."""
    root = tmp_path / "results"
    root.mkdir()
    assert inside(root, "compare", "a-vs-b") == root / "compare" / "a-vs-b"
    for parts in (("..", "x"), ("../../x",), ("/etc",), ("a", "..", "..", "x")):
        with pytest.raises(UnsafePathError, match="outside"):
            inside(root, *parts)
    (root / "link").symlink_to(tmp_path.parent)
    with pytest.raises(UnsafePathError):
        inside(root, "link", "x")


def test_run_with_default_output_stays_in_results(small_file, tmp_path, monkeypatch):
    """``ccsim run`` without --out writes only under results/ of the working folder."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["run", str(small_file), "--quiet", "--executor", "serial"]) == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(work / "results" in p.parents or p == small_file for p in written)


# --------------------------------------------------------------------------- runaway sizes

def test_days_3660_is_refused_at_once_with_the_estimate(capsys):
    """--days 3660 on base.toml: refused in well under a second, estimate in the message."""
    t0 = time.perf_counter()
    err = fails(capsys, "run", str(SCENARIOS / "base.toml"), "--days", "3660", "--quiet",
                "--no-write")
    assert time.perf_counter() - t0 < 10
    assert "too large: about" in err and "GiB of memory" in err
    assert "calls" in err and "agent-days" in err and "--force" in err


def test_a_million_agents_is_refused(capsys, small_file):
    """A million agents: refused by the schema's documented maximum, before anything is built."""
    t0 = time.perf_counter()
    err = fails(capsys, "run", str(small_file), "--set", "staffing.agents=1000000",
                "--quiet", "--no-write")
    assert time.perf_counter() - t0 < 1
    assert "--set: staffing.agents: got 1000000; input should be less than or equal to " \
        "100000" in err


def test_guard_limits_force_and_notice(small):
    """The limits hold per replication and for the replications running at once.

    ``force`` (``--force``) overrides them; long work is announced.
    """
    big = small.replace({"staffing.agents": 100_000, "horizon.days": 20})
    with pytest.raises(TooLargeError, match="over the limit"):
        SizeGuard().check([big], 1, 1)
    SizeGuard(force=True).check([big], 1, 1)
    one = estimate(small).memory_bytes
    tight = SizeGuard(max_memory_bytes=10 * one, memory_share=1e-12)
    with pytest.raises(TooLargeError, match="use fewer --workers"):
        tight.check([small], 4, 4)
    notes = []
    SizeGuard(notify=notes.append, notify_after_s=0).check([small], 3, 2)
    assert len(notes) == 1 and "3 replication(s) on 2 worker(s)" in notes[0]
    SizeGuard(notify=notes.append).check([small], 3, 2)  # quick: no notice
    assert len(notes) == 1


def test_estimate_is_near_what_a_run_produces(base):
    """The estimate's calls and status rows are close to a real run's (base, 1 day)."""
    s = base.replace({"horizon.days": 1})
    est = estimate(s)
    r = simulate(s, seed=1)
    assert 0.8 < len(r.calls) / est.calls < 1.2
    assert est.agent_days == len(r.agent_days)
    assert 0.5 < len(r.statuses) / est.status_rows < 2


@pytest.mark.parametrize(("option", "value", "expect"), [
    ("--seed", str(2**32), "from 0 to 4294967295"),
    ("--seed", "9" * 40, "from 0 to 4294967295"),
    ("--seed", "-1", "from 0 to 4294967295"),
    ("--reps", "1000000", "from 1 to 10000"),
    ("--workers", "1000000", "from 1 to 1024"),
])
def test_option_ranges(capsys, small_file, option, value, expect):
    """Options that size the work are bounded to documented ranges (argparse: exit 2)."""
    with pytest.raises(SystemExit) as exc:
        main(["run", str(small_file), option, value, "--no-write"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: expected a whole number {expect}" in err


def test_validate_options_are_bounded(capsys):
    """The --agents and --calls of validate have documented ranges too."""
    base = ["validate", "--rate", "360/h", "--aht", "240", "--target", "20"]
    for extra, expect in ((["--agents", "10000000"], "from 1 to 100000"),
                          (["--agents", "27", "--calls", str(10**12)], "from 1 to 100000000")):
        with pytest.raises(SystemExit):
            main([*base, *extra])
        assert expect in capsys.readouterr().err


# --------------------------------------------------------------------------- the system

def test_full_disk_is_one_message(capsys, small_file, tmp_path, monkeypatch):
    """ENOSPC while storing a replication: one line, exit 2, no traceback."""
    import pandas as pd

    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    err = fails(capsys, "run", str(small_file), "--out", str(tmp_path / "o"), "--quiet",
                "--executor", "serial")
    (line,) = [ln for ln in err.splitlines() if "error:" in ln]
    assert "No space left on device" in line and ".parquet" in line
    assert "nothing was stored" in line


def test_file_size_limit_in_a_real_process(small_file, tmp_path):
    """A real write failure (RLIMIT_FSIZE, as a full disk would): one line, exit 2."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))

    proc = subprocess.run(
        [sys.executable, "-m", "analysis.entry", "run", str(small_file), "--out",
         str(tmp_path / "o"), "--quiet", "--executor", "serial"],
        cwd=ROOT, capture_output=True, text=True, preexec_fn=limit, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "error: cannot read or write" in proc.stderr and "too large" in proc.stderr


def test_out_of_memory_is_one_message(capsys, small_file, monkeypatch):
    """MemoryError (a machine smaller than the estimate assumed): one line, exit 2."""
    def oom(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(experiment, "simulate", oom)
    err = fails(capsys, "run", str(small_file), "--no-write", "--quiet", "--executor",
                "serial")
    assert "out of memory" in err


def test_output_piped_into_head_ends_quietly(small_file):
    """Output closed early (``| head``): exit 141, nothing on stderr."""
    for argv in (["docs"], ["run", str(small_file), "--no-write", "--quiet", "--executor",
                            "serial"]):
        proc = subprocess.Popen([sys.executable, "-m", "analysis.entry", *argv], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # the reader has gone before anything is printed
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141
        assert "Traceback" not in err and "BrokenPipe" not in err


def test_held_folder_is_refused_with_the_holder(capsys, small_file, tmp_path):
    """A folder locked by another writer: one error naming its pid, nothing written."""
    out = tmp_path / "busy"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from analysis.store import claim_output; "
         f"claim_output({str(out)!r}, 'run'); print('held', flush=True); time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        err = fails(capsys, "run", str(small_file), "--out", str(out), "--quiet",
                    "--executor", "serial")
        assert f"another ccsim process (pid {proc.pid}) is writing" in err
        assert not (out / "replications").exists()
    finally:
        proc.kill()
        proc.wait()
    # the lock dies with its holder, however it ended
    assert main(["run", str(small_file), "--out", str(out), "--quiet", "--executor",
                 "serial"]) == 0
    claim_output(out, "run")  # the same process may claim again (idempotent)
