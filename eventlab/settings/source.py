"""The price source: the shipped snapshot, live yfinance, or auto (probe, then fall back)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import model_validator

from eventlab.errors import ConfigError
from eventlab.settings.base import Settings, setting

SourceMode = Literal["snapshot", "yfinance", "auto"]
# Runs with this tag (the nightly refresh) are retried after an outage by a sensor, as new runs.
REFRESH_TAG = "eventlab/refresh"


class SourceParams(Settings):
    """One interface over the shipped snapshot and live yfinance (pipelines/resources.PriceSource)."""

    SECTION = "price_source"

    mode: SourceMode = setting(
        "snapshot",
        "snapshot | yfinance | auto",
        example="'snapshot' (offline), 'yfinance' (live) or 'auto'",
    )
    snapshot_root: str | None = setting(
        None, "Folder of the shipped snapshot; empty = data/snapshot.", example="'data/snapshot'"
    )
    probe_timeout_s: float = setting(
        5.0, "auto mode: seconds to wait for Yahoo.", gt=0, le=60, unit="seconds", example="5"
    )
    start: dt.date = setting(
        dt.date(1927, 1, 1),
        "First date of a full (non-incremental) fetch, YYYY-MM-DD.",
        example="1927-01-01",
    )
    overlap_sessions: int = setting(
        10,
        "Stored sessions refetched to catch revisions.",
        ge=1,
        le=500,
        unit="sessions",
        example="10",
    )
    retries: int = setting(
        3, "Retries on rate limit / network errors, with backoff.", ge=0, le=10, example="3"
    )
    backoff_s: float = setting(
        2.0,
        "First retry wait; doubles per retry (capped at 60 s).",
        ge=0,
        le=300,
        unit="seconds",
        example="2",
    )
    deadline_s: float = setting(
        45.0,
        "Total seconds one series' download may take, retries and waits included.",
        ge=1,
        le=600,
        unit="seconds",
        example="45",
    )
    full_refresh: bool = setting(
        False,
        "Refetch from `start` and let the source's values win over stored ones (after a blocked "
        "update you have checked); every row is still validated.",
        example="false",
    )
    outage_retries: int = setting(
        2,
        f"Runs tagged {REFRESH_TAG} (the nightly refresh): new runs the sensor "
        "refresh_outage_retry starts when the source was down (never a wait inside a run).",
        ge=0,
        le=5,
        example="2",
    )
    outage_retry_delay_s: float = setting(
        300.0,
        "Seconds before the sensor's first outage retry run; doubles per retry.",
        ge=0,
        le=3600,
        unit="seconds",
        example="300",
    )

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        if self.start > dt.date.today():
            raise ConfigError(
                "start", f"{self.start} is in the future", "use a past date, e.g. 1927-01-01"
            )
        return self
