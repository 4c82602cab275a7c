"""Breadth: on each day, how many universe members gapped up and closed red, and how the index's
event days rank among all days.

Per member and day (from the per-ticker study's day table): gapped up = a usable (genuine) open
more than `threshold` above the previous split-adjusted close; closed red = close below the
previous close. Per day: share_gap_up_red = members that gapped up and closed red / members with a
usable open that day; share_red = members that closed red / members with a previous close.
Ranks are over every day of the universe's span with at least `min_members` members (1 = the
day with the highest share); pct is the share of days with a value at or below the day's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def breadth_daily(days: pd.DataFrame, threshold: float, min_members: int = 20) -> pd.DataFrame:
    """One row per date: member counts, shares, and their ranks among all days."""
    c2c = days["close_to_close"].to_numpy(float)
    usable = days["open_usable"].to_numpy(bool)
    gap_up = usable & (days["gap"].to_numpy(float) > threshold)
    red = c2c < 0
    flags = pd.DataFrame(
        {
            "date": days["date"].to_numpy(),
            "n_members": ~np.isnan(c2c),
            "n_open_usable": usable,
            "n_gap_up": gap_up,
            "n_gap_up_red": gap_up & red,
            "n_red": red,
        }
    )
    out = flags.groupby("date", sort=True).sum().astype(int)
    out = out[out["n_members"] >= min_members]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_gap_up"] = out["n_gap_up"] / out["n_open_usable"]
        out["share_gap_up_red"] = out["n_gap_up_red"] / out["n_open_usable"]
        out["share_red"] = out["n_red"] / out["n_members"]
    for col in ("share_gap_up_red", "share_red"):
        out[f"rank_{col}"] = out[col].rank(ascending=False, method="min").astype("Int64")
        out[f"pct_{col}"] = out[col].rank(pct=True, method="max")
    out["days_ranked"] = len(out)
    return out.reset_index()


def breadth_on_events(daily: pd.DataFrame, index_events: pd.DataFrame) -> pd.DataFrame:
    """Breadth on each index event day inside the universe's span (index_events: index, date, ...)."""
    span = (daily["date"].min(), daily["date"].max())
    ev = index_events[(index_events["date"] >= span[0]) & (index_events["date"] <= span[1])]
    cols = ["index", "date", "gap", "close_to_close"]
    return ev[cols].merge(daily, on="date", how="left").sort_values(["index", "date"])
