"""A plain, idiomatic SimPy M/M/c+M model: the yardstick of the benchmarks.

Imported by ``bench_engine.py`` (the event loops side by side) and run as a script by
``bench_process.py`` (whole processes side by side, from the prompt to the answer):
``python bench/plain_simpy.py --calls 200000 --patience 120`` prints its KPIs. It imports
only numpy and simpy, as a small hand-written model would.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

AGENTS = 100
LOAD = 0.9
AHT_S = 300.0
PATIENCE_S = 180.0
THRESHOLD_S = 20.0
RATE = LOAD * AGENTS / AHT_S  # calls per second


def plain_model(calls: int, seed: int, *, rate: float = RATE, aht_s: float = AHT_S,
                agents: int = AGENTS, patience_s: float = PATIENCE_S
                ) -> tuple[simpy.Environment, list[float], list[float], list[bool]]:
    """The M/M/c+M system as it is usually written with SimPy: a Resource, one process per call.

    Random numbers are drawn with numpy up front (and turned into Python floats), so the
    timing is the engine's, not the generator's.
    """
    rng = np.random.default_rng(seed)
    interarrival = rng.exponential(1.0 / rate, calls).tolist()
    service = rng.exponential(aht_s, calls).tolist()
    patience = rng.exponential(patience_s, calls).tolist()

    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=agents)
    arrival: list[float] = []
    wait: list[float] = []
    abandoned: list[bool] = []

    def call(i: int) -> Generator[simpy.Event, Any, None]:
        arrived = env.now
        with servers.request() as req:
            result = yield req | env.timeout(patience[i])
            arrival.append(arrived)
            wait.append(env.now - arrived)
            if req in result:
                abandoned.append(False)
                yield env.timeout(service[i])
            else:
                abandoned.append(True)

    def source() -> Generator[simpy.Event, Any, None]:
        for i in range(calls):
            yield env.timeout(interarrival[i])
            env.process(call(i))

    env.process(source())
    env.run()
    return env, arrival, wait, abandoned


def plain_kpis(wait: list[float], abandoned: list[bool],
               threshold_s: float = THRESHOLD_S) -> dict[str, float]:
    """The same KPIs as ccsim's, from the plain model's per-call records."""
    w = np.asarray(wait)
    ab = np.asarray(abandoned, dtype=bool)
    ans = ~ab
    n = len(w)
    return {
        "abandon_rate": float(ab.sum() / n),
        "p_wait": float((ab | (w > 0)).sum() / n),
        "service_level": float((ans & (w <= threshold_s)).sum() / n),
        "asa_s": float(w[ans].mean()),
    }


def main(argv: list[str] | None = None) -> None:
    """Simulate and print the KPIs (what a user of a hand-written model would run)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=200_000)
    p.add_argument("--rate", type=float, default=RATE * 3600, help="calls per hour")
    p.add_argument("--aht", type=float, default=AHT_S)
    p.add_argument("--agents", type=int, default=AGENTS)
    p.add_argument("--patience", type=float, default=PATIENCE_S)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    _, _, wait, abandoned = plain_model(a.calls, a.seed, rate=a.rate / 3600, aht_s=a.aht,
                                        agents=a.agents, patience_s=a.patience)
    print(json.dumps({"calls": len(wait), **plain_kpis(wait, abandoned)}))


if __name__ == "__main__":
    main()
