"""The universe job on Dagster's Celery executor: a Redis server and two Celery workers on
127.0.0.1, a subset of the universe run through them, results equal to the in-process run.

Needs Debian's `redis-server` (.ci/run installs it). Without it: skip locally, FAIL under CI
(CI=true), like tests/test_postgres.py.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from commands.run_universe import RANGE_END, RANGE_START, run_universe_job
from pipelines.universe_resources import TICKERS

ROOT = Path(__file__).resolve().parents[1]
N_TICKERS = 6
SETTINGS = {"workers": 1, "bootstrap_reps": 100}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_server() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        msg = "redis-server not found; install Debian's `redis-server` package (.ci/run does)"
        if _in_ci():
            pytest.fail(f"CI=true: {msg}")
        pytest.skip(msg)
    return found


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture
def celery_env(redis_url, tmp_path, monkeypatch):
    """Two Celery workers (solo pool, one task at a time each) consuming the `dagster` queue."""
    # The documented worker settings (deploy/celery/dagster_celery_config.py, read from the env).
    cfg = ROOT / "deploy" / "celery"
    env = {
        "EVENTLAB_CELERY_BROKER": f"{redis_url}/0",
        "EVENTLAB_CELERY_BACKEND": f"{redis_url}/1",
        "EVENTLAB_WAREHOUSE": str(tmp_path / "wh_celery"),
        "EVENTLAB_REPORTS": str(tmp_path / "reports_celery"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    worker_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(cfg), str(ROOT)])}
    cmd = [sys.executable, "-m", "celery", "-A", "dagster_celery.app", "worker", "-Q", "dagster",
           "--pool=solo", "--without-gossip", "--without-mingle", "--loglevel=WARNING"]  # fmt: skip
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(open(tmp_path / f"worker{i}.log", "w")) for i in (1, 2)]
        workers = [
            subprocess.Popen(
                [*cmd, "-n", f"w{i}@127.0.0.1"],
                cwd=ROOT,
                env=worker_env,
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            for i, log in zip((1, 2), logs, strict=True)
        ]
        try:
            from celery import Celery

            app = Celery(broker=f"{redis_url}/0", backend=f"{redis_url}/1")
            deadline = time.monotonic() + 120
            while len(app.control.ping(timeout=1.0) or []) < 2:
                if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                    text = "\n".join(
                        (tmp_path / f"worker{i}.log").read_text()[-2000:] for i in (1, 2)
                    )
                    pytest.fail(f"the two Celery workers did not come up:\n{text}")
                time.sleep(0.5)
            yield env
        finally:
            for w in workers:
                _stop(w)


def _untimed(text: str) -> str:
    return re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?( UTC|\+00:00)?", "<time>", text)


def _tables(warehouse: Path) -> dict[str, pd.DataFrame]:
    uni = warehouse / "universe"
    out = {n: pd.read_parquet(uni / f"{n}.parquet") for n in
           ("pooled_stats", "pooled_events", "breadth_daily", "breadth_on_index_events")}  # fmt: skip
    out["ticker_stats"] = pd.concat(
        pd.read_parquet(p) for p in sorted((uni / "ticker_stats").glob("*.parquet"))
    ).reset_index(drop=True)
    return out


def test_universe_subset_on_celery_equals_in_process(celery_env, tmp_path):
    from pipelines.celery_definitions import celery_universe_job

    keys = TICKERS.get_partition_keys()[:N_TICKERS]
    home = tmp_path / "dagster_home"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    with dg.execute_job(
        dg.reconstructable(celery_universe_job),
        instance=instance,
        run_config={"resources": {"universe_settings": {"config": SETTINGS}}},
        tags={RANGE_START: keys[0], RANGE_END: keys[-1]},
    ) as result:
        assert result.success
        run_id = result.run_id
    # Every step ran in a Celery worker, not in this process.
    engine = [
        e.dagster_event.event_specific_data.metadata
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
        if e.dagster_event.event_specific_data.metadata.get("Celery worker")
    ]
    steps = {m["step_keys"].value for m in engine}
    assert {"universe_ticker_study", "universe_cross_section", "universe__report"} <= steps
    celery_run = _tables(Path(celery_env["EVENTLAB_WAREHOUSE"]))
    assert celery_run["ticker_stats"]["ticker"].nunique() == N_TICKERS
    local, _ = run_universe_job(
        first=N_TICKERS, warehouse=str(tmp_path / "wh_local"), reports=str(tmp_path / "rep"),
        log_level="WARNING", workers=1, bootstrap_reps=100,
    )  # fmt: skip
    assert local.success
    in_process = _tables(tmp_path / "wh_local")
    for name, frame in in_process.items():
        pd.testing.assert_frame_equal(celery_run[name], frame, obj=name)
    # the report the Celery run published is the in-process run's, word for word but its time
    md = Path(celery_env["EVENTLAB_REPORTS"]) / "universe-sp500_2021" / "2021-04-21" / "report.md"
    local_md = tmp_path / "rep" / "universe-sp500_2021" / "2021-04-21" / "report.md"
    assert "Pooled over" in md.read_text()
    assert _untimed(md.read_text()) == _untimed(local_md.read_text())
