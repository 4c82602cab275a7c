"""Chart assets: one asset key per chart (["charts", name]), rendered by one multi-asset step.

Each chart leaves reports/<as-of>/charts/<name>.png and <name>.json (the sidecar the report
reads) and shows a thumbnail inline in the Dagster UI. The charts are the entries of
eventlab.charts.registry (one list: name, inputs, drawing function, description); this module
maps their inputs to asset keys, renders the selected ones and writes metadata. The step draws
them in a plain process pool of `chart_renderer.workers` processes (matplotlib is
single-threaded; the machine has two cores), created and shut down inside the step; with one
worker it draws them in the run's own process.
"""

import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

import pipelines.stages.cta as cta_assets
from eventlab.charts.outputs import SCREEN_DIR, ChartOutput
from eventlab.charts.registry import CHARTS, Inputs, draw_chart
from eventlab.config import CONFIG
from eventlab.processes import die_with_parent
from eventlab.report.publishing import published_path
from pipelines.links import report_url
from pipelines.resources import (
    ReportSettings,
    StudySettings,
    ValidationSettings,
    report_folder_name,
)
from pipelines.stages.common import as_of_date, publish_if_no_publish_step

GROUP = "charts"


def chart_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["charts", name])


def _cta_levels_defined() -> bool:
    """The CTA monitor draws the replica's levels when the CTA module defines `cta_levels`."""
    for obj in vars(cta_assets).values():
        if isinstance(obj, dg.AssetsDefinition) and dg.AssetKey("cta_levels") in obj.keys:
            return True
    return False


def input_key(name: str) -> dg.AssetKey:
    """The asset a chart input name refers to: a daily or 5-minute series key of the universe,
    a reference table, or otherwise an asset of that name (events, cta_levels, ...)."""
    if name in CONFIG.daily_keys:
        return dg.AssetKey(["prices", name])
    if name in {s.key for s in CONFIG.intraday}:
        return dg.AssetKey(["intraday", name])
    if name in dict(CONFIG.reference_tables):
        return dg.AssetKey(["reference", name])
    return dg.AssetKey(name)


def _input_keys() -> dict[str, dg.AssetKey]:
    """Exactly the inputs the registered charts declare (so a chart's step re-runs only when
    something it draws from changes); the optional CTA levels only if the CTA assets exist."""
    names = dict.fromkeys(n for c in CHARTS for n in c.needs)
    if not _cta_levels_defined():
        names.pop("cta_levels", None)
    return {name: input_key(name) for name in names}


INPUT_KEYS = _input_keys()


class ChartRenderer(dg.ConfigurableResource):
    """How the charts step draws: `workers` processes (a pool created inside the step), or in
    the run's own process when 1."""

    workers: int = Field(
        default=2, ge=1, le=16, description="Render processes; 1 renders in-process."
    )


def render_charts(
    jobs: dict[str, Inputs], out_dir: Path, as_of: pd.Timestamp, workers: int
) -> Iterator[ChartOutput]:
    """Draw each chart of `jobs` (name -> inputs) and yield its ChartOutput as it finishes: in
    this process when workers <= 1, else in a process pool that lives for this call."""
    if workers <= 1 or len(jobs) <= 1:
        for name, inputs in jobs.items():
            yield draw_chart(name, inputs, out_dir, as_of)
        return
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)), initializer=die_with_parent, initargs=(os.getpid(),)
    )
    try:
        futures = [pool.submit(draw_chart, n, inp, out_dir, as_of) for n, inp in jobs.items()]
        for fut in as_completed(futures):
            yield fut.result()
    finally:  # a failed chart (or an abandoned generator) cancels the rest
        pool.shutdown(wait=True, cancel_futures=True)


# The UI renders a Markdown metadata value on the asset page itself only when it is shorter than
# 1,000 characters (longer ones open in a dialog), so the inline chart is an <img> by http URL
# from the report server `make ui` starts; the base64 thumbnail stays in `preview` (dialog).
INLINE_MD_LIMIT = 1000


def image_url(report_settings: ReportSettings, report_as_of: pd.DataFrame, name: str) -> str:
    """The http URL of a chart's screen copy on the report server (commands.report_server), in
    the folder the run publishes (the run renders into a private staging folder first)."""
    folder = report_settings.root() / report_folder_name(report_as_of)
    return report_url(report_settings.root(), folder / "charts" / SCREEN_DIR / f"{name}.png")


