"""The two backtests: the CTA replica as a strategy, and the event signal as a strategy.

Replica (from `BacktestParams.start`, 1929): position p_t decided on the close of t, held over
t+1; r_t = p_{t-1} R_t + (1 - p_{t-1}) rf_t - c |p_t - p_{t-1}| (eventlab.cta.validation.
strategy_returns). R is the market's total return (eventlab.backtest.total_return: dividends
reinvested), as an index-futures position on cash collateral earns it; buy-and-hold is the same
total return, fully invested, no costs, so the two compare like for like. The S&P 500 price
index without dividends is shown beside it as `buy_and_hold_price` (labelled, not a benchmark).
SG Trend is its published level series (net of fees, with its own interest on cash); the
``common`` rows measure every strategy on SG Trend's span.

Event signal: on each event day t, buy at the open of t+1 (the default: a trader who sees the
close first) or at the close of t (a variant that needs the closing print to decide, a mild
look-ahead) and sell at the close of t+k, for each study horizon k, on the study index's prices
(no dividends over the 1-20 session hold: conservative for the strategy). Overlapping trades are
merged (one unit at most); out of the market the capital earns cash. Costs: c per unit traded,
at entry and at exit. Random entries:
`draws` sets of the same number of entries, drawn with replacement (seeded) from the study's
sample days that have a k-session future, held k sessions with the same costs; the event trades'
mean net return is ranked within that distribution. Events fall in stressed markets, which
rebound on average, so a second benchmark matches the regime: each random entry is drawn from
the sample days in the same VIX quintile as its event (eventlab.study.evidence.vix_quintiles, the
VIX-matched baseline's regimes). Below the study's minimum event count the distributions are
shown but no p-value is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.backtest.metrics import METRIC_COLUMNS, performance
from eventlab.cta.reference import daily_returns
from eventlab.cta.validation import strategy_returns
from eventlab.study.evidence import vix_quintiles

TRADE_COLUMNS = (
    "entry",
    "horizon",
    "event_date",
    "entry_date",
    "entry_price",
    "exit_date",
    "exit_price",
    "gross_return",
    "cost",
    "net_return",
    "overlaps_previous",
)
RANDOM_COLUMNS = (
    "random_draws",
    "random_mean_p05",
    "random_mean_p50",
    "random_mean_p95",
    "random_hit_p50",
    "random_percentile",
    "random_p_value",
)
MATCHED_PREFIX = "vix_matched_"  # the regime-matched benchmark's columns: RANDOM_COLUMNS renamed
MATCHED_COLUMNS = tuple(c.replace("random_", MATCHED_PREFIX) for c in RANDOM_COLUMNS)
BACKTEST_COLUMNS = (
    "strategy",
    "kind",
    "entry",
    "horizon",
    "period",
    *METRIC_COLUMNS,
    "n_trades",
    "hit_rate",
    "mean_trade",
    *RANDOM_COLUMNS,
    *MATCHED_COLUMNS,
    "cost_bp",
    "deflated_sharpe",
    "dsr_benchmark_sharpe",
    "dsr_trials",
)
# buy-and-hold's two rows: total return (the benchmark) and the price index (shown, labelled)
BUY_AND_HOLD = "buy_and_hold"
BUY_AND_HOLD_PRICE = "buy_and_hold_price"


def _row(strategy: str, kind: str, period: str, metrics: dict, **extra) -> dict[str, object]:
    return {"strategy": strategy, "kind": kind, "period": period, **metrics, **extra}


def replica_backtest(
    spx_close: pd.Series,
    positions: dict[str, pd.Series],
    cash: pd.Series,
    cost_bp: float,
    start,
    sg_trend: pd.Series | None = None,
    total_return: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metrics rows (BACKTEST_COLUMNS) and daily net returns (one column per strategy).

    `total_return` is the market's daily total return on `spx_close`'s sessions: the replicas'
    equity leg and the `buy_and_hold` row; without it the equity leg is the price return and
    only the labelled price-only buy-and-hold is shown. Periods: ``full`` (from `start`; SG
    Trend from its first day) and ``common`` (the span SG Trend covers, so every strategy is
    measured on the same dates)."""
    spx_ret = daily_returns(spx_close)
    equity = spx_ret if total_return is None else total_return.reindex(spx_ret.index)
    strat = {n: strategy_returns(p, equity, cash, cost_bp) for n, p in positions.items()}
    # every strategy starts on the first session all replicas hold a position from `start`
    start = max([pd.Timestamp(start), *(s.index[0] for s in strat.values())])
    series: dict[str, dict[str, pd.Series]] = {}
    for name, s in strat.items():
        s = s.loc[start:]
        series[name] = {
            "r": s["net"],
            "turnover": s["turnover"],
            "cost": s["cost"],
            "in_market": s["position_held"].abs() > 0,
        }
    benchmarks = {BUY_AND_HOLD_PRICE: spx_ret}
    if total_return is not None:
        benchmarks = {BUY_AND_HOLD: equity, **benchmarks}
    for name, r in benchmarks.items():
        bh = r.loc[start:]
        series[name] = {"r": bh, "in_market": pd.Series(True, index=bh.index)}
    rf = cash.reindex(spx_ret.loc[start:].index).fillna(0.0)
    series["cash"] = {"r": rf}
    common = None
    if sg_trend is not None:
        sg_r = daily_returns(sg_trend)
        series["sg_trend_index"] = {"r": sg_r}
        common = (sg_r.index[0], sg_r.index[-1])
    rows = []
    for name, parts in series.items():
        kind = "model" if name in positions else "measured"
        spans: list[tuple[str, tuple[pd.Timestamp, pd.Timestamp] | None]]
        spans = [] if name == "sg_trend_index" else [("full", None)]
        spans += [("common", common)] if common else []
        for label, span in spans:
            cut = {k: (v.loc[span[0] : span[1]] if span else v) for k, v in parts.items()}
            r = cut.pop("r")
            m = performance(r, rf=cash, **cut)
            rows.append(
                _row(name, kind, label, m, entry="", horizon=np.nan,
                     cost_bp=cost_bp if kind == "model" else 0.0)
            )  # fmt: skip
    daily = pd.DataFrame({k: v["r"] for k, v in series.items()})
    return pd.DataFrame(rows).reindex(columns=list(BACKTEST_COLUMNS)), daily


