"""Report plumbing: the as-of date every artifact is filed under, and the final publish step that
writes events.csv, event_stats.csv and manifest.json, then points reports/latest at the folder."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG
from eventlab.data.store import atomic_write_bytes
from eventlab.report import publishing
from pipelines.resources import (
    BacktestSettings,
    CTASettings,
    PriceSource,
    ReportSettings,
    StudySettings,
    ValidationSettings,
    report_folder_name,
)
from pipelines.stages.common import (
    as_of_date,
    changed_parameters,
    events_csv_frame,
    write_report_table,
)

GROUP = "report"
# report_as_of feeds the CTA, validation, chart, ledger and report steps: a group of its own keeps
# the collapsed graph drawing each stage once (it is the run's settings as much as a date)
SETTINGS_GROUP = "settings"
PUBLISH_KEY = dg.AssetKey("publish")


@dg.asset(
    group_name=SETTINGS_GROUP,
    # the default study's index (the lineage); a launchpad study on another index reads that
    # index from the warehouse (pipelines.stages.study.series_beyond_inputs)
    ins={"index_prices": dg.AssetIn(key=["prices", CONFIG.study.index])},
    description="The report's as-of date (the last close of the study index's series served: the "
    "S&P 500 by default) and the folder its parameter set publishes to: reports/<as-of>/ for the "
    "default study, reports/<as-of>--<what differs>-<hash>/ otherwise.",
)
def report_as_of(
    context: dg.AssetExecutionContext,
    index_prices: pd.DataFrame,
    study_settings: StudySettings,
    cta_settings: CTASettings,
    validation_settings: ValidationSettings,
    backtest_settings: BacktestSettings,
) -> dg.Output[pd.DataFrame]:
    from pipelines.stages.study import series_beyond_inputs

    params = study_settings.params()
    prices = series_beyond_inputs(
        context, params, {CONFIG.study.index: index_prices}, fields=("index",)
    )
    as_of = prices[params.index].index[-1].date()
    changed = publishing.changed_parameters(
        params, cta_settings.params(), validation_settings.params(), backtest_settings.params()
    )
    folder = publishing.folder_name(as_of, publishing.folder_label(changed))
    frame = pd.DataFrame(
        {
            "as_of": [pd.Timestamp(as_of)],
            "generated_utc": [dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()],
            "folder": [folder],
            "changed_parameters": [json.dumps(changed, sort_keys=True, default=str)],
        }
    )
    return dg.Output(
        frame,
        metadata={
            "as_of": as_of.isoformat(),
            "as_of_series": f"prices/{params.index}",
            "folder": folder,
            "parameters": publishing.describe_parameters(changed),
        },
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, object]:
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return {}
    return {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}


def _step_timings(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for rec in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
        ev = rec.dagster_event
        if ev is not None and ev.step_key:
            out[ev.step_key] = round(ev.event_specific_data.duration_ms / 1000, 3)
    return out


def build_publish(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The last asset of the graph: it runs after every other asset it is given as upstream."""

    @dg.asset(
        key=PUBLISH_KEY,
        group_name=GROUP,
        ins={
            "report_as_of": dg.AssetIn(),
            "events": dg.AssetIn(),
            "event_stats": dg.AssetIn(),
            "open_quality_eras": dg.AssetIn(),
        },
        deps=[
            k
            for k in upstream
            if k.path[0] not in ("report_as_of", "events", "event_stats", "open_quality_eras")
        ],
        description="Writes events.csv, event_stats.csv, open_quality_eras.csv and manifest.json into the run's "
        "staging folder, then publishes the whole folder in one atomic switch as reports/<folder>/ "
        "(and points reports/latest at it for the default study).",
    )
    def publish(
        context: dg.AssetExecutionContext,
        report_settings: ReportSettings,
        study_settings: StudySettings,
        cta_settings: CTASettings,
        price_source: PriceSource,
        report_as_of: pd.DataFrame,
        events: pd.DataFrame,
        event_stats: pd.DataFrame,
        open_quality_eras: pd.DataFrame,
    ) -> dg.MaterializeResult:
        as_of = as_of_date(report_as_of)
        folder = report_settings.staging(context.run_id, report_as_of)
        final_name = report_folder_name(report_as_of)
        changed = changed_parameters(report_as_of)
        write_report_table(folder, "events.csv", events_csv_frame(events))
        write_report_table(folder, "event_stats.csv", event_stats)
        write_report_table(folder, "open_quality_eras.csv", open_quality_eras)

        series = {}
        for s in CONFIG.daily:
            meta = _latest_metadata(context.instance, dg.AssetKey(["prices", s.key]))
            path = Path(str(meta["path"])) if meta.get("path") else None
            series[s.key] = {
                "ticker": s.ticker,
                "served_by": meta.get("served_by"),
                "first": meta.get("first"),
                "last": meta.get("last"),
                "rows": meta.get("rows"),
                "sha256": _sha256(path) if path and path.exists() else None,
            }
        main = event_stats[event_stats["variant"] == "main"].iloc[0]
        params = study_settings.params()
        artifacts = sorted(
            str(p.relative_to(folder))
            for p in folder.rglob("*")
            if p.is_file() and p.name not in ("manifest.json", publishing.MARKER)
        )
        manifest = {
            "as_of": as_of.isoformat(),
            "generated_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "run_id": context.run_id,
            "price_source_mode": price_source.mode,
            "folder": final_name,
            "default_study": not changed,
            "changed_parameters": changed,
            "cta_parameters": publishing.parameter_set(params, cta_settings.params())["cta"],
            "parameters": {
                "index": params.index,
                "gap_threshold": params.gap_threshold,
                "close_rule": params.close_rule,
                "start": params.start.isoformat(),
                "end": params.end.isoformat() if params.end else None,
                "open_policy": params.open_policy,
                "horizons": list(params.horizons),
                "bootstrap_reps": params.bootstrap_reps,
                "placebo_reps": params.placebo_reps,
                "seed": params.seed,
            },
            "coverage": {
                "definition": main["definition"],
                "requested_start": main["requested_start"],
                "sample_start": main["sample_start"],
                "sample_end": main["sample_end"],
                "sample_days": int(main["sample_days"]),
                "share_of_requested_days_usable": float(main["share_usable"]),
                "first_usable_open": main["first_usable_open"],
                "continuously_usable_since": main["continuously_usable_since"],
                "n_events": int(main["n_events"]),
                "note": "Days without a genuine opening price are excluded: the data cannot see "
                "'opened +X%' on them. See open_quality_eras.csv.",
            },
            "series": series,
            "snapshot_manifest_built_utc": price_source.snapshot_manifest().get("built_utc"),
            "artifacts": artifacts,
            "timings_s": _step_timings(context.instance, context.run_id),
        }
        atomic_write_bytes(
            folder / "manifest.json", json.dumps(manifest, indent=2, default=str).encode()
        )
        published = publishing.publish(
            folder,
            final_name,
            make_latest=not changed,
            lock_timeout_s=report_settings.lock_timeout_s,
        )
        latest = Path(report_settings.reports_root) / publishing.LATEST
        context.log.info(
            f"report folder: {published}"
            + (
                f" (latest -> {published.name})"
                if not changed
                else " (non-default parameters: latest unchanged)"
            )
        )
        return dg.MaterializeResult(
            metadata={
                "report_folder": dg.MetadataValue.path(str(published)),
                "folder": published.name,
                "parameters": publishing.describe_parameters(changed),
                "latest": dg.MetadataValue.path(str(latest))
                if not changed
                else "unchanged (non-default parameters)",
                "artifacts": len(artifacts) + 1,
                "n_events": int(main["n_events"]),
            }
        )

    return publish
