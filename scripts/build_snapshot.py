"""Convert ../shared/data/raw/*.csv into data/snapshot/*.parquet plus manifest.json.

Run: .venv/bin/python scripts/build_snapshot.py [--raw ../shared/data/raw] [--out data/snapshot]
The output is committed, so a clone works without ../shared. Writes are atomic per file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eventlab.config import CONFIG  # noqa: E402
from eventlab.data.frames import normalize_ohlcv, validate_ohlcv  # noqa: E402
from eventlab.data.store import atomic_write_bytes, write_parquet_atomic  # noqa: E402


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_price_csv(path: Path, intraday: bool) -> pd.DataFrame:
    col = "Datetime" if intraday else "Date"
    raw = pd.read_csv(path)
    if intraday:
        idx = pd.to_datetime(raw[col], utc=True).dt.tz_convert("America/New_York")
    else:
        idx = pd.to_datetime(raw[col])
    return raw.drop(columns=[col]).set_index(pd.DatetimeIndex(idx))


def build(raw_dir: Path, out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for spec, intraday in [(s, False) for s in CONFIG.daily] + [(s, True) for s in CONFIG.intraday]:
        if spec.raw_file is None:
            continue
        src = raw_dir / spec.raw_file
        df = normalize_ohlcv(_read_price_csv(src, intraday), spec.key, intraday=intraday)
        validate_ohlcv(df, spec.key)
        dest = out_dir / f"{spec.key}.parquet"
        write_parquet_atomic(df, dest)
        entries.append(
            {
                "series": spec.key,
                "ticker": spec.ticker,
                "kind": "intraday_5m" if intraday else "daily",
                "source_file": spec.raw_file,
                "source": "../shared/data/raw (see data/README.md and SOURCES.md for provenance)",
                "adjusted": spec.adjusted,
                "first": df.index[0].isoformat() if intraday else df.index[0].date().isoformat(),
                "last": df.index[-1].isoformat() if intraday else df.index[-1].date().isoformat(),
                "rows": len(df),
                "sha256": sha256(dest),
                "source_sha256": sha256(src),
            }
        )
    aux_dir = out_dir / "aux"
    aux_dir.mkdir(exist_ok=True)
    for table, name in CONFIG.reference_tables:
        src = raw_dir / name
        df = pd.read_csv(src)
        dest = aux_dir / f"{table}.parquet"
        write_parquet_atomic(df, dest, index=False)
        first_col = df.columns[0]
        entries.append(
            {
                "series": table,
                "kind": "aux_table",
                "source_file": name,
                "source": "../shared/data/raw (see data/README.md and SOURCES.md for provenance)",
                "first": str(df[first_col].min()),
                "last": str(df[first_col].max()),
                "rows": len(df),
                "sha256": sha256(dest),
                "source_sha256": sha256(src),
            }
        )
    manifest = {
        "built_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "raw_dir": "../shared/data/raw",
        "series": entries,
    }
    atomic_write_bytes(out_dir / "manifest.json", json.dumps(manifest, indent=2).encode())
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--raw", type=Path, default=ROOT.parent / "shared" / "data" / "raw")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "snapshot")
    args = ap.parse_args()
    if not args.raw.is_dir():
        sys.exit(f"raw data folder {args.raw} not found: pass --raw pointing at shared/data/raw")
    m = build(args.raw, args.out)
    for e in m["series"]:
        print(f"{e['series']:<45} {e['first'][:10]} .. {e['last'][:10]} {e['rows']:>7} rows")


if __name__ == "__main__":
    main()
