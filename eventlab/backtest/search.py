"""Backtest statistics that know about the search: the deflated Sharpe ratio of each backtest,
Hansen's SPA and Romano-Wolf's StepM against buy-and-hold across each strategy set (arch's
implementations), and the probability of backtest overfitting (CSCV) of the calibration grid and
of the event strategy's parameter sweep.

The trials: every backtest configuration this run evaluates (the replicas, each event entry x
horizon) and every calibration grid point (each grid point is also run as a strategy, from the
replica backtest's start, with the same costs and cash). Their count is the deflated Sharpe
ratio's default N and the variance of their per-session Sharpe ratios its V. A ledger of every
test ever run on the data would give a larger, truer N: `n_trials` is a parameter for that.

The search table is long: one row per published number (family, test, statistic, value), with
the span, the observation count, the trial count and a free-text detail.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import cast

import numpy as np
import pandas as pd

from eventlab.backtest import cscv, strategies
from eventlab.backtest.deflated_sharpe import deflated_sharpe, sharpe_moments
from eventlab.cta.validation import grid_params, smoothed_position, strategy_returns
from eventlab.settings.cta import CTAParams
from eventlab.settings.validation import BacktestParams, ValidationParams

SEARCH_COLUMNS = (
    "family",
    "test",
    "statistic",
    "value",
    "start",
    "end",
    "n_obs",
    "n_trials",
    "detail",
)
STEPM_SIZE = 0.05  # StepM's family-wise error rate


def grid_positions(close: pd.Series, base: CTAParams, vp: ValidationParams) -> pd.DataFrame:
    """Every calibration grid point's position on `close`'s dates (full history, past closes
    only), columns in the calibration table's row order (eventlab.cta.validation.calibrate)."""
    cols = []
    for lbs, sat, vt in itertools.product(
        vp.grid_lookbacks, vp.grid_saturation, vp.grid_vol_target
    ):
        p = grid_params(base, lbs, sat, vt)
        cols += [smoothed_position(close.to_numpy(), p, sm) for sm in vp.grid_smoothing]
    return pd.DataFrame(np.column_stack(cols), index=close.index)


def grid_strategies(
    positions: pd.DataFrame, equity_return: pd.Series, cash: pd.Series, cost_bp: float, start
) -> pd.DataFrame:
    """Daily net returns of each grid point run as a strategy (as the replica backtest runs the
    replicas: eventlab.cta.validation.strategy_returns), from `start`."""
    out = {
        c: strategy_returns(positions[c], equity_return, cash, cost_bp)["net"] for c in positions
    }
    return pd.DataFrame(out).loc[pd.Timestamp(start) :]


def _row(
    family: str, test: str, statistic: str, value: float, dates, n_trials: int, detail: str = ""
) -> dict:
    """One search-table row (SEARCH_COLUMNS), its span and count taken from `dates`."""
    return {
        "family": family,
        "test": test,
        "statistic": statistic,
        "value": value,
        "start": dates[0].date().isoformat() if len(dates) else "",
        "end": dates[-1].date().isoformat() if len(dates) else "",
        "n_obs": len(dates),
        "n_trials": n_trials,
        "detail": detail,
    }


def trial_sharpe_variance(excess: pd.DataFrame) -> float:
    """Variance (ddof 1) across trials of their per-session Sharpe ratios (each on its own span)."""
    sr = np.array([sharpe_moments(excess[c].to_numpy())[0] for c in excess], float)
    sr = sr[np.isfinite(sr)]
    return float(np.var(sr, ddof=1)) if sr.size > 1 else 0.0


def deflated_columns(excess: pd.Series, n_trials: int, sharpe_variance: float) -> dict[str, float]:
    """The backtests table's deflated-Sharpe columns for one strategy's excess returns."""
    sr, n, skew, kurt = sharpe_moments(excess.to_numpy())
    dsr, sr0 = deflated_sharpe(sr, n, skew, kurt, n_trials, sharpe_variance)
    return {
        "deflated_sharpe": dsr,
        "dsr_benchmark_sharpe": sr0 * np.sqrt(252),
        "dsr_trials": n_trials,
    }


