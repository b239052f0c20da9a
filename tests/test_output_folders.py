"""Output folders are safe: only ccsim's are written, no link is followed, no input is overwritten.

An output folder is ccsim's only if it is new, empty or carries ccsim's marker; ccsim removes
only the temporaries it named itself; nothing is written through a symbolic link inside
``--out``; an output folder that is or holds an input of the command is refused, with
``--force`` or without.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.store import (
    MARKER,
    TMP_PREFIX,
    ReplicationStore,
    UnsafePathError,
    atomic_write,
    claim_output,
    is_temporary,
    release_outputs,
)
from tests.test_experiment_staff import SMALL

pytestmark = pytest.mark.usefixtures("no_output_locks")



@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A folder ``ccsim run`` wrote (one replication of the small centre), made once."""
    root = tmp_path_factory.mktemp("finished")
    (root / "small.toml").write_text(SMALL)
    assert run(root / "small.toml", root / "out") == 0
    release_outputs()
    return root / "out"


def resumable(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished folder, to resume (or to plant links in)."""
    import shutil

    return Path(shutil.copytree(finished, tmp_path / "out", symlinks=True))


def fails(capsys, *argv: str) -> str:
    """Run ccsim; it must exit 2 with one error on stderr (no traceback); return stderr."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def run(small_file: Path, out: Path, *extra: str) -> int:
    """``ccsim run`` of the small centre into ``out``, serially and quietly."""
    return main(["run", str(small_file), "--out", str(out), "--quiet", "--executor", "serial",
                 *extra])


# --------------------------------------------------------------------------- ownership


@pytest.mark.parametrize("name", ["report.html", "kpis.csv", "manifest.json", ".thesis.old"])
def test_a_folder_without_marker_is_not_ccsims(capsys, small_file, tmp_path, name):
    """A user's file under a name ccsim writes is refused by name, and left as it was."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / name).write_text("my own work")
    err = fails(capsys, "run", str(small_file), "--out", str(mine), "--quiet")
    assert (f"ccsim run: error: --out {mine}: the folder is not empty and is not ccsim's (no "
            f"{MARKER} marker); {name} is not ccsim's: give a new or empty folder, or one "
            "ccsim wrote (nothing is overwritten)") in err
    assert sorted(os.listdir(mine)) == [name]
    assert (mine / name).read_text() == "my own work"


def test_empty_folder_is_claimed_and_marked(tmp_path):
    """An empty folder becomes ccsim's (marker written); the marker lets it be claimed again."""
    out = tmp_path / "empty"
    out.mkdir()
    claim_output(out, "run")
    release_outputs()
    assert json.loads((out / MARKER).read_text()) == {"kind": "run", "tool": "ccsim"}
    assert claim_output(out, "run") == out  # the marker makes it ccsim's: resumed


def test_only_ccsims_own_temporaries_are_removed(tmp_path):
    """Claiming removes names ccsim made (exactly), never a user's hidden .old or .tmp."""
    out = tmp_path / "out"
    claim_output(out, "run")
    release_outputs()
    users = [".thesis.old", ".draft.tmp", ".kpis.csv.abcdefgh.tmp", ".ccsim-tmp-x.short.tmp"]
    for name in users:
        (out / name).write_text("mine")
    ours = out / f"{TMP_PREFIX}kpis.csv.ab_cd123.tmp"
    ours.write_text("half a file")
    (out / "replications" / "g").mkdir(parents=True)
    ours_dir = out / "replications" / "g" / f"{TMP_PREFIX}rep-00003.k9xq2m1z.old"
    ours_dir.mkdir()
    claim_output(out, "run")
    assert not ours.exists() and not ours_dir.exists()
    assert sorted(p.name for p in out.iterdir() if p.name in users) == sorted(users)
    assert all((out / n).read_text() == "mine" for n in users)


def test_temporary_names_are_checked_whole():
    """Only the whole pattern (prefix, name, 8 random characters, .tmp/.old) is ccsim's."""
    assert is_temporary(".ccsim-tmp-kpis.csv.ab_cd123.tmp")
    assert is_temporary(".ccsim-tmp-rep-00001.k9xq2m1z.old")
    for name in (".thesis.old", ".kpis.csv.ab_cd123.tmp", ".ccsim-tmp-kpis.csv.abc.tmp",
                 ".ccsim-tmp-kpis.csv.ab_cd123.tmp.keep", "ccsim-tmp-x.ab_cd123.tmp",
                 ".ccsim-tmp-x.AB_CD123.tmp"):
        assert not is_temporary(name), name


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize("name", ["replications", "figures", "kpis.csv", ".ccsim.lock",
                                  "timeline-day0.png"])
def test_a_link_inside_a_resumed_folder_is_refused(capsys, small_file, finished, tmp_path,
                                                   name):
    """A resumed folder whose replications/, figures/, a file or its lock is a link is refused.

    Nothing is written, created or truncated where the link points.
    """
    out = resumable(finished, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = elsewhere / "thesis.tex"
    precious.write_text("chapter 1")
    target = elsewhere if name in ("replications", "figures") else precious
    path = out / name
    if path.is_dir():
        import shutil

        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.symlink_to(target)
    err = fails(capsys, "run", str(small_file), "--out", str(out), "--quiet", "--executor",
                "serial", "--reps", "2")
    assert (f"--out {out}: {path} is a symbolic link (to {target}); ccsim writes nothing "
            "through a link inside its output folder") in err
    assert sorted(os.listdir(elsewhere)) == ["thesis.tex"]
    assert precious.read_text() == "chapter 1"


def test_a_linked_scenario_group_or_replication_is_refused(capsys, small_file, finished,
                                                          tmp_path):
    """A link among replications/'s scenario groups is refused before anything is written."""
    out = resumable(finished, tmp_path)
    group = next((out / "replications").iterdir())
    elsewhere = tmp_path / "elsewhere"
    group.rename(elsewhere)
    group.symlink_to(elsewhere)
    before = sorted(p.name for p in elsewhere.iterdir())
    err = fails(capsys, "run", str(small_file), "--out", str(out), "--quiet", "--executor",
                "serial", "--reps", "2")
    assert f"{group} is a symbolic link (to {elsewhere})" in err
    assert sorted(p.name for p in elsewhere.iterdir()) == before == ["rep-00000"]


def test_a_link_made_after_the_claim_is_not_written_through(tmp_path):
    """A link appearing in a claimed folder later is refused by every atomic write and store."""
    out = claim_output(tmp_path / "out", "compare")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "figures").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match=r"figures is a symbolic link \(to "):
        atomic_write(out / "figures" / "a.png", lambda p: p.write_bytes(b"png"))
    (out / "replications").symlink_to(elsewhere)
    store = ReplicationStore(out / "replications")
    from sim.scenario import scenario_from_dict
    from tests.conftest import small_dict

    with pytest.raises(UnsafePathError, match=r"replications is a symbolic link \(to "):
        store.folder(scenario_from_dict(small_dict()), 1, 0)
    assert list(elsewhere.iterdir()) == []


