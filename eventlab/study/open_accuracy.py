"""How accurate the index's "genuine" opens are: its opening gap as a share of a tradeable gap.

An index's first print of the day is computed from component prices that have not all traded
yet, so it understates the true opening gap. SPY opens in a real auction, so on days when SPY
gapped noticeably, `index gap / SPY gap` measures how much of the move the index open shows.
From the rolling median of that ratio a rule finds the date from which the gap rule can really
see the index (the "effective visibility" date): the first day after which the median never
falls below a documented bound again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.study.open_quality import shift1


def gap_ratios(
    index_px: pd.DataFrame,
    reference_px: pd.DataFrame,
    min_reference_gap: float,
    window: int,
    open_genuine: pd.Series | None = None,
) -> pd.DataFrame:
    """Per common day: both opening gaps, their ratio on days where |reference gap| exceeds
    `min_reference_gap` (else NaN), and the trailing median of the ratio over the last
    `window` such days."""
    common = index_px.index.intersection(reference_px.index)

    def gap(px: pd.DataFrame) -> np.ndarray:
        o, c = px["open"].to_numpy(float), px["close"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = o / shift1(c) - 1
        return pd.Series(g, index=px.index).reindex(common).to_numpy()

    ig, rg = gap(index_px), gap(reference_px)
    qualifying = np.abs(rg) > min_reference_gap
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(qualifying, ig / rg, np.nan)
    out = pd.DataFrame(
        {"index_gap": ig, "reference_gap": rg, "qualifying": qualifying, "ratio": ratio},
        index=common,
    )
    q = out.loc[out["qualifying"], "ratio"]
    out["rolling_median_ratio"] = q.rolling(window, min_periods=window).median().reindex(common)
    out["rolling_median_ratio"] = out["rolling_median_ratio"].ffill()
    if open_genuine is not None:
        out["index_open_genuine"] = open_genuine.reindex(common, fill_value=False).to_numpy(bool)
    out.index.name = "date"
    return out


def accuracy_by_year(ratios: pd.DataFrame) -> pd.DataFrame:
    """Per calendar year: qualifying days, median ratio and the correlation of the two gaps."""
    q = ratios[ratios["qualifying"]]
    rows = []
    for year, g in q.groupby(q.index.year):
        ok = g[["index_gap", "reference_gap"]].dropna()
        rows.append(
            {
                "year": int(year),
                "qualifying_days": len(g),
                "median_ratio": float(g["ratio"].median()),
                "correlation": float(ok["index_gap"].corr(ok["reference_gap"]))
                if len(ok) > 2
                else np.nan,
                "share_index_open_genuine": float(g["index_open_genuine"].mean())
                if "index_open_genuine" in g.columns
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def effective_visibility(ratios: pd.DataFrame, bound: float) -> pd.Timestamp | None:
    """First qualifying day after which the rolling median ratio never falls below `bound`
    (None if it is below the bound at the end of the data)."""
    q = ratios.loc[ratios["qualifying"], "rolling_median_ratio"].dropna()
    if q.empty or q.iloc[-1] < bound:
        return None
    below = np.flatnonzero(q.to_numpy() < bound)
    return q.index[below[-1] + 1] if len(below) else q.index[0]


def unseen_reference_events(
    index_events: pd.Series, reference_events: pd.Series, start: object, end: object
) -> pd.DatetimeIndex:
    """Reference-series event days in [start, end) on which the index had no event."""
    ref = reference_events[reference_events].index
    ref = ref[(ref >= pd.Timestamp(start)) & (ref < pd.Timestamp(end))]
    return ref.difference(index_events[index_events].index)
