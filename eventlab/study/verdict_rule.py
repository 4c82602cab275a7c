"""The verdict rule: independent lines of evidence per horizon turned into one of four verdicts,
vectorised so that the published verdict and the placebo simulation that measures the rule's
size and power (eventlab.study.rule_error_rates) run the very same code.

A line of evidence is one series' own events against its own non-event days (the study index,
and the longest series with real opens, e.g. SPY). Re-weightings of a line's events (its
declustered episodes, its VIX-quintile-matched baseline) are robustness checks of that line,
not extra lines. Per horizon:
- each line's circular-shift p-value (small_sample.circular_shift_p) is family-adjusted: by
  default Holm across every line and horizon of the study (2 series x 3 horizons = 6 tests);
  a caller with a wider family (the ledger of every test) passes its own adjusted p-values;
- a line *clears the bar* when its adjusted p is at most `verdict_alpha` and its declustered
  and VIX-matched differences have the sign of its own difference;
- "supported": some line clears the bar and no other line with enough events points the
  other way;
- "too few events to tell": no line has the minimum events for inference, or the rule's power
  at the stated effect (measured on placebo event sets) is below `verdict_min_power`;
- "no evidence of an effect": power is adequate and every line's difference is within half
  the stated effect of zero;
- "inconclusive": otherwise (a line cleared the bar but another line or a robustness check
  points the other way, or the estimate is not near zero yet does not clear the bar).
The stated effect is `verdict_effect_sd` standard deviations of each series' non-event forward
returns at the horizon. Family-adjusted p-values from a wider family are never smaller than
the study's own, so the size measured with the study's adjustment bounds the rule's size then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUPPORTED = "supported"
NO_EFFECT = "no evidence of an effect"
TOO_FEW = "too few events to tell"
INCONCLUSIVE = "inconclusive"
VERDICT_LABELS = (SUPPORTED, NO_EFFECT, TOO_FEW, INCONCLUSIVE)  # codes 0..3


@dataclass(frozen=True)
class LineEvidence:
    """One line of evidence over placebo sets (rows) and horizons (columns): its mean
    difference, raw randomization p (NaN: too few events for inference), its declustered and
    VIX-matched differences, and the stated effect per horizon."""

    diff: np.ndarray
    p: np.ndarray
    declustered: np.ndarray
    vix_matched: np.ndarray
    effect: np.ndarray


def holm_rows(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values along each row (NaN entries are not tests and stay NaN),
    as statistics.holm applied to each row's non-missing values."""
    p = np.atleast_2d(np.asarray(p, dtype=float))
    missing = np.isnan(p)
    m = (~missing).sum(axis=1, keepdims=True)
    order = np.argsort(np.where(missing, np.inf, p), axis=1)
    ranked = np.take_along_axis(np.where(missing, np.inf, p), order, axis=1)
    with np.errstate(invalid="ignore"):
        scaled = np.maximum.accumulate((m - np.arange(p.shape[1])) * ranked, axis=1)
    out = np.empty_like(p)
    np.put_along_axis(out, order, np.minimum(scaled, 1.0), axis=1)
    return np.where(missing, np.nan, out)


def family_adjusted(lines: list[LineEvidence]) -> np.ndarray:
    """The study's own family adjustment: Holm across every line and horizon, per placebo set;
    shape (sets, lines, horizons)."""
    sets, horizons = lines[0].p.shape
    flat = np.concatenate([line.p for line in lines], axis=1)
    return holm_rows(flat).reshape(sets, len(lines), horizons)


def _same_sign(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether a and b are nonzero with one sign (NaN: no)."""
    return (np.sign(a) == np.sign(b)) & (a != 0)


def clears_bar(lines: list[LineEvidence], p_adj: np.ndarray, alpha: float) -> np.ndarray:
    """(sets, lines, horizons): the line's adjusted p is at most alpha and its robustness checks
    keep its sign."""
    return np.stack(
        [
            (p_adj[:, i] <= alpha)
            & _same_sign(line.declustered, line.diff)
            & _same_sign(line.vix_matched, line.diff)
            for i, line in enumerate(lines)
        ],
        axis=1,
    )


def classify(
    lines: list[LineEvidence],
    alpha: float,
    power: np.ndarray,
    min_power: float,
    p_adj: np.ndarray | None = None,
) -> np.ndarray:
    """Verdict codes (index into VERDICT_LABELS), shape (sets, horizons). `power` per horizon
    (NaN: not measured, so never adequate); `p_adj` (sets, lines, horizons) replaces the study's
    own family adjustment when given."""
    p_adj = family_adjusted(lines) if p_adj is None else p_adj
    computable = np.stack([~np.isnan(line.p) for line in lines], axis=1)
    signs = np.where(computable, np.stack([np.sign(line.diff) for line in lines], axis=1), 0)
    conflict = (signs > 0).any(axis=1) & (signs < 0).any(axis=1)
    cleared = clears_bar(lines, p_adj, alpha).any(axis=1)
    near = np.stack(
        [np.abs(line.diff) <= line.effect / 2 for line in lines], axis=1
    )  # effect broadcasts over the sets
    near_zero = np.where(computable, near, True).all(axis=1)
    adequate = np.nan_to_num(np.asarray(power, dtype=float), nan=-1.0) >= min_power
    return np.select(
        [
            cleared & ~conflict,
            ~computable.any(axis=1),
            cleared,
            ~adequate,
            near_zero,
        ],
        [0, 2, 3, 2, 1],
        default=3,
    )
