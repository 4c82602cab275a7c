# eventlab: `make run` materializes everything offline from the snapshot; `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: run test ui lint format bench snapshot clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m pipelines.run

test: $(STAMP)
	$(PY) -m pytest

ui: $(STAMP)
	$(VENV)/bin/dagster dev -m pipelines.definitions

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) scripts/benchmark.py

snapshot: $(STAMP)
	$(PY) scripts/build_snapshot.py

clean:
	rm -rf data/warehouse reports/20* reports/latest
