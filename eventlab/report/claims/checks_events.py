"""Checks about the study's events: how many, since when the index's opens are usable, whether
a date is an event day, which events came before a date."""

from __future__ import annotations

import pandas as pd

from eventlab.report.claims.data import (
    ClaimData,
    MissingData,
    Outcome,
    _d,
    _event_dates,
    _events,
    _longest_stats,
    _main_stats,
    _row,
    _series,
)


def t_event_count(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    """The study's event count, and whether it answers the claim's span: the index's usable
    opens must reach back to `since` (params) and no series with real opens may count more."""
    dates = _event_dates(data)
    n, quoted = len(dates), int(float(claim["quoted_value"]))
    text = f"{n} events in the study ({', '.join(dates) or 'none'})"
    span = f"{dates[0]}..{dates[-1]}" if dates else ""
    if data.event_stats is None or not len(data.event_stats):
        return Outcome(n, f"{n}", text + ".", f"events table ({data.index_key})", span)
    st = _main_stats(data).iloc[0]
    start, visible = str(st["sample_start"]), st.get("effective_visibility_from")
    visible = visible if isinstance(visible, str) and visible > start else None
    text += f"; sample with usable opens {start}..{st['sample_end']}"
    display = f"{n} since {start}"
    if visible:
        text += f", and the index's opens show the real gap only from {visible} (open accuracy)"
        display += f" (effectively since {visible})"
    since = p.get("since")
    covers = since is None or start <= str(since)
    if not covers:
        text += f". The data cannot see {since}..{start}: the count answers 'since {start}', not 'since {since}'"
    longest = _longest_stats(data)
    more = False
    if longest is not None:
        m, ref = int(longest["n_events"]), str(longest["index"])
        more = m > quoted
        text += (
            f"; {ref}, with a tradeable opening auction, meets the same rule on {m} days of "
            f"{longest['sample_start']}..{longest['sample_end']}"
        )
        display += f"; {ref}: {m} since {longest['sample_start']}"
    ok = n == quoted and covers and not more
    return Outcome(
        n,
        display,
        text + ".",
        f"events table ({data.index_key}, genuine opens only), event_stats",
        span,
        ok=ok,
        difference=float(n - quoted),
    )


def t_coverage_start(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    st = _main_stats(data)
    first = str(st["first_usable_open"].iloc[0])
    cont = str(st["continuously_usable_since"].iloc[0])
    share = float(st["share_usable"].iloc[0])
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
