"""Universe job plumbing: the ticker partitions, the per-partition IO manager, the resources.

Partitions are STATIC, read from the universe list files (data/universe/lists/*.csv) when the code
location loads: the files are the single source of truth, versioned with the code, identical on
every machine and every Celery worker that loads this module, and adding a ticker is one CSV row
(reload the code location). Dynamic partitions would live in the instance database instead:
a fresh clone, the test instance and each deployment would each need them re-added by hand, and
the list a result was computed on would no longer be in the repository.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, field_validator

from eventlab.config import CONFIG, UniverseParams
from eventlab.data.store import file_lock
from eventlab.universe.members import all_tickers
from pipelines.io import DEFAULT_WAREHOUSE

TICKERS = dg.StaticPartitionsDefinition(all_tickers(CONFIG.universe))
IO_THREADS = 8


def _write(path: Path, frame: pd.DataFrame) -> None:
    """Atomic write: a uniquely named temp file (created with the usual umask: store.atomic_path
    toggles the process umask, which is not safe from several threads), fsync, rename."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.to_parquet(tmp, engine="pyarrow", index=False)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class UniverseIOManager(dg.ConfigurableIOManager):
    """One Parquet file per (asset, ticker): <base_dir>/<asset key path>/<ticker>.parquet.

    A step over many partitions returns {ticker: frame}; only the tickers present are written
    (each atomically), so a ticker left out - one whose computation failed - keeps its stored
    file. An unpartitioned downstream asset reads every partition's file into one frame.
    """

    base_dir: str = DEFAULT_WAREHOUSE

    def _dir(self, key: dg.AssetKey) -> Path:
        return Path(self.base_dir).joinpath(*key.path)

    def handle_output(self, context: dg.OutputContext, obj: dict[str, pd.DataFrame]) -> None:
        folder = self._dir(context.asset_key)
        t0 = time.perf_counter()
        # One lock and one sweep of temp files a killed writer left, for the whole folder; then
        # each file is written atomically (temp + fsync + rename). store.write_parquet_atomic's
        # per-file lock and folder sweep made 504 writes scan the folder 504 times.
        folder.mkdir(parents=True, exist_ok=True)
        with file_lock(folder / "_partitions"):
            for stale in folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
            with ThreadPoolExecutor(IO_THREADS) as pool:
                list(
                    pool.map(
                        lambda item: _write(folder / f"{item[0]}.parquet", item[1]), obj.items()
                    )
                )
        context.add_output_metadata(
            {
                "folder": dg.MetadataValue.path(str(folder)),
                "files": len(obj),
                "write_s": round(time.perf_counter() - t0, 3),
            }
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        """Every partition's file as one frame; a `ticker` column (categorical) is added from the
        file names where the stored frames do not carry one."""
        folder = self._dir(context.asset_key)
        keys = context.asset_partition_keys if context.has_asset_partitions else []
        found = [k for k in keys if (folder / f"{k}.parquet").exists()]
        with ThreadPoolExecutor(IO_THREADS) as pool:
            tables = list(pool.map(lambda k: pq.read_table(folder / f"{k}.parquet"), found))
        keep = [(k, t) for k, t in zip(found, tables, strict=True) if t.num_rows]
        if not keep:
            return pd.DataFrame()
        df = pa.concat_tables([t for _, t in keep], promote_options="permissive").to_pandas()
        if "ticker" not in df.columns:
            codes = np.repeat(np.arange(len(keep)), [t.num_rows for _, t in keep])
            names = [k for k, _ in keep]
            df.insert(0, "ticker", pd.Categorical.from_codes(codes, categories=names))
        return df


class UniverseSettings(dg.ConfigurableResource):
    """Launchpad-editable universe settings; defaults from eventlab.config.UniverseParams."""

    name: str = Field(default=UniverseParams.name, description="universe list (file stem)")
    source: str = Field(default="snapshot", description="snapshot (shipped data) | yfinance")
    workers: int = Field(default=UniverseParams.workers, description="processes for the tickers")
    bootstrap_reps: int = Field(
        default=500, description="per-ticker bootstrap/placebo draws (the pooled SEs need none)"
    )
    live_start: str = Field(default="1999-11-01", description="yfinance: first date, YYYY-MM-DD")

    @field_validator("source")
    @classmethod
    def _check_source(cls, v: str) -> str:
        if v not in ("snapshot", "yfinance"):
            raise ValueError(
                f"universe_settings.source: unknown source {v!r}. Fix: use 'snapshot' (shipped "
                "data, offline) or 'yfinance' (live batch download)"
            )
        return v

    @field_validator("live_start")
    @classmethod
    def _check_start(cls, v: str) -> str:
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(
                f"universe_settings.live_start: {v!r} is not an ISO date. Fix: YYYY-MM-DD"
            ) from None
        return v

    def params(self) -> UniverseParams:
        return CONFIG.universe.with_(name=self.name, workers=self.workers).validate()
