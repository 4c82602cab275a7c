"""Is the replica real? One multi-asset step: the CTA equity exposure implied by real trend-
following returns (data), the replica validated against it and against the indices' returns
(with an in-sample calibration judged out of sample), and the backtests (the replica from 1929,
the event signal with random-entry benchmarks). Thin wrappers over eventlab.cta.exposure,
eventlab.cta.validation and eventlab.backtest (the checks' algorithms: eventlab.cta.checks and
eventlab.backtest.checks); every parameter comes from the run's settings:
`validation_settings` and `backtest_settings`, the `study` resource (the index, VIX series,
horizons and minimum event count of the event backtests) and `cta_settings` (the replica). The replica
and its validation are on the S&P 500 (REPLICA_SERIES, what the CTA step models); the event
backtests trade the study's index on that index's prices. Report CSVs are written as each table
is computed."""

import dagster as dg
import pandas as pd

from eventlab.backtest import total_return as tr_mod
from eventlab.backtest.checks import backtests_consistent, search_valid
from eventlab.config import CONFIG, StudyParams
from eventlab.cta import exposure as exp_mod
from eventlab.cta import validation as val_mod
from eventlab.cta.checks import calibration_in_sample, exposure_no_lookahead, exposure_valid
from eventlab.cta.reference import level_series
from eventlab.settings.validation import (
    DAILY_TREND_INDICES,
    TREND_INDICES,
    BacktestParams,
    ValidationParams,
)
from pipelines.resources import (
    BacktestSettings,
    CTASettings,
    ReportSettings,
    StudySettings,
    ValidationSettings,
    report_folder_name,
)
from pipelines.stages.backtest_tables import BacktestTables
from pipelines.stages.common import (
    as_of_date,
    md_preview,
    publish_if_no_publish_step,
    selected_results,
    table_outs,
    write_large_report_table,
)
from pipelines.stages.cta import REPLICA_SERIES

GROUP = "validation"
TREND_NAMES = tuple(name for name, _, _, _ in TREND_INDICES)
# the 10-year yield, when the snapshot ships it (a reference table read from DGS10.csv)
BOND_TABLE = next((n for n, raw in CONFIG.reference_tables if raw == "DGS10.csv"), None)
# The price series the step reads: the replica's (S&P 500) and, for the event backtests, the
# default study's index and VIX (the lineage); a launchpad study that names other series reads
# them from the warehouse (pipelines.stages.study.series_beyond_inputs).
PRICE_INS = {
    name: dg.AssetIn(key=["prices", name])
    for name in sorted({REPLICA_SERIES, CONFIG.study.index, CONFIG.study.vix, tr_mod.SPLICE_SERIES})
}
REF_INS = {
    name: dg.AssetIn(key=["reference", name])
    for name in (
        *TREND_NAMES,
        "fed_funds_effective",
        tr_mod.FF3_TABLE,
        *((BOND_TABLE,) if BOND_TABLE else ()),
    )
}


