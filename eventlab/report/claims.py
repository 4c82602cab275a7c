"""The research notes' claims as data, and their verdicts computed from the data.

`claims.csv` (next to this module) holds one row per checkable claim: the claim in English with
the Chinese quote, the quoted value and unit, how to compare (comparator + tolerance), the source
document and section, and the test method with its parameters (JSON). `evaluate_claims` runs
every test against the frames in `ClaimData` and returns one verdict row per claim:

- ``confirmed``: the data gives a value that matches the quote within the stated tolerance;
- ``differs``: the data gives a value that does not match (the evidence says by how much);
- ``within noise``: the data's estimate does not match, but the quote lies within the estimate's
  own uncertainty (a test that estimates rather than measures gives a band, e.g. the implied
  exposure's slope +/- 2 standard errors), so the data neither confirm nor refute it;
- ``cannot check``: the data needed is not in this run (the evidence names what is missing),
  or the claim is not applicable to this run: the event-study claims count the notes' events
  (S&P 500 days that opened more than 1% above the prior close and closed below it, since 1957,
  genuine opens only), so a run whose study defines events otherwise (another index, threshold,
  close rule, window or open policy: `ClaimData.study_changes`) does not check them against its
  own events; the evidence names what differs. The default study's report checks them.

Each claim has a `kind`: ``data`` (checked against market data) or ``model`` (compared with the
CTA replica, a model whose output is not evidence about the market). Counts are kept apart.

No figure is written by hand here: every number in a verdict comes from the frames.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

CLAIMS_CSV = Path(__file__).with_name("claims.csv")
# The index the notes' claims are about (the implied-exposure regressions are on its returns).
NOTES_INDEX = "GSPC"
# Test methods that read the study's events, and the study settings that decide which days are
# events: with any of them changed the events are not the notes' and those claims do not apply.
EVENT_METHODS = frozenset({"event_count", "coverage_start", "is_event", "prior_events"})
EVENT_DEFINITION_FIELDS = (
    "index",
    "gap_threshold",
    "close_rule",
    "start",
    "end",
    "open_policy",
    "genuine_coverage_min",
    "genuine_coverage_window",
)

CONFIRMED, DIFFERS, NOISE, CANNOT = "confirmed", "differs", "within noise", "cannot check"
VERDICTS = (CONFIRMED, DIFFERS, NOISE, CANNOT)

DATA, MODEL = "data", "model"
KINDS = (DATA, MODEL)

CLAIM_COLUMNS = (
    "id",
    "topic",
    "kind",
    "claim",
    "quote_zh",
    "quoted_value",
    "unit",
    "comparator",
    "tolerance",
    "source_doc",
    "source_section",
    "method",
    "params",
    "note",
)

RESULT_COLUMNS = (
    "id",
    "topic",
    "kind",
    "claim",
    "quote_zh",
    "quoted_value",
    "unit",
    "verdict",
    "computed_value",
    "computed_display",
    "difference",
    "comparator",
    "tolerance",
    "evidence",
    "data_used",
    "data_dates",
    "source_doc",
    "source_section",
    "method",
)


class MissingData(LookupError):
    """The data a claim needs is not available in this run (-> verdict 'cannot check')."""


@dataclass
class ClaimData:
    """Everything the claim tests may read. Any piece may be missing (None / absent key)."""

    events: pd.DataFrame | None = None
    event_stats: pd.DataFrame | None = None
    prices: dict[str, pd.DataFrame] = field(default_factory=dict)
    intraday: dict[str, pd.DataFrame] = field(default_factory=dict)
    reference: dict[str, pd.DataFrame] = field(default_factory=dict)
    cta_claims: pd.DataFrame | None = None
    index_key: str = NOTES_INDEX  # the study's index (the events' series)
    main_variant: str = "main"
    # the run's study parameters that differ from the default study, by launchpad name
    # (`study.index`: "NDX"; eventlab.report.publishing.changed_parameters)
    study_changes: dict[str, object] = field(default_factory=dict)

    def event_definition_changes(self) -> dict[str, object]:
        """The changed study settings that change which days are events (empty: the notes' definition)."""
        return {
            k: v
            for k, v in self.study_changes.items()
            if k.startswith("study.") and k.removeprefix("study.") in EVENT_DEFINITION_FIELDS
        }


@dataclass
class Outcome:
    """What a test computed. `ok` None means: decide with the claim's comparator. `band`: the
    range the value could take under the estimate's own noise (tests that estimate a value)."""

    value: object
    display: str
    evidence: str
    data_used: str
    dates: str
    ok: bool | None = None
    difference: float | None = None
    band: tuple[float, float] | None = None


def load_claims(path: Path | None = None) -> pd.DataFrame:
    """The claims table (strings; numbers are parsed where a test needs them)."""
    df = pd.read_csv(path or CLAIMS_CSV, dtype=str, keep_default_na=False)
    missing = [c for c in CLAIM_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"claims table {path or CLAIMS_CSV}: missing columns {missing}")
    bad = sorted(set(df["kind"]) - set(KINDS))
    if bad:
        raise ValueError(f"claims table: unknown kind {bad}; use one of {list(KINDS)}")
    if df["id"].duplicated().any():
        raise ValueError(
            f"claims table: duplicate ids {sorted(df.loc[df['id'].duplicated(), 'id'])}"
        )
    return df


# ---------------------------------------------------------------- formatting


def fmt_value(value: object, unit: str) -> str:
    """Human display of a computed or quoted value in the claim's unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    v = float(value)
    if unit == "fraction":
        return f"{v:+.2%}"
    if unit in ("probability", "percentile"):
        return f"{v:.1%}"
    if unit == "yield":
        return f"{v:.2%}"
    if unit == "count":
        return f"{v:.0f}"
    if unit == "index_points":
        return f"{v:,.0f}" if v == round(v) else f"{v:,.1f}"
    sign = "-" if v < 0 else ""
    if unit == "usd":
        return f"{sign}${abs(v):,.0f}"
    if unit == "usd_bn":
        return f"{sign}${abs(v):,.0f}bn"
    if unit == "usd_mn":
        return f"{sign}${abs(v):,.1f}M"
    if unit == "vix_points":
        return f"{v:.2f}"
    return f"{v:,.4g}"


def _d(x: object) -> str:
    return pd.Timestamp(x).date().isoformat()


# ---------------------------------------------------------------- data access


def _series(data: ClaimData, key: str) -> pd.DataFrame:
    df = data.prices.get(key)
    if df is None or len(df) == 0:
        raise MissingData(f"no daily series '{key}' in this run")
    return df


def _row(df: pd.DataFrame, key: str, date: str) -> tuple[pd.Series, pd.Series]:
    """The bar on `date` and the bar before it."""
    ts = pd.Timestamp(date)
    if ts not in df.index:
        raise MissingData(
            f"series '{key}' has no bar on {date} (data {_d(df.index[0])}..{_d(df.index[-1])})"
        )
    i = df.index.get_loc(ts)
    if i == 0:
        raise MissingData(f"series '{key}' has no bar before {date}")
    return df.iloc[i], df.iloc[i - 1]


def _events(data: ClaimData) -> pd.DataFrame:
    if data.events is None:
        raise MissingData("the events table is not available")
    ev = data.events.copy()
    ev["date"] = pd.to_datetime(ev["date"])
    return ev.sort_values("date").reset_index(drop=True)


def _event_dates(data: ClaimData) -> list[str]:
    return [_d(d) for d in _events(data)["date"]]


def _reference(data: ClaimData, name: str) -> pd.DataFrame:
    df = data.reference.get(name)
    if df is None or len(df) == 0:
        raise MissingData(f"reference table '{name}' is not in this run's snapshot")
    return df


# ---------------------------------------------------------------- tests

DAY_STATS: dict[str, tuple[str, Callable[[pd.Series, pd.Series], float]]] = {
    "gap": ("Open / prior Close - 1", lambda b, p: b["open"] / p["close"] - 1),
    "close_to_close": ("Close / prior Close - 1", lambda b, p: b["close"] / p["close"] - 1),
    "open_to_close": ("Close / Open - 1", lambda b, p: b["close"] / b["open"] - 1),
    "high_runup": ("High / prior Close - 1", lambda b, p: b["high"] / p["close"] - 1),
    "range": ("(High - Low) / prior Close", lambda b, p: (b["high"] - b["low"]) / p["close"]),
    "close": ("Close", lambda b, p: b["close"]),
    "close_change_points": ("Close - prior Close", lambda b, p: b["close"] - p["close"]),
}


def t_event_count(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    dates = _event_dates(data)
    span = ""
    if data.event_stats is not None and len(data.event_stats):
        st = _main_stats(data)
        span = (
            f"; sample with usable opens {st['sample_start'].iloc[0]}..{st['sample_end'].iloc[0]}"
        )
    return Outcome(
        len(dates),
        f"{len(dates)}",
        f"{len(dates)} events in the study ({', '.join(dates) or 'none'}){span}.",
        f"events table ({data.index_key}, genuine opens only)",
        f"{dates[0]}..{dates[-1]}" if dates else "",
    )


def _main_stats(data: ClaimData) -> pd.DataFrame:
    st = data.event_stats
    if st is None or len(st) == 0:
        raise MissingData("the event statistics table is not available")
    if "variant" in st.columns and (st["variant"] == data.main_variant).any():
        st = st[st["variant"] == data.main_variant]
    return st


def t_coverage_start(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    st = _main_stats(data)
    col = next(
        (c for c in ("first_usable_open", "sample_start", "genuine_open_first") if c in st.columns),
        None,
    )
    if col is None:
        raise MissingData(
            "event statistics carry no coverage field (first_usable_open / sample_start)"
        )
    first = str(st[col].iloc[0])
    cont = (
        str(st["continuously_usable_since"].iloc[0])
        if "continuously_usable_since" in st.columns
        else "n/a"
    )
    share = float(st["share_usable"].iloc[0]) if "share_usable" in st.columns else float("nan")
    quoted = claim["quoted_value"]
    ok = pd.Timestamp(first) <= pd.Timestamp(quoted)
    ev = (
        f"The index's Open is a genuine opening print only from {first} "
        f"(continuously from {cont}); {share:.0%} of trading days since {quoted} have a usable open. "
        "Before that the Open equals the Close or the prior Close, so 'opened +1%' cannot be observed."
    )
    return Outcome(
        first,
        first,
        ev,
        "event_stats coverage fields (open-quality flags)",
        f"{quoted}..{first}",
        ok=ok,
    )


def us_session_for_local_date(
    sessions: pd.DatetimeIndex, local_date: str, tz: str, close_et: str = "16:00"
) -> pd.Timestamp | None:
    """The US session whose close falls on `local_date` in time zone `tz` (e.g. the notes date a
    US session by its Beijing-time calendar day: the 11-20 session closes 05:00 on 11-21 there)."""
    day = pd.Timestamp(local_date).date()
    for s in sessions[
        (sessions <= pd.Timestamp(local_date))
        & (sessions >= pd.Timestamp(local_date) - pd.Timedelta(days=7))
    ][::-1]:
        close = pd.Timestamp(f"{s.date()} {close_et}").tz_localize("America/New_York")
        if close.tz_convert(tz).date() == day:
            return s
    return None


def t_is_event(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    date = p.get("date", claim["quoted_value"])
    if tz := p.get("notes_timezone"):
        index = _series(data, data.index_key)
        session = us_session_for_local_date(index.index, date, tz)
        if session is None:
            raise MissingData(f"no US session closes on {date} in {tz}")
        out = t_is_event(claim, {"date": _d(session)}, data)
        out.evidence = (
            f"The notes date events by the {tz} calendar day: {date} there is the US session of "
            f"{_d(session)} ({session.day_name()}), which closed at 16:00 New York time = "
            f"{pd.Timestamp(f'{session.date()} 16:00').tz_localize('America/New_York').tz_convert(tz):%Y-%m-%d %H:%M} "
            f"in {tz}. Judged on the US session: " + out.evidence
        )
        return out
    ev = _events(data)
    dates = [_d(d) for d in ev["date"]]
    ok = date in dates
    if ok:
        r = ev[ev["date"] == pd.Timestamp(date)].iloc[0]
        extra = f" gap {r['gap']:+.2%}, close-to-close {r['close_to_close']:+.2%}."
        text = f"{date} ({pd.Timestamp(date).day_name()}) is an event day:{extra}"
    else:
        nearest = (
            min(dates, key=lambda d: abs(pd.Timestamp(d) - pd.Timestamp(date))) if dates else None
        )
        text = f"{date} ({pd.Timestamp(date).day_name()}) is not an event day"
        if nearest:
            text += f"; the nearest event is {nearest} ({pd.Timestamp(nearest).day_name()})"
        index = data.prices.get(data.index_key)
        if index is not None and pd.Timestamp(date) in index.index:
            b, prev = _row(index, data.index_key, date)
            text += f". On {date} the index gapped {b['open'] / prev['close'] - 1:+.2%} and closed {b['close'] / prev['close'] - 1:+.2%}"
        text += "."
    return Outcome(
        date if ok else "not an event",
        "event" if ok else "not an event",
        text,
        "events table",
        date,
        ok=ok,
    )


def t_prior_events(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    before, n = p["before"], int(p.get("n", 2))
    dates = [d for d in _event_dates(data) if d < before]
    got = dates[-n:]
    quoted = sorted(x.strip() for x in claim["quoted_value"].split(";") if x.strip())
    ok = sorted(got) == quoted
    text = f"The {n} events before {before} are {', '.join(got) or 'none'}"
    for q in (q for q in quoted if q not in got):
        if q in dates:
            between = [d for d in dates if d > q]
            text += f"; {q} is an event too, but {len(between)} events followed it before {before}"
        else:
            text += f"; {q} is not an event day"
    return Outcome(";".join(got), ", ".join(got), text + ".", "events table", ";".join(got), ok=ok)


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


def t_fomc_prob(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    tab = _reference(data, "fomc_prob_next_meeting")
    info, meeting = p["info_date"], p["meeting"]
    rows = tab[
        (tab["zq_info_asof_approx"].astype(str) == info)
        & (tab["meeting_date"].astype(str) == meeting)
    ]
    if rows.empty:
        raise MissingData(
            f"no futures-implied probability for the {meeting} meeting with information date {info}"
        )
    r = rows.iloc[-1]
    v = float(r["p_cut25"]) + float(r.get("p_cut50", 0.0) or 0.0)
    text = (
        f"Futures-implied P(cut) for the {meeting} FOMC = {v:.1%} using ZQ closes of {info} "
        f"(file row dated {r['Date']}; the file lags one trading day, corrected here)."
    )
    same = tab[tab["meeting_date"].astype(str) == meeting].reset_index(drop=True)
    pos = same.index[same["zq_info_asof_approx"].astype(str) == info]
    if len(pos):
        i = int(pos[-1])
        near = same.iloc[max(i - 1, 0) : i + 2]
        text += (
            " Adjacent information dates: "
            + ", ".join(
                f"{d} {float(a) + float(b or 0):.1%}"
                for d, a, b in zip(
                    near["zq_info_asof_approx"],
                    near["p_cut25"],
                    near.get("p_cut50", [0] * len(near)),
                    strict=True,
                )
                if d != info
            )
            + "."
        )
    return Outcome(v, f"{v:.1%}", text, "reference/fomc_prob_next_meeting (FedWatch method)", info)


def t_prediction_market(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    tab = _reference(data, "fomc_dec2025_prediction_markets")
    ts = pd.to_datetime(tab["timestamp_et"].astype(str).str[:19])
    cutoff = pd.Timestamp(f"{p['date']} {p.get('time_et', '15:00')}")
    col = "poly_mid_hold" if p.get("venue", "poly") == "poly" else "kalshi_mid_hold"
    ok_rows = (ts <= cutoff) & (ts.dt.date == cutoff.date()) & tab[col].notna()
    if not ok_rows.any():
        raise MissingData(f"no {col} quote on {p['date']} before {p.get('time_et', '15:00')} ET")
    i = ts[ok_rows].idxmax()
    v = 1.0 - float(tab.loc[i, col])
    text = f"1 - {col} at {ts[i]} ET = {v:.1%} (the 50 bp and hike outcomes were near zero)."
    other = "kalshi_mid_hold" if col == "poly_mid_hold" else "poly_mid_hold"
    if pd.notna(tab.loc[i, other]):
        text += f" Cross-venue: 1 - {other} = {1 - float(tab.loc[i, other]):.1%}."
    return Outcome(v, f"{v:.1%}", text, "reference/fomc_dec2025_prediction_markets", str(ts[i]))


def t_reference_value(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    tab = _reference(data, p["table"])
    rows = tab[tab["Date"].astype(str) == p["date"]]
    if rows.empty or p["column"] not in tab.columns:
        raise MissingData(f"reference table '{p['table']}' has no {p['column']} on {p['date']}")
    v = float(rows[p["column"]].iloc[0]) * float(p.get("scale", 1.0))
    return Outcome(
        v,
        fmt_value(v, claim["unit"]),
        f"{p['table']}.{p['column']} on {p['date']} = {fmt_value(v, claim['unit'])}.",
        f"reference/{p['table']}",
        p["date"],
    )


def t_fundamental(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    tab = _reference(data, p["table"])
    tcol = "ticker" if "ticker" in tab.columns else "Ticker"
    rows = tab[tab[tcol] == p["ticker"]]
    if rows.empty or p["column"] not in tab.columns or pd.isna(rows[p["column"]].iloc[0]):
        raise MissingData(f"{p['table']} has no {p['column']} for {p['ticker']}")
    v = float(rows[p["column"]].iloc[0])
    asof = str(rows["AsOfClose"].iloc[0]) if "AsOfClose" in rows.columns else p["table"]
    return Outcome(
        v,
        fmt_value(v, claim["unit"]),
        f"{p['ticker']} {p['column']} = {fmt_value(v, claim['unit'])} (snapshot as of the {asof} close).",
        f"reference/{p['table']}",
        asof,
    )


CTA_VALUE_COLUMNS = ("replica_value", "model_value", "replica", "computed_value", "value")
CTA_KEY_COLUMNS = ("claim_id", "key", "metric", "id", "claim", "item", "name", "label")


def t_cta(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    tab = data.cta_claims
    if tab is None or len(tab) == 0:
        raise MissingData("the CTA replica's claims table (cta_claims) is not in this run")
    keys = [str(k).lower() for k in p.get("keys", [])]
    text_cols = [c for c in CTA_KEY_COLUMNS if c in tab.columns] or [
        c for c in tab.columns if tab[c].dtype == object
    ]
    hit = None
    for k in keys:  # exact key match first, then substring
        for exact in (True, False):
            for c in text_cols:
                s = tab[c].astype(str).str.lower()
                m = (s == k) if exact else s.str.contains(k, regex=False)
                if m.any():
                    hit = tab[m].iloc[0]
                    break
            if hit is not None:
                break
        if hit is not None:
            break
    if hit is None:
        raise MissingData(f"cta_claims has no row for {keys}")
    vcol = next((c for c in CTA_VALUE_COLUMNS if c in tab.columns and pd.notna(hit[c])), None)
    if vcol is None:
        raise MissingData("cta_claims row has no replica value column")
    scale = float(p.get("scale", 1.0))
    v = hit[vcol]
    with contextlib.suppress(TypeError, ValueError):
        v = float(v) * scale
    asof = next(
        (
            _d(hit[c])
            for c in ("replica_date", "as_of", "date", "asof")
            if c in tab.columns and pd.notna(hit[c])
        ),
        "",
    )
    why = next(
        (
            str(hit[c])
            for c in ("why_differ", "why_differs", "note", "comment", "explanation")
            if c in tab.columns and pd.notna(hit[c])
        ),
        "",
    )
    text = f"CTA replica: {fmt_value(v, claim['unit'])}" + (f" on {asof}" if asof else "")
    if {"replica_low", "replica_high"} <= set(tab.columns) and pd.notna(hit["replica_low"]):
        lo, hi = float(hit["replica_low"]) * scale, float(hit["replica_high"]) * scale
        win = (
            f" over {_d(hit['window_start'])}..{_d(hit['window_end'])}"
            if "window_start" in tab.columns and pd.notna(hit["window_start"])
            else ""
        )
        text += f" (range{win}: {fmt_value(lo, claim['unit'])} to {fmt_value(hi, claim['unit'])})"
    text += "."
    if why:
        text += f" {why}"
    ok = None
    if "verdict" in tab.columns and str(hit["verdict"]).lower() in VERDICTS:
        verdict = str(hit["verdict"]).lower()
        if verdict == CANNOT:
            raise MissingData(text)
        ok = verdict == CONFIRMED
    return Outcome(v, fmt_value(v, claim["unit"]), text, "cta_claims (CTA replica)", asof, ok=ok)


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


def t_reference_window(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    """The minimum (or maximum) of a reference column over a date window."""
    tab = _reference(data, p["table"])
    dates = pd.to_datetime(tab["Date"])
    rows = tab[(dates >= p["start"]) & (dates <= p["end"])].dropna(subset=[p["column"]])
    if rows.empty:
        raise MissingData(
            f"reference table '{p['table']}' has no {p['column']} in {p['start']}..{p['end']}"
        )
    col = rows[p["column"]].astype(float) * float(p.get("scale", 1.0))
    stat = p.get("stat", "min")
    i = col.idxmin() if stat == "min" else col.idxmax()
    v = float(col[i])
    unit = claim["unit"]
    text = (
        f"{p['table']}.{p['column']} {p['start']}..{p['end']} ({len(rows)} days): {stat} "
        f"{fmt_value(v, unit)} on {rows.loc[i, 'Date']}, first {fmt_value(float(col.iloc[0]), unit)}, "
        f"last {fmt_value(float(col.iloc[-1]), unit)}."
    )
    return Outcome(
        v, fmt_value(v, unit), text, f"reference/{p['table']}", f"{p['start']}..{p['end']}"
    )


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


def t_new_high(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    """Whether a ticker's close in a window exceeded every earlier close in the shipped table."""
    tab = _reference(data, p["table"])
    rows = tab[tab["Ticker"] == p["ticker"]]
    if rows.empty:
        raise MissingData(f"{p['table']} has no prices for {p['ticker']}")
    px = rows.set_index(pd.to_datetime(rows["PriceDate"]))["Price"].astype(float).sort_index()
    window = px.loc[p["start"] : p["end"]]
    before = px.loc[: pd.Timestamp(p["start"]) - pd.Timedelta(days=1)]
    if window.empty or before.empty:
        raise MissingData(f"{p['ticker']}: no prices in {p['start']}..{p['end']} or before it")
    top, when = float(window.max()), _d(window.idxmax())
    ok = top > float(before.max())
    text = (
        f"{p['ticker']} highest close {p['start']}..{p['end']}: {top:,.2f} on {when}; highest earlier close "
        f"in the shipped data {float(before.max()):,.2f} on {_d(before.idxmax())}. The shipped prices start on "
        f"{_d(px.index[0])}, so this is a high within that span; an all-time high cannot be verified offline."
    )
    return Outcome(
        top,
        f"{top:,.2f} ({when})",
        text,
        f"reference/{p['table']}",
        f"{_d(px.index[0])}..{p['end']}",
        ok=ok,
    )


def t_implied_exposure(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    """CTA equity exposure implied by a trend index's returns (data, not the replica): the
    percentile of its trailing OLS slope on the S&P 500 (eventlab.cta.exposure)."""
    from eventlab.cta.exposure import exposure_on
    from eventlab.cta.reference import level_series

    levels = level_series(_reference(data, p["index"]), p["index"])
    series = p.get("series", NOTES_INDEX)  # the S&P 500, whatever index the study runs on
    close = _series(data, series)["close"]
    try:
        e = exposure_on(close, levels, int(p["window"]), p["date"])
    except LookupError as exc:
        raise MissingData(str(exc)) from exc
    d = pd.Timestamp(e["date"]).date().isoformat()
    scale = float(p.get("scale", 0.01))
    v = float(e["percentile"]) * scale
    lo, hi = float(e["percentile_low"]), float(e["percentile_high"])
    text = (
        f"{p['index']}: trailing {p['window']}-session OLS slope of its daily returns on the S&P 500's "
        f"on {d} = {float(e['slope']):.3f} (standard error {float(e['se']):.3f}), at percentile "
        f"{float(e['percentile']):.0f} of its own history since 2000 (expanding, no look-ahead); "
        f"the slope +/- 2 standard errors would rank at percentiles {lo:.0f} to {hi:.0f}."
    )
    return Outcome(
        v, fmt_value(v, claim["unit"]), text, f"reference/{p['index']}, prices/{series}", d,
        band=(lo * scale, hi * scale),
    )  # fmt: skip


def t_no_data(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    raise MissingData(f"needs {p.get('needs', 'data that is not in the snapshot')}")


TESTS: dict[str, Callable[[pd.Series, dict, ClaimData], Outcome]] = {
    "event_count": t_event_count,
    "coverage_start": t_coverage_start,
    "is_event": t_is_event,
    "prior_events": t_prior_events,
    "day_stat": t_day_stat,
    "highest_since": t_highest_since,
    "sma": t_sma,
    "level_cross": t_level_cross,
    "level_held": t_level_held,
    "max_high": t_max_high,
    "drawdown": t_drawdown,
    "fomc_prob": t_fomc_prob,
    "prediction_market": t_prediction_market,
    "reference_value": t_reference_value,
    "fundamental": t_fundamental,
    "cta": t_cta,
    "implied_exposure": t_implied_exposure,
    "swing_points": t_swing_points,
    "reference_window": t_reference_window,
    "intraday_high_time": t_intraday_high_time,
    "period_return": t_period_return,
    "new_high": t_new_high,
    "no_data": t_no_data,
}


# ---------------------------------------------------------------- comparison


def compare(value: float, quoted: float, comparator: str, tol: float) -> tuple[bool, float]:
    """(match, value - quoted) for numeric comparators; tolerance in the claim's unit."""
    diff = value - quoted
    eps = 1e-12
    if comparator == "eq":
        return abs(diff) <= tol + eps, diff
    if comparator == "approx":
        return abs(diff) <= tol + eps, diff
    if comparator == "gt":
        return value > quoted - tol, diff
    if comparator == "ge":
        return value >= quoted - tol - eps, diff
    if comparator == "lt":
        return value < quoted + tol, diff
    if comparator == "le":
        return value <= quoted + tol + eps, diff
    raise ValueError(f"unknown comparator {comparator!r}")


def evaluate_claim(claim: pd.Series, data: ClaimData) -> dict[str, object]:
    """One verdict row for one claim."""
    # the claim's own columns, minus the machine-only test parameters and free-text note
    base = {c: claim[c] for c in CLAIM_COLUMNS if c not in ("params", "note")}
    params = json.loads(claim["params"] or "{}")
    test = TESTS.get(claim["method"])
    if test is None:
        raise ValueError(
            f"claim {claim['id']}: unknown test method {claim['method']!r}; known: {sorted(TESTS)}"
        )
    try:
        changed = data.event_definition_changes() if claim["method"] in EVENT_METHODS else {}
        if changed:
            what = ", ".join(f"{k} = {v}" for k, v in sorted(changed.items()))
            raise MissingData(
                "not applicable in this run: the claim is about the notes' events (S&P 500 days "
                "that opened more than 1% above the prior close and closed below it, since "
                f"1957, genuine opens only) and this run's study defines events otherwise ({what}); "
                "the default study's report checks it"
            )
        out = test(claim, params, data)
    except MissingData as exc:
        note = f" {claim['note']}" if claim.get("note") else ""
        return {
            **base,
            "verdict": CANNOT,
            "computed_value": None,
            "computed_display": "n/a",
            "difference": None,
            "evidence": f"Cannot check: {exc}.{note}".replace("..", "."),
            "data_used": "",
            "data_dates": "",
        }
    ok, diff = out.ok, out.difference
    if ok is None:
        try:
            quoted = float(claim["quoted_value"])
            tol = float(claim["tolerance"] or 0)
        except ValueError as exc:
            raise ValueError(
                f"claim {claim['id']}: comparator {claim['comparator']!r} needs a numeric quoted value and tolerance"
            ) from exc
        ok, diff = compare(float(out.value), quoted, claim["comparator"], tol)
    verdict = CONFIRMED if ok else DIFFERS
    if not ok and out.band is not None and _band_reaches(out.band, claim):
        verdict = NOISE
    evidence = out.evidence
    if diff is not None and claim["comparator"] == "approx":
        evidence += f" Quoted {fmt_value(float(claim['quoted_value']), claim['unit'])}; difference {fmt_diff(diff, claim['unit'])} (tolerance {fmt_diff(float(claim['tolerance'] or 0), claim['unit'], signed=False)})."
    if verdict == NOISE:
        lo, hi = (fmt_value(x, claim["unit"]) for x in out.band)  # type: ignore[union-attr]
        evidence += (
            f" The quote lies within the estimate's noise band ({lo} to {hi}): the estimate is "
            "too noisy to confirm or refute it."
        )
    return {
        **base,
        "verdict": verdict,
        "computed_value": out.value if not isinstance(out.value, np.generic) else out.value.item(),
        "computed_display": out.display,
        "difference": diff,
        "evidence": evidence,
        "data_used": out.data_used,
        "data_dates": out.dates,
    }


def _band_reaches(band: tuple[float, float], claim: pd.Series) -> bool:
    """Whether some value in the estimate's band [low, high] matches the quote (with the
    claim's comparator and tolerance)."""
    quoted, tol = float(claim["quoted_value"]), float(claim["tolerance"] or 0)
    lo, hi = band
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    inside = lo <= quoted <= hi and claim["comparator"] in ("eq", "approx")
    return inside or any(compare(x, quoted, claim["comparator"], tol)[0] for x in (lo, hi))


def fmt_diff(diff: float, unit: str, signed: bool = True) -> str:
    sign = "+" if signed else ""
    if unit in ("fraction", "probability", "percentile", "yield"):
        return f"{diff * 100:{sign}.2f} pp"
    if unit in ("usd_bn",):
        return f"{diff:{sign},.0f}bn"
    return f"{diff:{sign},.2f}"


def evaluate_claims(data: ClaimData, claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every claim's verdict, in the claims table's order (columns RESULT_COLUMNS)."""
    claims = load_claims() if claims is None else claims
    rows = [evaluate_claim(c, data) for _, c in claims.iterrows()]
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    out["computed_value"] = out["computed_value"].map(_value_text)
    out["difference"] = pd.to_numeric(out["difference"], errors="coerce")
    return out


def _value_text(v: object) -> str | None:
    """Computed values as text for the CSV: numbers with 10 significant digits, dates/labels as is."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool | np.bool_):
        return str(bool(v)).lower()
    try:
        return f"{float(v):.10g}"
    except (TypeError, ValueError):
        return str(v)


def verdict_counts(results: pd.DataFrame, kind: str | None = None) -> dict[str, int]:
    """Claims per verdict, for one kind (data checks or model comparisons) or for all."""
    if kind is not None and "kind" in results.columns:
        results = results[results["kind"] == kind]
    counts = results["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}
