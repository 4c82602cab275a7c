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
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field, PrivateAttr

import pipelines.stages.cta as cta_assets
from eventlab.charts.render import CHARTS, SCREEN_DIR, ChartPool, render_many, start_pool, submit
from eventlab.config import CONFIG
from pipelines.links import report_url
from pipelines.resources import ReportSettings, StudySettings, report_folder_name
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


def charts_of_run(run: dg.DagsterRun | None) -> list[str]:
    """The charts a run of a job holding the charts step draws: those in its asset selection,
    or all of them when it has none (the whole job, e.g. an in-process run)."""
    selection = run.asset_selection if run is not None else None
    return [c.name for c in CHARTS if not selection or chart_key(c.name) in selection]


def _same_frame(a: pd.DataFrame | None, b: pd.DataFrame | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.equals(b)


class ChartRenderer(dg.ConfigurableResource):
    """Renders the charts in worker processes that start when the run starts.

    `setup_for_execution` starts the pool in the background (its fork server imports matplotlib
    and the drawing modules, 1-2 s of CPU, while the run's earlier steps execute on the other
    core), so the charts step finds the workers ready; `teardown_after_execution` stops them.
    A run that draws no chart starts no workers. With prestart off
    the charts step starts its own pool; with one process (workers=1 or
    EVENTLAB_CHART_WORKERS=1) it renders in the run's own process and no pool is started.

    Early start (see `prefetch_hook`): the run's own process is the job's bottleneck and the
    workers idle until the charts step, so each chart is queued as soon as the steps that
    produce its inputs have succeeded; the charts step then uses a queued chart only if the
    frames it loaded from the warehouse equal the ones the chart was queued with (and the folder
    and date are the same), and renders it again otherwise.
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
    _produced: Any = PrivateAttr(default=None)  # chart input name -> frame from this run's steps
    _early: Any = PrivateAttr(default=None)  # chart name -> (Future, inputs, out_dir, as_of)
    _used_early: Any = PrivateAttr(default=frozenset())  # the last render's early-queued charts
    _drawn: Any = PrivateAttr(default=())  # the charts this run draws (charts_of_run)

    def processes(self) -> int:
        return chart_workers(self.workers)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._produced, self._early = {}, {}
        self._drawn = frozenset(charts_of_run(context.dagster_run))
        # the start_charts_early hook needs this resource in every step of its job: a run that
        # draws no chart (e.g. `events` alone from the UI) starts no workers
        if self.prestart and self.processes() > 1 and self._drawn:
            self._pool = start_pool(self.processes())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        pool: ChartPool | None = self._pool
        self._pool = None
        self._produced, self._early = {}, {}
        if pool is not None:
            pool.shutdown()

    def prefetch(self, produced: Mapping[str, object], out_dir_for) -> list[str]:
        """Record frames this run's steps produced (chart input name -> frame; `report_as_of`
        among them names the folder and date) and queue every chart the run draws whose inputs
        are now all produced; returns the charts queued. Without a started pool it does nothing."""
        if self._pool is None or self._early is None:
            return []
        for name, value in produced.items():
            if isinstance(value, pd.DataFrame):
                frame = value.copy(deep=False)
                frame.attrs = {}  # as the IO manager loads it (provenance is for the price step)
                self._produced[name] = frame
        report_as_of = self._produced.get("report_as_of")
        if report_as_of is None:
            return []
        out_dir, as_of = out_dir_for(report_as_of), pd.Timestamp(as_of_date(report_as_of))
        queued = []
        for spec in CHARTS:
            needed = _needed(spec)
            if spec.name in self._early or spec.name not in self._drawn:
                continue
            if all(n in self._produced for n in needed):
                inputs = {n: self._produced[n] for n in needed}
                fut = submit(self._pool, spec.name, inputs, out_dir, as_of)
                self._early[spec.name] = (fut, inputs, Path(out_dir), as_of)
                queued.append(spec.name)
        return queued

    def started_early(self, name: str) -> bool:
        """Whether the last render used chart `name` as queued early by `prefetch`."""
        return name in self._used_early

    def _queued_early(self, jobs: dict, out_dir: Path, as_of: pd.Timestamp) -> dict[str, Future]:
        """The early-queued charts the step can use: same inputs, folder and date."""
        usable: dict[str, Future] = {}
        for name, inputs in jobs.items():
            entry = (self._early or {}).pop(name, None)
            if entry is None:
                continue
            fut, early_inputs, early_dir, early_as_of = entry
            same = (
                early_dir == Path(out_dir)
                and early_as_of == as_of
                and early_inputs.keys() == inputs.keys()
                and all(_same_frame(inputs[k], early_inputs[k]) for k in inputs)
            )
            if same:
                usable[name] = fut
            elif not fut.cancel():
                fut.exception()  # let it finish before the re-render writes the same files
        return usable

    def render(self, jobs: dict, out_dir: Path, as_of: pd.Timestamp) -> Iterator:
        """Yield a ChartOutput per job as charts finish (see eventlab.charts.render)."""
        if self._pool is not None:
            early = self._queued_early(jobs, out_dir, as_of)
            self._used_early = frozenset(early)
            return render_many(jobs, out_dir, as_of, pool=self._pool, submitted=early)
        return render_many(jobs, out_dir, as_of, workers=min(self.processes(), len(jobs)))


def prefetch_hook(assets_defs: list[dg.AssetsDefinition]) -> dg.HookDefinition:
    """A success hook for a job holding the charts step: after each step, hand the frames it
    produced that a chart reads to ChartRenderer.prefetch (see ChartRenderer)."""
    wanted = {
        key: name
        for name, key in {**INPUT_KEYS, "report_as_of": dg.AssetKey("report_as_of")}.items()
    }
    by_output = {
        (a.node_def.name, out): wanted[key]
        for a in assets_defs
        for out, key in a.keys_by_output_name.items()
        if key in wanted
    }

    @dg.success_hook(
        name="start_charts_early", required_resource_keys={"chart_renderer", "report_settings"}
    )
    def start_charts_early(context: dg.HookContext) -> None:
        step = context.op.name
        if not any(op == step for op, _ in by_output):
            return
        try:
            values = context.op_output_values
            produced = {by_output[step, o]: v for o, v in values.items() if (step, o) in by_output}
            settings: ReportSettings = context.resources.report_settings
            queued = context.resources.chart_renderer.prefetch(
                produced, lambda ras: settings.staging(context.run_id, ras) / "charts"
            )
        except Exception as exc:  # an optimisation only: the charts step renders what is missing
            context.log.warning(f"charts not started early: {type(exc).__name__}: {exc}")
            return
        if queued:
            context.log.debug(f"charts started early: {', '.join(queued)}")

    return start_charts_early


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


def _needed(spec) -> list[str]:
    return [k for k in (*spec.inputs, *spec.optional) if k in INPUT_KEYS]


# The charts drawn from the study's tables, and the index their default labels name.
STUDY_CHARTS = ("forward_paths", "forward_distributions", "event_timeline", "mean_path")
LABELLED_INDEX = "GSPC"


def study_frame(index: str) -> pd.DataFrame | None:
    """What the study charts are told about the run's index (eventlab.charts.draw reads it):
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
        c.name: {dg.AssetKey("report_as_of"), *(INPUT_KEYS[n] for n in _needed(c))} for c in CHARTS
    },
    can_subset=True,
)
def charts(
    context: dg.AssetExecutionContext,
    report_settings: ReportSettings,
    chart_renderer: ChartRenderer,
    study: StudySettings,
    report_as_of: pd.DataFrame,
    **frames: pd.DataFrame,
):
    """Render every selected chart into reports/<as-of>/charts/ (PNG + sidecar JSON)."""
    as_of = as_of_date(report_as_of)
    out_dir = report_settings.staging(context.run_id, report_as_of) / "charts"
    by_name = {name: frames[key.to_python_identifier()] for name, key in INPUT_KEYS.items()}
    selected = [c for c in CHARTS if chart_key(c.name) in context.selected_asset_keys]
    jobs = {c.name: {k: by_name.get(k) for k in _needed(c)} for c in selected}
    # the study charts name the run's index (their horizons come from the study's tables)
    index = study_frame(study.params().index)
    if index is not None:
        for name in STUDY_CHARTS:
            if name in jobs:
                jobs[name]["study"] = index
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
                # queued when its inputs were produced, before this step (ChartRenderer.prefetch)
                "started_early": chart_renderer.started_early(out.name),
                # axis labels or ticks cut off at the figure's edge (tests require none)
                "clipped_text": "; ".join(out.clipped) or "none",
            },
        )
    publish_if_no_publish_step(context, report_settings, out_dir.parent, report_as_of)
    context.log.info(
        f"rendered {len(jobs)} chart(s) with {workers} process(es) in {time.perf_counter() - t0:.2f}s"
    )
