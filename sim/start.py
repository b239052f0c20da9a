"""The state a run starts from: people and the regime's memory at a day boundary.

A run measured from "day one of the universe" starts every agent rested (A = E = T = 0),
with a clean record and every seat filled. A centre that has worked under a regime for
months is not like that: exhaustion has a time constant of about a month of working days,
threat of two weeks, and the supervisor remembers breaches for a month. ``horizon.
warmup_days`` simulates that run-in (:func:`sim.model.warm_start`) without measuring it,
and a :class:`StartState` carries what crosses the day boundary at its end into the
measured run (:func:`sim.model.build` applies it):

- per seat, the person's strain (:class:`sim.people.stress.Strain`): acute strain A (with
  the time of its last update, so the night's recovery is exact), exhaustion E, threat T,
  trait, which person holds the seat, since when (the learning curve), a vacancy's end,
  the days of a sickness spell still to run, and the weekend already accounted for;
- per seat, the regime's record of the person (:class:`sim.regime.responses.AgentPolicy`):
  warnings, the breaches still counting toward a talk and the last talk (the escalation
  pace), with times on the measured run's clock (negative), and talks waiting for the
  next log-in;
- the daily adherence rows a league table still ranks (their days negative);
- the calls still to come back: repeats of calls left unresolved in the warm-up that fall
  after its last closing (their time, handling and patience as drawn), placed in the
  measured days as any repeat is (``repeat_of`` -2: the first call is not in the run);
- with written work (``[call_types]`` of kind "written"), the items nobody had started by
  the warm-up's end: they head the measured days' backlogs, oldest first.

Times are shifted by the warm-up's length: the measured day 0 is the warm-up's day ``W``,
and ``W`` is a whole number of weeks (``stress.work_days_per_week``), so day 0 is a week's
first day and the weekend before it is already applied. Not carried (documented in
docs/experiments.md, "Warm-up"): the warm-up's tables (never measured), and a partly
published league-table cycle when ``W`` is not a multiple of
``monitoring.league_table_days`` (the rows are carried, the cycle restarts).

:func:`jump` fast-forwards exhaustion: after each of the warm-up's first two weeks (and
each further week but the last two), each seat's E is set to the fixed point of the week's
closed-form map (its own inputs). :func:`tenure` then fast-forwards the turnover a warm-up
from zero lacks (attrition on): the person in each seat has held it since before the
warm-up began, which a centre at steady state does not have; from each seat's quit hazard a
history is drawn, giving the vacancies and the recent hires (E built up since the hire,
still learning) of the steady state. ``tests/test_warmup.py`` checks the state and the
measured KPIs against those after a long plain warm-up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sim.engine.repeats import opening_time
from sim.engine.streams import Streams
from sim.people.stress import absence_hazard, quit_hazard, replacement_day
from sim.scenario import DAY_S, Scenario

if TYPE_CHECKING:
    import numpy as np

    from sim.engine.centre import Centre
    from sim.engine.presence import Presence
    from sim.people.stress import Strain
    from sim.regime.policy import Regime

#: the warm-up's streams: ``Streams(seed, WARMUP_REPLICATION + replication *
#: WARMUP_STRIDE + segment)`` (a segment per week fast-forwarded, fewer than WARMUP_STRIDE
#: for the longest warm-up allowed; the streams take replications below 2**32), never those
#: of a measured replication (at most ``analysis.args.MAX_REPS``, far below): each
#: replication warms up on streams of its own, so replications are independent, warm-up
#: included (replication 0 keeps the streams it always had)
WARMUP_REPLICATION = 1 << 31
WARMUP_STRIDE = 1 << 12
#: the segment of a replication's warm-up streams that draws each seat's phase of the
#: warning cycle (:func:`talk_ages`): the last one, which no piece of a warm-up reaches, so
#: the plain and the fast-forwarded warm-up of a replication, of any length and under any
#: regime, draw the same uniform for the same seat (common random numbers)
PHASE_SEGMENT = WARMUP_STRIDE - 1


@dataclass(frozen=True)
class SeatState:
    """One seat's person at the day boundary (times relative to the measured day 0)."""

    a: float
    e: float
    threat: float
    trait: float
    t: float
    """When A was last brought up to date (seconds, <= 0: the last log-out)."""
    hire: int
    hired_on: int
    back_on: int | None
    sick_days_left: int


