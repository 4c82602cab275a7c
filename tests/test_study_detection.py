"""Event detection and open-quality flags agree with brute-force definitions."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import brute_force_events, brute_force_genuine

from eventlab.config import StudyParams
from eventlab.study.events import detect_events, event_table, study_flags
from eventlab.study.open_quality import open_quality_eras, open_quality_flags


def random_ohlc(seed: int, n: int, stale_share: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.012, n)))
    prev = np.concatenate([[close[0]], close[:-1]])
    open_ = prev * (1 + rng.normal(0, 0.01, n))
    stale = rng.random(n) < stale_share
    open_[stale] = prev[stale]  # stale opens, as in old index data
    high = np.maximum(open_, close) * (1 + rng.random(n) * 0.01)
    low = np.minimum(open_, close) * (1 - rng.random(n) * 0.01)
    idx = pd.bdate_range("2000-01-03", periods=n, name="date")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1e6}, index=idx
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(30, 400),
    threshold=st.sampled_from([0.002, 0.005, 0.01, 0.015]),
    rule=st.sampled_from(["prior_close", "open"]),
    policy=st.sampled_from(["genuine", "all"]),
    stale=st.floats(0, 0.3),
)
def test_detection_matches_brute_force(seed, n, threshold, rule, policy, stale):
    px = random_ohlc(seed, n, stale)
    params = StudyParams(
        gap_threshold=threshold, close_rule=rule, open_policy=policy, start=px.index[0].date(),
        genuine_coverage_window=20, genuine_coverage_min=0.7,
    )  # fmt: skip
    flags = study_flags(px, params)
    got = np.flatnonzero(detect_events(px, flags, params).to_numpy())
    valid = flags["open_genuine"].to_numpy() if policy == "genuine" else np.ones(n, bool)
    want = brute_force_events(px["open"].to_numpy(), px["close"].to_numpy(), valid, threshold, rule)
    assert list(got) == want


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 300), stale=st.floats(0, 1))
def test_genuine_open_flag_matches_brute_force(seed, n, stale):
    px = random_ohlc(seed, n, stale)
    flags = open_quality_flags(px, window=20, min_coverage=0.9)
    assert (
        flags["open_genuine_raw"].to_numpy()
        == brute_force_genuine(px["open"].to_numpy(), px["close"].to_numpy())
    ).all()
    # usable implies genuine; coverage is a trailing mean (no look-ahead)
    assert not (flags["open_genuine"] & ~flags["open_genuine_raw"]).any()
    cov = flags["open_genuine_raw"].astype(float).rolling(20).mean()
    pd.testing.assert_series_equal(flags["coverage"], cov, check_names=False, check_exact=True)


def test_stale_eras_are_detected_by_rule():
    close_only = random_ohlc(1, 300, 0.0)
    close_only[["open", "high", "low"]] = np.repeat(close_only[["close"]].to_numpy(), 3, axis=1)
    stale = random_ohlc(2, 300, 1.0)
    genuine = random_ohlc(3, 300, 0.0)
    px = pd.concat([close_only, stale, genuine])
    px.index = pd.bdate_range("1990-01-01", periods=len(px), name="date")
    eras = open_quality_eras(open_quality_flags(px, 250, 0.9))
    assert list(eras["open_quality"]) == ["close_only", "stale", "genuine"]
    assert eras["trading_days"].sum() == len(px)


def test_event_table_fields_on_a_hand_example():
    idx = pd.bdate_range("2024-01-01", periods=4, name="date")
    px = pd.DataFrame(
        {
            "open": [100, 101, 103, 99],
            "high": [101, 102, 104, 100],
            "low": [99, 100, 98, 97],
            "close": [100, 102, 100, 99.5],
            "volume": 1.0,
        },
        index=idx,
    ).astype(float)
    is_event = pd.Series([False, False, True, False], index=idx)
    t = event_table(px, is_event, (1,), vix_close=pd.Series([10.0, 11, 12, 13], index=idx))
    row = t.iloc[0]
    assert row["date"] == idx[2]
    assert np.isclose(row["gap"], 103 / 102 - 1)
    assert np.isclose(row["close_to_close"], 100 / 102 - 1)
    assert np.isclose(row["open_to_close"], 100 / 103 - 1)
    assert np.isclose(row["high_runup"], 104 / 102 - 1)
    assert np.isclose(row["reversal"], 100 / 104 - 1)
    assert np.isclose(row["fwd_1d"], 99.5 / 100 - 1)
    assert row["vix_close"] == 12.0


def test_snapshot_events_are_the_eight_documented_days(snapshot_prices):
    """The known list (SOURCES.md, cross-checked there against IBKR bars)."""
    from eventlab.study.whole_study import run_variant

    v = run_variant(snapshot_prices, StudyParams(), "main")
    dates = [d.date().isoformat() for d in v.events["date"]]
    assert dates == [
        "2018-12-11",
        "2020-04-07",
        "2020-04-28",
        "2022-01-26",
        "2024-08-07",
        "2025-04-08",
        "2025-07-31",
        "2025-11-20",
    ]
    nov20 = v.events.iloc[-1]
    assert round(nov20["gap"], 5) == 0.01442 and round(nov20["close_to_close"], 5) == -0.01557
    # stale opens are never counted: the study cannot see before the first usable open
    assert v.coverage["first_usable_open"] > "2007-10-01"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 400))
def test_event_table_matches_whole_series_pandas_reference(seed, n):
    """Rows computed only at the events equal the full-length pandas computation, filtered, to
    the bit."""
    px = random_ohlc(seed, n, 0.1)
    is_event = pd.Series(np.random.default_rng(seed).random(n) < 0.2, index=px.index)
    vix = px["close"].iloc[::2] / 10  # VIX with missing days
    flags = open_quality_flags(px, 20, 0.7)
    got = event_table(px, is_event, (1, 5), vix_close=vix, flags=flags)
    c, prev = px["close"], px["close"].shift(1)
    want = pd.DataFrame(
        {
            "date": px.index,
            "weekday": px.index.day_name(),
            "gap": px["open"] / prev - 1,
            "reversal": c / px["high"] - 1,
            "vix_close": vix.reindex(px.index),
            **{f"dist_sma{w}": c / c.rolling(w, min_periods=w).mean() - 1 for w in (20, 50, 200)},
            "fwd_1d": c.shift(-1) / c - 1,
            "fwd_5d": c.shift(-5) / c - 1,
            "open_coverage_250d": flags["coverage"],
        }
    )[is_event.to_numpy()].reset_index(drop=True)
    pd.testing.assert_frame_equal(got[want.columns], want, check_exact=True, check_names=False)
