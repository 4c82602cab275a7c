"""Universe assets: the per-ticker study (partitioned by ticker) and the cross-section.

`universe_ticker_study` is one step over every partition of a run (single-run backfill policy):
it studies its tickers on `universe_settings.workers` processes, whose workers store each
ticker's four tables themselves, and materializes `universe/ticker_study` once per ticker
partition with that ticker's status. One partitioned asset, not one per table: Dagster writes an
event per partition of every partitioned asset (plus a planned event for each), and four assets
made that 4 x N bookkeeping the largest serial cost of a 504-ticker run. A bad ticker (no data,
too short, all stale opens) is an answer stored on its partition; a ticker whose computation
raised gets status `error`, and one with no rows at all (a failed download) `no_data` (in its
partition's metadata and its `ticker_status` file), and its other stored files are left as they
were. The cross-section (pooled events and statistics, by sector and year, breadth on the
index's event days) reads the stored files of the members whose latest status is ok: files an
earlier run left for a ticker that now failed may come from other parameters, so they are kept
but never pooled.

Survivorship bias: the shipped universe is the S&P 500 of April 2021 traced back; every table's
metadata and the report say so.
"""

import time
import warnings
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import pandas as pd
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,  # not exported by dagster; the evaluation's target
)

from eventlab.config import CONFIG
from eventlab.report.publishing import discard_staging
from eventlab.study.whole_study import run_variant
from eventlab.universe.battery import BATTERY
from eventlab.universe.breadth import breadth_daily, breadth_on_events
from eventlab.universe.members import SURVIVORSHIP, load_universe, sectors
from eventlab.universe.membership import member_rows, read_intervals
from eventlab.universe.pooled import pooled_stats
from eventlab.universe.prices import shipped_files
from eventlab.universe.ticker import OK
from eventlab.universe.ticker_files import (
    DAYS,
    EVENTS,
    KEEP_EARLIER,
    STATS,
    STATUS,
    TickerSummary,
)
from pipelines.links import report_url
from pipelines.resources import PriceSource, ReportSettings, StudySettings
from pipelines.stages.common import md_preview
from pipelines.universe_resources import TICKERS, UniverseSettings, UniverseStore

GROUP = "universe"
TICKER_TABLES = {
    DAYS: "per day: usable open, split-adjusted gap, close-to-close, sample and event flags, "
    "total-return forward returns",
    EVENTS: "one row per event (the index study's event rows, split-adjusted)",
    STATS: "per horizon: the index study's statistics (events vs baseline)",
    STATUS: "ok / no_data / too_short / all_stale_opens / error, with the reason",
}
TICKER_STUDY_DOC = (
    "The index study on one ticker (a partition). Its tables, one Parquet file each in "
    "<warehouse>/universe/<table>/<ticker>.parquet, written by the worker process that studied "
    "the ticker: " + "; ".join(f"{t}: {d}" for t, d in TICKER_TABLES.items()) + ". Each "
    "partition's materialization says its status; a ticker whose computation raised (status "
    "error) or that has no rows (no_data, e.g. a failed download) keeps its earlier days, events "
    "and statistics, which the cross-section leaves out until the ticker is studied again."
)


# A run where more than this share of its tickers could not be studied (status error or
# no_data) fails: pooling the few that worked would publish a report about a different universe.
MAX_FAILED_SHARE = 0.5


def check_failures(summaries: list[TickerSummary]) -> None:
    """Fail the step (nothing downstream runs, nothing is published) when most tickers failed."""
    failed = [s for s in summaries if s.status in KEEP_EARLIER]
    if summaries and len(failed) > MAX_FAILED_SHARE * len(summaries):
        example = failed[0]
        raise dg.Failure(
            description=(
                f"{len(failed)} of {len(summaries)} tickers could not be studied (e.g. "
                f"{example.ticker}: {example.status}: {example.message}); the run stops here and "
                "publishes no universe report. Their earlier stored results are kept. Fix: see "
                "the first message above (a damaged data/universe: `git checkout data/universe`; "
                "a live outage: run again later or with --source snapshot)"
            ),
            allow_retries=False,
        )


