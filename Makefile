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

.PHONY: run run-recorded test test-fast ui daemon lint format bench snapshot clean universe universe-data lock

# Installs come from uv.lock: every package, dev extra included, pinned with its hashes, the same on
# every machine; the project itself goes in editable. uv is pinned too and bootstrapped with pip into a
# per-user folder that every checkout shares (a machine needs only Python and pip). After a change to
# the dependencies in pyproject.toml, `make lock` updates uv.lock (the other pins stay;
# `make lock LOCK_ARGS=--upgrade` moves every pin to the newest allowed release).
UV_VERSION := 0.13.9
UV_BOOTSTRAP_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/eventlab/uv-$(UV_VERSION)
UV := $(UV_BOOTSTRAP_DIR)/bin/uv
export UV_PYTHON_DOWNLOADS := never

$(UV):
	@echo "bootstrapping uv $(UV_VERSION) into $(UV_BOOTSTRAP_DIR)"
	@tmp=$(UV_BOOTSTRAP_DIR).tmp$$$$ && rm -rf $$tmp && \
	  PIP_REQUIRE_VIRTUALENV=0 $(PYTHON) -m pip install -qq --disable-pip-version-check --target $$tmp \
	    uv==$(UV_VERSION) || { rm -rf $$tmp; exit 1; }; \
	  { test -e $(UV_BOOTSTRAP_DIR) || mv $$tmp $(UV_BOOTSTRAP_DIR); }; rm -rf $$tmp; test -x $@

# uv does not compile bytecode at install (pip did: ~40 s of CPU for the whole venv); imports compile
# what they use on first use (~5 s of CPU for `make run`, once) and the .pth below lets them keep it
# even where PYTHONDONTWRITEBYTECODE is set (else every process would compile dagster, pandas, ... anew).
$(STAMP): pyproject.toml uv.lock
	@$(MAKE) -s --no-print-directory $(UV)
	$(UV) sync --locked --extra dev --python $(PYTHON) --quiet || \
	  { echo "uv sync failed (if pyproject.toml changed: make lock, then commit uv.lock)" >&2; exit 1; }
	@echo 'import sys; sys.dont_write_bytecode = False' > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/00-eventlab-write-bytecode.pth"
	@touch $(STAMP)

lock:
	@$(MAKE) -s --no-print-directory $(UV)
	$(UV) lock --python $(PYTHON) $(LOCK_ARGS)

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
# its own job, not part of `make run`. Writes reports/universe-<name>/<as-of>/. Recorded in
# .dagster_home so `make ui` shows its partitions and per-ticker checks (UNIVERSE_ARGS= for an
# unrecorded run; other options: python -m commands.run_universe --help).
UNIVERSE_ARGS ?= --record
universe: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(if $(findstring --record,$(UNIVERSE_ARGS)),$(PY) -m commands.instance && )$(PY) -m commands.run_universe $(UNIVERSE_ARGS)

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
	rm -rf data/warehouse reports/20* reports/latest reports/universe-*
