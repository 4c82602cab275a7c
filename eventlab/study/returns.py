"""Forward returns from the event close and event paths around each event."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def fwd_col(k: int) -> str:
    """Column name of the k-day forward return."""
    return f"fwd_{k}d"


def forward_return_array(close: np.ndarray, k: int) -> np.ndarray:
    """Close_{t+k} / Close_t - 1 on positions (NaN for the last k rows)."""
    out = np.full(len(close), np.nan)
    if k < len(close):
        # Zero or NaN closes give inf/NaN exactly as the pandas division did, without warnings.
        with np.errstate(divide="ignore", invalid="ignore"):
            out[: len(close) - k] = close[k:] / close[: len(close) - k] - 1
    return out


def forward_return_at(close: np.ndarray, pos: np.ndarray, k: int) -> np.ndarray:
    """forward_return_array(close, k)[pos] without computing the other rows."""
    ahead = pos + k
    has = ahead < len(close)
    out = np.full(len(pos), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[has] = close[ahead[has]] / close[pos[has]] - 1
    return out


def forward_returns(close: pd.Series, horizons: Iterable[int]) -> pd.DataFrame:
    """Close_{t+k} / Close_t - 1 for each horizon k, on the series' own trading days (NaN at the end)."""
    values = close.to_numpy(float)
    return pd.DataFrame(
        {fwd_col(k): forward_return_array(values, k) for k in horizons}, index=close.index
    )


def event_paths(
    close: pd.Series, event_dates: Iterable[pd.Timestamp], pre: int, post: int
) -> pd.DataFrame:
    """Long frame (event_date, offset, ret, close): Close_{t+o} / Close_t - 1 for o in [-pre, post]."""
    values = close.to_numpy(dtype=float)
    pos = close.index.get_indexer(pd.DatetimeIndex(list(event_dates)))
    if (pos < 0).any():
        raise KeyError("event date not in the price index")
    offsets = np.arange(-pre, post + 1)
    idx = pos[:, None] + offsets[None, :]
    valid = (idx >= 0) & (idx < len(values))
    path_close = np.where(valid, values[np.clip(idx, 0, len(values) - 1)], np.nan)
    ret = path_close / values[pos][:, None] - 1
    dates = close.index[pos]
    return pd.DataFrame(
        {
            "event_date": np.repeat(dates.to_numpy(), len(offsets)),
            "offset": np.tile(offsets, len(pos)),
            "ret": ret.ravel(),
            "close": path_close.ravel(),
        }
    )


def mean_t_interval(values: Iterable[float], conf: float = 0.95) -> tuple[int, float, float, float]:
    """(n, mean, low, high): the mean and its t(n-1) confidence interval, NaNs dropped.

    With a handful of events the t distribution (not the normal) is the honest width; n < 2
    has no interval (low = high = NaN). The quantile is scipy.special.stdtrit, what
    scipy.stats.t.ppf evaluates (importing scipy.stats costs the run ~0.9 s)."""
    from scipy.special import stdtrit

    x = np.asarray(list(values), dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return 0, float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if n < 2:
        return n, mean, float("nan"), float("nan")
    half = float(stdtrit(n - 1, 0.5 + conf / 2) * x.std(ddof=1) / np.sqrt(n))
    return n, mean, mean - half, mean + half


def mean_path_band(paths: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame:
    """Per offset of an event_paths frame: n, mean, median and the t(n-1) band of the mean
    (columns offset, n, mean, median, low, high); events too recent for an offset drop out of n."""
    rows = [
        (int(off), *mean_t_interval(g["ret"], conf), float(g["ret"].median()))
        for off, g in paths.groupby("offset", sort=True)
    ]
    out = pd.DataFrame(rows, columns=["offset", "n", "mean", "low", "high", "median"])
    return out[["offset", "n", "mean", "median", "low", "high"]]
