"""Import an ACD interval report: a scenario of your own centre from its own numbers.

An ACD (the telephone system's call distributor) reports per day and interval how many
calls were offered, answered and abandoned and their average handle time. This module
reads such a report as CSV, checks every cell (an error names the file, the row, the
column, the value and what is allowed), and estimates what a scenario needs from 4 weeks
or more (:data:`MIN_WEEKS` of each weekday with calls, no open day missing):

- ``horizon``: opening time, hours and interval length (the first and last interval with
  calls; the interval length is the report's step); ``days`` and ``demand.start_date``
  replay the report's open days;
- ``demand.week``: the weekdays with calls are the open days; each weekday's factor is its
  mean offered calls over the mean open day's (``calls_per_day``). A weekday whose
  intraday shape differs from the others' (chi-square at :data:`PROFILE_TEST_LEVEL`)
  gets its own profile; the rest share ``demand.profile``;
- ``demand.holidays``: open weekdays without a call (closed), by date;
- ``demand.busyness_cv``: the day-to-day over-dispersion of the daily totals after the
  weekday factors, from ``Var(total / f) = m / f + cv^2 m^2`` (a Poisson count with a
  Gamma day factor), with one degree of freedom per weekday mean spent;
- ``calls.talk.mean_s`` and ``calls.acw.mean_s``: the answered-weighted mean AHT, split
  between talk and wrap-up in the base scenario's proportions (an ACD's AHT does not say
  how much was wrap-up);
- ``calls.talk.cv``: the handle-time variability the interval AHTs imply
  (:func:`handle_cv`: an interval's mean of ``n`` handle times has variance ``sigma^2 / n``,
  so the answered-weighted spread of interval AHTs about their time of day's mean
  estimates ``sigma^2``), with its standard error; the talk time's CV is set so that talk
  plus the base's wrap-up has that variance;
- ``staffing.shifts``: shifts putting the report's agents on queue (``agents`` column,
  mean per interval; without it, the workload at an assumed 85% occupancy), chosen by
  :func:`fit` (:func:`analysis.acd_replay.staff`);
- ``calls.patience`` and ``calls.balk_probability``: fitted by simulation of the report's
  weeks (:func:`fit`, :func:`analysis.acd_replay.fit_abandonment`), from a rough start
  (:func:`_patience`: ``offered x ASA / abandoned``, or an Erlang A inversion with the
  ``agents`` column). Balking needs a ``short_abandoned`` column; without one it is 0.

Everything else (breaks, behaviour, regime) comes from the base scenario the written
file ``extends``; :mod:`analysis.acd_replay` replays the report with the result, and
docs/own-centre.md says what to change next.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import tempfile
import textwrap
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w
from scipy import stats

from sim.scenario import Scenario, format_clock, load_scenario
from sim.scenario.loading import extends_chain, read_limited, shown
from sim.scenario.sections import WEEKDAYS

REQUIRED = ("date", "interval", "offered", "answered", "abandoned", "aht")
OPTIONAL = ("asa", "agents", "short_abandoned", "answered_in_sl")
#: whole-number columns (calls), required and optional
COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "answered_in_sl")
#: weekdays in messages
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: the shortest report a weekly pattern is estimated from: 4 of each weekday with calls
MIN_WEEKS = 4
MAX_ROWS = 1_000_000
#: largest report read, in bytes (a million rows of about 60 bytes, with room to spare)
MAX_REPORT_BYTES = 128 * 1024 * 1024
#: the encodings tried, in order: UTF-8 (with or without a byte-order mark), then
#: Windows-1252, what spreadsheet programs on Windows write (a superset of Latin-1's
#: printable characters); a report in neither is refused, naming the encoding to use
ENCODINGS = ("utf-8", "cp1252")
_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


class AcdError(ValueError):
    """The report cannot be read; the message names file, row, column and value."""


@dataclass(frozen=True)
class AcdEstimate:
    """What the report says about the centre (see the module doc for each estimate)."""

    source: str
    days: int
    open_s: float
    hours: float
    interval_minutes: float
    profile: tuple[float, ...]
    calls_per_day: float
    dow_factors: dict[str, float]
    busyness_cv: float
    aht_s: float
    talk_mean_s: float
    acw_mean_s: float
    abandon_rate: float
    patience_s: float | None
    patience_method: str
    notes: list[str] = field(default_factory=list)
    #: the profiles (peak 1) of the weekdays whose intraday shape is their own
    week_profiles: dict[str, tuple[float, ...]] = field(default_factory=dict)
    #: the first open day of the report (day 0 of the written scenario) and the open days
    start_date: str = ""
    open_days: int = 0
    #: open weekdays without a call (closed: a holiday of factor 0), as dates
    holidays: tuple[str, ...] = ()
    #: agents on queue per interval to staff (mean over the ordinary open days) and how
    agents_on_queue: tuple[float, ...] = ()
    agents_method: str = ""
    #: totals of the optional columns (None: the column is absent)
    short_abandoned: int | None = None
    answered_in_sl: int | None = None
    balk_probability: float = 0.0
    balk_method: str = "none (no short_abandoned column; assumed 0)"
    #: the roster chosen by :func:`fit` (name -> start, hours, agents); empty before
    shifts: dict[str, dict] = field(default_factory=dict)
    #: the abandonment fit's last simulated totals (abandoned, short, waited, ...)
    fit_simulated: dict[str, float] = field(default_factory=dict)
    #: handle-time CV the interval AHTs imply (:func:`handle_cv`; NaN: not estimable), its
    #: standard error, and the talk-time CV written so talk + wrap-up has it (None: kept)
    handle_cv: float = math.nan
    handle_cv_se: float = math.nan
    talk_cv: float | None = None
    handle_cv_method: str = "not estimated"


def _where(path: Path, row: int, column: str) -> str:
    return f"{shown(path)}: row {row} (line {row + 1}), column {column!r}"


def read_report(path: str | Path) -> pd.DataFrame:
    """Read and check an ACD interval report (CSV with a header row).

    Columns (any order, names case-insensitive): ``date`` (YYYY-MM-DD), ``interval`` (the
    interval's start, HH:MM), ``offered``, ``answered``, ``abandoned`` (whole numbers >= 0,
    answered + abandoned <= offered), ``aht`` (seconds >= 0; may be empty when nothing was
    answered); optional ``asa`` (seconds >= 0) and ``agents`` (agents on queue, >= 0).
    Other columns are ignored. Returns one row per (date, interval), with ``start_s``
    (seconds after midnight) and ``weekday`` (0 = Monday) added.
    """
    path = Path(path)
    data = read_limited(path, "the report", MAX_REPORT_BYTES, kind="an ACD report",
                        hint="give the report as a .csv file", error=AcdError)
    text, encoding = decode_report(path, data)
    with io.StringIO(text, newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        delim = ";" if sample.count(";") > sample.count(",") else ","
        reader = csv.reader(fh, delimiter=delim)
        try:
            header = next(reader)
        except StopIteration:
            raise AcdError(f"{shown(path)}: the file is empty; expected a header row with the "
                           f"columns {', '.join(REQUIRED)}") from None
        except csv.Error as exc:
            raise AcdError(f"{shown(path)}: line 1: not CSV: {exc}") from None
        names = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise AcdError(f"{shown(path)}: the header has no column "
                           f"{', '.join(map(repr, missing))}; found "
                           f"{', '.join(map(repr, names))}; required are "
                           f"{', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)})")
        dup = sorted({n for n in names if names.count(n) > 1 and n in REQUIRED + OPTIONAL})
        if dup:
            raise AcdError(f"{shown(path)}: column {dup[0]!r} appears more than once in the header")
        col = {n: names.index(n) for n in REQUIRED + OPTIONAL if n in names}
        rows: list[dict] = []
        try:
            for k, cells in enumerate(reader, start=1):
                if not any(c.strip() for c in cells):
                    continue
                if k > MAX_ROWS:
                    raise AcdError(f"{shown(path)}: more than {MAX_ROWS:,} rows; split the report")
                if len(cells) < len(names):
                    raise AcdError(f"{shown(path)}: row {k} (line {k + 1}) has {len(cells)} cells, "
                                   f"the header {len(names)}")
                rows.append(_row(path, k, {n: cells[i].strip() for n, i in col.items()}))
        except csv.Error as exc:
            raise AcdError(f"{shown(path)}: line {reader.line_num}: not CSV: {exc}") from None
    if not rows:
        raise AcdError(f"{shown(path)}: no data rows under the header")
    df = pd.DataFrame(rows)
    df.attrs["encoding"] = encoding
    seen = df.duplicated(["date", "start_s"], keep="first")
    if seen.any():
        r = df[seen].iloc[0]
        raise AcdError(f"{_where(path, int(r['row']), 'interval')}: {r['date']} "
                       f"{format_clock(r['start_s'])} appears twice; one row per date and "
                       "interval")
    out = df.sort_values(["date", "start_s"]).reset_index(drop=True)
    out.attrs["encoding"] = encoding
    return out


def decode_report(path: Path, data: bytes) -> tuple[str, str]:
    """The report's text and the encoding it was read in: UTF-8 if valid, else Windows-1252.

    A UTF-8 byte-order mark is dropped. Bytes that are neither (Windows-1252 leaves five
    undefined) are an :class:`AcdError` naming the file, the byte and the encoding to use.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise AcdError(f"{shown(path)}: line {line}: byte 0x{data[exc.start]:02x} is neither "
                       "UTF-8 nor Windows-1252 (cp1252) text; save the report as CSV with "
                       "the encoding UTF-8") from None


