"""Run the whole event study (main definition + robustness variants) on a dict of price frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study.event_rules import GAP_RULE, EventRule
from eventlab.study.events import event_rows, sample_array, study_flags
from eventlab.study.open_accuracy import (
    effective_visibility,
    gap_ratios,
    unseen_reference_events,
)
from eventlab.study.open_quality import coverage_summary
from eventlab.study.returns import forward_returns, fwd_col
from eventlab.study.small_sample import decluster
from eventlab.study.statistics import adjust_all, sample_stats


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
    rule: EventRule = field(default=GAP_RULE)


def describe_definition(p: StudyParams) -> str:
    """The seed gap rule's definition in one line."""
    return GAP_RULE.definition(p)


def run_variant(
    prices: dict[str, pd.DataFrame],
    params: StudyParams,
    name: str,
    rule: EventRule = GAP_RULE,
    *,
    own_open: bool = False,
) -> VariantResult:
    """Flags, sample, events and forward returns for one definition (`rule` picks the events).
    `own_open`: a day's open is usable when it is genuine itself, without the trailing-coverage
    requirement (stocks)."""
    px = prices[params.index]
    flags = study_flags(px, params)
    if own_open:
        flags["open_genuine"] = flags["open_genuine_raw"]
    # One pass on aligned arrays: flags are built on px's own index, so no reindexing is needed.
    c = px["close"].to_numpy(float)
    in_sample = sample_array(px.index, c, flags["open_genuine"].to_numpy(bool), params)
    is_event = rule.mask(prices, params, in_sample)
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
        rule.definition(params),
        params,
        flags,
        pd.Series(in_sample, index=px.index),
        pd.Series(is_event, index=px.index),
        fwd,
        events,
        cov,
        rule,
    )


COVERAGE_FIELDS: tuple[str, ...] = (
    "requested_start",
    "trading_days_requested",
    "share_usable",
    "share_genuine_open",
    "first_usable_open",
    "continuously_usable_since",
)


def variant_rows(
    v: VariantResult, rng: np.random.Generator, *, perm_method: str = "auto"
) -> list[dict[str, object]]:
    """variant_stats as plain rows, so run_study builds one frame for all variants (in_sample,
    is_event and fwd share the price index, as run_variant builds them). `perm_method`: see
    statistics.sample_stats."""
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
            min_events=v.params.min_events_for_inference,
            perm_method=perm_method,
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


def robustness_variants(
    params: StudyParams, rule: EventRule = GAP_RULE
) -> list[tuple[str, StudyParams]]:
    """The main definition plus the robustness rows DESIGN.md lists (the rule's own first)."""
    return rule.variants(params)


def without_events(v: VariantResult, name: str, definition: str, drop: np.ndarray) -> VariantResult:
    """The variant with the events at price-index positions `drop` removed from the sample
    altogether (they are neither events nor baseline days)."""
    in_sample, is_event = v.in_sample.to_numpy(bool).copy(), v.is_event.to_numpy(bool).copy()
    in_sample[drop] = False
    is_event[drop] = False
    kept = np.flatnonzero(is_event)
    events = v.events[v.events["date"].isin(v.in_sample.index[kept])].reset_index(drop=True)
    return VariantResult(
        name,
        definition,
        v.params,
        v.flags,
        pd.Series(in_sample, index=v.in_sample.index),
        pd.Series(is_event, index=v.is_event.index),
        v.fwd,
        events,
        v.coverage,
        v.rule,
    )


def declustered_variant(v: VariantResult) -> VariantResult:
    """Events closer than the cooldown merged into episodes; each episode counted once, by its
    first event (the later events of an episode leave the sample)."""
    cooldown = v.params.decluster_cooldown
    pos = np.flatnonzero(v.is_event.to_numpy(bool))
    _, starts = decluster(pos, cooldown)
    drop = np.setdiff1d(pos, starts)
    return without_events(
        v,
        f"{v.name}_declustered",
        f"{v.definition}; events within {cooldown} sessions of an episode's first event merged into it",
        drop,
    )


