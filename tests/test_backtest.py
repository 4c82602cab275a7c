"""Backtest metrics against hand computations, the event strategy on a tiny price path, and the
random-entry benchmark's reproducibility."""

import math

import numpy as np
import pandas as pd
import pytest
from helpers import png_size

from eventlab.backtest import metrics as mt
from eventlab.backtest import strategies as st


def test_metrics_by_hand() -> None:
    idx = pd.bdate_range("2024-01-01", periods=4)
    r = pd.Series([0.10, -0.20, 0.05, 0.10], index=idx)
    rf = pd.Series(0.01, index=idx)
    cost = pd.Series([0.0, 0.001, 0.0, 0.001], index=idx)
    turnover = pd.Series([1.0, 0.5, 0.0, 0.5], index=idx)
    m = mt.performance(r, rf=rf, cost=cost, turnover=turnover, periods_per_year=4)
    growth = 1.1 * 0.8 * 1.05 * 1.1
    assert m["total_return"] == pytest.approx(growth - 1)
    assert m["years"] == 1.0
    assert m["cagr"] == pytest.approx(growth - 1)  # four periods = one year
    x = np.array([0.10, -0.20, 0.05, 0.10])
    mean, var = x.mean(), ((x - x.mean()) ** 2).sum() / 3
    assert m["volatility"] == pytest.approx(math.sqrt(var) * 2)
    ex = x - 0.01
    sd_ex = math.sqrt(((ex - ex.mean()) ** 2).sum() / 3)
    assert m["sharpe"] == pytest.approx(ex.mean() / sd_ex * 2)
    downside = math.sqrt((0.21**2) / 4)  # only -0.21 is below zero, averaged over all 4 periods
    assert m["sortino"] == pytest.approx(ex.mean() * 4 / (downside * 2))
    # equity 1.1, 0.88, 0.924, 1.0164: peak 1.1 on day 1, trough 0.88 on day 2, no recovery
    assert m["max_drawdown"] == pytest.approx(0.88 / 1.1 - 1)
    assert m["max_drawdown_peak"] == idx[0]
    assert m["max_drawdown_trough"] == idx[1]
    assert m["max_drawdown_recovery"] is None
    assert m["calmar"] == pytest.approx((growth - 1) / 0.2)
    assert m["turnover_per_year"] == pytest.approx(2.0)
    gross = 1.1 * 0.801 * 1.05 * 1.101
    assert m["cost_drag"] == pytest.approx((gross - 1) - (growth - 1))
    assert mean > 0  # sanity of the fixture


def test_drawdown_recovery_date() -> None:
    idx = pd.bdate_range("2024-01-01", periods=5)
    r = pd.Series([-0.1, 0.05, 0.1, -0.01, 0.02], index=idx)
    mdd, peak, trough, rec = mt.max_drawdown(r)
    assert mdd == pytest.approx(-0.1)
    assert peak == idx[0]  # the peak is the starting capital, before the first loss
    assert trough == idx[0]
    assert rec == idx[2]  # 0.9 * 1.05 * 1.1 = 1.0395 >= 1
    assert mt.drawdown(r).iloc[0] == pytest.approx(-0.1)


def _px() -> pd.DataFrame:
    idx = pd.bdate_range("2024-01-01", periods=10)
    close = np.array([100, 101, 102, 100, 103, 104, 102, 105, 106, 107], float)
    opn = np.array([100, 100.5, 101.5, 101, 101, 103.5, 103, 104, 105, 106.5], float)
    return pd.DataFrame({"open": opn, "close": close}, index=idx)


def test_event_strategy_close_entry_by_hand() -> None:
    px = _px()
    events = pd.DatetimeIndex([px.index[2], px.index[3], px.index[8]])
    cash = pd.Series(0.001, index=px.index)
    trades, daily = st.event_strategy(px, events, 2, "close", cash, cost_bp=10)
    # the last event has no 2-session future: two trades
    assert len(trades) == 2
    assert trades["gross_return"].iloc[0] == pytest.approx(103 / 102 - 1)
    assert trades["net_return"].iloc[0] == pytest.approx(103 / 102 - 1 - 0.002)
    assert bool(trades["overlaps_previous"].iloc[1])
    # merged holding: close of day 2 to close of day 5 (sessions 3, 4, 5), one entry, one exit
    held = daily["in_market"].to_numpy()
    assert held.tolist() == [False, False, False, True, True, True, False, False, False, False]
    net = daily["net"].to_numpy()
    assert net[2] == pytest.approx(0.001 - 0.001)  # cash, then buy at the close: cost 10 bp
    assert net[3] == pytest.approx(100 / 102 - 1)
    assert net[5] == pytest.approx(104 / 103 - 1 - 0.001)  # exit at the close
    assert net[6] == pytest.approx(0.001)
    assert daily["turnover"].sum() == 2


