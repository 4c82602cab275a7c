"""Backtest statistics that know about the search: the deflated Sharpe ratio against the paper's
worked example, PBO against a brute-force CSCV, SPA / StepM's direction on planted edges, the
total-return splice, and the report's wording of the calibration grid."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats

from eventlab.backtest import cscv, search
from eventlab.backtest import deflated_sharpe as ds
from eventlab.backtest import metrics as mt
from eventlab.backtest import strategies as st
from eventlab.backtest import total_return as tr


def test_deflated_sharpe_reproduces_the_papers_worked_example() -> None:
    """Bailey and López de Prado (2014), section 5: 100 trials whose annualised Sharpe ratios
    vary with variance 1/2, a selected annualised Sharpe of 2.5 over 1,250 daily returns with
    skewness -3 and kurtosis 10: E[max SR] = 0.1132 per day and DSR = 0.9004."""
    v = 0.5 / 250
    assert ds.expected_max_sharpe(100, v) == pytest.approx(0.1132, abs=5e-5)
    dsr, sr0 = ds.deflated_sharpe(2.5 / np.sqrt(250), 1250, -3.0, 10.0, 100, v)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


def test_expected_max_sharpe_tracks_a_simulated_maximum() -> None:
    """The closed form approximates E[max of N normals] (asymptotically in N): within 4% of a
    simulation at N = 10, closer as N grows."""
    rng = np.random.default_rng(7)
    for n in (10, 100, 1000):
        sim = rng.normal(0.0, 0.3, size=(4000, n)).max(axis=1).mean()
        assert ds.expected_max_sharpe(n, 0.09) == pytest.approx(sim, rel=0.04 if n == 10 else 0.015)


def test_one_trial_is_the_probabilistic_sharpe_ratio_and_more_trials_deflate() -> None:
    sr, n, skew, kurt = 0.05, 1000, -0.5, 6.0
    one, sr0 = ds.deflated_sharpe(sr, n, skew, kurt, 1, 0.001)
    psr = stats.norm.cdf(sr * np.sqrt(n - 1) / np.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))
    assert sr0 == 0.0 and one == pytest.approx(psr)
    values = [ds.deflated_sharpe(sr, n, skew, kurt, k, 0.001)[0] for k in (1, 2, 10, 100, 1000)]
    assert all(a > b for a, b in itertools.pairwise(values))
    with pytest.raises(ValueError, match="n_trials"):
        ds.expected_max_sharpe(0, 0.001)


def test_sharpe_moments_match_the_published_sharpe() -> None:
    """The deflated ratio's per-session Sharpe is the backtests table's, before annualising."""
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2020-01-01", periods=500)
    r = pd.Series(rng.normal(0.0005, 0.01, 500), index=idx)
    rf = pd.Series(0.0001, index=idx)
    sr, n, skew, kurt = ds.sharpe_moments((r - rf).to_numpy())
    assert sr * np.sqrt(252) == pytest.approx(mt.performance(r, rf=rf)["sharpe"])
    assert n == 500 and kurt == pytest.approx(stats.kurtosis(r - rf) + 3)
    assert skew == pytest.approx(stats.skew(r - rf))


def _brute_force_pbo(n_rows: int, blocks: int, n_trials: int, objective) -> np.ndarray:
    """CSCV as the paper states it: every half of the blocks in sample, the objective computed
    afresh on each half's rows (`objective(rows, j)`), the in-sample best ranked out of sample."""
    parts = np.array_split(np.arange(n_rows), blocks)
    logits = []
    for combo in itertools.combinations(range(blocks), blocks // 2):
        ins = np.concatenate([parts[i] for i in combo])
        oos = np.setdiff1d(np.arange(n_rows), ins)
        f_in = [objective(ins, j) for j in range(n_trials)]
        f_out = [objective(oos, j) for j in range(n_trials)]
        w = stats.rankdata(f_out)[int(np.argmax(f_in))] / (n_trials + 1)
        logits.append(np.log(w / (1 - w)))
    return np.array(logits)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pbo_matches_brute_force_cscv_on_sharpe(seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0, 0.01, size=(103, 5)) + rng.normal(0, 0.002, size=5)  # uneven blocks
    fast = cscv.pbo(cscv.sharpe_sums(r, 8), cscv.sharpe_from_sums)
    slow = _brute_force_pbo(103, 8, 5, lambda rows, j: r[rows, j].mean() / r[rows, j].std(ddof=1))
    assert fast.n_splits == 70
    np.testing.assert_allclose(fast.logits, slow, rtol=1e-9, atol=1e-12)
    assert fast.pbo == pytest.approx(np.mean(slow <= 0))


@given(seed=hs.integers(0, 10_000), blocks=hs.sampled_from([4, 6, 8]), n=hs.integers(2, 6))
@settings(max_examples=25, deadline=None)
def test_pbo_matches_brute_force_cscv_on_correlation(seed: int, blocks: int, n: int) -> None:
    """The calibration grid's objective: each trial's correlation with one target series."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=60)
    x = y[:, None] * rng.uniform(0, 1, n) + rng.normal(size=(60, n))
    fast = cscv.pbo(cscv.correlation_sums(x, y, blocks), cscv.correlation_from_sums)
    slow = _brute_force_pbo(60, blocks, n, lambda rows, j: np.corrcoef(x[rows, j], y[rows])[0, 1])
    np.testing.assert_allclose(fast.logits, slow, rtol=1e-9, atol=1e-9)


def test_pbo_is_low_for_a_real_edge_and_near_a_half_for_noise() -> None:
    rng = np.random.default_rng(11)
    noise = rng.normal(0, 0.01, size=(2000, 20))
    edge = noise.copy()
    edge[:, 7] += 0.004  # one trial with a true Sharpe of ~6 a year
    assert cscv.pbo(cscv.sharpe_sums(edge, 16), cscv.sharpe_from_sums).pbo == 0.0
    p_noise = cscv.pbo(cscv.sharpe_sums(noise, 16), cscv.sharpe_from_sums).pbo
    assert 0.2 < p_noise < 0.8


def test_cscv_refuses_odd_or_too_many_blocks() -> None:
    with pytest.raises(ValueError, match="even"):
        cscv.block_bounds(100, 15)
    with pytest.raises(ValueError, match="too few"):
        cscv.block_bounds(20, 16)


def test_spa_and_stepm_find_a_planted_edge_and_nothing_in_noise() -> None:
    """Losses are negated returns: a strategy that beats buy-and-hold must come out superior."""
    rng = np.random.default_rng(5)
    idx = pd.bdate_range("2000-01-01", periods=1500)
    bench = pd.Series(rng.normal(0.0003, 0.01, 1500), index=idx, name="buy_and_hold")
    noise = pd.DataFrame(
        {f"s{i}": bench + rng.normal(-0.0002, 0.005, 1500) for i in range(4)}, index=idx
    )
    rows = pd.DataFrame(search.superiority_tests("noise", noise, bench, 300, 1, 4))
    assert rows.set_index("statistic").at["p_value_consistent", "value"] > 0.2
    assert rows.set_index("statistic").at["superior_strategies", "value"] == 0
    planted = noise.assign(s2=bench + 0.002 + rng.normal(0, 0.005, 1500))
    rows = pd.DataFrame(search.superiority_tests("planted", planted, bench, 300, 1, 4))
    r = rows.set_index("statistic")
    assert r.at["p_value_consistent", "value"] < 0.01
    assert r.at["superior_strategies", "value"] == 1
    assert r.at["superior_strategies", "detail"].endswith("superior: s2")


def test_the_splice_uses_fama_french_then_spy_and_measures_the_overlap() -> None:
    days = pd.bdate_range("2021-01-01", periods=300)
    rng = np.random.default_rng(2)
    mkt = rng.normal(0.04, 1.0, 200)  # percent per day
    ff3 = pd.DataFrame({"date": days[:200].strftime("%Y-%m-%d"), "mkt_rf": mkt - 0.01, "rf": 0.01})
    spy_r = np.r_[mkt[100:200] / 100 + rng.normal(0, 0.001, 100), rng.normal(0, 0.01, 100)]
    spy = pd.Series(100 * np.cumprod(np.r_[1.0, 1 + spy_r]), index=days[99:])
    daily, splice = tr.spliced_total_return(ff3, spy)
    assert splice["splice_date"] == days[199].date().isoformat()
    np.testing.assert_allclose(daily.loc[: days[199]].to_numpy(), mkt / 100)
    np.testing.assert_allclose(daily.loc[days[200] :].to_numpy(), spy_r[100:])
    assert splice["overlap_sessions"] == 100
    a, b = mkt[100:200] / 100, spy_r[:100]
    assert splice["overlap_correlation"] == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert splice["overlap_tracking_error"] == pytest.approx(np.std(a - b, ddof=1) * np.sqrt(252))
    with pytest.raises(ValueError, match="mkt_rf"):
        tr.spliced_total_return(ff3.drop(columns="mkt_rf"), spy)


def test_on_calendar_compounds_the_sessions_a_target_lacks() -> None:
    """Saturday sessions (the NYSE before 1952) fold into the next weekday's return."""
    days = pd.date_range("1930-01-01", periods=30, freq="D")
    daily = pd.Series(np.random.default_rng(4).normal(0, 0.01, 30), index=days)
    target = days[(days.dayofweek < 5)][3:]
    on = tr.on_calendar(daily, target)
    level = (1 + daily).cumprod()
    for a, b in itertools.pairwise(target):
        assert on[b] == pytest.approx(level[b] / level[a] - 1)
    assert np.isnan(on.iloc[0])
    assert float(np.prod(1 + on.iloc[1:])) == pytest.approx(level[target[-1]] / level[target[0]])


def test_a_fully_invested_replica_earns_total_return_buy_and_hold() -> None:
    """Like for like: position 1 with no costs is buy-and-hold; the price-only row is lower."""
    idx = pd.bdate_range("2010-01-01", periods=300)
    rng = np.random.default_rng(9)
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0.0003, 0.01, 300)), index=idx)
    total = price.pct_change() + 0.0001  # a dividend of 1 bp a day
    cash = pd.Series(0.00005, index=idx)
    rows, daily = st.replica_backtest(
        price, {"replica": pd.Series(1.0, index=idx)}, cash, 0.0, idx[0], total_return=total
    )
    full = rows[rows["period"] == "full"].set_index("strategy")
    assert full.at["replica", "total_return"] == pytest.approx(
        full.at["buy_and_hold", "total_return"]
    )
    assert full.at["buy_and_hold_price", "total_return"] < full.at["buy_and_hold", "total_return"]
    np.testing.assert_allclose(daily["replica"], daily["buy_and_hold"])
    flat, _ = st.replica_backtest(
        price, {"replica": pd.Series(0.0, index=idx)}, cash, 0.0, idx[0], total_return=total
    )
    f = flat.set_index(["strategy", "period"])
    assert f.at[("replica", "full"), "total_return"] == pytest.approx(
        f.at[("cash", "full"), "total_return"]
    )
    plain, _ = st.replica_backtest(price, {"replica": pd.Series(1.0, index=idx)}, cash, 0.0, idx[0])
    assert "buy_and_hold" not in set(plain["strategy"]) and "buy_and_hold_price" in set(
        plain["strategy"]
    )


