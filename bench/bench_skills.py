"""Calls per CPU second of the case's two queues against the plain SimPy model (issue 22).

Not a test: it asserts nothing. Run ``.venv/bin/python bench/bench_skills.py`` from the
repository root. For each scenario (5 days, cold start) ``simulate()`` as a whole (tables
included) is timed in CPU seconds, and the plain SimPy model of ``bench/plain_simpy.py``
right after it in the same process; the ratio of their calls per CPU second is printed
(the issue's goal: at least 0.4).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from plain_simpy import plain_model  # noqa: E402

from sim.model import simulate  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

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
