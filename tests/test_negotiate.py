"""``ccsim negotiate``: likelihood words, sentences, cost, Pareto, comparability, the page.

The statistics are built by hand where the expected words and numbers must be exact; the
page, the PDF and the refusals run on the small centre of ``tests/conftest.py`` (one day,
two replications).
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w
from scipy import stats

from analysis import negotiate as ng
from analysis.cli import main
from analysis.experiment import SerialExecutor
from analysis.report import Comparison
from analysis.stats import paired_differences, summarise, t_interval
from sim.scenario import Scenario, load_scenario, scenario_from_dict
from tests.conftest import small_dict
from tests.test_report import overflow

# --------------------------------------------------------------------------- likelihood


@pytest.mark.parametrize(("p", "word"), [
    (1.0, "virtually certain"), (0.99, "virtually certain"),
    (0.9899, "extremely likely"), (0.95, "extremely likely"),
    (0.9499, "very likely"), (0.90, "very likely"),
    (0.8999, "likely"), (0.66, "likely"),
    (0.6599, "about as likely as not"), (0.5, "about as likely as not"),
    (0.3301, "about as likely as not"), (0.33, "unlikely"),
    (0.1001, "unlikely"), (0.10, "very unlikely"),
    (0.0501, "very unlikely"), (0.05, "extremely unlikely"),
    (0.0101, "extremely unlikely"), (0.01, "exceptionally unlikely"),
    (0.0, "exceptionally unlikely"),
])
def test_likelihood_words_at_the_ipcc_boundaries(p, word):
    """Each boundary of the IPCC ranges gets the stronger term, just inside it the weaker."""
    assert ng.likelihood_word(p) == word


@pytest.mark.parametrize("p", [-0.01, 1.01, math.nan])
def test_likelihood_outside_zero_to_one_is_refused(p):
    """A probability outside 0-1 is an error naming the value."""
    with pytest.raises(ValueError, match=re.escape(f"must be within 0 to 1, got {p!r}")):
        ng.likelihood_word(p)


def test_sign_probability_is_the_t_posterior_of_the_paired_mean():
    """P(sign as seen) equals Student's t CDF of mean / se with n - 1 df (scipy, independent)."""
    diffs = [0.3, -0.1, 0.5, 0.2, 0.05]
    e = t_interval(diffs)
    se = stats.sem(diffs)
    assert ng.sign_probability(e) == pytest.approx(stats.t.cdf(e.mean / se, len(diffs) - 1))
    assert ng.sign_probability(t_interval([0.2, -0.2, 0.0])) == 0.5
    assert ng.sign_probability(t_interval([0.2, 0.2])) == 1.0
    assert math.isnan(ng.sign_probability(t_interval([0.2])))


# --------------------------------------------------------------------------- sentences


def _comparison(base_rows: list[dict], other_rows: list[dict]) -> Comparison:
    """A comparison of two hand-made scenarios over the same replications."""
    kpis = list(base_rows[0])
    return Comparison("base", {"base": summarise(base_rows), "prop": summarise(other_rows)},
                      {"prop": paired_differences(base_rows, other_rows, kpis, ng.PRIMARY)},
                      len(base_rows), 0.95, ng.PRIMARY)


def _hand_made(n: int, description: Callable[[int], str],
               row: Callable[[int, int], dict[str, float]], reps: int = 3, **changes
               ) -> tuple[list[Scenario], Comparison]:
    """``n`` small scenarios ``proposal-0`` (the base) ... and their comparison, no simulation.

    Scenario ``i`` says ``description(i)`` and has the KPI rows ``row(i, r)`` for
    replications ``r`` < ``reps``, paired with the base's; ``changes`` go to every scenario
    (:func:`tests.conftest.small_dict`).
    """
    scenarios = [scenario_from_dict(small_dict(description=description(i), name=f"proposal-{i}",
                                               **changes)) for i in range(n)]
    rows = [[row(i, r) for r in range(reps)] for i in range(n)]
    kpis = list(rows[0][0])
    c = Comparison(scenarios[0].name, {s.name: summarise(r) for s, r in zip(scenarios, rows,
                                                                            strict=True)},
                   {s.name: paired_differences(rows[0], r, kpis, ng.PRIMARY)
                    for s, r in zip(scenarios[1:], rows[1:], strict=True)}, reps, 0.95,
                   ng.PRIMARY)
    return scenarios, c