def superiority_tests(
    family: str,
    returns: pd.DataFrame,
    benchmark: pd.Series,
    reps: int,
    seed: int,
    n_trials: int,
) -> list[dict]:
    """SPA p-values (lower, consistent, upper) and StepM's superior strategies: does any strategy
    of `returns` have a higher mean return than `benchmark`? Both on the dates all have; losses
    are the negated returns; stationary bootstrap with arch's default block size."""
    # arch (with scipy.stats and statsmodels) is imported when a test runs, not with the module
    from arch.bootstrap import SPA, StepM

    both = pd.concat([returns, benchmark.rename("__benchmark__")], axis=1).dropna()
    if len(both) < 10 or returns.shape[1] == 0:
        return []
    models = -both.drop(columns="__benchmark__")
    bench = -both["__benchmark__"]
    spa = SPA(bench, models, reps=reps, seed=seed)
    spa.compute()
    stepm = StepM(bench, models, size=STEPM_SIZE, reps=reps, seed=seed)
    stepm.compute()
    superior = [str(m) for m in stepm.superior_models]
    dates = both.index
    k = models.shape[1]
    detail = f"{k} strategies vs {benchmark.name}; {reps} stationary-bootstrap draws"
    rows = [
        _row(family, "spa", f"p_value_{name}", float(spa.pvalues[name]), dates, n_trials, detail)
        for name in ("lower", "consistent", "upper")
    ]
    rows.append(
        _row(family, "stepm", "superior_strategies", float(len(superior)), dates, n_trials,
             f"{detail}; family-wise size {STEPM_SIZE:.0%}; superior: "
             + (", ".join(superior) if superior else "none"))
    )  # fmt: skip
    return rows


def pbo_rows(
    family: str, block_sums: np.ndarray, objective: cscv.Objective, dates, what: str
) -> list[dict]:
    """PBO and the median logit of the in-sample choice's out-of-sample relative rank."""
    res = cscv.pbo(block_sums, objective)
    n = res.n_trials
    detail = f"CSCV, {res.blocks} blocks, {res.n_splits} splits, {n} trials; objective: {what}"
    return [
        _row(family, "pbo", "pbo", res.pbo, dates, n, detail),
        _row(family, "pbo", "median_logit", float(np.median(res.logits)), dates, n, detail),
    ]


def calibration_pbo(positions: pd.DataFrame, implied: pd.Series, blocks: int) -> list[dict]:
    """PBO of the calibration grid on its own objective: the correlation of the held (lagged)
    position with the implied exposure, on the implied exposure's dates."""
    held = positions.shift(1).reindex(implied.index)
    ok = implied.notna() & held.notna().all(axis=1)
    held, imp = held[ok], implied[ok]
    sums = cscv.correlation_sums(held.to_numpy(), imp.to_numpy(), blocks)
    return pbo_rows("calibration grid", sums, cscv.correlation_from_sums, imp.index,
                    "correlation of the held position with the implied exposure")  # fmt: skip


def sharpe_pbo(family: str, excess: pd.DataFrame, blocks: int) -> list[dict]:
    """PBO of a parameter sweep judged by the Sharpe ratio of its excess returns, on the dates
    every trial has."""
    x = excess.dropna()
    sums = cscv.sharpe_sums(x.to_numpy(), blocks)
    return pbo_rows(family, sums, cscv.sharpe_from_sums, x.index, "Sharpe ratio over cash")


def monthly(daily: pd.DataFrame) -> pd.DataFrame:
    """Compounded calendar-month returns of daily return columns (months with no data dropped)."""
    g = (1 + daily).groupby(daily.index.to_period("M"))
    out = g.prod(min_count=1) - 1
    out.index = out.index.to_timestamp(how="end").normalize()
    return out


def grid_labels(grid: pd.DataFrame) -> list[str]:
    """A readable name per calibration grid row (lookbacks, saturation z, vol target, smoothing)."""
    return [
        f"grid {r['lookbacks']} z{r['saturation_z']:g} vt{r['vol_target']:.0%} sm{int(r['smoothing'])}"
        for _, r in grid.iterrows()
    ]


def excess_returns(daily: pd.DataFrame, cash: pd.Series) -> pd.DataFrame:
    """Daily returns over the cash rate (cash reindexed to `daily`'s sessions, 0 where missing)."""
    return daily.sub(cash.reindex(daily.index).fillna(0.0), axis=0)


