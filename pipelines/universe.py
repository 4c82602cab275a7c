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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, field_validator

from eventlab.config import CONFIG, UniverseParams
from eventlab.data.store import write_parquet_atomic
from eventlab.universe.members import all_tickers
from pipelines.io import DEFAULT_WAREHOUSE

TICKERS = dg.StaticPartitionsDefinition(all_tickers(CONFIG.universe))
IO_THREADS = 8


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
        with ThreadPoolExecutor(IO_THREADS) as pool:
            list(
                pool.map(
                    lambda item: write_parquet_atomic(
                        item[1], folder / f"{item[0]}.parquet", index=False
                    ),
                    obj.items(),
                )
            )
        context.add_output_metadata(
            {"folder": dg.MetadataValue.path(str(folder)), "files": len(obj)}
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        folder = self._dir(context.asset_key)
        keys = context.asset_partition_keys if context.has_asset_partitions else []
        paths = [folder / f"{k}.parquet" for k in keys]
        paths = [p for p in paths if p.exists()]
        if not paths:
            return pd.DataFrame()
        with ThreadPoolExecutor(IO_THREADS) as pool:
            tables = [t for t in pool.map(pq.read_table, paths) if t.num_rows]
        if not tables:
            return pd.DataFrame()
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()


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
