"""Shared fixtures: the snapshot frames and one in-process materialization of the whole graph."""

from __future__ import annotations

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
# own (several test sessions can share a machine), set before any asset is materialized.
os.environ.setdefault("EVENTLAB_REPORTS_URL", f"http://127.0.0.1:{_free_port()}")


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
