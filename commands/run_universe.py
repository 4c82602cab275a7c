"""`make universe`: the universe job over every ticker partition in one run, offline by default.

Usage: python -m commands.run_universe [--universe NAME] [--first N] [--workers N]
                                        [--source snapshot|yfinance] [--reports DIR]
                                        [--warehouse DIR] [--record]
All partitions of the run form one partition range, so the single-run backfill policy gives one
`universe_ticker_study` step over all of them (`--first N`: the first N tickers, as the benchmark
uses). Runs on an ephemeral instance unless --record (then $DAGSTER_HOME, visible in `make ui`).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def run_universe_job(
    *,
    universe: str | None = None,
    first: int | None = None,
    workers: int | None = None,
    bootstrap_reps: int | None = None,
    source: str = "snapshot",
    reports: str | None = None,
    warehouse: str | None = None,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
) -> tuple[dg.ExecuteInProcessResult, Path | None]:
    """Execute universe_job in-process over the partition range; returns the result and the
    report folder (None if the report step did not run)."""
    import dagster as dg

    from pipelines.definitions import default_resources, defs
    from pipelines.io import ParquetIOManager
    from pipelines.resources import ReportSettings
    from pipelines.universe_resources import TICKERS, UniverseSettings, UniverseStore

    keys = TICKERS.get_partition_keys()
    if first is not None:
        keys = keys[:first]
    if not keys:
        raise ValueError(f"no ticker partitions to run (first={first}): give first >= 1")
    settings: dict[str, object] = {"source": source}
    if universe is not None:
        settings["name"] = universe
    if workers is not None:
        settings["workers"] = workers
    if bootstrap_reps is not None:
        settings["bootstrap_reps"] = bootstrap_reps
    overrides: dict[str, object] = {"universe_settings": UniverseSettings(**settings)}
    if reports:
        overrides["report_settings"] = ReportSettings(reports_root=reports)
    if warehouse:
        overrides["io_manager"] = ParquetIOManager(base_dir=warehouse)
        overrides["universe_store"] = UniverseStore(base_dir=warehouse)
    job = defs.resolve_job_def("universe_job")
    instance = instance or dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        resources=default_resources(**overrides),
        instance=instance,
        tags={RANGE_START: keys[0], RANGE_END: keys[-1]},
        raise_on_error=False,
    )
    folder = None
    for mat in result.asset_materializations_for_node("universe__report"):
        folder = Path(str(mat.metadata["report_folder"].value))
    return result, folder


def run_timings(result: dg.ExecuteInProcessResult, run_s: float, n: int | None) -> dict:
    """Step durations, the ticker step's read/study/write split and peak memory of a run."""
    import dagster as dg

    steps = {
        e.step_key: e.event_specific_data.duration_ms / 1000
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_SUCCESS
    }
    mats = result.asset_materializations_for_node("universe_ticker_study")
    # The run-wide figures are one observation of the asset (pipelines.stages.universe).
    obs = result.asset_observations_for_node("universe_ticker_study")
    meta = {k: getattr(v, "value", v) for k, v in obs[-1].metadata.items()} if obs else {}
    ticker = {
        "read_s": meta.get("read_s", 0.0),
        "study_s": meta.get("study_s", 0.0),
        "write_s": meta.get("write_s", 0.0),
        "worker_cpu_s": meta.get("cpu_s", 0.0),
        "worker_peak_rss_mb": meta.get("worker_peak_rss_mb", 0.0),
        "materializations": len(mats),
    }
    # ru_maxrss is in KiB on Linux; RUSAGE_CHILDREN reports the largest finished child.
    to_mb = 1 / 1024
    return {
        "n": n,
        "run_s": run_s,
        "steps_s": steps,
        "ticker_step": ticker,
        "peak_rss_parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * to_mb,
        "parent_cpu_s": time.process_time(),
        # The pool's workers are children of its fork server: they report their own peak.
        "peak_rss_worker_mb": ticker.get("worker_peak_rss_mb", 0.0),
    }


