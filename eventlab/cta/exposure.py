"""CTA equity exposure implied by real trend-following returns (data, not the replica).

Desks and replication funds estimate how long trend followers are in equities from the funds'
returns alone: the slope of a trailing regression of a CTA index's daily return on the S&P 500's
daily return. A slope of 0.5 means the index moved like a portfolio holding half its capital in
the S&P 500 over the window. Here, per date t and window w (eventlab/settings/validation.py):

    r_idx,s = a + b r_spx,s (+ c r_bond,s) + e_s,      s = t-w+1 .. t

fitted by OLS on rolling sums of cross products (a cumulative sum per product, so every window
and every date in one vectorized pass, no loop over days), with the slope's classical standard
error and its percentile against its own history from 2000 (expanding: the value at t is ranked
among values up to t only). Returns are taken on each series' own calendar (an SG row against the
previous SG row, an S&P session against the previous session) and joined on the dates both have;
this is how the reference figures of issue 11 (0.585 on 2025-11-14, 87th percentile) were made.

Limits, said in the report too: (1) estimation noise - with 60 daily observations the slope's
standard error is about 0.05-0.10, so a move of 0.1 is barely a signal; (2) lag - the slope is an
average over the window, so a position cut in the last week moves it by only a twelfth; (3) the
index trades equities, bonds, currencies and commodities, so the slope also absorbs correlations
between those markets and equities (the multi-factor version adds a 10-year bond return proxy for
that reason); (4) an index of ten or twenty funds is not the whole industry.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from eventlab.cta.reference import daily_returns
from eventlab.settings.validation import ValidationParams

EXPOSURE_COLUMNS = (
    "date",
    "index",
    "model",
    "window",
    "slope",
    "se",
    "percentile",
    "r2",
    "bond_slope",
)
SINGLE = "spx"
MULTI = "spx+bond10y"


def rolling_ols(y: np.ndarray, x: np.ndarray, window: int) -> dict[str, np.ndarray]:
    """OLS of y on [1, x] over every trailing window of `window` rows, vectorized.

    x is (n,) or (n, k). Returns arrays aligned with y: ``coef`` (n, k+1; intercept first),
    ``se`` (n, k+1; classical OLS standard errors), ``r2`` (n,), NaN for the first window-1 rows
    and where the window's design is singular. Inputs must be finite (drop missing rows first).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    n, k = x.shape
    if y.shape != (n,):
        raise ValueError(f"y has shape {y.shape}, x has {n} rows: they must align")
    if not (np.isfinite(y).all() and np.isfinite(x).all()):
        raise ValueError("rolling_ols needs finite inputs: drop rows with missing returns first")
    p = k + 1
    coef = np.full((n, p), np.nan)
    se = np.full((n, p), np.nan)
    r2 = np.full(n, np.nan)
    if window <= p or n < window:
        return {"coef": coef, "se": se, "r2": r2}
    if k == 1:
        return _rolling_ols_1(y, x[:, 0], window, coef, se, r2)
    z = np.column_stack([np.ones(n), x, y])  # (n, p + 1)
    prods = z[:, :, None] * z[:, None, :]  # (n, p+1, p+1) cross products per row
    csum = np.concatenate([np.zeros((1, p + 1, p + 1)), np.cumsum(prods, axis=0)])
    s = csum[window:] - csum[:-window]  # window sums ending at rows window-1 .. n-1
    xtx, xty, yty = s[:, :p, :p], s[:, :p, p], s[:, p, p]
    det_ok = np.abs(np.linalg.det(xtx)) > 1e-300
    xtx_safe = np.where(det_ok[:, None, None], xtx, np.eye(p))
    inv = np.linalg.inv(xtx_safe)
    beta = np.einsum("nij,nj->ni", inv, xty)
    rss = np.maximum(yty - np.einsum("ni,ni->n", beta, xty), 0.0)
    s2 = rss / (window - p)
    tss = yty - s[:, 0, p] ** 2 / window
    out_rows = slice(window - 1, n)
    coef[out_rows] = np.where(det_ok[:, None], beta, np.nan)
    se[out_rows] = np.where(
        det_ok[:, None], np.sqrt(s2[:, None] * np.diagonal(inv, axis1=1, axis2=2)), np.nan
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        r2[out_rows] = np.where(det_ok & (tss > 0), 1.0 - rss / tss, np.nan)
    return {"coef": coef, "se": se, "r2": r2}


def _window_sums(v: np.ndarray, window: int) -> np.ndarray:
    c = np.concatenate(([0.0], np.cumsum(v)))
    return c[window:] - c[:-window]


def _rolling_ols_1(y, x, window, coef, se, r2) -> dict[str, np.ndarray]:
    """One regressor in closed form (five rolling sums; the general path solves small systems)."""
    w = float(window)
    sx, sy = _window_sums(x, window), _window_sums(y, window)
    sxx = _window_sums(x * x, window) - sx * sx / w
    sxy = _window_sums(x * y, window) - sx * sy / w
    syy = _window_sums(y * y, window) - sy * sy / w
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = sxx > 0
        b = np.where(ok, sxy / sxx, np.nan)
        rss = np.maximum(syy - b * sxy, 0.0)
        s2 = rss / (w - 2)
        rows = slice(window - 1, len(y))
        coef[rows, 1] = b
        coef[rows, 0] = (sy - b * sx) / w
        se[rows, 1] = np.sqrt(s2 / sxx)
        se[rows, 0] = np.sqrt(s2 * (1.0 / w + (sx / w) ** 2 / sxx))
        r2[rows] = np.where(syy > 0, 1.0 - rss / syy, np.nan)
    return {"coef": coef, "se": se, "r2": r2}


def expanding_percentile(values: pd.Series, start, min_periods: int) -> pd.Series:
    """Percentile (0-100) of each value among the series' valid values from `start` up to and
    including its date (100 x share <= value; no look-ahead); NaN before `min_periods` values."""
    v = values.to_numpy(dtype=float)
    out = np.full(v.shape, np.nan)
    # positions, not labels: aligning on the dates cost more than the ranking itself
    pick = np.flatnonzero((values.index >= pd.Timestamp(start)) & ~np.isnan(v))
    if pick.size:
        ranks = pd.Series(v[pick]).expanding(min_periods=min_periods).rank(method="max", pct=True)
        out[pick] = ranks.to_numpy() * 100.0
    return pd.Series(out, index=values.index)


def bond_returns(yields: pd.DataFrame | pd.Series, duration: float) -> pd.Series:
    """Approximate daily return of a constant-maturity 10-year bond from its yield in percent:
    carry y_{t-1} / 252 minus duration x the yield change (both in decimals). Missing yields
    (holidays, published as blanks) are dropped first, so a change spans the gap."""
    if isinstance(yields, pd.DataFrame):
        date_col = next(c for c in yields.columns if c.lower() == "date")
        val_col = next(c for c in yields.columns if c != date_col)
        yields = pd.Series(
            pd.to_numeric(yields[val_col], errors="coerce").to_numpy(),
            index=pd.DatetimeIndex(pd.to_datetime(yields[date_col]), name="date"),
        )
    y = yields.dropna() / 100.0
    return (y.shift(1) / 252.0 - duration * y.diff()).iloc[1:].rename("bond")


def joined_returns(
    spx_close: pd.Series, index_levels: pd.Series, bond: pd.Series | None = None
) -> pd.DataFrame:
    """Columns ``spx``, ``idx`` (and ``bond``) of returns on each series' own calendar, on the
    dates they share (rows with any missing value dropped)."""
    parts = {"spx": daily_returns(spx_close), "idx": daily_returns(index_levels)}
    if bond is not None:
        parts["bond"] = bond
    return _inner_join(parts)


def _inner_join(parts: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.concat(parts, axis=1, join="inner").dropna()


def exposure_table(
    spx_close: pd.Series,
    indices: dict[str, pd.Series],
    params: ValidationParams,
    bond: pd.Series | None = None,
) -> pd.DataFrame:
    """Long table (EXPOSURE_COLUMNS): one row per date x index x model x window with a slope.

    `indices` maps an index name (e.g. ``sg_trend_index``) to its levels; `bond` (daily bond
    return proxy, see `bond_returns`) adds the multi-factor rows (model ``spx+bond10y``).
    """
    cols: dict[str, list[np.ndarray]] = {c: [] for c in EXPOSURE_COLUMNS}
    labels: list[tuple[str, str, int, int]] = []  # (index, model, window, rows)
    spx = daily_returns(spx_close)  # once, not once per index and model (as joined_returns)
    for name, levels in indices.items():
        parts = {"spx": spx, "idx": daily_returns(levels)}
        models = [(SINGLE, _inner_join(parts))]
        if bond is not None:
            models.append((MULTI, _inner_join({**parts, "bond": bond})))
        for model, df in models:
            regressors = ["spx", "bond"] if model == MULTI else ["spx"]
            x = df[regressors].to_numpy()
            y = df["idx"].to_numpy()
            dates = df.index
            for w in params.windows:
                fit = rolling_ols(y, x, w)
                keep = np.isfinite(fit["coef"][:, 1])
                slope = pd.Series(fit["coef"][keep, 1], index=dates[keep])
                pct = expanding_percentile(
                    slope, params.percentile_start, params.percentile_min_periods
                )
                cols["date"].append(dates[keep].to_numpy())
                cols["slope"].append(slope.to_numpy())
                cols["se"].append(fit["se"][keep, 1])
                cols["percentile"].append(pct.to_numpy())
                cols["r2"].append(fit["r2"][keep])
                bond_b = fit["coef"][keep, 2] if model == MULTI else np.full(keep.sum(), np.nan)
                cols["bond_slope"].append(bond_b)
                labels.append((name, model, w, int(keep.sum())))
    if not labels:
        return pd.DataFrame(columns=list(EXPOSURE_COLUMNS))
    sizes = [n for *_, n in labels]
    out = {c: np.concatenate(v) for c, v in cols.items() if v}
    # categoricals: three label columns repeated over ~40,000 rows cost nothing this way
    for col, pos in (("index", 0), ("model", 1)):
        cats = list(dict.fromkeys(lab[pos] for lab in labels))
        codes = np.repeat([cats.index(lab[pos]) for lab in labels], sizes)
        out[col] = pd.Categorical.from_codes(codes, categories=cats)
    out["window"] = np.repeat([lab[2] for lab in labels], sizes)
    return pd.DataFrame(out)[list(EXPOSURE_COLUMNS)]


def exposure_series(
    table: pd.DataFrame, index: str, window: int, model: str = SINGLE, column: str = "slope"
) -> pd.Series:
    """One column of the exposure table as a date-indexed Series."""
    sel = table[(table["index"] == index) & (table["window"] == window) & (table["model"] == model)]
    return pd.Series(sel[column].to_numpy(), index=pd.DatetimeIndex(sel["date"]), name=column)


def exposure_rows(
    table: pd.DataFrame, index: str, window: int, model: str = SINGLE
) -> pd.DataFrame:
    """The exposure table's rows for one index, window and model, indexed by date."""
    return table[
        (table["index"] == index) & (table["window"] == window) & (table["model"] == model)
    ].set_index("date")


def exposure_on(
    spx_close: pd.Series,
    levels: pd.Series,
    window: int,
    date,
    params: ValidationParams | None = None,
    band_se: float = 2.0,
) -> dict[str, Any]:
    """The single-factor implied exposure of one index on one date (the last common date on or
    before `date`): slope, se, percentile (0-100), r2 and the date used, plus percentile_low /
    percentile_high: where slope -/+ `band_se` standard errors would rank in the same history
    (the estimate's noise in percentile terms). Raises LookupError when the data does not reach
    that date."""
    vp = (params or ValidationParams()).with_(windows=(window,), main_window=window)
    table = exposure_table(spx_close, {"idx": levels}, vp)
    rows = table[table["date"] <= pd.Timestamp(date)]
    if rows.empty:
        raise LookupError(f"no implied exposure on or before {date}")
    r = rows.iloc[-1]
    out = {k: r[k] for k in ("date", "slope", "se", "percentile", "r2")}
    # the history the percentile ranks against (expanding_percentile: share of values <= x)
    hist = rows.loc[rows["date"] >= pd.Timestamp(vp.percentile_start), "slope"].dropna().to_numpy()
    for key, sign in (("percentile_low", -1.0), ("percentile_high", 1.0)):
        x = float(r["slope"]) + sign * band_se * float(r["se"])
        out[key] = 100.0 * float(np.mean(hist <= x)) if len(hist) and np.isfinite(x) else np.nan
    return out
