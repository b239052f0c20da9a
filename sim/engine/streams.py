"""Named random streams from one seed (common random numbers across scenarios).

Every stream is derived from ``SeedSequence(entropy=[seed, replication])`` with a spawn key
``(stream index, *key)``, so a stream never depends on how many other streams were used:
call draws of day *d* are keyed by *d*, an agent's draws by that agent's stable key.
New names are appended to ``STREAMS``; existing ones are never reordered.

:meth:`Streams.fast` gives the same numbers as :meth:`Streams.rng` for the many short-lived
generators of a run (one per agent-day: scores, a seat's strain), at a tenth of the cost:
the seed sequences of a block of consecutive keys are hashed at once in numpy (numpy's
``SeedSequence`` algorithm, checked against it in ``tests/test_reproducibility.py``)
and one shared generator is set to each key's state in turn. Draws keyed by a call's
number (a repeat call's) are cheaper still as :class:`Rows`: a block of keys drawn at once.
"""

from __future__ import annotations

import ctypes
import struct
import zlib
from collections.abc import Callable, Sequence
from itertools import accumulate

import numpy as np

STREAMS: tuple[str, ...] = ("busyness", "arrivals", "talk", "acw", "patience", "agents",
                            "supervisor", "responses", "repeats",
                            "monitoring", "stress", "balk")

# numpy's SeedSequence constants (numpy/random/bit_generator.pyx) and PCG64's multiplier
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _XSHIFT, _POOL = 0xCA01F9DD, 0x4973F715, 16, 4
_M32, _M64, _M128 = 0xFFFFFFFF, (1 << 64) - 1, (1 << 128) - 1
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645
#: consecutive last keys hashed at once, and how many such blocks a stream keeps (8 KiB
#: each, least recently used evicted first)
_BLOCK, _KEEP = 256, 256
_BITS = _BLOCK.bit_length() - 1
#: a key's four seed words (state high, low, increment high, low) from its block's bytes
_words = struct.Struct("=4Q").unpack_from


