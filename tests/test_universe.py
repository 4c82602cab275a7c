"""Universe study: split/dividend adjustment, equality with the index study's code, clustered
standard errors against statsmodels, breadth by hand, universe lists, shipped-data checksums."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from eventlab.config import CONFIG, StudyParams
from eventlab.data.frames import DataError
from eventlab.data.snapshot import read_series
from eventlab.errors import ConfigError
from eventlab.study.whole_study import run_study, run_variant
from eventlab.universe import prices as udata
from eventlab.universe.adjust import adjust_prices
from eventlab.universe.breadth import breadth_daily, breadth_on_events
from eventlab.universe.members import all_tickers, load_universe
from eventlab.universe.pooled import clustered_diff, clustered_mean
from eventlab.universe.ticker import study_ticker

UP = CONFIG.universe
FAST = StudyParams(bootstrap_reps=200, placebo_reps=200)


def base_frame(n: int = 700, seed: int = 1) -> pd.DataFrame:
    """Random-walk OHLC with genuine opens and plenty of gap-up / close-red days."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2010-01-04", periods=n, name="date")
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    prev = np.r_[close[0] * 0.99, close[:-1]]
    opens = prev * (1 + rng.normal(0.002, 0.012, n))
    high = np.maximum(opens, close) * 1.004
    low = np.minimum(opens, close) * 0.996
    return pd.DataFrame(
        {"open": opens, "high": high, "low": low, "close": close, "volume": 1e6,
         "dividend": 0.0, "split": 1.0},
        index=dates,
    )  # fmt: skip


def with_split(base: pd.DataFrame, day: int, ratio: float) -> pd.DataFrame:
    """The raw (as-traded) frame of `base` if a ratio:1 split took effect on row `day`: every
    price before it was `ratio` times higher, and the split column records the ratio."""
    raw = base.copy()
    for col in ("open", "high", "low", "close"):
        raw.iloc[:day, raw.columns.get_loc(col)] *= ratio
    raw.iloc[:day, raw.columns.get_loc("volume")] /= ratio
    raw.iloc[day, raw.columns.get_loc("split")] = ratio
    return raw


def event_day_index(frame: pd.DataFrame, params: StudyParams) -> int:
    res = study_ticker("X", frame, params, UP)
    assert res.status == "ok"
    # an event after the first 250 sessions: both open rules (own_open, index_rule) count it
    dates = pd.DatetimeIndex(res.events["date"])
    return int(frame.index.get_loc(dates[dates > frame.index[260]][10]))


@pytest.mark.parametrize("ratio", [2.0, 3.0, 0.1, 0.25])
@pytest.mark.parametrize("close_rule", ["prior_close", "open"])
def test_split_day_is_never_a_gap_and_returns_are_continuous(ratio, close_rule):
    params = FAST.with_(close_rule=close_rule)
    base = base_frame()
    # Put the split on an event day of the unsplit history: the hardest case.
    day = event_day_index(base, params)
    raw = with_split(base, day, ratio)
    # Without adjustment the index study's code sees a -50% / +900% gap on the split day.
    naive = run_variant({"X": raw}, params.with_(index="X"), "main")
    gap = raw["open"].iloc[day] / raw["close"].iloc[day - 1] - 1
    assert abs(gap) > 0.4
    if ratio < 1 and close_rule == "open":
        assert naive.is_event.iloc[day]  # a reverse split looks like a huge gap-up, closed red
    got, want = study_ticker("X", raw, params, UP), study_ticker("X", base, params, UP)
    assert got.status == want.status == "ok"
    pd.testing.assert_series_equal(got.days["is_event"], want.days["is_event"])
    assert pd.Timestamp(raw.index[day]) in set(
        pd.to_datetime(got.events["date"])
    )  # kept: real event
    for col in ("gap", "fwd_1d", "fwd_5d", "fwd_20d"):
        np.testing.assert_allclose(got.days[col], want.days[col], rtol=1e-9, atol=1e-12)
    cols = ["event_mean", "hac_t", "welch_t", "baseline_mean", "n_events"]
    np.testing.assert_allclose(
        got.stats[cols].to_numpy(float), want.stats[cols].to_numpy(float), rtol=1e-9
    )