BASE_ROWS = [{"service_level": 0.80, "stress_mean": 1.50},
             {"service_level": 0.82, "stress_mean": 1.60},
             {"service_level": 0.78, "stress_mean": 1.40}]


def test_sentence_for_a_clear_difference_and_a_null_one():
    """Stress down 0.40 (SD 0.01) is virtually certain; SL +1, -1, 0 pp is a toss-up."""
    other = [{"service_level": 0.81, "stress_mean": 1.10},
             {"service_level": 0.81, "stress_mean": 1.19},
             {"service_level": 0.78, "stress_mean": 1.01}]
    c = _comparison(BASE_ROWS, other)
    assert ng.sentence("prop", c) == (
        "is virtually certain to lower measured stress (by 0.40 points on the survey's "
        "scale, 95% CI 0.38 to 0.42) and is about as likely as not to change service level "
        "(+0.00 percentage points, 95% CI -2.5 to +2.5)")


def test_a_narrow_range_gets_the_digits_that_tell_its_ends_apart():
    """Stress down 0.098 (SD 0.0005): "0.10 to 0.10" would hide the range; a digit more."""
    other = [{"service_level": 0.80, "stress_mean": 1.402},
             {"service_level": 0.82, "stress_mean": 1.5015},
             {"service_level": 0.78, "stress_mean": 1.3025}]
    c = _comparison(BASE_ROWS, other)
    assert ng.sentence("prop", c).startswith(
        "is virtually certain to lower measured stress (by 0.098 points on the survey's "
        "scale, 95% CI 0.097 to 0.099)")


def test_sentence_when_nothing_changes_in_any_run():
    """Identical runs leave both KPIs unchanged, said so (no likelihood word is invented)."""
    c = _comparison(BASE_ROWS, [dict(r) for r in BASE_ROWS])
    assert ng.sentence("prop", c) == ("leaves measured stress unchanged (in every run) and "
                                      "leaves service level unchanged (in every run)")


def test_cost_clause_in_paid_hours_and_payroll_a_year():
    """+2 paid hours a day over a 230-day year: 460 hours, NOK 207,000, 1% of 20.7 million."""
    hours = t_interval([460.0, 460.0])
    cost = ng.Cost(hours, t_interval([207_000.0, 207_000.0]), 20_700_000.0, 100.0, "NOK", 230)
    assert cost.share == pytest.approx(0.01)
    assert ng.cost_clause(cost) == ("adds 460 paid hours a year (+NOK 207,000, +1.00% of the "
                                    "payroll)")
    small = ng.Cost(t_interval([-4.0, -4.0]), t_interval([-1_800.0, -1_800.0]),
                    20_700_000.0, 100.0, "NOK", 230)
    assert ng.cost_clause(small) == ("costs about the same (-4 paid hours a year, -0.01% of "
                                     "the payroll)")


# --------------------------------------------------------------------------- Pareto


def test_pareto_frontier_and_who_each_loses_to():
    """Constructed points: the beaten ones name exactly the points that beat them."""
    pts = [ng.Point("status quo", 0.80, 1.50, 0.0),
           ng.Point("cheap relief", 0.80, 1.20, 0.0),     # beats the status quo
           ng.Point("dear relief", 0.85, 1.00, 0.02),     # better, but costs more: frontier
           ng.Point("worse", 0.79, 1.60, 0.01),           # beaten by both cheaper ones
           ng.Point("tie", 0.8004, 1.205, 0.00005)]       # within tolerance of cheap relief
    assert ng.pareto(pts) == {
        "status quo": ["cheap relief", "tie"],
        "cheap relief": [],
        "dear relief": [],
        "worse": ["status quo", "cheap relief", "tie"],
        "tie": [],
    }