def _row(path: Path, k: int, cell: dict[str, str]) -> dict:
    """One checked data row."""
    out: dict = {"row": k}
    try:
        out["date"] = dt.date.fromisoformat(cell["date"])
    except ValueError:
        raise AcdError(f"{_where(path, k, 'date')}: {cell['date']!r} is not a date; use "
                       "YYYY-MM-DD, e.g. 2018-03-26") from None
    m = _CLOCK.match(cell["interval"].split("-")[0].strip())  # "08:00" or "08:00-08:15"
    secs = None
    if m:
        secs = int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3] or 0)
    if secs is None or secs >= 86_400:
        raise AcdError(f"{_where(path, k, 'interval')}: {cell['interval']!r} is not an "
                       "interval start; use HH:MM between 00:00 and 23:59, e.g. 08:15")
    out["start_s"] = float(secs)
    out["weekday"] = out["date"].weekday()
    for c in COUNTS[:3]:
        v = cell[c]
        if not re.fullmatch(r"\d+(\.0*)?", v):
            raise AcdError(f"{_where(path, k, c)}: {v!r} is not a number of calls; use a "
                           "whole number >= 0")
        out[c] = int(float(v))
    if out["answered"] + out["abandoned"] > out["offered"]:
        raise AcdError(f"{_where(path, k, 'offered')}: {out['offered']} offered is fewer than "
                       f"answered ({out['answered']}) + abandoned ({out['abandoned']}); "
                       "offered must include both")
    for c in ("short_abandoned", "answered_in_sl"):
        if c not in cell:
            continue
        v = cell[c]
        if v == "":
            out[c] = math.nan
            continue
        if not re.fullmatch(r"\d+(\.0*)?", v):
            raise AcdError(f"{_where(path, k, c)}: {v!r} is not a number of calls; use a "
                           "whole number >= 0")
        out[c] = int(float(v))
    if out.get("short_abandoned", 0) > out["abandoned"]:
        raise AcdError(f"{_where(path, k, 'short_abandoned')}: {out['short_abandoned']} short "
                       f"abandons but {out['abandoned']} abandoned; short abandons are some of "
                       "the abandoned calls (contradictory columns)")
    if out.get("answered_in_sl", 0) > out["answered"]:
        raise AcdError(f"{_where(path, k, 'answered_in_sl')}: {out['answered_in_sl']} answered "
                       f"within the threshold but {out['answered']} answered; they are some of "
                       "the answered calls (contradictory columns)")
    for c in ("aht", "asa", "agents"):
        if c not in cell:
            continue
        v = cell[c]
        need = c == "aht" and out["answered"] > 0
        if v == "" and not need:
            out[c] = math.nan
            continue
        try:
            x = float(v.replace(",", ".")) if v.count(",") == 1 and "." not in v else float(v)
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and x >= 0):
            what = {"aht": "an average handle time in seconds >= 0",
                    "asa": "an average speed of answer in seconds >= 0",
                    "agents": "a number of agents on queue >= 0"}[c]
            hint = " (required when calls were answered)" if need else ""
            raise AcdError(f"{_where(path, k, c)}: {v!r} is not {what}{hint}")
        out[c] = x
    if out.get("agents") == 0 and out["answered"] > 0:
        raise AcdError(f"{_where(path, k, 'agents')}: 0 agents on queue with {out['answered']} "
                       "calls answered (contradictory columns); agents on queue must be > 0 "
                       "when calls were answered")
    if out["answered"] > 0 and out["aht"] == 0:
        raise AcdError(f"{_where(path, k, 'aht')}: 0 s with {out['answered']} calls answered; "
                       "an answered call has a handle time > 0")
    return out


