"""The nightly schedule: NYSE sessions only (exchange calendar), live source, one run per session."""

import datetime as dt

import dagster as dg
import pytest
from yf_fakes import DownSource, UpSource

from pipelines.schedules import CRON, REFRESH_RUN_CONFIG, nightly_refresh, nyse_session_info


def tick(day: str, up: bool = True) -> object:
    when = dt.datetime.fromisoformat(f"{day}T18:30:00-05:00")
    source = UpSource() if up else DownSource()
    with dg.build_schedule_context(
        scheduled_execution_time=when, resources={"price_source": source}
    ) as ctx:
        return nightly_refresh.evaluate_tick(ctx)


def test_schedule_definition():
    assert nightly_refresh.cron_schedule == CRON == "30 18 * * 1-5"
    assert nightly_refresh.execution_timezone == "America/New_York"
    assert nightly_refresh.job_name == "refresh_job"


@pytest.mark.parametrize(
    ("day", "why"),
    [
        ("2026-11-26", "Thanksgiving"),
        ("2026-12-25", "Christmas"),
        ("2027-01-01", "New Year"),
        ("2026-11-28", "Saturday"),
    ],
)
def test_skips_non_sessions(day, why):
    result = tick(day)
    assert result.run_requests == [] and "not an NYSE trading session" in result.skip_message, why


def test_runs_on_sessions_with_live_source():
    result = tick("2026-11-24")
    (req,) = result.run_requests
    assert req.run_key == "refresh-2026-11-24"
    assert req.run_config == REFRESH_RUN_CONFIG
    assert req.run_config["resources"]["price_source"]["config"]["mode"] in ("yfinance", "auto")
    assert req.tags["eventlab/early_close"] == "false" and req.tags["eventlab/close"] == "16:00"


def test_unreachable_source_skips_the_tick_with_one_line():
    """Offline, no run starts (so no asset is marked failed): the tick says why and when next."""
    result = tick("2026-11-24", up=False)
    assert result.run_requests == []
    msg = result.skip_message
    assert msg.startswith("refresh skipped: source unreachable")
    assert "reports/latest keep the last good refresh" in msg
    assert "next try: the nightly refresh on 2026-11-25 18:30 New York" in msg
    # a holiday is still a holiday, whatever the network says
    assert "not an NYSE trading session" in tick("2026-11-26", up=False).skip_message


def test_early_close_day_runs_and_is_tagged():
    (req,) = tick("2026-11-27").run_requests  # day after Thanksgiving: 13:00 close
    assert req.tags["eventlab/early_close"] == "true" and req.tags["eventlab/close"] == "13:00"
    assert nyse_session_info(dt.date(2026, 12, 24))["early_close"] is True


def test_refresh_job_registered_with_live_config_and_retries():
    from pipelines.definitions import defs

    job = defs.resolve_job_def("refresh_job")
    # no blanket retry: only the prices step retries, and only an outage (tests/test_faults.py)
    assert job.op_retry_policy is None
    assert job.tags.get("eventlab/refresh") == "nightly"
    assert [s.name for s in defs.schedules] == ["nightly_refresh"]
