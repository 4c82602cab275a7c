"""Celery settings the eventlab workers load (dagster_celery.app imports this module when it is
importable): put deploy/celery on the workers' PYTHONPATH. The broker and result backend come
from the same environment variables the executor reads (pipelines/celery_definitions.py), so the
launching machine and every worker agree on them.

What happens to a step whose worker is lost (docs/operations.md, "Celery and Kubernetes"):
- a worker acknowledges a task only when the step has ended (`task_acks_late`), so a worker
  killed mid-step leaves its task unacknowledged in Redis;
- a prefork pool child that dies is noticed by its worker, which requeues the task at once
  (`task_reject_on_worker_lost`);
- a worker that dies whole (SIGKILL, lost machine) is noticed by no one: Redis gives its task to
  another worker once it has been unacknowledged for EVENTLAB_CELERY_VISIBILITY_S (900 s by
  default; every worker looks for such tasks every 5 s). Keep it above the longest step: a step
  still running after that long is given to a second worker as well.
"""

import os

from eventlab.settings import EnvironmentParams

ENV = EnvironmentParams.from_environment()

broker_url = os.environ["EVENTLAB_CELERY_BROKER"]
result_backend = os.environ["EVENTLAB_CELERY_BACKEND"]
# One step at a time per worker process: a universe step already uses its own processes
# (universe_settings.workers), and a long step must not hold prefetched tasks hostage.
worker_prefetch_multiplier = 1
task_acks_late = True
task_reject_on_worker_lost = True
broker_transport_options = {
    "visibility_timeout": ENV.EVENTLAB_CELERY_VISIBILITY_S,
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