def test_pareto_leaves_out_an_axis_nobody_measured():
    """Without stress, service level and cost decide; a point is never beaten by itself."""
    pts = [ng.Point("a", 0.8, math.nan, 0.0), ng.Point("b", 0.9, math.nan, 0.0)]
    assert ng.pareto(pts) == {"a": ["b"], "b": []}


def test_points_on_the_same_spot_share_one_label_in_the_picture():
    """Coinciding points get one label naming all (no number hidden under another's)."""
    pts = [ng.Point("base", 0.695, 2.19, 0.0),       # far from the others
           ng.Point("agreement", 0.897, 1.25, 0.01),  # the case's 2016 agreement ...
           ng.Point("dpa", 0.707, 2.09, 0.0),
           ng.Point("least", 0.897, 1.25, 0.01),      # ... and least intrusive: one spot
           ng.Point("team", 0.898, 1.28, 0.01)]       # 3% of the stress span away: covered
    number = {p.name: i for i, p in enumerate(pts, start=1)}
    beaten = {"base": ["dpa"], "team": ["agreement", "least"]}
    assert ng.label_groups(pts, number, beaten) == [
        (2.19, 69.5, "1", False), (1.25, 89.7, "2, 4, 5", True), (2.09, 70.7, "3", True)]


# --------------------------------------------------------------------------- files and runs


def _write(path: Path, data: dict) -> Path:
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small stressed centre (base: individual, punitive) and two proposals on it."""
    tmp_path = tmp_path_factory.mktemp("centre")
    base = small_dict(stress={"enabled": True}, teams={"size": 5},
                      measurement={"level": "individual",
                                   "adherence": {"exception_threshold_s": 60,
                                                 "warning_after": 1}},
                      monitoring={"feedback": "punitive", "recording": "audio_screen",
                                  "recorded_share": 0.8, "evaluations_per_agent_month": 10})
    base["description"] = "Strict regime: individual numbers, punitive"
    del base["name"]  # each file's name is its own (the file name)
    files = {"base": _write(tmp_path / "strict.toml", base)}
    files["team"] = _write(tmp_path / "team.toml", {
        "extends": "strict.toml", "description": "Team level: managers see teams only",
        "rationale": "tests", "measurement": {"level": "team"},
        "monitoring": {"feedback": "developmental", "recording": "none",
                       "recorded_share": 0.0, "evaluations_per_agent_month": 0}})
    files["login"] = _write(tmp_path / "login.toml", {
        "extends": "strict.toml", "description": "Paid log-in: ten minutes before the shift",
        "rationale": "tests", "measurement": {"adherence": {"paid_login_minutes": 10}}})
    return files


@pytest.fixture(scope="module")
def negotiated(centre, tmp_path_factory) -> tuple[ng.Answer, Path, str]:
    """The small centre's two proposals negotiated once (2 runs): answer, folder, last line."""
    out = tmp_path_factory.mktemp("negotiated") / "out"
    ans, line = ng.negotiate([centre["base"], centre["team"], centre["login"]], out, reps=2,
                             executor=SerialExecutor(), pdf=False)
    return ans, out, line


def test_page_is_self_contained_and_says_each_sentence(negotiated):
    """negotiate.html names every proposal in its sentence and fetches nothing from anywhere."""
    ans, out, line = negotiated
    page = (out / "negotiate.html").read_text(encoding="utf-8")
    assert line == f"page written to {out / 'negotiate.html'} (no PDF: --no-pdf)"
    assert set(ans.sentences) == {"team", "login"}
    for n, s in ans.sentences.items():
        label = {"team": "Team level", "login": "Paid log-in"}[n]
        assert s.startswith(f"{label} "), s
        assert f'<p class="answer">{html.escape(s)}</p>' in page
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<link" not in page and "<script" not in page and "@import" not in page
    assert "<svg" in page  # the trade-off, inline
    warmup = ans.scenarios[ans.baseline].warmup_days  # "auto" (the default) follows stress
    assert (f"Each run starts after {warmup} unmeasured working day" if warmup else
            "Each run starts on day one, with nobody strained or exhausted yet "
            "(horizon.warmup_days = 0).") in page
    for word in ("Holm", "stress_mean", "paired"):
        assert word not in page, word
    # paid log-in minutes are paid hours: 10 agents x 10 minutes a day (plus any change in
    # overtime), over the 230 working days of the model's year
    d = ans.comparison.differences["login"]
    overtime = d["overtime_hours"].estimate.mean
    assert ans.costs["login"].hours.mean == pytest.approx(230 * (10 * 10 / 60 + overtime))
    assert (out / "negotiate.json").is_file()
    assert (out / "report.html").is_file()