def estimate(report: pd.DataFrame, base: Scenario, source: str = "report") -> AcdEstimate:
    """Estimate the weekly demand, handle time, staffing and a first patience from a report.

    The report must cover at least 4 weeks (:data:`MIN_WEEKS`) with no open day missing;
    the roster, balking and the final patience are chosen by :func:`fit`.
    """
    notes: list[str] = []
    if report.attrs.get("encoding", "utf-8") != "utf-8":
        notes.append(f"the report is not UTF-8; it was read as {report.attrs['encoding']} "
                     "(Windows-1252, what spreadsheet programs on Windows write)")
    # the interval length: the commonest step between a day's consecutive starts (ties:
    # the longer, since a stray start makes short steps)
    steps = report.groupby("date")["start_s"].diff().dropna().to_numpy()
    steps = steps[steps > 0]
    if len(steps):
        vals, counts = np.unique(steps, return_counts=True)
        step = float(vals[counts == counts.max()].max())
    else:
        step = base.horizon.interval_s
    first = float(report["start_s"].min())
    off = (report["start_s"].to_numpy() - first) / step
    stray = np.abs(off - np.round(off)) > 1e-9
    if stray.any():
        r = report[stray].iloc[0]
        raise AcdError(f"{_where(Path(source), int(r['row']), 'interval')}: "
                       f"{format_clock(r['start_s'])} is not on the report's "
                       f"{step / 60:g}-minute grid (from {format_clock(first)}); every interval "
                       "must start a whole number of intervals after the first")
    busy = report.groupby("start_s")["offered"].sum()
    busy = busy[busy > 0]
    if busy.empty:
        raise AcdError(f"{shown(source)}: column 'offered': no call was offered in any interval")
    open_s, close_s = float(busy.index.min()), float(busy.index.max()) + step
    if close_s > 86_400:
        raise AcdError(f"{shown(source)}: column 'interval': the last interval with calls "
                       "ends after 24:00")
    n = round((close_s - open_s) / step)
    dates = sorted(report["date"].unique())
    span = (dates[-1] - dates[0]).days + 1
    slot = np.round((report["start_s"].to_numpy() - open_s) / step).astype(int)
    inside = (slot >= 0) & (slot < n)
    day = np.searchsorted(np.array(dates), report["date"].to_numpy())
    grid = np.zeros((len(dates), n))  # missing rows inside the hours: nothing offered
    np.add.at(grid, (day[inside], slot[inside]), report["offered"].to_numpy()[inside])
    outside = int(report["offered"].to_numpy()[~inside].sum())
    if outside:
        notes.append(f"{outside} calls offered outside the opening hours were left out")
    totals = grid.sum(axis=1)
    wd = np.array([d.weekday() for d in dates])
    open_wd = sorted({int(w) for w, t in zip(wd, totals, strict=True) if t > 0})
    seen = {w: sum(1 for k in range(span) if (dates[0] + dt.timedelta(k)).weekday() == w)
            for w in open_wd}
    few = min(open_wd, key=lambda w: (seen[w], w))
    if seen[few] < MIN_WEEKS:
        raise AcdError(f"{shown(source)}: column 'date': the report covers {span} day"
                       f"{'s' if span != 1 else ''} ({dates[0]} to {dates[-1]}), with "
                       f"{seen[few]} {DAY_NAMES[few]}{'s' if seen[few] != 1 else ''}; at least "
                       f"{MIN_WEEKS} weeks ({MIN_WEEKS} of each weekday with calls) are needed "
                       "to estimate a weekly pattern and its day-to-day variation; export a "
                       "longer report")
    have = set(dates)
    first_open = next(d for d in dates if d.weekday() in open_wd)
    for k in range(span):  # every open weekday in the span must be in the report
        d = dates[0] + dt.timedelta(k)
        if d.weekday() in open_wd and d not in have:
            wname = DAY_NAMES[d.weekday()]
            raise AcdError(f"{shown(source)}: column 'date': no rows for {d} (a {wname}), "
                           f"though the report's other {wname}s have calls: a gap; give that "
                           "day's intervals (with 0 calls if the centre was closed)")
    holidays = tuple(str(d) for d, w, t in zip(dates, wd, totals, strict=True)
                     if w in open_wd and t == 0)
    if holidays:
        notes.append(f"{len(holidays)} open weekday(s) without a call are holidays (closed): "
                     + ", ".join(holidays))
    ordinary = np.array([w in open_wd and t > 0 for w, t in zip(wd, totals, strict=True)])
    mean_day = float(totals[ordinary].mean())
    dow = {WEEKDAYS[w]: float(totals[ordinary & (wd == w)].mean() / mean_day) for w in open_wd}
    week_profiles, profile = _weekday_profiles(grid, ordinary, wd, open_wd)
    cv = 0.0
    groups = len(dow)
    m = ordinary.sum()
    if m > groups:
        f = np.array([dow[WEEKDAYS[w]] for w in wd[ordinary]])
        resid = totals[ordinary] / f
        var = float(((resid - mean_day) ** 2).sum() / (m - groups))
        # a day of factor f has Var(total / f) = mean / f + cv^2 mean^2 (Poisson, Gamma day)
        cv = math.sqrt(max(0.0, (var - float(np.mean(mean_day / f))) / mean_day**2))
        cv = min(cv, 2.0)
    ans = report[report["answered"] > 0]
    answered = int(report["answered"].sum())
    if answered == 0:
        raise AcdError(f"{shown(source)}: column 'answered': no call was answered, so there is no "
                       "handle time to estimate")
    aht = float((ans["aht"] * ans["answered"]).sum() / answered)
    t, a = base.calls.talk.mean_s, base.calls.acw.mean_s
    talk_share = t / (t + a) if t + a > 0 else 1.0
    hcv, hcv_se, hcv_method = handle_cv(report)
    talk_cv = None
    if math.isfinite(hcv):
        talk_cv, why = talk_cv_for(hcv, aht * talk_share, aht * (1 - talk_share), base)
        if why:
            notes.append(why)
    offered, abandoned = int(report["offered"].sum()), int(report["abandoned"].sum())
    patience, method = _patience(report, aht, step, offered, abandoned, notes)
    agents, agents_method = _agents_on_queue(report, grid, day, slot, inside, ordinary, aht,
                                             step, n)
    totals_of = {c: (int(report[c].fillna(0).sum()) if c in report and report[c].notna().any()
                     else None) for c in ("short_abandoned", "answered_in_sl")}
    open_days = sum(1 for k in range((dates[-1] - first_open).days + 1)
                    if (first_open + dt.timedelta(k)).weekday() in open_wd)
    return AcdEstimate(
        source=source, days=int(ordinary.sum()) + len(holidays), open_s=open_s,
        hours=(close_s - open_s) / 3600,
        interval_minutes=step / 60, profile=profile,
        calls_per_day=mean_day, dow_factors=dow, busyness_cv=cv, aht_s=aht,
        talk_mean_s=aht * talk_share, acw_mean_s=aht * (1 - talk_share),
        abandon_rate=abandoned / offered if offered else 0.0, patience_s=patience,
        patience_method=method, notes=notes, week_profiles=week_profiles,
        start_date=str(first_open), open_days=open_days, holidays=holidays,
        agents_on_queue=agents, agents_method=agents_method,
        short_abandoned=totals_of["short_abandoned"],
        answered_in_sl=totals_of["answered_in_sl"], handle_cv=hcv, handle_cv_se=hcv_se,
        talk_cv=talk_cv, handle_cv_method=hcv_method)


