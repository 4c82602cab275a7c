"""Incremental refresh: plain merge logic, then the daily price asset end to end in Dagster
with a fake Yahoo (no network): only the missing sessions plus an overlap are fetched, the
history never shrinks, revisions are reported and an unchanged refresh keeps its data version."""

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from yf_fakes import FakeYahoo, live_history, ohlcv_frame, sessions_after

from eventlab.data import yahoo
from eventlab.data.frames import OHLCV
from eventlab.data.incremental import BlockedUpdateError, frame_hash, merge_incremental, plan_fetch
from eventlab.data.snapshot import read_series
from pipelines.io import ParquetIOManager
from pipelines.resources import PriceSource
from pipelines.stages.market_data import daily_prices, price_key

DATES = pd.bdate_range("2026-08-03", periods=12)


def test_plan_fetch_starts_overlap_sessions_before_end():
    stored = ohlcv_frame(DATES[:10], np.arange(10) + 100)
    assert plan_fetch(stored, pd.Timestamp("1990-01-01").date(), overlap=3) == DATES[7].date()
    assert plan_fetch(None, pd.Timestamp("1990-01-01").date()) == pd.Timestamp("1990-01-01").date()
    with pytest.raises(ValueError, match="overlap"):
        plan_fetch(stored, pd.Timestamp("1990-01-01").date(), overlap=0)


def test_merge_appends_without_duplicates_and_reports_revisions():
    stored = ohlcv_frame(DATES[:10], np.linspace(100, 109, 10))
    fetched = ohlcv_frame(DATES[7:], np.linspace(107, 111, 5))
    fetched.loc[DATES[8], "close"] = 108.3  # a revision inside the overlap (0.2%)
    fetched.loc[DATES[8], "high"] = 109.5
    merged, rep = merge_incremental(stored, fetched, series="GSPC")
    assert merged.index.is_unique and merged.index.is_monotonic_increasing
    assert len(merged) == 12 and rep.new_rows == 2 and rep.revised_rows >= 1
    assert merged.loc[DATES[8], "close"] == 108.3  # the fetched (revised) value wins
    assert rep.revised_examples[0]["date"] == DATES[8].date().isoformat()
    meta = rep.to_metadata()
    assert meta["incremental/new_rows"] == 2 and "108.3" in meta["incremental/revised_examples"]


def test_merge_never_shrinks_history():
    stored = ohlcv_frame(DATES[:10], np.linspace(100, 109, 10))
    fetched = ohlcv_frame(DATES[[7, 9]], [107.0, 109.0])  # the source lost session 8
    merged, rep = merge_incremental(stored, fetched, series="GSPC")
    assert len(merged) == 10 and DATES[8] in merged.index and rep.kept_missing_in_fetch == 1


def test_identical_refetch_changes_nothing():
    stored = ohlcv_frame(DATES[:10], np.linspace(100, 109, 10))
    merged, rep = merge_incremental(stored, stored.iloc[-5:].copy(), series="GSPC")
    assert not rep.changed and frame_hash(merged) == frame_hash(stored)


def test_dividend_readjustment_rescales_adjusted_series():
    stored = ohlcv_frame(DATES[:10], np.linspace(100, 109, 10))
    f = 0.9931  # a new ex-dividend date: Yahoo re-adjusts every earlier close by one factor
    fetched = ohlcv_frame(DATES[7:], np.r_[np.linspace(107, 109, 3) * f, [109.5, 110.0]])
    merged, rep = merge_incremental(stored, fetched, series="SPY", kind="etf", adjusted=True)
    assert rep.rescale_factor == pytest.approx(f)
    assert merged.loc[DATES[0], "close"] == pytest.approx(100 * f)
    assert merged["close"].pct_change().abs().max() < 0.02  # no seam left behind


def test_constant_shift_on_an_index_is_blocked():
    stored = ohlcv_frame(DATES[:10], np.linspace(100, 109, 10))
    fetched = ohlcv_frame(DATES[7:], np.linspace(107, 111, 5) * 0.99)
    with pytest.raises(
        BlockedUpdateError,
        match=r"GSPC: update blocked - level discontinuity at the seam.*not adjusted",
    ):
        merge_incremental(stored, fetched, series="GSPC", kind="index")


def test_frame_hash_tracks_content():
    a = ohlcv_frame(DATES[:5], [1, 2, 3, 4, 5])
    b = a.copy()
    assert frame_hash(a) == frame_hash(b)
    b.iloc[2, 3] = 3.0000001
    assert frame_hash(a) != frame_hash(b)


# ---- end to end through Dagster -------------------------------------------------------------


def materialize_prices(tmp_path, keys=("GSPC",), **source_kw):
    instance = source_kw.pop("instance", None) or dg.DagsterInstance.ephemeral()
    src = PriceSource(mode="yfinance", backoff_s=0, retries=1, **source_kw)
    res = dg.materialize(
        [daily_prices],
        selection=[price_key(k) for k in keys],
        instance=instance,
        resources={"io_manager": ParquetIOManager(base_dir=str(tmp_path)), "price_source": src},
        raise_on_error=False,
    )
    return res, instance


def _version(instance, key):
    ev = instance.get_latest_materialization_event(price_key(key))
    return ev.asset_materialization.tags["dagster/data_version"], ev.asset_materialization.metadata


@pytest.mark.graph
def test_asset_refresh_is_incremental_and_data_version_stable(tmp_path, monkeypatch):
    live = live_history("GSPC", 5)
    fake = FakeYahoo("^GSPC", default=live)
    monkeypatch.setattr(yahoo, "_yf_download", fake)

    res, instance = materialize_prices(tmp_path)
    assert res.success
    stored = pd.read_parquet(tmp_path / "prices" / "GSPC.parquet")
    snap = read_series("GSPC")
    assert len(stored) == len(snap) + 5 and list(stored.columns) == list(OHLCV)
    # first live run: incremental from the shipped snapshot, 10-session overlap
    assert fake.calls[0]["start"] == snap.index[-10].date().isoformat()
    v1, meta1 = _version(instance, "GSPC")
    assert meta1["incremental/new_rows"].value == 5 and meta1["served_by"].value == "yfinance"

    # second run, nothing new at the source: same data version, nothing revised
    res, _ = materialize_prices(tmp_path, instance=instance)
    assert res.success
    assert fake.calls[1]["start"] == stored.index[-10].date().isoformat()
    v2, meta2 = _version(instance, "GSPC")
    assert (
        v2 == v1
        and meta2["incremental/new_rows"].value == 0
        and meta2["incremental/revised_rows"].value == 0
    )

    # third run: the source revised yesterday's close slightly and added a day
    revised = live.copy()
    revised.iloc[-1, revised.columns.get_loc("close")] *= 1.0005  # still inside [low, high]
    nxt = sessions_after(str(live.index[-1].date()), 1)[0]
    revised.loc[pd.Timestamp(nxt).tz_localize(None)] = revised.iloc[-1] * [1, 1.001, 0.999, 1, 1]
    fake.default = revised
    res, _ = materialize_prices(tmp_path, instance=instance)
    assert res.success
    v3, meta3 = _version(instance, "GSPC")
    assert (
        v3 != v1
        and meta3["incremental/new_rows"].value == 1
        and meta3["incremental/revised_rows"].value == 1
    )
    assert "close" in meta3["incremental/revised_examples"].value
    assert len(pd.read_parquet(tmp_path / "prices" / "GSPC.parquet")) == len(snap) + 6
