"""Real-time adherence alerts: the team leader sees a breach while it happens.

A WFM real-time adherence screen compares each agent's status with the schedule as time
passes. Here nothing polls: one :class:`Tracker` per agent keeps the adherence sweep of
:mod:`sim.measure.adherence` *incrementally* for the agent-day under way. It is advanced only
when the agent's state changes kind (through the status funnel ``Agent.set_status``; a
change between Ready, Talk and After Call Work changes nothing it measures, so it costs a
comparison), and after each change it predicts, from the schedule ahead, the moment the
current exception's counted time would pass ``measurement.adherence.exception_threshold_s``
if nothing changed. One SimPy timeout waits for that moment; a change before it makes the
timeout stale (a token) and a new prediction is made. When a timeout fires and the
exception is still running with its counted time at the threshold, the breach is
**alerted** on the :class:`Screen`: at that moment, with the reason that has most counted
seconds so far, unless the rules (:mod:`sim.regime.rules`) excuse it; the screen passes the
breaches the leader can see to the supervisor, who applies the same rule engine as the
end-of-day review.

The walk mirrors :func:`sim.measure.adherence.sweep` piece by piece (the tolerance conventions,
imposed talks entered into the schedule as they start, the loss reasons), so the alerts
agree with the end-of-run exceptions table's breaches: same agent, day and moment
(``breach_s``). They can differ in two documented ways: an exception whose dominant reason
changes after the threshold was passed (the alert names the reason so far, the table the
reason of the whole exception; an excused reason so far means no alert), and a status
change at the very instant of the threshold (the table then has ``counted_s`` equal to,
not above, the threshold, so no breach). ``tests/test_realtime.py`` checks the agreement.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine.status import Status
from sim.measure.adherence import OUT, STATUS_STATE
from sim.regime.rules import Rules
from sim.scenario import DAY_S, LOSS_REASONS, SCHEDULE_STATES, Schedule

if TYPE_CHECKING:
    import simpy

    from sim.engine.agent import Agent
    from sim.engine.loop import Call
    from sim.engine.presence import Presence

#: columns of the alerts table
ALERT_COLUMNS = ("agent", "day", "time_s", "reason", "counted_s", "seen")

# kinds of spell (what the agent is doing, as the sweep tells them apart)
QUEUE, PLANNED, UNPLANNED, IMPOSED, LOGGED_OUT = range(5)
_R = {r: i for i, r in enumerate(LOSS_REASONS)}
_LOGIN, _CALL, _LATE, _EARLY, _UNPL, _OTHER = (
    _R["login_delay"], _R["call"], _R["late_return"], _R["early_return"],
    _R["unplanned_break"], _R["other"])
_EPS = 1e-9
# Agent.doing values (sim.engine.agent): what the agent is doing besides calls
_DOING_PLANNED, _DOING_UNPLANNED = 1, 2
#: a segment's start, the sort key of the spliced schedule (C, no Python frame per row)
_first = itemgetter(0)
# plain ints and a list, read at every status change (an IntEnum compare and a numpy
# index cost a Python call each)
_OFF = int(Status.LOGGED_OUT)
_STATE = [int(x) for x in STATUS_STATE]


class _Run:
    """The exception under way (a run of time out of adherence) and its counted time."""

    __slots__ = ("active", "start", "tol_first", "counted", "reasons", "decided")

    def __init__(self) -> None:
        self.active = False
        self.start = 0.0
        self.tol_first = 0.0
        self.counted = 0.0
        self.reasons = [0.0] * len(LOSS_REASONS)
        self.decided = False  # alerted, or found excused at the threshold

    def copy(self) -> _Run:
        out = _Run()
        out.active, out.start, out.tol_first = self.active, self.start, self.tol_first
        out.counted, out.reasons, out.decided = self.counted, list(self.reasons), self.decided
        return out

    def state_into(self, out: _Run) -> _Run:
        """``out`` set to this run's state but its reasons, for a walk that only looks ahead.

        A prediction (half of all walks) reads when the threshold is crossed, never the
        reasons: ``out``'s own reasons are scratch, so nothing is copied or allocated.
        """
        out.active, out.start, out.tol_first = self.active, self.start, self.tol_first
        out.counted, out.decided = self.counted, self.decided
        return out

    def end(self) -> None:
        if self.active:
            self.active = False
            self.counted = 0.0
            self.reasons = [0.0] * len(LOSS_REASONS)
            self.decided = False


class Screen:
    """The real-time adherence screen: a tracker per agent and every alert it showed.

    ``visible(agent, day)`` says whether the team leader sees the agent's numbers that
    day; ``on_breach(agent, day, now, reason, counted)`` is what the leader does with a
    breach seen (:meth:`sim.regime.supervisor.Supervisor.on_alert`).
    """

    def __init__(self, rules: Rules, schedule: Schedule, days: int,
                 visible: Callable[[int, int], bool],
                 on_breach: Callable[[Agent, int, float, str, float], None]) -> None:
        self.rules = rules
        self.tol_by = [schedule.tolerance(s) for s in SCHEDULE_STATES]
        self.days = days
        self.visible = visible
        self.on_breach = on_breach
        self.alerts: list[tuple] = []  # (agent, day, time_s, reason, counted, seen)
        self.trackers: list[Tracker] = []
        self._segs: dict[tuple[int, int], list[list]] = {}
        self._present: np.ndarray | None = None

    def start(self, env: simpy.Environment, agents: list[Agent], presence: Presence,
              segs: pd.DataFrame) -> list[Tracker]:
        """Trackers for every agent, the schedule per agent-day, a start-of-day process."""
        self._present = presence.present
        a, d = segs["agent"].to_numpy(), segs["day"].to_numpy()
        vals = zip(a.tolist(), d.tolist(), segs["start_s"].tolist(), segs["end_s"].tolist(),
                   segs["state"].tolist(), segs["row"].tolist(), strict=True)
        for k, day, s0, s1, state, row in vals:
            self._segs.setdefault((k, day), []).append([s0, s1, state, row])
        self.trackers = [Tracker(self, agent) for agent in agents]
        env.process(self._day_starts(env))
        return self.trackers

    def _day_starts(self, env: simpy.Environment) -> Generator[simpy.Event, None, None]:
        """SimPy process: at each midnight, the trackers start the day (logged out)."""
        for d in range(self.days):
            yield env.timeout(max(0.0, d * DAY_S - env.now))
            for tr in self.trackers:
                if tr.day != d and tr.agent.status == Status.LOGGED_OUT:
                    tr.start_day(d)

    def day_segments(self, agent: int, day: int) -> list[list]:
        """The agent-day's schedule segments ``[start, end, state, plan row]`` (a copy)."""
        return [list(s) for s in self._segs.get((agent, day), [])]

    def present(self, agent: int, day: int) -> bool:
        """Whether the agent works that day."""
        return bool(self._present[agent, day])

    def alert(self, agent: Agent, day: int, now: float, reason: str, counted: float) -> None:
        """A breach on the screen: logged, and acted on if the leader can see it."""
        k = agent.index
        seen = self.visible(k, day)
        self.alerts.append((k, day, now, reason, counted, seen))
        if seen:
            self.on_breach(agent, day, now, reason, counted)