class Streams:
    """Factory of independent, reproducible generators for one (seed, replication)."""

    def __init__(self, seed: int, replication: int) -> None:
        if seed < 0 or replication < 0:
            raise ValueError(f"seed and replication must be >= 0, got {seed}, {replication}")
        self.seed = seed
        self.replication = replication
        self._seats: dict[str, _Seat] = {}  # fast: one generator per stream
        self._blocks: dict[str, dict[tuple, bytes]] = {}

    def rng(self, name: str, *key: int) -> np.random.Generator:
        """The generator for stream ``name`` at ``key`` (e.g. a day, or an agent's key)."""
        index = STREAMS.index(name)
        seq = np.random.SeedSequence(
            entropy=[self.seed, self.replication], spawn_key=(index, *key)
        )
        return np.random.default_rng(seq)

    def fast(self, name: str, *key: int) -> np.random.Generator:
        """A generator giving exactly the numbers of ``rng(name, *key)``, cheaply.

        The generator is shared by the stream: it is valid until the next call of ``fast``
        for the same ``name`` (draw from it at once, never keep it). Keys are ints; the
        last one varies fastest (blocks of consecutive last keys are hashed at once).
        """
        seeded = self._seeded(name, key)
        if seeded is None:
            return self.rng(name, *key)
        state, inc = seeded
        seat = self._seats.get(name)
        if seat is None:
            seat = self._seats[name] = _Seat()
        return seat.set(state, inc)

    def first_uniform(self, name: str, *key: int) -> float:
        """``rng(name, *key).random()`` (the generator's first double), without a generator."""
        seeded = self._seeded(name, key)
        if seeded is None:
            return float(self.rng(name, *key).random())
        state, inc = seeded
        state = (state * _PCG_MULT + inc) & _M128  # pcg64_random_r: a step, then XSL-RR
        hi, lo = state >> 64, state & _M64
        x, rot = hi ^ lo, hi >> 58
        out = ((x >> rot) | (x << (-rot & 63))) & _M64
        return (out >> 11) * (1.0 / 9007199254740992.0)

    def _seeded(self, name: str, key: tuple[int, ...]) -> tuple[int, int] | None:
        """PCG64's (state, inc) right after seeding from ``rng(name, *key)``'s sequence.

        None when a key is outside [0, 2**32) (numpy splits those into several words).
        """
        last = key[-1]
        if last < 0 or last >> 32:
            return None
        bits, keep = _BITS, _KEEP
        block = (*key[:-1], last >> bits)
        blocks = self._blocks.get(name)
        if blocks is None:
            blocks = self._blocks[name] = {}
        states = blocks.pop(block, None)
        if states is not None:
            blocks[block] = states  # the most recently used last (evicted least recently)
        else:
            head = key[:-1]
            if any(k < 0 or k >> 32 for k in head):
                return None
            if len(blocks) >= keep:
                # the least recently used: a block per agent (a seat's days, a score per
                # agent-day) is used once a day in turn and must not evict the others
                del blocks[next(iter(blocks))]
            lo = last >> bits << bits
            # each key's four words together (native uint64), read back without numpy
            states = blocks[block] = _pcg_states(
                [self.seed, self.replication, STREAMS.index(name), *head], lo, 1 << bits
            ).T.tobytes()
        return _state(*_words(states, (last & ((1 << bits) - 1)) << 5))

    def prefetch(self, name: str, heads: Sequence[tuple[int, ...]], n_last: int) -> None:
        """Hash at once the blocks :meth:`fast` will use for keys ``(*head, 0 .. n_last - 1)``.

        For a stream keyed per agent and day (a block per agent, each a numpy hashing of a
        few hundred keys with its fixed cost): all heads' blocks in one hashing. The same
        states as block by block; nothing when they would not all be kept, or a key is
        outside [0, 2**32).
        """
        bits, keep = _BITS, _KEEP
        size = 1 << bits
        blocks = self._blocks.setdefault(name, {})
        todo = [(h, b) for h in heads for b in range((max(n_last, 0) + size - 1) >> bits)
                if (*h, b) not in blocks]
        if not todo or len(blocks) + len(todo) > keep or len({len(h) for h, _ in todo}) > 1 \
                or any(k < 0 or k >> 32 for h, _ in todo for k in h):
            return
        cols = [np.repeat(np.array([h[c] for h, _ in todo], dtype=np.uint32), size)
                for c in range(len(todo[0][0]))]
        lasts = ((np.array([b for _, b in todo], dtype=np.uint64)[:, None] << np.uint64(bits))
                 | np.arange(size, dtype=np.uint64)[None, :]).ravel().astype(np.uint32)
        raw = _hash_columns([self.seed, self.replication, STREAMS.index(name)],
                            [*cols, lasts], len(lasts)).T.tobytes()
        step = size * 32  # a key's four words
        for j, (h, b) in enumerate(todo):
            blocks[(*h, b)] = raw[j * step:(j + 1) * step]

    def states(self, name: str, keys: Sequence[np.ndarray | int]) -> Seeds | None:
        """PCG64's (state, inc) of ``rng(name, *key)`` for many keys at once, or None.

        ``keys``: the key's columns (arrays of one length, or ints the same for every key),
        hashed together in numpy; :meth:`at` sets a generator to one of them. None when a
        key is outside [0, 2**32) (:meth:`rng` then).
        """
        arrays = [np.asarray(k, dtype=np.int64) for k in keys]
        n = max((a.size for a in arrays if a.ndim), default=1)
        if any(a.size and (a.min() < 0 or a.max() >> 32) for a in arrays):
            return None
        cols = [np.broadcast_to(a, (n,)).astype(np.uint32) for a in arrays]
        words = _hash_columns([self.seed, self.replication, STREAMS.index(name)], cols, n)
        return Seeds(words.T.tobytes())

    def at(self, name: str, seeded: tuple[int, int] | None, *key: int) -> np.random.Generator:
        """A generator in state ``seeded`` (from :meth:`states`; None: ``rng(name, *key)``).

        Shared with :meth:`fast` for ``name``: draw from it at once, never keep it.
        """
        if seeded is None:
            return self.rng(name, *key)
        seat = self._seats.get(name)
        if seat is None:
            seat = self._seats[name] = _Seat()
        return seat.set(*seeded)


class Seeds:
    """Many keys' PCG64 (state, inc), each made from its 32 bytes when asked for.

    32 bytes a key until then, not a tuple of two 128-bit integers (about 160 bytes).
    """

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __len__(self) -> int:
        return len(self.raw) >> 5

    def __getitem__(self, i: int) -> tuple[int, int]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        return _state(*_words(self.raw, i << 5))


