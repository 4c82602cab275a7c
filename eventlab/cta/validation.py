"""Is the replica real? Its position against the exposure implied by real CTA returns, and its
returns as a strategy against SG Trend, BTOP50 and the TSMOM factor.

Conventions (all vectorized, no loop over days):
- The replica's position decided on the close of t-1 is held over session t, so it is compared
  with the implied exposure at t (a regression over returns up to t) and earns the S&P 500's
  return of t: strategy return r_t = p_{t-1} R_t + (1 - p_{t-1}) rf_t - c |p_t - p_{t-1}|
  (cash on the rest, as a futures position financed in cash earns; a short earns cash on the
  proceeds; c = cost per unit of turnover, charged on the session of the trade).
- The cash rate is the effective fed funds rate (DFF, from 1954-07) of the previous calendar day,
  act/360 over the calendar days of the step; before the first fed funds print it is 0 (stated).
- "Replica seen through the same lens": the replica's own P&L regressed on the S&P 500 over the
  same trailing window as the index. The implied exposure is an average over its window, so a
  point-in-time position is lagged relative to it; the lens puts both through one estimator.
- Calibration (`calibrate`) picks the grid point with the highest in-sample (2000-2012)
  correlation between the lagged position and the 60-session implied exposure, computing the
  model on closes up to the in-sample end only; the choice is then judged on 2013 onwards.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from eventlab.cta.exposure import rolling_ols
from eventlab.cta.reference import daily_returns, monthly_returns
from eventlab.cta.signals import ewma, model_arrays
from eventlab.settings.cta import CTAParams
from eventlab.settings.validation import ValidationParams

VALIDATION_COLUMNS = (
    "model",
    "measure",
    "benchmark",
    "frequency",
    "period",
    "start",
    "end",
    "n",
    "correlation",
    "sign_agreement",
    "beta",
    "tracking_error",
    "replica_mean",
    "benchmark_mean",
)
CALIBRATION_COLUMNS = (
    "lookbacks",
    "saturation_z",
    "vol_target",
    "smoothing",
    "in_sample_corr",
    "out_of_sample_corr",
    "chosen",
)
# Years of closes before the in-sample start that the calibration's model runs see (warm-up
# of the 252-session lookback, the EWMA volatility and the smoothing).
CALIBRATION_WARMUP_YEARS = 3


def cash_returns(dates: pd.DatetimeIndex, fed_funds: pd.DataFrame | None) -> pd.Series:
    """Per-session cash return: the previous calendar day's effective fed funds rate (percent),
    act/360 over the calendar days since the previous session; 0 before the first print or
    without the table."""
    out = pd.Series(0.0, index=dates, name="cash")
    if fed_funds is None or len(fed_funds) == 0 or len(dates) < 2:
        return out
    date_col = next(c for c in fed_funds.columns if c.lower() == "date")
    val_col = next(c for c in fed_funds.columns if c != date_col)
    rate = pd.Series(
        pd.to_numeric(fed_funds[val_col], errors="coerce").to_numpy() / 100.0,
        index=pd.DatetimeIndex(pd.to_datetime(fed_funds[date_col])),
    ).dropna()
    prev = pd.DatetimeIndex(dates[:-1])
    # the rate known at the previous session's date (as of that day), applied to the step
    known = rate.reindex(rate.index.union(prev)).ffill().reindex(prev).fillna(0.0).to_numpy()
    days = (dates[1:] - dates[:-1]).days.to_numpy()
    out.iloc[1:] = known * days / 360.0
    return out


def strategy_returns(
    position: pd.Series, asset_return: pd.Series, cash: pd.Series, cost_bp: float
) -> pd.DataFrame:
    """Daily P&L of holding position_{t-1} over session t with cash on the rest and a cost per
    unit of turnover. Columns: position_held, gross (p R), cash_leg ((1 - p) rf), cost, net,
    excess (net - rf: the return over cash, what a futures overlay earns), turnover."""
    pos = position.astype(float)
    held = pos.shift(1)
    turnover = pos.diff().abs()
    df = pd.DataFrame(
        {
            "position_held": held,
            "gross": held * asset_return,
            "cash_leg": (1.0 - held) * cash,
            "cost": turnover * cost_bp / 1e4,
            "turnover": turnover,
        }
    )
    df["net"] = df["gross"] + df["cash_leg"] - df["cost"]
    df["excess"] = df["net"] - cash
    return df.dropna(subset=["position_held", "net"])


def lens_exposure(
    replica_pnl: pd.Series, spx_return: pd.Series, on: pd.DatetimeIndex, window: int
) -> pd.Series:
    """The replica's exposure estimated like the index's: rolling OLS slope of its P&L on the
    S&P 500's return over the same dates `on` (the index's calendar)."""
    y, x = _values_on(replica_pnl, on), _values_on(spx_return, on)
    keep = ~(np.isnan(y) | np.isnan(x))
    fit = rolling_ols(y[keep], x[keep], window)
    return pd.Series(fit["coef"][:, 1], index=on[keep])


def _values_on(s: pd.Series, on: pd.Index) -> np.ndarray:
    """s's values at the labels `on`, NaN where s has none: a positional take (this runs a few
    dozen times per validation, where aligning two-column frames cost more than the statistics)."""
    pos = s.index.get_indexer(on)
    if len(s) == 0:
        return np.full(len(on), np.nan)
    return np.where(pos >= 0, s.to_numpy(dtype=float)[pos], np.nan)


def _aligned(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dates, a, b) on the dates both have with finite values (PeriodIndex -> period end)."""
    idx = a.index.intersection(b.index)
    av, bv = _values_on(a, idx), _values_on(b, idx)
    keep = ~(np.isnan(av) | np.isnan(bv))
    idx = idx[keep]
    if isinstance(idx, pd.PeriodIndex):
        idx = idx.to_timestamp(how="end").normalize()
    return idx.to_numpy(), av[keep], bv[keep]


