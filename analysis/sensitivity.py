"""Global sensitivity of a paired comparison to the assumed parameters of a scenario.

``ccsim sensitivity A.toml B.toml`` asks whether the answer of a comparison (B - A in
``stress_mean``, ``service_level``, ...) survives the assumptions behind it, and which
assumption could flip it at what value. Each parameter with a documented plausible range
(the ``plausible`` metadata of its field, shown by ``ccsim docs``), in every section or one
(``--section``), that can move the pair's difference (:func:`select`) is varied over that
range. The default (:func:`run_two_stage`): Morris screening over all of them, Sobol
indices on the few with the largest mu*, and one-dimensional sweeps that find the value at
which a parameter flips the sign of a headline difference. One design alone
(:func:`run_sensitivity`): Morris screening or Sobol (Saltelli's sampling). At every
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


def value_in(scenario: Scenario, path: str) -> Any:
    """The value of the dotted field ``path`` in ``scenario``."""
    v: Any = scenario
    for part in path.split("."):
        v = getattr(v, part)
    return v


def _regime(s: Scenario) -> bool:
    return s.measurement.level != "none"


def _punitive(s: Scenario) -> bool:
    return _regime(s) and s.monitoring.feedback == "punitive"


def _scored(s: Scenario) -> bool:
    mon = s.monitoring
    return _regime(s) and (mon.evaluations_per_agent_month > 0
                           or mon.listen_in_per_agent_month > 0)


def _policed(s: Scenario) -> bool:
    return s.measurement.level == "individual" and s.monitoring.break_control == "fixed"


def _aht(s: Scenario) -> bool:
    t = s.targets
    return (t.aht_s is not None and t.aht_applies_to == "agent"
            and s.measurement.level == "individual")


def _targets(s: Scenario) -> bool:
    return s.targets.aht_s is not None or s.targets.quality is not None


def _recording(kind: str) -> Callable[[Scenario], bool]:
    return lambda s: s.monitoring.recording == kind and s.monitoring.recorded_share > 0


def _level(level: str) -> Callable[[Scenario], bool]:
    return lambda s: s.measurement.level == level


def _developmental_load(s: Scenario) -> bool:
    from sim.people.stress import monitoring_load

    return s.monitoring.feedback == "developmental" and monitoring_load(s) > 0


Condition = tuple[str, Callable[[Scenario], bool]]
_REGIME: Condition = ("a regime acts (measurement.level is not \"none\")", _regime)
_PUNITIVE: Condition = ("feedback is punitive under a regime", _punitive)
_SCORED: Condition = ("calls are scored (evaluations or listen-in under a regime)", _scored)
_POLICED: Condition = ("breaks are policed (level \"individual\", fixed break control)",
                       _policed)
_AHT: Condition = ("an individual AHT target is the agent's (level \"individual\")", _aht)
#: what a parameter needs to act, beyond its section being on (sim/people/stress.py,
#: sim/regime/*): a parameter whose conditions hold in neither scenario cannot move the
#: difference, so the default design leaves it out and says why
ACTS_WHEN: dict[str, tuple[Condition, ...]] = {
    "stress.monitoring_load_team": (("measurement.level is \"team\"", _level("team")),),
    "stress.monitoring_load_voluntary": (("measurement.level is \"voluntary\"",
                                          _level("voluntary")),),
    "stress.monitoring_load_individual": (
        ("level \"individual\" has no AHT or quality target",
         lambda s: s.measurement.level == "individual" and not _targets(s)),),
    "stress.monitoring_load_targets": (
        ("level \"individual\" has an AHT or quality target",
         lambda s: s.measurement.level == "individual" and _targets(s)),),
    "stress.monitoring_load_audio": (("calls are recorded as audio", _recording("audio")),),
    "stress.monitoring_load_audio_screen": (("audio and screen are recorded",
                                             _recording("audio_screen")),),
    "stress.monitoring_load_listen_in": (
        ("supervisors listen in", lambda s: s.monitoring.listen_in_per_agent_month > 0),),
    "stress.developmental_factor": (("feedback is developmental with a monitoring load",
                                     _developmental_load),),
    "stress.control_none": (("measurement.level is \"none\"", _level("none")),),
    "stress.control_team": (("measurement.level is \"team\"", _level("team")),),
    "stress.control_voluntary": (("measurement.level is \"voluntary\"",
                                  _level("voluntary")),),
    "stress.control_individual": (("measurement.level is \"individual\"",
                                   _level("individual")),),
    "stress.control_flexible_breaks": (
        ("break control is flexible", lambda s: s.monitoring.break_control == "flexible"),),
    "stress.chase_impulse": (_PUNITIVE,),
    "stress.warning_threat": (_PUNITIVE,),
    "stress.threat_load": (_PUNITIVE,),
    "stress.tau_threat_days": (_PUNITIVE,),
    "stress.quit_threat_effect": (_PUNITIVE,),
    "stress.ranking_impulse": (
        ("individual league tables are published", lambda s: s.monitoring.league_table
         and s.measurement.level == "individual"),),
    "stress.evaluation_impulse_punitive": (_SCORED, _PUNITIVE),
    "stress.evaluation_impulse_developmental": (
        _SCORED, ("feedback is developmental", lambda s: s.monitoring.feedback
                  == "developmental")),
    "stress.deferred_break_load": (_POLICED,),
    "responses.defer_break_logit": (_POLICED,),
    "responses.defer_break_per_warning": (_POLICED,),
    "responses.defer_break_per_breach": (_POLICED,),
    "responses.defer_break_limit_min": (_POLICED,),
    "responses.aht_talk_factor": (_AHT,),
    "responses.aht_acw_factor": (_AHT,),
    "responses.aht_extra_repeat": (_AHT,),
    "responses.release_probability": (_AHT,),
    "responses.release_talk_share": (_AHT,),
    "supervisor.chase_minutes": (_PUNITIVE,),
    "supervisor.warning_minutes": (_PUNITIVE,),
    "supervisor.feedback_minutes": (
        _SCORED, ("feedback is developmental", lambda s: s.monitoring.feedback
                  == "developmental")),
    "supervisor.escalation_interval_days": (_REGIME,),
    "supervisor.review_delay_minutes": (_REGIME,),
    "monitoring.evaluator_noise_sd": (
        _SCORED, _PUNITIVE, ("a quality target is set", lambda s: s.targets.quality
                             is not None)),
    "monitoring.score_resolved": (
        _SCORED, _PUNITIVE, ("a quality target is set", lambda s: s.targets.quality
                             is not None)),
    "monitoring.score_unresolved": (
        _SCORED, _PUNITIVE, ("a quality target is set", lambda s: s.targets.quality
                             is not None)),
}


def conditions(path: str) -> tuple[Condition, ...]:
    """Everything parameter ``path`` needs to act in a run (its section's switches first)."""
    section, name = path.split(".", 1)
    out: list[Condition] = []
    if section == "stress":
        out.append(("stress.enabled is on", lambda s: s.stress.enabled))
        for switch, names in SWITCHES["stress"].items():
            if name in names:
                out.append((f"stress.{switch} is on",
                            lambda s, sw=switch: getattr(s.stress, sw)))
    return (*out, *ACTS_WHEN.get(path, ()))


def relevant(params: Sequence[Parameter], scenarios: Sequence[Scenario], *,
             check_conditions: bool = True
             ) -> tuple[list[Parameter], dict[str, tuple[str, ...]]]:
    """The parameters that can move the difference, and the others by the reason why not.

    Left out: a parameter whose value differs between the scenarios (it is what they
    compare; the design would set both to the same value), and, with
    ``check_conditions``, one whose conditions (:func:`conditions`) hold in none of them
    ("it acts only when ...").
    """
    kept: list[Parameter] = []
    skipped: dict[str, list[str]] = {}
    for p in params:
        values = {repr(value_in(s, p.path)) for s in scenarios}
        if len(values) > 1:
            skipped.setdefault("its value differs between the two scenarios (it is what "
                               "they compare)", []).append(p.name)
            continue
        conds = conditions(p.path) if check_conditions else ()
        if not conds or any(all(pred(s) for _, pred in conds) for s in scenarios):
            kept.append(p)
            continue
        why = next((text for text, pred in conds if not any(pred(s) for s in scenarios)),
                   " and ".join(text for text, _ in conds))
        skipped.setdefault(f"it acts only when {why}, which holds in neither scenario",
                           []).append(p.name)
    return kept, {k: tuple(v) for k, v in skipped.items()}


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


ALL = "all"
"""``--section all`` (the default): every scenario field with a plausible range."""


def _ranged_records(section: str) -> list[dict[str, Any]]:
    """The records of the fields with a plausible range (``all``: of every section)."""
    from analysis.docs import section_records, sections

    if section == ALL:
        recs = [{**r, "name": r["path"]} for sec in sections() for r in section_records(sec)]
    else:
        recs = section_records(section)
    return [r for r in recs if r["plausible"] is not None and ".NAME." not in r["path"]]


def parameters(section: str = ALL, only: Sequence[str] | None = None) -> list[Parameter]:
    """The fields that have a plausible range: of ``section``, or of every section (``all``).

    Inside one section a parameter is named as in the section (``alpha``); with ``all`` by
    its dotted path (``stress.alpha``). ``only``: a subset, by name or dotted path. A
    ``ValueError`` names the varied parameters when ``only`` names another, and says so
    when the section has none.
    """
    recs = _ranged_records(section)
    if not recs:
        raise ValueError(f"--section {section}: none of its fields has a documented plausible "
                         "range, so there is nothing to vary (ccsim docs --section "
                         f"{section} shows its fields)")
    by_name = {r["name"]: r for r in recs}
    by_path = {r["path"]: r for r in recs}
    # a field's own name (``alpha``) finds it in any section when no other has that name
    short: dict[str, list[dict[str, Any]]] = {}
    for r in recs:
        short.setdefault(r["path"].rsplit(".", 1)[-1], []).append(r)
    if only:
        wanted = set()
        for n in only:
            r = (by_path.get(n) or by_name.get(n) or by_name.get(n.removeprefix(f"{section}."))
                 or (short[n][0] if len(short.get(n, ())) == 1 else None))
            if r is None:
                where = "any section" if section == ALL else f"[{section}]"
                raise ValueError(f"--param {n!r}: not a varied parameter of {where}; "
                                 f"varied: {', '.join(by_name)}")
            wanted.add(r["path"])
        recs = [r for r in recs if r["path"] in wanted]
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
                   point: int, label: str = "point") -> Scenario:
    """``base`` with the parameters set to the design point's values."""
    values = {p.path: (int(v) if p.integer else float(v)) for p, v in zip(params, row,
                                                                          strict=True)}
    return base.replace({**values, "name": f"{base.name[:90]} ({label} {point})"},
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
    """Reason -> the parameters left out for it (e.g. a switch off in both scenarios)."""
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
            "not_varied": {k: list(v) for k, v in self.skipped.items()},
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
        which = ("parameter(s) of every section" if self.section == ALL
                 else f"[{self.section}] parameter(s)")
        lines = [f"sensitivity of {self.b.name} - {self.a.name} (B - A) to {k} {which} "
                 "over their plausible ranges",
                 f"{what} = {self.points} design points ({self.distinct} distinct), "
                 f"{self.reps} paired replication(s) each, seed {self.seed}, "
                 f"{self.a.horizon.days} day(s)"]
        for reason, names in self.skipped.items():
            lines.append(f"not varied ({reason}): {', '.join(names)}")
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


def select(a: Scenario, b: Scenario, section: str = ALL,
           only: Sequence[str] | None = None
           ) -> tuple[list[Parameter], dict[str, tuple[str, ...]]]:
    """The parameters a design varies for the pair, and those left out by the reason why.

    Default (no ``only``): every field of ``section`` (``all``: of every section) with a
    plausible range that can move the difference (:func:`relevant`). ``only``: those named,
    except any whose value differs between A and B. A ``ValueError`` says why when nothing
    is left.
    """
    params = parameters(section, only)
    if section != ALL and not any(getattr(getattr(s, section), "enabled", True)
                                  for s in (a, b)):
        raise ValueError(f"{section}.enabled is false in both scenarios, so no [{section}] "
                         f"parameter can change anything; add --set {section}.enabled=true")
    kept, skipped = relevant(params, (a, b), check_conditions=not only)
    if not kept:
        why = "; ".join(f"{', '.join(v)}: {k}" for k, v in skipped.items())
        raise ValueError(f"--section {section}: no parameter can move the difference of "
                         f"this pair ({why})")
    return kept, skipped


def run_sensitivity(a: Scenario, b: Scenario, section: str = ALL, *,
                    method: str = "morris", trajectories: int = 10, reps: int = 3,
                    seed: int = 1, kpis: Sequence[str] = DEFAULT_KPIS,
                    only: Sequence[str] | None = None, executor: Executor | None = None,
                    store: ReplicationStore | None = None,
                    progress: Callable[[int], None] | None = None,
                    on_design: Callable[[int], None] | None = None,
                    params: Sequence[Parameter] | None = None,
                    skipped: dict[str, tuple[str, ...]] | None = None,
                    label: str = "point") -> Sensitivity:
    """Run the design: every distinct point x (A, B) x ``reps`` replications, paired.

    ``on_design(tasks)`` is called with the number of replications before any runs (for a
    progress bar). Finished replications in ``store`` are not run again. ``params`` (with
    ``skipped``): the parameters chosen already (:func:`select`); ``label`` names the
    design's points in their scenario names.
    """
    if params is None:
        params, skipped = select(a, b, section, only)
    params = list(params)
    x = design(params, method, trajectories, seed)
    rows = [tuple(r) for r in x]
    distinct = list(dict.fromkeys(rows))
    where = {r: i for i, r in enumerate(distinct)}
    scenarios: list[Scenario] = []
    for i, r in enumerate(distinct):
        scenarios += [point_scenario(a, params, r, i, label),
                      point_scenario(b, params, r, i, label)]
    if on_design:
        on_design(len(scenarios) * reps)
    exp = run_experiment(scenarios, seed, reps, executor=executor, store=store, tables=(),
                         progress=progress)
    kpis = list(kpis)
    a_m, b_m, dif, hws = _paired(exp, len(distinct), kpis)
    idx = np.array([where[r] for r in rows])
    res = Sensitivity(a, b, section, method, trajectories, reps, seed, params, x, kpis,
                      {k: v[idx] for k, v in a_m.items()}, {k: v[idx] for k, v in b_m.items()},
                      {k: v[idx] for k, v in dif.items()}, {k: v[idx] for k, v in hws.items()},
                      skipped=dict(skipped or {}), distinct=len(distinct), ran=exp.ran,
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


def _paired(exp: Any, n: int, kpis: Sequence[str]) -> tuple[dict[str, np.ndarray], ...]:
    """Per KPI and scenario pair (A at 2i, B at 2i + 1 of ``exp``): means and B - A.

    Four dicts: A's mean, B's mean, the mean paired difference B - A and its CI half-width.
    """
    a_m, b_m, dif, hws = ({k: np.empty(n) for k in kpis} for _ in range(4))
    for i in range(n):
        ra, rb = exp.kpi_rows(2 * i), exp.kpi_rows(2 * i + 1)
        for k in kpis:
            va = [r.get(k, math.nan) for r in ra]
            vb = [r.get(k, math.nan) for r in rb]
            est = paired_difference(va, vb, CONFIDENCE)
            a_m[k][i] = np.nanmean(va) if not np.isnan(va).all() else math.nan
            b_m[k][i] = np.nanmean(vb) if not np.isnan(vb).all() else math.nan
            dif[k][i] = est.mean
            hws[k][i] = est.half_width
    return a_m, b_m, dif, hws


def write_sensitivity(out: Path, res: Sensitivity, command: str) -> list[str]:
    """``sensitivity.json``, ``design.csv`` and ``indices.csv`` in ``out``, atomically."""
    write_csv(res.design_table(), out / "design.csv")
    write_csv(res.indices_table(), out / "indices.csv")
    write_json({"command": command, "kind": "sensitivity", **res.as_json()},
               out / "sensitivity.json")
    return ["sensitivity.json", "design.csv", "indices.csv"]


# --------------------------------------------------------------------------- two stages

TWO_STAGE = "two-stage"
"""The default method of ``ccsim sensitivity``: Morris screening over every relevant
parameter, Sobol indices on the few that matter, and one-dimensional sweeps that find the
value at which an assumption flips the sign of a headline difference."""
#: the headline differences, each when what it measures is in the pair
HEADLINE_KPIS = ("service_level", "stress_mean", "absence_rate", "attrition_rate")
#: a parameter is swept for a KPI when its Morris mu* is at least this share of the
#: difference at the defaults (mu* is about the change over the whole range; half of it
#: can reach the middle of the range, where a default usually sits)
SWEEP_SHARE = 0.5
#: replications of the pair at its own values (at least ``--reps``): enough for a CI on the
#: sign each headline difference has, and for the noise of one paired replication
BASELINE_REPS = 5
#: a sweep point's sign change counts as a flip only when the difference there is beyond
#: this many standard deviations of one point's paired difference (the baseline's)
NOISE_SDS = 2.0


def headline_kpis(a: Scenario, b: Scenario) -> tuple[list[str], dict[str, str]]:
    """The headline KPIs measured in the pair, and those left out with the reason."""
    pair = (a, b)
    stress = any(s.stress.enabled for s in pair)
    needs = {"stress_mean": (stress, "stress.enabled is off in both scenarios"),
             "absence_rate": (any(s.stress.absence or s.stress.attrition for s in pair),
                              "stress.absence and stress.attrition are off in both"),
             "attrition_rate": (any(s.stress.attrition for s in pair),
                                "stress.attrition is off in both scenarios")}
    kpis, dropped = [], {}
    for k in HEADLINE_KPIS:
        ok, why = needs.get(k, (True, ""))
        if ok:
            kpis.append(k)
        else:
            dropped[k] = why
    return kpis, dropped


@dataclass(frozen=True)
class Flip:
    """Where one parameter, moved alone, flips the sign of a KPI's difference."""

    kpi: str
    parameter: str
    default: float
    at: float
    """The root, by linear interpolation between the two sweep points around it."""
    side: str
    """``below`` or ``above``: on which side of ``at`` the sign differs from the default's."""
    bracket: tuple[float, float]
    """The two sweep values the root lies between."""
    clear: bool = True
    """Whether the difference beyond the root is larger than the noise of one point."""

    def words(self) -> str:
        """``"stress.x is below 0.12 (default 0.35)"``."""
        return f"{self.parameter} is {self.side} {self.at:.3g} (default {self.default:.3g})"

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"kpi": self.kpi, "parameter": self.parameter, "default": self.default,
                "at": self.at, "side": self.side, "bracket": list(self.bracket),
                "clear": self.clear}


def find_flips(kpi: str, parameter: str, default: float, values: Sequence[float],
               diffs: Sequence[float], noise: float = 0.0) -> list[Flip]:
    """The sign flips of a one-dimensional sweep, walking away from the default each way.

    ``values`` and ``diffs``: the sweep (the default among them). On each side of the
    default the first point whose difference has the other sign than at the default ends
    the walk; the root is interpolated linearly between it and the last point with the
    default's sign (zeros in between are passed over). None when the default's
    difference is zero or missing. A flip is ``clear`` when the first point of the other
    sign differs from zero by more than ``noise`` (one point's paired noise, scaled).
    """
    order = np.argsort(np.asarray(values, dtype=float), kind="stable")
    x = np.asarray(values, dtype=float)[order]
    y = np.asarray(diffs, dtype=float)[order]
    at = int(np.flatnonzero(np.isclose(x, default))[0])
    s0 = np.sign(y[at])
    if not np.isfinite(y[at]) or s0 == 0:
        return []
    out = []
    for step, side in ((-1, "below"), (1, "above")):
        last = at
        i = at + step
        while 0 <= i < len(x):
            if np.sign(y[i]) == -s0:
                x1, y1, x2, y2 = x[last], y[last], x[i], y[i]
                root = x1 + (x2 - x1) * y1 / (y1 - y2)
                out.append(Flip(kpi, parameter, float(default), float(root), side,
                                (float(min(x1, x2)), float(max(x1, x2))),
                                bool(abs(y2) > noise)))
                break
            if np.sign(y[i]) == s0:
                last = i
            i += step
    return out


def sweep_points(params: Sequence[Parameter], defaults: dict[str, float], levels: int
                 ) -> list[tuple[Parameter, float]]:
    """(parameter, value) of each one-dimensional sweep, the default left out.

    ``levels`` values evenly over the range, both ends included; the default is the
    shared baseline point.
    """
    out = []
    for p in params:
        for v in np.linspace(p.low, p.high, levels):
            v = float(round(v) if p.integer else v)
            if not math.isclose(v, defaults[p.name], rel_tol=1e-12, abs_tol=1e-12):
                out.append((p, v))
    return out


@dataclass
class TwoStage:
    """Morris screening, Sobol on the few that matter, sweeps, and the answer in words."""

    a: Scenario
    b: Scenario
    section: str
    kpis: list[str]
    dropped: dict[str, str]
    """KPIs left out, with the reason (what they measure is not in the pair)."""
    params: list[Parameter]
    skipped: dict[str, tuple[str, ...]]
    defaults: dict[str, float]
    """Each varied parameter's value in the pair (the sweeps' centre)."""
    baseline: dict[str, float]
    """Per KPI: B - A with every parameter at its value in the pair."""
    screen: Sensitivity
    sobol: Sensitivity | None
    chosen: list[str]
    """The parameters Sobol analysed (the top of the screening)."""
    sweeps: pd.DataFrame
    """One row per sweep point: parameter, value, and per KPI B - A."""
    flips: dict[str, list[Flip]] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)
    swept: dict[str, list[str]] = field(default_factory=dict)
    """Per KPI: the parameters swept for it."""
    levels: int = 5
    top: int = 5
    samples: int = 8
    settled: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per KPI: B - A over the baseline's replications and its 95% CI half-width."""
    noise: dict[str, float] = field(default_factory=dict)
    """Per KPI: the size a sweep point's difference must pass for its sign to count."""
    baseline_reps: int = 1
    ran: int = 0
    resumed: int = 0
    wall_s: float = 0.0

    @property
    def executor(self) -> str:
        """The executor the designs ran on."""
        return self.screen.executor

    @property
    def workers(self) -> int:
        """Its workers."""
        return self.screen.workers

    def headline(self) -> str:
        """One sentence over every KPI: which assumptions could flip which difference."""
        parts = []
        for k in self.kpis:
            f = [x for x in self.flips.get(k, []) if x.clear]
            mean, hw = self.settled[k]
            if not math.isfinite(mean):
                parts.append(f"the {k} difference has no value at the defaults")
            elif mean == 0 and hw == 0:
                parts.append(f"the {k} difference is zero at the defaults (no sign to flip)")
            elif not _clear_sign(mean, hw):
                parts.append(f"the {k} difference has no clear sign at the defaults (its "
                             "95% CI includes zero)")
            elif f:
                parts.append(f"the {k} difference flips if "
                             + ", or if ".join(x.words() for x in f))
            else:
                parts.append(f"the {k} difference keeps its sign over every assumption "
                             "screened, one at a time")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "." if text else ""

    def as_json(self) -> dict[str, Any]:
        """Everything a reader needs, as plain data."""
        return {
            "a": self.a.name, "b": self.b.name, "a_hash": self.a.digest(),
            "b_hash": self.b.digest(), "section": self.section, "method": TWO_STAGE,
            "days": self.a.horizon.days, "replications": self.screen.reps,
            "seed": self.screen.seed, "headline": self.headline(),
            "baseline_replications": self.baseline_reps,
            "kpis": {k: {"summary": self.words[k], "at_defaults": self.settled[k][0],
                         "at_defaults_half_width": self.settled[k][1],
                         "sweep_centre": self.baseline[k], "noise": self.noise[k],
                         "flips": [f.as_dict() for f in self.flips.get(k, [])],
                         "swept": self.swept.get(k, []),
                         "signs": self.screen.signs[k].as_dict()} for k in self.kpis},
            "kpis_not_analysed": self.dropped,
            "parameters": [{"name": p.name, "path": p.path, "low": p.low, "high": p.high,
                            "default": self.defaults[p.name]} for p in self.params],
            "not_varied": {k: list(v) for k, v in self.skipped.items()},
            "screening": self.screen.as_json(),
            "sobol": self.sobol.as_json() if self.sobol is not None else None,
            "sobol_parameters": self.chosen, "sweep_levels": self.levels,
            "sweeps": self.sweeps.to_dict(orient="records"),
            "replications_run": self.ran, "replications_resumed": self.resumed,
            "wall_s": round(self.wall_s, 3),
        }

    def text(self) -> str:
        """The report printed by ``ccsim sensitivity`` (two-stage)."""
        which = ("parameter(s) of every section" if self.section == ALL
                 else f"[{self.section}] parameter(s)")
        s = self.screen
        lines = [f"sensitivity of {self.b.name} - {self.a.name} (B - A) to {len(self.params)} "
                 f"{which} over their plausible ranges; {s.a.horizon.days} day(s), "
                 f"{s.reps} paired replication(s) per point ({self.baseline_reps} at the "
                 f"defaults), seed {s.seed}",
                 "", self.headline(), ""]
        for k in self.kpis:
            lines.append(self.words[k])
        for k, why in self.dropped.items():
            lines.append(f"{k}: not analysed ({why})")
        lines.append("")
        lines.append(f"1. Morris screening: {s.trajectories} trajectories x "
                     f"({len(self.params)} + 1) = {s.points} design points")
        for k in self.kpis:
            t = s.tables[k].head(8)
            lines.append(f"  {k}: " + ", ".join(
                f"{r.parameter} {r.mu_star:.3g}" for r in t.itertuples()
                if np.isfinite(r.mu_star) and r.mu_star > 1e-9 * t["mu_star"].max())
                + " (mu*, largest first)")
        if self.sobol is not None:
            o = self.sobol
            lines.append(f"2. Sobol (Saltelli) on the top {len(self.chosen)}: "
                         f"{o.trajectories} base samples x ({len(self.chosen)} + 2) = "
                         f"{o.points} design points")
            for k in self.kpis:
                t = o.tables[k]
                lines.append(f"  {k}: " + ", ".join(
                    f"{r.parameter} S1 {r.S1:.2f} ST {r.ST:.2f}" for r in t.itertuples()))
            if o.trajectories < 64:
                lines.append(f"  (with {o.trajectories} base samples the Sobol indices are "
                             "rough, even outside 0-1; 64 or more is usual)")
        else:
            lines.append("2. Sobol: skipped (" + ("--samples 0" if not self.samples else
                         "fewer than two parameters move any difference") + ")")
        n = self.sweeps["parameter"].nunique() if len(self.sweeps) else 0
        lines.append(f"3. one-at-a-time sweeps: {n} parameter(s) x {self.levels} levels at "
                     "the others' defaults (a flip value is interpolated between the two "
                     "sweep points around it)")
        for reason, names in self.skipped.items():
            lines.append(f"not varied ({reason}): {', '.join(names)}")
        return "\n".join(lines)


