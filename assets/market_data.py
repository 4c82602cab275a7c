"""Market data assets: one generated asset per series in the universe (daily), 5-minute bars and
reference tables. The universe in eventlab.config is the only list; adding a series there (or via
EVENTLAB_EXTRA_TICKERS) adds its asset and its checks with no code change."""


import dagster as dg
import pandas as pd

from assets.common import frame_span_metadata, md_preview
from eventlab.config import CONFIG, Series
from eventlab.data.quality import price_check_results
from pipelines.resources import Fetched, PriceSource

GROUP = "market_data"


def price_key(series_key: str) -> dg.AssetKey:
    return dg.AssetKey(["prices", series_key])


def intraday_key(series_key: str) -> dg.AssetKey:
    return dg.AssetKey(["intraday", series_key])


def reference_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["reference", name])


PRICE_CHECKS: tuple[tuple[str, str], ...] = (
    ("schema", "OHLCV columns present and numeric"),
    ("unique_increasing_dates", "dates unique and strictly increasing"),
    ("ohlc_consistent", "High >= max(Open, Close) and Low <= min(Open, Close)"),
    ("positive_prices", "every price is > 0"),
    ("fresh", "last date is the expected last trading session for the serving source"),
)


def _outs(descriptions: dict[dg.AssetKey, str]) -> dict[str, dg.AssetOut]:
    """IO-managed, optional outputs (so the UI can materialize any subset of series)."""
    return {
        k.to_python_identifier(): dg.AssetOut(key=k, group_name=GROUP, description=d, is_required=False, kinds={"pandas", "parquet"})
        for k, d in descriptions.items()
    }


def _check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=key, description=desc) for name, desc in PRICE_CHECKS]


def _results(series: Series, key: dg.AssetKey, fetched: Fetched, intraday: bool):
    """The Output for one generated asset followed by its check results."""
    df = fetched.frame
    # Output rather than MaterializeResult(value=...): dagster compares value to a sentinel with
    # `!=`, which is ambiguous for DataFrames.
    yield dg.Output(
        df,
        output_name=key.to_python_identifier(),
        metadata={
            **frame_span_metadata(df),
            "ticker": series.ticker,
            "served_by": fetched.served_by,
            "source_note": fetched.note or "-",
            "adjusted": series.adjusted,
            "preview": md_preview(df.tail(10), floatfmt=".2f"),
        },
    )
    for name, ok, sev, meta in price_check_results(df, series, fetched.served_by, intraday=intraday):
        yield dg.AssetCheckResult(asset_key=key, check_name=name, passed=ok, metadata=meta, severity=sev)


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
        for key in context.selected_asset_keys:
            series = by_key[key]
            yield from _results(series, key, price_source.daily(series), intraday=False)

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
        for key in context.selected_asset_keys:
            series = by_key[key]
            yield from _results(series, key, price_source.intraday(series), intraday=True)

    return intraday_bars


def build_reference_tables(tables: tuple[tuple[str, str], ...]) -> dg.AssetsDefinition:
    by_key = {reference_key(name): (name, raw) for name, raw in tables}

    @dg.multi_asset(
        name="reference_tables",
        outs=_outs({k: f"reference table from {raw}" for k, (_, raw) in by_key.items()}),
        can_subset=True,
    )
    def reference_tables(context: dg.AssetExecutionContext, price_source: PriceSource):
        for key in context.selected_asset_keys:
            name, raw = by_key[key]
            df: pd.DataFrame = price_source.reference(name).frame
            yield dg.Output(
                df,
                output_name=key.to_python_identifier(),
                metadata={"rows": len(df), "source_file": raw, "served_by": "snapshot", "preview": md_preview(df.head(10))},
            )

    return reference_tables


daily_prices = build_daily_prices(CONFIG.daily)
intraday_bars = build_intraday_bars(CONFIG.intraday)
reference_tables = build_reference_tables(CONFIG.reference_tables)
