"""Universe job plumbing: the ticker partitions, the per-ticker store, the resources.

Partitions are STATIC, read from the universe list files (data/universe/lists/*.csv) when the code
location loads: the files are the single source of truth, versioned with the code, identical on
every machine and every Celery worker that loads this module, and adding a ticker is one CSV row
(reload the code location). Dynamic partitions would live in the instance database instead:
a fresh clone, the test instance and each deployment would each need them re-added by hand, and
the list a result was computed on would no longer be in the repository.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
from pydantic import Field

from eventlab.config import CONFIG, UniverseParams
from eventlab.universe.members import readable_tickers
from eventlab.universe.ticker_files import TickerStore
from pipelines.io import DEFAULT_WAREHOUSE
from pipelines.resources import settings_resource

# A list file that does not read cleanly is left out of the partitions with a warning here (the
# main job does not use them) and refused, with its file and line, by the universe job's
# pre-flight (commands.preflight.check_universe) and steps.
_TICKERS, LIST_ERRORS = readable_tickers(CONFIG.universe)
for _error in LIST_ERRORS:
    logging.getLogger(__name__).warning("universe partitions: %s", _error)
TICKERS = dg.StaticPartitionsDefinition(_TICKERS)


class UniverseStore(dg.ConfigurableResource):
    """Where the per-ticker tables live: <base_dir>/universe/<table>/<ticker>.parquet
    (eventlab.universe.ticker_files). The ticker step's worker processes write there directly and the
    cross-section reads the universe's files back; on Celery, base_dir is storage every machine
    shares (EVENTLAB_WAREHOUSE)."""

    base_dir: str = Field(default=DEFAULT_WAREHOUSE, description="the warehouse folder")

    def tickers(self) -> TickerStore:
        return TickerStore(Path(self.base_dir) / "universe")


class UniverseSettings(settings_resource(UniverseParams, "universe_settings")):
    """Launchpad-editable universe settings, declared in eventlab/settings/universe.py."""

    def params(self) -> UniverseParams:
        """Validated UniverseParams (raises ConfigError naming the launchpad field and the fix)."""
        return self._params()
