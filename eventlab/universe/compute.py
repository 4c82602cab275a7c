"""Run the per-ticker study over many tickers: in this process, or on a pool of worker processes.

One Dagster step gets every partition of a run (a single-run backfill) and hands the tickers to
`run_tickers`. With workers > 1 the tickers are cut into contiguous chunks (the shipped file is
sorted by ticker, so a chunk reads only its own row groups); each worker process reads, studies
and stores its chunk (store.TickerStore: the ticker's Parquet files, written where they are
computed) and sends back one small TickerSummary per ticker, never the frames: pickling them to
the parent and writing them there was serial work that grew with the universe. Workers come
from a fork server that has imported this module once, so they start warm and hold no copy of
the parent's threads or locks; they are shut down with the pool when the step ends (or fails).
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

import pandas as pd

from eventlab.config import StudyParams, UniverseParams
from eventlab.report.publishing import owner_record
from eventlab.universe.lifetime import die_with_run
from eventlab.universe.prices import read_offline
from eventlab.universe.ticker import status_result, study_ticker
from eventlab.universe.ticker_files import TickerStore, TickerSummary

WORKER_MODULE = "eventlab.universe.compute"


def run_chunk(
    tickers: list[str],
    params: StudyParams,
    universe: UniverseParams,
    sectors: dict[str, str],
    store: TickerStore,
    run_id: str,
    frames: dict[str, pd.DataFrame | None] | None = None,
) -> tuple[list[TickerSummary], dict[str, float]]:
    """Study and store `tickers` one after the other (frames read offline unless given);
    returns their summaries and this chunk's seconds spent reading, studying and writing."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    sector = {t: sectors.get(t, "") for t in tickers}
    if frames is None:
        try:
            frames = read_offline(tickers, universe)
        except Exception as exc:  # unreadable shipped data: every ticker of the chunk reports it
            msg = f"could not read prices: {type(exc).__name__}: {exc}"
            failed = [
                status_result(t, "error", msg, params, {"sector": sector[t]}) for t in tickers
            ]
            cpu = time.process_time() - cpu0
            return [store.write(r, run_id)[0] for r in failed], {"cpu_s": cpu, "peak_rss_mb": 0.0}
    t1 = time.perf_counter()
    out, pending, study_s, write_s = [], [], 0.0, 0.0
    # Two threads fsync and rename the written files while this process studies the next ticker.
    with ThreadPoolExecutor(2) as finish:
        for t in tickers:
            s0 = time.perf_counter()
            result = study_ticker(t, frames.get(t), params, universe, sector=sector[t])
            s1 = time.perf_counter()
            summary, futures = store.write(result, run_id, finish)
            out.append(summary)
            pending += futures
            study_s, write_s = study_s + s1 - s0, write_s + time.perf_counter() - s1
        for f in pending:
            f.result()  # a failed fsync or rename fails the chunk, as a failed write does
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return out, {
        "read_s": t1 - t0,
        "study_s": study_s,
        "write_s": write_s,
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


TIMED = ("read_s", "study_s", "write_s", "cpu_s")


def run_tickers(
    tickers: list[str],
    params: StudyParams,
    universe: UniverseParams,
    sectors: dict[str, str],
    store: TickerStore,
    run_id: str,
    *,
    workers: int = 1,
    frames: dict[str, pd.DataFrame | None] | None = None,
    chunks_per_worker: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[TickerSummary], dict[str, float]]:
    """Study and store every ticker; summaries in the order of `tickers` and the seconds spent
    reading, studying and writing, summed over the processes. The stored files are the same
    whatever `workers` is: each ticker's random draws depend only on the seed and the ticker.
    `progress(done, total)` is told each time a chunk of tickers is finished. Call it inside
    `store.writing()`."""
    if workers <= 1 or len(tickers) < 2 * workers:
        summaries, timings = run_chunk(tickers, params, universe, sectors, store, run_id, frames)
        timings["worker_peak_rss_mb"] = timings.pop("peak_rss_mb")  # this process
        if progress is not None:
            progress(len(tickers), len(tickers))
        return summaries, timings
    parts = chunks(tickers, workers * chunks_per_worker)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([WORKER_MODULE])
    # Each worker ends itself when the run's process dies (eventlab.universe.lifetime).
    alive = owner_record(run_id)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=die_with_run, initargs=(alive,)
    ) as pool:
        futures = [
            pool.submit(
                run_chunk,
                part,
                params,
                universe,
                {t: sectors.get(t, "") for t in part},
                store,
                run_id,
                None if frames is None else {t: frames.get(t) for t in part},
            )
            for part in parts
        ]
        size = {f: len(part) for f, part in zip(futures, parts, strict=True)}
        done = 0
        for f in as_completed(futures):
            done += size[f]
            if progress is not None and f.exception() is None:
                progress(done, len(tickers))
        parts_out = [f.result() for f in futures]
    timings = {k: sum(t.get(k, 0.0) for _, t in parts_out) for k in TIMED}
    timings["worker_peak_rss_mb"] = max(t["peak_rss_mb"] for _, t in parts_out)
    return [s for summaries, _ in parts_out for s in summaries], timings