#: the fewest answered calls an interval needs to count in :func:`handle_cv` (an AHT of one
#: or two calls is often rounded or capped by the ACD, and says little)
HANDLE_CV_MIN_CALLS = 3
#: the fewest intervals (beyond one per time of day) :func:`handle_cv` estimates from
HANDLE_CV_MIN_DOF = 20
#: the talk-time CV written when the wrap-up alone explains the handle-time spread
TALK_CV_FLOOR = 0.05


def handle_cv(report: pd.DataFrame) -> tuple[float, float, str]:
    """(CV of one call's handle time, its standard error, how) from the interval AHTs.

    An interval's AHT is the mean of its ``n`` answered calls' handle times: with calls
    independent, of variance ``sigma^2`` about a mean that depends on the time of day
    (``mu_s``), ``Var(AHT) = sigma^2 / n``. So within each time of day ``s`` (its intervals
    over the report's days, ``n``-weighted mean ``m_s``), ``Q_s = sum n (AHT - m_s)^2`` has
    expectation ``(k_s - 1) sigma^2`` over its ``k_s`` intervals, and ``sigma^2 =
    sum Q_s / sum (k_s - 1)``: the within-group mean square of a one-way analysis of
    variance with unequal group sizes (Searle, Casella & McCulloch (1992), Variance
    Components, s. 3.5), each interval a group of ``n`` calls. CV = ``sigma / AHT`` (the
    answered-weighted mean). Its standard error is a sandwich one, from the spread of the
    ``Q_s`` about ``sigma^2 (k_s - 1)`` (a ratio estimator: no normality assumed, which the
    skewed handle times would break), carried to the CV by the delta method. Intervals with
    fewer than :data:`HANDLE_CV_MIN_CALLS` answered calls are left out. A mean handle time
    that drifts between days at the same time of day (a new product, a system outage) adds
    to the estimate: read it as an upper figure then.
    """
    r = report[(report["answered"] >= HANDLE_CV_MIN_CALLS) & report["aht"].notna()]
    n = r["answered"].to_numpy(float)
    x = r["aht"].to_numpy(float)
    slot = r["start_s"].to_numpy()
    if len(r) == 0:
        return math.nan, math.nan, "not estimated (no interval with 3 or more answered calls)"
    keys, inv = np.unique(slot, return_inverse=True)
    w = np.bincount(inv, weights=n)
    m = np.bincount(inv, weights=n * x) / w
    q = np.bincount(inv, weights=n * (x - m[inv]) ** 2)
    k = np.bincount(inv).astype(float)
    dof = float((k - 1).sum())
    mean = float((n * x).sum() / n.sum())
    if dof < HANDLE_CV_MIN_DOF or mean <= 0:
        return (math.nan, math.nan, f"not estimated (only {dof:g} intervals beyond one per "
                f"time of day with {HANDLE_CV_MIN_CALLS} or more answered calls; "
                f"{HANDLE_CV_MIN_DOF} needed)")
    var = float(q.sum() / dof)
    used = k > 1
    se_var = float(math.sqrt(((q - var * (k - 1))[used] ** 2).sum()) / dof)
    if var <= 0:
        return 0.0, math.nan, "the interval AHTs do not vary: a constant handle time"
    cv = math.sqrt(var) / mean
    se = se_var / (2 * math.sqrt(var) * mean)  # d sqrt(v) / dv = 1 / (2 sqrt(v))
    return cv, se, (f"from the spread of {len(r):,} interval AHTs about their time of day's "
                    f"mean, Var(interval AHT) = sigma^2 / answered calls (one-way analysis "
                    f"of variance, {dof:g} degrees of freedom)")


