"""Small-sample inference, declustering, leave-one-out, regime baselines, open accuracy and the
verdict rule, each against an independent computation (scipy, brute force, hand-built cases)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from reference import decluster_brute, shift_p_brute
from scipy import stats as sps

from eventlab.config import StudyParams
from eventlab.study import open_accuracy as oa
from eventlab.study.evidence import leave_one_out
from eventlab.study.returns import mean_t_interval
from eventlab.study.small_sample import (
    binomial_p,
    binomial_pmf,
    circular_shift_p,
    decluster,
    median_interval,
    t_interval,
    weighted_comparison,
)
from eventlab.study.statistics import INFERENTIAL_COLUMNS, sample_stats
from eventlab.study.whole_study import VariantResult, run_variant

RNG = np.random.default_rng(7)


def test_t_interval_matches_scipy() -> None:
    """t_interval (the statistics row) and mean_t_interval (key figures, mean path band) are one
    computation: scipy's t interval of the finite values, none below two values."""
    for n in (2, 5, 8, 40):
        x = RNG.normal(0.01, 0.03, n)
        lo, hi = t_interval(x)
        ref = sps.t.interval(0.95, n - 1, loc=x.mean(), scale=sps.sem(x))
        assert (lo, hi) == pytest.approx(ref, rel=1e-12)
        assert t_interval(x, alpha=0.1) == pytest.approx(
            sps.t.interval(0.9, n - 1, loc=x.mean(), scale=sps.sem(x)), rel=1e-12
        )
    x = np.array([0.034, 0.095, -0.016, 0.0098, np.nan])
    n, mean, low, high = mean_t_interval(x, 0.95)
    ref = sps.t.interval(0.95, 3, loc=np.nanmean(x), scale=sps.sem(x[:4]))
    assert n == 4 and mean == pytest.approx(np.nanmean(x))
    assert (low, high) == pytest.approx(ref, rel=1e-12)
    assert np.isnan(mean_t_interval([0.01])[2]) and mean_t_interval([])[0] == 0


