"""The standard event-study test statistics, on arrays of event-level abnormal returns.

Each function takes one window's cumulative abnormal returns (CAR), their standardized form
(SCAR = CAR / its forecast-error sd, eventlab.universe.abnormal) or the abnormal-return blocks,
and returns (statistic, two-sided p). References:
- cross-sectional t: Brown and Warner (1985), J. Financial Economics 14, 3-31.
- Patell Z: Patell (1976), J. Accounting Research 14, 246-276 (CAR standardization as in
  Mikkelson and Partch 1988).
- BMP: Boehmer, Musumeci and Poulsen (1991), J. Financial Economics 30, 253-272.
- Kolari-Pynnonen: Kolari and Pynnonen (2010), Review of Financial Studies 23, 3996-4025.
- Corrado rank: Corrado (1989), J. Financial Economics 23, 385-395; multi-day form of Campbell and
  Wasley (1993), ranks standardized by the number of observations (Corrado and Zivney 1992).
- Cowan generalized sign: Cowan (1992), Review of Quantitative Finance and Accounting 2, 343-358.
- clustered means: Cameron, Gelbach and Miller (2011), JBES 29, 238-249 (two-way); Petersen
  (2009), RFS 22, 435-480 (clustering by time for overlapping windows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from eventlab.universe.pooled import clustered_mean


def _p_normal(z: float) -> float:
    """Two-sided normal p of z (NaN stays NaN)."""
    return float(2 * special.ndtr(-abs(z))) if np.isfinite(z) else np.nan


def cross_sectional_t(car: np.ndarray) -> tuple[float, float]:
    """t = mean(CAR) / (sd(CAR) / sqrt(N)), Student t with N - 1 df."""
    n = len(car)
    if n < 2:
        return np.nan, np.nan
    t = float(car.mean() / (car.std(ddof=1) / np.sqrt(n)))
    return t, float(2 * stats.t.sf(abs(t), n - 1))


def patell_z(scar: np.ndarray, dof: np.ndarray) -> tuple[float, float]:
    """Z = sum(SCAR_i) / sqrt(sum((M_i - k) / (M_i - k - 2))): each SCAR is t-distributed with
    M_i - k degrees of freedom, whose variance is dof / (dof - 2)."""
    if len(scar) < 1:
        return np.nan, np.nan
    dof = dof.astype(float)
    z = float(scar.sum() / np.sqrt(np.sum(dof / (dof - 2))))
    return z, _p_normal(z)


def bmp_t(scar: np.ndarray) -> tuple[float, float]:
    """t = mean(SCAR) / (sd(SCAR) / sqrt(N)): the cross-sectional t on standardized CARs."""
    n = len(scar)
    if n < 2:
        return np.nan, np.nan
    t = float(scar.mean() / (scar.std(ddof=1) / np.sqrt(n)))
    return t, _p_normal(t)


def kolari_pynnonen(scar: np.ndarray, r_bar: float) -> tuple[float, float]:
    """BMP's t times sqrt((1 - r) / (1 + (N - 1) r)), r the average cross-correlation of the
    standardized abnormal returns (KP 2010, eq. 9)."""
    n = len(scar)
    t, _ = bmp_t(scar)
    if not np.isfinite(t) or not np.isfinite(r_bar):
        return np.nan, np.nan
    factor = (1 - r_bar) / (1 + (n - 1) * r_bar)
    if factor <= 0:
        return np.nan, np.nan
    z = float(t * np.sqrt(factor))
    return z, _p_normal(z)


def _pairs(sum_: np.ndarray, sq: np.ndarray) -> float:
    """Sum over ordered pairs i != j of x_i x_j within each bin: sum(S^2 - Q)."""
    return float(np.sum(sum_ * sum_) - np.sum(sq))  # elementwise: no BLAS call for a dot


def residual_correlation(
    resid: np.ndarray, rows: np.ndarray, firm: np.ndarray, n_dates: int, n_firms: int
) -> float:
    """Average correlation between the estimation-window residuals of events of different firms
    on the same dates: every pair of events and every date both use, each residual standardized
    by its own event's sd (KP's r-bar when all events share one window)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.nansum(resid**2, axis=1) / np.isfinite(resid).sum(1))
        u = resid / sd[:, None]
    keep = np.isfinite(u)
    d = rows[keep]
    f = np.broadcast_to(firm[:, None], u.shape)[keep]
    x = u[keep]
    ones = np.ones_like(x)
    s_d = np.bincount(d, x, n_dates)
    q_d = np.bincount(d, x * x, n_dates)
    c_d = np.bincount(d, ones, n_dates)
    df = pd.factorize(d * n_firms + f)[0]  # dense (date, firm) codes: no dates x firms bins
    s_f = np.bincount(df, x)
    q_f = np.bincount(df, x * x)
    c_f = np.bincount(df, ones)
    cross = _pairs(s_d, q_d) - _pairs(s_f, q_f)  # pairs of different firms only
    pairs = _pairs(c_d, c_d) - _pairs(c_f, c_f)
    return cross / pairs if pairs > 0 else np.nan


