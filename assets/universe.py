"""Universe assets: the per-ticker study (partitioned by ticker) and the cross-section.

`universe_ticker_study` is one step over every partition of a run (single-run backfill policy):
it studies its tickers on `universe_settings.workers` processes and emits four per-ticker assets.
A bad ticker (no data, too short, all stale opens) is an answer stored on its partition; a ticker
whose computation raised is reported in `universe/ticker_status` and its other stored files are
left as they were. The cross-section (pooled events and statistics, by sector and year, breadth
on the index's event days) and the report read every partition.

Survivorship bias: the shipped universe is the S&P 500 of April 2021 traced back; every table's
metadata and the report say so.
"""

import time

import dagster as dg
import pandas as pd

from assets.common import md_preview
from eventlab.config import CONFIG
from eventlab.study.run import run_variant
from eventlab.universe.breadth import breadth_daily, breadth_on_events
from eventlab.universe.members import SURVIVORSHIP, load_universe, sectors
from eventlab.universe.pooled import pooled_stats
from eventlab.universe.ticker import OK
from pipelines.resources import PriceSource, ReportSettings, StudySettings
from pipelines.universe import TICKERS, UniverseSettings

GROUP = "universe"
UIO = "universe_io_manager"
PER_TICKER = {
    "ticker_days": "Per ticker and day: usable open, split-adjusted gap, close-to-close, sample and "
    "event flags, total-return forward returns.",
    "ticker_events": "Per ticker: one row per event (the index study's event rows, split-adjusted).",
    "ticker_stats": "Per ticker and horizon: the index study's statistics (events vs baseline).",
    "ticker_status": "Per ticker: ok / no_data / too_short / all_stale_opens / error, with the reason.",
}


def _key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["universe", name])


@dg.multi_asset(
    name="universe_ticker_study",
    group_name=GROUP,
    partitions_def=TICKERS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    outs={
        name: dg.AssetOut(key=_key(name), description=desc, io_manager_key=UIO, kinds={"pandas"})
        for name, desc in PER_TICKER.items()
    },
)
def universe_ticker_study(
    context: dg.AssetExecutionContext,
    study: StudySettings,
    universe_settings: UniverseSettings,
):
    """The index study's code on each ticker of the run (split-adjusted, total-return forwards)."""
    from eventlab.universe.compute import run_tickers

    uparams = universe_settings.params()
    reps = universe_settings.bootstrap_reps
    params = study.params().with_(bootstrap_reps=reps, placebo_reps=reps)
    tickers = list(context.partition_keys)
    frames = None
    if universe_settings.source == "yfinance":
        import datetime as dt

        from eventlab.universe.live import download_universe

        frames, errors = download_universe(
            tickers,
            dt.date.fromisoformat(universe_settings.live_start),
            batch_size=uparams.live_batch_size,
            concurrency=uparams.live_concurrency,
        )
        for ticker, msg in errors.items():
            context.log.warning(f"{ticker}: {msg}")
    t0 = time.perf_counter()
    results, timings = run_tickers(
        tickers, params, uparams, sectors(uparams), workers=uparams.workers, frames=frames
    )
    timings["compute_wall_s"] = time.perf_counter() - t0
    stored = [r for r in results if r.status != "error"]
    status = pd.DataFrame(
        [
            {"ticker": r.ticker, "status": r.status, "message": r.message, "run_id": context.run_id}
            for r in results
        ]
    )
    counts = status["status"].value_counts().to_dict()
    failed = status[status["status"] != OK]
    meta = {
        "tickers": len(results),
        **{f"status_{k}": int(v) for k, v in counts.items()},
        "not_ok": md_preview(failed, rows=50) if len(failed) else "none",
        "source": universe_settings.source,
        "survivorship_bias": SURVIVORSHIP,
        **{k: round(v, 3) for k, v in timings.items()},
    }
    yield dg.Output({r.ticker: r.days for r in stored}, "ticker_days", metadata=meta)
    yield dg.Output({r.ticker: r.events for r in stored}, "ticker_events")
    yield dg.Output({r.ticker: r.stats for r in stored}, "ticker_stats")
    yield dg.Output(
        {t: status[status["ticker"] == t].reset_index(drop=True) for t in status["ticker"]},
        "ticker_status",
    )


