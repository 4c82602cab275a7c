"""The outcome of one refresh step over many series, and its one-line summary for the user.

Plain code (no Dagster): the daily price step records each series' failure here; once the
source is clearly down (two series failing with network errors, or one and a failed probe)
the remaining series are not attempted, and the summary leads with one plain line: the cause,
the series not updated, that the previous data was kept, and when it will try again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from eventlab.data.frames import DataError
from eventlab.data.merge_gates import BlockedUpdateError
from eventlab.data.yahoo import RateLimitedError, SourceUnavailableError

DOWN_AFTER = 2  # series failing with network errors before the source counts as down


@dataclass
class RefreshOutcome:
    failures: dict[str, DataError] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    source_down: bool = False
    probe_failed: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.skipped)

    @property
    def outage(self) -> list[str]:
        """Series that failed because the source could not be reached or rate limited us."""
        return [
            k
            for k, e in self.failures.items()
            if isinstance(e, (SourceUnavailableError, RateLimitedError))
        ]

    def record(self, key: str, exc: DataError, probe: Callable[[], bool] | None = None) -> None:
        """Note a failed series; decide whether the source is down (then stop asking it)."""
        self.failures[key] = exc
        n = len(self.outage)
        if not n or key not in self.outage:
            return
        if n >= DOWN_AFTER:
            self.source_down = True
        elif probe is not None and not probe():
            self.source_down = self.probe_failed = True

    def cause(self) -> str:
        """The plain-words cause of the failure."""
        if self.outage:
            limited = all(isinstance(self.failures[k], RateLimitedError) for k in self.outage)
            if limited:
                return "Yahoo is rate limiting us"
            how = "probe got no answer" if self.probe_failed else "network errors"
            return f"Yahoo unreachable ({how} on {', '.join(self.outage)})"
        blocked = [k for k, e in self.failures.items() if isinstance(e, BlockedUpdateError)]
        if blocked:
            return f"bad data from the source blocked {', '.join(blocked)}"
        return "the source returned unusable data"

    def not_updated(self) -> list[str]:
        return [*self.failures, *self.skipped]

    def summary(self, next_try: str) -> str:
        """One plain line, then one line per failed series (yfinance's wording comes last)."""
        names = self.not_updated()
        lead = (
            f"{self.cause()}: {len(names)} series not updated ({', '.join(names)}); "
            f"previous data kept; {next_try}."
        )
        lines = [f"- {e}" for e in self.failures.values()]
        if self.skipped:
            lines.append(f"- not attempted because the source is down: {', '.join(self.skipped)}")
        return "\n".join([lead, *lines])
