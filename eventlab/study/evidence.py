"""Weighing the evidence: regime-matched baselines, leave-one-out sensitivity, the longest series
beside the main one, and a documented rule that turns all of it into a verdict per horizon.

Verdict rule (per horizon, tested in tests/test_evidence.py). The direction is the sign of the
main series' mean difference (events minus non-event days). Four lines of evidence are read:
  1. the main series (the study index, genuine opens);
  2. the longest series with real opens (the robustness index, e.g. SPY from 1993);
  3. the main series declustered (events within the cooldown merged into one episode);
  4. the main series against the VIX-quintile-matched baseline (same volatility regime).
- "supported": all four have the same sign, and the circular-shift randomization p-value,
  Holm-adjusted across horizons, is at most `verdict_alpha` both for the main series and for
  the longest series on its own (a sign agreement on a negligible effect is not a replication);
- "mixed": the main series agrees with at least two of the other three, or all four agree but
  an adjusted p-value is above `verdict_alpha`;
- "not supported": otherwise, or when the main series has fewer than the minimum events for
  inference (then no p-value is computed at all).
A line of evidence that cannot be computed (too few events) counts as not agreeing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study.returns import fwd_col
from eventlab.study.small_sample import circular_shift_p, weighted_comparison
from eventlab.study.whole_study import VariantResult

SUPPORTED, MIXED, NOT_SUPPORTED = "supported", "mixed", "not supported"
VIX_MATCHED = "vix_quintile_matched"


def _sample(v: VariantResult, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions in the price index, forward returns, event flags) of the variant's valid
    sample days that have a k-day forward return."""
    fwd = v.fwd[fwd_col(k)].to_numpy(float)
    ok = v.in_sample.to_numpy(bool) & ~np.isnan(fwd)
    pos = np.flatnonzero(ok)
    return pos, fwd[pos], v.is_event.to_numpy(bool)[pos]


def vix_quintiles(vix: np.ndarray) -> np.ndarray:
    """Quintile 0..4 of each day's VIX close among the given days' closes (-1 where missing):
    the regime the VIX-matched baseline and the regime-matched random entries match on."""
    vix = np.asarray(vix, float)
    has = ~np.isnan(vix)
    if not has.any():
        return np.full(len(vix), -1)
    edges = np.quantile(vix[has], [0.2, 0.4, 0.6, 0.8])
    return np.where(has, np.searchsorted(edges, vix, side="right"), -1)


def baseline_weights(
    v: VariantResult, prices: dict[str, pd.DataFrame], pos: np.ndarray, d: np.ndarray
) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    """Each baseline as (description, weights over the sample days, regime flag per sample day):
    the weights are zero on event days; the regime flag says which days (events included) lie
    in the baseline's regime."""
    p = v.params
    px = prices[p.index]
    idx = px.index[pos]
    close = px["close"].to_numpy(float)
    vix = (
        prices[p.vix]["close"].reindex(idx).to_numpy(float)
        if p.vix in prices
        else np.full(len(pos), np.nan)
    )
    sma200 = px["close"].rolling(200, min_periods=200).mean().to_numpy()[pos]
    prev = np.r_[np.nan, close[:-1]][pos]
    gap = px["open"].to_numpy(float)[pos] / prev - 1
    base = ~d
    out: dict[str, tuple[str, np.ndarray, np.ndarray]] = {
        "non_event": (
            "every non-event day of the sample",
            base.astype(float),
            np.ones(len(pos), bool),
        )
    }
    has_vix = ~np.isnan(vix)
    if has_vix.any() and d.any():
        quint = vix_quintiles(vix)
        w = np.zeros(len(pos))
        for q in range(5):
            n_ev, days = int((d & (quint == q)).sum()), base & (quint == q)
            if n_ev and days.any():
                w[days] = n_ev / days.sum()
        out[VIX_MATCHED] = (
            "non-event days in the same VIX quintile as each event (quintiles of the sample's VIX "
            "closes), weighted by the events in each quintile",
            w,
            quint >= 0,
        )
        high = has_vix & (vix >= 25)
        out["vix_ge_25"] = (
            "non-event days with a VIX close of 25 or more",
            (base & high) * 1.0,
            high,
        )
    below = close[pos] < sma200
    out["below_sma200"] = (
        "non-event days closing below their 200-day average",
        (base & below) * 1.0,
        below,
    )
    green_gap = (gap > p.gap_threshold) & (close[pos] >= prev)
    out["gap_up_closed_green"] = (
        f"days that opened more than {p.gap_threshold:.1%} above the prior close and closed at or "
        "above it (the same gap without the reversal)",
        (base & green_gap) * 1.0,
        green_gap | d,
    )
    return out


