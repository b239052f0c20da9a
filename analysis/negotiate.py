"""``ccsim negotiate``: proposals against a base regime, answered in a negotiator's words.

The simulation and the statistics are :mod:`analysis.experiment` and :mod:`analysis.report`
(the same paired comparison as ``ccsim compare``, stored and resumed the same way). This
module only turns that comparison into what is put on the meeting table: one sentence per
proposal with the IPCC's calibrated likelihood words, the numbers in their units, the cost as
paid hours and payroll a year, the trade-off in one picture with its Pareto frontier, and a
self-contained HTML page with a PDF of it printed by a headless browser.

How likely (:func:`sign_probability`): replication ``k`` of every scenario sees the same
calls, so the ``n`` paired differences are independent. With a flat prior on the mean
difference and normal differences, the mean's posterior is Student's t with ``n - 1``
degrees of freedom around the observed mean, scaled by its standard error; the probability
that the true mean difference has the observed sign is then ``1 - p / 2``, ``p`` the two-sided
paired t-test's p-value. It is a probability about the model's mean over the horizon run,
given the model's assumptions: it says nothing of whether the assumptions hold
(``ccsim sensitivity`` asks that), and with few replications the t distribution carries the
uncertainty of the spread only as far as normality holds.
"""

from __future__ import annotations

import html
import io
import math
import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from analysis.i18n import _, current, language, ngettext, num, pct  # noqa: E402
from analysis.report import Comparison  # noqa: E402
from analysis.report import flatten as _flatten  # noqa: E402
from analysis.stats import Estimate  # noqa: E402
from analysis.store import atomic_write, json_safe  # noqa: E402
from sim.engine.status import Status  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

#: the case's scenarios (docs/case.md), found beside the package in a checkout
CASE = Path(__file__).resolve().parents[1] / "scenarios" / "case"
#: the default base: the 2018 regime, in force when the proposals were tabled (see
#: :data:`BASE_WHY`)
DEFAULT_BASE = CASE / "telenor-2018-tmr.toml"
#: the default proposals: the 2016 agreement, the authority's order, the union's and the
#: employer's proposals, all on the case's centre
DEFAULT_PROPOSALS = tuple(CASE / f for f in ("agreement-2016.toml", "dpa-order.toml",
                                             "union-proposal.toml", "employer-proposal.toml"))
BASE_WHY = ("the 2018 regime is the base because it was in force when the proposals were "
            "tabled: each proposal, the return to the 2016 agreement and compliance with the "
            "authority's order included, is a change from it, and the question at the table "
            "is what that change does compared with now")

#: the primary KPIs: the two a proposal is judged on (each tested at 95%, unadjusted)
PRIMARY = ("service_level", "stress_mean")
#: the KPIs whose changes are adjusted for the runs' busyness and absence luck
#: (:func:`comparison`): service level, whose change followed the runs' mean busyness at a
#: correlation of 0.64-0.86 over 29 five-day runs of six of the case's seven proposals that
#: shared a warm-up, about 0.4-0.5 when each warms up on its own, and then the state the
#: run carries, which the absence luck sees (bench/bench_variance.py, docs/negotiating.md).
#: Measured stress is not:
#: its ranges are already ten times narrower than a negotiator's 0.1, and a control that
#: explains little of it would only cost a degree of freedom
ADJUSTED = ("service_level",)

# --------------------------------------------------------------------------- likelihood

#: the IPCC's calibrated likelihood language (Mastrandrea et al. 2010, the AR5 guidance
#: note): term, lowest and highest probability of its range
IPCC_TERMS: tuple[tuple[str, float, float], ...] = (
    ("virtually certain", 0.99, 1.0),
    ("extremely likely", 0.95, 1.0),
    ("very likely", 0.90, 1.0),
    ("likely", 0.66, 1.0),
    ("about as likely as not", 0.33, 0.66),
    ("unlikely", 0.0, 0.33),
    ("very unlikely", 0.0, 0.10),
    ("extremely unlikely", 0.0, 0.05),
    ("exceptionally unlikely", 0.0, 0.01),
)


def likelihood_word(p: float) -> str:
    """The narrowest IPCC term whose range holds probability ``p``.

    The ranges are nested and touch at their ends; a probability exactly on an end gets the
    stronger term (0.99 "virtually certain", 0.66 "likely", 0.33 "unlikely", 0.10 "very
    unlikely", 0.01 "exceptionally unlikely"); strictly between 0.33 and 0.66 it is "about as
    likely as not".
    """
    if not 0.0 <= p <= 1.0 or math.isnan(p):
        raise ValueError(f"likelihood: probability must be within 0 to 1, got {p!r}")
    if p >= 0.66:
        return next(t for t, lo, _hi in IPCC_TERMS[:4] if p >= lo)
    if p <= 0.33:
        return next(t for t, _lo, hi in reversed(IPCC_TERMS[5:]) if p <= hi)
    return "about as likely as not"


def _term(word: str) -> str:
    """An IPCC term in the language in force (the catalogue's Bokmål terms: docs)."""
    return {"virtually certain": _("virtually certain"),
            "extremely likely": _("extremely likely"), "very likely": _("very likely"),
            "likely": _("likely"), "about as likely as not": _("about as likely as not"),
            "unlikely": _("unlikely"), "very unlikely": _("very unlikely"),
            "extremely unlikely": _("extremely unlikely"),
            "exceptionally unlikely": _("exceptionally unlikely")}[word]


def sign_probability(e: Estimate) -> float:
    """Probability that the true mean difference has the sign of the observed one.

    ``1 - p / 2`` with ``p`` the two-sided paired t-test p-value (module docstring): 0.5 when
    the mean difference is 0, 1 when every replication moved the same distance in the same
    direction; NaN with fewer than two replications.
    """
    p = e.p_value()
    return math.nan if math.isnan(p) else 1.0 - p / 2.0


# --------------------------------------------------------------------------- words

#: how each reported KPI is named on the page, its unit in words, and whether up is better
#: (English; :func:`kpi_name` and :func:`kpi_unit` give them in the language in force)
WORDS: dict[str, tuple[str, str, bool]] = {
    "service_level": ("service level", "percentage points", True),
    "stress_mean": ("measured stress", "points on the survey's scale", False),
    "stress_high_share": ("days with high stress", "percentage points", False),
    "absence_rate": ("absence", "percentage points", False),
    "attrition_rate": ("quits a year", "percentage points of the staff", False),
    "warnings_per_agent": ("warnings", "per agent and month", False),
}


def kpi_name(kpi: str) -> str:
    """A KPI's name on the page, in the language in force."""
    return {"service_level": _("service level"), "stress_mean": _("measured stress"),
            "stress_high_share": _("days with high stress"), "absence_rate": _("absence"),
            "attrition_rate": _("quits a year"), "warnings_per_agent": _("warnings")}[kpi]


def kpi_unit(kpi: str) -> str:
    """A difference's unit in words, in the language in force."""
    if kpi in SHARES:
        return _("percentage points")
    return {"stress_mean": _("points on the survey's scale"),
            "warnings_per_agent": _("per agent and month")}[kpi]


#: KPIs shown in per cent (their differences in percentage points)
SHARES = ("service_level", "stress_high_share", "absence_rate", "attrition_rate")
#: the threshold under which a cost change is called "no material change": presentation
#: only (a tenth of a per cent of the payroll is below what a budget line shows)
NEGLIGIBLE_PAYROLL_SHARE = 0.001


#: the names of the case's scenarios (scenarios/case/), which the catalogue has in every
#: language; any other file's name is shown as its description writes it
CASE_LABELS = ("The 2016 agreement", "Case reference", "COPC-style", "The authority's order",
               "Employer proposal", "The 2018 regime, but flexible micro-breaks",
               "Least intrusive", "COPC's targets followed up at team level", "Union proposal")


def label(s: Scenario) -> str:
    """A proposal's name for people: its description up to the colon, else its file name.

    The case's own scenarios are named in the language in force (:data:`CASE_LABELS`).
    """
    head = s.description.split(":", 1)[0].strip()
    name = head if head and len(head) <= 50 and ":" in s.description else s.name
    return _(name) if name in CASE_LABELS else name


def _num(kpi: str, v: float, signed: bool = False) -> str:
    """A value (or, ``signed``, a difference) in the page's units."""
    if math.isnan(v):
        return "-"
    if kpi in SHARES:
        if signed:
            return num(100 * v, "+.2f" if abs(v) < 0.01 else "+.1f")
        return pct(100 * v, ".1f")
    return num(v, "+.2f" if signed else ".2f")


