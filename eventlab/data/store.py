"""Atomic file writes: write a temp file in the same folder, fsync, then rename over the target.

A crash (exception or SIGKILL) at any point leaves either the old file or the new one, never a
half-written file, because rename within one filesystem is atomic on POSIX.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temp path next to `dest`; on success it replaces `dest`, on error it is removed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, dest)
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_bytes(dest: Path, data: bytes) -> None:
    """Write bytes to `dest` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def write_parquet_atomic(df: pd.DataFrame, dest: Path, *, index: bool = True) -> None:
    """Write a DataFrame as Parquet (pyarrow) atomically."""
    with atomic_path(dest) as tmp:
        df.to_parquet(tmp, engine="pyarrow", index=index)