def test_pdf_is_printed_where_a_browser_exists(negotiated, tmp_path):
    """With Chromium installed, negotiate.pdf is a PDF; without, the line says so."""
    ans = negotiated[0]
    browser = ng.find_browser()
    if browser is None:
        _, pdf, line = ng.write_page(ans, tmp_path)
        assert pdf is None and "no PDF: no headless browser found" in line
        pytest.skip("no headless browser (chromium) installed: the PDF cannot be printed "
                    "here; the message saying so was checked")
    html_path, pdf, line = ng.write_page(ans, tmp_path)
    assert pdf == tmp_path / "negotiate.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    assert line == f"page written to {html_path} and {pdf}"


def test_no_browser_means_the_page_and_a_clear_line(negotiated, tmp_path, monkeypatch):
    """No browser found: the HTML is written; the line says what was looked for, what to do."""
    monkeypatch.delenv("CCSIM_BROWSER", raising=False)
    html_path, pdf, line = ng.write_page(negotiated[0], tmp_path,
                                         browsers=("no-such-browser-ccsim",))
    assert pdf is None and html_path.is_file()
    assert line == (f"page written to {html_path}; no PDF: no headless browser found (looked "
                    "for no-such-browser-ccsim, or set CCSIM_BROWSER); install Chromium or "
                    "print the page from any browser")


def test_different_horizons_are_refused_naming_both_files_and_the_field(centre):
    """A 2-day proposal against a 1-day base: an error with both files, field, values, fix."""
    long = _write(centre["base"].parent / "long.toml", {
        "extends": "strict.toml", "description": "Longer", "rationale": "tests",
        "horizon": {"days": 2}})
    base = centre["base"]
    with pytest.raises(ValueError) as err:
        ng.load([base, long])
    assert str(err.value) == (
        f"{long} and {base} are not comparable: horizon.days is 2 in {long} and 1 in "
        f"{base}; run both on the same horizon (--days N sets horizon.days for all) or make "
        "the proposal extend the base's centre (extends = \"case-base.toml\")")


def test_stress_on_and_off_are_refused_by_the_command(centre, tmp_path, capsys):
    """The command exits 2 naming stress.enabled, both files and the fix; nothing is run."""
    off = _write(centre["base"].parent / "off.toml", {
        "extends": "strict.toml", "description": "No stress", "rationale": "tests",
        "stress": {"enabled": False}})
    out = tmp_path / "never"
    status = main(["negotiate", str(off), "--base", str(centre["base"]), "--out", str(out),
                   "--executor", "serial", "--quiet", "--no-pdf"])
    err = capsys.readouterr().err
    assert status == 2
    assert (f"ccsim negotiate: error: {off} and {centre['base']} are not comparable: "
            f"stress.enabled is false in {off} and true in {centre['base']}; set it the same "
            "in both (--set stress.enabled=true sets it for all) or make the proposal extend "
            "the base's centre (extends = \"case-base.toml\")") in err
    # --out is claimed before any command starts (a bad folder fails fast); nothing ran
    assert not (out / "replications").exists() and not (out / "negotiate.html").exists()


def test_a_different_centre_is_warned(centre):
    """More calls a day is a different centre: a warning naming the field, both values, files."""
    busy = _write(centre["base"].parent / "busy.toml", {
        "extends": "strict.toml", "description": "Busier", "rationale": "tests",
        "demand": {"calls_per_day": 330}})
    base = centre["base"]
    _, checks = ng.load([base, busy])
    assert checks.warnings == [
        f"{busy} is on a different centre from {base}: demand.calls_per_day is 330 in {busy} "
        f"and 300 in {base}; its differences include that change, not only the regime"]


