"""Global sensitivity of a paired comparison to the assumed parameters of a scenario section.

``ccsim sensitivity A.toml B.toml --section stress`` asks whether the answer of a comparison
(B - A in ``stress_mean``, ``service_level``, ...) survives the assumptions behind the
section's parameters. Each parameter with a documented plausible range (the ``plausible``
metadata of its field, shown by ``ccsim docs --section stress``) is varied over that range
by a SALib design: Morris screening (default) or Sobol (Saltelli's sampling). At every
design point both scenarios get the same parameter values and are simulated for the same
replications (common random numbers: replication ``k`` of every scenario at every point
uses the streams of ``(seed, k)``); the point's answer is the mean paired difference
B - A over the replications. Then, per KPI:

* the sign of that difference across the design: the share of points where B is lower,
  higher or equal, the smallest and largest difference, and how many points have a 95% CI
  that excludes zero with each sign;
* Morris ``mu*`` (mean absolute elementary effect: how much the difference moves when the
  parameter crosses its whole range, one at a time, averaged over the design), ``mu`` and
  ``sigma`` (spread of the effects: non-linearity or interaction), or Sobol ``S1`` and
  ``ST`` (first-order and total shares of the difference's variance over the design);
* one sentence: "stress_mean: team-level is lower than individual-strict at all 40 design
  points (...); the answer depends most on alpha, load_talk".

Every (point, scenario, replication) is a task of :func:`analysis.experiment.run_experiment`:
stored as it finishes (resumable), run on any executor, assembled in order (identical
results serial and parallel).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.experiment import Executor, run_experiment
from analysis.stats import paired_difference
from analysis.store import ReplicationStore, write_csv, write_json
from sim.scenario import Scenario

METHODS = ("morris", "sobol")
DEFAULT_KPIS = ("stress_mean", "service_level")
#: grid levels of a Morris design (each parameter takes values lo + i/(levels-1) x range)
MORRIS_LEVELS = 4
CONFIDENCE = 0.95
#: a parameter "matters most" when its importance is at least this share of the largest
TOP_SHARE = 0.5
TOP_MAX = 3


#: parameters that act only when a switch of their section is on (sim/people/stress.py reads them
#: only then): left out of the default design when the switch is off in both scenarios,
#: since they cannot move anything there (``--param`` still varies them)
SWITCHES: dict[str, dict[str, tuple[str, ...]]] = {
    "stress": {
        "absence": ("absence_base_hazard", "absence_exhaustion_effect", "spell_short_share",
                    "spell_long_mean_days"),
        "feedback": ("slowdown_strain", "slowdown_per_strain", "slowdown_cap",
                     "repeat_per_strain", "hostile_per_wait_minute"),
        "attrition": ("quit_base_monthly", "quit_exhaustion_effect", "quit_threat_effect",
                      "hiring_delay_days", "learning_start", "learning_days"),
    },
}


def inert(section: str, scenarios: Sequence[Scenario]) -> dict[str, tuple[str, ...]]:
    """Switch -> its parameters, for every switch of ``section`` off in all ``scenarios``."""
    out = {}
    for switch, names in SWITCHES.get(section, {}).items():
        if not any(getattr(getattr(s, section), switch) for s in scenarios):
            out[switch] = names
    return out


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: its dotted path, plausible range and default."""

    name: str
    """Name inside the section (``alpha``)."""
    path: str
    """Dotted scenario key (``stress.alpha``)."""
    low: float
    high: float
    default: float
    integer: bool = False


def parameters(section: str, only: Sequence[str] | None = None) -> list[Parameter]:
    """The section's fields that have a plausible range (``only``: a subset, by name).

    A ``ValueError`` names the section's varied parameters when ``only`` names another, and
    says so when the section has none.
    """
    from analysis.docs import section_records

    recs = [r for r in section_records(section) if r["plausible"] is not None]
    if not recs:
        raise ValueError(f"--section {section}: none of its fields has a documented plausible "
                         "range, so there is nothing to vary (ccsim docs --section "
                         f"{section} shows its fields)")
    by_name = {r["name"]: r for r in recs}
    if only:
        unknown = [n for n in only if n not in by_name and n.removeprefix(f"{section}.")
                   not in by_name]
        if unknown:
            raise ValueError(f"--param {unknown[0]!r}: not a varied parameter of [{section}]; "
                             f"varied: {', '.join(by_name)}")
        wanted = {n.removeprefix(f"{section}.") for n in only}
        recs = [r for r in recs if r["name"] in wanted]
    return [Parameter(r["name"], r["path"], float(r["plausible"][0]), float(r["plausible"][1]),
                      r["default"], isinstance(r["default"], int)
                      and not isinstance(r["default"], bool))
            for r in recs]


