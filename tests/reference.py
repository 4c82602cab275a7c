"""Reference implementations the tests compare the production code against: row-by-row loops,
brute force and independent libraries, plus the test-only wrappers that used to live in production
modules although nothing but tests called them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from eventlab.cta.scenarios import _scenario_runs
from eventlab.settings.cta import CTAParams
from eventlab.study.open_quality import REL_TOL
from eventlab.study.statistics import bootstrap_means, sample_stats

# ------------------------------------------------------------------ event detection


def brute_force_events(
    o: np.ndarray, c: np.ndarray, valid: np.ndarray, threshold: float, close_rule: str
) -> list[int]:
    """Row-by-row reference of the detection rule."""
    out = []
    for i in range(1, len(c)):
        if not valid[i]:
            continue
        red = c[i] < c[i - 1] if close_rule == "prior_close" else c[i] < o[i]
        if o[i] / c[i - 1] - 1 > threshold and red:
            out.append(i)
    return out


def brute_force_genuine(o: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Row-by-row reference of the per-day genuine-open rule."""
    out = np.zeros(len(o), dtype=bool)
    for i in range(1, len(o)):
        out[i] = abs(o[i] / c[i] - 1) > REL_TOL and abs(o[i] / c[i - 1] - 1) > REL_TOL
    return out


def decluster_brute(pos: list[int], cooldown: int) -> list[int]:
    """Episode starts by definition: an event starts an episode iff it is more than `cooldown`
    sessions after the start of the episode the previous event belongs to."""
    starts: list[int] = []
    for p in sorted(pos):
        if not starts or p - starts[-1] > cooldown:
            starts.append(p)
    return starts


# ------------------------------------------------------------------ statistics


def shift_p_brute(y: np.ndarray, d: np.ndarray) -> float:
    """The circular-shift permutation p by a loop over np.roll."""

    def stat(dd: np.ndarray) -> float:
        e, r = y[dd], y[~dd]
        return abs(e.mean() - r.mean()) / (e.std(ddof=1) / np.sqrt(len(e)))

    obs = stat(d)
    hits = sum(stat(np.roll(d, s)) >= obs * (1 - 1e-12) for s in range(1, len(y)))
    return (1 + hits) / len(y)


def statsmodels_hac(y: np.ndarray, d: np.ndarray, maxlags: int) -> dict[str, float]:
    """statsmodels OLS with Newey-West HAC, as the study used to call it."""
    import statsmodels.api as sm

    X = sm.add_constant(d.astype(float), has_constant="add")
    fit = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True})
    return {
        "hac_coef": fit.params[1],
        "hac_se": fit.bse[1],
        "hac_t": fit.tvalues[1],
        "hac_p": fit.pvalues[1],
    }


def block_bootstrap_diff_ci(
    events: np.ndarray,
    baseline: np.ndarray,
    block: int,
    reps: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile CI of mean(events) - mean(baseline) from the study's bootstrap_means."""
    if len(events) < 2 or len(baseline) < block:
        return (np.nan, np.nan)
    ev_means, base_means = bootstrap_means(events, baseline, block, reps, rng)
    lo, hi = np.quantile(ev_means - base_means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def horizon_stats(
    fwd: pd.Series,
    in_sample: pd.Series,
    is_event: pd.Series,
    k: int,
    *,
    bootstrap_reps: int,
    placebo_reps: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """sample_stats for one horizon from pandas columns: events vs the non-event days of the same
    valid sample (in the sample, with a forward return), as the study selects them."""
    ok = in_sample & fwd.notna()
    return sample_stats(
        fwd[ok].to_numpy(float),
        is_event[ok].to_numpy(bool),
        k,
        int(is_event[in_sample].sum()),
        bootstrap_reps=bootstrap_reps,
        placebo_reps=placebo_reps,
        rng=rng,
    )


# ------------------------------------------------------------------ CTA scenarios


def scenario_daily(
    close: pd.Series, params: CTAParams, as_of: dt.date | pd.Timestamp | str | None = None
) -> pd.DataFrame:
    """Day-by-day model along every scenario path (day 0 = the as-of close): the days that
    scenarios.scenario_table sums up, for checking it."""
    date, vol_ann, runs = _scenario_runs(close, params, as_of)
    frames = [
        pd.DataFrame(
            {
                "as_of": date,
                "scenario": name,
                "std_multiple": m,
                "window": window,
                "day": np.arange(days + 1),
                "close": closes,
                "position": arr["position"],
                "notional_usd": arr["notional_usd"],
                "flow_usd": np.concatenate([[0.0], arr["flow_usd"][1:]]),
                "vol_ann": vol_ann,
            }
        )
        for window, days, name, m, closes, arr in runs
    ]
    return pd.concat(frames, ignore_index=True)
