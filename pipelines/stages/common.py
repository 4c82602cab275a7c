"""Helpers shared by asset modules: Markdown previews and common metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import dagster as dg
import pandas as pd

from eventlab.checks import CheckFields  # AssetCheckResult fields: passed, metadata, ...


def md_preview(
    df: pd.DataFrame, rows: int = 20, floatfmt: str = ",.4g", key_columns: tuple[str, ...] = ()
) -> dg.MetadataValue:
    """A formatted Markdown table of the first `rows` rows for the asset's page in the UI (ISO
    dates, percentages, no index column, `key_columns` first: see pipelines.previews)."""
    from pipelines.previews import markdown_table

    return dg.MetadataValue.md(markdown_table(df, rows, key_columns, floatfmt))


def frame_span_metadata(df: pd.DataFrame) -> dict[str, object]:
    """Rows and first/last index value, for any time-indexed frame."""
    if len(df) == 0:
        return {"rows": 0}
    first, last = df.index[0], df.index[-1]
    if (
        isinstance(first, pd.Timestamp)
        and first == first.normalize() == first
        and last == last.normalize()
    ):
        first, last = first.date(), last.date()  # ISO dates, not '1927-12-30 00:00:00'
    return {"rows": len(df), "first": str(first), "last": str(last)}


def as_of_date(report_as_of: pd.DataFrame):
    """The report's as-of date (last close of the study index) from the `report_as_of` asset."""
    return pd.Timestamp(report_as_of["as_of"].iloc[0]).date()


def changed_parameters(report_as_of: pd.DataFrame) -> dict[str, object]:
    """The non-default parameters the report_as_of asset recorded (empty: the default study)."""
    import json

    if "changed_parameters" not in report_as_of.columns:
        return {}
    return json.loads(str(report_as_of["changed_parameters"].iloc[0]) or "{}")


def write_report_table(folder, name: str, df: pd.DataFrame, *, index: bool = False) -> str:
    """Write one CSV artifact atomically into the report folder; returns its path."""
    from pathlib import Path

    from eventlab.data.store import atomic_path

    dest = Path(folder) / name
    with atomic_path(dest) as tmp:
        df.to_csv(tmp, index=index, float_format="%.10g", date_format="%Y-%m-%d")
    return str(dest)


def events_csv_frame(events: pd.DataFrame) -> pd.DataFrame:
    """An events table as events.csv holds it (dates as YYYY-MM-DD text)."""
    ev = events.copy()
    ev["date"] = pd.to_datetime(ev["date"]).dt.strftime("%Y-%m-%d")
    return ev


def table_outs(descriptions: dict[str, str], csv_names: set[str]) -> dict[str, dg.AssetOut]:
    """Optional outputs of a subsettable multi-asset stage (one per table; `csv_names` also
    write a report CSV)."""
    return {
        name: dg.AssetOut(
            description=desc,
            is_required=False,
            kinds={"pandas", "csv" if name in csv_names else "parquet"},
        )
        for name, desc in descriptions.items()
    }


class LazyTables:
    """A stage's tables for one run, each computed on first use by the method of its name (so a
    subset computes only what it needs); `csv` writes a report artifact into `folder`."""

    def __init__(self, folder, final_name: str | None = None) -> None:
        self.folder = folder
        self.final_name = final_name  # the published folder's name (metadata names it)
        self._cache: dict[str, tuple[pd.DataFrame, dict[str, object]]] = {}

    def get(self, name: str) -> tuple[pd.DataFrame, dict[str, object]]:
        if name not in self._cache:
            self._cache[name] = getattr(self, name)()
        return self._cache[name]

    def frame(self, name: str) -> pd.DataFrame:
        return self.get(name)[0]

    def csv(self, name: str, df: pd.DataFrame) -> dg.MetadataValue:
        return self.published(write_report_table(self.folder, name, df))

    def published(self, staged: str) -> dg.MetadataValue:
        """A metadata path for a file this run staged: where readers find it once published."""
        from eventlab.report.publishing import published_path

        return dg.MetadataValue.path(
            str(published_path(staged, self.final_name)) if self.final_name else staged
        )


def write_large_report_table(folder, name: str, df: pd.DataFrame) -> str:
    """Like write_report_table for tables of tens of thousands of rows, through Arrow's C++ CSV
    writer (~20x faster than pandas' formatter): datetimes as ISO dates, floats in shortest
    round-trip form, categoricals as text."""
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from eventlab.data.store import atomic_path

    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.date32()))
        elif pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    dest = Path(folder) / name
    with atomic_path(dest) as tmp:
        pacsv.write_csv(table, tmp)
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


PUBLISH_KEY = dg.AssetKey("publish")
# The steps that write into the run's report staging folder (publish_if_no_publish_step).
REPORT_WRITERS = frozenset(
    {"cta", "validation", "charts", "claims_vs_data", "report", "study_library"}
)


def last_report_writer(context: dg.AssetExecutionContext) -> bool:
    """Whether every other report-writing step this run executes has already succeeded, so this
    step's publication is the run's last and its staging folder can go. With steps running in
    parallel two may each see the other unfinished: the folder is then left to the next run's
    clean-up of staging folders whose run is gone."""
    instance = context.instance
    plan = instance.get_execution_plan_snapshot(context.run.execution_plan_snapshot_id)
    this = str(context.op_handle)
    others = (set(plan.step_keys_to_execute) & REPORT_WRITERS) - {this}
    done = {
        r.event_log_entry.step_key
        for r in instance.get_records_for_run(
            context.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS, limit=1000
        ).records
    }
    return others <= done


def publish_if_no_publish_step(
    context: dg.AssetExecutionContext, report_settings, staging, report_as_of: pd.DataFrame
) -> None:
    """A run that includes the `publish` asset publishes once, at its end. A run that does not
    (e.g. `charts` alone from the UI) publishes after each report-writing step, so what it
    rebuilt reaches readers (the staging folder started as a copy of the published report)."""
    # an in-process run records an empty selection: then the job's own selection applies
    keys = context.run.asset_selection or context.job_def.asset_layer.selected_asset_keys
    if PUBLISH_KEY in keys:
        return
    from eventlab.report import publishing
    from pipelines.resources import report_folder_name

    folder = publishing.publish_copy(
        staging,
        report_folder_name(report_as_of),
        make_latest=not changed_parameters(report_as_of),
        lock_timeout_s=report_settings.lock_timeout_s,
    )
    context.log.info(f"no publish step in this run: published {folder} after this step")
    if last_report_writer(context):
        publishing.discard_staging(staging)
