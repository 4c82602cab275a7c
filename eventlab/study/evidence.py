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

from eventlab.config import StudyParams
from eventlab.study.evidence_samples import (
    HorizonSample,
    horizon_sample,
    sample_days,
    vix_quintiles,
)
from eventlab.study.rule_error_rates import operating_characteristics
from eventlab.study.small_sample import circular_shift_p, weighted_comparison
from eventlab.study.verdict_rule import (
    INCONCLUSIVE,
    NO_EFFECT,
    SUPPORTED,
    TOO_FEW,
    VERDICT_LABELS,
    LineEvidence,
    classify,
    family_adjusted,
)
from eventlab.study.whole_study import VariantResult

VIX_MATCHED = "vix_quintile_matched"


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
    horizon, beside the full-sample values."""
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
                    if n >= v.params.min_events_for_inference
                    else np.nan,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["mean_change"] = out["mean_without"] - out["mean_all"]
    return out


def _line_evidence(
    stats: dict[tuple[str, int], dict[str, Any]],
    regime: dict[tuple[str, int], dict[str, Any]],
    line: str,
    params: StudyParams,
) -> LineEvidence:
    """One line's published figures as the rule reads them (one set, every horizon)."""

    def value(table: dict[tuple[str, int], dict[str, Any]], key: str, k: int, name: str) -> float:
        row = table.get((key, k))
        return np.nan if row is None or row.get(name) is None else float(row[name])

    hs = params.horizons
    n = np.array([value(stats, line, k, "n_events_with_horizon") for k in hs])
    p = np.array([value(stats, line, k, "perm_p") for k in hs])
    p = np.where(n >= params.min_events_for_inference, p, np.nan)
    sd = np.array([value(stats, line, k, "baseline_std") for k in hs])
    return LineEvidence(
        diff=np.array([[value(stats, line, k, "diff_mean") for k in hs]]),
        p=p[None, :],
        declustered=np.array([[value(stats, f"{line}_declustered", k, "diff_mean") for k in hs]]),
        vix_matched=np.array([[value(regime, line, k, "diff_mean") for k in hs]]),
        effect=params.verdict_effect_sd * sd,
    )


def _line_text(name: str, i: int, h: int, line: LineEvidence, p_adj: np.ndarray, n: int) -> str:
    """One line's figures at one horizon, for the verdict's reason."""
    diff, p = line.diff[0, h], line.p[0, h]
    if np.isnan(p):
        return f"{name}: {diff:+.2%} vs its non-event days, {n} events (too few for inference)"
    return (
        f"{name}: {diff:+.2%} vs its non-event days, {n} events, randomization p {p:.3f} "
        f"(family-adjusted {p_adj[0, i, h]:.3f}), declustered {line.declustered[0, h]:+.2%}, "
        f"VIX-matched {line.vix_matched[0, h]:+.2%}"
    )


