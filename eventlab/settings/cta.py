"""Settings of the CTA trend-following replica: one declaration each, every default says why.

The model itself is described in `eventlab/cta/signals.py`; in one line: per horizon a
vol-normalized trend strength, squashed into [-1, 1], averaged across horizons, scaled by a
volatility target, times an assumed capacity in USD.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Self

from pydantic import model_validator

from eventlab.errors import ConfigError
from eventlab.settings.base import Settings, setting

Rule = Literal["momentum", "sma", "ewmac"]
RULES: tuple[str, ...] = ("momentum", "sma", "ewmac")

# Ten years of sessions is the longest lookback: longer ones leave too little history for levels
# and replays.
CTA_MIN_LOOKBACK, CTA_MAX_LOOKBACK = 2, 2520
MAX_MULTIPLE = 10.0  # saturation_z, max_scale, down_big_std
MAX_CAPACITY_USD = 1e13
MAX_WEIGHT = 1000.0
MAX_VOL_SPAN = 1000
PERCENTILE_LOOKBACK_RANGE = (252, 25_000)
DESK_HORIZONS = ("short", "medium", "long")
MIN_DATE = dt.date(1900, 1, 1)


def horizon_names(n: int) -> tuple[str, ...]:
    """Three lookbacks keep the desks' short/medium/long names; any other count is numbered."""
    return DESK_HORIZONS if n == len(DESK_HORIZONS) else tuple(f"h{i + 1}" for i in range(n))


