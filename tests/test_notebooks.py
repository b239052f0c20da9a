"""Notebooks run in a real Jupyter kernel, and what their key cells show is right.

Each notebook is executed top to bottom by nbclient in an IPython kernel, as a student
pressing "Run all" would, with ``CCSIM_NOTEBOOK_FAST=1`` (small replication counts and
days, read by each notebook's first cell). The test then reads what the cells printed and
displayed and checks it against the package, computed here independently of the kernel.
The committed notebooks are checked too: they carry their outputs, without errors.

Sentences that report a result are rendered by the cells from the numbers they computed
(``analysis.narrative``), and the claims a lesson rests on are checked there: a notebook whose
text its own data contradict fails to execute, and ``test_every_cell_runs_without_error``
fails with the claim's words. The tests below also compare rendered sentences with what the
figures' cells printed, and check the helpers themselves.
"""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pytest

from analysis.narrative import ContradictedClaim, by_interval, change, claim, say
from analysis.notebook import parameter_table, scenario, strain_over_day
from analysis.staffing import erlang_requirements
from analysis.stats import t_ppf
from sim.measure.kpi import KPIS
from sim.model import simulate
from sim.planning.erlang import agents_for_service_level, erlang_a_metrics, erlang_c
from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = ["01-queues-and-erlang.ipynb", "02-breaks-and-adherence.ipynb",
            "03-measurement-and-stress.ipynb", "04-negotiating-a-proposal.ipynb",
            "05-model-description.ipynb"]
PNG = b"\x89PNG\r\n\x1a\n"
WIDGET = "application/vnd.jupyter.widget-view+json"


def execute(path):
    """The notebook after running every cell in a fresh kernel, in its own folder."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     allow_errors=True,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def code_cells(nb):
    """The code cells, in order."""
    return [c for c in nb.cells if c.cell_type == "code"]


def text(cell) -> str:
    """Everything the cell printed to stdout."""
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.get("name") == "stdout")


def figures(cell) -> list[bytes]:
    """The PNG images the cell displayed."""
    return [base64.b64decode(o["data"]["image/png"]) for o in cell.outputs
            if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]


def html(cell) -> str:
    """The HTML the cell displayed (e.g. a DataFrame)."""
    return "".join(o["data"].get("text/html", "") for o in cell.outputs
                   if o.output_type in ("display_data", "execute_result"))


def markdown(cell) -> str:
    """The Markdown the cell displayed (a sentence rendered from its numbers)."""
    return "".join(o["data"].get("text/markdown", "") for o in cell.outputs
                   if o.output_type in ("display_data", "execute_result"))


def prose(cell) -> str:
    """The cell's rendered Markdown with its line breaks as spaces (as the reader sees it)."""
    return " ".join(markdown(cell).split())


def cell_with(cells, fragment):
    """The one code cell whose source contains ``fragment``."""
    hits = [c for c in cells if fragment in c.source]
    assert len(hits) == 1, f"expected one cell containing {fragment!r}, found {len(hits)}"
    return hits[0]


NUM = r"([+-]?[\d.]+)(?: pp)?"


def difference(line: str, kpi: str) -> tuple[float, float, float]:
    """``(mean, low, high)`` of ``kpi`` in a headline ``... kpi +x [a, b], ...``."""
    m = re.search(rf"\b{kpi} {NUM} \[{NUM}, {NUM}\]", line)
    assert m, f"no {kpi} difference with a CI in: {line}"
    return tuple(float(v) for v in m.groups())


def on_worker_of(name: str) -> pytest.MarkDecorator:
    """Every test of one notebook on one xdist worker, so the notebook is executed once.

    Each notebook is its own group: the five run in parallel, each on the first worker free.
    """
    return pytest.mark.xdist_group(f"notebook-{name[:2]}")


#: every notebook as a parameter, marked with its group
EACH = [pytest.param(p, marks=on_worker_of(p.name), id=p.name) for p in NOTEBOOKS]


class Executed(dict):
    """Notebooks by file name, each executed (small runs) on first use, then kept."""

    def __missing__(self, name):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CCSIM_NOTEBOOK_FAST", "1")
            mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
            self[name] = execute(ROOT / "notebooks" / name)
        return self[name]