def talk_cv_for(handle: float, talk_mean: float, acw_mean: float, base: Scenario
                ) -> tuple[float | None, str]:
    """The talk-time CV that gives talk + the base's wrap-up the handle-time CV ``handle``.

    Talk and wrap-up are drawn independently, so their variances add: ``(handle x AHT)^2 =
    (cv_talk x talk)^2 + (cv_acw x acw)^2``. Returns (CV, a note; empty when none is due).
    """
    if talk_mean <= 0:
        return None, "handle-time CV: the base has no talk time to carry it; not written"
    acw_cv = {"exponential": 1.0, "fixed": 0.0}.get(base.calls.acw.distribution,
                                                     base.calls.acw.cv)
    left = (handle * (talk_mean + acw_mean)) ** 2 - (acw_cv * acw_mean) ** 2
    if left <= (TALK_CV_FLOOR * talk_mean) ** 2:
        return TALK_CV_FLOOR, (f"handle-time CV {handle:.3f}: the base's wrap-up variability "
                               f"alone explains it; talk CV set to {TALK_CV_FLOOR:g}")
    return min(math.sqrt(left) / talk_mean, 10.0), ""


#: a weekday keeps a profile of its own when its shape differs from the others' at this level
PROFILE_TEST_LEVEL = 0.001


def _weekday_profiles(grid: np.ndarray, ordinary: np.ndarray, wd: np.ndarray,
                      open_wd: list[int]) -> tuple[dict[str, tuple[float, ...]],
                                                   tuple[float, ...]]:
    """The weekdays whose intraday shape is their own, and the shared profile (peak 1).

    A weekday's offered calls per interval, added over its days, are tested against the
    shared shape (chi-square, Poisson counts; the day's busyness scales a whole day, so it
    leaves the shape alone) at :data:`PROFILE_TEST_LEVEL`; the weekdays that differ get
    their own mean profile, the rest share one estimated from all of them. A raw mean per
    weekday and interval over 4 weeks would copy each interval's Poisson noise into the
    rates, and the more uneven rates make the simulation abandon more than the centre.
    """
    sums = {w: grid[ordinary & (wd == w)].sum(axis=0) for w in open_wd}
    own: set[int] = set()
    for _ in range(len(open_wd)):  # drop the most different weekday until none differs
        shared = [w for w in open_wd if w not in own]
        if len(shared) < 2:
            break
        pooled = sum(sums[w] for w in shared)
        worst, p_worst = None, 1.0
        for w in shared:
            rest = pooled - sums[w]  # the shape of the others, so a weekday is not its own test
            if rest.sum() <= 0:
                continue
            expect = rest / rest.sum() * sums[w].sum()
            used = expect > 0
            chi2 = float((((sums[w] - expect) ** 2)[used] / expect[used]).sum())
            p = float(stats.chi2.sf(chi2, max(int(used.sum()) - 1, 1)))
            if p < p_worst:
                worst, p_worst = w, p
        if worst is None or p_worst >= PROFILE_TEST_LEVEL:
            break
        own.add(worst)
    shared = [w for w in open_wd if w not in own] or list(open_wd)
    pooled = sum(sums[w] for w in shared)
    week = {WEEKDAYS[w]: tuple(float(x) for x in sums[w] / sums[w].max()) for w in sorted(own)}
    return week, tuple(float(x) for x in pooled / pooled.max())


#: the occupancy assumed for the head count when the report has no agents column
ASSUMED_OCCUPANCY = 0.85


