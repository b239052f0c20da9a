"""An imported ACD report staffed, fitted and replayed: does it give its own report back.

Three steps after :func:`analysis.acd.estimate`, each by simulation of the imported
scenario itself (so every assumption of the model is in it):

- **staffing** (:func:`staff`): the agents on queue per interval that the report implies
  become whole shifts (4, 6 or 8 hours, or the opening hours when shorter) chosen by an
  integer programme (``scipy.optimize.milp``: the least absolute difference from the
  recorded agents, added over the intervals, then the fewest paid hours); a one-day pilot
  run measures the share of the scheduled agents the base's breaks and deviations leave on
  queue, and the programme is solved again for the target over that share. One roster
  works every open day (the schema's shifts), the mean day's;
- **abandonment** (:func:`fit_abandonment`): the exponential patience and the balking
  share (``calls.balk_probability``) for which the simulated weeks abandon as many calls as
  the report, and, with a ``short_abandoned`` column, as many within the short-abandon
  time: a few damped fixed-point steps on the same random numbers each time (common
  random numbers), from the rough first patience. Without ``short_abandoned`` balking is
  0 (assumed) and only the patience is fitted;
- **replay** (:func:`replay`): the report's weeks simulated with replications, each
  interval's recorded offered, answered, abandoned and service level (answered within
  ``service_level.threshold_s`` over offered, with an ``answered_in_sl`` column) set
  against the simulation's 95% band for one realisation (mean +- t s sqrt(1 + 1/R)), by
  date and interval, by weekday and interval, and over the whole period; the differences
  the model does not explain are named with the assumption most likely behind each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.engine.demand import date_of, day_with_counts, weekday
from sim.engine.streams import Streams
from sim.measure.tables import calls_table
from sim.model import build, run, simulate, warm_start
from sim.scenario import Scenario, format_clock

#: shift lengths the staffing step chooses from (hours), longest first
SHIFT_HOURS = (8.0, 6.0, 4.0)
#: fixed-point steps of the abandonment fit at most, and when it is close enough
FIT_STEPS = 10
FIT_TOLERANCE = 0.02
#: steps within the tolerance whose values are averaged
FIT_AVERAGE = 3
#: the measures replayed, as (name, recorded column, simulated column)
MEASURES = (("offered", "offered", "offered"), ("answered", "answered", "answered"),
            ("abandoned", "abandoned", "abandoned"),
            ("answered_in_sl", "answered_in_sl", "answered_within"))


# --------------------------------------------------------------------------- staffing


def cover_shifts(need: np.ndarray, open_s: float, step_s: float,
                 hours: float) -> dict[str, dict]:
    """Whole shifts whose agents per interval come closest to ``need`` (a mean, not a floor).

    Candidates start at every interval and last 8, 6 or 4 hours (those that fit the
    opening hours; the opening hours when shorter than 4). The integer programme minimises
    the absolute differences from ``need`` added over the intervals, then paid hours: a
    replay wants the recorded agents, not a cover of every interval's maximum, which would
    staff every interval above the record.
    """
    n = len(need)
    lengths = [h for h in SHIFT_HOURS if h <= hours + 1e-9] or [hours]
    cands: list[tuple[int, float, int]] = []  # (first interval, hours, intervals)
    for h in lengths:
        k = h * 3600 / step_s
        if abs(k - round(k)) > 1e-9:
            continue
        k = round(k)
        cands += [(i, h, k) for i in range(n - k + 1)]
    if not cands:  # intervals that do not divide the lengths: one shift of the whole day
        cands = [(0, hours, n)]
    m = len(cands)
    a = np.zeros((n, m))
    for j, (i, _, k) in enumerate(cands):
        a[i:i + k, j] = 1
    # variables: head counts x (m, whole), then agents over (n) and under (n) the need
    cost = np.r_[[1e-3 * h for _, h, _ in cands], np.ones(2 * n)]
    rows = np.hstack([a, -np.eye(n), np.eye(n)])  # cover - over + under = need
    need = np.asarray(need, float)
    res = milp(cost, constraints=LinearConstraint(rows, lb=need, ub=need),
               integrality=np.r_[np.ones(m), np.zeros(2 * n)], bounds=Bounds(0, np.inf),
               options={"time_limit": 30})
    x = (np.round(res.x[:m]).astype(int) if res.x is not None
         else np.zeros(m, int))
    out: dict[str, dict] = {}
    for j in np.flatnonzero(x):
        i, h, _ = cands[j]
        start = open_s + i * step_s
        name = f"acd-{format_clock(start).replace(':', '')}-{h:g}h"
        out[name] = {"start": format_clock(start), "hours": float(h), "agents": int(x[j])}
    return out


def coverage(shifts: dict[str, dict], open_s: float, step_s: float, n: int) -> np.ndarray:
    """Scheduled agents per interval of the given shifts (for the pilot's on-queue share)."""
    out = np.zeros(n)
    for sh in shifts.values():
        h, m = map(int, sh["start"].split(":"))
        i = round((h * 3600 + m * 60 - open_s) / step_s)
        out[max(i, 0):max(i, 0) + round(sh["hours"] * 3600 / step_s)] += sh["agents"]
    return out


def with_shifts(scenario: Scenario, shifts: dict[str, dict]) -> dict[str, dict]:
    """``staffing.shifts`` as written: the new shifts, and the base's with 0 agents.

    A scenario that ``extends`` merges tables, so the base's shifts are kept but emptied;
    activities that name them keep a shift to refer to.
    """
    out = {name: {"start": format_clock(sh.start), "hours": sh.hours, "agents": 0}
           for name, sh in scenario.staffing.shifts.items() if name not in shifts}
    return out | shifts


def staff(scenario: Scenario, target: np.ndarray, seed: int = 0
          ) -> tuple[dict[str, dict], np.ndarray]:
    """Shifts putting ``target`` agents on queue per interval, and the on-queue share used.

    A one-day pilot of the scenario with shifts matching the target measures the share of
    scheduled agents on queue per interval (breaks, lunch, deviations); the shifts are
    chosen again for the target over that share.
    """
    h = scenario.horizon
    n, step = h.intervals_per_day, h.interval_s
    need = np.asarray(target, float)
    shifts = cover_shifts(need, h.open, step, h.hours)
    pilot = scenario.replace({"staffing.shifts": with_shifts(scenario, shifts),
                              "horizon.days": 1})
    onq = simulate(pilot, seed=seed, replication=0).intervals["agents_on_queue"].to_numpy()
    cover = coverage(shifts, h.open, step, n)
    share = np.where(cover > 0, onq / np.where(cover > 0, cover, 1), 1.0)
    share = np.clip(share, 0.5, 1.0)  # a pilot interval with everyone on a break: at most x2
    if (share < 1 - 1e-9).any():
        shifts = cover_shifts(need / share, h.open, step, h.hours)
    return shifts, share


# --------------------------------------------------------------------------- abandonment


@dataclass
class AbandonFit:
    """The fitted patience and balking share, and how the fit went."""

    patience_s: float
    balk: float
    steps: int
    recorded: dict[str, float]
    simulated: dict[str, float]
    converged: bool


def recorded_counts(scenario: Scenario, report: pd.DataFrame) -> np.ndarray:
    """The report's offered calls per simulated day and interval (0 where it has none)."""
    h = scenario.horizon
    n = h.intervals_per_day
    day_of = {date_of(scenario, d): d for d in range(h.days)}
    out = np.zeros((h.days, n), dtype=np.int64)
    slot = np.round((report["start_s"].to_numpy() - h.open) / h.interval_s).astype(int)
    for date, s, k in zip(report["date"], slot, report["offered"], strict=True):
        d = day_of.get(date)
        if d is not None and 0 <= s < n:
            out[d, s] += int(k)
    return out


def _abandon_counts(scenario: Scenario, seed: int, reps: int, short_s: float,
                    counts: np.ndarray | None = None) -> dict[str, float]:
    """Mean over ``reps`` replications: abandoned, abandoned within ``short_s``, waited.

    ``counts`` (days x intervals): the calls of each interval, as recorded, instead of
    sampled ones.
    """
    out = {"abandoned": 0.0, "short": 0.0, "waited": 0.0, "answered_wait_s": 0.0}
    start = warm_start(scenario, seed) if scenario.warmup_days > 0 else None
    for rep in range(reps):
        days = None
        if counts is not None:
            streams = Streams(seed, rep)
            days = [day_with_counts(scenario, streams, d, counts[d])
                    for d in range(scenario.horizon.days)]
        # the calls table only: the fit needs no KPIs, status tables or adherence, which
        # are most of a small run's cost (simulate's collect)
        r = build(scenario, seed, rep, calls=days, start=start)
        run(r)
        c = calls_table(scenario, r.days, r.centre)
        c = c[c["counted"]]
        ab = (c["outcome"] == "abandoned").to_numpy()
        ans = (c["outcome"] == "answered").to_numpy()
        wait = c["wait_s"].to_numpy()
        out["abandoned"] += ab.sum() / reps
        out["short"] += (ab & (wait <= short_s)).sum() / reps
        out["waited"] += (~(ans & (wait == 0))).sum() / reps
        out["answered_wait_s"] += wait[ans].sum() / reps
    return out


def fit_abandonment(scenario: Scenario, abandoned: int, short: int | None, short_s: float,
                    patience_s: float, seed: int = 0, reps: int = 2,
                    answered_wait_s: float | None = None,
                    counts: np.ndarray | None = None) -> AbandonFit:
    """Patience (exponential) and balking whose simulated abandons equal the recorded ones.

    Each step simulates ``reps`` replications on the same random numbers: the balking
    share moves by the short abandons missing over the calls that had to wait; the mean
    patience moves by the longer abandons simulated over recorded, in a secant step on
    logs. With the answered calls' total wait (``answered_wait_s``: answered x ASA, added
    over the intervals) the longer abandons are taken per second waited: with exponential
    patience a waiting caller hangs up at rate 1 / mean patience whatever the queue, so
    the ratio hardly depends on how busy the recorded weeks happened to be, which the
    count does (a week 5% busier abandons 20% more at the same patience). ``counts``
    (the report's offered calls per day and interval, :func:`recorded_counts`): each step
    simulates exactly those arrivals (times uniform in their intervals), so the fit answers
    for the congestion the report's weeks had, which the short abandons (balkers are a share
    of the callers who found every agent busy) depend on. Without short abandons balking
    stays 0.
    """
    rec_long = abandoned - (short or 0)
    if answered_wait_s is not None and answered_wait_s > 0 and rec_long > 0:
        def rate(long: float, got: dict[str, float]) -> float:
            return long / max(got["answered_wait_s"], 1e-9)
        rec_rate = rec_long / answered_wait_s
    else:
        def rate(long: float, got: dict[str, float]) -> float:
            return long
        rec_rate = float(rec_long)
    balk, pat = 0.0, float(patience_s)
    got: dict[str, float] = {}
    last: tuple[float, float] | None = None  # (log patience, log long abandons) of the last step
    converged = False
    kept: list[tuple[float, float]] = []
    steps = 0
    for steps in range(1, FIT_STEPS + 1):  # noqa: B007 (the steps taken are reported)
        s = scenario.replace({"calls.patience": {"distribution": "exponential",
                                                 "mean_s": round(pat, 3)},
                              "calls.balk_probability": round(balk, 6)})
        got = _abandon_counts(s, seed, reps, short_s, counts)
        sim_long = got["abandoned"] - (got["short"] if short is not None else 0.0)
        sim_rate = rate(sim_long, got)
        ok_long = abs(sim_rate - rec_rate) <= FIT_TOLERANCE * rec_rate or abs(
            sim_long - rec_long) <= 1.0
        ok_short = short is None or abs(got["short"] - short) <= max(FIT_TOLERANCE * short, 1.0)
        if ok_long and ok_short:
            # within tolerance: keep stepping a little and average, so the answer is not
            # the first point the steps reach from one side (a bias of up to the tolerance)
            converged = True
            kept.append((pat, balk))
            if len(kept) == FIT_AVERAGE:
                break
        if short is not None and got["waited"] > 0:
            balk = float(np.clip(balk + (short - got["short"]) / got["waited"], 0.0, 0.95))
        if rec_long > 0 and sim_long > 0:
            # secant in logs: the elasticity of the long abandons in the patience, from the
            # last two steps (1 to begin with: abandonment ~ E[wait] / mean patience)
            here = (math.log(pat), math.log(sim_rate))
            slope = 1.0
            if last is not None and abs(here[0] - last[0]) > 1e-6:
                slope = float(np.clip(-(here[1] - last[1]) / (here[0] - last[0]), 0.2, 2.0))
            last = here
            pat = float(np.clip(pat * (sim_rate / rec_rate) ** (1 / slope), 5.0, 7200.0))
        elif rec_long > 0:  # nobody abandons in the simulation: much less patience
            pat = max(5.0, pat / 4)
    if kept:
        pat, balk = (float(np.mean(x)) for x in zip(*kept, strict=True))
    recorded = {"abandoned": float(abandoned)}
    if short is not None:
        recorded["short"] = float(short)
    if answered_wait_s is not None:
        recorded["answered_wait_s"] = float(answered_wait_s)
    return AbandonFit(patience_s=pat, balk=balk, steps=steps, recorded=recorded,
                      simulated=got, converged=converged)


# --------------------------------------------------------------------------- replay


@dataclass
class Replay:
    """Recorded against simulated, per date and interval, weekday and interval, in total."""

    reps: int
    threshold_s: float
    cells: pd.DataFrame
    weekly: pd.DataFrame
    totals: pd.DataFrame
    unexplained: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


def _band(sims: np.ndarray, rec: np.ndarray, axis: int = 0, counts: bool = False
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, 95% band for one realisation (low, high) and z of ``rec`` over replications.

    For counts the variance is at least Poisson's at the mean, and the mean at least 1 / R
    (what R replications of nothing can tell apart from zero): a few replications of a
    quiet interval have no spread at all, and a call recorded there is no contradiction.
    """
    r = sims.shape[axis]
    mean = sims.mean(axis=axis)
    var = sims.var(axis=axis, ddof=1)
    if counts:
        var = np.maximum(var, np.maximum(mean, 1 / r))
    sd = np.sqrt(var) * math.sqrt(1 + 1 / r)
    t = stats.t.ppf(0.975, r - 1)
    low, high = mean - t * sd, mean + t * sd
    if counts:
        low = np.maximum(low, 0.0)
    else:  # a share
        low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, (rec - mean) / np.where(sd > 0, sd, 1),
                     np.where(np.isclose(rec, mean), 0.0, np.inf * np.sign(rec - mean)))
    return mean, low, high, z


def replay(scenario: Scenario, report: pd.DataFrame, reps: int = 10, seed: int = 0,
           short_s: float | None = None) -> Replay:
    """Simulate the report's weeks ``reps`` times and set each measure against the record."""
    h = scenario.horizon
    n, step, days = h.intervals_per_day, h.interval_s, h.days
    short_s = scenario.service_level.short_abandon_s if short_s is None else short_s
    dates = [date_of(scenario, d) for d in range(days)]
    day_of = {d: k for k, d in enumerate(dates)}
    names = [m[0] for m in MEASURES if m[1] in report and report[m[1]].notna().any()]
    rec = {m: np.full((days, n), np.nan) for m in names}
    agents_rec = np.full((days, n), np.nan)
    slot = np.round((report["start_s"].to_numpy() - h.open) / step).astype(int)
    for m in names:
        rec[m][:] = 0.0
    for row, s in zip(report.itertuples(), slot, strict=True):
        d = day_of.get(row.date)
        if d is None or not 0 <= s < n:
            continue
        for m in names:
            v = getattr(row, dict((a, b) for a, b, _ in MEASURES)[m])
            rec[m][d, s] = 0.0 if pd.isna(v) else v
        if "agents" in report:
            agents_rec[d, s] = row.agents
    sims = {m: np.zeros((reps, days, n)) for m in names}
    agents_sim = np.zeros((reps, days, n))
    col = {a: c for a, _, c in MEASURES}
    for rep in range(reps):
        iv = simulate(scenario, seed=seed, replication=rep).intervals
        for m in names:
            sims[m][rep] = iv[col[m]].to_numpy(float).reshape(days, n)
        agents_sim[rep] = iv["agents_on_queue"].to_numpy(float).reshape(days, n)
    if "answered_in_sl" in names:  # service level per cell: answered within T / offered
        with np.errstate(divide="ignore", invalid="ignore"):
            rec["service_level"] = rec["answered_in_sl"] / np.where(rec["offered"] > 0,
                                                                    rec["offered"], np.nan)
            sims["service_level"] = sims["answered_in_sl"] / np.where(
                sims["offered"] > 0, sims["offered"], np.nan)
    # by date and interval
    frames = []
    for m in rec:
        mean, lo, hi, z = _band(sims[m], rec[m], counts=m != "service_level")
        frames.append(pd.DataFrame({
            "date": np.repeat([str(d) for d in dates], n),
            "weekday": np.repeat([weekday(scenario, d) for d in range(days)], n),
            "interval": np.tile([format_clock(h.open + i * step) for i in range(n)], days),
            "measure": m, "recorded": rec[m].ravel(), "simulated": mean.ravel(),
            "low": lo.ravel(), "high": hi.ravel(), "z": z.ravel()}))
    cells = pd.concat(frames, ignore_index=True)
    cells["outside"] = (cells["recorded"] < cells["low"] - 1e-9) | (
        cells["recorded"] > cells["high"] + 1e-9)
    # by weekday and interval: the weeks added up (counts), service level of the sums
    wds = [weekday(scenario, d) for d in range(days)]
    order = list(dict.fromkeys(wds))
    wk_frames = []
    counts = list(names)
    wsum = {m: (np.stack([rec[m][[d for d in range(days) if wds[d] == w]].sum(axis=0)
                          for w in order]),
                np.stack([sims[m][:, [d for d in range(days) if wds[d] == w]].sum(axis=1)
                          for w in order], axis=1)) for m in counts}
    if "answered_in_sl" in names:
        with np.errstate(divide="ignore", invalid="ignore"):
            wsum["service_level"] = (wsum["answered_in_sl"][0] / wsum["offered"][0],
                                     wsum["answered_in_sl"][1] / wsum["offered"][1])
    for m, (r_, s_) in wsum.items():
        mean, lo, hi, z = _band(s_, r_, counts=m != "service_level")
        wk_frames.append(pd.DataFrame({
            "weekday": np.repeat(order, n),
            "interval": np.tile([format_clock(h.open + i * step) for i in range(n)],
                                len(order)),
            "measure": m, "recorded": r_.ravel(), "simulated": mean.ravel(),
            "low": lo.ravel(), "high": hi.ravel(), "z": z.ravel()}))
    weekly = pd.concat(wk_frames, ignore_index=True)
    weekly["outside"] = (weekly["recorded"] < weekly["low"] - 1e-9) | (
        weekly["recorded"] > weekly["high"] + 1e-9)
    # the whole period
    tot_rows = []
    tr = {m: rec[m].sum() for m in counts}
    ts = {m: sims[m].sum(axis=(1, 2)) for m in counts}
    shares = {"answered share": ("answered", "offered"), "abandon rate": ("abandoned", "offered")}
    if "answered_in_sl" in names:
        shares["service level"] = ("answered_in_sl", "offered")
    for label, (num, den) in shares.items():
        mean, lo, hi, z = _band((ts[num] / ts[den])[:, None], np.array([tr[num] / tr[den]]))
        tot_rows.append({"measure": label, "recorded": tr[num] / tr[den],
                         "simulated": float(mean[0]), "low": float(lo[0]),
                         "high": float(hi[0]), "z": float(z[0])})
    totals = pd.DataFrame(tot_rows)
    totals["outside"] = (totals["recorded"] < totals["low"]) | (totals["recorded"] > totals["high"])
    out = Replay(reps=reps, threshold_s=scenario.service_level.threshold_s, cells=cells,
                 weekly=weekly, totals=totals)
    _explain(out, scenario, agents_rec, agents_sim, order, wds)
    return out


def _explain(out: Replay, scenario: Scenario, agents_rec: np.ndarray, agents_sim: np.ndarray,
             order: list[str], wds: list[str]) -> None:
    """The headline sentences and the differences the model does not explain, with a cause."""
    for t in out.totals.itertuples():
        verdict = "outside the band" if t.outside else "within the band"
        out.summary.append(f"{t.measure}: recorded {t.recorded:.1%}, simulated {t.simulated:.1%} "
                           f"(95% band for one period {t.low:.1%} to {t.high:.1%}): {verdict}")
    for name, table in (("date and interval", out.cells), ("weekday and interval", out.weekly)):
        for m, g in table.groupby("measure", sort=False):
            g = g[np.isfinite(g["recorded"]) & np.isfinite(g["simulated"])]
            k, total = int(g["outside"].sum()), len(g)
            if not total:
                continue
            p = float(stats.binom.sf(k - 1, total, 0.05)) if k else 1.0
            more = p < 0.01
            out.summary.append(f"{m} by {name}: {k} of {total} outside the 95% band "
                               f"({total * 0.05:.0f} expected by chance)"
                               + (f"; more than chance (p = {p:.2g})" if more else ""))
    h = scenario.horizon
    if np.isfinite(agents_rec).any():  # the roster is the mean day's: does a weekday differ?
        parts = []
        for w in order:
            days = [d for d in range(len(wds)) if wds[d] == w]
            rec_w = agents_rec[days]
            if not np.isfinite(rec_w).any() or np.nansum(rec_w) == 0:
                continue  # a closed day
            ar, asim = float(np.nanmean(rec_w)), float(agents_sim[:, days].mean())
            parts.append(f"{w} {ar:.1f} recorded, {asim:.1f} simulated")
            if abs(asim - ar) > max(0.05 * ar, 0.5):
                out.unexplained.append(
                    f"{w} agents on queue: {ar:.1f} recorded on average, {asim:.1f} "
                    f"simulated; likely staffing: one roster works every open day (the mean "
                    f"day's), so a weekday staffed otherwise is not reproduced; give it a "
                    "roster of its own in a what-if")
        out.summary.append("agents on queue, mean by weekday: " + "; ".join(parts))
    wk = out.weekly
    for m in ("offered", "abandoned", "answered", "service_level"):
        g = wk[(wk["measure"] == m) & np.isfinite(wk["z"]) & (wk["z"].abs() > 3)
               | (wk["measure"] == m) & np.isinf(wk["z"])]
        for t in g.itertuples():
            i = _index(t.interval, h.open, h.interval_s)
            days = [d for d in range(len(wds)) if wds[d] == t.weekday]
            ar = np.nanmean(agents_rec[days, i]) if np.isfinite(agents_rec[days, i]).any() \
                else math.nan
            asim = float(agents_sim[:, days, i].mean())
            off = wk[(wk["measure"] == "offered") & (wk["weekday"] == t.weekday)
                     & (wk["interval"] == t.interval)]
            offered_out = bool(off["outside"].any())
            if m == "offered" or offered_out:
                why = ("demand: the calls offered are outside what the weekday's mean rate, "
                       "Poisson arrivals and the day's busyness give (an unusual day, or "
                       "within-day over-dispersion)")
            elif math.isfinite(ar) and abs(asim - ar) > max(0.1 * ar, 0.5):
                why = (f"staffing: {asim:.1f} agents on queue simulated against {ar:.1f} "
                       "recorded (one roster works every open day, the mean day's)")
            elif m == "abandoned":
                why = ("patience and balking: one exponential patience and one balking share "
                       "fitted to the whole period's abandons")
            else:
                why = ("handle time or patience: the scenario's AHT and patience are the same "
                       "all day and every day")
            out.unexplained.append(f"{t.weekday} {t.interval} {m}: recorded {_fmt(m, t.recorded)}, "
                                   f"simulated {_fmt(m, t.simulated)} (band {_fmt(m, t.low)} to "
                                   f"{_fmt(m, t.high)}); likely {why}")


def _index(clock: str, open_s: float, step: float) -> int:
    hh, mm = map(int, clock.split(":"))
    return round((hh * 3600 + mm * 60 - open_s) / step)


def _fmt(measure: str, x: float) -> str:
    return f"{x:.1%}" if measure == "service_level" else f"{x:.1f}"


def write_replay(r: Replay, folder: Path, title: str) -> list[Path]:
    """The replay's tables (CSV), its figure (PNG) and a summary (Markdown) in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.store import atomic_write, write_csv

    paths = [write_csv(r.cells, folder / "replay-intervals.csv"),
             write_csv(r.weekly, folder / "replay-weekday.csv"),
             write_csv(r.totals, folder / "replay-totals.csv")]
    ms = [m for m in ("service_level", "answered", "abandoned", "offered")
          if m in set(r.weekly["measure"])]
    fig, axes = plt.subplots(len(ms), 1, figsize=(11, 2.4 * len(ms)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, m in zip(axes, ms, strict=True):
        g = r.weekly[r.weekly["measure"] == m].reset_index(drop=True)
        x = np.arange(len(g))
        ax.fill_between(x, g["low"], g["high"], color="tab:blue", alpha=0.25, step="mid",
                        label=f"simulated 95% band ({r.reps} replications)")
        ax.plot(x, g["simulated"], color="tab:blue", lw=1, drawstyle="steps-mid",
                label="simulated mean")
        ax.plot(x, g["recorded"], "o", ms=2.5, color="black", label="recorded")
        bad = g["outside"].to_numpy()
        ax.plot(x[bad], g["recorded"][bad], "o", ms=4, mfc="none", color="tab:red",
                label="outside the band")
        ax.set_ylabel(m.replace("_", " ") + (" (share)" if m == "service_level"
                                             else " (calls)"))
        starts = [k for k in range(len(g)) if k == 0 or g["weekday"][k] != g["weekday"][k - 1]]
        for k in starts[1:]:
            ax.axvline(k - 0.5, color="grey", lw=0.5)
    axes[0].legend(fontsize=7, ncol=4, loc="upper right")
    axes[-1].set_xticks(starts, [g["weekday"][k] for k in starts])
    axes[-1].set_xlabel("weekday and interval (the report's weeks added up)")
    fig.suptitle(f"Replay of {title}: recorded against simulated, by weekday and interval",
                 fontsize=10)
    fig.tight_layout()
    paths.append(atomic_write(folder / "replay.png", lambda p: fig.savefig(p, dpi=110,
                                                                           format="png")))
    plt.close(fig)
    tests = int(np.isfinite(r.weekly["z"]).sum())
    text = [f"# Replay of {title}", "", f"{r.reps} replications of the imported scenario "
            "over the report's weeks; a band is the 95% range of one realisation "
            "(mean +- t s sqrt(1 + 1/R)).", "", *[f"- {s}" for s in r.summary], "",
            "## Differences the model does not explain (|z| > 3, by weekday and interval)", "",
            f"Of {tests} such comparisons about {tests * 0.0027:.1f} would pass |z| > 3 by "
            "chance were the counts normal; abandons are skewed (a busy interval's queue "
            "makes many at once), so a few more are no contradiction.", ""]
    text += [f"- {u}" for u in r.unexplained] or ["- none"]
    paths.append(atomic_write(folder / "replay.md",
                              lambda p: p.write_text("\n".join(text) + "\n", encoding="utf-8")))
    return paths
