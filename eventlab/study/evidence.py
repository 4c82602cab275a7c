"""Weighing the evidence: regime-matched baselines (in-regime comparisons use only the events
inside the regime), leave-one-out sensitivity, the longest series beside the main one, and the
verdict per horizon (eventlab.study.verdict_rule, with its size and power measured on placebo
event sets by eventlab.study.rule_error_rates). Every function takes any variant: the battery
runs on the study index and on the longest series alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from eventlab.study.evidence_samples import (
    VIX_MATCHED,
    HorizonSample,
    horizon_sample,
    sample_days,
    vix_quintiles,
)
from eventlab.study.rule_error_rates import operating_characteristics
from eventlab.study.small_sample import circular_shift_p, weighted_comparison
from eventlab.study.verdict_rule import INCONCLUSIVE, NO_EFFECT, SUPPORTED, TOO_FEW
from eventlab.study.verdict_table import verdicts
from eventlab.study.whole_study import VariantResult


def baseline_weights(
    v: VariantResult, prices: dict[str, pd.DataFrame], s: HorizonSample
) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    """Each baseline as (description, weights over the sample days, regime flag per sample day):
    the weights are zero on event days; the regime flag says which days (events included) lie
    in the baseline's regime, and only the events inside it are compared with it."""
    p = v.params
    px = prices[p.index]
    pos, d, vix = s.pos, s.d, s.vix
    close = px["close"].to_numpy(float)
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
        quint = s.quint
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
            "the events with a VIX close of 25 or more against the non-event days with one",
            (base & high) * 1.0,
            high,
        )
    below = close[pos] < sma200
    out["below_sma200"] = (
        "the events closing below their 200-day average against the non-event days that did",
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
    """The variant's events inside each baseline's regime against the baseline, per horizon
    (one row per baseline x horizon)."""
    rows = []
    min_n = v.params.min_events_for_inference
    for k in v.params.horizons:
        s = horizon_sample(v, prices, k)
        n_all = int(s.d.sum())
        for name, (desc, w, regime) in baseline_weights(v, prices, s).items():
            ev = s.y[s.d & regime]
            row: dict[str, Any] = {
                "variant": v.name,
                "baseline": name,
                "baseline_description": desc,
                "horizon": k,
                "n_events": n_all,
                "events_in_regime": len(ev),
                "event_median": float(np.median(ev)) if len(ev) else np.nan,
                "event_hit_rate": float(np.mean(ev > 0)) if len(ev) else np.nan,
            }
            if w.sum() > 0:
                row.update(weighted_comparison(ev, s.y, w))
            else:
                row.update({"baseline_days": 0, "diff_mean": np.nan})
            note = ""
            if len(ev) < min_n:
                note = f"too few events in the regime (n = {len(ev)} < {min_n}): descriptive only"
            elif row["baseline_days"] < min_n:
                note = f"too few baseline days ({row['baseline_days']})"
            if note:
                row["t_p"] = row["binom_p"] = np.nan
            row["inference_note"] = note
            rows.append(row)
    return pd.DataFrame(rows)


def leave_one_out(v: VariantResult) -> pd.DataFrame:
    """Each event's effect on the answer: mean, median and circular-shift p without it, per
    horizon, beside the full-sample values (the p only up to `loo_p_max_events` events: each
    is a whole randomization test, and with many events one of them moves it little)."""
    rows = []
    events = pd.DatetimeIndex(v.events["date"])
    for k in v.params.horizons:
        pos, y, d = sample_days(v, k)
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
                    if v.params.min_events_for_inference <= n < v.params.loo_p_max_events
                    else np.nan,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["mean_change"] = out["mean_without"] - out["mean_all"]
    return out


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
    "INCONCLUSIVE",
    "NO_EFFECT",
    "SUPPORTED",
    "TOO_FEW",
    "VIX_MATCHED",
    "agreement_sentence",
    "leave_one_out",
    "regime_baselines",
    "series_comparison",
    "verdicts",
    "vix_quintiles",
    "weigh_evidence",
]


def weigh_evidence(
    main: VariantResult,
    stats: pd.DataFrame,
    prices: dict[str, pd.DataFrame],
    longest: VariantResult | None = None,
    family_p: Mapping[tuple[str, int], float] | None = None,
) -> dict[str, pd.DataFrame]:
    """The evidence tables the study publishes: regime baselines and leave-one-out for the main
    series and (when given) the longest series, the verdict rule's measured size and power, and
    the verdicts (`family_p`: see `verdicts`). The report builds the main-vs-longest comparison
    from event_stats itself."""
    lines = [main] if longest is None else [main, longest]
    baselines = pd.concat([regime_baselines(v, prices) for v in lines], ignore_index=True)
    operating = operating_characteristics(lines, prices, main.params)
    return {
        "event_baselines": baselines,
        "event_leave_one_out": pd.concat([leave_one_out(v) for v in lines], ignore_index=True),
        "event_verdicts": verdicts(
            stats, baselines, main.params, operating, family_p, tuple(v.name for v in lines)
        ),
    }
