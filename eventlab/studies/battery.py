"""One study spec through the whole battery (the seed study's: robustness rows, declustering,
regime-matched baselines, leave-one-out, the longest series, the verdict), and the one-line
summaries the index page, the hypothesis table and the fired-today list read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from eventlab.studies.spec import StudySpec
from eventlab.study.evidence import weigh_evidence
from eventlab.study.returns import fwd_col
from eventlab.study.whole_study import longest_variant, run_study

# The hypothesis table's columns (one row per spec x series x horizon x variant): what the
# hypothesis ledger counts as tested (issue 21).
HYPOTHESIS_COLUMNS = ("spec", "series", "horizon", "variant", "estimate", "p_value", "n_events")
# The per-study summary: one row per spec (the index page, the fired-today list).
SUMMARY_COLUMNS = (
    "spec", "question", "series", "condition", "n_events", "first_event", "last_event",
    "fired_today", "latest_session",
)  # fmt: skip


@dataclass(frozen=True)
class SpecResult:
    """A spec's tables (those its report folder holds) and whether it fired on the latest session."""

    spec: StudySpec
    events: pd.DataFrame
    stats: pd.DataFrame
    baselines: pd.DataFrame
    leave_one_out: pd.DataFrame
    verdicts: pd.DataFrame
    fired_today: bool
    latest_session: pd.Timestamp


def fired_on_latest(
    spec: StudySpec, prices: Mapping[str, pd.DataFrame]
) -> tuple[bool, pd.Timestamp]:
    """Whether the spec's condition holds on its series' latest session (the sample's own
    filters aside: a fresh event is news even before its forward returns exist)."""
    held = spec.condition.evaluate(prices)
    last = prices[spec.params.index].index[-1]
    return bool(len(held) and held.iloc[-1]), last


def run_spec(spec: StudySpec, prices: Mapping[str, pd.DataFrame]) -> SpecResult:
    """The whole battery for one spec on the given price frames."""
    frames = dict(prices)
    result = run_study(frames, spec.params, spec.rule)
    longest = longest_variant(result.variants, spec.params)
    evidence = weigh_evidence(result.main, result.stats, frames, longest)
    fired, last = fired_on_latest(spec, frames)
    return SpecResult(
        spec=spec,
        events=result.main.events,
        stats=result.stats,
        baselines=evidence["event_baselines"],
        leave_one_out=evidence["event_leave_one_out"],
        verdicts=evidence["event_verdicts"],
        fired_today=fired,
        latest_session=last,
    )


def hypothesis_rows(r: SpecResult) -> pd.DataFrame:
    """Every statistic the spec tested: spec, series, horizon, variant, the estimate (event mean
    minus baseline mean) and its circular-shift randomization p-value (unadjusted; NaN where too
    few events allowed no inference)."""
    s = r.stats
    return pd.DataFrame(
        {
            "spec": r.spec.name,
            "series": s["index"].astype(str).to_numpy(),
            "horizon": s["horizon"].astype(int).to_numpy(),
            "variant": s["variant"].astype(str).to_numpy(),
            "estimate": s["diff_mean"].astype(float).to_numpy(),
            "p_value": s["perm_p"].astype(float).to_numpy(),
            "n_events": s["n_events_with_horizon"].astype(int).to_numpy(),
        },
        columns=list(HYPOTHESIS_COLUMNS),
    )


def horizon_fields(r: SpecResult) -> dict[str, object]:
    """Per horizon of the main variant: events with that horizon, median, hit rate and verdict."""
    main = r.stats[r.stats["variant"] == "main"].set_index("horizon")
    verdict = r.verdicts.set_index("horizon")["verdict"]
    out: dict[str, object] = {}
    for k in r.spec.params.horizons:
        col = fwd_col(k).removeprefix("fwd_")
        out[f"n_{col}"] = int(main.at[k, "n_events_with_horizon"])
        out[f"median_{col}"] = float(main.at[k, "event_median"])
        out[f"hit_rate_{col}"] = float(main.at[k, "event_hit_rate"])
        out[f"verdict_{col}"] = str(verdict.get(k, ""))
    return out


def summary_row(r: SpecResult) -> dict[str, object]:
    """The spec in one row: question, series, condition, events, last occurrence, whether it
    fired on the latest session, and per horizon n / median / hit rate / verdict."""
    dates = pd.DatetimeIndex(r.events["date"]) if len(r.events) else pd.DatetimeIndex([])
    return {
        "spec": r.spec.name,
        "question": r.spec.question,
        "series": r.spec.params.index,
        "condition": r.spec.condition_text,
        "n_events": len(r.events),
        "first_event": dates.min().date().isoformat() if len(dates) else None,
        "last_event": dates.max().date().isoformat() if len(dates) else None,
        "fired_today": r.fired_today,
        "latest_session": r.latest_session.date().isoformat(),
        **horizon_fields(r),
    }


def summary_table(results: list[SpecResult]) -> pd.DataFrame:
    """One summary row per spec, by name."""
    rows = sorted((summary_row(r) for r in results), key=lambda row: str(row["spec"]))
    return pd.DataFrame(rows)


def hypothesis_table(results: list[SpecResult]) -> pd.DataFrame:
    """Every spec's tested statistics in one table (HYPOTHESIS_COLUMNS)."""
    frames = [hypothesis_rows(r) for r in results]
    if not frames:
        return pd.DataFrame(columns=list(HYPOTHESIS_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def fired_table(summary: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """The specs whose condition held on the report's latest session `as_of` (ISO date): a
    series whose data stops earlier cannot have fired today."""
    if not len(summary):
        return summary
    today = summary["fired_today"].to_numpy(bool) & (summary["latest_session"] == as_of).to_numpy()
    return summary[today].reset_index(drop=True)