def _agents_on_queue(report: pd.DataFrame, grid: np.ndarray, day: np.ndarray,
                     slot: np.ndarray, inside: np.ndarray, ordinary: np.ndarray, aht: float,
                     step: float, n: int) -> tuple[tuple[float, ...], str]:
    """Agents on queue per interval to staff: the report's mean, else workload / 0.85."""
    if "agents" in report and report["agents"].notna().any():
        g = np.zeros_like(grid)
        vals = report["agents"].fillna(0.0).to_numpy()
        np.add.at(g, (day[inside], slot[inside]), vals[inside])
        return (tuple(float(x) for x in g[ordinary].mean(axis=0)),
                "the report's agents on queue, mean per interval over the open days")
    load = grid[ordinary].mean(axis=0) * aht / step
    return (tuple(float(x) for x in load / ASSUMED_OCCUPANCY),
            f"no agents column: the workload (offered x AHT) at an assumed occupancy of "
            f"{ASSUMED_OCCUPANCY:.0%}")


def _patience(report: pd.DataFrame, aht: float, step: float, offered: int, abandoned: int,
              notes: list[str]) -> tuple[float | None, str]:
    """A rough mean patience (see the module doc), and how it was found."""
    if abandoned == 0:
        notes.append("patience: no call was abandoned, so the report says nothing about it; "
                     "the base scenario's patience is kept")
        return None, "none (no abandoned calls)"
    if "asa" in report and report["asa"].notna().any():
        r = report[report["asa"].notna()]
        waited = float((r["asa"] * r["offered"]).sum())
        return waited / abandoned, "offered x ASA / abandoned (crude)"
    if "agents" in report and report["agents"].notna().any():
        from sim.planning.erlang import erlang_a_metrics

        load = report["offered"] / step * aht / report["agents"].clip(lower=0.5)
        r = report[(report["offered"] > 0) & (report["agents"] >= 0.5) & (load <= 0.9)]
        hit = int(r["abandoned"].sum())
        # intervals with the same offered calls and agents count once, weighted
        same = r.assign(c=np.round(r["agents"]).astype(int)).groupby(
            ["offered", "c"]).size().reset_index(name="n")
        cases = list(zip(same["offered"].to_numpy(dtype=float), same["c"], same["n"],
                         strict=True))

        def expected(p: float) -> float:
            return float(sum(n * o * erlang_a_metrics(o / step, aht, int(c), 0.0, p).abandon_rate
                             for o, c, n in cases))

        lo, hi = math.log(5.0), math.log(7200.0)
        if hit == 0 or expected(math.exp(hi)) > hit or expected(math.exp(lo)) < hit:
            notes.append("patience: Erlang A cannot match the abandoned calls with any "
                         "patience between 5 s and 2 h at these agents; not estimated")
            return None, "none (Erlang A found no patience)"
        for _ in range(16):  # the abandoned calls fall as patience grows
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if expected(math.exp(mid)) > hit else (lo, mid)
        return math.exp((lo + hi) / 2), "Erlang A inversion with the report's agents (rough)"
    notes.append("patience: the report has neither an agents nor an asa column; the base "
                 "scenario's patience is kept")
    return None, "none (no agents or asa column)"


def one_line(text: str, limit: int = 200) -> str:
    r"""``text`` as one printable line, at most ``limit`` characters (cut with "...").

    Control and format characters (newlines, tabs, terminal escape sequences, bidirectional
    overrides) and every space but the plain one become visible ``\n`` / ``\xNN`` /
    ``\uNNNN`` escapes, and a backslash ``\\``. For text from outside (a report's file
    name) shown in a terminal line or a rationale: it can neither start a line nor hide.
    """
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch != " " and unicodedata.category(ch)[0] in "CZ":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    line = "".join(out)
    return line if len(line) <= limit else line[:limit - 3] + "..."


#: the comment at the top of every written scenario: fixed text only (no text from the
#: report goes into a comment; the values are TOML data, written by the serializer)
HEADER = """\
# Written by `ccsim import-acd` from an ACD interval report (the rationale names it and says
# how each value was estimated). Demand (a weekly pattern), handle time, patience, balking
# and a roster putting the report's agents on queue are the report's; breaks, behaviour and
# everything else are the base scenario's (extends). horizon.days and demand.start_date
# replay the report's weeks: change them for a forecast (docs/own-centre.md).
"""


def overrides(est: AcdEstimate, base: Scenario, shifts: dict[str, dict] | None = None
              ) -> dict[str, object]:
    """The imported values as dotted scenario keys (what the file sets over its base)."""
    out: dict[str, object] = {
        "horizon.open": format_clock(est.open_s),
        "horizon.hours": float(f"{est.hours:g}"),
        "horizon.interval_minutes": float(f"{est.interval_minutes:g}"),
        "horizon.days": est.open_days,
        "demand.calls_per_day": round(est.calls_per_day, 1),
        "demand.busyness_cv": round(est.busyness_cv, 3),
        "demand.profile": [round(x, 4) for x in est.profile],
        "demand.week": {w: {"factor": round(f, 4)} | (
            {"profile": [round(x, 4) for x in est.week_profiles[w]]}
            if w in est.week_profiles else {}) for w, f in est.dow_factors.items()},
        "demand.start_date": est.start_date,
        "calls.talk.mean_s": round(est.talk_mean_s, 1),
        **({"calls.talk.cv": round(est.talk_cv, 3)} | (
            {} if base.calls.talk.distribution in ("lognormal", "gamma") else
            {"calls.talk.distribution": "lognormal"}) if est.talk_cv is not None else {}),
        "calls.acw.mean_s": round(est.acw_mean_s, 1),
        "calls.balk_probability": round(est.balk_probability, 4),
    }
    if base.demand.first_weekday is not None:  # the start date's weekday decides
        out["demand.first_weekday"] = WEEKDAYS[dt.date.fromisoformat(est.start_date).weekday()]
    if est.holidays:
        out["demand.holidays"] = [{"date": d, "name": "no calls in the report"}
                                  for d in est.holidays]
    if est.patience_s is not None:
        out["calls.patience"] = {"distribution": "exponential", "mean_s": round(est.patience_s, 1)}
    if base.calls.repeat_probability > 0:  # the report's offered calls include the repeats
        out["calls.repeat_probability"] = 0.0
    if shifts is not None:
        from analysis.acd_replay import with_shifts

        out["staffing.shifts"] = with_shifts(base, shifts)
        if base.staffing.agents is not None:
            out["staffing.agents"] = sum(sh["agents"] for sh in shifts.values())
    return out


