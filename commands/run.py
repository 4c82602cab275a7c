"""`make run`: materialize every asset offline from the snapshot and print where the report is.

Usage: python -m commands.run [--source snapshot|auto|yfinance] [--reports DIR] [--warehouse DIR]
                              [--config RUN_CONFIG.yaml] [--log-level DEBUG|INFO|WARNING|ERROR]
                              [--record]
--config takes the launchpad's YAML (e.g. `resources: {study_settings: {config: {gap_threshold: 0.015}}}`).
The whole configuration is checked before Dagster is imported and before anything is written
(commands/preflight.py); a bad value stops the run with the field's path and a fix (exit 2).
A failed run removes its staging folder and says what the project can name in one line
(commands/run_messages.py); SIGINT / SIGTERM stop it with one line (exit 130).
Runs in-process on an ephemeral Dagster instance: the warehouse and the report are written, but
the run is not kept in the instance's history. With --record it runs against the instance in
$DAGSTER_HOME, so `make ui` shows the run and its materializations; that costs ~12 s more,
because Dagster writes each of the run's ~640 events to SQLite in its own transaction. Runs
started from the UI and the nightly schedule are always recorded.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg


def run_main_job(
    source: str = "snapshot",
    reports: str | None = None,
    warehouse: str | None = None,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
    run_config: dict | None = None,
) -> tuple[dg.ExecuteInProcessResult, Path]:
    """Execute main_job in-process (ephemeral instance unless one is given); returns the result
    and the report folder. `log_level` filters the console only, not the instance's event log.
    """
    import dagster as dg

    from commands.run_messages import condensed_console
    from pipelines.definitions import default_resources, defs

    job = defs.resolve_job_def("main_job").with_logger_defs({"console": condensed_console()})
    if instance is None:
        instance = dg.DagsterInstance.ephemeral()
    config = with_flags(run_config or {}, source, reports, warehouse)
    result = job.execute_in_process(
        run_config={
            **config,
            "loggers": {"console": {"config": {"log_level": log_level}}},
        },
        resources=default_resources(),
        instance=instance,
        raise_on_error=False,
    )
    folder = None
    for mat in result.asset_materializations_for_node("publish"):
        folder = Path(str(mat.metadata["report_folder"].value))
    if not result.success:  # a failed run publishes nothing: give its staging space back now
        from eventlab.report import publishing

        root = reports_root(config)
        publishing.discard_staging(root / f"{publishing.STAGING_PREFIX}{result.run_id}")
    return result, folder  # type: ignore[return-value]


def with_flags(run_config: dict, source: str, reports: str | None, warehouse: str | None) -> dict:
    """The run config with the command's flags in it: --reports and --warehouse set their
    resource's field, --source the price source's mode unless the run config sets one. (Flags
    given as resource objects instead would be lost whenever the run config configures the same
    resource: Dagster then starts from the declared defaults.)"""
    import copy

    out = copy.deepcopy(run_config)
    resources = out.setdefault("resources", {})

    def fields(key: str) -> dict:
        section = resources.setdefault(key, {})
        section.setdefault("config", {})
        if section["config"] is None:
            section["config"] = {}
        return section["config"]

    fields("price_source").setdefault("mode", source)
    if reports:
        fields("report_settings")["reports_root"] = str(reports)
    if warehouse:
        fields("io_manager")["base_dir"] = str(warehouse)
    return out


def reports_root(run_config: dict, reports: str | None = None) -> Path:
    """The reports root a run publishes under: --reports, else the run config's, else the
    declared default."""
    from eventlab.settings import ReportParams

    section = ((run_config.get("resources") or {}).get("report_settings") or {}).get("config")
    given = reports or (section or {}).get("reports_root")
    return Path(given or ReportParams().reports_root)


def _checked_run_config(args: argparse.Namespace) -> dict | None:
    """The run config from --config, checked with everything else the run will use (no Dagster
    import yet, so a bad value is reported within a second); None after printing the error."""
    from eventlab.errors import ConfigError

    try:
        import eventlab.config  # noqa: F401 - builds CONFIG from the environment
    except ConfigError as exc:  # a bad EVENTLAB_* variable stops the import of the configuration
        print(f"configuration error: {exc}", file=sys.stderr)
        return None
    from commands import preflight

    try:
        run_config: dict = {}
        if args.config:
            import yaml

            try:
                run_config = yaml.safe_load(Path(args.config).read_text()) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError(
                    "--config", f"cannot read {args.config}: {exc}", "give a readable YAML file"
                ) from None
            if not isinstance(run_config, dict):
                raise ConfigError("--config", "must hold a mapping", "start it with `resources:`")
        preflight.check_run(
            run_config, source=args.source, warehouse=args.warehouse, reports_root=args.reports
        )
        preflight.check_study_specs(run_config)
    except ConfigError as exc:
        print(f"configuration error, nothing was run or written: {exc}", file=sys.stderr)
        return None
    return run_config


class _InstanceLost(RuntimeError):
    """The recorded run's Postgres instance stopped answering; the message says what to do."""


