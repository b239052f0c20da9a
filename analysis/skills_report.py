"""What ``ccsim run`` shows of a scenario with several call types and agent groups."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

#: the tables :func:`skills_text` shows, in its arguments' order
TEXT_TABLES = ("call_types", "agent_groups", "agent_spread", "written")


def _mean(exp_table: pd.DataFrame, key: str) -> pd.DataFrame:
    """The mean over replications of a per-replication table, one row per ``key``."""
    if exp_table.empty:
        return exp_table
    num = exp_table.drop(columns=["scenario", "replication"], errors="ignore")
    # an empty table of one scenario leaves object columns after a concat: numbers again
    num = num.astype({c: float for c in num.columns if c != key and
                      pd.api.types.is_object_dtype(num[c]) and
                      pd.to_numeric(num[c], errors="coerce").notna().all()})
    return num.groupby(key, sort=False).mean(numeric_only=True).reset_index()


def _fmt(v: float, how: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if how == "%":
        return f"{100 * v:.1f}%"
    if how == "s":
        return f"{v:.0f} s"
    return f"{v:,.1f}"


def skills_text(types: pd.DataFrame, groups: pd.DataFrame, spread: pd.DataFrame,
                written: pd.DataFrame | None = None) -> str:
    """Per call type, per agent group, written work and across agents: replication means."""
    out = []
    t = _mean(types, "type")
    if not t.empty:
        out += ["", "By call type (mean over replications):",
                f"{'type':<16}{'offered':>9}{'SL':>8}{'target':>8}{'T':>7}{'ASA':>8}"
                f"{'abandoned':>11}{'AHT':>8}{'overflowed':>12}"]
        for _, r in t.iterrows():
            out.append(f"{r['type']:<16}{_fmt(r['offered'], 'n'):>9}"
                       f"{_fmt(r['service_level'], '%'):>8}{_fmt(r['target'], '%'):>8}"
                       f"{_fmt(r['threshold_s'], 's'):>7}{_fmt(r['asa_s'], 's'):>8}"
                       f"{_fmt(r['abandon_rate'], '%'):>11}{_fmt(r['aht_s'], 's'):>8}"
                       f"{_fmt(r.get('overflowed', math.nan), 'n'):>12}")
    g = _mean(groups, "group")
    if not g.empty:
        out += ["", "By agent group (a group smaller than the publication floor is blanked):",
                f"{'group':<16}{'agents':>8}{'answered':>10}{'AHT':>8}{'occupancy':>11}"
                f"{'by overflow':>13}"]
        for _, r in g.iterrows():
            out.append(f"{r['group']:<16}{r['agents']:>8.0f}{_fmt(r['answered'], 'n'):>10}"
                       f"{_fmt(r['aht_s'], 's'):>8}{_fmt(r['occupancy'], '%'):>11}"
                       f"{_fmt(r.get('overflow_answered', math.nan), 'n'):>13}")
    w = _mean(written, "type") if written is not None else pd.DataFrame()
    if not w.empty:
        out += ["", "Written work (mean over replications; carried: left by the warm-up):",
                f"{'type':<16}{'items':>9}{'carried':>9}{'done':>9}{'backlog':>9}"
                f"{'deadline met':>14}{'mean to done':>14}"]
        for _, r in w.iterrows():
            out.append(f"{r['type']:<16}{_fmt(r['items'], 'n'):>9}"
                       f"{_fmt(r.get('carried', math.nan), 'n'):>9}{_fmt(r['done'], 'n'):>9}"
                       f"{_fmt(r['backlog'], 'n'):>9}{_fmt(r['deadline_met'], '%'):>14}"
                       f"{_fmt(r['mean_done_h'], 'n'):>12} h")
    s = _mean(spread, "measure")
    if not s.empty:
        out += ["", "Across agents (each agent's whole run; mean over replications; without",
                "--individual a percentile is the mean of 5 or more agents of that rank):",
                f"{'measure':<16}{'mean':>8}{'p10':>8}{'p50':>8}{'p90':>8}{'p90-p10':>9}"]
        for _, r in s.iterrows():
            how = "%" if r["measure"] == "occupancy" else "n"
            out.append(f"{r['measure']:<16}" + "".join(
                f"{_fmt(r[c], how):>8}" for c in ("mean", "p10", "p50", "p90"))
                + f"{_fmt(r['p90_p10'], how):>9}")
    return "\n".join(out)


def scenario_skills_text(exp: Any, name: str) -> str:
    """:func:`skills_text` of one scenario of an experiment (its rows of each table)."""
    part = []
    for n in TEXT_TABLES:
        t = exp.table(n)
        part.append(t[t["scenario"] == name] if "scenario" in t else t)
    return skills_text(*part)


#: the measures :func:`skills_figure` draws across agents, with their axis labels
SPREAD_LABELS = {"occupancy": "occupancy (%)", "stress": "measured stress (stress points)",
                 "strain_mean": "acute strain, mean of the day"}


def skills_figure(exp: Any) -> bytes | None:
    """PNG: service level per queue and the spread across agents, scenario beside scenario.

    Left: each phone type's service level (mean over replications, 95% CI bar) per scenario,
    with the type's target as a tick. Right, one panel per measure of ``agent_spread``
    (occupancy; measured stress and acute strain with stress on): per scenario, the 10th to
    90th percentile across agents as a bar, the median as a dot, the mean as a cross (means
    over replications; aggregates only, as the tables). None without call types.
    """
    import io

    import matplotlib

    matplotlib.use("Agg")  # as analysis.report (which imports this module) does
    import matplotlib.pyplot as plt

    from analysis.stats import t_interval

    names = [s.name for s in exp.scenarios if s.call_types]
    types = exp.table("call_types")
    if not names or types.empty:
        return None
    spread = exp.table("agent_spread")
    measures = [m for m in SPREAD_LABELS if not spread.empty and (spread["measure"] == m).any()]
    fig, axes = plt.subplots(1, 1 + len(measures), figsize=(4.2 + 3.0 * len(measures), 3.8),
                             gridspec_kw={"width_ratios": [1.6] + [1] * len(measures)},
                             squeeze=False)
    ax = axes[0][0]
    tnames = list(dict.fromkeys(types["type"]))
    width = 0.8 / len(names)
    for k, n in enumerate(names):
        mine = types[types["scenario"] == n] if "scenario" in types else types
        x, y, err = [], [], []
        for j, t in enumerate(tnames):
            v = mine.loc[mine["type"] == t, "service_level"].to_numpy(float)
            if len(v):
                est = t_interval(v)
                x.append(j - 0.4 + width * (k + 0.5))
                y.append(100 * est.mean)
                err.append(0.0 if math.isnan(est.ci_low) else 100 * est.half_width)
        ax.bar(x, y, width * 0.9, yerr=err, capsize=3, label=n, color=f"C{k}")
    first = types[types["scenario"] == names[0]] if "scenario" in types else types
    for j, t in enumerate(tnames):
        tgt = first.loc[first["type"] == t, "target"]
        if len(tgt):
            ax.hlines(100 * float(tgt.iloc[0]), j - 0.45, j + 0.45, colors="k",
                      linestyles="--", lw=1, label="target" if j == 0 else None)
    ax.set_xticks(range(len(tnames)), tnames)
    ax.set_ylabel("service level (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Service level per queue")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(names) + 1,
              frameon=False)
    for p, m in enumerate(measures, start=1):
        ax = axes[0][p]
        scale = 100.0 if m == "occupancy" else 1.0
        for k, n in enumerate(names):
            rows = spread[(spread["measure"] == m)
                          & ((spread["scenario"] == n) if "scenario" in spread else True)]
            if rows.empty:
                continue
            mean = rows[["mean", "p10", "p50", "p90"]].astype(float).mean() * scale
            ax.vlines(k, mean["p10"], mean["p90"], lw=10, color=f"C{k}", alpha=0.5)
            ax.plot([k], [mean["p50"]], "o", color=f"C{k}", ms=6)
            ax.plot([k], [mean["mean"]], "x", color="k", ms=6)
        ax.set_xticks(range(len(names)), names, rotation=15, fontsize=7, ha="right")
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylabel(SPREAD_LABELS[m])
        ax.set_title(f"{m.replace('_', ' ')} across agents", fontsize=9)
    axes[0][-1].annotate("bar: 10th-90th percentile, dot: median, x: mean",
                         (0.5, -0.3), xycoords="axes fraction", ha="center", fontsize=7)
    fig.tight_layout()
    fig.set_layout_engine(None)  # laid out: savefig draws once (analysis.report._laid_out)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def skills_figure_html(exp: Any, out: Any) -> str:
    """:func:`skills_figure` written to ``out/figures/call_types.png``; its ``<img>`` tag.

    An empty string when there is nothing to draw. For ``ccsim run``'s and ``ccsim
    compare``'s report.html.
    """
    import base64

    from analysis.store import atomic_write

    png = skills_figure(exp)
    if png is None:
        return ""
    atomic_write(out / "figures" / "call_types.png", lambda p: p.write_bytes(png))
    b64 = base64.b64encode(png).decode("ascii")
    return ('<img id="call_types_figure" alt="Service level per queue and the spread across '
            f'agents" src="data:image/png;base64,{b64}">')
