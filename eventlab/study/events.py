"""Detect "opened above +X% vs the prior close, closed red" days and describe each one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study.open_quality import open_quality_flags, shift1
from eventlab.study.returns import forward_return_at, fwd_col

SMA_WINDOWS: tuple[int, ...] = (20, 50, 200)


def sample_array(
    index: pd.DatetimeIndex, close: np.ndarray, open_genuine: np.ndarray, params: StudyParams
) -> np.ndarray:
    """The study's valid sample on aligned arrays: inside [start, end], with a prior close, and a
    usable open when open_policy is 'genuine'."""
    mask = (index >= pd.Timestamp(params.start)) & ~np.isnan(shift1(close))
    if params.end is not None:
        mask &= index <= pd.Timestamp(params.end)
    if params.open_policy == "genuine":
        mask &= open_genuine
    return mask


def event_array(
    open_: np.ndarray, close: np.ndarray, in_sample: np.ndarray, threshold: float, close_rule: str
) -> np.ndarray:
    """detect_events on aligned arrays: gap above the threshold, closed red, in the sample."""
    prev_close = shift1(close)
    if close_rule == "prior_close":
        red = close < prev_close
    elif close_rule == "open":
        red = close < open_
    else:
        raise ValueError(f"close_rule must be 'prior_close' or 'open', got {close_rule!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return (open_ / prev_close - 1 > threshold) & red & in_sample


def _aligned_genuine(prices: pd.DataFrame, flags: pd.DataFrame) -> np.ndarray:
    """flags' open_genuine on the price index (False where flags has no row)."""
    genuine = flags["open_genuine"]
    if not genuine.index.equals(prices.index):
        genuine = genuine.reindex(prices.index, fill_value=False)
    return genuine.to_numpy(bool)


def detect_events(prices: pd.DataFrame, flags: pd.DataFrame, params: StudyParams) -> pd.Series:
    """Boolean Series: True on event days (gap > threshold, closed red, in the valid sample)."""
    o, c = prices["open"].to_numpy(float), prices["close"].to_numpy(float)
    in_sample = sample_array(prices.index, c, _aligned_genuine(prices, flags), params)
    events = event_array(o, c, in_sample, params.gap_threshold, params.close_rule)
    return pd.Series(events, index=prices.index)


def _moving_average(close: pd.Series, window: int) -> np.ndarray:
    """Trailing simple moving average (NaN until a full window)."""
    return close.rolling(window, min_periods=window).mean().to_numpy()


def event_rows(
    prices: pd.DataFrame,
    pos: np.ndarray,
    horizons: tuple[int, ...],
    vix_close: pd.Series | None = None,
    coverage: pd.Series | None = None,
) -> pd.DataFrame:
    """event_table for the event rows at positions `pos` of the price index (computed only there)."""
    # Native dtypes, so the price columns keep theirs in the table as before.
    o, h, lo, c = (prices[col].to_numpy() for col in ("open", "high", "low", "close"))
    dates = prices.index[pos]
    oe, he, le, ce = o[pos], h[pos], lo[pos], c[pos]
    prev = shift1(c)[pos]
    with np.errstate(divide="ignore", invalid="ignore"):
        table = {
            "date": dates,
            "weekday": dates.day_name(),
            "prior_close": prev,
            "open": oe,
            "high": he,
            "low": le,
            "close": ce,
            "gap": oe / prev - 1,
            "close_to_close": ce / prev - 1,
            "open_to_close": ce / oe - 1,
            "high_runup": he / prev - 1,
            "reversal": ce / he - 1,
            "volume": prices["volume"].to_numpy()[pos],
            "vix_close": (vix_close.reindex(dates).to_numpy() if vix_close is not None else np.nan),
            # pandas' running-sum moving average, kept for bit-identical values (a window mean
            # differs in the last bits, which matters relative to a distance near zero).
            **{
                f"dist_sma{n}": ce / _moving_average(prices["close"], n)[pos] - 1
                for n in SMA_WINDOWS
            },
            **{fwd_col(k): forward_return_at(c, pos, k) for k in horizons},
        }
    if coverage is not None:
        table["open_coverage_250d"] = (
            coverage.to_numpy()[pos]  # flags built on this index: no label lookup needed
            if coverage.index.equals(prices.index)
            else coverage.reindex(dates).to_numpy()
        )
    return pd.DataFrame(table)


def event_table(
    prices: pd.DataFrame,
    is_event: pd.Series,
    horizons: tuple[int, ...],
    vix_close: pd.Series | None = None,
    flags: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per event day with prices, gap, intraday run-up/reversal, context and forward returns."""
    pos = np.flatnonzero(is_event.reindex(prices.index, fill_value=False).to_numpy(bool))
    coverage = flags["coverage"] if flags is not None else None
    return event_rows(prices, pos, horizons, vix_close=vix_close, coverage=coverage)


def study_flags(prices: pd.DataFrame, params: StudyParams) -> pd.DataFrame:
    """Open-quality flags with the study's coverage settings."""
    return open_quality_flags(prices, params.genuine_coverage_window, params.genuine_coverage_min)
