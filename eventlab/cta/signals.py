"""Vol-targeted trend signals, the aggregate CTA position, its USD notional, flows and percentile.

The model (parameters in `eventlab.settings.cta.CTAParams`), for each session t and horizon h with
lookback L:

    r_t        = ln(P_t / P_{t-1})
    v_t        = EWMA_span(r^2) through t              sigma_t = max(sqrt(v_t), floor)
    z_h(t)     = trend_h(P_..t) / (sigma_{t-1} * sqrt(L))   (vol from the previous close)
    s_h(t)     = clip(z_h / saturation_z, -1, 1)
    a(t)       = sum_h w_h s_h(t)                        (weights normalized to sum 1)
    position_t = clip(min(max_scale, vol_target / (sigma_{t-1} sqrt(252))) * a(t), -1, 1)
    notional_t = position_t * capacity_usd               flow_t = notional_t - notional_{t-1}

with trend_h = ln(P_t / P_{t-L}) (momentum), ln(P_t / SMA_L(t)) (sma), or
(EWMA_{L/4}(P) - EWMA_L(P)) / P_t (ewmac). Every quantity at t uses closes up to t only; the
functions here are vectorized over the whole history (NumPy / SciPy, no Python loop over days).
Flows are changes in target notional (the convention desks quote); the mark-to-market drift of an
unchanged futures holding is not a flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventlab.settings.cta import CTAParams


@dataclass(frozen=True)
class Memory:
    """Everything the model carries from closes before `offset` into a run on ``close[offset:]``.

    The model is recursive: its EWMAs (volatility; the ewmac pair) depend on the past only through
    their value at `offset`, the sma's rolling sums only through the running sum of earlier closes,
    and momentum only through closes inside the slice. Started from this memory, `model_arrays`
    on ``close[offset:]`` reproduces the full-history run bit for bit on every row whose lookback
    lies inside the slice (slice row >= max_lookback; for flow_usd, a difference, the row after);
    earlier rows come out NaN. Scenarios use it to rerun the model on a few hundred rows instead
    of the whole history (`memory_at`).
    """

    offset: int
    var: float  # EWMA of squared log returns through close[offset]
    close_sum: float  # sum of close[:offset], accumulated left to right like np.cumsum
    fast: tuple[float, ...] = ()  # ewmac only: EWMA_{L/4} and EWMA_L of closes through offset
    slow: tuple[float, ...] = ()


def ewma(x: np.ndarray, span: float, first: float | None = None) -> np.ndarray:
    """Recursive EWMA y_t = a x_t + (1 - a) y_{t-1}, a = 2 / (span + 1), started at the first finite x.

    Equivalent to ``pd.Series(x).ewm(span=span, adjust=False).mean()`` for a series whose NaNs are
    all leading; NaN before the first finite value. `first` continues an EWMA whose value at x[0]
    is known (x[0] is replaced by it: the recursion's first output is its first input).
    """
    x = np.asarray(x, dtype=float)
    if first is not None:
        x = x.copy()
        x[0] = first
    out = np.full(x.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(x))
    if finite.size == 0:
        return out
    i0 = finite[0]
    # pandas' compiled adjust=False recursion is exactly this filter (span >= 1, as CTAParams
    # validates); it spares the run importing scipy.signal (~0.5 s) for one linear recursion.
    out[i0:] = pd.Series(x[i0:]).ewm(span=span, adjust=False).mean().to_numpy()
    return out


def _check_close(close: np.ndarray) -> np.ndarray:
    close = np.asarray(close, dtype=float)
    if close.ndim != 1:
        raise ValueError("close must be one-dimensional")
    if close.size and (not np.all(np.isfinite(close)) or np.any(close <= 0)):
        raise ValueError(
            "close prices must be finite and > 0 (drop or fill missing sessions first)"
        )
    return close


def return_var(close: np.ndarray, params: CTAParams, memory: Memory | None = None) -> np.ndarray:
    """v_t: EWMA of squared daily log returns through t (NaN before the first return)."""
    close = _check_close(close)
    n = close.size
    r = np.full(n, np.nan)
    if n > 1:
        r[1:] = np.diff(np.log(close))
    return ewma(r * r, params.vol_span, None if memory is None else memory.var)


def daily_vol(close: np.ndarray, params: CTAParams, memory: Memory | None = None) -> np.ndarray:
    """sigma_t: EWMA daily volatility of log returns through t (NaN during warm-up), floored."""
    sigma = np.sqrt(return_var(close, params, memory))
    sigma = np.maximum(sigma, params.vol_floor / np.sqrt(params.trading_days))
    # fewer than vol_min_periods returns through t (t counted from the history's first close)
    sigma[: max(0, params.vol_min_periods - (memory.offset if memory else 0))] = np.nan
    return sigma


def lag(x: np.ndarray, k: int = 1) -> np.ndarray:
    """x shifted forward by k sessions (x_{t-k} at t), NaN-padded."""
    out = np.full(x.shape, np.nan)
    if k < x.size:
        out[k:] = x[: x.size - k]
    return out


def rolling_mean(close: np.ndarray, n: int, before: float = 0.0) -> np.ndarray:
    """Mean of the last n closes through t (NaN until n closes exist); cumulative-sum based.

    `before` is the sum of the closes preceding `close` (a slice of a longer history), so the
    running sums, hence the means, are the longer history's to the bit."""
    out = np.full(close.shape, np.nan)
    if close.size >= n:
        c = np.cumsum(np.concatenate(([before], close)))
        out[n - 1 :] = (c[n:] - c[:-n]) / n
    return out


def ewmac_alphas(lookback: int) -> tuple[float, float]:
    """(alpha_fast, alpha_slow) of the EWMAC pair for one horizon: spans L/4 and L."""
    return 2.0 / (lookback / 4.0 + 1.0), 2.0 / (lookback + 1.0)


def trend(
    close: np.ndarray, lookback: int, rule: str, memory: Memory | None = None, horizon: int = 0
) -> np.ndarray:
    """The raw (not vol-normalized) trend of one horizon at every t; NaN before t = lookback.

    With `memory` (`close` is a slice of a longer history), `horizon` is the lookback's position
    in the parameters (which remembered ewmac pair to continue)."""
    close = _check_close(close)
    if rule == "momentum":
        logp = np.log(close)
        out = logp - lag(logp, lookback)
    elif rule == "sma":
        out = np.log(close / rolling_mean(close, lookback, memory.close_sum if memory else 0.0))
    elif rule == "ewmac":
        af, as_ = ewmac_alphas(lookback)
        fast = ewma(close, 2.0 / af - 1.0, memory.fast[horizon] if memory else None)
        slow = ewma(close, 2.0 / as_ - 1.0, memory.slow[horizon] if memory else None)
        out = (fast - slow) / close
    else:
        raise ValueError(f"unknown rule {rule!r}")
    out[: min(lookback, out.size)] = np.nan
    return out


def squash(z: np.ndarray, params: CTAParams) -> np.ndarray:
    """Signal in [-1, 1] from a vol-normalized trend strength z."""
    return np.clip(z / params.saturation_z, -1.0, 1.0)


def vol_scale(sigma_prev: np.ndarray, params: CTAParams) -> np.ndarray:
    """Volatility-targeting scale min(max_scale, vol_target / annualized sigma_{t-1})."""
    return np.minimum(
        params.max_scale, params.vol_target / (sigma_prev * np.sqrt(params.trading_days))
    )


def expanding_percentile(x: np.ndarray, params: CTAParams) -> np.ndarray:
    """Percentile (0-100) of x_t among x's valid history up to and including t (no look-ahead).

    Defined as 100 * share of history <= x_t; NaN until `percentile_min_periods` valid values.
    Expanding by default, rolling over `percentile_lookback` sessions if set.
    """
    s = pd.Series(x)
    valid = s.dropna()
    out = np.full(s.shape, np.nan)
    if valid.empty:
        return out
    if params.percentile_lookback is None:
        roller = valid.expanding(min_periods=params.percentile_min_periods)
    else:
        roller = valid.rolling(
            params.percentile_lookback, min_periods=params.percentile_min_periods
        )
    ranks = roller.rank(method="max", pct=True).to_numpy() * 100.0
    out[valid.index.to_numpy()] = ranks
    return out


def model_arrays(
    close: np.ndarray,
    params: CTAParams,
    *,
    percentile: bool = True,
    memory: Memory | None = None,
) -> dict[str, np.ndarray]:
    """The whole signal model as arrays aligned with `close` (vectorized, no look-ahead).

    Keys: ``sigma`` (daily vol through t), ``sigma_prev`` (through t-1, the one used at t),
    ``z_<h>``, ``signal_<h>`` per horizon, ``aggregate``, ``vol_scale``, ``position``,
    ``notional_usd``, ``flow_usd`` and, if requested, ``percentile``. With `memory`, `close` is
    ``history[memory.offset:]`` and rows from max_lookback on equal the full-history run's
    (see `Memory`; the percentile, which ranks against the whole history, is then not offered).
    """
    if memory is not None and percentile:
        raise ValueError(
            "a run continued from memory has no percentile (it needs the whole history)"
        )
    close = _check_close(close)
    sigma = daily_vol(close, params, memory)
    sigma_prev = lag(sigma)
    out: dict[str, np.ndarray] = {"sigma": sigma, "sigma_prev": sigma_prev}
    agg = np.zeros(close.size)
    for i, (name, lb, w) in enumerate(
        zip(params.horizons, params.lookbacks, params.norm_weights, strict=True)
    ):
        z = trend(close, lb, params.rule, memory, i) / (sigma_prev * np.sqrt(lb))
        s = squash(z, params)
        out[f"z_{name}"] = z
        out[f"signal_{name}"] = s
        agg = agg + w * s
    scale = vol_scale(sigma_prev, params)
    position = np.clip(scale * agg, -1.0, 1.0)
    notional = position * params.capacity_usd
    flow = notional - lag(notional)
    out.update(
        aggregate=agg, vol_scale=scale, position=position, notional_usd=notional, flow_usd=flow
    )
    if percentile:
        out["percentile"] = expanding_percentile(position, params)
    return out


def memory_at(close: np.ndarray, params: CTAParams, offset: int) -> Memory:
    """The model's `Memory` at close[offset] (offset >= 1: the volatility EWMA has a return)."""
    close = _check_close(close)
    if not 1 <= offset < close.size:
        raise ValueError(f"offset must be in [1, {close.size - 1}], got {offset}")
    head = close[: offset + 1]
    fast: list[float] = []
    slow: list[float] = []
    if params.rule == "ewmac":
        for lb in params.lookbacks:
            af, as_ = ewmac_alphas(lb)
            fast.append(float(ewma(head, 2.0 / af - 1.0)[-1]))
            slow.append(float(ewma(head, 2.0 / as_ - 1.0)[-1]))
    return Memory(
        offset=offset,
        var=float(return_var(head, params)[-1]),
        close_sum=float(np.cumsum(close[:offset])[-1]),
        fast=tuple(fast),
        slow=tuple(slow),
    )


def signal_frame(prices: pd.DataFrame | pd.Series, params: CTAParams) -> pd.DataFrame:
    """Full-history signals, position, notional, flows and percentile, indexed like `prices`.

    `prices` is the canonical daily frame (column ``close``) or a close Series.
    """
    close = prices["close"] if isinstance(prices, pd.DataFrame) else prices
    arrays = model_arrays(close.to_numpy(dtype=float), params)
    df = pd.DataFrame({"close": close.to_numpy(dtype=float), **arrays}, index=close.index)
    df["vol_ann"] = df.pop("sigma_prev") * np.sqrt(params.trading_days)
    df = df.drop(columns=["sigma"])
    return df
