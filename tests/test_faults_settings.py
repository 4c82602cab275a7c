"""Runs with different settings (issue 23 item 1, issue 18 item 2): each parameter set reads and
writes its own warehouse namespace (pipelines/io.py), so runs with different settings started
together each publish a folder whose manifest, header and tables come from one parameter set,
the default state is never replaced by an experiment, and `reports/latest` only ever points at
a default run."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from helpers import start_run

from eventlab.config import CONFIG
from eventlab.report import publishing
from eventlab.settings import StudyParams


def published_gap(folder: Path) -> float:
    """The gap threshold a published folder's manifest says it was built with."""
    return float(json.loads((folder / "manifest.json").read_text())["parameters"]["gap_threshold"])


def assert_consistent_report(folder: Path) -> None:
    """Manifest, folder name, report header and tables of one published folder all describe the
    same parameter set (each read from its own file, then compared)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    changed = manifest["changed_parameters"]
    label = publishing.folder_label(changed)
    assert manifest["folder"] == folder.name
    as_of = pd.Timestamp(manifest["as_of"]).date()
    assert folder.name == publishing.folder_name(as_of, label)
    assert manifest["default_study"] is (not changed)
    gap = manifest["parameters"]["gap_threshold"]
    assert gap == changed.get("study.gap_threshold", CONFIG.study.gap_threshold)
    # the header names the same parameter set and folder
    header = (folder / "report.md").read_text()[:3000]
    assert publishing.describe_parameters(changed) in header
    assert f"folder reports/{folder.name}" in header
    # the tables: every event clears the manifest's threshold; the main definition states it
    with open(folder / "events.csv") as fh:
        events = list(csv.DictReader(fh))
    assert all(float(e["gap"]) > gap for e in events)
    assert len(events) == manifest["coverage"]["n_events"]
    with open(folder / "event_stats.csv") as fh:
        main = [r for r in csv.DictReader(fh) if r["variant"] == "main"]
    assert main and all(f"> {gap * 100:.2f}%" in r["definition"] for r in main)
    assert main[0]["definition"] in header


def test_namespace_is_the_report_folder_label(tmp_path):
    import dagster as dg

    from pipelines.io import PARAMETER_SETS, ParquetIOManager, _parameter_set

    io = ParquetIOManager(base_dir=str(tmp_path))
    label, described = _parameter_set(
        json.dumps({"study_settings": {"gap_threshold": 0.02}, "cta_settings": {}})
    )
    changed = publishing.changed_parameters(StudyParams(gap_threshold=0.02), CONFIG.cta)
    assert label == publishing.folder_label(changed) and label.startswith("gap2pct-")
    assert described == publishing.describe_parameters(changed)
    assert _parameter_set("{}")[0] == ""  # the defaults stay at the top
    events, prices = dg.AssetKey("events"), dg.AssetKey(["prices", "GSPC"])
    assert io._path(events, "") == tmp_path / "events.parquet"
    assert io._path(events, label) == tmp_path / PARAMETER_SETS / label / "events.parquet"
    # market data is the same for every parameter set: one copy, at the top
    assert io._path(prices, label) == tmp_path / "prices" / "GSPC.parquet"
    assert io._path(dg.AssetKey(["reference", "ff3_daily"]), label).parent == tmp_path / "reference"


@pytest.mark.service
def test_default_and_two_other_gaps_started_together_each_publish_their_own(workspace):
    """Default + gap 0.015 + gap 0.02, three real `commands.run` processes started together on
    one warehouse and one reports root: all succeed, each folder is internally consistent, the
    default warehouse tables are the default's, and `latest` points at the default folder."""
    reports, warehouse, name = workspace
    configs = {}
    for gap in (0.015, 0.02):
        path = reports.parent / f"gap{gap}.yaml"
        path.write_text(f"resources: {{study_settings: {{config: {{gap_threshold: {gap}}}}}}}\n")
        configs[gap] = path
    procs = [
        start_run(reports, warehouse),
        start_run(reports, warehouse, "--config", str(configs[0.015])),
        start_run(reports, warehouse, "--config", str(configs[0.02])),
    ]
    try:
        outs = [p.communicate(timeout=900) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, 9)
                p.wait(timeout=30)
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    folders = sorted(p for p in reports.iterdir() if not p.name.startswith(".") and p.is_dir())
    folders = [p for p in folders if not p.is_symlink()]
    by_gap = {published_gap(f): f for f in folders}
    assert sorted(by_gap) == [0.01, 0.015, 0.02], [f.name for f in folders]
    for folder in folders:
        assert_consistent_report(folder)
    assert by_gap[0.01].name == name
    assert "--gap1.5pct-" in by_gap[0.015].name and "--gap2pct-" in by_gap[0.02].name
    assert os.readlink(reports / "latest") == name
    # the default state holds the default's tables; each experiment lives under its label
    default_events = pd.read_parquet(warehouse / "events.parquet")
    assert (default_events["gap"] > 0.01).all() and (default_events["gap"] < 0.015).any()
    for gap, folder in ((0.015, by_gap[0.015]), (0.02, by_gap[0.02])):
        label = folder.name.split("--", 1)[1]
        ns = warehouse / "parameter_sets" / label
        assert (pd.read_parquet(ns / "events.parquet")["gap"] > gap).all()
        assert pd.read_parquet(ns / "report_as_of.parquet")["folder"].iloc[0] == folder.name
    left = [p for p in reports.rglob("*") if p.name.startswith((".staging-", ".creating-"))]
    left += [p for p in reports.rglob("*.tmp")] + [p for p in warehouse.rglob("*.tmp")]
    assert not left, left


@pytest.mark.service
@pytest.mark.parametrize(
    "fields",
    [{"end": "1960-01-01"}, {"index": "BTC_USD"}],
    ids=["end-1960", "index-BTC_USD"],
)
def test_settings_that_once_crashed_publish_a_consistent_folder_of_their_own(tmp_path, fields):
    """`end: 1960-01-01` (once a DateParseError, then "study sample is empty") and `index:
    BTC_USD` (once a KeyError) run to a consistent report folder of their own."""
    import yaml

    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"resources": {"study_settings": {"config": fields}}}))
    reports, warehouse = tmp_path / "reports", tmp_path / "warehouse"
    proc = start_run(reports, warehouse, "--config", str(config))
    _out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    (folder,) = [p for p in reports.iterdir() if not p.name.startswith(".")]
    assert "--" in folder.name and not (reports / "latest").exists()
    assert_consistent_report(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {f"study.{k}": v for k, v in fields.items()}.items() <= manifest[
        "changed_parameters"
    ].items()
