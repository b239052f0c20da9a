"""Experiments: (scenario x replication) tasks under common random numbers, on any executor.

Replication ``k`` of every scenario uses the streams of ``(seed, k)``, so scenarios are
compared on the same calls. A task is a pure function of (scenario, seed, replication):
results never depend on the executor (serial, local processes, Dask) or on the number of
workers, and tables are always assembled in (scenario, replication) order.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from analysis.args import EXECUTORS
from analysis.stats import (
    COMPARE_CONFIDENCE,
    paired_difference,
    replications_needed,
    t_interval,
    target_reached,
)
from analysis.store import (
    ReplicationStore,
    claim_output,
    inside,
    slug,
    write_csv,
    write_json,
    write_parquet,
)
from sim.engine.runtime import GC_THRESHOLD, few_collections  # noqa: F401 (re-exported)
from sim.measure.kpi import KPIS
from sim.measure.skills import SKILL_TABLES, skill_tables
from sim.measure.tables import publish_floor, published_centre, team_days_table
from sim.model import RunResult, simulate, warm_start
from sim.people.observe import Observer, observers
from sim.scenario import Scenario
from sim.start import StartState, compatible, warmup_length, warmup_pieces

DEFAULT_TABLES = ("intervals", "daily")


# --------------------------------------------------------------------------- tasks


#: columns of the calls table written only with ``--individual``: the agent, and the clock
#: times of arrival and answer (the day, interval, wait, talk and wrap-up stay: every call
#: KPI is computed from them; docs/policy.md, Privacy)
CALLS_PRIVATE = ("agent", "arrival_s", "answered_s")


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
    observe: tuple[str | Observer, ...] = ()
    """Observers recording during the run; their records join ``tables`` by name."""
    start: StartState | None = None
    """The warmed state the replication starts from (warmed for it, on its own streams);
    None: warmed here if ``horizon.warmup_days`` says so, else a cold start."""
    start_from: Scenario | None = None
    """The scenario whose regime the warm-up runs under (``--from``); its data goes into
    the replication's provenance (``warmup_from``), so ``ccsim verify`` can run it again."""


@dataclass(frozen=True)
class RepOutput:
    """What a finished task sends back: KPIs, provenance and the requested tables."""

    index: int
    replication: int
    kpis: dict[str, float]
    provenance: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    checked: str = "simulated"
    """How the result is known to be right: ``simulated`` (by this process, with this model
    code) or ``re-derived`` (loaded from a store: checksums match and its KPIs are what its
    stored tables give, but it was not simulated again; ``ccsim verify`` does that)."""


def run_task(task: Task) -> RepOutput:
    """Simulate one task (runs in a worker; module-level so that it can be sent anywhere)."""
    r = simulate(task.scenario, seed=task.seed, replication=task.replication,
                 observe=task.observe, start=task.start, start_from=task.start_from)
    return task_output(task, r)


def task_output(task: Task, r: RunResult) -> RepOutput:
    """What a task sends back from its simulated run ``r``: its tables, published."""
    if task.start_from is not None:
        r.provenance["warmup_from"] = task.start_from.to_dict()
    tables = dict(r.observed)
    skills = None  # several call types: per type, per group, across agents (made once)
    if "strain_profile" in tables and not task.individual:  # a mean over few is theirs
        tables["strain_profile"] = published_profile(tables["strain_profile"], task.scenario)
    for name in task.tables:
        if name == "people_days":  # not a table of the run: its agent-days, aggregated
            tables[name] = people_days(r.agent_days, task.scenario.horizon.days, publish_floor(
                task.scenario.teams.min_group, task.individual))
            continue
        if name in SKILL_TABLES:
            if skills is None:
                skills = skill_tables(r, task.scenario, publish_floor(
                    task.scenario.teams.min_group, task.individual))
            tables[name] = skills[name]
            continue
        df = getattr(r, name)
        if name == "calls" and not task.individual:  # aggregate output: no agent identity
            # nor the clock times: an agent answers the next waiting call at the very time
            # the last one's wrap-up ended, so exact times chain calls into agents' days
            df = df.drop(columns=list(CALLS_PRIVATE))
        if name == "team_days":  # the floor, whatever the scenario says (--individual aside)
            df = published_team_days(r, task.scenario, task.individual)
        tables[name] = df
    kpis = r.kpis
    if not task.individual:  # a centre with few agents at work: its agents' figures blanked
        daily, intervals, kpis = published_centre(
            tables.get("daily"), tables.get("intervals"), kpis, r.agent_days,
            task.scenario.horizon.days, task.scenario.horizon.interval_s,
            publish_floor(task.scenario.teams.min_group))
        tables.update({n: t for n, t in (("daily", daily), ("intervals", intervals))
                       if t is not None})
    return RepOutput(task.index, task.replication, kpis, r.provenance, tables)


def published_team_days(r: RunResult, scenario: Scenario, individual: bool) -> pd.DataFrame:
    """The ``team_days`` table as written: blanked under :func:`publish_floor` at least.

    The run's own table honours the scenario's ``teams.min_group``, which a received
    scenario may set as low as 1; written without ``individual`` it is rebuilt from the
    run's agent-days under the floor (with complementary suppression).
    """
    floor = publish_floor(scenario.teams.min_group, individual)
    if floor == scenario.teams.min_group:
        return r.team_days
    return team_days_table(r.agent_days, r.agents, r.actions, floor,
                           days=scenario.horizon.days)


def people_days(agent_days: pd.DataFrame, days: int, floor: int) -> pd.DataFrame:
    """Per day: agents worked and their mean strain, exhaustion and threat (no identity).

    The table ``people_days`` of an experiment with stress on (the run report's week by
    week view). A day with fewer than ``floor`` agents worked is blanked, its head count
    too, as in the strain profile (a mean over few is theirs).
    """
    cols = [c for c in ("strain_mean", "exhaustion", "threat") if c in agent_days]
    g = agent_days.groupby("day")
    out = g[cols].mean().reindex(range(days))
    out.insert(0, "agents", g.size().reindex(range(days), fill_value=0).astype(float))
    out.loc[out["agents"] < floor, [*cols, "agents"]] = np.nan
    return out.reset_index(names="day")


