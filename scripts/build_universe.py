"""Convert ../shared/data/universe into data/universe/ (committed): prices, member list, manifest.

Run: .venv/bin/python scripts/build_universe.py [--src ../shared/data/universe] [--out data/universe]
(`make universe-data`). Output, all written atomically:
- data/universe/sp500_2021.parquet: one row per (ticker, date), sorted, one row group per ~64
  tickers (so a single ticker is read without the rest); raw as-traded OHLCV plus `dividend` and
  `split` (AlphaVantage's columns renamed). AlphaVantage's `adjusted_close` is not shipped: the
  project adjusts from the split and dividend columns itself (eventlab/universe/adjust.py), and
  this script records how far that adjustment is from AlphaVantage's in the manifest.
- data/universe/lists/sp500_2021.csv: the members (ticker, name, sector) that have prices.
- data/universe/manifest.json: the price file's sha256 (verified on every load), rows, tickers,
  span. The list is configuration (edit it to add a ticker), so it is not checksummed.
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

PRICES = "SP500_MEMBERS_DAILY_1999-2021.parquet"
MEMBERS = "SP500_MEMBERS_2021.csv"
NAME = "sp500_2021"
FLOATS = ["open", "high", "low", "close", "dividend", "split"]


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
    table = pa.Table.from_pandas(prices, preserve_index=False)
    dest = out / f"{NAME}.parquet"
    # ~64 tickers per row group: a one-ticker read touches ~1/8 of the file.
    row_group = int(len(prices) / max(1, prices["ticker"].nunique()) * 64)
    with atomic_path(dest) as tmp:
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            compression_level=19,
            use_byte_stream_split=FLOATS,
            row_group_size=row_group,
        )
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
                "prices": dest.name,
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
            }
        },
        "files": {
            dest.name: {"sha256": sha256(dest), "source_sha256": sha256(src / PRICES)},
        },
    }
    atomic_write_bytes(out / "manifest.json", json.dumps(manifest, indent=2).encode())
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "universe")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "universe")
    args = ap.parse_args()
    if not args.src.is_dir():
        sys.exit(f"universe source folder {args.src} not found: pass --src")
    m = build(args.src, args.out)
    print(json.dumps(m["universes"], indent=2))


if __name__ == "__main__":
    main()
