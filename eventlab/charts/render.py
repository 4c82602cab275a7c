"""The chart registry (which inputs each chart needs) and the renderer that draws any subset
of it in a small process pool (matplotlib is single-threaded; two processes use the two cores).

Importing this module is cheap: no matplotlib, PIL or chart-drawing modules. Those live in
eventlab.charts.draw, imported by the pool's fork server before it forks the workers (with a
warm-up draw, so every worker starts warm) or lazily by render_one when drawing in-process.
`start_pool` starts the pool in the background ahead of use, so the workers' start-up overlaps
with whatever the caller does meanwhile. No Dagster imports: the asset layer passes frames in
and gets ChartOutputs back.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from eventlab.charts.outputs import ChartOutput

    Inputs = dict[str, pd.DataFrame | None]

# imported by the fork server before it forks workers: the drawing code plus a warm-up draw
WORKER_MODULE = "eventlab.charts.worker"
# charts/<SCREEN_DIR>/<name>.png: the right-sized copy report.html embeds (eventlab.charts.style)
SCREEN_DIR = "screen"
# imported first: the fork server watches the run's pid (see eventlab.charts.lifeline)
LIFELINE_MODULE = "eventlab.charts.lifeline"


@dataclass(frozen=True)
class ChartSpec:
    name: str
    description: str
    inputs: tuple[
        str, ...
    ]  # names of upstream frames (see pipelines/stages/charts.py for their asset keys)
    optional: tuple[str, ...] = ()
    cost: float = 0.5  # typical render seconds (measured); only orders the work in the pool

    def draw(self, inputs: Inputs, out_dir: Path, as_of: pd.Timestamp) -> ChartOutput:
        """Draw this chart (imports the drawing code, eventlab.charts.draw, on first use)."""
        from eventlab.charts.draw import DRAWERS

        return DRAWERS[self.name](inputs, Path(out_dir), as_of)


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "liquidity_depth",
        "Outline chart 1: SPY 5-minute impact per dollar on the event day vs baseline, and the notes' book depth through a linear impact model.",
        ("SPY_5m", "GSPC", "events"),
        cost=0.71,
    ),
    ChartSpec(
        "intraday_reversal",
        "Outline chart 2: NVDA vs S&P 500 5-minute bars vs the prior close on every event day the bars cover.",
        ("SPX_5m", "NVDA_5m", "GSPC", "events"),
        cost=0.49,
    ),
    ChartSpec(
        "forward_paths",
        "Outline chart 3: per-event paths t-5..t+20 and T+1/T+5/T+20 box plots vs the baseline.",
        ("events", "event_paths", "forward_returns"),
        cost=0.45,
    ),
    ChartSpec(
        "mean_path",
        "Mean return path t-5..t+20 after the events with the 95% t-band of the mean (n on the chart).",
        ("event_paths",),
        cost=0.3,
    ),
    ChartSpec(
        "cta_monitor",
        "Outline chart 4: S&P 500 candles with the CTA replica's trigger levels, the notes' 6456 line and a buffer zone.",
        ("GSPC", "events"),
        optional=("cta_levels",),
        cost=0.64,
    ),
    ChartSpec(
        "rate_cut_probability",
        "Outline chart 5: December 2025 cut probability, daily (lag-corrected futures-implied, Polymarket/Kalshi, notes), plus FedWatch on ZQ bars.",
        ("fomc_prob_next_meeting", "fomc_dec2025_prediction_markets", "zq_futures"),
        cost=0.47,
    ),
    ChartSpec(
        "btc_ndx_correlation",
        "Outline chart 6: BTC vs Nasdaq-100 rolling correlation of daily returns on NYSE days (20/60/120 days).",
        ("NDX", "BTC_USD", "events"),
        cost=0.31,
    ),
    ChartSpec(
        "rut_ndx_relative_strength",
        "Outline chart 7: Russell 2000 / Nasdaq-100 ratio and its Wilder RSI(14).",
        ("RUT", "NDX", "events"),
        cost=0.32,
    ),
    ChartSpec(
        "ai_peg_scatter",
        "Outline chart 8: AI large caps forward P/E vs earnings growth (PEG), each input's date printed.",
        ("fwd_pe_daily", "fundamentals_2025_06_13", "fundamentals_2026_01_30"),
        cost=0.47,
    ),
    ChartSpec(
        "event_timeline",
        "Every event since 1957 on a timeline with genuine-open coverage shaded.",
        ("events", "open_quality"),
        cost=0.44,
    ),
    ChartSpec(
        "forward_distributions",
        "Forward-return distributions at T+1/T+5/T+20: events vs the baseline.",
        ("events", "forward_returns"),
        cost=0.46,
    ),
    ChartSpec(
        "cta_validation",
        "Is the replica real? Its position vs the S&P 500 exposure implied by SG Trend's returns (60-session OLS), event days marked.",
        ("cta_validation_series", "events"),
        cost=0.5,
    ),
    ChartSpec(
        "backtest_tearsheet",
        "Backtests: replica vs buy-and-hold since 1929 and vs SG Trend since 2000 (equity, drawdown); event trades vs random entries.",
        ("backtest_returns", "backtests"),
        cost=0.8,
    ),
)
BY_NAME = {c.name: c for c in CHARTS}


def render_one(name: str, inputs: Inputs, out_dir: str | Path, as_of) -> ChartOutput:
    """Draw one chart and its UI thumbnail; the ChartOutput carries the render time in seconds."""
    import pandas as pd

    t0 = time.perf_counter()
    out = BY_NAME[name].draw(inputs, Path(out_dir), pd.Timestamp(as_of))
    if not out.thumbnail_b64:  # style.save makes it from the drawn pixels; the file is a fallback
        from eventlab.charts.style import thumbnail_b64

        out.thumbnail_b64 = thumbnail_b64(out.png)
    out.seconds = time.perf_counter() - t0
    return out


def _preload_modules() -> list[str]:
    """What the fork server imports before forking workers: WORKER_MODULE, and the parent's
    main module. Forkserver (like spawn) children import the parent's main module before their
    first task; for `python -m commands.run` that is Dagster, ~1 s of CPU in every worker.
    Imported once in the server instead, the workers' copy only re-runs the module's body."""
    mods = [LIFELINE_MODULE, WORKER_MODULE]
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name:
        # `python -m pkg` runs pkg.__main__: children skip it, and importing it would run it
        if name != "__main__" and not name.endswith(".__main__"):
            mods.append(name)
    elif getattr(main, "__file__", None):
        mods.append("__main__")  # a script: the server imports it as __mp_main__, workers skip it
    return mods


def _ping(hold_s: float = 0.0) -> int:
    """Pool start-up task; holding each worker briefly makes every submit spawn its own process."""
    time.sleep(hold_s)
    return os.getpid()


class ChartPool:
    """A process pool for render_many whose workers are started in a background thread.

    With the forkserver context the fork server imports WORKER_MODULE (matplotlib, the drawing
    modules and a warm-up draw, ~1 s of CPU) and the caller's main module once, and forks every
    worker from it. Started ahead of use (prestart, the default) the workers come up in the
    background, overlapping the caller's other work; `executor()` waits until they are up.
    Without prestart they are spawned as the first tasks arrive. `shutdown()` (or leaving a
    `with` block) stops them.
    """

    def __init__(self, workers: int = 2, mp_context: str = "forkserver", prestart: bool = True):
        self.workers = max(1, int(workers))
        from eventlab.charts import lifeline

        ctx = mp.get_context(mp_context)
        if mp_context == "forkserver":
            # the fork server inherits this environment and watches this process from the start
            os.environ["EVENTLAB_CHART_RUN_PID"] = str(os.getpid())
            ctx.set_forkserver_preload(_preload_modules())
        # every worker dies with its parent and with this process, whatever kills them
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=lifeline.worker_init,
            initargs=(os.getpid(),),
        )
        self._error: BaseException | None = None
        self._starter: threading.Thread | None = None
        if prestart:  # otherwise the executor spawns its workers as the first tasks arrive
            self._starter = threading.Thread(target=self._start, name="chart-pool-start")
            self._starter.daemon = True
            self._starter.start()

    def _start(self) -> None:
        try:
            for ping in [self._executor.submit(_ping, 0.05) for _ in range(self.workers)]:
                ping.result()
        except BaseException as exc:  # re-raised by executor() in the caller's thread
            self._error = exc

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every worker has started (or start-up failed); False on timeout."""
        if self._starter is None:
            return True
        self._starter.join(timeout)
        return not self._starter.is_alive()

    def executor(self) -> ProcessPoolExecutor:
        self.wait_ready()
        if self._error is not None:
            raise RuntimeError(
                f"the chart worker pool failed to start: {self._error!r}"
            ) from self._error
        return self._executor

    def shutdown(self) -> None:
        self.wait_ready()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ChartPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def start_pool(workers: int = 2, mp_context: str = "forkserver") -> ChartPool:
    """Start a chart pool in the background and return at once (see ChartPool)."""
    return ChartPool(workers, mp_context)


