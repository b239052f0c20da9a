"""Comparison of scenarios: KPI table with paired differences, figures, and ``report.html``.

Everything iterates over what the runs produced (the KPI dicts, the ``agents_*`` columns of
the interval tables); nothing here lists KPIs by hand.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.experiment import Experiment, rep_range  # noqa: E402
from analysis.stats import (  # noqa: E402
    Difference,
    Estimate,
    format_p,
    paired_differences,
    summarise,
)
from analysis.stats import format_difference as fmt_diff  # noqa: E402
from analysis.store import atomic_write, json_safe  # noqa: E402
from sim.kpi import KPIS
from sim.kpi import format_kpi as fmt  # noqa: E402
from sim.scenario import Scenario, format_clock  # noqa: E402

TRADE_OFF_KPI = "stress_mean"


#: default primary KPI of a comparison: the question a what-if is usually asked
DEFAULT_PRIMARY = ("service_level",)


@dataclass
class Comparison:
    """Per scenario, every KPI's estimate; per other scenario, paired differences vs the first.

    The ``primary`` KPIs' differences are tested at ``confidence`` each; the other KPIs are
    secondary, Holm-adjusted together within each comparison (see
    :func:`analysis.stats.paired_differences`). ``selection`` says how replication counts or
    head counts were chosen and whether the numbers shown come from fresh replications.
    """

    baseline: str
    kpis: dict[str, dict[str, Estimate]]
    differences: dict[str, dict[str, Difference]]
    reps: int
    confidence: float
    primary: tuple[str, ...] = DEFAULT_PRIMARY
    replications: tuple[int, ...] = ()
    """Replication numbers the table is computed from."""
    selection: dict[str, Any] | None = None

    @property
    def secondary(self) -> list[str]:
        """KPIs that are not primary, in table order."""
        return [k for k in self.kpis[self.baseline] if k not in self.primary]

    def as_json(self) -> dict[str, Any]:
        """The ``ccsim compare --json`` contract."""
        return json_safe({
            "baseline": self.baseline,
            "confidence": self.confidence,
            "primary": list(self.primary),
            "replications": list(self.replications),
            "selection": self.selection,
            "scenarios": {n: {"kpis": {k: e.as_dict() for k, e in est.items()}}
                          for n, est in self.kpis.items()},
            "differences": {n: {k: d.as_dict() for k, d in est.items()}
                            for n, est in self.differences.items()},
        })

    def explanation(self) -> str:
        """What "differs" means in this table, in words."""
        pct = f"{100 * self.confidence:g}%"
        alpha = f"{100 * (1 - self.confidence):g}%"
        prim = ", ".join(self.primary)
        sec = self.secondary
        many = len(self.primary) > 1
        text = (f"differs: the primary KPI{'s' if many else ''} ({prim}) "
                f"{'are each' if many else 'is'} tested at {pct}, unadjusted: "
                f"the paired {pct} CI excludes 0. The other {len(sec)} KPIs are secondary: "
                f"their p-values are Holm-adjusted together within each comparison (Holm p), "
                f"so the chance of any false 'differs' among them is at most {alpha}; their "
                f"CIs are the unadjusted {pct} ones.")
        if len(self.differences) > 1:
            text += (f" The {len(self.differences)} comparisons against {self.baseline} are "
                     "not adjusted for each other.")
        return text


def compare(exp: Experiment, confidence: float = 0.95,
            primary: Sequence[str] = DEFAULT_PRIMARY,
            selection: dict[str, Any] | None = None) -> Comparison:
    """Estimates per scenario and paired differences against scenario 0 (same replications)."""
    names = exp.names
    rows = [exp.kpi_rows(i) for i in range(len(names))]
    kpis = {n: summarise(r, confidence) for n, r in zip(names, rows, strict=True)}
    base_reps = exp.reps(0)
    unknown = [k for k in primary if k not in kpis[names[0]]]
    if unknown:
        raise ValueError(f"--primary: unknown KPI {unknown[0]!r}; known: "
                         f"{', '.join(kpis[names[0]])}")
    diffs: dict[str, dict[str, Difference]] = {}
    for i, n in enumerate(names[1:], start=1):
        common = [r for r in exp.reps(i) if r in set(base_reps)]
        diffs[n] = paired_differences([exp.outputs[0, r].kpis for r in common],
                                      [exp.outputs[i, r].kpis for r in common],
                                      list(kpis[names[0]]), primary, confidence)
    return Comparison(names[0], kpis, diffs, len(base_reps), confidence, tuple(primary),
                      tuple(base_reps), selection)


# --------------------------------------------------------------------------- formatting


def _ci(kpi: str, e: Estimate) -> str:
    return f"[{fmt(kpi, e.ci_low)}, {fmt(kpi, e.ci_high)}]"


def _diff_ci(kpi: str, e: Estimate) -> str:
    return f"[{fmt_diff(kpi, e.ci_low)}, {fmt_diff(kpi, e.ci_high)}]"


def _yes(d: Difference) -> str:
    v = d.differs
    return "-" if v is None else ("yes" if v else "no")


def table_rows(c: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the side-by-side table (shared by the terminal and the HTML)."""
    pct = f"{100 * c.confidence:g}%"
    names = list(c.kpis)
    header = ["KPI", "test"]
    for n in names:
        header += [f"{n} mean", f"{pct} CI"]
    for n in names[1:]:
        header += [f"{n} - {c.baseline}", f"{pct} CI (paired)", "p", "Holm p", "differs"]
    rows = []
    for k in c.kpis[c.baseline]:
        row = [k, "primary" if k in c.primary else "secondary"]
        for n in names:
            e = c.kpis[n].get(k)
            row += [fmt(k, e.mean), _ci(k, e) + _dropped(e)] if e else ["-", "-"]
        for n in names[1:]:
            d = c.differences[n][k]
            e = d.estimate
            row += [fmt_diff(k, e.mean), _diff_ci(k, e) + _dropped(e), format_p(d.p_value),
                    format_p(d.p_holm), _yes(d)]
        rows.append(row)
    return header, rows


