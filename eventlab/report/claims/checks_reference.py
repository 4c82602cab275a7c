"""Checks against the snapshot's reference tables: futures-implied and prediction-market rate
odds, a reference column on a date or over a window, fundamentals, a ticker's new high; and the
claims no shipped data can check."""

from __future__ import annotations

import pandas as pd

from eventlab.report.claims.data import ClaimData, MissingData, Outcome, _d, _reference
from eventlab.report.claims.display import fmt_value


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
    v = float(r["p_cut25"]) + float(r["p_cut50"])
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
                    near["p_cut50"],
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


def t_fundamental(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    tab = _reference(data, p["table"])
    rows = tab[tab["ticker"] == p["ticker"]]
    if rows.empty or p["column"] not in tab.columns or pd.isna(rows[p["column"]].iloc[0]):
        raise MissingData(f"{p['table']} has no {p['column']} for {p['ticker']}")
    v = float(rows[p["column"]].iloc[0])
    asof = str(rows["AsOfClose"].iloc[0])
    return Outcome(
        v,
        fmt_value(v, claim["unit"]),
        f"{p['ticker']} {p['column']} = {fmt_value(v, claim['unit'])} (snapshot as of the {asof} close).",
        f"reference/{p['table']}",
        asof,
    )


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
    first = _d(px.index[0])
    days = (pd.Timestamp(p["start"]) - px.index[0]).days
    span = f"{days} days" if days < 61 else f"{days / 30.4:.0f} months"
    text = (
        f"{p['ticker']} highest close {p['start']}..{p['end']}: {top:,.2f} on {when}; highest earlier close "
        f"in the shipped data {float(before.max()):,.2f} on {_d(before.idxmax())}. The shipped prices start on "
        f"{first}, so the window can check a high over the {span} since then "
        f"({'it is one' if ok else 'it is not one'}), not a new (all-time) high, which cannot be verified offline."
    )
    if untested := p.get("untested"):
        text += f" The claim's other half ({untested}) is not tested by this check."
    return Outcome(
        top,
        f"{top:,.2f} ({when}): {'a' if ok else 'no'} high since {first}",
        text,
        f"reference/{p['table']}",
        f"{first}..{p['end']}",
        ok=ok,
        undecided=bool(p.get("all_time")) and ok,
    )


def t_no_data(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    raise MissingData(f"needs {p.get('needs', 'data that is not in the snapshot')}")