def submit(pool: ChartPool, name: str, inputs: Inputs, out_dir: str | Path, as_of) -> Future:
    """Queue one chart on the pool's workers; the Future's result is its ChartOutput."""
    return pool.executor().submit(render_one, name, inputs, str(out_dir), as_of)


def _in_pool(
    pool: ChartPool,
    jobs: dict[str, Inputs],
    out_dir: str | Path,
    as_of,
    submitted: dict[str, Future] | None = None,
) -> Iterator[ChartOutput]:
    submitted = submitted or {}
    # slowest first, so that the workers finish together
    order = sorted((n for n in jobs if n not in submitted), key=lambda n: -BY_NAME[n].cost)
    futures: list[Future] = [submitted[n] for n in jobs if n in submitted]
    futures += [submit(pool, n, jobs[n], out_dir, as_of) for n in order]
    try:
        for fut in as_completed(futures):  # yield each chart as soon as it is done
            yield fut.result()
    finally:
        for fut in futures:  # a failed chart (or an abandoned generator) cancels the rest
            fut.cancel()


def render_many(
    jobs: dict[str, Inputs],
    out_dir: str | Path,
    as_of,
    workers: int = 2,
    mp_context: str = "forkserver",
    pool: ChartPool | None = None,
    submitted: dict[str, Future] | None = None,
) -> Iterator[ChartOutput]:
    """Yield ChartOutputs as charts finish. Given a `pool` (see start_pool) the charts go to its
    workers (`submitted`: jobs already queued on it with these inputs, see submit); otherwise
    `workers` <= 1 renders in this process and more start a pool for just these jobs."""
    if pool is not None:
        yield from _in_pool(pool, jobs, out_dir, as_of, submitted)
        return
    if workers <= 1 or len(jobs) <= 1:
        for name, inp in jobs.items():
            yield render_one(name, inp, out_dir, as_of)
        return
    with ChartPool(min(workers, len(jobs)), mp_context, prestart=False) as own:
        yield from _in_pool(own, jobs, out_dir, as_of)
