"""Event-study assets: open quality, eras, events, forward returns, paths and statistics.

One multi-asset step computes the whole study once (eventlab.study.whole_study.run_study) and emits each
table as its own asset, so the main variant is computed once per run instead of once per table
and the twelve price inputs are loaded once. Any subset can still be materialized from the UI.
The tables are built by eventlab.study.tables and the checks' algorithms are
eventlab.study.checks; this module adds the UI metadata.
Parameters come from the `study` resource (StudySettings, defaults eventlab.config.StudyParams).
Each table's lineage is the series it reads under the defaults (study_reads); a launchpad setting
that names another index reads that series from the warehouse (series_beyond_inputs).
"""

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG, StudyParams
from eventlab.study.checks import coverage_check, definition_check, stats_check
from eventlab.study.returns import fwd_col
from eventlab.study.tables import baseline_means, path_offsets, sample_span, study_tables
from eventlab.study.whole_study import StudyResult, run_study
from pipelines.resources import StudySettings
from pipelines.stages.common import md_preview, selected_results

GROUP = "event_study"

# the events' forward-return columns (one per horizon of the run's study) follow these
EVENT_PREVIEW_COLS = ["date", "gap", "close_to_close", "open_to_close", "vix_close"]
# The main definition in one short table (it must fit the UI's page without clipping) and the
# robustness variants in another.
STATS_PREVIEW_COLS = [
    "horizon", "n_events_with_horizon", "event_median", "baseline_median", "event_hit_rate",
    "baseline_hit_rate", "event_mean", "baseline_mean", "hac_p", "placebo_p",
]  # fmt: skip
ROBUST_PREVIEW_COLS = [
    "variant",
    "horizon",
    "n_events_with_horizon",
    "event_median",
    "event_hit_rate",
]

OUTS = {
    "open_quality": "Per-day genuine-open flags for the study index (rule + trailing coverage).",
    "open_quality_eras": "Contiguous eras of open quality (close-only / stale / mixed / genuine), detected monthly.",
    "events": "One row per event day: prices, gap, run-up/reversal, VIX, distance to SMAs, forward returns.",
    "forward_returns": "Every day's forward returns, with the baseline sample and event flags (the unconditional distribution).",
    "event_paths": "Cumulative return paths from each event close, t-pre .. t+post trading days.",
    "event_stats": "Event vs baseline statistics per horizon, for the main definition and the robustness rows.",
    "event_baselines": "Each series' events (the index and the longest series) against regime-matched baselines (VIX quintile, VIX >= 25, below the 200-day average, gap-up days that closed green; a regime compares only the events inside it), per horizon.",
    "event_leave_one_out": "Each event's effect on each series' answer: mean, median and randomization p without it, per horizon.",
    "event_verdicts": "A verdict per horizon (supported / no evidence of an effect / too few events to tell / inconclusive) from the main and the longest series (each checked declustered and VIX-matched), with the rule's size and power measured on placebo event sets.",
    "open_accuracy": "Per day since 1993: the index's opening gap as a share of SPY's, and its rolling median (how much of a real gap the index open shows).",
    "open_accuracy_by_year": "Median index/SPY gap ratio and correlation by year, with the share of genuine index opens.",
}
WARN = dg.AssetCheckSeverity.WARN


def study_reads(params: StudyParams) -> dict[str, set[dg.AssetKey]]:
    """The price series each study table is computed from (its lineage in the UI): the index's
    bars for every table, VIX for the events' `vix_close`, and for the statistics also the
    robustness index (SPY's own opens). Every daily series stays an input of the step, so the
    launchpad can switch the index; the lineage shows the defaults' reads."""
    index = {dg.AssetKey(["prices", params.index])}
    vix = {dg.AssetKey(["prices", params.vix])}
    robust = {dg.AssetKey(["prices", params.robustness_index])}
    reads = {
        "open_quality": index,
        "open_quality_eras": index,
        "events": index | vix,
        "forward_returns": index,
        "event_paths": index,
        "event_stats": index | vix | robust,
        "event_baselines": index | vix | robust,  # VIX buckets, 200-day average, green gaps
        "event_leave_one_out": index | robust,
        "event_verdicts": index | vix | robust,  # main, longest (SPY), each VIX-matched
        "open_accuracy": index | robust,  # the index's gap as a share of SPY's
        "open_accuracy_by_year": index | robust,
    }
    # a table added to OUTS but not here reads everything the stage reads (never nothing)
    everything = index | vix | robust
    return {name: reads.get(name, everything) for name in OUTS}