def overlap_correlation(
    t: np.ndarray, firm: np.ndarray, first: int, last: int, rho: float, n_dates: int, n_firms: int
) -> float:
    """The average correlation of the events' CARs over [first, last] implied by a daily
    cross-firm residual correlation `rho` and the sessions their windows share: events of
    different firms sharing o of L sessions correlate rho * o / L, overlapping windows of the
    same firm o / L. Equals rho when every event is on the same date (KP's setting)."""
    n = len(t)
    if n < 2:
        return np.nan
    length = last - first + 1
    d = (t[:, None] + np.arange(first, last + 1)[None, :]).ravel()
    keep = (d >= 0) & (d < n_dates)
    d = d[keep]
    f = np.repeat(firm, length)[keep]
    c_d = np.bincount(d, minlength=n_dates).astype(float)
    c_f = np.bincount(pd.factorize(d * n_firms + f)[0]).astype(float)
    same = _pairs(c_f, c_f)
    diff = _pairs(c_d, c_d) - same
    return (rho * diff + same) / (length * n * (n - 1))


def standardized_ranks(est_resid: np.ndarray, ar: np.ndarray) -> np.ndarray:
    """Each event's abnormal returns (estimation window, then event window) ranked within the
    event and divided by 1 + its number of observations: U in (0, 1), NaN where missing."""
    x = np.concatenate([est_resid, ar], axis=1)
    bad = ~np.isfinite(x)
    order = np.argsort(np.where(bad, np.inf, x), axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, x.shape[1] + 1)[None, :], axis=1)
    m = (~bad).sum(1)
    u = ranks / (m[:, None] + 1.0)
    u[bad] = np.nan
    return u


def corrado_rank(u: np.ndarray, n_est: int, cols: np.ndarray) -> tuple[float, float]:
    """Multi-day rank test: sum over the window's sessions of (mean U_t - 1/2), over sqrt(L)
    times the sd of the daily mean U around 1/2 over the estimation sessions."""
    if u.shape[0] < 1:
        return np.nan, np.nan
    with np.errstate(invalid="ignore"):
        mean_u = np.nanmean(u, axis=0) - 0.5
    s = np.sqrt(np.nanmean(mean_u[:n_est] ** 2))
    z = float(np.sum(mean_u[n_est + cols]) / (np.sqrt(len(cols)) * s))
    return z, _p_normal(z)


def generalized_sign(car: np.ndarray, est_resid: np.ndarray) -> tuple[float, float]:
    """Z = (w - N p) / sqrt(N p (1 - p)): w the events with a positive CAR, p the average share
    of positive abnormal returns over the events' estimation windows."""
    n = len(car)
    if n < 1:
        return np.nan, np.nan
    with np.errstate(invalid="ignore"):
        p = float(
            np.nanmean(np.nanmean(np.where(np.isfinite(est_resid), est_resid > 0, np.nan), 1))
        )
    w = float(np.sum(car > 0))
    z = (w - n * p) / np.sqrt(n * p * (1 - p))
    return float(z), _p_normal(z)


def clustered_two_way(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, both: np.ndarray | None = None
) -> dict[str, float]:
    """Mean of y with errors clustered two ways (V_a + V_b - V_ab, each with its own G/(G-1)
    correction, as statsmodels' cov_cluster_2groups); a negative sum falls back to the larger
    one-way variance (Cameron, Gelbach and Miller 2011, section 2.3). `both`: codes of the
    (a, b) pairs, if the caller has them."""
    va = clustered_mean(y, a)
    vb = clustered_mean(y, b)
    if both is None:
        both = pd.factorize(a.astype(np.int64) * (int(b.max()) + 1) + b)[0]
    vab = clustered_mean(y, both)
    var = va["se"] ** 2 + vb["se"] ** 2 - vab["se"] ** 2
    if not var > 0:
        var = max(va["se"] ** 2, vb["se"] ** 2)
    se = float(np.sqrt(var))
    z = va["mean"] / se if se > 0 else np.nan
    return {"mean": va["mean"], "se": se, "t": z, "p": _p_normal(z)}