def test_a_linked_marker_is_no_marker(capsys, small_file, tmp_path):
    """A marker that is a link (to a real marker elsewhere) does not make a folder ccsim's."""
    real = claim_output(tmp_path / "real", "run")
    release_outputs()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my report")
    (mine / MARKER).symlink_to(real / MARKER)
    err = fails(capsys, "run", str(small_file), "--out", str(mine), "--quiet")
    assert f"--out {mine}: the folder is not empty and is not ccsim's" in err
    assert (mine / "report.html").read_text() == "my report"


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "sensitivity"])
def test_an_output_folder_holding_an_input_is_refused(capsys, small_file, tmp_path, command):
    """--out holding the scenario, or a file of its extends chain, is refused (--force too)."""
    out = tmp_path / "out"
    claim_output(out, command)  # a folder ccsim owns for this command
    release_outputs()
    inner = out / "report.html"  # a scenario under a name ccsim would overwrite
    inner.write_text(SMALL)
    child = tmp_path / "child.toml"
    child.write_text('extends = "out/report.html"\ndescription = "c"\nrationale = "t"\n')
    extra = {"run": [], "compare": [str(small_file)], "sweep": ["--set", "staffing.agents=10,11"],
             "sensitivity": [str(small_file)]}[command]
    err = fails(capsys, command, str(child), *extra, "--out", str(out), "--force", "--quiet")
    assert (f"--out {out}: holds {inner}: an input of this command ('out/report.html', "
            f"extended by {child}); ccsim never writes where its inputs are: give another "
            "output folder (--force does not change this)") in err
    assert inner.read_text() == SMALL
    err = fails(capsys, command, str(inner), *extra, "--out", str(out), "--quiet")
    assert f"--out {out}: holds {inner}: an input of this command (the scenario file" in err
    assert inner.read_text() == SMALL
    err = fails(capsys, command, str(child), *extra, "--out", str(inner), "--force")
    assert (f"--out {inner}: is an input of this command ('out/report.html', extended by "
            f"{child}); ccsim never writes where its inputs are") in err
    assert inner.read_text() == SMALL


def test_a_stored_manifest_or_table_planted_as_a_link_is_damage(finished, tmp_path):
    """A received store's manifest or table that is a link (here to /dev/zero) is not read."""
    import warnings

    from analysis.store import StoreWarning
    from sim.scenario import load_scenario

    out = resumable(finished, tmp_path)
    rep = next(out.glob("replications/*/rep-00000"))
    scenario = load_scenario(finished.parent / "small.toml")
    store = ReplicationStore(out / "replications")
    (rep / "manifest.json").rename(tmp_path / "manifest.json")
    (rep / "manifest.json").symlink_to("/dev/zero")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert store.load(scenario, 1, 0) is None
    assert [str(w.message) for w in caught if w.category is StoreWarning] == [
        f"stored replication {rep} is damaged (manifest unreadable: manifest.json is a "
        "symbolic link); it is simulated again"]
    (rep / "manifest.json").unlink()
    (tmp_path / "manifest.json").rename(rep / "manifest.json")
    assert store.load(scenario, 1, 0) is not None  # as stored: sound
    (rep / "daily.parquet").rename(tmp_path / "daily.parquet")
    (rep / "daily.parquet").symlink_to(tmp_path / "daily.parquet")  # same bytes, via a link
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert store.load(scenario, 1, 0) is None
    assert [str(w.message) for w in caught if w.category is StoreWarning] == [
        f"stored replication {rep} is damaged (daily.parquet does not match its recorded size "
        "and SHA-256); it is simulated again"]
