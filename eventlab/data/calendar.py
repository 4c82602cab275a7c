"""The NYSE trading calendar, built once per process (exchange_calendars builds it in ~25 ms)."""

from __future__ import annotations

import functools


@functools.cache
def nyse():
    """exchange_calendars' XNYS calendar (sessions, early closes, holidays)."""
    import exchange_calendars as xcals

    return xcals.get_calendar("XNYS")
