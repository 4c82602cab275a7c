"""Data-quality checks for price frames, as plain functions returning (name, passed, severity, metadata)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pandas as pd

from eventlab.config import Series
from eventlab.data.calendar import nyse
from eventlab.data.frames import OHLCV, ohlc_problems

Severity = Literal["ERROR", "WARN"]


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
    snapshot_last: dt.date | None = None,
):
    """Yield (check name, passed, severity, metadata) for the standard price checks.

    Freshness: a live frame must end on the last closed NYSE session; a snapshot frame is as
    fresh as the snapshot manifest says (its staleness against today is reported, as a warning).
    """
    from dagster import AssetCheckSeverity

    err, warn = AssetCheckSeverity.ERROR, AssetCheckSeverity.WARN
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
            **probs,
        },
    )
    if len(df) == 0:
        yield "fresh", False, err, {"reason": "empty frame"}
        return
    last = df.index[-1].date()
    today = today or dt.date.today()
    expected = expected_last_session(today, series.calendar)
    lag = (expected - last).days
    if served_by == "snapshot":
        yield (
            "fresh",
            True,
            warn,
            {
                "last_date": last.isoformat(),
                "expected_if_live": expected.isoformat(),
                "calendar_days_behind_live": lag,
                "note": "snapshot data: freshness is the snapshot's as-of date; run with the yfinance source to refresh",
            },
        )
    else:
        yield (
            "fresh",
            lag <= 0,
            warn if intraday else err,
            {
                "last_date": last.isoformat(),
                "expected": expected.isoformat(),
                "calendar_days_behind": lag,
            },
        )
