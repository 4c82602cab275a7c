"""What a command prints when a run fails: one line for a fault the project can name (its own
message already says what is wrong and what to do; a full disk; SIGINT / SIGTERM), the traceback
only for anything else, in the summary and in Dagster's console log alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg


# Errors whose message already names the file or setting, what is wrong and the fix: shown
# alone, without the traceback (any other error keeps its traceback, for a bug report).
NAMED_FAULTS = frozenset(
    {
        "ConfigError",
        "PublishError",
        "LockTimeoutError",
        "StoredFileError",
        "DataError",
        "BlockedUpdateError",
        "SnapshotIntegrityError",
        "SourceError",
        "EmptyFrameError",
        "RateLimitedError",
        "SourceUnavailableError",
        "GarbledFrameError",
        "Failure",
    }
)
DISK_FULL = "[Errno 28]"
INTERRUPTED = "DagsterExecutionInterruptedError"  # Dagster's error for SIGINT / SIGTERM


def interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Whether the run failed because the process got SIGINT or SIGTERM."""
    return any(
        e.is_step_failure and INTERRUPTED in e.event_specific_data.error.cls_name
        for e in result.all_events
    ) or any(e.is_run_failure and "interrupted" in str(e.message) for e in result.all_events)


INTERRUPTED_LINE = (
    "stopped by SIGINT/SIGTERM before the run finished: a report is only ever published "
    "whole, so reports/latest shows the last complete report; this run's staging folder was "
    "removed and no stored file is half-written. Run the command again to produce the report."
)


def failure_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """One line per failed step for a fault the project can name (its own message; a full disk
    with the fix), the traceback otherwise."""
    lines = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.event_specific_data.error
        chain = []
        while error is not None:
            chain.append(error)
            error = error.cause or error.context
        named = next((e for e in chain if e.cls_name in NAMED_FAULTS), None)
        full = next((e for e in chain if DISK_FULL in e.message), None)
        if named is not None:
            lines.append(f"{event.step_key}: {named.message.strip()}")
        elif full is not None:
            lines.append(
                f"{event.step_key}: the disk is full ({full.message.strip()}). Nothing was "
                "published and this run's staging folder was removed. Fix: free some space "
                "(e.g. old report folders, `make clean`) or give --reports/--warehouse on "
                "another disk, then run again"
            )
        else:
            lines.append(chain[0].to_string() if chain else str(event.message))
    return lines


def is_named(text: str) -> bool:
    """Whether an error text is a fault the project names (its own message says what to do)."""
    return DISK_FULL in text or any(f"{name}:" in text for name in NAMED_FAULTS)


class _NoTraceForNamedFaults:
    """Logging filter: a step or run failure caused by a fault the project names is logged
    without its stack traces (the message already says what is wrong and what to do); once the
    run is interrupted (SIGINT / SIGTERM) nothing more is logged: the command says it in one
    line."""

    def __init__(self) -> None:
        self.interrupted = False

    def filter(self, record: object) -> bool:
        msg = getattr(record, "msg", "")
        self.interrupted = self.interrupted or (isinstance(msg, str) and INTERRUPTED in msg)
        if self.interrupted:
            return False
        if isinstance(msg, str) and "Stack Trace:" in msg and is_named(msg):
            record.msg = msg.split("\n\nStack Trace:", 1)[0].rstrip()  # type: ignore[attr-defined]
            record.args = ()  # type: ignore[attr-defined]
        return True


def condensed_console() -> dg.LoggerDefinition:
    """Dagster's console logger, with failures the project can name shown without tracebacks."""
    import dagster as dg
    from dagster._utils.log import create_console_logger

    @dg.logger(
        {"log_level": dg.Field(str, is_required=False, default_value="INFO")},
        description="Dagster's console logger; named faults without stack traces.",
    )
    def console(init_context: dg.InitLoggerContext):
        logger = create_console_logger("dagster", init_context.logger_config["log_level"])
        logger.addFilter(_NoTraceForNamedFaults())
        return logger

    return console