def read_ok(store, tickers: list[str], tables: tuple[str, ...]):
    """The status table and `tables` of the members whose latest study succeeded (a failed
    ticker's other files are an earlier run's, possibly with other parameters)."""
    status = store.read(STATUS, tickers)
    ok = set(status.loc[status["status"] == OK, "ticker"]) if len(status) else set()
    frames = [store.read(t, tickers) for t in tables]
    return status, [f[f["ticker"].isin(ok)] if len(f) else f for f in frames]


def point_in_time(
    days: pd.DataFrame, events: pd.DataFrame, intervals: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Member-days and events only while the firm was an index member: a day outside its
    membership is out of the sample (no event, no baseline, no usable open for breadth)."""
    days = days.copy()
    member = member_rows(intervals, days["ticker"].to_numpy(), days["date"].to_numpy())
    for col in ("in_sample", "is_event", "open_usable"):
        days[col] = days[col].to_numpy(bool) & member
    if len(events):
        keep = member_rows(intervals, events["ticker"].to_numpy(), events["date"].to_numpy())
        events = events[keep]
    return days, events


def _key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["universe", name])


TICKER_STUDY = _key("ticker_study")
# One check evaluation per ticker partition (a partitioned check, shown per partition in the
# UI): it passes for `ok`; a ticker the study answered without events (too short, every open
# stale) warns, one that could not be studied (error, no data) fails at ERROR severity.
TICKER_CHECK = "ticker_studied"
TICKER_CHECK_DOC = (
    "Whether the ticker was studied: passes for status ok; WARN for too_short / all_stale_opens "
    "(the study's answer is 'no sample'); ERROR for error / no_data (not studied: its earlier "
    "files are kept and left out of the cross-section). The message says why."
)


def ticker_check(
    ticker: str,
    status: str,
    message: str,
    target: AssetCheckEvaluationTargetMaterializationData | None,
) -> dg.AssetCheckEvaluation:
    """The check evaluation of one ticker partition from its study status, on the partition's
    materialization `target` (the UI counts an evaluation only on the latest one)."""
    severity = dg.AssetCheckSeverity.ERROR if status in KEEP_EARLIER else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckEvaluation(
        asset_key=TICKER_STUDY,
        check_name=TICKER_CHECK,
        passed=status == OK,
        severity=severity,
        metadata={"status": status, **({"message": message} if message else {})},
        description=None if status == OK else f"{ticker}: {status}: {message}",
        partition=ticker,
        target_materialization_data=target,
    )


def partition_materializations(
    context: dg.AssetExecutionContext, tickers: list[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """This run's materialization of each ticker partition, by ticker (the asset index's
    records, whose storage ids are the ones Dagster compares a check's target with)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=TICKER_STUDY, asset_partitions=tickers),
        limit=len(tickers),
    ).records
    out = {}
    for r in records:
        if r.run_id == context.run_id and r.partition_key and r.partition_key not in out:
            out[r.partition_key] = AssetCheckEvaluationTargetMaterializationData(
                storage_id=r.storage_id, run_id=r.run_id, timestamp=r.timestamp
            )
    return out


