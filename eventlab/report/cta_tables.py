"""The CTA model's tables as the report shows them: which tables, which columns, formatted cells."""

from __future__ import annotations

import re

import pandas as pd

from eventlab.cta.levels import LEVEL_COLUMNS
from eventlab.report.columns import column_type, format_value
from eventlab.report.labels import column_label, cta_table_classes, cta_value

CTA_TABLES = ("cta_levels_latest", "cta_claims", "cta_scenarios", "cta_event_summary")


def _cell(col: str, v: object, unit: str | None = None) -> str:
    """A CTA table's cell, by its column's declared type (eventlab.report.columns); `unit` is the
    row's unit for figures given in it (cta_claims)."""
    return format_value(column_type(col), v, compact=True, unit=unit)


CTA_DISPLAY_COLUMNS: dict[str, tuple[str, ...]] = {
    # the CTA model's own column list, minus the note on which session a level applies to
    "cta_levels_latest": tuple(c for c in LEVEL_COLUMNS if c != "applies_to"),
    "cta_claims": (
        "claim",
        "unit",
        "notes_value",
        "replica_date",
        "replica_value",
        "replica_low",
        "replica_high",
        "why_differ",
    ),
    "cta_scenarios": (
        "as_of",
        "scenario",
        "window",
        "days",
        "path_return",
        "position_start",
        "position_end",
        "flow_usd",
        "max_daily_sell_usd",
    ),
    # cta_event_summary: the study's horizons, see table_columns
}
# cta_event_summary's columns shown: these, with each horizon's median and the hit rate between
CTA_SUMMARY_LEAD = ("horizon", "status", "n_events")
CTA_SUMMARY_TAIL = ("event_dates",)
_MEDIAN_FWD = re.compile(r"^median_fwd_(\d+)d$")
_HIT_RATE = re.compile(r"^hit_rate_(\d+)d$")


def table_columns(name: str, df: pd.DataFrame) -> tuple[str, ...]:
    """The columns the report shows for CTA table `name`: the fixed list, or for the event
    summary the median at each of the run's study horizons and the hit rate it carries."""
    if name != "cta_event_summary":
        return CTA_DISPLAY_COLUMNS.get(name, ())
    by_horizon = [(int(m.group(1)), c) for c in df.columns if (m := _MEDIAN_FWD.match(str(c)))]
    medians = [c for _, c in sorted(by_horizon, key=lambda hc: hc[0])]
    hits = [c for c in df.columns if _HIT_RATE.match(str(c))]
    return (*CTA_SUMMARY_LEAD, *medians, *hits, *CTA_SUMMARY_TAIL)


def generic_table(
    df: pd.DataFrame, max_rows: int = 60, columns: tuple[str, ...] = ()
) -> dict[str, object]:
    """A table for the template: readable headings (labels.column_label), formatted cells and
    a CSS class per column (numbers right-aligned, long text given room)."""
    cols = [c for c in columns if c in df.columns]
    if cols:
        df = df[cols]
    head = df.head(max_rows)
    return {
        "columns": [column_label(str(c)) for c in head.columns],
        "classes": cta_table_classes(head),
        "rows": [
            [
                cta_value(str(c), v, _cell(str(c), v, unit))
                for c, v in zip(head.columns, row, strict=True)
            ]
            for row, unit in zip(
                head.itertuples(index=False),
                head["unit"] if "unit" in head.columns else [None] * len(head),
                strict=True,
            )
        ],
        "more": max(len(df) - max_rows, 0),
    }
