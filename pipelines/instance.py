"""Check the Dagster instance's storage before a recorded run, the UI or the daemon uses it.

Dagster's own errors here name neither the file nor the fix ("database disk image is
malformed", or a raw SQLAlchemy traceback after ~20 s of retries when Postgres is gone). This
check runs first and says which file or service is wrong, what is wrong, and what to do; the
run's data (data/warehouse) and reports are never at stake, only the run history.

Usage: python -m pipelines.instance   (exit 1 with the message; the Makefile runs it before
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


def check_instance(home: str | Path | None = None) -> None:
    """Raise InstanceStorageError if the instance at `home` ($DAGSTER_HOME) cannot be used."""
    home = Path(home or os.environ.get("DAGSTER_HOME") or ".dagster_home")
    config = home / "dagster.yaml"
    text = config.read_text() if config.exists() else ""
    if "postgres" in text:
        where = (
            f"{os.environ.get('DAGSTER_PG_HOST', '?')}:{os.environ.get('DAGSTER_PG_PORT', '5432')}"
        )
        missing = [v for v in PG_ENV if not os.environ.get(v)]
        problem = f"{', '.join(missing)} not set" if missing else check_postgres()
        if problem:
            raise InstanceStorageError(
                f"Dagster instance storage: the Postgres server at {where} named in {config} "
                f"is not usable ({problem}). Your data and reports are unaffected. Fix: start "
                "the server and set DAGSTER_PG_* (README, 'Postgres'), or use the local SQLite "
                "instance (copy the repository's dagster.yaml to $DAGSTER_HOME)"
            )
        return
    for path in _sqlite_files(home):
        problem = check_sqlite(path)
        if problem:
            raise InstanceStorageError(
                f"Dagster instance storage {path} is damaged ({problem}). It holds only run "
                "history; your data and reports are unaffected. Fix: move it aside "
                f"(mv {path} {path}.bad) and start again - Dagster creates a fresh one"
            )


def main() -> int:
    try:
        check_instance()
    except InstanceStorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