@pytest.mark.parametrize("n", [1, 3, 5, 6, 8, 12, 25, 40])
def test_median_interval_is_the_tightest_order_statistic_pair_with_95pct_coverage(n: int) -> None:
    x = RNG.normal(size=n)
    lo, hi, cov = median_interval(x)
    xs = np.sort(x)
    # brute force: coverage of [x_(j), x_(n-j+1)] = P(j <= B <= n-j), B ~ Bin(n, 1/2)
    best = 1
    for j in range(1, n // 2 + 1):
        c = sum(sps.binom.pmf(b, n, 0.5) for b in range(j, n - j + 1))
        if c >= 0.95:
            best = j
    c_best = sum(sps.binom.pmf(b, n, 0.5) for b in range(best, n - best + 1))
    assert (lo, hi) == (xs[best - 1], xs[n - best])
    assert cov == pytest.approx(c_best, abs=1e-12)


def test_binomial_p_matches_scipy_binomtest() -> None:
    for _ in range(500):
        n = int(RNG.integers(1, 80))
        k = int(RNG.integers(0, n + 1))
        p0 = float(RNG.uniform(0.02, 0.98))
        assert binomial_p(k, n, p0) == pytest.approx(sps.binomtest(k, n, p0).pvalue, abs=1e-12)


def test_binomial_pmf_matches_scipy_up_to_large_n() -> None:
    for n in (1, 2, 8, 40, 300, 2000):
        for p0 in (0.01, 0.3, 0.5, 0.537, 0.99):
            want = sps.binom.pmf(np.arange(n + 1), n, p0)
            np.testing.assert_allclose(binomial_pmf(n, p0), want, rtol=1e-11, atol=1e-300)


def test_circular_shift_p_equals_a_loop_over_np_roll() -> None:
    for _ in range(20):
        n_all = int(RNG.integers(30, 120))
        y = RNG.standard_t(4, n_all) * np.where(np.arange(n_all) > n_all // 2, 3, 1)
        d = np.zeros(n_all, bool)
        d[RNG.choice(n_all, int(RNG.integers(2, 9)), replace=False)] = True
        assert circular_shift_p(y, d) == pytest.approx(shift_p_brute(y, d), abs=1e-12)
        assert circular_shift_p(y, d, method="fft") == pytest.approx(shift_p_brute(y, d), abs=1e-12)


@pytest.mark.parametrize("decimals", [None, 3])
def test_fft_circular_shift_p_equals_the_direct_one_at_stock_sizes(decimals) -> None:
    # A stock's sample: ~5,000 days, hundreds of events, fat tails, a volatile stretch; rounded
    # returns (decimals=3) put many exact ties among the shifted statistics.
    for _ in range(6):
        n_all = int(RNG.integers(3000, 5500))
        y = RNG.standard_t(3, n_all) * 0.02 * np.where(np.arange(n_all) % 1700 < 300, 3, 1)
        if decimals:
            y = np.round(y, decimals)
        d = np.zeros(n_all, bool)
        d[RNG.choice(n_all, int(RNG.integers(20, 400)), replace=False)] = True
        assert circular_shift_p(y, d, method="fft") == circular_shift_p(y, d)
    with pytest.raises(ValueError, match="unknown method"):
        circular_shift_p(y, d, method="loop")


def test_event_bootstrap_is_seeded_and_is_the_percentile_of_resampled_means() -> None:
    # sample_stats takes the event-resampling CI from the bootstrap's event draws, which are the
    # first draws of its generator (nothing before them uses it)
    x = RNG.normal(size=8)
    y = np.r_[x, RNG.normal(size=600)]
    d = np.r_[np.ones(8, bool), np.zeros(600, bool)]

    def ci(seed: int) -> tuple[float, float]:
        row = sample_stats(
            y, d, 5, 8, bootstrap_reps=500, placebo_reps=100, rng=np.random.default_rng(seed)
        )
        return (row["event_boot_ci_low"], row["event_boot_ci_high"])

    a, b = ci(3), ci(3)
    assert a == b
    draws = np.random.default_rng(3).integers(0, 8, size=(500, 8), dtype=np.int32)
    ref = np.quantile(x[draws].mean(axis=1), [0.025, 0.975])
    assert a == pytest.approx(tuple(ref), rel=1e-12)


def test_decluster_on_random_event_sets() -> None:
    for _ in range(300):
        pos = sorted(RNG.choice(400, int(RNG.integers(0, 25)), replace=False).tolist())
        cooldown = int(RNG.integers(0, 40))
        episode, starts = decluster(np.array(pos, dtype=np.int64), cooldown)
        assert starts.tolist() == decluster_brute(pos, cooldown)
        # every event lies within the cooldown of its episode's first event
        for p, e in zip(pos, episode, strict=True):
            assert 0 <= p - starts[e] <= cooldown
        assert all(b - a > cooldown for a, b in itertools.pairwise(starts.tolist()))


def test_too_few_events_leave_every_inferential_column_empty() -> None:
    y = RNG.normal(size=500)
    d = np.zeros(500, bool)
    d[[10, 200, 300]] = True
    row = sample_stats(
        y, d, 5, 3, bootstrap_reps=200, placebo_reps=200, rng=np.random.default_rng(1), min_events=5
    )
    assert all(np.isnan(row[c]) for c in INFERENTIAL_COLUMNS)
    assert "too few events" in row["inference_note"]
    assert row["event_mean"] == pytest.approx(y[d].mean())  # descriptive figures stay
    d[[50, 400]] = True
    row = sample_stats(
        y, d, 5, 5, bootstrap_reps=200, placebo_reps=200, rng=np.random.default_rng(1), min_events=5
    )
    assert not np.isnan(row["perm_p"]) and row["inference_note"] == ""


def test_weighted_comparison_with_equal_weights_is_the_plain_comparison() -> None:
    ev, base = RNG.normal(0.02, 0.03, 8), RNG.normal(0, 0.01, 301)
    out = weighted_comparison(ev, base, np.ones(len(base)))
    assert out["baseline_mean"] == pytest.approx(base.mean())
    assert out["baseline_median"] == pytest.approx(np.median(base))
    assert out["baseline_hit_rate"] == pytest.approx((base > 0).mean())
    se = np.sqrt(ev.var(ddof=1) / 8 + base.var(ddof=0) / len(base))
    assert out["t_p"] == pytest.approx(2 * sps.t.sf(abs(ev.mean() - base.mean()) / se, 7))
    # a baseline weighted onto two days is their weighted mean
    w = np.zeros(len(base))
    w[[0, 1]] = [3, 1]
    assert weighted_comparison(ev, base, w)["baseline_mean"] == pytest.approx(
        0.75 * base[0] + 0.25 * base[1]
    )


def _synthetic_prices(n: int = 1500, seed: int = 4) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2015-01-01", periods=n)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    prev = np.r_[close[0], close[:-1]]
    open_ = prev * (1 + rng.normal(0, 0.006, n))
    high = np.maximum(open_, close) * 1.002
    low = np.minimum(open_, close) * 0.998
    px = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1.0}, index=idx
    )
    vix = pd.DataFrame(
        {c: 15 + 10 * rng.random(n) for c in ("open", "high", "low", "close")}, index=idx
    )
    vix["volume"] = 0.0
    return {"IDX": px, "VIX": vix}


