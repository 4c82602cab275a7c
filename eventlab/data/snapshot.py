"""Read the shipped snapshot (data/snapshot/*.parquet and its manifest)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from eventlab.data.frames import DataError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_DIR = PROJECT_ROOT / "data" / "snapshot"


def snapshot_dir(root: Path | None = None) -> Path:
    return Path(root) if root is not None else SNAPSHOT_DIR


@lru_cache(maxsize=8)
def _manifest_cached(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text())


def read_manifest(root: Path | None = None) -> dict:
    """The snapshot manifest: one entry per series with source, first/last date, rows, sha256."""
    path = snapshot_dir(root) / "manifest.json"
    if not path.exists():
        raise DataError(
            f"snapshot manifest {path} not found - run `make snapshot` (needs ../shared/data/raw)"
        )
    return _manifest_cached(str(path), path.stat().st_mtime)


def manifest_entry(key: str, root: Path | None = None) -> dict:
    for entry in read_manifest(root)["series"]:
        if entry["series"] == key:
            return entry
    raise DataError(
        f"series {key!r} is not in the snapshot manifest - it has no shipped data; use the yfinance source"
    )


def read_series(key: str, root: Path | None = None) -> pd.DataFrame:
    """A daily or intraday OHLCV frame from the snapshot."""
    path = snapshot_dir(root) / f"{key}.parquet"
    if not path.exists():
        raise DataError(
            f"series {key!r}: no snapshot file {path.name} - it has no shipped data; use the yfinance source"
        )
    return pd.read_parquet(path, engine="pyarrow")


def read_aux(name: str, root: Path | None = None) -> pd.DataFrame:
    """A non-price table from the snapshot (rates, FOMC probabilities, fundamentals...)."""
    path = snapshot_dir(root) / "aux" / f"{name}.parquet"
    if not path.exists():
        raise DataError(
            f"aux table {name!r}: no snapshot file {path} - rebuild the snapshot with `make snapshot`"
        )
    return pd.read_parquet(path, engine="pyarrow")
