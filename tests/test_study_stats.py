"""Forward returns and statistics checked against independent hand computations."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from eventlab.study.returns import event_paths, forward_returns
from eventlab.study.statistics import (
    adjust_pvalues,
    benjamini_hochberg,
    block_bootstrap_diff_ci,
    hac_event_regression,
    holm,
    horizon_stats,
    mann_whitney,
    mean_of_draws,
    placebo_p_value,
    welch_test,
)


def test_forward_returns_by_hand():
    close = pd.Series([100.0, 110.0, 99.0, 120.0], index=pd.bdate_range("2024-01-01", periods=4))
    fr = forward_returns(close, (1, 2))
    assert fr["fwd_1d"].iloc[0] == pytest.approx(0.10)
    assert fr["fwd_1d"].iloc[1] == pytest.approx(-0.10)
    assert fr["fwd_2d"].iloc[1] == pytest.approx(120 / 110 - 1)
    assert fr["fwd_1d"].isna().sum() == 1 and fr["fwd_2d"].isna().sum() == 2


def test_forward_returns_equal_pandas_shift_to_the_bit():
    close = pd.Series(np.random.default_rng(5).lognormal(4, 0.1, 300))
    close.iloc[[7, 40]] = np.nan
    fr = forward_returns(close, (1, 5, 299, 300))
    for k in (1, 5, 299, 300):
        want = close.shift(-k) / close - 1
        pd.testing.assert_series_equal(fr[f"fwd_{k}d"], want, check_names=False, check_exact=True)


def test_event_paths_by_hand():
    close = pd.Series([100.0, 90, 120, 60, 150], index=pd.bdate_range("2024-01-01", periods=5))
    p = event_paths(close, [close.index[1]], pre=1, post=4)
    assert list(p["offset"]) == [-1, 0, 1, 2, 3, 4]
    np.testing.assert_allclose(
        p["ret"].to_numpy()[:5], [100 / 90 - 1, 0, 120 / 90 - 1, 60 / 90 - 1, 150 / 90 - 1]
    )
    assert np.isnan(p["ret"].iloc[5])


def test_welch_and_mann_whitney_by_hand():
    rng = np.random.default_rng(0)
    y = pd.Series(rng.normal(0, 0.01, 400))
    ev = pd.Series(False, index=y.index)
    ev.iloc[[10, 90, 200, 300, 350]] = True
    row = horizon_stats(
        y, pd.Series(True, index=y.index), ev, 1, bootstrap_reps=200, placebo_reps=200, rng=rng
    )
    a, b = y[ev].to_numpy(), y[~ev].to_numpy()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    t_hand = (a.mean() - b.mean()) / np.sqrt(va + vb)
    assert row["welch_t"] == pytest.approx(t_hand)
    u_hand = sum((x > z) + 0.5 * (x == z) for x in a for z in b)
    assert row["mw_u"] == pytest.approx(u_hand)
    assert row["event_hit_rate"] == pytest.approx((a > 0).mean())
    assert row["n_events_with_horizon"] == 5


def test_hac_matches_hand_newey_west():
    rng = np.random.default_rng(1)
    n, lags = 300, 4
    d = np.zeros(n)
    d[rng.choice(n, 12, replace=False)] = 1
    e = np.convolve(rng.normal(size=n + lags), np.ones(lags + 1) / (lags + 1), mode="valid")[:n]
    y = 0.01 * d + e
    got = hac_event_regression(y, d, maxlags=lags)
    X = np.column_stack([np.ones(n), d])
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    u = y - X @ beta
    xu = X * u[:, None]
    S = xu.T @ xu
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        G = xu[lag:].T @ xu[:-lag]
        S += w * (G + G.T)
    bread = np.linalg.inv(X.T @ X)
    cov = bread @ S @ bread * n / (n - 2)  # small-sample correction, as use_correction=True
    assert got["hac_coef"] == pytest.approx(beta[1])
    assert got["hac_se"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-6)


def test_bootstrap_ci_covers_a_known_difference():
    rng = np.random.default_rng(2)
    events = rng.normal(0.02, 0.01, 40)
    base = rng.normal(0.0, 0.01, 3000)
    lo, hi = block_bootstrap_diff_ci(events, base, 5, 2000, rng)
    assert lo < 0.02 < hi and lo > 0.01
    assert all(np.isnan(block_bootstrap_diff_ci(events[:1], base, 5, 100, rng)))  # one event: no CI


def test_baseline_bootstrap_resamples_whole_blocks_at_any_size():
    """The baseline's resampled means are means of ceil(n / block) drawn moving blocks, however
    many blocks that is (no normal approximation above some size), draw for draw."""
    from eventlab.study.statistics import bootstrap_means

    rng = np.random.default_rng(5)
    events = rng.normal(0.02, 0.03, 8)
    base = np.convolve(rng.standard_t(4, 5020) * 0.01, np.ones(20), "valid")[:5000]
    for block in (5, 20):
        reps = 300
        ev, got = bootstrap_means(events, base, block, reps, np.random.default_rng(9))
        ref = np.random.default_rng(9)
        ref.integers(0, len(events), size=(reps, len(events)), dtype=np.int32)  # the event draws
        m = int(np.ceil(len(base) / block))  # 1000 and 250 blocks
        starts = ref.integers(0, len(base) - block + 1, size=(reps, m), dtype=np.int32)
        want = np.array(
            [np.concatenate([base[s : s + block] for s in row]).mean() for row in starts]
        )
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
        assert len(ev) == reps


def test_placebo_p_is_small_for_outliers_and_large_for_typical_days():
    rng = np.random.default_rng(3)
    pool = rng.normal(0, 0.01, 3000)
    assert placebo_p_value(np.full(8, 0.03), pool, 2000, rng) < 0.01
    assert placebo_p_value(pool[:8] * 0 + pool.mean(), pool, 2000, rng) > 0.9


def test_multiple_testing_matches_statsmodels():
    p = np.array([0.001, 0.04, 0.03, 0.2, 0.5])
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])


def test_welch_p_matches_scipy():
    rng = np.random.default_rng(4)
    y = pd.Series(rng.normal(0, 0.01, 500))
    ev = pd.Series(False, index=y.index)
    ev.iloc[::50] = True
    y[ev] += 0.01
    row = horizon_stats(
        y, pd.Series(True, index=y.index), ev, 5, bootstrap_reps=200, placebo_reps=200, rng=rng
    )
    assert row["welch_p"] == pytest.approx(sps.ttest_ind(y[ev], y[~ev], equal_var=False).pvalue)
    assert row["hac_maxlags"] >= 4  # >= k - 1 for overlapping 5-day windows


def statsmodels_hac(y: np.ndarray, d: np.ndarray, maxlags: int) -> dict[str, float]:
    """The reference: statsmodels OLS with Newey-West HAC, as the study used to call it."""
    X = sm.add_constant(d.astype(float), has_constant="add")
    fit = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True})
    return {
        "hac_coef": fit.params[1],
        "hac_se": fit.bse[1],
        "hac_t": fit.tvalues[1],
        "hac_p": fit.pvalues[1],
    }


def assert_same_hac(y: np.ndarray, d: np.ndarray, maxlags: int) -> None:
    got, want = hac_event_regression(y, d, maxlags), statsmodels_hac(y, d, maxlags)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-10, abs=0), key
    assert got["hac_maxlags"] == maxlags


@pytest.mark.parametrize("seed", range(12))
def test_hac_equals_statsmodels_ols_fit_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n, lags = int(rng.integers(40, 2000)), int(rng.integers(1, 25))
    d = np.zeros(n)
    d[rng.choice(n, int(rng.integers(2, 30)), replace=False)] = 1
    d[[0, 1, n - 1]] = seed % 2  # events at both edges and next to each other
    e = np.convolve(rng.normal(size=n + lags), np.ones(lags + 1) / (lags + 1), mode="valid")[:n]
    assert_same_hac(0.01 * d + e, d, lags)


def test_hac_equals_statsmodels_ols_fit_on_the_snapshot(snapshot_prices):
    from eventlab.config import StudyParams
    from eventlab.study.returns import fwd_col
    from eventlab.study.run import run_variant

    for name, params in (("main", StudyParams()), ("all", StudyParams(open_policy="all"))):
        v = run_variant(snapshot_prices, params, name)
        for k in params.horizons:
            fwd = v.fwd[fwd_col(k)]
            ok = (v.in_sample & fwd.notna()).to_numpy()
            assert_same_hac(fwd.to_numpy()[ok], v.is_event.to_numpy()[ok], max(k, 1))


@pytest.mark.parametrize("seed", range(6))
def test_welch_and_mann_whitney_equal_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    # Rounded values give ties within and across the samples.
    ev = np.round(rng.normal(0.003, 0.01, int(rng.integers(2, 40))), 3)
    base = np.round(rng.normal(0, 0.01, int(rng.integers(50, 3000))), 3)
    t = sps.ttest_ind(ev, base, equal_var=False)
    assert welch_test(ev, base) == pytest.approx((t.statistic, t.pvalue), rel=1e-12)
    mw = sps.mannwhitneyu(ev, base, alternative="two-sided", method="asymptotic")
    assert mann_whitney(ev, base) == pytest.approx((mw.statistic, mw.pvalue), rel=1e-12)


@pytest.mark.parametrize(
    ("n_values", "size", "reps"), [(4064, 814, 2000), (9, 8, 2000), (50, 7, 3)]
)
def test_chunked_draws_are_the_one_shot_draws(n_values, size, reps):
    """Chunking must not change a single draw: same means, same generator state afterwards."""
    values = np.random.default_rng(0).normal(size=n_values)
    one, chunked = np.random.default_rng(7), np.random.default_rng(7)
    want = values[one.integers(0, n_values, size=(reps, size), dtype=np.int32)].mean(axis=1)
    np.testing.assert_array_equal(mean_of_draws(values, size, reps, chunked), want)
    assert one.integers(0, 2**62) == chunked.integers(0, 2**62)


def test_adjust_pvalues_per_variant_match_statsmodels():
    stats = pd.DataFrame(
        {
            "variant": ["a", "a", "a", "b", "b", "c"],
            "hac_p": [0.01, 0.04, np.nan, 0.03, 0.2, np.nan],
        }
    )
    out = adjust_pvalues(stats)
    for rows in ([0, 1], [3, 4]):  # the non-missing p-values of variants a and b
        p = stats["hac_p"].to_numpy()[rows]
        want_holm, want_bh = (multipletests(p, method=m)[1] for m in ("holm", "fdr_bh"))
        np.testing.assert_allclose(out["p_holm"].to_numpy()[rows], want_holm)
        np.testing.assert_allclose(out["p_bh"].to_numpy()[rows], want_bh)
    assert out["p_holm"].isna().tolist() == [False, False, True, False, False, True]
    assert list(out.columns) == ["variant", "hac_p", "p_holm", "p_bh"]
