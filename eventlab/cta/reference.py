"""The trend-following reference indices (SG Trend, SG CTA, BTOP50, TSMOM): parsing and checks.

The snapshot keeps each file as published (`date`, `close`: index levels). Daily SG dates are
index calendar business days, not NYSE sessions: join with S&P 500 data on the date and drop the
days the two calendars do not share (SOURCES.md, "Trend-following (CTA) reference indices").
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Frequency = Literal["daily", "monthly"]

# A daily index may skip a holiday or two (European and US holidays are sometimes missing,
# sometimes carried); three or more missing business days in a row is a gap in the data.
MAX_DAILY_BUSINESS_GAP = 3
# A month-end series: one row per calendar month, dated in the month's last week.
MONTH_END_MIN_DAY = 24


def level_series(frame: pd.DataFrame, name: str) -> pd.Series:
    """The index levels as a float Series on a DatetimeIndex (raises naming the table if malformed)."""
    missing = [c for c in ("date", "close") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"reference table {name!r}: missing columns {missing}; expected `date`, `close` "
            "(rebuild the snapshot with `make snapshot`)"
        )
    idx = pd.DatetimeIndex(pd.to_datetime(frame["date"]), name="date")
    return pd.Series(frame["close"].to_numpy(dtype=float), index=idx, name=name)


def check_levels(frame: pd.DataFrame, name: str, freq: Frequency) -> tuple[bool, dict[str, object]]:
    """Dates unique and increasing, no gaps beyond holidays, every level finite and > 0.

    Returns (passed, metadata) with each rule's verdict and its violation count.
    """
    s = level_series(frame, name)
    idx = s.index
    steps = idx[1:] - idx[:-1]
    increasing = int((steps <= pd.Timedelta(0)).sum())
    values = s.to_numpy()
    positive = int((~np.isfinite(values) | (values <= 0)).sum())
    if freq == "daily":
        days = idx.values.astype("datetime64[D]")
        gaps = np.busday_count(days[:-1], days[1:]) if len(days) > 1 else np.array([], int)
        bad_gaps = int((gaps > MAX_DAILY_BUSINESS_GAP).sum())
        gap_rule = f"at most {MAX_DAILY_BUSINESS_GAP} business days between rows"
        largest = int(gaps.max()) if gaps.size else 0
    else:
        months = idx.year * 12 + idx.month
        step = np.diff(months)
        bad_gaps = int((step != 1).sum() + (idx.day < MONTH_END_MIN_DAY).sum())
        gap_rule = f"one row per consecutive month, dated on or after day {MONTH_END_MIN_DAY}"
        largest = int(step.max()) if step.size else 0
    passed = len(s) > 1 and increasing == 0 and positive == 0 and bad_gaps == 0
    return passed, {
        "rows": len(s),
        "first": str(idx[0].date()) if len(s) else "-",
        "last": str(idx[-1].date()) if len(s) else "-",
        "frequency": freq,
        "dates_increasing": increasing == 0,
        "non_increasing_steps": increasing,
        "no_gaps": bad_gaps == 0,
        "gap_rule": gap_rule,
        "gap_violations": bad_gaps,
        "largest_step": largest,
        "values_positive": positive == 0,
        "non_positive_values": positive,
    }


def daily_returns(levels: pd.Series) -> pd.Series:
    """Simple returns on the series' own calendar (each row vs its previous row)."""
    return levels.pct_change().iloc[1:]


def monthly_returns(levels: pd.Series) -> pd.Series:
    """Month-end to month-end simple returns, indexed by month (Period 'M')."""
    m = levels.groupby(levels.index.to_period("M")).last()
    return m.pct_change().iloc[1:]