# Faults the project names itself (the message says what is wrong and what to do): shown as
# their one line, without Dagster's wrapping and stack.
NAMED_FAULTS = frozenset(
    {"Failure", "ConfigError", "DataError", "StoredFileError", "PublishError", "LockTimeoutError"}
)


def failure_text(error) -> str:
    """A step failure for the terminal: the project's own message in one line for a fault it
    names, the full error (with its stack) for anything else."""
    root = error
    while root.cause is not None:
        root = root.cause
    if root.cls_name in NAMED_FAULTS:
        return "error: " + root.message.split(": ", 1)[-1].strip()
    return error.to_string()


def interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Whether the run failed because it was interrupted (Ctrl-C, SIGTERM)."""
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            if error.cls_name == "DagsterExecutionInterruptedError":
                return True
            error = error.cause
    return False


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the run as Ctrl-C does: Dagster stops its steps, and main says so in one line."""
    raise KeyboardInterrupt


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--universe", default=None, help="list name (default: eventlab.config)")
    ap.add_argument("--first", type=int, default=None, help="only the first N ticker partitions")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: config, 2)")
    ap.add_argument("--source", choices=["snapshot", "yfinance"], default="snapshot")
    ap.add_argument("--reports", default=None)
    ap.add_argument("--warehouse", default=None)
    ap.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    ap.add_argument("--record", action="store_true", help="record the run in $DAGSTER_HOME")
    ap.add_argument("--timings-json", default=None, help="write timings here (the benchmark)")
    args = ap.parse_args()
    from commands import preflight
    from eventlab.data.frames import DataError
    from eventlab.errors import ConfigError

    try:  # before Dagster is imported and before anything is written
        preflight.check_universe(
            name=args.universe,
            first=args.first,
            workers=args.workers,
            source=args.source,
            reports=args.reports,
            warehouse=args.warehouse,
        )
    except (ConfigError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("universe_job not started: nothing was written", file=sys.stderr)
        return 2
    instance = None
    if args.record:
        if not os.environ.get("DAGSTER_HOME"):
            ap.error("--record needs DAGSTER_HOME (the Makefile sets it to .dagster_home)")
        import dagster as dg

        instance = dg.DagsterInstance.get()
    # The code location (Dagster, pandas, every asset module) is imported before the clock
    # starts, so the benchmark reports it as import+setup, not as run time.
    import pipelines.definitions  # noqa: F401

    signal.signal(signal.SIGTERM, _interrupt)
    t0 = time.perf_counter()
    try:
        result, folder = run_universe_job(
            universe=args.universe,
            first=args.first,
            workers=args.workers,
            source=args.source,
            reports=args.reports,
            warehouse=args.warehouse,
            instance=instance,
            log_level=args.log_level,
        )
    except KeyboardInterrupt:
        result, folder = None, None
    elapsed = time.perf_counter() - t0
    if result is None or interrupted(result):
        print(
            "universe_job interrupted: no universe report was published (the previous one "
            "stays; the next run removes this run's staging folder). Run again to finish",
            file=sys.stderr,
        )
        return 130
    if not result.success:
        # Two steps reading the same damaged file fail with the same message: say it once.
        lines = [
            failure_text(e.event_specific_data.error)
            for e in result.all_events
            if e.is_step_failure
        ]
        for line in dict.fromkeys(lines):
            print(line, file=sys.stderr)
        print(
            f"universe_job FAILED after {elapsed:.1f}s; no universe report was published",
            file=sys.stderr,
        )
        return 1
    print(f"universe_job succeeded in {elapsed:.1f}s")
    if args.timings_json:
        Path(args.timings_json).write_text(json.dumps(run_timings(result, elapsed, args.first)))
    print(f"universe report: {folder}")
    gc.freeze()
    return 0


if __name__ == "__main__":
    gc.set_threshold(50_000, 20, 100)
    sys.exit(main())
