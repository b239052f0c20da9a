"""Replications of one scenario under common random numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sim.model import RunResult, simulate
from sim.scenario import Scenario


def replications(scenario: Scenario, seed: int, reps: int,
                 progress: Callable[[int, int], None] | None = None) -> Iterator[RunResult]:
    """Run replications 0..reps-1 in order; replication k of any scenario uses the same streams."""
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    for k in range(reps):
        yield simulate(scenario, seed=seed, replication=k)
        if progress:
            progress(k + 1, reps)