def _clear_sign(mean: float, hw: float) -> bool:
    """Whether a difference has a sign beyond its CI (no CI: any nonzero difference)."""
    return mean != 0 and (not math.isfinite(hw) or abs(mean) > hw)


def _kpi_words(k: str, settled: tuple[float, float], n0: int, flips: list[Flip],
               signs: SignSummary, sobol: SignSummary | None, swept: list[str],
               top: list[str]) -> str:
    """One KPI's answer in words."""
    mean, hw = settled
    if not math.isfinite(mean):
        return f"{k}: no value at the defaults (not measured in these runs)"
    ci = (f" (95% CI {mean - hw:+.4g} to {mean + hw:+.4g}, {n0} replications)"
          if math.isfinite(hw) else "")
    head = f"{k}: B - A = {mean:+.4g} at the defaults{ci}"
    n = signs.points - signs.missing + (sobol.points - sobol.missing if sobol else 0)
    lower = signs.lower + (sobol.lower if sobol else 0)
    higher = signs.higher + (sobol.higher if sobol else 0)
    if lower and higher:
        design = (f"over the designs B is lower at {lower} and higher at {higher} of {n} "
                  "points")
    elif lower or higher:
        design = f"the sign is the same at all {n} design points with a difference"
    else:
        design = f"B and A are equal at all {n} design points"
    clear = [f for f in flips if f.clear]
    noisy = len(flips) - len(clear)
    if clear:
        one = "it flips if " + ", or if ".join(f.words() for f in clear)
    elif mean == 0 and hw == 0:
        one = "there is no sign to flip"
    elif not _clear_sign(mean, hw):
        one = "its CI includes zero, so there is no clear sign to flip"
    elif not swept:
        one = ("no assumption moves it by as much as half its size at the defaults, so none "
               "was swept")
    else:
        one = (f"none of the {len(swept)} assumption(s) swept ({', '.join(swept)}) flips it "
               "alone within its range")
    if noisy:
        one += f" ({noisy} sign change(s) within the noise of one replication not counted)"
    most = f"; it depends most on {', '.join(top)}" if top else ""
    return f"{head}; {one}; {design}{most}"