@dataclass(frozen=True)
class RecordState:
    """What the regime remembers of one seat's person (times relative to day 0)."""

    warnings: int
    breach_times: tuple[float, ...]
    breach_reasons: tuple[str, ...]
    last_talk: float
    pending: tuple[tuple[int, float, str], ...]
    warned: tuple[float, ...] = ()
    """When the warnings still within the warning window were given (the agents' deferral
    counts them)."""


@dataclass(frozen=True)
class StartState:
    """Everything that carries across the day boundary into a measured run (picklable)."""

    scenario: str
    """Name of the scenario whose regime the warm-up ran under."""
    scenario_hash: str
    seed: int
    days: int
    """Working days simulated (a whole number of weeks)."""
    agents: int
    week: int
    """``stress.work_days_per_week`` of the warm-up."""
    seats: tuple[SeatState, ...] | None = None
    """Per seat, with ``stress.enabled``; None without stress."""
    records: tuple[RecordState, ...] | None = None
    """Per seat, when the regime is active; None without one."""
    day_adherence: tuple[tuple[int, int, float, float], ...] = ()
    """(agent, day < 0, in adherence, scheduled) a league table may still rank."""
    jumped: bool = False
    """Whether exhaustion was fast-forwarded after the first week (:func:`jump`)."""
    repeats: tuple[tuple[float, float, float, float, float, float], ...] = ()
    """Calls to come back: (time < 0 or later on day 0's clock, placement uniform, talk,
    ACW, patience, unresolved uniform)."""

    replication: int = 0
    """The replication this state was warmed up for (on its own streams)."""
    written: tuple[tuple[float, float, str], ...] = ()
    """Written items not started: (arrival < 0 on day 0's clock, handle time, type name)."""
    luck: float = 0.0
    """Absence luck the warm-up's draws brought into the measured days (seat-days taken
    minus their expectation before each draw: mean 0; :meth:`sim.people.stress.Strain.
    set_window`), from the warm-up's days, :func:`tenure` and :func:`sickness`."""

    def describe(self) -> str:
        """One line for reports: how the run was started."""
        how = ", exhaustion fast-forwarded after week 1" if self.jumped else ""
        return (f"warmed up for {self.days} unmeasured working days under {self.scenario!r} "
                f"(seed {self.seed}, replication {self.replication}{how})")


