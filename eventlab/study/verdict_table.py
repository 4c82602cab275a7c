"""The verdict table: one row per horizon from the published statistics (event_stats), the
VIX-matched baselines (event_baselines) and the rule's measured size and power, through
eventlab.study.verdict_rule; the reason names every figure the verdict rests on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study.evidence_samples import VIX_MATCHED
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
    if not present:
        return pd.DataFrame()
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
        for col in ("size", "size_any_horizon", "power", "no_effect_under_effect", "placebo_sets")
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
            "no_effect_under_effect": op["no_effect_under_effect"][h],
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
