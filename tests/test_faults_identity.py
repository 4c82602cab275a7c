"""Stored series are checked against their own identity when read, not only when refreshed
(issue 23 item 6): a price file copied over another series' file, rows on days the exchange is
closed that the shipped data does not have, levels that jump between two series, and negative
volume are each refused with their violation counts; a refreshed row with negative volume is
never stored."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from eventlab.config import CONFIG
from eventlab.data import snapshot
from eventlab.data.frames import StoredFileError, normalize_ohlcv
from eventlab.data.incremental import merge_incremental
from eventlab.data.merge_gates import BlockedUpdateError
from eventlab.data.quality import (
    IDENTITY_BAND,
    MAX_LEVEL_JUMP,
    identity_violations,
    level_jumps,
    price_check_results,
)
from pipelines.definitions import default_resources
from pipelines.io import ParquetIOManager
from pipelines.resources import PriceSource
from pipelines.stages.market_data import daily_prices, price_key

GSPC = CONFIG.series("GSPC")


def shipped(key: str) -> pd.DataFrame:
    return normalize_ohlcv(snapshot.read_series(key), key, calendar=CONFIG.series(key).calendar)


def brute_jumps(close: pd.Series) -> int:
    """Reference twin of level_jumps: a plain loop over consecutive positive closes."""
    values = [float(v) for v in close if v == v and v > 0]
    return sum(
        1
        for a, b in zip(values, values[1:], strict=False)
        if b / a > MAX_LEVEL_JUMP or b / a < 1 / MAX_LEVEL_JUMP
    )


@pytest.mark.parametrize("seed", range(5))
def test_level_jumps_agrees_with_a_plain_loop(seed):
    rng = np.random.default_rng(seed)
    close = pd.Series(np.exp(rng.normal(0, 0.9, 300)) * 100)
    close[rng.integers(0, 300, 10)] = np.nan
    frame = pd.DataFrame({"close": close})
    assert level_jumps(frame) == brute_jumps(close)


def test_every_shipped_series_is_its_own_identity():
    for s in CONFIG.daily:
        frame = shipped(s.key)
        assert identity_violations(frame, s, frame) == {}, s.key
        checks = {n: (ok, m) for n, ok, _sev, m in price_check_results(frame, s, "snapshot")}
        assert checks["ohlcv_valid"][0], (s.key, checks["ohlcv_valid"][1])


def test_vix_copied_over_gspc_is_named_with_its_counts():
    vix, gspc = shipped("VIX"), shipped("GSPC")
    found = identity_violations(vix, GSPC, gspc)
    shared = vix.index.intersection(gspc.index)
    median = float((vix.loc[shared, "close"] / gspc.loc[shared, "close"]).median())
    assert not IDENTITY_BAND[0] <= median <= IDENTITY_BAND[1]
    assert found["median_level_vs_snapshot"] == round(median, 6)
    assert found["shared_dates"] == len(shared)
    # VIX's rows on NYSE holidays are not in the shipped GSPC: each is counted
    closed = [d for d in vix.index.difference(gspc.index) if d.weekday() < 5 and d >= gspc.index[0]]
    assert found["rows_on_closed_days"] >= 1 and found["rows_on_closed_days"] <= len(closed)


def test_rows_of_another_series_mixed_in_and_negative_volume_are_counted():
    gspc = shipped("GSPC").iloc[-300:].copy()
    mixed = gspc.copy()
    mixed.iloc[100, mixed.columns.get_loc("close")] = 16.59  # one VIX close between GSPC closes
    mixed.iloc[[5, 6, 7], mixed.columns.get_loc("volume")] = -5e8
    found = identity_violations(mixed, GSPC, None)
    assert found["level_jumps"] == 2 == brute_jumps(mixed["close"])  # down into it, up out of it
    assert found["negative_volume"] == 3
    checks = {n: (ok, m) for n, ok, _sev, m in price_check_results(mixed, GSPC, "warehouse")}
    ok, meta = checks["ohlcv_valid"]
    assert ok is False and meta["negative_volume"] == 3 and meta["level_jumps"] == 2
    assert meta["rule/nonnegative_volume"] == "FAIL" and meta["rule/continuous_levels"] == "FAIL"


def test_a_weekday_holiday_row_absent_from_the_snapshot_is_refused_on_read(tmp_path):
    io = ParquetIOManager(base_dir=str(tmp_path))
    gspc = shipped("GSPC")
    holiday = pd.Timestamp("2025-12-25")  # a Thursday; NYSE closed
    extra = gspc.iloc[[-1]].copy()
    extra.index = pd.DatetimeIndex([holiday], name="date")
    stored = pd.concat([gspc, extra]).sort_index()
    path = tmp_path / "prices" / "GSPC.parquet"
    path.parent.mkdir(parents=True)
    stored.to_parquet(path)
    with pytest.raises(StoredFileError) as err:
        io.load_input(dg.build_input_context(asset_key=price_key("GSPC")))
    msg = str(err.value)
    assert str(path) in msg and "1 row(s) on days NYSE is closed (first 2025-12-25)" in msg
    assert "re-materialize prices/GSPC" in msg


def offline(warehouse):
    """The offline price step for GSPC and VIX into `warehouse`."""
    return dg.materialize(
        [daily_prices],
        selection=[price_key("GSPC"), price_key("VIX")],
        instance=dg.DagsterInstance.ephemeral(),
        resources=default_resources(
            io_manager=ParquetIOManager(base_dir=str(warehouse)),
            price_source=PriceSource(mode="snapshot"),
        ),
        raise_on_error=False,
    )


@pytest.mark.graph
def test_vix_file_over_gspc_is_moved_aside_and_gspc_rebuilt_on_the_next_run(tmp_path):
    assert offline(tmp_path).success
    prices = tmp_path / "prices"
    (prices / "GSPC.parquet").write_bytes((prices / "VIX.parquet").read_bytes())
    res = offline(tmp_path)
    assert res.success
    (aside,) = list(prices.glob("GSPC.parquet.invalid-*"))
    assert aside.read_bytes() == (prices / "VIX.parquet").read_bytes()  # kept, not deleted
    served = pd.read_parquet(prices / "GSPC.parquet")
    gspc = shipped("GSPC")
    assert served.index.equals(gspc.index)  # not one VIX row on an NYSE holiday
    assert np.allclose(served["close"], gspc["close"])
    mats = {m.asset_key.path[-1]: m for m in res.asset_materializations_for_node("daily_prices")}
    problem = mats["GSPC"].metadata["stored_file_problem"].value
    assert "not a sound GSPC series" in problem and "times the shipped GSPC closes" in problem


def test_a_refreshed_row_with_negative_volume_is_blocked():
    stored = shipped("GSPC").iloc[-40:]
    fetched = stored.iloc[-10:].copy()
    new_day = pd.Timestamp("2026-08-21")
    row = stored.iloc[[-1]].copy()
    row.index = pd.DatetimeIndex([new_day], name="date")
    row["volume"] = -5e8
    fetched = pd.concat([fetched, row])
    with pytest.raises(BlockedUpdateError, match=r"negative_volume': 1"):
        merge_incremental(
            stored,
            fetched,
            series="GSPC",
            kind="index",
            now=pd.Timestamp(dt.datetime(2026, 8, 24, 12), tz="America/New_York"),
        )


@pytest.mark.graph
def test_a_stored_negative_volume_row_is_moved_aside_and_rebuilt(tmp_path):
    assert offline(tmp_path).success
    path = tmp_path / "prices" / "GSPC.parquet"
    frame = pd.read_parquet(path)
    frame.iloc[-1, frame.columns.get_loc("volume")] = -5e8
    frame.to_parquet(path)
    res = offline(tmp_path)
    assert res.success
    assert list(path.parent.glob("GSPC.parquet.invalid-*"))
    assert (pd.read_parquet(path)["volume"] >= 0).all()
