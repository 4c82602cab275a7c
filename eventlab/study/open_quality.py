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


def open_quality_flags(
    prices: pd.DataFrame, window: int = 250, min_coverage: float = 0.9
) -> pd.DataFrame:
    """Per-day flags: open_genuine_raw (rule), coverage (trailing share), open_genuine (usable)."""
    o, c = prices["open"], prices["close"]
    pc = c.shift(1)
    differs_close = (o / c - 1).abs() > REL_TOL
    differs_prev = (o / pc - 1).abs() > REL_TOL
    raw = (differs_close & differs_prev & o.notna() & pc.notna()).astype(bool)
    close_only = (
        (o == c)
        & (prices["high"].isna() | (prices["high"] == c))
        & (prices["low"].isna() | (prices["low"] == c))
    )
    stale_prev = ~differs_prev & pc.notna()
    coverage = raw.astype(float).rolling(window, min_periods=window).mean()
    usable = raw & (coverage >= min_coverage)
    return pd.DataFrame(
        {
            "open_genuine_raw": raw,
            "open_is_prev_close": stale_prev.astype(bool),
            "close_only_bar": close_only.astype(bool),
            "coverage": coverage,
            "open_genuine": usable.astype(bool),
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
    window = flags.loc[start:end] if end is not None else flags.loc[start:]
    usable = window["open_genuine"]
    first = usable[usable].index.min() if usable.any() else None
    return {
        "requested_start": pd.Timestamp(start).date().isoformat(),
        "requested_end": (
            pd.Timestamp(end).date().isoformat()
            if end is not None
            else window.index[-1].date().isoformat()
        ),
        "trading_days_requested": int(len(window)),
        "trading_days_usable": int(usable.sum()),
        "share_usable": float(usable.mean()) if len(window) else float("nan"),
        "first_usable_open": first.date().isoformat() if first is not None else None,
        "continuously_usable_since": _continuous_since(usable),
    }


def _continuous_since(usable: pd.Series, min_share: float = 0.95, window: int = 250) -> str | None:
    """First date after which the trailing usable share never drops below `min_share` again."""
    share = usable.astype(float).rolling(window, min_periods=window).mean()
    bad = share < min_share
    if share.isna().all():
        return None
    if not bad.any():
        return share.first_valid_index().date().isoformat()
    last_bad = bad[bad].index.max()
    after = share.loc[last_bad:].iloc[1:]
    return after.index[0].date().isoformat() if len(after) else None


def brute_force_genuine(o: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Reference row-by-row implementation of the per-day rule (used by tests and the benchmark)."""
    out = np.zeros(len(o), dtype=bool)
    for i in range(1, len(o)):
        out[i] = abs(o[i] / c[i] - 1) > REL_TOL and abs(o[i] / c[i - 1] - 1) > REL_TOL
    return out
