"""Forward returns and statistics checked against independent hand computations."""

import numpy as np
import pandas as pd
import pytest
from reference import block_bootstrap_diff_ci, horizon_stats, statsmodels_hac
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from eventlab.study.returns import event_paths, forward_returns
from eventlab.study.statistics import (
    adjust_pvalues,
    benjamini_hochberg,
    hac_event_regression,
    holm,
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


def test_sample_stats_compare_the_events_with_the_other_days_of_the_valid_sample():
    """The row's tests are welch_test and mann_whitney (checked against scipy below) of the events
    against the non-event days that are in the sample and have a forward return."""
    rng = np.random.default_rng(4)
    y = pd.Series(rng.normal(0, 0.01, 500))
    ev = pd.Series(False, index=y.index)
    ev.iloc[::50] = True
    y[ev] += 0.01
    in_sample = pd.Series(True, index=y.index)
    in_sample.iloc[:30] = False  # outside the sample (event day 0 among them)
    y.iloc[[50, 77]] = np.nan  # an event and a plain day without a forward return
    row = horizon_stats(y, in_sample, ev, 5, bootstrap_reps=200, placebo_reps=200, rng=rng)
    ok = in_sample & y.notna()
    a, b = y[ok & ev].to_numpy(), y[ok & ~ev].to_numpy()
    assert len(a) == 8 and len(b) == 460  # 470 days in the sample, 9 events, day 77 without
    assert (row["welch_t"], row["welch_p"]) == pytest.approx(welch_test(a, b), rel=1e-12)
    assert (row["mw_u"], row["mw_p"]) == pytest.approx(mann_whitney(a, b), rel=1e-12)
    assert row["welch_p"] == pytest.approx(sps.ttest_ind(a, b, equal_var=False).pvalue)
    assert row["event_hit_rate"] == pytest.approx((a > 0).mean())
    assert row["event_mean"] == pytest.approx(a.mean()) and row["baseline_mean"] == pytest.approx(
        b.mean()
    )
    # n_events counts the sample's events, the horizon count only those with a return
    assert (row["n_events"], row["n_events_with_horizon"], row["n_events_too_recent"]) == (9, 8, 1)
    assert row["hac_maxlags"] >= 4  # >= k - 1 for overlapping 5-day windows


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
    from eventlab.study.whole_study import run_variant

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


def test_holm_and_benjamini_hochberg_match_statsmodels_per_variant():
    p = np.array([0.001, 0.04, 0.03, 0.2, 0.5, 0.04])  # unsorted, with a tie
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])
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
