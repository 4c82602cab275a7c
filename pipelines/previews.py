"""Table previews and table metadata for the Dagster UI (issue 12, item 6).

A preview is a Markdown table a reader can scan: no pandas index column (a date index becomes the
first column), ISO dates, returns and shares as percentages, USD amounts in $bn, the key columns
first. `table_metadata` gives Dagster's standard `dagster/column_schema` and `dagster/row_count`
entries, which the UI shows as the asset's columns and row count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import dagster as dg
import pandas as pd

# Columns holding decimal fractions, shown as percentages: returns (signed) ...
RETURN_COLUMNS = re.compile(
    r"^(gap|close_to_close|open_to_close|high_runup|reversal|dist_sma\d+|fwd_\d+d|ret|distance"
    r"|distance_\w+|path_return|diff_(mean|median)|boot_ci_(low|high)|difference_pct"
    r"|(event|baseline)_(mean|median|std|q\d\d)|(mean|median)_fwd_\d+d|position(_\w+)?)$"
)
# ... and shares (unsigned)
SHARE_COLUMNS = re.compile(
    r"^(share_\w+|\w*hit_rate(_\w+)?|open_coverage_\d+d|coverage|share_usable|vol_ann)$"
)
USD_COLUMNS = re.compile(r"^\w*_usd$")


def _meaningful_index(df: pd.DataFrame) -> bool:
    """A date index or a named index carries data; a row-number index (0, 1, 2 ...) does not."""
    return isinstance(df.index, pd.DatetimeIndex) or df.index.name is not None


def _is_midnight(s: pd.Series) -> bool:
    t = s.dropna()
    return bool(len(t) == 0 or (t.dt.normalize() == t).all())


def _format_dates(s: pd.Series) -> pd.Series:
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("America/New_York").dt.tz_localize(None)
    fmt = "%Y-%m-%d" if _is_midnight(s) else "%Y-%m-%d %H:%M"
    return s.dt.strftime(fmt).fillna("–")


def _number(x: object, fmt: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return format(x, fmt)


def _display_column(s: pd.Series, name: str, floatfmt: str) -> list[str]:
    """One column's cells as strings (see display_columns)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return list(_format_dates(s))
    if pd.api.types.is_bool_dtype(s):
        return ["yes" if v else "no" for v in s]
    if pd.api.types.is_numeric_dtype(s):
        if RETURN_COLUMNS.match(name):
            return [_number(v, "+.2%") for v in s]
        if SHARE_COLUMNS.match(name):
            return [_number(v, ".0%") for v in s]
        if USD_COLUMNS.match(name):
            return [
                "–" if pd.isna(v) else f"{'-' if v < 0 else ''}${abs(v) / 1e9:,.1f}bn" for v in s
            ]
        if pd.api.types.is_integer_dtype(s) or name == "volume":
            return [_number(v, ",.0f") for v in s]
        return [_number(v, floatfmt) for v in s]
    return [
        v.date().isoformat()
        if isinstance(v, pd.Timestamp) and v == v.normalize()
        else ("–" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
        for v in s
    ]


def display_columns(
    df: pd.DataFrame, key_columns: Iterable[str] = (), floatfmt: str = ",.4g"
) -> dict[str, list[str]]:
    """`df`'s columns as strings for reading: index as a column, key columns first, formatted
    cells. Plain lists: assigning into a copied frame, or building one, cost most of a preview."""
    columns: dict[str, pd.Series] = {}
    if _meaningful_index(df):
        columns[str(df.index.name or "date")] = df.index.to_series(index=range(len(df)))
    for col in df.columns:
        columns.setdefault(str(col), df[col].reset_index(drop=True))
    keys = [c for c in key_columns if c in columns]
    order = keys + [c for c in columns if c not in keys]
    return {c: _display_column(columns[c], c, floatfmt) for c in order}


def markdown_table(
    df: pd.DataFrame, rows: int = 20, key_columns: Iterable[str] = (), floatfmt: str = ",.4g"
) -> str:
    """A GitHub-style Markdown table of the first `rows` rows (see display_columns)."""
    shown = display_columns(df.head(rows), key_columns, floatfmt)
    header = list(shown)
    cells = [[str(v).replace("|", "\\|") for v in r] for r in zip(*shown.values(), strict=True)]
    right = [pd.api.types.is_numeric_dtype(df[c]) if c in df.columns else False for c in header]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if r else ":---" for r in right) + "|",
        *("| " + " | ".join(r) + " |" for r in cells),
    ]
    more = f"\n\n_{len(df) - rows} more rows_" if len(df) > rows else ""
    return "\n".join(lines) + more


def table_metadata(df: pd.DataFrame) -> dict[str, object]:
    """Dagster's `dagster/column_schema` (names and dtypes, the index first when it is named or
    a date index, as the Parquet file stores it) and `dagster/row_count`."""
    cols = []
    if _meaningful_index(df):
        cols.append(dg.TableColumn(str(df.index.name or "index"), str(df.index.dtype)))
    cols += [dg.TableColumn(str(c), str(t)) for c, t in df.dtypes.items()]
    return {
        "dagster/column_schema": dg.MetadataValue.table_schema(dg.TableSchema(columns=cols)),
        "dagster/row_count": dg.MetadataValue.int(len(df)),
    }
