"""Run the whole event study (main definition + robustness variants) on a dict of price frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study.events import event_array, event_rows, sample_array, study_flags
from eventlab.study.open_quality import coverage_summary
from eventlab.study.returns import forward_returns, fwd_col
from eventlab.study.statistics import adjust_pvalues, sample_stats


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
    # One pass on aligned arrays: flags are built on px's own index, so no reindexing is needed.
    o, c = px["open"].to_numpy(float), px["close"].to_numpy(float)
    in_sample = sample_array(px.index, c, flags["open_genuine"].to_numpy(bool), params)
    is_event = event_array(o, c, in_sample, params.gap_threshold, params.close_rule)
    fwd = forward_returns(px["close"], params.horizons)
    vix = prices[params.vix]["close"] if params.vix in prices else None
    events = event_rows(
        px, np.flatnonzero(is_event), params.horizons, vix_close=vix, coverage=flags["coverage"]
    )
    cov = coverage_summary(
        flags, pd.Timestamp(params.start), pd.Timestamp(params.end) if params.end else None
    )
    if params.open_policy == "all":
        cov["trading_days_usable"] = int(in_sample.sum())
    return VariantResult(
        name,
        describe_definition(params),
        params,
        flags,
        pd.Series(in_sample, index=px.index),
        pd.Series(is_event, index=px.index),
        fwd,
        events,
        cov,
    )


COVERAGE_FIELDS: tuple[str, ...] = (
    "requested_start",
    "trading_days_requested",
    "share_usable",
    "first_usable_open",
    "continuously_usable_since",
)


def variant_rows(v: VariantResult, rng: np.random.Generator) -> list[dict[str, object]]:
    """variant_stats as plain rows, so run_study builds one frame for all variants (in_sample,
    is_event and fwd share the price index, as run_variant builds them)."""
    in_sample = v.in_sample.to_numpy(bool)
    is_event = v.is_event.to_numpy(bool)
    days = v.in_sample.index[in_sample]
    n_events = int((is_event & in_sample).sum())
    common = {
        "sample_start": days.min().date().isoformat() if len(days) else None,
        "sample_end": days.max().date().isoformat() if len(days) else None,
        "sample_days": int(in_sample.sum()),
        **{key: v.coverage[key] for key in COVERAGE_FIELDS},
        "event_dates": ";".join(d.date().isoformat() for d in v.is_event.index[is_event]),
    }
    rows = []
    for k in v.params.horizons:
        fwd = v.fwd[fwd_col(k)].to_numpy(float)
        ok = in_sample & ~np.isnan(fwd)
        row = sample_stats(
            fwd[ok],
            is_event[ok],
            k,
            n_events,
            bootstrap_reps=v.params.bootstrap_reps,
            placebo_reps=v.params.placebo_reps,
            rng=rng,
        )
        rows.append(
            {
                "variant": v.name,
                "index": v.params.index,
                "definition": v.definition,
                **row,
                **common,
            }
        )
    return rows


def variant_stats(v: VariantResult, rng: np.random.Generator) -> pd.DataFrame:
    """One row per horizon for a variant, with its definition and coverage fields."""
    return pd.DataFrame(variant_rows(v, rng))


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
    stats = pd.DataFrame([row for v in variants for row in variant_rows(v, rng)])
    return StudyResult(variants[0], variants, adjust_pvalues(stats))
