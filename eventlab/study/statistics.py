"""Event vs baseline statistics per horizon: classic tests, HAC regression, bootstrap, placebo.

Forward windows of k days overlap, so day-level observations are autocorrelated: the regression
uses Newey-West HAC standard errors with maxlags = k (>= k-1), the bootstrap resamples baseline
days in blocks, and the placebo draws random sample days. With a handful of events, medians, hit
rates and per-event rows carry more information than any t-statistic; the table says how many.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps

from eventlab.study.returns import fwd_col


def describe(x: np.ndarray, prefix: str) -> dict[str, float]:
    """n, mean, median, std, hit rate (> 0) and quantiles of a sample."""
    n = len(x)
    q = np.quantile(x, [0.05, 0.25, 0.75, 0.95]) if n else [np.nan] * 4
    return {
        f"{prefix}_n": n,
        f"{prefix}_mean": float(np.mean(x)) if n else np.nan,
        f"{prefix}_median": float(np.median(x)) if n else np.nan,
        f"{prefix}_std": float(np.std(x, ddof=1)) if n > 1 else np.nan,
        f"{prefix}_hit_rate": float(np.mean(x > 0)) if n else np.nan,
        f"{prefix}_q05": float(q[0]),
        f"{prefix}_q25": float(q[1]),
        f"{prefix}_q75": float(q[2]),
        f"{prefix}_q95": float(q[3]),
    }


def hac_event_regression(y: np.ndarray, dummy: np.ndarray, maxlags: int) -> dict[str, float]:
    """OLS of forward return on a constant and the event dummy, Newey-West HAC covariance."""
    X = sm.add_constant(dummy.astype(float), has_constant="add")
    fit = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True})
    return {
        "hac_coef": float(fit.params[1]),
        "hac_se": float(fit.bse[1]),
        "hac_t": float(fit.tvalues[1]),
        "hac_p": float(fit.pvalues[1]),
        "hac_maxlags": maxlags,
    }


def block_bootstrap_diff_ci(
    events: np.ndarray,
    baseline: np.ndarray,
    block: int,
    reps: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile CI of mean(events) - mean(baseline): events resampled i.i.d. (they are far apart),
    baseline by moving blocks of `block` consecutive sample days (overlapping windows)."""
    n_e, n_b = len(events), len(baseline)
    if n_e < 2 or n_b < block:
        return (np.nan, np.nan)
    ev_means = events[rng.integers(0, n_e, size=(reps, n_e), dtype=np.int32)].mean(axis=1)
    # A resample of whole blocks has a mean equal to the mean of its block means, so draw block
    # starts and average precomputed block means (exact for ceil(n/block) full blocks).
    csum = np.concatenate([[0.0], np.cumsum(baseline)])
    block_means = (csum[block:] - csum[:-block]) / block
    n_blocks = int(np.ceil(n_b / block))
    base_means = block_means[
        rng.integers(0, len(block_means), size=(reps, n_blocks), dtype=np.int32)
    ].mean(axis=1)
    diff = ev_means - base_means
    lo, hi = np.quantile(diff, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def placebo_p_value(
    events: np.ndarray, pool: np.ndarray, reps: int, rng: np.random.Generator
) -> float:
    """Two-sided empirical p: how often the mean of n random sample days (same n as the events) is
    as far from the pool mean as the events' mean is (add-one smoothing)."""
    n = len(events)
    if n == 0 or len(pool) <= n:
        return np.nan
    # With n ~ 10 draws from thousands of days, drawing with replacement is indistinguishable from
    # without and keeps this one vectorized draw.
    draws = rng.integers(0, len(pool), size=(reps, n), dtype=np.int32)
    means = pool[draws].mean(axis=1)
    center = pool.mean()
    extreme = np.abs(means - center) >= abs(events.mean() - center) - 1e-15
    return float((1 + extreme.sum()) / (1 + reps))


def horizon_stats(
    fwd: pd.Series,
    in_sample: pd.Series,
    is_event: pd.Series,
    k: int,
    *,
    bootstrap_reps: int,
    placebo_reps: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Every statistic for one horizon: events vs the non-event days of the same valid sample."""
    ok = in_sample & fwd.notna()
    y = fwd[ok].to_numpy(float)
    d = is_event[ok].to_numpy(bool)
    ev, base = y[d], y[~d]
    row: dict[str, float] = {
        "horizon": k,
        "n_events": int(is_event[in_sample].sum()),
        "n_events_with_horizon": int(d.sum()),
        "n_events_too_recent": int(is_event[in_sample].sum() - d.sum()),
        **describe(ev, "event"),
        **describe(base, "baseline"),
    }
    row["diff_mean"] = row["event_mean"] - row["baseline_mean"]
    row["diff_median"] = row["event_median"] - row["baseline_median"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if len(ev) >= 2:
            t = sps.ttest_ind(ev, base, equal_var=False)
            row["welch_t"], row["welch_p"] = float(t.statistic), float(t.pvalue)
            mw = sps.mannwhitneyu(ev, base, alternative="two-sided", method="asymptotic")
            row["mw_u"], row["mw_p"] = float(mw.statistic), float(mw.pvalue)
            row.update(hac_event_regression(y, d, maxlags=max(k, 1)))
        else:
            row.update(
                {
                    c: np.nan
                    for c in (
                        "welch_t",
                        "welch_p",
                        "mw_u",
                        "mw_p",
                        "hac_coef",
                        "hac_se",
                        "hac_t",
                        "hac_p",
                    )
                }
            )
            row["hac_maxlags"] = max(k, 1)
    row["boot_block_len"] = max(k, 5)
    row["boot_ci_low"], row["boot_ci_high"] = block_bootstrap_diff_ci(
        ev, base, max(k, 5), bootstrap_reps, rng
    )
    row["placebo_p"] = placebo_p_value(ev, y, placebo_reps, rng)
    row["small_sample_warning"] = bool(len(ev) < 30)
    return row


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error)."""
    m = len(p)
    order = np.argsort(p)
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate)."""
    m = len(p)
    order = np.argsort(p)[::-1]
    adj = np.minimum.accumulate(p[order] * m / (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def adjust_pvalues(stats: pd.DataFrame, column: str = "hac_p", by: str = "variant") -> pd.DataFrame:
    """Holm and Benjamini-Hochberg adjustments of `column` across the horizons of each variant."""
    out = stats.copy()
    out["p_holm"] = np.nan
    out["p_bh"] = np.nan
    for _, grp in out.groupby(by, sort=False):
        p = grp[column]
        ok = p.notna()
        if ok.sum() == 0:
            continue
        vals = p[ok].to_numpy(float)
        out.loc[p[ok].index, "p_holm"] = holm(vals)
        out.loc[p[ok].index, "p_bh"] = benjamini_hochberg(vals)
    return out


def fwd_matrix(frame: pd.DataFrame, horizons: tuple[int, ...]) -> dict[int, pd.Series]:
    return {k: frame[fwd_col(k)] for k in horizons}
