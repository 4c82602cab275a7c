"""Market data assets: one generated asset per series in the universe (daily), 5-minute bars and
reference tables. The universe in eventlab.config is the only list; adding a series there (or via
EVENTLAB_EXTRA_TICKERS) adds its asset and its checks with no code change."""

import warnings

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG, Series
from eventlab.cta.reference import check_levels
from eventlab.data.frames import DataError, StoredFileError
from eventlab.data.incremental import frame_hash
from eventlab.data.provenance import provenance_text
from eventlab.data.quality import price_check_results
from eventlab.data.refresh import RefreshOutcome
from eventlab.settings.validation import TREND_INDICES
from pipelines.resources import Fetched, PriceSource
from pipelines.schedules import refresh_failure
from pipelines.stages.common import frame_span_metadata, md_preview

GROUP = "market_data"


def price_key(series_key: str) -> dg.AssetKey:
    return dg.AssetKey(["prices", series_key])


def intraday_key(series_key: str) -> dg.AssetKey:
    return dg.AssetKey(["intraday", series_key])


def reference_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["reference", name])


PRICE_CHECKS: tuple[tuple[str, str], ...] = (
    (
        "ohlcv_valid",
        "schema: OHLCV columns present and numeric; unique_increasing_dates: dates unique and "
        "strictly increasing; ohlc_consistent: High >= max(Open, Close) and Low <= min(Open, "
        "Close); positive_prices: every price is > 0 (metadata gives each rule's verdict)",
    ),
    ("fresh", "last date is the expected last trading session for the serving source"),
)


def _outs(descriptions: dict[dg.AssetKey, str]) -> dict[str, dg.AssetOut]:
    """IO-managed, optional outputs (so the UI can materialize any subset of series)."""
    return {
        k.to_python_identifier(): dg.AssetOut(
            key=k, group_name=GROUP, description=d, is_required=False, kinds={"pandas", "parquet"}
        )
        for k, d in descriptions.items()
    }


def _check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=key, description=desc) for name, desc in PRICE_CHECKS]


def _versioned_output(df: pd.DataFrame, key: dg.AssetKey, metadata: dict) -> dg.Output:
    """An Output carrying a data version (content hash): a refresh that changes nothing, or a
    failed one, leaves every downstream asset up to date rather than stale (issue 12)."""
    # Output rather than MaterializeResult(value=...): dagster compares value to a sentinel with
    # `!=`, which is ambiguous for DataFrames. (`data_version` on Output is marked beta.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.Output(
            df,
            output_name=key.to_python_identifier(),
            data_version=dg.DataVersion(frame_hash(df)),
            metadata=metadata,
        )


def _results(
    series: Series,
    key: dg.AssetKey,
    fetched: Fetched,
    intraday: bool,
    problem: str = "",
    warned: list[str] | None = None,
):
    """The versioned Output for one generated asset followed by its check results (a check that
    fails at WARN severity is also noted in `warned`, for the step's one summary log line)."""
    df = fetched.frame
    extra = fetched.report.to_metadata() if fetched.report is not None else {}
    yield _versioned_output(
        df,
        key,
        {
            **frame_span_metadata(df),
            "ticker": series.ticker,
            "served_by": fetched.served_by,
            "source_note": fetched.note or "-",
            "adjusted": series.adjusted,
            "provenance": provenance_text(df),
            **({"stored_file_problem": problem} if problem else {}),
            **extra,
            "preview": md_preview(df.tail(10), floatfmt=".2f"),
        },
    )
    for name, ok, sev, meta in price_check_results(
        df, series, fetched.served_by, intraday=intraday
    ):
        text = meta.pop("description", None)  # the check's one-line verdict, shown in the UI
        if not ok and sev == "WARN" and warned is not None:
            warned.append(f"{series.key} {name}: {text or 'failed'}")
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=name,
            passed=ok,
            metadata=meta,
            severity=dg.AssetCheckSeverity(sev),
            description=text,
        )


def log_warned_checks(context: dg.AssetExecutionContext, warned: list[str]) -> None:
    """One warning on the run page naming every check that failed at WARN severity: a run
    succeeds with stale data (the offline snapshot), and its page should say so, not only each
    asset's check tab."""
    if warned:
        context.log.warning(
            f"{len(warned)} data check(s) failed at WARN severity (the run continues; each "
            "asset's Checks tab has the details): " + "; ".join(warned)
        )


def _stored_frame(
    context: dg.AssetExecutionContext, key: dg.AssetKey
) -> tuple[pd.DataFrame | None, str]:
    """The series' previous warehouse frame (if the IO manager can give it) and a problem note.

    A stored file of the wrong shape is moved aside by the IO manager (nothing is deleted) and
    the series is rebuilt from the snapshot and the source, so it never stops the others.
    """
    io = getattr(context.resources, "io_manager", None)
    load = getattr(io, "load_stored", None)
    if not callable(load):
        return None, ""
    try:
        return load(key), ""
    except StoredFileError as exc:
        context.log.warning(str(exc))
        return None, str(exc)


