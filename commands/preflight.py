"""Check the whole configuration before any step writes (what `commands.run` does first).

The settings resources validate their own fields when they are built, and again when a run's
config is resolved (so the launchpad refuses a bad value before the run exists). What one
resource cannot see is checked here, against the data the run will read: the study window and
the CTA scenario dates against the index series' span, the shipped snapshot files, the reports
folder (a real directory at `reports/latest` is user content: refused, never deleted) and the
environment variables. Every message names the field (a run-config path the launchpad accepts,
or the environment variable) and a fix.

`check_universe` does the same for `commands.run_universe` (its flags, the universe list files,
the shipped universe data against their manifest, the output folders), naming the flag the user
typed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from eventlab.config import CONFIG
from eventlab.errors import ConfigError
from eventlab.report import publishing
from eventlab.settings import (
    CTAParams,
    EnvironmentParams,
    LibraryParams,
    ReportParams,
    SourceParams,
    StudyParams,
)
from eventlab.settings.validation import BacktestParams, ValidationParams

# The snapshot is read as plain files here: importing eventlab.data (pandas) would cost ~1 s.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_DIR = PROJECT_ROOT / "data" / "snapshot"

STUDY_KEY, CTA_KEY = "study_settings", "cta_settings"
# How each storage folder is typed: the flag, and the launchpad path of the same setting.
REPORTS_FIELD = "--reports (resources.report_settings.config.reports_root)"
WAREHOUSE_FIELD = "--warehouse (resources.io_manager.config.base_dir)"
# Free space a run needs on each folder's filesystem: a run writes ~20 MB of report (a new
# copy of every file it rebuilds) and ~25 MB of warehouse tables; twice that leaves headroom.
FREE_MB = {REPORTS_FIELD: 40, WAREHOUSE_FIELD: 50}


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


def check_folder(path: str | Path, field: str) -> None:
    """`path` is a folder this run can create, write into, and has room in: probed by creating
    and removing a file (a read-only mount refuses even root, which os.access would not see)."""
    import shutil

    path = Path(path)
    fix = f"give a writable folder with {FREE_MB[field]} MB free ({field.split()[0]} DIR)"
    if path.exists() and not path.is_dir():
        raise ConfigError(field, f"{path} is a file, not a folder", fix)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".eventlab-preflight-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        what = "cannot create" if not path.is_dir() else "cannot write into"
        raise ConfigError(field, f"{what} {path}: {exc.strerror}", fix) from None
    free_mb = shutil.disk_usage(path).free / 2**20
    if free_mb < FREE_MB[field]:
        raise ConfigError(
            field,
            f"only {free_mb:.1f} MB free on the filesystem of {path}; a run needs about "
            f"{FREE_MB[field]} MB there",
            f"free some space (e.g. delete old report folders or `make clean`), or {fix}",
        )


def check_reports_root(root: str | Path) -> None:
    """The reports folder can be written and `latest` is ours to move."""
    root = Path(root)
    check_folder(root, REPORTS_FIELD)
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
    source_params = SourceParams.from_config(
        resource_config(run_config, "price_source"), launchpad_path("price_source")
    )
    if "mode" in resource_config(run_config, "price_source"):
        source = source_params.mode  # the run config's mode wins over --source, as in Dagster
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
    warehouse = warehouse or resource_config(run_config, "io_manager").get("base_dir")
    check_folder(warehouse or PROJECT_ROOT / "data" / "warehouse", WAREHOUSE_FIELD)
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


# ----------------------------------------------------------------------------- the universe job

UNIVERSE_KEY = "universe_settings"


def universe_params(name: str | None, workers: int | None, source: str):
    """The universe settings a `run_universe` command line asks for, validated (ConfigError
    naming the flag the user typed)."""
    from eventlab.settings.universe import UniverseParams

    values: dict[str, object] = {"source": source}
    flags = {"name": "--universe", "workers": "--workers", "source": "--source"}
    if name is not None:
        values["name"] = name
    if workers is not None:
        values["workers"] = workers
    try:
        return UniverseParams.from_config(values, launchpad_path(UNIVERSE_KEY))
    except ConfigError as exc:
        field = exc.field_name.rsplit(".", 1)[-1]
        raise ConfigError(flags.get(field, exc.field_name), exc.problem, exc.fix) from None


def check_universe(
    *,
    name: str | None = None,
    first: int | None = None,
    workers: int | None = None,
    source: str = "snapshot",
    reports: str | Path | None = None,
    warehouse: str | Path | None = None,
) -> None:
    """Everything the universe job needs, checked before it writes anything: the flags, every
    universe list file (file and line of a bad row), the chosen universe, the shipped data
    against its manifest (offline runs), the output folders. Raises ConfigError, or the data's
    DataError naming the file and the fix."""
    from eventlab.universe import members, prices
    from eventlab.universe import publishing as upublishing

    check_environment()
    check_snapshot_files("snapshot")  # the index event days come from the main snapshot
    if first is not None and first < 1:
        raise ConfigError(
            "--first", f"{first} tickers is not a run", "give 1 or more, e.g. --first 50"
        )
    params = universe_params(name, workers, source)
    members.all_tickers(params)  # every list: the partitions are their union
    try:
        universe = members.load_universe(params)
    except ConfigError as exc:
        raise ConfigError("--universe", exc.problem, exc.fix) from None
    if source == "snapshot":
        prices.shipped_files(params)
    check_folder(warehouse or PROJECT_ROOT / "data" / "warehouse", WAREHOUSE_FIELD)
    report = ReportParams()
    root = Path(reports or report.reports_root)
    check_folder(root, REPORTS_FIELD)
    try:
        upublishing.check_tree(upublishing.universe_root(root, universe.name))
    except publishing.PublishError as exc:
        problem, _, fix = str(exc).partition(". Fix: ")
        raise ConfigError("--reports", problem, fix) from None