def test_deflated_columns_fill_only_strategies_on_their_own_span() -> None:
    idx = pd.bdate_range("2010-01-01", periods=400)
    rng = np.random.default_rng(1)
    ex = pd.Series(rng.normal(0.001, 0.01, 400), index=idx)
    rows = pd.DataFrame(
        {"strategy": ["replica", "replica", "buy_and_hold"], "period": ["full", "common", "full"],
         "start": [idx[0], idx[200], idx[0]], "end": [idx[-1], idx[-1], idx[-1]]}
    ).reindex(columns=list(st.BACKTEST_COLUMNS))  # fmt: skip
    out = search.add_deflated(rows, {"replica": ex}, 10, 0.0004)
    sr, n, skew, kurt = ds.sharpe_moments(ex.loc[idx[200] :].to_numpy())
    assert out.at[1, "deflated_sharpe"] == pytest.approx(
        ds.deflated_sharpe(sr, n, skew, kurt, 10, 0.0004)[0]
    )
    assert out.at[0, "deflated_sharpe"] != out.at[1, "deflated_sharpe"]
    assert np.isnan(out.at[2, "deflated_sharpe"]) and out.at[0, "dsr_trials"] == 10


def test_pbo_blocks_must_be_even() -> None:
    from eventlab.errors import ConfigError
    from eventlab.settings.validation import BacktestParams

    with pytest.raises(ConfigError, match="pbo_blocks") as err:
        BacktestParams(pbo_blocks=15)
    assert "16" in str(err.value)
    assert BacktestParams().entries[0] == "next_open"  # the default entry sees the close first


