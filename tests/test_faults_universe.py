"""Issue 23, items 2 and 7 (the universe job): its data are verified against their manifest
before anything runs; a run where most tickers fail publishes nothing; its report is published
atomically into its own tree (never inside a folder the main job swaps) and never replaces a
folder it did not write; every bad flag, list file, data file or output folder is refused before
anything is written, in one line naming the file or flag and a fix. Item 3 (processes):
tests/test_faults_universe_processes.py.

Each case runs `python -m commands.run_universe` as a real subprocess on a copy of the project
(code copied, data hard-linked; a damaged file is replaced, never written through the link)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eventlab.report import publishing
from eventlab.universe import publishing as upublishing

pytestmark = pytest.mark.service

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2021-04-21"  # the shipped universe's last date
TREE = "universe-sp500_2021"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A runnable copy of the project: code copied, data/ hard-linked (replace a file before
    changing it)."""
    dest = tmp_path / "eventlab"
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("eventlab", "pipelines", "commands"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("snapshot", "universe"):
        shutil.copytree(ROOT / "data" / name, dest / "data" / name, copy_function=os.link)
    return dest


def replace(path: Path, data: bytes) -> None:
    """Give `path` new content without touching the file it is hard-linked to."""
    path.unlink()
    path.write_bytes(data)


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("EVENTLAB_", "DAGSTER_"))}


def universe_cmd(project: Path, *args: str) -> list[str]:
    out = project / "out"
    return [sys.executable, "-m", "commands.run_universe", "--reports", str(out / "reports"),
            "--warehouse", str(out / "wh"), "--log-level", "WARNING", *args]  # fmt: skip


def run(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        universe_cmd(project, *args), cwd=project, env=env(), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def assert_refused(proc: subprocess.CompletedProcess, *words: str, code: int = 2) -> str:
    """Exit `code`, no traceback, one `error:` line naming `words` and a fix; returns it."""
    assert proc.returncode == code, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-3000:]
    for word in (*words, "Fix"):
        assert word in errors[0], (word, errors[0])
    return errors[0]


def written(project: Path) -> list[Path]:
    """Everything under the run's output folders (empty when nothing was written)."""
    out = project / "out"
    return sorted(p for p in out.rglob("*") if p.is_file()) if out.exists() else []


# ---- item 2: the data are verified before anything runs ---------------------------------------