def _state(s_hi: int, s_lo: int, i_hi: int, i_lo: int) -> tuple[int, int]:
    """PCG64's (state, inc) after seeding with the four seed words."""
    inc = ((i_hi << 64 | i_lo) << 1 | 1) & _M128
    # pcg_setseq_128_srandom_r: from state 0, a step, add the seed, a step
    return ((inc + (s_hi << 64 | s_lo)) * _PCG_MULT + inc) & _M128, inc


class _Seat:
    """A generator whose PCG64 state is set from (state, inc) integers, cheaply.

    numpy's way (``bit_generator.state = {...}``) checks and converts a dictionary, a few
    microseconds a time; here the four 64-bit words are written into the bit generator's C
    state through ``ctypes`` (its ``pcg64_state``: a pointer to the 128-bit state and
    increment, then the 32-bit buffer, emptied), which a check when the first seat is made
    compares with numpy's way; where they differ (another layout of numpy's 128-bit type)
    numpy's way is used.
    """

    def __init__(self) -> None:
        self.gen = np.random.Generator(np.random.PCG64(0))
        bg = self.gen.bit_generator
        self._state = bg.state
        self._c: tuple | None = None
        if _LAYOUT_OK is not False:
            c = _CState.from_address(bg.ctypes.state_address)
            self._c = (c, (ctypes.c_uint64 * 4).from_address(c.pcg))

    def set(self, state: int, inc: int) -> np.random.Generator:
        """The generator, in the state PCG64 has for (``state``, ``inc``)."""
        c = self._c
        if c is not None and _LAYOUT_OK:
            words = c[1]
            words[0], words[1] = state & _M64, state >> 64  # little end first (uint128)
            words[2], words[3] = inc & _M64, inc >> 64
            c[0].has_uint32 = 0
            return self.gen
        st = self._state
        st["state"]["state"], st["state"]["inc"] = state, inc
        st["has_uint32"], st["uinteger"] = 0, 0
        self.gen.bit_generator.state = st
        return self.gen


class _CState(ctypes.Structure):
    """numpy's ``pcg64_state`` (numpy/random/src/pcg64/pcg64.h)."""

    _fields_ = [("pcg", ctypes.c_void_p), ("has_uint32", ctypes.c_int),
                ("uinteger", ctypes.c_uint32)]


def _layout_ok() -> bool:
    """Whether writing the words through ``ctypes`` gives numpy's own state (checked once)."""
    state, inc = 0x0123456789ABCDEF_FEDCBA9876543210, 0x0F1E2D3C4B5A6978_8796A5B4C3D2E1F1
    try:
        seat = _Seat.__new__(_Seat)
        seat.gen = np.random.Generator(np.random.PCG64(0))
        bg = seat.gen.bit_generator
        seat._state = bg.state
        c = _CState.from_address(bg.ctypes.state_address)
        seat._c = (c, (ctypes.c_uint64 * 4).from_address(c.pcg))
        global _LAYOUT_OK
        _LAYOUT_OK = True
        got = seat.set(state, inc).bit_generator.state
        return (got["state"]["state"], got["state"]["inc"], got["has_uint32"]) == (
            state, inc, 0)
    except Exception:  # noqa: BLE001 - no ctypes view of the state: numpy's way
        return False


#: None until checked; then whether ``_Seat`` may write the state through ``ctypes``
_LAYOUT_OK: bool | None = None
_LAYOUT_OK = _layout_ok()


def _pcg_states(words: list[int], lo: int, n: int) -> np.ndarray:
    """PCG64's seed words (state high, low, increment high, low) for keys lo .. lo + n - 1.

    Those of ``SeedSequence(entropy=words[:2], spawn_key=(*words[2:], k))`` (every word
    below 2**32), hashed as numpy does: a (4, n) uint64 array.
    """
    return _hash_columns(words[:3], [np.full(n, w, dtype=np.uint32) for w in words[3:]]
                         + [np.arange(lo, lo + n, dtype=np.uint64).astype(np.uint32)], n)


