"""Trigger levels: for every close t, the price at which each horizon's signal flips at the next close.

A level computed on the close of t is the level "in force" for session t+1 (what a desk publishes
after the close). Because volatility is taken from the previous close, the next session's
vol-normalized trend z_h(t+1) depends on the unknown price P only through its trend, so:

* momentum (L): z = ln(P / P_{t+1-L}) / (sigma_t sqrt(L))      -> level = the close L-1 sessions ago
* sma (L):      z = ln(L P / (P + S)) / (sigma_t sqrt(L)),
                S = sum of the last L-1 closes                  -> level = S / (L-1), their mean
* ewmac (L):    fast' = a_f P + (1-a_f) F_t, slow' = a_s P + (1-a_s) S_t
                z = (a_f - a_s)(1 - level / P) / (sigma_t sqrt(L))
                                                                 -> level = ((1-a_s) S_t - (1-a_f) F_t) / (a_f - a_s)

All three signals are increasing in P, so each level is unique. The aggregate level (where the sum
of the clipped signals, hence the position, changes sign; precisely the lowest price at which the
aggregate is >= 0, which matters only when weights let saturated horizons cancel exactly and the
aggregate is 0 over an interval) has no closed form: it is found by
root finding - scipy's brentq for one date, and a vectorized bisection for the full history
(the two agree to ~1e-9 relative; see tests).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from eventlab.cta.signals import _check_close, daily_vol, ewma, ewmac_alphas, lag, rolling_mean
from eventlab.settings.cta import CTAParams

BRACKET_LOG = 2.0  # aggregate-level search in [P e^-2, P e^2]
ZERO_TOL = 1e-12  # |aggregate| below this counts as >= 0, so plateaus resolve to their lower end
BISECT_ITERS = 45  # bracket width 4 in log price / 2**45 ~ 1e-13
_FAR = 1e300  # farther than any log price from any other


def closed_form_level(close: np.ndarray, lookback: int, rule: str) -> np.ndarray:
    """Level in force for session t+1, computed at every t from closes up to t."""
    close = _check_close(close)
    if rule == "momentum":
        return lag(close, lookback - 1)
    if rule == "sma":
        return rolling_mean(close, lookback - 1)
    if rule == "ewmac":
        af, as_ = ewmac_alphas(lookback)
        fast = ewma(close, 2.0 / af - 1.0)
        slow = ewma(close, 2.0 / as_ - 1.0)
        return ((1.0 - as_) * slow - (1.0 - af) * fast) / (af - as_)
    raise ValueError(f"unknown rule {rule!r}")


def next_z(
    price: np.ndarray | float,
    level: np.ndarray | float,
    sigma: np.ndarray | float,
    lookback: int,
    rule: str,
    params: CTAParams | None = None,
) -> np.ndarray:
    """The next session's vol-normalized trend z if it closes at `price`, given the level in force."""
    price = np.asarray(price, dtype=float)
    denom = np.asarray(sigma, dtype=float) * np.sqrt(lookback)
    if rule == "momentum":
        num = np.log(price / level)
    elif rule == "sma":
        s = (lookback - 1) * np.asarray(level, dtype=float)
        num = np.log(lookback * price / (price + s))
    elif rule == "ewmac":
        af, as_ = ewmac_alphas(lookback)
        num = (af - as_) * (1.0 - level / price)
    else:
        raise ValueError(f"unknown rule {rule!r}")
    return num / denom


def _aggregate_at(
    price: np.ndarray, levels: list[np.ndarray], sigma: np.ndarray, params: CTAParams
) -> np.ndarray:
    total = np.zeros(np.broadcast(price, sigma).shape)
    for lvl, lb, w in zip(levels, params.lookbacks, params.norm_weights, strict=True):
        total = total + w * np.clip(
            next_z(price, lvl, sigma, lb, params.rule) / params.saturation_z, -1.0, 1.0
        )
    return total


