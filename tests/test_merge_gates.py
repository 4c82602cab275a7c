"""The incremental merge's gates one by one (eventlab.data.merge_gates): each blocks its own kind
of suspicious update with BlockedUpdateError and lets a sane one through. Unit tier: plain frames."""

import numpy as np
import pandas as pd
import pytest
from yf_fakes import ohlcv_frame

from eventlab.data import merge_gates as g
from eventlab.data.merge_gates import BlockedUpdateError

DATES = pd.bdate_range("2026-08-03", periods=12)  # Mon 2026-08-03 .. Tue 2026-08-18, all sessions
AFTER = pd.Timestamp("2026-09-01 12:00", tz="America/New_York")  # every DATES session has closed


STORED = ohlcv_frame(DATES[:10], np.linspace(100, 109, 10))


def test_check_not_empty():
    for empty in (None, STORED.iloc[0:0]):
        with pytest.raises(
            BlockedUpdateError, match="S: update blocked - the fetch returned no rows"
        ):
            g.check_not_empty(empty, "S")
    g.check_not_empty(STORED, "S")


def test_check_columns_present():
    with pytest.raises(BlockedUpdateError, match=r"fetched frame lost column\(s\) \['volume'\]"):
        g.check_columns_present(STORED.drop(columns="volume"), "S")
    g.check_columns_present(STORED, "S")


def test_check_duplicates_agree():
    twice = pd.concat([STORED, STORED.iloc[[3]]])
    assert g.check_duplicates_agree(twice, "S").equals(STORED)  # identical copies: one kept, sorted
    bad = twice.copy()
    bad.iloc[-1, bad.columns.get_loc("close")] = 1.0
    with pytest.raises(BlockedUpdateError, match=r"S: update blocked - 1 date\(s\) appear twice"):
        g.check_duplicates_agree(bad, "S")


def test_drop_unclosed():
    now = pd.Timestamp("2026-08-14 12:00", tz="America/New_York")  # Friday, mid-session
    kept, dropped = g.drop_unclosed(ohlcv_frame(DATES[:10], np.arange(10) + 100.0), "NYSE", now)
    assert dropped == ["2026-08-14"] and kept.index[-1] == DATES[8]


def test_check_session_dates():
    weekend = pd.Timestamp("2026-08-08")  # a Saturday
    with_value = pd.concat([STORED, ohlcv_frame([weekend], [104.5])]).sort_index()
    with pytest.raises(BlockedUpdateError, match=r"not NYSE sessions.*2026-08-08 \(Saturday\)"):
        g.check_session_dates(with_value, "S", "NYSE")
    empty_row = with_value.copy()
    empty_row.loc[weekend] = np.nan
    assert g.check_session_dates(empty_row, "S", "NYSE").equals(STORED)


def test_check_closed_session_left():
    with pytest.raises(BlockedUpdateError, match="the fetch has no row for a closed session"):
        g.check_closed_session_left(STORED.iloc[0:0], "S")
    g.check_closed_session_left(STORED, "S")


def test_check_recent_columns_kept():
    fetched = ohlcv_frame(DATES[7:], np.linspace(107, 111, 5))
    fetched["volume"] = np.nan
    with pytest.raises(
        BlockedUpdateError, match=r"lost column\(s\) \['volume'\] \(all values missing"
    ):
        g.check_recent_columns_kept(STORED, fetched, "S")
    g.check_recent_columns_kept(STORED.iloc[0:0], fetched, "S")  # nothing stored: nothing lost


def test_check_overlap():
    with pytest.raises(BlockedUpdateError, match="no overlap between stored rows"):
        g.check_overlap(STORED.iloc[:5], ohlcv_frame(DATES[7:], [1.0] * 5), "S")
    assert list(g.check_overlap(STORED, ohlcv_frame(DATES[8:], [1.0] * 4), "S")) == list(
        DATES[8:10]
    )


def test_check_not_shifted():
    stored = ohlcv_frame(DATES[:10], [100, 103, 101, 106, 104, 108, 105, 110, 107, 112])
    shifted = ohlcv_frame(DATES[5:11], stored["close"].iloc[4:10])  # each close one session late
    with pytest.raises(BlockedUpdateError, match=r"shifted by \+1 session"):
        g.check_not_shifted(stored, shifted, "S")
    g.check_not_shifted(stored, stored.iloc[5:], "S")


