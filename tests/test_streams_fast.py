"""Streams.fast gives exactly the numbers of Streams.rng (the benchmark's cheap path)."""

import numpy as np
import pytest

from sim.engine.streams import Streams


@pytest.mark.parametrize("seed,replication", [(1, 0), (7, 3), (2**32 - 1, 12)])
def test_fast_equals_rng(seed: int, replication: int) -> None:
    """Same draws, over block edges, several key lengths and seeds."""
    s = Streams(seed, replication)
    rs = np.random.default_rng(5)
    keys = [("repeats", 1, i) for i in (0, 1, 255, 256, 511, 100_000)]
    keys += [("supervisor", 1, a, d) for a in (0, 99) for d in (0, 59)]
    keys += [("stress", *rs.integers(0, 2**32, rs.integers(1, 5)).tolist()) for _ in range(50)]
    for key in keys:
        a = s.rng(*key)
        b = s.fast(*key)
        assert np.array_equal(a.random(3), b.random(3)), key
        assert np.array_equal(a.normal(size=2), b.normal(size=2)), key
        assert a.integers(0, 10**6) == b.integers(0, 10**6), key
        assert s.first_uniform(*key) == s.rng(*key).random(), key


def test_fast_keys_beyond_32_bits_fall_back() -> None:
    """Keys numpy splits into two words go the slow way, with the same draws."""
    s = Streams(1, 0)
    for key in [("repeats", 1, 2**40), ("repeats", 2**33, 5)]:
        assert np.array_equal(s.rng(*key).random(2), s.fast(*key).random(2))
        assert s.first_uniform(*key) == s.rng(*key).random()


def test_rows_are_their_blocks_draws_whatever_the_order_of_asking() -> None:
    """Rows: key i is row i % 2**bits of block i >> bits's draw, also once evicted and redrawn."""
    from sim.engine.streams import Rows

    s = Streams(3, 1)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        return np.stack([rng.exponential(5.0, n), rng.random(n)], axis=1)

    rows = Rows(s, "repeats", (2,), draw, 2, bits=4, keep=2)
    for i in [0, 15, 16, 100, 3, 47, 16, 0, 99]:  # blocks 0, 1, 6, 0, 2, 1, 0, 6: evictions
        want = draw(s.rng("repeats", 2, i >> 4), 16)[i & 15]
        assert rows.row(i) == tuple(want.tolist()), i
    assert len(rows._blocks) == 2


def test_states_and_prefetch_equal_rng() -> None:
    """Seeds hashed many at once (states, prefetch) give the draws of rng, key by key."""
    s = Streams(7, 3)
    cols = [np.array([0, 5, 2**32 - 1]), np.array([3, 0, 9]), 1, np.array([0, 255, 300])]
    for i, seeded in enumerate(s.states("agents", cols)):
        key = [int(c[i]) if isinstance(c, np.ndarray) else c for c in cols]
        assert np.array_equal(s.at("agents", seeded).random(3), s.rng("agents", *key).random(3))
    assert s.states("agents", [np.array([2**32])]) is None  # two words: rng's way
    heads = [(1, a) for a in range(4)]
    s.prefetch("supervisor", heads, 300)  # two blocks a head (256 keys each)
    assert len(s._blocks["supervisor"]) == 8
    for a, d in [(0, 0), (3, 255), (2, 256), (1, 299)]:
        assert np.array_equal(s.fast("supervisor", 1, a, d).normal(size=2),
                              s.rng("supervisor", 1, a, d).normal(size=2)), (a, d)


def test_uniforms_equal_one_draw_at_a_time() -> None:
    """Uniforms read from blocks are gen.random()'s floats, one by one, across block edges."""
    from sim.engine.streams import Uniforms

    for seed in range(5):
        one, block = np.random.default_rng(seed), Uniforms(np.random.default_rng(seed), 7)
        assert [one.random() for _ in range(30)] == [block.random() for _ in range(30)]
