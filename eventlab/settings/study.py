"""The gap-up / close-red event study's settings (DESIGN.md defaults): one declaration each."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Self

from pydantic import ValidationInfo, model_validator

from eventlab.errors import ConfigError
from eventlab.settings.base import Settings, setting

CloseRule = Literal["prior_close", "open"]
OpenPolicy = Literal["genuine", "all"]

MAX_HORIZON = 250  # trading days (about a year)
MIN_REPS, MAX_REPS = 100, 20_000  # bootstrap / placebo repetitions
MIN_START = dt.date(1900, 1, 1)
PATH_POST = 20  # the event paths' default reach (sessions after the event)
_REPS_UNIT = "(memory and time grow linearly with it)"


class StudyParams(Settings):
    """Definition of the gap-up / close-red event study and its statistics."""

    SECTION = "study"

    index: str = setting(
        "GSPC",
        "Series the events are detected on (a DAILY_SERIES key in eventlab/config.py).",
        example="'GSPC'",
    )
    gap_threshold: float = setting(
        0.01,
        "Opening gap that makes an event, as a fraction of the prior close (0.01 = +1%).",
        gt=0,
        lt=0.5,
        example="0.01",
        hint="for +1% (a fraction, not percent)",
    )
    close_rule: CloseRule = setting(
        "prior_close",
        "'prior_close': the day closes below the prior close; 'open': below its own open.",
        example="'prior_close' or 'open'",
    )
    start: dt.date = setting(
        dt.date(1957, 1, 1),
        f"First day of the study window, YYYY-MM-DD, from {MIN_START} to the last data date "
        "(days without a genuine open are excluded anyway).",
        example="1957-01-01",
    )
    end: dt.date | None = setting(
        None,
        "Last day of the study window, YYYY-MM-DD, on or after start and after the data "
        "begins; empty (null) = up to the latest data.",
        example="2020-12-31",
    )
    open_policy: OpenPolicy = setting(
        "genuine",
        "'genuine': only days with a real opening print; 'all': every day (stale opens included).",
        example="'genuine' or 'all'",
    )
    horizons: tuple[int, ...] = setting(
        (1, 5, 20),
        "Forward horizons in trading days, e.g. [1, 5, 20].",
        each={"ge": 1, "le": MAX_HORIZON},
        unit="trading days",
        nonempty=True,
        distinct=True,
        example="[1, 5, 20]",
    )
    path_pre: int = setting(
        5, "Sessions before the event in the event paths.", ge=0, example="5", launchpad=False
    )
    path_post: int = setting(
        PATH_POST,
        "Sessions after the event in the event paths; by default 20, or the longest horizon.",
        ge=1,
        example="20",
        launchpad=False,
    )
    vix: str = setting(
        "VIX", "Volatility series for the regime split.", example="'VIX'", launchpad=False
    )
    robustness_thresholds: tuple[float, ...] = setting(
        (0.005, 0.01, 0.015, 0.02),
        "Gap thresholds of the robustness variants.",
        each={"gt": 0, "lt": 0.5},
        nonempty=True,
        example="[0.005, 0.01]",
        launchpad=False,
    )
    robustness_index: str = setting(
        "SPY",
        "Tradeable series of the robustness variant and the open-accuracy reference.",
        example="'SPY'",
        launchpad=False,
    )
    bootstrap_reps: int = setting(
        2000,
        "Bootstrap repetitions of the CI of the mean difference.",
        ge=MIN_REPS,
        le=MAX_REPS,
        unit=_REPS_UNIT,
        example="2000",
    )
    placebo_reps: int = setting(
        2000,
        "Random same-size draws of the placebo test.",
        ge=MIN_REPS,
        le=MAX_REPS,
        unit=_REPS_UNIT,
        example="2000",
    )
    seed: int = setting(
        20251120, "Seed of the bootstrap and placebo draws.", example="20251120", launchpad=False
    )
    genuine_coverage_min: float = setting(
        0.9,
        "A day's open counts as genuine only if the trailing share of genuine opens is at least this.",
        gt=0,
        le=1,
        example="0.9",
        launchpad=False,
    )
    genuine_coverage_window: int = setting(
        250,
        "Sessions of the trailing genuine-open share.",
        ge=20,
        example="250",
        unit="sessions",
        launchpad=False,
    )
    min_events_for_inference: int = setting(
        5,
        "Events needed before any p-value is published (below it: descriptive figures only).",
        ge=2,
        le=1000,
        example="5",
    )
    loo_p_max_events: int = setting(
        100,
        "Leave-one-out recomputes the randomization p without each event only up to this many "
        "events (each is a study of its own); above it the table gives the mean and median "
        "without each event, and one event's share of the answer is at most 1/n.",
        ge=2,
        le=100_000,
        example="100",
    )
    decluster_cooldown: int = setting(
        20,
        "Sessions within which events form one episode (declustered variant).",
        ge=0,
        le=1000,
        unit="sessions",
        example="20",
    )
    near_threshold_margin: float = setting(
        0.0002,
        "A gap within this of the threshold is flagged as near it.",
        ge=0.0,
        le=0.05,
        example="0.0002",
        hint="(2 bp)",
        launchpad=False,
    )
    verdict_alpha: float = setting(
        0.05,
        "Adjusted p-value a 'supported' verdict needs.",
        ge=0.001,
        le=0.5,
        example="0.05",
        launchpad=False,
    )
    verdict_effect_sd: float = setting(
        0.5,
        "The effect the verdict rule's power is stated at, in standard deviations of the "
        "series' non-event forward returns at each horizon (0.5 = half a standard deviation).",
        gt=0,
        le=5,
        example="0.5",
        launchpad=False,
    )
    verdict_min_power: float = setting(
        0.8,
        "Power at the stated effect below which a verdict that is not 'supported' reads "
        "'too few events to tell'.",
        gt=0,
        lt=1,
        example="0.8",
        launchpad=False,
    )
    verdict_placebo_sets: int = setting(
        1000,
        "Placebo event sets (circular shifts of the event dates) the verdict rule's size and "
        f"power are measured on {_REPS_UNIT}.",
        ge=MIN_REPS,
        le=MAX_REPS,
        example="1000",
        launchpad=False,
    )
    accuracy_min_reference_gap: float = setting(
        0.005,
        "Open accuracy: only days where the reference's |gap| exceeds this.",
        ge=0.0,
        le=0.05,
        example="0.005",
        launchpad=False,
    )
    accuracy_window: int = setting(
        60,
        "Open accuracy: rolling median over this many such days.",
        ge=5,
        le=2000,
        unit="days",
        example="60",
        launchpad=False,
    )
    accuracy_bound: float = setting(
        0.5,
        "Open accuracy is 'visible' once the rolling median ratio stays above this.",
        ge=0.0,
        le=2.0,
        example="0.5",
        launchpad=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _path_reaches_the_longest_horizon(cls, data: Any) -> Any:
        """path_post not given: the event paths reach the longest horizon (at least 20)."""
        if isinstance(data, dict) and "path_post" not in data and data.get("horizons"):
            try:
                return {**data, "path_post": max(PATH_POST, *(int(h) for h in data["horizons"]))}
            except (TypeError, ValueError):
                pass  # the horizons' own check reports it
        return data

    @model_validator(mode="after")
    def _cross_field(self, info: ValidationInfo) -> Self:
        keys: tuple[str, ...] = (info.context or {}).get("series_keys") or ()
        for name in ("index", "vix", "robustness_index") if keys else ():
            value = getattr(self, name)
            if value not in keys:
                raise ConfigError(
                    name,
                    f"unknown series {value!r}",
                    f"choose one of {', '.join(keys)} or add it to DAILY_SERIES in eventlab/config.py",
                )
        if not (MIN_START <= self.start <= dt.date.today()):
            raise ConfigError(
                "start",
                f"{self.start} is outside {MIN_START}..today",
                "use a date such as 1957-01-01",
            )
        if self.end is not None and self.start > self.end:
            raise ConfigError(
                "start", f"start {self.start} is after end {self.end}", "set start on or before end"
            )
        if self.path_post < max(self.horizons):
            raise ConfigError(
                "path_post",
                f"path window (-{self.path_pre}, +{self.path_post}) must cover the longest horizon {max(self.horizons)}",
                "set path_post >= max(horizons)",
            )
        return self

    def validate(self, series_keys: tuple[str, ...]) -> StudyParams:  # type: ignore[override]  # shadows pydantic v1's deprecated classmethod BaseModel.validate on purpose (an instance method; nothing calls the classmethod)
        """Every rule again, with the series keys known: ConfigError or the settings."""
        return self.checked(series_keys=series_keys)