class _Tables(BacktestTables):
    """The validation and backtest tables for one run, each computed on first use."""

    def __init__(
        self,
        inputs: dict,
        as_of,
        folder,
        cta_params,
        study_params: StudyParams,
        prices: dict[str, pd.DataFrame],
        vp: ValidationParams | None = None,
        bp: BacktestParams | None = None,
    ) -> None:
        super().__init__(folder)
        self.inp = inputs
        self.as_of = as_of
        self.cta = cta_params
        self.study = study_params
        self.vp = vp or CONFIG.validation
        self.bp = bp or CONFIG.backtest
        # the replica (and its validation against SG Trend) on the S&P 500 it models
        self.px: pd.DataFrame = prices[REPLICA_SERIES]
        self.close: pd.Series = self.px["close"]
        self.refs = {n: level_series(inputs[n], n) for n in TREND_NAMES}
        self.cash = val_mod.cash_returns(self.close.index, inputs["fed_funds_effective"])
        # the event backtests: the study's index, its VIX series, cash on the index's sessions
        self.study_px: pd.DataFrame = prices[study_params.index]
        self.study_close: pd.Series = self.study_px["close"]
        self.study_vix: pd.Series = prices[study_params.vix]["close"]
        self.study_cash = (
            self.cash
            if self.study_close.index.equals(self.close.index)
            else val_mod.cash_returns(self.study_close.index, inputs["fed_funds_effective"])
        )
        self.spy_close: pd.Series = prices[tr_mod.SPLICE_SERIES]["close"]
        self._calibration: dict[str, object] | None = None
        self._bond: pd.Series | None = None
        self._total_return: tuple[pd.Series, dict[str, object]] | None = None
        self._grid: tuple[pd.DataFrame, pd.DataFrame] | None = None

    def bond(self) -> pd.Series | None:
        """The 10-year bond return proxy, once per run (the exposure table and its check read it)."""
        if BOND_TABLE is None:
            return None
        if self._bond is None:
            self._bond = exp_mod.bond_returns(self.inp[BOND_TABLE], self.vp.bond_duration)
        return self._bond

    def implied(self) -> pd.Series:
        """SG Trend's implied exposure over the main window (the validation's target)."""
        return exp_mod.exposure_series(
            self.frame("cta_implied_exposure"), "sg_trend_index", self.vp.main_window
        )

    def positions(self) -> dict[str, pd.Series]:
        """The default replica (as run by the CTA step) and the calibrated variant."""
        return val_mod.replica_positions(
            self.inp["cta_signals"]["position"], self.close, self.calibration()
        )

    def calibration(self) -> dict[str, object]:
        self.get("cta_calibration")
        assert self._calibration is not None
        return self._calibration

    def cta_implied_exposure(self):
        vp = self.vp
        bond = self.bond()
        df = exp_mod.exposure_table(
            self.close, {n: self.refs[n] for n in vp.daily_indices}, vp, bond
        )
        on = df[(df["model"] == exp_mod.SINGLE) & (df["window"] == vp.main_window)]
        meta: dict[str, object] = {
            "rows": len(df),
            "csv": self.published(
                write_large_report_table(self.folder, "cta_implied_exposure.csv", df)
            ),
            "windows": str(list(vp.windows)),
            "indices": str(list(vp.daily_indices)),
            "multi_factor": "spx + 10y bond proxy (DGS10, duration "
            f"{vp.bond_duration})" if bond is not None else "not in this run: no 10-year yield in the snapshot",
        }  # fmt: skip
        for day in ("2025-11-14", "2025-11-20"):
            sel = on[(on["index"] == "sg_trend_index") & (on["date"] == pd.Timestamp(day))]
            if len(sel):
                r = sel.iloc[0]
                meta[f"sg_trend_{vp.main_window}d_{day}"] = (
                    f"slope {r['slope']:.3f} (se {r['se']:.3f}), {r['percentile']:.0f}th pct"
                )
        meta["preview"] = md_preview(
            on[on["date"] >= pd.Timestamp("2025-11-10")].head(30), floatfmt=".3f"
        )
        return df, meta

    def cta_calibration(self):
        grid, chosen = val_mod.calibrate(self.close, self.implied(), self.cta, self.vp)
        self._calibration = chosen
        p = chosen["params"]
        return grid, {
            "rows": len(grid),
            "chosen": f"lookbacks {list(p.lookbacks)}, saturation z {p.saturation_z}, vol target "
            f"{p.vol_target}, smoothing {chosen['smoothing']}",
            "in_sample_corr": float(chosen["in_sample_corr"]),
            "csv": self.csv("cta_calibration.csv", grid),
            "preview": md_preview(grid.sort_values("in_sample_corr", ascending=False), rows=12, floatfmt=".3f"),
        }  # fmt: skip

    def cta_validation(self):
        df = val_mod.validation_table(
            self.positions(), self.close, self.implied(), self.refs, self.cash, self.vp
        )
        meta: dict[str, object] = {"rows": len(df), "csv": self.csv("cta_validation.csv", df)}
        pos = df[df["measure"] == "position_vs_implied"]
        for _, r in pos[pos["period"].str.startswith(("in-sample", "out-of-sample"))].iterrows():
            key = f"corr_{r['model']}_{r['period'].split()[0]}"
            meta[key] = float(r["correlation"])
        meta["preview"] = md_preview(
            df[df["period"].str.startswith(("full", "in-sample", "out-of-sample"))], rows=40,
            floatfmt=".3f",
        )  # fmt: skip
        return df, meta

    def cta_validation_series(self):
        sel = exp_mod.exposure_rows(
            self.frame("cta_implied_exposure"), "sg_trend_index", self.vp.main_window
        )
        df = val_mod.validation_series(self.positions(), self.close, sel, self.vp)
        return df, {"rows": len(df), "preview": md_preview(df.tail(10), floatfmt=".3f")}