def _magnitude(kpi: str, v: float, extra: int = 0) -> str:
    """A difference's size, unsigned, with a digit more when it is small (``extra`` more)."""
    a = 100 * abs(v) if kpi in SHARES else abs(v)
    places = 2 if (kpi in SHARES and a < 1) else 3 if a < 0.01 else 1 if kpi in SHARES else 2
    return num(a, f".{places + extra}f")


def _extra(kpi: str, e: Estimate) -> int:
    """Digits to add (at most 2) so that a narrow CI's two ends do not read the same.

    "by 0.10 points, 95% CI 0.10 to 0.10" says nothing about how sure; "by 0.098, 95% CI
    0.095 to 0.101" does.
    """
    for extra in range(3):
        if math.isnan(e.ci_low) or _magnitude(kpi, e.ci_low, extra) != \
                _magnitude(kpi, e.ci_high, extra):
            return extra
    return 2


def _interval(kpi: str, e: Estimate, direction: float, extra: int = 0) -> str:
    """The CI in the sentence's terms: magnitudes when it lies on one side of 0."""
    lo, hi = e.ci_low, e.ci_high
    if math.isnan(lo):
        return _("one replication: no interval")
    ci = _("95% CI {low} to {high}")
    if direction > 0 and lo >= 0:
        return ci.format(low=_magnitude(kpi, lo, extra), high=_magnitude(kpi, hi, extra))
    if direction < 0 and hi <= 0:
        return ci.format(low=_magnitude(kpi, hi, extra), high=_magnitude(kpi, lo, extra))
    return ci.format(low=_num(kpi, lo, True), high=_num(kpi, hi, True))


def effect_clause(kpi: str, e: Estimate) -> str:
    """``is very likely to lower measured stress (by 0.40 points ..., 95% CI 0.30 to 0.50)``.

    The likelihood word is :func:`likelihood_word` of :func:`sign_probability`; below
    "likely" the direction cannot be told, and the clause says the proposal "is about as
    likely as not to change" the KPI, with the signed interval. A difference of exactly 0 in
    every run is "leaves ... unchanged".
    """
    name, unit = kpi_name(kpi), kpi_unit(kpi)
    if e.mean == 0 and (math.isnan(e.ci_low) or e.half_width == 0):
        return _("leaves {name} unchanged (in every run)").format(name=name)
    p = sign_probability(e)
    if math.isnan(p):
        return _("changes {name} by {change} {unit} (one run: how likely cannot be said)"
                 ).format(name=name, change=_num(kpi, e.mean, True), unit=unit)
    word = likelihood_word(p)
    if word == "about as likely as not":
        return _("is {word} to change {name} ({change} {unit}, {interval})").format(
            word=_term(word), name=name, change=_num(kpi, e.mean, True), unit=unit,
            interval=_interval(kpi, e, 0.0))
    clause = _("is {word} to raise {name} (by {size} {unit}, {interval})") if e.mean > 0 \
        else _("is {word} to lower {name} (by {size} {unit}, {interval})")
    extra = _extra(kpi, e)
    return clause.format(word=_term(word), name=name, size=_magnitude(kpi, e.mean, extra),
                         unit=unit, interval=_interval(kpi, e, e.mean, extra))


# --------------------------------------------------------------------------- cost


@dataclass(frozen=True)
class Cost:
    """A proposal's cost against the base, a year: paid hours and payroll (staff cost)."""

    hours: Estimate
    """Change in paid agent-hours a year (paired over replications)."""
    payroll: Estimate
    """Change in staff cost a year, in ``currency``."""
    base_payroll: float
    """The base's staff cost a year."""
    base_fte: float
    """The base's paid hours in full-time equivalents."""
    currency: str
    days_per_year: float

    @property
    def share(self) -> float:
        """Change in payroll as a share of the base's payroll."""
        return self.payroll.mean / self.base_payroll if self.base_payroll else math.nan

    def as_dict(self) -> dict[str, Any]:
        """For ``--json`` and negotiate.json."""
        return {"paid_hours_per_year": self.hours.as_dict(),
                "payroll_per_year": self.payroll.as_dict(),
                "paid_hours_per_year_per_fte": self.hours.mean / self.base_fte,
                "payroll_per_year_per_fte": self.payroll.mean / self.base_fte,
                "share_of_base_payroll": self.share, "currency": self.currency,
                "days_per_year": self.days_per_year}


def _scaled(e: Estimate, f: float) -> Estimate:
    return Estimate(e.mean * f, e.ci_low * f, e.ci_high * f, e.n, e.confidence, e.dropped)


def costs(c: Comparison, scenarios: Mapping[str, Scenario]) -> dict[str, Cost]:
    """Each proposal's change in paid hours and payroll a year against the base.

    A year is the base's ``schedule.days_per_year`` working days (the model's own year, the
    one its quit rates are annualised over); paid hours and staff cost per day are the cost
    KPIs (``paid_agent_hours``, ``staff_cost_per_day``: roster, paid log-in minutes,
    overtime with its premium, paid sick days). Empty when the runs have no cost KPIs.
    """
    base = scenarios[c.baseline]
    year = base.schedule.days_per_year
    k = c.kpis[c.baseline]
    if "staff_cost_per_day" not in k or math.isnan(k["staff_cost_per_day"].mean):
        return {}
    out = {}
    for n, d in c.differences.items():
        out[n] = Cost(_scaled(d["paid_agent_hours"].estimate, year),
                      _scaled(d["staff_cost_per_day"].estimate, year),
                      k["staff_cost_per_day"].mean * year, k["fte"].mean,
                      base.cost.currency, year)
    return out


def _money(v: float, currency: str, signed: bool = True) -> str:
    if math.isnan(v):
        return "-"
    sign = ("+" if v > 0 else "-" if v < 0 else "") if signed else ""
    a = abs(v)
    text = _("{amount} million").format(amount=num(a / 1e6, ",.2f")) if a >= 1e6 else \
        num(a, ",.0f")
    return f"{sign}{currency} {text}"


def cost_clause(cost: Cost) -> str:
    """``adds 920 paid hours a year (+NOK 0.41 million, +0.12% of the payroll)``."""
    h, share = cost.hours.mean, cost.share
    if math.isnan(share):
        return _("cost unknown")
    if abs(share) < NEGLIGIBLE_PAYROLL_SHARE:
        return _("costs about the same ({hours} paid hours a year, {share} of the payroll)"
                 ).format(hours=num(h, "+,.0f"), share=pct(100 * share, "+.2f"))
    clause = _("adds {hours} paid hours a year ({payroll}, {share} of the payroll)") if h > 0 \
        else _("saves {hours} paid hours a year ({payroll}, {share} of the payroll)")
    return clause.format(hours=num(abs(h), ",.0f"),
                         payroll=_money(cost.payroll.mean, cost.currency),
                         share=pct(100 * share, "+.2f"))


# --------------------------------------------------------------------------- sentences


def sentence(name: str, c: Comparison, cost: Cost | None = None) -> str:
    """One proposal in plain words: stress and service level with how likely, then cost."""
    d = c.differences[name]
    parts = [effect_clause(k, d[k].estimate) for k in ("stress_mean", "service_level")
             if k in d and not math.isnan(d[k].estimate.mean)]
    text = _(" and ").join(parts) if parts else _("changes nothing measured")
    if cost is not None:
        text = _("{effects}; it {cost}").format(effects=text, cost=cost_clause(cost))
    return text


def base_sentence(c: Comparison, base: Scenario) -> str:
    """The base's own levels, so that the differences have something to stand on."""
    k = c.kpis[c.baseline]
    sl = base.service_level
    bits = [_("service level {value} ({definition}; target {target})").format(
        value=_num("service_level", k["service_level"].mean), definition=sl_words(base),
        target=pct(100 * sl.target, "g"))]
    if "stress_mean" in k and not math.isnan(k["stress_mean"].mean):
        bits.append(_("measured stress {value} on the survey's scale, {share} of agent-days "
                      "above {threshold} (\"high\")").format(
            value=num(k["stress_mean"].mean, ".2f"),
            share=_num("stress_high_share", k["stress_high_share"].mean),
            threshold=num(base.stress.high_threshold, "g")))
    return ", ".join(bits)


