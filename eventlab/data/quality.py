"""Data-quality checks for price frames, as plain functions returning (name, passed, severity, metadata)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from eventlab.config import Series
from eventlab.data.calendar import nyse
from eventlab.data.frames import OHLCV, ohlc_problems


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
    expected = expected_last_session(today or dt.date.today(), calendar)
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