def without_near_threshold(v: VariantResult) -> VariantResult | None:
    """The variant without the events that cleared the rule's threshold by less than the margin
    (None: the rule has no threshold)."""
    flags = v.rule.near_threshold(v.events, v.params)
    if flags is None:
        return None
    near = v.events["date"][flags]
    drop = v.in_sample.index.get_indexer(pd.DatetimeIndex(near))
    return without_events(
        v,
        f"{v.name}_excl_near_threshold",
        f"{v.definition}; events with a gap within {v.params.near_threshold_margin * 1e4:.0f} bp of the threshold left out",
        drop,
    )


def annotate_events(v: VariantResult) -> pd.DataFrame:
    """The events table with its episode number (declustering) and the near-threshold flag."""
    ev = v.events.copy()
    pos = v.in_sample.index.get_indexer(pd.DatetimeIndex(ev["date"]))
    episode, _ = decluster(pos, v.params.decluster_cooldown)
    ev["episode"] = episode + 1 if len(ev) else episode  # positions are sorted like the table
    near = v.rule.near_threshold(ev, v.params)
    ev["near_threshold"] = near if near is not None else np.zeros(len(ev), bool)
    return ev


@dataclass(frozen=True)
class StudyResult:
    main: VariantResult
    variants: list[VariantResult]
    stats: pd.DataFrame
    open_accuracy: pd.DataFrame | None = None


def visibility_fields(
    prices: dict[str, pd.DataFrame], main: VariantResult, reference: VariantResult | None
) -> tuple[pd.DataFrame | None, dict[str, object]]:
    """Open accuracy of the index against the robustness index (daily ratios) and the summary
    columns event_stats carries: the effective-visibility date and the reference events the
    index could not see between its first usable open and that date."""
    p = main.params
    if p.robustness_index == p.index or p.robustness_index not in prices:
        return None, {"effective_visibility_from": None, "reference_events_unseen": None}
    ratios = gap_ratios(
        prices[p.index],
        prices[p.robustness_index],
        p.accuracy_min_reference_gap,
        p.accuracy_window,
        main.flags["open_genuine"],
    )
    visible = effective_visibility(ratios, p.accuracy_bound)
    unseen = None
    first = main.coverage.get("first_usable_open")
    if reference is not None and first is not None:
        end = visible if visible is not None else main.in_sample.index[-1] + pd.Timedelta(days=1)
        unseen = len(unseen_reference_events(main.is_event, reference.is_event, first, end))
    return ratios, {
        "effective_visibility_from": visible.date().isoformat() if visible is not None else None,
        "reference_events_unseen": unseen,
    }


def longest_variant(variants: list[VariantResult], params: StudyParams) -> VariantResult | None:
    """The robustness index on its own opens (the longest series), if the study ran it."""
    return next((v for v in variants if v.name == f"{params.robustness_index}_own_opens"), None)


def run_study(
    prices: dict[str, pd.DataFrame], params: StudyParams, rule: EventRule = GAP_RULE
) -> StudyResult:
    """Main study, robustness variants, the main variant declustered and without its
    near-threshold events, and the longest series declustered; statistics with Holm/BH
    adjustment across horizons (HAC p as p_holm, the circular-shift randomization p as
    perm_p_holm). `rule` picks the events (the seed gap rule by default, or a study spec's
    condition)."""
    rng = np.random.default_rng(params.seed)
    variants = [
        run_variant(prices, p, name, rule)
        for name, p in robustness_variants(params, rule)
        if p.index in prices
    ]
    main = variants[0]
    main = VariantResult(**{**main.__dict__, "events": annotate_events(main)})
    variants[0] = main
    near = without_near_threshold(main)
    variants += [declustered_variant(main), *([near] if near is not None else [])]
    reference = longest_variant(variants, params)
    if reference is not None:
        # last, so the other variants' bootstrap draws stay what they were
        variants.append(declustered_variant(reference))
    stats = pd.DataFrame([row for v in variants for row in variant_rows(v, rng)])
    stats = adjust_all(stats)
    ratios, fields = visibility_fields(prices, main, reference)
    for name, value in fields.items():
        stats[name] = value
    return StudyResult(main, variants, stats, ratios)
