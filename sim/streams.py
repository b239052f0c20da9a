"""Named random streams from one seed (common random numbers across scenarios).

Every stream is derived from ``SeedSequence(entropy=[seed, replication])`` with a spawn key
``(stream index, *key)``, so a stream never depends on how many other streams were used:
call draws of day *d* are keyed by *d*, an agent's draws by that agent's stable key.
New names are appended to ``STREAMS``; existing ones are never reordered.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS: tuple[str, ...] = ("busyness", "arrivals", "talk", "acw", "patience", "agents",
                            "supervisor", "responses", "repeats",
                            "monitoring", "stress")


class Streams:
    """Factory of independent, reproducible generators for one (seed, replication)."""

    def __init__(self, seed: int, replication: int) -> None:
        if seed < 0 or replication < 0:
            raise ValueError(f"seed and replication must be >= 0, got {seed}, {replication}")
        self.seed = seed
        self.replication = replication

    def rng(self, name: str, *key: int) -> np.random.Generator:
        """The generator for stream ``name`` at ``key`` (e.g. a day, or an agent's key)."""
        index = STREAMS.index(name)
        seq = np.random.SeedSequence(
            entropy=[self.seed, self.replication], spawn_key=(index, *key)
        )
        return np.random.default_rng(seq)


def stable_key(text: str) -> int:
    """A stable integer for a name (e.g. a shift), independent of Python's hash seed."""
    return zlib.crc32(text.encode("utf-8"))
