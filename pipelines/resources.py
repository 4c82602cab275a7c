"""Dagster resources: the price source (snapshot / yfinance / auto) and study/report settings."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dagster as dg
import pandas as pd
from pydantic import Field, ValidationInfo, field_validator

from eventlab.config import CONFIG, Series, StudyParams
from eventlab.data import snapshot
from eventlab.data.frames import DataError, normalize_ohlcv
from eventlab.data.incremental import MergeReport

SourceMode = Literal["snapshot", "yfinance", "auto"]


@dataclass(frozen=True)
class Fetched:
    """A frame plus where it came from, so metadata and the manifest can say which source served it."""

    frame: pd.DataFrame
    served_by: Literal["snapshot", "yfinance", "warehouse"]
    note: str = ""
    report: MergeReport | None = None


# Bounds of PriceSource's numeric fields: (low, high, unit, example), checked by one validator.
_BOUNDS: dict[str, tuple[float, float, str, float]] = {
    "overlap_sessions": (1, 500, "", 10),
    "retries": (0, 10, "", 3),
    "backoff_s": (0, 300, " seconds", 2),
    "outage_retries": (0, 5, "", 2),
    "outage_retry_delay_s": (0, 3600, " seconds", 300),
}

# Runs with this tag (the nightly refresh) retry a source outage; see PriceSource.outage_retries.
REFRESH_TAG = "eventlab/refresh"


class PriceSource(dg.ConfigurableResource):
    """One interface over the shipped snapshot and live yfinance.

    mode=snapshot reads data/snapshot; mode=yfinance downloads (and fails loudly if it cannot);
    mode=auto probes Yahoo for `probe_timeout_s` seconds and falls back to the snapshot with a
    warning, recording the serving source. Live fetches are incremental: given the stored frame,
    only the sessions after it plus `overlap_sessions` are fetched and merged
    (eventlab.data.incremental), and a suspicious update raises BlockedUpdateError.
    """

    mode: SourceMode = Field(default="snapshot", description="snapshot | yfinance | auto")
    snapshot_root: str | None = None
    probe_timeout_s: float = Field(default=5.0, description="auto mode: seconds to wait for Yahoo")
    start: str = Field(
        default="1927-01-01", description="first date of a full (non-incremental) fetch, YYYY-MM-DD"
    )
    overlap_sessions: int = Field(
        default=10, description="stored sessions refetched to catch revisions"
    )
    retries: int = Field(
        default=3, description="retries on rate limit / network errors, with backoff"
    )
    backoff_s: float = Field(
        default=2.0, description="first retry wait; doubles per retry (capped at 60 s)"
    )
    full_refresh: bool = Field(
        default=False, description="refetch from `start` and allow a re-basing rescale"
    )
    outage_retries: int = Field(
        default=2,
        description=f"runs tagged {REFRESH_TAG} (the nightly refresh): times the prices step is "
        "retried when the source is still down after the adapter's own retries",
    )
    outage_retry_delay_s: float = Field(
        default=300.0, description="wait before the first outage retry; doubles per retry"
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _check_mode(cls, v: object) -> object:
        if v not in ("snapshot", "yfinance", "auto"):
            raise ValueError(
                f"price_source.mode: unknown mode {v!r}. Fix: use 'snapshot' (offline), 'yfinance' (live) or 'auto'"
            )
        return v

    @field_validator("probe_timeout_s")
    @classmethod
    def _check_probe(cls, v: float) -> float:
        if not (0 < v <= 60):
            raise ValueError(
                f"price_source.probe_timeout_s: must be in (0, 60] seconds, got {v}. Fix: use e.g. 5"
            )
        return v

    @field_validator("start")
    @classmethod
    def _check_start(cls, v: str) -> str:
        try:
            d = dt.date.fromisoformat(v)
        except (TypeError, ValueError):
            raise ValueError(
                f"price_source.start: {v!r} is not an ISO date. Fix: write it as YYYY-MM-DD, e.g. 1927-01-01"
            ) from None
        if d > dt.date.today():
            raise ValueError(
                f"price_source.start: {v} is in the future. Fix: use a past date, e.g. 1927-01-01"
            )
        return v

    @field_validator(*_BOUNDS)
    @classmethod
    def _check_bounds(cls, v: float, info: ValidationInfo) -> float:
        lo, hi, unit, example = _BOUNDS[info.field_name]
        if not (lo <= v <= hi):
            raise ValueError(
                f"price_source.{info.field_name}: must be {lo}..{hi}{unit}, got {v}. Fix: use e.g. {example}"
            )
        return v

    def _root(self) -> Path | None:
        return Path(self.snapshot_root) if self.snapshot_root else None

    def live(self) -> bool:
        """Whether this run serves live data (auto mode probes Yahoo once per resource instance)."""
        if self.mode == "snapshot":
            return False
        if self.mode == "yfinance":
            return True
        cached = getattr(self, "_probe_cache", None)
        if cached is None:
            from eventlab.data import yahoo

            cached = bool(yahoo.is_reachable(timeout=self.probe_timeout_s))
            object.__setattr__(self, "_probe_cache", cached)
        if not cached:
            warnings.warn(
                "PriceSource(mode=auto): Yahoo unreachable, serving the shipped snapshot",
                stacklevel=2,
            )
        return cached

    def fetch_live(self, series: Series, start: dt.date, **kw: object) -> pd.DataFrame:
        """One live download (overridden by fakes in tests)."""
        from eventlab.data import yahoo

        return yahoo.fetch_daily(
            series.ticker,
            start,
            series=series.key,
            auto_adjust=series.adjusted,
            calendar=series.calendar,
            retries=self.retries,
            backoff_s=self.backoff_s,
            **kw,  # type: ignore[arg-type]
        )

    def daily(self, series: Series, stored: pd.DataFrame | None = None) -> Fetched:
        """Daily OHLCV for one series, in the canonical frame shape.

        `stored` is the series' previous warehouse frame (None if never materialized). Live modes
        fetch from `overlap_sessions` before its end and merge; with no stored frame the shipped
        snapshot (if any) is the base, so the first live run is incremental too.
        """
        if self.live():
            from eventlab.data.incremental import merge_incremental, plan_fetch

            base = stored
            if (base is None or base.empty) and not self.full_refresh and series.raw_file:
                try:
                    base = normalize_ohlcv(
                        snapshot.read_series(series.key, self._root()), series.key
                    )
                except DataError:
                    base = None
            default_start = dt.date.fromisoformat(self.start)
            start = (
                default_start
                if self.full_refresh
                else plan_fetch(base, default_start, self.overlap_sessions)
            )
            fetched = self.fetch_live(series, start)
            frame, report = merge_incremental(
                base,
                fetched,
                series=series.key,
                kind=series.kind,
                adjusted=series.adjusted,
                allow_any_rescale=self.full_refresh,
            )
            note = f"yfinance {series.ticker} auto_adjust={series.adjusted} from {start}"
            if report.rescale_factor is not None:
                note += f"; stored history re-adjusted by {report.rescale_factor}"
            return Fetched(frame, "yfinance", note, report)
        snap = normalize_ohlcv(snapshot.read_series(series.key, self._root()), series.key)
        if self.mode == "auto":
            if stored is not None and not stored.empty and stored.index[-1] > snap.index[-1]:
                # Never shrink history: the warehouse already holds newer live data than the snapshot.
                return Fetched(
                    stored,
                    "warehouse",
                    "auto: Yahoo unreachable, kept the stored (newer) warehouse frame",
                )
            return Fetched(snap, "snapshot", "auto: Yahoo unreachable, snapshot served")
        return Fetched(snap, "snapshot", "")

    def intraday(self, series: Series) -> Fetched:
        """5-minute bars; only the snapshot ships them (Yahoo keeps 60 days of 5m history)."""
        frame = normalize_ohlcv(
            snapshot.read_series(series.key, self._root()), series.key, intraday=True
        )
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
    min_events_for_inference: int = StudyParams.min_events_for_inference
    decluster_cooldown: int = StudyParams.decluster_cooldown

    def params(self) -> StudyParams:
        """Validated StudyParams (raises ConfigError naming the field and the fix)."""
        from eventlab.config import ConfigError

        def _date(name: str, value: str | None) -> dt.date | None:
            if value is None:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError as exc:
                raise ConfigError(
                    f"study.{name}", f"{value!r} is not an ISO date", "write it as YYYY-MM-DD"
                ) from exc

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
            min_events_for_inference=self.min_events_for_inference,
            decluster_cooldown=self.decluster_cooldown,
        ).validate(CONFIG.daily_keys)


class ReportSettings(dg.ConfigurableResource):
    """Where report artifacts go: <reports_root>/<as-of>/ and <reports_root>/latest/."""

    reports_root: str = str(snapshot.PROJECT_ROOT / "reports")

    def as_of_dir(self, as_of: dt.date) -> Path:
        path = Path(self.reports_root) / as_of.isoformat()
        path.mkdir(parents=True, exist_ok=True)
        return path


class CTASettings(dg.ConfigurableResource):
    """Launchpad-editable CTA replica parameters; defaults come from eventlab.config (CTAParams)."""

    rule: str = CONFIG.cta.rule
    lookbacks: list[int] = list(CONFIG.cta.lookbacks)
    weights: list[float] = list(CONFIG.cta.weights)
    saturation_z: float = CONFIG.cta.saturation_z
    vol_span: int = CONFIG.cta.vol_span
    vol_target: float = CONFIG.cta.vol_target
    max_scale: float = CONFIG.cta.max_scale
    capacity_usd: float = CONFIG.cta.capacity_usd
    percentile_lookback: int | None = CONFIG.cta.percentile_lookback
    down_big_std: float = CONFIG.cta.down_big_std
    scenario_as_of: list[str] = [d.isoformat() for d in CONFIG.cta.scenario_as_of]

    def params(self):
        """Validated CTAParams (raises ConfigError naming the field and the fix)."""
        from eventlab.config import ConfigError

        dates = []
        for value in self.scenario_as_of:
            try:
                dates.append(dt.date.fromisoformat(value))
            except ValueError as exc:
                raise ConfigError(
                    "cta.scenario_as_of", f"{value!r} is not an ISO date", "write it as YYYY-MM-DD"
                ) from exc
        return CONFIG.cta.with_(
            rule=self.rule,
            lookbacks=tuple(self.lookbacks),
            weights=tuple(self.weights),
            saturation_z=self.saturation_z,
            vol_span=self.vol_span,
            vol_target=self.vol_target,
            max_scale=self.max_scale,
            capacity_usd=self.capacity_usd,
            percentile_lookback=self.percentile_lookback,
            down_big_std=self.down_big_std,
            scenario_as_of=tuple(dates),
        ).validate()