def run_two_stage(a: Scenario, b: Scenario, section: str = ALL, *, trajectories: int = 4,
                  top: int = 5, samples: int = 8, levels: int = 5, reps: int = 1,
                  seed: int = 1, kpis: Sequence[str] | None = None,
                  baseline_reps: int = BASELINE_REPS,
                  only: Sequence[str] | None = None, executor: Executor | None = None,
                  store: ReplicationStore | None = None,
                  progress: Callable[[int], None] | None = None,
                  on_design: Callable[[int], None] | None = None) -> TwoStage:
    """Morris over every relevant parameter, Sobol on the ``top`` few, then sweeps.

    1. The pair at its own values, ``max(reps, baseline_reps)`` replications: the sign
       each difference has, with its 95% CI, and the noise of one point (the standard
       deviation of a paired replication's difference over the square root of ``reps``).
    2. Morris screening (``trajectories``) over the parameters :func:`select` keeps.
    3. Sobol (Saltelli, ``samples`` base samples) over the ``top`` parameters by mu*
       (each KPI's mu* over its largest, the best of the KPIs), when at least two move.
    4. For each KPI, a one-dimensional paired sweep (``levels`` values over the range, the
       others at the pair's values) of every parameter whose mu* is at least
       ``SWEEP_SHARE`` of the difference at the baseline, at most ``top``, largest first,
       when the baseline's CI excludes zero; a flip value is where the sweep's difference
       changes sign (:func:`find_flips`), clear when the difference beyond it exceeds
       ``NOISE_SDS`` times that noise (only clear flips are said in words).
    Every stage is an experiment of its own in the same ``store``: an interrupted run
    resumes, and the results are the same serial or parallel.
    """
    params, skipped = select(a, b, section, only)
    if kpis:
        kpis, dropped = list(kpis), {}
    else:
        kpis, dropped = headline_kpis(a, b)
    defaults = {p.name: float(value_in(a, p.path)) for p in params}
    total = [2 * reps]

    def grow(n: int) -> None:
        total[0] += n
        if on_design:
            on_design(total[0])

    n0 = max(reps, baseline_reps)
    total[0] = 2 * n0
    if on_design:
        on_design(total[0])
    base = run_experiment([a, b], seed, n0, executor=executor, store=store, tables=(),
                          progress=progress)
    baseline, settled, noise = {}, {}, {}
    for k in kpis:
        va = np.array([r.get(k, math.nan) for r in base.kpi_rows(0)], dtype=float)
        vb = np.array([r.get(k, math.nan) for r in base.kpi_rows(1)], dtype=float)
        est = paired_difference(va, vb, CONFIDENCE)
        # the sweeps' centre: the same replications as every other point
        baseline[k] = float(np.mean(vb[:reps] - va[:reps]))
        settled[k] = (float(est.mean), float(est.half_width))
        sd = float(np.std(vb - va, ddof=1)) if n0 > 1 else math.nan
        noise[k] = NOISE_SDS * sd / math.sqrt(reps) if math.isfinite(sd) else 0.0
    screen = run_sensitivity(a, b, section, method="morris", trajectories=trajectories,
                             reps=reps, seed=seed, kpis=kpis, executor=executor, store=store,
                             progress=progress, on_design=grow, params=params,
                             skipped=skipped, label="screen point")
    names = [p.name for p in params]
    score = np.zeros(len(names))
    for k in kpis:
        t = screen.tables[k].set_index("parameter")["mu_star"].reindex(names)
        v = t.to_numpy(dtype=float)
        if np.isfinite(v).any() and np.nanmax(v) > 0:
            score = np.fmax(score, np.nan_to_num(v / np.nanmax(v)))
    ranked = [names[i] for i in np.argsort(-score, kind="stable") if score[i] > 0]
    chosen = ranked[:top]
    sobol = None
    if len(chosen) >= 2 and samples:
        sub = [p for p in params if p.name in chosen]
        sobol = run_sensitivity(a, b, section, method="sobol", trajectories=samples,
                                reps=reps, seed=seed, kpis=kpis, executor=executor,
                                store=store, progress=progress, on_design=grow, params=sub,
                                skipped={}, label="sobol point")
    swept: dict[str, list[str]] = {}
    for k in kpis:
        t = screen.tables[k]
        margin = abs(baseline[k])
        mean, hw = settled[k]
        if not math.isfinite(margin) or margin == 0 or not _clear_sign(mean, hw):
            swept[k] = []  # no sign at the defaults beyond noise: nothing to flip
            continue
        ok = t[np.isfinite(t["mu_star"]) & (t["mu_star"] >= SWEEP_SHARE * margin)]
        swept[k] = list(ok["parameter"])[:top]
    to_sweep = [p for p in params if any(p.name in v for v in swept.values())]
    pts = sweep_points(to_sweep, defaults, levels)
    scen: list[Scenario] = []
    for i, (p, v) in enumerate(pts):
        scen += [point_scenario(a, [p], [v], i, "sweep point"),
                 point_scenario(b, [p], [v], i, "sweep point")]
    grow(len(scen) * reps)
    exp = run_experiment(scen, seed, reps, executor=executor, store=store, tables=(),
                         progress=progress) if scen else None
    rows = []
    if exp is not None:
        _, _, dif, _ = _paired(exp, len(pts), kpis)
        rows = [{"parameter": p.name, "value": v, **{f"{k}_diff": dif[k][i] for k in kpis}}
                for i, (p, v) in enumerate(pts)]
    rows += [{"parameter": p.name, "value": defaults[p.name],
              **{f"{k}_diff": baseline[k] for k in kpis}} for p in to_sweep]
    sweeps = pd.DataFrame(rows, columns=["parameter", "value", *(f"{k}_diff" for k in kpis)])
    sweeps = sweeps.sort_values(["parameter", "value"], kind="stable").reset_index(drop=True)
    res = TwoStage(a, b, section, kpis, dropped, params, skipped, defaults, baseline, screen,
                   sobol, chosen, sweeps, levels=levels, top=top, samples=samples,
                   swept=swept, settled=settled, noise=noise, baseline_reps=n0)
    for k in kpis:
        flips = []
        for name in swept[k]:
            sw = sweeps[sweeps["parameter"] == name]
            flips += find_flips(k, name, defaults[name], sw["value"], sw[f"{k}_diff"],
                                noise[k])
        res.flips[k] = flips
        res.words[k] = _kpi_words(k, settled[k], n0, flips, screen.signs[k],
                                  sobol.signs[k] if sobol else None, swept[k],
                                  top_parameters(screen.tables[k], "morris"))
    stages = [base, screen, *([sobol] if sobol else []), *([exp] if exp else [])]
    res.ran = sum(x.ran for x in stages)
    res.resumed = sum(x.resumed for x in stages)
    res.wall_s = sum(x.wall_s for x in stages)
    return res


def write_two_stage(out: Path, res: TwoStage, command: str) -> list[str]:
    """``sensitivity.json`` and the stages' tables (CSV) in ``out``, atomically each."""
    write_csv(res.screen.design_table(), out / "screen_design.csv")
    write_csv(res.screen.indices_table(), out / "screen_indices.csv")
    files = ["sensitivity.json", "screen_design.csv", "screen_indices.csv"]
    if res.sobol is not None:
        write_csv(res.sobol.design_table(), out / "sobol_design.csv")
        write_csv(res.sobol.indices_table(), out / "sobol_indices.csv")
        files += ["sobol_design.csv", "sobol_indices.csv"]
    write_csv(res.sweeps, out / "sweeps.csv")
    files.append("sweeps.csv")
    write_json({"command": command, "kind": "sensitivity", **res.as_json()},
               out / "sensitivity.json")
    return files
