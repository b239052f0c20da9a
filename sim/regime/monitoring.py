"""Monitoring: which calls are recorded, and the calls scored after each day (recorded or live).

A ``recorded_share`` of calls is recorded (first calls from one draw, each repeat call
from a uniform keyed by its index, so that repeats leave first calls' draws alone). After
each day the leader scores some of each agent's calls of the day: a Poisson number of
recorded calls (``evaluations_per_agent_month``) and of calls heard live
(``listen_in_per_agent_month``; all of them when nothing is recorded). A call repeated or
released early scores lower, with the evaluator's noise. Under punitive feedback a score
under the quality target is a breach counted toward a talk; under developmental feedback
a score the leader may discuss gives a feedback talk at the agent's next log-in. A
listen-in may be discussed whatever the level (the leader was there); recorded scores
under team level go into team figures only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine.status import Status
from sim.engine.streams import Streams
from sim.regime.supervisor import Supervisor
from sim.scenario import DAY_S, Scenario

if TYPE_CHECKING:
    from sim.engine.centre import Centre


#: repeat calls' "recorded?" uniforms come in blocks of 2**_BITS consecutive call indices
_BITS = 12


class Monitoring:
    """Recording and scored evaluations of one run."""

    def __init__(self, scenario: Scenario, streams: Streams, supervisor: Supervisor) -> None:
        mon = scenario.monitoring
        self.config = mon
        per_month = scenario.schedule.days_per_year / 12  # working days in a month
        self.eval_rate = mon.evaluations_per_agent_month / per_month
        self.listen_rate = mon.listen_in_per_agent_month / per_month
        self.quality = scenario.targets.quality
        self.feedback_s = scenario.supervisor.feedback_minutes * 60
        self.streams = streams
        self.supervisor = supervisor
        self.record_u = bytearray()  # per call: recorded (its uniform below recorded_share)
        self.evals: list[tuple] = []  # (call, agent, day, kind, score)
        self._repeated: set[int] = set()  # calls repeated so far (seen by score_day)
        self._rep_pos = 0  # call indices up to here looked at for repeats
        self.days = scenario.horizon.days
        self._prefetched = False
        self._block: tuple[int, np.ndarray] = (-1, np.zeros(0))  # repeats' uniforms

    @property
    def scores(self) -> bool:
        """Whether any call is scored."""
        return self.eval_rate > 0 or self.listen_rate > 0

    def recorded(self, n_calls: int, n_first: int) -> np.ndarray:
        """Per call so far: recorded? (first calls from one draw, repeats each their own)."""
        mon = self.config
        if mon.recording == "none" or mon.recorded_share == 0:
            return np.zeros(n_calls, dtype=bool)
        return np.frombuffer(self._record_flags(n_calls, n_first), dtype=bool)[:n_calls].copy()

    def _record_flags(self, n_calls: int, n_first: int) -> bytearray:
        """Recorded? per call (1/0), drawn up to ``n_calls``.

        First calls from one draw; repeats, keyed by their index, from blocks of 4,096
        consecutive indices, a generator each (``rng("monitoring", 2, block)``): a uniform
        per index, the same whenever it is asked for.
        """
        u, share = self.record_u, self.config.recorded_share
        if not u:
            u += (self.streams.rng("monitoring", 0).random(n_first) < share).tobytes()
        while len(u) < n_calls:
            j = len(u)
            b, lo = j >> _BITS, j & ((1 << _BITS) - 1)
            if self._block[0] != b:  # a block is drawn once (reviews take a part each)
                self._block = (b, self.streams.rng("monitoring", 2, b).random(1 << _BITS))
            u += (self._block[1][lo:lo + n_calls - j] < share).tobytes()
        return u

    def table(self) -> pd.DataFrame:
        """One row per call scored: call, agent, day, kind (recorded or listen_in), score."""
        return evaluations_frame(self.evals)

    def score_day(self, centre: Centre, day: int, now: float) -> None:
        """Score some of each agent's calls of the day (recorded, or heard live)."""
        mon, sup = self.config, self.supervisor
        act, punitive = sup.log.act, sup.punitive
        at_all, by_all = centre.answered_at, centre.answered_by
        lo, hi = day * DAY_S, (day + 1) * DAY_S
        # the calls answered since the last review (each answered once), today's of them,
        # each agent's in call order (agents in order): lists, not an array filtered per agent
        new, centre.answered = centre.answered, []
        mine_of: dict[int, list[int]] = {}
        for i in sorted([i for i in new if lo <= at_all[i] < hi]):
            mine_of.setdefault(by_all[i], []).append(i)
        # recorded? per call (the draws up to the calls so far made, as ever once a review)
        flags = (self._record_flags(len(at_all), centre.n_first)
                 if mon.recording != "none" and mon.recorded_share != 0 else None)
        # the calls repeated since the last review
        for j in range(max(self._rep_pos, centre.n_first), len(at_all)):
            if j in centre.repeat_of:
                self._repeated.add(centre.repeat_of[j])
        self._rep_pos = len(at_all)
        released, repeated = centre.released, self._repeated
        sd, clip = mon.evaluator_noise_sd, _clip01
        if not self._prefetched:  # every agent's scoring stream hashed at once
            self._prefetched = True
            self.streams.prefetch("supervisor", [(1, k) for k in range(len(sup.policies))],
                                  self.days)
        for agent in sorted(mine_of):
            mine = mine_of[agent]
            rng = self.streams.fast("supervisor", 1, agent, day)
            n_eval, n_listen = rng.poisson(self.eval_rate), rng.poisson(self.listen_rate)
            pool = [i for i in mine if flags[i]] if flags is not None else []
            # permutations of arrays of the same lengths: the same draws as ever
            chosen = [(int(i), "recorded")
                      for i in rng.permutation(np.array(pool, dtype=np.intp))[:n_eval]]
            heard = n_listen + (n_eval - len(chosen) if mon.recording == "none" else 0)
            taken = {i for i, _ in chosen}
            rest = np.array([i for i in mine if i not in taken], dtype=np.intp)
            chosen += [(int(i), "listen_in") for i in rng.permutation(rest)[:heard]]
            for i, kind in chosen:
                quality = (mon.score_unresolved if i in repeated or i in released
                           else mon.score_resolved)
                score = clip(quality + rng.normal(0, sd))
                self.evals.append((i, agent, day, kind, score))
                act(agent, day, now, "supervisor", "evaluation", kind, f"score {score:.2f}")
                live_talk = kind == "listen_in" and not punitive
                if not (sup.visible(agent, day) or live_talk):
                    continue  # team level: the score goes into the team's figures only
                pol = sup.policies[agent]
                if punitive:
                    if self.quality is not None and score < self.quality:
                        pol.breaches.add(now, "quality")
                        act(agent, day, now, "supervisor", "quality_breach", kind,
                            f"score {score:.2f} < {self.quality:.2f}")
                elif self.feedback_s > 0:
                    act(agent, day, now, "supervisor", "feedback", kind, f"score {score:.2f}")
                    pol.give_later(Status.NOT_READY_TRAINING, self.feedback_s, "feedback")


def _clip01(x: float) -> float:
    """``float(np.clip(x, 0, 1))`` for a float, without numpy's call (once per score)."""
    return x if 0.0 <= x <= 1.0 else (0.0 if x < 0.0 else 1.0)


def evaluations_frame(rows: list[tuple]) -> pd.DataFrame:
    """The evaluations table's columns and types."""
    out = pd.DataFrame(rows, columns=["call", "agent", "day", "kind", "score"])
    return out.astype({"call": np.int64, "agent": np.int64, "day": np.int64,
                       "kind": str, "score": float})
