"""Run the per-ticker study over many tickers: in this process, or on a pool of worker processes.

One Dagster step gets every partition of a run (a single-run backfill) and hands the tickers to
`run_tickers`. With workers > 1 the tickers are cut into contiguous chunks (the shipped file is
sorted by ticker, so a chunk reads only its own row groups); each worker process reads and
studies its chunk and sends the results back. Workers come from a fork server that has imported
this module once, so they start warm and hold no copy of the parent's threads or locks; they
are shut down with the pool when the step ends (or fails).
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from eventlab.config import StudyParams, UniverseParams
from eventlab.universe.data import read_offline
from eventlab.universe.ticker import TickerResult, status_result, study_ticker

WORKER_MODULE = "eventlab.universe.compute"


def run_chunk(
    tickers: list[str],
    params: StudyParams,
    universe: UniverseParams,
    sectors: dict[str, str],
    frames: dict[str, pd.DataFrame | None] | None = None,
) -> tuple[list[TickerResult], dict[str, float]]:
    """Study `tickers` one after the other (frames read offline unless given); returns the
    results and this chunk's seconds spent reading and studying."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    if frames is None:
        try:
            frames = read_offline(tickers, universe)
        except Exception as exc:  # unreadable shipped data: every ticker of the chunk reports it
            msg = f"could not read prices: {type(exc).__name__}: {exc}"
            return [
                status_result(t, "error", msg, params, {"sector": sectors.get(t, "")})
                for t in tickers
            ]
    t1 = time.perf_counter()
    out = [
        study_ticker(t, frames.get(t), params, universe, sector=sectors.get(t, "")) for t in tickers
    ]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return out, {
        "read_s": t1 - t0,
        "study_s": time.perf_counter() - t1,
        "peak_rss_mb": peak_mb,
        "cpu_s": time.process_time() - cpu0,
    }


def chunks(tickers: list[str], n_chunks: int) -> list[list[str]]:
    """Contiguous, nearly equal chunks, in order."""
    n_chunks = max(1, min(n_chunks, len(tickers)))
    size, extra = divmod(len(tickers), n_chunks)
    out, start = [], 0
    for i in range(n_chunks):
        stop = start + size + (1 if i < extra else 0)
        out.append(tickers[start:stop])
        start = stop
    return [c for c in out if c]


def run_tickers(
    tickers: list[str],
    params: StudyParams,
    universe: UniverseParams,
    sectors: dict[str, str],
    *,
    workers: int = 1,
    frames: dict[str, pd.DataFrame | None] | None = None,
    chunks_per_worker: int = 4,
) -> tuple[list[TickerResult], dict[str, float]]:
    """TickerResults in the order of `tickers` (the same whatever `workers` is: each ticker's
    random draws depend only on the seed and the ticker) and the seconds spent reading and
    studying, summed over the processes."""
    if workers <= 1 or len(tickers) < 2 * workers:
        results, timings = run_chunk(tickers, params, universe, sectors, frames)
        timings["worker_peak_rss_mb"] = timings.pop("peak_rss_mb")  # this process
        return results, timings
    parts = chunks(tickers, workers * chunks_per_worker)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([WORKER_MODULE])
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [
            pool.submit(
                run_chunk,
                part,
                params,
                universe,
                {t: sectors.get(t, "") for t in part},
                None if frames is None else {t: frames.get(t) for t in part},
            )
            for part in parts
        ]
        parts_out = [f.result() for f in futures]
    timings: dict[str, float] = {
        k: sum(t[k] for _, t in parts_out) for k in ("read_s", "study_s", "cpu_s")
    }
    timings["worker_peak_rss_mb"] = max(t["peak_rss_mb"] for _, t in parts_out)
    return [r for results, _ in parts_out for r in results], timings