def test_check_seam_factor():
    ratio = pd.Series(0.99, index=DATES[7:10])
    with pytest.raises(BlockedUpdateError, match=r"factor 0.990000 over 3 sessions and the series"):
        g.check_seam_factor(ratio, 3, "S", adjusted=False, allow_any_rescale=False)
    with pytest.raises(BlockedUpdateError, match=r"factor outside \(0.8, 1.0001\) \(split\?\)"):
        g.check_seam_factor(ratio * 0.5, 3, "S", adjusted=True, allow_any_rescale=False)
    assert g.check_seam_factor(ratio, 3, "S", adjusted=True, allow_any_rescale=False) == 0.99
    assert g.check_seam_factor(ratio * 0.5, 3, "S", adjusted=False, allow_any_rescale=True) == 0.495
    assert g.check_seam_factor(pd.Series(1.0, index=DATES[7:10]), 3, "S", False, False) is None


def test_partial_bar_dates_and_check_seam_revision():
    fetched = STORED.iloc[7:].copy()
    fetched.loc[DATES[9], "close"] *= 1.05  # a 5% revision of the last stored close
    ratio = g.overlap_ratio(STORED, fetched, DATES[7:10])
    assert g.partial_bar_dates(ratio, None, STORED, fetched, [], "NYSE") == set()
    with pytest.raises(BlockedUpdateError, match=r"close on 2026-08-14 revised by 5.00%"):
        g.check_seam_revision(ratio, None, set(), STORED, fetched, "S", allow_any_rescale=False)
    g.check_seam_revision(ratio, None, set(), STORED, fetched, "S", allow_any_rescale=True)
    g.check_seam_revision(ratio, None, {DATES[9]}, STORED, fetched, "S", allow_any_rescale=False)
    # the stored row was fetched mid-session: its revision is the real close, not a red flag
    spans = [{"source": "x", "first": "2026-08-14", "last": "2026-08-14",
              "fetched_utc": "2026-08-14T15:00:00+00:00"}]  # fmt: skip
    assert g.partial_bar_dates(ratio, None, STORED, fetched, spans, "NYSE") == {DATES[9]}


def test_count_revisions():
    fetched = STORED.iloc[7:].copy()
    fetched.loc[DATES[8], "high"] = 200.0
    dates, examples = g.count_revisions(STORED, fetched, DATES[7:10])
    assert dates == {DATES[8]} and examples[0]["column"] == "high" and examples[0]["fetched"] == 200


def test_check_new_rows_complete():
    new = ohlcv_frame(DATES[10:], [110.0, 111.0])
    new.loc[DATES[11], "volume"] = np.nan
    with pytest.raises(
        BlockedUpdateError, match="new rows lack fields.*volume missing on 2026-08-18"
    ):
        g.check_new_rows_complete(STORED, new, "S")
    g.check_new_rows_complete(STORED, new.iloc[:1], "S")


def test_touched_dates_keep_the_recent_end_on_a_first_fetch():
    assert len(g.touched_dates(DATES, {DATES[0]}, first_fetch=True)) == g.DEFAULT_OVERLAP
    assert len(g.touched_dates(DATES[10:], {DATES[3]}, first_fetch=False)) == 3


def test_check_touched_ohlc():
    merged = STORED.copy()
    merged.loc[DATES[9], "high"] = 50.0
    with pytest.raises(BlockedUpdateError, match=r"fail OHLC checks \{'high_below_body': 1\}"):
        g.check_touched_ohlc(merged, DATES[9:10], "S")
    g.check_touched_ohlc(merged, DATES[:9], "S")  # the bad row is not new or revised


def test_check_daily_move():
    merged = STORED.copy()
    merged.loc[DATES[9], ["open", "high", "low", "close"]] = 150.0
    with pytest.raises(
        BlockedUpdateError, match=r"one-day move of 38.9% on 2026-08-14.*25% limit for a"
    ):
        g.check_daily_move(merged, DATES[9:10], "S", "index", 0.25)
    g.check_daily_move(merged, DATES[9:10], "S", "stock", 0.60)


def test_check_no_shrink():
    with pytest.raises(BlockedUpdateError, match="merge would shrink history"):
        g.check_no_shrink(STORED.iloc[:5], 10, "S")
    g.check_no_shrink(STORED, 10, "S")
