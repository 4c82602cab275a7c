"""The shipped local instance config (deploy/local/dagster.yaml) through `make ui`,
`make run-recorded` and `make daemon` on a fresh copy of the repository, as a new user runs them.

The copy holds the tracked files only (no warehouse, no reports, an empty .dagster_home) and
shares this checkout's virtualenv; make is told the install stamp is current (`-o`) so it never
reinstalls into it. The storage decision itself is tested on the shipped files too: the SQLite
config mentions Postgres in a comment, which once made every command refuse to start.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from commands.instance import InstanceStorageError, check_instance, storage_kind

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "deploy" / "local" / "dagster.yaml"
POSTGRES = ROOT / "deploy" / "postgres" / "dagster.yaml"


# ------------------------------------------------------------------ the storage decision


def test_shipped_configs_are_classified_by_their_storage_section():
    assert "postgres" in LOCAL.read_text().lower()  # the comment that fooled a text search
    assert storage_kind(LOCAL) == "sqlite"
    assert storage_kind(POSTGRES) == "postgres"


def test_storage_kind_reads_sections_not_text(tmp_path):
    cfg = tmp_path / "dagster.yaml"
    cfg.write_text("# postgres everywhere: postgres_db\ntelemetry:\n  enabled: false\n")
    assert storage_kind(cfg) == "default"
    cfg.write_text(
        "run_storage:\n  module: dagster_postgres.run_storage\n  class: PostgresRunStorage\n"
    )
    assert storage_kind(cfg) == "postgres"
    cfg.write_text("storage:\n  sqlite:\n    base_dir: /tmp/x  # not postgres\n")
    assert storage_kind(cfg) == "sqlite"
    assert storage_kind(tmp_path / "missing.yaml") == "default"


def test_the_shipped_sqlite_config_passes_the_check_with_no_postgres_variables(
    tmp_path, monkeypatch
):
    for var in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_DB"):
        monkeypatch.delenv(var, raising=False)
    shutil.copy(LOCAL, tmp_path / "dagster.yaml")
    check_instance(tmp_path)  # raises if it mistakes the file for a Postgres one


def test_a_broken_instance_config_is_named_with_the_fix(tmp_path):
    (tmp_path / "dagster.yaml").write_text("storage:\n  sqlite: [unclosed\n")
    with pytest.raises(InstanceStorageError) as err:
        check_instance(tmp_path)
    assert "not valid YAML" in str(err.value) and "deploy/local/dagster.yaml" in str(err.value)


# ------------------------------------------------------------------ a fresh copy, as a user runs it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory) -> Path:
    """The tracked files of this checkout (uncommitted edits included), mtimes kept, sharing .venv."""
    dest = tmp_path_factory.mktemp("clone") / "eventlab"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / name.decode()
        if src.is_file():
            (dest / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name.decode())
    (dest / ".venv").symlink_to(ROOT / ".venv")
    assert not (dest / "data" / "warehouse").exists() and not (dest / "reports" / "latest").exists()
    return dest


def _env() -> dict[str, str]:
    """The user's environment: none of the test session's EVENTLAB_* or Dagster settings."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("EVENTLAB_", "DAGSTER_", "MAKE"))
    }


def _make(clone: Path, *args: str) -> list[str]:
    return ["make", "-s", "-C", str(clone), "-o", ".venv/.installed", *args]


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=_env(), start_new_session=True
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        out = json.loads(resp.read())
    assert "errors" not in out, out
    return out["data"]