def published_profile(profile: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Strain over the day as written: blanked where fewer agents than the floor are in.

    A grid time with fewer agents logged in than :func:`publish_floor` has its mean and
    head count blanked (no total is published per grid time, so nothing else is needed).
    """
    small = profile["agents"].to_numpy() < publish_floor(scenario.teams.min_group)
    if not small.any():
        return profile
    out = profile.astype({"agents": float})
    out.loc[small, ["strain", "agents"]] = float("nan")
    return out


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
    """A local ``ProcessPoolExecutor`` (forkserver: safe with threads, cheap to start).

    A batch of one task runs in this process: one replication cannot be split, so a pool
    would only add its start-up (a fork server importing the model, a worker, pickling the
    result back), about a second. Results are the same either way (a task is a pure
    function of its scenario, seed and replication).
    """

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
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                             initializer=_worker_init,
                                             initargs=(os.getpid(),))
        return self._pool

    def run(self, tasks: Sequence[Task]) -> Iterator[RepOutput]:
        """Submit every task; yield outputs as they complete (one task: run it here)."""
        if len(tasks) == 1:
            yield run_task(tasks[0])
            return
        with _sigint_ignored():  # the fork server and workers start with Ctrl-C ignored
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

    def warm(self, jobs: Sequence[WarmJob]) -> list[StartState]:
        """Several warm-ups at once in the pool (one: here, as a batch of one task)."""
        if len(jobs) <= 1:
            return [warm_job(j) for j in jobs]
        with _sigint_ignored():
            pool = self._get_pool()
            futures = [pool.submit(warm_job, j) for j in jobs]
        try:
            return [f.result() for f in futures]
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Stop at once (Ctrl-C, SIGTERM): end the workers without waiting for their tasks."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        # the pool's manager thread may fail reading from a worker ended mid-result; that
        # is this stop, not an error to print as a traceback over the one-line message
        manager = getattr(pool, "_executor_manager_thread", None)
        previous = threading.excepthook

        def quiet(args: threading.ExceptHookArgs) -> None:
            if manager is None or args.thread is not manager:
                previous(args)

        threading.excepthook = quiet
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.join(timeout=5)


@contextlib.contextmanager
def _sigint_ignored():
    """Hold Ctrl-C back while worker processes are started, and deliver it afterwards.

    SIGINT is blocked, not ignored: a blocked signal stays pending, and the signal mask
    survives ``fork`` and ``exec``. So the fork server and the workers it forks start with
    Ctrl-C held back (the fork server then ignores it, and each worker ignores it in
    :func:`_worker_init`, which discards what was pending) instead of printing a
    KeyboardInterrupt traceback from their imports, while a press that reaches this process
    in the window is raised here as soon as the window closes. (It used to be ignored, and a
    Ctrl-C in the window was lost: a compare went on to the end and exited 0.)
    """
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    except (AttributeError, OSError):  # no POSIX signal masks: ignore it for the window
        with _sigint_ignored_plainly():
            yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def _sigint_ignored_plainly():
    """Ignore SIGINT for the window, where signal masks do not exist (a press is lost)."""
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _worker_init(parent: int) -> None:
    """In each worker: leave Ctrl-C to the parent, and end when the parent is gone.

    The terminal sends SIGINT to the whole process group; the parent stops the workers
    itself. If the parent is killed outright (SIGKILL), a watcher thread ends the worker
    within a second instead of leaving it orphaned.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass
            if _is_zombie(parent):
                os._exit(1)

    threading.Thread(target=watch, name="ccsim-parent-watch", daemon=True).start()


def _is_zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but not been reaped (Linux; False elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


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


# --------------------------------------------------------------------------- size guard


@dataclass(frozen=True)
class SizeEstimate:
    """What one replication of a scenario will take, estimated before it runs."""

    calls: float
    """Expected calls offered (calls per day x days)."""
    agent_days: int
    """Agents x days (each agent-day is a log-in, a schedule and its status spells)."""
    status_rows: float
    """Expected rows of the status log (about 2.8 per call plus 2 per agent event)."""
    memory_bytes: float
    """Peak resident memory one replication adds to its process, its warm-up included (its
    logs and tables, and the modules a process's first replication loads)."""
    seconds: float
    """Run time of one replication on one core, its tables written included (its warm-up
    not: :meth:`SizeGuard.warm_seconds`)."""
    measured: bool = False
    """Whether the time was scaled from a pilot run on this machine (else: the static
    model's figures, calibrated once on a 2024 laptop)."""
    fixed_s: float = 0.0
    """Of ``seconds``, what does not grow with the days (building and writing the tables):
    a warm-up, which collects nothing, costs the rest per day."""
    fixed_bytes: float = 0.0
    """Of ``memory_bytes``, what does not grow with the size (``_BYTES_FIXED``)."""

    def day_seconds(self, days: int) -> float:
        """Seconds one simulated day of ``days`` costs, without the fixed part."""
        return max(0.0, self.seconds - self.fixed_s) / max(1, days)

    def describe(self) -> str:
        """One line with the estimate and the sizes it comes from."""
        how = "time measured by a pilot" if self.measured else "roughly"
        return (f"about {_bytes(self.memory_bytes)} of memory and {_duration(self.seconds)} "
                f"per replication ({how}; {_count(self.calls)} calls, "
                f"{_count(self.agent_days)} agent-days, {_count(self.status_rows)} status rows)")


# the static model: the shape (calls against agent events) that a pilot's measured time is
# scaled by; calibrated on base.toml (1 to 40 days, 100 to 20,000 agents) and a no-break
# centre of 100,000 agents, within a factor of 2 of the measured time
_SECONDS_PER_CALL, _SECONDS_PER_AGENT_EVENT = 12e-6, 85e-6
# ... and its memory, against the peak resident memory (``ru_maxrss``) one replication
# adds to a fresh process with the model imported (``bench/bench_estimate.py``), measured
# on 2026-12-07: base 5 days 50 MiB (70 in one run of four: the table writer's memory
# pool), erlang-a-large 46 MiB, the 2018 case cold 1, 5 and 20 days 30, 68 and 208 MiB,
# with its 20 warm-up days 222 and 291 MiB (two runs). Memory is not piloted: a one-day
# pilot's peak is mostly its first day's and the allocator's (the case's 15 MiB against
# 9.6 MiB a day over 20 days), so it overstated the case by half, and tracing its
# allocations (tracemalloc) cost more than the rest of the estimate.
_BYTES_PER_CALL, _BYTES_PER_STATUS = 400, 300
_BYTES_PER_AGENT_DAY, _BYTES_PER_AGENT_EVENT = 4000, 2000
_REGIME_MEMORY, _NO_REGIME_MEMORY = 1.0, 0.8
"""The model's bytes scaled for a centre with a measurement regime (its records, actions
and evaluations) and without one, from the measured peaks (the part over ``_BYTES_FIXED``
against this model's): without, base 0.67 (1.06 when the table writer's pool kept 20 MiB
more, one run in four), what-if/two-queues 0.70, case/two-queues 0.70, case-base 0.78,
erlang-a-large 1.03; with, policy/copc 1.22-1.35, the 2018 case 0.96-1.28 (runs differ),
dpa-order 1.14, copc-individual 0.84, agreement-2016 0.64, team-targets and listen-in-only
0.65 (regimes differ: 1.0 keeps them all within 0.74-1.27)."""
_BYTES_FIXED = 16 * 2**20
"""What a process's first replication adds whatever its size: the table writers' modules and
first-use caches (a replication of 10 agents and 250 calls: 15.1 to 16.8 MiB)."""
_WARM_KEPT = 0.5
"""Share of the smaller of a warm-up's and its replication's memory that adds to the larger
one's peak: the replication reuses what the warm-up freed (the 2018 case, 20 warm-up days
then 5 or 20 measured: 113 and 223 MiB against 102 and 188 for the larger alone)."""
#: the time pilot simulates one day with at most this many expected calls and agents
#: (scaled down together, so that the load per agent stays the scenario's): about half a
#: day of the case and of base's policies. Measured on 2026-12-07 in one process, by turns
#: (4 runs each): the simulation's CPU seconds per unit of static time at 134, 100, 67 and
#: 45 agents were 3.08, 3.15, 3.28, 3.37 for two-queues-tmr, 2.28, 2.34, 2.16, 2.17 for the
#: 2018 case, 1.16 (125 agents), 1.18, 1.24, 1.24 for policy/copc (within 5% of each other
#: once the small pilot's fixed part is taken off), while the whole day's pilot had cost
#: two-queues-tmr's estimate 0.85-1.09 CPU-s under a load of 8; the small one times the
#: fixed cost of a replication
PILOT_CALLS, PILOT_AGENTS = 3000, 70
SMALL_PILOT_CALLS, SMALL_PILOT_AGENTS = 250, 10
MIN_PILOT_AGENTS = 10
REGIME_LATER_DAYS = 1.25
"""What a day after the first costs against the pilot's (a cold day 0) under a measurement
regime, which acts on the days before (reviews, warnings, coaching): measured in one
process on 2026-12-07, five days against the estimate from day 0 alone, policy/copc 1.20,
the 2018 case 1.21, policy/team-level 1.23; without a regime case-base 0.97,
what-if/two-queues 0.81."""


def _plain(scenario: Scenario) -> bool:
    """A queue the static model knows: no stress, no regime, one queue (``validate``'s).

    Measured on 2026-12-07, one replication's CPU against the static time: 0.75 for
    ``ccsim validate``'s 200,000-call M/M/100+M, 0.90 for erlang-c-small, 0.85 for
    erlang-a-large.
    """
    return not (scenario.stress.enabled or scenario.policy_active or scenario.call_types)


def warmup_piece_days(scenario: Scenario) -> int:
    """The most days a replication's own warm-up simulates in one run (0: no warm-up).

    ``sim.model.warm_start`` runs its days in pieces: a week per jump to the fixed point,
    then the rest (at least two weeks) in one run, whose logs are its peak of memory.
    """
    w = warmup_length(scenario) if scenario.warmup_days else 0
    if w <= 0:
        return 0
    return max(warmup_pieces(w, scenario.stress.work_days_per_week)[0])


def static_estimate(scenario: Scenario) -> SizeEstimate:
    """Calls, agent-days, status rows, memory and time from the static model (no pilot)."""
    days = scenario.horizon.days
    calls = scenario.demand.calls_per_day * days
    heads = scenario.staffing.head_counts()
    acts = scenario.schedule.activities
    events = 0.0  # per day: log-in/out, planned activities, unplanned breaks
    for name, n in heads.items():
        shift = scenario.staffing.shifts[name]
        daily = sum(1 for a in acts.values()
                    if a.per_year is None and a.applies_to(name, shift.hours))
        unplanned = scenario.behaviour.unplanned_breaks_per_hour * shift.hours
        events += n * (1 + daily + unplanned)
    agent_days = sum(heads.values()) * days
    status_rows = 2.8 * calls + 2 * events * days
    run = (_BYTES_PER_CALL * calls + _BYTES_PER_STATUS * status_rows
           + _BYTES_PER_AGENT_DAY * agent_days + _BYTES_PER_AGENT_EVENT * events * days
           ) * (_REGIME_MEMORY if scenario.policy_active else _NO_REGIME_MEMORY)
    warm = run * warmup_piece_days(scenario) / days  # every term grows with the days
    memory = _BYTES_FIXED + max(run, warm) + _WARM_KEPT * min(run, warm)
    seconds = _SECONDS_PER_CALL * calls + _SECONDS_PER_AGENT_EVENT * events * days
    return SizeEstimate(calls, agent_days, status_rows, memory, seconds,
                        fixed_bytes=_BYTES_FIXED)


def pilot_scenario(scenario: Scenario, calls: float = PILOT_CALLS,
                   agents: int = PILOT_AGENTS, least: int = MIN_PILOT_AGENTS) -> Scenario:
    """The scenario cut to a pilot: day 0 only, calls and agents scaled down together.

    Everything the scenario has on (schedule, regime, stress, targets) stays on. When the
    scaled head count would contradict the scenario (teams, schedules), the pilot keeps the
    head count and scales only the horizon. ``least``: the fewest agents it keeps.
    """
    # a replication's own cost: its warm-up is estimated apart (SizeGuard.warm_seconds)
    one = scenario.replace({"horizon.days": 1, "horizon.warmup_days": 0}, source="pilot")
    heads = sum(one.staffing.head_counts().values())
    f = min(1.0, calls / one.demand.calls_per_day, agents / heads)
    # a queue of a handful of agents behaves unlike the scenario's (pooling): keep at least
    # ``least`` agents, and the calls that keep their load
    f = max(f, min(1.0, least / heads))
    if f >= 1.0:
        return one
    try:
        return one.replace({"demand.calls_per_day": one.demand.calls_per_day * f,
                            "staffing.agents": max(1, round(heads * f))}, source="pilot")
    except ValueError:  # the scaled centre breaks a rule of the scenario: a whole day
        return one


@dataclass(frozen=True)
class PilotTime:
    """CPU seconds of one pilot replication, by phase (:func:`_measure_pilot`)."""

    sim: float
    """Building the centre and simulating its day (grows with the calls and agents)."""
    collect: float
    """Turning the run's logs into tables (:func:`sim.model.collect`: partly fixed, partly
    growing with the rows)."""
    output: float = 0.0
    """Publishing the task's tables and writing them (the small pilot's only: at one day
    they are nearly a fixed cost, the same for a pilot of 10 agents and one of 134)."""

    @property
    def total(self) -> float:
        """All of its phases."""
        return self.sim + self.collect + self.output


COLLECT_PER_UNIT = 0.5
"""CPU seconds that turning a replication's logs into tables (:func:`sim.model.collect`)
costs per second of the static model's time beyond its fixed part, at ``machine_speed`` 1:
not piloted (the large pilot does not collect). Measured on 2026-12-07 in one process, 4
days against 1: 0.27-0.68 for seven piloted scenarios under a load of 15 (case-base,
the 2018 case, two-queues-tmr, policy/copc, team-level, what-if/two-queues, dpa-order),
0.52-0.59 under a load of 7 (two-queues-tmr, the 2018 case, copc); the pilots' difference
said 0-0.45, as the small pilot's collecting, 0.06-0.14 CPU-s, is mostly fixed, 0.01-0.03
dearer in a fresh process (first use), and varies by as much as the slope it would be
divided into. Publishing and writing the tables is priced as fixed (the small pilot's):
0.13 CPU-s for two-queues-tmr's small pilot and 0.11 for its whole day, 0.04 and 0.04 for
the 2018 case, 0.02 and 0.04 for copc; 0.015 a day more over five days (2-3% of a 20-day
replication left out)."""

_PILOTS: dict[tuple[str, tuple[str, ...], bool], PilotTime] = {}
"""The pilots this process ran, by (pilot scenario digest, tables, whether it was collected
and its tables written): a command that estimates more than once (``negotiate --until``'s
range, then its runs) pilots once."""


_BASE_RSS: list[float] = []
"""This process's resident memory before its first pilot (what the pilots' leftovers,
which a replication in this process reuses, are not part of)."""


def _measure_pilot(pilot: Scenario, tables: Sequence[str],
                   observe: Sequence[str] = (), output: bool = True) -> PilotTime:
    """CPU seconds of one pilot replication by phase (cached).

    With ``output`` it is collected and its tables written, else only simulated. A pilot
    of the same scenario with other tables is used as it is: writing a day's tables is
    about a twentieth of a pilot's time (the case's, profiled), and a few tables more or
    less a small part of that, against a second pilot's whole cost. Observers recorded
    (``observe``: ``ccsim run``'s strain over the day) are part of what is piloted.
    """
    digest = pilot.digest() + "".join(f"+{o}" for o in observe)
    key = (digest, tuple(tables), output)
    if key in _PILOTS:
        return _PILOTS[key]
    for (d, _, o), seconds in _PILOTS.items():
        if d == digest and o == output:
            return seconds
    if not _PILOTS:
        _BASE_RSS.append(_rss_now())  # the process before any pilot's leftovers
        # a process's first replication loads the table writer (pyarrow): once, not per
        # replication, so it must not be timed (charged to the small pilot, it lowered the
        # time per unit: policy/copc's replication 1.5 times its estimate); one tiny table
        # written loads it (0.02 s; the small pilot's first run was 0.19 s, later 0.10)
        import tempfile

        with tempfile.TemporaryDirectory(prefix="ccsim-pilot-") as tmp:
            write_parquet(pd.DataFrame({"x": [0.0], "y": ["a"]}), Path(tmp) / "x.parquet")
        # and its first simulation runs code for the first time (0.02-0.04 CPU-s of the
        # small pilot's; 0.034 then 0.020 for case/two-queues): timed, it lowered the
        # simulation's slope by a sixth (0.014 over half a day's 0.053 static seconds;
        # two-queues' replication estimated at 4.5 CPU-s in a fresh command against 6.4
        # by the pilots of the whole day); simulated once untimed, it costs that again
        _run_pilot(pilot, tables, observe, output=False)
    _PILOTS[key] = _run_pilot(pilot, tables, observe, output)
    return _PILOTS[key]


def _run_pilot(pilot: Scenario, tables: Sequence[str], observe: Sequence[str] = (),
               output: bool = True) -> PilotTime:
    """Run ``pilot`` as :func:`run_task` runs a task, its phases timed in CPU seconds.

    Without ``output``, only built and simulated.
    """
    import tempfile

    from sim.model import build, collect
    from sim.model import run as run_model

    clock = time.process_time
    t0 = clock()
    with few_collections():  # as simulate() runs a replication
        r = build(pilot, 0, 0, observe=tuple(observe))
        run_model(r)
        t1 = clock()
        result = collect(r) if output else None
    t2 = clock()
    if result is not None:
        out = task_output(Task(0, pilot, 0, 0, tuple(tables), observe=tuple(observe)), result)
        with tempfile.TemporaryDirectory(prefix="ccsim-pilot-") as tmp:
            for name, df in out.tables.items():
                write_parquet(df, Path(tmp) / f"{name}.parquet")
    t3 = clock()
    return PilotTime(t1 - t0, t2 - t1 if output else 0.0, t3 - t2 if output else 0.0)


def pilots(scenario: Scenario) -> tuple[Scenario, Scenario]:
    """The (small, large) pilots :func:`estimate` times for ``scenario``.

    The large one: one whole day up to ``PILOT_CALLS`` calls and ``PILOT_AGENTS`` agents.
    The small one times the fixed cost of a replication: ``SMALL_PILOT_CALLS`` calls, at
    least ``MIN_PILOT_AGENTS`` agents, unless that is about as large as the large one (a
    centre of a few dozen agents), then fewer.
    """
    large = pilot_scenario(scenario)
    small = pilot_scenario(scenario, SMALL_PILOT_CALLS, SMALL_PILOT_AGENTS)
    if static_estimate(large).seconds <= 1.5 * static_estimate(small).seconds:
        # erlang-c-small's 27 agents: with the floor all time was scaled, and 0.63 of the
        # estimate was real
        small = pilot_scenario(scenario, SMALL_PILOT_CALLS, SMALL_PILOT_AGENTS, least=1)
    return small, large


def pilot_fit(small: PilotTime, large: PilotTime, r_small: float, r_large: float,
              collect_per_unit: float) -> tuple[float, float, float]:
    """(fixed CPU seconds, simulating's and collecting's CPU seconds per unit of static time).

    ``small`` (collected, its tables written) and ``large`` (simulated only) are the
    pilots' phases, ``r_small`` and ``r_large`` their static model's seconds;
    ``collect_per_unit``: collecting's cost per unit (``COLLECT_PER_UNIT`` at this
    machine's speed), not piloted. The simulation's slope is the two pilots' difference;
    the fixed cost is what is left of the small pilot's whole time. Only the simulation,
    whose small part is a few hundredths of a second, is differenced: the small pilot's
    collecting and writing (0.1-0.3 CPU-s, which vary most) stay out of the slope, which a
    whole replication multiplies by its days.
    """
    if r_large > 1.5 * r_small:
        sim = (large.sim - small.sim) / (r_large - r_small)
        fixed = small.total - (sim + collect_per_unit) * r_small
        if sim > 0 and fixed >= 0:
            return fixed, sim, collect_per_unit
    # one size only (a scenario as small as its pilot), or timings too noisy to split (a
    # loaded machine): all of the large pilot's simulation scales (an upper bound), the
    # small pilot's collecting and tables are the fixed cost
    return small.collect + small.output, large.sim / r_large, collect_per_unit


def estimate(scenario: Scenario, tables: Sequence[str] = DEFAULT_TABLES,
             pilot: bool = True, observe: Sequence[str] = ()) -> SizeEstimate:
    """Estimate one replication's calls, agent-days, status rows, memory and time.

    With ``pilot`` (the default), two pilot replications of the scenario (:func:`pilots`:
    one day, everything on) are timed by phase: the small one first, collected and its
    ``tables`` written (a process's first estimate loads the table writer before it), then
    the large one simulated only. :func:`pilot_fit` gives the fixed cost of a replication
    and the simulation's time per unit of the static model's time, scaled to the whole
    scenario by the static model's size, a regime's days after the first at
    ``REGIME_LATER_DAYS`` of the pilot's; collecting the logs costs ``COLLECT_PER_UNIT``
    at this machine's speed. Memory is the static model's (calibrated on measured peaks;
    see ``_BYTES_FIXED``). Pilots are cached by scenario digest and tables. Without
    ``pilot``, the static model.
    """
    full = static_estimate(scenario)
    if not pilot:
        return full
    small, large = pilots(scenario)
    r_large, r_small = static_estimate(large).seconds, static_estimate(small).seconds
    t_small = _measure_pilot(small, tables, observe)
    t_large = _measure_pilot(large, tables, observe, output=False)
    fixed, sim, collect = pilot_fit(t_small, t_large, r_small, r_large,
                                    COLLECT_PER_UNIT * machine_speed())
    days = scenario.horizon.days
    later = REGIME_LATER_DAYS if scenario.policy_active else 1.0
    per_unit = sim * (1 + (later - 1) * (days - 1) / days) + collect
    return replace(full, seconds=fixed + per_unit * full.seconds, measured=True,
                   fixed_s=fixed)


class TooLargeError(ValueError):
    """An experiment's estimated size is over the limits (override with ``force``)."""


@dataclass
class SizeGuard:
    """Refuses experiments whose estimate is over the limits; announces long ones.

    The command line sets ``force`` (``--force``) and ``notify`` (a printer, unless
    ``--quiet``); library callers get the limits too and may set ``force``.
    """

    max_memory_bytes: float = 4 * 2**30
    """Largest estimated memory of one replication (4 GiB)."""
    memory_share: float = 0.8
    """Replications running at once may use at most this share of the machine's memory."""
    notify_after_s: float = field(
        default_factory=lambda: float(os.environ.get("CCSIM_ANNOUNCE_AFTER_S", "10")))
    """Announce the estimate when the work left is estimated to take longer than this (10 s;
    the environment's ``CCSIM_ANNOUNCE_AFTER_S``, so a benchmark sees every estimate)."""
    force: bool = False
    notify: Callable[[str], None] | None = None

    pilot_after_s: float = 0.1
    """Work the static model puts under this many seconds (and far under the memory limit)
    is not piloted: nothing would be announced or refused, so a pilot would only cost. The
    static model was calibrated without stress and regimes, which make a day up to about 6
    times dearer (the 2018 case: 0.14 s static, 0.8 s measured), hence the margin."""

    def estimates(self, scenarios: Sequence[Scenario], tables: Sequence[str] = DEFAULT_TABLES,
                  tasks: int = 1, parallel: int = 1,
                  observe: Sequence[str | Observer] = ()) -> list[SizeEstimate]:
        """Each scenario's estimate: the largest one's time piloted, the others scaled like it.

        One pilot (under a second) whatever the number of scenarios: a sweep's scenarios
        share their structure, so the piloted one's measured-to-static ratio of time carries
        over to the others' static estimates. Small work (``pilot_after_s``) and plain
        queues keep the static estimates; memory is always the static model's.
        """
        unique = {s.digest(): s for s in scenarios}
        statics = {d: static_estimate(s) for d, s in unique.items()}
        big = max(statics, key=lambda d: (statics[d].seconds, statics[d].memory_bytes))
        work = sum(e.seconds for e in statics.values()) * tasks / len(statics) / parallel
        if work < self.pilot_after_s or all(_plain(s) for s in unique.values()):
            # a plain queue is what the static model was calibrated on: a pilot would cost
            # a fifth of a `ccsim validate` to say what it already says within 1.3; at this
            # machine's speed now (the yardstick the calibration was timed against)
            speed = machine_speed()
            return [replace(e, seconds=e.seconds * speed, fixed_s=e.fixed_s * speed)
                    for e in statics.values()]
        # the observers the replications record, by name (ccsim run's strain over the day),
        # so the pilot times what they do (the strain's cost was within the pilots' noise:
        # two-queues' estimate 5.3-8.1 CPU-s with it, 5.8-8.2 without); not a drawn day's
        piloted = estimate(unique[big], tables,
                           observe=tuple(o for o in observe if isinstance(o, str)))
        unit = (piloted.seconds - piloted.fixed_s) / statics[big].seconds
        return [piloted if d == big else replace(
            e, seconds=piloted.fixed_s + e.seconds * unit, measured=True,
            fixed_s=piloted.fixed_s) for d, e in statics.items()]

    def refuse(self, scenarios: Sequence[Scenario]) -> None:
        """Raise :class:`TooLargeError` now if one replication is over the memory limit.

        Called before anything heavy is built (a coverage check, a plan): the static
        model's memory, no pilot, a few milliseconds.
        """
        if self.force or not scenarios:
            return
        worst = max((static_estimate(s) for s in scenarios), key=lambda e: e.memory_bytes)
        if worst.memory_bytes > self.max_memory_bytes:
            # no time: unpiloted, it may be several times off for a regime with stress
            raise TooLargeError(
                f"too large: about {_bytes(worst.memory_bytes)} of memory per replication "
                f"({_count(worst.calls)} calls, {_count(worst.agent_days)} agent-days, "
                f"{_count(worst.status_rows)} status rows); over the limit of "
                f"{_bytes(self.max_memory_bytes)} per replication; use fewer days, agents or "
                "calls (or --force to run it anyway)")

    def check(self, scenarios: Sequence[Scenario], tasks: int, workers: int,
              tables: Sequence[str] = DEFAULT_TABLES,
              warm: Sequence[tuple[Scenario, int]] = (), pool_start_s: float = 0.0,
              observe: Sequence[str | Observer] = ()) -> float:
        """Raise :class:`TooLargeError` if the ``tasks`` replications left are too large.

        The time announced is the replications' estimated time spread over the workers
        that can run at once: no more than the tasks, the workers, or this machine's cores,
        of which other work (the 1-minute load average, less this process) takes a fair
        share; plus the warm-ups ``warm`` still to simulate ((scenario, days) each, one per
        replication, several at once on a pool), each day costing ``WARM_DAY_SHARE`` of a
        measured day of its scenario without the tables; plus the command's ``report``
        (:func:`report_seconds`) and ``pool_start_s`` (:func:`pool_start_seconds`). Returns
        that time in seconds (0 for none; 0 too when nobody is told it: no ``notify``, no
        ``CCSIM_ESTIMATE_LOG``).
        """
        if not tasks:
            return 0.0
        at_once = min(max(1, workers), tasks)
        parallel = min(at_once, os.cpu_count() or 1)
        # the time is only told (announced, or logged for bench_estimate); the refusal
        # below reads memory, the static model's whether piloted or not: untold, no pilot
        # (half a CPU-second and more of a `ccsim run --quiet`) and no time worked out
        told = self.notify is not None or bool(os.environ.get("CCSIM_ESTIMATE_LOG"))
        ests = (self.estimates(scenarios, tables, tasks, parallel, observe) if told else
                [static_estimate(s) for s in {s.digest(): s for s in scenarios}.values()])
        worst = max(ests, key=lambda e: e.memory_bytes)
        physical = _physical_memory()
        memory = self.command_memory(worst.memory_bytes, at_once if tasks > 1 else 1,
                                     bool(pool_start_s))
        problem = None
        if worst.memory_bytes > self.max_memory_bytes:
            problem = (f"over the limit of {_bytes(self.max_memory_bytes)} per replication; "
                       "use fewer days, agents or calls")
        elif physical and memory > self.memory_share * physical:
            problem = (f"with {at_once} at once the command needs about {_bytes(memory)}, "
                       f"over {self.memory_share:.0%} of this machine's "
                       f"{_bytes(physical)}; use fewer --workers")
        if problem and not self.force:
            raise TooLargeError(f"too large: {worst.describe()}; {problem} (or --force to "
                                "run it anyway)")
        if not told:
            return 0.0
        cores, busy = _cores_free(parallel)
        rep_cpu = sum(e.seconds for e in ests) * tasks / len(ests)
        total = rep_cpu / cores
        warm_s = self.warm_seconds(scenarios, ests, warm, workers)
        speed = machine_speed()
        one_core, _ = _cores_free(1)  # the report, the pool's start: one process each
        report_cpu = report_seconds(self.report, scenarios) * speed if self.report else 0.0
        report_s = report_cpu / one_core
        pool_cpu = pool_start_s * speed
        total += warm_s + report_s + pool_cpu / one_core
        warm_cpu = self.warm_seconds(scenarios, ests, warm, workers, cores=1.0)
        _log_estimate({
            "kind": "check", "tasks": tasks, "workers": at_once, "cores": cores,
            "speed": speed, "rep_cpu_s": rep_cpu, "warm_cpu_s": warm_cpu,
            "cpu_left_s": rep_cpu + warm_cpu + report_cpu + pool_cpu,
            "report_cpu_s": report_cpu, "pool_cpu_s": pool_cpu, "warm_s": warm_s,
            "report_s": report_s, "total_s": total, "memory_bytes": worst.memory_bytes,
            "command_memory_bytes": memory})
        if self.notify and total > self.notify_after_s:
            load = (f" (sharing {os.cpu_count() or 1} cores with a load of {busy:.1f} "
                    "from other work)") if busy >= 0.5 else ""
            warmups = (f" after {len(warm)} warm-up(s) of {max(d for _, d in warm)} days "
                       f"(about {_duration(warm_s)})") if warm else ""
            report = f" and the report (about {_duration(report_s)})" if report_s else ""
            self.notify(f"estimate: {worst.describe()}; {tasks} replication(s) on {at_once} "
                        f"worker(s){warmups}{report}{load}: about {_duration(total)} in all, "
                        f"at most about {_bytes(memory)} of memory")
        return total

    def command_memory(self, replication: float, at_once: int, pool: bool,
                       now: float | None = None, before: float | None = None) -> float:
        """Bytes the whole command will hold at its peak, this process's memory included.

        ``replication``: the largest replication's estimate; ``at_once`` of them run at
        once, on a process pool's workers when ``pool`` (beside this process and the pool's
        fork server, ``POOL_SERVER_BYTES``, each worker holding ``WORKER_BYTES`` more),
        else here (reusing what its pilots freed);
        then ``report``'s figures here (``REPORT_BYTES``). This process's memory is read
        (``now``, default: ``/proc`` now; ``before``: before its first pilot), not
        modelled.
        """
        now = _rss_now() if now is None else now
        if before is None:
            before = _BASE_RSS[0] if _BASE_RSS else now
        if pool or at_once > 1:
            runs = now + POOL_SERVER_BYTES + at_once * (replication + WORKER_BYTES)
            # negotiate writes its pages before its pool closes; run and compare after
            after = runs if self.report in REPORT_WITH_POOL else now
        else:
            runs = after = max(now, before + replication)
        return max(runs, after + REPORT_BYTES.get(self.report or "", 0.0))

    report: str | None = None
    """The report the command writes after its replications (``run``, ``compare``; None:
    none), whose time the announced total includes; set by the command line."""

    def report_left(self, scenarios: Sequence[Scenario]) -> float:
        """Wall seconds of ``report`` over the replications of ``scenarios`` (one each)."""
        if self.report is None:
            return 0.0
        cores, _ = _cores_free(1)
        return report_seconds(self.report, scenarios) * machine_speed() / cores

    warm_day_share: float = 0.83
    """What a warm-up day costs against a measured day (it collects nothing): measured on
    the 2018 case, 20 warm-up days 13.9 CPU-s against 5 measured days 4.2 CPU-s; again on
    2026-12-07, 8.6 against 20 measured days 10.3 (0.83). ``WARM_DAY_SHARE``."""

    def paced(self, task_days: Sequence[int], warm: Sequence[tuple[Scenario, int]],
              wall_s: float, workers: int, scenarios: Sequence[Scenario] = ()) -> float:
        """Announce the replications' time at the pace the warm-ups just ran; return it.

        The warm-ups (``warm``: (scenario, days) each, ``wall_s`` seconds on up to
        ``workers`` at once) are a pilot at the regimes' steady state, on this machine under
        its load at the time: a measured day costs their seconds per day and worker over
        ``warm_day_share``; ``task_days`` are the days of each replication left (of
        ``scenarios``, one each: the ``report`` after them is added).
        """
        cpus = os.cpu_count() or 1
        days = sum(d for _, d in warm)
        if not task_days or days <= 0 or wall_s <= 0:
            return 0.0
        per_day = wall_s * min(max(1, workers), len(warm), cpus) / days / self.warm_day_share
        total = sum(task_days) * per_day / min(max(1, workers), len(task_days), cpus)
        total += self.report_left(scenarios) if scenarios else 0.0
        if self.notify and total > self.notify_after_s:
            self.notify(f"the warm-ups took {_duration(wall_s)}: at their pace the "
                        f"{len(task_days)} replication(s) take about {_duration(total)} more")
        return total

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """No announcements inside (a caller that announced the whole run itself)."""
        notify, self.notify = self.notify, None
        try:
            yield
        finally:
            self.notify = notify

    @staticmethod
    def warm_seconds(scenarios: Sequence[Scenario], ests: Sequence[SizeEstimate],
                     warm: Sequence[tuple[Scenario, int]], workers: int,
                     cores: float | None = None) -> float:
        """Wall seconds of the warm-ups ``warm``, from the replications' estimates ``ests``.

        ``ests`` are :meth:`estimates` of ``scenarios`` (one per distinct scenario, in
        order); a warm-up under a scenario not among them (``--from``) costs their mean.
        ``cores``: what the warm-ups get (default: a fair share, :func:`_cores_free`).
        """
        if not warm:
            return 0.0
        by = dict(zip(dict.fromkeys(s.digest() for s in scenarios), ests, strict=True))
        days = {s.digest(): s.horizon.days for s in scenarios}
        mean = sum(e.day_seconds(days[d]) for d, e in by.items()) / len(by)
        cpu = WARM_DAY_SHARE * sum(
            n * (by[s.digest()].day_seconds(days[s.digest()]) if s.digest() in by else mean)
            for s, n in warm)
        if cores is None:
            cores, _ = _cores_free(min(max(1, workers), len(warm), os.cpu_count() or 1))
        return cpu / cores


def _log_estimate(record: dict[str, Any]) -> None:
    """Append ``record`` to the file ``CCSIM_ESTIMATE_LOG`` names (a benchmark's), if set.

    With the wall clock and this process's CPU seconds at the time, so that what was
    estimated can be set against what the whole command then took
    (``bench/bench_estimate.py --commands``).
    """
    path = os.environ.get("CCSIM_ESTIMATE_LOG")
    if not path:
        return
    import json

    record = {"at": time.time(), "cpu": time.process_time(), "rss": _rss_now(), **record}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


POOL_START_S = 1.2
"""CPU seconds a process pool's start adds at ``machine_speed`` 1 (its fork server loading
the model; its workers fork from it): measured on 2026-12-07, the fork server's own CPU in
a whole ``ccsim run``/``compare`` 1.04-1.38 s (``bench_estimate --commands``, load 12-13);
two one-day replications of base on 2 workers took 1.48-1.58 s of wall on a fresh pool and
0.36-0.38 s on a started one (load 1.5). Announced over the share of a core one process
gets (:func:`_cores_free`)."""
POOL_SERVER_BYTES = 64 * 2**20
"""Memory a process pool's fork server holds (the model's modules; measured on 2026-12-07
in whole commands, ``bench_estimate --commands``: 55-78 MiB of private pages)."""
WORKER_BYTES = 32 * 2**20
"""What a pool's worker holds besides its replication: its copies of the fork server's
pages it writes to (Python's reference counts) and what several tasks leave in its heap;
measured on 2026-12-07, over the replication's estimate: 2-21 MiB in ``run`` and
``compare`` (1-2 tasks a worker), 51-125 MiB in ``negotiate`` (5 tasks of 5 scenarios and
their warm-ups a worker)."""
REPORT_WITH_POOL = ("negotiate", "negotiate-pdf")
"""Reports written while the command's pool still holds its workers."""
REPORT_BYTES = {"run": 24 * 2**20, "compare": 24 * 2**20, "negotiate": 24 * 2**20,
                "negotiate-pdf": (24 + 214) * 2**20}
"""Memory a report adds to the command (matplotlib and SciPy loaded here, the figures
drawn: the report's modules imported after a pilot of policy/copc, 22 MiB; the PDF's
headless Chromium, its largest process 214 MiB: 2026-12-07)."""
YARDSTICK_S = 0.00075
"""CPU seconds of :func:`_yardstick` (the least of twenty) on the machine the fixed costs
(``REPORT_S``, ``POOL_START_S``, the static model) were measured on: 2 shared cores,
2026-12-07, 0.71-0.82 ms under a load of 13-17 (one run alone: up to 4 times that; the
least of seven runs of 2.5 times the work: 1.85-2.3 ms for 0.75-0.92 here)."""


def _yardstick(n: int = 2000) -> int:
    """A fixed slice of interpreter work (a heap and a dict, as a simulation's loop uses)."""
    heap: list[int] = []
    seen: dict[int, int] = {}
    for i in range(n):
        heapq.heappush(heap, (i * 7919) % n)
        seen[i & 1023] = seen.get(i & 1023, 0) + 1
        if len(heap) > 64:
            heapq.heappop(heap)
    return len(heap)


def machine_speed(repeats: int = 20) -> float:
    """CPU seconds per unit of work on this machine against ``YARDSTICK_S``'s (1: the same).

    Scales the fixed costs measured once (the report, the pool's start, the static model)
    to this machine: the least of ``repeats`` short runs (about 15 ms of CPU in all), since
    under load the same work's CPU seconds vary by up to 4 times between runs of 1 ms,
    while their least stayed within 15% (but in a spell of a minute or so when everything
    ran 1.7 times slower, which it then tells too). So it tells a faster or slower machine,
    not the load's share of it (which the fixed costs were measured under). A reading over
    ``SLOW_SPEED`` is taken again after a short pause, up to ``SPEED_TRIES`` times in all,
    and the least kept: on 7 December 2026 (load 7-12) the least of twenty ran at 1.3-1.9
    in about one reading in ten for well under a second (``bench_estimate --commands``: a
    negotiate's report and pool start announced at 1.93, twice their cost).
    """
    if _SPEED and time.monotonic() - _SPEED[0] < 10.0:  # one command's estimates: once
        return _SPEED[1]

    def reading() -> float:
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            _yardstick()
            times.append(time.process_time() - t0)
        return min(times) / YARDSTICK_S

    _SPEED[:] = [time.monotonic(), least_reading(reading, lambda: time.sleep(0.05))]
    return _SPEED[1]


SLOW_SPEED, SPEED_TRIES = 1.3, 3
"""A machine-speed reading over this is taken again (:func:`machine_speed`), this many
times in all at most."""


def least_reading(read: Callable[[], float], pause: Callable[[], None]) -> float:
    """The least of ``read()``, read again after ``pause()`` while over ``SLOW_SPEED``.

    At most ``SPEED_TRIES`` readings: a short spell of a slower machine is waited out, a
    slower machine is told as such.
    """
    least = read()
    for _ in range(SPEED_TRIES - 1):
        if least <= SLOW_SPEED:
            break
        pause()
        least = min(least, read())
    return least


_SPEED: list[float] = []
"""When :func:`machine_speed` last measured, and what (reused for 10 s)."""


def pool_start_seconds(executor: Executor, tasks: int, warm_ups: int) -> float:
    """``POOL_START_S`` if ``executor`` will start its process pool for this work, else 0."""
    if not isinstance(executor, ProcessExecutor) or executor._pool is not None:
        return 0.0
    return POOL_START_S if tasks > 1 or warm_ups > 1 else 0.0


WARM_DAY_SHARE = 0.83
"""What a warm-up day costs against a measured day (:attr:`SizeGuard.warm_day_share`)."""

#: CPU seconds a command's report costs after its replications, measured on 2026-12-07
#: (``python -m bench.bench_estimate --report``, under a load of 16 on 2 cores): ``run``'s
#: report.html with its figures, matplotlib loaded (1.47 CPU-s for base, 1 replication of
#: 1 day; 2.06 for 5 of 20 days; 1.87 for the case's strain and stress figures, 2 of 2
#: days); ``compare``'s, matplotlib loaded before the replications (0.45 CPU-s of its
#: 1.4-1.6, which did not grow from 30 to 200 replication-days)
REPORT_S = {"run": 1.45, "compare": 1.05, "negotiate": 2.2, "negotiate-pdf": 3.2}
"""``negotiate``'s (``--no-pdf``: negotiate.html and the analyst's report.html, and the
replications' tables stored): 2.27 CPU-s of the main process after its announcement, 5
scenarios x 2 replications of 4 days (``bench_estimate --commands``, load 13); with the
PDF, headless Chromium printing negotiate.html adds 1.03 CPU-s (its processes' own, load
12)."""
REPORT_STRESS_S = {"run": 0.4, "compare": 0.0, "negotiate": 0.0, "negotiate-pdf": 0.0}
"""What the strain and stress figures of a report with stress on add."""
REPORT_REP_DAY_S = {"run": 0.006, "compare": 0.0, "negotiate": 0.0, "negotiate-pdf": 0.0}
"""What each replication-day adds (the tables read into the figures)."""


def report_seconds(kind: str, scenarios: Sequence[Scenario]) -> float:
    """CPU seconds of ``kind``'s report over one replication of each of ``scenarios``."""
    if kind not in REPORT_S:
        return 0.0
    stress = REPORT_STRESS_S[kind] if any(s.stress.enabled for s in scenarios) else 0.0
    return (REPORT_S[kind] + stress
            + REPORT_REP_DAY_S[kind] * sum(s.horizon.days for s in scenarios))


guard = SizeGuard()
"""The guard every :func:`run_experiment` consults."""


def _cores_free(parallel: int) -> tuple[float, float]:
    """(cores ``parallel`` workers get, load of other work): a fair share of the cores.

    ``parallel`` runnable workers among ``others`` runnable processes get
    ``cores x parallel / (others + parallel)`` cores, at most ``parallel``. ``others`` is
    the mean of the 1-minute load average and of the processes runnable now (each less
    this process): the average alone lags a minute behind, and announced 19 s for a 12 s
    run just after a test run had ended; the count now alone is one noisy sample.
    """
    cores = os.cpu_count() or 1
    try:
        average = os.getloadavg()[0]
    except (OSError, AttributeError):
        return float(parallel), 0.0
    now = _running_now()
    load = average if now is None else (average + now) / 2
    others = max(0.0, load - 1.0)
    fair = min(float(parallel), cores * parallel / (others + parallel))
    got = _share_so_far()
    if got is not None:
        # what this process really got of a core since it started, over what a process
        # alone gets while starting: in 12 whole commands of one process under a load of
        # 12-17 on 2 cores it got 0.07-0.30 of a core so far, and then 0.07-0.36, where the
        # load's fair share said 0.11-0.16 (bench_estimate --commands); a pool's workers
        # get no more than the fair share (their tree got 0.16-0.31 where it said 0.23-0.30)
        alone = min(1.0, got / STARTUP_CPU_SHARE)
        fair = max(alone, min(fair, parallel * alone)) if parallel > 1 else alone
    return fair, others


STARTUP_CPU_SHARE = 0.9
"""CPU seconds per wall second of a command starting alone (reading its modules is partly
waiting for the disk): an assumption, not measured on a quiet machine."""
MIN_OBSERVED_S = 1.0
"""Wall seconds a process must have run before its share of the cores so far is used."""


def _share_so_far() -> float | None:
    """CPU seconds this process used per wall second since it started (None: unknown).

    From ``/proc/self/stat``'s start time; None for a process younger than
    ``MIN_OBSERVED_S`` (one sample of a loaded machine says little) or without ``/proc``.
    Read once for a command's estimates (reused for 10 s, as :func:`machine_speed`): the
    estimates' own waits would lower it between one and the next.
    """
    if _SHARE and time.monotonic() - _SHARE[0] < 10.0:
        return _SHARE[1]
    try:
        start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    wall = uptime - start / os.sysconf("SC_CLK_TCK")
    if wall < MIN_OBSERVED_S:
        return None
    _SHARE[:] = [time.monotonic(), min(1.0, time.process_time() / wall)]
    return _SHARE[1]


_SHARE: list[float] = []
"""When :func:`_share_so_far` last read the share, and what."""


def _running_now(samples: int = 5, gap_s: float = 0.01) -> float | None:
    """Mean count of runnable processes now (``/proc/loadavg``), this one included."""
    seen = []
    for i in range(samples):
        try:
            seen.append(int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]))
        except (OSError, ValueError, IndexError):
            return None
        if i + 1 < samples:
            time.sleep(gap_s)
    return sum(seen) / len(seen)


