"""``ccsim run``'s own ``report.html``: the planner's intraday picture of one scenario.

A headline sentence; service level and abandonment per interval against the target; net
staffing per interval (the Erlang requirement for the target against the agents actually
on queue, from the statuses); the KPI table; and, with measured stress, strain over the
day and measured stress over the horizon. Figures are embedded PNG, as in ``compare``'s
report, and also written to ``figures/``.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.ticker
import numpy as np
import pandas as pd

from analysis.experiment import Experiment, rep_range
from analysis.report import CSS, _clock_axis, _html_table, plt, png_bytes, words_html
from analysis.stats import Estimate, summarise, t_interval
from analysis.store import atomic_write, json_safe
from analysis.warmup import start_text, weekly
from sim.measure.kpi import KPIS, format_ci
from sim.measure.kpi import format_kpi as fmt
from sim.scenario import Scenario, format_clock


def interval_profile(exp: Experiment, column: str, confidence: float = 0.95
                     ) -> pd.DataFrame:
    """Per reporting interval of the day: ``column``'s mean and CI over replications.

    Each replication's value is its mean over the days first. Columns ``interval,
    start_h, mean, ci_low, ci_high``.
    """
    iv = exp.table("intervals")
    s = exp.scenarios[0]
    h = s.horizon
    per_rep = iv.groupby(["interval", "replication"])[column].mean()
    rows = []
    for i in range(h.intervals_per_day):
        values = per_rep.loc[i].to_numpy() if i in per_rep.index.get_level_values(0) else []
        e = t_interval(values, confidence)
        rows.append({"interval": i, "start_h": (h.open + (i + 0.5) * h.interval_s) / 3600,
                     "mean": e.mean, "ci_low": e.ci_low, "ci_high": e.ci_high})
    return pd.DataFrame(rows)


def net_staffing(exp: Experiment) -> pd.DataFrame:
    """Per interval: the Erlang requirement against the agents on queue, and the net.

    The Erlang C/A agents on queue for the target (each interval alone), the agents the
    schedule has on queue and the agents actually on queue (Ready, Talk, ACW; mean over the
    interval, days and replications); net = on queue - required.
    """
    from analysis.staffing import erlang_requirements  # SciPy: only when a report is made

    s = exp.scenarios[0]
    sl = s.service_level
    erl = erlang_requirements(s, sl.target, sl.threshold_s)
    iv = exp.table("intervals")
    mean = iv.groupby("interval")[["agents_on_queue", "agents_scheduled_on_queue"]].mean()
    out = erl[["interval", "start", "calls_per_h", "erlang_agents"]].copy()
    out["scheduled_on_queue"] = mean["agents_scheduled_on_queue"].reindex(out["interval"]) \
        .to_numpy()
    out["on_queue"] = mean["agents_on_queue"].reindex(out["interval"]).to_numpy()
    out["net"] = out["on_queue"] - out["erlang_agents"]
    return out


def headline(s: Scenario, est: Mapping[str, Estimate], sl_profile: pd.DataFrame,
             net: pd.DataFrame, reps: int) -> str:
    """The report's first sentence, the planner's intraday picture in words.

    The service level against its target, the intervals below target and the worst
    interval (the KPIs, in the words of :data:`sim.measure.kpi.INTERVAL_TERMS`), the clock
    of the average day's lowest interval, occupancy, coverage, and what the staff cost.
    """
    sl = s.service_level
    e = est["service_level"]
    text = f"{s.name}: service level {fmt('service_level', e.mean)}"
    if not math.isnan(e.ci_low):
        text += f" {format_ci('service_level', e.ci_low, e.ci_high)}"
    text += (f" against the {100 * sl.target:g}% target (answered within "
             f"{sl.threshold_s:g} s)")
    for k, term in (("intervals_below_target", "intervals below target"),
                    ("worst_interval_service_level", "worst interval")):
        if k in est and not math.isnan(est[k].mean):
            text += f"; {term} {fmt(k, est[k].mean)}"
    prof = sl_profile.dropna(subset=["mean"])
    if len(prof):
        worst = prof.loc[prof["mean"].idxmin()]
        clock = format_clock(s.horizon.open + int(worst["interval"]) * s.horizon.interval_s)
        text += f" (the average day lowest at {clock}, {100 * worst['mean']:.0f}%)"
    if "occupancy" in est and not math.isnan(est["occupancy"].mean):
        text += f"; occupancy {fmt('occupancy', est['occupancy'].mean)}"
    known = net["net"].notna()  # an interval with too few agents at work is not published
    if known.any():
        short = int((net["net"] < -0.5).sum())
        text += (f"; coverage: agents on queue short of the Erlang requirement in {short} of "
                 f"{int(known.sum())} intervals of the day")
        if not known.all():
            text += f" ({int((~known).sum())} not published: too few agents at work)"
    else:
        text += ("; coverage not shown: fewer agents at work than the publication floor "
                 "(docs/policy.md, Privacy)")
    if "paid_agent_hours" in est and not math.isnan(est["paid_agent_hours"].mean):
        cur = s.cost.currency
        text += (f"; {est['paid_agent_hours'].mean:,.0f} paid agent-hours a day, "
                 f"{cur} {fmt('staff_cost_per_day', est['staff_cost_per_day'].mean)} "
                 f"({cur} {fmt('cost_per_answered_call', est['cost_per_answered_call'].mean)}"
                 " per answered call)")
    if "stress_mean" in est and not math.isnan(est["stress_mean"].mean):
        text += f"; measured stress {fmt('stress_mean', est['stress_mean'].mean)}"
    return text + (f" ({reps} replications, 95% CIs)." if reps > 1 else " (1 replication).")


# --------------------------------------------------------------------------- figures


def _band(ax: Any, x: Any, p: pd.DataFrame, label: str, color: str) -> None:
    ax.plot(x, p["mean"], marker=".", color=color, label=label)
    if p["ci_low"].notna().any():
        ax.fill_between(x, p["ci_low"], p["ci_high"], color=color, alpha=0.2, lw=0)


def figure_intraday(s: Scenario, sl: pd.DataFrame, ab: pd.DataFrame) -> plt.Figure:
    """Service level and abandonment per interval (mean, 95% CI band over replications)."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    _band(a1, sl["start_h"], sl, "service level", "C0")
    a1.axhline(s.service_level.target, color="grey", ls="--", lw=1,
               label=f"target {100 * s.service_level.target:g}%")
    below = sl["mean"] < s.service_level.target
    a1.scatter(sl["start_h"][below], sl["mean"][below], color="C3", zorder=3, s=18,
               label="below target")
    a1.set_ylabel(f"answered within {s.service_level.threshold_s:g} s")
    a1.set_ylim(min(0.0, a1.get_ylim()[0]), 1.02)
    a1.legend(loc="lower left", fontsize=8)
    a1.set_title("Service level and abandonment per interval (mean over days; band: 95% CI)")
    _band(a2, ab["start_h"], ab, "abandon rate", "C1")
    a2.set_ylabel("abandoned / offered")
    a2.set_ylim(bottom=0)
    _clock_axis(a2)
    fig.tight_layout()
    return fig


