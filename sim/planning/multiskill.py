"""Exact per-type results of a multi-skill queue under FCFS with ALIS or random assignment.

Poisson arrivals per call type, exponential service (rate per server), optionally
exponential patience (the same for every type), first come first served across types (a
free server takes the longest-waiting call it can answer) and an arriving call given to
the compatible idle server idle longest (ALIS) or to one at random. The chain is the
state description of Visschers, Adan and Weiss (2012), *A product form solution to a
system with multi-type jobs and multi-type servers*, Queueing Systems 70: the busy
servers in the order of their calls' arrival, the number of calls waiting between each
and the next, and the idle servers (oldest first). Given that state, the calls waiting
behind busy server j are of the types no later server (and no idle one) answers, each
independently with chance proportional to its arrival rate; every transition keeps that
so, which is what makes the aggregated state a Markov chain (the tests check it against
the chain that keeps every waiting call's type). Solved numerically with the total queue
truncated at ``limit`` (arrivals beyond are lost: choose it where the tail is
negligible), rather than through the product form, so abandonment fits as well.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


@dataclass(frozen=True)
class TypeMetrics:
    """Per call type: chance of waiting, mean wait of all calls, share abandoned."""

    p_wait: np.ndarray
    wait_s: np.ndarray
    abandon_rate: np.ndarray
    states: int


def _stationary(rows: list[int], cols: list[int], vals: list[float], n: int) -> np.ndarray:
    q = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    q = q - sp.diags(np.asarray(q.sum(axis=1)).ravel())
    a = q.T.tolil()
    a[0, :] = 1.0  # one balance equation replaced by the normalisation
    b = np.zeros(n)
    b[0] = 1.0
    return spla.spsolve(a.tocsc(), b)


def multiskill_metrics(skills: Sequence[set[int]], rates: Sequence[float],
                       service_rates: Sequence[float], abandon_rate: float = 0.0,
                       rule: str = "alis", limit: int = 40) -> TypeMetrics:
    """Exact per-type metrics (see the module docstring).

    ``skills``: per server the types it answers; ``rates``: arrivals per second per type;
    ``service_rates``: per server; ``abandon_rate``: 1 / mean patience (0: none);
    ``rule``: "alis" or "random"; ``limit``: most calls waiting.
    """
    n_types = len(rates)
    lam = np.asarray(rates, dtype=float)
    served_by = [c for s in skills for c in s]
    if set(range(n_types)) - set(served_by):
        raise ValueError("skills: some call type is answered by no server")

    def free_types(later: Sequence[int]) -> list[int]:
        served = set().union(*(skills[s] for s in later)) if later else set()
        return [c for c in range(n_types) if c not in served]

    def canon(busy: tuple, blocks: tuple, idle: tuple) -> tuple:
        return (busy, blocks, tuple(sorted(idle)) if rule == "random" else idle)

    start = canon((), (), tuple(range(len(skills))))
    index, states, todo = {start: 0}, [start], deque([start])
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []

    def add(s: tuple, t: tuple, rate: float) -> None:
        if t not in index:
            index[t] = len(states)
            states.append(t)
            todo.append(t)
        rows.append(index[s])
        cols.append(index[t])
        vals.append(rate)

    def moved(busy: tuple, blocks: tuple, j: int, b: int | None, m: int) -> tuple:
        """Server ``busy[j]`` leaves its place; with ``b``: takes the m-th call of block b."""
        ent = [[busy[k], blocks[k]] for k in range(len(busy))]
        x = busy[j]
        if b == j:  # the m-th behind itself: the m - 1 skipped join the block in front
            if j > 0:
                ent[j - 1][1] += m - 1
            ent[j][1] = blocks[j] - m
        else:
            mine = ent.pop(j)
            if j > 0:
                ent[j - 1][1] += mine[1]
            if b is not None:
                ent[b - 1][1] = m - 1
                ent.insert(b, [x, blocks[b] - m])
        return tuple(e[0] for e in ent), tuple(e[1] for e in ent)

    while todo:
        s = todo.popleft()
        busy, blocks, idle = s
        waiting = sum(blocks)
        for c in range(n_types):
            comp = [x for x in idle if c in skills[x]]
            if comp:
                picks = ([(comp[0], 1.0)] if rule == "alis"
                         else [(x, 1.0 / len(comp)) for x in comp])
                for x, p in picks:
                    add(s, canon(busy + (x,), blocks + (0,),
                                 tuple(y for y in idle if y != x)), lam[c] * p)
            elif waiting < limit:
                add(s, canon(busy, blocks[:-1] + (blocks[-1] + 1,), idle), lam[c])
        if abandon_rate > 0:
            for b, n in enumerate(blocks):
                if n:
                    nb = list(blocks)
                    nb[b] -= 1
                    add(s, canon(busy, tuple(nb), idle), abandon_rate * n)
        for j, x in enumerate(busy):
            rate, skip = service_rates[x], 1.0  # skip: every call scanned so far skipped
            for b in range(j, len(busy)):
                n = blocks[b]
                if n == 0:
                    continue
                u = free_types(list(busy[b + 1:]) + list(idle))
                p = lam[[c for c in u if c in skills[x]]].sum() / lam[u].sum()
                for m in range(1, n + 1):
                    pr = skip * (1 - p) ** (m - 1) * p
                    if pr <= 0:
                        break
                    nb, nbl = moved(busy, blocks, j, b, m)
                    add(s, canon(nb, nbl, idle), rate * pr)
                skip *= (1 - p) ** n
                if skip <= 0:
                    break
            if skip > 0:
                nb, nbl = moved(busy, blocks, j, None, 0)
                add(s, canon(nb, nbl, idle + (x,)), rate * skip)
    pi = _stationary(rows, cols, vals, len(states))
    p_wait, queue = np.zeros(n_types), np.zeros(n_types)
    for k, (busy, blocks, idle) in enumerate(states):
        for c in range(n_types):
            if not any(c in skills[x] for x in idle):
                p_wait[c] += pi[k]  # PASTA: an arrival finds no compatible idle server
        for b, n in enumerate(blocks):
            if n:
                u = free_types(list(busy[b + 1:]) + list(idle))
                queue[u] += pi[k] * n * lam[u] / lam[u].sum()
    return TypeMetrics(p_wait, queue / lam, abandon_rate * queue / lam, len(states))


def multiskill_detailed(skills: Sequence[set[int]], rates: Sequence[float],
                        service_rates: Sequence[float], abandon_rate: float = 0.0,
                        rule: str = "alis", limit: int = 6) -> TypeMetrics:
    """The same system with every waiting call's type in the state (a check; small limits)."""
    n_types = len(rates)
    lam = np.asarray(rates, dtype=float)
    start = ((), (), tuple(range(len(skills))))
    index, states, todo = {start: 0}, [start], deque([start])
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []

    def add(s: tuple, t: tuple, rate: float) -> None:
        if rule == "random":
            t = (t[0], t[1], tuple(sorted(t[2])))
        if t not in index:
            index[t] = len(states)
            states.append(t)
            todo.append(t)
        rows.append(index[s])
        cols.append(index[t])
        vals.append(rate)

    while todo:
        s = todo.popleft()
        busy, queue, idle = s
        for c in range(n_types):
            comp = [x for x in idle if c in skills[x]]
            if comp:
                picks = ([(comp[0], 1.0)] if rule == "alis"
                         else [(x, 1.0 / len(comp)) for x in comp])
                for x, p in picks:
                    add(s, (tuple(sorted((*busy, x))), queue,
                            tuple(y for y in idle if y != x)), lam[c] * p)
            elif len(queue) < limit:
                add(s, (busy, (*queue, c), idle), lam[c])
        if abandon_rate > 0:
            for k in range(len(queue)):
                add(s, (busy, queue[:k] + queue[k + 1:], idle), abandon_rate)
        for x in busy:
            k = next((k for k, c in enumerate(queue) if c in skills[x]), None)
            if k is not None:
                add(s, (busy, queue[:k] + queue[k + 1:], idle), service_rates[x])
            else:
                add(s, (tuple(y for y in busy if y != x), queue, (*idle, x)),
                    service_rates[x])
    pi = _stationary(rows, cols, vals, len(states))
    p_wait, qlen = np.zeros(n_types), np.zeros(n_types)
    for k, (_, queue, idle) in enumerate(states):
        for c in range(n_types):
            if not any(c in skills[x] for x in idle):
                p_wait[c] += pi[k]
            qlen[c] += pi[k] * queue.count(c)
    return TypeMetrics(p_wait, qlen / lam, abandon_rate * qlen / lam, len(states))
