"""The single source of truth for what eventlab studies: series, horizons, thresholds, dates.

Everything that is a list or a tunable number lives here, once. Dagster run config
(`pipelines/config.py`) takes its defaults from these objects and validates through them,
so the launchpad, the scripts and the tests share one definition and one set of error messages.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from typing import Literal

from eventlab.bounds import Bound, check_bounds
from eventlab.cta.params import CTAParams
from eventlab.cta.validation_params import TREND_INDICES, BacktestParams, ValidationParams

SeriesKind = Literal["index", "etf", "stock", "crypto", "volatility"]
CloseRule = Literal["prior_close", "open"]
OpenPolicy = Literal["genuine", "all"]


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and the fix."""

    def __init__(self, field_name: str, problem: str, fix: str) -> None:
        self.field_name = field_name
        self.problem = problem
        self.fix = fix
        super().__init__(f"config field `{field_name}`: {problem}. Fix: {fix}")


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


def _s(key: str, ticker: str, kind: SeriesKind, raw: str | None, **kw: object) -> Series:
    return Series(key=key, ticker=ticker, kind=kind, raw_file=raw, **kw)  # type: ignore[arg-type]


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
    # real trend-following returns (SG Trend / SG CTA daily, BTOP50 / TSMOM monthly)
    *((name, raw) for name, raw, _, _ in TREND_INDICES),
)


# Documented bounds of the study's numeric fields (the launchpad's descriptions quote them).
MAX_HORIZON = 250  # trading days (about a year)
MIN_REPS, MAX_REPS = 100, 20_000  # bootstrap / placebo repetitions
MIN_START = dt.date(1900, 1, 1)
_REPS = Bound(MIN_REPS, MAX_REPS, "2000", " (memory and time grow linearly with it)", integer=True)
STUDY_BOUNDS = {
    "gap_threshold": Bound(
        0, 0.5, "0.01 for +1% (a fraction, not percent)", open_lo=True, open_hi=True
    ),
    "bootstrap_reps": _REPS,
    "placebo_reps": _REPS,
    "min_events_for_inference": Bound(2, 1000, "5"),
    "decluster_cooldown": Bound(0, 1000, "20", " sessions"),
    "near_threshold_margin": Bound(0.0, 0.05, "0.0002 (2 bp)"),
    "verdict_alpha": Bound(0.001, 0.5, "0.05"),
    "accuracy_min_reference_gap": Bound(0.0, 0.05, "0.005"),
    "accuracy_window": Bound(5, 2000, "60", " days"),
    "accuracy_bound": Bound(0.0, 2.0, "0.5"),
}


