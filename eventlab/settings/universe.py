"""Settings of the universe studies (eventlab/universe): which named list, the per-ticker data
rules, and how a run computes (workers, live download, per-ticker bootstrap draws).

A universe is a CSV in `lists_dir` (columns ticker, optional name and sector); its file name is
its name. Adding a ticker to a list, or a new list file, needs no code change: the per-ticker
partitions are read from the list files when the code location loads.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from eventlab.settings.base import Settings, setting
from eventlab.settings.study import MAX_REPS, MIN_REPS

NormalModel = Literal["market_adjusted", "market_model", "ff3"]
NORMAL_MODELS: tuple[str, ...] = ("market_adjusted", "market_model", "ff3")


class UniverseParams(Settings):
    """Universe studies: the list, the data rules and the run's execution."""

    SECTION = "universe"

    name: str = setting(
        "sp500_2021", "Universe list (file stem in lists_dir).", example="'sp500_2021'"
    )
    source: Literal["snapshot", "yfinance"] = setting(
        "snapshot",
        "snapshot (shipped data, offline) | yfinance (live batch download).",
        example="'snapshot' (offline) or 'yfinance' (live)",
    )
    lists_dir: str = setting(
        "data/universe/lists",
        "Folder of the universe list files.",
        example="'data/universe/lists'",
        launchpad=False,
    )
    data_dir: str = setting(
        "data/universe",
        "Folder of the shipped per-ticker data.",
        example="'data/universe'",
        launchpad=False,
    )
    # Coverage window (250) + the longest horizon (20): fewer days cannot give a usable sample.
    min_days: int = setting(
        270, "Days a ticker needs to be studied.", ge=30, example="270", launchpad=False
    )
    breadth_indices: tuple[str, ...] = setting(
        ("GSPC", "SPY"),
        "Index event days whose breadth across the members is measured (DAILY_SERIES keys).",
        example="('GSPC', 'SPY')",
        launchpad=False,
    )
    breadth_min_members: int = setting(
        20,
        "Days with fewer members than this (or half the studied tickers, if fewer) are not ranked.",
        ge=1,
        example="20",
        launchpad=False,
    )
    # A split-adjusted open more than this far from the previous close, at a recorded split or
    # near a common split ratio, is a data error (an unrecorded split), not a gap.
    split_jump_min: float = setting(
        0.25,
        "Open-to-close jump flagged as an unrecorded split.",
        gt=0,
        lt=5,
        example="0.25",
        launchpad=False,
    )
    split_ratio_tol: float = setting(
        0.02,
        "Tolerance around a common split ratio.",
        gt=0,
        lt=0.2,
        example="0.02",
        launchpad=False,
    )
    workers: int = setting(
        2,
        "Processes computing the tickers (the machine has 2 cores).",
        ge=1,
        le=500,
        unit="processes",
        example="2",
    )
    bootstrap_reps: int = setting(
        500,
        "Per-ticker bootstrap/placebo draws (the pooled SEs need none).",
        ge=MIN_REPS,
        le=MAX_REPS,
        example="500",
    )
    live_start: dt.date = setting(
        dt.date(1999, 11, 1), "yfinance: first date, YYYY-MM-DD.", example="1999-11-01"
    )
    live_batch_size: int = setting(
        50,
        "Live mode: tickers per yf.download request.",
        ge=1,
        le=500,
        unit="tickers per request",
        example="50",
        launchpad=False,
    )
    live_concurrency: int = setting(
        2,
        "Live mode: requests in flight at once.",
        ge=1,
        le=500,
        unit="requests in flight",
        example="2",
        launchpad=False,
    )

    open_rule: Literal["own_open", "index_rule"] = setting(
        "own_open",
        "Which member days have a usable open: 'own_open' (the day's own open differs from its "
        "close and the prior close) or 'index_rule' (also 90% of the trailing 250 opens genuine, "
        "the index study's rule).",
        example="'own_open' or 'index_rule'",
    )
    point_in_time: bool = setting(
        True,
        "Count a member's days and events only while it was an S&P 500 member (membership "
        "intervals shipped in data/universe).",
        example="true",
    )
    normal_models: tuple[NormalModel, ...] = setting(
        NORMAL_MODELS,
        "Normal-return models of the abnormal-return study: market_adjusted, market_model, ff3.",
        nonempty=True,
        distinct=True,
        example="['market_adjusted', 'market_model', 'ff3']",
    )
    estimation_window: int = setting(
        250,
        "Sessions of the market-model / FF3 estimation window.",
        ge=60,
        le=1000,
        unit="sessions",
        example="250",
        launchpad=False,
    )
    estimation_gap: int = setting(
        11,
        "The estimation window ends this many sessions before the event.",
        ge=6,
        le=100,
        unit="sessions",
        example="11",
        launchpad=False,
    )
    estimation_min_obs: int = setting(
        120,
        "Fewest clean estimation sessions an event needs (else it is dropped and counted).",
        ge=30,
        le=1000,
        unit="sessions",
        example="120",
        launchpad=False,
    )
    placebo_draws: int = setting(
        500,
        "Placebo samples of the size/power run (random dates from the panel).",
        ge=20,
        le=20000,
        example="500",
    )
    placebo_dates: int = setting(
        50,
        "Placebo event dates per sample (each with as many members as a real event date has).",
        ge=10,
        le=5000,
        example="150",
        launchpad=False,
    )

    def validate(self) -> UniverseParams:  # type: ignore[override]  # shadows pydantic v1's deprecated classmethod BaseModel.validate on purpose (an instance method; nothing calls the classmethod)
        return self.checked()
