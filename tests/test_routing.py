"""The router alone, call by call, and a second routing policy plugged into a whole run."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.routing import FifoLongestIdle, Routable, build_router
from sim.model import simulate
from sim.scenario import scenario_from_dict
from tests.conftest import small_dict


class Deadlines:
    """Hand-made per-call records: only the deadlines a router reads."""

    def __init__(self, deadline: list[float]) -> None:
        self.deadline = deadline


class Probe:
    """An agent as the router sees it, writing down every call it is handed and how."""

    def __init__(self, index: int, trace: list[tuple[str, int, int]]) -> None:
        self.index = index
        self.trace = trace

    def offer(self, item: int) -> None:
        """An idle agent is given a call."""
        self.trace.append(("offer", self.index, item))

    def call_out(self, item: int) -> None:
        """An agent in open ACW is given a call."""
        self.trace.append(("call_out", self.index, item))


def setup(deadline: list[float], n_agents: int = 3, acw_callout: bool = False):
    """A FIFO router bound to hand-made deadlines, some probe agents and their trace."""
    router = FifoLongestIdle(acw_callout=acw_callout)
    router.bind(Deadlines(deadline))
    trace: list[tuple[str, int, int]] = []
    return router, [Probe(k, trace) for k in range(n_agents)], trace


def test_a_call_goes_to_the_agent_idle_longest():
    """Agents idle in the order 2, 0, 1 get arriving calls in that order; then calls wait."""
    router, (a0, a1, a2), trace = setup([100.0] * 5)
    for agent in (a2, a0, a1):
        router.idle(agent)
    for i in range(4):
        router.arrive(i)
    assert trace == [("offer", 2, 0), ("offer", 0, 1), ("offer", 1, 2)]
    assert router.waiting(0.0) == 1
    assert router.next_call(a2, 0.0) == 3


def test_an_agent_takes_the_call_that_waited_longest():
    """With nobody idle, calls queue and are taken first in, first out."""
    router, (a0, a1, _), trace = setup([100.0] * 3)
    for i in (0, 1, 2):
        router.arrive(i)
    assert trace == []
    assert [router.next_call(a1, 1.0), router.next_call(a0, 2.0),
            router.next_call(a1, 3.0), router.next_call(a0, 4.0)] == [0, 1, 2, None]


def test_a_call_past_its_deadline_is_skipped_when_an_agent_looks():
    """Calls whose caller hung up by now (deadline <= now) are dropped, the rest kept in order."""
    router, (a0, _, _), _ = setup([5.0, 12.0, 20.0, 8.0, 30.0])
    for i in range(5):
        router.arrive(i)
    assert router.waiting(12.0) == 2  # calls 0, 1 (at its deadline) and 3 have hung up
    assert router.next_call(a0, 12.0) == 2
    assert router.next_call(a0, 12.0) == 4  # 3 was behind 2 and has hung up as well
    assert router.next_call(a0, 12.0) is None


def test_an_agent_leaving_idle_gets_no_call():
    """An agent that leaves the router (an activity, its shift end) is passed over."""
    router, (a0, a1, _), trace = setup([100.0] * 2)
    router.idle(a0)
    router.idle(a1)
    router.leave_idle(a0)
    router.arrive(0)
    router.arrive(1)
    assert trace == [("offer", 1, 0)]
    assert router.waiting(0.0) == 1


@pytest.mark.parametrize("allowed", [True, False])
def test_call_out_from_acw_only_when_allowed(allowed):
    """With nobody idle, a call takes the agent longest in open ACW, but only if allowed."""
    router, (a0, a1, a2), trace = setup([100.0] * 4, acw_callout=allowed)
    router.acw_open(a1)
    router.acw_open(a0)
    router.acw_open(a2)
    router.acw_close(a0)  # e.g. a planned activity came due: not called out
    router.idle(a0)
    router.arrive(0)  # an idle agent first, whatever the ACW rule
    router.arrive(1)
    router.arrive(2)
    router.arrive(3)
    if allowed:
        assert trace == [("offer", 0, 0), ("call_out", 1, 1), ("call_out", 2, 2)]
        assert router.waiting(0.0) == 1
    else:
        assert trace == [("offer", 0, 0)]
        assert router.waiting(0.0) == 3


def test_closing_empties_the_queue():
    """At closing the calls still waiting are returned in order; the hung-up ones are not."""
    router, (a0, _, _), _ = setup([5.0, 50.0, 9.0, 60.0])
    for i in range(4):
        router.arrive(i)
    assert router.close(10.0) == [1, 3]
    assert router.waiting(10.0) == 0
    assert router.next_call(a0, 10.0) is None


def test_the_scenario_sets_the_acw_rule():
    """build_router reads calls.acw_callout from the scenario."""
    for allowed in (True, False):
        s = scenario_from_dict(small_dict(calls={"acw_callout": allowed}))
        assert build_router(s).acw_callout is allowed


class NewestFirst:
    """A second policy, written against the protocol alone: newest call, last idle agent."""

    def __init__(self) -> None:
        self.acw_callout = False
        self.queue: list[int] = []
        self.ready: list[Routable] = []
        self.deadline: list[float] = []
        self.arrived = 0

    def bind(self, calls):
        """Read the deadlines."""
        self.deadline = calls.deadline

    def arrive(self, i):
        """The agent that became idle last takes the call, else it waits."""
        self.arrived += 1
        if self.ready:
            self.ready.pop().offer(i)
        else:
            self.queue.append(i)

    def next_call(self, agent, now):
        """The newest call whose caller is still there (the others stay until they expire)."""
        while self.queue:
            i = self.queue.pop()
            if self.deadline[i] > now:
                return i
        return None

    def idle(self, agent):
        """Wait for a call."""
        self.ready.append(agent)

    def leave_idle(self, agent):
        """Stop waiting."""
        self.ready.remove(agent)

    def acw_open(self, agent):
        """Never calls out of ACW."""

    def acw_close(self, agent):
        """Nothing to undo."""

    def close(self, now):
        """Every call still waiting, then none."""
        out = [i for i in self.queue if self.deadline[i] > now]
        self.queue = []
        return out

    def waiting(self, now):
        """Calls still waiting."""
        return sum(1 for i in self.queue if self.deadline[i] > now)


def test_a_second_policy_plugs_in_and_conserves_calls():
    """A LIFO policy runs a whole day through the same agents; every call ends exactly once."""
    s = scenario_from_dict(small_dict(
        calls={"patience": {"distribution": "exponential", "mean_s": 120}},
        demand={"calls_per_day": 500, "profile": [1, 2, 2, 1], "busyness_cv": 0.1}))
    policy = NewestFirst()
    lifo = simulate(s, seed=3, router=policy)
    fifo = simulate(s, seed=3)
    c, f = lifo.calls, fifo.calls
    assert policy.arrived == len(c) == len(f)
    assert (c["arrival_s"].to_numpy() == f["arrival_s"].to_numpy()).all()  # same calls
    k = lifo.kpis
    assert k["answered"] + k["abandoned"] + k["closed"] == k["offered"]
    answered = c["outcome"] == "answered"
    assert (c.loc[answered, "agent"] >= 0).all() and (c.loc[~answered, "agent"] == -1).all()
    talk = lifo.statuses[lifo.statuses["status"] == "Talk"]
    assert len(talk) == answered.sum()  # one Talk spell per answered call, and no other
    assert set(zip(talk["agent"], talk["start_s"], strict=True)) == set(
        zip(c.loc[answered, "agent"], c.loc[answered, "answered_s"], strict=True))
    assert (c["wait_s"] >= 0).all()
    gone = c["outcome"] == "abandoned"
    assert gone.any()
    assert np.allclose(c.loc[gone, "wait_s"], c.loc[gone, "patience_s"], rtol=0, atol=1e-6)
    # the policy decided: FIFO answers in order of arrival, LIFO overtakes
    assert (np.diff(f.loc[f["outcome"] == "answered", "answered_s"].to_numpy()) >= 0).all()
    assert (np.diff(c.loc[answered, "answered_s"].to_numpy()) < 0).any()
