"""Readable headings and values for the report's tables (the CSVs keep their column names).

A reader of report.html sees "Notes' value" and "Why they can differ", not `notes_value` and
`why_differ`; scenario names read "down 2 sd" rather than `down_2sd`. Unknown columns fall back to
the column name with underscores as spaces, so a new column is never hidden.
"""

from __future__ import annotations

import re

import pandas as pd

COLUMN_LABELS: dict[str, str] = {
    # cta_levels.csv
    "as_of": "As of",
    "horizon": "Horizon",
    "lookback_days": "Look-back (sessions)",
    "rule": "Rule",
    "close": "Close",
    "level": "Trigger level",
    "distance": "Distance from close",
    "signal": "Signal",
    "position": "Position",
    "method": "Method",
    # cta_claims.csv
    "claim": "Claim (notes)",
    "unit": "Unit",
    "notes_value": "Notes' value",
    "notes_low": "Notes' low",
    "notes_high": "Notes' high",
    "replica_date": "Replica date",
    "replica_value": "Replica value",
    "replica_low": "Replica low",
    "replica_high": "Replica high",
    "difference": "Difference",
    "difference_pct": "Difference (%)",
    "why_differ": "Why they can differ",
    # cta_scenarios.csv
    "scenario": "Scenario",
    "window": "Window",
    "days": "Sessions",
    "path_return": "Path return",
    "position_start": "Position at start",
    "position_end": "Position at end",
    "flow_usd": "Flow (USD, selling < 0)",
    "first_day_flow_usd": "First-day flow (USD)",
    "max_daily_sell_usd": "Largest daily sale (USD)",
    "notional_start_usd": "Notional at start (USD)",
    "notional_end_usd": "Notional at end (USD)",
    # cta_event_summary.csv
    "status": "Status at the event close",
    "n_events": "Events",
    "event_dates": "Event dates",
}
# per-horizon statistics (the run's study horizons, any k): median_fwd_5d -> "Median T+5"
_HORIZON_STAT = re.compile(r"^(median|mean)_fwd_(\d+)d$|^hit_rate_(\d+)d$")

# long free text: give the column room to wrap instead of a narrow, very tall cell
WIDE_COLUMNS = {"claim", "why_differ", "event_dates", "replica_definition"}
_SCENARIO = re.compile(r"^(up|down)_(\d+(?:\.\d+)?)sd$")


def column_label(col: str) -> str:
    """The heading shown for a CSV column."""
    if col in COLUMN_LABELS:
        return COLUMN_LABELS[col]
    if m := _HORIZON_STAT.match(col):
        stat, k, hit_k = m.groups()
        return f"Hit rate T+{hit_k}" if hit_k else f"{stat.capitalize()} T+{k}"
    return col.replace("_", " ").capitalize()


def cta_value(col: str, raw: object, text: str) -> str:
    """Display text for one cell: scenario names in words, event-date lists spaced so they wrap."""
    if col == "scenario" and isinstance(raw, str):
        m = _SCENARIO.match(raw)
        return f"{m.group(1)} {m.group(2)} sd" if m else raw.replace("_", " ")
    if col == "event_dates" and isinstance(raw, str):
        return raw.replace(";", ", ")
    return text


def cta_table_classes(df: pd.DataFrame) -> list[str]:
    """A CSS class per column: 'n' (right-aligned numbers), 'wide' (long text) or ''."""
    out = []
    for col in df.columns:
        if col in WIDE_COLUMNS:
            out.append("wide")
        elif pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            out.append("n")
        else:
            out.append("")
    return out