def test_the_default_case_proposals_are_comparable():
    """The defaults exist, extend the same case centre, and load with no error or warning."""
    paths = [ng.DEFAULT_BASE, *ng.DEFAULT_PROPOSALS]
    scenarios, checks = ng.load(paths)
    assert [s.name for s in scenarios] == ["telenor-2018-tmr", "agreement-2016", "dpa-order",
                                           "union-proposal", "employer-proposal"]
    assert checks.errors == [] and checks.warnings == []
    assert [ng.label(s) for s in scenarios[1:]] == [
        "The 2016 agreement", "The authority's order", "Union proposal", "Employer proposal"]


def test_browser_lookup_prefers_ccsim_browser(monkeypatch, tmp_path):
    """CCSIM_BROWSER names the browser first (an executable on this machine)."""
    exe = shutil.which("true")
    assert exe is not None
    monkeypatch.setenv("CCSIM_BROWSER", exe)
    assert ng.find_browser() == exe


def test_page_of_eight_proposals_fits_an_a4_page(tmp_path):
    """Eight proposals with long names: nothing reaches past an A4 page's width (Chromium).

    A4 less the page's 14 mm margins is 182 mm, 688 CSS pixels: the width the PDF is printed
    at, narrower than any screen the page is read on.
    """
    scenarios, c = _hand_made(
        9, lambda i: f"Proposal number {i} with a long plain name for the table: what it does",
        lambda i, r: {"service_level": 0.8 + 0.01 * i + 0.001 * r,
                      "stress_mean": 1.5 - 0.05 * i + 0.01 * r,
                      "stress_high_share": 0.2 - 0.01 * i, "absence_rate": 0.05,
                      "attrition_rate": 0.2, "warnings_per_agent": 0.5 - 0.05 * i,
                      "paid_agent_hours": 18.0 + i, "staff_cost_per_day": 450.0 * (18 + i),
                      "fte": (18.0 + i) / 7.5})
    ans = ng.answer(c, scenarios, [tmp_path / f"p{i}.toml" for i in range(9)])
    assert len(ans.sentences) == 8
    page, _, _ = ng.write_page(ans, tmp_path, pdf=False)
    width, scroll, bad, what = overflow(page, tmp_path, 688)
    assert (scroll, bad) == (width, 0), what


