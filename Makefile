# make demo / make test each build .venv when it is missing or stale, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/strata demo

test: lint typecheck unit

# The layer check: no import circles, no upward imports, no module over 500 lines
# (tests/test_layers.py holds the same rules where the shared tool is not beside the project).
LAYERS_TOOL := ../shared/tools/layers.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs
	if [ -f $(LAYERS_TOOL) ]; then $(BIN)/python $(LAYERS_TOOL); fi

typecheck: $(STAMP)
	$(BIN)/mypy

# DVC for the migration tests, in a venv of its own: its dependencies are not ours.
DVC_VENV := .venv-dvc
DVC_STAMP := $(DVC_VENV)/.installed
DVC_VERSION := dvc>=3.50,<4

$(DVC_STAMP):
	test -x $(DVC_VENV)/bin/python || $(PYTHON) -m venv $(DVC_VENV)
	$(DVC_VENV)/bin/python -m pip install -q '$(DVC_VERSION)'
	touch $(DVC_STAMP)

unit: $(STAMP) $(DVC_STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_files.py
	$(BIN)/python benchmarks/bench_remote.py
	$(BIN)/python benchmarks/bench_transfer.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_tables.py
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_lineage.py
	$(BIN)/python benchmarks/bench_pipelines.py
	$(BIN)/python benchmarks/bench_guard.py
	$(BIN)/python benchmarks/bench_server.py
	$(BIN)/python benchmarks/bench_mlflow_api.py

# Screenshots of the web UI on the demo workspace (needs chromium and chromium-driver).
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) $(DVC_VENV) .mlflow-venv .pytest_cache .mypy_cache .ruff_cache