def sl_words(s: Scenario) -> str:
    """The one service-level definition, in the run report's words."""
    sl = s.service_level
    over = {"offered": _("of all calls offered"),
            "answered": _("of the calls answered"),
            "answered_and_late_abandons": _("of the calls answered or abandoned after "
                                            "{seconds} s"),
            "offered_excluding_short_abandons": _("of the calls offered, leaving out callers "
                                                  "who hung up within {short} s")}
    return _("answered within {seconds} s, as a share {over}").format(
        seconds=num(sl.threshold_s, "g"),
        over=over[sl.definition].format(seconds=num(sl.threshold_s, "g"),
                                        short=num(sl.short_abandon_s, "g")))


# --------------------------------------------------------------------------- Pareto


@dataclass(frozen=True)
class Point:
    """A proposal on the trade-off: service level (up is better), stress and cost (down)."""

    name: str
    service_level: float
    stress: float
    cost: float
    """Change in payroll as a share of the base's (0 for the base)."""


#: differences smaller than these count as ties in the Pareto comparison (they are below
#: what the page shows: 0.1 percentage point, 0.01 on the survey's scale, 0.01% of payroll)
PARETO_TOLERANCE = {"service_level": 0.001, "stress": 0.01, "cost": 0.0001}


def _axes(p: Point) -> dict[str, float]:
    # as "more is better" on every axis, leaving out an axis nobody measured
    return {"service_level": p.service_level, "stress": -p.stress, "cost": -p.cost}


def beats(a: Point, b: Point, tol: Mapping[str, float] = PARETO_TOLERANCE) -> bool:
    """Whether ``a`` dominates ``b``: no worse on any axis, better on at least one.

    Differences within ``tol`` are ties; an axis with no value in either point is left out.
    """
    x, y = _axes(a), _axes(b)
    keys = [k for k in x if not (math.isnan(x[k]) or math.isnan(y[k]))]
    if not keys:
        return False
    no_worse = all(x[k] >= y[k] - tol[k] for k in keys)
    better = any(x[k] > y[k] + tol[k] for k in keys)
    return no_worse and better


def pareto(points: Sequence[Point], tol: Mapping[str, float] = PARETO_TOLERANCE
           ) -> dict[str, list[str]]:
    """For each point, the points that beat it (empty: on the Pareto frontier)."""
    return {p.name: [q.name for q in points if q is not p and beats(q, p, tol)]
            for p in points}


# --------------------------------------------------------------------------- comparability

#: fields that must be equal for numbers to be compared at all (an error), by prefix
MUST_MATCH = ("horizon.", "service_level.", "stress.enabled", "stress.absence",
              "stress.attrition", "stress.feedback")
#: fields that make a different centre (a warning: the difference then includes them)
CENTRE = ("demand.", "calls.", "staffing.", "schedule.", "closing.", "behaviour.", "stress.",
          "cost.")


