"""Issue 10, groups 2, 4 and 8: history never shrinks through any command; every snapshot file
is verified against its manifest before anything is written; stored files of the wrong shape
(and a damaged Dagster instance) say which file or service, what is wrong and what to do, and
one bad stored series never stops the others."""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from refresh_helpers import ROOT, run_prices
from yf_fakes import FakeYahoo, live_history

from commands.instance import InstanceStorageError, check_instance
from eventlab.data import snapshot, yahoo
from eventlab.data.frames import StoredFileError
from eventlab.data.provenance import provenance
from pipelines.definitions import default_resources
from pipelines.io import ParquetIOManager
from pipelines.resources import PriceSource
from pipelines.stages.market_data import daily_prices, price_key, reference_tables
from pipelines.stages.publish import report_as_of


def _offline(tmp_path, keys=("GSPC",), assets=(daily_prices,), **src):
    return dg.materialize(
        list(assets),
        selection=[price_key(k) for k in keys] + [a.key for a in assets if a is report_as_of],
        instance=dg.DagsterInstance.ephemeral(),
        resources=default_resources(
            io_manager=ParquetIOManager(base_dir=str(tmp_path)),
            price_source=PriceSource(mode="snapshot", **src),
        ),
        raise_on_error=False,
    )


# ---- group 2: history never shrinks -----------------------------------------------------------


def test_an_offline_run_after_a_live_refresh_keeps_the_refreshed_rows(tmp_path, good_run):
    path, before, _ = good_run
    refreshed = pd.read_parquet(path)
    res = _offline(tmp_path, assets=(daily_prices, report_as_of))
    assert res.success
    after = pd.read_parquet(path)
    pd.testing.assert_frame_equal(after, refreshed)  # not a row, not a value lost
    as_of = pd.read_parquet(tmp_path / "report_as_of.parquet")["as_of"].iloc[0]
    assert as_of == refreshed.index[-1] > snapshot.read_series("GSPC").index[-1]
    (mat,) = [m for m in res.asset_materializations_for_node("daily_prices")]
    assert mat.metadata["served_by"].value == "warehouse"
    spans = provenance(after)
    assert [s["source"] for s in spans] == ["snapshot", "yfinance"]


@pytest.mark.graph
def test_an_offline_run_extends_a_shorter_warehouse_from_the_snapshot(tmp_path):
    snap = snapshot.read_series("GSPC")
    path = tmp_path / "prices" / "GSPC.parquet"
    path.parent.mkdir(parents=True)
    snap.iloc[:-30].to_parquet(path)  # an older warehouse: 30 sessions behind the snapshot
    assert _offline(tmp_path).success
    pd.testing.assert_frame_equal(pd.read_parquet(path), snap, check_freq=False)


@pytest.mark.service
def test_make_run_after_a_live_refresh_keeps_rows_and_latest(tmp_path, good_run):
    """The issue's case end to end: `python -m commands.run` (snapshot mode, as `make run`)
    after a live refresh keeps the refreshed rows and publishes the newer as-of."""
    path, _, _ = good_run
    refreshed = pd.read_parquet(path)
    reports = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "commands.run", "--warehouse", str(tmp_path)]
        + ["--reports", str(reports), "--log-level", "ERROR"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    pd.testing.assert_frame_equal(pd.read_parquet(path), refreshed)
    manifest = json.loads((reports / "latest" / "manifest.json").read_text())
    assert manifest["as_of"][:10] == refreshed.index[-1].date().isoformat()


# ---- group 4: the snapshot is verified against its manifest ------------------------------------


@pytest.fixture
def snap_copy(tmp_path) -> Path:
    dest = tmp_path / "snapshot"
    shutil.copytree(snapshot.SNAPSHOT_DIR, dest)
    return dest


def _flip_two_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid] ^= 0x01
    data[mid + 7] ^= 0x01
    path.write_bytes(bytes(data))


def _run_all_roots(tmp_path, snap_root):
    warehouse = tmp_path / "warehouse"
    res = dg.materialize(
        [daily_prices, reference_tables],
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "io_manager": ParquetIOManager(base_dir=str(warehouse)),
            "price_source": PriceSource(mode="snapshot", snapshot_root=str(snap_root)),
        },
        raise_on_error=False,
    )
    return res, warehouse


def _run_error(res) -> str:
    errs = [getattr(e.event_specific_data, "error", None) for e in res.all_events]
    return " ".join(
        f"{e.message} {e.cause.message if e.cause else ''}" for e in errs if e is not None
    )


@pytest.mark.graph
def test_two_changed_bytes_stop_the_run_before_anything_is_written(tmp_path, snap_copy):
    _flip_two_bytes(snap_copy / "GSPC.parquet")
    res, warehouse = _run_all_roots(tmp_path, snap_copy)
    assert not res.success
    text = _run_error(res)
    assert "GSPC.parquet does not match its manifest checksum" in text
    assert "git checkout -- data/snapshot" in text and "make snapshot" in text
    assert not warehouse.exists() or not any(warehouse.rglob("*.parquet"))