def verdicts(
    stats: pd.DataFrame,
    baselines: pd.DataFrame,
    params: StudyParams,
    operating: pd.DataFrame | None = None,
    family_p: Mapping[tuple[str, int], float] | None = None,
    lines: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """One verdict row per horizon (eventlab.study.verdict_rule) from the lines of evidence
    `lines` (variant names in `stats`; default the main series and the longest series on its own
    opens), their declustered variants (`<line>_declustered`) and VIX-matched baselines, with the
    rule's size and power from `operating` (rule_error_rates.operating_characteristics; without
    it power is unknown, so no verdict reads "no evidence of an effect").

    `family_p` maps (variant, horizon) to a p-value adjusted over a wider family (e.g. the
    ledger's Benjamini-Hochberg or -Yekutieli q-values over every test run); the rule uses the
    larger of it and the study's own Holm adjustment, so it is never less strict than the rule
    whose size was measured. Without it the study's own adjustment applies."""
    lines = lines or ("main", f"{params.robustness_index}_own_opens")
    # One pass over the (small) tables into dicts: repeated boolean filtering of a frame with
    # Arrow-backed string columns costs ~15 ms a lookup.
    by_key = {(str(r["variant"]), int(r["horizon"])): r for r in stats.to_dict("records")}
    regime = (
        {
            (str(r["variant"]), int(r["horizon"])): r
            for r in baselines.to_dict("records")
            if r["baseline"] == VIX_MATCHED
        }
        if len(baselines)
        else {}
    )
    present = [x for x in lines if any((x, k) in by_key for k in params.horizons)]
    evidence = [_line_evidence(by_key, regime, x, params) for x in present]
    p_adj = family_adjusted(evidence)
    adjustment = f"Holm across {len(present)} series x {len(params.horizons)} horizons"
    if family_p is not None:
        given = np.array(
            [[[family_p.get((x, k), np.nan) for k in params.horizons] for x in present]]
        )
        p_adj = np.where(np.isnan(given), p_adj, np.fmax(p_adj, given))
        adjustment += ", or the supplied family-adjusted p where larger"
    ops = (
        operating.set_index("horizon")
        if operating is not None and len(operating)
        else pd.DataFrame(index=pd.Index(params.horizons, name="horizon"))
    )
    op = {
        col: np.array(
            [float(ops[col].get(k, np.nan)) if col in ops else np.nan for k in params.horizons]
        )
        for col in ("size", "size_any_horizon", "power", "placebo_sets")
    }
    codes = classify(evidence, params.verdict_alpha, op["power"], params.verdict_min_power, p_adj)
    names = {x: str(by_key.get((x, params.horizons[0]), {}).get("index", x)) for x in present}
    out = []
    for h, k in enumerate(params.horizons):
        ns = [int(by_key.get((x, k), {}).get("n_events_with_horizon", 0)) for x in present]
        verdict = VERDICT_LABELS[int(codes[0, h])]
        first = next((e for e in evidence if not np.isnan(e.diff[0, h])), None)
        sign = np.sign(first.diff[0, h]) if first is not None else 0
        parts = [
            _line_text(names[x], i, h, e, p_adj, n)
            for i, (x, e, n) in enumerate(zip(present, evidence, ns, strict=True))
        ]
        power, size = op["power"][h], op["size"][h]
        effect = ", ".join(
            f"{e.effect[h]:+.2%} on {names[x]}" for x, e in zip(present, evidence, strict=True)
        )
        reason = f"{VERDICT_REASONS[verdict]}. " + "; ".join(parts) + "."
        if len(present) > 1:
            reason += " " + shared_days_text(by_key, present[0], present[1], names)
        rule = (
            f"Rule at the bar {params.verdict_alpha} ({adjustment}): size {_rate(size)} on "
            f"{_count(op['placebo_sets'][h])} placebo event sets, power {_rate(power)} at the stated "
            f"effect ({params.verdict_effect_sd:g} standard deviation: {effect})"
        )
        row: dict[str, object] = {
            "horizon": k,
            "n_events": ns[0] if ns else 0,
            "main_diff_mean": float(evidence[0].diff[0, h]) if evidence else np.nan,
            "verdict": verdict,
            "direction": "higher" if sign > 0 else "lower" if sign < 0 else "none",
            "size": size,
            "size_any_horizon": op["size_any_horizon"][h],
            "power": power,
            "stated_effect": float(evidence[0].effect[h]) if evidence else np.nan,
            "placebo_sets": op["placebo_sets"][h],
            "family_adjustment": adjustment,
        }
        for i, (x, e, n) in enumerate(zip(present, evidence, ns, strict=True)):
            tag = "main" if i == 0 else "longest" if i == 1 else x
            if i:  # the main line's count and difference lead the row
                row[f"{tag}_n_events"] = n
                row[f"{tag}_diff_mean"] = float(e.diff[0, h])
            row[f"{tag}_p_family"] = float(p_adj[0, i, h])
        row["reason"] = reason
        row["rule"] = rule
        out.append(row)
    return pd.DataFrame(out)


def shared_days_text(
    stats: dict[tuple[str, int], dict[str, Any]], main: str, other: str, names: dict[str, str]
) -> str:
    """What the second line adds to the first: the event days they share (the series trade the
    same market) and the days only the second has, from event_stats' event_dates."""
    first = next((r for (v, _), r in stats.items() if v == main), {})
    second = next((r for (v, _), r in stats.items() if v == other), {})

    def days(row: dict[str, Any]) -> set[str]:
        text = row.get("event_dates")
        return set(str(text).split(";")) if isinstance(text, str) and text else set()

    a, b = days(first), days(second)
    if not b:
        return ""
    start = str(first.get("sample_start") or "")
    earlier = sum(d < start for d in b - a) if start else 0
    return (
        f"The series share the market: {len(a & b)} of {names[main]}'s {len(a)} event days are "
        f"{names[other]} event days too; {names[other]}'s other {len(b - a)} days"
        + (f" ({earlier} before {names[main]}'s sample starts)" if earlier else "")
        + " are what it adds."
    )


VERDICT_REASONS = {
    SUPPORTED: "A line of evidence clears the bar after the family adjustment, keeps its sign "
    "declustered and against the VIX-matched baseline, and no series points the other way",
    NO_EFFECT: "The rule had the power to see the stated effect and every series' difference "
    "is within half of it from zero",
    TOO_FEW: "Too few events for the rule to see the stated effect reliably",
    INCONCLUSIVE: "The evidence neither clears the bar nor sits near zero, or a line that "
    "clears it is contradicted",
}


def _rate(x: float) -> str:
    """A rate as a percentage, or 'not measured'."""
    return "not measured" if np.isnan(x) else f"{x:.1%}"


def _count(x: float) -> str:
    """A count, or 'no'."""
    return "no" if np.isnan(x) else f"{int(x):,}"


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
