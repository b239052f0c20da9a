"""Experiments: (scenario x replication) tasks under common random numbers, on any executor.

Replication ``k`` of every scenario uses the streams of ``(seed, k)``, so scenarios are
compared on the same calls. A task is a pure function of (scenario, seed, replication):
results never depend on the executor (serial, local processes, Dask) or on the number of
workers, and tables are always assembled in (scenario, replication) order.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from analysis.stats import target_reached
from analysis.store import ReplicationStore
from sim.kpi import KPIS
from sim.model import simulate
from sim.scenario import Scenario

EXECUTORS = ("serial", "process", "dask")
DEFAULT_TABLES = ("intervals", "daily")


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    """One replication of one scenario."""

    index: int
    """Position of the scenario in the experiment."""
    scenario: Scenario
    seed: int
    replication: int
    tables: tuple[str, ...] = DEFAULT_TABLES
    individual: bool = False
    """Keep agent identity (the calls' ``agent`` column); asked for explicitly only."""


@dataclass(frozen=True)
class RepOutput:
    """What a finished task sends back: KPIs, provenance and the requested tables."""

    index: int
    replication: int
    kpis: dict[str, float]
    provenance: dict[str, Any]
    tables: dict[str, pd.DataFrame]


def run_task(task: Task) -> RepOutput:
    """Simulate one task (runs in a worker; module-level so that it can be sent anywhere)."""
    r = simulate(task.scenario, seed=task.seed, replication=task.replication)
    tables = {}
    for name in task.tables:
        df = getattr(r, name)
        if name == "calls" and not task.individual:  # aggregate output: no agent identity
            df = df.drop(columns="agent")
        tables[name] = df
    return RepOutput(task.index, task.replication, r.kpis, r.provenance, tables)


# --------------------------------------------------------------------------- executors


class Executor(Protocol):
    """Runs tasks and yields their outputs as they finish (any order)."""

    name: str
    workers: int

    def run(self, tasks: Sequence[Task]) -> Iterator[RepOutput]:
        """Run every task; yield each output when it is done."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


class SerialExecutor:
    """Runs tasks one after another in this process."""

    name = "serial"
    workers = 1

    def run(self, tasks: Sequence[Task]) -> Iterator[RepOutput]:
        """Run the tasks in order."""
        for t in tasks:
            yield run_task(t)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """A local ``ProcessPoolExecutor`` (forkserver: safe with threads, cheap to start)."""

    name = "process"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
            if "forkserver" in methods:
                ctx.set_forkserver_preload(["sim.model", "analysis.experiment"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def run(self, tasks: Sequence[Task]) -> Iterator[RepOutput]:
        """Submit every task; yield outputs as they complete."""
        pool = self._get_pool()
        pending = {pool.submit(run_task, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        finally:
            for f in pending:
                f.cancel()

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """Tasks on a Dask distributed cluster given by its scheduler address."""

    name = "dask"

    def __init__(self, scheduler: str):
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise ValueError("the dask executor needs dask[distributed] installed") from exc
        try:
            self._client = Client(scheduler, timeout=20)
        except OSError as exc:
            raise ValueError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        # tasks that can run at once: threads over all workers
        self.workers = max(1, sum(self._client.nthreads().values()))

    def run(self, tasks: Sequence[Task]) -> Iterator[RepOutput]:
        """Map the tasks over the cluster; yield outputs as they complete."""
        from dask.distributed import as_completed

        futures = self._client.map(run_task, list(tasks), pure=False)
        try:
            for f in as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        """Disconnect (the cluster itself keeps running)."""
        self._client.close()


def make_executor(kind: str = "process", workers: int | None = None,
                  scheduler: str | None = None) -> Executor:
    """``serial``, ``process`` (default: all cores) or ``dask`` (needs ``scheduler``)."""
    if scheduler and kind != "dask":
        kind = "dask"
    if kind == "serial" or (kind == "process" and workers == 1):
        return SerialExecutor()
    if kind == "process":
        return ProcessExecutor(workers)
    if kind == "dask":
        if not scheduler:
            raise ValueError("the dask executor needs --scheduler tcp://HOST:PORT")
        return DaskExecutor(scheduler)
    raise ValueError(f"executor: unknown {kind!r}; allowed: {', '.join(EXECUTORS)}")


# --------------------------------------------------------------------------- experiments


@dataclass
class Experiment:
    """Results of an experiment, assembled in (scenario, replication) order."""

    scenarios: list[Scenario]
    seed: int
    outputs: dict[tuple[int, int], RepOutput] = field(default_factory=dict)
    resumed: int = 0
    """Replications found finished in the store and not run again."""
    ran: int = 0
    """Replications simulated by this call."""
    wall_s: float = 0.0
    executor: str = "serial"
    workers: int = 1

    @property
    def names(self) -> list[str]:
        """Scenario names, in experiment order."""
        return [s.name for s in self.scenarios]

    def reps(self, index: int) -> list[int]:
        """Replication numbers finished for scenario ``index``, sorted."""
        return sorted(r for i, r in self.outputs if i == index)

    def kpi_rows(self, index: int) -> list[dict[str, float]]:
        """KPI dicts of scenario ``index``, in replication order."""
        return [self.outputs[index, r].kpis for r in self.reps(index)]

    def kpi_table(self) -> pd.DataFrame:
        """One row per (scenario, replication): every KPI the model produced."""
        rows = [{"scenario": self.scenarios[i].name, "replication": r, **self.outputs[i, r].kpis}
                for i in range(len(self.scenarios)) for r in self.reps(i)]
        return pd.DataFrame(rows)

    def table(self, name: str) -> pd.DataFrame:
        """A per-replication table of every run, with ``scenario`` and ``replication`` columns."""
        parts = []
        for i, s in enumerate(self.scenarios):
            for r in self.reps(i):
                df = self.outputs[i, r].tables.get(name)
                if df is not None:
                    parts.append(df.assign(scenario=s.name, replication=r))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def provenance(self) -> list[dict[str, Any]]:
        """Provenance of every replication, in (scenario, replication) order."""
        return [self.outputs[i, r].provenance
                for i in range(len(self.scenarios)) for r in self.reps(i)]


def run_experiment(scenarios: Sequence[Scenario], seed: int, reps: int | Iterable[int], *,
                   executor: Executor | None = None, store: ReplicationStore | None = None,
                   tables: Sequence[str] = DEFAULT_TABLES, individual: bool = False,
                   progress: Callable[[int], None] | None = None,
                   experiment: Experiment | None = None) -> Experiment:
    """Run replications ``reps`` (a count, or the replication numbers) of every scenario.

    Finished replications found in ``store`` are loaded, not run again; every newly finished
    one is written to ``store`` as soon as it arrives. ``progress(n)`` is called with the
    number of replications just completed (or loaded). Pass ``experiment`` to add
    replications to an earlier result. ``individual`` keeps the calls' agent column (agent
    tables such as ``statuses`` are individual by nature and only written when requested).
    """
    scenarios = list(scenarios)
    rep_ids = list(range(reps)) if isinstance(reps, int) else sorted(set(reps))
    if not rep_ids or rep_ids[0] < 0:
        raise ValueError(f"reps must be >= 1, got {reps}")
    exp = experiment or Experiment(scenarios, seed)
    ex = executor or SerialExecutor()
    exp.executor, exp.workers = ex.name, ex.workers
    t0 = time.perf_counter()
    todo: list[Task] = []
    for r in rep_ids:  # replication-major, so partial results stay balanced
        for i, s in enumerate(scenarios):
            if (i, r) in exp.outputs:
                continue
            stored = store.load(s, seed, r, KPIS) if store else None
            if stored is not None and all(t in stored["tables"] for t in tables):
                exp.outputs[i, r] = RepOutput(i, r, stored["kpis"], stored["provenance"],
                                              stored["tables"])
                exp.resumed += 1
                if progress:
                    progress(1)
            else:
                todo.append(Task(i, s, seed, r, tuple(tables), individual))
    for out in ex.run(todo):
        if store:
            store.save(scenarios[out.index], seed, out.replication, out.kpis, out.provenance,
                       out.tables)
        exp.outputs[out.index, out.replication] = out
        exp.ran += 1
        if progress:
            progress(1)
    exp.wall_s += time.perf_counter() - t0
    return exp


def run_until(scenarios: Sequence[Scenario], seed: int, kpi: str, half_width: float, *,
              min_reps: int = 5, max_reps: int = 100, batch: int | None = None,
              confidence: float = 0.95, paired: bool = True,
              **kwargs: Any) -> Experiment:
    """Sequential stopping: add replications until ``kpi``'s CI half-width <= ``half_width``.

    With ``paired`` and several scenarios the rule applies to every paired difference against
    the first scenario (what a comparison reports); otherwise to every scenario's mean.
    Stops at ``max_reps`` replications in any case. ``batch`` replications are added at a time
    (default: the number of workers, at least 1).
    """
    if min_reps < 2 or max_reps < min_reps:
        raise ValueError(f"need 2 <= min_reps <= max_reps, got {min_reps} and {max_reps}")
    ex = kwargs.get("executor")
    step = batch or max(1, getattr(ex, "workers", 1) // max(1, len(scenarios)))
    n = min_reps
    exp = run_experiment(scenarios, seed, n, **kwargs)
    while n < max_reps and not _precise(exp, kpi, half_width, confidence, paired):
        n = min(max_reps, n + step)
        exp = run_experiment(scenarios, seed, n, experiment=exp, **kwargs)
    return exp


def _precise(exp: Experiment, kpi: str, half_width: float, confidence: float,
             paired: bool) -> bool:
    series = [[row.get(kpi, math.nan) for row in exp.kpi_rows(i)]
              for i in range(len(exp.scenarios))]
    if kpi not in exp.outputs[0, 0].kpis:
        raise ValueError(f"unknown KPI {kpi!r}; known: {', '.join(exp.outputs[0, 0].kpis)}")
    if paired and len(series) > 1:
        values = [[b - a for a, b in zip(series[0], s, strict=True)] for s in series[1:]]
    else:
        values = series
    return all(target_reached(v, half_width, confidence) for v in values)


def default_out(kind: str, names: Sequence[str]) -> Path:
    """Deterministic default output folder, so re-running a command resumes it."""
    from analysis.store import slug
    return Path("results") / kind / slug("-vs-".join(names))
