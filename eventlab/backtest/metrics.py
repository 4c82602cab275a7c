"""Performance metrics of a daily return series (plain NumPy; see docs/methods.md, "Is the replica real?", for why no
metrics library is used).

Conventions (those of empyrical / quantstats, so figures are comparable with theirs):
- CAGR = (prod(1 + r))^(periods_per_year / n) - 1 (years counted in sessions, 252 a year);
- volatility = sample std (ddof 1) x sqrt(periods_per_year);
- Sharpe = mean(r - rf) / std(r - rf) x sqrt(ppy) (excess over the cash rate when given);
- Sortino = mean(r - rf) x ppy / (sqrt(mean(min(r - rf, 0)^2)) x sqrt(ppy)), downside deviation
  over all periods (target 0 on the excess return);
- maximum drawdown on the compounded equity curve, with the peak, trough and recovery dates
  (recovery: first date the curve regains the peak; empty if never);
- Calmar = CAGR / |maximum drawdown|; turnover per year = sum |position change| / years;
- cost drag = CAGR before costs - CAGR after costs (per year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METRIC_COLUMNS = (
    "start",
    "end",
    "years",
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_peak",
    "max_drawdown_trough",
    "max_drawdown_recovery",
    "calmar",
    "turnover_per_year",
    "cost_drag",
    "time_in_market",
)


def cagr(r: np.ndarray, periods_per_year: int = 252) -> float:
    r = np.asarray(r, float)
    if r.size == 0:
        return np.nan
    growth = float(np.prod(1.0 + r))
    return growth ** (periods_per_year / r.size) - 1.0 if growth > 0 else -1.0


def drawdown(r: pd.Series) -> pd.Series:
    """Equity / running peak - 1 of the compounded curve (starting from 1 before the first day)."""
    equity = (1.0 + r).cumprod()
    peak = np.maximum.accumulate(np.concatenate(([1.0], equity.to_numpy())))[1:]
    return pd.Series(equity.to_numpy() / peak - 1.0, index=r.index)


def max_drawdown(r: pd.Series) -> tuple[float, object, object, object]:
    """(max drawdown <= 0, peak date, trough date, recovery date or None)."""
    if len(r) == 0:
        return np.nan, None, None, None
    equity = np.concatenate(([1.0], (1.0 + r.to_numpy(float)).cumprod()))
    peak_val = np.maximum.accumulate(equity)
    dd = equity / peak_val - 1.0
    trough = int(np.argmin(dd))
    if dd[trough] >= 0:
        return 0.0, None, None, None
    peak = int(np.argmax(equity[: trough + 1]))
    after = np.flatnonzero(equity[trough:] >= equity[peak])
    recovery = trough + int(after[0]) if after.size else None
    # equity position i is the close of return i - 1 (position 0: the capital before day one)
    idx = r.index
    return (
        float(dd[trough]),
        idx[max(peak - 1, 0)],
        idx[trough - 1],
        idx[recovery - 1] if recovery is not None else None,
    )


def performance(
    r: pd.Series,
    *,
    rf: pd.Series | None = None,
    turnover: pd.Series | None = None,
    cost: pd.Series | None = None,
    in_market: pd.Series | None = None,
    periods_per_year: int = 252,
) -> dict[str, object]:
    """Every metric of METRIC_COLUMNS for the net return series `r` (see module docstring)."""
    r = r.dropna()
    n = len(r)
    out: dict[str, object] = dict.fromkeys(METRIC_COLUMNS, np.nan)
    if n < 2:
        return out
    ppy = periods_per_year
    x = r.to_numpy(float)
    ex = x - (rf.reindex(r.index).fillna(0.0).to_numpy(float) if rf is not None else 0.0)
    years = n / ppy
    sd = float(np.std(ex, ddof=1))
    downside = float(np.sqrt(np.mean(np.minimum(ex, 0.0) ** 2)))
    mdd, peak, trough, recovery = max_drawdown(r)
    growth = cagr(x, ppy)
    out.update(
        start=r.index[0],
        end=r.index[-1],
        years=years,
        total_return=float(np.prod(1.0 + x) - 1.0),
        cagr=growth,
        volatility=float(np.std(x, ddof=1) * np.sqrt(ppy)),
        sharpe=float(np.mean(ex) / sd * np.sqrt(ppy)) if sd > 0 else np.nan,
        sortino=float(np.mean(ex) * ppy / (downside * np.sqrt(ppy))) if downside > 0 else np.nan,
        max_drawdown=mdd,
        max_drawdown_peak=peak,
        max_drawdown_trough=trough,
        max_drawdown_recovery=recovery,
        calmar=growth / abs(mdd) if mdd and mdd < 0 else np.nan,
    )
    if turnover is not None:
        out["turnover_per_year"] = float(turnover.reindex(r.index).fillna(0.0).sum() / years)
    if cost is not None:
        gross = x + cost.reindex(r.index).fillna(0.0).to_numpy(float)
        out["cost_drag"] = cagr(gross, ppy) - growth
    if in_market is not None:
        out["time_in_market"] = float(in_market.reindex(r.index).fillna(False).mean())
    return out