def build_daily_prices(universe: tuple[Series, ...]) -> dg.AssetsDefinition:
    """One multi-asset step that serves every daily series; subsettable from the UI."""
    by_key = {price_key(s.key): s for s in universe}

    @dg.multi_asset(
        name="daily_prices",
        outs=_outs({k: f"{s.description} ({s.ticker}), daily OHLCV" for k, s in by_key.items()}),
        check_specs=[c for k in by_key for c in _check_specs(k)],
        can_subset=True,
    )
    def daily_prices(context: dg.AssetExecutionContext, price_source: PriceSource):
        # Every series is fetched, merged and validated BEFORE its Output is yielded: a failure
        # (source down, rate limited, empty/garbled frame, blocked update) never reaches the IO
        # manager, so the previous Parquet file stays as it was. Good series are still written;
        # the step then fails with one plain line (cause, series not updated, data kept, next
        # try) followed by every series' cause. A source that is clearly down (two series with
        # network errors, or one and a failed probe) is not asked for the remaining series.
        outcome = RefreshOutcome()
        warned: list[str] = []
        for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
            series = by_key[key]
            if outcome.source_down:
                outcome.skipped.append(series.key)
                continue
            stored, problem = _stored_frame(context, key)
            try:
                fetched = price_source.daily(series, stored)
            except DataError as exc:
                context.log.error(f"daily_prices: {exc}")
                outcome.record(series.key, exc, probe=price_source.reachable)
                continue
            if fetched.report is not None:
                r = fetched.report
                context.log.info(
                    f"{series.key}: {r.new_rows} new, {r.revised_rows} revised"
                    + (f" (e.g. {r.revised_examples[0]})" if r.revised_examples else "")
                    + (
                        f", re-adjusted by {r.rescale_factor}"
                        if r.rescale_factor is not None
                        else ""
                    )
                )
            yield from _results(
                series, key, fetched, intraday=False, problem=problem, warned=warned
            )
        log_warned_checks(context, warned)
        if outcome.failed:
            raise refresh_failure(context, price_source, outcome)

    return daily_prices


def build_intraday_bars(universe: tuple[Series, ...]) -> dg.AssetsDefinition:
    by_key = {intraday_key(s.key): s for s in universe}

    @dg.multi_asset(
        name="intraday_bars",
        outs=_outs({k: s.description for k, s in by_key.items()}),
        check_specs=[c for k in by_key for c in _check_specs(k)],
        can_subset=True,
    )
    def intraday_bars(context: dg.AssetExecutionContext, price_source: PriceSource):
        warned: list[str] = []
        for key in context.selected_asset_keys:
            series = by_key[key]
            fetched = price_source.intraday(series)
            yield from _results(series, key, fetched, intraday=True, warned=warned)
        log_warned_checks(context, warned)

    return intraday_bars


# The trend-following reference indices (eventlab/settings/validation.py) get a check each.
TREND_FREQ = {name: freq for name, _, freq, _ in TREND_INDICES}
TREND_DESC = {name: desc for name, _, _, desc in TREND_INDICES}
LEVELS_CHECK = (
    "levels_valid",
    "dates unique and increasing; no gaps beyond holidays (daily: at most 3 business days "
    "between rows; monthly: one row per consecutive month, dated in its last week); every "
    "level finite and > 0 (metadata gives each rule's verdict)",
)


def build_reference_tables(tables: tuple[tuple[str, str], ...]) -> dg.AssetsDefinition:
    by_key = {reference_key(name): (name, raw) for name, raw in tables}

    @dg.multi_asset(
        name="reference_tables",
        outs=_outs(
            {
                k: f"{TREND_DESC[name]} ({raw})"
                if name in TREND_DESC
                else f"reference table from {raw}"
                for k, (name, raw) in by_key.items()
            }
        ),
        check_specs=[
            dg.AssetCheckSpec(LEVELS_CHECK[0], asset=k, description=LEVELS_CHECK[1])
            for k, (name, _) in by_key.items()
            if name in TREND_FREQ
        ],
        can_subset=True,
    )
    def reference_tables(context: dg.AssetExecutionContext, price_source: PriceSource):
        for key in context.selected_asset_keys:
            name, raw = by_key[key]
            df: pd.DataFrame = price_source.reference(name).frame
            # the trend indices' previews show their latest levels; other tables their head
            preview = df.tail(10) if name in TREND_FREQ else df.head(10)
            yield _versioned_output(
                df,
                key,
                {
                    "rows": len(df),
                    "source_file": raw,
                    "served_by": "snapshot",
                    "preview": md_preview(preview),
                },
            )
            if name in TREND_FREQ and dg.AssetCheckKey(key, LEVELS_CHECK[0]) in (
                context.selected_asset_check_keys
            ):
                passed, meta = check_levels(df, name, TREND_FREQ[name])  # type: ignore[arg-type]
                yield dg.AssetCheckResult(
                    asset_key=key, check_name=LEVELS_CHECK[0], passed=passed, metadata=meta
                )

    return reference_tables


daily_prices = build_daily_prices(CONFIG.daily)
intraday_bars = build_intraday_bars(CONFIG.intraday)
reference_tables = build_reference_tables(CONFIG.reference_tables)