def test_command_prints_one_json_object_and_resumes(centre, tmp_path, capsys):
    """--json prints the page's sentences as data; the same command again simulates nothing."""
    out = tmp_path / "out"
    argv = ["negotiate", str(centre["team"]), "--base", str(centre["base"]), "--out", str(out),
            "--executor", "serial", "--reps", "2", "--json", "--no-pdf"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["base"] == "strict" and list(first["proposals"]) == ["team"]
    team = first["proposals"]["team"]
    assert team["sentence"].startswith("Team level ")
    assert team["likelihood"]["stress_mean"]["word"] in [t for t, _, _ in ng.IPCC_TERMS]
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["proposals"] == first["proposals"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["replications_run"], manifest["replications_resumed"]) == (0, 4)


def test_runs_are_added_until_the_ranges_are_narrow_enough_or_the_limit(centre, tmp_path):
    """--until: an unreachable goal stops at --max-reps, a loose one at --reps; the page says so."""
    paths = [centre["base"], centre["team"]]
    out = tmp_path / "out"
    tight, _ = ng.negotiate(paths, out, reps=2, executor=SerialExecutor(), pdf=False,
                            until=[("stress_mean", 1e-9)], max_reps=3, report=False)
    assert tight.comparison.reps == 3
    assert tight.notes[0].startswith("Runs were added until every proposal's change in "
                                     "measured stress to within 1e-09 either side (reached ")
    # the proposal that stopped on the limit is named, with the range it reached
    assert "the limit of runs was reached first, with Team level (measured stress within " \
        in tight.notes[0]
    assert ") not yet known that closely, at 3 runs." in tight.notes[0]
    page = (out / "negotiate.html").read_text(encoding="utf-8")
    assert html.escape(tight.notes[0]) in page
    # the same folder: replications 0 and 1 are resumed, not simulated again
    loose, _ = ng.negotiate(paths, out, reps=2, executor=SerialExecutor(), pdf=False,
                            until=[("service_level", 0.5)], max_reps=3, report=False)
    assert loose.comparison.reps == 2
    assert loose.notes[0].startswith("Runs were added until every proposal's change in "
                                     "service level to within 50 percentage points either "
                                     "side (reached ")
    assert "with 95% confidence; then it stopped, at 2 runs." in loose.notes[0]


def test_a_policy_file_is_pointed_to_its_case_version():
    """policy/union-proposal.toml against the case: refused, naming its case version."""
    policy = ng.CASE.parent / "policy" / "union-proposal.toml"
    with pytest.raises(ValueError) as err:
        ng.load([ng.DEFAULT_BASE, policy])
    first = str(err.value).split("\n")[0]
    assert first.endswith("(its version on the case's centre is "
                          f"{ng.shown(ng.CASE / 'union-proposal.toml')})"), first
    days = load_scenario(policy).horizon.days
    assert f"horizon.days is {days} in " in first


# --------------------------------------------------------------------------- Bokmål (--lang nb)

PO = Path(ng.__file__).parent / "locale" / "nb" / "LC_MESSAGES" / "ccsim.po"
MO = PO.with_suffix(".mo")


def _catalogue():
    """The Bokmål catalogue's source, read by Babel (a development dependency)."""
    pofile = pytest.importorskip("babel.messages.pofile", reason="Babel reads the .po file")
    with PO.open("rb") as f:
        return pofile.read_po(f, locale="nb")


def _code_messages() -> set:
    """Every message analysis/negotiate.py asks the catalogue for (gettext's own extraction).

    ``_("...")`` and ``ngettext("...", "...", n)`` calls with literal text, and the two
    constants passed to ``_`` by name (BASE_WHY, SCENARIO_WORDS, CASE_LABELS).
    """
    import ast

    found = {ng.BASE_WHY, ng.SCENARIO_WORDS, *ng.CASE_LABELS}
    for node in ast.walk(ast.parse(Path(ng.__file__).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id == "_" and args:
                found.add(args[0])
            elif node.func.id == "ngettext":
                found.add(tuple(args[:2]))
    return found


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)\}", text))


def test_every_message_of_the_page_has_a_bokmal_translation():
    """Each msgid has a non-fuzzy msgstr with the same {fields}; the code and catalogue agree."""
    cat = _catalogue()
    messages = [m for m in cat if m.id]
    ids = {m.id for m in messages}
    assert ids == _code_messages(), "the catalogue and analysis/negotiate.py differ: " \
        f"missing {_code_messages() - ids}, unused {ids - _code_messages()}"
    same = {"stress"}  # the same word in both languages
    for m in messages:
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        sources = m.id if isinstance(m.id, tuple) else (m.id,)
        assert not m.fuzzy and all(strings), m.id
        for s in strings:
            assert _fields(s) == _fields(sources[0]), (m.id, s)
            assert s not in sources or m.id in same, f"untranslated: {m.id!r}"


def test_the_committed_mo_is_the_po_compiled():
    """ccsim.mo (committed: a fresh clone needs no compile) holds exactly the .po's messages."""
    import gettext

    mofile = pytest.importorskip("babel.messages.mofile", reason="Babel compiles the .po")
    import io as _io

    buf = _io.BytesIO()
    mofile.write_mo(buf, _catalogue())
    buf.seek(0)
    with MO.open("rb") as f:
        assert gettext.GNUTranslations(f)._catalog == gettext.GNUTranslations(buf)._catalog, \
            "ccsim.mo is stale: run `python -m analysis.i18n`"


@pytest.mark.parametrize(("value", "spec", "pattern"), [
    (1234567.891, ",.2f", "#,##0.00"), (-1234.5, ",.1f", "#,##0.0"), (0.25, ".2f", "0.00"),
    (207000.0, ",.0f", "#,##0"), (3.0, "+.1f", "+0.0;-0.0"), (-0.35, "+.2f", "+0.00;-0.00"),
])
def test_bokmal_numbers_are_written_as_cldr_writes_them(value, spec, pattern):
    """Decimal comma and no-break-space thousands: the same text as Babel's format_decimal."""
    numbers = pytest.importorskip("babel.numbers", reason="Babel has the CLDR number data")
    from analysis.i18n import language, num

    with language("nb"):
        assert num(value, spec) == numbers.format_decimal(value, pattern, locale="nb")
    assert num(value, spec) == format(value, spec)  # English outside the block


def _seven(tmp_path: Path, lang: str) -> ng.Answer:
    """Seven proposals against a base, hand-made (no simulation), their words in ``lang``."""
    from analysis.i18n import language

    scenarios, c = _hand_made(
        8, lambda i: f"Proposal {i}: what it does, as the file says it",
        lambda i, r: {"service_level": 0.8 + 0.01 * (i % 4) + 0.002 * r * (i % 2),
                      "stress_mean": 1.5 - 0.05 * i + 0.01 * r,
                      "stress_high_share": 0.2 - 0.01 * i, "absence_rate": 0.05 + 0.001 * r,
                      "attrition_rate": 0.2, "warnings_per_agent": 0.5 - 0.05 * i,
                      "paid_agent_hours": 18.0 + (i % 3) + 0.1 * r,
                      "staff_cost_per_day": 450.0 * (18 + i % 3) + 40 * r,
                      "fte": (18.0 + i % 3) / 7.5},
        stress={"enabled": True})
    with language(lang):
        return ng.answer(c, scenarios, [tmp_path / f"p{i}.toml" for i in range(8)])


def test_no_english_leaks_into_the_bokmal_page(tmp_path):
    """The nb page's own words are Bokmål; English is left only where the case is English.

    Left in English on purpose: what the scenario files say (names, descriptions,
    rationales, paths), the IWS status names as agents see them, field and file names.
    """
    from sim.engine.status import LABELS

    ans = _seven(tmp_path, "nb")
    page = ng.page(ans)
    assert page.startswith('<!DOCTYPE html>\n<html lang="nb">')
    body = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", page, flags=re.S)
    body = html.unescape(re.sub(r"<[^>]+>", " ", body))
    for n, s in ans.scenarios.items():  # the scenario files' words
        for quoted in (s.description, " ".join(s.rationale.split()), str(ans.files[n]),
                       ng.label(s)):
            body = body.replace(quoted, " ")
    for status in LABELS.values():
        body = body.replace(status, " ")
    assert '«Not Ready - Break»' in html.unescape(page)  # named as agents see it
    body = re.sub(r"\S*[._/]\S*", " ", body)  # field names, file names, commands
    english = {"the", "and", "of", "is", "are", "with", "which", "what", "each", "year",
               "likely", "unlikely", "certain", "proposal", "proposals", "service", "level",
               "cost", "costs", "payroll", "hours", "run", "runs", "change", "lower", "higher",
               "beaten", "frontier", "warning", "warnings", "base", "answer", "numbers",
               "how", "sure", "model", "paid", "days", "day", "in", "on", "than"}
    leaked = sorted(w for w in set(re.findall(r"[A-Za-zæøåÆØÅ]+", body)) if w.lower() in english)
    assert leaked == [], leaked
    for m in _catalogue():
        if m.id and isinstance(m.id, str) and len(m.id) > 20:
            assert m.id not in page, m.id
    assert "nærmest sikkert lavere målt stress" in page
    assert ans.lang == "nb" and ans.as_json()["language"] == "nb"


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_seven_proposals_render_and_print_whole_in_chromium(lang, tmp_path):
    """7 proposals in each language: nothing wider than A4, every sentence there, A4 PDF pages.

    The page is laid out at 688 CSS pixels (A4 less the 14 mm margins, the PDF's width):
    no element reaches past it. The PDF's pages are A4 and as many as the laid-out height
    fills (269 mm, 1017 pixels, a page; at most two more where a table or heading is moved
    whole to the next page).
    """
    ans = _seven(tmp_path, lang)
    assert len(ans.sentences) == 7
    browser = ng.find_browser()
    if browser is None:
        pytest.skip("no headless browser (chromium) installed: the page cannot be rendered "
                    "or printed here; its words are checked by the tests above")
    page, pdf, _ = ng.write_page(ans, tmp_path / lang)
    from tests.test_report import OVERFLOW_PROBE, render

    probe = tmp_path / "probe.html"  # one browser run: the overflow, the height, the DOM
    probe.write_text(page.read_text(encoding="utf-8").replace(
        "</body>", OVERFLOW_PROBE + HEIGHT_PROBE + "</body>"), encoding="utf-8")
    dom = render(probe, tmp_path, 688)
    m = re.search(r"viewport=(\d+) scroll=(\d+) overflowing=(\d+)([^<]*)", dom)
    h = re.search(r"height=(\d+)", dom)
    assert m and h, "the probes did not run"
    assert (int(m[2]), int(m[3])) == (int(m[1]), 0), m[4]
    for s in ans.sentences.values():  # the DOM writes a no-break space as &nbsp;
        shown = html.escape(s, quote=False).replace("\u00a0", "&nbsp;")
        assert f'<p class="answer">{shown}</p>' in dom, s
    raw = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", raw))
    assert set(re.findall(rb"/MediaBox\s*\[([^\]]*)\]", raw)) == {b"0 0 594.95996 841.91998"}
    filled = math.ceil(int(h[1]) / 1017)
    assert filled <= pages <= filled + 2, (pages, int(h[1]))


#: appended to a page with OVERFLOW_PROBE: its laid-out height into <pre id="height">
HEIGHT_PROBE = """<script>
window.addEventListener("load", () => {
  const pre = document.createElement("pre");
  pre.id = "height";
  pre.textContent = "height=" + document.documentElement.scrollHeight;
  document.body.appendChild(pre);
});
</script>"""


def test_refusal_in_bokmal_names_both_files_the_field_and_the_fix(centre, tmp_path, capsys):
    """--lang nb: the incomparable proposal is refused in Bokmål, naming files, field, values."""
    off = _write(centre["base"].parent / "off-nb.toml", {
        "extends": "strict.toml", "description": "No stress", "rationale": "tests",
        "stress": {"enabled": False}})
    status = main(["negotiate", str(off), "--base", str(centre["base"]), "--lang", "nb",
                   "--out", str(tmp_path / "never"), "--executor", "serial", "--quiet",
                   "--no-pdf"])
    assert status == 2
    assert (f"{off} og {centre['base']} kan ikke sammenlignes: stress.enabled er false i {off} "
            f"og true i {centre['base']}; sett det likt i begge (--set stress.enabled=true "
            "setter det for alle) eller la forslaget bygge på utgangspunktets senter (extends = "
            "\"case-base.toml\")") in capsys.readouterr().err


def test_an_unknown_language_is_refused_naming_the_choices(capsys):
    """--lang de: argparse's error names the option, the value and the two allowed."""
    with pytest.raises(SystemExit) as exit_:
        main(["negotiate", "--lang", "de"])
    assert exit_.value.code == 2
    assert "argument --lang: invalid choice: 'de' (choose from 'en', 'nb')" in \
        capsys.readouterr().err


def test_command_in_bokmal_writes_the_page_and_json_in_bokmal(centre, tmp_path, capsys):
    """The command with --lang nb: sentences ``Label: ...`` in Bokmål, the page lang="nb"."""
    out = tmp_path / "out"
    assert main(["negotiate", str(centre["team"]), "--base", str(centre["base"]), "--out",
                 str(out), "--executor", "serial", "--reps", "2", "--json", "--no-pdf",
                 "--lang", "nb"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["language"] == "nb"
    sentence = got["proposals"]["team"]["sentence"]
    assert sentence.startswith("Team level: ") and "målt stress" in sentence, sentence
    page = (out / "negotiate.html").read_text(encoding="utf-8")
    assert '<html lang="nb">' in page and "<h2>Svaret, forslag for forslag</h2>" in page
