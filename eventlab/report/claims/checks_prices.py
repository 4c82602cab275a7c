"""Checks on price action: a day's move, levels crossed or held, highs, drawdowns, averages,
period returns, the intraday high's timing and a close-to-close swing in index points."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from eventlab.report.claims.data import (
    ClaimData,
    MissingData,
    Outcome,
    _d,
    _reference,
    _row,
    _series,
)
from eventlab.report.claims.display import fmt_value

DAY_STATS: dict[str, tuple[str, Callable[[pd.Series, pd.Series], float]]] = {
    "gap": ("Open / prior Close - 1", lambda b, p: b["open"] / p["close"] - 1),
    "close_to_close": ("Close / prior Close - 1", lambda b, p: b["close"] / p["close"] - 1),
    "open_to_close": ("Close / Open - 1", lambda b, p: b["close"] / b["open"] - 1),
    "high_runup": ("High / prior Close - 1", lambda b, p: b["high"] / p["close"] - 1),
    "range": ("(High - Low) / prior Close", lambda b, p: (b["high"] - b["low"]) / p["close"]),
    "close": ("Close", lambda b, p: b["close"]),
    "close_change_points": ("Close - prior Close", lambda b, p: b["close"] - p["close"]),
}


def t_day_stat(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    key, date, stat = p["series"], p["date"], p["stat"]
    label, fn = DAY_STATS[stat]
    b, prev = _row(_series(data, key), key, date)
    value = float(fn(b, prev))
    unit = claim["unit"]
    text = f"{key} on {date}: {stat} ({label}) = {fmt_value(value, unit)}"
    text += f" (prior close {prev['close']:,.2f}, open {b['open']:,.2f}, high {b['high']:,.2f}, low {b['low']:,.2f}, close {b['close']:,.2f})"
    ok = None
    if other := p.get("other_series"):
        b2, prev2 = _row(_series(data, other), other, date)
        other_v = float(fn(b2, prev2))
        ok = value > other_v
        text += f"; {other}: {fmt_value(other_v, unit)}"
    if stat == "close" and key == "VIX" and "vix_cboe" in data.reference:
        cboe = data.reference["vix_cboe"]
        row = cboe[cboe["Date"].astype(str) == date]
        if len(row):
            text += f"; CBOE's own file: close {float(row['Close'].iloc[0]):.2f}, high {float(row['High'].iloc[0]):.2f}"
    return Outcome(
        value,
        fmt_value(value, unit),
        text + ".",
        f"prices/{key}" + (f", prices/{p['other_series']}" if "other_series" in p else ""),
        date,
        ok=ok,
    )


def t_highest_since(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    key, date = p["series"], p["date"]
    df = _series(data, key)
    b, _ = _row(df, key, date)
    earlier = df.loc[: pd.Timestamp(date) - pd.Timedelta(days=1), "close"]
    higher = earlier[earlier >= b["close"]]
    if higher.empty:
        since, text = (
            "start of data",
            f"{key} close {b['close']:.2f} on {date} is the highest in the data.",
        )
    else:
        since = _d(higher.index[-1])
        text = f"{key} close {b['close']:.2f} on {date}; the last earlier close at or above it was {higher.iloc[-1]:.2f} on {since}."
    ok = since[:7] == claim["quoted_value"]
    return Outcome(
        since, f"highest since {since}", text, f"prices/{key}", f"{since}..{date}", ok=ok
    )


def t_sma(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    key, date, n = p["series"], p["date"], int(p["window"])
    close = _series(data, key)["close"].loc[: pd.Timestamp(date)]
    if len(close) < n or close.index[-1] != pd.Timestamp(date):
        raise MissingData(f"{key}: not enough history for a {n}-day average on {date}")
    v = float(close.iloc[-n:].mean())
    text = f"{n}-day simple average of {key} closes {_d(close.index[-n])}..{date} = {v:,.1f} (close that day {close.iloc[-1]:,.1f})."
    return Outcome(
        v, fmt_value(v, "index_points"), text, f"prices/{key}", f"{_d(close.index[-n])}..{date}"
    )


def t_level_cross(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    key, date = p["series"], p["date"]
    level = float(claim["quoted_value"])
    b, prev = _row(_series(data, key), key, date)
    ok = bool(b["high"] > level > b["close"])
    text = (
        f"{key} on {date}: prior close {prev['close']:,.2f}, open {b['open']:,.2f}, high {b['high']:,.2f}, "
        f"low {b['low']:,.2f}, close {b['close']:,.2f}; {'traded above' if b['high'] > level else 'never traded above'} "
        f"{level:,.0f} and closed {'below' if b['close'] < level else 'above'} it."
    )
    return Outcome(
        float(b["close"]), f"close {b['close']:,.1f}", text, f"prices/{key}", date, ok=ok
    )


def t_level_held(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    key = p["series"]
    df = _series(data, key).loc[p["start"] : p["end"]]
    if df.empty:
        raise MissingData(f"{key}: no bars between {p['start']} and {p['end']}")
    level = float(claim["quoted_value"])
    low, when = float(df["low"].min()), _d(df["low"].idxmin())
    held = low >= level
    ok = held if claim["comparator"] == "held_above" else not held
    unit = claim["unit"]
    text = f"{key} lowest low {p['start']}..{p['end']}: {fmt_value(low, unit)} on {when}; the level {fmt_value(level, unit)} {'held' if held else 'was broken'}."
    return Outcome(
        low,
        f"low {fmt_value(low, unit)} ({when})",
        text,
        f"prices/{key}",
        f"{p['start']}..{p['end']}",
        ok=ok,
    )


def t_max_high(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    key = p["series"]
    df = _series(data, key).loc[p["start"] : p["end"]]
    if df.empty:
        raise MissingData(f"{key}: no bars between {p['start']} and {p['end']}")
    hi, when = float(df["high"].max()), _d(df["high"].idxmax())
    return Outcome(
        hi,
        fmt_value(hi, claim["unit"]),
        f"{key} highest high {p['start']}..{p['end']}: {fmt_value(hi, claim['unit'])} on {when}.",
        f"prices/{key}",
        when,
    )


def t_drawdown(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    key = p["series"]
    df = _series(data, key)
    peak_df, trough_df = df.loc[p["peak_start"] : p["peak_end"]], df.loc[p["start"] : p["end"]]
    if peak_df.empty or trough_df.empty:
        raise MissingData(f"{key}: no bars in the peak or trough window")
    peak, pwhen = float(peak_df["high"].max()), _d(peak_df["high"].idxmax())
    trough, twhen = float(trough_df["close"].min()), _d(trough_df["close"].idxmin())
    low = float(trough_df["low"].min())
    v = trough / peak - 1
    text = (
        f"{key}: October high {peak:,.0f} ({pwhen}); lowest close {trough:,.0f} ({twhen}) = {v:+.1%}; "
        f"lowest intraday low {low:,.0f} = {low / peak - 1:+.1%}."
    )
    return Outcome(v, f"{v:+.1%}", text, f"prices/{key}", f"{pwhen}..{twhen}")


def t_period_return(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    """Close-to-close return over a period, ranked among all same-length returns of the series."""
    key = p["series"]
    close = _series(data, key)["close"]
    start, end = pd.Timestamp(p["from_close"]), pd.Timestamp(p["to_close"])
    if start not in close.index or end not in close.index:
        raise MissingData(f"{key} has no close on {p['from_close']} or {p['to_close']}")
    n = close.index.get_loc(end) - close.index.get_loc(start)
    v = float(close[end] / close[start] - 1)
    since = pd.Timestamp(p.get("rank_since", close.index[0]))
    rolling = (close / close.shift(n) - 1).loc[since:].dropna()
    share_lower = float((rolling < v).mean())
    text = (
        f"{key} close {close[start]:,.2f} on {p['from_close']} -> {close[end]:,.2f} on {p['to_close']} "
        f"({n} sessions) = {v:+.2%}; {share_lower:.1%} of all {n}-session returns since {since.date()} were lower."
    )
    return Outcome(v, f"{v:+.2%}", text, f"prices/{key}", f"{p['from_close']}..{p['to_close']}")


def t_intraday_high_time(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    """Minutes from the 09:30 open to the start of the 5-minute bar holding the session high."""
    key, date = p["series"], p["date"]
    bars = data.intraday.get(key)
    if bars is None or len(bars) == 0:
        raise MissingData(f"no intraday series '{key}' in this run")
    day = bars[bars.index.strftime("%Y-%m-%d") == date]
    if day.empty:
        raise MissingData(f"'{key}' has no 5-minute bars on {date}")
    hi_at = day["high"].idxmax()
    minutes = (hi_at - hi_at.normalize()).total_seconds() / 60 - (9 * 60 + 30)
    prior = (
        _row(_series(data, p["daily"]), p["daily"], date)[1]["close"] if p.get("daily") else None
    )
    text = (
        f"{key} on {date}: open {day['open'].iloc[0]:,.2f}, session high {day['high'].max():,.2f} in the bar "
        f"starting {hi_at:%H:%M} ET ({minutes:.0f} minutes after the open), last bar close {day['close'].iloc[-1]:,.2f}"
    )
    if prior is not None:
        below = day[day["low"] < prior]
        text += (
            f"; first trade below the prior close {prior:,.2f} in the bar starting {below.index[0]:%H:%M} ET"
            if len(below)
            else f"; never below the prior close {prior:,.2f}"
        )
    return Outcome(
        minutes,
        f"{minutes:.0f} min (high at {hi_at:%H:%M} ET)",
        text + ".",
        f"intraday/{key}",
        date,
    )


def t_swing_points(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    """A close-to-close move in index points, with the intraday high taken from an ETF proxy
    when the index file has no High (^DJI ships Open/Close only; DIA tracks it at 1/100)."""
    tab = _reference(data, p["table"]).copy()
    tab.index = pd.to_datetime(tab["Date"])
    b, prev = _row(tab.rename(columns=str.lower), p["table"], p["date"])
    proxy_b, proxy_prev = _row(_series(data, p["proxy"]), p["proxy"], p["date"])
    close_pts = float(b["close"] - prev["close"])
    open_pts = float(b["open"] - prev["close"])
    high_pts = float(prev["close"] * (proxy_b["high"] / proxy_prev["close"] - 1))
    low_pts = float(prev["close"] * (proxy_b["low"] / proxy_prev["close"] - 1))
    quoted_high, high_tol = float(p["high_points"]), float(p["high_tolerance"])
    tol = float(claim["tolerance"] or 0)
    ok = (
        abs(close_pts - float(claim["quoted_value"])) <= tol
        and abs(high_pts - quoted_high) <= high_tol
    )
    text = (
        f"^DJI on {p['date']}: prior close {prev['close']:,.2f}, open {b['open']:,.2f} ({open_pts:+,.0f} points), "
        f"close {b['close']:,.2f} ({close_pts:+,.0f} points). ^DJI has no High/Low in the data, so the intraday "
        f"swing is measured on {p['proxy']} (which tracks the Dow at about 1/100) and scaled to Dow points: "
        f"high {high_pts:+,.0f}, low {low_pts:+,.0f} points. Quoted: +{quoted_high:,.0f} to {float(claim['quoted_value']):+,.0f} "
        f"(tolerance {tol:,.0f} points on the close, {high_tol:,.0f} on the proxy high)."
    )
    return Outcome(
        close_pts,
        f"high {high_pts:+,.0f} (via {p['proxy']}), close {close_pts:+,.0f} points",
        text,
        f"reference/{p['table']}, prices/{p['proxy']}",
        p["date"],
        ok=ok,
        difference=close_pts - float(claim["quoted_value"]),
    )
