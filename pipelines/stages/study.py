"""Event-study assets: open quality, eras, events, forward returns, paths and statistics.

One multi-asset step computes the whole study once (eventlab.study.whole_study.run_study) and emits each
table as its own asset, so the main variant is computed once per run instead of once per table
and the twelve price inputs are loaded once. Any subset can still be materialized from the UI.
Parameters come from the `study` resource (StudySettings, defaults eventlab.config.StudyParams).
Each table's lineage is the series it reads under the defaults (study_reads); a launchpad setting
that names another index reads that series from the warehouse (series_beyond_inputs).
"""

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG, StudyParams
from eventlab.study import open_accuracy as oa
from eventlab.study.evidence import weigh_evidence
from eventlab.study.open_quality import coverage_summary
from eventlab.study.open_quality import open_quality_eras as eras_table
from eventlab.study.returns import event_paths as paths_frame
from eventlab.study.returns import fwd_col
from eventlab.study.whole_study import StudyResult, VariantResult, run_study
from pipelines.resources import StudySettings
from pipelines.stages.common import CheckFields, md_preview, selected_results

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
    "event_baselines": "The main events against regime-matched baselines (VIX quintile, VIX >= 25, below the 200-day average, gap-up days that closed green), per horizon.",
    "event_leave_one_out": "Each event's effect on the main answer: mean, median and randomization p without it, per horizon.",
    "event_verdicts": "A verdict per horizon (supported / mixed / not supported) from the main series, the longest series, the declustered sample and the VIX-matched baseline.",
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
        "event_baselines": index | vix,  # VIX buckets, the 200-day average, same-size green gaps
        "event_leave_one_out": index,
        "event_verdicts": index | vix | robust,  # main, longest (SPY) and VIX-matched evidence
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
                f"resources.study.config.{field} = {name!r}: prices/{name} is not in the "
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


def _path_offsets(params: StudyParams) -> list[int]:
    """The event-path offsets the preview shows: the window's ends, the day before and of the
    event, and each horizon of the run's study."""
    return sorted({-params.path_pre, -1, 0, *params.horizons, params.path_post})


def _sample_span(v: VariantResult) -> str:
    days = v.in_sample[v.in_sample].index
    return f"{days.min().date()} .. {days.max().date()}" if len(days) else "empty"


