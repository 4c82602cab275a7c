"""The calendar-time portfolio test (Jaffe 1974; Mandelker 1974; Fama 1998, section 5).

For a window [first, last] of event time, each calendar day's portfolio holds, equally weighted,
every event whose window covers that day; its return in excess of the model's normal return is
regressed on the model's factors, and the intercept is the average daily abnormal return. Events
on the same dates share one portfolio observation, so cross-sectional correlation is absorbed;
the residuals' serial correlation (the portfolio changes slowly) is handled by Newey-West (1987)
errors with Bartlett weights. The regression per model:
- market_adjusted: r_p - m on a constant;
- market_model: r_p - rf on a constant and m - rf (the CAPM form of the market model);
- ff3: r_p - rf on a constant, Mkt-RF, SMB and HML.
The implied CAR is the intercept times the window's length.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from eventlab.universe.panel import Panel


def newey_west(y: np.ndarray, x: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and their Newey-West covariance (Bartlett kernel, `lags` lags, no
    small-sample correction: statsmodels' cov_type='HAC' with use_correction=False)."""
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    g = x * (y - x @ beta)[:, None]
    s = g.T @ g
    for lag in range(1, min(lags, len(y) - 1) + 1):
        gamma = g[lag:].T @ g[:-lag]
        s += (1 - lag / (lags + 1)) * (gamma + gamma.T)
    return beta, xtx_inv @ s @ xtx_inv


def portfolio_returns(
    panel: Panel, t: np.ndarray, j: np.ndarray, first: int, last: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per calendar day: the equal-weighted return of the events whose [first, last] window
    covers it, and how many events it holds."""
    n_t = panel.ret.shape[0]
    rows = (t[:, None] + np.arange(first, last + 1)[None, :]).ravel()
    cols = np.repeat(j, last - first + 1)
    ok = (rows >= 0) & (rows < n_t)
    rows, cols = rows[ok], cols[ok]
    r = panel.ret[rows, cols]
    fin = np.isfinite(r)
    total = np.bincount(rows[fin], r[fin], n_t)
    count = np.bincount(rows[fin], minlength=n_t).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count


def calendar_time_test(
    panel: Panel, model: str, t: np.ndarray, j: np.ndarray, first: int, last: int
) -> dict[str, float]:
    """Intercept (daily abnormal return), implied CAR, Newey-West t and p, and the number of
    portfolio days."""
    port, count = portfolio_returns(panel, t, j, first, last)
    m, f = panel.market, panel.ff3
    rf = f[:, 3]
    if model == "market_adjusted":
        y, x = port - m, np.ones((len(port), 1))
    elif model == "market_model":
        y, x = port - rf, np.column_stack([np.ones(len(port)), m - rf])
    else:
        y, x = port - rf, np.column_stack([np.ones(len(port)), f[:, :3]])
    keep = (count > 0) & np.isfinite(y) & np.isfinite(x).all(1)
    n = int(keep.sum())
    length = last - first + 1
    if n <= x.shape[1] + 1:
        return {"alpha": np.nan, "car": np.nan, "se": np.nan, "t": np.nan, "p": np.nan, "days": n}
    lags = max(length, int(4 * (n / 100) ** (2 / 9)))
    beta, cov = newey_west(y[keep], x[keep], lags)
    se = float(np.sqrt(cov[0, 0]))
    z = float(beta[0] / se)
    return {
        "alpha": float(beta[0]),
        "car": float(beta[0] * length),
        "se": se * length,
        "t": z,
        "p": float(2 * special.ndtr(-abs(z))),
        "days": n,
    }
