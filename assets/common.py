"""Helpers shared by asset modules: Markdown previews and common metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import dagster as dg
import pandas as pd

CheckFields = dict[str, object]  # AssetCheckResult fields: passed, metadata, description, ...


def md_preview(df: pd.DataFrame, rows: int = 20, floatfmt: str = ".4f") -> dg.MetadataValue:
    """A Markdown table of the first `rows` rows, for the asset's metadata panel in the UI."""
    head = df.head(rows)
    try:
        text = head.to_markdown(floatfmt=floatfmt)
    except ImportError:  # tabulate missing: fall back to a plain table
        text = "```\n" + head.to_string() + "\n```"
    more = f"\n\n_{len(df) - rows} more rows_" if len(df) > rows else ""
    return dg.MetadataValue.md(text + more)


def frame_span_metadata(df: pd.DataFrame) -> dict[str, object]:
    """Rows and first/last index value, for any time-indexed frame."""
    if len(df) == 0:
        return {"rows": 0}
    return {"rows": len(df), "first": str(df.index[0]), "last": str(df.index[-1])}


def as_of_date(report_as_of: pd.DataFrame):
    """The report's as-of date (last close of the study index) from the `report_as_of` asset."""
    return pd.Timestamp(report_as_of["as_of"].iloc[0]).date()


def write_report_table(folder, name: str, df: pd.DataFrame, *, index: bool = False) -> str:
    """Write one CSV artifact atomically into the report folder; returns its path."""
    from pathlib import Path

    from eventlab.data.store import atomic_path

    dest = Path(folder) / name
    with atomic_path(dest) as tmp:
        df.to_csv(tmp, index=index, float_format="%.10g", date_format="%Y-%m-%d")
    return str(dest)


def selected_results(
    context: dg.AssetExecutionContext,
    outputs: Iterable[str],
    table: Callable[[str], tuple[object, dict[str, object]]],
    checks: Iterable[tuple[dg.AssetCheckSpec, Callable[[], CheckFields]]],
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """What a subsettable multi-asset stage yields: an Output for each selected table
    (`table(name)` gives its value and metadata), then each selected check's result."""
    for name in outputs:
        if name in context.selected_output_names:
            value, meta = table(name)
            yield dg.Output(value, output_name=name, metadata=meta)
    selected = context.selected_asset_check_keys
    for spec, fields in checks:
        if spec.key in selected:
            yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, **fields())