def regime_baselines(v: VariantResult, prices: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The variant's events against each baseline, per horizon (one row per baseline x horizon)."""
    rows = []
    min_n = v.params.min_events_for_inference
    for k in v.params.horizons:
        pos, y, d = _sample(v, k)
        ev = y[d]
        for name, (desc, w, regime) in baseline_weights(v, prices, pos, d).items():
            row: dict[str, Any] = {
                "variant": v.name,
                "baseline": name,
                "baseline_description": desc,
                "horizon": k,
                "n_events": len(ev),
                "events_in_regime": int((d & regime).sum()),
                "event_median": float(np.median(ev)) if len(ev) else np.nan,
                "event_hit_rate": float(np.mean(ev > 0)) if len(ev) else np.nan,
            }
            if w.sum() > 0:
                row.update(weighted_comparison(ev, y, w))
            else:
                row.update({"baseline_days": 0, "diff_mean": np.nan})
            note = ""
            if len(ev) < min_n:
                note = f"too few events (n = {len(ev)} < {min_n}): descriptive only"
            elif row["baseline_days"] < min_n:
                note = f"too few baseline days ({row['baseline_days']})"
            if note:
                row["t_p"] = row["binom_p"] = np.nan
            row["inference_note"] = note
            rows.append(row)
    return pd.DataFrame(rows)


def leave_one_out(v: VariantResult) -> pd.DataFrame:
    """Each event's effect on the answer: mean, median and circular-shift p without it, per
    horizon, beside the full-sample values."""
    rows = []
    events = pd.DatetimeIndex(v.events["date"])
    for k in v.params.horizons:
        pos, y, d = _sample(v, k)
        full_mean = float(y[d].mean()) if d.any() else np.nan
        full_median = float(np.median(y[d])) if d.any() else np.nan
        full_p = circular_shift_p(y, d) if d.sum() >= v.params.min_events_for_inference else np.nan
        for date in events:
            at = v.in_sample.index.get_loc(date)
            keep = pos != at
            yk, dk = y[keep], d[keep]
            n = int(dk.sum())
            rows.append(
                {
                    "variant": v.name,
                    "horizon": k,
                    "left_out": date.date().isoformat(),
                    "has_horizon": bool(len(keep) - keep.sum()),
                    "n_events": n,
                    "mean_all": full_mean,
                    "mean_without": float(yk[dk].mean()) if n else np.nan,
                    "median_all": full_median,
                    "median_without": float(np.median(yk[dk])) if n else np.nan,
                    "perm_p_all": full_p,
                    "perm_p_without": circular_shift_p(yk, dk)
                    if n >= v.params.min_events_for_inference
                    else np.nan,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["mean_change"] = out["mean_without"] - out["mean_all"]
    return out


def verdict_for(
    main: pd.Series,
    longest: pd.Series | None,
    declustered: pd.Series | None,
    regime: pd.Series | None,
    params: StudyParams,
) -> dict[str, object]:
    """The verdict for one horizon from the four lines of evidence (see the module docstring).
    Each argument is a stats row with `diff_mean` (and for `main` `n_events_with_horizon` and
    `perm_p_holm`); None means that line could not be computed."""
    n = int(main["n_events_with_horizon"])
    k = int(main["horizon"])
    base = {"horizon": k, "n_events": n, "main_diff_mean": float(main["diff_mean"])}
    if n < params.min_events_for_inference:
        return {
            **base,
            "verdict": NOT_SUPPORTED,
            "direction": "none",
            "agreeing": 0,
            "conflicts": "",
            "reason": f"too few events (n = {n} < {params.min_events_for_inference}): no inference",
        }
    direction = np.sign(main["diff_mean"])
    lines = {
        "the longest series": longest,
        "the declustered sample": declustered,
        "the VIX-matched baseline": regime,
    }
    conflicts = []
    for label, row in lines.items():
        diff = np.nan if row is None else float(row["diff_mean"])
        if np.isnan(diff) or np.sign(diff) != direction:
            conflicts.append(f"{label} ({'not computable' if np.isnan(diff) else f'{diff:+.2%}'})")
    p_adj = float(main["perm_p_holm"])
    p_long = np.nan if longest is None else float(longest["perm_p_holm"])
    agreeing = 1 + len(lines) - len(conflicts)
    small_p = p_adj <= params.verdict_alpha and p_long <= params.verdict_alpha
    if not conflicts and small_p:
        verdict = SUPPORTED
    elif len(conflicts) <= 1:
        verdict = MIXED
    else:
        verdict = NOT_SUPPORTED
    reason = (
        f"{agreeing} of 4 lines of evidence point the same way; adjusted randomization p = "
        f"{p_adj:.3f} on the main series and {p_long:.3f} on the longest series "
        f"({'both at or below' if small_p else 'not both at or below'} {params.verdict_alpha})"
    )
    if conflicts:
        reason += "; against: " + ", ".join(conflicts)
    return {
        **base,
        "verdict": verdict,
        "direction": "higher" if direction > 0 else "lower",
        "agreeing": agreeing,
        "perm_p_holm": p_adj,
        "longest_perm_p_holm": p_long,
        "conflicts": "; ".join(conflicts),
        "reason": reason,
    }


def verdicts(stats: pd.DataFrame, baselines: pd.DataFrame, params: StudyParams) -> pd.DataFrame:
    """One verdict row per horizon of the main variant."""

    # One pass over the (small) tables into dicts: repeated boolean filtering of a frame with
    # Arrow-backed string columns costs ~15 ms a lookup.
    by_key = {(str(r["variant"]), int(r["horizon"])): r for r in stats.to_dict("records")}
    regime_rows = (
        {
            (str(r["variant"]), int(r["horizon"])): r
            for r in baselines.to_dict("records")
            if r["baseline"] == VIX_MATCHED
        }
        if len(baselines)
        else {}
    )

    def row(variant: str, k: int, table: dict = by_key) -> pd.Series | None:
        hit = table.get((variant, k))
        if (
            hit is None
            or hit.get("n_events_with_horizon", hit.get("n_events", 0))
            < params.min_events_for_inference
        ):
            return None
        return pd.Series(hit)

    out = []
    for k in params.horizons:
        main = row("main", k)
        if main is None:
            main = pd.Series(by_key[("main", k)])
        out.append(
            verdict_for(
                main,
                row(f"{params.robustness_index}_own_opens", k),
                row("main_declustered", k),
                row("main", k, regime_rows),
                params,
            )
        )
    return pd.DataFrame(out)


def series_comparison(stats: pd.DataFrame, index: str, reference: str) -> pd.DataFrame:
    """The main answer (on `index`) and the longest-series answer (the robustness index
    `reference` on its own opens) side by side, per horizon."""
    names = {"main": index, f"{reference}_own_opens": reference}
    cols = [
        "horizon", "sample_start", "sample_end", "n_events_with_horizon", "event_median",
        "event_hit_rate", "event_mean", "baseline_mean", "baseline_hit_rate", "diff_mean",
    ]  # fmt: skip
    variant = stats["variant"].astype(object).to_numpy()
    rows = [
        {"series": names[v], "variant": v, **r}
        for v, r in zip(variant, stats[cols].to_dict("records"), strict=True)
        if v in names
    ]
    return pd.DataFrame(rows, columns=["series", "variant", *cols])


def agreement_sentence(comparison: pd.DataFrame) -> str:
    """Whether the main and the longest series agree, horizon by horizon (generated)."""
    series = comparison["series"].unique().tolist()
    if len(series) < 2:
        return "Only one series could be studied, so there is nothing to compare it with."
    a, b = series[:2]
    agree: list[str] = []
    differ: list[str] = []
    for k, g in comparison.groupby("horizon"):
        x, y = g[g["series"] == a].iloc[0], g[g["series"] == b].iloc[0]
        same = np.sign(x["diff_mean"]) == np.sign(y["diff_mean"]) and np.sign(
            x["event_median"]
        ) == np.sign(y["event_median"])
        (agree if same else differ).append(
            f"T+{k} ({a}: median {x['event_median']:+.2%}, {x['event_hit_rate']:.0%} up, "
            f"{x['diff_mean']:+.2%} vs its baseline; {b}: median {y['event_median']:+.2%}, "
            f"{y['event_hit_rate']:.0%} up, {y['diff_mean']:+.2%})"
        )
    if not differ:
        return f"{a} and {b} agree in direction at every horizon: " + "; ".join(agree) + "."
    text = f"{a} and {b} disagree at " + "; ".join(differ) + "."
    if agree:
        text += " They agree at " + "; ".join(agree) + "."
    return text


__all__ = [
    "MIXED",
    "NOT_SUPPORTED",
    "SUPPORTED",
    "agreement_sentence",
    "leave_one_out",
    "regime_baselines",
    "series_comparison",
    "verdict_for",
    "verdicts",
    "weigh_evidence",
]


def weigh_evidence(
    main: VariantResult, stats: pd.DataFrame, prices: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The evidence tables the study publishes: regime baselines, leave-one-out and verdicts (the
    report builds the main-vs-longest comparison from event_stats itself)."""
    baselines = regime_baselines(main, prices)
    return {
        "event_baselines": baselines,
        "event_leave_one_out": leave_one_out(main),
        "event_verdicts": verdicts(stats, baselines, main.params),
    }
