"""Dagster resources: the price source (snapshot / yfinance / auto) and study/report settings."""

from __future__ import annotations

import datetime as dt
import types
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import dagster as dg
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from eventlab.config import CONFIG, Series
from eventlab.data import snapshot
from eventlab.data.frames import DataError, normalize_ohlcv
from eventlab.data.incremental import MergeReport
from eventlab.errors import ConfigError
from eventlab.settings import CTAParams, ReportParams, Settings, SourceParams, StudyParams
from eventlab.settings.library import LibraryParams
from eventlab.settings.source import REFRESH_TAG, SourceMode
from eventlab.settings.validation import BacktestParams, ValidationParams

__all__ = ["REFRESH_TAG", "SourceMode"]


@dataclass(frozen=True)
class Fetched:
    """A frame plus where it came from, so metadata and the manifest can say which source served it."""

    frame: pd.DataFrame
    served_by: Literal["snapshot", "yfinance", "warehouse"]
    note: str = ""
    report: MergeReport | None = None


# ----------------------------------------------------------------------------- derived resources


def config_type(name: str, annotation: Any) -> Any:
    """The Dagster config type of a declared field: str/int/float/bool as they are, a date as its
    ISO string, a Literal as its values' type, a tuple as a list, `X | None` as Optional."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is dt.date:
        return str
    if annotation in (str, int, float, bool):
        return annotation
    if origin is Literal:
        return type(args[0])
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return typing.Optional[config_type(name, inner)]  # noqa: UP045 - Dagster reads Optional
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list[config_type(name, args[0])]
    raise TypeError(
        f"setting {name!r} ({annotation}) has no launchpad type: declare it with launchpad=False"
    )


def config_value(value: Any) -> Any:
    """A declared default as the launchpad shows it (ISO dates, lists)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [config_value(v) for v in value]
    return value


class _CheckedAtLaunch:
    """Mixin for settings resources: the whole value is validated (a) when the resource is built,
    and (b) when a run's config is resolved, i.e. when the launchpad or a schedule launches it,
    before the run exists: the resource definition is `configured` with a function that builds
    the resource and re-raises its error as a Dagster config error with the project's message."""

    settings_model: ClassVar[type[Settings]]
    settings_key: ClassVar[str]

    def _params(self, **context: Any) -> Any:
        """The declaration's frozen model from this resource's values (ConfigError naming the
        launchpad path `resources.<key>.config.<field>` and a fix)."""
        return self.settings_model.from_config(
            typing.cast(dg.ConfigurableResource, self).model_dump(),
            f"resources.{self.settings_key}.config",
            context=context,
        )

    def params(self) -> Any:
        return self._params()

    @model_validator(mode="after")
    def _validate_all(self):
        try:
            self.params()
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


def settings_resource(model: type[Settings], key: str) -> Any:
    """A Dagster resource class derived from a settings declaration: one config field per
    launchpad field of `model` (same name, default and description), checked at launch, with
    `.params()` returning the validated frozen model. Subclass it to add methods."""
    annotations: dict[str, Any] = {"settings_model": ClassVar[type], "settings_key": ClassVar[str]}
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": model.__doc__,
        "settings_model": model,
        "settings_key": key,
    }
    for name in model.launchpad_fields():
        field = model.model_fields[name]
        annotations[name] = config_type(name, field.annotation)
        namespace[name] = Field(default=config_value(field.default), description=field.description)
    namespace["__annotations__"] = annotations
    bases = (_CheckedAtLaunch, dg.ConfigurableResource)
    return type(dg.ConfigurableResource)(f"{model.__name__}Resource", bases, namespace)


class PriceSource(settings_resource(SourceParams, "price_source")):
    """One interface over the shipped snapshot and live yfinance.

    mode=snapshot reads data/snapshot; mode=yfinance downloads (and fails loudly if it cannot);
    mode=auto probes Yahoo for `probe_timeout_s` seconds and falls back to the snapshot with a
    warning, recording the serving source. Live fetches are incremental: given the stored frame,
    only the sessions after it plus `overlap_sessions` are fetched and merged
    (eventlab.data.incremental), and a suspicious update raises BlockedUpdateError.
    """

    def params(self) -> SourceParams:
        return self._params()

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
        from eventlab.data.incremental import merge_incremental, plan_fetch
        from eventlab.data.provenance import merge_offline

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


class StudySettings(settings_resource(StudyParams, "study_settings")):
    """Launchpad-editable study settings, declared in eventlab/settings/study.py.

    A valid value never fails the run: every combination within the documented ranges yields a
    complete report (zero events is an answer the report states)."""

    def params(self) -> StudyParams:
        """Validated StudyParams (raises ConfigError naming the launchpad field and the fix)."""
        return self._params(series_keys=CONFIG.daily_keys)


class LibrarySettings(settings_resource(LibraryParams, "library_settings")):
    """The study library's settings, declared in eventlab/settings/library.py."""

    def params(self) -> LibraryParams:
        """Validated LibraryParams (raises ConfigError naming the launchpad field and the fix)."""
        return self._params()


class CTASettings(settings_resource(CTAParams, "cta_settings")):
    """Launchpad-editable CTA replica settings, declared in eventlab/settings/cta.py."""

    def params(self) -> CTAParams:
        """Validated CTAParams (raises ConfigError naming the launchpad field and the fix)."""
        return self._params()


class ValidationSettings(settings_resource(ValidationParams, "validation_settings")):
    """Launchpad-editable validation settings, declared in eventlab/settings/validation.py."""

    def params(self) -> ValidationParams:
        """Validated ValidationParams (raises ConfigError naming the launchpad field and the fix)."""
        return self._params()


class BacktestSettings(settings_resource(BacktestParams, "backtest_settings")):
    """Launchpad-editable backtest settings, declared in eventlab/settings/validation.py."""

    def params(self) -> BacktestParams:
        """Validated BacktestParams (raises ConfigError naming the launchpad field and the fix)."""
        return self._params()


class ReportSettings(settings_resource(ReportParams, "report_settings")):
    """Where reports go: each run builds in <reports_root>/.staging-<run_id>/ and publishes to
    <reports_root>/<folder>/ in one atomic switch (see eventlab.report.publishing)."""

    def params(self) -> ReportParams:
        return self._params()

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
