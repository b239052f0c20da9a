"""Calls per CPU second of the case's two queues against the plain SimPy model (issue 22).

Not a test: it asserts nothing. Run ``.venv/bin/python bench/bench_skills.py`` from the
repository root. For each scenario (5 days, cold start) ``simulate()`` as a whole (tables
included) is timed in CPU seconds, and the plain SimPy model of ``bench/plain_simpy.py``
right after it in the same process; the ratio of their calls per CPU second is printed
(the issue's goal: at least 0.4). Then a large design (30 call types, 20 groups of 20
agents with 6-7 skills each, 54,000 calls, one day) under longest-idle and random
assignment: CPU seconds of one replication's ``simulate()`` (the goal: at most 30 s).
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from plain_simpy import plain_model  # noqa: E402

from sim.model import simulate  # noqa: E402
from sim.scenario import load_scenario, scenario_from_dict  # noqa: E402

for path in ("scenarios/case/case-base.toml", "scenarios/case/two-queues.toml"):
    s = load_scenario(path, {"horizon.days": 5, "horizon.warmup_days": 0})
    t = time.process_time()
    r = simulate(s, seed=1)
    cpu = time.process_time() - t
    n = len(r.calls)
    t = time.process_time()
    plain_model(100_000, 1)
    pcpu = time.process_time() - t
    print(f"{path}: {n} calls in {cpu:.2f} CPU s = {n / cpu:,.0f} calls/s; plain SimPy "
          f"{100_000 / pcpu:,.0f} calls/s; ratio {n / cpu / (100_000 / pcpu):.2f}")


def large_design(agents: str) -> None:
    """One day of 30 call types and 20 groups (400 agents), ``routing.agents = agents``."""
    rng = np.random.default_rng(0)
    n_types, n_groups = 30, 20
    types = {f"t{k}": {"share": float(rng.uniform(1, 5))} for k in range(n_types)}
    groups, shifts = {}, {}
    for g in range(n_groups):
        own = {g % n_types, (g + 20) % n_types if g < 10 else g % n_types}
        skills = sorted({int(x) for x in rng.choice(n_types, 6, replace=False)} | own)
        groups[f"g{g}"] = {"shifts": [f"s{g}"], "skills": [f"t{k}" for k in skills]}
        shifts[f"s{g}"] = {"start": "08:00", "hours": 12, "agents": 20}
    s = scenario_from_dict({
        "name": "large", "description": "a large multi-skill design", "rationale": "bench",
        "horizon": {"days": 1, "open": "08:00", "hours": 12, "interval_minutes": 60},
        "demand": {"calls_per_day": 54000, "profile": [1] * 12},
        "staffing": {"shifts": shifts}, "call_types": types, "agent_groups": groups,
        "routing": {"agents": agents}})
    t = time.process_time()
    r = simulate(s, seed=1)
    print(f"large design, {agents}: {len(r.calls)} calls in {time.process_time() - t:.2f} "
          f"CPU s (goal: at most 30 s); service level {r.kpis['service_level']:.3f}")


for rule in ("longest_idle", "random"):
    large_design(rule)
