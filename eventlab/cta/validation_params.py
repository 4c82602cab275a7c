"""Parameters of the replica's validation against real trend followers, and of the backtests.

One frozen dataclass each, referenced from `eventlab.config.EventlabConfig` (the single source of
truth for windows, periods, grids and costs). Like `eventlab.cta.params`, this module must not
import `eventlab.config` at module level; `validate()` imports `ConfigError` lazily.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

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


@dataclass(frozen=True)
class ValidationParams:
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

    windows: tuple[int, ...] = (20, 60, 120)
    main_window: int = 60
    daily_indices: tuple[str, ...] = ("sg_trend_index", "sg_cta_index")
    percentile_start: dt.date = dt.date(2000, 1, 1)
    percentile_min_periods: int = 252
    bond_duration: float = 8.0
    in_sample: tuple[dt.date, dt.date] = (dt.date(2000, 1, 1), dt.date(2012, 12, 31))
    out_of_sample: tuple[dt.date, dt.date] = (dt.date(2013, 1, 1), dt.date(2026, 12, 31))
    eras: tuple[tuple[str, dt.date, dt.date], ...] = (
        ("2000-2007", dt.date(2000, 1, 1), dt.date(2007, 12, 31)),
        ("2008-2012", dt.date(2008, 1, 1), dt.date(2012, 12, 31)),
        ("2013-2019", dt.date(2013, 1, 1), dt.date(2019, 12, 31)),
        ("2020-2026", dt.date(2020, 1, 1), dt.date(2026, 12, 31)),
    )
    grid_lookbacks: tuple[tuple[int, int, int], ...] = (
        (21, 63, 252),
        (42, 126, 252),
        (63, 126, 252),
        (21, 126, 252),
    )
    grid_saturation: tuple[float, ...] = (1.0, 2.0)
    grid_vol_target: tuple[float, ...] = (0.10, 0.15)
    grid_smoothing: tuple[int, ...] = (1, 20, 40, 60, 90)
    cost_bp: float = 2.0

    def with_(self, **changes: object) -> ValidationParams:
        return replace(self, **changes)  # type: ignore[arg-type]

    def validate(self) -> ValidationParams:
        from eventlab.config import ConfigError

        if not self.windows or any((not isinstance(w, int)) or w < 10 for w in self.windows):
            raise ConfigError(
                "validation.windows",
                f"must be integers >= 10 sessions, got {list(self.windows)}",
                "e.g. (20, 60, 120)",
            )
        if self.main_window not in self.windows:
            raise ConfigError(
                "validation.main_window",
                f"{self.main_window} is not one of the windows {list(self.windows)}",
                "pick one of the windows, e.g. 60",
            )
        known = {name for name, _, freq, _ in TREND_INDICES if freq == "daily"}
        if not self.daily_indices or not set(self.daily_indices) <= known:
            raise ConfigError(
                "validation.daily_indices",
                f"got {list(self.daily_indices)}",
                f"use daily reference indices among {sorted(known)}",
            )
        if not (0 < self.bond_duration < 30):
            raise ConfigError(
                "validation.bond_duration", f"got {self.bond_duration}", "use e.g. 8.0 years"
            )
        if not (self.in_sample[0] < self.in_sample[1] < self.out_of_sample[0]):
            raise ConfigError(
                "validation.in_sample",
                "in-sample must end before the out-of-sample period starts",
                "e.g. 2000-01-01..2012-12-31 then 2013-01-01..",
            )
        grid_ok = (
            self.grid_lookbacks
            and all(len(lb) == 3 and min(lb) >= 2 for lb in self.grid_lookbacks)
            and all(s > 0 for s in self.grid_saturation)
            and all(0 < v < 2 for v in self.grid_vol_target)
            and all(isinstance(s, int) and s >= 1 for s in self.grid_smoothing)
        )
        if not grid_ok:
            raise ConfigError(
                "validation.grid_lookbacks",
                "every grid entry must be valid (3 lookbacks >= 2, saturation > 0, "
                "vol target in (0, 2), smoothing spans >= 1)",
                "see the defaults in eventlab/cta/validation_params.py",
            )
        if not (0 <= self.cost_bp < 100):
            raise ConfigError("validation.cost_bp", f"got {self.cost_bp}", "basis points, e.g. 2.0")
        return self


@dataclass(frozen=True)
class BacktestParams:
    """The backtests: the replica as a strategy from 1929 and the event signal as a strategy.

    start: first session of the replica backtest (the S&P 500 history starts in 1927; the
        replica needs a year of warm-up).
    cost_bp: one-way cost in basis points per unit of turnover, for both strategies.
    entries: "close" (enter at the event close) and "next_open" (enter at the next session's
        open, a trader who sees the close first); the holding periods are the study horizons.
    random_draws / seed: the random-entry benchmark draws this many sets of entry days (same
        count, same holding period, from the same sample of days) with a seeded generator.
    """

    start: dt.date = dt.date(1929, 1, 1)
    cost_bp: float = 2.0
    entries: tuple[str, ...] = ("close", "next_open")
    random_draws: int = 2000
    seed: int = 20251120

    def with_(self, **changes: object) -> BacktestParams:
        return replace(self, **changes)  # type: ignore[arg-type]

    def validate(self) -> BacktestParams:
        from eventlab.config import ConfigError

        if not (0 <= self.cost_bp < 100):
            raise ConfigError("backtest.cost_bp", f"got {self.cost_bp}", "basis points, e.g. 2.0")
        if not self.entries or not set(self.entries) <= {"close", "next_open"}:
            raise ConfigError(
                "backtest.entries",
                f"got {list(self.entries)}",
                "use 'close' and/or 'next_open'",
            )
        if self.random_draws < 100:
            raise ConfigError(
                "backtest.random_draws", f"got {self.random_draws}", "use 1000 or more"
            )
        return self
