"""Universe job plumbing: the ticker partitions, the per-ticker store, the resources.

Partitions are STATIC, read from the universe list files (data/universe/lists/*.csv) when the code
location loads: the files are the single source of truth, versioned with the code, identical on
every machine and every Celery worker that loads this module, and adding a ticker is one CSV row
(reload the code location). Dynamic partitions would live in the instance database instead:
a fresh clone, the test instance and each deployment would each need them re-added by hand, and
the list a result was computed on would no longer be in the repository.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import Field, field_validator

from eventlab.config import CONFIG, UniverseParams
from eventlab.universe.members import all_tickers
from eventlab.universe.store import TickerStore
from pipelines.io import DEFAULT_WAREHOUSE

TICKERS = dg.StaticPartitionsDefinition(all_tickers(CONFIG.universe))


class UniverseStore(dg.ConfigurableResource):
    """Where the per-ticker tables live: <base_dir>/universe/<table>/<ticker>.parquet
    (eventlab.universe.store). The ticker step's worker processes write there directly and the
    cross-section reads the universe's files back; on Celery, base_dir is storage every machine
    shares (EVENTLAB_WAREHOUSE)."""

    base_dir: str = Field(default=DEFAULT_WAREHOUSE, description="the warehouse folder")

    def tickers(self) -> TickerStore:
        return TickerStore(Path(self.base_dir) / "universe")


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