def study_tables(
    result: StudyResult, prices: dict[str, pd.DataFrame]
) -> dict[str, tuple[pd.DataFrame, dict[str, object]]]:
    """Each study table (paths from the index close) with the metadata its asset shows in the UI."""
    v, params, stats = result.main, result.main.params, result.stats
    close = prices[params.index]["close"]
    flags, ev = v.flags, v.events
    usable = flags["open_genuine"]
    eras = eras_table(flags)
    fwd = v.fwd.copy()
    fwd["in_sample"] = v.in_sample
    fwd["is_event"] = v.is_event
    base = fwd[fwd["in_sample"] & ~fwd["is_event"]]
    paths = paths_frame(close, pd.DatetimeIndex(ev["date"]), params.path_pre, params.path_post)
    wide = paths.pivot(index="offset", columns="event_date", values="ret")
    wide.columns = [c.date().isoformat() for c in wide.columns]
    evidence = weigh_evidence(v, stats, prices)
    ratios = result.open_accuracy if result.open_accuracy is not None else pd.DataFrame()
    visible = stats["effective_visibility_from"].iloc[0]
    by_year = oa.accuracy_by_year(ratios) if len(ratios) else pd.DataFrame()
    verdicts = evidence["event_verdicts"]
    accuracy_tables = {
        "open_accuracy": (
            ratios,
            {
                "effective_visibility_from": str(visible or "never"),
                "rule": f"first day after which the median of the last {params.accuracy_window} "
                f"index/{params.robustness_index} gap ratios (days with |{params.robustness_index} gap| > "
                f"{params.accuracy_min_reference_gap:.1%}) stays >= {params.accuracy_bound}",
            },
        ),
        "open_accuracy_by_year": (
            by_year,
            {"preview": md_preview(by_year, rows=40, floatfmt=".3f")},
        ),
        "event_baselines": (
            evidence["event_baselines"],
            {
                "preview": md_preview(
                    evidence["event_baselines"].drop(columns=["baseline_description"]), rows=20
                )
            },
        ),
        "event_leave_one_out": (
            evidence["event_leave_one_out"],
            {"preview": md_preview(evidence["event_leave_one_out"], rows=30)},
        ),
        "event_verdicts": (
            verdicts,
            {
                **{f"T+{int(r.horizon)}": str(r.verdict) for r in verdicts.itertuples()},
                "preview": md_preview(verdicts[["horizon", "verdict", "reason"]]),
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
            eras,
            {"eras": len(eras), "preview": md_preview(eras, rows=40, floatfmt=".3f")},
        ),
        "events": (
            ev,
            {
                "definition": v.definition,
                "n_events": len(ev),
                "sample": _sample_span(v),
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
            {
                "baseline_days": len(base),
                **{
                    f"baseline_mean_{fwd_col(k)}": float(base[fwd_col(k)].mean())
                    for k in params.horizons
                },
            },
        ),
        "event_paths": (
            paths,
            {
                "events": len(ev),
                "preview": md_preview(
                    (wide.loc[[o for o in _path_offsets(params) if o in wide.index]])
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


def coverage_check(flags: pd.DataFrame, params: StudyParams) -> CheckFields:
    """Do genuine opens reach back to (within a year of) the requested start?"""
    cov = coverage_summary(
        flags, pd.Timestamp(params.start), pd.Timestamp(params.end) if params.end else None
    )
    first = cov["first_usable_open"]
    ok = first is not None and pd.Timestamp(first) <= pd.Timestamp(params.start) + pd.Timedelta(
        days=366
    )
    text = (
        f"Genuine opens cover {cov['share_usable']:.1%} of the trading days since {cov['requested_start']}; "
        f"the first usable open is {first}. Events before that cannot be seen in this data."
    )
    return {
        "passed": bool(ok),
        "description": text,
        "metadata": {k: (v if v is not None else "none") for k, v in cov.items()},
    }


def definition_check(events: pd.DataFrame, flags: pd.DataFrame, params: StudyParams) -> CheckFields:
    """Every event has gap > threshold, closed red by the close rule, and (by default) a genuine open."""
    ok_rule = bool((events["gap"] > params.gap_threshold).all())
    ref = events["prior_close"] if params.close_rule == "prior_close" else events["open"]
    red = bool((events["close"] < ref).all())
    genuine = (
        flags["open_genuine"].reindex(pd.DatetimeIndex(events["date"]), fill_value=False).to_numpy()
    )
    ok_open = params.open_policy == "all" or bool(genuine.all())
    meta = {"events": len(events), "gap_rule": ok_rule, "red_rule": red, "genuine_opens": ok_open}
    return {"passed": ok_rule and red and ok_open, "metadata": meta}


def stats_check(stats: pd.DataFrame, events: pd.DataFrame) -> CheckFields:
    """p-values lie in [0, 1] and the main variant's event count equals the events table."""
    main = stats[stats["variant"] == "main"]
    cols = [
        "welch_p",
        "mw_p",
        "hac_p",
        "placebo_p",
        "p_holm",
        "p_bh",
        "binom_p",
        "perm_p",
        "perm_p_holm",
    ]
    # Rows below the minimum event count have no p-values (NaN): only present ones are checked.
    p = pd.Series(stats[[c for c in cols if c in stats.columns]].to_numpy(float).ravel()).dropna()
    counts_ok = bool((main["n_events"] == len(events)).all())
    meta = {"main_n_events": int(main["n_events"].iloc[0]), "events_rows": len(events)}
    return {"passed": bool(((p >= 0) & (p <= 1)).all()) and counts_ok, "metadata": meta}


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
def event_study(context: dg.AssetExecutionContext, study: StudySettings, **prices: pd.DataFrame):
    """The study (main definition + robustness variants) computed once; each table is an asset."""
    params = study.params()
    prices = series_beyond_inputs(context, params, prices)
    result = run_study(prices, params)
    tables = study_tables(result, prices)
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
