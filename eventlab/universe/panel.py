"""The member panel as columns: one dates x tickers matrix per quantity (numpy, no per-ticker loop).

Built once from the stored per-ticker day tables (long: ticker, date, flags, daily total return)
by scattering each column into a matrix with integer date and ticker codes. The market is SPY's
total return (the snapshot's SPY is dividend-adjusted, so stock and market are both total
returns); the Fama-French factors come from the snapshot (`aux/ff3_daily`, percent per day,
divided by 100 here). Every event-study computation (eventlab.universe.abnormal, es_tests,
placebo) reads these matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FF3_COLUMNS = ("mkt_rf", "smb", "hml", "rf")


@dataclass(frozen=True)
class Panel:
    """Aligned matrices (dates x tickers) and market series (dates)."""

    dates: pd.DatetimeIndex
    tickers: list[str]
    sectors: list[str]
    ret: np.ndarray  # daily total return, NaN where missing or across a bad (split-like) day
    in_sample: np.ndarray  # usable open and inside the study window (and a member, if PIT)
    event: np.ndarray  # counted events
    market: np.ndarray  # SPY daily total return
    ff3: np.ndarray  # dates x 4: mkt_rf, smb, hml, rf (decimals per day)

    @property
    def shape(self) -> tuple[int, int]:
        """(dates, tickers)."""
        return self.ret.shape


def market_returns(spy: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """SPY's close-to-close total return on `dates` (NaN where SPY has no close)."""
    close = spy["close"].astype(float)
    close.index = pd.DatetimeIndex(close.index).normalize()
    return close.pct_change(fill_method=None).reindex(dates).to_numpy(float)


def ff3_matrix(ff3: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """Fama-French daily factors on `dates` in decimals (the file is in percent per day)."""
    f = ff3.copy()
    f.index = pd.DatetimeIndex(pd.to_datetime(f["date"]))
    return f[list(FF3_COLUMNS)].astype(float).reindex(dates).to_numpy() / 100.0


def build_panel(
    days: pd.DataFrame,
    sector_of: dict[str, str],
    spy: pd.DataFrame,
    ff3: pd.DataFrame,
    member: np.ndarray | None = None,
) -> Panel:
    """The panel of the stored day tables (`days`: ticker, date, in_sample, is_event, ret_tr);
    `member` (row-aligned with days) restricts samples and events to member days (PIT)."""
    dcodes, dnames = pd.factorize(pd.DatetimeIndex(days["date"]).asi8, sort=True)
    tcodes, tnames = pd.factorize(days["ticker"].astype(str).to_numpy(), sort=True)
    dates = pd.DatetimeIndex(dnames.astype("datetime64[ns]"))
    shape = (len(dates), len(tnames))
    in_sample = days["in_sample"].to_numpy(bool)
    if member is not None:
        in_sample = in_sample & member
    is_event = days["is_event"].to_numpy(bool) & in_sample
    mat = np.full(shape, np.nan)
    mat[dcodes, tcodes] = days["ret_tr"].to_numpy(float)
    sample = np.zeros(shape, bool)
    sample[dcodes, tcodes] = in_sample
    event = np.zeros(shape, bool)
    event[dcodes, tcodes] = is_event
    tickers = [str(t) for t in tnames]
    return Panel(
        dates=dates,
        tickers=tickers,
        sectors=[sector_of.get(t, "Unclassified") for t in tickers],
        ret=mat,
        in_sample=sample,
        event=event,
        market=market_returns(spy, dates),
        ff3=ff3_matrix(ff3, dates),
    )


def near_events(event: np.ndarray, before: int, after: int) -> np.ndarray:
    """Days within [e - before, e + after] of some event e of the same ticker (column)."""
    c = np.cumsum(np.vstack([np.zeros((1, event.shape[1]), np.int64), event]), axis=0)
    t = np.arange(event.shape[0])
    lo = np.clip(t - after, 0, event.shape[0])  # events at s with t - after <= s <= t + before
    hi = np.clip(t + before + 1, 0, event.shape[0])
    return (c[hi] - c[lo]) > 0
