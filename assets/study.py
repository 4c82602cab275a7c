"""Event-study assets: open quality, events, forward returns, paths and statistics.

Thin wrappers over eventlab.study; parameters come from the `study` resource (StudySettings),
whose defaults are eventlab.config.StudyParams. Every study asset receives all daily series, so
the index (and the robustness index) can be switched in the launchpad without code changes.
"""

import dagster as dg
import pandas as pd

from assets.common import md_preview
from eventlab.config import CONFIG
from eventlab.study.events import study_flags
from eventlab.study.open_quality import open_quality_eras as eras_table
from eventlab.study.returns import event_paths as paths_frame
from eventlab.study.returns import fwd_col
from eventlab.study.run import run_study, run_variant
from pipelines.resources import StudySettings

GROUP = "event_study"
PRICE_INS = {key: dg.AssetIn(key=["prices", key]) for key in CONFIG.daily_keys}

EVENT_PREVIEW_COLS = [
    "date",
    "gap",
    "close_to_close",
    "open_to_close",
    "vix_close",
    "fwd_1d",
    "fwd_5d",
    "fwd_20d",
]
STATS_PREVIEW_COLS = [
    "variant", "horizon", "n_events_with_horizon", "event_mean", "event_median", "event_hit_rate",
    "baseline_mean", "welch_p", "mw_p", "hac_p", "boot_ci_low", "boot_ci_high", "placebo_p", "p_holm",
]  # fmt: skip


@dg.asset(group_name=GROUP, ins=PRICE_INS, kinds={"pandas"})
def open_quality(
    context: dg.AssetExecutionContext, study: StudySettings, **prices: pd.DataFrame
) -> pd.DataFrame:
    """Per-day genuine-open flags for the study index (rule + trailing coverage)."""
    params = study.params()
    flags = study_flags(prices[params.index], params)
    usable = flags["open_genuine"]
    context.add_output_metadata(
        {
            "index": params.index,
            "days": len(flags),
            "usable_days": int(usable.sum()),
            "first_usable_open": str(usable[usable].index.min().date()) if usable.any() else "none",
            "rule": "Open != Close and Open != previous Close (rel tol 1e-6), trailing "
            f"{params.genuine_coverage_window}-day genuine share >= {params.genuine_coverage_min:.0%}",
        }
    )
    return flags


@dg.asset(group_name=GROUP, kinds={"pandas"})
def open_quality_eras(
    context: dg.AssetExecutionContext, open_quality: pd.DataFrame
) -> pd.DataFrame:
    """Contiguous eras of open quality (close-only / stale / mixed / genuine), detected monthly."""
    eras = eras_table(open_quality)
    context.add_output_metadata(
        {"eras": len(eras), "preview": md_preview(eras, rows=40, floatfmt=".3f")}
    )
    return eras


@dg.asset_check(
    asset=open_quality,
    description="The requested study window is covered by genuine opens (WARN: states what the data can see).",
)
def study_window_coverage(open_quality: pd.DataFrame, study: StudySettings) -> dg.AssetCheckResult:
    from eventlab.study.open_quality import coverage_summary

    params = study.params()
    cov = coverage_summary(
        open_quality, pd.Timestamp(params.start), pd.Timestamp(params.end) if params.end else None
    )
    first = cov["first_usable_open"]
    ok = first is not None and pd.Timestamp(first) <= pd.Timestamp(params.start) + pd.Timedelta(
        days=366
    )
    return dg.AssetCheckResult(
        passed=bool(ok),
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Genuine opens cover {cov['share_usable']:.1%} of the trading days since {cov['requested_start']}; "
            f"the first usable open is {first}. Events before that cannot be seen in this data."
        ),
        metadata={k: (v if v is not None else "none") for k, v in cov.items()},
    )


@dg.asset(group_name=GROUP, ins=PRICE_INS, kinds={"pandas"})
def events(
    context: dg.AssetExecutionContext, study: StudySettings, **prices: pd.DataFrame
) -> pd.DataFrame:
    """One row per event day: prices, gap, run-up/reversal, VIX, distance to SMAs, forward returns."""
    params = study.params()
    v = run_variant(prices, params, "main")
    ev = v.events
    context.add_output_metadata(
        {
            "definition": v.definition,
            "n_events": len(ev),
            "sample": f"{v.in_sample[v.in_sample].index.min().date()} .. {v.in_sample[v.in_sample].index.max().date()}",
            "preview": md_preview(ev[[c for c in EVENT_PREVIEW_COLS if c in ev.columns]], rows=50),
        }
    )
    return ev


