"""Full-history model run (vectorized, plus a row-by-row reference) and replays around events.

`full_history(prices, params)` is the benchmark entry point: signals, position, notional, flows,
percentile and every trigger level for all ~25,000 S&P 500 sessions, in a few milliseconds.
`full_history_loop` computes the same thing one session at a time from plain Python lists (used
by the tests to prove the vectorized code has no look-ahead and no off-by-one).

Event replays take the model from t-20 to t+20 around each event day t. The levels "at the event"
are those in force for the event day's close (computed on the close of t-1). A horizon's status at
the event close is ``held`` (still long), ``broke`` (not long, but long at some close in the
`break_lookback` = 5 sessions before: the level broke on the event day or just before), ``below``
(not long throughout) or ``n/a`` (warm-up). The summary compares forward returns of events that broke the short-term level with
those that held it; because that status is known at the event close, the comparison does not
condition on the future.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from eventlab.cta.levels import BRACKET_LOG, ZERO_TOL, level_arrays, level_frame
from eventlab.cta.signals import model_arrays, signal_frame
from eventlab.settings.cta import CTAParams


def full_history(prices: pd.DataFrame | pd.Series, params: CTAParams) -> pd.DataFrame:
    """Signals, position, notional, flows, percentile and levels for every session (vectorized)."""
    sig = signal_frame(prices, params)
    lev = level_frame(prices, params).drop(columns=["close"])
    return sig.join(lev)


def joined_history(cta_signals: pd.DataFrame, cta_levels: pd.DataFrame) -> pd.DataFrame:
    """The stored signal and level tables joined on date (the level table's close dropped)."""
    return cta_signals.join(cta_levels.drop(columns=["close"]))


def history_arrays(close: np.ndarray, params: CTAParams) -> dict[str, np.ndarray]:
    """`full_history`'s model columns as arrays (``level_<h>`` included, distances not): what a
    caller that reruns the model many times compares, without building frames each time."""
    return {**model_arrays(close, params), **level_arrays(close, params)}


def full_history_loop(prices: pd.DataFrame | pd.Series, params: CTAParams) -> pd.DataFrame:
    """Row-by-row reference of `full_history`: at each t only closes[: t + 1] are used."""
    close_s = prices["close"] if isinstance(prices, pd.DataFrame) else prices
    closes = [float(x) for x in close_s.to_numpy()]
    n = len(closes)
    a_vol = 2.0 / (params.vol_span + 1.0)
    floor = params.vol_floor / math.sqrt(params.trading_days)
    hs = list(zip(params.horizons, params.lookbacks, params.norm_weights, strict=True))
    fast: dict[str, float] = {}  # each horizon's EMAs, from its first close on
    slow: dict[str, float] = {}
    var: float | None = None
    sigmas: list[float] = []
    positions_valid: list[float] = []
    rows: list[dict[str, float]] = []
    for t in range(n):
        c = closes[: t + 1]  # everything the model may see at t
        if t >= 1:
            r = math.log(c[t] / c[t - 1])
            var = r * r if var is None else (1 - a_vol) * var + a_vol * r * r
        sigma = (
            max(math.sqrt(var), floor)
            if (var is not None and t >= params.vol_min_periods)
            else math.nan
        )
        sigmas.append(sigma)
        sigma_prev = sigmas[t - 1] if t >= 1 else math.nan
        row: dict[str, float] = {"close": c[t]}
        agg = 0.0
        level_list = []
        for h, lb, w in hs:
            af, as_ = 2.0 / (lb / 4.0 + 1.0), 2.0 / (lb + 1.0)
            fast[h] = c[t] if h not in fast else af * c[t] + (1 - af) * fast[h]
            slow[h] = c[t] if h not in slow else as_ * c[t] + (1 - as_) * slow[h]
            z = math.nan
            if t >= lb and not math.isnan(sigma_prev):
                if params.rule == "momentum":
                    tr = math.log(c[t] / c[t - lb])
                elif params.rule == "sma":
                    tr = math.log(c[t] / (sum(c[t - lb + 1 :]) / lb))
                else:
                    tr = (fast[h] - slow[h]) / c[t]
                z = tr / (sigma_prev * math.sqrt(lb))
            s = min(1.0, max(-1.0, z / params.saturation_z)) if not math.isnan(z) else math.nan
            row[f"z_{h}"] = z
            row[f"signal_{h}"] = s
            agg += w * s
            # level in force for t+1
            lvl = math.nan
            if t >= lb - 1 and not math.isnan(sigma):
                if params.rule == "momentum":
                    lvl = c[t - lb + 1]
                elif params.rule == "sma":
                    lvl = sum(c[t - lb + 2 :]) / (lb - 1)
                else:
                    lvl = ((1 - as_) * slow[h] - (1 - af) * fast[h]) / (af - as_)
            row[f"level_{h}"] = lvl
            level_list.append(lvl)
        scale = (
            min(params.max_scale, params.vol_target / (sigma_prev * math.sqrt(params.trading_days)))
            if not math.isnan(sigma_prev)
            else math.nan
        )
        pos = (
            min(1.0, max(-1.0, scale * agg))
            if not math.isnan(agg) and not math.isnan(scale)
            else math.nan
        )
        row.update(
            aggregate=agg, vol_scale=scale, position=pos, notional_usd=pos * params.capacity_usd
        )
        row["flow_usd"] = row["notional_usd"] - rows[-1]["notional_usd"] if rows else math.nan
        pct = math.nan
        if not math.isnan(pos):
            positions_valid.append(pos)
            hist = (
                positions_valid
                if params.percentile_lookback is None
                else positions_valid[-params.percentile_lookback :]
            )
            if len(positions_valid) >= params.percentile_min_periods:
                pct = 100.0 * sum(1 for x in hist if x <= pos) / len(hist)
        row["percentile"] = pct
        row["vol_ann"] = sigma_prev * math.sqrt(params.trading_days)
        # aggregate level: the next close P at which the recomputed next-session position changes sign
        row["level_aggregate"] = (
            _loop_aggregate_level(c, fast, slow, sigma, params)
            if all(not math.isnan(x) for x in level_list)
            else math.nan
        )
        rows.append(row)
    df = pd.DataFrame(rows, index=close_s.index)
    for h in (*params.horizons, "aggregate"):
        df[f"distance_{h}"] = df[f"level_{h}"] / df["close"] - 1.0
    return df


def _loop_aggregate_level(
    c: list[float],
    fast: dict[str, float],
    slow: dict[str, float],
    sigma: float,
    params: CTAParams,
) -> float:
    t1 = len(c)  # index of the hypothetical next session

    def agg_next(logp: float) -> float:
        p = math.exp(logp)
        total = 0.0
        for h, lb, w in zip(params.horizons, params.lookbacks, params.norm_weights, strict=True):
            if params.rule == "momentum":
                tr = math.log(p / c[t1 - lb])
            elif params.rule == "sma":
                tr = math.log(p / ((sum(c[t1 - lb + 1 :]) + p) / lb))
            else:
                af, as_ = 2.0 / (lb / 4.0 + 1.0), 2.0 / (lb + 1.0)
                f1 = af * p + (1 - af) * fast[h]
                s1 = as_ * p + (1 - as_) * slow[h]
                tr = (f1 - s1) / p
            z = tr / (sigma * math.sqrt(lb))
            total += w * min(1.0, max(-1.0, z / params.saturation_z))
        return total

    def g(logp: float) -> float:  # changes sign at inf{P: aggregate >= 0}
        v = agg_next(logp)
        return v if v < -ZERO_TOL else max(v, ZERO_TOL)

    a, b = math.log(c[-1]) - BRACKET_LOG, math.log(c[-1]) + BRACKET_LOG
    if not (g(a) < 0 and agg_next(b) > ZERO_TOL):
        return math.nan
    return math.exp(brentq(g, a, b, xtol=1e-13, rtol=1e-13, maxiter=200))


# --------------------------------------------------------------------------- event replays


def _event_positions(history: pd.DataFrame, events: pd.DataFrame) -> list[tuple[pd.Timestamp, int]]:
    dates = pd.to_datetime(events["date"]).dt.normalize()
    idx = history.index.get_indexer(pd.DatetimeIndex(dates))
    return [(pd.Timestamp(d), int(i)) for d, i in zip(dates, idx, strict=True) if i >= 0]


def event_replays(history: pd.DataFrame, events: pd.DataFrame, params: CTAParams) -> pd.DataFrame:
    """Day-by-day model from t-pre to t+post around each event (long format, one row per day)."""
    keep = ["close", "position", "notional_usd", "flow_usd", "percentile", "vol_ann", "aggregate"]
    for h in params.horizons:
        keep += [f"signal_{h}", f"level_{h}", f"distance_{h}"]
    keep += ["level_aggregate", "distance_aggregate"]
    cols = ["event_date", "date", "offset", *keep, "cum_flow_usd"]
    spans = [
        (d, i, max(0, i - params.replay_pre), min(len(history), i + params.replay_post + 1))
        for d, i in _event_positions(history, events)
    ]
    if not spans:
        return pd.DataFrame(columns=cols)
    # one positional take for every event's window (not a frame per event, then a concat)
    rows = np.concatenate([np.arange(lo, hi) for _, _, lo, hi in spans])
    sizes = [hi - lo for _, _, lo, hi in spans]
    at = np.repeat([i for _, i, _, _ in spans], sizes)
    notional = history["notional_usd"].to_numpy()
    out = history[keep].iloc[rows].rename_axis("date").reset_index()
    out.insert(0, "offset", rows - at)
    out.insert(0, "event_date", np.repeat(pd.DatetimeIndex([d for d, _, _, _ in spans]), sizes))
    # flows accumulated from the event day's open position (notional at t-1); NaN before t
    cum = notional[rows] - notional[np.maximum(at - 1, 0)]
    out["cum_flow_usd"] = np.where((rows >= at) & (at >= 1), cum, np.nan)
    return out[cols]


EVENT_LEVEL_BASE_COLUMNS = [
    "event_date", "horizon", "close_prev", "close_event", "level_at_event", "distance_at_event",
    "signal_prev", "signal_event", "status", "break_offset", "break_date", "break_close",
    "reclaim_offset", "reclaim_date", "position_prev", "position_event", "flow_event_usd",
]  # fmt: skip


def summary_horizons(horizons: Sequence[int]) -> tuple[int, ...]:
    """The study horizons the event summary (and the cumulative flows) report: those longer than
    one session (a one-day return says little about a trend level), or all if there are none."""
    return tuple(k for k in horizons if k > 1) or tuple(horizons)


def event_level_columns(horizons: Sequence[int]) -> list[str]:
    """cta_event_levels' columns for a study with these horizons (trading days): flows
    accumulated to each summary horizon, then the study's forward return at each horizon."""
    return [
        *EVENT_LEVEL_BASE_COLUMNS,
        *(f"cum_flow_{k}d_usd" for k in summary_horizons(horizons)),
        *(f"fwd_{k}d" for k in horizons),
    ]


def _forward_returns(
    history: pd.DataFrame, events: pd.DataFrame
) -> Callable[[pd.Timestamp, int, int], float]:
    """fwd(d, i, k): the return k sessions after the close of event day d (history row i): the
    event study's ``fwd_<k>d`` column if present (its first row dated d), else from the closes.
    The events' dates are parsed once here, not once per event and horizon."""
    dates = pd.DatetimeIndex(pd.to_datetime(events["date"])).normalize()
    first = ~dates.duplicated(keep="first")
    given = {
        col: dict(zip(dates[first], events[col].to_numpy()[first], strict=True))
        for col in events.columns
        if col.startswith("fwd_")
    }
    c = history["close"].to_numpy()

    def fwd(d: pd.Timestamp, i: int, k: int) -> float:
        study = given.get(f"fwd_{k}d", {})
        if d in study:
            return float(study[d])
        return float(c[i + k] / c[i] - 1.0) if i + k < len(c) else float("nan")

    return fwd


def classify(s: np.ndarray, i: int, lookback: int) -> str:
    """Status of one horizon at the close of event index i, from signals up to i only.

    ``held``: long at the event close; ``broke``: not long at the event close but long at some
    close in the `lookback` sessions before (the level broke on the event day or just before);
    ``below``: not long throughout; ``n/a``: warm-up.
    """
    if not np.isfinite(s[i]):
        return "n/a"
    if s[i] > 0:
        return "held"
    before = s[max(0, i - lookback) : i]
    return "broke" if np.any(before > 0) else "below"


def event_levels(
    history: pd.DataFrame,
    events: pd.DataFrame,
    params: CTAParams,
    *,
    horizons: Sequence[int],
) -> pd.DataFrame:
    """One row per event x horizon (plus ``aggregate``): level at the event, status, break and reclaim.

    `events` are the study's event days and `horizons` the study's forward horizons in trading
    days (the run's StudyParams.horizons; the replica's own horizons are params.horizons).

    ``level_at_event`` is the level in force for the event day's close (computed on t-1);
    ``distance_at_event`` = close_event / level_at_event - 1. ``break_offset`` is the session
    (relative to the event, 0 = event day) where the signal went from long to not long: for
    ``broke`` the last such session in [t - break_lookback, t], for ``held`` the first one in
    (t, t + replay_post]; ``reclaim_offset`` the first session in (t, t + replay_post] where a
    ``broke``/``below`` signal turned long again. Flows are changes in target notional (USD):
    ``cum_flow_kd_usd`` = notional at t+k minus notional at t-1 (k: summary_horizons).
    """
    horizons = tuple(int(k) for k in horizons)
    flow_ks = summary_horizons(horizons)
    rows = []
    sig = {h: history[f"signal_{h}"].to_numpy() for h in params.horizons}
    sig["aggregate"] = history["aggregate"].to_numpy()
    lvl = {h: history[f"level_{h}"].to_numpy() for h in (*params.horizons, "aggregate")}
    close = history["close"].to_numpy()
    notional = history["notional_usd"].to_numpy()
    pos = history["position"].to_numpy()
    n = len(history)
    dates = history.index
    forward = _forward_returns(history, events)
    for d, i in _event_positions(history, events):
        if i < 1:
            continue
        fwd = [forward(d, i, k) for k in horizons]
        cum = [(notional[i + k] - notional[i - 1]) if i + k < n else np.nan for k in flow_ks]
        post = slice(i + 1, min(n, i + params.replay_post + 1))
        for h in (*params.horizons, "aggregate"):
            s = sig[h]
            status = classify(s, i, params.break_lookback)
            brk = rec = None
            if status == "broke":
                lo = max(1, i - params.break_lookback)
                crossings = [j for j in range(lo, i + 1) if s[j - 1] > 0 and s[j] <= 0]
                brk = crossings[-1] - i if crossings else None
            elif status == "held":
                hits = np.flatnonzero(s[post] <= 0)
                brk = int(hits[0]) + 1 if hits.size else None
            if status in ("broke", "below"):
                hits = np.flatnonzero(s[post] > 0)
                rec = int(hits[0]) + 1 if hits.size else None
            level = float(lvl[h][i - 1])
            rows.append([
                d, h, close[i - 1], close[i], level, close[i] / level - 1.0 if np.isfinite(level) else np.nan,
                float(s[i - 1]), float(s[i]), status,
                brk if brk is not None else np.nan,
                dates[i + brk] if brk is not None else pd.NaT,
                close[i + brk] if brk is not None else np.nan,
                rec if rec is not None else np.nan,
                dates[i + rec] if rec is not None else pd.NaT,
                pos[i - 1], pos[i], notional[i] - notional[i - 1], *cum, *fwd,
            ])  # fmt: skip
    return pd.DataFrame(rows, columns=event_level_columns(horizons))


def summary_columns(horizons: Sequence[int]) -> list[str]:
    """cta_event_summary's columns for a study with these horizons: n, mean and median of the
    forward return at each summary horizon, the hit rate at the longest."""
    ks = summary_horizons(horizons)
    return [
        "horizon", "status", "n_events",
        *(f"{stat}_fwd_{k}d" for k in ks for stat in ("n", "mean", "median")),
        f"hit_rate_{max(ks)}d", "event_dates",
    ]  # fmt: skip


def event_summary(
    ev_levels: pd.DataFrame, params: CTAParams, *, horizons: Sequence[int]
) -> pd.DataFrame:
    """Forward returns (decimal fractions) of events grouped by each horizon's status at the event.

    Rows: every replica horizon (and ``aggregate``) x status in (broke, held, below, all); columns
    (summary_columns) for the study's `horizons`. ``n_fwd_*`` counts events with that forward
    return available; with a handful of events, read the medians and the per-event rows, not the
    means alone.
    """
    ks = summary_horizons(tuple(int(k) for k in horizons))
    rows = []
    # dates formatted once (not once per horizon and status)
    ev_levels = ev_levels.assign(
        event_date=pd.to_datetime(ev_levels["event_date"]).dt.strftime("%Y-%m-%d")
    )
    for h in (*params.horizons, "aggregate"):
        sub_h = ev_levels[ev_levels["horizon"] == h]
        for status in ("broke", "held", "below", "all"):
            sub = sub_h if status == "all" else sub_h[sub_h["status"] == status]
            row: list[object] = [h, status, len(sub)]
            for k in ks:
                f = sub[f"fwd_{k}d"].dropna()
                row += [len(f), f.mean() if len(f) else np.nan, f.median() if len(f) else np.nan]
            last = sub[f"fwd_{max(ks)}d"].dropna()
            row += [(last > 0).mean() if len(last) else np.nan, ", ".join(sub["event_date"])]
            rows.append(row)
    return pd.DataFrame(rows, columns=summary_columns(ks))