def figure_net_staffing(net: pd.DataFrame, s: Scenario) -> plt.Figure:
    """Required (Erlang) against scheduled and actual agents on queue, and the net."""
    h = s.horizon
    x = (h.open + (net["interval"] + 0.5) * h.interval_s) / 3600
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True,
                                 gridspec_kw={"height_ratios": [2, 1]})
    a1.step(x, net["erlang_agents"], where="mid", color="k", label="required (Erlang)")
    a1.plot(x, net["scheduled_on_queue"], color="C2", ls="--", label="scheduled on queue")
    a1.plot(x, net["on_queue"], color="C0", label="actually on queue")
    a1.set_ylabel("agents")
    a1.legend(fontsize=8)
    a1.set_title("Net staffing: agents on queue against the Erlang requirement")
    colors = np.where(net["net"] < 0, "C3", "C2")
    a2.bar(x, net["net"], width=h.interval_s / 3600 * 0.9, color=colors)
    a2.axhline(0, color="k", lw=0.8)
    a2.set_ylabel("on queue - required")
    _clock_axis(a2)
    fig.tight_layout()
    return fig


def figure_stress_horizon(per_day: pd.DataFrame) -> plt.Figure:
    """Measured stress per day over the horizon (mean over replications, 95% CI band)."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    _band(ax, per_day["day"], per_day, "stress_mean", "C4")
    ax.set_xlabel("day")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("measured stress")
    ax.set_title("Measured stress over the horizon (mean of the day's survey readings)")
    fig.tight_layout()
    return fig


def figure_weekly(w: pd.DataFrame, title: str) -> plt.Figure:
    """Week by week: measured stress and exhaustion (left), service level and absence (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    weeks = w["week"] + 1
    for ax, cols in ((left, ("stress_mean", "exhaustion")),
                     (right, ("service_level", "absence_rate"))):
        for col in cols:
            if col in w:
                ax.plot(weeks, w[col], marker="o", label=col)
        ax.set_xlabel("week")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    left.set_ylabel("survey scale")
    right.set_ylabel("share")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def figure_strain_day(strain: pd.DataFrame, day: int, reps: int = 1) -> plt.Figure:
    """Mean acute strain of the agents logged in over one day (band: 95% CI)."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    _band(ax, strain["time_s"] / 3600, strain, "strain", "C4")
    _clock_axis(ax)
    ax.set_ylabel("mean acute strain")
    over = f"mean of {reps} replications" if reps > 1 else "1 replication"
    ax.set_title(f"Strain over day {day} ({over}, agents logged in)")
    fig.tight_layout()
    return fig


def strain_day(exp: Experiment, day: int | None = None, confidence: float = 0.95
               ) -> tuple[pd.DataFrame, int, int] | None:
    """Strain over ``day`` (default: the last) from the runs' own ``strain_profile`` records.

    The records were made by the observer in the replications the experiment simulated
    (``run_experiment(..., observe=("strain_profile",))``): nothing is run again. Per grid
    time, the mean over replications of the mean strain of the agents logged in, and its
    CI; columns ``time_s, mean, ci_low, ci_high``. Returns (curve, day, replications), or
    None when the experiment recorded no strain profile.
    """
    prof = exp.table("strain_profile")
    if prof.empty:
        return None
    day = int(prof["day"].max()) if day is None else day
    prof = prof[prof["day"] == day]
    rows = []
    for t, g in prof.groupby("time_s", sort=True):
        e = t_interval(g["strain"].dropna().to_numpy(), confidence)
        rows.append({"time_s": float(t), "mean": e.mean, "ci_low": e.ci_low,
                     "ci_high": e.ci_high})
    return pd.DataFrame(rows), day, int(prof["replication"].nunique())


def stress_per_day(exp: Experiment) -> pd.DataFrame:
    """``stress_mean`` per day: mean and 95% CI over replications (from the daily table)."""
    daily = exp.table("daily")
    rows = []
    for day, g in daily.groupby("day"):
        e = t_interval(g["stress_mean"].to_numpy())
        rows.append({"day": int(day), "mean": e.mean, "ci_low": e.ci_low,
                     "ci_high": e.ci_high})
    return pd.DataFrame(rows)


def weekly_table(exp: Experiment) -> pd.DataFrame | None:
    """Week by week means (:func:`analysis.warmup.weekly`); None under two weeks."""
    s = exp.scenarios[0]
    week = s.stress.work_days_per_week
    daily = exp.table("daily")
    if s.horizon.days < 2 * week or not len(daily):
        return None
    people = exp.table("people_days")
    return weekly(daily, people if len(people) else None, week)


def weekly_rows(exp: Experiment) -> list[list[str]]:
    """The week-by-week table's rows (none for a run shorter than two weeks)."""
    w = weekly_table(exp)
    if w is None:
        return []

    def cell(col: str, kpi: str | None = None) -> list[str]:
        if col not in w:
            return ["-"] * len(w)
        return ["-" if not math.isfinite(v) else fmt(kpi, v) if kpi else f"{v:.3f}"
                for v in w[col].to_numpy(float)]

    cols = [cell("stress_mean", "stress_mean"), cell("exhaustion"),
            cell("service_level", "service_level"), cell("absence_rate", "absence_rate")]
    return [[str(int(k) + 1), *row] for k, *row in zip(w["week"], *cols, strict=True)]


# --------------------------------------------------------------------------- HTML


def kpi_rows(est: Mapping[str, Estimate]) -> list[list[str]]:
    """KPI, mean, 95% CI, meaning: the table ``ccsim run`` prints, for HTML."""
    return [[k, fmt(k, e.mean) + e.dropped_note(),
             "-" if math.isnan(e.ci_low) else format_ci(k, e.ci_low, e.ci_high),
             KPIS[k].description if k in KPIS else ""] for k, e in est.items()]


def write_run_report(exp: Experiment, out: Path, run_info: Mapping[str, Any]) -> Path:
    """Write ``out/report.html`` and ``out/figures/*.png`` for a one-scenario run.

    With measured stress, strain over the last day comes from the ``strain_profile``
    records of the experiment's own replications (:func:`strain_day`), when it asked for
    them; the report never simulates.
    """
    e = html.escape
    s = exp.scenarios[0]
    est = summarise(exp.kpi_rows(0))
    reps = exp.reps(0)
    sl = interval_profile(exp, "service_level")
    ab = interval_profile(exp, "abandon_rate")
    net = net_staffing(exp)
    figures = [("intraday", "Service level and abandonment per interval",
                png_bytes(figure_intraday(s, sl, ab))),
               ("net_staffing", "Net staffing per interval",
                png_bytes(figure_net_staffing(net, s)))]
    stress_on = s.stress.enabled and "stress_mean" in est
    if stress_on:
        strain = strain_day(exp)
        if strain is not None:
            curve, day, n = strain
            figures.append(("strain_over_day", f"Strain over day {day}",
                            png_bytes(figure_strain_day(curve, day, n))))
        figures.append(("stress_over_horizon", "Measured stress over the horizon",
                        png_bytes(figure_stress_horizon(stress_per_day(exp)))))
    by_week = weekly_table(exp)
    if by_week is not None:
        w = exp.warmup(0)
        start = (f"after {w['warmup_days']} warm-up days under {w['warmup_scenario']}"
                 if w["warmup_days"] else "from a cold start")
        figures.append(("by_week", "Week by week", png_bytes(figure_weekly(
            by_week, f"{s.name}: week by week, {start}"))))
    for name, _, data in figures:
        atomic_write(out / "figures" / f"{name}.png", lambda p, d=data: p.write_bytes(d))

    def img(name: str, title: str, data: bytes) -> str:
        b64 = base64.b64encode(data).decode("ascii")
        return f'<img id="{e(name)}" alt="{e(title)}" src="data:image/png;base64,{b64}">'

    net_rows = [[r.start, f"{r.calls_per_h:.0f}", f"{r.erlang_agents:.0f}",
                 f"{r.scheduled_on_queue:.1f}", f"{r.on_queue:.1f}", f"{r.net:+.1f}",
                 "-" if math.isnan(p) else f"{100 * p:.1f}%"]
                for r, p in zip(net.itertuples(), sl["mean"], strict=True)]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>ccsim run: {e(s.name)}</title>", f"<style>{CSS}</style></head><body>",
        f"<h1>Run: {e(s.name)}</h1>",
        f'<p class="headline" id="headline">{e(headline(s, est, sl, net, len(reps)))}</p>',
        f"<p>{e(s.description)}<br><small>{e(s.rationale)}</small></p>",
        f"<p>{len(reps)} replication(s) ({e(rep_range(reps))}), seed {exp.seed}, "
        f"{s.horizon.days} day(s). Per-interval values are means over the days, then over "
        "replications (band: 95% Student-t CI over replications).</p>",
        f'<p id="start"><b>Start:</b> {e(start_text(exp, 0))}.</p>',
    ]
    for name, title, data in figures[:2]:
        parts += [f"<h2>{e(title)}</h2>", img(name, title, data)]
    parts += ["<h3>Coverage per interval of the day</h3>",
              "<p>Coverage (see Words used): required against on queue. Required: Erlang "
              "C (or A, with the scenario's patience) agents on queue for "
              "the target, each interval taken alone. Scheduled: the published plan's agents "
              "on queue. On queue: agents actually Ready, in Talk or in ACW (mean over the "
              "interval), from the statuses. Net = on queue - required.</p>",
              _html_table(["interval", "calls/h", "required", "scheduled", "on queue", "net",
                           "service level"], net_rows, "net")]
    if stress_on:
        for name, title, data in figures[2:]:
            if name != "by_week":
                parts += [f"<h2>{e(title)}</h2>", img(name, title, data)]
    week = weekly_rows(exp)
    if week:
        parts += ["<h2>Week by week</h2>",
                  "<p>Each week's daily values averaged over its days, then over "
                  "replications: how the centre moves from its start (the transition after "
                  "<code>--from</code>, or a cold start's run-in) to its steady state.</p>",
                  _html_table(["week", "measured stress", "exhaustion", "service level",
                               "absence"], week, "weekly"),
                  img("by_week", "Week by week", figures[-1][2])]
    if s.call_types:  # several queues: per type, per group, across agents (docs/skills.md)
        from analysis.skills_report import skills_text

        text = skills_text(exp.table("call_types"), exp.table("agent_groups"),
                           exp.table("agent_spread"), exp.table("written")).strip()
        from analysis.skills_report import skills_figure_html

        parts += ['<h2 id="call_types">Call types, agent groups and the spread across '
                  "agents</h2>", f"<pre>{e(text)}</pre>", skills_figure_html(exp, out)]
    parts += ["<h2>KPIs</h2>",
              _html_table(["KPI", "mean", "95% CI", "meaning"], kpi_rows(est), "kpis"),
              words_html()]
    prov = exp.provenance()
    first = prov[0] if prov else {}
    info = {**run_info, "seed": exp.seed, "replications": len(reps),
            "scenario hash": s.digest(), **exp.warmup(0),
            "git revision": first.get("git_revision"),
            "versions": first.get("versions")}
    parts += ["<h2>Provenance</h2>",
              _html_table(["item", "value"],
                          [[k, v if isinstance(v, str) else json.dumps(json_safe(v))]
                           for k, v in info.items()], "provenance"),
              f"<details><summary>scenario as run</summary><pre>"
              f"{e(json.dumps(s.to_dict(), indent=2))}</pre></details>", "</body></html>"]
    text = "\n".join(parts) + "\n"
    return atomic_write(out / "report.html", lambda p: p.write_text(text, encoding="utf-8"))
