"""Dagster resources: the price source (snapshot / yfinance / auto) and study/report settings."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dagster as dg
import pandas as pd
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from eventlab import settings
from eventlab.bounds import Bound
from eventlab.config import (
    CONFIG,
    MAX_HORIZON,
    MAX_REPS,
    MIN_REPS,
    MIN_START,
    ConfigError,
    Series,
    StudyParams,
)
from eventlab.cta.params import CTA_MAX_LOOKBACK, CTA_MIN_LOOKBACK, CTAParams
from eventlab.cta.params import RULES as CTA_RULES
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


# Bounds of PriceSource's numeric fields, checked by one validator.
_BOUNDS = {
    "probe_timeout_s": Bound(0, 60, "5", " seconds", open_lo=True),
    "overlap_sessions": Bound(1, 500, "10", " sessions"),
    "retries": Bound(0, 10, "3"),
    "backoff_s": Bound(0, 300, "2", " seconds"),
    "outage_retries": Bound(0, 5, "2"),
    "outage_retry_delay_s": Bound(0, 3600, "300", " seconds"),
    "deadline_s": Bound(1, 600, "45", " seconds"),
}

# Runs with this tag (the nightly refresh) are retried after an outage by a sensor, as new runs.
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
    deadline_s: float = Field(
        default=45.0,
        description="total seconds one series' download may take, retries and waits included",
    )
    full_refresh: bool = Field(
        default=False,
        description="refetch from `start` and let the source's values win over stored ones "
        "(after a blocked update you have checked); every row is still validated",
    )
    outage_retries: int = Field(
        default=2,
        description=f"runs tagged {REFRESH_TAG} (the nightly refresh): new runs the sensor "
        "refresh_outage_retry starts when the source was down (never a wait inside a run)",
    )
    outage_retry_delay_s: float = Field(
        default=300.0,
        description="seconds before the sensor's first outage retry run; doubles per retry",
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _check_mode(cls, v: object) -> object:
        if v not in ("snapshot", "yfinance", "auto"):
            raise ValueError(
                f"price_source.mode: unknown mode {v!r}. Fix: use 'snapshot' (offline), 'yfinance' (live) or 'auto'"
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
        name = info.field_name
        _BOUNDS[name].check(settings.field_path("price_source", name), v)  # type: ignore[index]
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
            cached = self.reachable()
            object.__setattr__(self, "_probe_cache", cached)
        if not cached:
            warnings.warn(
                "PriceSource(mode=auto): Yahoo unreachable, serving the shipped snapshot",
                stacklevel=2,
            )
        return cached

    def fetch_live(self, series: Series, start: dt.date, **kw: object) -> pd.DataFrame:
        """One live download (overridden by fakes in tests), bounded by `deadline_s` in total."""
        from eventlab.data import yahoo

        return yahoo.fetch_daily(
            series.ticker,
            start,
            series=series.key,
            auto_adjust=series.adjusted,
            calendar=series.calendar,
            retries=self.retries,
            backoff_s=self.backoff_s,
            deadline_s=self.deadline_s,
            probe=self.reachable,
            **kw,  # type: ignore[arg-type]
        )

    def reachable(self, timeout: float | None = None) -> bool:
        """A real request to Yahoo with a deadline (eventlab.data.yahoo.is_reachable)."""
        from eventlab.data import yahoo

        return bool(yahoo.is_reachable(timeout=timeout or self.probe_timeout_s))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Verify the shipped snapshot against its manifest when a run starts, before any step
        writes: a changed or truncated file stops the run here, naming the file and the fix."""
        snapshot.verify_snapshot(self._root())

    def daily(self, series: Series, stored: pd.DataFrame | None = None) -> Fetched:
        """Daily OHLCV for one series, in the canonical frame shape.

        `stored` is the series' previous warehouse frame (None if never materialized). Live modes
        fetch from `overlap_sessions` before its end and merge; with no stored frame the shipped
        snapshot (if any) is the base, so the first live run is incremental too. Offline, the
        longer of the warehouse and the snapshot is served (history never shrinks).
        """
        from eventlab.data import yahoo
        from eventlab.data.incremental import merge_incremental, merge_offline, plan_fetch

        if self.live():
            base = stored
            if (base is None or base.empty) and not self.full_refresh and series.raw_file:
                try:
                    base = normalize_ohlcv(
                        snapshot.read_series(series.key, self._root()), series.key
                    )
                    base.attrs["provenance"] = merge_offline(None, base)[0].attrs["provenance"]
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
                calendar=series.calendar,
                now=yahoo._now(),
            )
            note = f"yfinance {series.ticker} auto_adjust={series.adjusted} from {start}"
            if report.rescale_factor is not None:
                note += f"; stored history re-adjusted by {report.rescale_factor}"
            return Fetched(frame, "yfinance", note, report)
        if not series.raw_file:
            return self._not_shipped(series, stored)
        snap = normalize_ohlcv(snapshot.read_series(series.key, self._root()), series.key)
        frame, served_by, note = merge_offline(stored, snap)
        if self.mode == "auto":
            note = "auto: Yahoo unreachable; " + (note or "snapshot served")
        return Fetched(frame, served_by, note)  # type: ignore[arg-type]

    def _not_shipped(self, series: Series, stored: pd.DataFrame | None) -> Fetched:
        """An extra ticker (EVENTLAB_EXTRA_TICKERS) has no shipped data: offline it is served
        from what is stored, else empty, with a note; it never fails the offline run."""
        fix = "run with `--source yfinance` (or `auto` with a network) to download it"
        if stored is not None and not stored.empty:
            return Fetched(
                stored, "warehouse", f"{series.ticker}: offline, kept the stored frame; {fix}"
            )
        empty = pd.DataFrame(
            {c: pd.Series(dtype="float64") for c in ("open", "high", "low", "close", "volume")},
            index=pd.DatetimeIndex([], name="date"),
        )
        return Fetched(empty, "snapshot", f"{series.ticker}: no shipped data, empty offline; {fix}")

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


