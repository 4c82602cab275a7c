"""The run guarantees (docs/guarantees.md, "Run guarantees"): a report reaches readers in one atomic switch, a
killed or failed run leaves the previous report untouched and no process behind, two runs at
once both succeed, `reports/latest` is never user content we delete, and a non-default parameter
set never overwrites the default report. The SIGKILL and concurrency cases run real
`python -m commands.run` subprocesses on a copy of the session's materialized warehouse."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from helpers import start_run, tree_digest

from eventlab.report import publishing

ROOT = Path(__file__).resolve().parents[1]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ----------------------------------------------------------------------------- SIGKILL


@pytest.mark.service
def test_sigkill_mid_charts_keeps_previous_report_and_orphans_nothing(workspace):
    reports, warehouse, name = workspace
    before = tree_digest(reports / name)
    proc = start_run(reports, warehouse)
    try:
        # mid charts: the charts step's two pool workers exist only while it draws
        deadline = time.monotonic() + 300
        children: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            children = descendants(proc.pid)
            if len(children) >= 2:
                break
            time.sleep(0.05)
        assert len(children) >= 2, f"no chart workers seen: {proc.communicate()[1][-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(p) for p in children):
            time.sleep(0.1)
        assert not [p for p in children if alive(p)], "chart processes outlived the killed run"
    finally:  # whatever happened, nothing this test started keeps running
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    # readers still see the previous report, byte for byte, through `latest` too
    assert tree_digest(reports / name) == before
    assert os.readlink(reports / "latest") == name
    # the half-built report is a marked staging folder, never a report folder
    leftovers = [p for p in reports.iterdir() if p.name.startswith(publishing.STAGING_PREFIX)]
    assert leftovers and all((p / publishing.MARKER).exists() for p in leftovers)
    assert sorted(p.name for p in reports.iterdir() if not p.name.startswith(".")) == [
        name,
        "latest",
    ]
    # the next run removes it: its owner is gone
    removed = publishing.clean_stale(reports)
    assert set(leftovers) <= set(removed)
    assert not any(p.name.startswith(".staging-") for p in reports.iterdir())


# ----------------------------------------------------------------------------- concurrency


@pytest.mark.service
def test_two_runs_started_0_1_s_apart_both_succeed(workspace):
    reports, warehouse, name = workspace
    first = start_run(reports, warehouse)
    time.sleep(0.1)
    second = start_run(reports, warehouse)
    outs = [p.communicate(timeout=600) for p in (first, second)]
    for p, (_out, err) in zip((first, second), outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    assert os.readlink(reports / "latest") == name
    manifest = json.loads((reports / name / "manifest.json").read_text())
    assert set(manifest["artifacts"]) <= set(tree_digest(reports / name))
    assert "report.html" in manifest["artifacts"] and manifest["default_study"] is True
    # nothing temporary is left: no staging folder, no temp file, no temp symlink
    left = [p for p in reports.rglob("*") if p.name.startswith((".staging-", ".creating-"))]
    left += [p for p in reports.rglob("*.tmp")] + [p for p in warehouse.rglob("*.tmp")]
    assert not left, left


# ----------------------------------------------------------------------------- latest is ours


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_latest_that_is_user_content_is_never_deleted(tmp_path, kind):
    root = tmp_path / "reports"
    staging = publishing.staging_dir(root, "run1", "2026-08-20")
    (staging / "report.html").write_text("new")
    latest = root / "latest"
    if kind == "directory":
        latest.mkdir()
        (latest / "my_notes.txt").write_text("mine")
    else:
        latest.write_text("mine")
    with pytest.raises(publishing.PublishError, match=r"real (directory|file).*Fix: move it"):
        publishing.publish(staging, "2026-08-20", make_latest=True)
    if kind == "directory":
        assert (latest / "my_notes.txt").read_text() == "mine"
    else:
        assert latest.read_text() == "mine"
    assert not (root / "2026-08-20").exists()  # nothing was published
    assert not list(root.glob(".latest.*"))  # and no temp symlink left


def test_preflight_refuses_a_real_latest_directory_before_anything_runs(tmp_path):
    from commands import preflight
    from eventlab.errors import ConfigError

    (tmp_path / "latest").mkdir()
    with pytest.raises(ConfigError, match="real directory"):
        preflight.check_reports_root(tmp_path)


def test_publish_switch_replaces_a_folder_whole(tmp_path):
    root = tmp_path / "reports"
    first = publishing.staging_dir(root, "a", "2026-08-20")
    (first / "events.csv").write_text("old")
    (first / "only_old.txt").write_text("old")
    publishing.publish(first, "2026-08-20", make_latest=True)
    second = publishing.staging_dir(root, "b", "2026-08-20")
    # a new staging folder starts as a copy of the published report (hard links)
    assert (second / "only_old.txt").read_text() == "old"
    (second / "events.csv").write_text("new")
    publishing.publish(second, "2026-08-20", make_latest=True)
    final = root / "2026-08-20"
    assert (final / "events.csv").read_text() == "new"
    assert not (final / publishing.MARKER).exists()
    assert os.readlink(root / "latest") == "2026-08-20"
    assert sorted(p.name for p in root.iterdir()) == [".publish.lock", "2026-08-20", "latest"]


# ----------------------------------------------------------------------------- parameter sets


def test_folder_names_identify_the_parameter_set():
    from eventlab.config import CONFIG

    study, cta = CONFIG.study, CONFIG.cta
    assert publishing.folder_label(publishing.changed_parameters(study, cta)) == ""
    a = publishing.folder_label(
        publishing.changed_parameters(study.with_(gap_threshold=0.015), cta)
    )
    b = publishing.folder_label(publishing.changed_parameters(study.with_(gap_threshold=0.02), cta))
    c = publishing.folder_label(
        publishing.changed_parameters(study.with_(gap_threshold=0.015), cta.with_(vol_span=40))
    )
    assert a.startswith("gap1.5pct-") and b.startswith("gap2pct-")
    assert len({a, b, c}) == 3
    # a validation or backtest change is a parameter set of its own too (never the default folder)
    v, bt = CONFIG.validation, CONFIG.backtest
    assert publishing.changed_parameters(study, cta, v, bt) == {}
    d = publishing.changed_parameters(study, cta, v.with_(main_window=120), bt)
    e = publishing.changed_parameters(study, cta, v, bt.with_(cost_bp=5.0))
    assert d == {"validation.main_window": 120} and e == {"backtest.cost_bp": 5.0}
    assert len({publishing.folder_label(x) for x in (d, e)} | {a}) == 3 and "" not in (
        publishing.folder_label(d),
        publishing.folder_label(e),
    )


def downstream_run(warehouse: Path, reports: Path, study_config: dict):
    """The study, CTA, charts, report and publish steps on a stored warehouse (no price step)."""
    from pipelines.definitions import all_assets, all_checks, default_resources
    from pipelines.io import ParquetIOManager
    from pipelines.resources import ReportSettings, StudySettings

    return dg.materialize(
        [*all_assets, *all_checks],
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups("market_data"),
        resources=default_resources(
            io_manager=ParquetIOManager(base_dir=str(warehouse)),
            report_settings=ReportSettings(reports_root=str(reports)),
            study_settings=StudySettings(**study_config),
        ),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_zero_events_setting_gets_its_own_complete_report(workspace):
    reports, warehouse, name = workspace
    before = tree_digest(reports / name)
    res = downstream_run(warehouse, reports, {"gap_threshold": 0.3})
    assert res.success
    folders = [p for p in reports.iterdir() if p.name.startswith(f"{name}--gap30pct-")]
    assert len(folders) == 1
    folder = folders[0]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["changed_parameters"] == {"study.gap_threshold": 0.3}
    assert manifest["coverage"]["n_events"] == 0 and manifest["default_study"] is False
    html = (folder / "report.html").read_text()
    assert "study.gap_threshold = 0.3" in html
    from eventlab.charts.registry import CHARTS

    assert {p.stem for p in (folder / "charts").glob("*.png")} == {c.name for c in CHARTS}
    assert (folder / "events.csv").read_text().count("\n") == 1  # the header only
    # the default report and `latest` are untouched; the UI metadata names the folder
    assert tree_digest(reports / name) == before
    assert os.readlink(reports / "latest") == name
    meta = res.asset_materializations_for_node("publish")[0].metadata
    assert meta["folder"].value == folder.name


# ----------------------------------------------------------------------------- locks


@pytest.mark.service
def test_lock_wait_is_logged_and_bounded(tmp_path, caplog, monkeypatch):
    from eventlab.data import store

    dest = tmp_path / "x.parquet"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,sys,time; f=open(sys.argv[1],'a+'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('held', flush=True); time.sleep(30)",
            str(tmp_path / ".x.parquet.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(store, "LOCK_LOG_AFTER_S", 0.1)
        t0 = time.monotonic()
        with (
            caplog.at_level("WARNING", logger="eventlab.data.store"),
            pytest.raises(store.LockTimeoutError, match=r"x\.parquet\.lock.*Fix:"),
            store.file_lock(dest, timeout_s=0.6),
        ):
            pass
        assert time.monotonic() - t0 < 5
        assert "waiting for lock" in caplog.text
    finally:
        holder.kill()
        holder.wait()


def test_a_full_run_publishes_once_at_its_end(materialized):
    """Steps of a run that includes `publish` never publish on their own (one switch per run)."""
    messages = [r.user_message for r in materialized.instance.all_logs(materialized.result.run_id)]
    assert not [m for m in messages if "no publish step in this run" in m]
    assert sum(m.startswith("report folder:") for m in messages) == 1


def test_a_run_without_the_publish_step_publishes_and_leaves_nothing_behind(workspace):
    """A subset run (a chart and the claims, as from the UI) publishes after each writing step;
    its metadata names the published files, which exist, and no staging folder is left."""
    from pipelines.definitions import all_assets, all_checks, default_resources
    from pipelines.io import ParquetIOManager
    from pipelines.resources import ReportSettings
    from pipelines.stages.charts import chart_key

    reports, warehouse, name = workspace
    (reports / name / "charts" / "forward_paths.png").unlink()
    instance = dg.DagsterInstance.ephemeral()
    res = dg.materialize(
        [*all_assets, *all_checks],
        selection=[chart_key("forward_paths"), dg.AssetKey("claims_vs_data")],
        resources=default_resources(
            io_manager=ParquetIOManager(base_dir=str(warehouse)),
            report_settings=ReportSettings(reports_root=str(reports)),
        ),
        instance=instance,
        raise_on_error=False,
    )
    assert res.success
    messages = [r.user_message for r in instance.all_logs(res.run_id)]
    assert sum("no publish step in this run" in m for m in messages) == 2
    left = [p.name for p in reports.iterdir() if p.name.startswith((".staging-", ".creating-"))]
    assert left == [], left
    chart = res.asset_materializations_for_node("charts")[0].metadata
    claims = res.asset_materializations_for_node("claims_vs_data")[0].metadata
    for meta in (chart["path"], chart["sidecar"], claims["csv"]):
        path = Path(str(meta.value))
        assert path.is_file() and path.parent.name in (name, "charts"), path
        assert reports / name in path.parents