def problem(params: Sequence[Parameter]) -> dict[str, Any]:
    """SALib's problem definition."""
    return {"num_vars": len(params), "names": [p.name for p in params],
            "bounds": [[p.low, p.high] for p in params]}


def design(params: Sequence[Parameter], method: str = "morris", trajectories: int = 10,
           seed: int = 1) -> np.ndarray:
    """The design points, one row per point and one column per parameter.

    Morris: ``trajectories`` x (k + 1) points on a 4-level grid that includes both ends of
    every range. Sobol: ``trajectories`` (a power of 2) x (k + 2) points of a scrambled
    Sobol sequence (Saltelli's scheme, first-order and total indices). Deterministic in
    ``seed``.
    """
    if method not in METHODS:
        raise ValueError(f"--method {method!r}: allowed: {', '.join(METHODS)}")
    if len(params) < (2 if method == "sobol" else 1):
        raise ValueError(f"--method {method} needs at least "
                         f"{2 if method == 'sobol' else 1} parameter(s)")
    prob = problem(params)
    seed = seed % (2**32)
    if method == "morris":
        if trajectories < 2:
            raise ValueError("--trajectories: Morris needs at least 2 trajectories")
        from SALib.sample import morris as sample

        x = sample.sample(prob, N=trajectories, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        if trajectories < 2 or trajectories & (trajectories - 1):
            raise ValueError(f"--trajectories {trajectories}: Sobol needs a power of 2 "
                             "(base samples), e.g. 8, 16, 32")
        from SALib.sample import sobol as sample

        x = sample.sample(prob, trajectories, calc_second_order=False, scramble=True,
                          seed=seed)
    x = np.asarray(x, dtype=float)
    for j, p in enumerate(params):  # grid arithmetic can step a hair outside the range
        x[:, j] = np.clip(x[:, j], p.low, p.high)
        if p.integer:
            x[:, j] = np.round(x[:, j])
    return x


def point_scenario(base: Scenario, params: Sequence[Parameter], row: Sequence[float],
                   point: int) -> Scenario:
    """``base`` with the parameters set to the design point's values."""
    values = {p.path: (int(v) if p.integer else float(v)) for p, v in zip(params, row,
                                                                          strict=True)}
    return base.replace({**values, "name": f"{base.name[:100]} (point {point})"},
                        source="sensitivity design")


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class SignSummary:
    """How the difference B - A behaves across the design points."""

    points: int
    lower: int
    """Points where B - A < 0."""
    higher: int
    equal: int
    missing: int
    """Points where the KPI had no value."""
    min: float
    max: float
    lower_sure: int = 0
    """Points where the 95% CI of B - A lies below zero."""
    higher_sure: int = 0
    with_ci: int = 0
    """Points with a CI (at least 2 replications and a value)."""

    @property
    def flips(self) -> bool:
        """Whether B is lower at some points and higher at others."""
        return self.lower > 0 and self.higher > 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data (with the shares and the flip flag)."""
        n = max(1, self.points - self.missing)
        return {"points": self.points, "lower": self.lower, "higher": self.higher,
                "equal": self.equal, "missing": self.missing, "min": self.min, "max": self.max,
                "share_lower": self.lower / n, "share_higher": self.higher / n,
                "share_equal": self.equal / n, "lower_ci_excludes_zero": self.lower_sure,
                "higher_ci_excludes_zero": self.higher_sure, "points_with_ci": self.with_ci,
                "flips": self.flips}


def sign_summary(diffs: Sequence[float], half_widths: Sequence[float] | None = None
                 ) -> SignSummary:
    """Count the signs of the differences (NaN: missing) and where their CI excludes zero."""
    d = np.asarray(diffs, dtype=float)
    hw = np.full(d.shape, np.nan) if half_widths is None else np.asarray(half_widths, float)
    ok = ~np.isnan(d)
    v = d[ok]
    h = hw[ok]
    return SignSummary(
        points=len(d), lower=int((v < 0).sum()), higher=int((v > 0).sum()),
        equal=int((v == 0).sum()), missing=int((~ok).sum()),
        min=float(v.min()) if len(v) else math.nan, max=float(v.max()) if len(v) else math.nan,
        lower_sure=int(((v + h) < 0).sum()), higher_sure=int(((v - h) > 0).sum()),
        with_ci=int(np.isfinite(h).sum()))


def _fmt(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:+.4g}"


def describe(kpi: str, s: SignSummary, a: str, b: str, top: Sequence[str]) -> str:
    """The sign-flip line in words, e.g. "stress_mean: B is lower than A at all 40 ..."."""
    n = s.points - s.missing
    if n == 0:
        return f"{kpi}: no value at any design point (the KPI is not measured in these runs)"
    rng = (f"B - A = {_fmt(s.min)} at every point" if s.min == s.max else
           f"B - A from {_fmt(s.min)} to {_fmt(s.max)}")
    miss = f"; no value at {s.missing} point(s)" if s.missing else ""
    if s.equal == n:
        return (f"{kpi}: {b} and {a} are equal at all {n} design points{miss}; none of the "
                "parameters moves this difference")
    if not s.flips:
        word = "lower" if s.lower else "higher"
        count = s.lower or s.higher
        sure = s.lower_sure if s.lower else s.higher_sure
        where = f"all {n}" if count == n else f"{count} of {n}"
        eq = f" and equal at {s.equal}" if s.equal else ""
        ci = (f"the 95% CI excludes zero at {sure}" if s.with_ci else
              "one replication per point: no CI")
        head = (f"{kpi}: {b} is {word} than {a} at {where} design points{eq} ({rng}; {ci})"
                f"{miss}; the sign never flips")
    else:
        eq = f", equal at {s.equal} ({s.equal / n:.0%})" if s.equal else ""
        ci = (f"the 95% CI excludes zero at {s.lower_sure} lower and {s.higher_sure} higher"
              if s.with_ci else "one replication per point: no CI")
        head = (f"{kpi}: the sign flips: {b} is lower than {a} at {s.lower} of {n} design "
                f"points ({s.lower / n:.0%}) and higher at {s.higher} ({s.higher / n:.0%})"
                f"{eq} ({rng}; {ci}){miss}")
    if not top:
        return f"{head}; none of the parameters moves it"
    return f"{head}; the answer depends most on {', '.join(top)}"


def indices(params: Sequence[Parameter], x: np.ndarray, y: np.ndarray, method: str,
            seed: int) -> pd.DataFrame:
    """Morris (mu*, its CI half-width, mu, sigma) or Sobol (S1, ST and CIs) per parameter.

    Ranked by mu* (Morris) or ST (Sobol), largest first. A difference that does not vary
    over the design gets zeros (nothing to attribute); one with missing values gets NaN.
    """
    prob = problem(params)
    names = [p.name for p in params]
    y = np.asarray(y, dtype=float)
    cols = (("mu_star", "mu_star_conf", "mu", "sigma") if method == "morris"
            else ("S1", "S1_conf", "ST", "ST_conf"))
    if np.isnan(y).any():
        res = {c: np.full(len(names), np.nan) for c in cols}
    elif np.ptp(y) == 0:
        res = {c: np.zeros(len(names)) for c in cols}
    elif method == "morris":
        from SALib.analyze import morris

        r = morris.analyze(prob, x, y, num_levels=MORRIS_LEVELS, conf_level=CONFIDENCE,
                           num_resamples=1000, print_to_console=False, seed=seed % 2**32)
        res = {c: np.asarray(np.ma.filled(r[c], np.nan), dtype=float) for c in cols}
    else:
        from SALib.analyze import sobol

        r = sobol.analyze(prob, y, calc_second_order=False, conf_level=CONFIDENCE,
                          num_resamples=1000, print_to_console=False, seed=seed % 2**32)
        res = {c: np.asarray(r[c], dtype=float) for c in cols}
    df = pd.DataFrame({"parameter": names, **res})
    key = "mu_star" if method == "morris" else "ST"
    df = df.sort_values(key, ascending=False, kind="stable", na_position="last")
    df.insert(1, "rank", range(1, len(df) + 1))
    return df.reset_index(drop=True)


def top_parameters(table: pd.DataFrame, method: str) -> list[str]:
    """Parameters whose importance is at least half the largest (at most 3), in rank order."""
    key = "mu_star" if method == "morris" else "ST"
    v = table[key].to_numpy(dtype=float)
    if not len(v) or not np.isfinite(v).any() or np.nanmax(v) <= 0:
        return []
    keep = v >= TOP_SHARE * np.nanmax(v)
    return list(table["parameter"][keep])[:TOP_MAX]


# --------------------------------------------------------------------------- the run


@dataclass
class Sensitivity:
    """A finished sensitivity design: its points, the paired differences and the indices."""

    a: Scenario
    b: Scenario
    section: str
    method: str
    trajectories: int
    reps: int
    seed: int
    params: list[Parameter]
    x: np.ndarray
    kpis: list[str]
    a_means: dict[str, np.ndarray]
    b_means: dict[str, np.ndarray]
    diffs: dict[str, np.ndarray]
    half_widths: dict[str, np.ndarray]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    signs: dict[str, SignSummary] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Switch -> parameters left out because the switch is off in both scenarios."""
    distinct: int = 0
    ran: int = 0
    resumed: int = 0
    wall_s: float = 0.0
    executor: str = "serial"
    workers: int = 1
    model_digest: str = ""

    @property
    def points(self) -> int:
        """Number of design points."""
        return len(self.x)

    def design_table(self) -> pd.DataFrame:
        """One row per design point: parameter values, each KPI for A and B, B - A, CI."""
        df = pd.DataFrame(self.x, columns=[p.name for p in self.params])
        df.insert(0, "point", range(self.points))
        for k in self.kpis:
            df[f"{k}_a"] = self.a_means[k]
            df[f"{k}_b"] = self.b_means[k]
            df[f"{k}_diff"] = self.diffs[k]
            df[f"{k}_diff_half_width"] = self.half_widths[k]
        return df

    def indices_table(self) -> pd.DataFrame:
        """Every KPI's indices, one row per (KPI, parameter)."""
        return pd.concat([t.assign(kpi=k) for k, t in self.tables.items()],
                         ignore_index=True)[["kpi", *next(iter(self.tables.values())).columns]]

    def as_json(self) -> dict[str, Any]:
        """Everything a reader needs, as plain data."""
        return {
            "a": self.a.name, "b": self.b.name, "a_hash": self.a.digest(),
            "b_hash": self.b.digest(), "section": self.section, "method": self.method,
            "trajectories": self.trajectories, "points": self.points,
            "distinct_points": self.distinct, "replications": self.reps, "seed": self.seed,
            "days": self.a.horizon.days, "model_digest": self.model_digest,
            "parameters": [{"name": p.name, "path": p.path, "low": p.low, "high": p.high,
                            "default": p.default} for p in self.params],
            "not_varied": {f"{self.section}.{k}": list(v) for k, v in self.skipped.items()},
            "kpis": {k: {"summary": self.texts[k], "signs": self.signs[k].as_dict(),
                         "indices": self.tables[k].to_dict(orient="records")}
                     for k in self.kpis},
            "replications_run": self.ran, "replications_resumed": self.resumed,
            "wall_s": round(self.wall_s, 3), "executor": self.executor,
            "workers": self.workers,
        }

    def text(self) -> str:
        """The report printed by ``ccsim sensitivity``."""
        k = len(self.params)
        what = (f"Morris screening: {self.trajectories} trajectories x ({k} + 1)"
                if self.method == "morris" else
                f"Sobol (Saltelli): {self.trajectories} base samples x ({k} + 2)")
        lines = [f"sensitivity of {self.b.name} - {self.a.name} (B - A) to {k} [{self.section}] "
                 "parameter(s) over their plausible ranges",
                 f"{what} = {self.points} design points ({self.distinct} distinct), "
                 f"{self.reps} paired replication(s) each, seed {self.seed}, "
                 f"{self.a.horizon.days} day(s)"]
        for switch, names in self.skipped.items():
            lines.append(f"not varied ({self.section}.{switch} is off in both scenarios, so "
                         f"they cannot matter): {', '.join(names)}")
        lines.append("")
        for kpi in self.kpis:
            lines.append(self.texts[kpi])
            t = self.tables[kpi]
            if self.method == "morris":
                head = f"  {'rank':>4}  {'parameter':<34} {'mu*':>10} {'+-95%':>9} " \
                       f"{'mu':>10} {'sigma':>10}"
                rows = [f"  {r.rank:>4}  {r.parameter:<34} {r.mu_star:>10.4g} "
                        f"{r.mu_star_conf:>9.3g} {r.mu:>10.4g} {r.sigma:>10.4g}"
                        for r in t.itertuples()]
            else:
                head = f"  {'rank':>4}  {'parameter':<34} {'S1':>8} {'+-95%':>8} " \
                       f"{'ST':>8} {'+-95%':>8}"
                rows = [f"  {r.rank:>4}  {r.parameter:<34} {r.S1:>8.3f} {r.S1_conf:>8.3f} "
                        f"{r.ST:>8.3f} {r.ST_conf:>8.3f}" for r in t.itertuples()]
            lines += [head, *rows, ""]
        if self.method == "morris":
            lines.append("mu*: how far B - A moves, on average, when one parameter crosses "
                         "its whole range (KPI units); sigma: how much that depends on the "
                         "other parameters (interaction or curvature).")
        else:
            lines.append("S1 / ST: share of the variance of B - A over the design explained "
                         "by the parameter alone / with its interactions.")
            if self.trajectories < 64:
                lines.append(f"(with {self.trajectories} base samples the indices are rough, "
                             "see their +-95%; 64 or more is usual)")
        return "\n".join(lines)


def run_sensitivity(a: Scenario, b: Scenario, section: str = "stress", *,
                    method: str = "morris", trajectories: int = 10, reps: int = 3,
                    seed: int = 1, kpis: Sequence[str] = DEFAULT_KPIS,
                    only: Sequence[str] | None = None, executor: Executor | None = None,
                    store: ReplicationStore | None = None,
                    progress: Callable[[int], None] | None = None,
                    on_design: Callable[[int], None] | None = None) -> Sensitivity:
    """Run the design: every distinct point x (A, B) x ``reps`` replications, paired.

    ``on_design(tasks)`` is called with the number of replications before any runs (for a
    progress bar). Finished replications in ``store`` are not run again.
    """
    params = parameters(section, only)
    on = [s for s in (a, b) if getattr(getattr(s, section), "enabled", True)]
    if not on:
        raise ValueError(f"{section}.enabled is false in both scenarios, so no [{section}] "
                         f"parameter can change anything; add --set {section}.enabled=true")
    skipped = {} if only else inert(section, (a, b))
    if skipped:
        left_out = {n for names in skipped.values() for n in names}
        params = [p for p in params if p.name not in left_out]
    x = design(params, method, trajectories, seed)
    rows = [tuple(r) for r in x]
    distinct = list(dict.fromkeys(rows))
    where = {r: i for i, r in enumerate(distinct)}
    scenarios: list[Scenario] = []
    for i, r in enumerate(distinct):
        scenarios += [point_scenario(a, params, r, i), point_scenario(b, params, r, i)]
    if on_design:
        on_design(len(scenarios) * reps)
    exp = run_experiment(scenarios, seed, reps, executor=executor, store=store, tables=(),
                         progress=progress)
    kpis = list(kpis)
    a_m, b_m, dif, hws = ({k: np.empty(len(distinct)) for k in kpis} for _ in range(4))
    for i in range(len(distinct)):
        ra, rb = exp.kpi_rows(2 * i), exp.kpi_rows(2 * i + 1)
        for k in kpis:
            va = [r.get(k, math.nan) for r in ra]
            vb = [r.get(k, math.nan) for r in rb]
            est = paired_difference(va, vb, CONFIDENCE)
            a_m[k][i] = np.nanmean(va) if not np.isnan(va).all() else math.nan
            b_m[k][i] = np.nanmean(vb) if not np.isnan(vb).all() else math.nan
            dif[k][i] = est.mean
            hws[k][i] = est.half_width
    idx = np.array([where[r] for r in rows])
    res = Sensitivity(a, b, section, method, trajectories, reps, seed, params, x, kpis,
                      {k: v[idx] for k, v in a_m.items()}, {k: v[idx] for k, v in b_m.items()},
                      {k: v[idx] for k, v in dif.items()}, {k: v[idx] for k, v in hws.items()},
                      skipped=skipped, distinct=len(distinct), ran=exp.ran,
                      resumed=exp.resumed,
                      wall_s=exp.wall_s, executor=exp.executor, workers=exp.workers)
    prov = exp.provenance()
    res.model_digest = prov[0].get("model_digest", "") if prov else ""
    for k in kpis:
        res.tables[k] = indices(params, x, res.diffs[k], method, seed)
        res.signs[k] = sign_summary(res.diffs[k], res.half_widths[k])
        res.texts[k] = describe(k, res.signs[k], a.name, b.name,
                                top_parameters(res.tables[k], method))
    return res


def write_sensitivity(out: Path, res: Sensitivity, command: str) -> list[str]:
    """``sensitivity.json``, ``design.csv`` and ``indices.csv`` in ``out``, atomically."""
    write_csv(res.design_table(), out / "design.csv")
    write_csv(res.indices_table(), out / "indices.csv")
    write_json({"command": command, "kind": "sensitivity", **res.as_json()},
               out / "sensitivity.json")
    return ["sensitivity.json", "design.csv", "indices.csv"]
