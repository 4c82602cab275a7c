"""Implied CTA exposure (rolling OLS, percentile, no look-ahead), reference-series checks and
the replica's validation helpers (cash leg, strategy returns, calibration)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from eventlab.cta import exposure as ex
from eventlab.cta import validation as val
from eventlab.cta.reference import check_levels
from eventlab.settings.cta import CTAParams
from eventlab.settings.validation import ValidationParams


def _random_walk(n: int, seed: int, start: str = "2000-01-03") -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=n)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n))), index=idx)


@pytest.mark.parametrize("k", [1, 2])
def test_rolling_ols_matches_statsmodels(k: int) -> None:
    rng = np.random.default_rng(3 + k)
    n, w = 400, 45
    x = rng.normal(0, 0.01, (n, k))
    y = 0.002 + x @ np.arange(1, k + 1) * 0.4 + rng.normal(0, 0.008, n)
    fit = ex.rolling_ols(y, x if k > 1 else x[:, 0], w)
    assert np.isnan(fit["coef"][: w - 1]).all()
    for t in (w - 1, 150, n - 1):
        ref = sm.OLS(y[t - w + 1 : t + 1], sm.add_constant(x[t - w + 1 : t + 1])).fit()
        np.testing.assert_allclose(fit["coef"][t], ref.params, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(fit["se"][t], ref.bse, rtol=1e-7)
        assert fit["r2"][t] == pytest.approx(ref.rsquared, rel=1e-8)


def test_rolling_ols_rejects_missing_values() -> None:
    with pytest.raises(ValueError, match="finite"):
        ex.rolling_ols(np.array([1.0, np.nan, 2.0]), np.array([1.0, 2.0, 3.0]), 2)


def test_percentile_is_rank_among_past_values_only() -> None:
    s = pd.Series([3.0, 1.0, 2.0, 5.0, 4.0, 0.5], index=pd.bdate_range("1999-12-30", periods=6))
    p = ex.expanding_percentile(s, "2000-01-01", min_periods=2)
    # from 2000: [2, 5, 4, 0.5] (the first two rows are before the start)
    assert np.isnan(p.iloc[:3]).all()  # before start, then one value < min_periods
    assert p.iloc[3] == pytest.approx(100.0)  # 5 vs [2, 5]
    assert p.iloc[4] == pytest.approx(100 * 2 / 3)  # 4 vs [2, 5, 4]
    assert p.iloc[5] == pytest.approx(25.0)  # 0.5 vs [2, 5, 4, 0.5]


def _exposure_inputs(n: int = 700):
    spx = _random_walk(n, 1)
    rng = np.random.default_rng(2)
    r = spx.pct_change().fillna(0.0)
    beta = 0.5 * np.sin(np.arange(n) / 60.0)
    idx = pd.Series(1000 * np.cumprod(1 + beta * r + rng.normal(0, 0.004, n)), index=spx.index)
    bond = pd.Series(rng.normal(0, 0.004, n), index=spx.index)
    return spx, idx, bond


def test_exposure_table_no_lookahead_by_truncation() -> None:
    spx, idx, bond = _exposure_inputs()
    vp = ValidationParams(windows=(20, 60), percentile_min_periods=20)
    full = ex.exposure_table(spx, {"sg_trend_index": idx}, vp, bond)
    assert set(full["model"]) == {ex.SINGLE, ex.MULTI}
    keys = ["date", "index", "model", "window"]
    for cut in (spx.index[150], spx.index[400]):
        trunc = ex.exposure_table(
            spx.loc[:cut], {"sg_trend_index": idx.loc[:cut]}, vp, bond.loc[:cut]
        )
        a = full[full["date"] <= cut].set_index(keys).sort_index()
        b = trunc.set_index(keys).sort_index()
        assert a.index.equals(b.index)
        np.testing.assert_allclose(
            a[["slope", "se", "percentile"]].to_numpy(),
            b[["slope", "se", "percentile"]].to_numpy(),
            rtol=0,
            atol=1e-12,
        )
    # a changed future changes the future rows only (the check is not vacuous)
    idx2 = idx.copy()
    idx2.iloc[500:] *= np.linspace(1, 1.5, len(idx2) - 500)
    changed = ex.exposure_table(spx, {"sg_trend_index": idx2}, vp, bond)
    before = changed["date"] < spx.index[500]
    np.testing.assert_allclose(
        changed.loc[before, "slope"], full.loc[before, "slope"], rtol=0, atol=1e-12
    )
    assert not np.allclose(changed.loc[~before, "slope"], full.loc[~before, "slope"])


def test_exposure_joins_returns_on_own_calendars() -> None:
    spx = _random_walk(10, 4)
    idx = spx.drop(spx.index[4]) * 1.0  # the index skips one session
    df = ex.joined_returns(spx, idx)
    assert spx.index[4] not in df.index
    # the index's return on the day after the gap spans two sessions, the S&P's only one
    d = spx.index[5]
    assert df.loc[d, "idx"] == pytest.approx(spx.iloc[5] / spx.iloc[3] - 1)
    assert df.loc[d, "spx"] == pytest.approx(spx.iloc[5] / spx.iloc[4] - 1)


def test_bond_proxy_is_carry_minus_duration_times_yield_change() -> None:
    y = pd.DataFrame({"Date": ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
                      "DGS10": [4.0, 4.1, None, 4.0]})  # fmt: skip
    r = ex.bond_returns(y, duration=8.0)
    assert r.iloc[0] == pytest.approx(0.04 / 252 - 8 * 0.001)
    assert r.index[1] == pd.Timestamp("2024-01-05")  # the blank day is skipped
    assert r.iloc[1] == pytest.approx(0.041 / 252 + 8 * 0.001)


def test_reference_level_checks() -> None:
    good = pd.DataFrame({"date": pd.bdate_range("2020-01-01", periods=30).astype(str),
                         "close": np.linspace(100, 110, 30)})  # fmt: skip
    assert check_levels(good, "x", "daily")[0]
    gap = good.drop(index=range(10, 15))
    ok, meta = check_levels(gap, "x", "daily")
    assert not ok and meta["gap_violations"] == 1
    bad = good.copy()
    bad.loc[3, "close"] = 0.0
    assert check_levels(bad, "x", "daily")[1]["non_positive_values"] == 1
    swapped = good.iloc[[0, 2, 1, *range(3, 30)]]
    assert check_levels(swapped, "x", "daily")[1]["non_increasing_steps"] == 1
    months = pd.DataFrame({"date": ["2020-01-31", "2020-02-28", "2020-04-30"], "close": [1, 2, 3]})
    ok, meta = check_levels(months, "m", "monthly")
    assert not ok and meta["gap_violations"] == 1


def test_cash_returns_act360_previous_day_rate() -> None:
    dates = pd.DatetimeIndex(["1954-06-30", "1954-07-02", "1954-07-06", "1954-07-07"])
    dff = pd.DataFrame({"Date": ["1954-07-01", "1954-07-02", "1954-07-05"], "DFF": [1.0, 2.0, 3.6]})
    cash = val.cash_returns(dates, dff)
    assert cash.iloc[0] == 0.0
    assert cash.iloc[1] == 0.0  # rate known on 06-30: none yet
    assert cash.iloc[2] == pytest.approx(0.02 * 4 / 360)  # rate of 07-02 over 4 calendar days
    assert cash.iloc[3] == pytest.approx(0.036 * 1 / 360)  # 07-05's print known on 07-06


def test_strategy_returns_by_hand() -> None:
    idx = pd.bdate_range("2024-01-01", periods=4)
    pos = pd.Series([0.0, 0.5, 1.0, -1.0], index=idx)
    ret = pd.Series([0.0, 0.01, -0.02, 0.03], index=idx)
    cash = pd.Series([0.0, 0.001, 0.001, 0.001], index=idx)
    s = val.strategy_returns(pos, ret, cash, cost_bp=10)
    # day 2: held 0 -> cash 0.001; traded 0.5 -> cost 0.0005
    assert s["net"].iloc[0] == pytest.approx(0.001 - 0.0005)
    # day 3: held 0.5 -> 0.5 * -0.02 + 0.5 * 0.001 - 0.0005
    assert s["net"].iloc[1] == pytest.approx(-0.01 + 0.0005 - 0.0005)
    # day 4: held 1 -> 0.03 + 0 cash - 2 units x 10 bp
    assert s["net"].iloc[2] == pytest.approx(0.03 - 0.002)
    assert s["excess"].iloc[2] == pytest.approx(0.03 - 0.002 - 0.001)


def test_calibration_uses_in_sample_only() -> None:
    close = _random_walk(3600, 9, start="1997-01-01")
    implied = close.pct_change().rolling(60).mean().dropna() * 50
    vp = ValidationParams(
        in_sample=(pd.Timestamp("2000-01-01").date(), pd.Timestamp("2006-12-31").date()),
        out_of_sample=(pd.Timestamp("2007-01-01").date(), pd.Timestamp("2010-12-31").date()),
        grid_lookbacks=((21, 63, 252), (63, 126, 252)),
        grid_saturation=(1.0,),
        grid_vol_target=(0.15,),
        grid_smoothing=(1, 40),
    )
    grid, chosen = val.calibrate(close, implied, CTAParams(), vp)
    assert len(grid) == 4 and grid["chosen"].sum() == 1
    assert grid.loc[grid["chosen"], "in_sample_corr"].iloc[0] == grid["in_sample_corr"].max()
    future = close.index > pd.Timestamp("2006-12-31")
    close2 = close.copy()
    close2[future] = close2[future] * 1.3
    implied2 = implied.copy()
    implied2[implied2.index > pd.Timestamp("2006-12-31")] *= -1
    grid2, chosen2 = val.calibrate(close2, implied2, CTAParams(), vp)
    np.testing.assert_allclose(grid2["in_sample_corr"], grid["in_sample_corr"], rtol=0, atol=1e-12)
    assert chosen2["smoothing"] == chosen["smoothing"]
    assert not np.allclose(grid2["out_of_sample_corr"], grid["out_of_sample_corr"])


def test_report_section_from_computed_tables() -> None:
    """The "Is the replica real?" block is built from the computed tables and quotes them."""
    from eventlab.backtest import strategies as st
    from eventlab.cta.signals import model_arrays
    from eventlab.report import replica_section as rs
    from eventlab.report.formatting import pval

    close = _random_walk(4300, 11, start="1996-01-01")
    rng = np.random.default_rng(12)
    pos = pd.Series(
        model_arrays(close.to_numpy(), CTAParams(), percentile=False)["position"], index=close.index
    )
    r = close.pct_change().fillna(0.0)
    sg = pd.Series(1000 * np.cumprod(1 + 0.3 * pos.shift(1).fillna(0) * r + rng.normal(0, 0.004, len(r))),
                   index=close.index).loc["2000-01-03":]  # fmt: skip
    vp = ValidationParams(
        grid_lookbacks=((21, 63, 252),),
        grid_saturation=(1.0,),
        grid_vol_target=(0.15,),
        grid_smoothing=(1, 20),
    )
    e = ex.exposure_table(close, {"sg_trend_index": sg}, vp)
    implied = ex.exposure_series(e, "sg_trend_index", 60)
    grid, chosen = val.calibrate(close, implied, CTAParams(), vp)
    cash = pd.Series(0.0, index=close.index)
    v = val.validation_table({"replica": pos}, close, implied, {"sg_trend_index": sg}, cash, vp)
    px = pd.DataFrame({"open": close, "close": close})
    b1, _ = st.replica_backtest(close, {"replica": pos}, cash, 2.0, close.index[0], sg)
    vix = pd.Series(np.linspace(12, 40, len(close)), index=close.index)
    b2, _, _ = st.event_backtest(px, close.index[[3000, 3500]], pd.Series(True, index=close.index),
                                 (1, 5), ("close",), cash, 2.0, 100, 1, vix=vix)  # fmt: skip
    ctx = rs.section_context(
        {"cta_implied_exposure": e, "cta_validation": v, "cta_calibration": grid,
         "backtests": pd.concat([b1, b2], ignore_index=True)}
    )  # fmt: skip
    assert ctx is not None
    oos = v[(v["measure"] == "position_vs_implied") & v["period"].str.startswith("out")]
    assert f"{oos['correlation'].iloc[0]:+.2f}" in " ".join(ctx["sentences"])
    assert len(ctx["tracking"]["rows"]) == 2 and len(ctx["bt_events"]["rows"]) == 3
    # the note quotes the regime-matched p-values it computed
    note = ctx["bt_events"]["note"]
    five = b2.set_index("strategy").loc["event_close_5d"]
    assert "same VIX quintile" in note and pval(five["vix_matched_p_value"]) in note
    assert rs.section_context({}) is None


def test_exposure_on_ranks_the_slope_and_its_two_standard_error_band_in_the_same_history() -> None:
    """percentile_low/high are where slope -/+ 2 se rank among the history the percentile uses
    (brute force over the table); with no band they equal the percentile."""
    close = _random_walk(3000, 21, start="1998-01-01")
    rng = np.random.default_rng(22)
    r = close.pct_change().fillna(0.0)
    sg = pd.Series(1000 * np.cumprod(1 + 0.4 * r + rng.normal(0, 0.005, len(r))), index=close.index)
    day = close.index[2500]
    e = ex.exposure_on(close, sg, 60, day)
    vp = ValidationParams().with_(windows=(60,), main_window=60)
    t = ex.exposure_table(close, {"idx": sg}, vp)
    hist = t[(t["date"] <= day) & (t["date"] >= pd.Timestamp(vp.percentile_start))]["slope"]
    for key, sign in (("percentile_low", -1), ("percentile_high", 1)):
        x = e["slope"] + sign * 2 * e["se"]
        assert e[key] == pytest.approx(100 * sum(v <= x for v in hist) / len(hist), abs=1e-9)
    assert e["percentile_low"] < e["percentile"] < e["percentile_high"]
    flat = ex.exposure_on(close, sg, 60, day, band_se=0.0)
    assert flat["percentile_low"] == pytest.approx(e["percentile"]) == flat["percentile_high"]


def test_grid_points_of_a_replica_with_another_number_of_horizons():
    """The calibration grid's three-lookback sets apply to a launchpad replica with one horizon:
    each grid point brings its own horizon names and equal weights (zip failed before)."""
    base = CTAParams().with_(horizons=("h1",), lookbacks=(2520,), weights=(1.0,))
    p = val.grid_params(base, (21, 63, 252), 1.0, 0.1).validate()
    assert p.lookbacks == (21, 63, 252) and p.horizons == ("h1", "h2", "h3")
    assert p.weights == (1.0, 1.0, 1.0) and p.rule == base.rule
    same = val.grid_params(CTAParams(), (21, 63, 252), 1.0, 0.1)
    assert same.horizons == CTAParams().horizons and same.weights == CTAParams().weights