def _nest(dotted: dict[str, object]) -> dict:
    """``{"a.b": 1}`` as ``{"a": {"b": 1}}`` (TOML tables)."""
    out: dict = {}
    for key, value in dotted.items():
        node = out
        *parents, last = key.split(".")
        for k in parents:
            node = node.setdefault(k, {})
        node[last] = value
    return out


def scenario_data(est: AcdEstimate, extends: str, name: str, base: Scenario,
                  shifts: dict[str, dict] | None = None) -> dict:
    """The scenario ``import-acd`` writes, as TOML data (see :func:`scenario_toml`)."""
    source = one_line(est.source)
    dow = ", ".join(f"{k} {v:.3f}" for k, v in est.dow_factors.items())
    pat = (f"{est.patience_s:.0f} s ({est.patience_method})" if est.patience_s is not None
           else est.patience_method)
    parts = [
        f"Imported by ccsim import-acd from the ACD report '{source}': {est.days} days from "
        f"{est.start_date}, mean {est.calls_per_day:,.0f} calls offered an open day, AHT "
        f"{est.aht_s:.0f} s, {est.abandon_rate:.1%} abandoned. The weekly pattern is each "
        f"open weekday's mean offered per {est.interval_minutes:g}-minute interval; "
        "busyness_cv is the day-to-day variation beyond Poisson after the weekday means; "
        "talk and wrap-up split the AHT in the base's proportions.",
        f"Handle-time CV {est.handle_cv:.3f} (standard error {est.handle_cv_se:.3f}; "
        f"{est.handle_cv_method}); talk CV "
        + ("kept from the base" if est.talk_cv is None else f"{est.talk_cv:.3f}")
        + " with the base's wrap-up.",
        f"Weekday factors (mean offered / mean open day): {dow}.",
        f"Patience {pat}; balking {est.balk_probability:.3f} ({est.balk_method}).",
        f"Staffing: shifts putting on queue {est.agents_method}; breaks and behaviour are the "
        "base's.",
        *(f"Note: {one_line(n, 400)}." for n in est.notes),
    ]
    rationale = "\n\n".join(textwrap.fill(t, width=88) for t in parts)
    data = {
        "extends": extends,
        "description": f"{one_line(name, 120)}: demand and handle time imported from an ACD "
                       f"report ({est.days} days)",
        "rationale": rationale,
    }
    return data | _nest(overrides(est, base, shifts))


def scenario_toml(est: AcdEstimate, extends: str, name: str, base: Scenario,
                  shifts: dict[str, dict] | None = None) -> str:
    """A scenario file extending ``extends`` (a path relative to the written file).

    Every value is written by a TOML serializer (``tomli_w``), never by formatting text,
    so nothing in the report or its file name can become a line of the scenario; the only
    comments are the fixed :data:`HEADER` and a line of the weekday factors (numbers).
    """
    # one comment line of numbers (weekday names and factors the code formats), made one
    # safe line all the same; everything from the report's name is data in the rationale
    dow = one_line(", ".join(f"{k} {v:.3f}" for k, v in est.dow_factors.items()))
    return (HEADER + f"# Weekday factors (mean offered / mean open day): {dow}\n"
            + tomli_w.dumps(scenario_data(est, extends, name, base, shifts),
                            multiline_strings=True))


def _refuse_inputs(out_path: Path, report_path: Path, base_path: Path) -> None:
    """Refuse an ``--out`` that is the report, the base or a file the base extends."""
    inputs = [("the ACD report", report_path.resolve())]
    inputs += [("the base scenario (--base)" if i == 0 else f"a file the base extends "
                f"({i} step{'s' if i > 1 else ''} up its extends chain)", f)
               for i, f in enumerate(extends_chain(base_path))]
    target = out_path.resolve()
    for what, f in inputs:
        same = target == f
        if not same and out_path.exists():
            try:
                same = os.path.samefile(out_path, f)  # hard links, symlinks
            except OSError:
                same = False
        if same:
            raise AcdError(f"--out {out_path}: is {what} {f}; writing it would replace an "
                           "input of this import (with or without --force); choose another "
                           "--out")