def warmup_length(scenario: Scenario, days: int | None = None) -> int:
    """``horizon.warmup_days`` (or ``days``) rounded up to whole weeks of work."""
    w = scenario.warmup_days if days is None else days
    week = scenario.stress.work_days_per_week
    return -(-w // week) * week


def sickness(state: StartState, scenario: Scenario, simulated: int,
             rng_of: Callable[[int], np.random.Generator], ahead: int = 0) -> StartState:
    """``state`` with the long sickness spells begun before the warm-up (``stress.absence``).

    A warm-up from zero has only the spells begun in its ``simulated`` days; at steady state
    some long spells (geometric, mean ``spell_long_mean_days``) begun earlier still run.
    For each seat held and not off sick, the chance that one does is
    ``h s (1 - p)^(W + 1) / p`` (``h`` the daily hazard of the seat's E, ``s`` the long
    spells' share, ``p`` one over their mean, ``W`` the days simulated); one that does runs
    on for a geometric number of days (memoryless: the same law as a new one's length).
    ``rng_of(k)``: the seat's generator (one uniform, and the length when it runs on);
    ``ahead``: working days from the state's day 0 to the measured day 0 (drawn after the
    warm-up's first week, the spells run on through the simulated rest).
    """
    p = scenario.stress
    if state.seats is None or not p.absence or p.spell_long_mean_days < 1:
        return state
    q = 1 / p.spell_long_mean_days
    long = (1 - p.spell_short_share) * (1 - q) ** (simulated + 1) / q
    days = scenario.horizon.days
    # E[min(L - ahead, days)+]: the measured days it takes
    mean_days = (1 - q) ** ahead * (1 - (1 - q) ** days) / q
    seats, luck = [], state.luck
    for k, s in enumerate(state.seats):
        if s.back_on is not None or s.sick_days_left > 0:
            seats.append(s)
            continue
        rng = rng_of(k)
        chance = min(1.0, absence_hazard(p, s.e) * long)
        luck -= chance * mean_days
        if rng.random() < chance:
            s = replace(s, sick_days_left=int(rng.geometric(q)))
            luck += max(0, min(s.sick_days_left - ahead, days))
        seats.append(s)
    return replace(state, seats=tuple(seats), luck=luck)


def warmup_pieces(days: int, week: int, fast_forward: bool = True) -> tuple[list[int], int]:
    """The warm-up's runs (days each) and how many of the first are followed by a jump.

    With ``fast_forward`` and at least two weeks: a week per jump, a jump after each of the
    first two weeks (the second takes in what the first's higher E did: absence, quits, the
    work left to others) and after each further week but the last two, which then settle
    around it in one run; else one run of ``days``.
    """
    weeks = days // week
    jumps = max(min(2, weeks), weeks - 2) if fast_forward and weeks >= 2 else 0
    return [week] * jumps + ([days - jumps * week] if days > jumps * week else []), jumps


def compatible(old: Scenario, new: Scenario, old_label: str = "", new_label: str = "") -> None:
    """Refuse to start ``new`` from a state of ``old`` when what carries cannot.

    Seats are carried by position, so the roster (shift names and agents per shift) must be
    the same; the week must have as many working days, or the week alignment breaks.
    Raises ``ValueError`` naming both scenarios, the field and both values.
    """
    a = old_label or f"scenario {old.name!r}"
    b = new_label or f"scenario {new.name!r}"
    for field, x, y in (
            ("staffing (shift names and agents per shift)", old.staffing.head_counts(),
             new.staffing.head_counts()),
            ("stress.work_days_per_week", old.stress.work_days_per_week,
             new.stress.work_days_per_week)):
        if x != y:
            raise ValueError(f"cannot start {b} from the state of {a}: {field} differs "
                             f"({x} in {a}, {y} in {b}); the seats and weeks of a warmed "
                             "state carry over only to the same centre")


def export(scenario: Scenario, seed: int, days: int, strains: Sequence[Strain] | None,
           regime: Regime | None, *, jumped: bool = False,
           repeats: Sequence[tuple[float, float, float, float, float, float]] = (),
           written: Sequence[tuple[float, float, str]] = ()) -> StartState:
    """The state at the end of a ``days``-day run (everyone logged out), on day 0's clock.

    The weekend before day ``days`` is applied now (the continuous run would apply it at
    the next log-in: the same numbers, as recovery logged out is multiplicative).
    ``repeats``: the run's repeats after its last closing (``Repeats.beyond``);
    ``written``: its written items not started (``SkillRouter.written_left``).
    """
    shift_s = days * DAY_S
    seats = None
    if strains is not None:
        out = []
        for s in strains:
            s.catch_up(days)
            out.append(SeatState(
                a=s.a, e=s.e, threat=s.threat, trait=s.trait, t=s.t - shift_s, hire=s.hire,
                hired_on=s.hired_on - days,
                back_on=None if s.back_on is None else s.back_on - days,
                sick_days_left=s.sick_days_left))
        seats = tuple(out)
    records, adherence = None, ()
    if regime is not None:
        records = tuple(RecordState(
            warnings=p.warnings,
            breach_times=tuple(t - shift_s for t in p.breaches.times),
            breach_reasons=tuple(p.breaches.reasons),
            last_talk=p.breaches.last_talk - shift_s,
            pending=tuple(p.pending),
            warned=tuple(w - shift_s for w in getattr(p, "warned", ()))) for p in regime.policies)
        keep = scenario.monitoring.league_table_days if regime.league is not None else 0
        adherence = tuple((k, d - days, i, s) for k, d, i, s in regime.targets.day_adherence
                          if d >= days - keep)
    carried = tuple((t - shift_s, *rest) for t, *rest in repeats)
    return StartState(scenario.name, scenario.digest(), seed, days,
                      len(strains) if strains is not None else _agents(scenario),
                      scenario.stress.work_days_per_week, seats, records, adherence, jumped,
                      carried, written=tuple((a - shift_s, h, w) for a, h, w in written))


def _agents(scenario: Scenario) -> int:
    return sum(scenario.staffing.head_counts().values())


def apply(state: StartState, scenario: Scenario, strains: Sequence[Strain] | None,
          regime: Regime | None, presence: Presence, centre: Centre | None = None) -> None:
    """Put a built run's people, regime and calls to come back in ``state`` (before it runs).

    A part the state lacks starts as in a cold run (e.g. a regime warmed without one).
    """
    n = _agents(scenario)
    if state.agents != n:
        raise ValueError(f"start state of {state.scenario!r} has {state.agents} agents; "
                         f"scenario {scenario.name!r} has {n}")
    if strains is not None and state.seats is not None:
        days = presence.present.shape[1]
        for s, st in zip(strains, state.seats, strict=True):
            s.a, s.e, s.threat, s.trait, s.t = st.a, st.e, st.threat, st.trait, st.t
            s.hire, s.hired_on, s.back_on = st.hire, st.hired_on, st.back_on
            s.sick_days_left = st.sick_days_left
            s.learn = s.learning(0)
            if st.back_on is not None:  # the vacancy runs on into the measured days
                for d in range(min(max(st.back_on, 0), days)):
                    presence.mark_absent(s.k, d, "quit")
    if regime is not None and state.records is not None:
        for p, rec in zip(regime.policies, state.records, strict=True):
            p.warnings = rec.warnings
            for t, why in zip(rec.breach_times, rec.breach_reasons, strict=True):
                p.breaches.add(t, why)
            p.breaches.last_talk = rec.last_talk
            p.pending.extend(rec.pending)
            p.warned.extend(rec.warned)
        regime.targets.day_adherence.extend(state.day_adherence)
    if centre is not None:
        for t, u, talk, acw, patience, unresolved in state.repeats:
            at = opening_time(scenario, t, u)
            if at is not None:
                centre.carried_repeat(at, talk, acw, patience, unresolved)
        if state.written and hasattr(centre.router, "carry_written"):
            centre.router.carry_written(list(state.written))


def fixed_point(e_start: float, e_end: float, worked: int, off: int, tau_days: float) -> float:
    """The fixed point of a week's closed-form exhaustion map, from one week of it.

    Each worked day ``E <- E (1 - 1/tau) + input``, each day off (a weekend, a sick day)
    ``E <- E (1 - 2/tau)``: over the week ``E <- M E + I`` with ``M = (1 - 1/tau)^worked
    (1 - 2/tau)^off``, and ``I = e_end - M e_start`` are the week's inputs. The map's fixed
    point ``I / (1 - M)`` is where E settles if every week were like this one.
    """
    m = max(0.0, 1 - 1 / tau_days) ** worked * max(0.0, 1 - 2 / tau_days) ** off
    inputs = e_end - m * e_start
    return inputs / (1 - m) if m < 1 else e_end


def jump(state: StartState, before: StartState | None, strains: Sequence[Strain],
         tau_days: float) -> StartState:
    """``state``, a week after ``before`` (None: zero), with each seat's E at its fixed point.

    ``strains`` hold the week's rows (one per day worked). Only the seat's first person is
    jumped: a seat that is vacant, or whose person came during the warm-up, keeps its E (a
    new person starts from zero, and its E since the hire is simulated). T is not jumped: a
    week's warnings early in a warm-up are not a steady week's (the breach record starts
    empty and a warning needs ``warning_after`` breaches), so T settles in the simulated
    days instead.
    """
    if state.seats is None:
        return state
    prior = before.seats if before is not None and before.seats is not None else None
    seats = []
    for k, (s, strain) in enumerate(zip(state.seats, strains, strict=True)):
        e0 = prior[k].e if prior is not None else 0.0
        if s.hire != 0 or s.back_on is not None:
            seats.append(s)
            continue
        worked = len(strain.rows)
        e = fixed_point(e0, s.e, worked, 7 - worked, tau_days)
        seats.append(replace(s, e=e if math.isfinite(e) else s.e))
    return replace(state, seats=tuple(seats), jumped=True)


def jump_threat(state: StartState, days: int, tau_threat_days: float,
                escalation_days: float = 0.0, window_days: float = 0.0) -> StartState:
    """``state`` after a ``days``-day warm-up from zero, each seat's T and warnings settled.

    The warm-up's warnings are taken as a period's, the period ``P`` being the warm-up or
    ``escalation_days`` (one talk per escalation interval at most), whichever is longer.
    T decays ``e^(-1/tau_T)`` per calendar day and rises with each warning, so over a period
    (``c`` calendar days) ``T <- e^(-c/tau_T) T + I`` with ``I`` the warm-up's end value
    (from T = 0): T is set to the map's fixed point ``I / (1 - e^(-c/tau_T))``, where it
    settles if every period were like this one (as E: :func:`fixed_point`). The warnings
    still within ``window_days`` (the agents' deferral counts them) are those of the warm-up
    repeated every ``P`` days back. Only a seat's first person: one hired during the
    warm-up has the threat and warnings of its own days.
    """
    if state.seats is None or days <= 0:
        return state
    period = max(float(days), escalation_days)
    calendar = period / state.week * 7
    m = math.exp(-calendar / tau_threat_days)
    if m >= 1:
        return state
    first = [s.hire == 0 and s.back_on is None for s in state.seats]
    seats = tuple(replace(s, threat=s.threat / (1 - m)) if ok else s
                  for s, ok in zip(state.seats, first, strict=True))
    records = state.records
    if records is not None and window_days > 0:
        shift, edge = period * DAY_S, -window_days * DAY_S

        def back(times: tuple[float, ...]) -> tuple[float, ...]:
            copies = [w - j * shift for w in times for j in range(1, 1 + int(window_days
                                                                              // period) + 1)]
            return tuple(sorted(c for c in copies if c > edge)) + times

        records = tuple(replace(r, warned=back(r.warned)) if ok else r
                        for r, ok in zip(records, first, strict=True))
    return replace(state, seats=seats, records=records)


def phase_uniforms(seed: int, replication: int, seats: int) -> list[float]:
    """Each seat's uniform for its phase of the warning cycle (:func:`talk_ages`).

    On the stream of :data:`PHASE_SEGMENT` of the replication's warm-up, keyed by the seat
    alone: the same whatever the scenario, its regime and the warm-up's length.
    """
    streams = Streams(seed, WARMUP_REPLICATION + replication * WARMUP_STRIDE + PHASE_SEGMENT)
    return [float(streams.rng("supervisor", k).random()) for k in range(seats)]


def talk_ages(scenario: Scenario, uniforms: Sequence[float]) -> tuple[float, ...] | None:
    """Each seat's phase of the warning cycle when a warm-up from zero begins (working days).

    Where talks are paced by the escalation interval ``I`` (``supervisor.
    escalation_interval_days`` > 0, a level at which a team leader sees individual breaches),
    a seat's talks recur every ``I + R`` days, ``R`` the wait from the interval's end to the
    breach that makes the next talk. The age of the last talk at a moment chosen without
    regard to the cycle has density ``P(X > a) / E[X]`` (renewal theory; X the cycle):
    constant on ``[0, I)``. Each seat's age is ``u I`` (``uniforms``: one per seat, on the
    stream of :data:`PHASE_SEGMENT`): uniform over the interval, the wait R left to the
    simulated days, which a warm-up cannot know before simulating them (its mean is the
    share of the cycle this leaves out: 0.5 of 20.5 days in the 2018 case, docs/experiments.md
    "Warm-up"). The same uniform gives the same seat the same phase under every regime
    with the same interval (and a proportional one under another). None when no talk is
    paced (no interval, or a level with no individual talks).
    """
    interval = scenario.supervisor.escalation_interval_days
    if interval <= 0 or scenario.measurement.level not in ("individual", "voluntary"):
        return None
    return tuple(float(u) * interval for u in uniforms)


def phased(scenario: Scenario, seed: int, ages: Sequence[float]) -> StartState:
    """The state a warm-up from zero starts from: each seat's record in its drawn phase.

    The last talk was ``ages[k]`` working days before the warm-up's first day (it paces the
    next: :class:`sim.regime.rules.Rules`), and, with punitive feedback, the earlier ones
    every escalation interval before it: the warnings still within the warning window are
    on the record (the agents' deferral counts them). Their threat is in
    :func:`start_threat`. People are as in a cold start: no ``seats``.
    """
    interval = scenario.supervisor.escalation_interval_days
    window = scenario.measurement.adherence.warning_window_days
    punitive = scenario.monitoring.feedback == "punitive"
    records = []
    for a in ages:
        warned: tuple[float, ...] = ()
        if punitive and interval > 0:
            back = [a + j * interval for j in range(int(window / interval) + 2)]
            warned = tuple(sorted(-b * DAY_S for b in back if b < window))
        records.append(RecordState(len(warned), (), (), -a * DAY_S, (), warned))
    return StartState(scenario.name, scenario.digest(), seed, 0, _agents(scenario),
                      scenario.stress.work_days_per_week, None, tuple(records))


def start_threat(scenario: Scenario, ages: Sequence[float]) -> tuple[float, ...]:
    """Each seat's threat T when a warm-up from zero begins, from its drawn phase.

    With punitive feedback a warning adds ``warning_threat`` and T decays ``e^(-1/tau_T)``
    per calendar day (``7 / work_days_per_week`` per working day on average), so the talks
    ``a``, ``a + I``, ``a + 2 I``, ... working days back leave ``warning_threat e^(-c(a) /
    tau_T) / (1 - e^(-c(I) / tau_T))``, ``c`` the calendar days. Zero without warnings.
    """
    p, interval = scenario.stress, scenario.supervisor.escalation_interval_days
    if scenario.monitoring.feedback != "punitive" or interval <= 0:
        return tuple(0.0 for _ in ages)
    per_day = 7 / p.work_days_per_week / p.tau_threat_days
    m = math.exp(-interval * per_day)
    return tuple(p.warning_threat * math.exp(-a * per_day) / (1 - m) for a in ages)


def settle_record(state: StartState, days: int, window_days: float) -> StartState:
    """After a fast-forwarded warm-up begun in phase: the breaches before it, and the window.

    A seat whose last talk is still the one before the warm-up (:func:`phased`) has on
    record only the breaches of the ``days`` simulated; those since that talk before the
    warm-up are the simulated ones repeated every ``days`` back (within the warning window
    and after the talk). Warnings older than the window are dropped. T needs nothing: the
    phase's threat (:func:`start_threat`) was simulated through the warm-up.
    """
    if state.records is None:
        return state
    edge, begin, shift = -window_days * DAY_S, -days * DAY_S, days * DAY_S
    out = []
    for r in state.records:
        times, reasons = r.breach_times, r.breach_reasons
        if r.last_talk <= begin and times and shift > 0:
            after = max(r.last_talk, edge)
            old = sorted((t - j * shift, why) for j in range(1, int(window_days / days) + 2)
                         for t, why in zip(times, reasons, strict=True)
                         if t - j * shift > after)
            times = tuple(t for t, _ in old) + times
            reasons = tuple(why for _, why in old) + reasons
        out.append(replace(r, breach_times=times, breach_reasons=reasons,
                           warned=tuple(w for w in r.warned if w > edge)))
    return replace(state, records=tuple(out))


def tenure(state: StartState, scenario: Scenario, simulated: int,
           rng_of: Callable[[int], np.random.Generator], ahead: int = 0) -> StartState:
    """``state`` with the turnover of the time before the warm-up (``stress.attrition``).

    A warm-up from zero puts a person in every seat who has held it for ever; at steady
    state some seats are vacant (a quit less than the hiring delay ago) and some persons
    are recent (E built up since their hire, still on the learning curve). For each seat
    still held by its first person after ``simulated`` warm-up days, the quit hazard of its
    E and T (:func:`sim.people.stress.quit_hazard`) gives, going back day by day
    from the warm-up's first day, when the person before it left (``rng_of(k)``: one
    geometric draw). That quit leaves the seat vacant now when its replacement is not yet
    due; else the replacement came that many days ago: its E is the seat's fixed point
    scaled by ``1 - m^n`` (``m`` the mean working day's factor of the week's map, ``n`` the
    working days since the hire), its learning curve runs from the hire, and one hired
    during the warm-up starts with no threat and no record. E and T do not change the
    draw's meaning: they set the hazard only. ``ahead``: working days from the state's day
    0 to the measured day 0 (drawn after the warm-up's first week, a vacancy ends and the
    replacement starts in the simulated rest).
    """
    if state.seats is None or not scenario.stress.attrition:
        return state
    p = scenario.stress
    week, tau = p.work_days_per_week, p.tau_exhaustion_days
    per_year = scenario.schedule.days_per_year
    m = (max(0.0, 1 - 1 / tau) ** week * max(0.0, 1 - 2 / tau) ** (7 - week)) ** (1 / week)
    seats, vacated, renewed, since = [], set(), set(), {}
    days, luck = scenario.horizon.days, state.luck
    for k, s in enumerate(state.seats):
        if s.hire != 0 or s.back_on is not None:
            seats.append(s)
            continue
        h = quit_hazard(p, s.e, s.threat, per_year)
        if h <= 0:
            seats.append(s)
            continue
        luck -= _vacancy_mean(h, simulated, week, p.hiring_delay_days, days, ahead)
        quit = -simulated - int(rng_of(k).geometric(h))  # the last quit before the warm-up
        back = replacement_day(quit, week, p.hiring_delay_days)
        luck += min(max(back - ahead, 0), days)
        if back > 0:  # still vacant: the replacement is due on measured day ``back``
            seats.append(replace(s, back_on=back, sick_days_left=0))
            vacated.add(k)
            continue
        n = -back  # working days the replacement has held the seat
        if n >= p.learning_days and m ** n < 1e-3:
            seats.append(s)  # long enough ago to be the person the warm-up simulated
            continue
        fresh = n < simulated  # hired during the warm-up: no threat or record yet
        seats.append(replace(s, e=s.e * (1 - m ** n), hire=1, hired_on=back,
                             threat=0.0 if fresh else s.threat,
                             sick_days_left=0 if fresh else s.sick_days_left))
        if fresh:
            renewed.add(k)
        else:
            since[k] = back * DAY_S  # warnings before the hire were the person's before
    records = state.records
    if records is not None and since:
        records = tuple(replace(r, warned=tuple(w for w in r.warned if w >= since[k]))
                        if k in since else r for k, r in enumerate(records))
    if records is not None and (vacated or renewed):
        # the person who left takes the record along (the last talk still paces the next,
        # as when a person leaves during a run: AgentPolicy.new_person)
        records = tuple(RecordState(0, (), (), r.last_talk, ())
                        if k in vacated or k in renewed else r for k, r in enumerate(records))
    return replace(state, seats=tuple(seats), records=records, luck=luck)


def _vacancy_mean(h: float, simulated: int, week: int, delay: float, days: int,
                  ahead: int = 0) -> float:
    """Expected measured days of vacancy of :func:`tenure`'s draw: E[min(back+, days)].

    The quit lies a geometric (``h``) number of working days before the warm-up's
    ``simulated`` ones; only the quits whose replacement falls after day 0 count.
    """
    mean, g, pg = 0.0, 1, h
    while True:
        back = replacement_day(-simulated - g, week, delay) - ahead  # on the measured clock
        if back <= 0 or pg < 1e-15:
            return mean
        mean += pg * min(back, days)
        g, pg = g + 1, pg * (1 - h)


__all__ = ["PHASE_SEGMENT", "WARMUP_REPLICATION", "WARMUP_STRIDE", "RecordState", "SeatState",
           "StartState", "apply", "compatible", "export", "fixed_point", "jump", "jump_threat",
           "phase_uniforms", "phased", "settle_record", "sickness", "start_threat", "talk_ages",
           "tenure", "warmup_length", "warmup_pieces"]
