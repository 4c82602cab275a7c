"""The nightly refresh: a live-source job and a schedule on NYSE trading days only.

The schedule ticks at 18:30 America/New_York on weekdays (after the 16:00 close, and well after
13:00 early closes; Yahoo's daily bar is final by then). The tick function asks the exchange
calendar (exchange_calendars XNYS) whether the day is a session: holidays are skipped with a
SkipReason, early-close days run and are tagged. One run per session (run_key = the date), so
a daemon restart never launches the same night twice.

Before a refresh run is requested, the tick probes the source (PriceSource.reachable, a real
request bounded by `price_source.probe_timeout_s`). When it is unreachable the tick is skipped with
one line saying so: a run started offline would fail its prices step and mark every asset it
planned as failed in the catalog, although the stored data and `reports/latest` are intact. A
skipped tick leaves the catalog showing the last good materializations.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd

from eventlab.data.calendar import nyse
from eventlab.data.refresh import RefreshOutcome
from pipelines.resources import REFRESH_TAG, PriceSource

NY = "America/New_York"
CRON = "30 18 * * 1-5"
REFRESH_MODE = (
    "yfinance"  # fail loudly when Yahoo is down: the previous data stays, the next night recovers
)

REFRESH_RUN_CONFIG: dict = {"resources": {"price_source": {"config": {"mode": REFRESH_MODE}}}}
REFRESH_TAGS = {REFRESH_TAG: "nightly"}  # dagster.yaml limits this tag to one run at a time

refresh_job = dg.define_asset_job(
    "refresh_job",
    # The universe (eventlab/universe) is its own job, not part of the nightly refresh; so are
    # the per-study partitions (the refresh runs the whole study library in one step).
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("universe", "study_partitions"),
    description=(
        "Nightly refresh: every series from yfinance (incremental, with overlap and revision checks), "
        "then the study, CTA, charts and report. Bad updates are blocked and the previous data kept."
    ),
    config=REFRESH_RUN_CONFIG,
    tags=REFRESH_TAGS,
    executor_def=dg.in_process_executor,
    # No op retry policy: waiting inside a run would hold the only run slot. A source outage is
    # retried as a new run by the `refresh_outage_retry` sensor; no step is retried in place.
)

ATTEMPT_TAG = "eventlab/attempt"  # 1 for the scheduled run, 2.. for the sensor's retries
RETRY_AFTER_TAG = "eventlab/retry_after"  # set on a refresh run that failed for an outage
RETRY_SENSOR = "refresh_outage_retry"
_CARRIED_TAGS = ("eventlab/session", "eventlab/close", "eventlab/early_close")


def nyse_session_info(day: dt.date) -> dict | None:
    """None if `day` is not an NYSE session; else its close time (NY) and whether it closes early."""
    cal = nyse()
    ts = pd.Timestamp(day)
    if not cal.is_session(ts):
        return None
    close = cal.session_close(ts).tz_convert(NY)
    return {
        "session": day.isoformat(),
        "close": close.strftime("%H:%M"),
        "early_close": close.hour < 16,
    }


@dg.schedule(
    cron_schedule=CRON,
    job=refresh_job,
    execution_timezone=NY,
    name="nightly_refresh",
    description="18:30 New York on NYSE sessions (holidays skipped, early closes included): live refresh of every series and the report.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def nightly_refresh(context: dg.ScheduleEvaluationContext, price_source: PriceSource):
    when = context.scheduled_execution_time
    when = pd.Timestamp(when).tz_convert(NY) if when is not None else pd.Timestamp.now(tz=NY)
    info = nyse_session_info(when.date())
    if info is None:
        return dg.SkipReason(
            f"{when.date()} is not an NYSE trading session (weekend or holiday): nothing to refresh"
        )
    if not price_source.reachable():
        return source_unreachable(
            price_source, f"next try: the nightly refresh on {next_session_run(when)}"
        )
    return dg.RunRequest(
        run_key=f"refresh-{info['session']}",
        run_config=REFRESH_RUN_CONFIG,
        tags={
            **REFRESH_TAGS,
            "eventlab/session": info["session"],
            "eventlab/close": info["close"],
            "eventlab/early_close": str(info["early_close"]).lower(),
        },
    )


def source_unreachable(price_source: PriceSource, next_try: str) -> dg.SkipReason:
    """The one signal of a refresh skipped because the live source did not answer."""
    return dg.SkipReason(
        f"refresh skipped: source unreachable (Yahoo did not answer within "
        f"{price_source.probe_timeout_s:g} s). Nothing was run: the stored data, the catalog and "
        f"reports/latest keep the last good refresh; {next_try}. To refresh sooner, check the "
        "network and launch refresh_job from the UI."
    )


def next_session_run(now: pd.Timestamp) -> str:
    """When the nightly schedule fires next: 18:30 New York on the next NYSE session."""
    cal = nyse()
    now = pd.Timestamp(now).tz_convert(NY)
    day = pd.Timestamp(now.date())
    if not (cal.is_session(day) and now.hour * 60 + now.minute < 18 * 60 + 30):
        day = cal.date_to_session(day, direction="next")
        if day.date() == now.date():
            day = cal.next_session(day)
    return f"{day.date()} 18:30 New York"


def refresh_failure(
    context: dg.AssetExecutionContext, price_source: PriceSource, outcome: RefreshOutcome
) -> dg.Failure:
    """The prices step's Failure, leading with one plain line, and (for an outage in a nightly
    refresh run) the tag that lets the `refresh_outage_retry` sensor start a new run later."""
    now = pd.Timestamp.now(tz="UTC")
    tags = context.run.tags
    attempt = int(tags.get(ATTEMPT_TAG, "1"))
    nightly = REFRESH_TAG in tags
    if outcome.outage and nightly and attempt <= price_source.outage_retries:
        delay = price_source.outage_retry_delay_s * 2 ** (attempt - 1)
        at = now + pd.Timedelta(seconds=delay)
        context.instance.add_run_tags(context.run_id, {RETRY_AFTER_TAG: at.isoformat()})
        next_try = (
            f"next try: a new run started by the sensor {RETRY_SENSOR} after "
            f"{at.tz_convert(NY):%H:%M} New York (attempt {attempt + 1} of "
            f"{price_source.outage_retries + 1}), else the nightly refresh on {next_session_run(now)}"
        )
    elif nightly:
        next_try = f"next try: the nightly refresh on {next_session_run(now)}"
    else:
        next_try = "next try: when you run it again (or the nightly refresh, if turned on)"
    return dg.Failure(
        description=outcome.summary(next_try),
        metadata={
            "not_updated": ", ".join(outcome.not_updated()),
            "source_down": outcome.source_down,
            **{f"cause/{k}": str(v) for k, v in outcome.failures.items()},
        },
        allow_retries=False,
    )


@dg.sensor(
    job=refresh_job,
    name=RETRY_SENSOR,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Retries a nightly refresh that failed because Yahoo was down or rate limiting, as a "
        "new run once its retry time has passed (price_source.outage_retries, "
        "outage_retry_delay_s). Waiting happens here, in the daemon, never inside a run."
    ),
)
def refresh_outage_retry(context: dg.SensorEvaluationContext, price_source: PriceSource):
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(tags={REFRESH_TAG: "nightly"}), limit=1
    )
    if not records:
        return dg.SkipReason("no refresh run yet")
    run = records[0].dagster_run
    retry_after = run.tags.get(RETRY_AFTER_TAG)
    if run.status != dg.DagsterRunStatus.FAILURE or not retry_after:
        return dg.SkipReason(f"latest refresh run {run.run_id[:8]} needs no retry")
    if pd.Timestamp.now(tz="UTC") < pd.Timestamp(retry_after):
        return dg.SkipReason(f"source outage: next refresh attempt after {retry_after}")
    if not price_source.reachable():
        return source_unreachable(price_source, "the retry waits for the source to answer")
    attempt = int(run.tags.get(ATTEMPT_TAG, "1")) + 1
    session = run.tags.get("eventlab/session", run.run_id[:8])
    return dg.RunRequest(
        run_key=f"refresh-{session}-attempt{attempt}",
        run_config=REFRESH_RUN_CONFIG,
        tags={
            **REFRESH_TAGS,
            **{k: run.tags[k] for k in _CARRIED_TAGS if k in run.tags},
            ATTEMPT_TAG: str(attempt),
        },
    )
