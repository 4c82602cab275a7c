"""One variant's valid sample at one horizon, as the evidence reads it: the days with a forward
return, their returns and event flags, each day's VIX close and quintile, and the events that
declustering leaves out (the later events of an episode)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventlab.study.returns import fwd_col
from eventlab.study.small_sample import decluster
from eventlab.study.whole_study import VariantResult

# The baseline of non-event days in each event's VIX quintile (evidence.baseline_weights): the
# verdict rule reads it as a robustness check of each line.
VIX_MATCHED = "vix_quintile_matched"


@dataclass(frozen=True)
class HorizonSample:
    """Positions in the price index, forward returns, event flags, VIX closes, VIX quintiles
    (-1 where missing) and the later-in-episode flags of the sample days with a k-day return."""

    pos: np.ndarray
    y: np.ndarray
    d: np.ndarray
    vix: np.ndarray
    quint: np.ndarray
    later_in_episode: np.ndarray


def vix_quintiles(vix: np.ndarray) -> np.ndarray:
    """Quintile 0..4 of each day's VIX close among the given days' closes (-1 where missing):
    the regime the VIX-matched baseline and the regime-matched random entries match on."""
    vix = np.asarray(vix, float)
    has = ~np.isnan(vix)
    if not has.any():
        return np.full(len(vix), -1)
    edges = np.quantile(vix[has], [0.2, 0.4, 0.6, 0.8])
    return np.where(has, np.searchsorted(edges, vix, side="right"), -1)


def sample_days(v: VariantResult, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions in the price index, forward returns, event flags) of the variant's valid
    sample days that have a k-day forward return."""
    fwd = v.fwd[fwd_col(k)].to_numpy(float)
    ok = v.in_sample.to_numpy(bool) & ~np.isnan(fwd)
    pos = np.flatnonzero(ok)
    return pos, fwd[pos], v.is_event.to_numpy(bool)[pos]


def horizon_sample(v: VariantResult, prices: dict[str, pd.DataFrame], k: int) -> HorizonSample:
    """The variant's sample at horizon k with its VIX regime and episode structure."""
    pos, y, d = sample_days(v, k)
    p = v.params
    vix = (
        prices[p.vix]["close"].reindex(prices[p.index].index[pos]).to_numpy(float)
        if p.vix in prices
        else np.full(len(pos), np.nan)
    )
    events = np.flatnonzero(v.is_event.to_numpy(bool))
    _, starts = decluster(events, p.decluster_cooldown)
    later = np.isin(pos, np.setdiff1d(events, starts))
    return HorizonSample(pos, y, d, vix, vix_quintiles(vix), later)
