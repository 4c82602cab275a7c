"""The research notes' CTA claims next to the replica's values on the same dates.

The notes (doc 003 part 2, citing Goldman Sachs desk commentary; doc 004 part 3.2) say that in
mid-November 2025 CTAs were ~94th-percentile long with ~$165bn of S&P exposure, that 6725 was the
short-term trigger, that a break would bring $40-50bn of selling at first and up to $390bn in a
week / $650bn in a month in a "down big" tape, and they name 6456 as the next level. The desk's
model is not public; this table states what a transparent replica says on the same dates and why
the two can differ. Flows are signed (negative = selling), in USD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventlab.settings.cta import CTAParams

CLAIM_COLUMNS = [
    "claim_id", "claim", "source", "unit", "notes_value", "notes_low", "notes_high",
    "replica_date", "replica_value", "replica_low", "replica_high", "window_start", "window_end",
    "difference", "difference_pct", "implied_capacity_usd", "replica_definition", "why_differ",
]  # fmt: skip


@dataclass(frozen=True)
class Claim:
    claim_id: str
    claim: str
    source: str
    unit: str
    value: float
    low: float
    high: float


NOTES_CLAIMS: tuple[Claim, ...] = (
    Claim(
        "short_term_level",
        "Short-term CTA trigger on the S&P 500",
        "doc 003 part 2.2 and table 1 (GS derivatives desk)",
        "index points",
        6725,
        6725,
        6725,
    ),
    Claim(
        "medium_term_level",
        "Next CTA level to defend (compared with the medium-term level)",
        "doc 004 parts 3.2.2 and 4.2.1",
        "index points",
        6456,
        6456,
        6456,
    ),
    Claim(
        "position_percentile",
        "CTA long positioning percentile, mid-November",
        "doc 003 table 1 (94%-100%)",
        "percentile (0-100)",
        94,
        94,
        100,
    ),
    Claim(
        "oversold_percentile",
        "CTA positioning 'extremely oversold' after the selloff week (read as the bottom decile)",
        "doc 003 part 6.2 (极度超卖)",
        "percentile (0-100)",
        10,
        0,
        10,
    ),
    Claim(
        "notional",
        "CTA S&P 500 notional long, mid-November",
        "doc 003 table 1 (~$165bn)",
        "USD",
        165e9,
        165e9,
        165e9,
    ),
    Claim(
        "initial_selling",
        "Initial selling once the trigger broke",
        "doc 003 table 1 ($40-50bn)",
        "USD",
        -45e9,
        -50e9,
        -40e9,
    ),
    Claim(
        "down_big_1w",
        "Selling over one week in a 'down big' tape",
        "doc 003 part 2.2 ($390bn, GS Cullen Morgan)",
        "USD",
        -390e9,
        -390e9,
        -390e9,
    ),
    Claim(
        "down_big_1m",
        "Selling over one month in a 'down big' tape",
        "doc 003 part 2.2 ($650bn)",
        "USD",
        -650e9,
        -650e9,
        -650e9,
    ),
)

WHY = {
    "short_term_level": (
        "The replica's short-term level comes from its {short_lb}-session {rule} rule (for momentum: the close {short_lb_1} sessions earlier, so it jumps as old closes roll off); "
        "the desk's short-term signal, lookback and smoothing are not public, and a one-session change in lookback can move a momentum level by about 1%."
    ),
    "medium_term_level": (
        "Compared with the replica's medium-term ({medium_lb}-session {rule}) level; the notes do not say which horizon 6456 belongs to "
        "or which day it was computed on, and the desk's model is not public."
    ),
    "position_percentile": (
        "The replica ranks its S&P-only position against its own history (expanding from 1929 by default); the desk ranks its "
        "cross-asset CTA equity positioning against a shorter, unpublished history, and percentiles are very sensitive to that choice."
    ),
    "oversold_percentile": (
        "Read at the close of the session after the window (the end of the selloff week, when the notes were written); "
        "'extremely oversold' is taken as the bottom decile of the replica's own position history. The implied exposure "
        "from SG Trend's returns (a data check, not the model) is tested separately."
    ),
    "notional": (
        "Notional = position x an ASSUMED capacity (${capacity_bn:.0f}bn here, not estimated); the desk sizes the whole CTA industry "
        "from fund returns and open interest. implied_capacity_usd is the capacity at which the replica would match the claim."
    ),
    "initial_selling": (
        "Replica value = cumulative change in target notional from the first session in the window that broke the short-term "
        "level through the window end; it scales with the assumed capacity and the desk's 'initial' window is not defined."
    ),
    "down_big_1w": (
        "The replica trades only the S&P 500 with capacity C, so no path can sell more than 2C in total; the desk's $390bn "
        "plausibly covers global equity futures and a harsher, unpublished 'down big' path."
    ),
    "down_big_1m": (
        "As for the week: one index, an assumed capacity and a -{down_big:g} sd path spread evenly over the month; the desk's figure "
        "covers more markets and its path is not public."
    ),
}

DEFINITION = {
    "short_term_level": "level_short in force for the session after replica_date (computed on its close)",
    "medium_term_level": "level_medium in force for the session after replica_date",
    "position_percentile": "percentile of the aggregate position vs its own history, at the replica_date close",
    "oversold_percentile": "percentile of the aggregate position at the close of the first session after window_end (low/high: range over the window and that session)",
    "notional": "notional_usd (position x capacity_usd) at the replica_date close",
    "initial_selling": "notional at window_end minus notional the session before the first short-term break in the window (low/high: smallest/largest such cumulative change on any session from the break to window_end)",
    "down_big_1w": "scenario 'down_big' (-down_big_std sd over 5 sessions) flow_usd from replica_date (low/high: range across all scenarios)",
    "down_big_1m": "scenario 'down_big' (-down_big_std sd over 21 sessions) flow_usd from replica_date (low/high: range across all scenarios)",
}


def _last_on_or_before(index: pd.DatetimeIndex, when) -> pd.Timestamp:
    return index[index <= pd.Timestamp(when)][-1]


def selling_path(history: pd.DataFrame, params: CTAParams, start, end) -> pd.Series:
    """Cumulative notional change since the session before the first short-term break in
    [start, end], on each session from that break through `end` (empty when nothing broke)."""
    h = params.horizons[0]
    win = history.loc[pd.Timestamp(start) : pd.Timestamp(end)]
    sig = history[f"signal_{h}"]
    prev = sig.shift(1).loc[win.index]
    broke = win.index[(prev > 0) & (win[f"signal_{h}"] <= 0)]
    if len(broke) == 0:
        return pd.Series(dtype=float)
    i = history.index.get_loc(broke[0])
    return win.loc[broke[0] :, "notional_usd"] - float(history["notional_usd"].iloc[i - 1])


def claims_table(history: pd.DataFrame, scenarios: pd.DataFrame, params: CTAParams) -> pd.DataFrame:
    """Notes vs replica, one row per claim (see CLAIM_COLUMNS; USD flows signed, selling < 0).

    `history` is `replay.full_history(...)`; `scenarios` must contain the as-of date
    ``params.claims_date`` (see `scenarios.scenarios_for_dates`).
    """
    idx = history.index
    d0 = _last_on_or_before(idx, params.claims_date)
    d1 = _last_on_or_before(idx, params.claims_window_end)
    ws = _last_on_or_before(idx, params.claims_window_start)
    win = history.loc[ws:d1]
    short, medium = params.horizons[0], params.horizons[min(1, len(params.horizons) - 1)]
    rows = []

    def add(
        c: Claim, date: pd.Timestamp, value: float, low: float, high: float, w0=ws, w1=d1
    ) -> None:
        implied = (
            params.capacity_usd * c.value / value
            if c.unit == "USD" and value not in (0.0,) and np.isfinite(value)
            else np.nan
        )
        rows.append([
            c.claim_id, c.claim, c.source, c.unit, c.value, c.low, c.high, date, value, low, high, w0, w1,
            value - c.value, value / c.value - 1.0, implied, DEFINITION[c.claim_id], "",
        ])  # fmt: skip

    by_id = {c.claim_id: c for c in NOTES_CLAIMS}
    col = f"level_{short}"
    add(
        by_id["short_term_level"],
        d0,
        float(history.at[d0, col]),
        float(win[col].min()),
        float(win[col].max()),
    )
    col = f"level_{medium}"
    add(
        by_id["medium_term_level"],
        d1,
        float(history.at[d1, col]),
        float(win[col].min()),
        float(win[col].max()),
    )
    add(
        by_id["position_percentile"],
        d0,
        float(history.at[d0, "percentile"]),
        float(win["percentile"].min()),
        float(win["percentile"].max()),
    )
    after = idx[idx > d1]
    d2 = after[0] if len(after) else d1
    span = history.loc[ws:d2, "percentile"]
    add(
        by_id["oversold_percentile"],
        d2,
        float(history.at[d2, "percentile"]),
        float(span.min()),
        float(span.max()),
        ws,
        d2,
    )
    add(
        by_id["notional"],
        d0,
        float(history.at[d0, "notional_usd"]),
        float(win["notional_usd"].min()),
        float(win["notional_usd"].max()),
    )
    # low/high of the same quantity as the value (the cumulative change on each session since the
    # break), so the value always lies in its range; daily flows measure something else.
    path = selling_path(history, params, ws, d1)
    add(
        by_id["initial_selling"],
        path.index[0] if len(path) else d1,
        float(path.iloc[-1]) if len(path) else np.nan,
        float(path.min()) if len(path) else np.nan,
        float(path.max()) if len(path) else np.nan,
    )
    sc = scenarios[scenarios["as_of"] == d0]
    for cid, window in (
        ("down_big_1w", params.scenario_windows[0][0]),
        ("down_big_1m", params.scenario_windows[-1][0]),
    ):
        sub = sc[(sc["scenario"] == "down_big") & (sc["window"] == window)]
        v = float(sub["flow_usd"].iloc[0]) if len(sub) else float("nan")
        allw = sc[sc["window"] == window]["flow_usd"]
        add(
            by_id[cid],
            d0,
            v,
            float(allw.min()) if len(allw) else np.nan,
            float(allw.max()) if len(allw) else np.nan,
            d0,
            d0,
        )
    out = pd.DataFrame(rows, columns=CLAIM_COLUMNS)
    ctx = {
        "rule": params.rule,
        "short_lb": params.lookbacks[0],
        "short_lb_1": params.lookbacks[0] - 1,
        "medium_lb": params.lookbacks[min(1, len(params.lookbacks) - 1)],
        "capacity_bn": params.capacity_usd / 1e9,
        "down_big": params.down_big_std,
    }
    out["why_differ"] = [WHY[c].format(**ctx) for c in out["claim_id"]]
    for c in ("replica_date", "window_start", "window_end"):
        out[c] = pd.to_datetime(out[c])
    return out