@dataclass
class Comparability:
    """Why some scenarios cannot be compared with the base (errors) or differ in centre."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _show(v: Any) -> str:
    """A scenario value as a message shows it (TOML-like: true, "text", 20)."""
    if v is None:
        return "(absent)"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:g}"
    return f'"{v}"' if isinstance(v, str) else str(v)


def comparability(base: tuple[Path, Scenario], others: Sequence[tuple[Path, Scenario]]
                  ) -> Comparability:
    """Check every proposal against the base: same horizon, stress switches, SL definition.

    A different horizon, service-level definition or stress switch is an error naming both
    files, the field, both values and the fix; a different centre (demand, staffing,
    schedule, the model's parameters, cost) is a warning naming the same.
    """
    out = Comparability()
    bpath, bs = base
    bflat = _flatten(bs.to_dict())
    for path, s in others:
        flat = _flatten(s.to_dict())
        keys = [k for k in dict.fromkeys([*bflat, *flat]) if bflat.get(k) != flat.get(k)]
        hard = [k for k in keys if k.startswith(MUST_MATCH)]
        for k in hard:
            if k.startswith("horizon."):
                fix = _("run both on the same horizon (--days N sets horizon.days for all) "
                        "or make the proposal extend the base's centre "
                        "(extends = \"case-base.toml\")")
            elif k.startswith("stress."):
                fix = _("set it the same in both (--set {field}=true sets it for all) or make "
                        "the proposal extend the base's centre (extends = \"case-base.toml\")"
                        ).format(field=k)
            else:
                fix = _("service levels defined differently are different numbers: set it "
                        "the same in both")
            out.errors.append(_("{path} and {base} are not comparable: {field} is {value} in "
                                "{path} and {base_value} in {base}; {fix}").format(
                path=path, base=bpath, field=k, value=_show(flat.get(k)),
                base_value=_show(bflat.get(k)), fix=fix) + _case_version(path))
        soft = [k for k in keys if k.startswith(CENTRE) and k not in hard]
        if soft:
            differ = _("{field} is {value} in {path} and {base_value} in {base}")
            shown = "; ".join(differ.format(field=k, value=_show(flat.get(k)), path=path,
                                            base_value=_show(bflat.get(k)), base=bpath)
                              for k in soft[:3])
            more = _(" (and {n} more fields)").format(n=len(soft) - 3) if len(soft) > 3 else ""
            out.warnings.append(_("{path} is on a different centre from {base}: {differences}; "
                                  "its differences include that change, not only the regime"
                                  ).format(path=path, base=bpath, differences=shown + more))
    return out


def _case_version(path: Path) -> str:
    """`` (its version on the case's centre: ...)`` for a policy/ file that has one."""
    twin = CASE / Path(path).name
    if Path(path).parent.name != "policy" or not twin.is_file():
        return ""
    return _(" (its version on the case's centre is {path})").format(path=shown(twin))


# --------------------------------------------------------------------------- the answer


@dataclass
class Answer:
    """Everything the page says: sentences, numbers, costs, the frontier, warnings."""

    comparison: Comparison
    scenarios: dict[str, Scenario]
    files: dict[str, Path]
    sentences: dict[str, str]
    costs: dict[str, Cost]
    points: list[Point]
    losers: dict[str, list[str]]
    warnings: list[str]
    base_text: str
    notes: list[str] = field(default_factory=list)
    """How the runs were chosen (sequential stopping), shown under "How sure"."""
    lang: str = "en"
    """The language the sentences were written in; the page and text use it too."""

    @property
    def baseline(self) -> str:
        """The base scenario's name."""
        return self.comparison.baseline

    def as_json(self) -> dict[str, Any]:
        """``ccsim negotiate --json`` and negotiate.json."""
        c = self.comparison
        return json_safe({
            "base": self.baseline, "replications": c.reps,
            "base_sentence": self.base_text,
            "proposals": {n: {
                "label": label(self.scenarios[n]), "file": str(self.files[n]),
                "sentence": self.sentences[n],
                "likelihood": {k: {"probability_of_sign": sign_probability(d.estimate),
                                   "word": _word(d.estimate), **d.estimate.as_dict()}
                               for k, d in c.differences[n].items() if k in WORDS},
                "cost": self.costs[n].as_dict() if n in self.costs else None,
                "loses_to": self.losers.get(n, []),
            } for n in c.differences},
            "base_loses_to": self.losers.get(self.baseline, []),
            "warnings": self.warnings, "notes": self.notes, "language": self.lang,
        })


def _word(e: Estimate) -> str | None:
    p = sign_probability(e)
    return None if math.isnan(p) else likelihood_word(p)


def answer(c: Comparison, scenarios: Sequence[Scenario], files: Sequence[Path],
           warnings: Sequence[str] = ()) -> Answer:
    """The page's content from a comparison (scenario 0 is the base)."""
    by = {s.name: s for s in scenarios}
    paths = {s.name: p for s, p in zip(scenarios, files, strict=True)}
    cost = costs(c, by)
    base = by[c.baseline]
    sentences = {}
    for n in c.differences:
        sentences[n] = _("{proposal} {does}.").format(proposal=label(by[n]),
                                                      does=sentence(n, c, cost.get(n)))
    points = [Point(n, c.kpis[n]["service_level"].mean,
                    c.kpis[n].get("stress_mean", Estimate(math.nan, math.nan, math.nan, 0,
                                                          0.95)).mean,
                    0.0 if n == c.baseline else (cost[n].share if n in cost else math.nan))
              for n in c.kpis]
    return Answer(c, by, paths, sentences, cost, points, pareto(points), list(warnings),
                  base_sentence(c, base), lang=current())


# --------------------------------------------------------------------------- text


def text(a: Answer, width: int = 100) -> str:
    """What the terminal shows: the sentences, a small table, within ``width`` columns."""
    with language(a.lang):
        return _text(a, width)


def _text(a: Answer, width: int) -> str:
    c = a.comparison
    base = a.scenarios[a.baseline]
    w = width - 2
    lines = [textwrap.fill(_("Against {base} ({file}): {levels}; {runs} of {days} each.").format(
        base=label(base), file=a.files[a.baseline], levels=a.base_text,
        runs=_n(c.reps, "run"), days=_n(base.horizon.days, "working day")), w), ""]
    for n in c.differences:
        lines += [textwrap.fill(a.sentences[n], w, subsequent_indent="  "), ""]
    head = f"{_('proposal'):<28}{_('service level'):>15}{_('stress'):>8}{_('high'):>8}" \
           f"{_('absence'):>9}{_('quits/yr'):>10}{_('paid h/yr'):>12}{_('beaten by'):>10}"
    lines += [head, "-" * len(head)]
    for n in c.kpis:
        k = c.kpis[n]
        hours = a.costs[n].hours.mean if n in a.costs else 0.0
        lost = a.losers.get(n, [])
        lines.append(f"{label(a.scenarios[n])[:27]:<28}"
                     f"{_num('service_level', k['service_level'].mean):>15}"
                     f"{_num('stress_mean', _mean(k, 'stress_mean')):>8}"
                     f"{_num('stress_high_share', _mean(k, 'stress_high_share')):>8}"
                     f"{_num('absence_rate', _mean(k, 'absence_rate')):>9}"
                     f"{_num('attrition_rate', _mean(k, 'attrition_rate')):>10}"
                     f"{('-' if n == a.baseline else num(hours, '+,.0f')):>12}"
                     f"{(str(len(lost)) if lost else '-'):>10}")
    lines.append("")
    for n in c.kpis:
        lost = a.losers.get(n, [])
        if lost:
            lines.append(textwrap.fill(
                _("{proposal} loses to {others} (as good or better on service level, stress "
                  "and cost, better on one).").format(
                    proposal=label(a.scenarios[n]),
                    others=_and([label(a.scenarios[x]) for x in lost])), w,
                subsequent_indent="  "))
    for note in a.notes:
        lines += ["", textwrap.fill(note, w)]
    for wtext in a.warnings:
        lines += ["", textwrap.fill(_("warning: ") + wtext, w, subsequent_indent="  ")]
    return "\n".join(lines)


def _and(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(names) == 1:
        return names[0]
    return _("{first} and {last}").format(first=", ".join(names[:-1]), last=names[-1])


#: the counted nouns of the page, singular and plural, for :func:`_n`
_NOUNS = {"run": lambda n: ngettext("{n} run", "{n} runs", n),
          "time": lambda n: ngettext("{n} time", "{n} times", n),
          "working day": lambda n: ngettext("{n} working day", "{n} working days", n),
          "unmeasured working day": lambda n: ngettext("{n} unmeasured working day",
                                                       "{n} unmeasured working days", n)}


def _n(n: int, noun: str) -> str:
    return _NOUNS[noun](n).format(n=n)


def _mean(k: Mapping[str, Estimate], kpi: str) -> float:
    return k[kpi].mean if kpi in k else math.nan


# --------------------------------------------------------------------------- figure


def figure(a: Answer) -> str | None:
    """The trade-off as inline SVG: service level against stress, cost as colour.

    Each point is numbered as in the list under it (names would overlap). Proposals no
    other beats (the Pareto frontier over all three) have a thick black ring, beaten ones a
    thin grey one; a line is not drawn through the frontier, which is a surface in three
    dimensions, not a curve in this picture. None when stress was not measured.
    """
    pts = [p for p in a.points if not math.isnan(p.stress)]
    if len(pts) < 2:
        return None
    number = {p.name: i for i, p in enumerate(a.points, start=1)}
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    if current() == "nb":  # the axes' numbers with a decimal comma, as the text has them
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _pos: num(v, "g")))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _pos: num(v, "g")))
    costs_pct = [100 * (0.0 if math.isnan(p.cost) else p.cost) for p in pts]
    span = max(0.01, max(abs(v) for v in costs_pct))
    cmap = plt.get_cmap("coolwarm")
    norm = matplotlib.colors.Normalize(-span, span)
    for p, v in zip(pts, costs_pct, strict=True):
        beaten = bool(a.losers.get(p.name))
        ax.scatter(p.stress, 100 * p.service_level, s=90 if beaten else 150, zorder=2,
                   color=cmap(norm(v)), edgecolors="grey" if beaten else "black",
                   linewidths=0.8 if beaten else 2.2)
    # one label per group of points drawn on top of each other (regimes that come out the
    # same): each number on its own would hide the others' (the case's 2016 agreement and
    # least-intrusive proposal land on the same spot)
    for x, y, text, strong in label_groups(pts, number, a.losers):
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(7, 4), fontsize=9,
                    color="black" if strong else "dimgrey",
                    fontweight="bold" if strong else "normal")
    ax.scatter([], [], s=150, color="white", edgecolors="black", linewidths=2.2,
               label=_("beaten by no other (frontier)"))
    ax.scatter([], [], s=90, color="white", edgecolors="grey", linewidths=0.8,
               label=_("beaten (see the list)"))
    ax.legend(loc="best", fontsize=8)
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(sm, ax=ax, label=_("change in payroll, % of the base's"))
    if current() == "nb":
        bar.ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _pos: num(v, "g")))
    ax.set_xlabel(_("measured stress (survey scale; lower is better)"))
    base = a.scenarios[a.baseline]
    ax.set_ylabel(_("service level, % answered within {seconds} s").format(
        seconds=num(base.service_level.threshold_s, "g")))
    ax.margins(0.15)
    ax.set_title(_("Service level against stress; colour: cost"), fontsize=10)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def label_groups(pts: Sequence[Any], number: Mapping[str, int], beaten: Mapping[str, Any],
                 near: float = 0.04) -> list[tuple[float, float, str, bool]]:
    """The picture's labels: points closer than ``near`` of both axes' spans share one.

    ``pts`` have ``name``, ``stress`` and ``service_level``; ``beaten``: a name's winners
    (empty or absent: beaten by none). Returns (stress, service level in %, "2, 7, 8", any
    of them unbeaten) per label, at the group's first point by number: a number's label is
    about 4% of the axes wide and high, so the labels of nearer points would cover each
    other.
    """
    xs = [p.stress for p in pts]
    ys = [100 * p.service_level for p in pts]
    dx = max(max(xs) - min(xs), 1e-9)
    dy = max(max(ys) - min(ys), 1e-9)
    groups: list[list[int]] = []
    for i in sorted(range(len(pts)), key=lambda k: number[pts[k].name]):
        for g in groups:
            if any(abs(xs[i] - xs[j]) < near * dx and abs(ys[i] - ys[j]) < near * dy
                   for j in g):
                g.append(i)
                break
        else:
            groups.append([i])
    return [(xs[g[0]], ys[g[0]], ", ".join(str(number[pts[i].name]) for i in g),
             any(not beaten.get(pts[i].name) for i in g)) for g in groups]


# --------------------------------------------------------------------------- HTML

CSS = """@page{size:A4;margin:14mm}
body{font-family:system-ui,sans-serif;max-width:980px;margin:1.5em auto;padding:0 1em;
color:#222;font-size:14px;line-height:1.4}
h1{font-size:22px}h2{font-size:17px;margin-top:1.4em;break-after:avoid}
p.answer{font-size:15px;margin:.5em 0;padding-left:.6em;border-left:4px solid #2a6}
table{border-collapse:collapse;margin:.6em 0;font-size:12.5px;width:100%;break-inside:avoid}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.small{font-size:12px;color:#444}.warn{background:#fff4d6;padding:.5em;border:1px solid #e0b}
svg{max-width:100%;height:auto;display:block;margin:.5em auto}
@media print{body{margin:0;max-width:none}}"""


def page(a: Answer, run_info: Mapping[str, Any] | None = None) -> str:
    """The self-contained page: no external file, link or script; in the answer's language."""
    with language(a.lang):
        return _page(a, run_info)


