"""The Celery executor, watched: a run whose broker is down or that has no live worker fails in
bounded time with one line saying what to start, instead of waiting forever.

Dagster's Celery execution loop (dagster_celery.core_execution_loop) submits each ready step
and then asks the step's AsyncResult `ready()` about once a second, for as long as it takes. Here
each submission returns a WatchedResult around that AsyncResult; its `ready()` also
- pings the workers every PING_EVERY_S and raises CeleryUnavailable once no worker has answered
  for EVENTLAB_CELERY_NO_WORKER_S (60 s by default): bound = that + PING_EVERY_S + PING_TIMEOUT_S;
- turns a broker or result backend that cannot be reached (Redis down) into CeleryUnavailable
  naming the URL and the fix, not a raw redis/kombu ConnectionError.
Raised from the loop, the error ends the run (its failure message is that one line).

A task whose worker is lost is redelivered by the broker, not here: the workers acknowledge a
task only when it ends (task_acks_late) and Redis gives an unacknowledged task to another worker
after EVENTLAB_CELERY_VISIBILITY_S (deploy/celery/dagster_celery_config.py).
"""

from __future__ import annotations

import time
from typing import Any

import dagster as dg
from dagster._core.execution.retries import RetryMode
from dagster_celery.core_execution_loop import core_celery_execution_loop
from dagster_celery.executor import CELERY_CONFIG, CeleryExecutor, _submit_task

from eventlab.settings import EnvironmentParams

PING_EVERY_S = 5.0
PING_TIMEOUT_S = 1.0
WORKER_COMMAND = (
    "PYTHONPATH=deploy/celery:. celery -A dagster_celery.app worker -Q dagster --concurrency 1 "
    "(with the same EVENTLAB_CELERY_BROKER/BACKEND; deploy/celery/README.md)"
)


class CeleryUnavailable(RuntimeError):
    """The broker cannot be reached or no worker serves the queue (one line with the fix)."""


def _connection_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (OperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError)


def connection_failure(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, is a lost connection (Celery wraps
    some in RuntimeError once its own reconnection attempts are spent)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _connection_errors()):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def check_reachable(app: Any, broker: str) -> None:
    """Fail at once, in one line, if the broker or the result backend does not answer."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
        client = getattr(app.backend, "client", None)
        if client is not None:
            client.ping()
    except Exception as exc:
        if connection_failure(exc):
            raise broker_down(broker, exc) from None
        raise


def broker_down(url: str, exc: BaseException) -> CeleryUnavailable:
    """The one-line error for a broker or result backend that cannot be reached."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return CeleryUnavailable(
        f"the Celery broker/result backend {url} cannot be reached ({reason}); the run stopped "
        "and publishes nothing. Fix: start Redis there (e.g. `redis-server --port "
        f"{url.rsplit(':', 1)[-1].split('/')[0]}`) or point EVENTLAB_CELERY_BROKER and "
        "EVENTLAB_CELERY_BACKEND at it, then run again"
    )


class WorkerWatch:
    """Liveness of the run's Celery workers, pinged at most every PING_EVERY_S."""

    def __init__(self, app: Any, broker: str, no_worker_s: float) -> None:
        self.app, self.broker, self.no_worker_s = app, broker, no_worker_s
        self.last_seen = time.monotonic()  # the grace period starts at the first submission
        self.last_ping = 0.0

    def check(self, step_key: str) -> None:
        """Raise CeleryUnavailable once no worker has answered for no_worker_s."""
        now = time.monotonic()
        if now - self.last_ping < PING_EVERY_S:
            return
        self.last_ping = now
        if self.app.control.ping(timeout=PING_TIMEOUT_S):
            self.last_seen = time.monotonic()
            return
        if now - self.last_seen >= self.no_worker_s:
            raise CeleryUnavailable(
                f"no Celery worker has answered on {self.broker} for {now - self.last_seen:.0f} s "
                f"(EVENTLAB_CELERY_NO_WORKER_S={self.no_worker_s:g}), so step {step_key} cannot "
                f"run; the run stopped and publishes nothing. Fix: start a worker: {WORKER_COMMAND}"
            )


class WatchedResult:
    """A step's AsyncResult for the execution loop, whose `ready()` also watches the workers and
    the broker (see the module docstring)."""

    def __init__(self, result: Any, step_key: str, watch: WorkerWatch) -> None:
        self.result, self.step_key, self.watch = result, step_key, watch

    def ready(self) -> bool:
        try:
            if self.result.ready():
                return True
            self.watch.check(self.step_key)
        except Exception as exc:
            if connection_failure(exc):
                raise broker_down(self.watch.broker, exc) from None
            raise
        return False

    def get(self) -> Any:
        try:
            return self.result.get()
        except Exception as exc:
            if connection_failure(exc):
                raise broker_down(self.watch.broker, exc) from None
            raise

    def revoke(self) -> None:
        self.result.revoke()


class WatchedCeleryExecutor(CeleryExecutor):
    """dagster_celery's executor whose step results are WatchedResults."""

    def execute(self, plan_context, execution_plan):
        no_worker_s = EnvironmentParams.from_environment().EVENTLAB_CELERY_NO_WORKER_S
        watches: dict[int, WorkerWatch] = {}

        def submit(app, context, step, queue, priority, known_state):
            if id(app) not in watches:  # the run's first step: is anyone there at all?
                check_reachable(app, self.broker)
                watches[id(app)] = WorkerWatch(app, self.broker, no_worker_s)
            try:
                result = _submit_task(app, context, step, queue, priority, known_state)
            except Exception as exc:
                if connection_failure(exc):
                    raise broker_down(self.broker, exc) from None
                raise
            return WatchedResult(result, step.key, watches[id(app)])

        return core_celery_execution_loop(plan_context, execution_plan, step_execution_fn=submit)


@dg.executor(
    name="celery_watched",
    config_schema=CELERY_CONFIG,
    requirements=dg.multiple_process_executor_requirements(),
)
def watched_celery_executor(init_context):
    """dagster_celery's `celery_executor` with bounded waits on a missing worker or broker."""
    config = init_context.executor_config
    return WatchedCeleryExecutor(
        broker=config.get("broker"),
        backend=config.get("backend"),
        config_source=config.get("config_source"),
        include=config.get("include"),
        retries=RetryMode.from_config(config["retries"]),
    )
