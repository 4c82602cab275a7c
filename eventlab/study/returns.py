"""Forward returns from the event close and event paths around each event."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def fwd_col(k: int) -> str:
    """Column name of the k-day forward return."""
    return f"fwd_{k}d"


def forward_returns(close: pd.Series, horizons: Iterable[int]) -> pd.DataFrame:
    """Close_{t+k} / Close_t - 1 for each horizon k, on the series' own trading days (NaN at the end)."""
    return pd.DataFrame(
        {fwd_col(k): close.shift(-k) / close - 1 for k in horizons}, index=close.index
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
