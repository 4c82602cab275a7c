"""Dagster resources: the price source (snapshot / yfinance / auto) and study/report settings."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG, Series, StudyParams
from eventlab.data import snapshot
from eventlab.data.frames import normalize_ohlcv

SourceMode = Literal["snapshot", "yfinance", "auto"]


@dataclass(frozen=True)
class Fetched:
    """A frame plus where it came from, so metadata and the manifest can say which source served it."""

    frame: pd.DataFrame
    served_by: Literal["snapshot", "yfinance"]
    note: str = ""


class PriceSource(dg.ConfigurableResource):
    """One interface over the shipped snapshot and live yfinance.

    mode=snapshot reads data/snapshot; mode=yfinance downloads (and fails loudly if it cannot);
    mode=auto probes Yahoo for `probe_timeout_s` seconds and falls back to the snapshot with a
    warning, recording the serving source.
    """

    mode: SourceMode = "snapshot"
    snapshot_root: str | None = None
    probe_timeout_s: float = 5.0
    start: str = "1927-01-01"

    def _root(self) -> Path | None:
        return Path(self.snapshot_root) if self.snapshot_root else None

    def _live(self) -> bool:
        if self.mode == "snapshot":
            return False
        if self.mode == "yfinance":
            return True
        from eventlab.data import yahoo

        if yahoo.is_reachable(timeout=self.probe_timeout_s):
            return True
        warnings.warn("PriceSource(mode=auto): Yahoo unreachable, serving the shipped snapshot", stacklevel=2)
        return False

    def daily(self, series: Series) -> Fetched:
        """Daily OHLCV for one series, in the canonical frame shape."""
        if self._live():
            from eventlab.data import yahoo

            frame = yahoo.fetch_daily(series.ticker, start=dt.date.fromisoformat(self.start), series=series.key)
            return Fetched(frame, "yfinance", f"yfinance {series.ticker} auto_adjust={series.adjusted}")
        frame = normalize_ohlcv(snapshot.read_series(series.key, self._root()), series.key)
        note = "auto: Yahoo unreachable, snapshot served" if self.mode == "auto" else ""
        return Fetched(frame, "snapshot", note)

    def intraday(self, series: Series) -> Fetched:
        """5-minute bars; only the snapshot ships them (Yahoo keeps 60 days of 5m history)."""
        frame = normalize_ohlcv(snapshot.read_series(series.key, self._root()), series.key, intraday=True)
        return Fetched(frame, "snapshot")

    def reference(self, name: str) -> Fetched:
        """A non-price table (rates, FOMC probabilities, fundamentals) from the snapshot."""
        return Fetched(snapshot.read_aux(name, self._root()), "snapshot")

    def snapshot_manifest(self) -> dict:
        return snapshot.read_manifest(self._root())


class StudySettings(dg.ConfigurableResource):
    """Launchpad-editable study parameters; defaults come from eventlab.config.StudyParams."""

    index: str = StudyParams.index
    gap_threshold: float = StudyParams.gap_threshold
    close_rule: str = StudyParams.close_rule
    start: str = StudyParams.start.isoformat()
    end: str | None = None
    open_policy: str = StudyParams.open_policy
    horizons: list[int] = list(StudyParams.horizons)
    bootstrap_reps: int = StudyParams.bootstrap_reps
    placebo_reps: int = StudyParams.placebo_reps

    def params(self) -> StudyParams:
        """Validated StudyParams (raises ConfigError naming the field and the fix)."""
        from eventlab.config import ConfigError

        def _date(name: str, value: str | None) -> dt.date | None:
            if value is None:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError as exc:
                raise ConfigError(f"study.{name}", f"{value!r} is not an ISO date", "write it as YYYY-MM-DD") from exc

        return StudyParams(
            index=self.index,
            gap_threshold=self.gap_threshold,
            close_rule=self.close_rule,  # type: ignore[arg-type]
            start=_date("start", self.start) or StudyParams.start,
            end=_date("end", self.end),
            open_policy=self.open_policy,  # type: ignore[arg-type]
            horizons=tuple(self.horizons),
            bootstrap_reps=self.bootstrap_reps,
            placebo_reps=self.placebo_reps,
        ).validate(CONFIG.daily_keys)


class ReportSettings(dg.ConfigurableResource):
    """Where report artifacts go: <reports_root>/<as-of>/ and <reports_root>/latest/."""

    reports_root: str = str(snapshot.PROJECT_ROOT / "reports")

    def as_of_dir(self, as_of: dt.date) -> Path:
        path = Path(self.reports_root) / as_of.isoformat()
        path.mkdir(parents=True, exist_ok=True)
        return path