def _trade_arrays(n: int, e: np.ndarray, k: int, entry: str) -> tuple[np.ndarray, np.ndarray]:
    """(held close-to-close per session, open-to-close per session) for trades at positions e."""
    start_cc = e + 1 if entry == "close" else e + 2
    diff = np.zeros(n + 2)
    np.add.at(diff, start_cc, 1)
    np.add.at(diff, e + k + 1, -1)
    held = np.cumsum(diff)[:n] > 0
    intraday = np.zeros(n, bool)
    if entry == "next_open":
        intraday[e + 1] = True
    return held, intraday & ~held


def event_strategy(
    px: pd.DataFrame,
    event_dates: pd.DatetimeIndex,
    k: int,
    entry: str,
    cash: pd.Series,
    cost_bp: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-trade table (TRADE_COLUMNS) and the daily frame (net, turnover, cost, in_market)."""
    close = px["close"].to_numpy(float)
    opn = px["open"].to_numpy(float)
    n = len(close)
    c = cost_bp / 1e4
    pos = px.index.get_indexer(event_dates)
    if (pos < 0).any():
        raise KeyError("an event date is not in the price index")
    e = np.sort(pos[pos + k < n])  # trades whose exit is inside the data
    entry_idx = e if entry == "close" else e + 1
    entry_px = close[e] if entry == "close" else opn[e + 1]
    gross = close[e + k] / entry_px - 1.0
    first_held = e + 1
    prev_exit = np.concatenate(([-1], (e + k)[:-1]))
    trades = pd.DataFrame(
        {
            "entry": entry,
            "horizon": k,
            "event_date": px.index[e],
            "entry_date": px.index[entry_idx],
            "entry_price": entry_px,
            "exit_date": px.index[e + k],
            "exit_price": close[e + k],
            "gross_return": gross,
            "cost": 2 * c,
            "net_return": gross - 2 * c,
            "overlaps_previous": first_held <= prev_exit,
        }
    )
    held, intraday = _trade_arrays(n, e, k, entry)
    r_cc = np.concatenate(([np.nan], close[1:] / close[:-1] - 1.0))
    r_oc = close / opn - 1.0
    rf = cash.reindex(px.index).fillna(0.0).to_numpy(float)
    exposed = held | intraday
    # position at each close: held over the next session from the close
    p_close = np.concatenate((held[1:], [False]))
    enter_close = p_close & ~exposed
    enter_open = intraday
    exit_close = exposed & ~p_close
    turnover = enter_close.astype(float) + enter_open + exit_close
    ret = np.where(held, r_cc, np.where(intraday, r_oc, rf)) - c * turnover
    daily = pd.DataFrame(
        {"net": ret, "turnover": turnover, "cost": c * turnover, "in_market": exposed},
        index=px.index,
    )
    return trades.reindex(columns=list(TRADE_COLUMNS)), daily


def random_entries(
    px: pd.DataFrame,
    eligible: np.ndarray,
    n_trades: int,
    k: int,
    entry: str,
    cost_bp: float,
    draws: int,
    seed: int,
    match: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(mean net return, hit rate) of each of `draws` random sets of `n_trades` entries drawn
    with replacement from the positions `eligible` (those with a k-session future), seeded.

    `match` = (regime of each row of `px`, regime of each of the n_trades event entries): the
    j-th entry of every set is then drawn from the eligible rows in the j-th event's regime
    (NaN results when some event's regime has no eligible row)."""
    close = px["close"].to_numpy(float)
    opn = px["open"].to_numpy(float)
    elig = eligible[eligible + k < len(close)]
    nothing = np.full(draws, np.nan), np.full(draws, np.nan)
    if n_trades == 0 or elig.size == 0:
        return nothing
    entry_px = close[elig] if entry == "close" else opn[elig + 1]
    net = close[elig + k] / entry_px - 1.0 - 2 * cost_bp / 1e4
    rng = np.random.default_rng(seed)
    if match is None:
        pick = rng.integers(0, elig.size, size=(draws, n_trades))
    else:
        row_regime, event_regime = np.asarray(match[0])[elig], np.asarray(match[1])
        pick = np.empty((draws, n_trades), dtype=np.int64)
        for regime in np.unique(event_regime):
            cols, pool = (
                np.flatnonzero(event_regime == regime),
                np.flatnonzero(row_regime == regime),
            )
            if pool.size == 0:
                return nothing
            pick[:, cols] = pool[rng.integers(0, pool.size, size=(draws, cols.size))]
    sample = net[pick]
    return sample.mean(axis=1), (sample > 0).mean(axis=1)


def random_summary(
    actual_mean: float, means: np.ndarray, hits: np.ndarray, with_p: bool = True
) -> dict[str, float]:
    """Where the event trades' mean net return falls in the random-entry distribution (no
    p-value unless `with_p`: too few trades for one)."""
    if not np.isfinite(actual_mean) or not np.isfinite(means).any():
        return dict.fromkeys(RANDOM_COLUMNS, np.nan) | {"random_draws": len(means)}
    q = np.quantile(means, [0.05, 0.5, 0.95])
    return {
        "random_draws": len(means),
        "random_mean_p05": float(q[0]),
        "random_mean_p50": float(q[1]),
        "random_mean_p95": float(q[2]),
        "random_hit_p50": float(np.median(hits)),
        "random_percentile": float(100.0 * np.mean(means <= actual_mean)),
        # one-sided, add-one: share of random draws at least as good as the events
        "random_p_value": float((1 + np.sum(means >= actual_mean)) / (1 + len(means)))
        if with_p
        else np.nan,
    }


def _matched(summary: dict[str, float]) -> dict[str, float]:
    """random_summary's fields under the regime-matched benchmark's column names."""
    return {k.replace("random_", MATCHED_PREFIX): v for k, v in summary.items()}


def event_backtest(
    px: pd.DataFrame,
    event_dates: pd.DatetimeIndex,
    in_sample: pd.Series,
    horizons: tuple[int, ...],
    entries: tuple[str, ...],
    cash: pd.Series,
    cost_bp: float,
    draws: int,
    seed: int,
    vix: pd.Series | None = None,
    min_trades: int = 1,
    total_return: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(metrics rows, all trades, daily net returns per strategy) for every entry x horizon,
    plus buy-and-hold over the same span (the study's sample from its first day): the price
    index, and the market's total return when `total_return` (daily, on `px`'s sessions) is
    given. With `vix`
    (daily closes) the rows also rank the events among regime-matched random entries; with
    fewer than `min_trades` trades the rankings carry no p-value. An empty study sample (a window
    with no usable open, a valid configuration) has no event strategy to run: no rows."""
    span = in_sample[in_sample.astype(bool)].index
    if len(span) == 0:
        return (
            pd.DataFrame(columns=list(BACKTEST_COLUMNS)),
            pd.DataFrame(columns=list(TRADE_COLUMNS)),
            pd.DataFrame(index=pd.DatetimeIndex([], name=px.index.name)),
        )
    px = px.loc[span[0] :]
    eligible = px.index.get_indexer(span[span >= span[0]])
    eligible = eligible[(eligible >= 0) & (eligible + 1 < len(px))]
    regime = np.full(len(px), -1)
    if vix is not None:
        regime[eligible] = vix_quintiles(vix.reindex(px.index[eligible]).to_numpy(float))
    rows, trades, daily = [], [], {}
    for entry in entries:
        for i, k in enumerate(horizons):
            tr, d = event_strategy(px, event_dates, k, entry, cash, cost_bp)
            name = f"event_{entry}_{k}d"
            m = performance(
                d["net"].iloc[1:], rf=cash, turnover=d["turnover"], cost=d["cost"],
                in_market=d["in_market"],
            )  # fmt: skip
            draw_seed = seed + 1000 * i + len(entry)
            means, hits = random_entries(px, eligible, len(tr), k, entry, cost_bp, draws, draw_seed)
            mean_trade = float(tr["net_return"].mean()) if len(tr) else np.nan
            with_p = len(tr) >= min_trades
            matched = dict.fromkeys(MATCHED_COLUMNS, np.nan)
            if vix is not None:
                event_regime = regime[px.index.get_indexer(tr["event_date"])]
                m_means, m_hits = random_entries(px, eligible, len(tr), k, entry, cost_bp, draws,
                                                 draw_seed + 500, match=(regime, event_regime))  # fmt: skip
                matched = _matched(random_summary(mean_trade, m_means, m_hits, with_p))
            rows.append(
                _row(name, "measured", "study sample", m, entry=entry, horizon=k,
                     n_trades=len(tr), hit_rate=float((tr["net_return"] > 0).mean()) if len(tr) else np.nan,
                     mean_trade=mean_trade, cost_bp=cost_bp,
                     **random_summary(mean_trade, means, hits, with_p), **matched)
            )  # fmt: skip
            trades.append(tr)
            daily[name] = d["net"].iloc[1:]
    benchmarks = {BUY_AND_HOLD_PRICE: px["close"].pct_change().iloc[1:]}
    if total_return is not None:
        benchmarks = {BUY_AND_HOLD: total_return.reindex(px.index).iloc[1:], **benchmarks}
    for name, bh in benchmarks.items():
        rows.append(
            _row(name, "measured", "study sample", performance(bh, rf=cash,
                 in_market=pd.Series(True, index=bh.index)), entry="", horizon=np.nan, cost_bp=0.0)
        )  # fmt: skip
        daily[name] = bh
    all_trades = pd.concat(trades, ignore_index=True) if trades else pd.DataFrame()
    return (
        pd.DataFrame(rows).reindex(columns=list(BACKTEST_COLUMNS)),
        all_trades.reindex(columns=list(TRADE_COLUMNS)),
        pd.DataFrame(daily),
    )


def combined_daily(replica_daily: pd.DataFrame, event_daily: pd.DataFrame) -> pd.DataFrame:
    """The replica's and the event strategies' daily returns side by side (event columns that
    clash get `_study`), on every session of either: the study index may trade on sessions the
    S&P 500 did not (and vice versa)."""
    return replica_daily.join(event_daily, rsuffix="_study", how="outer")
