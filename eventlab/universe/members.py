"""Named universes: ticker lists in CSV files (configuration, not code).

A universe is `<lists_dir>/<name>.csv` with a `ticker` column and optional `name` and `sector`.
Shipped: `sp500_2021` (the 504 S&P 500 members of April 2021 with their GICS sectors) and
`shipped_series` (the indices and ETFs of data/snapshot). A user list is one more file in the
folder; adding a ticker is one more row. The per-ticker partitions are the union of all lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from eventlab.config import UniverseParams
from eventlab.data.snapshot import PROJECT_ROOT
from eventlab.errors import ConfigError

SURVIVORSHIP = (
    "Survivorship bias: the universe is the S&P 500 membership of April 2021 traced back as far as "
    "each firm has data; firms that left the index before 2021 are absent, so results lean "
    "towards firms that survived and grew. Point in time (the default), a firm's days count only "
    "while it was an index member, which removes its years before it joined but cannot bring "
    "back the firms that left (the report counts them per year)."
)

# Characters a Dagster partition key and a file name both accept (Yahoo symbols: ^GSPC, BRK-B,
# BF.B, EURUSD=X).
TICKER_RE = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9^.\-=_]{0,19}$")


@dataclass(frozen=True)
class Universe:
    """One named list: members (ticker, name, sector) and the file it came from."""

    name: str
    members: pd.DataFrame
    path: Path

    @property
    def tickers(self) -> list[str]:
        return self.members["ticker"].tolist()

    def sector_of(self) -> dict[str, str]:
        return dict(zip(self.members["ticker"], self.members["sector"], strict=True))


def lists_dir(params: UniverseParams) -> Path:
    path = Path(params.lists_dir)
    return path if path.is_absolute() else PROJECT_ROOT / path


def universe_files(params: UniverseParams) -> dict[str, Path]:
    """Every named universe: file stem -> path."""
    folder = lists_dir(params)
    if not folder.is_dir():
        raise ConfigError(
            "universe.lists_dir",
            f"folder {folder} does not exist",
            "point it at a folder of <name>.csv ticker lists (the project ships data/universe/lists)",
        )
    return {p.stem: p for p in sorted(folder.glob("*.csv"))}


def read_list(path: Path) -> pd.DataFrame:
    """A universe file as (ticker, name, sector), validated: a bad row names the file and line."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"universe file {path.name}",
            f"is not a readable CSV ({exc})",
            "write one ticker per line under a `ticker,name,sector` header",
        ) from exc
    df.columns = [c.strip().lower() for c in df.columns]
    if "ticker" not in df.columns:
        raise ConfigError(
            f"universe file {path.name}",
            f"no `ticker` column (columns: {list(df.columns)})",
            "make the header `ticker,name,sector` (name and sector optional)",
        )
    df["ticker"] = df["ticker"].str.strip()
    for col in ("name", "sector"):
        df[col] = df[col].str.strip() if col in df.columns else ""
    df.loc[df["sector"] == "", "sector"] = "Unclassified"
    for line, ticker in enumerate(df["ticker"], start=2):
        if not TICKER_RE.match(ticker):
            raise ConfigError(
                f"universe file {path.name} line {line}",
                f"ticker {ticker!r} is not a valid symbol",
                "use the Yahoo symbol: letters, digits, ^ . - = _ (e.g. AAPL, BRK-B, ^GSPC)",
            )
    dupes = sorted(df.loc[df["ticker"].duplicated(), "ticker"])
    if dupes:
        raise ConfigError(
            f"universe file {path.name}", f"duplicate tickers {dupes}", "list each ticker once"
        )
    if df.empty:
        raise ConfigError(f"universe file {path.name}", "has no tickers", "add ticker rows")
    return df[["ticker", "name", "sector"]].reset_index(drop=True)


def load_universe(params: UniverseParams, name: str | None = None) -> Universe:
    """The named universe (default: params.name)."""
    name = name or params.name
    files = universe_files(params)
    if name not in files:
        raise ConfigError(
            "universe.name",
            f"unknown universe {name!r}",
            f"choose one of {', '.join(files) or '(none)'} or add {lists_dir(params)}/{name}.csv",
        )
    return Universe(name, read_list(files[name]), files[name])


def all_tickers(params: UniverseParams) -> list[str]:
    """The partition keys: every ticker of every list, sorted, once."""
    tickers: set[str] = set()
    for path in universe_files(params).values():
        tickers.update(read_list(path)["ticker"])
    return sorted(tickers)


def readable_tickers(params: UniverseParams) -> tuple[list[str], list[ConfigError]]:
    """The tickers of every list that reads cleanly, and the error of each list that does not:
    what the code location loads, so a bad list file never stops the jobs that do not use it
    (the universe job's pre-flight and its steps refuse it with the file and line)."""
    try:
        files = universe_files(params)
    except ConfigError as exc:
        return [], [exc]
    tickers: set[str] = set()
    errors: list[ConfigError] = []
    for path in files.values():
        try:
            tickers.update(read_list(path)["ticker"])
        except ConfigError as exc:
            errors.append(exc)
    return sorted(tickers), errors


def sectors(params: UniverseParams) -> dict[str, str]:
    """Ticker -> sector over all lists (the first list naming a real sector wins)."""
    out: dict[str, str] = {}
    for path in universe_files(params).values():
        for ticker, sector in zip(*read_list(path)[["ticker", "sector"]].T.values, strict=True):
            if out.get(ticker, "Unclassified") == "Unclassified":
                out[ticker] = sector
    return out
