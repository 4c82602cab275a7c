"""What eventlab studies: the series catalog (daily, intraday, reference tables) and CONFIG, the
project configuration holding one instance of every settings group.

The settings themselves (type, default, bounds, description of each) are declared once in
eventlab/settings/; the Dagster resources, the --config YAML, preflight and every message are
derived from those declarations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal, TypedDict, Unpack

from eventlab.errors import ConfigError
from eventlab.settings import (
    TREND_INDICES,
    BacktestParams,
    CTAParams,
    StudyParams,
    UniverseParams,
    ValidationParams,
)
from eventlab.settings.study import CloseRule, OpenPolicy

SeriesKind = Literal["index", "etf", "stock", "crypto", "volatility"]

__all__ = [
    "CONFIG",
    "DAILY_SERIES",
    "INTRADAY_SERIES",
    "REFERENCE_TABLES",
    "BacktestParams",
    "CTAParams",
    "CloseRule",
    "ConfigError",
    "EventlabConfig",
    "OpenPolicy",
    "Series",
    "StudyParams",
    "UniverseParams",
    "ValidationParams",
    "load_config",
]


@dataclass(frozen=True)
class Series:
    """One daily or intraday price series: its asset key, live ticker and shipped snapshot file."""

    key: str
    ticker: str
    kind: SeriesKind
    raw_file: str | None
    adjusted: bool = False
    calendar: Literal["NYSE", "24/7"] = "NYSE"
    description: str = ""

    def __post_init__(self) -> None:
        if not self.key.replace("_", "").isalnum() or not self.key[0].isalpha():
            raise ConfigError(
                "series.key",
                f"{self.key!r} is not a valid asset key",
                "use letters, digits and underscores, starting with a letter (e.g. 'GSPC', 'BTC_USD')",
            )
        if not self.ticker.strip():
            raise ConfigError(
                "series.ticker",
                f"empty ticker for {self.key!r}",
                "give the yfinance symbol, e.g. '^GSPC'",
            )


class _SeriesOptions(TypedDict, total=False):
    adjusted: bool
    calendar: Literal["NYSE", "24/7"]
    description: str


def _s(
    key: str, ticker: str, kind: SeriesKind, raw: str | None, **kw: Unpack[_SeriesOptions]
) -> Series:
    return Series(key=key, ticker=ticker, kind=kind, raw_file=raw, **kw)


DAILY_SERIES: tuple[Series, ...] = (
    _s("GSPC", "^GSPC", "index", "GSPC.csv", description="S&P 500 index"),
    _s("SPY", "SPY", "etf", "SPY.csv", adjusted=True, description="SPDR S&P 500 ETF (adjusted)"),
    _s("VIX", "^VIX", "volatility", "VIX.csv", description="CBOE Volatility Index (Yahoo)"),
    _s("NDX", "^NDX", "index", "NDX.csv", description="Nasdaq-100 index"),
    _s("IXIC", "^IXIC", "index", "IXIC.csv", description="Nasdaq Composite index"),
    _s(
        "RUT",
        "^RUT",
        "index",
        "RUT.csv",
        description="Russell 2000 index (IBKR bars, from 2016-06)",
    ),
    _s(
        "IWM",
        "IWM",
        "etf",
        "IWM.csv",
        adjusted=True,
        description="iShares Russell 2000 ETF (adjusted)",
    ),
    _s("QQQ", "QQQ", "etf", "QQQ.csv", adjusted=True, description="Invesco QQQ ETF (adjusted)"),
    _s("DIA", "DIA", "etf", "DIA.csv", adjusted=True, description="SPDR Dow Jones ETF (adjusted)"),
    _s(
        "HYG",
        "HYG",
        "etf",
        "HYG.csv",
        adjusted=True,
        description="iShares high-yield bond ETF (adjusted)",
    ),
    _s("NVDA", "NVDA", "stock", "NVDA.csv", adjusted=True, description="NVIDIA (adjusted)"),
    _s(
        "BTC_USD",
        "BTC-USD",
        "crypto",
        "BTC-USD.csv",
        calendar="24/7",
        description="Bitcoin in USD (UTC days)",
    ),
)

INTRADAY_SERIES: tuple[Series, ...] = (
    _s("SPX_5m", "^GSPC", "index", "SPX_5m.csv", description="S&P 500 5-minute bars (IBKR, raw)"),
    _s("SPY_5m", "SPY", "etf", "SPY_5m.csv", description="SPY 5-minute bars (IBKR, raw prices)"),
    _s(
        "NVDA_5m",
        "NVDA",
        "stock",
        "NVDA_5m.csv",
        description="NVIDIA 5-minute bars (IBKR, raw prices)",
    ),
)

# Non-price tables shipped in the snapshot (rates, FOMC probabilities, fundamentals), as
# (asset name, raw file). They are not OHLC and are read by the chart and report assets.
REFERENCE_TABLES: tuple[tuple[str, str], ...] = (
    ("fomc_prob_next_meeting", "FOMC_PROB_NEXT_MEETING_2008-2025.csv"),
    ("fomc_dec2025_prediction_markets", "FOMC_DEC2025_HOLD_POLYMARKET_KALSHI_30MIN.csv"),
    ("zq_futures", "ZQ_IBKR_2026-07_2028-07.csv"),
    ("fed_target", "FEDTARGET.csv"),
    ("fed_funds_effective", "DFF.csv"),
    ("fwd_pe_daily", "FWD_PE_DAILY_2025-09-17_2026-03-20.csv"),
    ("fundamentals_2025_06_13", "FUNDAMENTALS_2025-06-13.csv"),
    ("fundamentals_2026_01_30", "FUNDAMENTALS_2026-01-30.csv"),
    ("sp500_constituents", "SP500_CONSTITUENTS.csv"),
    ("vix_cboe", "VIX_CBOE.csv"),
    # ^DJI has Open/Close/Volume only (no High/Low): a reference table, not a price series.
    ("dji", "DJI.csv"),
    ("dgs10", "DGS10.csv"),
    # Fama-French three factors (percent per day, 1926-07..2022-03): total-return market and
    # factor models for abnormal returns.
    ("ff3_daily", "FF3_DAILY.csv"),
    # real trend-following returns (SG Trend / SG CTA daily, BTOP50 / TSMOM monthly)
    *((name, raw) for name, raw, _, _ in TREND_INDICES),
)


@dataclass(frozen=True)
class EventlabConfig:
    """Everything configurable, in one object."""

    daily: tuple[Series, ...] = DAILY_SERIES
    intraday: tuple[Series, ...] = INTRADAY_SERIES
    reference_tables: tuple[tuple[str, str], ...] = REFERENCE_TABLES
    study: StudyParams = field(default_factory=StudyParams)
    cta: CTAParams = field(default_factory=CTAParams)
    universe: UniverseParams = field(default_factory=UniverseParams)
    validation: ValidationParams = field(default_factory=ValidationParams)
    backtest: BacktestParams = field(default_factory=BacktestParams)

    @property
    def daily_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.daily)

    def series(self, key: str) -> Series:
        for s in (*self.daily, *self.intraday):
            if s.key == key:
                return s
        raise ConfigError(
            "series", f"unknown series {key!r}", f"choose one of {', '.join(self.daily_keys)}"
        )

    def validate(self) -> EventlabConfig:
        keys = [s.key for s in (*self.daily, *self.intraday)]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ConfigError(
                "daily", f"duplicate series keys {dupes}", "give every series a unique key"
            )
        self.study.validate(self.daily_keys)
        self.cta.validate()
        self.universe.validate()
        self.validation.validate()
        self.backtest.validate()
        return self


def _extra_series_from_env() -> tuple[Series, ...]:
    """Grow the universe without code: EVENTLAB_EXTRA_TICKERS='AAPL,MSFT,^FTSE' (live source only)."""
    raw = os.environ.get("EVENTLAB_EXTRA_TICKERS", "").strip()
    out = []
    for ticker in filter(None, (t.strip() for t in raw.split(","))):
        key = ticker.replace("^", "").replace("-", "_").replace("=", "_").replace(".", "_")
        if not key.replace("_", "").isalnum():
            raise ConfigError(
                "EVENTLAB_EXTRA_TICKERS",
                f"{ticker!r} is not a Yahoo ticker",
                "give comma-separated symbols such as AAPL,^FTSE,BRK-B (or unset the variable)",
            )
        if key[0].isdigit():
            key = "T" + key
        out.append(
            Series(
                key=key,
                ticker=ticker,
                kind="stock",
                raw_file=None,
                description="added via EVENTLAB_EXTRA_TICKERS",
            )
        )
    return tuple(out)


def load_config() -> EventlabConfig:
    """The project configuration: defaults plus any extra tickers from the environment."""
    extra = _extra_series_from_env()
    known = {s.key for s in DAILY_SERIES}
    return EventlabConfig(
        daily=DAILY_SERIES + tuple(s for s in extra if s.key not in known)
    ).validate()


CONFIG: EventlabConfig = load_config()
