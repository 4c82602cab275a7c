"""What makes a day an event: the seed gap rule (gap above a threshold, closed red) or a study
spec's parsed condition. The battery (eventlab.study.whole_study) asks a rule for the event mask,
the definition text, its robustness variants and its near-threshold events; everything else
(sample, forward returns, statistics, evidence) is the same for every rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from eventlab.config import StudyParams
from eventlab.study.events import event_array


class EventRule(Protocol):
    """The part of a study that differs from one question to another."""

    def mask(
        self, prices: Mapping[str, pd.DataFrame], params: StudyParams, in_sample: np.ndarray
    ) -> np.ndarray:
        """Event flags on prices[params.index]'s dates (already restricted to `in_sample`)."""
        ...

    def definition(self, params: StudyParams) -> str:
        """The definition in one line, as event_stats' `definition` column states it."""
        ...

    def variants(self, params: StudyParams) -> list[tuple[str, StudyParams]]:
        """The main definition plus the robustness rows, in the order the statistics draw them."""
        ...

    def near_threshold(self, events: pd.DataFrame, params: StudyParams) -> np.ndarray | None:
        """Events that clear a threshold narrowly (None: the rule has no threshold)."""
        ...


class ConditionLike(Protocol):
    """The parts of eventlab.studies.expression.Condition a rule reads."""

    text: str
    uses_open: bool

    def evaluate(self, frames: Mapping[str, pd.DataFrame]) -> pd.Series:
        """Bool per date of the condition's own series."""
        ...


def _opens_words(p: StudyParams) -> str:
    """How the definition states its open policy."""
    return "genuine opens only" if p.open_policy == "genuine" else "all opens (stale included)"


def _window_words(p: StudyParams) -> str:
    """The study window asked for (the sample actually used is in the statistics)."""
    end = p.end.isoformat() if p.end else "the last date"
    return f"asked for {p.start} to {end}"


def shared_variants(params: StudyParams) -> list[tuple[str, StudyParams]]:
    """The robustness rows every rule gets: the robustness index on its own opens (the verdict's
    longest series) and, for a study on genuine opens, every open counted."""
    out = []
    if params.robustness_index != params.index:
        out.append(
            (f"{params.robustness_index}_own_opens", params.with_(index=params.robustness_index))
        )
    if params.open_policy == "genuine":
        out.append(("all_opens_incl_stale", params.with_(open_policy="all")))
    return out


class GapRule:
    """The seed question: Open_t/Close_(t-1)-1 above `gap_threshold`, closed red by `close_rule`."""

    def mask(
        self, prices: Mapping[str, pd.DataFrame], params: StudyParams, in_sample: np.ndarray
    ) -> np.ndarray:
        """Gap above the threshold and closed red, in the sample."""
        px = prices[params.index]
        o, c = px["open"].to_numpy(float), px["close"].to_numpy(float)
        return event_array(o, c, in_sample, params.gap_threshold, params.close_rule)

    def definition(self, params: StudyParams) -> str:
        """The gap rule with its threshold, close rule, open policy and window."""
        p = params
        red = "Close_t < Close_{t-1}" if p.close_rule == "prior_close" else "Close_t < Open_t"
        return (
            f"{p.index}: Open_t/Close_(t-1)-1 > {p.gap_threshold:.2%} and {red}; "
            f"{_opens_words(p)}; {_window_words(p)}"
        )

    def variants(self, params: StudyParams) -> list[tuple[str, StudyParams]]:
        """Main, the other gap thresholds, the other close rule, then the shared rows."""
        out = [("main", params)]
        for t in params.robustness_thresholds:
            if abs(t - params.gap_threshold) > 1e-12:
                out.append((f"threshold_{t:.1%}", params.with_(gap_threshold=t)))
        other_rule = "open" if params.close_rule == "prior_close" else "prior_close"
        out.append((f"close_rule_{other_rule}", params.with_(close_rule=other_rule)))
        return out + shared_variants(params)

    def near_threshold(self, events: pd.DataFrame, params: StudyParams) -> np.ndarray:
        """Events whose gap clears the threshold by less than the configured margin."""
        return (events["gap"] - params.gap_threshold < params.near_threshold_margin).to_numpy(bool)


GAP_RULE = GapRule()


@dataclass(frozen=True)
class ConditionRule:
    """A study spec's condition, written for the series `series`: a variant on another index
    (the robustness index) evaluates the same condition with that index's bars in its place."""

    condition: ConditionLike
    series: str

    def mask(
        self, prices: Mapping[str, pd.DataFrame], params: StudyParams, in_sample: np.ndarray
    ) -> np.ndarray:
        """The condition on params.index's bars, in the sample."""
        frames = prices
        if params.index != self.series:
            frames = {**prices, self.series: prices[params.index]}
        hit = self.condition.evaluate(frames).to_numpy(bool, na_value=False)
        return hit & in_sample

    def definition(self, params: StudyParams) -> str:
        """The condition as written, with the open policy (a condition that reads no open counts
        every session) and window."""
        opens = _opens_words(params) if self.condition.uses_open else "every session (no open read)"
        return f"{params.index}: {self.condition.text}; {opens}; {_window_words(params)}"

    def variants(self, params: StudyParams) -> list[tuple[str, StudyParams]]:
        """Main, then the shared rows (stale opens only matter to a condition that reads opens)."""
        shared = shared_variants(params)
        if not self.condition.uses_open:
            shared = [(n, p) for n, p in shared if n != "all_opens_incl_stale"]
        return [("main", params), *shared]

    def near_threshold(self, events: pd.DataFrame, params: StudyParams) -> None:
        """A condition has no single threshold to be near."""
        return None
