"""Several call types and agent groups: call typing and the skill-based router.

:func:`type_calls` gives every call of a run its type (from a stream of its own, only when
there are several types) and scales its talk, ACW and patience to its type's means; the
draws of a scenario without call types are never touched. :class:`SkillRouter` is the
routing policy for several queues (one FIFO queue per type) and agent groups with skills,
as data (``[routing]``, ``[agent_groups]``):

- which waiting call a free agent takes: the longest waiting among the types its group
  answers (FCFS across queues), or the highest type priority first;
- which idle agent an arriving call gets: the compatible agent idle longest, one at
  random, one of the fastest group (lowest skill level), or of the highest-priority group;
- delay-based overflow: a group takes a type only once the call has waited its
  ``overflow_after_s`` (an event at that moment offers the call to its idle agents);
- reserved agents: a call of another type takes an agent of a group only while more than
  the other types' reserves are idle (trunk reservation);
- a skill level multiplies the talk and ACW of the calls the group answers (applied when
  the call is paired with the agent, so the calls table shows handling as worked).

The router knows agents only by index (their group is looked up); agents never see a queue.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.engine.demand import sample_duration
from sim.engine.schedule import roster
from sim.engine.status import Status
from sim.scenario import DAY_S

if TYPE_CHECKING:
    from sim.engine.demand import DayCalls
    from sim.engine.streams import Streams
    from sim.scenario import Scenario

#: spawn index of the call-type stream: past any index of ``sim.engine.streams.STREAMS``,
#: so the named streams (and every run without call types) are untouched
TYPE_STREAM = 1000
#: the key of the routing policy's own draws (random agent, types of carried repeats)
_ROUTING_KEY = 10**9


@dataclass
class Typing:
    """The call types of a run: names, each first call's type, per-type time multipliers."""

    names: tuple[str, ...]
    #: type of each first call (repeats are appended by the centre)
    type: np.ndarray
    #: per type: multipliers of talk, ACW and patience (the type's mean over the calls one)
    scale: np.ndarray
    #: per type: the chance a call is of that type (for calls whose origin is unknown)
    share: np.ndarray
    #: the routing policy's own generator (random assignment, carried repeats)
    rng: np.random.Generator
    #: written work: arrival, handle time and type of each item, in order of arrival
    written: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __post_init__(self) -> None:
        #: ``scale`` as Python floats, a tuple per type: a repeat call's times are scaled
        #: by one (numpy's row and item indexing cost about 1.5 us a repeat)
        self.scale_rows: list[tuple[float, ...]] = [tuple(r) for r in self.scale.tolist()]
        cdf = self.share.cumsum()
        cdf /= cdf[-1]  # as numpy's choice normalises p
        self._cdf: list[float] = cdf.tolist()

    def carried_type(self) -> int:
        """A type drawn by the shares (a carried repeat's): ``rng.choice(n, p=share)``.

        The same cumulative shares, uniform and search as numpy's ``choice`` (so the same
        draws), without its checks of ``p``: 1 us against 35 us, a few thousand times a run.
        """
        return bisect_right(self._cdf, self.rng.random())


def _ratio(mean: float | None, base: float) -> float:
    return 1.0 if mean is None or base == 0 else mean / base


