"""Shared fixtures (the snapshot frames, one in-process materialization of the whole graph) and
the test tiers.

Tiers (markers registered in pyproject.toml):
- unit (no marker): pure functions. No Dagster run, no chart or report rendering, no subprocess
  or child process. `make test-fast` runs only these; `_unit_guard` fails a unit test that does
  any of those, so a misclassified test is caught the first time it runs.
- `graph`: in-process Dagster runs (materialize, execute_in_process, the session's
  `materialized` graph) and chart/report rendering.
- `service`: real services or commands (Postgres, Redis + Celery, Chromium, make, CLI
  subprocesses, child processes).
A module of one tier says so with `pytestmark`; tests using a fixture listed in GRAPH_FIXTURES
or SERVICE_FIXTURES get the tier here. Under CI (CI=true) no test may skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Report links in the UI metadata point at the report server; tests serve on a free port of their
# own, set before any asset is materialized. Set in every process, not inherited: each xdist
# worker serves its own reports, and two workers on one port would answer each other's requests.
os.environ["EVENTLAB_REPORTS_URL"] = f"http://127.0.0.1:{_free_port()}"


# Fixtures that put a test in a tier by themselves (a test using one needs no marker of its own).
GRAPH_FIXTURES = frozenset({"materialized", "workspace", "good_run"})
SERVICE_FIXTURES = frozenset({"pg_server", "redis_url", "celery_env", "driver", "fresh_clone"})
# Tests that share the session's `materialized` graph run on one xdist worker
# (`--dist loadgroup`), so the graph is materialized once per session, not once per worker.
MATERIALIZED_GROUP = "materialized"


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SERVICE_FIXTURES and not item.get_closest_marker("service"):
            item.add_marker(pytest.mark.service)
        if (
            fixtures & GRAPH_FIXTURES
            and not item.get_closest_marker("service")
            and not item.get_closest_marker("graph")
        ):
            item.add_marker(pytest.mark.graph)
        if fixtures & {"materialized", "workspace"} and config.pluginmanager.hasplugin("xdist"):
            item.add_marker(pytest.mark.xdist_group(MATERIALIZED_GROUP))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Under CI a skip is a failure: CI installs every service, so a skip means a test did not run."""
    report = yield
    if report.skipped and _under_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"CI=true but the test skipped: {reason}"
    return report


class TierError(AssertionError):
    """A test of the unit tier did what only the graph or service tier may do."""


@contextlib.contextmanager
def _unit_guard(item: pytest.Item):
    """While a test without a `graph` or `service` marker is set up (its fixtures of any scope)
    and run, starting a process, running a Dagster job or rendering a chart or template raises
    TierError naming the marker to add."""
    if item.get_closest_marker("graph") or item.get_closest_marker("service"):
        yield
        return
    import multiprocessing.process
    import subprocess

    import jinja2
    from dagster._core.execution.api import ExecuteRunWithPlanIterable
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def refuse(what: str, tier: str):
        def raiser(*args, **kwargs):
            raise TierError(
                f"{item.nodeid} {what}: mark it {tier} "
                "(pytestmark, @pytest.mark or a tier fixture; see tests/conftest.py)"
            )

        return raiser

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subprocess.Popen, "__init__", refuse("starts a subprocess", "`service`"))
        mp.setattr(os, "fork", refuse("forks", "`service`"))
        mp.setattr(
            multiprocessing.process.BaseProcess,
            "start",
            refuse("starts a child process", "`graph` or `service`"),
        )
        mp.setattr(ExecuteRunWithPlanIterable, "__iter__", refuse("runs Dagster", "`graph`"))
        mp.setattr(FigureCanvasAgg, "draw", refuse("renders a chart", "`graph`"))
        mp.setattr(jinja2.Template, "render", refuse("renders a template", "`graph`"))
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with _unit_guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with _unit_guard(item):
        return (yield)


@pytest.fixture(scope="session")
def _probe_target() -> str:
    """A local HTTP server standing in for Yahoo's probe URL (404 to everything: "up")."""
    import http.server
    import threading

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_error(404)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}/"


@pytest.fixture(autouse=True)
def _offline_probe(monkeypatch, _probe_target):
    """Tests never reach the network: the source probe asks a local server that answers (the
    fake Yahoo is "up"); tests of an outage patch `yahoo.is_reachable` or the URL themselves."""
    from eventlab.data import yahoo

    monkeypatch.setattr(yahoo, "PROBE_URL", _probe_target)


@pytest.fixture(scope="session")
def snapshot_prices() -> dict[str, pd.DataFrame]:
    """Every daily series of the shipped snapshot, keyed by series key."""
    from eventlab.config import CONFIG
    from eventlab.data.snapshot import read_series

    return {k: read_series(k) for k in CONFIG.daily_keys}


@dataclass
class Materialized:
    result: object
    report_dir: Path
    reports_root: Path
    warehouse: Path
    instance: object


@pytest.fixture(scope="session")
def materialized(tmp_path_factory: pytest.TempPathFactory) -> Materialized:
    """main_job executed once, in-process, on the snapshot, into temporary folders, recorded in
    a SQLite instance (as `make run-recorded` and the UI record runs)."""
    import dagster as dg

    from commands.run import run_main_job

    root = tmp_path_factory.mktemp("graph")
    home = root / "dagster_home"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    result, folder = run_main_job(
        "snapshot",
        reports=str(root / "reports"),
        warehouse=str(root / "warehouse"),
        instance=instance,
    )
    return Materialized(result, folder, root / "reports", root / "warehouse", instance)


@pytest.fixture
def workspace(materialized, tmp_path):
    """A reports root holding the session's published default report (with `latest`) and a copy
    of its warehouse, so each test starts from a complete previous report."""
    reports = tmp_path / "reports"
    reports.mkdir()
    name = materialized.report_dir.name
    shutil.copytree(materialized.report_dir, reports / name)
    (reports / "latest").symlink_to(name, target_is_directory=True)
    warehouse = tmp_path / "warehouse"
    shutil.copytree(materialized.warehouse, warehouse)
    return reports, warehouse, name


@pytest.fixture
def good_run(tmp_path, monkeypatch):
    """A warehouse with a good GSPC refresh already stored; returns (path, bytes, fake)."""
    from refresh_helpers import run_prices
    from yf_fakes import FakeYahoo, live_history

    from eventlab.data import yahoo

    fake = FakeYahoo("^GSPC", default=live_history("GSPC", 3))
    monkeypatch.setattr(yahoo, "_yf_download", fake)
    assert run_prices(tmp_path).success
    path = tmp_path / "prices" / "GSPC.parquet"
    return path, path.read_bytes(), fake
