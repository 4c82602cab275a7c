"""The study library: every spec under `studies/` through the whole battery.

- `study_library` (main job): every spec in one step (eventlab.studies.library on
  library_settings.workers processes); each study's folder `studies/<name>/` (the main report's
  CSVs and a report page) and `studies/index.html` go into the run's report staging folder, so
  they publish with the rest of the report in one switch. Its outputs: the per-study summary,
  `study_hypotheses` (every statistic tested: spec, series, horizon, variant, estimate, p-value,
  for the hypothesis ledger) and `studies_fired_today` (the specs whose condition held on the
  latest session, with history and a link; `alerts.json` beside the report).
- `study_results` (studies_job): one study per partition of the dynamic partitions `studies`,
  keyed by spec name, stored under the warehouse's `studies/<name>/`. The sensor
  `study_specs_sensor` syncs the folder to the partitions: a new file adds a partition, a new or
  changed file requests a run, a removed file's partition and results stay, marked retired.
- `studies_fired_alert`: after `studies_fired_today` materializes, rewrites alerts.json in the
  published folder and POSTs it to $EVENTLAB_ALERT_WEBHOOK (never failing or blocking a run).
"""

import datetime as dt
import json
import os
import typing
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from eventlab.config import CONFIG, StudyParams
from eventlab.data.store import atomic_write_bytes, write_parquet_atomic
from eventlab.errors import ConfigError
from eventlab.studies import alerts
from eventlab.studies.battery import (
    SpecResult,
    fired_table,
    hypothesis_rows,
    hypothesis_table,
    run_spec,
    summary_row,
    summary_table,
)
from eventlab.studies.library import run_library
from eventlab.studies.pages import index_html, study_html, study_markdown
from eventlab.studies.spec import StudySpec, load_library, load_spec, spec_files
from pipelines.resources import LibrarySettings, ReportSettings, config_type, report_folder_name
from pipelines.stages.common import (
    as_of_date,
    events_csv_frame,
    md_preview,
    publish_if_no_publish_step,
    write_report_table,
)
from pipelines.stages.market_data import price_key

GROUP = "study_library"
# One study per partition: its own group and job (main_job and refresh_job run the whole library
# in one step of the `study_library` group instead).
PARTITIONS_GROUP = "study_partitions"
STUDIES = dg.DynamicPartitionsDefinition(name="studies")
RESULTS_KEY = dg.AssetKey("study_results")
FIRED_KEY = dg.AssetKey("studies_fired_today")
PRICE_INS = {k: dg.AssetIn(key=price_key(k)) for k in CONFIG.daily_keys}
SUMMARY_PREVIEW = ["spec", "series", "n_events", "last_event", "verdict_1d", "verdict_5d", "verdict_20d"]  # fmt: skip


def load_specs(folder: str) -> list[StudySpec]:
    """Every spec of the folder, or a Failure naming the file, line, column and fix."""
    try:
        return load_library(Path(folder), CONFIG.daily_keys)
    except ConfigError as exc:
        raise dg.Failure(f"study spec refused, nothing was written: {exc}") from None


def write_study_folder(folder: Path, r: SpecResult, as_of: str, generated: str) -> None:
    """A study's report folder: the main report's CSVs (same writer, same names) and its pages."""
    folder.mkdir(parents=True, exist_ok=True)
    write_report_table(folder, "events.csv", events_csv_frame(r.events))
    write_report_table(folder, "event_stats.csv", r.stats)
    write_report_table(folder, "event_verdicts.csv", r.verdicts)
    write_report_table(folder, "event_baselines.csv", r.baselines)
    write_report_table(folder, "event_leave_one_out.csv", r.leave_one_out)
    md = study_markdown(r, as_of)
    atomic_write_bytes(folder / "report.md", md.encode("utf-8"))
    atomic_write_bytes(folder / "report.html", study_html(md, r, as_of, generated).encode("utf-8"))