OUTS: dict[str, str] = {
    "cta_implied_exposure": "CTA equity exposure implied by real returns (data): per date, index (SG Trend, SG CTA), "
    "model (S&P 500 alone; plus a 10y bond proxy when shipped) and window (20/60/120 sessions), the trailing OLS "
    "slope, its standard error, its percentile vs its own history since 2000 (expanding), R^2. Writes "
    "cta_implied_exposure.csv.",
    "cta_calibration": "The calibration grid (lookbacks, saturation, vol target, smoothing) with each point's "
    "in-sample (2000-2012) correlation with the 60-session implied exposure; the chosen point is the in-sample "
    "maximum; out-of-sample correlations shown, never used to choose.",
    "cta_validation": "Replica vs data: position and 'same-lens' exposure vs SG Trend's implied exposure "
    "(correlation, sign agreement) and the replica as a strategy vs SG Trend daily/monthly, SG CTA, BTOP50 and "
    "TSMOM monthly (correlation, beta, tracking error), by period and era. Writes cta_validation.csv.",
    "cta_validation_series": "Daily series for the validation chart: implied exposure (and se), each replica's "
    "held position and its exposure through the same 60-session regression.",
    "backtests": "One row per strategy and period: CAGR, volatility, Sharpe, Sortino, max drawdown and its "
    "dates, Calmar, turnover, cost drag; event strategies add trades, hit rate and the random-entry "
    "distribution. Writes backtests.csv.",
    "backtest_trades": "Every event trade (the study's events and horizons, on the study index's prices): "
    "entry (close / next open), horizon, dates, prices, gross and net return, overlap flag. Writes "
    "backtest_trades.csv.",
    "backtest_returns": "Daily net returns of every backtested strategy (for the equity and drawdown charts).",
    "backtest_search": "Backtest statistics that know about the search: the total-return splice's overlap, "
    "Hansen's SPA and Romano-Wolf's StepM against total-return buy-and-hold across each strategy set (arch), "
    "and the probability of backtest overfitting (CSCV) of the calibration grid and the event sweep. Writes "
    "backtest_search.csv.",
}
CSV_OUTS = {
    "cta_implied_exposure", "cta_validation", "cta_calibration", "backtests", "backtest_trades",
    "backtest_search",
}  # fmt: skip


def _reads() -> dict[str, set[dg.AssetKey]]:
    """What each table is computed from (its lineage in the UI), following _Tables and
    BacktestTables: the tables it calls on, the series and reference tables they read; the CSV
    tables also read `report_as_of`, which names the report folder they are written to. The
    event backtests' series are the default study's (a launchpad study reads its own from the
    warehouse, as in pipelines.stages.study)."""
    k = dg.AssetKey
    price = {name: k(["prices", name]) for name in PRICE_INS}
    ref = {name: k(["reference", name]) for name in REF_INS}
    close = {price[REPLICA_SERIES]}
    bond = {ref[BOND_TABLE]} if BOND_TABLE else set()
    implied = close | {ref[n] for n in DAILY_TREND_INDICES} | bond
    cash = {ref["fed_funds_effective"]}
    total_return = {ref[tr_mod.FF3_TABLE], price[tr_mod.SPLICE_SERIES]}
    # the default replica's position and the calibrated variant (_Tables.positions)
    positions = close | {k("cta_signals"), k("cta_calibration")}
    replica_bt = positions | cash | {ref["sg_trend_index"]} | total_return
    event_bt = (
        {price[CONFIG.study.index], price[CONFIG.study.vix], k("events"), k("forward_returns")}
        | cash
        | total_return
    )
    grid = close | cash | total_return | {k("cta_calibration")}
    reads = {
        "cta_implied_exposure": implied,
        "cta_calibration": close | {k("cta_implied_exposure")},
        "cta_validation": positions
        | {k("cta_implied_exposure")}
        | {ref[n] for n in TREND_NAMES}
        | cash,
        "cta_validation_series": positions | {k("cta_implied_exposure")},
        "backtests": replica_bt | event_bt | grid,
        "backtest_trades": event_bt,
        "backtest_returns": replica_bt | event_bt,
        "backtest_search": replica_bt | event_bt | grid | {k("cta_implied_exposure")},
    }
    # a table added to OUTS but not here reads everything the step reads (never nothing)
    everything = {
        *price.values(),
        *ref.values(),
        k("cta_signals"),
        k("events"),
        k("forward_returns"),
    }
    as_of = {k("report_as_of")}
    return {
        name: (reads.get(name, everything) | (as_of if name in CSV_OUTS else set())) - {k(name)}
        for name in OUTS
    }