REPOS = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  name location { name } jobs { name } assetNodes { assetKey { path } } } } } }"""
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


def _wait_for_ui(port: int, proc: subprocess.Popen, log: Path, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"make ui exited {proc.returncode}:\n{log.read_text()[-3000:]}"
        try:
            return _graphql(port, REPOS)
        except (OSError, ValueError):
            time.sleep(1)
    pytest.fail(
        f"the UI did not answer on port {port} in {timeout:.0f} s:\n{log.read_text()[-3000:]}"
    )


@pytest.mark.service
def test_make_ui_lists_the_job_and_runs_it_from_the_graphql_api(fresh_clone, tmp_path):
    ui_port, report_port = _free_port(), _free_port()
    log = tmp_path / "ui.log"
    proc = _start(_make(fresh_clone, "ui", f"UI_PORT={ui_port}", f"REPORT_PORT={report_port}"), log)
    try:
        data = _wait_for_ui(ui_port, proc, log)
        (repo,) = data["repositoriesOrError"]["nodes"]
        assert repo["location"]["name"] == "eventlab"
        assert "main_job" in {j["name"] for j in repo["jobs"]}
        assets = {"/".join(a["assetKey"]["path"]) for a in repo["assetNodes"]}
        assert {"events", "report", "prices/GSPC"} <= assets, sorted(assets)[:20]

        params = {
            "selector": {
                "repositoryLocationName": "eventlab",
                "repositoryName": repo["name"],
                "jobName": "main_job",
            },
            "runConfigData": {},
        }
        launched = _graphql(ui_port, LAUNCH, {"p": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status, deadline = None, time.monotonic() + 420
        while time.monotonic() < deadline:
            status = _graphql(ui_port, STATUS, {"id": run_id})["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(2)
        assert status == "SUCCESS", f"run {run_id}: {status}\n{log.read_text()[-4000:]}"
        report = fresh_clone / "reports" / "latest" / "report.html"
        assert "<html" in report.read_text(encoding="utf-8")[:500].lower()
        url = f"http://127.0.0.1:{report_port}/latest/report.html"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200 and b"<html" in resp.read(500).lower()
        assert "will not be used" not in log.read_text()  # no stray dagster.yaml warning
    finally:
        _stop(proc)


@pytest.mark.service
def test_make_ui_refuses_a_taken_port_and_names_the_fix(fresh_clone, tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        proc = subprocess.run(
            _make(fresh_clone, "ui", f"UI_PORT={port}", f"REPORT_PORT={_free_port()}"),
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        )
    assert proc.returncode != 0
    assert (
        f"port {port} (UI_PORT)" in proc.stderr and f"make ui UI_PORT={port + 100}" in proc.stderr
    )


@pytest.mark.service
def test_make_run_recorded_records_the_run_in_the_shipped_instance(fresh_clone):
    proc = subprocess.run(
        _make(fresh_clone, "run-recorded"), capture_output=True, text=True, env=_env(), timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "succeeded" in proc.stdout
    home = fresh_clone / ".dagster_home"
    assert (home / "dagster.yaml").read_text() == LOCAL.read_text()
    import sqlite3

    con = sqlite3.connect(home / "history" / "runs.db")
    try:
        rows = con.execute("select pipeline_name, status from runs").fetchall()
    finally:
        con.close()
    assert ("main_job", "SUCCESS") in rows, rows


@pytest.mark.service
def test_make_daemon_stays_up_and_heartbeats(fresh_clone, tmp_path):
    log = tmp_path / "daemon.log"
    proc = _start(_make(fresh_clone, "daemon"), log)
    try:
        deadline = time.monotonic() + 120
        text = ""
        while time.monotonic() < deadline and "SchedulerDaemon" not in text:
            assert proc.poll() is None, f"make daemon exited {proc.returncode}:\n{log.read_text()}"
            time.sleep(1)
            text = log.read_text()
        assert "SchedulerDaemon" in text, text[-3000:]
        time.sleep(15)  # past the daemons' first loop: still up, no error
        assert proc.poll() is None, log.read_text()[-3000:]
        assert "error:" not in log.read_text()
        import sqlite3

        db = fresh_clone / ".dagster_home" / "history" / "runs.db"
        con = sqlite3.connect(db)
        try:
            beats = {r[0] for r in con.execute("select daemon_type from daemon_heartbeats")}
        finally:
            con.close()
        assert {"SCHEDULER", "SENSOR"} <= beats, beats
    finally:
        _stop(proc)