def inline_chart(title: str, url: str, caption: str) -> dg.MetadataValue:
    """The chart as Markdown short enough for the UI to show on the asset page."""
    head = f"![{title}]({url})\n\n"
    room = INLINE_MD_LIMIT - 1 - len(head)
    text = caption if len(caption) <= room else caption[: room - 1].rstrip() + "…"
    return dg.MetadataValue.md(head + text)


def needed(chart) -> list[str]:
    """The inputs of a registry entry this graph provides (the optional CTA levels may not be)."""
    return [k for k in chart.needs if k in INPUT_KEYS]


# The charts drawn from the study's tables, and the index their default labels name.
STUDY_CHARTS = ("forward_paths", "forward_distributions", "event_timeline", "mean_path")
LABELLED_INDEX = "GSPC"


def study_frame(index: str) -> pd.DataFrame | None:
    """What the study charts are told about the run's index (eventlab.charts.registry reads it):
    its key, ticker and name. None for the index their labels already name, so those runs pass
    the charts exactly the frames the steps produced."""
    if index == LABELLED_INDEX:
        return None
    s = CONFIG.series(index)
    name = s.description.removesuffix(" index") if s.description else index
    return pd.DataFrame({"series": [index], "ticker": [s.ticker], "name": [name]})


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
    # each chart's lineage is what the registry says it draws from (plus the as-of date)
    internal_asset_deps={
        c.name: {dg.AssetKey("report_as_of"), *(INPUT_KEYS[n] for n in needed(c))} for c in CHARTS
    },
    can_subset=True,
)
def charts(
    context: dg.AssetExecutionContext,
    report_settings: ReportSettings,
    chart_renderer: ChartRenderer,
    study_settings: StudySettings,
    validation_settings: ValidationSettings,
    report_as_of: pd.DataFrame,
    **frames: pd.DataFrame,
):
    """Render every selected chart into reports/<as-of>/charts/ (PNG + sidecar JSON)."""
    as_of = as_of_date(report_as_of)
    out_dir = report_settings.staging(context.run_id, report_as_of) / "charts"
    final_name = report_folder_name(report_as_of)
    by_name = {name: frames[key.to_python_identifier()] for name, key in INPUT_KEYS.items()}
    selected = [c for c in CHARTS if chart_key(c.name) in context.selected_asset_keys]
    jobs = {c.name: {k: by_name.get(k) for k in needed(c)} for c in selected}
    # the study charts name the run's index (their horizons come from the study's tables)
    index = study_frame(study_settings.params().index)
    if index is not None:
        for name in STUDY_CHARTS:
            if name in jobs:
                jobs[name]["study"] = index
    if "cta_validation" in jobs:  # the validation chart quotes the run's regression window
        window = validation_settings.params().main_window
        jobs["cta_validation"]["validation"] = pd.DataFrame({"main_window": [window]})
    t0 = time.perf_counter()
    workers = min(chart_renderer.workers, len(jobs))
    for out in render_charts(jobs, out_dir, pd.Timestamp(as_of), workers):
        thumb = out.thumbnail_b64
        yield dg.MaterializeResult(
            asset_key=chart_key(out.name),
            metadata={
                "chart": inline_chart(
                    out.meta.title,
                    image_url(report_settings, report_as_of, out.name),
                    out.meta.caption,
                ),
                "chart_url": dg.MetadataValue.url(
                    image_url(report_settings, report_as_of, out.name)
                ),
                "preview": dg.MetadataValue.md(
                    f"![{out.name}](data:image/png;base64,{thumb})\n\n{out.meta.caption}"
                ),
                "path": dg.MetadataValue.path(str(published_path(out.png, final_name))),
                "sidecar": dg.MetadataValue.path(str(published_path(out.sidecar, final_name))),
                "title": out.meta.title,
                "kind": out.meta.kind,
                "data_span": out.meta.data_span,
                "offline_note": out.meta.offline_note or "-",
                "render_seconds": round(out.seconds, 3),
                # axis labels or ticks cut off at the figure's edge (tests require none)
                "clipped_text": "; ".join(out.clipped) or "none",
            },
        )
    publish_if_no_publish_step(context, report_settings, out_dir.parent, report_as_of)
    context.log.info(
        f"rendered {len(jobs)} chart(s) with {workers} process(es) in {time.perf_counter() - t0:.2f}s"
    )
