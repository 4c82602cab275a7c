"""Check the Dagster instance's storage before a recorded run, the UI or the daemon uses it.

Dagster's own errors here name neither the file nor the fix ("database disk image is
malformed", or a raw SQLAlchemy traceback after ~20 s of retries when Postgres is gone). This
check runs first and says which file or service is wrong, what is wrong, and what to do; the
run's data (data/warehouse) and reports are never at stake, only the run history.

Usage: python -m commands.instance   (exit 1 with the message; the Makefile runs it before
`make ui`, `make daemon` and `make run-recorded`)
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

PG_ENV = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_DB")


class InstanceStorageError(RuntimeError):
    """The Dagster instance's storage is unusable; the message names it and the fix."""


def _sqlite_files(home: Path) -> list[Path]:
    """Dagster's SQLite stores that every run touches (per-run event logs are read on demand)."""
    names = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")
    return [home / n for n in names if (home / n).exists()]


def check_sqlite(path: Path) -> str | None:
    """None if `path` is a sound SQLite database, else what is wrong with it."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if row and row[0] == "ok" else f"integrity check failed: {row[0] if row else '?'}"


def check_postgres(timeout_s: float = 3.0) -> str | None:
    """None if the Postgres server named by DAGSTER_PG_* accepts a connection within timeout_s."""
    import psycopg2

    try:
        con = psycopg2.connect(
            host=os.environ.get("DAGSTER_PG_HOST"),
            port=os.environ.get("DAGSTER_PG_PORT", "5432"),
            user=os.environ.get("DAGSTER_PG_USER"),
            password=os.environ.get("DAGSTER_PG_PASSWORD", ""),
            dbname=os.environ.get("DAGSTER_PG_DB"),
            connect_timeout=max(1, int(timeout_s)),
        )
    except psycopg2.Error as exc:
        return str(exc).strip().splitlines()[0]
    con.close()
    return None


# Keys of dagster.yaml that choose where runs, event logs and schedules are stored: the unified
# `storage:` section, or the older per-store sections that name a module and class.
_STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")


def storage_kind(config: Path) -> str:
    """'postgres', 'mysql', 'sqlite' or 'default': the storage the instance config at `config` selects.

    Decided by parsing the storage sections, never by searching the text: a comment or a path
    that mentions Postgres (the shipped SQLite file names deploy/postgres/dagster.yaml) must not
    change the answer. A missing or empty file is Dagster's default (SQLite under $DAGSTER_HOME).
    """
    import yaml

    if not config.exists():
        return "default"
    try:
        doc = yaml.safe_load(config.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InstanceStorageError(
            f"Dagster instance config {config} is not valid YAML ({str(exc).splitlines()[0]}). "
            "Fix: copy deploy/local/dagster.yaml over it (make does this when the copy is "
            "older), or correct the line it names"
        ) from exc
    if not isinstance(doc, dict):
        raise InstanceStorageError(
            f"Dagster instance config {config} is not a mapping of sections. Fix: copy the "
            "repository's dagster.yaml over it"
        )
    kinds = set()
    for key in _STORAGE_KEYS:
        section = doc.get(key)
        if not isinstance(section, dict):
            continue
        if key == "storage":
            kinds.update(k for k in section if k in ("postgres", "sqlite", "mysql"))
        else:
            module = str(section.get("module", ""))
            kinds.add(next((k for k in ("postgres", "mysql") if k in module), "sqlite"))
    for kind in ("postgres", "mysql", "sqlite"):
        if kind in kinds:
            return kind
    return "default"


def check_instance(home: str | Path | None = None) -> None:
    """Raise InstanceStorageError if the instance at `home` ($DAGSTER_HOME) cannot be used."""
    home = Path(home or os.environ.get("DAGSTER_HOME") or ".dagster_home")
    config = home / "dagster.yaml"
    kind = storage_kind(config)
    if kind == "mysql":
        return  # not a storage this project ships; Dagster reports its own connection errors
    if kind == "postgres":
        where = (
            f"{os.environ.get('DAGSTER_PG_HOST', '?')}:{os.environ.get('DAGSTER_PG_PORT', '5432')}"
        )
        missing = [v for v in PG_ENV if not os.environ.get(v)]
        problem = f"{', '.join(missing)} not set" if missing else check_postgres()
        if problem:
            raise InstanceStorageError(
                f"Dagster instance storage: the Postgres server at {where} named in {config} "
                f"is not usable ({problem}). Your data and reports are unaffected. Fix: start "
                "the server and set DAGSTER_PG_* (docs/operations.md, 'Postgres'), or use the local SQLite "
                "instance (copy deploy/local/dagster.yaml to $DAGSTER_HOME)"
            )
        return
    for path in _sqlite_files(home):
        problem = check_sqlite(path)
        if problem:
            raise InstanceStorageError(
                f"Dagster instance storage: the SQLite database {path} is damaged ({problem}). "
                "It holds only run "
                "history; your data and reports are unaffected. Fix: move it aside "
                f"(mv {path} {path}.bad) and start again - Dagster creates a fresh one"
            )


# ------------------------------------------------------------------ the server lost mid-run

# Exception classes (anywhere in an exception's cause chain) that mean the instance's database
# stopped answering: dagster-postgres gives up with DagsterPostgresException after ~6 s of
# connection retries; SQLAlchemy/psycopg2 raise OperationalError/InterfaceError themselves.
_LOST = {"DagsterPostgresException", "OperationalError", "InterfaceError"}


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return out


def lost_storage_cause(exc: BaseException) -> str | None:
    """If `exc` says the instance's database stopped answering, the driver's first line of it
    (e.g. 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'), else None."""
    chain = _chain(exc)
    if not any(type(e).__name__ in _LOST for e in chain):
        return None
    deepest = chain[-1]
    text = str(getattr(deepest, "orig", None) or deepest).strip()
    return text.splitlines()[0] if text else type(deepest).__name__


def storage_address(instance: object) -> str:
    """'the Postgres server at host:port (database name)', read from the instance's run storage
    (so dagster.yaml's postgres_db or postgres_url, from the environment or written out)."""
    from sqlalchemy.engine import make_url

    u = make_url(postgres_url(instance) or "")
    return f"the Postgres server at {u.host}:{u.port or 5432} (database {u.database})"


def postgres_url(instance: object) -> str | None:
    """The instance's Postgres URL, or None for another storage (SQLite)."""
    return getattr(getattr(instance, "run_storage", None), "postgres_url", None)


def published_runs(reports_root: Path) -> dict[str, str]:
    """{published folder: run id in its manifest}: compared before and after a run, it tells
    whether the run got as far as its one publishing switch."""
    import json

    out: dict[str, str] = {}
    for manifest in Path(reports_root).glob("[!.]*/manifest.json"):
        try:
            out[manifest.parent.name] = str(json.loads(manifest.read_text()).get("run_id"))
        except (OSError, ValueError):
            continue
    return out


def lost_mid_run_message(
    instance: object, cause: str, before: dict[str, str], after: dict[str, str], config: Path
) -> str:
    """One line: which service, what went wrong, what was (not) published, what to do."""
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    published = (
        f"the report was published whole before that ({', '.join(changed)})"
        if changed
        else "nothing was published: reports/latest still shows the previous report (a run "
        "publishes in one switch at its end)"
    )
    return (
        f"the run stopped: {storage_address(instance)} named in {config} stopped answering "
        f"during the run ({cause}). {published[0].upper()}{published[1:]}; every warehouse "
        "file is whole (each is written atomically), so nothing stored was lost. Fix: restart "
        "the server (docs/operations.md, 'Postgres'), check it with `python -m commands.instance`, then run "
        "again; the unfinished run's staging folder is removed by the next run"
    )


class _OneLineRetries:
    """Logging filter: dagster-postgres logs each connection retry on the root logger with the
    driver's multi-line text; keep one line per retry (the final message says what to do)."""

    def filter(self, record: object) -> bool:
        msg = getattr(record, "msg", "")
        if isinstance(msg, str) and msg.startswith("Retrying failed database connection"):
            args = getattr(record, "args", None) or ()
            first = str(args[0]).strip().splitlines()[0] if args else ""
            record.msg, record.args = "Dagster instance: %s; retrying", (first,)  # type: ignore[attr-defined]
        return True


def condense_retry_logs() -> None:
    """Install _OneLineRetries on the root logger (where dagster-postgres logs its retries)."""
    import logging

    root = logging.getLogger()
    if not any(isinstance(f, _OneLineRetries) for f in root.filters):
        root.addFilter(_OneLineRetries())


def main() -> int:
    try:
        check_instance()
    except InstanceStorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