# The step's inputs are the series the default study reads (its lineage); a launchpad setting
# that names another series (study.index = NDX, say) loads it from the warehouse instead.
READS = study_reads(CONFIG.study)
PRICE_INS = {
    key.path[-1]: dg.AssetIn(key=key)
    for key in sorted(set().union(*READS.values()), key=dg.AssetKey.to_user_string)
}
SERIES_FIELDS = ("index", "vix", "robustness_index")


def series_beyond_inputs(
    context: dg.AssetExecutionContext,
    params: StudyParams,
    prices: dict[str, pd.DataFrame],
    fields: tuple[str, ...] = SERIES_FIELDS,
) -> dict[str, pd.DataFrame]:
    """`prices` plus each series the settings name (in `fields`) that is not a step input, read
    from the warehouse (the UI's lineage shows the defaults' reads; a failure names the field and
    the fix). Other stages that read the study's series (validation, report_as_of) use it too."""
    out = dict(prices)
    for field in fields:
        name = getattr(params, field)
        if name in out:
            continue
        io = getattr(context.resources, "io_manager", None)
        load = getattr(io, "load_stored", None)
        frame = load(dg.AssetKey(["prices", name])) if callable(load) else None
        if frame is None:
            raise dg.Failure(
                f"resources.study_settings.config.{field} = {name!r}: prices/{name} is not in the "
                f"warehouse; materialize it first (select prices/{name} in the UI, or `make run`)"
            )
        context.log.info(f"study.{field} = {name}: prices/{name} read from the warehouse")
        out[name] = frame
    return out


CHECKS = (
    dg.AssetCheckSpec(
        "study_window_coverage",
        asset="open_quality",
        description="The requested study window is covered by genuine opens (WARN: states what the data can see).",
    ),
    dg.AssetCheckSpec(
        "events_follow_definition",
        asset="events",
        blocking=True,
        description="No stale-open day is counted as an event; every event satisfies the rule.",
    ),
    dg.AssetCheckSpec(
        "event_stats_consistent",
        asset="event_stats",
        description="Statistics are internally consistent (p-values in [0,1], counts match the events table).",
    ),
)


