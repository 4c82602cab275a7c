"""Build the recorded yfinance-shaped frames used by the offline tests (no network).

These are NOT network captures: this machine has no route to Yahoo. They reproduce the exact
shape `yf.download` 1.x returns (checked against yfinance 1.7's multi.py): columns
MultiIndex ('Price', 'Ticker') with fields Close/High/Low/Open/Volume sorted, or flat with
multi_level_index=False; a tz-naive DatetimeIndex named 'Date' for daily bars. Values are the
shipped snapshot's last sessions, so merges against the snapshot line up exactly.

Run: .venv/bin/python tests/recorded/make_recorded.py
"""

import sys
from pathlib import Path

import pandas as pd

from eventlab.data.snapshot import read_series

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from yf_fakes import to_yf_shape  # noqa: E402  (tests/ is not a package)


def yf_shape(key: str, ticker: str, rows: int, multi: bool) -> pd.DataFrame:
    return to_yf_shape(read_series(key).tail(rows), ticker, multi)


def main() -> None:
    yf_shape("SPY", "SPY", 15, multi=True).to_csv(HERE / "SPY_multiindex.csv")
    yf_shape("GSPC", "^GSPC", 15, multi=False).to_csv(HERE / "GSPC_flat.csv")
    yf_shape("BTC_USD", "BTC-USD", 15, multi=True).to_csv(HERE / "BTC_USD_multiindex.csv")


if __name__ == "__main__":
    main()
