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


def _cluster_ids(groups: np.ndarray) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(groups, sort=False)
    return codes, len(uniques)


def clustered_mean(y: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Mean of y with a cluster-robust SE (OLS on a constant, clusters = groups)."""
    n = len(y)
    if n < 2:
        return {"mean": float(np.mean(y)) if n else np.nan, "se": np.nan, "t": np.nan, "p": np.nan}
    codes, g = _cluster_ids(groups)
    m = float(y.mean())
    sums = np.bincount(codes, weights=y - m, minlength=g)
    var = (sums @ sums) / n**2 * (g / (g - 1) if g > 1 else np.nan)
    return _tp(m, var)


def clustered_diff(y: np.ndarray, d: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """OLS of y on a constant and the dummy d, cluster-robust SE of the dummy's coefficient."""
    d = d.astype(bool)
    n, n_e = len(y), int(d.sum())
    n_b = n - n_e
    if n_e == 0 or n_b == 0 or n < 3:
        return {"mean": np.nan, "se": np.nan, "t": np.nan, "p": np.nan}
    codes, g = _cluster_ids(groups)
    m_e, m_b = y[d].mean(), y[~d].mean()
    u = y - np.where(d, m_e, m_b)
    s0 = np.bincount(codes, weights=u, minlength=g)
    s1 = np.bincount(codes, weights=np.where(d, u, 0.0), minlength=g)
    meat = np.array([[s0 @ s0, s0 @ s1], [s0 @ s1, s1 @ s1]])
    row = np.array([-1 / n_b, n / (n_e * n_b)])  # (X'X)^-1's row for the dummy
    correction = g / (g - 1) * (n - 1) / (n - 2) if g > 1 else np.nan
    return _tp(float(m_e - m_b), float(row @ meat @ row) * correction)


def _tp(coef: float, var: float) -> dict[str, float]:
    se = float(np.sqrt(var)) if var >= 0 else np.nan
    t = coef / se if se and se > 0 else np.nan
    return {"mean": coef, "se": se, "t": t, "p": float(2 * special.ndtr(-abs(t)))}


def pooled_horizon_row(days: pd.DataFrame, k: int) -> dict[str, object]:
    """Events vs baseline ticker-days for horizon k over the rows of `days` (one group)."""
    col = fwd_col(k)
    ok = days["in_sample"].to_numpy(bool) & days[col].notna().to_numpy()
    y = days[col].to_numpy(float)[ok]
    d = days["is_event"].to_numpy(bool)[ok]
    dates = days["date"].to_numpy()[ok]
    ev, base = y[d], y[~d]
    em = clustered_mean(ev, dates[d])
    diff = clustered_diff(y, d, dates)
    n_e = len(ev)
    return {
        "horizon": k,
        "n_events": int((days["is_event"] & days["in_sample"]).sum()),
        "n_events_with_horizon": n_e,
        "n_event_dates": int(pd.unique(dates[d]).size),
        "n_tickers_with_events": int(days.loc[days["is_event"], "ticker"].nunique()),
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
        "n_date_clusters": int(pd.unique(dates).size),
    }


def pooled_stats(
    days: pd.DataFrame, horizons: tuple[int, ...], sector_of: dict[str, str]
) -> pd.DataFrame:
    """Long table: group_type (all / sector / year) x group x horizon, events vs baseline.

    By year: events and baseline days of that calendar year. By sector: that sector's tickers.
    """
    days = days.assign(
        sector=days["ticker"].map(sector_of).fillna("Unclassified"),
        year=pd.DatetimeIndex(days["date"]).year,
    )
    rows = []
    groups: list[tuple[str, object, pd.DataFrame]] = [("all", "all", days)]
    groups += [("sector", s, g) for s, g in days.groupby("sector", sort=True)]
    groups += [("year", int(y), g) for y, g in days.groupby("year", sort=True)]
    for kind, name, frame in groups:
        for k in horizons:
            rows.append(
                {
                    "group_type": kind,
                    "group": str(name),
                    "n_tickers": frame["ticker"].nunique(),
                    **pooled_horizon_row(frame, k),
                }
            )
    return pd.DataFrame(rows)
