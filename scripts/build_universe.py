"""Convert ../shared/data/universe into data/universe/ (committed): prices, member list, manifest.

Run: .venv/bin/python scripts/build_universe.py [--src ../shared/data/universe] [--out data/universe]
(`make universe-data`). Output, all written atomically:
- data/universe/sp500_2021.part<i>.parquet: one row per (ticker, date), sorted, split by ticker
  into as few parts as keep every file under MAX_PART_BYTES (the repository flags files over
  20 MB); in each part one row group per ROW_GROUP_TICKERS whole tickers (a chunk of tickers is
  read without the rest); raw as-traded OHLCV plus `dividend` and `split` (AlphaVantage's
  columns renamed). Earlier builds' price files of the universe that the new manifest does not
  list are removed. AlphaVantage's `adjusted_close` is not shipped: the
  project adjusts from the split and dividend columns itself (eventlab/universe/adjust.py), and
  this script records how far that adjustment is from AlphaVantage's in the manifest.
- data/universe/SP500_MEMBERSHIP_INTERVALS.csv: who was in the index when (copied unchanged,
  sha256 in the manifest, verified on read by eventlab.universe.membership).
- data/universe/lists/sp500_2021.csv: the members (ticker, name, sector) that have prices.
- data/universe/manifest.json: each part's sha256 (verified on every load) and ticker range,
  the values' sha256 (eventlab.universe.prices.values_sha256: the same however the files are
  encoded, so a re-encoding is shown lossless), rows, tickers, span. The list is configuration (edit it to add a ticker), so it is not checksummed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eventlab.data.store import atomic_path, atomic_write_bytes  # noqa: E402
from eventlab.universe.adjust import adjust_prices  # noqa: E402
from eventlab.universe.prices import values_sha256  # noqa: E402

PRICES = "SP500_MEMBERS_DAILY_1999-2021.parquet"
MEMBERS = "SP500_MEMBERS_2021.csv"
INTERVALS = "SP500_MEMBERSHIP_INTERVALS.csv"
NAME = "sp500_2021"
FLOATS = ["open", "high", "low", "close", "dividend", "split"]
MAX_PART_BYTES = 19 * 2**20
ROW_GROUP_TICKERS = 32


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def adjustment_check(df: pd.DataFrame) -> dict[str, float]:
    """Our total-return close vs AlphaVantage's adjusted_close: both are backward-adjusted, so per
    ticker their ratio should be constant; report the spread of log ratios (median and 99th pct)."""
    spreads = []
    for _, g in df.groupby("ticker", observed=True, sort=False):
        frame = g.set_index("date")[["open", "high", "low", "close", "volume", "dividend", "split"]]
        ours = adjust_prices(frame)["tr_close"].to_numpy()
        ratio = np.log(g["adjusted_close"].to_numpy() / ours)
        spreads.append(float(np.nanmax(ratio) - np.nanmin(ratio)))
    s = np.array(spreads)
    return {
        "tickers": len(s),
        "median_log_spread": float(np.median(s)),
        "p99_log_spread": float(np.quantile(s, 0.99)),
        "max_log_spread": float(s.max()),
        "note": "per ticker, max-min of log(AlphaVantage adjusted_close / our total-return close); "
        "0 means the same adjustment up to a constant",
    }


def write_part(prices: pd.DataFrame, dest: Path) -> None:
    """One Parquet file of whole tickers, a row group per ROW_GROUP_TICKERS tickers."""
    codes = pd.factorize(prices["ticker"])[0]
    schema = pa.Schema.from_pandas(prices, preserve_index=False)
    with (
        atomic_path(dest) as tmp,
        pq.ParquetWriter(
            tmp,
            schema,
            compression="zstd",
            compression_level=19,
            use_byte_stream_split=FLOATS,
        ) as writer,
    ):
        for first in range(0, codes.max() + 1, ROW_GROUP_TICKERS):
            rows = (codes >= first) & (codes < first + ROW_GROUP_TICKERS)
            group = pa.Table.from_pandas(prices[rows], schema=schema, preserve_index=False)
            writer.write_table(group, row_group_size=len(group))


def write_parts(prices: pd.DataFrame, out: Path) -> dict[str, dict[str, object]]:
    """The (ticker, date)-sorted prices in as few ticker-contiguous parts as keep each file
    under MAX_PART_BYTES; returns the manifest's file entries, in ticker order."""
    tickers = prices["ticker"].unique()
    n_parts = 1
    while True:
        entries: dict[str, dict[str, object]] = {}
        for i, names in enumerate(np.array_split(tickers, n_parts), start=1):
            dest = out / f"{NAME}.part{i}.parquet"
            part = prices[prices["ticker"].isin(names)]
            write_part(part, dest)
            entries[dest.name] = {
                "sha256": sha256(dest),
                "bytes": dest.stat().st_size,
                "rows": len(part),
                "tickers": [str(names[0]), str(names[-1])],
            }
        if max(e["bytes"] for e in entries.values()) < MAX_PART_BYTES:
            return entries
        n_parts += 1


