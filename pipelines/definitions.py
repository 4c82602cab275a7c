"""The eventlab code location: every asset, check, job, schedule and resource, assembled once."""

from __future__ import annotations

import dagster as dg

import assets.charts as charts
import assets.cta as cta
import assets.market_data as market_data
import assets.publish as publish
import assets.report as report
import assets.study as study
from pipelines.io import ParquetIOManager
from pipelines.resources import CTASettings, PriceSource, ReportSettings, StudySettings
from pipelines.schedules import nightly_refresh, refresh_job

ASSET_MODULES = [market_data, study, cta, charts, report, publish]


def default_resources(**overrides: object) -> dict[str, object]:
    """Resources for local runs: snapshot source, warehouse under data/, reports under reports/."""
    res: dict[str, object] = {
        "io_manager": ParquetIOManager(),
        "price_source": PriceSource(mode="snapshot"),
        "study": StudySettings(),
        "report_settings": ReportSettings(),
        "cta_settings": CTASettings(),
        "chart_renderer": charts.ChartRenderer(),
    }
    res.update(overrides)
    return res


_graph_assets = dg.load_assets_from_modules(ASSET_MODULES)
# publish runs last: it depends on every other asset so the manifest lists all artifacts.
all_assets = [*_graph_assets, publish.build_publish([k for a in _graph_assets for k in a.keys])]
all_checks = dg.load_asset_checks_from_modules(ASSET_MODULES)

main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.all(),
    description="Materialize every asset (data, study, CTA, charts, report) and write reports/<as-of>/.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[main_job, refresh_job],
    schedules=[nightly_refresh],
    resources=default_resources(),
)