def _hash_columns(words: list[int], keys: list[np.ndarray], n: int) -> np.ndarray:
    """PCG64's seed words (a (4, n) uint64 array) for ``n`` spawn keys.

    ``words``: seed, replication and stream index; ``keys``: the spawn key's further
    columns (uint32 arrays of length ``n``); hashed as :func:`_pcg_states` says.
    """
    if len(words) < 2 or any(w >> 32 for w in words[:2]):
        raise ValueError("seed and replication must be below 2**32")
    # the entropy pool: seed and replication padded to the pool size, then the spawn key
    cols = [np.full(n, w, dtype=np.uint32) for w in [*words[:2], 0, 0, *words[2:]]]
    cols += keys
    consts = list(accumulate(range(4 * len(cols)), lambda h, _: h * _MULT_A & _M32,
                             initial=_INIT_A))
    ci = iter(consts)

    def hashmix(v: np.ndarray) -> np.ndarray:
        h = next(ci)
        v = (v ^ np.uint32(h)) * np.uint32(h * _MULT_A & _M32)
        return v ^ (v >> np.uint32(_XSHIFT))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
        return r ^ (r >> np.uint32(_XSHIFT))

    pool = [hashmix(cols[i]) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL, len(cols)):
        for dst in range(_POOL):
            pool[dst] = mix(pool[dst], hashmix(cols[src]))
    # generate_state(4, uint64): eight 32-bit words cycling over the pool
    h, out = _INIT_B, []
    for i in range(8):
        v = (pool[i % _POOL] ^ np.uint32(h)) * np.uint32(h * _MULT_B & _M32)
        h = h * _MULT_B & _M32
        out.append((v ^ (v >> np.uint32(_XSHIFT))).astype(np.uint64))
    return np.stack([out[2 * j + 1] << np.uint64(32) | out[2 * j] for j in range(4)])


class Uniforms:
    """A generator's ``random()`` draws, made a block at a time: the same numbers, cheaper.

    numpy draws ``random(n)`` as ``n`` calls of ``random()`` would (one double each, in
    turn), so a per-call draw read from a block is the same float; a numpy call per draw
    costs several times a Python ``next``. Only for a generator from which nothing else is
    drawn and whose state is never read (the block runs ahead of it).
    """

    __slots__ = ("gen", "block", "it")

    def __init__(self, gen: np.random.Generator, block: int = 128) -> None:
        self.gen, self.block = gen, block
        self.it = iter(())

    def random(self) -> float:
        """The generator's next uniform in [0, 1), as ``gen.random()``."""
        u = next(self.it, None)
        if u is None:
            u = self.refill()
        return u

    def refill(self) -> float:
        """Draw the next block; its first uniform (the rest follow in ``it``)."""
        self.it = iter(self.gen.random(self.block).tolist())
        return next(self.it)


class Rows:
    """Draws keyed by a number (a call's), read as rows of blocks of consecutive keys.

    Row ``i`` is row ``i % 2**bits`` of block ``i >> bits``, an ``(n, width)`` float array
    ``draw(rng(name, *head, block), n)``: a generator and one numpy draw per column a
    block, not a generator and a numpy call per draw a key (a repeat call's six draws cost
    about 17 us that way, 0.5 us here). The rows are independent, so a key's draws depend
    on the key alone, as with a generator per key. Blocks least recently used are dropped
    (``keep``: the few that are in use) and drawn again, the same, when needed.
    """

    __slots__ = ("streams", "name", "head", "draw", "bits", "keep", "_row", "_blocks")

    def __init__(self, streams: Streams, name: str, head: tuple[int, ...],
                 draw: Callable[[np.random.Generator, int], np.ndarray], width: int,
                 bits: int = 10, keep: int = 64) -> None:
        self.streams, self.name, self.head, self.draw = streams, name, head, draw
        self.bits, self.keep = bits, keep
        self._row = struct.Struct(f"={width}d").unpack_from
        self._blocks: dict[int, bytes] = {}  # 8 * width bytes a row (48 KiB for six)

    def row(self, i: int) -> tuple[float, ...]:
        """Key ``i``'s draws, one float per column."""
        bits, blocks = self.bits, self._blocks
        b = i >> bits
        raw = blocks.pop(b, None)
        if raw is None:
            if len(blocks) >= self.keep:
                del blocks[next(iter(blocks))]  # the least recently used
            n = 1 << bits
            rows = self.draw(self.streams.rng(self.name, *self.head, b), n)
            raw = np.ascontiguousarray(rows, dtype=np.float64).tobytes()
        blocks[b] = raw  # the most recently used last
        return self._row(raw, (i & ((1 << bits) - 1)) * (len(raw) >> bits))


def stable_key(text: str) -> int:
    """A stable integer for a name (e.g. a shift), independent of Python's hash seed."""
    return zlib.crc32(text.encode("utf-8"))
