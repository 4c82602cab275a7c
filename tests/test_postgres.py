"""The documented Postgres instance config (deploy/postgres/dagster.yaml) against a real server.

The test starts its own PostgreSQL (Debian's server binaries: initdb + pg_ctl) on a free
loopback port in a temp dir, as the `postgres` (or `nobody`) user when run as root because
initdb refuses root. No binaries: skip locally, FAIL under CI (CI=true; .ci/run installs them).
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from helpers import start_run, tree_digest

from eventlab.report import publishing

ROOT = Path(__file__).resolve().parents[1]
PG_CONFIG = ROOT / "deploy" / "postgres" / "dagster.yaml"


def _pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _require_pg_bin() -> Path:
    bindir = _pg_bin()
    if bindir is None:
        msg = "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's `postgresql` package (.ci/run does)"
        if _in_ci():
            pytest.fail(f"CI=true: {msg}")
        pytest.skip(msg)
    return bindir


@dataclass
class PgServer:
    env: dict[str, str]  # the DAGSTER_PG_* variables deploy/postgres/dagster.yaml reads
    stop: Callable[[], None]  # stop it at once, as a crash would (idempotent)


@pytest.fixture
def pg_server():
    bindir = _require_pg_bin()
    base = Path(tempfile.mkdtemp(prefix="eventlab-pg-", dir="/tmp"))
    base.chmod(0o755)
    data, log = base / "data", base / "server.log"
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
        if user is None:
            pytest.fail(
                "running as root and no unprivileged user (postgres/nobody) to run initdb as"
            )
        pw = pwd.getpwnam(user)
        os.chown(base, pw.pw_uid, pw.pw_gid)
        runuser = shutil.which("runuser")
        prefix = [runuser, "-u", user, "--"] if runuser else ["su", user, "-s", "/bin/sh", "-c"]
    port = _free_port()

    def run(*cmd: str) -> None:
        full = [*prefix, *cmd] if prefix[:1] != ["su"] else [*prefix, " ".join(cmd)]
        subprocess.run(full, check=True, capture_output=True, timeout=60)

    stopped: list[bool] = []

    def stop() -> None:
        if not stopped:
            stopped.append(True)
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "dagster",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(log),
        "-o",
        opts,
        "-w",
        "-t",
        "30",
        "start",
    )
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="dagster", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE eventlab_dagster")
        conn.close()
        env = {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(port),
            "DAGSTER_PG_USER": "dagster",
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": "eventlab_dagster",
        }
        yield PgServer(env, stop)
    finally:
        try:
            stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def test_postgres_instance_runs_a_real_materialization(pg_server, monkeypatch, tmp_path):
    from pipelines.io import ParquetIOManager
    from pipelines.resources import PriceSource
    from pipelines.stages.market_data import daily_prices, price_key

    for k, v in pg_server.env.items():
        monkeypatch.setenv(k, v)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PG_CONFIG, home / "dagster.yaml")
    t0 = time.perf_counter()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        res = dg.materialize(
            [daily_prices],
            selection=[price_key("GSPC")],
            instance=instance,
            resources={
                "io_manager": ParquetIOManager(base_dir=str(tmp_path / "wh")),
                "price_source": PriceSource(mode="snapshot"),
            },
        )
        assert res.success
        run_id = res.run_id
    # a fresh connection sees the run and the materialization with its data version
    with dg.DagsterInstance.from_config(str(home)) as again:
        assert again.get_run_by_id(run_id).is_success
        ev = again.get_latest_materialization_event(price_key("GSPC"))
        assert ev is not None and ev.run_id == run_id
        assert ev.asset_materialization.tags.get("dagster/data_version")
    assert time.perf_counter() - t0 < 30


def test_missing_binaries_skip_locally_but_fail_under_ci(monkeypatch):
    import test_postgres as me

    monkeypatch.setattr(me, "_pg_bin", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not found"):
        me._require_pg_bin()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        me._require_pg_bin()


def test_a_postgres_server_lost_mid_run_gives_one_line_and_publishes_nothing(
    pg_server, workspace, tmp_path
):
    """`commands.run --record` on the Postgres instance; the server is stopped (immediate
    shutdown, as a crash) while the run is in its report steps. The run ends with one line
    naming the server, what happened and the fix; readers still see the previous report and
    every warehouse file is whole."""
    reports, warehouse, name = workspace
    report_before = tree_digest(reports / name)
    tables_before = {p: pd.read_parquet(p) for p in sorted(warehouse.rglob("*.parquet"))}
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PG_CONFIG, home / "dagster.yaml")
    proc = start_run(
        reports, warehouse, "--record", env={"DAGSTER_HOME": str(home), **pg_server.env}
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if list(reports.glob(f"{publishing.STAGING_PREFIX}*")):  # the cta step has started
                break
            time.sleep(0.05)
        assert proc.poll() is None, (
            f"the run ended before the fault: {proc.communicate()[1][-2000:]}"
        )
        pg_server.stop()
        t0 = time.monotonic()
        _out, err = proc.communicate(timeout=300)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=30)
    port = pg_server.env["DAGSTER_PG_PORT"]
    last = err.strip().splitlines()[-1]
    assert proc.returncode == 1, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert last.startswith(f"error: the run stopped: the Postgres server at 127.0.0.1:{port} ")
    assert str(home / "dagster.yaml") in last and "stopped answering" in last
    assert "Nothing was published" in last and "nothing stored was lost" in last
    assert "Fix: restart the server" in last and "then run again" in last
    assert took < 120, f"{took:.0f}s from the fault to the message"
    # readers still see the previous report, byte for byte; no other report folder appeared
    assert os.readlink(reports / "latest") == name
    assert tree_digest(reports / name) == report_before
    assert sorted(p.name for p in reports.iterdir() if not p.name.startswith(".")) == [
        name,
        "latest",
    ]
    staged = list(reports.glob(f"{publishing.STAGING_PREFIX}*"))
    assert staged and all((p / publishing.MARKER).exists() for p in staged)
    # every warehouse table is whole: readable, same shape; the stored prices hold what they held
    # (steps that ran before the fault rewrote their tables atomically, with the same data)
    assert not list(warehouse.rglob("*.tmp"))
    assert sorted(warehouse.rglob("*.parquet")) == list(tables_before)
    for path, frame in tables_before.items():
        now = pd.read_parquet(path)
        assert now.shape == frame.shape and list(now.columns) == list(frame.columns), path
        if path.parent.name == "prices":
            pd.testing.assert_frame_equal(now, frame)
