"""Issue 10, group 1: bad rows never replace good rows in the refresh.

Each case feeds the real refresh (fake yfinance under the real adapter, the daily price asset,
the Parquet IO manager) a frame that is wrong in one way a source can be wrong. Either the bad
rows are refused - the stored file stays byte-for-byte, the message names the series, the cause
and the recovery, and the next run with a sane source goes through by itself - or, where the
right answer is unambiguous (a timezone-shifted index, a missing value over a stored one, an
unfinished bar), it is normalized and nothing stored loses a value.
"""

import numpy as np
import pandas as pd
import pytest
from refresh_helpers import bad_then_recover, failure_text, run_prices
from yf_fakes import live_history, sessions_after

from eventlab.data import yahoo
from eventlab.data.incremental import BlockedUpdateError, merge_incremental
from eventlab.data.rows import detect_shift, unclosed_mask

NY = "America/New_York"


def _stored(path) -> pd.DataFrame:
    return pd.read_parquet(path)


def _meta(res, key="GSPC"):
    (mat,) = [
        m
        for m in res.asset_materializations_for_node("daily_prices")
        if m.asset_key.path[-1] == key
    ]
    return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}


# ---- missing values ---------------------------------------------------------------------------


@pytest.mark.parametrize("cols", [["high", "low"], ["volume"]], ids=["high-low", "volume"])
def test_nan_in_the_overlap_never_replaces_a_stored_value(tmp_path, good_run, cols):
    path, _, fake = good_run
    before = _stored(path)
    feed = live_history("GSPC", 4)
    overlap = feed.index[-9:-1]  # 8 sessions the warehouse already holds
    feed.loc[overlap, cols] = np.nan
    fake.default = feed
    res = run_prices(tmp_path)
    assert res.success
    after = _stored(path)
    pd.testing.assert_frame_equal(after.loc[overlap, cols], before.loc[overlap, cols])
    assert after[cols].loc[overlap].notna().all().all()
    assert _meta(res)["incremental/nan_kept_stored"] == 8 * len(cols)
    assert after.index[-1] == feed.index[-1]  # the new session still arrived


def test_a_new_row_missing_a_field_the_series_has_is_refused(tmp_path, good_run):
    feed = live_history("GSPC", 4)
    feed.iloc[-1, feed.columns.get_loc("volume")] = np.nan
    msg = bad_then_recover(tmp_path, good_run, feed, "volume missing on")
    assert feed.index[-1].date().isoformat() in msg


# ---- dates ------------------------------------------------------------------------------------


def test_a_frame_shifted_by_one_session_is_refused(tmp_path, good_run):
    feed = live_history("GSPC", 3)
    later = sessions_after(str(feed.index[-1].date()), 1).tz_localize(None)
    feed.index = pd.DatetimeIndex([*feed.index[1:], later[0]], name="date")  # every date +1
    msg = bad_then_recover(tmp_path, good_run, feed, "shifted by +1 session")
    assert "Recovery" in msg and "full_refresh: true" in msg


def test_an_index_in_another_timezone_is_read_in_new_york_time(tmp_path, good_run):
    path, _, fake = good_run
    feed = live_history("GSPC", 4)
    hawaii = feed.copy()
    hawaii.index = feed.index.tz_localize(NY).tz_convert("Pacific/Honolulu")  # 18:00 the day before
    fake.default = hawaii
    assert run_prices(tmp_path).success
    after = _stored(path)
    assert after.index.tz is None and after.index[-1] == feed.index[-1]
    pd.testing.assert_frame_equal(after.tail(14), feed.tail(14), check_freq=False)


def test_weekend_rows_with_values_are_refused(tmp_path, good_run):
    feed = live_history("GSPC", 4)
    sat = feed.index[-1] + pd.offsets.Week(weekday=5)
    extra = pd.DataFrame([feed.iloc[-1]] * 2, index=[sat, sat + pd.Timedelta(days=1)])
    bad = pd.concat([feed, extra]).sort_index()
    msg = bad_then_recover(tmp_path, good_run, bad, "not NYSE sessions", "Saturday")
    assert "Sunday" in msg


def test_an_empty_holiday_row_is_dropped_not_stored(tmp_path, good_run):
    path, _, fake = good_run
    feed = live_history("GSPC", 4)
    sunday = feed.index[-1] + pd.offsets.Week(weekday=6)
    feed.loc[sunday] = np.nan
    fake.default = feed.sort_index()
    assert run_prices(tmp_path).success
    assert sunday not in _stored(path).index


def test_a_duplicated_date_with_different_values_is_refused(tmp_path, good_run):
    feed = live_history("GSPC", 4)
    copy = feed.tail(1) * [1.10, 1.10, 1.10, 1.10, 1]  # the same date again, 10% higher
    bad = pd.concat([feed, copy])
    msg = bad_then_recover(tmp_path, good_run, bad, "appear twice with different values")
    assert str(feed.index[-1].date()) in msg


def test_a_duplicated_identical_row_is_harmless(tmp_path, good_run):
    path, _, fake = good_run
    feed = live_history("GSPC", 4)
    fake.default = pd.concat([feed, feed.tail(1)])
    assert run_prices(tmp_path).success
    assert _stored(path).index.is_unique and _stored(path).index[-1] == feed.index[-1]


# ---- unfinished sessions ----------------------------------------------------------------------