@pytest.fixture(scope="module")
def executed():
    """Every notebook, executed once for the tests below (``-k 01`` runs only that one)."""
    return Executed()


def test_the_five_notebooks_exist_with_outputs_committed():
    """The numbered notebooks are there, and each was committed executed, without errors."""
    assert [p.name for p in NOTEBOOKS] == EXPECTED
    for p in NOTEBOOKS:
        nb = nbformat.read(p, as_version=4)
        cells = code_cells(nb)
        assert all(c.execution_count for c in cells), f"{p.name}: not executed before commit"
        assert not any(o.output_type == "error" for c in cells for o in c.outputs), p.name
        assert "FAST=False" in text(cells[0]), f"{p.name}: committed from a FAST run"


@pytest.mark.parametrize("path", EACH)
def test_every_cell_runs_without_error(executed, path):
    """No cell raises, none writes to stderr, every cell ran in order, the FAST flag took."""
    cells = code_cells(executed[path.name])
    assert cells, f"{path.name} has no code"
    for i, c in enumerate(cells):
        errors = [o for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{path.name} cell {i}: {errors[0]['ename']}: {errors[0]['evalue']}"
        stderr = [o.text for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{path.name} cell {i} wrote to stderr: {''.join(stderr)[:500]}"
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), counts
    assert "FAST=True" in text(cells[0]), "the notebook did not read CCSIM_NOTEBOOK_FAST"


@pytest.mark.parametrize("path", EACH)
def test_sections_end_in_try_it_and_no_plus_minus(executed, path):
    """Exercises in every notebook, and no output with "±".

    A standard deviation printed as "±" passes spread off as precision; the notebooks print
    means with their CIs.
    """
    nb = executed[path.name]
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    least = 1 if path.name == EXPECTED[-1] else 2
    assert md.count("**Try it**") >= least, f"{path.name}: too few Try it sections"
    shown = "".join(text(c) + html(c) for c in code_cells(nb))
    assert "±" not in shown, f"{path.name} prints ±"


@on_worker_of("01")
def test_01_erlang_values_simulation_and_littles_law(executed):
    """01: Erlang C as sim.planning.erlang computes it; the simulation's CIs cover Erlang A; L = λW.

    The simulation cell prints the exact Erlang A value (must equal sim.planning.erlang's to the
    printed decimals) and the mean and 95% CI of the replications; the exact value must lie
    in the corresponding 99% interval (widened from the printed one by the t quantiles).
    """
    cells = code_cells(executed["01-queues-and-erlang.ipynb"])
    erl = cell_with(cells, "erlang_c(27, load)")
    assert f"P(wait) = {erlang_c(27, 24.0):.4f}" in text(erl)
    assert len(figures(erl)) == 1 and figures(erl)[0].startswith(PNG)

    pool = cell_with(cells, "split, pooled")
    m = re.search(r"12 Erlangs: (\d+) agents; one pooled queue of 24: (\d+)", text(pool))
    assert m and int(m[1]) > int(m[2]), text(pool)

    sim_cell = cell_with(cells, "erlang_a_metrics(rate, aht, 27, 20, 120)")
    reps = int(re.search(r"M/M/27\+M, (\d+) replications", text(sim_cell))[1])
    exact = erlang_a_metrics(360 / 3600, 240, 27, 20, 120).as_dict()
    rows = re.findall(r"^(\w+)\s+exact ([\d.]+)\s+simulated ([\d.]+) \[([\d.]+), ([\d.]+)\]",
                      text(sim_cell), re.M)
    assert {r[0] for r in rows} == {"p_wait", "service_level", "abandon_rate"}, text(sim_cell)
    widen = t_ppf(0.995, reps - 1) / t_ppf(0.975, reps - 1)
    for kpi, shown, mean, lo, hi in rows:
        assert float(shown) == round(exact[kpi], 4), (kpi, shown, exact[kpi])
        half = (float(hi) - float(lo)) / 2
        assert half > 0, f"{kpi}: replications identical"
        assert abs(float(mean) - exact[kpi]) <= widen * half + 1e-4, (kpi, mean, lo, hi)

    little = cell_with(cells, "area / (t1 - t0)")
    lq = float(re.search(r"L \(time-average callers waiting\) = ([\d.]+)", text(little))[1])
    lw = float(re.search(r"= ([\d.]+)$", text(little).strip())[1])
    assert lq > 0 and abs(lq - lw) <= 0.02 * lw, text(little)

    day = cell_with(cells, "day.intervals")
    assert len(figures(day)) == 1 and len(figures(day)[0]) > 10_000
    printed = eval(text(day).strip().splitlines()[-1], {"nan": math.nan})  # noqa: S307
    assert list(printed) == list(KPIS), "the notebook's KPI list is not the registry's"
    here = simulate(scenario("base.toml", {"horizon.days": 1}), seed=1).kpis
    for k, v in here.items():
        assert printed[k] == round(v, 3) or (np.isnan(v) and np.isnan(printed[k])), k


@on_worker_of("01")
def test_01_beta_falls_for_the_reason_the_text_gives(executed):
    """01: the square-root section's sentences give the β values Erlang C gives, and why.

    β = (N - A)/√A for 80/20 with AHT 240 s, computed here from sim.planning.erlang, must be
    the numbers the text quotes; the text must blame the fixed 20-second threshold (β stays
    nearly constant when the threshold shrinks like 1/√A), not whole agents.
    """
    cells = code_cells(executed["01-queues-and-erlang.ipynb"])

    def beta(a: float, threshold_s: float = 20) -> float:
        return (agents_for_service_level(a / 240, 240, threshold_s, 0.8) - a) / math.sqrt(a)

    falls = prose(cell_with(cells, "rounding = 1 / np.sqrt(loads)"))
    assert (f"β is not one constant: it falls from {beta(2):.2f} at 2 Erlangs to "
            f"{beta(500):.2f} at 500." in falls), falls
    assert "by more than whole agents can explain" in falls, falls
    why = prose(cell_with(cells, "big = loads >= 10"))
    scaled = [beta(a, 20 * math.sqrt(24 / a)) for a in (10, 20, 50, 100, 200, 500)]
    assert (f"between {min(scaled):.2f} and {max(scaled):.2f} from 10 to 500 Erlangs"
            in why), why
    assert f"{240 / (agents_for_service_level(500 / 240, 240, 20, 0.8) - 500):.0f} s at 500" in why
    md = "\n".join(c.source for c in executed["01-queues-and-erlang.ipynb"].cells
                   if c.cell_type == "markdown")
    assert "threshold is a fixed 20 seconds" in md
    assert "whole numbers" not in md, "the old explanation of β (whole agents) is back"


@on_worker_of("02")
def test_02_plan_lunch_and_login_delay(executed):
    """02: the plan, lunch all at once, and the log-in delay.

    The short-interval count is the package's; lunch all at once loses its worst interval;
    removing the log-in delay removes the adherence lost to it (CI below 0; the adherence
    gain itself is within the noise of the small runs).
    """
    cells = code_cells(executed["02-breaks-and-adherence.ipynb"])
    plan = cell_with(cells, "erlang_requirements(base, 0.8, 20)")
    need = erlang_requirements(scenario("base.toml", {"horizon.days": 1}), 0.8, 20)
    short = int((need["on_queue_agents"] < need["erlang_agents"]).sum())
    assert f"needs: {short} of {len(need)}" in text(plan).replace("\n", " ")
    assert figures(plan)

    lunch = text(cell_with(cells, 'headline(cmp, "lunch-all-at-once"'))
    mean, lo, hi = difference(lunch, "worst_interval_service_level")
    assert mean < 0, lunch
    delay = text(cell_with(cells, 'headline(cmp, "no-login-delay"'))
    mean, lo, hi = difference(delay, "adherence_lost_login_delay")
    assert lo <= mean <= hi < 0, delay


@on_worker_of("03")
def test_03_stress_has_the_documented_signs(executed):
    """03: the documented signs of the stress results, and the spiral's text matches its data.

    Individual policing raises measured stress against the base (CI above 0), more than
    team-level measurement does; the strict regime's stress climbs over the weeks, and the
    sentence under the figure gives the same first and last weeks as the printed means.
    """
    cells = code_cells(executed["03-measurement-and-stress.ipynb"])
    heads = text(cell_with(cells, 'headline(cmp, "individual-strict"')).splitlines()
    ind = difference(heads[0], "stress_mean")
    team = difference(heads[1], "stress_mean")
    assert ind[1] > 0, heads[0]
    assert ind[0] > team[0], heads
    for name in ("kt = intensity.kpi_table()", "curve = strain_over_day",
                 "stress_days = per_day"):
        assert figures(cell_with(cells, name)), f"no figure from the {name} cell"
    spiral = text(cell_with(cells, "week = {}"))
    first, last = re.search(r"telenor-tmr: ([\d.]+) -> ([\d.]+)", spiral).groups()
    assert float(last) > float(first), spiral
    says = prose(cell_with(cells, "def strict_minus_agreement"))
    assert f"climbs over the weeks: from {first} to {last}." in says, (spiral, says)


@on_worker_of("04")
def test_04_negotiation_headline_match_plot_and_sliders(executed):
    """04: the negotiation notebook's key outputs.

    A headline with CIs, the equal-service head count with its paid hours, the trade-off
    plot, and sliders that do not block execution.
    """
    cells = code_cells(executed["04-negotiating-a-proposal.ipynb"])
    head = text(cell_with(cells, "print(headline(cmp, new.name"))
    assert head.startswith("agreement-2016 against telenor-2018-tmr:"), head
    for kpi in ("service_level", "stress_mean"):
        difference(head, kpi)
    match = text(cell_with(cells, "match_head_counts(exp"))
    assert re.search(r"agreement-2016 needs \d+ agents", match), match
    assert "paid hours per working day" in text(cell_with(cells, "same = ["))
    assert figures(cell_with(cells, "fig = figure_trade_off("))
    levers = text(cell_with(cells, "def explore"))  # in words, each value in its range
    assert "service level (answered within 20 s)" in levers, levers
    assert "measured stress (points; above" in levers, levers
    assert all(float(p) <= 100 for p in re.findall(r"(\d+\.\d+)%", levers)), levers
    sliders = cell_with(cells, "interact_manual")
    assert any(WIDGET in o.get("data", {}) for o in sliders.outputs), "no widget displayed"


@on_worker_of("05")
def test_05_inputs_and_outputs_generated_from_the_code(executed):
    """05: every KPI of the registry is listed; the input counts are the schema's."""
    cells = code_cells(executed["05-model-description.ipynb"])
    outputs = html(cell_with(cells, "KPIS.values()"))
    assert all(f">{k}<" in outputs for k in KPIS), "a KPI is missing from the outputs table"
    table = parameter_table()
    fields = table[~table["section"]]
    counts = text(cell_with(cells, "kind.value_counts()"))
    assert counts.startswith(f"{len(fields)} input fields in {int(table['section'].sum())} "
                             "sections"), counts
    assert re.search(r"assumption\s+\d+", counts), counts


def test_fast_runs_are_small():
    """The FAST switch is what keeps this test short: every notebook reads it."""
    for p in NOTEBOOKS:
        first = code_cells(nbformat.read(p, as_version=4))[0].source
        assert 'os.environ.get("CCSIM_NOTEBOOK_FAST"' in first, p.name


@pytest.mark.parametrize("path", EACH)
def test_result_sentences_are_rendered_from_the_cells(executed, path):
    """Every notebook but the description writes its result sentences from its numbers.

    Each such cell displays Markdown (not a printed string), and no ``{`` or ``}`` is left
    in it: a placeholder the f-string did not fill would show.
    """
    cells = code_cells(executed[path.name])
    rendered = [markdown(c) for c in cells if "say(" in c.source]
    if path.name == EXPECTED[-1]:
        assert not rendered, "05 describes the model and reports no result"
        return
    assert len(rendered) >= 3, f"{path.name}: {len(rendered)} rendered sentences"
    for md in rendered:
        assert md and "{" not in md and "}" not in md, f"{path.name}: {md[:300]}"


def test_a_contradicted_claim_stops_the_notebook_with_its_words():
    """A cell whose claim its data contradict fails in a real kernel, quoting the claim.

    This is what makes the notebook tests fail when a text and its figure disagree; the cell
    after it (rendering the sentence) never runs.
    """
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from analysis.narrative import claim, say\n"
                                  "stress = {'first week': 2.0, 'last week': 1.5}"),
        nbformat.v4.new_code_cell("claim(stress['last week'] > stress['first week'], "
                                  "'stress climbs over the weeks', "
                                  "f\"{stress['first week']} then {stress['last week']}\")\n"
                                  "say('Stress climbs over the weeks.')"),
    ])
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    (error,) = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert error["ename"] == "ContradictedClaim"
    assert "'stress climbs over the weeks'" in error["evalue"]
    assert "show 2.0 then 1.5" in error["evalue"]
    assert not any(o.output_type == "display_data" for o in nb.cells[1].outputs)