@pytest.mark.parametrize(
    ("fault", "names"),
    [
        ("flipped byte", "sp500_2021.part1.parquet"),
        ("missing part", "sp500_2021.part2.parquet"),
        ("missing manifest", "manifest.json"),
        ("truncated manifest", "manifest.json"),
    ],
)
def test_damaged_universe_data_is_refused_before_anything_is_written(project, fault, names):
    data = project / "data" / "universe"
    if fault == "flipped byte":
        raw = bytearray((data / names).read_bytes())
        raw[len(raw) // 2] ^= 0x01
        replace(data / names, bytes(raw))
    elif fault.startswith("missing"):
        (data / names).unlink()
    else:
        replace(data / names, (data / names).read_bytes()[:200])
    proc = run(project, "--first", "12", timeout=120)
    line = assert_refused(proc, names, "git checkout data/universe")
    assert "JSONDecodeError" not in line
    assert written(project) == []


def test_the_ticker_step_itself_verifies_the_data_and_publishes_nothing(project):
    """Launched without the pre-flight (as the UI or a schedule does), the step checks the files
    first: the run fails with the file named and no ticker is studied."""
    data = project / "data" / "universe"
    (data / "sp500_2021.part2.parquet").unlink()
    out = project / "out"
    script = (
        "from commands.run_universe import run_universe_job, failure_text\n"
        f"result, folder = run_universe_job(first=12, workers=1, reports={str(out / 'reports')!r},"
        f" warehouse={str(out / 'wh')!r}, log_level='ERROR')\n"
        "errs = [failure_text(e.event_specific_data.error) for e in result.all_events"
        " if e.is_step_failure]\n"
        "print(result.success, folder, errs)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=project, env=env(),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("False None"), proc.stdout
    assert "sp500_2021.part2.parquet" in proc.stdout and "git checkout data/universe" in proc.stdout
    assert not (out / "wh" / "universe" / "ticker_status").exists() or not any(
        (out / "wh" / "universe" / "ticker_status").iterdir()
    )
    assert not (out / "reports" / TREE).exists()


def test_a_run_where_most_tickers_fail_publishes_nothing(project):
    """A good run publishes; a later run where most tickers have no data (as a failed live
    download leaves them) fails with one line, publishes nothing and keeps the earlier report
    and the earlier per-ticker results."""
    ok = run(project, "--first", "12", "--workers", "1")
    assert ok.returncode == 0, ok.stderr[-3000:]
    folder = project / "out" / "reports" / TREE / AS_OF
    assert (folder / "report.html").exists() and (folder.parent / "latest").resolve() == folder
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    days = project / "out" / "wh" / "universe" / "ticker_days"
    stored = {p: p.read_bytes() for p in days.iterdir()}
    out = project / "out"
    script = (
        "import eventlab.universe.compute as c\n"
        "real = c.read_offline\n"
        "def most_missing(tickers, params):\n"
        "    frames = real(tickers, params)\n"
        "    return {t: (f if i % 4 == 0 else None) for i, (t, f) in enumerate(frames.items())}\n"
        "c.read_offline = most_missing\n"
        "import sys\n"
        "from commands import run_universe\n"
        f"sys.argv = ['run_universe', '--first', '12', '--workers', '1', '--reports', "
        f"{str(out / 'reports')!r}, '--warehouse', {str(out / 'wh')!r}, '--log-level', 'ERROR']\n"
        "sys.exit(run_universe.main())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=project, env=env(),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    line = assert_refused(proc, "9 of 12 tickers could not be studied", "no_data", code=1)
    assert "publishes no universe report" in line
    assert "no universe report was published" in proc.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert {p: p.read_bytes() for p in days.iterdir()} == stored
    assert [p.name for p in (project / "out" / "reports" / TREE).iterdir()
            if p.name.startswith(".staging-")] == []  # fmt: skip


# ---- item 2: published beside, never inside, what another job swaps ---------------------------


def test_the_main_report_switch_never_touches_the_universe_report(tmp_path):
    """The universe tree sits beside the main job's folders: publishing a main report for the
    same as-of date (a swap of reports/<as-of>/) leaves the universe report as it was."""
    root = tmp_path / "reports"
    tree = upublishing.universe_root(root, "sp500_2021")
    staging = upublishing.stage(tree, "run-u", 5)
    (staging / "manifest.json").write_text(json.dumps({"universe": "sp500_2021", "run_id": "u"}))
    (staging / "report.html").write_text("universe")
    uni = upublishing.publish(staging, AS_OF, lock_timeout_s=5)
    assert uni == tree / AS_OF and (tree / "latest").resolve() == uni
    for attempt in range(2):  # a first publish creates reports/<as-of>, the second swaps it
        main = publishing.staging_dir(root, f"run-main{attempt}", AS_OF)
        (main / "report.html").write_text(f"main {attempt}")
        publishing.publish(main, AS_OF, make_latest=True)
    assert (root / AS_OF / "report.html").read_text() == "main 1"
    assert (uni / "report.html").read_text() == "universe"
    assert not uni.is_relative_to(root / AS_OF)


def test_a_folder_the_universe_job_did_not_write_is_never_replaced(project):
    mine = project / "out" / "reports" / TREE / AS_OF
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my own notes")
    proc = run(project, "--first", "12", "--workers", "1")
    assert_refused(proc, str(mine), "did not write", code=1)
    assert (mine / "notes.txt").read_text() == "my own notes"
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    leftovers = [p for p in mine.parent.iterdir() if p.name.startswith((".staging-", ".creat"))]
    assert leftovers == []


# ---- item 7: the universe job's pre-flight --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--universe", "nosuch"), ("`--universe`", "nosuch", "sp500_2021")),
        (("--workers", "0"), ("--workers",)),
        (("--first", "-5"), ("--first",)),
        (("--first", "0"), ("--first",)),
    ],
)
def test_bad_flags_are_refused_before_anything_is_written(project, args, names):
    t0 = time.monotonic()
    proc = run(project, *args, timeout=120)
    assert_refused(proc, *names)
    assert time.monotonic() - t0 < 30  # the pre-flight, not a run that fails late
    assert written(project) == []


def test_a_bad_list_row_is_refused_with_its_line_and_never_breaks_the_main_job(project):
    lists = project / "data" / "universe" / "lists"
    (lists / "desk.csv").write_text("ticker,name,sector\nAAPL,Apple,Tech\nBAD TICKER!,x,y\n")
    proc = run(project, "--first", "12", timeout=120)
    assert_refused(proc, "desk.csv line 3", "BAD TICKER!")
    assert written(project) == []
    # the main job's code location still loads, with the good lists' partitions
    check = subprocess.run(
        [sys.executable, "-c",
         "from pipelines.definitions import defs\n"
         "from pipelines.universe_resources import TICKERS\n"
         "defs.resolve_job_def('main_job')\n"
         "print(len(TICKERS.get_partition_keys()))"],
        cwd=project, env=env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr[-3000:]
    assert int(check.stdout.split()[-1]) > 500
    assert "desk.csv line 3" in check.stderr  # said once, as a warning


def test_a_truncated_ticker_file_is_named_with_the_fix(project):
    ok = run(project, "--first", "12", "--workers", "1")
    assert ok.returncode == 0, ok.stderr[-3000:]
    days = project / "out" / "wh" / "universe" / "ticker_days"
    victim = days / "ZTS.parquet"  # a member outside this run's tickers: read, not rewritten
    victim.write_bytes((days / "A.parquet").read_bytes()[:100])
    proc = run(project, "--first", "12", "--workers", "1")
    assert_refused(proc, str(victim), "delete it", code=1)


def test_output_folders_that_are_files_are_refused_early(project):
    blocker = project / "out" / "file"
    blocker.parent.mkdir()
    blocker.write_text("a file")
    for flag in ("--reports", "--warehouse"):
        cmd = universe_cmd(project, "--first", "12") + [flag, str(blocker)]
        proc = subprocess.run(cmd, cwd=project, env=env(), capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert_refused(proc, flag, "is a file")
    assert written(project) == [blocker]


def test_a_read_only_output_folder_is_refused_early(project, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    cmd = universe_cmd(project, "--first", "12", "--reports", str(ro / "reports"))
    if os.geteuid() == 0:
        # root writes through permission bits: a read-only file system is what stops it
        shell = f'mount -t tmpfs -o ro,size=1m tmpfs {ro} && exec "$@"'
        cmd = ["unshare", "-m", "sh", "-c", shell, "sh", *cmd]
    else:
        ro.chmod(0o555)
    proc = subprocess.run(cmd, cwd=project, env=env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    ro.chmod(0o755)
    assert_refused(proc, "--reports", "Read-only file system")