def alerts_frame(rows: list[tuple]) -> pd.DataFrame:
    """Every breach the real-time screen showed (``seen``: the leader could see it)."""
    out = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    return out.astype({"agent": np.int64, "day": np.int64, "time_s": float,
                       "reason": str, "counted_s": float, "seen": bool})


class Tracker:
    """One agent's real-time adherence, advanced at its changes of state (see module doc)."""

    def __init__(self, screen: Screen, agent: Agent) -> None:
        self.screen = screen
        self.agent = agent
        self.tol_by = screen.tol_by
        self.after_change = screen.rules.convention == "after_change"
        self.thr = screen.rules.threshold_s
        self.day = -1
        self.segs: list[list] = []
        self.login = math.inf
        self.t = 0.0
        self.spell: tuple[int, int, float, float] = (OUT, LOGGED_OUT, 0.0, 0.0)
        self.run = _Run()
        self._probe = _Run()  # the run as _predict walks it ahead (scratch)
        self.token = 0
        self.timer_at = math.inf
        self.imposed: deque[tuple] = deque()  # imposed talks asked for, not yet started
        self.ended: dict[int, float] = {}  # plan row -> actual end of activities done
        self.n_logged = 0
        self.next_act = 0
        self.timeouts = 0  # timeouts scheduled (the cost of watching in real time)

    # ------------------------------------------------------------------ the day

    def start_day(self, day: int) -> None:
        """A new agent-day: its schedule, logged out from the shift start."""
        self.day = day
        self.segs = self.screen.day_segments(self.agent.index, day)
        self.login = math.inf
        self.t = self.segs[0][0] if self.segs else 0.0
        self.spell = (OUT, LOGGED_OUT, 0.0, 0.0)
        self.run = _Run()
        self.next_act = 0
        self.token += 1
        self.timer_at = math.inf
        self._predict()

    def imposed_asked(self, item: tuple) -> None:
        """The supervisor imposed a talk (the agent's ``due`` entry): its spell is entered."""
        self.imposed.append(item)

    # ------------------------------------------------------------------ the funnel

    def on_status(self, agent: Agent, old: int, new: int, now: float) -> None:
        """A status change: advance and predict again if the kind of spell changed."""
        if new != _OFF and _STATE[new] == 0 and self.spell[1] == QUEUE:
            return  # Ready, Talk, ACW: nothing measured changes
        if old == _OFF and self.day != agent.day:
            self.start_day(agent.day)
        self._sync()
        self._walk(self.run, self.t, now, self.spell)
        self.t = now
        if old == _OFF and self.login == math.inf:
            self.login = now
        self.spell = self._spell(agent, new, now)
        if new == _OFF:
            self.imposed.clear()  # talks never started at the shift end are not taken
        self._predict()

    def _sync(self) -> None:
        """Activities ended since the last look (for early returns, planned spells)."""
        log = self.agent.activity_log
        for row, _, end in log[self.n_logged:]:
            self.ended[row] = end
        self.n_logged = len(log)

    def _spell(self, agent: Agent, new: int, now: float) -> tuple[int, int, float, float]:
        if new == _OFF:
            return (OUT, LOGGED_OUT, 0.0, 0.0)
        st = _STATE[new]
        if st == 0:
            return (0, QUEUE, 0.0, 0.0)
        if agent.doing == _DOING_UNPLANNED:
            return (st, UNPLANNED, 0.0, 0.0)
        if self.imposed and self.imposed[0] not in agent.due:
            item = self.imposed.popleft()  # the imposed talk starting now: entered as worked
            self._splice(now, now + (item[2] - item[1]), st)
            return (st, IMPOSED, 0.0, 0.0)
        acts = agent.days[agent.day].activities if agent.days is not None else []
        while self.next_act < len(acts) and acts[self.next_act][0] in self.ended:
            self.next_act += 1
        if self.next_act < len(acts):
            row, p_start, p_end, _, keep, _ = acts[self.next_act]
            return (st, PLANNED, p_end, (now - p_start) * keep)
        return (st, -1, 0.0, 0.0)  # nothing known: "other"

    def _splice(self, s0: float, s1: float, state: int) -> None:
        """Enter an imposed talk over the schedule, as ``sim.engine.schedule.splice`` does."""
        segs = self.segs
        if not segs:
            return
        new = []
        for seg in segs:
            a, b = seg[0], seg[1]
            if b <= s0 or a >= s1:
                new.append(seg)
                continue
            if a < s0:
                new.append([a, s0, seg[2], seg[3]])
            if b > s1:
                new.append([s1, b, seg[2], seg[3]])
        lo, hi = max(s0, segs[0][0]), min(s1, segs[-1][1])
        if hi > lo:
            new.append([lo, hi, state, -1])
        new.sort(key=_first)
        self.segs = new

    # ------------------------------------------------------------------ the walk

    def _walk(self, run: _Run, t0: float, t1: float, spell: tuple, stop: bool = False
              ) -> float | None:
        """Advance ``run`` over ``[t0, t1)`` with ``spell``; the first threshold crossing."""
        segs = self.segs
        if not segs or t1 <= t0:
            return None
        sb, kind, pend, push = spell
        tol_by, thr = self.tol_by, self.thr
        cross = None
        for s, e, state, row in segs:
            if e <= t0:
                continue
            if s >= t1:
                break
            p0, p1 = max(s, t0), min(e, t1)
            if p1 <= p0:
                continue
            if state == sb:
                if run.active:  # (end() does nothing otherwise: no call for most segments)
                    run.end()
                continue
            if not run.active:
                run.active, run.start, run.tol_first = True, p0, tol_by[state]
            length = p1 - p0
            if self.after_change:
                f = min(max(s + tol_by[state] - p0, 0.0), length)
            else:
                f = min(max(run.start + run.tol_first - p0, 0.0), length)
            u = p0 + f
            lost = p1 - u
            if lost <= 0:
                continue
            rs = run.reasons
            if kind == LOGGED_OUT:
                rs[_LOGIN if p1 <= self.login else _OTHER] += lost
            elif kind == PLANNED:
                disp = min(max(min(p1, pend + push) - max(u, pend), 0.0), lost)
                rs[_CALL] += disp
                rs[_LATE] += lost - disp
            elif kind == QUEUE:  # on queue while an activity is scheduled
                rs[_EARLY if p0 >= self.ended.get(row, math.inf) else _CALL] += lost
            elif kind == UNPLANNED:
                rs[_UNPL] += lost
            else:
                rs[_OTHER] += lost
            before = run.counted
            run.counted = before + lost
            if not run.decided and before <= thr < before + lost and cross is None:
                cross = u + thr - before
                if stop:
                    return cross
        if t1 > segs[-1][1]:
            run.end()  # time outside the shift ends any exception
        return cross

    def _predict(self) -> None:
        """One timeout at the moment the exception would be a breach if nothing changed."""
        segs = self.segs
        if not segs:
            return
        probe = self.run.state_into(self._probe)  # walked as if nothing changed, then dropped
        at = self._walk(probe, self.t, segs[-1][1], self.spell, stop=True)
        if at is None and probe.active and not probe.decided and probe.counted >= self.thr - _EPS:
            at = self.t  # at the threshold now (a threshold of 0 at the exception's start)
        if at is None or at >= self.timer_at - _EPS:
            return  # the pending timeout comes first and will look again
        self.token += 1
        self.timer_at = at
        self.timeouts += 1
        env = self.agent.env
        # env.timeout(...).callbacks.append(...) without the event (the same queue place)
        env.call_in(max(0.0, at - env.now), self._fire, self.token)

    def _fire(self, timer: Call) -> None:
        if timer.value != self.token:
            return  # stale: a change came first
        self.timer_at = math.inf
        agent, now = self.agent, self.agent.env.now
        if not self.screen.present(agent.index, self.day):
            return
        self._sync()
        run = self.run
        self._walk(run, self.t, now, self.spell)
        self.t = now
        if (run.active and not run.decided and run.counted >= self.thr - _EPS
                and self._out_now(now)):
            run.decided = True
            rs = run.reasons
            if max(rs) <= 0:  # at the very start (a threshold of 0): what is being counted
                ahead = run.copy()
                self._walk(ahead, now, self.segs[-1][1], self.spell)
                rs = ahead.reasons
            best = 0  # the reason with most counted seconds, the first on a tie
            for j in range(1, len(rs)):
                if rs[j] > rs[best]:
                    best = j
            reason = LOSS_REASONS[best]
            if not self.screen.rules.excuses(reason):
                self.screen.alert(agent, self.day, now, reason, run.counted)
        self._predict()

    def _out_now(self, now: float) -> bool:
        """Whether the agent is out of adherence from ``now`` on (the exception goes on)."""
        for s, e, state, _ in self.segs:
            if s <= now < e:
                return state != self.spell[0]
        return False