def import_report(report_path: str | Path, out_path: str | Path,
                  base_path: str | Path, force: bool = False, seed: int = 0,
                  fit_reps: int = 2) -> tuple[AcdEstimate, Scenario]:
    """Read the report, staff and fit it by simulation, write the scenario, and load it back.

    Staffing and abandonment: :mod:`analysis.acd_replay` (``fit_reps`` replications a fit
    step, seed ``seed``).
    """
    report_path, out_path, base_path = Path(report_path), Path(out_path), Path(base_path)
    if out_path.suffix != ".toml":
        raise AcdError(f"--out: {out_path} should be a .toml file")
    base = load_scenario(base_path)
    _refuse_inputs(out_path, report_path, base_path)
    if out_path.is_symlink() or (out_path.exists() and not out_path.is_file()):
        raise AcdError(f"--out: {out_path} exists and is not a plain file (a folder, link or "
                       "device); choose another name")
    if out_path.exists() and not force:
        raise AcdError(f"--out: {out_path} exists; choose another name or add --force")
    report = read_report(report_path)
    est = estimate(report, base, source=report_path.name)
    est = fit(est, report, base, seed=seed, reps=fit_reps)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(base_path.resolve(), out_path.parent.resolve())
    text = scenario_toml(est, Path(rel).as_posix(), out_path.stem, base,
                        est.shifts or None)
    # a temporary of our own naming next to the target (so extends resolves the same), never
    # a fixed name that could be a user's file
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.stem[:40]}.", suffix=".toml.tmp",
                                    dir=out_path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        scenario = load_scenario(tmp)  # the file must load before it replaces anything
        tmp.replace(out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return est, scenario.model_copy(update={"name": out_path.stem})


def fit(est: AcdEstimate, report: pd.DataFrame, base: Scenario, seed: int = 0,
        reps: int = 2) -> AcdEstimate:
    """``est`` with its roster, patience and balking chosen by simulation of itself.

    The roster puts the report's agents on queue (:func:`analysis.acd_replay.staff`); the
    patience and balking make the simulated weeks abandon as the report did
    (:func:`analysis.acd_replay.fit_abandonment`). A base the imported values do not fit
    (a shift outside the opening hours, say) is the scenario's own error.
    """
    from analysis.acd_replay import fit_abandonment, recorded_counts, staff

    first = base.replace(overrides(est, base))  # the base's shifts, for the pilot's breaks
    shifts, _ = staff(first, np.asarray(est.agents_on_queue), seed=seed)
    scenario = base.replace(overrides(est, base, shifts))
    abandoned = int(report["abandoned"].sum())
    notes = list(est.notes)
    patience, method = est.patience_s, est.patience_method
    balk, balk_method = 0.0, est.balk_method
    simulated: dict[str, float] = {}
    if abandoned > 0:
        start = est.patience_s if est.patience_s is not None else (
            base.calls.patience.mean_s)
        short_s = base.service_level.short_abandon_s
        waited = None
        if "asa" in report and report["asa"].notna().any():
            r = report[report["asa"].notna()]
            waited = float((r["asa"] * r["answered"]).sum())
        got = fit_abandonment(scenario, abandoned, est.short_abandoned, short_s, start,
                              seed=seed, reps=reps, answered_wait_s=waited,
                              counts=recorded_counts(scenario, report))
        patience, balk = got.patience_s, got.balk
        simulated = {k: float(v) for k, v in got.simulated.items()}
        keys = [k for k in ("abandoned", "short", "answered_wait_s") if k in got.recorded]
        sim = ", ".join(f"{k} {got.simulated[k]:,.0f}" for k in keys)
        rec = ", ".join(f"{k} {got.recorded[k]:,.0f}" for k in keys)
        per = ("the longer abandons per second the answered calls waited (answered x asa)"
               if waited else "the abandoned calls (no asa column: counts, which depend on "
               "how busy the weeks were)")
        method = (f"fitted by simulation of the report's weeks to {per}: {rec} recorded, "
                  f"{sim} simulated after {got.steps} step{'s' if got.steps != 1 else ''}")
        if not got.converged:
            notes.append("patience and balking: the fit did not reach the recorded abandons "
                         f"within {FIT_TOLERANCE_TEXT} in {got.steps} steps; the last values "
                         "are written")
        if est.short_abandoned is not None:
            balk_method = (f"fitted to the {est.short_abandoned:,} short abandons (within "
                           f"{short_s:g} s, service_level.short_abandon_s)")
        else:
            balk_method = ("assumed 0: the report has no short_abandoned column, so the "
                           "abandons of the first seconds cannot be told from the others")
    return replace(est, patience_s=patience, patience_method=method, balk_probability=balk,
                   balk_method=balk_method, notes=notes, shifts=shifts,
                   fit_simulated=simulated)


FIT_TOLERANCE_TEXT = "2%"


def summary(est: AcdEstimate) -> str:
    """What was estimated, in a few lines for the terminal."""
    pat = (f"{est.patience_s:.0f} s ({est.patience_method})" if est.patience_s is not None
           else est.patience_method)
    heads = sum(sh["agents"] for sh in est.shifts.values())
    paid = sum(sh["agents"] * sh["hours"] for sh in est.shifts.values())
    lines = [
        f"{est.days} days of {one_line(est.source)} from {est.start_date}, open "
        f"{format_clock(est.open_s)} for {est.hours:g} h in {est.interval_minutes:g}-minute "
        "intervals",
        f"calls_per_day {est.calls_per_day:,.0f} (mean open day); busyness_cv "
        f"{est.busyness_cv:.3f}",
        "weekday factors: " + ", ".join(f"{k} {v:.3f}" for k, v in est.dow_factors.items()),
        *([f"holidays (no calls): {', '.join(est.holidays)}"] if est.holidays else []),
        f"AHT {est.aht_s:.0f} s -> talk {est.talk_mean_s:.0f} s + ACW {est.acw_mean_s:.0f} s "
        "(the base's split)",
        f"handle-time CV {est.handle_cv:.3f} +- {1.96 * est.handle_cv_se:.3f} (95%; "
        f"{est.handle_cv_method})"
        + ("" if est.talk_cv is None else f" -> talk CV {est.talk_cv:.3f}"),
        f"abandoned {est.abandon_rate:.1%}; patience {pat}",
        f"balking {est.balk_probability:.3f} ({est.balk_method})",
        *([f"staffing: {heads} agents on {len(est.shifts)} shift patterns, {paid:g} paid hours "
           f"a day ({est.agents_method})"] if est.shifts else []),
        *[f"note: {n}" for n in est.notes],
    ]
    return "\n".join(lines)


def replay_folder(out_path: Path) -> Path:
    """Where ``import-acd`` writes the replay by default: ``<out stem>-replay`` beside it."""
    return out_path.with_name(f"{out_path.stem}-replay")
