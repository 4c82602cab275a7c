"""The canonical shape of a daily or intraday OHLCV frame and the checks every frame must pass."""

from __future__ import annotations

import numpy as np
import pandas as pd

OHLCV: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLS: tuple[str, ...] = ("open", "high", "low", "close")


class DataError(ValueError):
    """A price frame is unusable; the message names the series, the field and the cause."""


def normalize_ohlcv(df: pd.DataFrame, series: str, *, intraday: bool = False) -> pd.DataFrame:
    """Lower-case OHLCV columns, float prices, a sorted unique DatetimeIndex named date/timestamp."""
    if df is None or len(df) == 0:
        raise DataError(
            f"{series}: empty frame (no rows) - the source returned nothing for this range"
        )
    out = df.copy()
    out.columns = [str(c).strip().lower().replace(" ", "_") for c in out.columns]
    if "adj_close" in out.columns and "close" not in out.columns:
        out = out.rename(columns={"adj_close": "close"})
    missing = [c for c in ("open", "close") if c not in out.columns]
    if missing:
        raise DataError(
            f"{series}: missing column(s) {missing}; got {list(out.columns)} - the source format changed or is garbled"
        )
    for c in OHLCV:
        if c not in out.columns:
            out[c] = np.nan
    out = out[list(OHLCV)].astype("float64")
    idx = pd.DatetimeIndex(pd.to_datetime(out.index))
    if intraday:
        idx = (
            idx.tz_localize("America/New_York")
            if idx.tz is None
            else idx.tz_convert("America/New_York")
        )
        idx.name = "timestamp"
    else:
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        idx = idx.normalize()
        idx.name = "date"
    out.index = idx
    out = out[~out.index.duplicated(keep="last")].sort_index()
    return out


def ohlc_problems(df: pd.DataFrame, tol: float = 1e-6) -> dict[str, int]:
    """Count rows violating OHLC consistency, ignoring missing High/Low (close-only sources)."""
    hi, lo = df["high"], df["low"]
    body_hi = df[["open", "close"]].max(axis=1)
    body_lo = df[["open", "close"]].min(axis=1)
    return {
        "high_below_body": int((hi.notna() & (hi < body_hi * (1 - tol))).sum()),
        "low_above_body": int((lo.notna() & (lo > body_lo * (1 + tol))).sum()),
        "nonpositive_price": int((df[list(PRICE_COLS)] <= 0).sum().sum()),
        "missing_close": int(df["close"].isna().sum()),
    }


def validate_ohlcv(df: pd.DataFrame, series: str) -> None:
    """Raise DataError if the frame breaks an invariant the study relies on."""
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(f"{series}: index is {type(df.index).__name__}, expected DatetimeIndex")
    if not df.index.is_monotonic_increasing or df.index.has_duplicates:
        raise DataError(f"{series}: dates are not unique and increasing")
    problems = {k: v for k, v in ohlc_problems(df).items() if v}
    if problems:
        raise DataError(f"{series}: OHLC inconsistencies {problems}")