def _grid(oos_by_smoothing: dict[int, list[float]], chosen: tuple[int, int]) -> pd.DataFrame:
    rows = []
    for sm, values in oos_by_smoothing.items():
        for i, v in enumerate(values):
            rows.append(["(21, 63, 252)", 1.0, 0.1, sm, 0.5, v, (sm, i) == chosen])
    return pd.DataFrame(rows, columns=["lookbacks", "saturation_z", "vol_target", "smoothing",
                                       "in_sample_corr", "out_of_sample_corr", "chosen"])  # fmt: skip


def test_the_calibration_sentence_credits_smoothing_only_when_the_grid_shows_it() -> None:
    from eventlab.report import backtest_section as bts

    smooth = _grid({1: [0.5, 0.55, 0.6, 0.45], 60: [0.72, 0.75, 0.71, 0.69]}, (60, 1))
    text = bts.calibration_sentence(smooth, 0.75)
    assert "ranks 1 of 8" in text and "38% of all grid points" in text and "75% of those" in text
    assert "credits the smoothing" in text
    flat = _grid({1: [0.72, 0.75, 0.71, 0.69], 60: [0.5, 0.55, 0.6, 0.71]}, (60, 3))
    text = bts.calibration_sentence(flat, 0.71)
    assert "ranks 3 of 8" in text and "credits the smoothing" not in text
    dist = bts.grid_distribution(smooth)
    assert [r[0] for r in dist["rows"]] == ["1", "60", "all"]
    assert dist["rows"][1][-1] == "75%" and dist["rows"][2][-1] == "38%"


