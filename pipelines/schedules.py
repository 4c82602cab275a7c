"""The nightly refresh: a live-source job and a schedule on NYSE trading days only.

The schedule ticks at 18:30 America/New_York on weekdays (after the 16:00 close, and well after
13:00 early closes; Yahoo's daily bar is final by then). The tick function asks the exchange
calendar (exchange_calendars XNYS) whether the day is a session: holidays are skipped with a
SkipReason, early-close days run and are tagged. One run per session (run_key = the date), so
a daemon restart never launches the same night twice.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd

from eventlab.data.calendar import nyse
from pipelines.resources import REFRESH_TAG

NY = "America/New_York"
CRON = "30 18 * * 1-5"
REFRESH_MODE = (
    "yfinance"  # fail loudly when Yahoo is down: the previous data stays, the next night recovers
)

REFRESH_RUN_CONFIG: dict = {"resources": {"price_source": {"config": {"mode": REFRESH_MODE}}}}
REFRESH_TAGS = {REFRESH_TAG: "nightly"}  # dagster.yaml limits this tag to one run at a time

refresh_job = dg.define_asset_job(
    "refresh_job",
    # The universe (eventlab/universe) is its own job, not part of the nightly refresh.
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("universe"),
    description=(
        "Nightly refresh: every series from yfinance (incremental, with overlap and revision checks), "
        "then the study, CTA, charts and report. Bad updates are blocked and the previous data kept."
    ),
    config=REFRESH_RUN_CONFIG,
    tags=REFRESH_TAGS,
    executor_def=dg.in_process_executor,
    # No blanket op retry policy: the prices step itself retries a source outage in runs with
    # REFRESH_TAG (PriceSource.outage_retries), and no other step is retried.
)


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
def nightly_refresh(context: dg.ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    when = pd.Timestamp(when).tz_convert(NY) if when is not None else pd.Timestamp.now(tz=NY)
    info = nyse_session_info(when.date())
    if info is None:
        return dg.SkipReason(
            f"{when.date()} is not an NYSE trading session (weekend or holiday): nothing to refresh"
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
