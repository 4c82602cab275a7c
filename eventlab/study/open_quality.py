"""Which days have a genuine opening price, detected by rule (no hard-coded dates).

A day's Open is *genuine* when it differs from both that day's Close (close-only data stores
O=H=L=C) and the previous Close (stale data stores Open = previous Close). Because a stale
source can still differ by accident on a few days, a day is *usable* for the study only if its
own open is genuine and the trailing share of genuine opens is at least `min_coverage`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REL_TOL = 1e-6


def shift1(values: np.ndarray) -> np.ndarray:
    """The array one row later with NaN first, as Series.shift(1) on a float column."""
    out = np.empty(len(values))
    out[:1] = np.nan
    out[1:] = values[:-1]
    return out


def trailing_share(flag: np.ndarray, window: int) -> np.ndarray:
    """Share of True over the trailing `window` rows (NaN until a full window), like
    rolling(window, min_periods=window).mean(): integer counts make it exact, so bit-identical."""
    out = np.full(len(flag), np.nan)
    if len(flag) >= window:
        counts = np.cumsum(flag, dtype=np.int64)
        out[window - 1 :] = counts[window - 1 :]
        out[window:] -= counts[:-window]
        out[window - 1 :] /= window
    return out


def open_quality_flags(
    prices: pd.DataFrame, window: int = 250, min_coverage: float = 0.9
) -> pd.DataFrame:
    """Per-day flags: open_genuine_raw (rule), coverage (trailing share), open_genuine (usable)."""
    o, c = prices["open"].to_numpy(float), prices["close"].to_numpy(float)
    h, lo = prices["high"].to_numpy(float), prices["low"].to_numpy(float)
    pc = shift1(c)
    # NaN or zero prices only ever make a comparison False, as in the pandas version.
    with np.errstate(divide="ignore", invalid="ignore"):
        differs_close = np.abs(o / c - 1) > REL_TOL
        differs_prev = np.abs(o / pc - 1) > REL_TOL
    has_prev = ~np.isnan(pc)
    raw = differs_close & differs_prev & ~np.isnan(o) & has_prev
    close_only = (o == c) & (np.isnan(h) | (h == c)) & (np.isnan(lo) | (lo == c))
    coverage = trailing_share(raw, window)
    return pd.DataFrame(
        {
            "open_genuine_raw": raw,
            "open_is_prev_close": ~differs_prev & has_prev,
            "close_only_bar": close_only,
            "coverage": coverage,
            "open_genuine": raw & (coverage >= min_coverage),
        },
        index=prices.index,
    )


def classify_month(share_genuine: float, share_close_only: float) -> str:
    """Label a month by what its Open column is."""
    if share_close_only > 0.9:
        return "close_only"
    if share_genuine >= 0.9:
        return "genuine"
    if share_genuine >= 0.5:
        return "mixed"
    return "stale"


def open_quality_eras(flags: pd.DataFrame) -> pd.DataFrame:
    """Collapse monthly open-quality classes into contiguous eras (start, end, days, shares)."""
    monthly = flags.groupby(flags.index.to_period("M")).agg(
        days=("open_genuine_raw", "size"),
        genuine=("open_genuine_raw", "mean"),
        prev_close=("open_is_prev_close", "mean"),
        close_only=("close_only_bar", "mean"),
        usable=("open_genuine", "mean"),
    )
    monthly["cls"] = [
        classify_month(g, co)
        for g, co in zip(monthly["genuine"], monthly["close_only"], strict=True)
    ]
    run_id = (monthly["cls"] != monthly["cls"].shift()).cumsum()
    rows = []
    for _, block in monthly.groupby(run_id, sort=True):
        months = block.index
        in_block = flags[
            (flags.index.to_period("M") >= months[0]) & (flags.index.to_period("M") <= months[-1])
        ]
        rows.append(
            {
                "era_start": in_block.index[0].date(),
                "era_end": in_block.index[-1].date(),
                "open_quality": block["cls"].iloc[0],
                "trading_days": len(in_block),
                "share_genuine_open": float(in_block["open_genuine_raw"].mean()),
                "share_open_eq_prev_close": float(in_block["open_is_prev_close"].mean()),
                "share_close_only": float(in_block["close_only_bar"].mean()),
                "share_usable_for_study": float(in_block["open_genuine"].mean()),
            }
        )
    return pd.DataFrame(rows)


def coverage_summary(
    flags: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp | None
) -> dict[str, object]:
    """What part of the requested window the data can actually see (for stats and the manifest)."""
    # slice_indexer is what flags.loc[start:end] uses; slicing arrays skips building a frame.
    rows = flags.index.slice_indexer(start, end)
    dates = flags.index[rows]
    usable = flags["open_genuine"].to_numpy(bool)[rows]
    genuine = flags["open_genuine_raw"].to_numpy(bool)[rows]
    first = dates[int(np.argmax(usable))] if usable.any() else None
    return {
        "requested_start": pd.Timestamp(start).date().isoformat(),
        "requested_end": (
            pd.Timestamp(end).date().isoformat()
            if end is not None
            else dates[-1].date().isoformat()
        ),
        "trading_days_requested": len(dates),
        "trading_days_usable": int(usable.sum()),
        "share_usable": float(usable.mean()) if len(dates) else float("nan"),
        "share_genuine_open": float(genuine.mean()) if len(dates) else float("nan"),
        "first_usable_open": first.date().isoformat() if first is not None else None,
        "continuously_usable_since": _continuous_since(usable, dates),
    }


def _continuous_since(
    usable: np.ndarray, dates: pd.DatetimeIndex, min_share: float = 0.95, window: int = 250
) -> str | None:
    """First date after which the trailing usable share never drops below `min_share` again."""
    if len(usable) < window:
        return None
    bad = np.flatnonzero(trailing_share(usable, window) < min_share)
    if not len(bad):
        return dates[window - 1].date().isoformat()
    after = bad[-1] + 1
    return dates[after].date().isoformat() if after < len(dates) else None