def _page(a: Answer, run_info: Mapping[str, Any] | None) -> str:
    e = html.escape
    c = a.comparison
    base = a.scenarios[a.baseline]
    info = dict(run_info or {})
    days = base.horizon.days
    month = base.schedule.days_per_year / 12
    lab = {n: label(s) for n, s in a.scenarios.items()}
    parts = ["<!DOCTYPE html>", f'<html lang="{a.lang}"><head><meta charset="utf-8">',
             "<title>" + e(_("Proposals against {base}").format(base=lab[a.baseline]))
             + "</title>",
             f"<style>{CSS}</style></head><body>",
             "<h1>" + e(_("What the proposals do, against {base}").format(
                 base=lab[a.baseline])) + "</h1>"]
    for wtext in a.warnings:
        parts.append(f'<p class="warn"><b>{e(_("Warning."))}</b> {e(wtext)}</p>')
    parts += [f'<h2>{e(_("The answer, proposal by proposal"))}</h2><div class="answers">',
              *[f'<p class="answer">{e(a.sentences[n])}</p>' for n in c.differences],
              "</div>",
              "<p>" + _("The base is <b>{base}</b>: {levels}. Why this base: {why}.").format(
                  base=e(lab[a.baseline]), levels=e(a.base_text), why=e(_(BASE_WHY)))
              + "</p>"]
    parts.append(_how_sure(a))
    parts += [f"<p>{e(n)}</p>" for n in a.notes]
    # --- numbers
    parts.append(f"<h2>{e(_('The numbers'))}</h2>")
    parts.append('<p class="small">' + e(_(
        "Mean over {runs} of {days} each; in brackets the range the true mean lies in with "
        "95% confidence. Service level: calls {definition}. Warnings per agent and month: a "
        "month is {month} working days.").format(
            runs=_n(c.reps, "run"), days=_n(days, "working day"), definition=sl_words(base),
            month=num(month, ".1f")) + _warmup_words(base)) + "</p>")
    rows = []
    for n in c.kpis:
        k = c.kpis[n]
        heads = sum(a.scenarios[n].staffing.head_counts().values())
        quits = _mean(k, "attrition_rate")
        wpm = _mean(k, "warnings_per_agent") * month / days
        rows.append([lab[n], _cell("service_level", k), _cell("stress_mean", k),
                     _cell("stress_high_share", k), _cell("absence_rate", k),
                     "-" if math.isnan(quits) else
                     _("{share} (about {people} of {heads} people)").format(
                         share=pct(100 * quits, ".0f"), people=num(quits * heads, ".0f"),
                         heads=heads),
                     "-" if math.isnan(wpm) else num(wpm, ".2f")])
    parts.append(_table(["", _("service level"), _("measured stress"),
                         _("agent-days with high stress"),
                         _("absence (share of scheduled days)"), _("quits a year"),
                         _("warnings per agent and month")], rows))
    rows = []
    for n, d in c.differences.items():
        row = [lab[n]]
        for kpi in ("service_level", "stress_mean", "stress_high_share", "absence_rate",
                    "attrition_rate", "warnings_per_agent"):
            if kpi not in d or math.isnan(d[kpi].estimate.mean):
                row.append("-")
                continue
            est = d[kpi].estimate
            if kpi == "warnings_per_agent":
                est = _scaled(est, month / days)
            if est.mean == 0 and not est.half_width:
                row.append(e(_("no change in any run")))
                continue
            word = _word(est)
            row.append(f"{_num(kpi, est.mean, True)} [{_num(kpi, est.ci_low, True)}; "
                       f"{_num(kpi, est.ci_high, True)}]" if a.lang == "nb" else
                       f"{_num(kpi, est.mean, True)} [{_num(kpi, est.ci_low, True)}, "
                       f"{_num(kpi, est.ci_high, True)}]")
            if word:
                row[-1] += f"<br><i>{e(_term(word))}</i>"
        rows.append(row)
    parts.append('<p class="small">' + e(_(
        "Change against {base} (per cent values in percentage points), with how likely the "
        "change is in that direction (see \"How sure the model is\").").format(
            base=lab[a.baseline])) + "</p>")
    parts.append(_table(["", _("service level"), _("measured stress"), _("high-stress days"),
                         _("absence"), _("quits a year"), _("warnings per agent and month")],
                        rows, raw=True))
    parts.append(_cost_section(a))
    # --- trade-off
    parts.append(f"<h2>{e(_('The trade-off in one picture'))}</h2>")
    svg = figure(a)
    parts.append(svg if svg else f"<p>{e(_('Stress was not measured: no picture.'))}</p>")
    parts.append("<ol>")
    for p in a.points:
        lost = a.losers.get(p.name, [])
        if lost:
            why = _("they have at least as high a service level, at least as low stress and "
                    "cost no more, and are better on at least one of the three") \
                if len(lost) > 1 else \
                _("it has at least as high a service level, at least as low stress and costs "
                  "no more, and is better on at least one of the three")
            parts.append("<li>" + _("<b>{proposal}</b> loses to {others}: {why}.").format(
                proposal=e(lab[p.name]), others=e(_and([lab[x] for x in lost])), why=e(why))
                + "</li>")
        else:
            parts.append("<li>" + _("<b>{proposal}</b> is beaten by no other (on the "
                                    "frontier).").format(proposal=e(lab[p.name])) + "</li>")
    parts.append('</ol><p class="small">' + e(_(
        "The numbers are those of the picture. Differences smaller than the page shows (0.1 "
        "percentage point of service level, 0.01 of stress, 0.01% of payroll) count as "
        "ties.")) + "</p>")
    # --- what the words mean
    parts.append(_scale_section(a))
    parts.append(_statuses_section(a))
    parts.append(f'<h2>{e(_("What each proposal is"))}</h2>')
    if a.lang != "en":
        parts.append(f'<p class="small">{e(_(SCENARIO_WORDS))}</p>')
    parts.append('<ul class="small">')
    for n, s in a.scenarios.items():
        parts.append(f"<li><b>{e(lab[n])}</b> ({e(str(a.files[n]))}): {e(s.description)}."
                     f"<br>{e(' '.join(s.rationale.split()))}</li>")
    parts.append("</ul>")
    parts.append(f'<h2>{e(_("How this was made"))}</h2><p class="small">'
                 + e("; ".join(f"{k}: {v}" for k, v in info.items())) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


#: said on a page in another language than English, above the proposals' own descriptions
SCENARIO_WORDS = ("The proposals' descriptions and rationales are quoted from their scenario "
                  "files, in the language they were written in.")


def _warmup_words(s: Scenario) -> str:
    """Whether the runs started where the regimes had settled (horizon.warmup_days)."""
    days = s.warmup_days
    if not days:
        return _(" Each run starts on day one, with nobody strained or exhausted yet "
                 "(horizon.warmup_days = 0).")
    return _(" Each run starts after {days} under its own regime (horizon.warmup_days), where "
             "strain, exhaustion and absence have settled.").format(
        days=_n(days, "unmeasured working day"))


def _cell(kpi: str, k: Mapping[str, Estimate]) -> str:
    if kpi not in k or math.isnan(k[kpi].mean):
        return "-"
    est = k[kpi]
    if math.isnan(est.ci_low):
        return _num(kpi, est.mean)
    # in Bokmål the comma is the decimal sign: the range's two ends are kept apart by ";"
    sep = "; " if current() == "nb" else ", "
    return f"{_num(kpi, est.mean)} [{_num(kpi, est.ci_low)}{sep}{_num(kpi, est.ci_high)}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], raw: bool = False) -> str:
    e = html.escape
    out = ["<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header)
           + "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(
            f"<td>{e(v) if j == 0 or not raw else v}</td>" for j, v in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _cost_section(a: Answer) -> str:
    e = html.escape
    head = f"<h2>{e(_('The cost'))}</h2>"
    if not a.costs:
        return head + f"<p>{e(_('The runs have no cost figures.'))}</p>"
    any_cost = next(iter(a.costs.values()))
    cur = any_cost.currency
    sep = "; " if a.lang == "nb" else ", "
    rows = []
    for n, cost in a.costs.items():
        h, pay = cost.hours, cost.payroll
        rows.append([label(a.scenarios[n]),
                     f"{num(h.mean, '+,.0f')} [{num(h.ci_low, '+,.0f')}{sep}"
                     f"{num(h.ci_high, '+,.0f')}]"
                     if not math.isnan(h.ci_low) else num(h.mean, "+,.0f"),
                     num(h.mean / cost.base_fte, "+.1f"),
                     _money(pay.mean, cur), _money(pay.mean / cost.base_fte, cur),
                     pct(100 * cost.share, "+.2f")])
    base = a.scenarios[a.baseline]
    return (head + '<p class="small">' + e(_(
        "A year is {days} working days (schedule.days_per_year). Paid hours: the rostered "
        "shifts, paid log-in minutes, overtime and paid sick days. Payroll: those hours at the "
        "fully loaded cost of {currency} {hourly} an hour (cost.hourly_cost), overtime at "
        "{overtime}. The base pays {payroll} a year for {fte} full-time equivalents (FTE of "
        "{fte_hours} hours a day); \"per FTE\" divides by those.").format(
            days=num(any_cost.days_per_year, "g"), currency=cur,
            hourly=num(base.cost.hourly_cost, ",.0f"),
            overtime=pct(100 * (1 + base.cost.overtime_premium), ".0f"),
            payroll=_money(any_cost.base_payroll, cur, signed=False),
            fte=num(any_cost.base_fte, ".0f"), fte_hours=num(base.cost.fte_hours_per_day, "g")))
        + "</p>"
        + _table(["", _("paid hours a year [95% CI]"), _("paid hours a year per FTE"),
                  _("payroll a year"), _("payroll a year per FTE"),
                  _("share of the base's payroll")], rows)
        + '<p class="small">' + e(_("{currency}: the currency of cost.currency.").format(
            currency=cur)) + "</p>")


def _how_sure(a: Answer) -> str:
    e = html.escape
    c = a.comparison
    terms = ", ".join(f"{_term(t)} {num(100 * lo, 'g')}-{pct(100 * hi, 'g')}"
                      for t, lo, hi in IPCC_TERMS)
    return (
        f"<h2>{e(_('How sure the model is'))}</h2>"
        "<p>" + e(_(
            "Each scenario was run {times}. Run number k of every scenario meets the same "
            "callers at the same moments and the same sick days drawn by chance, so a "
            "difference between two scenarios in the same run comes from the proposal, not "
            "from luck in the calls; the differences are averaged over the runs. From how "
            "much they vary between runs follows how likely it is that the true average "
            "difference (over endlessly many runs) has the direction seen. That probability "
            "is put in the words of the IPCC's calibrated language (Mastrandrea et al. 2010): "
            "{terms}. \"About as likely as not to change\" means the direction cannot be told "
            "from these runs. The 95% range in brackets is two-sided: it can reach past no "
            "change while the direction is still \"extremely likely\" (95 to 97.5%).").format(
                times=_n(c.reps, "time"), terms=terms)) + "</p>"
        '<p class="small">' + e(_(
            "What this does not say: the probability is about the model, given its "
            "assumptions (docs/stress.md, docs/evidence.md); whether those hold in a real "
            "centre is another question (ccsim sensitivity varies them). It assumes the "
            "run-to-run differences scatter roughly normally; with few runs it is rougher. "
            "Service level and measured stress are each judged at 95% on their own; with many "
            "proposals and figures, one of them may look sure by chance.")) + "</p>")


def _scale_section(a: Answer) -> str:
    e = html.escape
    base = a.scenarios[a.baseline]
    k = a.comparison.kpis[a.baseline]
    if "stress_mean" not in k or math.isnan(k["stress_mean"].mean):
        return ""
    st = base.stress
    spread = _("People differ by about {sd} on this scale whatever their job "
               "(stress.trait_sd), so a change of 0.1 is {share} of that spread.").format(
        sd=num(st.trait_sd, "g"), share=num(0.1 / st.trait_sd, ".2g")) \
        if st.trait_sd > 0 else \
        _("People do not differ on this scale in this model (stress.trait_sd = 0).")
    return (
        f"<h2>{e(_('The stress scale'))}</h2>"
        "<p>" + e(_(
            "Measured stress is what a short survey at the end of each shift would read: the "
            "strain of the day (calls, hostile callers, being watched, chases and warnings, "
            "relieved by breaks and by control over one's work) plus what has built up over "
            "weeks (exhaustion), plus each person's own level and the survey's error. 0 is no "
            "strain at all; a higher reading is worse. In this comparison the base reads "
            "{base} on average. A reading above {threshold} counts as high "
            "(stress.high_threshold).").format(base=num(k["stress_mean"].mean, ".2f"),
                                               threshold=num(st.high_threshold, "g"))
            + " " + spread + " " + _("The scale and its calibration are in docs/stress.md."))
        + "</p><p>" + e(_(
            "Absence is the share of scheduled working days lost to sickness or to a seat left "
            "empty after someone quit. Quits a year: people leaving per head of staff, over a "
            "year, as a share and as people. Warnings: formal warnings a supervisor gives after "
            "repeated breaches of the adherence rule.")) + "</p>")


#: the statuses the page names, as agents see them in the IWS desktop (sim.engine.status)
PAGE_STATUSES = (Status.READY, Status.NOT_READY_BREAK, Status.NOT_READY_LUNCH,
                 Status.NOT_READY_MANAGER_APPROVED, Status.NOT_READY_TRAINING)


def _statuses_section(a: Answer) -> str:
    """The agent statuses the regimes act on, under the names agents see in IWS."""
    e = html.escape
    quoted = _("\u201c{status}\u201d")  # each language's quotation marks
    q = {s: quoted.format(status=s.label) for s in PAGE_STATUSES}
    return (f"<h2>{e(_('Agent statuses'))}</h2><p class=\"small\">" + e(_(
        "Statuses are named as agents see them in the Genesys IWS desktop, in English as "
        "the centre's desktop shows them. Taking calls is {ready}; breaks are {brk} and "
        "lunch {lunch}; chases and warnings take the agent to {manager}; developmental "
        "feedback and training are {training}. Adherence compares the status an agent is "
        "in with the schedule.").format(
            ready=q[Status.READY], brk=q[Status.NOT_READY_BREAK],
            lunch=q[Status.NOT_READY_LUNCH], manager=q[Status.NOT_READY_MANAGER_APPROVED],
            training=q[Status.NOT_READY_TRAINING])) + "</p>")


# --------------------------------------------------------------------------- PDF

#: browsers tried for the PDF, in order (CCSIM_BROWSER first when set)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
            "/usr/bin/chromium")


def find_browser(names: Sequence[str] = BROWSERS) -> str | None:
    """A headless-capable Chromium on this machine (``CCSIM_BROWSER`` first), or None."""
    first = [os.environ["CCSIM_BROWSER"]] if os.environ.get("CCSIM_BROWSER") else []
    for name in (*first, *names):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(page_html: Path, pdf: Path, browser: str) -> Path:
    """Print ``page_html`` to ``pdf`` (atomically) with headless ``browser``."""
    def write(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="ccsim-browser-") as profile:
            proc = subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
                 f"--user-data-dir={profile}", f"--print-to-pdf={tmp}",
                 page_html.resolve().as_uri()],
                capture_output=True, text=True, timeout=180, check=False)
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0 or \
                tmp.read_bytes()[:5] != b"%PDF-":
            raise OSError(f"{browser} could not print {page_html} to PDF (exit status "
                          f"{proc.returncode}): {proc.stderr.strip()[-300:]}")
    return atomic_write(pdf, write)


