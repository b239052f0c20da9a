"""Experiment runner: executors agree exactly, storage resumes, sequential stopping."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import pandas as pd
import pytest

from analysis.cli import main
from analysis.experiment import make_executor, run_experiment, run_until
from analysis.store import ReplicationStore, StoreWarning
from sim.measure.kpi import KPIS
from sim.model import model_digest
from sim.scenario import scenario_from_dict
from tests.conftest import ROOT, small_dict
from tests.test_experiment_staff import SMALL


@pytest.fixture
def pair():
    """Two small scenarios that differ only in head count."""
    a = scenario_from_dict({**small_dict(), "name": "a"})
    return [a, a.replace({"name": "b", "staffing.shifts.a.agents": 8})]


def test_executors_give_identical_kpi_tables(pair):
    """Serial, a 2-process pool and a 2-worker Dask LocalCluster give the same KPI table."""
    serial = run_experiment(pair, 7, 4).kpi_table()
    assert list(serial["replication"]) == [0, 1, 2, 3] * 2
    assert set(KPIS) <= set(serial.columns)
    ex = make_executor("process", workers=2)
    try:
        pooled = run_experiment(pair, 7, 4, executor=ex).kpi_table()
    finally:
        ex.close()
    pd.testing.assert_frame_equal(serial, pooled)

    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        ex = make_executor("dask", scheduler=cluster.scheduler_address)
        try:
            assert ex.workers == 2
            dask_table = run_experiment(pair, 7, 4, executor=ex).kpi_table()
        finally:
            ex.close()
    pd.testing.assert_frame_equal(serial, dask_table)


def test_one_task_on_the_process_executor_runs_in_this_process(pair):
    """One replication starts no pool (it cannot be split) and equals the pool's result.

    Two tasks on the same executor do start the pool; the pooled replication 0 is the one
    that ran in this process, to the last bit.
    """
    from analysis.experiment import ProcessExecutor

    ex = ProcessExecutor(2)
    try:
        one = run_experiment(pair[:1], 7, 1, executor=ex)
        assert ex._pool is None, "a pool was started for one replication"
        assert (one.executor, one.workers) == ("process", 2)
        pd.testing.assert_frame_equal(one.kpi_table(), run_experiment(pair[:1], 7, 1).kpi_table())
        two = run_experiment(pair[:1], 7, 2, executor=ex)
        assert ex._pool is not None, "two replications should run in the pool"
        pd.testing.assert_frame_equal(two.kpi_table().iloc[:1], one.kpi_table())
        pd.testing.assert_frame_equal(two.kpi_table(), run_experiment(pair[:1], 7, 2).kpi_table())
    finally:
        ex.close()


def test_a_replication_runs_with_fewer_garbage_collections(pair, monkeypatch):
    """simulate() collects less often while it runs (so run_task does), then restores."""
    import gc

    from analysis.experiment import GC_THRESHOLD, Task, few_collections, run_task
    from sim import model

    seen = []
    real = model.build

    def spy(*args, **kwargs):  # inside simulate(): the model itself collects less often
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    before = gc.get_threshold()
    expected = model.simulate(pair[0], seed=7, replication=0).kpis
    monkeypatch.setattr(model, "build", spy)
    out = run_task(Task(0, pair[0], 7, 0))
    assert gc.get_threshold() == before
    assert seen == [(max(GC_THRESHOLD, before[0]), *before[1:])]
    pd.testing.assert_series_equal(pd.Series(out.kpis), pd.Series(expected))
    with few_collections(), few_collections():  # nested: restored by the outermost only
        inner = gc.get_threshold()
    assert inner[0] >= GC_THRESHOLD and gc.get_threshold() == before


def test_store_skips_finished_and_rejects_other_seed(pair, tmp_path):
    """Stored replications are loaded, not rerun; another seed or scenario is not reused."""
    store = ReplicationStore(tmp_path)
    first = run_experiment(pair, 3, 2, store=store)
    assert (first.ran, first.resumed) == (4, 0)
    again = run_experiment(pair, 3, 3, store=store)
    assert (again.ran, again.resumed) == (2, 4)
    pd.testing.assert_frame_equal(again.kpi_table(),
                                  run_experiment(pair, 3, 3).kpi_table())
    pd.testing.assert_frame_equal(again.table("intervals"),
                                  run_experiment(pair, 3, 3).table("intervals"))
    other_seed = run_experiment(pair, 4, 1, store=store)
    assert other_seed.resumed == 0
    changed = pair[0].replace({"demand.calls_per_day": 310})
    assert store.load(changed, 3, 0) is None
    # a replication stored before a KPI was added is not reused for it
    assert store.load(pair[0], 3, 1, ["offered"]) is not None
    assert store.load(pair[0], 3, 1, ["offered", "a_new_kpi"]) is None
    # a replication stored by other model code is not reused (and is not "damaged")
    import analysis.store as store_module
    real, original = model_digest(), store_module.model_digest
    store_module.model_digest = lambda: "0" * 64
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert store.load(pair[0], 3, 1) is None
    finally:
        store_module.model_digest = original
    assert store.load(pair[0], 3, 1) is not None
    # an edited manifest is damaged: detected, warned about, simulated again
    mpath = store.folder(pair[0], 3, 1) / "manifest.json"
    text = mpath.read_text()
    mpath.write_text(text.replace(real, "0" * 64))
    with pytest.warns(StoreWarning, match="damaged.*checksum"):
        assert store.load(pair[0], 3, 1) is None
    mpath.write_text(text)
    assert store.load(pair[0], 3, 1) is not None
    # a manifest that lists a missing table does not count as finished
    folder = store.folder(pair[0], 3, 0)
    (folder / "daily.parquet").unlink()
    with pytest.warns(StoreWarning, match="daily.parquet is missing"):
        assert store.load(pair[0], 3, 0) is None
    # no pickle anywhere in the results
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".pkl", ".pickle")]
    manifest = json.loads((store.folder(pair[1], 3, 1) / "manifest.json").read_text())
    assert manifest["scenario_hash"] == pair[1].digest() and manifest["seed"] == 3
    assert {"git_revision", "versions", "machine", "wall_s"} <= set(manifest["provenance"])
    assert manifest["scenario"]["staffing"]["shifts"]["a"]["agents"] == 8


@pytest.mark.heavy
def test_killed_run_resumes_and_matches_uninterrupted(tmp_path):
    """Kill `ccsim compare` mid-run; re-running skips finished replications, same KPI table."""
    (tmp_path / "small.toml").write_text(SMALL)
    (tmp_path / "more.toml").write_text('extends = "small.toml"\ndescription = "more"\n'
                                        'rationale = "tests"\n[staffing.shifts.a]\nagents = 8\n')
    out = tmp_path / "interrupted"
    cmd = [sys.executable, "-m", "analysis.entry", "compare", str(tmp_path / "small.toml"),
           str(tmp_path / "more.toml"), "--reps", "6", "--executor", "serial", "--quiet",
           "--out"]
    proc = subprocess.Popen([*cmd, str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(out.glob("replications/*/rep-*/manifest.json"))) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no replication written within 60 s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    done = {p.parent: os.stat(p) for p in out.glob("replications/*/rep-*/manifest.json")}
    assert 3 <= len(done) < 12, "the run was not interrupted"
    assert not (out / "kpis.csv").exists()

    subprocess.run([*cmd, str(out)], cwd=ROOT, check=True, capture_output=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications_resumed"] >= len(done)
    assert manifest["replications_resumed"] + manifest["replications_run"] == 12
    for folder, st in done.items():  # finished replications were not rewritten
        now = os.stat(folder / "manifest.json")
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert not list(out.glob("replications/*/.*")), "temporary folders left behind"

    fresh = tmp_path / "fresh"
    assert main([*cmd[3:], str(fresh), "--json"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "kpis.parquet"),
                                  pd.read_parquet(fresh / "kpis.parquet"))


def test_run_until_stops_at_target_or_max(pair):
    """Sequential stopping adds replications until the half-width target, capped at max."""
    loose = run_until(pair, 5, "occupancy", 0.5, min_reps=3, max_reps=10)
    assert loose.reps(0) == [0, 1, 2]
    tight = run_until(pair, 5, "occupancy", 1e-9, min_reps=3, max_reps=6)
    assert tight.reps(0) == tight.reps(1) == list(range(6))
    with pytest.raises(ValueError, match="min_reps"):
        run_until(pair, 5, "occupancy", 0.1, min_reps=1)


def test_unknown_executor_and_missing_scheduler():
    """Executor choice errors are clear."""
    with pytest.raises(ValueError, match="unknown 'threads'"):
        make_executor("threads")
    with pytest.raises(ValueError, match="--scheduler"):
        make_executor("dask")