def _z_of_log_price(
    rule: str, lookback: int, level: np.ndarray, sigma: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """z(x) for x = log P with the per-date constants precomputed (fast inner loop for bisection)."""
    denom = sigma * np.sqrt(lookback)
    if rule == "momentum":
        a = np.log(level)
        return lambda x: (x - a) / denom
    if rule == "sma":
        s = (lookback - 1) * level
        c = np.log(lookback)
        return lambda x: (c + x - np.log(np.exp(x) + s)) / denom
    af, as_ = ewmac_alphas(lookback)
    k = (af - as_) / denom
    return lambda x: k * (1.0 - level * np.exp(-x))


def aggregate_level_bisect(
    close: np.ndarray, levels: list[np.ndarray], sigma: np.ndarray, params: CTAParams
) -> np.ndarray:
    """Vectorized bisection (in log price) for the next-session price where the position changes sign."""
    out = np.full(close.shape, np.nan)
    ok = np.isfinite(sigma) & np.all([np.isfinite(lv) for lv in levels], axis=0)
    if not ok.any():
        return out
    sig = sigma[ok]
    zs = [
        _z_of_log_price(params.rule, lb, lv[ok], sig)
        for lv, lb in zip(levels, params.lookbacks, strict=True)
    ]
    ws = params.norm_weights
    sat = params.saturation_z

    def f(x: np.ndarray) -> np.ndarray:
        total = np.zeros(x.shape)
        for z, w in zip(zs, ws, strict=True):
            total += w * np.clip(z(x) / sat, -1.0, 1.0)
        return total

    lo = np.log(close[ok]) - BRACKET_LOG
    hi = np.log(close[ok]) + BRACKET_LOG
    good = (f(lo) < -ZERO_TOL) & (f(hi) > ZERO_TOL)
    for _ in range(BISECT_ITERS):
        mid = 0.5 * (lo + hi)
        up = f(mid) < -ZERO_TOL
        # lo = where(up, mid, lo), hi = where(up, hi, mid) by arithmetic, bit for bit: mid lies in
        # [lo, hi] (rounding is monotone), mid -/+ 0 is mid and mid -/+ _FAR is beyond either
        # end; np.where on this coin-flip mask costs several times the five operations below.
        lo = np.maximum(lo, mid - _FAR * ~up)
        hi = np.minimum(hi, mid + _FAR * up)
    res = np.exp(0.5 * (lo + hi))
    res[~good] = np.nan
    out[ok] = res
    return out


def aggregate_level_brentq(
    close_t: float, levels: list[float], sigma_t: float, params: CTAParams
) -> float:
    """scipy.optimize.brentq on one date: the next-session price where the position changes sign."""
    if not np.isfinite(sigma_t) or not all(np.isfinite(lv) for lv in levels):
        return float("nan")
    sig = np.asarray(sigma_t)
    lv = [np.asarray(x) for x in levels]

    def f(logp: float) -> float:
        v = float(_aggregate_at(np.asarray(np.exp(logp)), lv, sig, params))
        return v if v < -ZERO_TOL else max(v, ZERO_TOL)  # sign change at inf{P: aggregate >= 0}

    a, b = np.log(close_t) - BRACKET_LOG, np.log(close_t) + BRACKET_LOG
    if not (f(a) < 0 and f(b) > ZERO_TOL):
        return float("nan")
    return float(np.exp(brentq(f, a, b, xtol=1e-13, rtol=1e-13, maxiter=200)))


def level_arrays(
    close: np.ndarray, params: CTAParams, *, aggregate: bool = True
) -> dict[str, np.ndarray]:
    """Per-horizon levels (and the aggregate level) in force for t+1, from closes up to t."""
    close = _check_close(close)
    sigma = daily_vol(close, params)
    n = close.size
    out: dict[str, np.ndarray] = {"sigma_next": sigma}
    levels = []
    idx = np.arange(n)
    for name, lb in zip(params.horizons, params.lookbacks, strict=True):
        lvl = closed_form_level(close, lb, params.rule)
        lvl = np.where((idx >= lb - 1) & np.isfinite(sigma), lvl, np.nan)
        out[f"level_{name}"] = lvl
        levels.append(lvl)
    if aggregate:
        out["level_aggregate"] = aggregate_level_bisect(close, levels, sigma, params)
    return out


def level_frame(prices: pd.DataFrame | pd.Series, params: CTAParams) -> pd.DataFrame:
    """Full history of levels and their distance from the close (level / close - 1, a fraction)."""
    close = prices["close"] if isinstance(prices, pd.DataFrame) else prices
    c = close.to_numpy(dtype=float)
    arrays = level_arrays(c, params)
    df = pd.DataFrame(index=close.index)
    df["close"] = c
    for name in (*params.horizons, "aggregate"):
        df[f"level_{name}"] = arrays[f"level_{name}"]
        df[f"distance_{name}"] = arrays[f"level_{name}"] / c - 1.0
    return df


LEVEL_COLUMNS = [
    "as_of",
    "horizon",
    "lookback_days",
    "rule",
    "close",
    "level",
    "distance",
    "signal",
    "position",
    "method",
    "applies_to",
]


def levels_table(
    signals: pd.DataFrame,
    levels: pd.DataFrame,
    params: CTAParams,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Desk-style table of the levels in force after the close of `as_of` (default: the last date).

    One row per horizon plus ``aggregate``; ``distance`` = level / close - 1 (decimal fraction),
    ``signal`` the horizon's current signal in [-1, 1] (the aggregate row: the mean signal),
    ``position`` the aggregate position. The aggregate level is recomputed with brentq here.
    """
    t = levels.index[-1] if as_of is None else levels.index[levels.index <= pd.Timestamp(as_of)][-1]
    row_l, row_s = levels.loc[t], signals.loc[t]
    close_t = float(row_l["close"])
    close_hist = levels.loc[:t, "close"].to_numpy()
    sigma_t = float(daily_vol(close_hist, params)[-1])
    rows = []
    lv_list = []
    for name, lb in zip(params.horizons, params.lookbacks, strict=True):
        lvl = float(row_l[f"level_{name}"])
        lv_list.append(lvl)
        rows.append(
            [
                t,
                name,
                lb,
                params.rule,
                close_t,
                lvl,
                lvl / close_t - 1.0,
                float(row_s[f"signal_{name}"]),
                float(row_s["position"]),
                "closed form",
                "next session close",
            ]
        )
    agg = aggregate_level_brentq(close_t, lv_list, sigma_t, params)
    rows.append(
        [
            t,
            "aggregate",
            params.max_lookback,
            params.rule,
            close_t,
            agg,
            agg / close_t - 1.0,
            float(row_s["aggregate"]),
            float(row_s["position"]),
            "root finding",  # Brent's method (scipy brentq) on the aggregate signal
            "next session close",
        ]
    )
    out = pd.DataFrame(rows, columns=LEVEL_COLUMNS)
    out["as_of"] = pd.to_datetime(out["as_of"])
    return out
