"""tests.conftest.shared_runs: a result several xdist workers ask for is computed once."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from tests.conftest import shared_runs


def _job(log: Path, key: str):
    """A job that records each time it runs, slow enough for the other process to see it held."""
    def run() -> dict[str, str]:
        with log.open("a") as f:
            f.write(key + "\n")
        time.sleep(0.2)
        return {"key": key}

    return run


def _ask(folder: Path, log: Path, keys: tuple[str, ...], spare: tuple[str, ...], out) -> None:
    """One worker: ask for ``keys`` (helping with ``spare`` while it would wait)."""
    got = shared_runs({k: _job(log, k) for k in keys}, folder,
                      spare={k: _job(log, k) for k in spare})
    out.put(got)


def test_two_processes_asking_for_overlapping_jobs_compute_each_once(tmp_path):
    """Two processes at once, sharing job b: a, b, c and the spare d each run exactly once.

    Each gets the results it asked for, whoever computed them.
    """
    log = tmp_path / "log"
    ctx = multiprocessing.get_context("fork")  # cheap, and fcntl locks are POSIX anyway
    out = ctx.Queue()
    procs = [ctx.Process(target=_ask, args=(tmp_path, log, keys, ("d",), out))
             for keys in (("a", "b"), ("b", "c"))]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(got, key=sorted) == [{"a": {"key": "a"}, "b": {"key": "b"}},
                                       {"b": {"key": "b"}, "c": {"key": "c"}}]
    ran = log.read_text().split()
    assert sorted(set(ran) - {"d"}) == ["a", "b", "c"] and len(ran) == len(set(ran)), ran
    assert (tmp_path / "shared-b.pickle").is_file()


def test_without_xdist_a_job_runs_once_in_process(tmp_path):
    """No shared folder (no xdist): computed in process, then read from memory."""
    log = tmp_path / "log"
    first = shared_runs({"memo-only": _job(log, "x")}, None)
    again = shared_runs({"memo-only": _job(log, "x")}, None)
    assert first == again == {"memo-only": {"key": "x"}}
    assert log.read_text().split() == ["x"]