@dataclass(frozen=True)
class StudyParams:
    """Definition of the gap-up / close-red event study and its statistics (DESIGN.md defaults)."""

    index: str = "GSPC"
    gap_threshold: float = 0.01
    close_rule: CloseRule = "prior_close"
    start: dt.date = dt.date(1957, 1, 1)
    end: dt.date | None = None
    open_policy: OpenPolicy = "genuine"
    horizons: tuple[int, ...] = (1, 5, 20)
    path_pre: int = 5
    path_post: int = 20
    vix: str = "VIX"
    robustness_thresholds: tuple[float, ...] = (0.005, 0.01, 0.015, 0.02)
    robustness_index: str = "SPY"
    bootstrap_reps: int = 2000
    placebo_reps: int = 2000
    seed: int = 20251120
    # A day's open counts as genuine only if the trailing share of genuine opens is at least this.
    genuine_coverage_min: float = 0.9
    genuine_coverage_window: int = 250
    # Inference for a handful of events (eventlab/study/small_sample.py, evidence.py).
    min_events_for_inference: int = 5  # below it: descriptive figures only, no p-values
    decluster_cooldown: int = 20  # sessions: events closer than this form one episode
    near_threshold_margin: float = 0.0002  # gap within 2 bp of the threshold is flagged
    verdict_alpha: float = 0.05  # adjusted p-value a "supported" verdict needs
    # Open accuracy: the index gap as a share of the tradeable (robustness index) gap.
    accuracy_min_reference_gap: float = 0.005  # only days where |reference gap| > 0.5%
    accuracy_window: int = 60  # rolling median over this many such days
    accuracy_bound: float = 0.5  # "visible" once the rolling median ratio stays above this

    def validate(self, series_keys: tuple[str, ...]) -> StudyParams:
        """Raise ConfigError for any invalid field; return self so calls can chain."""
        check_bounds("study", vars(self), STUDY_BOUNDS)
        for name in ("index", "vix", "robustness_index"):
            value = getattr(self, name)
            if value not in series_keys:
                raise ConfigError(
                    f"study.{name}",
                    f"unknown series {value!r}",
                    f"choose one of {', '.join(series_keys)} or add it to DAILY_SERIES in eventlab/config.py",
                )
        if self.close_rule not in ("prior_close", "open"):
            raise ConfigError(
                "study.close_rule",
                f"unknown rule {self.close_rule!r}",
                "use 'prior_close' or 'open'",
            )
        if self.open_policy not in ("genuine", "all"):
            raise ConfigError(
                "study.open_policy",
                f"unknown policy {self.open_policy!r}",
                "use 'genuine' or 'all'",
            )
        if not self.horizons:
            raise ConfigError(
                "study.horizons",
                "is empty",
                "give at least one horizon in trading days, e.g. [1, 5, 20]",
            )
        if any(
            (not isinstance(h, int)) or not (1 <= h <= MAX_HORIZON) for h in self.horizons
        ) or len(set(self.horizons)) != len(self.horizons):
            raise ConfigError(
                "study.horizons",
                f"must be distinct integers from 1 to {MAX_HORIZON} trading days, got {list(self.horizons)}",
                "e.g. [1, 5, 20]",
            )
        if not (MIN_START <= self.start <= dt.date.today()):
            raise ConfigError(
                "study.start",
                f"{self.start} is outside {MIN_START}..today",
                "use a date such as 1957-01-01",
            )
        if self.end is not None and self.start > self.end:
            raise ConfigError(
                "study.start",
                f"start {self.start} is after end {self.end}",
                "set start on or before end",
            )
        if self.path_pre < 0 or self.path_post < max(self.horizons):
            raise ConfigError(
                "study.path_post",
                f"path window (-{self.path_pre}, +{self.path_post}) must cover the longest horizon {max(self.horizons)}",
                "set path_pre >= 0 and path_post >= max(horizons)",
            )
        if not self.robustness_thresholds or any(
            not (0 < t < 0.5) for t in self.robustness_thresholds
        ):
            raise ConfigError(
                "study.robustness_thresholds",
                f"got {list(self.robustness_thresholds)}",
                "positive fractions, e.g. [0.005, 0.01]",
            )
        if not (0 < self.genuine_coverage_min <= 1) or self.genuine_coverage_window < 20:
            raise ConfigError(
                "study.genuine_coverage_min",
                "coverage must be in (0, 1] with a window of >= 20 days",
                "e.g. 0.9 over 250 days",
            )
        return self

    def with_(self, **changes: object) -> StudyParams:
        """A copy with some fields changed (used for robustness variants)."""
        return replace(self, **changes)  # type: ignore[arg-type]


UNIVERSE_BOUNDS = {
    "workers": Bound(1, 500, "2", " processes", integer=True),
    "live_batch_size": Bound(1, 500, "50", " tickers per request", integer=True),
    "live_concurrency": Bound(1, 500, "2", " requests in flight", integer=True),
}


@dataclass(frozen=True)
class UniverseParams:
    """Universe studies (eventlab/universe): which named list, and the per-ticker data rules.

    A universe is a CSV in `lists_dir` (columns ticker, optional name and sector); its file name
    is its name. Adding a ticker to a list, or a new list file, needs no code change: the
    per-ticker partitions are read from the list files when the code location loads.
    """

    name: str = "sp500_2021"
    lists_dir: str = "data/universe/lists"
    data_dir: str = "data/universe"
    # Coverage window (250) + the longest horizon (20): fewer days cannot give a usable sample.
    min_days: int = 270
    # Index event days whose breadth across the members is measured (DAILY_SERIES keys).
    breadth_indices: tuple[str, ...] = ("GSPC", "SPY")
    # Days with fewer members than this (or half the studied tickers, if fewer) are not ranked.
    breadth_min_members: int = 20
    # A split-adjusted open more than this far from the previous close, at a recorded split or
    # near a common split ratio, is a data error (an unrecorded split), not a gap.
    split_jump_min: float = 0.25
    split_ratio_tol: float = 0.02
    # Local execution: processes computing tickers in one run (the machine has 2 cores).
    workers: int = 2
    # Live mode: tickers per yf.download request and requests in flight at once.
    live_batch_size: int = 50
    live_concurrency: int = 2

    def validate(self) -> UniverseParams:
        if self.min_days < 30:
            raise ConfigError("universe.min_days", f"got {self.min_days}", "use 270 or more")
        if not (0 < self.split_jump_min < 5) or not (0 < self.split_ratio_tol < 0.2):
            raise ConfigError(
                "universe.split_jump_min",
                f"got {self.split_jump_min} / tol {self.split_ratio_tol}",
                "e.g. 0.25 and 0.02",
            )
        check_bounds("universe", vars(self), UNIVERSE_BOUNDS)
        return self

    def with_(self, **changes: object) -> UniverseParams:
        return replace(self, **changes)  # type: ignore[arg-type]


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
