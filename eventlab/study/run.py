"""Run the whole event study (main definition + robustness variants) on a dict of price frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study.events import detect_events, event_table, sample_mask, study_flags
from eventlab.study.open_quality import coverage_summary
from eventlab.study.returns import forward_returns, fwd_col
from eventlab.study.statistics import adjust_pvalues, horizon_stats


@dataclass(frozen=True)
class VariantResult:
    """One definition of the study applied to one index."""

    name: str
    definition: str
    params: StudyParams
    flags: pd.DataFrame
    in_sample: pd.Series
    is_event: pd.Series
    fwd: pd.DataFrame
    events: pd.DataFrame
    coverage: dict[str, object]


def describe_definition(p: StudyParams) -> str:
    red = "Close_t < Close_{t-1}" if p.close_rule == "prior_close" else "Close_t < Open_t"
    opens = "genuine opens only" if p.open_policy == "genuine" else "all opens (stale included)"
    end = p.end.isoformat() if p.end else "last date"
    return f"{p.index}: Open_t/Close_(t-1)-1 > {p.gap_threshold:.2%} and {red}; {opens}; {p.start}..{end}"


def run_variant(prices: dict[str, pd.DataFrame], params: StudyParams, name: str) -> VariantResult:
    """Flags, sample, events and forward returns for one definition."""
    px = prices[params.index]
    flags = study_flags(px, params)
    in_sample = sample_mask(px, flags, params)
    is_event = detect_events(px, flags, params)
    fwd = forward_returns(px["close"], params.horizons)
    vix = prices[params.vix]["close"] if params.vix in prices else None
    events = event_table(px, is_event, params.horizons, vix_close=vix, flags=flags)
    cov = coverage_summary(
        flags, pd.Timestamp(params.start), pd.Timestamp(params.end) if params.end else None
    )
    if params.open_policy == "all":
        cov["trading_days_usable"] = int(in_sample.sum())
    return VariantResult(
        name, describe_definition(params), params, flags, in_sample, is_event, fwd, events, cov
    )


def variant_stats(v: VariantResult, rng: np.random.Generator) -> pd.DataFrame:
    """One row per horizon for a variant, with its definition and coverage fields."""
    rows = []
    for k in v.params.horizons:
        row = horizon_stats(
            v.fwd[fwd_col(k)],
            v.in_sample,
            v.is_event,
            k,
            bootstrap_reps=v.params.bootstrap_reps,
            placebo_reps=v.params.placebo_reps,
            rng=rng,
        )
        rows.append({"variant": v.name, "index": v.params.index, "definition": v.definition, **row})
    df = pd.DataFrame(rows)
    in_s = v.in_sample[v.in_sample]
    df["sample_start"] = in_s.index.min().date().isoformat() if len(in_s) else None
    df["sample_end"] = in_s.index.max().date().isoformat() if len(in_s) else None
    df["sample_days"] = int(v.in_sample.sum())
    for key in (
        "requested_start",
        "trading_days_requested",
        "share_usable",
        "first_usable_open",
        "continuously_usable_since",
    ):
        df[key] = v.coverage[key]
    df["event_dates"] = ";".join(d.date().isoformat() for d in v.is_event[v.is_event].index)
    return df


def robustness_variants(params: StudyParams) -> list[tuple[str, StudyParams]]:
    """The main definition plus the robustness rows DESIGN.md lists."""
    out = [("main", params)]
    for t in params.robustness_thresholds:
        if abs(t - params.gap_threshold) > 1e-12:
            out.append((f"threshold_{t:.1%}", params.with_(gap_threshold=t)))
    other_rule = "open" if params.close_rule == "prior_close" else "prior_close"
    out.append((f"close_rule_{other_rule}", params.with_(close_rule=other_rule)))
    if params.robustness_index != params.index:
        out.append(
            (f"{params.robustness_index}_own_opens", params.with_(index=params.robustness_index))
        )
    if params.open_policy == "genuine":
        out.append(("all_opens_incl_stale", params.with_(open_policy="all")))
    return out


@dataclass(frozen=True)
class StudyResult:
    main: VariantResult
    variants: list[VariantResult]
    stats: pd.DataFrame


def run_study(prices: dict[str, pd.DataFrame], params: StudyParams) -> StudyResult:
    """Main study and robustness variants; statistics with Holm/BH adjustment across horizons."""
    rng = np.random.default_rng(params.seed)
    variants = [run_variant(prices, p, name) for name, p in robustness_variants(params)]
    stats = pd.concat([variant_stats(v, rng) for v in variants], ignore_index=True)
    return StudyResult(variants[0], variants, adjust_pvalues(stats))
