"""Shared fixtures: small scenarios built in code, so tests state what they simulate."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.scenario import Scenario, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def small_dict(**changes) -> dict:
    """A two-hour, one-day centre with two shifts: quick to simulate."""
    d = {
        "name": "small",
        "description": "test centre",
        "rationale": "tests",
        "horizon": {"days": 1, "open": "08:00", "hours": 2, "interval_minutes": 30},
        "demand": {"calls_per_day": 300, "profile": [1, 2, 2, 1], "busyness_cv": 0.1},
        "staffing": {"shifts": {"a": {"start": "08:00", "hours": 2, "agents": 6},
                                "b": {"start": "08:30", "hours": 1.5, "agents": 4}}},
    }
    for key, value in changes.items():
        node = d
        parts = key.split("__")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return d


@pytest.fixture
def small() -> Scenario:
    """The small centre as a validated scenario."""
    return scenario_from_dict(small_dict())


@pytest.fixture(scope="session")
def base() -> Scenario:
    """The shipped base scenario."""
    return load_scenario(SCENARIOS / "base.toml")


def assert_statuses_tile(statuses: pd.DataFrame, agent_days: pd.DataFrame) -> None:
    """Each agent-day's status spells are contiguous from log-in to log-out: no gap, no overlap."""
    for (agent, day), g in statuses.groupby(["agent", "day"]):
        start, end = g["start_s"].to_numpy(), g["end_s"].to_numpy()
        assert np.array_equal(start[1:], end[:-1]), f"gap or overlap for agent {agent}"
        row = agent_days[(agent_days["agent"] == agent) & (agent_days["day"] == day)].iloc[0]
        assert start[0] == row["login_s"] and end[-1] == row["logout_s"]
        assert abs(g["duration_s"].sum() - row["logged_in_s"]) < 1e-6
    assert len(statuses.groupby(["agent", "day"])) == len(agent_days)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that read the same module-scoped fixture run on one worker under xdist.

    ``make test`` distributes with ``--dist loadgroup``: a test without an ``xdist_group``
    goes to whichever worker is free, so a module-scoped fixture (a shared simulation) would
    be computed again on every worker that runs one of its readers. Readers of the same
    module-scoped fixtures are put in one group here, so each shared run happens once; a
    test with an explicit ``xdist_group`` keeps it, and every other test stays free. So a
    fixture worth sharing (a simulation) is module-scoped, and a cheap one (a file, a loaded
    scenario) session-scoped: its readers need not wait for one worker.
    """
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    shared_by: list[tuple[pytest.Item, str]] = []
    for item in items:
        info, module = getattr(item, "_fixtureinfo", None), getattr(item, "module", None)
        if info is None or module is None or item.get_closest_marker("xdist_group"):
            continue
        keys = [f"{module.__name__}.{name}"
                for name, defs in info.name2fixturedefs.items()
                if defs and defs[-1].scope == "module"]
        for key in keys[1:]:  # fixtures read together by one test share a group
            parent[root(key)] = root(keys[0])
        if keys:
            shared_by.append((item, keys[0]))
    for item, key in shared_by:
        item.add_marker(pytest.mark.xdist_group(root(key)))
    if config.getvalue("loadgroup") if hasattr(config.option, "loadgroup") else False:
        _suffix_groups(items)
        _heavy_first(items)


def _heavy_first(items: list[pytest.Item]) -> None:
    """Move the tests marked ``heavy`` that share no group to the front, in their order.

    xdist hands out the groups with most tests first, then the single tests in collection
    order: a heavy test collected late (test_theory, test_warmup) would otherwise end the
    run on one worker while the other has nothing left to do. A grouped test stays with its
    group (moving it away from its module would set the module's fixtures up twice).
    """
    heavy = [i for i in items
             if i.get_closest_marker("heavy") and not i.get_closest_marker("xdist_group")]
    if heavy:
        first = set(heavy)
        items[:] = heavy + [i for i in items if i not in first]


def _suffix_groups(items: list[pytest.Item]) -> None:
    """Append ``@group`` to each grouped test's node id, as pytest-xdist means to.

    xdist's scheduler groups tests by that suffix, which its worker adds by setting
    ``item._nodeid``; since pytest 9 the node id comes from ``item._id`` instead, so with
    pytest 9.2 and xdist 3.8 the suffix never appears and every group is silently split
    (two tests of one group were seen on two workers). Done here on the worker, once: a
    node id that already carries its suffix (a fixed xdist) is left alone.
    """
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest, where xdist's own suffix works
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if not names:
            continue
        suffix = "@" + "_".join(names)
        if not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)


#: runs this process computed or read through :func:`shared_runs`, by key
_SHARED: dict[str, Any] = {}


def shared_runs(jobs: Mapping[str, Callable[[], Any]], folder: Path | None,
                spare: Mapping[str, Callable[[], Any]] | None = None) -> dict[str, Any]:
    """Each job's result, computed once per ``pytest`` run however many workers ask for it.

    A set of simulations several tests read (the calibration ladder's rungs) need not sit in
    one xdist group, where one worker would run them all while the other waits at the end
    of the suite: each job is computed by the first worker that asks for it and written,
    pickled, to ``folder`` (the run's own temporary root, new for every ``pytest`` run); a
    worker asking for it later reads it. Jobs nobody holds are taken first, so two workers
    asking for overlapping sets at once split the work instead of queueing for it; a worker
    that would wait for another's job computes ``spare`` jobs nobody has started (jobs that
    other tests will ask for) meanwhile. One lock is held at a time (no deadlock). Results
    are deterministic (fixed seeds), so which worker computes a job changes nothing.
    ``folder`` None (no xdist): ``jobs`` computed in process, ``spare`` ignored.
    """
    got = {key: _SHARED[key] for key in jobs if key in _SHARED}
    if folder is None:
        for key, job in jobs.items():
            if key not in got:
                got[key] = _SHARED[key] = job()
        return {key: got[key] for key in jobs}
    todo = [key for key in jobs if key not in got]
    if todo and _take(todo, jobs, folder, blocking=False) and spare:
        # another worker holds what is left: help, one spare job at a time, with what nobody
        # has started, until what this test waits for is free
        for key in spare:
            if key in _SHARED or key in jobs or (folder / f"shared-{key}.pickle").exists():
                continue
            _take([key], spare, folder, blocking=False)
            if not _take(todo, jobs, folder, blocking=False):
                break
    _take(todo, jobs, folder, blocking=True)
    return {key: _SHARED[key] for key in jobs}


def _take(todo: list[str], jobs: Mapping[str, Callable[[], Any]], folder: Path,
          blocking: bool) -> bool:
    """Compute or read each job of ``todo`` into the memo, removing it; True if any is left.

    Not ``blocking``: a job another worker holds is skipped (left in ``todo``).
    """
    for key in list(todo):
        with (folder / f"shared-{key}.lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                continue  # another worker is computing it: come back to it
            path = folder / f"shared-{key}.pickle"
            if path.exists():
                value = pickle.loads(path.read_bytes())
            else:
                value = jobs[key]()
                part = path.with_suffix(".part")
                part.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                part.replace(path)  # whole or absent, never half written
            _SHARED[key] = value
        todo.remove(key)
    return bool(todo)


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory) -> Path | None:
    """Where :func:`shared_runs` keeps this ``pytest`` run's results; None without xdist."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return None
    # each worker's base temp is <the run's root>/popen-gwN: the root is new for every run
    return tmp_path_factory.getbasetemp().parent


@pytest.fixture
def no_output_locks():
    """The test starts and ends holding no output-folder lock (for tests that write --out)."""
    from analysis.store import release_outputs

    release_outputs()
    yield
    release_outputs()


@pytest.fixture
def small_file(tmp_path) -> Path:
    """The two-hour test centre as a TOML file."""
    from tests.test_experiment_staff import SMALL

    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path