def _corr_sign(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    if len(a) < 3:
        return {"n": len(a)}
    return {
        "n": len(a),
        "correlation": float(np.corrcoef(a, b)[0, 1]),
        "sign_agreement": float(np.mean(np.sign(a) == np.sign(b))),
    }


def _return_stats(r: np.ndarray, b: np.ndarray, periods_per_year: int) -> dict[str, float]:
    n = len(r)
    if n < 3:
        return {"n": n}
    var_b = float(np.var(b, ddof=1))
    cov = float(np.cov(r, b, ddof=1)[0, 1])
    return {
        "n": n,
        "correlation": float(np.corrcoef(r, b)[0, 1]),
        "beta": cov / var_b if var_b > 0 else np.nan,
        "tracking_error": float(np.std(r - b, ddof=1) * np.sqrt(periods_per_year)),
        "replica_mean": float(np.mean(r) * periods_per_year),
        "benchmark_mean": float(np.mean(b) * periods_per_year),
    }


def periods(params: ValidationParams) -> list[tuple[str, pd.Timestamp | None, pd.Timestamp | None]]:
    """(label, start, end): full span, in-sample, out-of-sample, then each era."""
    ins, oos = params.in_sample, params.out_of_sample
    return [
        ("full", None, None),
        ("in-sample " + f"{ins[0].year}-{ins[1].year}", pd.Timestamp(ins[0]), pd.Timestamp(ins[1])),
        (
            "out-of-sample " + f"{oos[0].year}-{min(oos[1].year, 2026)}",
            pd.Timestamp(oos[0]),
            pd.Timestamp(oos[1]),
        ),
        *[(label, pd.Timestamp(a), pd.Timestamp(b)) for label, a, b in params.eras],
    ]


def _mask(dates: np.ndarray, start, end) -> np.ndarray:
    m = np.ones(len(dates), bool)
    if start is not None:
        m &= dates >= np.datetime64(start)
    if end is not None:
        m &= dates <= np.datetime64(end)
    return m


def smoothed_position(close: np.ndarray, params: CTAParams, smoothing: int) -> np.ndarray:
    """The replica's position, EWMA-smoothed over `smoothing` sessions (1 = unchanged); smoothing
    uses past positions only, like a manager who trades toward the target over several days."""
    pos = model_arrays(close, params, percentile=False)["position"]
    return pos if smoothing <= 1 else ewma(pos, smoothing)


def replica_positions(
    signal_position: pd.Series, close: pd.Series, calibration: dict[str, object]
) -> dict[str, pd.Series]:
    """The default replica's position (as the CTA step ran it) and the calibrated variant's, on `close`'s dates."""
    calibrated = smoothed_position(
        close.to_numpy(),
        calibration["params"],  # type: ignore[arg-type]
        calibration["smoothing"],  # type: ignore[arg-type]
    )
    return {
        "replica": signal_position.reindex(close.index),
        "replica_calibrated": pd.Series(calibrated, index=close.index),
    }


def grid_params(base: CTAParams, lookbacks, saturation, vol_target) -> CTAParams:
    """The replica `base` at one grid point. A grid lookback set longer or shorter than the
    base's (a launchpad replica with one or two horizons) brings its own horizon names and equal
    weights, as the launchpad gives a replica with that many lookbacks."""
    lookbacks = tuple(int(lb) for lb in lookbacks)
    shape: dict[str, object] = {}
    if len(lookbacks) != len(base.lookbacks):
        shape = {
            "horizons": tuple(f"h{i + 1}" for i in range(len(lookbacks))),
            "weights": (1.0,) * len(lookbacks),
        }
    return base.with_(
        lookbacks=lookbacks,
        saturation_z=float(saturation),
        vol_target=float(vol_target),
        **shape,
    )


Window = tuple[np.ndarray, np.ndarray, np.ndarray]


def _window(close: pd.Series, implied: pd.Series, start, end) -> Window:
    """(closes from three years before `start` to `end`; for each implied date in [start, end]
    the position of the session before it among those closes; the implied values there). The
    same for every grid point, so `calibrate` slices once per period, not once per point."""
    warm = pd.Timestamp(start) - pd.DateOffset(years=CALIBRATION_WARMUP_YEARS)
    c = close.loc[warm:end]
    imp = implied.loc[start:end]
    where = c.index.get_indexer(imp.index) - 1  # position held over t = decided on t-1
    ok = where >= 0
    return c.to_numpy(), where[ok], imp.to_numpy()[ok]


def _window_corr(window: Window, params: CTAParams, smoothings) -> list[float]:
    """Correlation of the held (lagged) position with the implied exposure over one `_window`,
    for each smoothing span, with the model run on that window's closes only."""
    c, where, imp = window
    raw = model_arrays(c, params, percentile=False)["position"]
    out = []
    for sm in smoothings:
        pos = raw if sm <= 1 else ewma(raw, sm)
        a, b = pos[where], imp
        keep = np.isfinite(a) & np.isfinite(b)
        out.append(float(np.corrcoef(a[keep], b[keep])[0, 1]) if keep.sum() > 2 else np.nan)
    return out


def in_sample_corr(
    close: pd.Series, implied: pd.Series, params: CTAParams, smoothing: int, vp: ValidationParams
) -> float:
    """The calibration's objective for one grid point (uses nothing after the in-sample end)."""
    start, end = (pd.Timestamp(d) for d in vp.in_sample)
    return _window_corr(_window(close, implied, start, end), params, (smoothing,))[0]


def calibrate(
    spx_close: pd.Series, implied: pd.Series, base: CTAParams, params: ValidationParams
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Grid search on the in-sample period only; returns the grid table and the chosen point.

    Each grid point's model runs on closes up to the in-sample end (so nothing after it can
    influence the choice); its out-of-sample correlation is computed afterwards on closes from
    three years before the out-of-sample start and shown for transparency, never used to choose.
    """
    ins = _window(spx_close, implied, *(pd.Timestamp(d) for d in params.in_sample))
    oos = _window(spx_close, implied, *(pd.Timestamp(d) for d in params.out_of_sample))
    rows = []
    for lbs, sat, vt in itertools.product(
        params.grid_lookbacks, params.grid_saturation, params.grid_vol_target
    ):
        p = grid_params(base, lbs, sat, vt)
        corr_is = _window_corr(ins, p, params.grid_smoothing)
        corr_oos = _window_corr(oos, p, params.grid_smoothing)
        for sm, a, b in zip(params.grid_smoothing, corr_is, corr_oos, strict=True):
            rows.append([str(tuple(lbs)), sat, vt, sm, a, b, False])
    grid = pd.DataFrame(rows, columns=list(CALIBRATION_COLUMNS))
    best = int(grid["in_sample_corr"].idxmax())  # chosen on the in-sample column only
    grid.loc[best, "chosen"] = True
    choice = grid.loc[best]
    chosen_lbs = tuple(int(x) for x in choice["lookbacks"].strip("()").split(","))
    chosen = {
        "params": grid_params(base, chosen_lbs, choice["saturation_z"], choice["vol_target"]),
        "smoothing": int(choice["smoothing"]),
        "in_sample_corr": float(choice["in_sample_corr"]),
    }
    return grid, chosen


def validation_table(
    positions: dict[str, pd.Series],
    spx_close: pd.Series,
    implied: pd.Series,
    references: dict[str, pd.Series],
    cash: pd.Series,
    params: ValidationParams,
) -> pd.DataFrame:
    """The validation table (VALIDATION_COLUMNS) for each named replica position series.

    `implied` is SG Trend's main-window implied exposure; `references` maps benchmark names to
    level series (``sg_trend_index`` daily; monthly ones by name). TSMOM is excess of cash, so
    it is compared with the replica's excess return; the others with its net return.
    """
    spx_ret = daily_returns(spx_close)
    bench_daily = {n: daily_returns(v) for n, v in references.items() if n == "sg_trend_index"}
    bench_month = {n: monthly_returns(v) for n, v in references.items()}
    rows = []
    for model, pos in positions.items():
        strat = strategy_returns(pos, spx_ret, cash, params.cost_bp)
        month = strat.index.to_period("M")
        rep_month = (1 + strat["net"]).groupby(month).prod() - 1
        rep_month_x = (1 + strat["excess"]).groupby(month).prod() - 1
        lens = lens_exposure(strat["gross"], spx_ret, implied.index, params.main_window)
        # each comparison aligned once; periods are masks on its dates
        position_pairs = [
            ("position_vs_implied", _aligned(pos.shift(1), implied)),
            ("lens_vs_implied", _aligned(lens, implied)),
        ]
        return_pairs = [
            (n, "daily", _aligned(strat["net"], r), 252) for n, r in bench_daily.items()
        ]
        for n, r in bench_month.items():
            # TSMOM is an excess-of-cash factor: compare it with the replica's excess return
            rep = rep_month_x if n == "tsmom_monthly" else rep_month
            return_pairs.append((n, "monthly", _aligned(rep, r), 12))
        for label, start, end in periods(params):
            for measure, (d, a, b) in position_pairs:
                m = _mask(d, start, end)
                rows.append(
                    {"model": model, "measure": measure, "benchmark": "sg_trend_index",
                     "frequency": "daily", "period": label, **_corr_sign(a[m], b[m])}
                )  # fmt: skip
            for bench, freq, (d, a, b), ppy in return_pairs:
                m = _mask(d, start, end)
                rows.append(
                    {"model": model, "measure": "strategy_returns", "benchmark": bench,
                     "frequency": freq, "period": label, **_return_stats(a[m], b[m], ppy)}
                )  # fmt: skip
    out = pd.DataFrame(rows)
    bounds = {label: (a, b) for label, a, b in periods(params)}
    out["start"] = [_date(bounds[p][0]) for p in out["period"]]
    out["end"] = [_date(bounds[p][1]) for p in out["period"]]
    return out.reindex(columns=list(VALIDATION_COLUMNS))


def _date(ts) -> str:
    return "" if ts is None else ts.date().isoformat()


def validation_series(
    positions: dict[str, pd.Series],
    spx_close: pd.Series,
    exposure: dict[str, pd.Series],
    params: ValidationParams,
) -> pd.DataFrame:
    """Date-indexed frame for the chart: implied exposure (and its standard error), each replica's
    held position and its exposure through the same lens, on the index's dates."""
    implied = exposure["slope"]
    spx_ret = daily_returns(spx_close)
    cols: dict[str, pd.Series] = {"implied": implied, "implied_se": exposure["se"]}
    for model, pos in positions.items():
        cols[f"{model}_position"] = pos.shift(1).reindex(implied.index)
        pnl = pos.shift(1) * spx_ret
        cols[f"{model}_lens"] = lens_exposure(pnl, spx_ret, implied.index, params.main_window)
    return pd.DataFrame(cols).reindex(implied.index)