def test_event_strategy_next_open_entry_by_hand() -> None:
    px = _px()
    events = pd.DatetimeIndex([px.index[2]])
    cash = pd.Series(0.0, index=px.index)
    trades, daily = st.event_strategy(px, events, 1, "next_open", cash, cost_bp=10)
    assert trades["entry_date"].iloc[0] == px.index[3]
    assert trades["entry_price"].iloc[0] == 101
    assert trades["gross_return"].iloc[0] == pytest.approx(100 / 101 - 1)
    net = daily["net"].to_numpy()
    # bought at the open and sold at the close of the same session: two trades of 10 bp
    assert net[3] == pytest.approx(100 / 101 - 1 - 0.002)
    assert np.count_nonzero(net) == 1
    trades5, daily5 = st.event_strategy(px, events, 3, "next_open", cash, cost_bp=0)
    compounded = np.prod(1 + daily5["net"].to_numpy()) - 1
    assert compounded == pytest.approx(trades5["gross_return"].iloc[0])


def test_random_entries_reproducible_with_seed() -> None:
    rng = np.random.default_rng(0)
    n = 500
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    px = pd.DataFrame(
        {"open": close * 0.999, "close": close}, index=pd.bdate_range("2020-01-01", periods=n)
    )
    elig = np.arange(n)
    a = st.random_entries(px, elig, 8, 5, "close", 2.0, 300, seed=42)
    b = st.random_entries(px, elig, 8, 5, "close", 2.0, 300, seed=42)
    c = st.random_entries(px, elig, 8, 5, "close", 2.0, 300, seed=43)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (300,)
    # every draw's mean is a mean of real 5-session returns net of 4 bp
    fwd = close[5:] / close[:-5] - 1 - 4e-4
    assert fwd.min() <= a[0].min() and a[0].max() <= fwd.max()
    s = st.random_summary(float(np.quantile(a[0], 0.9)), a[0], a[1])
    assert 89 <= s["random_percentile"] <= 91
    assert s["random_draws"] == 300


