"""Split and dividend adjustment of raw (as-traded) daily prices, and split-like jumps.

Raw prices jump at splits: on a 2:1 split day the open is half the previous close, which a gap
rule would read as a -50% gap (and a 1:10 reverse split as +900%). The adjustment is backward
(the latest prices stay as traded) and applied to the whole OHLC row with one factor per day, so
every ratio within a day is unchanged and every ratio across a split is continuous:

- split factor S_t = prod_{s > t} 1 / split_s  (split_s = the ratio effective on day s, 2.0 for
  2-for-1, 0.1 for 1-for-10); split-adjusted price = raw price x S_t, volume / S_t.
- dividend factor D_t = prod_{s > t} (1 - div_s / close_{s-1}), with close_{s-1} in day s's
  share units (close_{s-1} / split_s); total-return close = split-adjusted close x D_t (the CRSP
  convention, and how AlphaVantage and Yahoo compute their adjusted closes).

Gaps and "closed red" use split-adjusted prices (as traded, like the price index the main study
uses); forward returns use the total-return close, so an ex-dividend day is not a loss.
Yahoo's live OHLC is already split-adjusted: the live adapter sets split = 1 (see live.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Ratios a split or reverse split commonly has; a jump close to one of them with no recorded
# split (or one the recorded split does not explain) is a data error, not a move.
SPLIT_RATIOS: tuple[float, ...] = (1.25, 4 / 3, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 8.0, 10.0, 20.0)

UNIVERSE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume", "dividend", "split")


def _after_product(values: np.ndarray) -> np.ndarray:
    """out[t] = prod(values[t+1:]) (1 for the last row)."""
    out = np.ones(len(values))
    if len(values) > 1:
        out[:-1] = np.cumprod(values[::-1])[::-1][1:]
    return out


def adjust_prices(raw: pd.DataFrame) -> pd.DataFrame:
    """Split-adjusted OHLCV plus `tr_close` (total return) and the two factors, on raw's index.

    `raw` has open, high, low, close, volume (as traded), dividend (cash per share on its
    ex-date row) and split (ratio effective that day, 1.0 otherwise).
    """
    split = raw["split"].to_numpy(float)
    split = np.where(np.isfinite(split) & (split > 0), split, 1.0)
    s_factor = _after_product(1.0 / split)
    close = raw["close"].to_numpy(float)
    prev_close = np.empty(len(close))
    prev_close[:1] = np.nan
    prev_close[1:] = close[:-1] / split[1:]  # yesterday's close in today's share units
    div = np.nan_to_num(raw["dividend"].to_numpy(float), nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.where((div > 0) & (prev_close > 0), 1.0 - div / prev_close, 1.0)
    d_factor = _after_product(np.clip(keep, 1e-6, None))
    out = pd.DataFrame(
        {col: raw[col].to_numpy(float) * s_factor for col in ("open", "high", "low", "close")},
        index=raw.index,
    )
    out["volume"] = raw["volume"].to_numpy(float) / s_factor
    out["tr_close"] = out["close"].to_numpy() * d_factor
    out["split_factor"] = s_factor
    out["dividend_factor"] = d_factor
    return out


def split_like_jumps(
    adjusted: pd.DataFrame, split: np.ndarray, min_jump: float = 0.25, tol: float = 0.02
) -> np.ndarray:
    """Days whose split-adjusted open jumps from the previous close by more than `min_jump` and
    either (a) a split was recorded that day (the ratio does not explain the jump) or (b) the
    jump is within `tol` (in log terms) of a common split ratio - an unrecorded split."""
    o = adjusted["open"].to_numpy(float)
    c = adjusted["close"].to_numpy(float)
    prev = np.empty(len(c))
    prev[:1] = np.nan
    prev[1:] = c[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_gap = np.log(o / prev)
    big = np.abs(log_gap) > np.log1p(min_jump)
    ratios = np.log(np.array(SPLIT_RATIOS))
    near = np.min(np.abs(np.abs(log_gap)[:, None] - ratios[None, :]), axis=1) < tol
    recorded = np.asarray(split, float) != 1.0
    return np.nan_to_num(big & (recorded | near), nan=False).astype(bool)


def mask_windows(fwd: np.ndarray, bad: np.ndarray, k: int) -> np.ndarray:
    """NaN the k-day forward returns whose window (t, t+k] contains a bad day."""
    out = fwd.copy()
    for s in np.flatnonzero(bad):
        out[max(0, s - k) : s] = np.nan
    return out