@dg.asset(key=_key("index_events"), group_name=GROUP, kinds={"pandas"})
def universe_index_events(price_source: PriceSource, study: StudySettings) -> pd.DataFrame:
    """The main definition's event days on each breadth index (^GSPC, SPY), as the index study
    finds them (genuine opens only)."""
    params = study.params()
    keys = {*CONFIG.universe.breadth_indices, params.vix}
    prices = {k: price_source.daily(CONFIG.series(k)).frame for k in keys}
    frames = []
    for key in CONFIG.universe.breadth_indices:
        v = run_variant(prices, params.with_(index=key), "main")
        frames.append(v.events.assign(index=key))
    return pd.concat(frames, ignore_index=True)


CROSS = {
    "pooled_events": "Every ticker-event of the universe (one row per ticker and event day).",
    "ticker_summary": "Per ticker: status and the main statistics per horizon.",
    "pooled_stats": "Pooled events vs baseline per horizon, overall / by sector / by year, "
    "standard errors clustered by date.",
    "breadth_daily": "Per day: members that gapped up > threshold and closed red, closed red; ranks.",
    "breadth_on_index_events": "Breadth on the ^GSPC and SPY event days inside the universe's span.",
}


@dg.multi_asset(
    name="universe_cross_section",
    group_name=GROUP,
    ins={
        "days": dg.AssetIn(key=_key("ticker_days")),
        "events": dg.AssetIn(key=_key("ticker_events")),
        "stats": dg.AssetIn(key=_key("ticker_stats")),
        "status": dg.AssetIn(key=_key("ticker_status")),
        "index_events": dg.AssetIn(key=_key("index_events")),
    },
    outs={n: dg.AssetOut(key=_key(n), description=d, kinds={"pandas"}) for n, d in CROSS.items()},
)
def universe_cross_section(
    study: StudySettings,
    universe_settings: UniverseSettings,
    days: pd.DataFrame,
    events: pd.DataFrame,
    stats: pd.DataFrame,
    status: pd.DataFrame,
    index_events: pd.DataFrame,
):
    """Pool the universe's members: events, statistics clustered by date, breadth."""
    params = study.params()
    uparams = universe_settings.params()
    universe = load_universe(uparams)
    members = set(universe.tickers)
    sector_of = universe.sector_of()
    if len(days) and not set(days["ticker"].unique()) <= members:  # no 2.7M-row copy otherwise
        days = days[days["ticker"].isin(members)]
    pooled_ev = events[events["ticker"].isin(members)] if len(events) else events
    summary = status[status["ticker"].isin(members)].merge(
        stats.drop(columns=["status", "message"], errors="ignore"), on="ticker", how="left"
    )
    pstats = pooled_stats(days, params.horizons, sector_of)
    n_ok = int((status["status"] == OK).sum()) if len(status) else 0
    daily = breadth_daily(
        days, params.gap_threshold, min(uparams.breadth_min_members, max(1, n_ok // 2))
    )
    on_events = breadth_on_events(daily, index_events)
    common = {"universe": universe.name, "survivorship_bias": SURVIVORSHIP}
    all_rows = pstats[pstats["group_type"] == "all"]
    yield dg.Output(
        pooled_ev.reset_index(drop=True),
        "pooled_events",
        metadata={**common, "rows": len(pooled_ev)},
    )
    yield dg.Output(
        summary, "ticker_summary", metadata={**common, "tickers": summary["ticker"].nunique()}
    )
    yield dg.Output(pstats, "pooled_stats", metadata={**common, "preview": md_preview(all_rows)})
    yield dg.Output(daily, "breadth_daily", metadata={**common, "days": len(daily)})
    yield dg.Output(
        on_events,
        "breadth_on_index_events",
        metadata={**common, "preview": md_preview(on_events, rows=60)},
    )


@dg.asset(
    key=_key("report"),
    group_name=GROUP,
    ins={n: dg.AssetIn(key=_key(n)) for n in CROSS},
    description="reports/<as-of>/universe/: report.html, report.md, CSVs and charts.",
)
def universe_report(
    context: dg.AssetExecutionContext,
    study: StudySettings,
    universe_settings: UniverseSettings,
    report_settings: ReportSettings,
    **tables: pd.DataFrame,
) -> dg.MaterializeResult:
    from eventlab.universe.report import write_universe_report  # matplotlib: only when it runs

    folder = write_universe_report(
        tables,
        study.params(),
        load_universe(universe_settings.params()),
        reports_root=report_settings.reports_root,
        run_id=context.run_id,
        source=universe_settings.source,
    )
    return dg.MaterializeResult(
        metadata={"report_folder": str(folder), "survivorship_bias": SURVIVORSHIP}
    )
