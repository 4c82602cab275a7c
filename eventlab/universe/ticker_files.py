"""Per-ticker files of the universe study: written where a ticker is studied, read back pooled.

Layout: <warehouse>/universe/<table>/<ticker>.parquet for the four tables in TABLES. The worker
process that studies a ticker writes its files itself (no frames pickled back to the parent):
each file is written atomically (a uniquely named temp file, fsync, rename), so a reader sees
the previous file or the new one, never half of one. A ticker whose computation raised, or that
has no rows at all (a failed download), gets a new `ticker_status` file only: its days, events
and statistics from an earlier run stay as they were. The step that starts the workers holds `TickerStore.writing()` (one lock per table folder
and one sweep of temp files a killed writer left) for as long as they write.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from eventlab.data.frames import StoredFileError
from eventlab.data.store import file_lock
from eventlab.universe.ticker import TickerResult

DAYS, EVENTS, STATS, STATUS = "ticker_days", "ticker_events", "ticker_stats", "ticker_status"
# Results that never replace a ticker's stored files (only its status file is written): a
# computation that raised, and no rows at all, which in live mode means the download of its
# batch failed - storing "nothing" over an earlier history would shrink it.
KEEP_EARLIER = ("error", "no_data")
TABLES: tuple[str, ...] = (DAYS, EVENTS, STATS, STATUS)
# Reading hundreds of small files is latency-bound (open, footer, decode): threads overlap it.
IO_THREADS = 8


def _publish(tmp: Path, path: Path) -> None:
    try:
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(path: Path, frame: pd.DataFrame, finish: Executor | None = None) -> Future | None:
    """Atomic write: a uniquely named temp file (created with the usual umask: store.atomic_path
    toggles the process umask, which is not safe from several threads), fsync, rename. With
    `finish`, the fsync and rename run there (the returned future): fsync waits on the disk,
    and a worker should study its next ticker meanwhile, not wait with it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if finish is None:
        _publish(tmp, path)
        return None
    return finish.submit(_publish, tmp, path)


def _read_file(path: Path) -> pa.Table:
    """One stored ticker file; StoredFileError naming it and the fix if it cannot be read."""
    try:
        return pq.ParquetFile(path, pre_buffer=False).read()
    except (OSError, pa.ArrowException) as exc:
        raise StoredFileError(
            f"{path} cannot be read ({type(exc).__name__}: {exc}); it was damaged after it was "
            f"written (a write is atomic). Fix: delete it and run the universe job again for "
            f"ticker {path.stem} (its study is rewritten)"
        ) from None


@dataclass(frozen=True)
class TickerSummary:
    """What the parent gets back for a ticker once its files are written."""

    ticker: str
    status: str
    message: str
    n_days: int
    n_events: int


@dataclass(frozen=True)
class TickerStore:
    """The per-ticker tables under `root` (= <warehouse>/universe); picklable, for the workers."""

    root: Path

    def folder(self, table: str) -> Path:
        return Path(self.root) / table

    def path(self, table: str, ticker: str) -> Path:
        return self.folder(table) / f"{ticker}.parquet"

    @contextlib.contextmanager
    def writing(self) -> Iterator[TickerStore]:
        """Hold every table folder's lock (another run writing the same warehouse waits) and
        remove temp files a killed writer left; the workers write inside this block."""
        with contextlib.ExitStack() as stack:
            for table in TABLES:
                folder = self.folder(table)
                folder.mkdir(parents=True, exist_ok=True)
                stack.enter_context(file_lock(folder / "_partitions"))
                for stale in folder.glob(".*.tmp"):
                    stale.unlink(missing_ok=True)
            yield self

    def write(
        self, result: TickerResult, run_id: str, finish: Executor | None = None
    ) -> tuple[TickerSummary, list[Future]]:
        """Store one ticker's result (an `error` or `no_data` result writes its status only); returns its
        summary and, with `finish`, the futures of its files' fsync and rename."""
        status = pd.DataFrame(
            [{"ticker": result.ticker, "status": result.status, "message": result.message,
              "run_id": run_id}]
        )  # fmt: skip
        tables = [(STATUS, status)]
        if result.status not in KEEP_EARLIER:
            tables += [(DAYS, result.days), (EVENTS, result.events), (STATS, result.stats)]
        pending = [write_parquet(self.path(t, result.ticker), f, finish) for t, f in tables]
        summary = TickerSummary(
            result.ticker, result.status, result.message, len(result.days), len(result.events)
        )
        return summary, [f for f in pending if f is not None]

    def read(self, table: str, tickers: list[str]) -> pd.DataFrame:
        """The stored files of `tickers` (those that have one) as one frame; a `ticker` column
        (categorical) is added from the file names where the files do not carry one."""
        folder = self.folder(table)
        found = [t for t in tickers if (folder / f"{t}.parquet").exists()]
        with ThreadPoolExecutor(IO_THREADS) as pool:
            # ParquetFile.read, not pq.read_table: the latter builds a dataset per call, which
            # doubled the cost of reading hundreds of small files (measured; same frame).
            tables = list(pool.map(lambda t: _read_file(folder / f"{t}.parquet"), found))
        keep = [(t, tab) for t, tab in zip(found, tables, strict=True) if tab.num_rows]
        if not keep:
            return pd.DataFrame()
        df = pa.concat_tables([tab for _, tab in keep], promote_options="permissive").to_pandas()
        if "ticker" not in df.columns:
            codes = np.repeat(np.arange(len(keep)), [tab.num_rows for _, tab in keep])
            names = [t for t, _ in keep]
            df.insert(0, "ticker", pd.Categorical.from_codes(codes, categories=names))
        return df