def test_the_search_check_catches_a_bad_probability_and_a_broken_splice() -> None:
    from eventlab.backtest.checks import search_valid

    def table(corr: float, p: float, pbo: float) -> pd.DataFrame:
        return pd.DataFrame(
            {"statistic": ["overlap_correlation", "p_value_consistent", "pbo", "pbo"],
             "value": [corr, p, pbo, np.nan],
             "detail": ["", "", "", "not computed: 20 rows are too few for 16 blocks"]}
        )  # fmt: skip

    assert search_valid(table(0.976, 0.5, 0.02))["passed"]
    assert not search_valid(table(0.5, 0.5, 0.02))["passed"]  # the sources disagree
    assert not search_valid(table(0.976, 1.2, 0.02))["passed"]
    assert not search_valid(table(0.976, 0.5, -0.1))["passed"]
    unexplained = table(0.976, np.nan, 0.02)
    assert not search_valid(unexplained)["passed"]


def test_the_search_table_without_event_strategies_still_tests_the_replicas() -> None:
    """An empty study sample (a valid configuration) leaves no event strategy: the backtest
    family falls back on the replica's buy-and-hold, the event sweep's PBO is not shown, and a
    span too short for the blocks says so instead of failing."""
    from eventlab.settings.validation import BacktestParams

    rng = np.random.default_rng(8)
    idx = pd.bdate_range("2000-01-03", periods=600)
    rd = pd.DataFrame(rng.normal(0.0003, 0.01, (600, 3)), index=idx,
                      columns=["replica", "replica_calibrated", "buy_and_hold"]).assign(cash=0.0001)  # fmt: skip
    grid = pd.DataFrame(rng.normal(0.0002, 0.01, (600, 3)), index=idx, columns=["g1", "g2", "g3"])
    pos = pd.DataFrame(rng.uniform(-1, 1, (600, 3)), index=idx, columns=grid.columns)
    implied = pd.Series(rng.normal(size=30), index=idx[-30:])  # too short for 8 blocks of 2+
    excess = {
        "replica": rd[["replica", "replica_calibrated"]] - 0.0001,
        "events": pd.DataFrame(index=idx),
        "grid": grid - 0.0001,
    }
    splice = {"splice_date": "2022-03-31", "overlap_start": "1993-02-01", "overlap_end": "2022-03-31",
              "overlap_sessions": 7000, "overlap_correlation": 0.97, "overlap_tracking_error": 0.04,
              "overlap_cagr_ff3": 0.1, "overlap_cagr_spy": 0.1}  # fmt: skip
    out = search.search_table(rd, pd.DataFrame(), excess, grid, pos, implied, splice, 5,
                              BacktestParams(pbo_blocks=16, bootstrap_reps=100))  # fmt: skip
    fams = set(out["family"])
    assert "event sweep (entries x horizons)" not in fams
    daily = out[out["family"] == "every backtest configuration, daily"].set_index("statistic")
    assert daily.at["p_value_consistent", "n_obs"] == 600 and daily["n_trials"].eq(5).all()
    cal = out[out["family"] == "calibration grid"]
    assert len(cal) == 1 and cal["value"].isna().all() and "too few" in cal["detail"].iloc[0]
    strat = out[(out["family"] == "calibration grid as strategies") & (out["statistic"] == "pbo")]
    assert 0 <= strat["value"].iloc[0] <= 1