def type_calls(scenario: Scenario, streams: Streams, days: list[DayCalls]) -> Typing | None:
    """Each call's type, its talk, ACW and patience scaled in place; None without types.

    A call arriving in interval j is of type t with chance proportional to ``share_t``
    times type t's profile weight in j (each profile normalised to mean 1): an independent
    thinning of the day's Poisson arrivals, so each type's arrivals are Poisson too.
    """
    types = scenario.call_types
    if not types:
        return None
    calls, h = scenario.calls, scenario.horizon
    names = tuple(types)
    several = sum(t.kind == "phone" for t in types.values()) > 1
    n_int = h.intervals_per_day
    weight = np.empty((n_int, len(names)))
    for k, t in enumerate(types.values()):
        w = np.ones(n_int) if t.profile is None else np.asarray(t.profile, dtype=float)
        phone = t.kind == "phone"  # written work is not among the demand's calls
        weight[:, k] = phone * t.share * w * (n_int / w.sum() if w.sum() > 0 else 0.0)
    cum = np.cumsum(weight, axis=1)
    cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
    scale = np.array([[_ratio(t.talk_mean_s, calls.talk.mean_s),
                       _ratio(t.acw_mean_s, calls.acw.mean_s),
                       _ratio(t.patience_mean_s, calls.patience.mean_s)]
                      for t in types.values()])
    seed = [streams.seed, streams.replication]
    out = []
    for d in days:
        n = len(d)
        if not several:
            kind = np.full(n, next(k for k, t in enumerate(types.values())
                                   if t.kind == "phone"), dtype=np.int64)
        else:
            rng = np.random.default_rng(np.random.SeedSequence(seed,
                                                               spawn_key=(TYPE_STREAM, d.day)))
            since = d.arrival - d.day * DAY_S - h.open
            j = np.clip((since // h.interval_s).astype(np.int64), 0, n_int - 1)
            u = rng.random(n)
            kind = (u[:, None] >= cum[j]).sum(axis=1)
            kind = np.minimum(kind, len(names) - 1)
        for col, arr in enumerate((d.talk, d.acw, d.patience)):
            f = scale[kind, col]
            if (f != 1.0).any():
                arr *= f
        out.append(kind)
    share = np.array([t.share * (t.kind == "phone") for t in types.values()], dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(seed,
                                                       spawn_key=(TYPE_STREAM, _ROUTING_KEY)))
    return Typing(names, np.concatenate(out) if out else np.zeros(0, np.int64), scale,
                  share / share.sum(), rng, written_items(scenario, streams.seed,
                                                          streams.replication))


def written_items(scenario: Scenario, seed: int, replication: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Written work of every day: (arrival, handle time, type index), by arrival; or None.

    Per written type and day a Poisson number of items (``per_day``), spread over the
    opening hours by the type's profile, each handle time a draw of ``calls.talk``'s family
    scaled to the type's mean; from streams of their own, keyed by day and type.
    """
    types, h, calls = scenario.call_types, scenario.horizon, scenario.calls
    if not any(t.kind == "written" for t in types.values()):
        return None
    n_int = h.intervals_per_day
    parts = []
    for k, t in enumerate(types.values()):
        if t.kind != "written":
            continue
        w = np.ones(n_int) if t.profile is None else np.asarray(t.profile, dtype=float)
        for day in range(h.days):
            rng = np.random.default_rng(np.random.SeedSequence(
                [seed, replication], spawn_key=(TYPE_STREAM, day, 1 + k)))
            counts = rng.poisson(t.per_day * w / w.sum())
            start = day * DAY_S + h.open + h.interval_s * np.arange(n_int)
            arrival = np.repeat(start, counts) + rng.uniform(0.0, h.interval_s, counts.sum())
            base = calls.talk if calls.talk.mean_s > 0 else calls.acw
            mean = t.talk_mean_s if t.talk_mean_s is not None else base.mean_s
            handle = sample_duration(rng, base, len(arrival)) * (mean / base.mean_s)
            parts.append((arrival, handle, np.full(len(arrival), k, dtype=np.int64)))
    arrival, handle, kind = (np.concatenate([p[i] for p in parts]) for i in range(3))
    order = np.argsort(arrival, kind="stable")
    return arrival[order], handle[order], kind[order]


class Routable(Protocol):
    """An agent as the router sees it.

    :class:`sim.engine.routing.Routable`, restated: that module builds this router.
    """

    index: int

    def offer(self, item: int) -> None:
        """Give this idle agent call ``item``."""

    def call_out(self, item: int) -> None:
        """Give this agent, in open ACW, call ``item``."""


class SkillRouter:
    """Several queues and agent groups with skills (see the module docstring)."""

    def __init__(self, *, group_of: list[int], serves: list[list[tuple[int, float]]],
                 level: list[list[float]], reserve: list[list[int]],
                 type_priority: list[int], group_priority: list[int],
                 calls: str = "longest_waiting", agents: str = "longest_idle",
                 acw_callout: bool = False, rng: np.random.Generator | None = None,
                 written: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                 names: tuple[str, ...] = (), phones_at: list[int | None] | None = None
                 ) -> None:
        """The groups, skills and policies (:func:`skill_router` builds them from a scenario).

        Per agent its group; per group the types it answers with their overflow delays,
        its skill level and reserve per type; the two policies (``[routing]``).
        """
        self.acw_callout = acw_callout
        self.group_of = group_of
        n_groups = len(serves)
        n_types = len(type_priority)
        self.n_types = n_types
        #: per group: (type, delay) it answers; per type: (group, delay) answering it
        self.serves = serves
        self.answered_by: list[list[tuple[int, float]]] = [[] for _ in range(n_types)]
        for g, pairs in enumerate(serves):
            for t, delay in pairs:
                self.answered_by[t].append((g, delay))
        self.level = level
        self.reserve = reserve
        self.reserve_total = [sum(r) for r in reserve]
        self.reserving = any(self.reserve_total)
        self.type_priority = type_priority
        self.by_priority = calls == "priority"
        self.agent_rule = agents
        # per type: tiers of groups taking a new call at once (delay 0), best tier first
        self.tiers: list[list[list[int]]] = []
        for t in range(n_types):
            now = [g for g, d in self.answered_by[t] if d == 0]
            if agents == "fastest":
                keys = sorted({level[g][t] for g in now})
                tiers = [[g for g in now if level[g][t] == k] for k in keys]
            elif agents == "priority":
                keys = sorted({group_priority[g] for g in now}, reverse=True)
                tiers = [[g for g in now if group_priority[g] == k] for k in keys]
            else:
                tiers = [now] if now else []
            self.tiers.append(tiers)
        #: per type: the distinct overflow delays (> 0) after which more groups may take it
        self.delays = [sorted({d for _, d in self.answered_by[t] if d > 0})
                       for t in range(n_types)]
        #: per type: (delay, its overflow event's callback), the callback bound to the groups
        #: that take the type once a call has waited that long: the event knows its delay
        #: (the wait read off the clock is off by an ulp of the time, 1e-9 s from day 97 on,
        #: the tolerance it was compared with), and no list is made per event
        self._overflows = [[(d, partial(self._overflow, t, [g for g, dd in self.answered_by[t]
                                                            if dd <= d]))
                            for d in self.delays[t]] for t in range(n_types)]
        #: the common policy on the hot path, without a frame per tier and pool (arrive,
        #: next_call): longest idle agent, no reserves; and whether any skill level scales
        #: handling (else pairing changes nothing and is not called)
        self._longest_idle = agents == "longest_idle" and not self.reserving
        self._scales = any(x != 1.0 for row in level for x in row)
        if not self.by_priority and not self.reserving and not any(
                a is not None for a in (phones_at or ())):
            # nothing for next_call to check first: agents ask _longest_waiting itself (one
            # frame less at each of about as many asks as calls)
            self.next_call = self._longest_waiting
        self.queues: list[deque[int]] = [deque() for _ in range(n_types)]
        #: idle agents per group -> when they became idle (a sequence number), oldest first
        self.ready: list[dict[Routable, int]] = [{} for _ in range(n_groups)]
        self.in_acw: list[dict[Routable, int]] = [{} for _ in range(n_groups)]
        self._seq = 0
        #: calls taken out of the middle of a queue by an overflow event (skipped later)
        self.gone: set[int] = set()
        #: with overflow delays: the calls still in a queue (an overflow event's check)
        self.queued: set[int] | None = set() if any(self.delays) else None
        self.rng = rng if rng is not None else np.random.default_rng(0)
        # written work (a deferrable queue): items by arrival, a backlog per written type,
        # the written types each group works; an item is started as an imposed activity
        self.written = written
        self.names = names
        is_written = set(np.unique(written[2]).tolist()) if written is not None else set()
        self.works = [[t for t, _ in pairs if t in is_written] for pairs in serves]
        self.backlog: list[deque[int]] = [deque() for _ in range(n_types)]
        #: per group: with written work waiting, take phone calls only from this many waiting
        self.phones_at = phones_at or [None] * n_groups
        self._written_started = False
        #: per item: when an agent started it (NaN: not yet)
        self.written_start = (np.full(len(written[0]), np.nan) if written is not None
                              else np.zeros(0))
        #: items of this run's own draws (indices below); carried ones (:meth:`carry_written`)
        #: come after them
        self.n_own = len(self.written_start)
        self.deadline: list[float] = []
        self.arrival: list[float] = []
        self.talk: list[float] = []
        self.acw: list[float] = []
        self.types: list[int] = []
        self.env: Any = None
        self._call_in: Any = None

    # ------------------------------------------------------------------ binding

    def bind(self, calls: Any) -> None:
        """Read the per-call lists (the same list objects: repeats appended are seen).

        With written work, the first binding to a clock starts the items' arrivals.
        """
        self.deadline = calls.deadline
        self.arrival = getattr(calls, "arrival", [])
        self.talk = getattr(calls, "talk", [])
        self.acw = getattr(calls, "acw", [])
        types = getattr(calls, "types", None)  # the list itself, even while empty
        self.types = types if types is not None else []
        self.env = getattr(calls, "env", None)
        # ccsim's loop calls back without an event (sim.engine.loop.Environment.call_in: the
        # same place in the queue as the timeout); a plain SimPy clock through a timeout
        self._call_in = getattr(self.env, "call_in", None)
        if self.written is not None and self.env is not None and not self._written_started:
            self._written_started = True
            self.env.process(self._written_arrivals())

    # ------------------------------------------------------------------ written work

    def _written_arrivals(self) -> Any:
        """SimPy process: each written item arrives in its backlog; an idle agent may start it."""
        env = self.env
        arrival, _, kind = self.written
        for k, t in enumerate(arrival[:self.n_own].tolist()):  # carried ones are in already
            yield env.timeout(max(0.0, t - env.now))
            w = int(kind[k])
            self.backlog[w].append(k)
            groups = [g for g, works in enumerate(self.works) if w in works]
            got = self._pick(self.ready, groups, w)
            if got is not None:
                self._start_written(got[0], got[1])

    def _start_written(self, agent: Any, g: int) -> None:
        """``agent`` (idle, of group ``g``) starts the oldest written item its group works."""
        heads = [(self.written[0][self.backlog[w][0]], w) for w in self.works[g]
                 if self.backlog[w]]
        if not heads:
            return
        _, w = min(heads)
        k = self.backlog[w].popleft()
        length = float(self.written[1][k]) * self.level[g][w]
        reason = (f"written {self.names[w]} #{k}" if k < self.n_own else
                  f"written {self.names[w]} carried #{k - self.n_own} arrived "
                  f"{float(self.written[0][k]):.3f}")
        # off the phones for the item's length: the agent's own mechanism for activities
        # imposed at run time (it leaves the router, works the status, comes back)
        if agent.impose(int(Status.NOT_READY_DEFERRED_TRANSACTION), length, reason):
            self.written_start[k] = self.env.now
        else:
            self.backlog[w].appendleft(k)

    def carry_written(self, items: list[tuple[float, float, str]]) -> int:
        """Put items left from before this run (a warm-up) at the head of their backlogs.

        ``items``: (arrival on this run's clock, < 0; handle time at level 1; type name),
        oldest first. They are worked like this run's own items (first in, first out: they
        arrived before any of them) and named ``written TYPE carried #j arrived T`` in the
        ``imposed`` table. Items of a type this scenario has no written work of are
        dropped. Returns how many were carried.
        """
        if self.written is None:
            return 0
        index = {n: k for k, n in enumerate(self.names)}
        kept = [(a, h, index[n]) for a, h, n in items
                if n in index and any(index[n] in w for w in self.works)]
        if not kept:
            return 0
        arrival, handle, kind = self.written
        base = len(arrival)
        add = np.array(kept, dtype=float).T
        self.written = (np.r_[arrival, add[0]], np.r_[handle, add[1]],
                        np.r_[kind, add[2].astype(np.int64)])
        self.written_start = np.r_[self.written_start, np.full(len(kept), np.nan)]
        for j, (_, _, w) in enumerate(kept):
            self.backlog[w].append(base + j)
        return len(kept)

    def written_left(self) -> list[tuple[float, float, str]]:
        """Items not started yet: (arrival, handle time at level 1, type name), oldest first.

        What a warm-up leaves to the measured days (:mod:`sim.start`); an item under way is
        finished by its agent before the run ends.
        """
        if self.written is None:
            return []
        arrival, handle, _ = self.written
        return sorted((float(arrival[k]), float(handle[k]), self.names[w])
                      for w, q in enumerate(self.backlog) for k in q)

    # ------------------------------------------------------------------ agents

    def idle(self, agent: Routable) -> None:
        """``agent`` waits for a call (the newest idle of its group), or starts written work.

        It is idle because no phone call it could take is waiting; its group's written
        backlog comes next.
        """
        self._seq += 1
        g = self.group_of[agent.index]
        self.ready[g][agent] = self._seq
        works = self.works[g]
        if not works:
            return
        backlog = self.backlog
        for w in works:  # any written item waiting (a loop: no generator frame per idle)
            if backlog[w]:
                break
        else:
            return
        if not self.reserving or self._allowed(g, works[0], len(self.ready[g])):
            # (written work keeps a group's reserves for their phone types, as calls do)
            self._start_written(agent, g)

    def leave_idle(self, agent: Routable) -> None:
        """``agent`` stops waiting (it was idle and not offered a call since)."""
        del self.ready[self.group_of[agent.index]][agent]

    def acw_open(self, agent: Routable) -> None:
        """``agent``'s ACW may be cut short by a call (only with ACW call-out)."""
        if self.acw_callout:
            self._seq += 1
            self.in_acw[self.group_of[agent.index]][agent] = self._seq

    def acw_close(self, agent: Routable) -> None:
        """``agent``'s ACW may no longer be cut short."""
        if self.acw_callout:
            del self.in_acw[self.group_of[agent.index]][agent]

    # ------------------------------------------------------------------ pairing

    def _pair(self, i: int, g: int, t: int) -> None:
        """The call is answered by group ``g``: its handling at the group's skill level."""
        lvl = self.level[g][t]
        if lvl != 1.0:
            self.talk[i] *= lvl
            self.acw[i] *= lvl

    def _allowed(self, g: int, t: int, free: int) -> bool:
        """Whether a call of type ``t`` may take an agent of ``g`` with ``free`` of them idle."""
        return free > self.reserve_total[g] - self.reserve[g][t]

    def _pick(self, pool: list[dict[Routable, int]], groups: list[int], t: int
              ) -> tuple[Routable, int] | None:
        """An idle (or in-ACW) agent of ``groups`` for a call of type ``t``, by the rule."""
        reserving = self.reserving
        ok = [g for g in groups if pool[g] and (not reserving or self._allowed(g, t, len(pool[g])))]
        if not ok:
            return None
        if self.agent_rule == "random":
            sizes = [len(pool[g]) for g in ok]
            k = int(self.rng.integers(sum(sizes)))
            for g, n in zip(ok, sizes, strict=True):
                if k < n:
                    return next(islice(iter(pool[g]), k, None)), g
                k -= n
        best, best_g, best_seq = None, -1, math.inf
        for g in ok:
            agent, seq = next(iter(pool[g].items()))
            if seq < best_seq:
                best, best_g, best_seq = agent, g, seq
        return best, best_g

    def _offer(self, i: int, groups_by_tier: list[list[int]], t: int,
               acw_only: bool = False) -> bool:
        """Give call ``i`` to an idle agent (else one in open ACW) of the tiers; False: none.

        ``acw_only``: the idle ones were looked at already (:meth:`arrive`'s fast path).
        """
        for pool, ready in ((self.ready, True), (self.in_acw, False)):
            if ready and acw_only:
                continue
            if not ready and not self.acw_callout:
                break
            for tier in groups_by_tier:
                got = self._pick(pool, tier, t)
                if got is not None:
                    agent, g = got
                    del pool[g][agent]
                    self._pair(i, g, t)
                    if ready:
                        agent.offer(i)
                    else:
                        agent.call_out(i)
                    return True
        return False

    def _give_idle(self, i: int, groups: list[int], t: int) -> bool:
        """Offer call ``i`` to the agent idle longest in ``groups``; False: none is idle.

        :meth:`_offer`'s ready pool under the common policy (longest idle, no reserves)
        written out, without :meth:`_pick`'s list and frames: the lowest sequence number
        among each group's oldest idle agent (the first of its dict).
        """
        ready = self.ready
        best, best_g, best_seq = None, -1, math.inf
        for g in groups:
            for agent, seq in ready[g].items():  # the group's oldest idle agent
                if seq < best_seq:
                    best, best_g, best_seq = agent, g, seq
                break
        if best is None:
            return False
        del ready[best_g][best]
        if self._scales:
            self._pair(i, best_g, t)
        best.offer(i)
        return True

    def arrive(self, i: int) -> None:
        """Call ``i`` goes to an agent by the rule, else waits in its type's queue."""
        t = self.types[i]
        if self._longest_idle:
            for tier in self.tiers[t]:
                if self._give_idle(i, tier, t):
                    return
            if self.acw_callout and self._offer(i, self.tiers[t], t, acw_only=True):
                return
        elif self._offer(i, self.tiers[t], t):
            return
        self.queues[t].append(i)
        if self.queued is not None:
            self.queued.add(i)
        if self.delays[t] and self.env is not None:
            call_in = self._call_in
            for d, overflow in self._overflows[t]:
                if call_in is not None:
                    call_in(d, overflow, i)
                else:
                    self.env.timeout(d, i).callbacks.append(overflow)

    def _overflow(self, t: int, groups: list[int], event: Any) -> None:
        """Call ``event.value`` (of type ``t``) has waited long enough for ``groups``: offer it."""
        i = event.value
        now = self.env._now  # the clock's attribute (env.now is a property: a Python call)
        # still waiting: in its queue (taken calls have left it), not taken out by an
        # earlier overflow, not hung up
        if i not in self.queued or self.deadline[i] <= now:
            return
        if self._longest_idle:
            if not (self._give_idle(i, groups, t) or (
                    self.acw_callout and self._offer(i, [groups], t, acw_only=True))):
                return
        elif not self._offer(i, [groups], t):
            return
        self.gone.add(i)
        self.queued.discard(i)

    def next_call(self, agent: Routable, now: float) -> int | None:
        """The call this agent's group takes now: longest waiting (or priority first)."""
        g = self.group_of[agent.index]
        queues, deadline, arrival, gone = self.queues, self.deadline, self.arrival, self.gone
        at = self.phones_at[g]
        if at is not None and any(self.backlog[w] for w in self.works[g]) and \
                sum(len(queues[t]) for t, _ in self.serves[g]) < at:
            return None  # scheduled on written work: not called out to the phones yet
        if not self.by_priority and not self.reserving:
            return self._longest_waiting(agent, now)
        best, best_t, best_key = None, -1, None
        free = len(self.ready[g])
        for t, delay in self.serves[g]:
            q = queues[t]
            while q:
                i = q[0]
                if i in gone:
                    q.popleft()
                    gone.discard(i)
                elif deadline[i] <= now:
                    q.popleft()  # hung up: abandoned at its deadline
                else:
                    break
            if not q:
                continue
            i = q[0]
            if delay > 0 and now - arrival[i] < delay:
                continue
            if self.reserving and not self._allowed(g, t, free + 1):
                continue
            key = ((-self.type_priority[t], arrival[i]) if self.by_priority
                   else (arrival[i],))
            if best_key is None or key < best_key:
                best, best_t, best_key = i, t, key
        if best is None:
            return None
        queues[best_t].popleft()
        if self.queued is not None:
            self.queued.discard(best)
        self._pair(best, g, best_t)
        return best

    def _longest_waiting(self, agent: Routable, now: float) -> int | None:
        """:meth:`next_call` without priorities or reserves: the longest waiting call.

        The same walk with the arrival times compared as floats (no key tuples): the
        common policy, asked after nearly every call.
        """
        g = self.group_of[agent.index]
        queues, deadline, arrival, gone = self.queues, self.deadline, self.arrival, self.gone
        best, best_t, best_at = None, -1, math.inf
        for t, delay in self.serves[g]:
            q = queues[t]
            while q:
                i = q[0]
                if i in gone:
                    q.popleft()
                    gone.discard(i)
                elif deadline[i] <= now:
                    q.popleft()  # hung up: abandoned at its deadline
                else:
                    break
            else:
                continue
            a = arrival[i]
            if delay > 0 and now - a < delay:
                continue
            if a < best_at:  # ties: the first type served, as the key tuples compared
                best, best_t, best_at = i, t, a
        if best is None:
            return None
        queues[best_t].popleft()
        if self.queued is not None:
            self.queued.discard(best)
        if self._scales:
            self._pair(best, g, best_t)
        return best

    # ------------------------------------------------------------------ queues

    def close(self, now: float) -> list[int]:
        """Empty every queue: the calls still waiting now, in order of arrival."""
        deadline, gone = self.deadline, self.gone
        out = sorted(i for q in self.queues for i in q if i not in gone and deadline[i] > now)
        for q in self.queues:
            q.clear()
        gone.clear()
        if self.queued is not None:
            self.queued.clear()
        return out

    def waiting(self, now: float) -> int:
        """Calls waiting now in all queues (O(calls waiting))."""
        deadline, gone = self.deadline, self.gone
        return sum(1 for q in self.queues for i in q if i not in gone and deadline[i] > now)


def skill_router(scenario: Scenario, typing: Typing | None) -> SkillRouter:
    """The scenario's skill-based router (``[call_types]``, ``[agent_groups]``, ``[routing]``)."""
    types = list(scenario.call_types)
    groups = scenario.agent_groups
    tindex = {t: k for k, t in enumerate(types)}
    shift_group = {s: gi for gi, g in enumerate(groups.values()) for s in g.shifts}
    group_of = [shift_group[shift] for _, shift, _ in roster(scenario)]
    serves, level, reserve = [], [], []
    for g in groups.values():
        serves.append([(tindex[t], float(g.overflow_after_s.get(t, 0.0))) for t in g.skills])
        level.append([float(g.level.get(t, 1.0)) for t in types])
        reserve.append([int(g.reserve.get(t, 0)) for t in types])
    r = scenario.routing
    return SkillRouter(
        group_of=group_of, serves=serves, level=level, reserve=reserve,
        type_priority=[t.priority for t in scenario.call_types.values()],
        group_priority=[g.priority for g in groups.values()],
        calls=r.calls, agents=r.agents, acw_callout=scenario.calls.acw_callout,
        rng=typing.rng if typing is not None else None,
        written=typing.written if typing is not None else None, names=tuple(types),
        phones_at=[g.phones_at_queue for g in groups.values()])
