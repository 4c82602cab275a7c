"""Code location for running the universe job on more than one machine: Dagster's Celery executor.

The same assets and the same job name (`universe_job`) as pipelines/definitions.py; only the
executor differs. Every step of a run becomes a Celery task on the `dagster` queue of a Redis
broker; any worker that can import this module and reach the instance and the shared storage
picks it up. Deployment (broker, workers, shared storage, the Postgres instance, Kubernetes):
deploy/celery/README.md.

Environment (the same on the launching machine and on every worker):
  EVENTLAB_CELERY_BROKER   redis://host:6379/0   (Celery broker)
  EVENTLAB_CELERY_BACKEND  redis://host:6379/1   (Celery result backend)
  EVENTLAB_WAREHOUSE       shared folder for the per-ticker and pooled tables
  EVENTLAB_REPORTS         shared folder for reports/universe-<name>/<as-of>/
  DAGSTER_HOME             the instance (deploy/postgres/dagster.yaml across machines)

The executor is dagster_celery's, watched (pipelines/celery_watch.py): a run with the broker
down or no live worker fails in bounded time with one line saying what to start.
"""

from __future__ import annotations

import os

import dagster as dg

from pipelines.celery_watch import watched_celery_executor
from pipelines.definitions import UNIVERSE, default_resources, universe_assets
from pipelines.io import DEFAULT_WAREHOUSE, ParquetIOManager
from pipelines.resources import ReportSettings
from pipelines.universe_resources import UniverseStore

CELERY = watched_celery_executor.configured(
    {
        "broker": {"env": "EVENTLAB_CELERY_BROKER"},
        "backend": {"env": "EVENTLAB_CELERY_BACKEND"},
    },
    name="celery_redis",
)


def celery_resources() -> dict[str, object]:
    """default_resources with the storage every machine shares (from the environment)."""
    warehouse = os.environ.get("EVENTLAB_WAREHOUSE", DEFAULT_WAREHOUSE)
    overrides: dict[str, object] = {
        "io_manager": ParquetIOManager(base_dir=warehouse),
        "universe_store": UniverseStore(base_dir=warehouse),
    }
    if os.environ.get("EVENTLAB_REPORTS"):
        overrides["report_settings"] = ReportSettings(reports_root=os.environ["EVENTLAB_REPORTS"])
    return default_resources(**overrides)


universe_job = dg.define_asset_job(
    "universe_job",
    selection=UNIVERSE,
    description="universe_job (see pipelines/definitions.py), each step a Celery task.",
    executor_def=CELERY,
)

defs = dg.Definitions(assets=universe_assets, jobs=[universe_job], resources=celery_resources())


def celery_universe_job() -> dg.JobDefinition:
    """The resolved job, for dg.reconstructable (the Celery workers rebuild it from this module)."""
    return defs.resolve_job_def("universe_job")
