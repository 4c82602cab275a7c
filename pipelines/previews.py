"""Table previews and table metadata for the Dagster UI (issue 12, item 6).

A preview is a Markdown table a reader can scan: no pandas index column (a date index becomes the
first column), ISO dates, every published column formatted by its declared type (returns and
shares as percentages, USD amounts in $bn, counts with thousands separators, p-values; see
eventlab.report.columns), the key columns first. `table_metadata` gives Dagster's standard `dagster/column_schema` and `dagster/row_count`
entries, which the UI shows as the asset's columns and row count.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg
import pandas as pd

from eventlab.report.column_docs import describe
from eventlab.report.columns import COUNT, IN_UNIT, column_type, format_value


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


def _display_column(
    s: pd.Series, name: str, floatfmt: str, units: list[object] | None = None
) -> list[str]:
    """One column's cells as strings (see display_columns): dates as ISO dates, the rest by the
    column's declared type (eventlab.report.columns); an undeclared numeric column by its dtype."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return list(_format_dates(s))
    if pd.api.types.is_bool_dtype(s):
        return ["yes" if v else "no" for v in s]
    ctype = column_type(name)
    if ctype is None and pd.api.types.is_integer_dtype(s):
        ctype = COUNT
    if ctype == IN_UNIT and units is not None:
        return [
            format_value(ctype, v, unit=u if isinstance(u, str) else None)
            for v, u in zip(s, units, strict=True)
        ]
    return [format_value(ctype, v, floatfmt=floatfmt) for v in s]


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
    units = list(columns["unit"]) if "unit" in columns else None
    return {c: _display_column(columns[c], c, floatfmt, units) for c in order}


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


def table_metadata(df: pd.DataFrame, table: str = "") -> dict[str, object]:
    """Dagster's `dagster/column_schema` (names, dtypes and what each column means, from the
    docs' output contract; the index first when it is named or a date index, as the Parquet file
    stores it) and `dagster/row_count`."""

    def column(name: object, dtype: object) -> dg.TableColumn:
        return dg.TableColumn(str(name), str(dtype), description=describe(table, str(name)) or None)

    cols = []
    if _meaningful_index(df):
        cols.append(column(df.index.name or "index", df.index.dtype))
    cols += [column(c, t) for c, t in df.dtypes.items()]
    return {
        "dagster/column_schema": dg.MetadataValue.table_schema(dg.TableSchema(columns=cols)),
        "dagster/row_count": dg.MetadataValue.int(len(df)),
    }
