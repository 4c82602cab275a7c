"""Parameters of the CTA trend-following replica: one frozen dataclass, the single source of truth.

Every default below says why it was chosen. The model itself is described in
`eventlab/cta/signals.py`; in one line: per horizon a vol-normalized trend strength, squashed into
[-1, 1], averaged across horizons, scaled by a volatility target, times an assumed capacity in USD.

This module must not import `eventlab.config` at module level (config imports this module);
`validate()` imports `ConfigError` lazily.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from eventlab.bounds import Bound, check_bounds

Rule = Literal["momentum", "sma", "ewmac"]

RULES: tuple[str, ...] = ("momentum", "sma", "ewmac")

# Documented bounds (the launchpad's field descriptions quote them). Ten years of sessions is
# the longest lookback: longer ones leave too little history for levels and replays.
CTA_MIN_LOOKBACK, CTA_MAX_LOOKBACK = 2, 2520
MAX_MULTIPLE = 10.0  # saturation_z, max_scale, down_big_std
MAX_CAPACITY_USD = 1e13
MAX_WEIGHT = 1000.0
MAX_VOL_SPAN = 1000
PERCENTILE_LOOKBACK_RANGE = (252, 25_000)
CTA_BOUNDS = {
    "saturation_z": Bound(
        0, MAX_MULTIPLE, "1.0 (a 1-sigma trend gives a full position)", open_lo=True
    ),
    "vol_target": Bound(
        0, 2, "0.15 for 15% (a fraction, not percent)", " (annualized)", open_lo=True, open_hi=True
    ),
    "max_scale": Bound(0, MAX_MULTIPLE, "1.0", open_lo=True),
    "capacity_usd": Bound(0, MAX_CAPACITY_USD, "200e9 for $200bn", " USD", open_lo=True),
}


@dataclass(frozen=True)
class CTAParams:
    """Transparent CTA replica parameters (defaults documented field by field).

    Trend signal (per horizon)
    --------------------------
    rule:
        ``"momentum"`` (default): z = ln(P_t / P_{t-L}) / (sigma_{t-1} * sqrt(L)), the time-series
        momentum of Moskowitz-Ooi-Pedersen (2012) and Hurst-Ooi-Pedersen "A Century of Evidence on
        Trend-Following Investing" (2017), normalized by volatility like the t-stat (TREND) signal of
        Baltas-Kosowski (2013/2020). Its trigger level is closed form: the close L-1 sessions ago.
        ``"sma"``: z = ln(P_t / SMA_L(t)) / (sigma_{t-1} * sqrt(L)); trigger = mean of the last L-1
        closes. ``"ewmac"``: z = (EWMA_{L/4} - EWMA_L) / (P_t * sigma_{t-1} * sqrt(L)), the
        pysystemtrade EWMAC pair (fast = slow / 4); trigger = the linear solution of fast == slow.
    horizons / lookbacks:
        short / medium / long = 21 / 63 / 252 sessions, i.e. the 1-, 3- and 12-month lookbacks that
        Hurst-Ooi-Pedersen combine and that sell-side desks label short/medium/long-term. They were
        not tuned to the notes' levels.
    weights:
        equal (1/3 each), as in Hurst-Ooi-Pedersen; a desk's true weights are not public.
    saturation_z:
        the signal is clip(z / saturation_z, -1, 1): a trend of one standard deviation over the
        lookback (z = 1) already gives a full position on that horizon. pysystemtrade caps its
        forecasts at twice their average absolute value for the same reason (bounded bets).

    Position and size
    -----------------
    vol_span:
        EWMA span (sessions) of squared daily log returns for sigma; 35 is pysystemtrade's default
        for instrument volatility. sigma at t uses returns up to t-1 (risk is set before the session),
        which also makes every signal monotone in today's price, so trigger levels are unique.
    vol_target / max_scale:
        position = clip(min(max_scale, vol_target / sigma_ann) * mean signal, -1, 1). 15% is close
        to the S&P 500's long-run realized volatility, so the model runs full size in calm markets
        and de-levers when volatility rises (the mechanism the notes describe).
    vol_floor:
        annualized floor on sigma (1%) so flat, stale early-history prints cannot divide by ~0.
    capacity_usd:
        USD notional of a +1 position. ASSUMED, not estimated: $200bn is the order of magnitude
        sell-side desks quote for systematic trend followers' US equity-index exposure, chosen so
        the notes' ~$165bn is reachable. Every USD output scales linearly with it.

    Percentile
    ----------
    percentile_min_periods / percentile_lookback:
        the position's percentile versus its own history (expanding by default, from the first
        valid position; ``percentile_lookback`` sessions for a rolling window instead), reported
        only after 252 valid positions.

    Replays, scenarios, claims
    --------------------------
    replay_pre / replay_post: the event window t-20 .. t+20.
    break_lookback: an event "broke" a horizon's level if that signal is not long at the event
        close but was long at some close in the 5 sessions before (one trading week), so a break
        on the event day or in the days leading into it counts; known at t, no look-ahead.
    scenario_windows: one week (5 sessions) and one month (21 sessions), as desks report.
    scenario_std_multiples: +-1 and +-2 standard deviations of recent volatility over the window.
    down_big_std: the "down big" path, -3 standard deviations (an assumption: the desk does not
        publish its definition).
    scenario_as_of: extra as-of dates for scenarios besides the latest date (2025-11-20 is the
        notes' event day).
    claims_date / claims_window_start / claims_window_end: "mid-November 2025" is read as the
        close of Friday 2025-11-14 (positioning before the break); the claims table also shows the
        replica's range over 2025-11-10 .. 2025-11-20 and measures selling through 2025-11-20.
    """

    rule: Rule = "momentum"
    horizons: tuple[str, ...] = ("short", "medium", "long")
    lookbacks: tuple[int, ...] = (21, 63, 252)
    weights: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)
    saturation_z: float = 1.0
    vol_span: int = 35
    vol_min_periods: int = 20
    vol_target: float = 0.15
    max_scale: float = 1.0
    vol_floor: float = 0.01
    trading_days: int = 252
    capacity_usd: float = 200e9
    percentile_min_periods: int = 252
    percentile_lookback: int | None = None
    replay_pre: int = 20
    replay_post: int = 20
    break_lookback: int = 5
    scenario_windows: tuple[tuple[str, int], ...] = (("1w", 5), ("1m", 21))
    scenario_std_multiples: tuple[float, ...] = (1.0, 2.0)
    down_big_std: float = 3.0
    scenario_as_of: tuple[dt.date, ...] = (dt.date(2025, 11, 20),)
    claims_date: dt.date = dt.date(2025, 11, 14)
    claims_window_start: dt.date = dt.date(2025, 11, 10)
    claims_window_end: dt.date = dt.date(2025, 11, 20)

    @property
    def max_lookback(self) -> int:
        return max(self.lookbacks)

    @property
    def norm_weights(self) -> tuple[float, ...]:
        total = float(sum(self.weights))
        return tuple(float(w) / total for w in self.weights)

    def with_(self, **changes: object) -> CTAParams:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def validate(self) -> CTAParams:
        """Raise ConfigError naming the field and the fix for any invalid value; return self."""
        from eventlab.config import ConfigError

        if self.rule not in RULES:
            raise ConfigError(
                "cta.rule", f"unknown rule {self.rule!r}", f"use one of {', '.join(RULES)}"
            )
        if (
            not self.horizons
            or len(self.horizons) != len(self.lookbacks)
            or len(self.horizons) != len(self.weights)
        ):
            raise ConfigError(
                "cta.horizons",
                f"horizons {list(self.horizons)}, lookbacks {list(self.lookbacks)} and weights {list(self.weights)} must have the same non-zero length",
                "give one lookback and one weight per horizon, e.g. short/medium/long = 21/63/252 with weights 1/3 each",
            )
        if len(set(self.horizons)) != len(self.horizons) or any(
            not h.isidentifier() for h in self.horizons
        ):
            raise ConfigError(
                "cta.horizons",
                f"names must be distinct identifiers, got {list(self.horizons)}",
                "e.g. ('short', 'medium', 'long')",
            )
        if any(
            (not isinstance(n, int)) or not (CTA_MIN_LOOKBACK <= n <= CTA_MAX_LOOKBACK)
            for n in self.lookbacks
        ):
            raise ConfigError(
                "cta.lookbacks",
                f"must be integers from {CTA_MIN_LOOKBACK} to {CTA_MAX_LOOKBACK} sessions, got {list(self.lookbacks)}",
                "e.g. [21, 63, 252]",
            )
        if self.rule == "ewmac" and any(n < 8 for n in self.lookbacks):
            raise ConfigError(
                "cta.lookbacks",
                "the ewmac rule needs lookbacks >= 8 (fast span = lookback / 4 >= 2)",
                "use lookbacks of 8 sessions or more",
            )
        if any(not (0 <= w <= MAX_WEIGHT) for w in self.weights) or sum(self.weights) <= 0:
            raise ConfigError(
                "cta.weights",
                f"must be 0..{MAX_WEIGHT:g} each with a positive sum, got {list(self.weights)}",
                "e.g. (1/3, 1/3, 1/3)",
            )
        if not (2 <= self.vol_span <= MAX_VOL_SPAN) or not (
            1 <= self.vol_min_periods <= 10 * self.vol_span
        ):
            raise ConfigError(
                "cta.vol_span",
                f"span {self.vol_span} / min periods {self.vol_min_periods} invalid",
                f"use a span from 2 to {MAX_VOL_SPAN}, e.g. 35 (min periods e.g. 20)",
            )
        check_bounds("cta", vars(self), CTA_BOUNDS)
        if not (0 < self.vol_floor < self.vol_target):
            raise ConfigError(
                "cta.vol_floor", f"must be in (0, vol_target), got {self.vol_floor!r}", "use 0.01"
            )
        if self.trading_days not in range(200, 370):
            raise ConfigError(
                "cta.trading_days", f"got {self.trading_days!r}", "use 252 for equity indices"
            )
        if self.percentile_min_periods < 1:
            raise ConfigError(
                "cta.percentile_min_periods",
                f"must be >= 1, got {self.percentile_min_periods}",
                "use 252",
            )
        lo, hi = PERCENTILE_LOOKBACK_RANGE
        if self.percentile_lookback is not None and not (
            max(lo, self.percentile_min_periods) <= self.percentile_lookback <= hi
        ):
            raise ConfigError(
                "cta.percentile_lookback",
                f"must be empty (expanding) or {max(lo, self.percentile_min_periods)}..{hi} sessions, got {self.percentile_lookback}",
                "leave it empty or use e.g. 2520 (10 years)",
            )
        if not (0 <= self.break_lookback <= self.replay_pre):
            raise ConfigError(
                "cta.break_lookback",
                f"must be in [0, replay_pre], got {self.break_lookback}",
                "use 5 (one week)",
            )
        if self.replay_pre < 1 or self.replay_post < 1:
            raise ConfigError(
                "cta.replay_post",
                "replay window must extend at least one session each side",
                "use 20 and 20",
            )
        if not self.scenario_windows or any(d < 1 for _, d in self.scenario_windows):
            raise ConfigError(
                "cta.scenario_windows",
                f"got {list(self.scenario_windows)}",
                "e.g. (('1w', 5), ('1m', 21))",
            )
        if any(m <= 0 for m in self.scenario_std_multiples) or not (
            0 < self.down_big_std <= MAX_MULTIPLE
        ):
            raise ConfigError(
                "cta.scenario_std_multiples",
                f"std multiples must be above 0 and at most {MAX_MULTIPLE:g} (signs are applied for up/down), got down_big_std={self.down_big_std!r}",
                "e.g. (1.0, 2.0) and down_big_std=3.0",
            )
        if not (self.claims_window_start <= self.claims_date <= self.claims_window_end):
            raise ConfigError(
                "cta.claims_date",
                f"{self.claims_date} must lie in [{self.claims_window_start}, {self.claims_window_end}]",
                "e.g. 2025-11-10 <= 2025-11-14 <= 2025-11-20",
            )
        if self.claims_window_end < self.claims_date:
            raise ConfigError(
                "cta.claims_window_end",
                f"{self.claims_window_end} is before claims_date {self.claims_date}",
                "set it on or after claims_date",
            )
        return self
