"""`make run`: materialize every asset offline from the snapshot and print where the report is.

Usage: python -m pipelines.run [--source snapshot|auto|yfinance] [--reports DIR] [--warehouse DIR]
                              [--log-level DEBUG|INFO|WARNING|ERROR]
Runs in-process against the instance in $DAGSTER_HOME (so the Dagster UI shows the run), or an
ephemeral instance when DAGSTER_HOME is unset.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import dagster as dg


def run_main_job(
    source: str = "snapshot",
    reports: str | None = None,
    warehouse: str | None = None,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
) -> tuple[dg.ExecuteInProcessResult, Path]:
    """Execute main_job in-process; returns the result and the report folder.

    `log_level` filters the console only; the instance's event log (what the UI shows) keeps
    every event.
    """
    from pipelines.definitions import default_resources, defs
    from pipelines.io import ParquetIOManager
    from pipelines.resources import PriceSource, ReportSettings

    overrides: dict[str, object] = {"price_source": PriceSource(mode=source)}
    if reports:
        overrides["report_settings"] = ReportSettings(reports_root=reports)
    if warehouse:
        overrides["io_manager"] = ParquetIOManager(base_dir=warehouse)
    job = defs.resolve_job_def("main_job")
    if instance is None:
        instance = (
            dg.DagsterInstance.get()
            if os.environ.get("DAGSTER_HOME")
            else dg.DagsterInstance.ephemeral()
        )
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        resources=default_resources(**overrides),
        instance=instance,
        raise_on_error=False,
    )
    folder = None
    for mat in result.asset_materializations_for_node("publish"):
        folder = Path(str(mat.metadata["report_folder"].value))
    return result, folder  # type: ignore[return-value]


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
    args = ap.parse_args()
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result, folder = run_main_job(
        args.source, args.reports, args.warehouse, log_level=args.log_level
    )
    elapsed = time.perf_counter() - t0
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        print(f"main_job FAILED after {elapsed:.1f}s; failed steps: {failed}", file=sys.stderr)
        for e in result.all_events:
            if e.is_step_failure:
                print(e.event_specific_data.error.to_string(), file=sys.stderr)
        return 1
    print(f"main_job succeeded in {elapsed:.1f}s")
    print(f"report folder: {folder}")
    latest = folder.parent / "latest"
    if (folder / "report.html").exists():
        print(f"open the report: {latest / 'report.html'}")
    else:
        print(f"report tables: {latest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
