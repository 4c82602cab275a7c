"""Pooled statistics over every ticker-day, with standard errors clustered by date.

Events of different tickers on the same day are not independent (one market move drives many
of them), so every standard error here is cluster-robust with one cluster per calendar date.
The regressions have one dummy regressor, so the OLS coefficients are group means and the
cluster-robust sandwich has a closed form computed with np.bincount over dates; the numbers are
those of statsmodels' OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": date}) with its
default small-sample correction G/(G-1) * (N-1)/(N-K) and normal p-values (the tests check it).

Caveat stated in the report: k-day forward windows of the same ticker overlap across days; date
clusters do not absorb that serial correlation, so for k > 1 the SEs are a lower bound.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from eventlab.study.returns import fwd_col


def _cluster_ids(groups: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Dense cluster codes, the bincount length and the number of clusters present. Non-negative
    integer codes (pooled_stats passes date codes) are used as they are: no hashing per call."""
    if np.issubdtype(groups.dtype, np.integer) and len(groups) and groups.min() >= 0:
        counts = np.bincount(groups)
        return groups, len(counts), int(np.count_nonzero(counts))
    codes, uniques = pd.factorize(groups, sort=False)
    return codes, len(uniques), len(uniques)


def n_distinct(codes: np.ndarray) -> int:
    """Distinct values of non-negative integer codes."""
    return int(np.count_nonzero(np.bincount(codes))) if len(codes) else 0


def clustered_mean(y: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Mean of y with a cluster-robust SE (OLS on a constant, clusters = groups)."""
    n = len(y)
    if n < 2:
        return {"mean": float(np.mean(y)) if n else np.nan, "se": np.nan, "t": np.nan, "p": np.nan}
    codes, size, g = _cluster_ids(groups)
    m = float(y.mean())
    sums = np.bincount(codes, weights=y - m, minlength=size)
    var = float(sums @ sums) / n**2 * (g / (g - 1) if g > 1 else np.nan)
    return _tp(m, var)


def clustered_diff(y: np.ndarray, d: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """OLS of y on a constant and the dummy d, cluster-robust SE of the dummy's coefficient."""
    d = d.astype(bool)
    n, n_e = len(y), int(d.sum())
    n_b = n - n_e
    if n_e == 0 or n_b == 0 or n < 3:
        return {"mean": np.nan, "se": np.nan, "t": np.nan, "p": np.nan}
    codes, size, g = _cluster_ids(groups)
    m_e, m_b = y[d].mean(), y[~d].mean()
    u = y - np.where(d, m_e, m_b)
    s0 = np.bincount(codes, weights=u, minlength=size)
    s1 = np.bincount(codes, weights=np.where(d, u, 0.0), minlength=size)
    meat = np.array([[s0 @ s0, s0 @ s1], [s0 @ s1, s1 @ s1]])
    row = np.array([-1 / n_b, n / (n_e * n_b)])  # (X'X)^-1's row for the dummy
    correction = g / (g - 1) * (n - 1) / (n - 2) if g > 1 else np.nan
    return _tp(float(m_e - m_b), float(row @ meat @ row) * correction)


def _tp(coef: float, var: float) -> dict[str, float]:
    se = float(np.sqrt(var)) if var >= 0 else np.nan
    t = coef / se if se and se > 0 else np.nan
    return {"mean": coef, "se": se, "t": t, "p": float(2 * special.ndtr(-abs(t)))}


def pooled_horizon_row(
    y: np.ndarray, d: np.ndarray, dates: np.ndarray, tickers: np.ndarray, n_events: int, k: int
) -> dict[str, object]:
    """Events vs baseline ticker-days for horizon k: y (forward returns), d (event flags), their
    dates (the clusters) and ticker codes, restricted to one group's in-sample rows with y."""
    ev, base = y[d], y[~d]
    em = clustered_mean(ev, dates[d])
    diff = clustered_diff(y, d, dates)
    n_e = len(ev)
    return {
        "horizon": k,
        "n_events": n_events,
        "n_events_with_horizon": n_e,
        "n_event_dates": n_distinct(dates[d]),
        "n_tickers_with_events": n_distinct(tickers[d]),
        "event_mean": em["mean"],
        "event_mean_se_clustered": em["se"],
        "event_mean_se_iid": float(np.std(ev, ddof=1) / np.sqrt(n_e)) if n_e > 1 else np.nan,
        "event_mean_p_clustered": em["p"],
        "event_median": float(np.median(ev)) if n_e else np.nan,
        "event_hit_rate": float(np.mean(ev > 0)) if n_e else np.nan,
        "baseline_n": len(base),
        "baseline_mean": float(base.mean()) if len(base) else np.nan,
        "baseline_hit_rate": float(np.mean(base > 0)) if len(base) else np.nan,
        "diff_mean": diff["mean"],
        "diff_se_clustered": diff["se"],
        "diff_t_clustered": diff["t"],
        "diff_p_clustered": diff["p"],
        "n_date_clusters": n_distinct(dates),
    }


def pooled_stats(
    days: pd.DataFrame, horizons: tuple[int, ...], sector_of: dict[str, str]
) -> pd.DataFrame:
    """Long table: group_type (all / sector / year) x group x horizon, events vs baseline.

    By year: events and baseline days of that calendar year. By sector: that sector's tickers.
    Works on arrays with integer codes (2.7M ticker-days: no per-group frame copies).
    """
    tickers = pd.Categorical(days["ticker"])
    tcodes = tickers.codes.astype(np.int64)
    # Sectors per ticker category, then per row by the ticker codes (no 2.7M-string factorize).
    cat_sector, sec_names = pd.factorize(
        np.array([sector_of.get(str(t), "Unclassified") for t in tickers.categories]), sort=True
    )
    sec_codes = cat_sector[tcodes]
    dates = pd.DatetimeIndex(days["date"])
    date_codes = pd.factorize(dates.asi8)[0].astype(np.int64)
    years = dates.year.to_numpy()
    in_sample = days["in_sample"].to_numpy(bool)
    is_event = days["is_event"].to_numpy(bool)
    everything = np.ones(len(days), bool)
    groups: list[tuple[str, str, np.ndarray]] = [("all", "all", everything)]
    groups += [("sector", str(n), sec_codes == i) for i, n in enumerate(sec_names)]
    groups += [("year", str(y), years == y) for y in np.unique(years)]
    fwd = {k: days[fwd_col(k)].to_numpy(float) for k in horizons}
    usable = {k: in_sample & ~np.isnan(fwd[k]) for k in horizons}
    sample_events = in_sample & is_event
    rows = []
    for kind, name, mask in groups:
        n_tickers = n_distinct(tcodes[mask])
        n_events = int((mask & sample_events).sum())
        for k in horizons:
            ok = usable[k] if mask is everything else mask & usable[k]
            row = pooled_horizon_row(
                fwd[k][ok], is_event[ok], date_codes[ok], tcodes[ok], n_events, k
            )
            rows.append({"group_type": kind, "group": name, "n_tickers": n_tickers, **row})
    return pd.DataFrame(rows)
