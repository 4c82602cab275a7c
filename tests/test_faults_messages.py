"""Configuration and messages of the main job (issue 23 item 7): every field and flag is checked
before anything is written, with the launchpad path (or the flag) and a fix; faults the project
can name end a run with one line, never a traceback. The pre-flight cases call
commands/preflight.py directly; the faults that are processes or filesystems (a signal, a
read-only mount, a full disk, a held lock, a damaged run history) run real `commands.run`
subprocesses."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import start_run, tree_digest

from commands import preflight
from eventlab.errors import ConfigError
from eventlab.report import publishing

ROOT = Path(__file__).resolve().parents[1]


def study(**fields: object) -> dict:
    return {"resources": {"study_settings": {"config": fields}}}


def refused(run_config: dict, tmp_path: Path, **kw: object) -> str:
    """The pre-flight message for `run_config` (it must be refused), with nothing written."""
    reports, warehouse = tmp_path / "reports", tmp_path / "warehouse"
    kw = {"reports_root": reports, "warehouse": str(warehouse), **kw}
    with pytest.raises(ConfigError) as err:
        preflight.check_run(run_config, **kw)  # type: ignore[arg-type]
    for folder in (reports, warehouse):
        assert not folder.exists() or not any(folder.iterdir()), f"{folder} was written"
    return str(err.value)


# ----------------------------------------------------------------------------- fields


def test_a_study_ending_in_1960_and_a_bitcoin_index_are_accepted(tmp_path):
    preflight.check_run(study(end="1960-01-01"), reports_root=tmp_path / "r")
    preflight.check_run(study(index="BTC_USD"), reports_root=tmp_path / "r")


def test_an_end_before_the_data_names_the_field_and_the_first_date(tmp_path):
    msg = refused(study(start="1900-01-01", end="1920-01-01"), tmp_path)
    assert "`resources.study_settings.config.end`" in msg and "before the data starts" in msg
    assert "Fix: use a date after 19" in msg


def test_an_unknown_index_names_the_field_and_the_series(tmp_path):
    msg = refused(study(index="NOSUCH"), tmp_path)
    assert "`resources.study_settings.config.index`" in msg and "Fix:" in msg and "GSPC" in msg


def test_a_gap_threshold_that_is_not_a_number_says_so_with_its_full_path(tmp_path):
    msg = refused(study(gap_threshold="abc"), tmp_path)
    assert msg.startswith("config field `resources.study_settings.config.gap_threshold`: ")
    assert "'abc' is not a number: it must be above 0 and below 0.5" in msg
    assert "Fix: use 0.01" in msg and "not supported between" not in msg


@pytest.mark.parametrize(
    ("key", "field", "value", "words"),
    [
        ("report_settings", "lock_timeout_s", 0, "must be from 1 to 3600 seconds, got 0"),
        ("price_source", "deadline_s", -1, "must be from 1 to 600 seconds, got -1"),
        ("price_source", "overlap_sessions", 0, "must be an integer from 1 to 500"),
    ],
)
def test_report_and_source_fields_are_checked_before_the_run(tmp_path, key, field, value, words):
    msg = refused({"resources": {key: {"config": {field: value}}}}, tmp_path)
    assert f"`resources.{key}.config.{field}`" in msg and words in msg and "Fix: use " in msg


# ----------------------------------------------------------------------------- folders


@pytest.mark.parametrize("flag", ["reports", "warehouse"])
def test_a_regular_file_as_a_storage_folder_is_refused(tmp_path, flag):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    kw = {"reports_root": afile} if flag == "reports" else {"warehouse": str(afile)}
    msg = refused({}, tmp_path, **kw)
    assert f"`--{flag} (resources." in msg and f"{afile} is a file, not a folder" in msg
    assert f"Fix: give a writable folder with {preflight.FREE_MB[msg.split('`')[1]]} MB" in msg
    assert afile.read_text() == "mine"


def test_a_disk_without_room_for_a_run_is_refused(tmp_path, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(
        shutil, "disk_usage", lambda _p: usage._replace(free=3 * 2**20)
    )  # 3 MB left on every filesystem
    msg = refused({}, tmp_path)
    assert "only 3.0 MB free on the filesystem of" in msg and "a run needs about 40 MB" in msg
    assert "Fix: free some space" in msg


# ----------------------------------------------------------------------------- real processes


def run_command(*args: str, env: dict | None = None, timeout: float = 600):
    return subprocess.run(
        [sys.executable, "-m", "commands.run", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line(stderr: str) -> str:
    """The message a user reads (there must be no traceback above it)."""
    assert "Traceback" not in stderr and "Stack Trace" not in stderr, stderr[-3000:]
    return stderr.strip().splitlines()[-1]


@contextlib.contextmanager
def mounted(target: Path, *options: str):
    """A filesystem mounted at `target` for the test (root only: a container's test user is)."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a filesystem needs root")
    subprocess.run(["mount", *options, str(target)], check=True, capture_output=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


@pytest.mark.service
@pytest.mark.parametrize("flag", ["--reports", "--warehouse"])
def test_a_read_only_folder_is_refused_before_anything_runs(tmp_path, flag):
    ro = tmp_path / "ro"
    ro.mkdir()
    with contextlib.ExitStack() as stack:
        if os.geteuid() == 0:  # root writes through permissions: a read-only bind mount
            stack.enter_context(mounted(ro, "--bind", "-o", "ro", str(ro)))
        else:
            ro.chmod(0o555)
            stack.callback(ro.chmod, 0o755)
        other = "--warehouse" if flag == "--reports" else "--reports"
        proc = run_command(flag, str(ro), other, str(tmp_path / "other"), timeout=120)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert line.startswith("configuration error, nothing was run or written: config field")
    assert f"`{flag} (resources." in line and f"{ro}" in line and "Fix: give a writable" in line
    assert not any(ro.iterdir())
    assert not (tmp_path / "other").exists() or not any((tmp_path / "other").iterdir())


@pytest.mark.service
def test_a_disk_that_fills_mid_run_fails_with_one_line_and_keeps_the_previous_report(
    workspace, tmp_path
):
    reports, warehouse, name = workspace
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=64m", "tmpfs") as small:
        root = small / "reports"
        shutil.copytree(reports, root, symlinks=True)
        before = tree_digest(root / name)
        proc = start_run(root, warehouse)
        filler = small / "filler"
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not list(root.glob(".staging-*")):
                time.sleep(0.05)
            with open(filler, "wb") as fh, contextlib.suppress(OSError):
                while True:  # fill the disk while the run writes its report
                    fh.write(b"\0" * 2**20)
            _out, err = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
            filler.unlink(missing_ok=True)
        assert proc.returncode == 1
        line = one_line(err)
        assert "the disk is full" in line and "Errno 28" in line and "Fix: free some space" in line
        # nothing half-published, the previous report intact, the staging space given back
        assert tree_digest(root / name) == before and os.readlink(root / "latest") == name
        assert not list(root.glob(".staging-*")) and not list(root.glob(".creating-*"))


@pytest.mark.service
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_end_the_run_with_one_line(workspace, sig):
    reports, warehouse, name = workspace
    before = tree_digest(reports / name)
    proc = start_run(reports, warehouse)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not list(reports.glob(".staging-*")):
            time.sleep(0.05)
        assert list(reports.glob(".staging-*")), proc.communicate(timeout=60)[1][-2000:]
        os.kill(proc.pid, sig)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 130
    assert "DagsterExecutionInterruptedError" not in err
    assert one_line(err).startswith("stopped by SIGINT/SIGTERM before the run finished")
    assert tree_digest(reports / name) == before and os.readlink(reports / "latest") == name
    assert not list(reports.glob(".staging-*"))


@pytest.mark.service
def test_a_held_publish_lock_names_the_setting_that_governs_it(workspace, tmp_path):
    reports, warehouse, name = workspace
    config = tmp_path / "run.yaml"
    config.write_text("resources: {report_settings: {config: {lock_timeout_s: 1}}}\n")
    lock = reports / f".{publishing.PUBLISH_LOCK}.lock"
    with open(lock, "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another run publishing, for ever
        t0 = time.monotonic()
        proc = run_command(
            "--reports",
            str(reports),
            "--warehouse",
            str(warehouse),
            "--log-level",
            "ERROR",
            "--config",
            str(config),
        )
        elapsed = time.monotonic() - t0
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert f"waited 1 s for the lock {lock}" in line
    assert "raise resources.report_settings.config.lock_timeout_s" in line
    assert "EVENTLAB_LOCK_TIMEOUT_S" not in line
    assert elapsed < 240  # the run's own work plus one second of waiting, not minutes
    # --reports reaches the run although the run config sets report_settings: the run waited
    # for this root's lock, and published nothing anywhere
    assert sorted(p.name for p in reports.iterdir() if not p.name.startswith(".")) == [
        name,
        "latest",
    ]


@pytest.mark.service
def test_a_truncated_run_history_is_named_as_a_damaged_sqlite_file_with_record(tmp_path):
    home = tmp_path / "dagster_home"
    shutil.copytree(ROOT / "deploy" / "local", home)
    db = home / "history" / "runs.db"
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.execute("create table runs (id integer primary key, body text)")
    con.executemany("insert into runs(body) values (?)", [("x" * 500,)] * 200)
    con.commit()
    con.close()
    db.write_bytes(db.read_bytes()[:6000])  # truncated mid-file
    proc = run_command(
        "--record",
        "--reports",
        str(tmp_path / "reports"),
        "--warehouse",
        str(tmp_path / "wh"),
        env={"DAGSTER_HOME": str(home)},
        timeout=120,
    )
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert f"the SQLite database {db} is damaged" in line and f"mv {db} {db}.bad" in line
    assert "Postgres" not in line and "sqlite3.DatabaseError" not in proc.stderr
    assert not (tmp_path / "wh").exists() or not any((tmp_path / "wh").rglob("*.parquet"))