def _dropped(e: Estimate) -> str:
    return f" ({e.dropped} NaN left out)" if e.dropped else ""


def text_table(c: Comparison) -> str:
    """The comparison as an aligned plain-text table."""
    header, rows = table_rows(c)
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
    lines = ["  ".join(h.ljust(w) if j == 0 else h.rjust(w)
                       for j, (h, w) in enumerate(zip(header, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(v.ljust(w) if j == 0 else v.rjust(w)
                               for j, (v, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines)


def compare_text(exp: Experiment, c: Comparison, notes: Sequence[str] = ()) -> str:
    """The comparison as ``ccsim compare`` prints it: what ran, the table, what it means."""
    lines = [f"\n{len(exp.scenarios)} scenarios x {c.reps} replications "
             f"({rep_range(c.replications)}), seed {exp.seed}, "
             f"{exp.scenarios[0].horizon.days} day(s); differences paired against "
             f"{c.baseline} (common random numbers); shares differ in percentage points (pp)\n",
             text_table(c), "", textwrap.fill(c.explanation(), width=92), *notes]
    if c.selection:
        lines += ["", textwrap.fill(c.selection["text"], width=92)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- figures


def _clock_axis(ax: Any) -> None:
    ax.xaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(lambda x, _: format_clock((x % 24) * 3600)))
    ax.set_xlabel("time of day")


def _hours(intervals: pd.DataFrame, scenario: Scenario) -> pd.Series:
    h = scenario.horizon
    return (h.open + intervals["interval"] * h.interval_s + h.interval_s / 2) / 3600.0


def intraday_profile(intervals: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean of ``column`` per scenario and interval, over days and replications."""
    return (intervals.groupby(["scenario", "interval"], sort=False)[column].mean()
            .reset_index())


def figure_service_level(exp: Experiment) -> plt.Figure:
    """Intraday service level: mean over days and replications, per interval."""
    iv = exp.table("intervals")
    fig, ax = plt.subplots(figsize=(8, 4))
    prof = intraday_profile(iv, "service_level")
    for s in exp.scenarios:
        p = prof[prof["scenario"] == s.name]
        ax.plot(_hours(p, s), p["service_level"], marker=".", label=s.name)
    s0 = exp.scenarios[0]
    ax.axhline(s0.service_level.target, color="grey", ls="--", lw=1,
               label=f"target {s0.service_level.target:g}")
    ax.set_ylabel(f"service level (answered within {s0.service_level.threshold_s:g} s)")
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.02)
    _clock_axis(ax)
    ax.set_title("Intraday service level (mean over days and replications)")
    ax.legend()
    fig.tight_layout()
    return fig


def figure_agents(exp: Experiment) -> plt.Figure:
    """Mean agents per status over the day: one panel per ``agents_*`` interval column."""
    iv = exp.table("intervals")
    cols = [c for c in iv.columns if c.startswith("agents_")]
    fig, axes = plt.subplots(len(cols), 1, figsize=(8, 2.2 * len(cols) + 0.6), sharex=True,
                             squeeze=False)
    for ax, col in zip(axes[:, 0], cols, strict=True):
        prof = intraday_profile(iv, col)
        for s in exp.scenarios:
            p = prof[prof["scenario"] == s.name]
            ax.plot(_hours(p, s), p[col], label=s.name)
        ax.set_ylabel(col.removeprefix("agents_").replace("_", " "))
    _clock_axis(axes[-1, 0])
    axes[0, 0].set_title("Mean agents by status over the day")
    axes[0, 0].legend()
    fig.tight_layout()
    return fig


def figure_trade_off(c: Comparison) -> plt.Figure | None:
    """Service level against stress per scenario, when stress was measured ([stress])."""
    if not all(TRADE_OFF_KPI in est and "service_level" in est for est in c.kpis.values()):
        return None
    if all(math.isnan(est[TRADE_OFF_KPI].mean) for est in c.kpis.values()):
        return None  # no scenario measured stress
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for n, est in c.kpis.items():
        x, y = est[TRADE_OFF_KPI], est["service_level"]
        ax.errorbar(x.mean, y.mean, xerr=_err(x), yerr=_err(y), fmt="o", capsize=3, label=n)
    ax.set_xlabel(TRADE_OFF_KPI)
    ax.set_ylabel("service_level")
    ax.set_title("Service level vs stress")
    ax.legend()
    fig.tight_layout()
    return fig


def _err(e: Estimate) -> float | None:
    return None if math.isnan(e.ci_low) else e.half_width


def png_bytes(fig: plt.Figure) -> bytes:
    """The figure as PNG (and closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


# --------------------------------------------------------------------------- appendix


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts to dotted keys (lists stay values)."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


PROSE = ("name", "description", "rationale")


def parameter_diff(scenarios: Sequence[Scenario]) -> list[tuple[str, list[Any]]]:
    """Every dotted parameter whose value differs between scenarios (missing shown as None)."""
    flat = [flatten(s.to_dict()) for s in scenarios]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return [(k, [f.get(k) for f in flat]) for k in keys
            if k not in PROSE and len({json.dumps(f.get(k)) for f in flat}) > 1]


# --------------------------------------------------------------------------- HTML


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}td.yes{font-weight:bold;color:#064}
img{max-width:100%;display:block;margin:1em 0}code,pre{font-size:13px}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto}"""


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    e = html.escape
    out = [f'<table class="{e(cls)}"><thead><tr>'
           + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(
            f'<td class="{e(v)}">{e(v)}</td>' if v in ("yes", "no") else f"<td>{e(v)}</td>"
            for v in r) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _value(v: Any) -> str:
    return "(absent)" if v is None else json.dumps(v) if not isinstance(v, str) else v


def write_report(exp: Experiment, c: Comparison, out: Path,
                 run_info: Mapping[str, Any]) -> Path:
    """Write ``out/report.html`` (figures embedded as base64 PNG) and ``out/figures/*.png``."""
    e = html.escape
    figures: list[tuple[str, str, bytes]] = [
        ("intraday_service_level", "Intraday service level", png_bytes(figure_service_level(exp))),
        ("agents_by_status", "Agents by status over the day", png_bytes(figure_agents(exp))),
    ]
    trade = figure_trade_off(c)
    if trade is not None:
        figures.insert(0, ("service_level_vs_stress", "Service level vs stress",
                           png_bytes(trade)))
    for name, _, data in figures:
        atomic_write(out / "figures" / f"{name}.png", lambda p, d=data: p.write_bytes(d))

    header, rows = table_rows(c)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>ccsim comparison: {e(' vs '.join(c.kpis))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Comparison: {e(' vs '.join(c.kpis))}</h1>",
        f"<p>{c.reps} replications per scenario ({e(rep_range(c.replications))}), seed "
        f"{e(str(exp.seed))}, common random numbers (replication k of every scenario sees the "
        f"same calls). Differences are paired against the baseline <b>{e(c.baseline)}</b>, "
        f"with {100 * c.confidence:g}% Student-t intervals; shares differ in percentage "
        "points (pp).</p>",
        f"<p>{e(c.explanation())}</p>",
        *([f"<p><b>Selection.</b> {e(c.selection['text'])}</p>"] if c.selection else []),
        "<h2>Scenarios</h2><ul>",
        *[f"<li><b>{e(s.name)}</b>: {e(s.description)}<br><small>{e(s.rationale)}</small></li>"
          for s in exp.scenarios],
        "</ul>", "<h2>KPIs</h2>", _html_table(header, rows, "kpis"),
        "<dl>", *[f"<dt><code>{e(k)}</code></dt><dd>{e(KPIS[k].description)}</dd>"
                  for k in c.kpis[c.baseline] if k in KPIS], "</dl>",
    ]
    if trade is None:
        parts.append(f"<p><small>No service-level vs stress trade-off plot: the model has no "
                     f"<code>{TRADE_OFF_KPI}</code> KPI.</small></p>")
    for name, title, data in figures:
        b64 = base64.b64encode(data).decode("ascii")
        parts += [f"<h2>{e(title)}</h2>",
                  f'<img id="{e(name)}" alt="{e(title)}" src="data:image/png;base64,{b64}">']
    diff = parameter_diff(exp.scenarios)
    parts.append("<h2>Appendix A: parameters that differ</h2>")
    if diff:
        parts.append(_html_table(["parameter", *exp.names],
                                 [[k, *map(_value, vs)] for k, vs in diff], "diff"))
    else:
        parts.append("<p>The scenarios have identical parameters.</p>")
    prov = exp.provenance()
    first = prov[0] if prov else {}
    info = {
        **run_info,
        "seed": exp.seed, "replications per scenario": c.reps,
        "executor": f"{exp.executor} ({exp.workers} worker(s))",
        "replications run / resumed": f"{exp.ran} / {exp.resumed}",
        "wall time (s)": round(exp.wall_s, 2),
        "scenario hashes": {s.name: s.digest() for s in exp.scenarios},
        "git revision": first.get("git_revision"), "python": first.get("python"),
        "machine": first.get("machine"), "versions": first.get("versions"),
        "simulation time, sum over replications (s)":
            round(float(np.nansum([p.get("wall_s", math.nan) for p in prov])), 2),
        "written": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    parts += ["<h2>Appendix B: provenance</h2>",
              _html_table(["item", "value"],
                          [[k, v if isinstance(v, str) else json.dumps(json_safe(v))]
                           for k, v in info.items()], "provenance"),
              "<h3>Scenarios as run</h3>",
              *[f"<details><summary>{e(s.name)}</summary><pre>"
                f"{e(json.dumps(s.to_dict(), indent=2))}</pre></details>"
                for s in exp.scenarios],
              "</body></html>"]
    text = "\n".join(parts) + "\n"
    return atomic_write(out / "report.html", lambda p: p.write_text(text, encoding="utf-8"))

