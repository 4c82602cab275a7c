"""The hypothesis ledger's storage: one SQLite database in the warehouse, append-only.

Why SQLite (WAL) rather than Parquet files: an append must be atomic, durable, idempotent and
cheap however long the history grows. A SQLite transaction gives all of it: the rows of one
append commit together or not at all (a writer killed mid-append leaves the previous ledger,
which SQLite's recovery restores on the next open), a commit with `synchronous=FULL` survives
power loss, `INSERT OR IGNORE` on the content-hashed primary key makes a repeated test add
nothing, and an append costs one WAL commit whatever the ledger's size (no read-merge-rewrite of
a growing file, no growing pile of segment files). Append-only is enforced by the database
itself: triggers refuse any UPDATE or DELETE, so history never shrinks through this code or any
other. Appends are serialized by the store's file lock (eventlab.data.store.file_lock: bounded,
logged waits, the same message as every other warehouse writer) and by SQLite's own lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from eventlab.data.frames import StoredFileError
from eventlab.data.store import LOCK_TIMEOUT_S, file_lock

LEDGER_FILE = "ledger/hypotheses.sqlite"
# What a hypothesis is: the fields its id hashes (the same question on the same data).
IDENTITY: tuple[str, ...] = (
    "family",
    "spec",
    "series",
    "horizon",
    "variant",
    "test",
    "definition",
    "data_as_of",
)
# Column order of the table (and of every frame read from it).
COLUMNS: tuple[str, ...] = (
    "hypothesis_id",
    *IDENTITY,
    "estimate",
    "p_value",
    "code_version",
    "created_utc",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS hypotheses (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hypothesis_id TEXT NOT NULL,
    family TEXT NOT NULL,
    spec TEXT NOT NULL,
    series TEXT NOT NULL,
    horizon INTEGER,
    variant TEXT NOT NULL,
    test TEXT NOT NULL,
    definition TEXT NOT NULL,
    data_as_of TEXT NOT NULL,
    estimate REAL,
    p_value REAL CHECK (p_value IS NULL OR (p_value >= 0 AND p_value <= 1)),
    code_version TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    -- the id hashes the as-of with the question, so it is unique on its own; keyed by as-of
    -- first, one run's rows sit together in the index and an append touches few pages
    UNIQUE (data_as_of, hypothesis_id)
);
CREATE TRIGGER IF NOT EXISTS hypotheses_no_update BEFORE UPDATE ON hypotheses
BEGIN SELECT RAISE(ABORT, 'the hypothesis ledger is append-only: rows are never changed'); END;
CREATE TRIGGER IF NOT EXISTS hypotheses_no_delete BEFORE DELETE ON hypotheses
BEGIN SELECT RAISE(ABORT, 'the hypothesis ledger is append-only: rows are never deleted'); END;
"""


def ledger_path(warehouse: str | Path) -> Path:
    """Where the ledger lives in a warehouse."""
    return Path(warehouse) / LEDGER_FILE


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """An open connection with the ledger's schema, WAL journal and full fsync on commit; a file
    that is not a ledger database is named with the fix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.executescript(_SCHEMA)
        yield con
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.IntegrityError):
            raise
        raise StoredFileError(
            f"{path}: not a readable hypothesis ledger ({exc}). Fix: move the file aside (it "
            "may be recovered with `sqlite3 <file> .recover`) and run again to start a new one"
        ) from exc
    finally:
        con.close()


REQUIRED: tuple[str, ...] = tuple(c for c in COLUMNS if c not in ("horizon", "estimate", "p_value"))


def check_rows(rows: pd.DataFrame) -> None:
    """Refuse rows the ledger must not hold, before anything is written: a missing column or
    identity field, or a p-value outside [0, 1] (naming the hypothesis)."""
    missing = [c for c in COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"ledger rows lack the columns {missing}")
    for c in REQUIRED:
        empty = rows[c].isna()
        if empty.any():
            raise ValueError(
                f"ledger rows with no {c}: {rows.loc[empty].head(3).to_dict('records')}"
            )
    p = pd.to_numeric(rows["p_value"], errors="coerce")
    bad = p.notna() & ~p.between(0.0, 1.0) | (rows["p_value"].notna() & p.isna())
    if bad.any():
        r = rows.loc[bad].iloc[0]
        raise ValueError(
            f"ledger row {r['family']}/{r['series']}/{r['variant']} T+{r['horizon']}: p-value "
            f"{r['p_value']} is not in [0, 1]; fix the table that produced it"
        )


def _sql_values(column: pd.Series) -> list[object]:
    """A column as Python values SQLite takes, missing values (NaN, NA, None) as NULL."""
    return [None if v is None or v is pd.NA or v != v else v for v in column.tolist()]


def append(path: Path, rows: pd.DataFrame) -> int:
    """Append `rows` (COLUMNS) in one transaction; a row whose hypothesis_id is already stored
    adds nothing. Returns the number of rows added."""
    check_rows(rows)
    records = list(zip(*(_sql_values(rows[c]) for c in COLUMNS), strict=True))
    placeholders = ", ".join("?" * len(COLUMNS))
    with file_lock(path), connect(path) as con:
        before = con.total_changes
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany(
                f"INSERT INTO hypotheses ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
                "ON CONFLICT (data_as_of, hypothesis_id) DO NOTHING",
                records,
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return con.total_changes - before


def read(path: Path) -> pd.DataFrame:
    """Every row of the ledger in the order appended (an empty frame if there is none yet)."""
    if not path.exists():
        return pd.DataFrame(columns=list(COLUMNS))
    with connect(path) as con:
        frame = pd.read_sql_query(f"SELECT {', '.join(COLUMNS)} FROM hypotheses ORDER BY seq", con)
    frame["horizon"] = frame["horizon"].astype("Int64")
    return frame


def count_trials(path: Path, family: str | None = None, *, tested_only: bool = False) -> int:
    """How many distinct hypotheses the ledger holds (of one `family`, e.g. "backtest" or
    "calibration", when given; only those with a p-value when `tested_only`): the N of a
    deflated Sharpe ratio or any other correction for the number of trials."""
    if not path.exists():
        return 0
    where, args = [], []
    if family is not None:
        where.append("family = ?")
        args.append(family)
    if tested_only:
        where.append("p_value IS NOT NULL")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    with connect(path) as con:
        return int(con.execute(f"SELECT COUNT(*) FROM hypotheses{clause}", args).fetchone()[0])
