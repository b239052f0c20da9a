"""Notebooks run: every code cell of every notebook executes without error."""

from __future__ import annotations

import json

import matplotlib
import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_cells_run(path, monkeypatch):
    """The notebook's code cells run in order, as a student would run them."""
    matplotlib.use("Agg")
    monkeypatch.chdir(path.parent)
    cells = json.loads(path.read_text())["cells"]
    code = [("".join(c["source"])) for c in cells if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code"
    namespace: dict = {}
    for i, src in enumerate(code):
        try:
            exec(compile(src, f"{path.name}[{i}]", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{path.name} cell {i} failed: {exc!r}") from exc
    import matplotlib.pyplot as plt
    plt.close("all")
