"""Data-quality checks for price frames, as plain functions returning (name, passed, severity,
metadata), and the identity check of a stored series (is this file still the series it claims
to be: its levels, its exchange calendar, its own continuity)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from eventlab.config import Series
from eventlab.data.calendar import nyse
from eventlab.data.frames import OHLCV, ohlc_problems
from eventlab.data.rows import non_session_dates

# A close-to-close ratio beyond this (either way) joins two different series: the largest in
# the shipped data is VIX's x2.16 (2018-02-05); an index's worst day is x0.79 (1987-10-19).
MAX_LEVEL_JUMP = 3.0
# The median ratio of a stored series' closes to the shipped snapshot's on shared dates must lie
# in this band: a re-adjusted series moves by dividends (a few percent), another series (VIX
# over GSPC: ~0.004) by orders of magnitude.
IDENTITY_BAND = (0.8, 1.25)


def level_jumps(df: pd.DataFrame) -> int:
    """Close-to-close ratios beyond MAX_LEVEL_JUMP either way (rows of another series mixed in);
    non-positive closes are the positive_prices rule's, not counted here."""
    close = df["close"].where(df["close"] > 0).dropna()
    if len(close) < 2:
        return 0
    ratio = (close / close.shift(1)).iloc[1:].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return int(((ratio > MAX_LEVEL_JUMP) | (ratio < 1 / MAX_LEVEL_JUMP)).sum())


def identity_violations(
    stored: pd.DataFrame, series: Series, reference: pd.DataFrame | None
) -> dict[str, object]:
    """Violation counts of a stored daily series against its own identity: rows on days its
    exchange is closed that the shipped `reference` (the snapshot, verified by checksum) does not
    have, the median level against the reference on shared dates, jumps in its own levels, and
    negative volume. Empty if the series is what it claims to be."""
    out: dict[str, object] = {}
    off = non_session_dates(stored.index, series.calendar)
    if reference is not None:
        off = off.difference(reference.index)
    if len(off):
        out["rows_on_closed_days"] = len(off)
        out["first_closed_day"] = off[0].date().isoformat()
    if reference is not None:
        shared = stored.index.intersection(reference.index)
        ratio = (stored.loc[shared, "close"] / reference.loc[shared, "close"]).dropna()
        if len(ratio):
            median = float(ratio.median())
            if not IDENTITY_BAND[0] <= median <= IDENTITY_BAND[1]:
                out["median_level_vs_snapshot"] = round(median, 6)
                out["shared_dates"] = len(ratio)
    jumps = level_jumps(stored)
    if jumps:
        out["level_jumps"] = jumps
    negative = int((stored["volume"] < 0).sum())
    if negative:
        out["negative_volume"] = negative
    return out


def describe_identity(violations: dict[str, object], series: Series) -> str:
    """One sentence naming each violation of identity_violations."""
    parts = []
    if "median_level_vs_snapshot" in violations:
        parts.append(
            f"its closes are {violations['median_level_vs_snapshot']:.4g} times the shipped "
            f"{series.key} closes on {violations['shared_dates']} shared dates (another series' "
            "file?)"
        )
    if "rows_on_closed_days" in violations:
        parts.append(
            f"{violations['rows_on_closed_days']} row(s) on days {series.calendar} is closed "
            f"(first {violations['first_closed_day']})"
        )
    if "level_jumps" in violations:
        parts.append(
            f"{violations['level_jumps']} close-to-close jump(s) beyond x{MAX_LEVEL_JUMP:g} "
            "(rows of another series mixed in?)"
        )
    if "negative_volume" in violations:
        parts.append(f"{violations['negative_volume']} row(s) with negative volume")
    return f"it is not a sound {series.key} series: " + "; ".join(parts)


def exchange_today(now: pd.Timestamp | None = None) -> dt.date:
    """Today's date in New York, where the sessions are dated: at 01:00 UTC on a Monday it is
    still Sunday there (the machine's UTC date would name a session that has not opened)."""
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return now.tz_convert("America/New_York").date()


def expected_last_session(
    today: dt.date, calendar: str = "NYSE", now: pd.Timestamp | None = None
) -> dt.date:
    """The most recent session that has closed on `today` (exchange_calendars; holidays aware).

    `now` (tz-aware) decides whether today's session has closed yet (early closes included); by
    default the wall clock, which only matters when `today` is the current date.
    """
    if calendar == "24/7":
        return today - dt.timedelta(days=1)
    cal = nyse()
    now = (
        pd.Timestamp.now(tz="America/New_York")
        if now is None
        else pd.Timestamp(now).tz_convert("America/New_York")
    )
    ts = pd.Timestamp(today)
    sessions = cal.sessions_in_range(ts - pd.Timedelta(days=14), ts)
    last = sessions[-1]
    if (
        last.date() == today
        and now.date() == today
        and now < cal.session_close(last).tz_convert("America/New_York")
    ):
        last = sessions[-2]
    return last.date()