@dg.asset_check(
    asset=events,
    blocking=True,
    additional_ins={"open_quality": dg.AssetIn()},
    description="No stale-open day is counted as an event; every event satisfies the rule.",
)
def events_follow_definition(
    events: pd.DataFrame, open_quality: pd.DataFrame, study: StudySettings
) -> dg.AssetCheckResult:
    params = study.params()
    ok_rule = bool((events["gap"] > params.gap_threshold).all())
    red = events["close"] < (
        events["prior_close"] if params.close_rule == "prior_close" else events["open"]
    )
    genuine = (
        open_quality["open_genuine"]
        .reindex(pd.DatetimeIndex(events["date"]), fill_value=False)
        .to_numpy()
    )
    ok_open = params.open_policy == "all" or bool(genuine.all())
    return dg.AssetCheckResult(
        passed=ok_rule and bool(red.all()) and ok_open,
        metadata={
            "events": len(events),
            "gap_rule": ok_rule,
            "red_rule": bool(red.all()),
            "genuine_opens": ok_open,
        },
    )


@dg.asset(group_name=GROUP, ins=PRICE_INS, kinds={"pandas"})
def forward_returns(
    context: dg.AssetExecutionContext, study: StudySettings, **prices: pd.DataFrame
) -> pd.DataFrame:
    """Every day's forward returns, with the baseline sample and event flags (the unconditional distribution)."""
    params = study.params()
    v = run_variant(prices, params, "main")
    out = v.fwd.copy()
    out["in_sample"] = v.in_sample
    out["is_event"] = v.is_event
    base = out[out["in_sample"] & ~out["is_event"]]
    context.add_output_metadata(
        {
            "baseline_days": len(base),
            **{
                f"baseline_mean_{fwd_col(k)}": float(base[fwd_col(k)].mean())
                for k in params.horizons
            },
        }
    )
    return out


@dg.asset(group_name=GROUP, kinds={"pandas"}, ins={"events": dg.AssetIn(), **PRICE_INS})
def event_paths(
    context: dg.AssetExecutionContext,
    study: StudySettings,
    events: pd.DataFrame,
    **prices: pd.DataFrame,
) -> pd.DataFrame:
    """Cumulative return paths from each event close, t-pre .. t+post trading days."""
    params = study.params()
    paths = paths_frame(
        prices[params.index]["close"],
        pd.DatetimeIndex(events["date"]),
        params.path_pre,
        params.path_post,
    )
    wide = paths.pivot(index="offset", columns="event_date", values="ret")
    wide.columns = [c.date().isoformat() for c in wide.columns]
    context.add_output_metadata(
        {
            "events": len(events),
            "preview": md_preview(wide.loc[[-5, -1, 0, 1, 5, 10, 20]] if len(wide) else wide),
        }
    )
    return paths


@dg.asset(group_name=GROUP, ins=PRICE_INS, kinds={"pandas"})
def event_stats(
    context: dg.AssetExecutionContext, study: StudySettings, **prices: pd.DataFrame
) -> pd.DataFrame:
    """Event vs baseline statistics per horizon, for the main definition and the robustness rows."""
    params = study.params()
    result = run_study(prices, params)
    stats = result.stats
    context.add_output_metadata(
        {
            "variants": ", ".join(stats["variant"].unique()),
            "main_n_events": int(stats.loc[stats["variant"] == "main", "n_events"].iloc[0]),
            "sample_start": str(stats["sample_start"].iloc[0]),
            "first_usable_open": str(stats["first_usable_open"].iloc[0]),
            "preview": md_preview(stats[STATS_PREVIEW_COLS], rows=40),
        }
    )
    return stats


@dg.asset_check(
    asset=event_stats,
    additional_ins={"events": dg.AssetIn()},
    description="Statistics are internally consistent (p-values in [0,1], counts match the events table).",
)
def event_stats_consistent(event_stats: pd.DataFrame, events: pd.DataFrame) -> dg.AssetCheckResult:
    main = event_stats[event_stats["variant"] == "main"]
    p_cols = ["welch_p", "mw_p", "hac_p", "placebo_p", "p_holm", "p_bh"]
    p = event_stats[p_cols].stack()
    counts_ok = bool((main["n_events"] == len(events)).all())
    return dg.AssetCheckResult(
        passed=bool(((p >= 0) & (p <= 1)).all()) and counts_ok,
        metadata={"main_n_events": int(main["n_events"].iloc[0]), "events_rows": len(events)},
    )
