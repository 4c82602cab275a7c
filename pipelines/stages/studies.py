"""The study library: every spec under `studies/` through the whole battery.

- `study_library` (main job): every spec in one step (eventlab.studies.library on
  library_settings.workers processes); each study's folder `studies/<name>/` (the main report's
  CSVs and a report page) and `studies/index.html` go into the run's report staging folder, so
  they publish with the rest of the report in one switch. Its outputs: the per-study summary,
  `study_hypotheses` (every statistic tested: spec, series, horizon, variant, estimate, p-value,
  for the hypothesis ledger) and `studies_fired_today` (the specs whose condition held on the
  latest session, with history and a link; `alerts.json` beside the report).
- one study per partition: pipelines/stages/study_partitions.py.
- `studies_fired_alert`: after `studies_fired_today` materializes, rewrites alerts.json in the
  published folder and POSTs it to $EVENTLAB_ALERT_WEBHOOK (never failing or blocking a run).
"""

import os
from pathlib import Path

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG
from eventlab.data.store import atomic_write_bytes
from eventlab.errors import ConfigError
from eventlab.studies import alerts
from eventlab.studies.battery import (
    SpecResult,
    fired_table,
    hypothesis_table,
    summary_table,
)
from eventlab.studies.library import run_library
from eventlab.studies.pages import index_html, study_html, study_markdown
from eventlab.studies.spec import StudySpec, load_library
from pipelines.resources import LibrarySettings, ReportSettings, report_folder_name
from pipelines.stages.common import (
    as_of_date,
    events_csv_frame,
    md_preview,
    publish_if_no_publish_step,
    write_report_table,
)
from pipelines.stages.market_data import price_key

GROUP = "study_library"
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
