"""The backtest tables of the validation step (pipelines/stages/validation.py): the replica and
event backtests on total-return buy-and-hold, the calibration grid run as strategies, the deflated
Sharpe ratio's trial count, and the search statistics (SPA / StepM, PBO). A mixin of the step's
lazily computed tables; thin wrappers over eventlab.backtest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from eventlab.backtest import search, strategies
from eventlab.backtest import total_return as tr_mod
from pipelines.stages.common import LazyTables, md_preview
from pipelines.stages.cta import REPLICA_SERIES


class BacktestTables(LazyTables):
    """The backtest half of the validation step's tables (attributes set by the step's _Tables)."""

    # set by the step's table class (pipelines.stages.validation._Tables)
    inp: dict
    close: pd.Series
    cash: pd.Series
    study: Any
    study_px: pd.DataFrame
    study_close: pd.Series
    study_vix: pd.Series
    study_cash: pd.Series
    spy_close: pd.Series
    refs: dict[str, pd.Series]
    cta: Any
    vp: Any
    bp: Any
    _total_return: tuple[pd.Series, dict[str, object]] | None
    _grid: tuple[pd.DataFrame, pd.DataFrame] | None

    if TYPE_CHECKING:  # defined by the step's table class

        def positions(self) -> dict[str, pd.Series]: ...
        def implied(self) -> pd.Series: ...

    def total_return(self, on: pd.DatetimeIndex | None = None) -> pd.Series:
        """The market's daily total return (FF3 then SPY), on the sessions `on` if given."""
        if self._total_return is None:
            self._total_return = tr_mod.spliced_total_return(
                self.inp[tr_mod.FF3_TABLE], self.spy_close
            )
        daily = self._total_return[0]
        return daily if on is None else tr_mod.on_calendar(daily, on)

    def grid(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(each calibration grid point's position, its daily net return as a strategy), labelled."""
        if self._grid is None:
            labels = search.grid_labels(self.frame("cta_calibration"))
            pos = search.grid_positions(self.close, self.cta, self.vp)
            pos.columns = labels
            daily = search.grid_strategies(
                pos, self.total_return(self.close.index), self.cash, self.bp.cost_bp, self.bp.start
            )
            self._grid = (pos, daily)
        return self._grid

    def _replica_bt(self):
        if "_replica_bt" not in self._cache:
            rows, daily = strategies.replica_backtest(
                self.close, self.positions(), self.cash, self.bp.cost_bp, self.bp.start,
                self.refs["sg_trend_index"], self.total_return(self.close.index),
            )  # fmt: skip
            self._cache["_replica_bt"] = (rows, {"daily": daily})
        return self._cache["_replica_bt"]

    def _event_bt(self):
        if "_event_bt" not in self._cache:
            ev = self.inp["events"]
            fwd = self.inp["forward_returns"]
            rows, trades, daily = strategies.event_backtest(
                self.study_px, pd.DatetimeIndex(pd.to_datetime(ev["date"])) if len(ev) else pd.DatetimeIndex([]),
                fwd["in_sample"].astype(bool), self.study.horizons, self.bp.entries, self.study_cash,
                self.bp.cost_bp, self.bp.random_draws, self.bp.seed, vix=self.study_vix,
                min_trades=self.study.min_events_for_inference,
                total_return=self.total_return(self.study_close.index),
            )  # fmt: skip
            self._cache["_event_bt"] = (rows, {"trades": trades, "daily": daily})
        return self._cache["_event_bt"]

    def _strategy_excess(self) -> dict[str, pd.DataFrame]:
        """Daily returns over cash of the replicas, the event strategies and the grid points."""
        rep = self._replica_bt()[1]["daily"][list(self.positions())]
        evt = self._event_bt()[1]["daily"]
        evt = evt[[c for c in evt.columns if c.startswith("event_")]]
        return {
            "replica": search.excess_returns(rep, self.cash),
            "events": search.excess_returns(evt, self.study_cash),
            "grid": search.excess_returns(self.grid()[1], self.cash),
        }

    def trials(self) -> tuple[int, str]:
        """The deflated Sharpe ratio's N and what it counts (the setting, else this run's trials)."""
        ex = self._strategy_excess()
        counts = {k: v.shape[1] for k, v in ex.items()}
        if self.bp.deflated_trials:
            return self.bp.deflated_trials, "set by backtest_settings.deflated_trials"
        return sum(counts.values()), (
            f"{counts['replica']} replica backtests + {counts['events']} event backtests (entries x "
            f"horizons) + {counts['grid']} calibration grid points, as evaluated in this run"
        )

    def backtests(self):
        rep, _ = self._replica_bt()
        evt, _ = self._event_bt()
        df = pd.concat([rep, evt], ignore_index=True)
        ex = self._strategy_excess()
        n, counted = self.trials()
        variance = search.trial_sharpe_variance(pd.concat(list(ex.values()), axis=1))
        excess = {c: s for frame in (ex["replica"], ex["events"]) for c, s in frame.items()}
        df = search.add_deflated(df, excess, n, variance)
        show = ["strategy", "period", "cagr", "volatility", "sharpe", "deflated_sharpe", "max_drawdown",
                "calmar", "n_trades", "random_percentile", "vix_matched_percentile"]  # fmt: skip
        _, splice = self._total_return or (None, {})
        return df, {
            "rows": len(df),
            "replica_prices": f"prices/{REPLICA_SERIES} (the replica models S&P 500 futures)",
            "event_prices": f"prices/{self.study.index} (the study's index)",
            "event_horizons": ", ".join(f"{k}d" for k in self.study.horizons),
            "total_return": f"reference/{tr_mod.FF3_TABLE} mkt_rf + rf to {splice.get('splice_date')}, "
            f"prices/{tr_mod.SPLICE_SERIES} (adjusted close) after",
            "deflated_sharpe_trials": f"{n}: {counted}",
            "trial_sharpe_variance": variance,
            "csv": self.csv("backtests.csv", df),
            "preview": md_preview(df[show], rows=30, floatfmt=".3f"),
        }

    def backtest_search(self):
        df = search.search_table(
            self._replica_bt()[1]["daily"], self._event_bt()[1]["daily"], self._strategy_excess(),
            self.grid()[1], self.grid()[0], self.implied(), self._total_return_splice(), self.trials()[0], self.bp,
        )  # fmt: skip
        return df, {
            "rows": len(df),
            "csv": self.csv("backtest_search.csv", df),
            "preview": md_preview(df.drop(columns="detail"), rows=30, floatfmt=".3f"),
        }

    def _total_return_splice(self) -> dict[str, object]:
        self.total_return()
        assert self._total_return is not None
        return self._total_return[1]

    def backtest_trades(self):
        trades = self._event_bt()[1]["trades"]
        return trades, {
            "rows": len(trades),
            "csv": self.csv("backtest_trades.csv", trades),
            "preview": md_preview(trades, rows=30, floatfmt=".4f"),
        }

    def backtest_returns(self):
        daily = strategies.combined_daily(
            self._replica_bt()[1]["daily"], self._event_bt()[1]["daily"]
        )
        return daily, {
            "rows": len(daily),
            "columns": ", ".join(daily.columns),
            "preview": md_preview(daily.dropna(how="all").tail(10), floatfmt=".4f"),
        }
