"""Chart assets: one asset key per chart (["charts", name]), rendered by one multi-asset step in
a pool of two processes (matplotlib is single-threaded; the machine has two cores).

Each chart leaves reports/<as-of>/charts/<name>.png and <name>.json (the sidecar the report
reads) and shows a thumbnail inline in the Dagster UI. The drawing code is plain functions in
eventlab.charts; this module only maps asset keys to inputs and writes metadata. It imports the
chart registry only (no matplotlib): the drawing modules are loaded by the worker processes,
which the ChartRenderer resource starts when the run starts, so their start-up (1-2 s of
imports) overlaps with the steps before the charts.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field, PrivateAttr

import assets.cta as cta_assets
from assets.common import as_of_date, publish_if_no_publish_step
from eventlab.charts.render import CHARTS, SCREEN_DIR, ChartPool, render_many, start_pool
from eventlab.config import CONFIG
from pipelines.report_server import report_url
from pipelines.resources import ReportSettings, report_folder_name

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
    names = dict.fromkeys(n for c in CHARTS for n in (*c.inputs, *c.optional))
    if not _cta_levels_defined():
        names.pop("cta_levels", None)
    return {name: input_key(name) for name in names}


INPUT_KEYS = _input_keys()


def chart_workers(default: int = 2) -> int:
    """Processes used to render: EVENTLAB_CHART_WORKERS if set, else `default` (1 renders in
    the run's own process)."""
    try:
        return max(1, int(os.environ.get("EVENTLAB_CHART_WORKERS", str(default))))
    except ValueError as exc:
        raise ValueError(
            "EVENTLAB_CHART_WORKERS must be an integer, e.g. 2 (or 1 to render in-process)"
        ) from exc


class ChartRenderer(dg.ConfigurableResource):
    """Renders the charts in worker processes that start when the run starts.

    `setup_for_execution` starts the pool in the background (its fork server imports matplotlib
    and the drawing modules, 1-2 s of CPU, while the run's earlier steps execute on the other
    core), so the charts step finds the workers ready; `teardown_after_execution` stops them.
    A run that does not select the charts step does not set the resource up. With prestart off
    the charts step starts its own pool; with one process (workers=1 or
    EVENTLAB_CHART_WORKERS=1) it renders in the run's own process and no pool is started.
    """

    workers: int = Field(
        default=2,
        ge=1,
        description="Render processes; EVENTLAB_CHART_WORKERS overrides it; 1 renders in-process.",
    )
    prestart: bool = Field(
        default=True,
        description="Start the worker pool when the run starts instead of in the charts step.",
    )

    _pool: Any = PrivateAttr(default=None)

    def processes(self) -> int:
        return chart_workers(self.workers)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.prestart and self.processes() > 1:
            self._pool = start_pool(self.processes())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        pool: ChartPool | None = self._pool
        self._pool = None
        if pool is not None:
            pool.shutdown()

    def render(self, jobs: dict, out_dir: Path, as_of: pd.Timestamp) -> Iterator:
        """Yield a ChartOutput per job as charts finish (see eventlab.charts.render)."""
        if self._pool is not None:
            return render_many(jobs, out_dir, as_of, pool=self._pool)
        return render_many(jobs, out_dir, as_of, workers=min(self.processes(), len(jobs)))


# The UI renders a Markdown metadata value on the asset page itself only when it is shorter than
# 1,000 characters (longer ones open in a dialog), so the inline chart is an <img> by http URL
# from the report server `make ui` starts; the base64 thumbnail stays in `preview` (dialog).
INLINE_MD_LIMIT = 1000


def image_url(report_settings: ReportSettings, report_as_of: pd.DataFrame, name: str) -> str:
    """The http URL of a chart's screen copy on the report server (pipelines.report_server), in
    the folder the run publishes (the run renders into a private staging folder first)."""
    folder = report_settings.root() / report_folder_name(report_as_of)
    return report_url(report_settings.root(), folder / "charts" / SCREEN_DIR / f"{name}.png")


def inline_chart(title: str, url: str, caption: str) -> dg.MetadataValue:
    """The chart as Markdown short enough for the UI to show on the asset page."""
    head = f"![{title}]({url})\n\n"
    room = INLINE_MD_LIMIT - 1 - len(head)
    text = caption if len(caption) <= room else caption[: room - 1].rstrip() + "…"
    return dg.MetadataValue.md(head + text)


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
    # each chart's lineage is what the registry says it draws from (plus the as-of date)
    internal_asset_deps={
        c.name: {dg.AssetKey("report_as_of"), *(INPUT_KEYS[n] for n in _needed(c))} for c in CHARTS
    },
    can_subset=True,
)
def charts(
    context: dg.AssetExecutionContext,
    report_settings: ReportSettings,
    chart_renderer: ChartRenderer,
    report_as_of: pd.DataFrame,
    **frames: pd.DataFrame,
):
    """Render every selected chart into reports/<as-of>/charts/ (PNG + sidecar JSON)."""
    as_of = as_of_date(report_as_of)
    out_dir = report_settings.staging(context.run_id, report_as_of) / "charts"
    by_name = {name: frames[key.to_python_identifier()] for name, key in INPUT_KEYS.items()}
    selected = [c for c in CHARTS if chart_key(c.name) in context.selected_asset_keys]
    jobs = {c.name: {k: by_name.get(k) for k in _needed(c)} for c in selected}
    t0 = time.perf_counter()
    workers = min(chart_renderer.processes(), len(jobs))
    for out in chart_renderer.render(jobs, out_dir, pd.Timestamp(as_of)):
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
                "path": dg.MetadataValue.path(str(out.png)),
                "sidecar": dg.MetadataValue.path(str(out.sidecar)),
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