@pytest.mark.parametrize(
    ("damage", "expect"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "not valid JSON"),
        (lambda p: p.write_text('{"series": []}'), "no 'series' list"),
        (lambda p: p.unlink(), "not found"),
    ],
    ids=["truncated", "empty", "missing"],
)
@pytest.mark.graph
def test_a_bad_manifest_stops_the_run_before_anything_is_written(
    tmp_path, snap_copy, damage, expect
):
    damage(snap_copy / "manifest.json")
    res, warehouse = _run_all_roots(tmp_path, snap_copy)
    assert not res.success
    text = _run_error(res)
    assert "manifest.json" in text and expect in text and "git checkout" in text
    assert not warehouse.exists() or not any(warehouse.rglob("*.parquet"))


def test_verification_is_cheap_and_cached(snap_copy):
    import time

    t0 = time.perf_counter()
    n = snapshot.verify_snapshot(snap_copy)
    first = time.perf_counter() - t0
    assert n == len(json.loads((snap_copy / "manifest.json").read_text())["series"])
    assert first < 2.0  # ~10 MB of sha256: tens of milliseconds on a quiet machine
    _flip_two_bytes(snap_copy / "aux" / "fed_target.parquet")  # new mtime/size key: re-hashed
    with pytest.raises(snapshot.SnapshotIntegrityError, match="fed_target.parquet"):
        snapshot.read_aux("fed_target", snap_copy)


# ---- group 8: stored files of the wrong shape --------------------------------------------------


def _two_series(monkeypatch):
    fakes = {
        "^GSPC": FakeYahoo("^GSPC", default=live_history("GSPC", 2)),
        "^VIX": FakeYahoo("^VIX", default=live_history("VIX", 2)),
    }
    monkeypatch.setattr(yahoo, "_yf_download", lambda t, **kw: fakes[t](t, **kw))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: snapshot.read_aux("fed_target").to_parquet(p),  # another table
        lambda p: pd.read_parquet(p).rename(columns={"volume": "vol"}).to_parquet(p),
        lambda p: p.write_bytes(p.read_bytes()[:200]),  # truncated
    ],
    ids=["other-table", "renamed-column", "truncated"],
)
@pytest.mark.graph
def test_a_bad_stored_series_is_moved_aside_and_the_others_refresh(tmp_path, monkeypatch, damage):
    _two_series(monkeypatch)
    assert run_prices(tmp_path, keys=("GSPC", "VIX")).success
    bad = tmp_path / "prices" / "GSPC.parquet"
    damage(bad)
    damaged = bad.read_bytes()
    res = run_prices(tmp_path, keys=("GSPC", "VIX"))
    assert res.success
    (aside,) = list(bad.parent.glob("GSPC.parquet.invalid-*"))
    assert aside.read_bytes() == damaged  # kept, not deleted
    mats = {m.asset_key.path[-1]: m for m in res.asset_materializations_for_node("daily_prices")}
    problem = mats["GSPC"].metadata["stored_file_problem"].value
    assert str(bad) in problem and str(aside) in problem and "rebuilt" in problem
    assert pd.read_parquet(bad).index[-1] == live_history("GSPC", 2).index[-1]
    assert set(mats) == {"GSPC", "VIX"}


def test_a_downstream_read_of_a_bad_price_file_names_the_file_and_fix(tmp_path):
    io = ParquetIOManager(base_dir=str(tmp_path))
    path = tmp_path / "prices" / "GSPC.parquet"
    path.parent.mkdir(parents=True)
    snapshot.read_aux("fed_target").to_parquet(path)
    ctx = dg.build_input_context(asset_key=price_key("GSPC"))
    with pytest.raises(StoredFileError) as err:
        io.load_input(ctx)
    msg = str(err.value)
    assert str(path) in msg and "not a price table" in msg and "re-materialize prices/GSPC" in msg
    assert path.exists()  # a reader never moves or deletes anything


@pytest.mark.service
def test_a_truncated_run_history_db_is_named_with_the_fix(tmp_path):
    db = tmp_path / "history" / "runs.db"
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.execute("create table runs (id integer primary key, body text)")
    con.executemany("insert into runs(body) values (?)", [("x" * 500,)] * 200)
    con.commit()
    con.close()
    db.write_bytes(db.read_bytes()[:6000])  # truncated mid-file
    with pytest.raises(InstanceStorageError) as err:
        check_instance(tmp_path)
    msg = str(err.value)
    assert (
        str(db) in msg and f"mv {db} {db}.bad" in msg and "data and reports are unaffected" in msg
    )
    proc = subprocess.run(
        [sys.executable, "-m", "commands.instance"],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and str(db) in proc.stderr


def test_a_lost_postgres_server_is_named_with_the_fix(tmp_path, monkeypatch):
    shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", tmp_path / "dagster.yaml")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for k, v in {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(port),
        "DAGSTER_PG_USER": "dagster",
        "DAGSTER_PG_PASSWORD": "x",
        "DAGSTER_PG_DB": "dagster",
    }.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(InstanceStorageError) as err:
        check_instance(tmp_path)
    msg = str(err.value)
    assert f"127.0.0.1:{port}" in msg and "start the server" in msg and "docs/operations.md" in msg


def test_a_sound_instance_passes(tmp_path):
    dg.DagsterInstance.local_temp(tempdir=str(tmp_path)).dispose()
    check_instance(tmp_path)