def test_leave_one_out_by_brute_force() -> None:
    prices = _synthetic_prices()
    params = StudyParams(
        index="IDX",
        robustness_index="IDX",
        gap_threshold=0.008,
        start=pd.Timestamp("2015-01-01").date(),
        genuine_coverage_window=20,
    )
    v: VariantResult = run_variant(prices, params, "main")
    assert len(v.events) >= 6
    loo = leave_one_out(v)
    close = prices["IDX"]["close"]
    for k in params.horizons:
        fwd = close.shift(-k) / close - 1
        dates = pd.DatetimeIndex(v.events["date"])
        for d in dates:
            rest = fwd.reindex(dates.drop(d)).dropna()
            row = loo[(loo["horizon"] == k) & (loo["left_out"] == d.date().isoformat())].iloc[0]
            assert row["mean_without"] == pytest.approx(rest.mean(), rel=1e-12)
            assert row["median_without"] == pytest.approx(rest.median(), rel=1e-12)
            assert row["n_events"] == len(rest)


def test_open_accuracy_ratio_and_effective_visibility() -> None:
    n = 400
    idx = pd.bdate_range("2010-01-01", periods=n)
    ref_gap = np.where(np.arange(n) % 2 == 0, 0.01, -0.002)  # every other day qualifies
    share = np.where(np.arange(n) < 200, 0.2, 0.8)
    ref_close = np.full(n, 100.0)
    ref = pd.DataFrame({"open": 100 * (1 + ref_gap), "close": ref_close}, index=idx)
    index = pd.DataFrame({"open": 100 * (1 + share * ref_gap), "close": ref_close}, index=idx)
    ratios = oa.gap_ratios(index, ref, 0.005, window=10)
    q = ratios[ratios["qualifying"]]
    # day 0 has no prior close, so the qualifying days are the even days from day 2
    assert q["ratio"].to_numpy() == pytest.approx(share[np.arange(n) % 2 == 0][1:])
    visible = oa.effective_visibility(ratios, 0.5)
    # the 10-day median reaches the bound 0.5 (the mean of 0.2 and 0.8) once 5 of the last 10
    # qualifying days are post-change, and never falls below it again
    post = q.index[q.index >= idx[200]]
    assert visible == post[4]
    by_year = oa.accuracy_by_year(ratios)
    assert by_year["qualifying_days"].sum() == len(q)
