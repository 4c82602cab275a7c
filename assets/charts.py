"""Chart assets: one asset key per chart (["charts", name]), rendered by one multi-asset step in
a pool of two processes (matplotlib is single-threaded; the machine has two cores).

Each chart leaves reports/<as-of>/charts/<name>.png and <name>.json (the sidecar the report
reads) and shows a thumbnail inline in the Dagster UI. The drawing code is plain functions in
eventlab.charts; this module only maps asset keys to inputs and writes metadata.
"""

import os
import time

import dagster as dg
import pandas as pd

import assets.cta as cta_assets
from assets.common import as_of_date
from eventlab.charts import style
from eventlab.charts.render import CHARTS, render_many
from eventlab.config import REFERENCE_TABLES
from pipelines.resources import ReportSettings

GROUP = "charts"
DAILY = ("GSPC", "NDX", "RUT", "BTC_USD")
INTRADAY = ("SPY_5m", "SPX_5m", "NVDA_5m")
STUDY = ("events", "event_paths", "forward_returns", "open_quality")


def chart_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["charts", name])


def _cta_levels_defined() -> bool:
    """The CTA monitor draws the replica's levels when the CTA module defines `cta_levels`."""
    for obj in vars(cta_assets).values():
        if isinstance(obj, dg.AssetsDefinition) and dg.AssetKey("cta_levels") in obj.keys:
            return True
    return False


def _input_keys() -> dict[str, dg.AssetKey]:
    keys: dict[str, dg.AssetKey] = {k: dg.AssetKey(["prices", k]) for k in DAILY}
    keys.update({k: dg.AssetKey(["intraday", k]) for k in INTRADAY})
    keys.update({name: dg.AssetKey(["reference", name]) for name, _ in REFERENCE_TABLES})
    keys.update({k: dg.AssetKey(k) for k in STUDY})
    if _cta_levels_defined():
        keys["cta_levels"] = dg.AssetKey("cta_levels")
    return keys


INPUT_KEYS = _input_keys()


def chart_workers() -> int:
    """Processes used to render (EVENTLAB_CHART_WORKERS; 1 renders in the run's own process)."""
    try:
        return max(1, int(os.environ.get("EVENTLAB_CHART_WORKERS", "2")))
    except ValueError as exc:
        raise ValueError(
            "EVENTLAB_CHART_WORKERS must be an integer, e.g. 2 (or 1 to render in-process)"
        ) from exc


def _needed(spec) -> list[str]:
    return [k for k in (*spec.inputs, *spec.optional) if k in INPUT_KEYS]


@dg.multi_asset(
    name="charts",
    group_name=GROUP,
    outs={
        c.name: dg.AssetOut(
            key=chart_key(c.name),
            description=c.description,
            is_required=False,
            kinds={"matplotlib", "png"},
            # file artifacts, not tables: nothing goes through the IO manager
        )
        for c in CHARTS
    },
    ins={
        "report_as_of": dg.AssetIn(key="report_as_of"),
        **{k.to_python_identifier(): dg.AssetIn(key=k) for k in INPUT_KEYS.values()},
    },
    can_subset=True,
)
def charts(
    context: dg.AssetExecutionContext,
    report_settings: ReportSettings,
    report_as_of: pd.DataFrame,
    **frames: pd.DataFrame,
):
    """Render every selected chart into reports/<as-of>/charts/ (PNG + sidecar JSON)."""
    as_of = as_of_date(report_as_of)
    out_dir = report_settings.as_of_dir(as_of) / "charts"
    by_name = {name: frames[key.to_python_identifier()] for name, key in INPUT_KEYS.items()}
    selected = [c for c in CHARTS if chart_key(c.name) in context.selected_asset_keys]
    jobs = {c.name: {k: by_name.get(k) for k in _needed(c)} for c in selected}
    t0 = time.perf_counter()
    workers = min(chart_workers(), len(jobs))
    for out in render_many(jobs, out_dir, pd.Timestamp(as_of), workers=workers):
        thumb = out.thumbnail_b64 or style.thumbnail_b64(out.png)
        yield dg.MaterializeResult(
            asset_key=chart_key(out.name),
            metadata={
                "preview": dg.MetadataValue.md(
                    f"![{out.name}](data:image/png;base64,{thumb})\n\n{out.meta.caption}"
                ),
                "path": dg.MetadataValue.path(str(out.png)),
                "sidecar": dg.MetadataValue.path(str(out.sidecar)),
                "title": out.meta.title,
                "kind": out.meta.kind,
                "data_span": out.meta.data_span,
                "offline_note": out.meta.offline_note or "-",
                "render_seconds": round(out.seconds, 3),
            },
        )
    context.log.info(
        f"rendered {len(jobs)} chart(s) with {workers} process(es) in {time.perf_counter() - t0:.2f}s"
    )