def test_an_unfinished_bar_followed_by_a_later_row_is_not_stored(tmp_path, good_run, monkeypatch):
    path, _, fake = good_run
    feed = live_history("GSPC", 6)  # the warehouse holds 3 of these sessions
    today = feed.index[-2]  # fetched at 14:00 on this session: its bar is partial
    monkeypatch.setattr(yahoo, "_now", lambda: pd.Timestamp(f"{today.date()} 14:00", tz=NY))
    fake.default = feed  # ... and the source also sent the next session's row
    assert run_prices(tmp_path).success
    after = _stored(path)
    assert today not in after.index and feed.index[-1] not in after.index
    assert after.index[-1] == feed.index[-3]


def test_unclosed_mask_judges_every_row_with_early_closes():
    idx = pd.DatetimeIndex(["2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"])
    before = unclosed_mask(idx, "NYSE", pd.Timestamp("2026-11-27 12:30", tz=NY))
    after = unclosed_mask(idx, "NYSE", pd.Timestamp("2026-11-27 13:05", tz=NY))  # 13:00 close
    assert before.tolist() == [False, False, True, True]
    assert after.tolist() == [False, False, False, True]
    utc = unclosed_mask(idx, "24/7", pd.Timestamp("2026-11-27 23:00", tz="UTC"))
    assert utc.tolist() == [False, False, True, True]


def test_merge_drops_an_unfinished_bar_even_if_the_adapter_did_not():
    days = pd.DatetimeIndex(["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27"])
    frame = pd.DataFrame(
        {"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0, "volume": 1e6}, index=days
    )
    merged, rep = merge_incremental(
        frame.iloc[:3],
        frame.iloc[1:],
        series="GSPC",
        now=pd.Timestamp("2026-11-27 12:59", tz=NY),
    )
    assert merged.index[-1] == days[2] and rep.dropped_unclosed == ["2026-11-27"]


# ---- recovery from a partial bar an older version stored --------------------------------------


def _store_partial(path, feed: pd.DataFrame, move: float) -> pd.Timestamp:
    """Overwrite the stored last session with a partial-looking bar (old code path)."""
    stored = _stored(path)
    last = feed.index[-2]
    real = feed.loc[last]
    partial = real.copy()
    partial["close"] = real["close"] * (1 + move)
    partial["high"] = max(real["open"], partial["close"]) * 1.0005
    partial["low"] = min(real["open"], partial["close"]) * 0.9995
    partial["volume"] = real["volume"] * 0.4
    stored = pd.concat([stored[stored.index < last], partial.to_frame().T])
    stored.index.name = "date"
    stored.to_parquet(path)
    return last


def test_a_stored_partial_bar_is_replaced_by_the_final_bar_automatically(tmp_path, good_run):
    path, _, fake = good_run
    feed = live_history("GSPC", 4)
    feed.loc[feed.index[-2], ["high", "low"]] = (
        feed.loc[feed.index[-2], ["high", "low"]] * [1.03, 0.97]  # the final range is wider
    )
    last = _store_partial(path, feed, move=0.0269)  # "revised by 2.69%" in the issue
    fake.default = feed
    res = run_prices(tmp_path)
    assert res.success, failure_text(res)
    assert _meta(res)["incremental/replaced_partial"] == last.date().isoformat()
    assert _stored(path).loc[last, "close"] == feed.loc[last, "close"]


def test_a_real_large_revision_is_blocked_and_full_refresh_accepts_it(tmp_path, good_run):
    path, before, fake = good_run
    feed = live_history("GSPC", 4)
    feed.loc[feed.index[-3], ["open", "high", "low", "close"]] *= 1.03  # a genuine revision
    fake.default = feed
    res = run_prices(tmp_path)
    assert not res.success and path.read_bytes() == before
    msg = failure_text(res)
    assert "revised by 3.00%" in msg and "full_refresh: true" in msg
    res = run_prices(tmp_path, full_refresh=True)
    assert res.success and _stored(path).loc[feed.index[-3], "close"] == feed["close"].iloc[-3]


def test_a_stored_bar_fetched_before_its_close_is_recognised_by_provenance():
    days = pd.DatetimeIndex(pd.bdate_range("2026-08-03", periods=6), name="date")
    base = pd.DataFrame(
        {"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0, "volume": np.nan}, index=days
    )
    stored = base.copy()
    stored.loc[days[-1], "close"] = 97.0  # 3% off: no volume, so only provenance can tell
    stored.loc[days[-1], "low"] = 96.0
    stored.attrs["provenance"] = [
        {"source": "yfinance", "first": "2026-08-03", "last": "2026-08-10",
         "fetched_utc": "2026-08-10T18:00:00+00:00"},  # 14:00 New York: before the close
    ]  # fmt: skip
    merged, rep = merge_incremental(stored, base, series="GSPC", now=pd.Timestamp("2026-09-01"))
    assert rep.replaced_partial == ["2026-08-10"] and merged.loc[days[-1], "close"] == 100.0
    stored.attrs["provenance"][0]["fetched_utc"] = "2026-08-10T22:00:00+00:00"  # after the close
    with pytest.raises(BlockedUpdateError, match="revised by 3.09%"):
        merge_incremental(stored, base, series="GSPC", now=pd.Timestamp("2026-09-01"))


def test_detect_shift_ignores_flat_stretches():
    idx = pd.DatetimeIndex(pd.bdate_range("2026-08-03", periods=10))
    flat = pd.Series(100.0, index=idx)
    assert detect_shift(flat, flat.iloc[4:]) == 0
    moving = pd.Series(np.linspace(100, 110, 10), index=idx)
    shifted = pd.Series(moving.iloc[3:9].to_numpy(), index=idx[4:10])
    assert detect_shift(moving, shifted) == 1
