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
        out += ["", "Written work (mean over replications):",
                f"{'type':<16}{'items':>9}{'done':>9}{'backlog':>9}{'deadline met':>14}"
                f"{'mean to done':>14}"]
        for _, r in w.iterrows():
            out.append(f"{r['type']:<16}{_fmt(r['items'], 'n'):>9}{_fmt(r['done'], 'n'):>9}"
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
