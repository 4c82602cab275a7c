"""Atomic file writes: write a temp file in the same folder, fsync, then rename over the target.

A crash (exception or SIGKILL) at any point leaves either the old file or the new one, never a
half-written file, because rename within one filesystem is atomic on POSIX.

Concurrent writers (two refreshes at once) are serialized by an advisory lock (fcntl.flock) on a
sidecar `.<name>.lock` file; `update_parquet_locked` holds it across read-merge-write so no
update is lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temp path next to `dest`; on success it replaces `dest`, on error it is removed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600 files; give artifacts the usual umask-based mode (e.g. 0644).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, dest)
    finally:
        tmp_path.unlink(missing_ok=True)


_held = threading.local()


class LockTimeoutError(TimeoutError):
    """Another process held a file lock longer than the caller would wait."""


# How long a writer waits for another process's lock before giving up with LockTimeoutError.
LOCK_TIMEOUT_S = float(os.environ.get("EVENTLAB_LOCK_TIMEOUT_S", "120"))
LOCK_LOG_AFTER_S = 2.0


def _acquire(fh, lock_path: Path, timeout_s: float, setting: str) -> None:
    """flock with a deadline: log once after LOCK_LOG_AFTER_S, fail at the end with a clear error
    naming `setting`, the setting that governs this wait."""
    deadline = time.monotonic() + timeout_s
    logged = False
    start = time.monotonic()
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            if logged:
                log.warning("got lock %s after %.1f s", lock_path, time.monotonic() - start)
            return
        except BlockingIOError:
            pass
        now = time.monotonic()
        if now >= deadline:
            raise LockTimeoutError(
                f"waited {timeout_s:g} s for the lock {lock_path}: another eventlab process is "
                "writing the same files. Fix: let that run finish and retry (find it with "
                f"`fuser {lock_path}`), or raise {setting}"
            )
        if not logged and now - start >= LOCK_LOG_AFTER_S:
            log.warning(
                "waiting for lock %s (held by another process; giving up after %g s)",
                lock_path,
                timeout_s,
            )
            logged = True
        time.sleep(0.05)


@contextlib.contextmanager
def file_lock(
    dest: Path, timeout_s: float | None = None, setting: str = "EVENTLAB_LOCK_TIMEOUT_S"
) -> Iterator[None]:
    """Exclusive advisory lock for `dest` across processes and threads (re-entrant per thread).

    Waits at most `timeout_s` (default LOCK_TIMEOUT_S) and logs while it waits; a timeout names
    `setting`, the setting a user raises to wait longer for this lock."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    key = str(dest.resolve())
    held: set[str] = getattr(_held, "keys", None) or set()
    _held.keys = held
    if key in held:
        yield
        return
    lock_path = dest.with_name(f".{dest.name}.lock")
    with open(lock_path, "a+") as fh:
        _acquire(fh, lock_path, LOCK_TIMEOUT_S if timeout_s is None else timeout_s, setting)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def atomic_write_bytes(dest: Path, data: bytes) -> None:
    """Write bytes to `dest` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def _remove_stale_temps(dest: Path) -> None:
    """Delete temp files a killed writer of `dest` left behind; call only under dest's lock.

    Every Parquet writer takes the lock before creating its temp file, so while we hold it no
    live writer owns one: whatever matches is a leftover of a crash (SIGKILL, power loss).
    """
    for stale in Path(dest).parent.glob(f".{glob.escape(Path(dest).name)}.*.tmp"):
        stale.unlink(missing_ok=True)


def write_parquet_atomic(df: pd.DataFrame, dest: Path, *, index: bool = True) -> None:
    """Write a DataFrame as Parquet (pyarrow) atomically, under the file's lock (and clear any
    temp file a killed earlier writer left)."""
    with file_lock(dest):
        _remove_stale_temps(dest)
        with atomic_path(dest) as tmp:
            df.to_parquet(tmp, engine="pyarrow", index=index)


def update_parquet_locked(
    dest: Path, update: Callable[[pd.DataFrame | None], pd.DataFrame]
) -> pd.DataFrame:
    """Read `dest` (None if absent), apply `update`, write the result atomically - all under the lock."""
    dest = Path(dest)
    with file_lock(dest):
        old = pd.read_parquet(dest, engine="pyarrow") if dest.exists() else None
        new = update(old)
        write_parquet_atomic(new, dest)
        return new