def test_unrecorded_split_is_excluded_not_an_event():
    params = FAST.with_(close_rule="open")
    base = base_frame()
    raw = with_split(base, 400, 0.1)
    raw.iloc[400, raw.columns.get_loc("split")] = 1.0  # the source forgot to record it
    res = study_ticker("X", raw, params, UP)
    assert res.stats["split_like_jump_days"].iloc[0] == 1
    day = raw.index[400]
    assert day not in set(pd.to_datetime(res.events["date"]))
    days = res.days.set_index("date")
    assert not days.loc[day, "in_sample"]
    # No forward window crosses the jump.
    assert days["fwd_20d"].iloc[380:400].isna().all()


def test_dividends_enter_returns_but_not_gaps():
    base = base_frame()
    day, div = 300, 1.5
    raw = base.copy()
    raw.iloc[day, raw.columns.get_loc("dividend")] = div
    res = study_ticker("X", raw, FAST, UP).days.set_index("date")
    c = raw["close"].to_numpy()
    t = day - 3  # a 5-day window from t contains the ex-date
    keep = 1 - div / c[day - 1]
    assert res["fwd_5d"].iloc[t] == pytest.approx(c[t + 5] / c[t] / keep - 1, rel=1e-12)
    assert res["fwd_1d"].iloc[t] == pytest.approx(c[t + 1] / c[t] - 1, rel=1e-12)  # before it
    # The ex-date gap is the as-traded one.
    assert res["gap"].iloc[day] == pytest.approx(raw["open"].iloc[day] / c[day - 1] - 1)
    adj = adjust_prices(raw)
    assert adj["tr_close"].iloc[-1] == raw["close"].iloc[-1]  # backward: the latest is as traded