def _rss_now() -> float:
    """Resident memory of this process now, in bytes (0 where ``/proc`` is missing)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf(
            "SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0.0


def _physical_memory() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"  # pragma: no cover


def _duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.0f} days"


def _count(n: float) -> str:
    return f"{n:,.0f}" if n < 1e6 else f"{n:.3g}"


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
    start_from: Scenario | None = None
    """The scenario whose regime every warm-up ran under (``--from``); None: each its own."""
    warmup_s: float = 0.0
    """Seconds spent warming up (each replication run warms up on its own streams)."""
    starts: dict[tuple[str, int, int], StartState] = field(default_factory=dict, repr=False)
    """Warmed states by (regime scenario digest, days, replication) between the warm-ups
    and the replications that start from them (dropped once handed over)."""

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
        rows = [{"scenario": self.scenarios[i].name, "replication": r,
                 **self.warmup(i), **self.outputs[i, r].kpis}
                for i in range(len(self.scenarios)) for r in self.reps(i)]
        return pd.DataFrame(rows)

    def warmup(self, index: int) -> dict[str, Any]:
        """How scenario ``index``'s runs started: unmeasured warm-up days, under which regime.

        ``warmup_scenario`` is empty for a cold start (no warm-up).
        """
        s = self.scenarios[index]
        src = self.start_from or s
        days = warmup_length(src, s.warmup_days) if (
            s.warmup_days or self.start_from is not None) else 0
        return {"warmup_days": days, "warmup_scenario": src.name if days else ""}

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

    def inputs(self) -> dict[str, Any]:
        """Whether the replications behind the results were verified, as data and in words.

        ``simulated``: run by this process with this model code (verified by construction);
        ``re_derived``: resumed from the output folder's store, its checksums matched and
        its KPIs re-derived from its own stored tables, but not simulated again.
        ``verified``: every replication was simulated here.
        """
        ways = [o.checked for o in self.outputs.values()]
        sim, red = ways.count("simulated"), ways.count("re-derived")
        text = f"Inputs: {sim} replication(s) simulated by this command"
        if red:
            text += (f"; {red} resumed from the output folder's replications/, checksums "
                     "matched and KPIs re-derived from their stored tables, not simulated "
                     "again (`ccsim verify FOLDER` re-simulates a sample)")
        return {"simulated": sim, "re_derived": red, "verified": red == 0, "text": text + "."}


def run_experiment(scenarios: Sequence[Scenario], seed: int, reps: int | Iterable[int], *,
                   executor: Executor | None = None, store: ReplicationStore | None = None,
                   tables: Sequence[str] = DEFAULT_TABLES, individual: bool = False,
                   progress: Callable[[int], None] | None = None,
                   experiment: Experiment | None = None,
                   observe: Sequence[str | Observer] = (),
                   start_from: Scenario | None = None) -> Experiment:
    """Run replications ``reps`` (a count, or the replication numbers) of every scenario.

    Finished replications found in ``store`` are loaded, not run again; every newly finished
    one is written to ``store`` as soon as it arrives. ``progress(n)`` is called with the
    number of replications just completed (or loaded). Pass ``experiment`` to add
    replications to an earlier result. ``individual`` keeps the calls' agent column (agent
    tables such as ``statuses`` are individual by nature and only written when requested).
    ``observe``: observers recorded in every replication (:mod:`sim.people.observe`); each
    one's records are a table of the experiment under its name (``exp.table(name)``), made
    in the same simulation as the KPIs.

    Warm-up (``horizon.warmup_days``, or ``start_from``: every scenario starts from the
    state ``start_from``'s regime leaves): simulated for every replication left to run, on
    that replication's own streams (``sim.model.warm_start``), before the replications, so
    that replications are independent and their spread includes what the warm-up leaves
    (a shared warm-up made the 2018 case's intervals two to three times too narrow:
    ``bench/bench_warmup_ci.py``). Scenarios whose warm-ups are the same (one
    ``start_from``) share replication k's. A resumed experiment simulates it again for the
    replications it runs (the same numbers: a warm-up is a pure function of scenario, seed
    and replication).
    """
    scenarios = list(scenarios)
    watch = tuple(observe)
    # what a stored rep must hold (records not stored without ``individual`` aside)
    private = set() if individual else {o.name for o in observers(watch) if o.individual}
    wanted = (*tables, *(o.name for o in observers(watch) if o.name not in private))
    rep_ids = list(range(reps)) if isinstance(reps, int) else sorted(set(reps))
    if not rep_ids or rep_ids[0] < 0:
        raise ValueError(f"reps must be >= 1, got {reps}")
    exp = experiment or Experiment(scenarios, seed, start_from=start_from)
    if start_from is not None:
        for s in scenarios:
            check_start_from(start_from, s)
        if store is not None:  # the results depend on the state too: a store of their own
            store = ReplicationStore(inside(
                store.root, f"from-{slug(start_from.name)}-{start_from.digest()[:12]}"))
    ex = executor or SerialExecutor()
    exp.executor, exp.workers = ex.name, ex.workers
    t0 = time.perf_counter()
    todo: list[Task] = []
    for r in rep_ids:  # replication-major, so partial results stay balanced
        for i, s in enumerate(scenarios):
            if (i, r) in exp.outputs:
                continue
            stored = store.load(s, seed, r, KPIS) if store else None
            if stored is not None and all(t in stored["tables"] for t in wanted):
                exp.outputs[i, r] = RepOutput(i, r, stored["kpis"], stored["provenance"],
                                              stored["tables"], checked="re-derived")
                exp.resumed += 1
                if progress:
                    progress(1)
            else:
                todo.append(Task(i, s, seed, r, tuple(tables), individual, watch,
                                 start_from=start_from))
    warm = [(j.scenario, key[1]) for key, j in _warm_jobs(todo, seed, start_from,
                                                          exp).items()]
    guard.check([t.scenario for t in todo], len(todo), ex.workers, tables, warm,
                pool_start_s=pool_start_seconds(ex, len(todo), len(warm)), observe=watch)
    warmed_s = exp.warmup_s
    todo = _warmed(todo, seed, start_from, exp, ex)
    if warm and todo:  # the warm-ups were a pilot at the regimes' steady state
        guard.paced([t.scenario.horizon.days for t in todo], warm, exp.warmup_s - warmed_s,
                    ex.workers, [t.scenario for t in todo])
    for out in ex.run(todo):
        if store:
            # records about individual agents (``--agent-timeline``'s) are drawn, not
            # stored, unless individual data is asked for
            store.save(scenarios[out.index], seed, out.replication, out.kpis, out.provenance,
                       {k: v for k, v in out.tables.items() if k not in private})
        exp.outputs[out.index, out.replication] = out
        exp.ran += 1
        if progress:
            progress(1)
    exp.wall_s += time.perf_counter() - t0
    return exp


def check_start_from(old: Scenario, new: Scenario) -> None:
    """Refuse ``--from old`` for ``new`` when the state cannot carry (the same centre)."""
    compatible(old, new)


@dataclass(frozen=True)
class WarmJob:
    """One warm-up: ``sim.model.warm_start(scenario, seed, replication, start_from=...)``."""

    scenario: Scenario
    seed: int
    start_from: Scenario | None = None
    replication: int = 0


def warm_job(job: WarmJob) -> StartState:
    """Run one warm-up (module-level so that a worker can run it)."""
    return warm_start(job.scenario, job.seed, job.replication, start_from=job.start_from)


def _warmed(todo: list[Task], seed: int, start_from: Scenario | None,
            exp: Experiment, executor: Executor) -> list[Task]:
    """The tasks with the start state each replication starts from.

    One warm-up per distinct (regime scenario, length, replication): scenarios warmed under
    one ``start_from`` for the same length share replication k's. Several warm-ups run at
    once on an executor that can (``warm``: the process pool), else one after another here;
    the state is the same either way (a pure function of scenario, seed and replication).
    """
    jobs = _warm_jobs(todo, seed, start_from, exp)
    if jobs:
        t0 = time.perf_counter()
        warm = getattr(executor, "warm", None)
        done = warm(list(jobs.values())) if warm is not None else [
            warm_job(j) for j in jobs.values()]
        exp.starts.update(zip(jobs, done, strict=True))
        exp.warmup_s += time.perf_counter() - t0
    states = exp.starts
    out, used = [], set()
    for t in todo:
        s = t.scenario
        if not s.warmup_days and start_from is None:
            out.append(t)
            continue
        src = start_from or s
        key = (src.digest(), warmup_length(src, s.warmup_days), t.replication)
        out.append(replace(t, start=states[key]))
        used.add(key)
    for key in used:  # a replication runs once: its state is not kept (memory)
        del states[key]
    return out


def _warm_jobs(todo: list[Task], seed: int, start_from: Scenario | None,
               exp: Experiment) -> dict[tuple[str, int, int], WarmJob]:
    """The warm-ups ``todo`` needs that ``exp`` does not hold, by (digest, days, replication)."""
    jobs: dict[tuple[str, int, int], WarmJob] = {}
    for t in todo:
        s = t.scenario
        if s.warmup_days or start_from is not None:
            src = start_from or s
            key = (src.digest(), warmup_length(src, s.warmup_days), t.replication)
            if key not in exp.starts:  # warmed by an earlier call of this experiment
                jobs.setdefault(key, WarmJob(s, seed, start_from, t.replication))
    return jobs


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


def until_reps_needed(exp: Experiment, until: Sequence[tuple[str, float]], max_reps: int,
                      confidence: float = COMPARE_CONFIDENCE) -> int:
    """Runs per scenario that the spread of the runs so far says ``until`` needs.

    For every (KPI, half-width) of ``until``, every paired difference against the first
    scenario (or the mean, for one scenario): :func:`analysis.stats.replications_needed`
    from its standard deviation so far; the largest, at least the runs done, at most
    ``max_reps``. A KPI nobody measured (NaN) needs nothing, as in :func:`until_half_width`.
    """
    done = len(exp.reps(0))
    need = done
    for kpi, hw in until:
        rows = [np.asarray([r.get(kpi, math.nan) for r in exp.kpi_rows(i)], dtype=float)
                for i in range(len(exp.scenarios))]
        for v in ([r - rows[0] for r in rows[1:]] if len(rows) > 1 else rows):
            v = v[~np.isnan(v)]
            if len(v) >= 2:
                need = max(need, replications_needed(v, hw, confidence, max_reps))
    return min(need, max_reps)


def rep_range(reps: Sequence[int]) -> str:
    """``replications 0-9`` (or a list when not contiguous)."""
    reps = sorted(reps)
    if not reps:
        return "no replications"
    if reps == list(range(reps[0], reps[-1] + 1)):
        return (f"replication {reps[0]}" if len(reps) == 1
                else f"replications {reps[0]}-{reps[-1]}")
    return "replications " + ", ".join(map(str, reps))


def until_half_width(exp: Experiment, kpi: str,
                     confidence: float = COMPARE_CONFIDENCE) -> float:
    """The largest half-width ``--until`` looks at: every paired difference, or the mean."""
    rows = [[r.get(kpi, math.nan) for r in exp.kpi_rows(i)] for i in range(len(exp.scenarios))]
    if len(rows) == 1:
        return t_interval(rows[0], confidence).half_width
    return max(paired_difference(rows[0], r, confidence).half_width for r in rows[1:])


def unique_names(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """The scenarios, a repeated name made unique (``NAME-2``, ``NAME-3``, ...)."""
    seen: dict[str, int] = {}
    out = []
    for s in scenarios:
        seen[s.name] = seen.get(s.name, 0) + 1
        out.append(s if seen[s.name] == 1 else
                   s.replace({"name": f"{s.name}-{seen[s.name]}"}, source="name"))
    return out


def write_experiment(out: Path, exp: Experiment, command: str, kind: str) -> None:
    """``kpis.csv``, ``kpis.parquet`` and ``manifest.json`` (``command`` as typed) in ``out``."""
    kpis = exp.kpi_table()
    write_csv(kpis, out / "kpis.csv")
    write_parquet(kpis, out / "kpis.parquet")
    write_json({
        "command": command, "kind": kind, "seed": exp.seed,
        "scenarios": {s.name: {"hash": s.digest(), "scenario": s.to_dict(),
                               **exp.warmup(i)}
                      for i, s in enumerate(exp.scenarios)},
        "start_from": (None if exp.start_from is None else
                       {"name": exp.start_from.name, "hash": exp.start_from.digest(),
                        "scenario": exp.start_from.to_dict()}),
        "warmup_s": round(exp.warmup_s, 3),
        "executor": exp.executor, "workers": exp.workers, "wall_s": round(exp.wall_s, 3),
        "replications_run": exp.ran, "replications_resumed": exp.resumed,
        "provenance": exp.provenance(),
    }, out / "manifest.json")


RESULTS = Path("results")
"""Where default output folders go (relative to the working directory)."""


def default_out(kind: str, names: Sequence[str]) -> Path:
    """Deterministic default output folder, so re-running a command resumes it.

    ``results/<kind>/<names, slugged>/``, checked to lie inside ``results/``, created and
    locked for this process (see :func:`analysis.store.claim_output`).
    """
    folder = inside(RESULTS, kind, slug("-vs-".join(names)))
    return claim_output(folder, kind, label="output folder")


def fresh_out(name: str, kind: str = "run") -> Path:
    """A new timestamped folder ``results/<name>/<YYYYmmdd-HHMMSS>/``, created and locked.

    Never an existing one: a second run within the same second gets ``...-2``, and so on.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    parent = inside(RESULTS, slug(name))
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = inside(parent, stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return claim_output(folder, kind, label="output folder")
    raise ValueError(f"{parent}: cannot make a new output folder for {stamp}")
