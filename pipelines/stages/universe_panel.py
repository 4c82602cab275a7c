"""Universe asset: the field's event-study battery on the member panel (issue 22).

`universe_event_battery` reads the stored day tables of the members whose latest study succeeded
(point in time by default), builds the panel (eventlab.universe.panel), and computes for every
normal-return model of `universe_settings.normal_models`: abnormal returns, CARs and BHARs per
event, the standard tests per window, the CAAR path with its band, sector and year tables, each
test's size on placebo dates and the minimum detectable CAR, and the survivorship that remains.
"""

import time

import dagster as dg
import numpy as np
import pandas as pd

from eventlab.config import CONFIG
from eventlab.data.snapshot import read_aux
from eventlab.universe.abnormal import Design
from eventlab.universe.battery import BATTERY, run_battery
from eventlab.universe.members import SURVIVORSHIP, load_universe
from eventlab.universe.membership import membership_coverage, read_intervals, survivorship_by_year
from eventlab.universe.panel import build_panel
from eventlab.universe.placebo import minimum_detectable, placebo_size
from eventlab.universe.ticker import ticker_rng
from eventlab.universe.ticker_files import DAYS
from pipelines.resources import PriceSource, StudySettings
from pipelines.stages.common import md_preview
from pipelines.stages.universe import GROUP, TICKER_STUDY, point_in_time, read_ok
from pipelines.universe_resources import UniverseSettings, UniverseStore


def design_of(params, uparams) -> Design:
    """The event-study design from the study and universe settings."""
    return Design(
        estimation_window=uparams.estimation_window,
        estimation_gap=uparams.estimation_gap,
        min_obs=uparams.estimation_min_obs,
        pre=params.path_pre,
        post=max(params.horizons),
        horizons=params.horizons,
    )


@dg.multi_asset(
    name="universe_event_battery",
    group_name=GROUP,
    deps=[TICKER_STUDY],
    outs={
        n: dg.AssetOut(key=dg.AssetKey(["universe", n]), description=d, kinds={"pandas"})
        for n, d in BATTERY.items()
    },
)
def universe_event_battery(
    context: dg.AssetExecutionContext,
    study_settings: StudySettings,
    universe_settings: UniverseSettings,
    universe_store: UniverseStore,
    price_source: PriceSource,
):
    """Abnormal returns and the standard event-study tests on the member panel."""
    params = study_settings.params()
    uparams = universe_settings.params()
    universe = load_universe(uparams)
    t0 = time.perf_counter()
    _, (days,) = read_ok(universe_store.tickers(), universe.tickers, (DAYS,))
    intervals = read_intervals(uparams)
    if uparams.point_in_time:
        days, _ = point_in_time(days, pd.DataFrame(), intervals)
    spy = price_source.daily(CONFIG.series("SPY")).frame
    panel = build_panel(days, universe.sector_of(), spy, read_aux("ff3_daily"))
    t1 = time.perf_counter()
    design = design_of(params, uparams)
    battery = run_battery(panel, design, uparams.normal_models)
    t2 = time.perf_counter()
    size = placebo_size(
        panel,
        design,
        uparams.normal_models,
        uparams.placebo_draws,
        uparams.placebo_dates,
        ticker_rng(params.seed, "placebo"),
    )
    t3 = time.perf_counter()
    tests = battery.tests.merge(
        size[["model", "window", "test", "rejection_rate", "mc_se", "draws", "mean_events"]]
        .rename(columns={"rejection_rate": "placebo_rejection_5pct", "mc_se": "placebo_mc_se",
                         "draws": "placebo_draws", "mean_events": "placebo_mean_events"}),
        on=["model", "window", "test"],
        how="left",
    )  # fmt: skip
    tests.loc[tests["measure"] != "CAR", ["placebo_rejection_5pct", "placebo_mc_se"]] = np.nan
    models = minimum_detectable(battery.tests).merge(battery.counts, on="model", how="left")
    have = set(universe.tickers)
    dates = panel.dates
    surv = survivorship_by_year(intervals, have, dates.min(), dates.max())
    coverage = membership_coverage(intervals, universe.tickers)
    common = {
        "universe": universe.name,
        "point_in_time": uparams.point_in_time,
        "survivorship_bias": SURVIVORSHIP,
    }
    timings = {"panel_s": t1 - t0, "battery_s": t2 - t1, "placebo_s": t3 - t2}
    context.log.info(
        "event battery timings: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
    )
    yield dg.Output(tests, "abnormal_tests", metadata={**common, **{k: round(v, 2) for k, v in timings.items()}, "preview": md_preview(tests[tests["window"] == tests["window"].iloc[0]] if len(tests) else tests, rows=40)})  # fmt: skip
    yield dg.Output(battery.paths, "abnormal_paths", metadata=common)
    yield dg.Output(battery.groups, "abnormal_groups", metadata=common)
    yield dg.Output(
        battery.events, "abnormal_events", metadata={**common, "rows": len(battery.events)}
    )
    yield dg.Output(models, "abnormal_models", metadata={**common, "preview": md_preview(models)})
    yield dg.Output(
        surv,
        "survivorship",
        metadata={**common, "tickers_never_listed": ", ".join(coverage["never_listed"]) or "none"},
    )
