"""The verdict rule's operating characteristics, measured on placebo event sets: its size (how
often it says "supported" when the events carry no effect) and its power (how often it says
"supported" when the stated effect is added to the events' returns), per horizon.

Each placebo set moves every line's events back by the same number of sessions along that
line's own sample, circularly (events the series share stay on the same calendar day until a
shift wraps the shorter sample), so it keeps the events' count, spacing and clustering. Every
statistic the rule reads (the randomization p, the declustered and VIX-matched differences) is
computed for all placebo sets at once (eventlab.study.placebo_shifts) and the sets go through
the same `verdict_rule.classify` as the published verdict: the whole pipeline, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study import placebo_shifts as ps
from eventlab.study.evidence_samples import horizon_sample
from eventlab.study.small_sample import shift_statistics
from eventlab.study.verdict_rule import VERDICT_LABELS, LineEvidence, classify
from eventlab.study.whole_study import VariantResult


@dataclass(frozen=True)
class LineSample:
    """One line's valid sample at one horizon: forward returns, event flags, the later events
    of each episode (left out when declustered) and each day's VIX quintile (-1: none)."""

    y: np.ndarray
    d: np.ndarray
    drop: np.ndarray
    quint: np.ndarray

    def computable(self, min_events: int) -> bool:
        """Whether the line has enough events (and non-event days) for inference."""
        n = int(self.d.sum())
        return n >= max(min_events, 2) and n < len(self.y)

    def effect(self, effect_sd: float) -> float:
        """The stated effect: `effect_sd` standard deviations of the non-event returns."""
        base = self.y[~self.d]
        return effect_sd * float(np.std(base, ddof=1)) if len(base) > 1 else np.nan


def line_samples(v: VariantResult, prices: dict[str, pd.DataFrame]) -> list[LineSample]:
    """The variant's sample at each of its horizons, as the rule's statistics read it."""
    out = []
    for k in v.params.horizons:
        s = horizon_sample(v, prices, k)
        out.append(LineSample(s.y, s.d, s.later_in_episode, s.quint))
    return out


def placebo_shifts(lengths: list[int], sets: int) -> np.ndarray:
    """`sets` distinct session offsets (at most the shortest sample's length - 1), evenly spaced
    (none without a sample)."""
    span = min(lengths, default=1) - 1
    count = max(min(sets, span), 0)
    return 1 + (np.arange(count) * span) // max(count, 1)


def _line_evidence(
    samples: list[LineSample], offsets: np.ndarray, params: StudyParams, with_effect: bool
) -> LineEvidence:
    """The line's evidence over every placebo set (rows) and horizon (columns), with or without
    the stated effect added to the placebo events' returns."""
    cols: dict[str, list[np.ndarray]] = {"diff": [], "p": [], "dc": [], "vm": []}
    effects = []
    missing = np.full(len(offsets), np.nan)
    for s in samples:
        delta = s.effect(params.verdict_effect_sd)
        effects.append(delta)
        if not s.computable(params.min_events_for_inference):
            # too few events (or no sample): the rule reads no statistic of this line
            for key in cols:
                cols[key].append(missing)
            continue
        shifts = (-offsets) % len(s.y)  # back by `offsets` sessions
        add = delta if with_effect else 0.0
        stat, diff = shift_statistics(s.y, s.d, method="fft")
        if with_effect:
            p = ps.p_with_effect(s.y, s.d, shifts, add)
        else:
            p = ps.shift_p_values(stat, shifts)
        cols["diff"].append(diff[shifts] + add)
        cols["p"].append(p)
        cols["dc"].append(ps.declustered_differences(s.y, s.d, s.drop)[shifts] + add)
        cols["vm"].append(ps.vix_matched_differences(s.y, s.d, s.quint)[shifts] + add)
    diff, p_value, declustered, vix_matched = (
        np.column_stack(cols[key]) for key in ("diff", "p", "dc", "vm")
    )
    return LineEvidence(diff, p_value, declustered, vix_matched, np.array(effects))


def operating_characteristics(
    lines: list[VariantResult], prices: dict[str, pd.DataFrame], params: StudyParams
) -> pd.DataFrame:
    """Per horizon: placebo sets, stated effect (per line), size, size over all horizons, power,
    and how often the rule says "no evidence of an effect" when the stated effect is there."""
    samples = [line_samples(v, prices) for v in lines]
    return error_rates(samples, [v.name for v in lines], params)


def error_rates(
    samples: list[list[LineSample]], names: list[str], params: StudyParams
) -> pd.DataFrame:
    """operating_characteristics from the lines' samples (one list of horizons per line, in
    params.horizons order; `names` label the stated-effect columns)."""
    usable = [
        len(s.y) for line in samples for s in line if s.computable(params.min_events_for_inference)
    ]
    offsets = placebo_shifts(usable, params.verdict_placebo_sets)
    null = [_line_evidence(line, offsets, params, False) for line in samples]
    effect = [_line_evidence(line, offsets, params, True) for line in samples]
    alpha, min_power = params.verdict_alpha, params.verdict_min_power
    unknown = np.full(len(params.horizons), np.nan)
    measured = len(offsets) > 0
    supported_null = classify(null, alpha, unknown, min_power) == 0
    power = (classify(effect, alpha, unknown, min_power) == 0).mean(axis=0) if measured else unknown
    under_effect = classify(effect, alpha, power, min_power)
    rows = []
    for h, k in enumerate(params.horizons):
        row: dict[str, object] = {
            "horizon": k,
            "placebo_sets": len(offsets),
            "size": float(supported_null[:, h].mean()) if measured else np.nan,
            "size_any_horizon": float(supported_null.any(axis=1).mean()) if measured else np.nan,
            "power": float(power[h]) if measured else np.nan,
            "no_effect_under_effect": float((under_effect[:, h] == 1).mean())
            if measured
            else np.nan,
        }
        for name, line in zip(names, null, strict=True):
            row[f"effect_{name}"] = float(line.effect[h])
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = [
    "VERDICT_LABELS",
    "LineSample",
    "error_rates",
    "line_samples",
    "operating_characteristics",
]