CHECKS = (
    dg.AssetCheckSpec(
        "implied_exposure_no_lookahead",
        asset="cta_implied_exposure",
        description="A value at t uses returns up to t only: recomputing on data truncated at several "
        "dates reproduces every earlier slope, standard error and percentile.",
    ),
    dg.AssetCheckSpec(
        "implied_exposure_valid",
        asset="cta_implied_exposure",
        description="Every window and index present; slopes and standard errors finite, se > 0; "
        "percentiles within [0, 100].",
    ),
    dg.AssetCheckSpec(
        "calibration_in_sample_only",
        asset="cta_calibration",
        description="The chosen point is the in-sample maximum, and its in-sample correlation is "
        "unchanged when every close after the in-sample end is replaced by a random path.",
    ),
    dg.AssetCheckSpec(
        "backtests_consistent",
        asset="backtests",
        description="Each strategy's compounded daily returns equal its total return; every event "
        "with a full horizon is one trade; the random-entry distribution has the configured draws.",
    ),
    dg.AssetCheckSpec(
        "backtest_search_valid",
        asset="backtest_search",
        description="Every SPA p-value and PBO lies in [0, 1] (or its row says why it was not "
        "computed); the total-return splice's sources correlate >= 0.95 day by day on their overlap.",
    ),
)


@dg.multi_asset(
    name="validation",
    group_name=GROUP,
    ins={
        **PRICE_INS,  # the replica's series; the study's index and VIX (regime-matched entries)
        "cta_signals": dg.AssetIn(),
        "events": dg.AssetIn(),
        "forward_returns": dg.AssetIn(),
        "report_as_of": dg.AssetIn(),
        **REF_INS,
    },
    outs=table_outs(OUTS, CSV_OUTS),
    check_specs=list(CHECKS),
    internal_asset_deps=_reads(),
    can_subset=True,
)
def validation(
    context: dg.AssetExecutionContext,
    cta_settings: CTASettings,
    study_settings: StudySettings,
    validation_settings: ValidationSettings,
    backtest_settings: BacktestSettings,
    report_settings: ReportSettings,
    **inputs,
):
    """Implied exposure, replica validation and backtests, computed once per run."""
    from pipelines.stages.study import series_beyond_inputs

    as_of = as_of_date(inputs["report_as_of"])
    folder = report_settings.staging(context.run_id, inputs["report_as_of"])
    params = study_settings.params()
    prices = series_beyond_inputs(
        context, params, {name: inputs[name] for name in PRICE_INS}, fields=("index", "vix")
    )
    tables = _Tables(
        inputs, as_of, folder, cta_settings.params(), params, prices,
        validation_settings.params(), backtest_settings.params(),
    )  # fmt: skip
    tables.final_name = report_folder_name(inputs["report_as_of"])
    lookahead, valid, insample, consistent, searched = CHECKS
    yield from selected_results(
        context,
        OUTS,
        tables.get,
        [
            (
                lookahead,
                lambda: exposure_no_lookahead(
                    tables.frame("cta_implied_exposure"),
                    tables.close,
                    tables.refs,
                    tables.bond(),
                    tables.vp,
                ),
            ),  # fmt: skip
            (valid, lambda: exposure_valid(tables.frame("cta_implied_exposure"), tables.vp)),
            (
                insample,
                lambda: calibration_in_sample(
                    tables.frame("cta_calibration"),
                    tables.calibration(),
                    tables.close,
                    tables.implied(),
                    tables.vp,
                ),
            ),  # fmt: skip
            (
                consistent,
                lambda: backtests_consistent(
                    tables.frame("backtests"),
                    tables.frame("backtest_returns"),
                    tables.inp["events"],
                    tables.frame("backtest_trades"),
                    tables.study_close,
                    tables.study.horizons,
                    tables.bp.entries,
                    tables.bp.random_draws,
                ),
            ),  # fmt: skip
            (searched, lambda: search_valid(tables.frame("backtest_search"))),
        ],
    )
    publish_if_no_publish_step(context, report_settings, folder, inputs["report_as_of"])