# ----------------------------------------------------------------------------- launchpad settings


class _CheckedAtLaunch:
    """Mixin for settings resources: the whole value is validated (a) when the resource is built,
    and (b) when a run's config is resolved, i.e. when the launchpad or a schedule launches it,
    before the run exists: the resource definition is `configured` with a function that builds
    the resource and re-raises its error as a Dagster config error with the project's message."""

    def check(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @model_validator(mode="after")
    def _validate_all(self):
        try:
            self.check()
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def get_resource_definition(self):
        inner = super().get_resource_definition()  # type: ignore[misc]
        cls = type(self)

        def validate(config: dict) -> dict:
            try:
                cls(**config)
            except ValidationError as exc:
                msgs = "; ".join(
                    str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()
                )
                raise dg.DagsterInvalidConfigError(msgs, [], config) from None
            return config

        return inner.configured(validate, config_schema=inner.config_schema.as_field())


class StudySettings(_CheckedAtLaunch, dg.ConfigurableResource):
    """Launchpad-editable study parameters; defaults come from eventlab.config.StudyParams.

    A valid value never fails the run: every combination within the documented ranges yields a
    complete report (zero events is an answer the report states)."""

    index: str = Field(
        default=StudyParams.index,
        description=f"Series the events are detected on: one of {', '.join(CONFIG.daily_keys)}.",
    )
    gap_threshold: float = Field(
        default=StudyParams.gap_threshold,
        description="Opening gap that makes an event, as a fraction of the prior close "
        "(0.01 = +1%). Range: above 0 and below 0.5.",
    )
    close_rule: str = Field(
        default=StudyParams.close_rule,
        description="'prior_close': the day closes below the prior close; 'open': below its own open.",
    )
    start: str = Field(
        default=StudyParams.start.isoformat(),
        description=f"First day of the study window, YYYY-MM-DD, from {MIN_START} to the last "
        "data date (days without a genuine open are excluded anyway).",
    )
    end: str | None = Field(
        default=None,
        description="Last day of the study window, YYYY-MM-DD, on or after start and after the "
        "data begins; empty (null) = up to the latest data.",
    )
    open_policy: str = Field(
        default=StudyParams.open_policy,
        description="'genuine': only days with a real opening print; 'all': every day (stale opens included).",
    )
    horizons: list[int] = Field(
        default=list(StudyParams.horizons),
        description=f"Forward horizons in trading days: distinct integers 1..{MAX_HORIZON}, e.g. [1, 5, 20].",
    )
    bootstrap_reps: int = Field(
        default=StudyParams.bootstrap_reps,
        description=f"Bootstrap repetitions of the CI of the mean difference: {MIN_REPS}..{MAX_REPS}.",
    )
    placebo_reps: int = Field(
        default=StudyParams.placebo_reps,
        description=f"Random same-size draws of the placebo test: {MIN_REPS}..{MAX_REPS}.",
    )
    min_events_for_inference: int = Field(
        default=StudyParams.min_events_for_inference,
        description="Events needed before any p-value is published (below it: descriptive "
        "figures only): 2..1000.",
    )
    decluster_cooldown: int = Field(
        default=StudyParams.decluster_cooldown,
        description="Sessions within which events form one episode (declustered variant): 0..1000.",
    )

    def check(self) -> None:
        self.params()

    def params(self) -> StudyParams:
        """Validated StudyParams (raises ConfigError naming the launchpad field and the fix)."""
        return settings.study_params(self.model_dump())


class ReportSettings(dg.ConfigurableResource):
    """Where reports go: each run builds in <reports_root>/.staging-<run_id>/ and publishes to
    <reports_root>/<folder>/ in one atomic switch (see eventlab.report.publishing)."""

    reports_root: str = Field(
        default=str(snapshot.PROJECT_ROOT / "reports"),
        description="Folder holding <as-of>/ report folders and the `latest` symlink.",
    )
    lock_timeout_s: float = Field(
        default=120.0,
        ge=1,
        le=3600,
        description="Seconds to wait for another run's publish lock before failing (1..3600).",
    )

    def root(self) -> Path:
        return Path(self.reports_root)

    def staging(self, run_id: str, report_as_of: pd.DataFrame) -> Path:
        """The run's private folder for this report (every writing step shares it)."""
        from eventlab.report import publishing

        return publishing.staging_dir(
            self.root(), run_id, report_folder_name(report_as_of), self.lock_timeout_s
        )


def report_folder_name(report_as_of: pd.DataFrame) -> str:
    """The published folder's name recorded by the report_as_of asset (`<as-of>` for the default
    study, `<as-of>--<label>` otherwise)."""
    row = report_as_of.iloc[0]
    name = row.get("folder") if hasattr(row, "get") else None
    if isinstance(name, str) and name:
        return name
    return pd.Timestamp(row["as_of"]).date().isoformat()


class CTASettings(_CheckedAtLaunch, dg.ConfigurableResource):
    """Launchpad-editable CTA replica parameters; defaults come from eventlab.config (CTAParams)."""

    rule: str = Field(
        default=CONFIG.cta.rule, description=f"Trend rule: one of {', '.join(CTA_RULES)}."
    )
    lookbacks: list[int] = Field(
        default=list(CONFIG.cta.lookbacks),
        description=f"Lookback per horizon in sessions, {CTA_MIN_LOOKBACK}..{CTA_MAX_LOOKBACK} "
        "each (ewmac: 8 or more), e.g. [21, 63, 252]; 3 values name them short/medium/long.",
    )
    weights: list[float] = Field(
        default=list(CONFIG.cta.weights),
        description="One weight per lookback, each 0..1000 with a positive sum (normalized).",
    )
    saturation_z: float = Field(
        default=CONFIG.cta.saturation_z,
        description="Trend strength (in standard deviations) giving a full position: above 0, up to 10.",
    )
    vol_span: int = Field(
        default=CONFIG.cta.vol_span,
        description="EWMA span of the volatility estimate in sessions: 2..1000.",
    )
    vol_target: float = Field(
        default=CONFIG.cta.vol_target,
        description="Annualized volatility target as a fraction (0.15 = 15%): above 0, below 2.",
    )
    max_scale: float = Field(
        default=CONFIG.cta.max_scale,
        description="Cap on the volatility scaling: above 0, up to 10.",
    )
    capacity_usd: float = Field(
        default=CONFIG.cta.capacity_usd,
        description="Assumed USD notional of a full position: above 0, up to 1e13 ($10tn).",
    )
    percentile_lookback: int | None = Field(
        default=CONFIG.cta.percentile_lookback,
        description="Sessions of the rolling percentile window, 252..25000; empty (null) = expanding.",
    )
    down_big_std: float = Field(
        default=CONFIG.cta.down_big_std,
        description="Size of the 'down big' scenario in standard deviations: above 0, up to 10.",
    )
    scenario_as_of: list[str] = Field(
        default=[d.isoformat() for d in CONFIG.cta.scenario_as_of],
        description="Extra as-of dates for the flow scenarios, YYYY-MM-DD, each within the data "
        "(a date without a session uses the last session before it).",
    )

    def check(self) -> None:
        self.params()

    def params(self) -> CTAParams:
        """Validated CTAParams (raises ConfigError naming the launchpad field and the fix)."""
        return settings.cta_params(self.model_dump())
