"""The event study's published tables from one study result: open quality and its eras, events,
forward returns with the baseline flags, event paths, statistics, evidence and open accuracy."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from eventlab.config import StudyParams
from eventlab.study import open_accuracy as oa
from eventlab.study.evidence import weigh_evidence
from eventlab.study.open_quality import open_quality_eras
from eventlab.study.returns import event_paths, fwd_col
from eventlab.study.whole_study import StudyResult, VariantResult, longest_variant


@dataclass(frozen=True)
class StudyTables:
    """Every table of one study run, plus the intermediate frames their summaries read."""

    open_quality: pd.DataFrame
    open_quality_eras: pd.DataFrame
    events: pd.DataFrame
    forward_returns: pd.DataFrame
    baseline: pd.DataFrame  # in-sample non-event days of forward_returns
    event_paths: pd.DataFrame
    paths_wide: pd.DataFrame  # event_paths by offset (rows) and event date (ISO columns)
    event_stats: pd.DataFrame
    event_baselines: pd.DataFrame
    event_leave_one_out: pd.DataFrame
    event_verdicts: pd.DataFrame
    open_accuracy: pd.DataFrame
    open_accuracy_by_year: pd.DataFrame


def study_tables(result: StudyResult, prices: dict[str, pd.DataFrame]) -> StudyTables:
    """Each study table of `result` (event paths from the index close in `prices`)."""
    v, params, stats = result.main, result.main.params, result.stats
    close = prices[params.index]["close"]
    flags, ev = v.flags, v.events
    fwd = v.fwd.copy()
    fwd["in_sample"] = v.in_sample
    fwd["is_event"] = v.is_event
    paths = event_paths(close, pd.DatetimeIndex(ev["date"]), params.path_pre, params.path_post)
    wide = paths.pivot(index="offset", columns="event_date", values="ret")
    wide.columns = [c.date().isoformat() for c in wide.columns]
    evidence = weigh_evidence(v, stats, prices, longest_variant(result.variants, params))
    ratios = result.open_accuracy if result.open_accuracy is not None else pd.DataFrame()
    return StudyTables(
        open_quality=flags,
        open_quality_eras=open_quality_eras(flags),
        events=ev,
        forward_returns=fwd,
        baseline=fwd[fwd["in_sample"] & ~fwd["is_event"]],
        event_paths=paths,
        paths_wide=wide,
        event_stats=stats,
        event_baselines=evidence["event_baselines"],
        event_leave_one_out=evidence["event_leave_one_out"],
        event_verdicts=evidence["event_verdicts"],
        open_accuracy=ratios,
        open_accuracy_by_year=oa.accuracy_by_year(ratios) if len(ratios) else pd.DataFrame(),
    )


def path_offsets(params: StudyParams) -> list[int]:
    """The event-path offsets a summary shows: the window's ends, the day before and of the
    event, and each horizon of the run's study."""
    return sorted({-params.path_pre, -1, 0, *params.horizons, params.path_post})


def sample_span(v: VariantResult) -> str:
    """The first and last in-sample days of a variant as 'YYYY-MM-DD .. YYYY-MM-DD' ('empty' if none)."""
    days = v.in_sample[v.in_sample].index
    return f"{days.min().date()} .. {days.max().date()}" if len(days) else "empty"


def baseline_means(tables: StudyTables, horizons: tuple[int, ...]) -> dict[str, float]:
    """The baseline's mean forward return per horizon, keyed baseline_mean_<column>."""
    return {
        f"baseline_mean_{fwd_col(k)}": float(tables.baseline[fwd_col(k)].mean()) for k in horizons
    }
