"""Offline universe prices: the shipped Parquet (checksum-verified) and the main snapshot.

`data/universe/<name>.partN.parquet` hold raw as-traded OHLCV with `dividend` and `split` columns
for the S&P 500 members (built by scripts/build_universe.py), split by ticker into parts of under
20 MB each (the repository's size check; git stores big binaries poorly). The manifest lists a
universe's parts in ticker order (`prices`, a list; a single file name is read too). Each file's
sha256 is checked against `data/universe/manifest.json` once per process (and again if the file
changes); a mismatch is an error naming the file and the fix. `values_sha256` fingerprints the
values themselves (not the encoding), so a rebuild with other compression settings is shown to
be lossless. Tickers not in a shipped universe file but in the main
snapshot (indices and ETFs) come from data/snapshot with dividend 0 and split 1: those series are
already adjusted (ETFs: Yahoo auto_adjust) or have no dividends (price indices).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from eventlab.config import CONFIG, UniverseParams
from eventlab.data import snapshot
from eventlab.data.frames import DataError
from eventlab.data.snapshot import PROJECT_ROOT
from eventlab.universe.adjust import UNIVERSE_COLUMNS


def data_dir(params: UniverseParams) -> Path:
    path = Path(params.data_dir)
    return path if path.is_absolute() else PROJECT_ROOT / path


RESTORE = "restore it with `git checkout data/universe` (or rebuild with `make universe-data`)"


def read_manifest(root: Path) -> dict:
    """data/universe/manifest.json, parsed; DataError naming the file if it is missing,
    truncated or not the manifest's shape."""
    path = root / "manifest.json"
    if not path.exists():
        raise DataError(f"universe manifest {path} not found. Fix: {RESTORE}")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(
            f"universe manifest {path} is unreadable (truncated or edited: {exc}). Fix: {RESTORE}"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise DataError(f"universe manifest {path} has no `files` table. Fix: {RESTORE}")
    return manifest


@lru_cache(maxsize=16)
def _verified(path: str, size: int, mtime_ns: int, expected: str) -> bool:
    got = snapshot.file_sha256(Path(path))
    if got != expected:
        raise DataError(
            f"{path}: sha256 {got[:12]}... does not match the manifest "
            f"({expected[:12]}...): the shipped file is corrupt or was edited. Fix: {RESTORE}"
        )
    return True


def verify(root: Path, filename: str) -> Path:
    """The path of a shipped file after checking its sha256 against the manifest."""
    entry = read_manifest(root).get("files", {}).get(filename)
    path = root / filename
    if not isinstance(entry, dict) or "sha256" not in entry:
        raise DataError(f"{filename} has no sha256 in {root}/manifest.json. Fix: {RESTORE}")
    if not path.exists():
        raise DataError(f"{path} is missing. Fix: {RESTORE}")
    st = path.stat()
    _verified(str(path), st.st_size, st.st_mtime_ns, entry["sha256"])
    return path


def price_files(entry: dict) -> list[str]:
    """A manifest universe's price files, in ticker order (one name or a list of parts)."""
    prices = entry.get("prices") if isinstance(entry, dict) else None
    if not prices:
        raise DataError(
            f"a universe in the manifest names no price files ({entry!r}). Fix: {RESTORE}"
        )
    return [prices] if isinstance(prices, str) else list(prices)


def shipped_files(params: UniverseParams) -> list[Path]:
    """Verified price files of every shipped universe (DataError naming the file and the fix if
    the manifest or any file it lists is missing, truncated or altered)."""
    root = data_dir(params)
    manifest = read_manifest(root)
    universes = manifest.get("universes")
    if not isinstance(universes, dict) or not universes:
        raise DataError(
            f"universe manifest {root / 'manifest.json'} lists no universe. Fix: {RESTORE}"
        )
    return [verify(root, name) for u in universes.values() for name in price_files(u)]


PRICE_COLUMNS = ("ticker", "date", *UNIVERSE_COLUMNS)


def values_sha256(prices: pd.DataFrame) -> str:
    """sha256 of a price table's values (column names, dtypes and the raw bytes of each column,
    rows in their order): equal for equal tables however the Parquet files encode them."""
    h = hashlib.sha256()
    for name in PRICE_COLUMNS:
        col = prices[name]
        h.update(f"{name}\0".encode())
        if name == "ticker":
            h.update("\0".join(col.astype(str)).encode())
        else:
            arr = np.ascontiguousarray(col.to_numpy())
            h.update(str(arr.dtype).encode())
            h.update(arr.view(np.uint8).tobytes())
    return h.hexdigest()


def _snapshot_keys() -> dict[str, str]:
    """Yahoo ticker -> snapshot series key for the shipped daily series."""
    return {s.ticker: s.key for s in CONFIG.daily if s.raw_file is not None}


def read_snapshot_ticker(ticker: str) -> pd.DataFrame | None:
    key = _snapshot_keys().get(ticker)
    if key is None:
        return None
    df = snapshot.read_series(key)
    out = df[["open", "high", "low", "close", "volume"]].astype(float)
    out["dividend"], out["split"] = 0.0, 1.0
    out.index = pd.DatetimeIndex(out.index, name="date")
    return out


def _split_sorted(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per-ticker canonical frames of a (ticker, date)-sorted table, by slicing (no groupby)."""
    codes = df["ticker"].cat.codes.to_numpy()
    names = df["ticker"].cat.categories
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    stops = np.r_[starts[1:], len(codes)]
    dates = pd.DatetimeIndex(df["date"], name="date")
    cols = {c: df[c].to_numpy(float) for c in UNIVERSE_COLUMNS}
    return {
        str(names[codes[a]]): pd.DataFrame({c: v[a:b] for c, v in cols.items()}, index=dates[a:b])
        for a, b in zip(starts, stops, strict=True)
    }


def _read_tickers(path: Path, tickers: list[str]) -> pa.Table | None:
    """The rows of `tickers`, reading only the row groups whose ticker range can hold them (the
    file is sorted by ticker; pyarrow's generic `filters=` scanned the whole file, ~20x slower)."""
    pf = pq.ParquetFile(path, read_dictionary=["ticker"])
    col = pf.schema_arrow.get_field_index("ticker")
    groups = []
    for i in range(pf.metadata.num_row_groups):
        st = pf.metadata.row_group(i).column(col).statistics
        if st is None or not st.has_min_max or any(st.min <= t <= st.max for t in tickers):
            groups.append(i)
    if not groups:
        return None
    table = pf.read_row_groups(groups)
    table = table.filter(
        pc.is_in(pc.cast(table["ticker"], pa.string()), value_set=pa.array(tickers))
    )
    return table if table.num_rows else None


def read_offline(tickers: list[str], params: UniverseParams) -> dict[str, pd.DataFrame | None]:
    """Raw frames for `tickers` (None where nothing offline has the ticker)."""
    out: dict[str, pd.DataFrame | None] = dict.fromkeys(tickers)
    wanted = set(tickers)
    for path in shipped_files(params):
        table = _read_tickers(path, sorted(wanted))
        if table is None:
            continue
        for ticker, frame in _split_sorted(table.to_pandas()).items():
            if ticker in wanted:
                out[ticker] = frame
                wanted.discard(ticker)
    for ticker in sorted(wanted):
        try:
            out[ticker] = read_snapshot_ticker(ticker)
        except DataError:
            out[ticker] = None
    return out
