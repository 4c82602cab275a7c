"""Check the whole configuration before any step writes (what `commands.run` does first).

The settings resources validate their own fields when they are built, and again when a run's
config is resolved (so the launchpad refuses a bad value before the run exists). What one
resource cannot see is checked here, against the data the run will read: the study window and
the CTA scenario dates against the index series' span, the shipped snapshot files, the reports
folder (a real directory at `reports/latest` is user content: refused, never deleted) and the
environment variables. Every message names the field (a run-config path the launchpad accepts,
or the environment variable) and a fix.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from eventlab.config import CONFIG
from eventlab.errors import ConfigError
from eventlab.report import publishing
from eventlab.settings import (
    CTAParams,
    EnvironmentParams,
    LibraryParams,
    ReportParams,
    StudyParams,
)
from eventlab.settings.validation import BacktestParams, ValidationParams

# The snapshot is read as plain files here: importing eventlab.data (pandas) would cost ~1 s.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_DIR = PROJECT_ROOT / "data" / "snapshot"

STUDY_KEY, CTA_KEY = "study_settings", "cta_settings"


def launchpad_path(key: str) -> str:
    """Where a resource's fields live in a run config (what the launchpad and --config take)."""
    return f"resources.{key}.config"


def check_environment(env: dict[str, str] | None = None) -> None:
    """Numeric environment variables within their declared bounds (eventlab/settings/environment.py)."""
    EnvironmentParams.from_environment(env)


def data_span(mode: str, warehouse: str | None, key: str) -> tuple[dt.date, dt.date]:
    """First and last date the run can see for series `key`: the snapshot's span, extended by
    the warehouse's newer rows, and up to today for a live source."""
    first = last = None
    try:
        manifest = json.loads((SNAPSHOT_DIR / "manifest.json").read_text())
        entry = next(e for e in manifest["series"] if e["series"] == key)
        first, last = dt.date.fromisoformat(entry["first"]), dt.date.fromisoformat(entry["last"])
    except (OSError, ValueError, KeyError, StopIteration):
        pass  # no usable manifest: the snapshot's own check reports it when the data is read
    stored = Path(warehouse or PROJECT_ROOT / "data" / "warehouse") / "prices"
    path = stored / f"{key}.parquet"
    if path.exists():
        import pyarrow.parquet as pq

        try:
            dates = pq.read_table(path, columns=["date"]).column("date").to_pandas()
            if len(dates):
                lo, hi = dates.min().date(), dates.max().date()
                first = min(first, lo) if first else lo
                last = max(last, hi) if last else hi
        except Exception:  # noqa: BLE001 - a damaged warehouse file is the prices step's to report
            pass
    if mode != "snapshot":
        last = dt.date.today()
    if first is None or last is None:
        raise ConfigError(
            "price_source.mode",
            f"no data for {key}: no snapshot file and nothing stored",
            "restore the shipped snapshot with `git checkout -- data/snapshot`, or run with "
            "`--source yfinance` to download it",
        )
    return first, last


def check_snapshot_files(mode: str) -> None:
    """Offline runs need every shipped series file (an extra ticker from the environment has none
    and is skipped offline, with a note)."""
    if mode == "yfinance":
        return
    root = SNAPSHOT_DIR
    for s in (*CONFIG.daily, *CONFIG.intraday):
        if s.raw_file and not (root / f"{s.key}.parquet").exists():
            raise ConfigError(
                "price_source.mode",
                f"the shipped snapshot file {root / (s.key + '.parquet')} is missing",
                "restore it with `git checkout -- data/snapshot` (or rebuild it with `make snapshot` "
                "where ../shared/data/raw exists)",
            )


def check_against_data(study, span: tuple[dt.date, dt.date], path: str) -> None:
    """The study window overlaps the data."""
    first, last = span
    if study.end is not None and study.end < first:
        raise ConfigError(
            f"{path}.end",
            f"{study.end} is before the data starts ({first})",
            f"use a date after {first}, or leave it empty (null) for the latest data",
        )
    if study.start > last:
        raise ConfigError(
            f"{path}.start",
            f"{study.start} is after the data ends ({last})",
            f"use a date before {last}, e.g. 1957-01-01",
        )


def check_scenarios(cta, span: tuple[dt.date, dt.date]) -> None:
    """Every CTA scenario date lies within the S&P 500 data the replica runs on."""
    first, last = span
    for d in cta.scenario_as_of:
        if not (first <= d <= last):
            raise ConfigError(
                "resources.cta_settings.config.scenario_as_of",
                f"{d} is outside the data ({first} .. {last})",
                f"use dates from {first} to {last}, e.g. 2025-11-20",
            )


def check_reports_root(root: str | Path) -> None:
    """The reports folder can be written and `latest` is ours to move."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            "resources.report_settings.config.reports_root",
            f"cannot create {root}: {exc.strerror}",
            "give a writable folder (--reports DIR)",
        ) from None
    if not os.access(root, os.W_OK):
        raise ConfigError(
            "resources.report_settings.config.reports_root",
            f"{root} is not writable",
            "give a writable folder (--reports DIR)",
        )
    try:
        publishing.check_latest(root)
    except publishing.PublishError as exc:
        problem, _, fix = str(exc).partition(". Fix: ")
        raise ConfigError(str(root / publishing.LATEST), problem, fix) from None


def resource_config(run_config: dict, key: str) -> dict:
    """`resources.<key>.config` of a run config (empty if absent)."""
    section = (run_config.get("resources") or {}).get(key) or {}
    if not isinstance(section, dict) or not isinstance(section.get("config", {}), dict):
        raise ConfigError(
            f"resources.{key}",
            "must be a mapping with a `config` mapping",
            "see the launchpad's scaffold",
        )
    return dict(section.get("config") or {})


def check_run(
    run_config: dict,
    *,
    source: str = "snapshot",
    warehouse: str | None = None,
    reports_root: str | Path | None = None,
) -> None:
    """Everything above for one run (raises the first ConfigError). Imports no Dagster."""
    check_environment()
    check_snapshot_files(source)
    study = StudyParams.from_config(
        resource_config(run_config, STUDY_KEY),
        launchpad_path(STUDY_KEY),
        context={"series_keys": CONFIG.daily_keys},
    )
    cta = CTAParams.from_config(resource_config(run_config, CTA_KEY), launchpad_path(CTA_KEY))
    for key, model in (
        ("validation_settings", ValidationParams),
        ("backtest_settings", BacktestParams),
    ):
        model.from_config(resource_config(run_config, key), launchpad_path(key))
    check_against_data(study, data_span(source, warehouse, study.index), launchpad_path(STUDY_KEY))
    check_scenarios(cta, data_span(source, warehouse, "GSPC"))
    report = ReportParams.from_config(
        resource_config(run_config, "report_settings"), launchpad_path("report_settings")
    )
    check_reports_root(reports_root or report.reports_root)
    LibraryParams.from_config(
        resource_config(run_config, "library_settings"), launchpad_path("library_settings")
    )


def check_study_specs(run_config: dict) -> None:
    """Every study spec of the library parses and validates (SpecError names the file, line,
    column, the offending name and the closest valid ones). Separate from check_run: parsing a
    condition imports pandas (~1 s), which check_run's quick answer avoids."""
    from eventlab.studies.spec import load_library

    library = LibraryParams.from_config(
        resource_config(run_config, "library_settings"), launchpad_path("library_settings")
    )
    load_library(Path(library.folder), CONFIG.daily_keys)
