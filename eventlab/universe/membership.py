"""Point-in-time S&P 500 membership: who was in the index on each day, and what the data lacks.

`data/universe/SP500_MEMBERSHIP_INTERVALS.csv` (ticker, start_date, end_date; an empty end means
still a member; fja05680/sp500, MIT) is shipped unchanged with its sha256 in the manifest and
verified on read like the price files. A ticker can have several intervals (left and rejoined);
tickers are the symbols in use at the time, so a firm renamed before 2021 is a member only under
its new symbol here (its earlier years count as non-member: the filter can only drop days).

With it a member-day counts only while its firm was a member (point in time). It cannot bring
back the firms that left the index before 2021, so `survivorship_by_year` states what remains:
per year, the index's members and how many of them the price data holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.config import UniverseParams
from eventlab.data.frames import DataError
from eventlab.universe.prices import data_dir, read_manifest, verify

INTERVALS_FILE = "SP500_MEMBERSHIP_INTERVALS.csv"


def parse_intervals(df: pd.DataFrame) -> pd.DataFrame:
    """(ticker, start, end) with an open end as +infinity (Timestamp.max), rows validated."""
    missing = {"ticker", "start_date", "end_date"} - set(df.columns)
    if missing:
        raise DataError(f"{INTERVALS_FILE}: missing columns {sorted(missing)}")
    start = pd.to_datetime(df["start_date"], errors="coerce")
    end = pd.to_datetime(df["end_date"].replace("", None), errors="coerce")
    bad = start.isna() | (end.notna() & (end < start))
    if bad.any():
        raise DataError(
            f"{INTERVALS_FILE}: {int(bad.sum())} rows with no start or an end before the start "
            f"(first: {df[bad].iloc[0].to_dict()}); restore it with `git checkout data/universe`"
        )
    return pd.DataFrame(
        {
            "ticker": df["ticker"].astype(str).str.strip(),
            "start": start,
            "end": end.fillna(pd.Timestamp.max.normalize()),
        }
    )


def read_intervals(params: UniverseParams) -> pd.DataFrame:
    """The shipped membership intervals (sha256 verified against data/universe/manifest.json)."""
    root = data_dir(params)
    name = read_manifest(root).get("membership", INTERVALS_FILE)
    df = pd.read_csv(verify(root, name), dtype=str, keep_default_na=False)
    return parse_intervals(df)


def member_rows(intervals: pd.DataFrame, tickers: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """For each (ticker, date) row of a long table: was the ticker a member that day?"""
    tcodes, tnames = pd.factorize(np.asarray(tickers).astype(str))
    dcodes, dnames = pd.factorize(np.asarray(dates, dtype="datetime64[ns]"), sort=True)
    matrix = member_matrix(intervals, list(tnames), pd.DatetimeIndex(dnames))
    return matrix[dcodes, tcodes]


def member_matrix(
    intervals: pd.DataFrame, tickers: list[str], dates: pd.DatetimeIndex
) -> np.ndarray:
    """Bool matrix dates x tickers: member on that day (the panel's layout)."""
    out = np.zeros((len(dates), len(tickers)), bool)
    col = {t: j for j, t in enumerate(tickers)}
    d = dates.to_numpy()
    for t, s, e in intervals[["ticker", "start", "end"]].itertuples(index=False):
        j = col.get(t)
        if j is not None:
            a, b = (
                np.searchsorted(d, np.datetime64(s)),
                np.searchsorted(d, np.datetime64(e), "right"),
            )
            out[a:b, j] = True
    return out


def members_on(intervals: pd.DataFrame, day: pd.Timestamp) -> set[str]:
    """Tickers that were members on `day`."""
    m = (intervals["start"] <= day) & (intervals["end"] >= day)
    return set(intervals.loc[m, "ticker"])


def survivorship_by_year(
    intervals: pd.DataFrame, have: set[str], first: pd.Timestamp, last: pd.Timestamp
) -> pd.DataFrame:
    """Per calendar year of [first, last]: members on the year's first day in the span and how
    many of them the price data holds, and every ticker that was a member at some time that year
    and how many of those it holds."""
    rows = []
    for year in range(first.year, last.year + 1):
        a = max(first, pd.Timestamp(year, 1, 1))
        b = min(last, pd.Timestamp(year, 12, 31))
        on_first = members_on(intervals, a)
        during = set(intervals.loc[(intervals["start"] <= b) & (intervals["end"] >= a), "ticker"])
        rows.append(
            {
                "year": year,
                "first_day": a.date().isoformat(),
                "members_first_day": len(on_first),
                "in_data_first_day": len(on_first & have),
                "share_in_data_first_day": len(on_first & have) / max(1, len(on_first)),
                "members_during_year": len(during),
                "in_data_during_year": len(during & have),
            }
        )
    return pd.DataFrame(rows)


def membership_coverage(intervals: pd.DataFrame, tickers: list[str]) -> dict[str, object]:
    """How the price data's tickers match the intervals: those never listed as members."""
    listed = set(intervals["ticker"])
    never = sorted(set(tickers) - listed)
    return {"tickers": len(tickers), "never_listed": never, "n_never_listed": len(never)}
