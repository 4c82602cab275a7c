"""Buy-and-hold as total return: the Fama-French market return spliced with SPY's adjusted close.

Up to the splice date (the last day of the Fama-French file, 2022-03-31) the market's daily total
return is `mkt_rf + rf` of the Fama-French daily factors (percent per day; the CRSP value-weighted
index of all NYSE/AMEX/NASDAQ stocks with dividends reinvested). After it, SPY's dividend-adjusted
close (the S&P 500 with dividends, less the fund's 0.09% a year fee). Where both exist (SPY from
1993) their daily correlation and tracking error are measured and reported, so a reader can judge
the splice. The series is compounded onto any target calendar (e.g. ^GSPC's sessions) through its
level, so days the target lacks (the NYSE's Saturday sessions before 1952) are not lost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FF3_TABLE = "ff3_daily"  # the reference table of Fama-French daily factors
SPLICE_SERIES = "SPY"  # the dividend-adjusted series spliced on after the factors end
SPLICE_COLUMNS = (
    "splice_date",
    "overlap_start",
    "overlap_end",
    "overlap_sessions",
    "overlap_correlation",
    "overlap_tracking_error",
    "overlap_cagr_ff3",
    "overlap_cagr_spy",
)


def ff3_market_return(ff3: pd.DataFrame) -> pd.Series:
    """The Fama-French market's daily total return as a fraction: (mkt_rf + rf) / 100."""
    missing = [c for c in ("date", "mkt_rf", "rf") if c not in ff3.columns]
    if missing:
        raise ValueError(
            f"reference table 'ff3_daily': missing columns {missing}; expected date, mkt_rf, rf "
            "(rebuild the snapshot with `make snapshot`)"
        )
    idx = pd.DatetimeIndex(pd.to_datetime(ff3["date"]), name="date")
    r = (ff3["mkt_rf"].to_numpy(float) + ff3["rf"].to_numpy(float)) / 100.0
    return pd.Series(r, index=idx, name="ff3_market").dropna().sort_index()


def _cagr(r: pd.Series) -> float:
    """Compound annual growth of daily returns (252 sessions a year)."""
    return float(np.prod(1.0 + r.to_numpy(float)) ** (252 / len(r)) - 1.0) if len(r) else np.nan


def spliced_total_return(
    ff3: pd.DataFrame, spy_adjusted_close: pd.Series
) -> tuple[pd.Series, dict[str, object]]:
    """(daily total return on the sources' own sessions, the splice's overlap statistics).

    Fama-French up to and including its last day, SPY's adjusted-close return after it."""
    ff = ff3_market_return(ff3)
    spy = spy_adjusted_close.astype(float).sort_index().pct_change().dropna()
    splice = ff.index[-1]
    both = pd.concat([ff, spy], axis=1, join="inner").dropna()
    a, b = both.iloc[:, 0], both.iloc[:, 1]
    stats: dict[str, object] = dict.fromkeys(SPLICE_COLUMNS, np.nan)
    stats["splice_date"] = splice.date().isoformat()
    stats["overlap_sessions"] = len(both)
    if len(both) > 2:
        stats.update(
            overlap_start=both.index[0].date().isoformat(),
            overlap_end=both.index[-1].date().isoformat(),
            overlap_correlation=float(np.corrcoef(a, b)[0, 1]),
            overlap_tracking_error=float(np.std(a - b, ddof=1) * np.sqrt(252)),
            overlap_cagr_ff3=_cagr(a),
            overlap_cagr_spy=_cagr(b),
        )
    out = pd.concat([ff, spy.loc[spy.index > splice]]).rename("total_return")
    return out, stats


def on_calendar(daily: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """`daily` returns compounded onto the sessions `dates`: the return from one target session
    to the next is the growth of `daily`'s level between them (NaN before `daily` starts or after
    it ends)."""
    level = (1.0 + daily).cumprod()
    # the level before the first return is 1, dated just before the first session
    level = pd.concat([pd.Series([1.0], index=[daily.index[0] - pd.Timedelta(days=1)]), level])
    on = level.reindex(level.index.union(dates)).ffill().reindex(dates)
    on[(dates < level.index[0]) | (dates > level.index[-1])] = np.nan
    return on.pct_change(fill_method=None).rename(daily.name)