def write_page(a: Answer, out: Path, run_info: Mapping[str, Any] | None = None,
               pdf: bool = True, browsers: Sequence[str] = BROWSERS
               ) -> tuple[Path, Path | None, str]:
    """Write ``negotiate.html`` and, with a browser, ``negotiate.pdf`` into ``out``.

    ``browsers``: the names looked for on the PATH (after ``CCSIM_BROWSER``). Returns the
    two paths (None: no PDF) and a line saying what was written or why not.
    """
    text_ = page(a, run_info)
    page_path = atomic_write(out / "negotiate.html",
                             lambda p: p.write_text(text_, encoding="utf-8"))
    with language(a.lang):
        if not pdf:
            return page_path, None, _("page written to {page} (no PDF: --no-pdf)").format(
                page=page_path)
        browser = find_browser(browsers)
        if browser is None:
            return page_path, None, _(
                "page written to {page}; no PDF: no headless browser found (looked for "
                "{browsers}, or set CCSIM_BROWSER); install Chromium or print the page from "
                "any browser").format(page=page_path, browsers=", ".join(browsers))
        pdf_path = print_pdf(page_path, out / "negotiate.pdf", browser)
        return page_path, pdf_path, _("page written to {page} and {pdf}").format(
            page=page_path, pdf=pdf_path)


