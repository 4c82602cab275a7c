"""Detect "opened above +X% vs the prior close, closed red" days and describe each one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study.open_quality import open_quality_flags
from eventlab.study.returns import forward_returns

SMA_WINDOWS: tuple[int, ...] = (20, 50, 200)


def gap_and_red(
    prices: pd.DataFrame, threshold: float, close_rule: str
) -> tuple[pd.Series, pd.Series]:
    """Opening gap vs the prior close, and the 'closed red' condition under the chosen rule."""
    prev_close = prices["close"].shift(1)
    gap = prices["open"] / prev_close - 1
    if close_rule == "prior_close":
        red = prices["close"] < prev_close
    elif close_rule == "open":
        red = prices["close"] < prices["open"]
    else:
        raise ValueError(f"close_rule must be 'prior_close' or 'open', got {close_rule!r}")
    return gap, red


def sample_mask(prices: pd.DataFrame, flags: pd.DataFrame, params: StudyParams) -> pd.Series:
    """Days in the study's valid sample: inside [start, end], with a prior close, and a usable open
    when open_policy is 'genuine'."""
    idx = prices.index
    mask = (idx >= pd.Timestamp(params.start)) & prices["close"].shift(1).notna().to_numpy()
    if params.end is not None:
        mask &= idx <= pd.Timestamp(params.end)
    mask = pd.Series(mask, index=idx)
    if params.open_policy == "genuine":
        mask &= flags["open_genuine"].reindex(idx, fill_value=False)
    return mask.astype(bool)


def detect_events(prices: pd.DataFrame, flags: pd.DataFrame, params: StudyParams) -> pd.Series:
    """Boolean Series: True on event days (gap > threshold, closed red, in the valid sample)."""
    gap, red = gap_and_red(prices, params.gap_threshold, params.close_rule)
    return ((gap > params.gap_threshold) & red & sample_mask(prices, flags, params)).astype(bool)


def event_table(
    prices: pd.DataFrame,
    is_event: pd.Series,
    horizons: tuple[int, ...],
    vix_close: pd.Series | None = None,
    flags: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per event day with prices, gap, intraday run-up/reversal, context and forward returns."""
    c = prices["close"]
    prev = c.shift(1)
    fr = forward_returns(c, horizons)
    table = pd.DataFrame(
        {
            "prior_close": prev,
            "open": prices["open"],
            "high": prices["high"],
            "low": prices["low"],
            "close": c,
            "gap": prices["open"] / prev - 1,
            "close_to_close": c / prev - 1,
            "open_to_close": c / prices["open"] - 1,
            "high_runup": prices["high"] / prev - 1,
            "reversal": c / prices["high"] - 1,
            "volume": prices["volume"],
            "vix_close": (vix_close.reindex(prices.index) if vix_close is not None else np.nan),
            **{f"dist_sma{n}": c / c.rolling(n, min_periods=n).mean() - 1 for n in SMA_WINDOWS},
            **{col: fr[col] for col in fr.columns},
        },
        index=prices.index,
    )
    if flags is not None:
        table["open_coverage_250d"] = flags["coverage"].reindex(prices.index)
    out = table[is_event.reindex(prices.index, fill_value=False).to_numpy()]
    out = out.rename_axis("date").reset_index()
    out.insert(1, "weekday", out["date"].dt.day_name())
    return out


def brute_force_events(
    o: np.ndarray, c: np.ndarray, valid: np.ndarray, threshold: float, close_rule: str
) -> list[int]:
    """Row-by-row reference of the detection rule (tests and the benchmark's loop baseline)."""
    out = []
    for i in range(1, len(c)):
        if not valid[i]:
            continue
        red = c[i] < c[i - 1] if close_rule == "prior_close" else c[i] < o[i]
        if o[i] / c[i - 1] - 1 > threshold and red:
            out.append(i)
    return out


def study_flags(prices: pd.DataFrame, params: StudyParams) -> pd.DataFrame:
    """Open-quality flags with the study's coverage settings."""
    return open_quality_flags(prices, params.genuine_coverage_window, params.genuine_coverage_min)