def price_check_results(
    df: pd.DataFrame,
    series: Series,
    served_by: str,
    *,
    intraday: bool = False,
    today: dt.date | None = None,
):
    """Yield (check name, passed, severity "ERROR" or "WARN", metadata) for the standard price checks.

    Freshness (see `freshness`): the frame must end on the last closed session of its calendar;
    a stale frame fails at WARN severity, saying how far behind and why (offline vs live).
    """
    err = "ERROR"
    cols_ok = all(c in df.columns for c in OHLCV) and all(
        pd.api.types.is_float_dtype(df[c]) for c in OHLCV
    )
    idx_ok = bool(df.index.is_monotonic_increasing and not df.index.has_duplicates)
    probs = ohlc_problems(df)
    # One check with a verdict per rule (rather than four checks): a series costs two check
    # evaluations per run, which keeps hundreds of tickers cheap, and the failed rules are named.
    rules = {
        "schema": cols_ok,
        "unique_increasing_dates": idx_ok,
        "ohlc_consistent": probs["high_below_body"] + probs["low_above_body"] == 0,
        "positive_prices": probs["nonpositive_price"] == 0,
        "nonnegative_volume": probs["negative_volume"] == 0,
        "continuous_levels": (jumps := level_jumps(df) if cols_ok else 0) == 0,
    }
    failed = [name for name, ok in rules.items() if not ok]
    yield (
        "ohlcv_valid",
        not failed,
        err,
        {
            **{f"rule/{name}": "pass" if ok else "FAIL" for name, ok in rules.items()},
            "failed_rules": ", ".join(failed) or "none",
            "columns": ", ".join(map(str, df.columns)),
            "duplicate_dates": int(df.index.duplicated().sum()),
            "level_jumps": jumps,
            **probs,
        },
    )
    if len(df) == 0:
        yield "fresh", False, err, {"reason": "empty frame"}
        return
    yield ("fresh", *freshness(df.index[-1].date(), series.calendar, served_by, today))


def sessions_behind(last: dt.date, expected: dt.date, calendar: str = "NYSE") -> int:
    """Sessions after `last` up to and including `expected` (0 when up to date): NYSE sessions,
    or calendar days for a 24/7 series."""
    if last >= expected:
        return 0
    if calendar == "24/7":
        return (expected - last).days
    cal = nyse()
    start = max(pd.Timestamp(last) + pd.Timedelta(days=1), cal.first_session)
    return len(cal.sessions_in_range(start, pd.Timestamp(expected)))


def freshness(
    last: dt.date, calendar: str, served_by: str, today: dt.date | None = None
) -> tuple[bool, str, dict[str, object]]:
    """(passed, severity, metadata) of the `fresh` check: the series must end on the last closed
    session. A stale series fails at WARN severity (the data is still usable, and the report
    states its as-of date); `description` says how many sessions behind and why: offline data
    (the snapshot, or rows stored by an earlier live run) versus a live source that has not
    delivered the latest session."""
    expected = expected_last_session(today or exchange_today(), calendar)
    behind = sessions_behind(last, expected, calendar)
    unit = "day" if calendar == "24/7" else "session"
    gap = f"{behind} {unit}{'s' if behind != 1 else ''} behind"
    offline = served_by != "yfinance"
    if behind <= 0:
        text = f"up to date: last bar {last} is the last closed {unit} ({expected}); served by {served_by}"
    elif offline:
        text = (
            f"{gap}: offline data ({served_by}) ends {last}, the last closed {unit} is {expected}. "
            "The shipped snapshot is frozen at its build date; run with the yfinance (or auto) "
            "source to bring the series up to date."
        )
    else:
        text = (
            f"{gap}: the live source ({served_by}) returned bars up to {last}, the last closed "
            f"{unit} is {expected}. Yahoo may not have published it yet, or this series was not "
            "refreshed; the next refresh fetches it."
        )
    meta: dict[str, object] = {
        "last_date": last.isoformat(),
        "expected": expected.isoformat(),
        "sessions_behind": behind,
        "calendar_days_behind": (expected - last).days,
        "served_by": served_by,
        "why": "offline data (snapshot / stored)" if offline else "live source",
        "description": text,
    }
    return behind <= 0, "WARN", meta