def _run_recoverably(
    args: argparse.Namespace, instance: dg.DagsterInstance | None, run_config: dict
) -> tuple[dg.ExecuteInProcessResult, Path]:
    """run_main_job; a Postgres instance lost mid-run (Dagster raises the driver's traceback
    after ~20 s of connection retries) becomes _InstanceLost with one line naming the server,
    what was (not) published and the fix. Published reports and warehouse files are safe by
    construction: a run publishes in one switch at its end and writes each file atomically."""
    from commands import instance as inst

    pg = instance is not None and inst.postgres_url(instance) is not None
    reports = reports_root(run_config, args.reports)
    before = inst.published_runs(reports) if pg else {}
    if pg:
        inst.condense_retry_logs()
    try:
        return run_main_job(
            args.source,
            args.reports,
            args.warehouse,
            instance=instance,
            log_level=args.log_level,
            run_config=run_config,
        )
    except Exception as exc:
        cause = inst.lost_storage_cause(exc) if pg else None
        if cause is None:
            raise
        config = Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml"
        after = inst.published_runs(reports)
        raise _InstanceLost(
            inst.lost_mid_run_message(instance, cause, before, after, config)
        ) from None


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--source", choices=["snapshot", "auto", "yfinance"], default="snapshot")
    ap.add_argument("--reports", default=None, help="reports root (default: ./reports)")
    ap.add_argument("--warehouse", default=None, help="warehouse dir (default: ./data/warehouse)")
    ap.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="console log level (default INFO; DEBUG prints every Dagster event)",
    )
    ap.add_argument(
        "--record",
        action="store_true",
        help="record the run in the instance at $DAGSTER_HOME so the Dagster UI shows it (~10 s more)",
    )
    ap.add_argument(
        "--config",
        default=None,
        metavar="RUN_CONFIG.yaml",
        help="run config in the launchpad's YAML shape (resources.study_settings.config.gap_threshold, ...)",
    )
    args = ap.parse_args()
    run_config = _checked_run_config(args)
    if run_config is None:
        return 2
    instance = None
    if args.record:
        home = os.environ.get("DAGSTER_HOME")
        if not home:
            ap.error("--record needs DAGSTER_HOME (the Makefile sets it to .dagster_home)")
        Path(home).mkdir(parents=True, exist_ok=True)
        from commands import instance as inst

        try:  # a damaged run history is named with its fix before Dagster opens it
            inst.check_instance(home)
        except inst.InstanceStorageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        import dagster as dg

        instance = dg.DagsterInstance.get()
    t0 = time.perf_counter()
    try:
        result, folder = _run_recoverably(args, instance, run_config)
    except _InstanceLost as lost:
        print(f"error: {lost}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - t0
    from commands.run_messages import INTERRUPTED_LINE, failure_lines, interrupted

    if not result.success and interrupted(result):
        print(INTERRUPTED_LINE, file=sys.stderr)
        return 130
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        print(f"main_job FAILED after {elapsed:.1f}s; failed steps: {failed}", file=sys.stderr)
        for line in failure_lines(result):
            print(line, file=sys.stderr)
        return 1
    print(f"main_job succeeded in {elapsed:.1f}s")
    print(f"report folder: {folder}")
    # `latest` is the default study's folder; a report with other settings is opened directly
    latest = folder.parent / "latest"
    shown = latest if latest.resolve() == folder.resolve() else folder
    if shown is folder:
        print("non-default parameters: reports/latest still shows the default study")
    if (folder / "report.html").exists():
        print(f"open the report: {shown / 'report.html'}")
    else:
        print(f"report tables: {shown}")
    if instance is not None:
        print(
            f"recorded in the Dagster instance at {os.environ['DAGSTER_HOME']} (make ui shows it)"
        )
    # Skip the interpreter's final collection of Dagster's object graph (~0.8 s at exit).
    gc.freeze()
    return 0


if __name__ == "__main__":
    # A short batch process: Dagster allocates ~1M objects while importing and running; the
    # default thresholds trigger ~850 cyclic collections (~0.5 s). Collect far less often.
    gc.set_threshold(50_000, 20, 100)
    sys.exit(main())