def test_claim_returns_its_words_or_raises_them():
    """A claim that holds is its own words; a contradicted one raises naming both sides."""
    assert claim(True, "stress climbs", "1 then 2") == "stress climbs"
    with pytest.raises(ContradictedClaim) as e:
        claim(False, "stress climbs over the weeks", "2.00 then 1.50")
    assert str(e.value).startswith("the notebook's text says 'stress climbs over the weeks', "
                                   "but the data computed above show 2.00 then 1.50:")
    assert isinstance(e.value, AssertionError)  # pytest shows it as a failed check


def test_direction_words_follow_the_data():
    """``by_interval`` states a direction only when the CI excludes 0; ``change`` by value."""
    class CI:
        def __init__(self, low, high):
            self.ci_low, self.ci_high = low, high

    words = ("higher", "lower", "not clearly different")
    assert by_interval(CI(0.1, 0.3), *words) == "higher"
    assert by_interval(CI(-0.3, -0.1), *words) == "lower"
    assert by_interval(CI(-0.1, 0.3), *words) == "not clearly different"
    assert by_interval(CI(0.0, 0.3), *words) == "not clearly different"  # 0 is inside
    assert by_interval(CI(math.nan, math.nan), *words) == "not clearly different"
    assert change(1.0, 2.0) == "rises" and change(2.0, 1.0) == "falls"
    assert change(1.0, 1.05, tolerance=0.1) == "stays level"
    assert change(1.0, 1.2, up="climbs", tolerance=0.1) == "climbs"
    with pytest.raises(ValueError, match=r"no direction from 1.0 to nan"):
        change(1.0, math.nan)


