"""The eventlab code location: every asset, check, job, schedule and resource, assembled once."""

from __future__ import annotations

import dagster as dg

import pipelines.stages.charts as charts
import pipelines.stages.cta as cta
import pipelines.stages.ledger as ledger
import pipelines.stages.market_data as market_data
import pipelines.stages.publish as publish
import pipelines.stages.report as report
import pipelines.stages.spec_curve as spec_curve
import pipelines.stages.studies as studies
import pipelines.stages.study as study
import pipelines.stages.study_partitions as study_partitions
import pipelines.stages.universe as universe
import pipelines.stages.universe_panel as universe_panel
import pipelines.stages.validation as validation
from eventlab.config import CONFIG
from pipelines.io import ParquetIOManager
from pipelines.resources import (
    BacktestSettings,
    CTASettings,
    LibrarySettings,
    PriceSource,
    ReportSettings,
    StudySettings,
    ValidationSettings,
)
from pipelines.schedules import nightly_refresh, refresh_job, refresh_outage_retry
from pipelines.universe_resources import UniverseSettings, UniverseStore

ASSET_MODULES = [
    market_data,
    study,
    spec_curve,
    cta,
    validation,
    ledger,
    charts,
    report,
    studies,
    publish,
]


def default_resources(**overrides: object) -> dict[str, object]:
    """Resources for local runs: snapshot source, warehouse under data/, reports under reports/."""
    res: dict[str, object] = {
        "io_manager": ParquetIOManager(),
        "price_source": PriceSource(mode="snapshot"),
        "study_settings": StudySettings(),
        "report_settings": ReportSettings(),
        "cta_settings": CTASettings(),
        "validation_settings": ValidationSettings(),
        "backtest_settings": BacktestSettings(),
        "library_settings": LibrarySettings(),
        "chart_renderer": charts.ChartRenderer(),
        "universe_store": UniverseStore(),
        "universe_settings": UniverseSettings(),
    }
    res.update(overrides)
    return res


_graph_assets = dg.load_assets_from_modules(ASSET_MODULES)


# the kinds of an asset that writes a file into the run's report folder
FILE_KINDS = frozenset({"csv", "png", "html"})


def _ancestors(assets_defs: list[dg.AssetsDefinition]) -> dict[dg.AssetKey, set[dg.AssetKey]]:
    """Every asset's transitive upstream keys."""
    parents = {spec.key: {d.asset_key for d in spec.deps} for a in assets_defs for spec in a.specs}
    memo: dict[dg.AssetKey, set[dg.AssetKey]] = {}

    def up(key: dg.AssetKey) -> set[dg.AssetKey]:
        if key not in memo:
            memo[key] = set()  # the graph is acyclic: this only guards the recursion
            memo[key] = {p for q in parents.get(key, ()) for p in {q, *up(q)}}
        return memo[key]

    return {key: up(key) for key in parents}


def folder_writer_keys(assets_defs: list[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    """The assets that write a file into the report folder and that no other such asset reads,
    directly or not: once they are done, so is every file of the folder."""
    writers = {s.key for a in assets_defs for s in a.specs if FILE_KINDS & set(s.kinds)}
    ancestors = _ancestors(assets_defs)
    upstream = {p for k in writers for p in ancestors[k]}
    return sorted(writers - upstream, key=dg.AssetKey.to_user_string)


# publish depends on what it reads: the report folder (the last writers of its files) and the
# price series' metadata (the manifest's data sources).
all_assets = [
    *_graph_assets,
    publish.build_publish(
        [
            *folder_writer_keys(_graph_assets),
            *(market_data.price_key(k) for k in CONFIG.daily_keys),
        ]
    ),
]
all_checks = dg.load_asset_checks_from_modules(ASSET_MODULES)
# the per-ticker check: the universe job records its evaluations as it studies each partition
# (one step over all of them), so the job leaves it out; it runs alone from a partition's page
universe_checks = dg.load_asset_checks_from_modules([universe])
# The universe study is a separate job (`make universe`): main_job and its timing are unchanged.
universe_assets = dg.load_assets_from_modules([universe, universe_panel])
UNIVERSE = dg.AssetSelection.groups(universe.GROUP)
# One study per partition: its own module and job (the main job runs the whole library in one step).
study_partition_assets = dg.load_assets_from_modules([study_partitions])
STUDY_PARTITIONS = dg.AssetSelection.groups(study_partitions.GROUP)

main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.all() - UNIVERSE - STUDY_PARTITIONS,
    description="Materialize every asset (data, study, CTA, charts, report) and write `reports/<as-of>/`.",
    executor_def=dg.in_process_executor,
)

universe_job = dg.define_asset_job(
    "universe_job",
    selection=UNIVERSE.without_checks(),
    description="The index study on every ticker of a universe (one partition per ticker, all in "
    "one run on `universe_settings.workers` processes), pooled, with breadth; writes "
    "`reports/universe-<name>/<as-of>/`.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[*all_assets, *universe_assets, *study_partition_assets],
    asset_checks=[*all_checks, *universe_checks],
    jobs=[main_job, refresh_job, universe_job, study_partitions.studies_job],
    schedules=[nightly_refresh],
    sensors=[
        refresh_outage_retry,
        study_partitions.study_specs_sensor,
        studies.studies_fired_alert,
    ],
    resources=default_resources(),
)