def ship_membership(src: Path, out: Path) -> dict[str, dict[str, object]]:
    """Copy the membership intervals unchanged (atomically); returns their manifest file entry."""
    data = (src / INTERVALS).read_bytes()
    atomic_write_bytes(out / INTERVALS, data)
    rows = pd.read_csv(out / INTERVALS, dtype=str)
    return {
        INTERVALS: {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "rows": len(rows),
            "tickers": int(rows["ticker"].nunique()),
            "source": "fja05680/sp500 @ 58490ec8ea42827b6df808ff1e68dff51144f09f, "
            "sp500_ticker_start_end.csv (MIT, Farrell J. Aultman), copied unchanged",
        }
    }


def add_membership(out: Path, src: Path) -> dict:
    """Ship the intervals into an existing data/universe and record them in its manifest."""
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"].update(ship_membership(src, out))
    manifest["membership"] = INTERVALS
    atomic_write_bytes(out / "manifest.json", json.dumps(manifest, indent=2).encode())
    return manifest


def build(src: Path, out: Path) -> dict:
    raw = pd.read_parquet(src / PRICES)
    raw = raw.rename(columns={"dividend_amount": "dividend", "split_coefficient": "split"})
    raw["ticker"] = raw["ticker"].astype(str)
    raw["date"] = pd.to_datetime(raw["date"]).astype("datetime64[ns]")
    raw = raw.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    if raw.duplicated(["ticker", "date"]).any():
        raise SystemExit("duplicate (ticker, date) rows in the source")
    check = adjustment_check(raw)
    prices = raw[["ticker", "date", "open", "high", "low", "close", "volume", *FLOATS[4:]]]
    parts = write_parts(prices, out)
    for stale in out.glob(f"{NAME}*.parquet"):
        if stale.name not in parts:
            stale.unlink()
    members = pd.read_csv(src / MEMBERS).rename(
        columns={"Symbol": "ticker", "Name": "name", "Sector": "sector"}
    )
    have = set(prices["ticker"].unique())
    missing = sorted(set(members["ticker"]) - have)
    members = members[members["ticker"].isin(have)].sort_values("ticker")
    list_path = out / "lists" / f"{NAME}.csv"
    with atomic_path(list_path) as tmp:
        members.to_csv(tmp, index=False)
    manifest = {
        "built_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "source": "../shared/data/universe (Pooksoft/PooksoftSP500EquityPriceDataSet @ "
        "19a3f02fd0751beebae28e790ed55f0c443ad59a, AlphaVantage TIME_SERIES_DAILY_ADJUSTED; "
        "member list: Open Knowledge Foundation s-and-p-500-companies)",
        "survivorship_bias": "members of the S&P 500 in April 2021 traced back as far as each has "
        "data: firms that left the index before 2021 are absent and rows before a firm joined the "
        "index are included",
        "universes": {
            NAME: {
                "prices": list(parts),
                "list": f"lists/{list_path.name}",
                "list_source_sha256": sha256(src / MEMBERS),
                "rows": len(prices),
                "tickers": int(prices["ticker"].nunique()),
                "first": prices["date"].min().date().isoformat(),
                "last": prices["date"].max().date().isoformat(),
                "split_rows": int((prices["split"] != 1).sum()),
                "dividend_rows": int((prices["dividend"] > 0).sum()),
                "members_without_prices": missing,
                "adjustment_check": check,
                "source_sha256": sha256(src / PRICES),
                "values_sha256": values_sha256(prices),
            }
        },
        "files": {**parts, **ship_membership(src, out)},
        "membership": INTERVALS,
    }
    atomic_write_bytes(out / "manifest.json", json.dumps(manifest, indent=2).encode())
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "universe")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "universe")
    ap.add_argument(
        "--membership-only",
        action="store_true",
        help="only (re)ship the membership intervals into the existing manifest",
    )
    args = ap.parse_args()
    if not args.src.is_dir():
        sys.exit(f"universe source folder {args.src} not found: pass --src")
    if args.membership_only:
        print(json.dumps(add_membership(args.out, args.src)["files"], indent=2))
        return
    m = build(args.src, args.out)
    print(json.dumps(m["universes"], indent=2))


if __name__ == "__main__":
    main()
