"""Vectorised array operations the condition language is built from. Numbers are float arrays with
NaN for missing; conditions are float arrays holding 1.0 (true), 0.0 (false) or NaN (unknown), so
a missing input makes a comparison unknown instead of silently false, and `and`/`or`/`not` follow
SQL's three-valued (Kleene) logic."""

from __future__ import annotations

import numpy as np
import pandas as pd

TRADING_DAYS_PER_YEAR = 252


def shift(x: np.ndarray, k: int) -> np.ndarray:
    """x lagged by k >= 0 rows (the value k sessions earlier); NaN where there is none."""
    if k == 0:
        return x
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[:-k]
    return out


def finite(x: np.ndarray) -> np.ndarray:
    """x with infinities (a division by zero) made missing."""
    x = np.asarray(x, dtype=float)
    bad = np.isinf(x)
    if bad.any():
        x = x.copy()
        x[bad] = np.nan
    return x


def compare(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a <op> b as a condition: unknown where either side is missing."""
    with np.errstate(invalid="ignore"):
        held = _COMPARISONS[op](a, b)
    out = held.astype(float)
    out[np.isnan(a) | np.isnan(b)] = np.nan
    return out


_COMPARISONS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def logical_not(a: np.ndarray) -> np.ndarray:
    """not a: unknown stays unknown."""
    return 1.0 - a


def logical_and(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a and b: false if either is false, else unknown if either is unknown, else true."""
    out = np.minimum(a, b)  # propagates NaN ...
    out[(a == 0) | (b == 0)] = 0.0  # ... except that one false side decides
    return out


def logical_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a or b: true if either is true, else unknown if either is unknown, else false."""
    out = np.maximum(a, b)
    out[(a == 1) | (b == 1)] = 1.0
    return out


def rolling(x: np.ndarray, n: int, how: str) -> np.ndarray:
    """Trailing n-row mean/max/min/std (ddof 1) including the current row; missing unless all n
    rows are present."""
    r = pd.Series(x).rolling(n, min_periods=n)
    return np.asarray(getattr(r, how)(), dtype=float)


def _on_present(x: np.ndarray, fn) -> np.ndarray:
    """fn applied to the present values of x in order (missing rows skipped), scattered back."""
    present = ~np.isnan(x)
    out = np.full(len(x), np.nan)
    out[present] = fn(x[present])
    return out


def _ema_present(x: np.ndarray, n: int) -> np.ndarray:
    """EMA with alpha 2/(n+1), seeded by the first value, missing for the first n-1 values."""
    return pd.Series(x).ewm(span=n, adjust=False, min_periods=n).mean().to_numpy()


def ema(x: np.ndarray, n: int) -> np.ndarray:
    """Exponential moving average over the present values (a missing row is skipped, not zero)."""
    return _on_present(x, lambda v: _ema_present(v, n))


def _wilder(values: np.ndarray, n: int) -> np.ndarray:
    """Wilder's smoothing of values[1:]: the mean of the first n, then (prev*(n-1) + v)/n; aligned
    on values (missing for the first n rows)."""
    out = np.full(len(values), np.nan)
    if len(values) <= n:
        return out
    seeded = np.concatenate(([values[1 : n + 1].mean()], values[n + 1 :]))
    out[n:] = pd.Series(seeded).ewm(alpha=1.0 / n, adjust=False).mean().to_numpy()
    return out


def _rsi_present(close: np.ndarray, n: int) -> np.ndarray:
    """Wilder's RSI(n) on a gap-free close series."""
    change = np.diff(close, prepend=np.nan)
    gain = _wilder(np.clip(change, 0, None), n)
    loss = _wilder(np.clip(-change, 0, None), n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + gain / loss)
    rsi[(loss == 0) & (gain > 0)] = 100.0
    rsi[(loss == 0) & (gain == 0)] = 50.0  # no movement at all: neither overbought nor oversold
    return rsi


def rsi(close: np.ndarray, n: int) -> np.ndarray:
    """Wilder's RSI(n) (0-100) over the present closes (a missing row is skipped)."""
    return _on_present(close, lambda v: _rsi_present(v, n))


def realised_vol(close: np.ndarray, n: int) -> np.ndarray:
    """Annualised realised volatility: sample std of the last n daily log returns times sqrt(252)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ret = finite(np.log(close / shift(close, 1)))
    return rolling(log_ret, n, "std") * np.sqrt(TRADING_DAYS_PER_YEAR)


def streak(close: np.ndarray, down: bool) -> np.ndarray:
    """Consecutive closes below (down) or above the prior close, ending today; 0 when today's close
    is not, missing when today's or the prior close is missing."""
    prev = shift(close, 1)
    with np.errstate(invalid="ignore"):
        moved = close < prev if down else close > prev
    known = ~(np.isnan(close) | np.isnan(prev))
    moved &= known
    idx = np.arange(len(close))
    # Each row's run starts after the last row that did not move the right way.
    last_reset = np.maximum.accumulate(np.where(moved, -1, idx))
    out = (idx - last_reset).astype(float)
    out[~known] = np.nan
    return out


def first_in(cond: np.ndarray, m: int) -> np.ndarray:
    """cond holds today and held in none of the previous m sessions (unknown when an earlier
    session is unknown or before the data starts and today's cond is true)."""
    prior = shift(cond, 1)
    held = np.nan_to_num(prior, nan=0.0)
    unknown = np.isnan(prior).astype(float)
    # Window sums over the m previous rows by cumulative sums; the shifted first row is unknown,
    # so every window reaching before the data counts as unknown.
    held_m = _window_sum(held, m)
    unknown_m = _window_sum(unknown, m)
    none_before = np.where(held_m > 0, 0.0, np.where(unknown_m > 0, np.nan, 1.0))
    return logical_and(cond, none_before)


def _window_sum(x: np.ndarray, m: int) -> np.ndarray:
    """Sum of x over the trailing m rows including the current one (fewer at the start)."""
    c = np.cumsum(x)
    out = c.copy()
    out[m:] -= c[:-m]
    return out