def test_regime_matched_random_entries_draw_each_entry_from_its_events_regime() -> None:
    """Next-session returns are +1% after every regime-0 day and -1% after every regime-1 day:
    a set matched to events in regimes (0, 0, 1) always averages +1/3% (less costs), whatever
    the draw; unmatched sets spread; the same seed gives the same draws."""
    n = 400
    regime = np.where(np.arange(n) % 3 == 0, 1, 0)
    ret = np.where(regime == 0, 0.01, -0.01)
    close = 100 * np.cumprod(np.r_[1.0, 1.0 + ret[:-1]])
    px = pd.DataFrame(
        {"open": close, "close": close}, index=pd.bdate_range("2020-01-01", periods=n)
    )
    elig = np.arange(n)
    match = (regime, np.array([0, 0, 1]))
    means, hits = st.random_entries(px, elig, 3, 1, "close", 2.0, 500, seed=7, match=match)
    np.testing.assert_allclose(means, (0.01 + 0.01 - 0.01) / 3 - 4e-4, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(hits, 2 / 3)
    again = st.random_entries(px, elig, 3, 1, "close", 2.0, 500, seed=7, match=match)
    np.testing.assert_array_equal(means, again[0])
    free, _ = st.random_entries(px, elig, 3, 1, "close", 2.0, 500, seed=7)
    assert free.std() > 0.003
    # an event regime with no eligible day has no matched benchmark
    none = st.random_entries(
        px, elig, 3, 1, "close", 2.0, 50, seed=7, match=(regime, np.array([0, 2, 1]))
    )
    assert np.isnan(none[0]).all()


def test_vix_quintiles_split_the_days_in_fifths() -> None:
    from eventlab.study.evidence import vix_quintiles

    vix = np.r_[np.random.default_rng(3).permutation(np.arange(100.0)), np.nan]
    q = vix_quintiles(vix)
    assert q[-1] == -1
    assert [int((q == k).sum()) for k in range(5)] == [20] * 5
    for k in range(5):  # each quintile is a contiguous band of values, in order
        assert vix[q == k].min() == 20 * k and vix[q == k].max() == 20 * k + 19


def test_event_backtest_ranks_against_matched_entries_and_withholds_p_below_the_minimum() -> None:
    rng = np.random.default_rng(5)
    n = 900
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    idx = pd.bdate_range("2015-01-01", periods=n)
    px = pd.DataFrame({"open": close * 1.001, "close": close}, index=idx)
    vix = pd.Series(15 + 10 * rng.random(n), index=idx)
    ins, cash = pd.Series(True, index=idx), pd.Series(0.0, index=idx)
    events = idx[[100, 250, 400, 550, 700, 850]]
    args = (px, events, ins, (1, 5), ("close",), cash, 2.0, 300, 1)
    rows, _, _ = st.event_backtest(*args, vix=vix, min_trades=5)
    r = rows.set_index("strategy").loc["event_close_5d"]
    assert r["n_trades"] == 6 and 0 < r["vix_matched_p_value"] <= 1 and 0 < r["random_p_value"] <= 1
    assert r["vix_matched_mean_p05"] <= r["vix_matched_mean_p50"] <= r["vix_matched_mean_p95"]
    few, _, _ = st.event_backtest(*args, vix=vix, min_trades=7)
    f = few.set_index("strategy").loc["event_close_5d"]
    assert np.isnan(f["random_p_value"]) and np.isnan(f["vix_matched_p_value"])
    assert f["random_mean_p05"] == r["random_mean_p05"]  # the distributions are still shown
    plain, _, _ = st.event_backtest(*args)
    assert plain[list(st.MATCHED_COLUMNS)].isna().all().all()


def test_event_backtest_rows_and_buy_and_hold() -> None:
    px = _px()
    ins = pd.Series(True, index=px.index)
    cash = pd.Series(0.0, index=px.index)
    total = px["close"].pct_change() + 0.001  # a dividend of 10 bp a session
    rows, trades, daily = st.event_backtest(
        px, pd.DatetimeIndex([px.index[2]]), ins, (1, 2), ("close", "next_open"), cash, 0.0, 100, 1,
        total_return=total,
    )  # fmt: skip
    assert list(rows["strategy"]) == [
        "event_close_1d", "event_close_2d", "event_next_open_1d", "event_next_open_2d", "buy_and_hold",
        "buy_and_hold_price",
    ]  # fmt: skip
    bh = rows.set_index("strategy")
    assert bh.at["buy_and_hold_price", "total_return"] == pytest.approx(107 / 100 - 1)
    assert bh.at["buy_and_hold", "total_return"] == pytest.approx(np.prod(1 + total.iloc[1:]) - 1)
    assert len(trades) == 4


@pytest.mark.graph
def test_replica_check_charts_render(tmp_path) -> None:
    """Both charts draw from small frames and leave a PNG and a sidecar saying 'mixed'."""
    import json

    from eventlab.charts import replica_check

    idx = pd.bdate_range("2010-01-01", periods=900)
    rng = np.random.default_rng(5)
    implied = pd.Series(np.sin(np.arange(900) / 50), index=idx)
    series = pd.DataFrame(
        {
            "implied": implied,
            "implied_se": 0.1,
            "replica_position": implied.shift(5) + rng.normal(0, 0.2, 900),
            "replica_lens": implied.shift(2),
        }
    )
    out = replica_check.render_validation(series, [idx[500]], tmp_path)
    side = json.loads(out.sidecar.read_text())
    assert min(png_size(out.png)) >= 300 and side["kind"] == "mixed"
    assert -1 <= out.numbers["oos_corr_replica"] <= 1
    rets = pd.DataFrame(
        {c: rng.normal(0.0003, 0.01, 900) for c in ("replica", "buy_and_hold", "sg_trend_index")},
        index=idx,
    )
    cash = pd.Series(0.0, index=idx)
    px = pd.DataFrame(
        {"open": 100.0, "close": 100 * np.cumprod(1 + rets["buy_and_hold"])}, index=idx
    )
    rows, _ = st.replica_backtest(
        px["close"], {"replica": pd.Series(0.5, index=idx)}, cash, 2.0, idx[0], px["close"]
    )
    ev_rows, _, _ = st.event_backtest(
        px, idx[[100, 300]], pd.Series(True, index=idx), (1, 5), ("close",), cash, 2.0, 200, 3
    )
    out2 = replica_check.render_tearsheet(rets, pd.concat([rows, ev_rows]), tmp_path)
    assert (
        min(png_size(out2.png)) >= 300 and json.loads(out2.sidecar.read_text())["kind"] == "mixed"
    )
    # with the regime-matched benchmark (a second range per strategy) nothing is cut off either
    vix = pd.Series(15 + 20 * rng.random(900), index=idx)
    matched, _, _ = st.event_backtest(px, idx[[100, 300]], pd.Series(True, index=idx), (1, 5),
                                      ("close",), cash, 2.0, 200, 3, vix=vix)  # fmt: skip
    assert matched["vix_matched_mean_p50"].notna().sum() == 2
    out3 = replica_check.render_tearsheet(rets, pd.concat([rows, matched]), tmp_path / "m")
    assert png_size(out3.png) == png_size(out2.png) and out3.clipped == [] and out2.clipped == []