# --------------------------------------------------------------------------- the command


def load(paths: Sequence[Path], overrides: Mapping[str, Any] | None = None
         ) -> tuple[list[Scenario], Comparability]:
    """Load the base (first) and the proposals; refuse the incomparable, warn the rest.

    Raises ``ValueError`` with every incomparability (:func:`comparability`), one a line.
    """
    from analysis.experiment import unique_names
    from sim.scenario import load_scenario

    scenarios = unique_names([load_scenario(p, overrides or {}) for p in paths])
    checks = comparability((paths[0], scenarios[0]), list(zip(paths[1:], scenarios[1:],
                                                             strict=True)))
    if checks.errors:
        raise ValueError("\n  ".join(checks.errors))
    return scenarios, checks


def shown(path: Path) -> Path:
    """``path`` relative to the working folder when it is inside it (as people typed it)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def negotiate(paths: Sequence[Path], out: Path, *, seed: int = 1, reps: int = 5,
              overrides: Mapping[str, Any] | None = None, executor: Any = None,
              progress: Any = None, command: str = "ccsim negotiate",
              pdf: bool = True,
              loaded: tuple[list[Scenario], Comparability] | None = None,
              until: Sequence[tuple[str, float]] = (), max_reps: int = 100,
              report: bool = True, lang: str = "en") -> tuple[Answer, str]:
    """Run the base (``paths[0]``) and the proposals; write the page, PDF and the tables.

    The replications are stored in ``out/replications/`` as they finish (a re-run
    resumes); ``out`` also gets ``negotiate.html``, ``negotiate.pdf`` (with a browser),
    ``negotiate.json``, the analyst's ``report.html`` and ``comparison.json``, ``kpis.csv``
    and ``manifest.json``, each written atomically. ``loaded``: what :func:`load` gave for
    ``paths`` (not loaded again). ``until``: (KPI, half-width) pairs; runs are added, from
    ``reps`` up to ``max_reps``, until every proposal's difference in each KPI has a 95%
    range no wider than that either side (:func:`run_until_precise`). ``report``: also the
    analyst's report.html (its figures take a few seconds). ``lang``: the language of the
    page, the PDF and the returned words (:data:`analysis.i18n.LANGS`; the analyst's
    report stays in English). Returns the answer and a line saying what was written.
    """
    from analysis.experiment import run_experiment, write_experiment
    from analysis.report import compare, write_report
    from analysis.stats import COMPARE_CONFIDENCE
    from analysis.store import ReplicationStore, write_json

    with language(lang):
        paths = [shown(Path(p)) for p in paths]
        scenarios, checks = loaded or load(paths, overrides)
        kwargs = {"executor": executor, "store": ReplicationStore(out / "replications"),
                  "progress": progress}
        exp = run_until_precise(scenarios, seed, reps, until, max_reps, **kwargs) if until else \
            run_experiment(scenarios, seed, reps, **kwargs)
        plain = compare(exp, COMPARE_CONFIDENCE, PRIMARY)  # the analyst's, as compare's
        comp = comparison(exp)
        ans = answer(comp, scenarios, paths, checks.warnings)
        adjusted = control_note(exp, comp)
        if adjusted:
            ans.notes.append(adjusted)
        if until:
            ans.notes.append(precision_note(exp, until, max_reps))
        inputs = exp.inputs()
        write_experiment(out, exp, command, "negotiate")
        write_json({**plain.as_json(), "inputs": inputs}, out / "comparison.json")
        write_json(ans.as_json(), out / "negotiate.json")
        if report:
            write_report(exp, plain, out, {"command": command}, [inputs["text"]])
        line = write_page(ans, out, page_info(exp, comp, command), pdf=pdf)[2]
        return ans, line


def page_info(exp: Any, comp: Comparison, command: str) -> dict[str, Any]:
    """The page's "How this was made" items, in the current language.

    One function, so that ``ccsim verify`` renders the page again as it was written.
    """
    prov = exp.provenance()
    return {_("command"): command, _("runs per scenario"): comp.reps, _("seed"): exp.seed,
            _("days per run"): exp.scenarios[0].horizon.days,
            _("replications run / resumed"): f"{exp.ran} / {exp.resumed}",
            _("git revision"): (prov[0].get("git_revision") if prov else None)
            or _("unknown"),
            _("the analyst's tables"): _("report.html and comparison.json beside this "
                                         "page (in English)")}


def comparison(exp: Any) -> Comparison:
    """The paired comparison the page reports: service level adjusted for busyness and luck.

    Every KPI's paired difference as ``ccsim compare`` has it; those of :data:`ADJUSTED`
    are then the control-variate estimates of :mod:`analysis.variance` (each run's mean
    busyness, expectation exactly 1, and its absence luck, expectation exactly 0) when
    there are enough common runs (:func:`adjustments`). One function, so that ``ccsim
    verify`` derives the page the same way.
    """
    from analysis.report import compare
    from analysis.stats import COMPARE_CONFIDENCE, Difference

    comp = compare(exp, COMPARE_CONFIDENCE, PRIMARY)
    for name, adj in adjustments(exp).items():
        for kpi, a in adj.items():
            comp.differences[name][kpi] = Difference(a.estimate, a.estimate.p_value(), None)
    return comp


def adjustments(exp: Any, min_reps: int | None = None) -> dict[str, dict[str, Any]]:
    """Per proposal and KPI of :data:`ADJUSTED`, the control-variate estimate (empty: none).

    The controls: the base's runs' mean busyness when the days' busyness is random, and
    their absence luck (:func:`analysis.variance.run_luck`) when the runs kept it, from
    :data:`analysis.variance.MIN_REPS_LUCK` common runs (``min_reps + 2``). Not made
    with fewer than ``min_reps`` (default :data:`analysis.variance.MIN_REPS`) common runs,
    when no control varies, or when the scenarios' days are not the same days (their
    busyness or horizon differs: the base's controls are not theirs).
    """
    from analysis.stats import COMPARE_CONFIDENCE
    from analysis.variance import MIN_REPS, MIN_REPS_LUCK, adjusted_mean, controls, run_luck

    base = exp.scenarios[0]
    same = all(s.demand.busyness_cv == base.demand.busyness_cv
               and s.horizon.days == base.horizon.days for s in exp.scenarios)
    base_reps = exp.reps(0)
    out: dict[str, dict[str, Any]] = {}
    if not same:
        return out
    for i, s in enumerate(exp.scenarios[1:], start=1):
        common = [r for r in exp.reps(i) if r in set(base_reps)]
        if len(common) < (MIN_REPS if min_reps is None else min_reps):
            continue
        # the luck from MIN_REPS_LUCK runs (a forecast, min_reps given: from 2 runs more)
        few = len(common) < (MIN_REPS_LUCK if min_reps is None else min_reps + 2)
        luck = None if few else run_luck([exp.outputs[0, r].provenance for r in common])
        ctl = controls(base, exp.seed, common, luck)
        if ctl is None:
            continue
        out[s.name] = {}
        for kpi in ADJUSTED:
            d = [exp.outputs[i, r].kpis.get(kpi, math.nan)
                 - exp.outputs[0, r].kpis.get(kpi, math.nan) for r in common]
            if all(math.isnan(v) for v in d):
                continue
            out[s.name][kpi] = adjusted_mean(d, ctl[0], ctl[1], COMPARE_CONFIDENCE)
    return out


def widest_half_width(comp: Comparison, kpi: str) -> float:
    """The widest 95% half-width of the proposals' changes in ``kpi`` (NaN: not measured)."""
    widths = [d[kpi].estimate.half_width for d in comp.differences.values() if kpi in d]
    widths = [w for w in widths if not math.isnan(w)]
    return max(widths) if widths else math.nan


