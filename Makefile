# `make demo`, `make test` and `make notebooks` each set up .venv on first use, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint bench notebooks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ccsim run scenarios/base.toml --reps 5
	$(BIN)/ccsim compare scenarios/base.toml scenarios/more-agents.toml --reps 5

# every test but the long statistical suites, on every core; tests that share a simulated
# run stay on one worker (loadgroup, see tests/conftest.py)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

# the long statistical suites only (pytest -m slow: twelve-week calibration and spiral, and
# checks whose faster version stays in make test, e.g. the case regime at steady state)
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadgroup -m slow

bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_process.py
	$(BIN)/python bench/bench_regime.py
	$(BIN)/python bench/bench_user.py

# JupyterLab on the notebooks (the notebooks extra, installed on first use: `make test`
# does not need it); Ctrl-C twice stops it
NB_STAMP := $(VENV)/.notebooks-installed

$(NB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	touch $(NB_STAMP)

notebooks: $(NB_STAMP)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