@dg.multi_asset(
    name="universe_ticker_study",
    group_name=GROUP,
    partitions_def=TICKERS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    # Survivorship in the definition's metadata (shown on the asset's page), not in each of the
    # 504 partition events.
    specs=[
        dg.AssetSpec(
            TICKER_STUDY,
            description=TICKER_STUDY_DOC,
            kinds={"pandas"},
            metadata={"survivorship_bias": SURVIVORSHIP},
        )
    ],
)
def universe_ticker_study(
    context: dg.AssetExecutionContext,
    study_settings: StudySettings,
    universe_settings: UniverseSettings,
    universe_store: UniverseStore,
) -> Iterator[dg.MaterializeResult]:
    """The index study's code on each ticker of the run (split-adjusted, total-return forwards),
    one asset partition per ticker: one materialization event per ticker, with its status."""
    from eventlab.universe.compute import run_tickers

    uparams = universe_settings.params()
    load_universe(uparams)  # an unknown or bad list stops the run before any ticker is written
    reps = universe_settings.bootstrap_reps
    params = study_settings.params().with_(bootstrap_reps=reps, placebo_reps=reps)
    tickers = list(context.partition_keys)
    frames = None
    if universe_settings.source == "snapshot":
        verified = shipped_files(uparams)  # every shipped file against its manifest, first
        context.log.info(f"verified {len(verified)} shipped universe files against the manifest")
    else:
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

    def progress(done: int, total: int) -> None:
        context.log.info(f"studied {done} of {total} tickers ({time.perf_counter() - t0:.0f} s)")

    with universe_store.tickers().writing() as store:
        summaries, timings = run_tickers(
            tickers, params, uparams, sectors(uparams), store, context.run_id,
            workers=uparams.workers, frames=frames, progress=progress,
        )  # fmt: skip
    timings["compute_wall_s"] = time.perf_counter() - t0
    for s in summaries:
        # Per partition: only what differs by ticker (the UI shows it on the partition's page).
        part = {"status": s.status, "days": s.n_days, "events": s.n_events}
        if s.message:
            part["message"] = s.message
        context.add_asset_metadata(part, asset_key=TICKER_STUDY, partition_key=s.ticker)
    not_ok = [s for s in summaries if s.status != OK]
    for s in not_ok:
        context.log.warning(f"{s.ticker}: {s.status}: {s.message}")
    counts = Counter(s.status for s in summaries)
    # Run-wide figures once, as an observation of the asset (a materialization's metadata would
    # be copied into every partition's event).
    context.log_event(
        dg.AssetObservation(
            asset_key=TICKER_STUDY,
            metadata={
                "tickers": len(summaries),
                **{f"status_{k}": int(v) for k, v in sorted(counts.items())},
                "not_ok": ", ".join(f"{s.ticker} ({s.status})" for s in not_ok[:50])
                + (f" and {len(not_ok) - 50} more" if len(not_ok) > 50 else "")
                or "none",
                "source": universe_settings.source,
                **{k: round(v, 3) for k, v in timings.items()},
            },
        )
    )
    context.log.info(
        f"studied {len(summaries)} tickers: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + (f"; not ok: {', '.join(s.ticker for s in not_ok)}" if not_ok else "")
    )
    check_failures(summaries)
    yield dg.MaterializeResult(asset_key=TICKER_STUDY)
    # Each partition's check, on the materialization just recorded, so a ticker that was not
    # studied shows in the partition view.
    targets = partition_materializations(context, [s.ticker for s in summaries])
    for s in summaries:
        context.log_event(ticker_check(s.ticker, s.status, s.message, targets.get(s.ticker)))


def _ticker_studied(
    context: dg.AssetCheckExecutionContext, universe_store: UniverseStore
) -> dg.AssetCheckResult:
    """Re-evaluate one ticker partition's check from its stored status (the universe job
    records the same evaluation for every partition as it studies them)."""
    ticker = context.partition_key
    status = universe_store.tickers().read(STATUS, [ticker])
    if not len(status):
        row = {"status": "no_data", "message": "no stored status: the ticker was never studied"}
    else:
        row = status.iloc[0].to_dict()
    fields = ticker_check(ticker, str(row["status"]), str(row.get("message") or ""), None)
    return dg.AssetCheckResult(
        passed=fields.passed,
        severity=fields.severity,
        metadata=fields.metadata,
        description=fields.description,
    )


