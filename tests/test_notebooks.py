"""Notebooks run in a real Jupyter kernel, and what their cells show is right.

Each notebook is executed top to bottom by nbclient in an IPython kernel, as a student
running "Run all" would; then the test reads the outputs the cells produced (printed text
and figures) and checks them against the package computed here, independently of the
kernel.
"""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pytest

from sim.erlang import erlang_a_metrics
from sim.kpi import KPIS
from sim.model import simulate
from sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PNG = b"\x89PNG\r\n\x1a\n"


def execute(path):
    """The notebook after running every cell in a fresh kernel, in its own folder."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
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


@pytest.fixture(scope="module")
def executed():
    """Every notebook, executed once for the tests below."""
    return {p.name: execute(p) for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_cell_runs_without_error(executed, path):
    """No cell raises, none writes to stderr, every cell ran, in order."""
    cells = code_cells(executed[path.name])
    assert cells, f"{path.name} has no code"
    for i, c in enumerate(cells):
        errors = [o for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{path.name} cell {i}: {errors[0]['ename']}: {errors[0]['evalue']}"
        stderr = [o.text for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{path.name} cell {i} wrote to stderr: {''.join(stderr)[:500]}"
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), counts


def _cell_printing(cells, fragment):
    hits = [c for c in cells if fragment in c.source]
    assert len(hits) == 1, f"expected one cell containing {fragment!r}, found {len(hits)}"
    return hits[0]


def test_erlang_notebook_outputs(executed):
    """01: two figures, and printed numbers that agree with sim.erlang and the simulator.

    * the Erlang curve cell and the intraday cell each display one real PNG figure;
    * the 'simulation reproduces the formula' cell prints, per KPI, the exact Erlang A
      value (must equal sim.erlang's to the 3 printed decimals) and the mean and standard
      deviation of 5 replications (the exact value must lie in their 99% t-interval);
    * the intraday cell prints the base day's KPIs: they must equal a run of the same
      scenario and seed made here, and the call outcomes must add up to the offered calls.
    """
    name = "01-queues-and-erlang.ipynb"
    if name not in executed:
        pytest.skip(f"{name} is gone")
    cells = code_cells(executed[name])

    curve = _cell_printing(cells, "erlang_c_metrics(rate, aht, int(n), 20).asa_s")
    day = _cell_printing(cells, "day.intervals")
    for c in (curve, day):
        figs = figures(c)
        assert len(figs) == 1, f"expected one figure, got {len(figs)}"
        assert figs[0].startswith(PNG) and len(figs[0]) > 10_000, "figure is empty or broken"

    sim_cell = _cell_printing(cells, "erlang_a_metrics(rate, aht, 27, 20, 120)")
    exact = erlang_a_metrics(360 / 3600, 240, 27, 20, 120).as_dict()
    pattern = re.compile(r"^(\w+)\s+exact ([\d.]+)\s+simulated ([\d.]+) ± ([\d.]+)$", re.M)
    rows = {m[1]: tuple(map(float, m.groups()[1:])) for m in pattern.finditer(text(sim_cell))}
    assert set(rows) == {"p_wait", "service_level", "abandon_rate"}, text(sim_cell)
    t99 = 4.604  # Student t, 4 degrees of freedom, two-sided 99%
    for kpi, (shown_exact, mean, sd) in rows.items():
        assert shown_exact == round(exact[kpi], 3), (kpi, shown_exact, exact[kpi])
        assert sd > 0, f"{kpi}: replications identical ({sd})"
        assert abs(mean - exact[kpi]) <= t99 * sd / math.sqrt(5) + 5e-4, (kpi, mean, sd)

    printed = eval(text(day).strip().splitlines()[-1], {"nan": math.nan})  # noqa: S307
    assert list(printed) == list(KPIS), "the notebook's KPI list is not the registry's"
    base = load_scenario(SCENARIOS / "base.toml").replace({"horizon.days": 1})
    here = simulate(base, seed=1).kpis
    for k, v in here.items():
        assert printed[k] == round(v, 3) or (np.isnan(v) and np.isnan(printed[k])), k
    assert printed["answered"] + printed["abandoned"] + printed["closed"] \
        == printed["offered"] > 0
