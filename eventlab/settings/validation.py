"""Settings of the replica's validation against real trend followers, and of the backtests: the
launchpad resources `validation_settings` and `backtest_settings` (pipelines/resources.py) are
derived from these declarations; pairs and triples (periods, eras, the lookback grid) are fixed
in code."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import model_validator

from eventlab.errors import ConfigError
from eventlab.settings.base import Settings, setting

# The four reference series of trend-following returns shipped in the snapshot:
# (asset name, raw file, frequency, description). The daily SG indices give the implied exposure;
# all four are benchmarks for the replica run as a strategy.
TREND_INDICES: tuple[tuple[str, str, str, str], ...] = (
    (
        "sg_trend_index",
        "SG_TREND_INDEX.csv",
        "daily",
        "SG Trend Index (NEIXCTAT): ten largest trend-following CTAs, net of fees, daily",
    ),
    (
        "sg_cta_index",
        "SG_CTA_INDEX.csv",
        "daily",
        "SG CTA Index (NEIXCTA): twenty largest managed-futures programmes, net, daily",
    ),
    (
        "btop50_monthly",
        "BTOP50_MONTHLY.csv",
        "monthly",
        "Barclay BTOP50 managed-futures index, month-end",
    ),
    (
        "tsmom_monthly",
        "TSMOM_MONTHLY.csv",
        "monthly",
        "Moskowitz-Ooi-Pedersen time-series-momentum factor, excess of cash, gross, month-end",
    ),
)


DAILY_TREND_INDICES = tuple(name for name, _, freq, _ in TREND_INDICES if freq == "daily")


class ValidationParams(Settings):
    """How the implied exposure is estimated and how the replica is judged against it.

    windows / main_window:
        trailing OLS windows in sessions (about one, three and six months); 60 is the window the
        validation targets use (the desks' usual quarter of data).
    daily_indices:
        the daily reference indices regressed on the S&P 500 (SG Trend is the headline).
    percentile_start / percentile_min_periods:
        a slope's percentile is its rank among its own values from `percentile_start` up to and
        including the date (expanding, no look-ahead), reported after 252 valid slopes.
    bond_duration:
        modified duration of the 10-year bond proxy: daily return ~ y_{t-1}/252 - D (y_t - y_{t-1})
        from the constant-maturity 10-year yield (DGS10). 8 is the duration of a par 10-year
        bond at a 4-5% yield; the proxy is only a second regressor, not a traded bond.
    in_sample / out_of_sample:
        calibration uses only 2000-2012; every calibrated choice is judged on 2013 onwards.
    eras:
        sub-periods reported for correlations (pre-crisis, crisis and QE, post-crisis, pandemic on).
    grid_lookbacks / grid_saturation / grid_vol_target / grid_smoothing:
        the calibration grid (three-horizon lookback sets, saturation z, volatility target and an
        EWMA smoothing span of the position in sessions; 1 = no smoothing). Small on purpose: each
        point costs one model run on 1998-2012, and a large grid over-fits the in-sample period.
    cost_bp:
        one-way trading cost of the replica strategy in basis points per unit of turnover
        (|position change|): ~1 bp of index-futures spread plus ~1 bp of slippage.
    """

    SECTION = "validation"

    windows: tuple[int, ...] = setting(
        (20, 60, 120),
        "Trailing OLS windows in sessions.",
        each={"ge": 10},
        nonempty=True,
        unit="sessions",
        example="(20, 60, 120)",
    )
    main_window: int = setting(
        60, "The window the validation targets use (one of windows).", example="60"
    )
    daily_indices: tuple[str, ...] = setting(
        ("sg_trend_index", "sg_cta_index"),
        "Daily reference indices regressed on the S&P 500.",
        nonempty=True,
        example="('sg_trend_index', 'sg_cta_index')",
    )
    percentile_start: dt.date = setting(
        dt.date(2000, 1, 1), "First date of a slope's percentile history.", example="2000-01-01"
    )
    percentile_min_periods: int = setting(
        252, "Valid slopes before a percentile is reported.", ge=1, example="252"
    )
    bond_duration: float = setting(
        8.0,
        "Modified duration of the 10-year bond proxy.",
        gt=0,
        lt=30,
        unit="years",
        example="8.0",
    )
    in_sample: tuple[dt.date, dt.date] = setting(
        (dt.date(2000, 1, 1), dt.date(2012, 12, 31)),
        "Calibration period (start, end).",
        example="(2000-01-01, 2012-12-31)",
        launchpad=False,  # pairs and triples: fixed in code
    )
    out_of_sample: tuple[dt.date, dt.date] = setting(
        (dt.date(2013, 1, 1), dt.date(2026, 12, 31)),
        "Period every calibrated choice is judged on (start, end), after in_sample.",
        example="(2013-01-01, 2026-12-31)",
        launchpad=False,  # pairs and triples: fixed in code
    )
    eras: tuple[tuple[str, dt.date, dt.date], ...] = setting(
        (
            ("2000-2007", dt.date(2000, 1, 1), dt.date(2007, 12, 31)),
            ("2008-2012", dt.date(2008, 1, 1), dt.date(2012, 12, 31)),
            ("2013-2019", dt.date(2013, 1, 1), dt.date(2019, 12, 31)),
            ("2020-2026", dt.date(2020, 1, 1), dt.date(2026, 12, 31)),
        ),
        "Sub-periods reported for correlations (label, start, end).",
        example="(('2000-2007', 2000-01-01, 2007-12-31),)",
        launchpad=False,  # pairs and triples: fixed in code
    )
    grid_lookbacks: tuple[tuple[int, int, int], ...] = setting(
        ((21, 63, 252), (42, 126, 252), (63, 126, 252), (21, 126, 252)),
        "Calibration grid: three-horizon lookback sets (each at least 2 sessions).",
        nonempty=True,
        example="((21, 63, 252),)",
        launchpad=False,  # triples: fixed in code
    )
    grid_saturation: tuple[float, ...] = setting(
        (1.0, 2.0), "Calibration grid: saturation z.", each={"gt": 0}, example="(1.0, 2.0)"
    )
    grid_vol_target: tuple[float, ...] = setting(
        (0.10, 0.15),
        "Calibration grid: volatility targets.",
        each={"gt": 0, "lt": 2},
        example="(0.10, 0.15)",
    )
    grid_smoothing: tuple[int, ...] = setting(
        (1, 20, 40, 60, 90),
        "Calibration grid: EWMA smoothing spans of the position in sessions (1 = none).",
        each={"ge": 1},
        example="(1, 20, 40, 60, 90)",
    )
    cost_bp: float = setting(
        2.0,
        "One-way trading cost of the replica strategy per unit of turnover.",
        ge=0,
        lt=100,
        unit="basis points",
        example="2.0",
    )

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        if not set(self.daily_indices) <= set(DAILY_TREND_INDICES):
            raise ConfigError(
                "daily_indices",
                f"got {list(self.daily_indices)}",
                f"use daily reference indices among {sorted(DAILY_TREND_INDICES)}",
            )
        if self.main_window not in self.windows:
            raise ConfigError(
                "main_window",
                f"{self.main_window} is not one of the windows {list(self.windows)}",
                "pick one of the windows, e.g. 60",
            )
        if not (self.in_sample[0] < self.in_sample[1] < self.out_of_sample[0]):
            raise ConfigError(
                "in_sample",
                "in-sample must end before the out-of-sample period starts",
                "e.g. 2000-01-01..2012-12-31 then 2013-01-01..",
            )
        if any(min(lb) < 2 for lb in self.grid_lookbacks):
            raise ConfigError(
                "grid_lookbacks",
                f"every lookback must be at least 2 sessions, got {list(self.grid_lookbacks)}",
                "e.g. ((21, 63, 252),)",
            )
        return self

    def validate(self) -> ValidationParams:  # type: ignore[override]  # shadows pydantic v1's deprecated classmethod BaseModel.validate on purpose (an instance method; nothing calls the classmethod)
        return self.checked()


class BacktestParams(Settings):
    """The backtests: the replica as a strategy from 1929 and the event signal as a strategy.

    start: first session of the replica backtest (the S&P 500 history starts in 1927; the
        replica needs a year of warm-up).
    cost_bp: one-way cost in basis points per unit of turnover, for both strategies.
    entries: "next_open" (enter at the next session's open, a trader who sees the close first:
        the default) and "close" (enter at the event close, a variant that needs the closing
        print to decide); the holding periods are the study horizons.
    random_draws / seed: the random-entry benchmark draws this many sets of entry days (same
        count, same holding period, from the same sample of days) with a seeded generator; the
        seed also drives the SPA / StepM bootstrap.
    deflated_trials: the number of trials N of the deflated Sharpe ratio; 0 counts the backtest
        configurations and calibration grid points this run evaluates (a ledger of every test
        run on the data gives a larger, truer N).
    bootstrap_reps: stationary-bootstrap draws of Hansen's SPA and Romano-Wolf's StepM.
    pbo_blocks: blocks of the combinatorially symmetric cross-validation behind the probability
        of backtest overfitting (16 gives C(16, 8) = 12,870 splits).
    """

    SECTION = "backtest"

    start: dt.date = setting(
        dt.date(1929, 1, 1), "First session of the replica backtest.", example="1929-01-01"
    )
    cost_bp: float = setting(
        2.0,
        "One-way cost per unit of turnover, for both strategies.",
        ge=0,
        lt=100,
        unit="basis points",
        example="2.0",
    )
    entries: tuple[Literal["close", "next_open"], ...] = setting(
        ("next_open", "close"),
        "Entries of the event strategy: at the next open (default) and/or the event close.",
        nonempty=True,
        example="('next_open', 'close')",
    )
    random_draws: int = setting(
        2000, "Sets of random entry days of the benchmark.", ge=100, example="2000"
    )
    seed: int = setting(20251120, "Seed of the random-entry draws.", example="20251120")
    deflated_trials: int = setting(
        0,
        "Trials N of the deflated Sharpe ratio (0 = the backtests and grid points of this run).",
        ge=0,
        example="0",
    )
    bootstrap_reps: int = setting(
        1000, "Bootstrap draws of the SPA and StepM tests.", ge=100, example="1000"
    )
    pbo_blocks: int = setting(
        16, "Blocks of the CSCV behind the probability of backtest overfitting.", ge=2, le=20,
        example="16",
    )  # fmt: skip

    @model_validator(mode="after")
    def _even_blocks(self) -> Self:
        if self.pbo_blocks % 2:
            raise ConfigError(
                "pbo_blocks",
                f"CSCV splits the blocks in halves, got an odd {self.pbo_blocks}",
                "use an even number, e.g. 16",
            )
        return self

    def validate(self) -> BacktestParams:  # type: ignore[override]  # shadows pydantic v1's deprecated classmethod BaseModel.validate on purpose (an instance method; nothing calls the classmethod)
        return self.checked()
