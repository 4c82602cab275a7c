# eventlab: `make run` materializes everything offline from the snapshot; `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# The UI's port and the report server's (the UI's report and chart links point at the latter).
UI_PORT ?= 3000
REPORT_PORT ?= 3001
export EVENTLAB_REPORTS_URL ?= http://127.0.0.1:$(REPORT_PORT)
INSTANCE_CONFIG := deploy/local/dagster.yaml

.PHONY: run run-recorded test test-fast ui daemon lint format bench snapshot clean universe universe-data

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# The instance config lives in deploy/local/ (outside the folder Dagster starts in, which it would
# otherwise warn about); DAGSTER_HOME gets a copy kept in sync.
$(DAGSTER_HOME)/dagster.yaml: $(INSTANCE_CONFIG)
	@mkdir -p $(DAGSTER_HOME) && cp $(INSTANCE_CONFIG) $@

run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m commands.run

# The same run, recorded in .dagster_home so `make ui` shows it (Dagster's SQLite event log: ~10 s more).
run-recorded: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m commands.instance && $(PY) -m commands.run --record

# The universe study (504 S&P 500 members, one partition per ticker, all in one run on 2 processes):
# its own job, not part of `make run`. Writes reports/<as-of>/universe/.
universe: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m commands.run_universe

# Rebuild data/universe (committed) from ../shared/data/universe.
universe-data: $(STAMP)
	$(PY) scripts/build_universe.py

# Every tier: unit, graph (in-process Dagster runs, rendering) and service (Postgres, Redis + Celery,
# Chromium, make ui/daemon, subprocesses), on 2 workers; the tests sharing the session's
# materialized graph stay on one worker (loadgroup), so it is built once. Under CI=true nothing skips.
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup

# The unit tier only (pure functions: no Dagster run, no rendering, no subprocess), for the inner loop.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not graph and not service" -n 2

# The UI on http://127.0.0.1:$(UI_PORT), plus a static server for reports/ on $(REPORT_PORT) (the
# report links in the UI point there; a browser does not open file:// links from a web page).
# Both ports are checked first; the report server stops with the UI.
ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m commands.instance
	$(PY) -m commands.ports UI_PORT=$(UI_PORT) REPORT_PORT=$(REPORT_PORT)
	$(PY) -m commands.report_server --root reports --port $(REPORT_PORT) & srv=$$!; \
	trap 'kill $$srv 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/dagster dev -h 127.0.0.1 -p $(UI_PORT)

# Webserver + daemon as two processes (what a deployment runs); the daemon fires the nightly schedule.
daemon: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m commands.instance && $(VENV)/bin/dagster-daemon run

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports && $(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) scripts/benchmark.py
	$(PY) scripts/bench_universe.py

snapshot: $(STAMP)
	$(PY) scripts/build_snapshot.py

clean:
	rm -rf data/warehouse reports/20* reports/latest