class CTAParams(Settings):
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

    SECTION = "cta"

    rule: Rule = setting("momentum", "Trend rule: momentum, sma or ewmac.", example="'momentum'")
    horizons: tuple[str, ...] = setting(
        DESK_HORIZONS,
        "Names of the horizons, one per lookback (by default short/medium/long for three, h1.. otherwise).",
        example="['short', 'medium', 'long']",
        launchpad=False,
    )
    lookbacks: tuple[int, ...] = setting(
        (21, 63, 252),
        "Lookback per horizon in sessions (ewmac: 8 or more); 3 values name them short/medium/long.",
        each={"ge": CTA_MIN_LOOKBACK, "le": CTA_MAX_LOOKBACK},
        unit="sessions",
        nonempty=True,
        example="[21, 63, 252]",
    )
    weights: tuple[float, ...] = setting(
        (1 / 3, 1 / 3, 1 / 3),
        "One weight per lookback, with a positive sum (normalized).",
        each={"ge": 0, "le": MAX_WEIGHT},
        nonempty=True,
        example="[1, 1, 1]",
    )
    saturation_z: float = setting(
        1.0,
        "Trend strength (in standard deviations) giving a full position.",
        gt=0,
        le=MAX_MULTIPLE,
        example="1.0",
        hint="(a 1-sigma trend gives a full position)",
    )
    vol_span: int = setting(
        35,
        "EWMA span of the volatility estimate in sessions.",
        ge=2,
        le=MAX_VOL_SPAN,
        example="35",
    )
    vol_min_periods: int = setting(
        20,
        "Returns needed before the volatility estimate is used (1 to 10 x vol_span).",
        ge=1,
        example="20",
        launchpad=False,
    )
    vol_target: float = setting(
        0.15,
        "Annualized volatility target as a fraction (0.15 = 15%).",
        gt=0,
        lt=2,
        unit="(annualized)",
        example="0.15",
        hint="for 15% (a fraction, not percent)",
    )
    max_scale: float = setting(
        1.0, "Cap on the volatility scaling.", gt=0, le=MAX_MULTIPLE, example="1.0"
    )
    vol_floor: float = setting(
        0.01,
        "Annualized floor on sigma, below vol_target.",
        gt=0,
        example="0.01",
        launchpad=False,
    )
    trading_days: int = setting(
        252,
        "Sessions per year (annualization).",
        ge=200,
        le=369,
        example="252",
        hint="for equity indices",
        launchpad=False,
    )
    capacity_usd: float = setting(
        200e9,
        "Assumed USD notional of a full position ($10tn at most).",
        gt=0,
        le=MAX_CAPACITY_USD,
        unit="USD",
        example="200e9",
        hint="for $200bn",
    )
    percentile_min_periods: int = setting(
        252,
        "Valid positions before a percentile is reported.",
        ge=1,
        example="252",
        launchpad=False,
    )
    percentile_lookback: int | None = setting(
        None,
        "Sessions of the rolling percentile window (at least percentile_min_periods); empty (null) = expanding.",
        ge=PERCENTILE_LOOKBACK_RANGE[0],
        le=PERCENTILE_LOOKBACK_RANGE[1],
        unit="sessions",
        example="2520",
        hint="(10 years), or leave it empty",
    )
    replay_pre: int = setting(
        20, "Sessions before an event in the replays.", ge=1, example="20", launchpad=False
    )
    replay_post: int = setting(
        20, "Sessions after an event in the replays.", ge=1, example="20", launchpad=False
    )
    break_lookback: int = setting(
        5,
        "Sessions before an event in which a long signal that is gone counts as a break (at most replay_pre).",
        ge=0,
        example="5",
        hint="(one week)",
        launchpad=False,
    )
    scenario_windows: tuple[tuple[str, int], ...] = setting(
        (("1w", 5), ("1m", 21)),
        "Scenario windows as (label, sessions).",
        nonempty=True,
        example="(('1w', 5), ('1m', 21))",
        launchpad=False,
    )
    scenario_std_multiples: tuple[float, ...] = setting(
        (1.0, 2.0),
        "Scenario moves in standard deviations over the window (signs applied for up/down).",
        each={"gt": 0, "le": MAX_MULTIPLE},
        example="(1.0, 2.0)",
        launchpad=False,
    )
    down_big_std: float = setting(
        3.0,
        "Size of the 'down big' scenario in standard deviations.",
        gt=0,
        le=MAX_MULTIPLE,
        example="3.0",
    )
    scenario_as_of: tuple[dt.date, ...] = setting(
        (dt.date(2025, 11, 20),),
        "Extra as-of dates for the flow scenarios, YYYY-MM-DD, each within the data "
        "(a date without a session uses the last session before it).",
        example="2025-11-20",
    )
    claims_date: dt.date = setting(
        dt.date(2025, 11, 14),
        "Date of the notes' positioning claim.",
        example="2025-11-14",
        launchpad=False,
    )
    claims_window_start: dt.date = setting(
        dt.date(2025, 11, 10),
        "First day of the claims window.",
        example="2025-11-10",
        launchpad=False,
    )
    claims_window_end: dt.date = setting(
        dt.date(2025, 11, 20),
        "Last day of the claims window.",
        example="2025-11-20",
        launchpad=False,
    )

    @property
    def max_lookback(self) -> int:
        return max(self.lookbacks)

    @property
    def norm_weights(self) -> tuple[float, ...]:
        total = float(sum(self.weights))
        return tuple(float(w) / total for w in self.weights)

    @model_validator(mode="before")
    @classmethod
    def _name_the_horizons(cls, data: Any) -> Any:
        """horizons not given: named after the number of lookbacks."""
        if isinstance(data, dict) and "horizons" not in data and "lookbacks" in data:
            try:
                return {**data, "horizons": horizon_names(len(data["lookbacks"]))}
            except TypeError:
                pass  # the lookbacks' own check reports it
        return data

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        n = len(self.lookbacks)
        if len(self.horizons) != n:
            raise ConfigError(
                "horizons",
                f"{len(self.horizons)} names {list(self.horizons)} for {n} lookbacks {list(self.lookbacks)}",
                "give one name per lookback, or leave horizons out to have them named",
            )
        if len(set(self.horizons)) != n or any(not h.isidentifier() for h in self.horizons):
            raise ConfigError(
                "horizons",
                f"names must be distinct identifiers, got {list(self.horizons)}",
                "e.g. ('short', 'medium', 'long')",
            )
        if len(self.weights) != n:
            raise ConfigError(
                "weights",
                f"{len(self.weights)} weights {list(self.weights)} for {n} lookbacks {list(self.lookbacks)}",
                f"give one weight per lookback, e.g. {[1] * n}",
            )
        if sum(self.weights) <= 0:
            raise ConfigError(
                "weights", f"must have a positive sum, got {list(self.weights)}", "e.g. [1, 1, 1]"
            )
        if self.rule == "ewmac" and any(x < 8 for x in self.lookbacks):
            raise ConfigError(
                "lookbacks",
                "the ewmac rule needs lookbacks >= 8 (fast span = lookback / 4 >= 2)",
                "use lookbacks of 8 sessions or more",
            )
        if self.vol_min_periods > 10 * self.vol_span:
            raise ConfigError(
                "vol_min_periods",
                f"{self.vol_min_periods} is more than 10 x vol_span ({self.vol_span})",
                "use e.g. 20",
            )
        if not self.vol_floor < self.vol_target:
            raise ConfigError(
                "vol_floor", f"must be below vol_target, got {self.vol_floor!r}", "use 0.01"
            )
        if self.percentile_lookback is not None and (
            self.percentile_lookback < self.percentile_min_periods
        ):
            raise ConfigError(
                "percentile_lookback",
                f"must be empty (expanding) or at least percentile_min_periods ({self.percentile_min_periods}), got {self.percentile_lookback}",
                "leave it empty or use e.g. 2520 (10 years)",
            )
        if self.break_lookback > self.replay_pre:
            raise ConfigError(
                "break_lookback",
                f"must be in [0, replay_pre], got {self.break_lookback}",
                "use 5 (one week)",
            )
        if any(d < 1 for _, d in self.scenario_windows):
            raise ConfigError(
                "scenario_windows",
                f"got {list(self.scenario_windows)}",
                "e.g. (('1w', 5), ('1m', 21))",
            )
        for day in self.scenario_as_of:
            if not (MIN_DATE <= day <= dt.date.today()):
                raise ConfigError(
                    "scenario_as_of",
                    f"{day} is not a past date: the scenarios start from a close in the data",
                    "use a date with data, e.g. 2025-11-20",
                )
        if not (self.claims_window_start <= self.claims_date <= self.claims_window_end):
            raise ConfigError(
                "claims_date",
                f"{self.claims_date} must lie in [{self.claims_window_start}, {self.claims_window_end}]",
                "e.g. 2025-11-10 <= 2025-11-14 <= 2025-11-20",
            )
        return self

    def validate(self) -> CTAParams:  # type: ignore[override]  # shadows pydantic v1's deprecated classmethod BaseModel.validate on purpose (an instance method; nothing calls the classmethod)
        """Every rule again: ConfigError naming the field and the fix, or the settings."""
        return self.checked()