def add_deflated(
    backtests: pd.DataFrame, excess: dict[str, pd.Series], n_trials: int, sharpe_variance: float
) -> pd.DataFrame:
    """The backtests table with its deflated-Sharpe columns filled for every row whose strategy
    has excess returns in `excess` (each measured on the row's own start..end)."""
    out = backtests.copy()
    for i, r in out.iterrows():
        s = excess.get(str(r["strategy"]))
        if s is None or pd.isna(r["start"]):
            continue
        cols = deflated_columns(s.loc[r["start"] : r["end"]], n_trials, sharpe_variance)
        for k, v in cols.items():
            out.at[i, k] = v
    return out


def splice_rows(splice: dict[str, object]) -> list[dict]:
    """The total-return splice's overlap statistics as search-table rows."""
    dates = pd.DatetimeIndex(
        [pd.Timestamp(str(splice["overlap_start"])), pd.Timestamp(str(splice["overlap_end"]))]
        if isinstance(splice.get("overlap_start"), str)
        else []
    )
    detail = (
        f"Fama-French mkt_rf + rf up to {splice['splice_date']}, SPY adjusted close after; "
        "overlap: daily FF3 market vs SPY"
    )
    rows = []
    for stat in (
        "overlap_correlation",
        "overlap_tracking_error",
        "overlap_cagr_ff3",
        "overlap_cagr_spy",
    ):
        value = float(cast(float, splice[stat]))
        row = _row("total-return buy-and-hold", "splice", stat, value, dates, 0, detail)
        row["n_obs"] = int(cast(int, splice["overlap_sessions"]))
        rows.append(row)
    return rows


def _guarded(rows: Callable[[], list[dict]], family: str, test: str) -> list[dict]:
    """`rows()`, or one row saying why the test could not run (too little data for it)."""
    try:
        return rows()
    except ValueError as err:
        return [_row(family, test, test, np.nan, pd.DatetimeIndex([]), 0, f"not computed: {err}")]


def search_table(
    replica_daily: pd.DataFrame,
    event_daily: pd.DataFrame,
    excess: dict[str, pd.DataFrame],
    grid_daily: pd.DataFrame,
    grid_positions_: pd.DataFrame,
    implied: pd.Series,
    splice: dict[str, object],
    n_trials: int,
    bp: BacktestParams,
) -> pd.DataFrame:
    """Every row of the search table (SEARCH_COLUMNS) from the backtests' daily net returns and
    `excess` (their returns over cash: "replica", "events", "grid" frames): the splice, SPA / StepM for the replica
    family (monthly, since the backtest's start: the default replica and every grid point) and
    for every backtest configuration (daily, on the dates all have), PBO of the calibration grid
    (its correlation objective and as strategies) and of the event sweep."""
    reps, seed, blocks = bp.bootstrap_reps, bp.seed, bp.pbo_blocks
    bh = strategies.BUY_AND_HOLD
    rows = splice_rows(splice)
    replica_models = pd.concat([replica_daily[["replica"]], grid_daily], axis=1)
    fam = "replica and calibration grid, monthly"
    rows += _guarded(lambda: superiority_tests(
        fam, monthly(replica_models), monthly(replica_daily[[bh]])[bh], reps, seed, n_trials), fam, "spa")  # fmt: skip
    fam = "every backtest configuration, daily"
    configs = pd.concat(
        [replica_daily[[c for c in excess["replica"].columns]],
         event_daily[[c for c in excess["events"].columns]]], axis=1,
    )  # fmt: skip
    # the study sample's buy-and-hold (none when the study sample is empty: the replica's)
    bench = event_daily[bh] if bh in event_daily.columns else replica_daily[bh]
    rows += _guarded(
        lambda: superiority_tests(fam, configs, bench, reps, seed, n_trials), fam, "spa"
    )
    rows += _guarded(
        lambda: calibration_pbo(grid_positions_, implied, blocks), "calibration grid", "pbo"
    )
    fam = "calibration grid as strategies"
    rows += _guarded(lambda: sharpe_pbo(fam, excess["grid"], blocks), fam, "pbo")
    if excess["events"].shape[1] > 1:
        fam = "event sweep (entries x horizons)"
        rows += _guarded(lambda: sharpe_pbo(fam, excess["events"], blocks), fam, "pbo")
    return pd.DataFrame(rows).reindex(columns=list(SEARCH_COLUMNS))