def test_per_ticker_results_equal_the_index_study_on_the_same_frame():
    gspc = read_series("GSPC").loc["2004":]
    frame = gspc[["open", "high", "low", "close", "volume"]].assign(dividend=0.0, split=1.0)
    params = FAST.with_(index="GSPC")
    # the index's open rule (the universe's default, own_open, also counts the first 250 days)
    index_rule = UP.model_copy(update={"open_rule": "index_rule"})
    res = study_ticker("GSPC", frame, params, index_rule, rng=np.random.default_rng(params.seed))
    study = run_study({"GSPC": gspc, "SPY": read_series("SPY")}, params)
    want = study.stats[study.stats["variant"] == "main"].reset_index(drop=True)
    # the open-accuracy fields compare the index with SPY: not a per-ticker statistic
    want = want.drop(columns=["effective_visibility_from", "reference_events_unseen"])
    got = res.stats[want.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    ev = study.main.events.drop(columns=["vix_close"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        res.events[ev.columns].reset_index(drop=True), ev, check_dtype=False
    )
    assert len(ev) > 5


def test_bad_tickers_get_a_status_not_an_exception():
    p = FAST
    assert study_ticker("X", None, p, UP).status == "no_data"
    assert study_ticker("X", base_frame().iloc[:100], p, UP).status == "too_short"
    stale = base_frame()
    stale["open"] = stale["close"].shift(1).fillna(stale["close"])  # open = previous close
    assert study_ticker("X", stale, p, UP).status == "all_stale_opens"
    broken = study_ticker("X", base_frame().drop(columns=["split"]), p, UP)
    assert broken.status == "error" and "split" in broken.message


def test_clustered_standard_errors_match_statsmodels():
    rng = np.random.default_rng(7)
    n, g = 3000, 140
    groups = rng.integers(0, g, n)
    shock = rng.normal(0, 0.02, g)[groups]  # a common shock per date: clustering matters
    d = rng.random(n) < 0.1
    y = 0.001 + 0.004 * d + shock + rng.normal(0, 0.01, n)
    X = sm.add_constant(d.astype(float))
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
    got = clustered_diff(y, d, groups)
    assert got["mean"] == pytest.approx(fit.params[1], rel=1e-10)
    assert got["se"] == pytest.approx(fit.bse[1], rel=1e-10)
    assert got["p"] == pytest.approx(fit.pvalues[1], rel=1e-8)
    ev = y[d]
    fit_m = sm.OLS(ev, np.ones(len(ev))).fit(cov_type="cluster", cov_kwds={"groups": groups[d]})
    m = clustered_mean(ev, groups[d])
    assert m["se"] == pytest.approx(fit_m.bse[0], rel=1e-10)
    assert m["se"] > np.std(ev, ddof=1) / np.sqrt(len(ev))  # the common shocks widen it


def test_breadth_against_a_hand_computation():
    dates = pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06"])
    rows = [  # ticker, date, open_usable, gap, close_to_close
        ("A", 0, True, 0.02, -0.01), ("A", 1, True, 0.00, -0.02), ("A", 2, True, 0.03, 0.01),
        ("B", 0, True, 0.015, -0.005), ("B", 1, False, 0.05, -0.01), ("B", 2, True, 0.02, -0.03),
        ("C", 0, False, 0.03, -0.02), ("C", 1, True, 0.001, 0.01), ("C", 2, True, 0.0, float("nan")),
    ]  # fmt: skip
    days = pd.DataFrame(rows, columns=["ticker", "d", "open_usable", "gap", "close_to_close"])
    days["date"] = dates[days.pop("d")]
    out = breadth_daily(days, 0.01, min_members=1).set_index("date")
    # Day 0: usable opens A, B; both gapped > 1% and closed red; C closed red too (stale open).
    assert out.loc[dates[0], "share_gap_up_red"] == 2 / 2
    assert out.loc[dates[0], "share_red"] == 3 / 3
    # Day 1: usable A, C; none gapped > 1%; A and B red of 3.
    assert out.loc[dates[1], "share_gap_up_red"] == 0
    assert out.loc[dates[1], "share_red"] == pytest.approx(2 / 3)
    # Day 2: usable A, B, C; A and B gapped, only B red; C has no close-to-close.
    assert out.loc[dates[2], "share_gap_up_red"] == pytest.approx(1 / 3)
    assert out.loc[dates[2], "n_members"] == 2 and out.loc[dates[2], "share_red"] == 0.5
    assert list(out["rank_share_gap_up_red"]) == [1, 3, 2]
    assert list(out["rank_share_red"]) == [1, 2, 3]
    idx = pd.DataFrame({"index": "GSPC", "date": [dates[1], pd.Timestamp("2021-01-04")],
                        "gap": 0.011, "close_to_close": -0.001})  # fmt: skip
    on = breadth_on_events(out.reset_index(), idx)
    assert len(on) == 1 and on["rank_share_gap_up_red"].iloc[0] == 3  # outside the span: dropped


def test_universe_lists_are_configuration(tmp_path):
    assert len(load_universe(UP).tickers) == 504
    assert {"^GSPC", "SPY", "AAPL"} <= set(all_tickers(UP))
    (tmp_path / "desk.csv").write_text("ticker,sector\nAAPL,Tech\nZZZZ,Other\n")
    params = UP.with_(lists_dir=str(tmp_path), name="desk")
    assert load_universe(params).tickers == ["AAPL", "ZZZZ"]
    assert all_tickers(params) == ["AAPL", "ZZZZ"]
    (tmp_path / "bad.csv").write_text("ticker\nAAPL\nBAD TICKER\n")
    with pytest.raises(ConfigError, match=r"bad.csv line 3.*Fix"):
        all_tickers(params)
    with pytest.raises(ConfigError, match="unknown universe 'nope'"):
        load_universe(params, "nope")


def test_shipped_universe_checksum_is_verified(tmp_path):
    frame = base_frame(300).reset_index()
    frame.insert(0, "ticker", "AAA")
    path = tmp_path / "u.parquet"
    frame.to_parquet(path, index=False)
    manifest = {"universes": {"u": {"prices": "u.parquet"}},
                "files": {"u.parquet": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}}}  # fmt: skip
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    params = UP.with_(data_dir=str(tmp_path))
    got = udata.read_offline(["AAA", "NOPE"], params)
    assert got["NOPE"] is None and len(got["AAA"]) == 300
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(DataError, match="does not match the manifest.*Fix"):
        udata.read_offline(["AAA"], params)


def test_shipped_universe_data_loads_and_matches_its_manifest():
    manifest = udata.read_manifest(udata.data_dir(UP))
    info = manifest["universes"]["sp500_2021"]
    frames = udata.read_offline(["AAPL", "MSFT"], UP)
    assert frames["AAPL"].index[0] == pd.Timestamp(info["first"])
    assert (frames["AAPL"]["split"] != 1).sum() == 4  # 2000, 2005, 2014, 2020


# udata.values_sha256 of the single 34 MB sp500_2021.parquet these parts replaced (built from the
# same source): the re-encoding into parts changed no value, order or dtype.
VALUES_BEFORE_SPLIT = "ce8cdc6eb0007c1ec59bd1d7439ab6f5d8baa95f6ddc1a3490cb0d60622deb98"


# The part files whose values were read in full and hashed to VALUES_BEFORE_SPLIT (with 504 tickers
# and the manifest's row count). The loader checks every file's bytes against the manifest, so
# while the manifest names these bytes the values are those; other bytes (a rebuild) get the full
# read and hash again (~10 s).
VERIFIED_PARTS = {
    "sp500_2021.part1.parquet": "de6a0b48f9adc1d3644aefde942ee9a15d830bccc4badb9c7ecac1ed49d7543a",
    "sp500_2021.part2.parquet": "4b070b2f0e86271c982107daeea5a109f1ea741ead94f15e22c88a03543c0b87",
}


def test_shipped_universe_parts_are_small_and_hold_the_same_values():
    from eventlab.data.snapshot import file_sha256

    root = udata.data_dir(UP)
    manifest = udata.read_manifest(root)
    info = manifest["universes"]["sp500_2021"]
    parts = udata.price_files(info)
    assert len(parts) >= 2
    for name in parts:
        assert (root / name).stat().st_size < 20 * 10**6, name  # the repository's size check
        assert file_sha256(root / name) == manifest["files"][name]["sha256"], name
    assert not (root / "sp500_2021.parquet").exists()  # no stale single file beside the parts
    assert sum(manifest["files"][name]["rows"] for name in parts) == info["rows"]
    assert info["values_sha256"] == VALUES_BEFORE_SPLIT
    if {name: manifest["files"][name]["sha256"] for name in parts} != VERIFIED_PARTS:
        prices = pd.concat([pd.read_parquet(root / name) for name in parts], ignore_index=True)
        assert len(prices) == info["rows"] and prices["ticker"].nunique() == info["tickers"]
        assert udata.values_sha256(prices) == VALUES_BEFORE_SPLIT
    # The loader reads every part: tickers from both ends of each part's range come back whole.
    ends = [t for name in parts for t in manifest["files"][name]["tickers"]]
    frames = udata.read_offline(ends, UP)
    prices = pd.concat(
        [pd.read_parquet(root / name, filters=[("ticker", "in", ends)]) for name in parts],
        ignore_index=True,
    )
    for ticker in ends:
        want = prices[prices["ticker"] == ticker].set_index("date")[list(udata.UNIVERSE_COLUMNS)]
        pd.testing.assert_frame_equal(
            frames[ticker], want.astype(float).rename_axis("date"), check_freq=False
        )