def study_outputs(
    result: StudyResult, prices: dict[str, pd.DataFrame]
) -> dict[str, tuple[pd.DataFrame, dict[str, object]]]:
    """Each study table (eventlab.study.tables) with the metadata its asset shows in the UI."""
    t = study_tables(result, prices)
    v, params, stats = result.main, result.main.params, result.stats
    flags, ev, fwd, wide, verdicts = (
        t.open_quality,
        t.events,
        t.forward_returns,
        t.paths_wide,
        t.event_verdicts,
    )
    usable = flags["open_genuine"]
    visible = stats["effective_visibility_from"].iloc[0]
    accuracy_tables = {
        "open_accuracy": (
            t.open_accuracy,
            {
                "effective_visibility_from": str(visible or "never"),
                "rule": f"first day after which the median of the last {params.accuracy_window} "
                f"index/{params.robustness_index} gap ratios (days with |{params.robustness_index} gap| > "
                f"{params.accuracy_min_reference_gap:.1%}) stays >= {params.accuracy_bound}",
            },
        ),
        "open_accuracy_by_year": (
            t.open_accuracy_by_year,
            {"preview": md_preview(t.open_accuracy_by_year, rows=40, floatfmt=".3f")},
        ),
        "event_baselines": (
            t.event_baselines,
            {
                "preview": md_preview(
                    t.event_baselines.drop(columns=["baseline_description"]), rows=20
                )
            },
        ),
        "event_leave_one_out": (
            t.event_leave_one_out,
            {"preview": md_preview(t.event_leave_one_out, rows=30)},
        ),
        "event_verdicts": (
            verdicts,
            {
                **{f"T+{int(r.horizon)}": str(r.verdict) for r in verdicts.itertuples()},
                "preview": md_preview(verdicts[["horizon", "verdict", "size", "power", "reason"]]),
            },
        ),
    }
    return {
        **accuracy_tables,
        "open_quality": (
            flags,
            {
                "index": params.index,
                "days": len(flags),
                "usable_days": int(usable.sum()),
                "first_usable_open": str(usable[usable].index.min().date())
                if usable.any()
                else "none",
                "rule": "Open != Close and Open != previous Close (rel tol 1e-6), trailing "
                f"{params.genuine_coverage_window}-day genuine share >= {params.genuine_coverage_min:.0%}",
            },
        ),
        "open_quality_eras": (
            t.open_quality_eras,
            {
                "eras": len(t.open_quality_eras),
                "preview": md_preview(t.open_quality_eras, rows=40, floatfmt=".3f"),
            },
        ),
        "events": (
            ev,
            {
                "definition": v.definition,
                "n_events": len(ev),
                "sample": sample_span(v),
                "horizons": ", ".join(f"T+{k}" for k in params.horizons),
                "preview": md_preview(
                    ev[
                        [
                            c
                            for c in (*EVENT_PREVIEW_COLS, *(fwd_col(k) for k in params.horizons))
                            if c in ev.columns
                        ]
                    ],
                    rows=50,
                ),
            },
        ),
        "forward_returns": (
            fwd,
            {"baseline_days": len(t.baseline), **baseline_means(t, params.horizons)},
        ),
        "event_paths": (
            t.event_paths,
            {
                "events": len(ev),
                "preview": md_preview(
                    (wide.loc[[o for o in path_offsets(params) if o in wide.index]])
                    .map(lambda r: f"{r:+.2%}" if r == r else "–")
                    .rename_axis("offset")
                ),
            },
        ),
        "event_stats": (
            stats,
            {
                "variants": ", ".join(stats["variant"].unique()),
                "main_n_events": int(stats.loc[stats["variant"] == "main", "n_events"].iloc[0]),
                "sample_start": str(stats["sample_start"].iloc[0]),
                "first_usable_open": str(stats["first_usable_open"].iloc[0]),
                "preview": md_preview(
                    stats.loc[stats["variant"] == "main", STATS_PREVIEW_COLS], floatfmt=".3f"
                ),
                "robustness": md_preview(stats[ROBUST_PREVIEW_COLS], rows=40),
            },
        ),
    }


@dg.multi_asset(
    name="event_study",
    group_name=GROUP,
    ins=PRICE_INS,
    outs={
        name: dg.AssetOut(description=desc, is_required=False, kinds={"pandas"})
        for name, desc in OUTS.items()
    },
    check_specs=list(CHECKS),
    internal_asset_deps=study_reads(CONFIG.study),
    can_subset=True,
)
def event_study(
    context: dg.AssetExecutionContext, study_settings: StudySettings, **prices: pd.DataFrame
):
    """The study (main definition + robustness variants) computed once; each table is an asset."""
    params = study_settings.params()
    prices = series_beyond_inputs(context, params, prices)
    result = run_study(prices, params)
    tables = study_outputs(result, prices)
    flags, ev = result.main.flags, result.main.events
    coverage, definition, consistent = CHECKS
    yield from selected_results(
        context,
        OUTS,
        tables.__getitem__,
        [
            (coverage, lambda: {**coverage_check(flags, params), "severity": WARN}),
            (definition, lambda: definition_check(ev, flags, params)),
            (consistent, lambda: stats_check(result.stats, ev)),
        ],
    )