def control_note(exp: Any, comp: Comparison) -> str:
    """What the adjustment (busyness, absence luck) did, in words ("" when it was not used)."""
    adj = adjustments(exp)
    parts: list[str] = []
    for kpi in ADJUSTED:
        plain = [a[kpi].plain.half_width for a in adj.values() if kpi in a]
        now = widest_half_width(comp, kpi)
        if not plain or max(plain) == 0 or math.isnan(now):  # no spread: nothing to adjust
            continue
        scale, unit = (100, " " + _("percentage points")) if kpi in SHARES else (1, "")
        parts.append(_("{before} to {after}{unit}").format(
            before=num(scale * max(plain), ".2g"), after=num(scale * now, ".2g"), unit=unit))
    if not parts:
        return ""
    from analysis.variance import LUCK

    lucky = any(len(a[kpi].coefficients) > 1 for a in adj.values() for kpi in a) or (
        exp.scenarios[0].demand.busyness_cv <= 0
        and any(LUCK in exp.outputs[0, r].provenance for r in exp.reps(0)))
    if lucky and exp.scenarios[0].demand.busyness_cv > 0:
        return _("The changes in service level are adjusted for how busy each run's days "
                 "happened to be and for its luck with sickness and quits (control "
                 "variates: each day's busyness is drawn with an average known exactly, and "
                 "each morning's chance of falling sick or quitting is known before the "
                 "draw, so the sick days and vacancies a run drew above or below those "
                 "chances average exactly zero; the same days and draws in every scenario); "
                 "with them, the widest 95% range, either side, went from {widths}."
                 ).format(widths=_and(parts))
    if lucky:
        return _("The changes in service level are adjusted for each run's luck with "
                 "sickness and quits (a control variate: each morning's chance of falling "
                 "sick or quitting is known before the draw, so the sick days and vacancies a "
                 "run drew above or below those chances average exactly zero; the same draws "
                 "in every scenario); with it, the widest 95% range, either side, went from "
                 "{widths}.").format(widths=_and(parts))
    return _("The changes in service level are adjusted for how busy each run's days "
             "happened to be (a control variate: each day's busyness is drawn with an "
             "average known exactly, the same days in every scenario); with it, the widest "
             "95% range, either side, went from {widths}.").format(widths=_and(parts))


def run_until_precise(scenarios: Sequence[Scenario], seed: int, reps: int,
                      until: Sequence[tuple[str, float]], max_reps: int, **kwargs: Any) -> Any:
    """Add runs until every (KPI, half-width) of ``until`` is reached, or ``max_reps``.

    Each KPI's half-width is the widest 95% range of a proposal's change as the page
    reports it (:func:`comparison`: adjusted for busyness from
    :data:`analysis.variance.MIN_REPS` runs on); a KPI nobody measured (NaN) does not hold
    the stopping up. Runs are added half-way to what the spread so far says is needed
    (:func:`reps_wanted`; at least one of every scenario per free worker), and the rule
    checked again.

    Announced (``guard.notify``) before the start: the time of the first runs and of
    ``max_reps``; after the first runs, the runs their spread says are needed and the time
    those take at the pace measured so far. The steps themselves are not announced again.
    """
    from analysis import experiment as ex

    run_experiment, guard = ex.run_experiment, ex.guard

    def unsettled(exp: Any) -> bool:
        return bool(unreached(exp, until))

    n = max(2, reps)
    workers = getattr(kwargs.get("executor"), "workers", 1) or 1
    if guard.notify:  # the whole range, so that nobody takes the first runs for all of it
        ests = guard.estimates(scenarios, tasks=n * len(scenarios), parallel=workers)
        cores, _ = ex._cores_free(min(workers, n * len(scenarios), os.cpu_count() or 1))
        per_run = sum(e.seconds for e in ests) * len(scenarios) / len(ests) / cores
        guard.notify(f"with --until: from {n} to at most {max_reps} runs of each of the "
                     f"{len(scenarios)} scenarios, at least {ex._duration(per_run * n)}"
                     f" and at most {ex._duration(per_run * max_reps)} besides the "
                     "runs' warm-ups; the first runs' spread will say where in between")
    exp = run_experiment(scenarios, seed, n, **kwargs)
    step = max(1, workers // len(scenarios))
    if guard.notify and n < max_reps and unsettled(exp):
        want = reps_wanted(exp, until, max_reps)
        pace = exp.wall_s / n  # measured: this machine, this load; a run warms up its own
        guard.notify(f"the first {n} runs' spread says about {want} runs of each are needed"
                     f" (at most {max_reps}): about {ex._duration((want - n) * pace)} more")
    with guard.quiet():
        while n < max_reps and unsettled(exp):
            # half-way to what the spread so far says is needed: few pauses for the pool
            # to drain between steps, and the rule is still checked before it overshoots
            want = reps_wanted(exp, until, max_reps)
            n = min(max_reps, n + max(step, (want - n) // 2))
            exp = run_experiment(scenarios, seed, n, experiment=exp, **kwargs)
    return exp


def unreached(exp: Any, until: Sequence[tuple[str, float]]
              ) -> list[tuple[str, str, float, float]]:
    """(proposal, KPI, half-width reached, goal) for every change not yet known closely enough.

    As the page reports the changes (:func:`comparison`); a KPI with no value is reached.
    """
    comp = comparison(exp)
    out = []
    for name, d in comp.differences.items():
        for kpi, hw in until:
            got = d[kpi].estimate.half_width if kpi in d else math.nan
            if not math.isnan(got) and got > hw:
                out.append((name, kpi, got, hw))
    return out


def reps_wanted(exp: Any, until: Sequence[tuple[str, float]], max_reps: int) -> int:
    """Runs of each scenario that the spread so far says ``until`` needs (at most ``max_reps``).

    Per proposal and KPI: with the busyness adjustment, from the spread it leaves
    (:func:`analysis.variance.reps_needed`); without, from the paired differences'
    (:func:`analysis.stats.replications_needed`). The largest, at least the runs done.
    """
    from analysis.stats import COMPARE_CONFIDENCE, replications_needed
    from analysis.variance import reps_needed

    # the residual spread forecasts from a few runs, before the adjusted range is used
    adj = adjustments(exp, min_reps=4)
    base_reps = exp.reps(0)
    need = len(base_reps)
    for i, s in enumerate(exp.scenarios[1:], start=1):
        common = [r for r in exp.reps(i) if r in set(base_reps)]
        for kpi, hw in until:
            a = adj.get(s.name, {}).get(kpi)
            if a is not None and not math.isnan(a.residual_sd):
                need = max(need, reps_needed(a.residual_sd, hw, len(a.coefficients),
                                             COMPARE_CONFIDENCE, max_reps))
                continue
            d = np.array([exp.outputs[i, r].kpis.get(kpi, math.nan)
                          - exp.outputs[0, r].kpis.get(kpi, math.nan) for r in common])
            d = d[~np.isnan(d)]
            if len(d) >= 2:
                need = max(need, replications_needed(d, hw, COMPARE_CONFIDENCE, max_reps))
    return min(need, max_reps)


def precision_note(exp: Any, until: Sequence[tuple[str, float]], max_reps: int) -> str:
    """How the number of runs was chosen, in words, with what it reached.

    When the limit of runs stopped it, the proposals whose change is not yet known closely
    enough are named, with the range reached.
    """
    n = len(exp.reps(0))
    comp = comparison(exp)
    parts = []
    for k, hw in until:
        got = widest_half_width(comp, k)
        name = kpi_name(k) if k in WORDS else k
        scale = 100 if k in SHARES else 1
        unit = " " + _("percentage points") if k in SHARES else ""
        # "1 percentage point", "0.5 percentage points": the singular for exactly one
        one = " " + ngettext("percentage point", "percentage points",
                             1 if scale * hw == 1 else 2) if k in SHARES else ""
        parts.append(_("{name} to within {goal}{one} either side (reached {got}{unit})").format(
            name=name, goal=num(scale * hw, "g"), got=num(scale * got, ".2g"), one=one,
            unit=unit))
    short = unreached(exp, until) if n >= max_reps else []
    stop = _("then it stopped")
    if short:
        labels = {s.name: label(s) for s in exp.scenarios}
        which = [_("{proposal} ({name} within {got}{unit})").format(
            proposal=labels[p], name=kpi_name(k) if k in WORDS else k,
            got=num((100 if k in SHARES else 1) * got, ".2g"),
            unit=" " + _("percentage points") if k in SHARES else "")
            for p, k, got, _goal in short]
        stop = _("the limit of runs was reached first, with {which} not yet known that "
                 "closely").format(which=_and(which))
    return _("Runs were added until every proposal's change in {goals} was known with 95% "
             "confidence; {stop}, at {runs}. Stopping as soon as a range looks narrow enough "
             "can make the ranges slightly too narrow.").format(
        goals=_and(parts), stop=stop, runs=_n(n, "run"))
