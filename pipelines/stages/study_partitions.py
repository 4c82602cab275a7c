"""One study per partition: `study_results`, partitioned by spec name (dynamic partitions
`studies`), run by `studies_job`; the sensor `study_specs_sensor` keeps the partitions in step with
studies/*.yaml (a new file adds a partition and requests its run, a changed file requests a run, a
removed file's partition and stored results stay, marked retired). Its own module, outside the
main job's stages: main_job and refresh_job run the whole library in one step (stages/studies.py).
"""

import datetime as dt
import json
import typing
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from eventlab.config import CONFIG, StudyParams
from eventlab.data.store import write_parquet_atomic
from eventlab.errors import ConfigError
from eventlab.studies.battery import hypothesis_rows, run_spec, summary_row
from eventlab.studies.spec import load_spec, spec_files
from pipelines.resources import LibrarySettings, config_type
from pipelines.stages.common import md_preview
from pipelines.stages.market_data import price_key

GROUP = "study_partitions"
STUDIES = dg.DynamicPartitionsDefinition(name="studies")
RESULTS_KEY = dg.AssetKey("study_results")
PRICE_INS = {k: dg.AssetIn(key=price_key(k)) for k in CONFIG.daily_keys}


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
    group_name=GROUP,
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