def fired_with_links(summary: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """The specs that fired on the as-of session, each with the relative link to its report."""
    fired = fired_table(summary, as_of).copy()
    fired["report"] = [f"studies/{name}/report.html" for name in fired["spec"]]
    return fired


@dg.multi_asset(
    name="study_library",
    group_name=GROUP,
    ins={"report_as_of": dg.AssetIn(), **PRICE_INS},
    outs={
        "study_library": dg.AssetOut(
            description="One row per study spec: question, series, condition, events, first and "
            "last occurrence, and per horizon n, median, hit rate and verdict.",
            kinds={"pandas", "html"},
        ),
        "study_hypotheses": dg.AssetOut(
            description="Every statistic the library tested: spec, series, horizon, variant, "
            "estimate (event mean minus baseline mean) and its circular-shift randomization "
            "p-value (unadjusted), for the hypothesis ledger.",
            kinds={"pandas"},
        ),
        "studies_fired_today": dg.AssetOut(
            description="The specs whose condition held on the latest session, with n, median, "
            "hit rate and verdict per horizon and the link to the study's report "
            "(reports/<as-of>/alerts.json).",
            kinds={"pandas", "json"},
        ),
    },
)
def study_library(
    context: dg.AssetExecutionContext,
    report_settings: ReportSettings,
    library_settings: LibrarySettings,
    report_as_of: pd.DataFrame,
    **prices: pd.DataFrame,
):
    """Every spec through the whole battery; pages and tables into the run's report folder."""
    lib = library_settings.params()
    specs = load_specs(lib.folder)
    results = run_library(specs, prices, lib.workers)
    as_of = as_of_date(report_as_of).isoformat()
    generated = str(report_as_of["generated_utc"].iloc[0])
    staging = report_settings.staging(context.run_id, report_as_of)
    for r in results:
        write_study_folder(staging / "studies" / r.spec.name, r, as_of, generated)
    summary = summary_table(results)
    horizons = sorted({k for s in specs for k in s.params.horizons})
    write_report_table(staging / "studies", "index.csv", summary)
    page = index_html(summary, [str(k) for k in horizons], as_of, generated)
    atomic_write_bytes(staging / "studies" / "index.html", page.encode("utf-8"))
    fired = fired_with_links(summary, as_of)
    final = report_folder_name(report_as_of)
    document = alerts.alert_document(fired, as_of, final)
    alerts.write_alerts(staging, document)
    publish_if_no_publish_step(context, report_settings, staging, report_as_of)
    published = report_settings.root() / final
    yield dg.Output(
        summary,
        output_name="study_library",
        metadata={
            "studies": len(summary),
            "index": dg.MetadataValue.path(str(published / "studies" / "index.html")),
            "preview": md_preview(summary[[c for c in SUMMARY_PREVIEW if c in summary]], rows=60),
        },
    )
    hypotheses = hypothesis_table(results)
    yield dg.Output(
        hypotheses,
        output_name="study_hypotheses",
        metadata={"hypotheses": len(hypotheses), "studies": len(results)},
    )
    yield dg.Output(
        fired,
        output_name="studies_fired_today",
        metadata={
            "as_of": as_of,
            "fired": ", ".join(fired["spec"]) or "none",
            "report_folder": dg.MetadataValue.path(str(published)),
            "alert": dg.MetadataValue.json(document),
        },
    )


def spec_config_class() -> type[dg.Config]:
    """The launchpad's fields of one study: the spec's question and condition and every launchpad
    field of the study settings (eventlab/settings/study.py), each empty = the spec file's value."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__, "__doc__": spec_config_class.__doc__}
    own = {
        "question": "The question in one sentence (empty: the spec file's).",
        "condition": "The condition, in the condition language (empty: the spec file's).",
    }
    for name, desc in own.items():
        annotations[name] = typing.Optional[str]  # noqa: UP045 - Dagster reads Optional
        namespace[name] = Field(default=None, description=desc)
    for name in StudyParams.launchpad_fields():
        field = StudyParams.model_fields[name]
        kind = config_type(name, field.annotation)
        if typing.get_origin(kind) is not typing.Union:
            kind = typing.Optional[kind]  # noqa: UP045 - Dagster reads Optional
        annotations[name] = kind
        namespace[name] = Field(
            default=None, description=f"{field.description} (empty: the spec file's value)"
        )
    namespace["__annotations__"] = annotations
    return type(dg.Config)("StudySpecConfig", (dg.Config,), namespace)


StudySpecConfig = spec_config_class()


@dg.asset(
    key=RESULTS_KEY,
    group_name=PARTITIONS_GROUP,
    partitions_def=STUDIES,
    ins=PRICE_INS,
    description="One study spec (the partition key is its name) through the whole battery; its "
    "events, statistics, verdicts and hypothesis rows stored under the warehouse's studies/<name>/.",
)
def study_results(
    context: dg.AssetExecutionContext,
    config: StudySpecConfig,  # type: ignore[valid-type]  # built from the declaration
    library_settings: LibrarySettings,
    **prices: pd.DataFrame,
) -> dg.MaterializeResult:
    """The partition's spec, loaded from the library folder (with any field the launchpad
    sets), through the battery."""
    name = context.partition_key
    path = Path(library_settings.params().folder) / f"{name}.yaml"
    if not path.exists():
        raise dg.Failure(
            f"study {name!r} is retired ({path} is gone): its stored results are kept; "
            f"restore the file to run it again"
        )
    overrides = {k: v for k, v in config.model_dump().items() if v is not None}
    try:
        spec = load_spec(path, CONFIG.daily_keys, overrides)
    except ConfigError as exc:
        raise dg.Failure(f"study spec refused, nothing was written: {exc}") from None
    r = run_spec(spec, prices)
    io = context.resources.io_manager if hasattr(context.resources, "io_manager") else None
    base = Path(getattr(io, "base_dir", "data/warehouse")) / "studies" / name
    tables = {
        "events": r.events,
        "event_stats": r.stats,
        "event_verdicts": r.verdicts,
        "hypotheses": hypothesis_rows(r),
    }
    for table, df in tables.items():
        write_parquet_atomic(df, base / f"{table}.parquet")
    row = summary_row(r)
    return dg.MaterializeResult(
        metadata={
            "status": "active",
            "question": spec.question,
            "condition": spec.condition_text,
            "series": spec.params.index,
            "spec_sha256": spec.sha256,
            "launchpad_fields": ", ".join(sorted(overrides)) or "none",
            "n_events": int(row["n_events"]),
            "last_event": str(row["last_event"] or "never"),
            "fired_on_latest_session": bool(row["fired_today"]),
            **{k: str(v) for k, v in row.items() if k.startswith("verdict_")},
            "stored": dg.MetadataValue.path(str(base)),
            "preview": md_preview(r.verdicts[["horizon", "n_events", "verdict", "reason"]]),
        }
    )


studies_job = dg.define_asset_job(
    "studies_job",
    selection=dg.AssetSelection.assets(RESULTS_KEY),
    partitions_def=STUDIES,
    description="One study spec (a partition of `studies`) through the whole battery.",
    executor_def=dg.in_process_executor,
)


def sync_specs(
    folder: Path, existing: set[str], cursor: dict[str, str]
) -> tuple[list[str], list[tuple[str, str]], list[str], list[str], dict[str, str]]:
    """What the folder's specs ask of the partitions: (new partition keys, (name, sha) pairs to
    run, names retired since the last tick, refused files with the reason, next cursor). The
    cursor maps each name to its file's sha256 last seen (or "retired")."""
    files = {p.stem: p for p in spec_files(folder)}
    new, runs, refused = [], [], []
    nxt: dict[str, str] = {}
    for name, path in files.items():
        try:
            spec = load_spec(path, CONFIG.daily_keys)
        except ConfigError as exc:
            refused.append(str(exc))
            nxt[name] = cursor.get(name, "")  # retried once the file changes
            continue
        nxt[name] = spec.sha256
        if name not in existing:
            new.append(name)
        if cursor.get(name) != spec.sha256:
            runs.append((name, spec.sha256))
    retired = [n for n in sorted(existing) if n not in files and cursor.get(n) != "retired"]
    for name in existing - set(files):
        nxt[name] = "retired"
    return new, runs, retired, refused, nxt