def test_say_renders_dedented_markdown():
    """``say`` gives JupyterLab Markdown, without the indentation of the cell's f-string."""
    from IPython.display import Markdown

    out = say("""
        Stress climbs
        over the weeks.
        """)
    assert isinstance(out, Markdown)
    assert out.data == "Stress climbs\nover the weeks."


def test_strain_over_day_agrees_with_the_models_daily_mean():
    """The strain curve of notebook 03 is the model's own strain, evaluated between changes.

    Averaged over the day (weighted by agents logged in, on a 1-minute grid) it must equal
    the model's exact daily mean strain (``agent_days.strain_mean``, weighted by time logged
    in) up to the grid's discretisation; without the stress layer it refuses.
    """
    # cold (no warm-up): the curve and the daily mean are read from one run, whatever its start
    s = scenario("policy/individual-strict.toml", {"horizon.days": 1, "stress.enabled": True,
                                                    "horizon.warmup_days": 0})
    curve = strain_over_day(s, seed=1, step_minutes=1)
    days = simulate(s, seed=1).agent_days
    from_curve = np.average(curve["strain"].fillna(0), weights=curve["agents"])
    exact = np.average(days["strain_mean"], weights=days["logged_in_s"])
    assert from_curve == pytest.approx(exact, rel=0.005)
    with pytest.raises(ValueError, match="stress.enabled"):
        strain_over_day(scenario("base.toml", {"horizon.days": 1}))
