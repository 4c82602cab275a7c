"""The study's statistics for every circular shift of the event dates at once: the placebo event
sets the verdict rule's size and power are measured on.

A circular shift moves all events together along the sample, so a placebo set keeps the events'
count, spacing and clustering. The sums over every shift are circular cross-correlations of the
event flags with the day values (one FFT each, O(n log n)), so the circular-shift p-value of every
placebo set is its statistic's rank among all shifts (small_sample.shift_statistics gives every
shift's statistic; circular_shift_p computes the same p for one arrangement). An effect added to the placebo events' returns also moves the other
shifts that share days with them; `p_with_effect` corrects exactly those shifts, lag by lag, so
its p equals circular_shift_p on the modified returns (tests/test_verdict_rule.py checks both).
"""

from __future__ import annotations

import numpy as np

from eventlab.study.small_sample import circular_correlation, shift_statistic

# Placebo sets per block of the effect computation: the block's (sets x sample days) matrices
# stay a few MB even on the longest series.
_BLOCK = 256


def shift_sums(d: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_i x[(p_i + j) % n] for every shift j = 0..n-1, p_i the flagged positions of `d`
    (`x` one row per day, or several rows)."""
    return circular_correlation(d, x)


def shift_p_values(stat: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """circular_shift_p of each placebo arrangement `shifts`: the share of all shifts (itself
    included once) whose statistic is at least its own."""
    ranked = np.sort(stat)
    at_least = len(stat) - np.searchsorted(ranked, stat[shifts] * (1 - 1e-12), side="left")
    return at_least / len(stat)


def declustered_differences(y: np.ndarray, d: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """The declustered mean difference for every shift: the events flagged in `drop` (later
    events of an episode) leave the sample, the rest are compared with the non-event days."""
    keep = d & ~drop
    n_keep, n_drop = int(keep.sum()), int(drop.sum())
    if n_keep == 0 or len(y) - n_keep - n_drop <= 0:
        return np.full(len(y), np.nan)
    kept, dropped = shift_sums(keep, y), shift_sums(drop, y)
    return kept / n_keep - (float(y.sum()) - kept - dropped) / (len(y) - n_keep - n_drop)


def vix_matched_differences(y: np.ndarray, d: np.ndarray, quint: np.ndarray) -> np.ndarray:
    """The events' mean minus the VIX-quintile-matched baseline for every shift: the non-event
    days of each quintile weighted by the shifted events in it (evidence.baseline_weights)."""
    n = int(d.sum())
    if n == 0 or not (quint >= 0).any():
        return np.full(len(y), np.nan)
    in_q = np.stack([quint == q for q in range(5)]).astype(float)
    counts = np.rint(shift_sums(d, in_q))
    ev_sums = shift_sums(d, in_q * y)
    days = in_q.sum(axis=1)[:, None] - counts
    rest = (in_q @ y)[:, None] - ev_sums
    ok = (counts > 0) & (days > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        matched = np.where(ok, counts * rest / np.where(ok, days, 1.0), 0.0).sum(axis=0)
        matched = matched / np.where(ok, counts, 0.0).sum(axis=0)
    return shift_sums(d, y) / n - matched


def p_with_effect(y: np.ndarray, d: np.ndarray, shifts: np.ndarray, effect: float) -> np.ndarray:
    """circular_shift_p of each placebo arrangement `shifts` after adding `effect` to the
    returns of its own event days. Shift j shares the days p_l + s with placebo s when
    j - s = p_l - p_i for some events i, l (a lag of the events' own spacing), so only the
    shifts at those lags change beyond the common change of the total: each gets effect x
    overlap on its sum and the matching terms on its sum of squares. The other shifts' ranks
    come from one sorted array shared by every placebo set."""
    pos = np.flatnonzero(d)
    n, n_all = len(pos), len(y)
    sums = shift_sums(d, np.vstack([y, np.square(y)]))
    total = float(y.sum()) + n * effect
    untouched, _ = shift_statistic(sums[0], sums[1], total, n, n_all)
    ranked = np.sort(untouched)
    lag_of = (pos[None, :] - pos[:, None]) % n_all  # [i, l]: p_l - p_i
    lags, which = np.unique(lag_of, return_inverse=True)  # lags[0] == 0: the set itself
    which = which.reshape(n, n)
    overlap = np.bincount(which.ravel(), minlength=len(lags)).astype(float)
    # The pairs (i, l) grouped by lag: event l's day is shared at that lag.
    order = np.argsort(which.ravel(), kind="stable")
    shared_days = pos[np.tile(np.arange(n), n)[order]]
    starts = np.searchsorted(which.ravel()[order], np.arange(len(lags)))
    out = np.empty(len(shifts))
    for start in range(0, len(shifts), _BLOCK):
        s = shifts[start : start + _BLOCK]
        shared = np.add.reduceat(y[(shared_days[None, :] + s[:, None]) % n_all], starts, axis=1)
        cols = (s[:, None] + lags[None, :]) % n_all  # the shifts each set touches
        ev_sum = sums[0][cols] + effect * overlap
        ev_sq = sums[1][cols] + effect**2 * overlap + 2 * effect * shared
        touched, _ = shift_statistic(ev_sum, ev_sq, total, n, n_all)
        threshold = touched[:, :1] * (1 - 1e-12)
        above = n_all - np.searchsorted(ranked, threshold[:, 0], side="left")
        above -= (untouched[cols] >= threshold).sum(axis=1)
        above += (touched >= threshold).sum(axis=1)
        out[start : start + len(s)] = above / n_all
    return out
