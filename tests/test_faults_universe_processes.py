"""Issue 23, item 3 (the universe job's processes): its workers die with the run whatever kills
it (SIGKILL, SIGTERM, Ctrl-C), an interrupted run says so in one line, and the staging folder a
killed run leaves is removed by the next run. The real command in a subprocess on a copy of the
project (tests/test_faults_universe.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_faults_universe import AS_OF, TREE, env, project, run, universe_cmd

pytestmark = pytest.mark.service

__all__ = ["project"]  # the fixture, shared with tests/test_faults_universe.py


def _descendants(pid: int) -> set[int]:
    """Every process whose chain of parents reaches `pid` (from /proc)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(stat.parent.name)] = int(fields[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.update(kids)
        todo.extend(kids)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(universe_cmd(project, *args), cwd=project, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.stderr.read()[-3000:] if proc.stderr else ""
        assert time.monotonic() < deadline, "the run never reached the step"
        time.sleep(0.05)


def _start_studying(project) -> tuple[subprocess.Popen, Path, set[int]]:
    """A 120-ticker run on 2 workers, returned once its ticker step has written a status file,
    with every descendant process seen so far (the fork server and its workers)."""
    proc = _start(project, "--first", "120", "--workers", "2")
    status = project / "out" / "wh" / "universe" / "ticker_status"
    seen: set[int] = set()

    def studying() -> bool:
        seen.update(_descendants(proc.pid))
        return status.exists() and any(status.glob("*.parquet"))

    _wait_for(studying, proc)
    return proc, status, seen


def test_sigkill_in_the_ticker_step_leaves_no_process_behind(project):
    proc, status, seen = _start_studying(project)
    time.sleep(3)
    seen.update(_descendants(proc.pid))
    assert len(seen) >= 2, seen  # the fork server and its workers were running
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in seen if _alive(p)]
    for p in left:  # do not leave them to the next test
        os.kill(p, signal.SIGKILL)
    assert left == [], f"still alive 10 s after the run was killed: {left}"
    n_files = len(list(status.glob("*.parquet")))
    time.sleep(1.5)
    assert len(list(status.glob("*.parquet"))) == n_files  # nobody writes any more


def test_a_run_killed_in_the_report_step_leaves_a_staging_folder_the_next_run_removes(project):
    proc = _start(project, "--first", "12", "--workers", "1")
    tree = project / "out" / "reports" / TREE
    staged: list[Path] = []

    def reporting() -> bool:
        staged[:] = list(tree.glob(".staging-*")) if tree.exists() else []
        return bool(staged)

    _wait_for(reporting, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert staged[0].exists() and not (tree / AS_OF).exists()  # nothing half-published
    again = run(project, "--first", "12", "--workers", "1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert not staged[0].exists()
    assert [p.name for p in tree.iterdir()] and not list(tree.glob(".staging-*"))
    assert (tree / AS_OF / "report.html").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_sigint_is_one_line_and_leaves_no_process(project, sig):
    proc, status, seen = _start_studying(project)
    seen.update(_descendants(proc.pid))
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("universe_job interrupted: no universe report was published")
    )
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in seen if _alive(p)] == []
    assert not (project / "out" / "reports" / TREE / AS_OF).exists()