with warnings.catch_warnings():
    # Partitioned checks are a preview in Dagster 1.13: the per-partition status they give the
    # UI's partition view is the point, so the warning is acknowledged here, once.
    warnings.simplefilter("ignore", dg.PreviewWarning)
    ticker_studied = dg.asset_check(
        asset=TICKER_STUDY, name=TICKER_CHECK, partitions_def=TICKERS, description=TICKER_CHECK_DOC
    )(_ticker_studied)


@dg.asset(key=_key("index_events"), group_name=GROUP, kinds={"pandas"})
def universe_index_events(price_source: PriceSource, study_settings: StudySettings) -> pd.DataFrame:
    """The main definition's event days on each breadth index (^GSPC, SPY), as the index study
    finds them (genuine opens only)."""
    params = study_settings.params()
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
    deps=[TICKER_STUDY],
    ins={"index_events": dg.AssetIn(key=_key("index_events"))},
    outs={n: dg.AssetOut(key=_key(n), description=d, kinds={"pandas"}) for n, d in CROSS.items()},
)
def universe_cross_section(
    study_settings: StudySettings,
    universe_settings: UniverseSettings,
    universe_store: UniverseStore,
    index_events: pd.DataFrame,
):
    """Pool the universe's members (their stored ticker_study files): events, statistics
    clustered by date, breadth."""
    params = study_settings.params()
    uparams = universe_settings.params()
    universe = load_universe(uparams)
    sector_of = universe.sector_of()
    status, (days, pooled_ev, stats) = read_ok(
        universe_store.tickers(), universe.tickers, (DAYS, EVENTS, STATS)
    )
    ok = set(status.loc[status["status"] == OK, "ticker"]) if len(status) else set()
    if uparams.point_in_time:
        days, pooled_ev = point_in_time(days, pooled_ev, read_intervals(uparams))
    summary = status.merge(
        stats.drop(columns=["status", "message"], errors="ignore"), on="ticker", how="left"
    )
    pstats = pooled_stats(days, params.horizons, sector_of)
    n_ok = len(ok)
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
    not_ok = status[status["status"] != OK] if len(status) else status
    yield dg.Output(
        summary,
        "ticker_summary",
        metadata={
            **common,
            "tickers": summary["ticker"].nunique() if len(summary) else 0,
            "not_ok": md_preview(not_ok, rows=50) if len(not_ok) else "none",
        },
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
    ins={n: dg.AssetIn(key=_key(n)) for n in (*CROSS, *BATTERY)},
    description="`reports/universe-<name>/<as-of>/`: report.html, report.md, CSVs and charts.",
)
def universe_report(
    context: dg.AssetExecutionContext,
    study_settings: StudySettings,
    universe_settings: UniverseSettings,
    report_settings: ReportSettings,
    **tables: pd.DataFrame,
) -> dg.MaterializeResult:
    """Build the universe report in the run's staging folder, then publish it in one switch as
    reports/universe-<name>/<folder> (eventlab.universe.publishing)."""
    from eventlab.universe import publishing
    from eventlab.universe.report import write_universe_report  # matplotlib: only when it runs

    params = study_settings.params()
    universe = load_universe(universe_settings.params())
    root = report_settings.root()
    tree = publishing.universe_root(root, universe.name)
    staging = publishing.stage(tree, context.run_id, report_settings.lock_timeout_s)
    try:
        as_of = write_universe_report(
            tables, params, universe, staging=staging, run_id=context.run_id,
            source=universe_settings.source, open_rule=universe_settings.open_rule,
        )  # fmt: skip
    except BaseException:
        discard_staging(staging)
        raise
    folder = publishing.publish(
        staging, publishing.folder_for(as_of, params), lock_timeout_s=report_settings.lock_timeout_s
    )
    return dg.MaterializeResult(
        metadata={
            "report_html": dg.MetadataValue.url(report_url(root, folder / "report.html")),
            "report_folder": dg.MetadataValue.path(str(folder)),
            "survivorship_bias": SURVIVORSHIP,
        }
    )
