"""What the universe report says in words, and its tables formatted for a reader.

Every sentence is computed from `pooled_stats` (eventlab.universe.pooled): the pooled difference
per horizon with its date-clustered standard error, how consistent it is across sectors and
years (with Holm's adjustment for the number of groups tested), and which caveats weaken it
(overlapping windows make the clustered errors lower bounds for k > 1; the membership is
survivor-biased). The CSVs keep full precision; these tables are for reading.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.report.formatting import MISSING, is_missing, num, pct, pval
from eventlab.study.statistics import holm

ALPHA = 0.05

# column -> (heading, kind); kinds: pct (signed %), share (%), count, p, text
POOLED_COLUMNS: dict[str, tuple[str, str]] = {
    "horizon": ("Horizon (sessions)", "count"),
    "n_events_with_horizon": ("Ticker-events", "count"),
    "n_event_dates": ("Event dates", "count"),
    "n_tickers_with_events": ("Members with events", "count"),
    "event_mean": ("Event mean", "pct"),
    "event_hit_rate": ("Event hit rate", "share"),
    "baseline_mean": ("Other days' mean", "pct"),
    "diff_mean": ("Difference", "pct"),
    "diff_se_clustered": ("SE (clustered by date)", "abs_pct"),
    "diff_p_clustered": ("p (clustered)", "p"),
}
BREADTH_COLUMNS: dict[str, tuple[str, str]] = {
    "index": ("Index", "text"),
    "date": ("Event date", "text"),
    "gap": ("Index gap", "pct"),
    "n_members": ("Members with an open", "count"),
    "share_gap_up_red": ("Members gap-up / close-red", "share"),
    "rank_share_gap_up_red": ("Rank among days", "count"),
    "share_red": ("Members closing red", "share"),
    "rank_share_red": ("Rank (red)", "count"),
    "days_ranked": ("Days ranked", "count"),
}


def _fmt(v: object, kind: str) -> str:
    """One value in the report's number formats (eventlab.report.formatting)."""
    if is_missing(v):
        return MISSING
    formats = {
        "pct": lambda: pct(v),
        "abs_pct": lambda: pct(v, signed=False),
        "share": lambda: pct(v, 0, signed=False),
        "count": lambda: num(v, 0),
        "p": lambda: pval(v),
    }
    return formats[kind]() if kind in formats else str(v)


def display_table(df: pd.DataFrame, columns: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """`df`'s `columns` (those present), formatted as text under readable headings."""
    cols = [c for c in columns if c in df.columns]
    return pd.DataFrame(
        {columns[c][0]: [_fmt(v, columns[c][1]) for v in df[c]] for c in cols}, index=df.index
    )


def group_rows(ps: pd.DataFrame, kind: str, horizon: int) -> pd.DataFrame:
    """One horizon's rows for sectors or years, groups with no event left out, Holm-adjusted p
    over the groups tested (column `diff_p_holm`)."""
    sub = ps[(ps["group_type"] == kind) & (ps["horizon"] == horizon)]
    sub = sub[sub["n_events_with_horizon"].fillna(0) > 0].copy()
    p = sub["diff_p_clustered"].to_numpy(float)
    ok = np.isfinite(p)
    adj = np.full(len(sub), np.nan)
    if ok.any():
        adj[ok] = holm(p[ok])
    sub["diff_p_holm"] = adj
    return sub


def _consistency(g: pd.DataFrame, label: str, horizon: int) -> str | None:
    """How many of the groups `g` (group_rows) point the same way, and survive Holm."""
    if g.empty:
        return None
    pos = int((g["diff_mean"] > 0).sum())
    sig = int((g["diff_p_holm"] <= ALPHA).sum())
    lo, hi = g.loc[g["diff_mean"].idxmin()], g.loc[g["diff_mean"].idxmax()]
    return (
        f"By {label}, the T+{horizon} difference is positive in {pos} of {len(g)} {label}s "
        f"(from {_fmt(lo['diff_mean'], 'pct')} in {lo['group']} to {_fmt(hi['diff_mean'], 'pct')} "
        f"in {hi['group']}); after Holm's adjustment for {len(g)} tests, {sig} "
        f"{'is' if sig == 1 else 'are'} at or below {ALPHA}."
    )


def _busiest_years(years: pd.DataFrame, horizon: int, top: int = 3) -> str | None:
    """How much the yearly picture rests on the years with the most events: the event-weighted
    mean of the yearly differences (`years`: group_rows) with and without them."""
    g = years.dropna(subset=["diff_mean"])
    if len(g) <= top:
        return None
    n = g["n_events_with_horizon"].astype(float)
    busiest = g.loc[n.nlargest(top).index]
    rest = g.drop(busiest.index)
    w_all = float(np.average(g["diff_mean"], weights=n))
    w_rest = float(np.average(rest["diff_mean"], weights=n[rest.index]))
    years = ", ".join(str(y) for y in sorted(busiest["group"]))
    return (
        f"Weighting each year's T+{horizon} difference by its ticker-events gives {_fmt(w_all, 'pct')}; "
        f"without the {top} years with the most events ({years}: "
        f"{n[busiest.index].sum() / n.sum():.0%} of them) it is {_fmt(w_rest, 'pct')}."
    )


def summary_sentences(ps: pd.DataFrame, n_members: int, groups: bool = True) -> list[str]:
    """The report's paragraphs on the pooled raw returns (`groups`: with the sector and year
    consistency sentences)."""
    allr = ps[ps["group_type"] == "all"].sort_values("horizon")
    if allr.empty or not allr["n_events_with_horizon"].fillna(0).gt(0).any():
        return ["No member met the event definition in the universe's span: nothing to pool."]
    parts = [
        f"T+{int(r['horizon'])}: {_fmt(r['event_mean'], 'pct')} vs {_fmt(r['baseline_mean'], 'pct')} "
        f"(difference {_fmt(r['diff_mean'], 'pct')}, clustered SE {_fmt(r['diff_se_clustered'], 'abs_pct')}, "
        f"p {_fmt(r['diff_p_clustered'], 'p')})"
        for _, r in allr.iterrows()
    ]  # fmt: skip
    first = allr.iloc[0]
    out = [
        f"Pooled over {n_members:,} members ({_fmt(first['n_events_with_horizon'], 'count')} "
        f"ticker-events on {_fmt(first['n_event_dates'], 'count')} dates), a member's total return "
        "after it gapped up and closed red, against its return after every other day: "
        + "; ".join(parts)
        + "."
    ]
    k_max = int(allr["horizon"].max())
    for kind in ("sector", "year") if groups else ():
        g = group_rows(ps, kind, k_max)
        text = _consistency(g, kind, k_max)
        busiest = _busiest_years(g, k_max) if kind == "year" and text else None
        if text:
            out.append(f"{text} {busiest}" if busiest else text)
    if (allr["horizon"] > 1).any():
        out.append(
            "How far this goes: for horizons over one session a member's overlapping windows are "
            "not absorbed by the date clusters, so those standard errors are lower bounds and the "
            "p-values optimistic; and the members are the index's members at the end of the "
            "data, so firms that failed are missing "
            "(survivorship bias, above). Read the pooled figures as a description of this "
            "sample, not as a tradeable edge."
        )
    return out
