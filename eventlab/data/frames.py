"""The canonical shape of a daily or intraday OHLCV frame and the checks every frame must pass."""

from __future__ import annotations

import numpy as np
import pandas as pd

OHLCV: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLS: tuple[str, ...] = ("open", "high", "low", "close")


class DataError(ValueError):
    """A price frame is unusable; the message names the series, the field and the cause."""


class StoredFileError(DataError):
    """A stored file has the wrong shape or cannot be read; names the file, the fault, the fix."""


def stored_shape_problem(df: pd.DataFrame, *, intraday: bool = False) -> str | None:
    """Why a stored frame is not an OHLCV price table (None if it is one)."""
    missing = [c for c in OHLCV if c not in df.columns]
    if missing:
        return f"it is not a price table: columns {list(map(str, df.columns))[:8]} lack {missing}"
    if not isinstance(df.index, pd.DatetimeIndex):
        return f"its index is {type(df.index).__name__} ({df.index.name!r}), not dates"
    bad = [c for c in OHLCV if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        return f"column(s) {bad} are not numeric"
    if (df.index.tz is not None) != intraday:
        return "its timestamps have the wrong timezone form for this asset"
    return None


def normalize_ohlcv(
    df: pd.DataFrame, series: str, *, intraday: bool = False, calendar: str = "NYSE"
) -> pd.DataFrame:
    """Lower-case OHLCV columns, float prices, a sorted unique DatetimeIndex named date/timestamp.

    A tz-aware daily index is read in the exchange's own timezone (New York; UTC for 24/7
    series) before its dates are taken: a frame indexed in, say, Pacific/Honolulu puts every
    bar at 18:00 of the previous day, and dropping the timezone there would shift each date.
    Repeated dates are kept once if their rows are identical and refused if they differ.
    """
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
            idx = idx.tz_convert("UTC" if calendar == "24/7" else "America/New_York")
            idx = idx.tz_localize(None)
        idx = idx.normalize()
        idx.name = "date"
    out.index = idx
    return drop_identical_duplicates(out, series).sort_index()


def drop_identical_duplicates(df: pd.DataFrame, series: str) -> pd.DataFrame:
    """Keep one row per repeated date when the copies agree; raise DataError when they differ
    (which copy is right cannot be known, so neither may silently win)."""
    dup = df.index.duplicated(keep=False)
    if not dup.any():
        return df
    rows = df[dup]
    differ = [
        d
        for d, g in rows.groupby(level=0)
        if not all(g.iloc[0].equals(g.iloc[i]) for i in range(1, len(g)))
    ]
    if differ:
        d = differ[0]
        vals = "; ".join(
            ", ".join(f"{c}={v:.6g}" for c, v in r.items()) for _, r in df.loc[[d]].iterrows()
        )
        raise DataError(
            f"{series}: {len(differ)} date(s) appear twice with different values, e.g. "
            f"{pd.Timestamp(d).date()}: {vals} - the source is inconsistent; nothing from this "
            "frame is stored"
        )
    return df[~df.index.duplicated(keep="first")]


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
        "negative_volume": int((df["volume"] < 0).sum()) if "volume" in df.columns else 0,
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