@dg.sensor(
    name="study_specs_sensor",
    job=studies_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps the `studies` partitions in step with studies/*.yaml: a new file adds a "
    "partition, a new or changed file requests its run, a removed file's partition and results "
    "stay, marked retired (an observation on its partition).",
)
def study_specs_sensor(
    context: dg.SensorEvaluationContext, library_settings: LibrarySettings
) -> dg.SensorResult:
    """One sync of the spec folder against the partitions."""
    folder = Path(library_settings.params().folder)
    existing = set(context.instance.get_dynamic_partitions(STUDIES.name))
    cursor = json.loads(context.cursor) if context.cursor else {}
    new, runs, retired, refused, nxt = sync_specs(folder, existing, cursor)
    for problem in refused:
        context.log.error(f"study spec refused (no partition, no run): {problem}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=n, run_key=f"{n}:{sha}") for n, sha in runs],
        dynamic_partitions_requests=[STUDIES.build_add_request(new)] if new else [],
        asset_events=[
            dg.AssetObservation(
                asset_key=RESULTS_KEY,
                partition=name,
                metadata={
                    "status": "retired",
                    "retired_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                    "note": f"{name}.yaml was removed: the stored results are kept",
                },
            )
            for name in retired
        ],
        cursor=json.dumps(nxt, sort_keys=True),
    )


@dg.asset_sensor(
    asset_key=FIRED_KEY,
    name="studies_fired_alert",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After `studies_fired_today` materializes: alerts.json (atomic) in the published "
    "report folder and a POST of the same JSON to $EVENTLAB_ALERT_WEBHOOK when it is set.",
)
def studies_fired_alert(
    context: dg.SensorEvaluationContext,
    asset_event: dg.EventLogEntry,
    library_settings: LibrarySettings,
) -> dg.SkipReason:
    """Deliver the alert of the latest fired-today list (never raises for the webhook)."""
    mat = asset_event.asset_materialization
    meta = mat.metadata if mat is not None else {}
    document = getattr(meta.get("alert"), "value", None)
    folder = getattr(meta.get("report_folder"), "value", None)
    if not isinstance(document, dict) or not folder or not Path(str(folder)).is_dir():
        return dg.SkipReason("no published fired-today list to deliver")
    lib = library_settings.params()
    result = alerts.deliver(
        Path(str(folder)),
        document,
        os.environ.get(alerts.WEBHOOK_ENV) or None,
        timeout_s=lib.alert_timeout_s,
        retries=lib.alert_retries,
        backoff_s=lib.alert_backoff_s,
    )
    context.log.info(f"alert: {result}")
    return dg.SkipReason(f"alert delivered: {result['alerts_json']}; webhook {result['webhook']}")
