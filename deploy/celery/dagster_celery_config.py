"""Celery settings the eventlab workers load (dagster_celery.app imports this module when it is
importable): put deploy/celery on the workers' PYTHONPATH. The broker and result backend come
from the same environment variables the executor reads (pipelines/celery_definitions.py), so the
launching machine and every worker agree on them."""

import os

broker_url = os.environ["EVENTLAB_CELERY_BROKER"]
result_backend = os.environ["EVENTLAB_CELERY_BACKEND"]
# One step at a time per worker process: a universe step already uses its own processes
# (universe_settings.workers), and a long step must not hold prefetched tasks hostage.
worker_prefetch_multiplier = 1
task_acks_late = True
