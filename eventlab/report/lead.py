"""The report's evidence after the verdicts (eventlab.report.answer states those): what each
series can see, the small-sample caveats with their figures, and the evidence tables behind them
(generated from the computed tables).

No sentence here says more than the verdict table allows: every figure comes from a table, and
inferential figures are quoted only where the table has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TypeGuard

import numpy as np
import pandas as pd

from eventlab.report.formatting import MISSING_IN_PROSE, pct, pval
from eventlab.study.evidence import agreement_sentence, series_comparison

_pct = partial(pct, missing=MISSING_IN_PROSE)
_p = partial(pval, missing=MISSING_IN_PROSE)


def _rate(x: object) -> str:
    """A measured rate as a percentage ('n/a' when not measured)."""
    return "n/a" if x is None or pd.isna(x) else f"{float(x):.1%}"  # type: ignore[arg-type]


def _count(x: object) -> str:
    """A count ('n/a' when missing)."""
    return "n/a" if x is None or pd.isna(x) else str(int(x))  # type: ignore[call-overload]


def _rows(stats: pd.DataFrame, variant: str) -> pd.DataFrame:
    return stats[stats["variant"] == variant].sort_values("horizon").reset_index(drop=True)


def operating_text(r: Mapping[str, object]) -> str:
    """The rule's measured size and power beside a verdict (from an event_verdicts row)."""
    size, power = r.get("size"), r.get("power")
    if size is None or power is None or pd.isna(size) or pd.isna(power):
        return "size and power not measured"
    return f"size {float(size):.1%}, power {float(power):.0%} at {_pct(r.get('stated_effect'))}"  # type: ignore[arg-type]


def visibility_paragraph(stats: pd.DataFrame, params_index: str, reference: str) -> str | None:
    """What each series can see of 'every time since 1957', and why."""
    main = _rows(stats, "main")
    if main.empty:
        return None
    r = main.iloc[0]
    ref = _rows(stats, f"{reference}_own_opens")
    all_opens = _rows(stats, "all_opens_incl_stale")
    genuine_share = None
    if "share_genuine_open" in r:
        genuine_share = r["share_genuine_open"]
    text = (
        f"The question asks about every time since {r['requested_start']}. {params_index} has a usable "
        f"opening price (genuine, in a stretch where at least 90% of opens are) on "
        f"{_pct(r['share_usable'], 1, False)} of those trading days, from {r['first_usable_open']}"
    )
    if genuine_share is not None and not pd.isna(genuine_share):
        text += f" ({_pct(genuine_share, 1, False)} of the days have an open that is not a copy of a close)"
    text += "."
    vis = r.get("effective_visibility_from")
    if isinstance(vis, str) and vis:
        unseen = r.get("reference_events_unseen")
        text += (
            f" But a genuine index open is not an accurate one: it is computed from component prices "
            f"that have not all traded, and until {vis} its opening gap showed only a fraction of "
            f"{reference}'s (see the open-accuracy table), so the gap rule can really see {params_index} "
            f"only from {vis}."
        )
        if unseen is not None and not pd.isna(unseen):
            text += (
                f" {reference} met the same rule on {int(unseen)} days between {r['first_usable_open']} "
                f"and {vis} on which {params_index} did not."
            )
    if len(ref):
        x = ref.iloc[0]
        text += (
            f" {reference}, with a tradeable opening auction, gives the longest honest answer: "
            f"{int(x['n_events'])} events from {x['sample_start']} to {x['sample_end']}."
        )
    if len(all_opens):
        text += (
            f" Counting stale opens too does not add events before {r['first_usable_open']}: a stale "
            "open equals a close, so it can never show a gap."
        )
    return text


def inference_paragraph(
    stats: pd.DataFrame, loo: pd.DataFrame | None, events: pd.DataFrame | None
) -> str | None:
    """Small-sample figures: intervals, exact tests, adjusted p, clusters and sensitivity."""
    main = _rows(stats, "main")
    if main.empty or "t_ci_low" not in main.columns:
        return None  # a statistics table without the small-sample columns
    n = int(main["n_events"].max())
    if main["inference_note"].fillna("").str.len().gt(0).all():
        return (
            f"With {n} events no test or interval is computed (the minimum is set in the study "
            "settings); the figures above are descriptive only."
        )
    parts = [
        f"T+{int(r.horizon)}: t({int(r.n_events_with_horizon) - 1}) interval of the mean "
        f"{_pct(r.t_ci_low)}..{_pct(r.t_ci_high)}, hit rate {_pct(r.event_hit_rate, 0, False)} vs "
        f"{_pct(r.baseline_hit_rate, 0, False)} (exact binomial p {_p(r.binom_p)}), HAC p after Holm "
        f"{_p(r.p_holm)}, circular-shift randomization p after Holm {_p(r.perm_p_holm)}"
        for r in main.itertuples()
    ]
    text = (
        f"With {n} events, inference is fragile and the methods disagree: "
        + "; ".join(parts)
        + ". "
        "A bootstrap that resamples the events cannot reach beyond the observed values, so its "
        "interval is narrower than the t interval; both are in event_stats.csv."
    )
    dec = _rows(stats, "main_declustered")
    if len(dec):
        text += (
            f" Events cluster: merged into episodes (a {int(dec['n_events'].iloc[0])}-episode sample), "
            "the means move to "
            + ", ".join(f"T+{int(r.horizon)} {_pct(r.event_mean)}" for r in dec.itertuples())
            + "."
        )
    if loo is not None and "variant" in loo.columns:
        loo = loo[loo["variant"].astype(str) == "main"]
    if loo is not None and len(loo):
        worst = loo.loc[loo["mean_change"].abs().idxmax()]
        text += (
            f" One event moves the answer: without {worst['left_out']} the T+{int(worst['horizon'])} mean "
            f"goes from {_pct(worst['mean_all'])} to {_pct(worst['mean_without'])}."
        )
    if events is not None and "near_threshold" in events.columns:
        near = events[events["near_threshold"].astype(bool)]
        if len(near):
            excl = _rows(stats, "main_excl_near_threshold")
            text += (
                f" {len(near)} of {len(events)} events cleared the gap threshold by a hair "
                f"({', '.join(pd.to_datetime(near['date']).dt.strftime('%Y-%m-%d'))})"
                + (
                    "; without them the means are "
                    + ", ".join(
                        f"T+{int(r.horizon)} {_pct(r.event_mean)}" for r in excl.itertuples()
                    )
                    if len(excl)
                    else ""
                )
                + "."
            )
    return text


BASELINE_COLUMNS = ("horizon", "baseline", "baseline_description", "baseline_mean", "diff_mean")


def _baselines_computed(baselines: pd.DataFrame | None) -> TypeGuard[pd.DataFrame]:
    """Whether the regime-matched baselines were computed (an empty study sample has none)."""
    return (
        baselines is not None
        and len(baselines) > 0
        and set(BASELINE_COLUMNS) <= set(baselines.columns)
    )


def regime_paragraph(baselines: pd.DataFrame | None, names: Mapping[str, str]) -> str | None:
    """How the answer changes against baselines that share the events' regime, per series
    (`names`: variant -> series name); in-regime baselines compare only the events inside."""
    if not _baselines_computed(baselines):
        return None
    k = int(baselines["horizon"].max())
    variants = (
        baselines["variant"].astype(str)
        if "variant" in baselines.columns
        else pd.Series("main", index=baselines.index)
    )
    texts = []
    for variant in dict.fromkeys(variants):
        b = baselines[(baselines["horizon"] == k) & (variants == variant)].set_index("baseline")
        parts = [
            f"{r['baseline_description']}: baseline mean {_pct(r['baseline_mean'])}, difference "
            f"{_pct(r['diff_mean'])} (t p {_p(r['t_p'])}; {int(r['events_in_regime'])} of "
            f"{int(r['n_events'])} events compared)"
            for name, r in b.iterrows()
            if name != "non_event"
        ]
        base = b.loc["non_event"] if "non_event" in b.index else None
        lead = (
            f"Against every non-event day the {names.get(variant, variant)} T+{k} difference is "
            f"{_pct(base['diff_mean'])}; "
            if base is not None
            else f"{names.get(variant, variant)} at T+{k}: "
        )
        texts.append(lead + "; ".join(parts) + ".")
    return (
        "Events happen in stressed markets, and stressed markets rebound on average. "
        + " ".join(texts)
    )


def evidence_paragraphs(
    stats: pd.DataFrame | None,
    baselines: pd.DataFrame | None,
    loo: pd.DataFrame | None,
    events: pd.DataFrame | None,
    index: str,
    reference: str,
) -> list[str]:
    """The evidence paragraphs after the verdicts (answer.verdict_items), in reading order."""
    if stats is None or len(stats) == 0:
        return []
    cmp_text = None
    cmp = series_comparison(stats, index, reference)
    if len(cmp):
        cmp_text = agreement_sentence(cmp)
    paras = [
        visibility_paragraph(stats, index, reference),
        cmp_text,
        inference_paragraph(stats, loo, events),
        regime_paragraph(baselines, {"main": index, f"{reference}_own_opens": reference}),
    ]
    return [p for p in paras if p]


def display_tables(
    stats: pd.DataFrame | None,
    verdicts: pd.DataFrame | None,
    baselines: pd.DataFrame | None,
    loo: pd.DataFrame | None,
    accuracy_by_year: pd.DataFrame | None,
    index: str,
    reference: str,
) -> list[dict[str, object]]:
    """The evidence tables as display rows: title, column headings, rows, note."""
    out: list[dict[str, object]] = []
    names = {"main": index, f"{reference}_own_opens": reference}
    if verdicts is not None and len(verdicts):
        out.append(
            {
                "id": "verdicts",
                "title": "Verdict per horizon, with the rule's measured size and power",
                "columns": [
                    "Horizon",
                    "Verdict",
                    "Size",
                    "Power at the stated effect",
                    "Events (main / longest)",
                    "Main difference",
                    "Why",
                ],
                "rows": [
                    [
                        f"T+{int(r['horizon'])}",
                        str(r["verdict"]),
                        _rate(r.get("size")),
                        f"{_rate(r.get('power'))} at {_pct(r.get('stated_effect'))}",
                        f"{int(r['n_events'])} / {_count(r.get('longest_n_events'))}",
                        _pct(r["main_diff_mean"]),
                        str(r["reason"]),
                    ]
                    for r in verdicts.to_dict("records")
                ],
                "note": "Rule (eventlab/study/verdict_rule.py): the lines of evidence are the main series and the "
                "longest series with real opens (they share the market, so the longest series adds its other event days "
                "and earlier years, not an independent market); declustering and the VIX-matched baseline re-weight a "
                "line's own events and count as its robustness checks. Supported: a line's circular-shift p, "
                "Holm-adjusted across series and horizons, is at most the bar (study.verdict_alpha), its robustness "
                "checks keep its sign and no series points the other way. Too few events to tell: power at the stated "
                "effect (study.verdict_effect_sd standard deviations of the non-event returns) below "
                "study.verdict_min_power. No evidence of an effect: power adequate and every difference within half "
                "the stated effect of zero. Inconclusive: otherwise. Size: the share of placebo event sets (the events' "
                "dates circularly shifted, keeping their count and clustering) the rule calls supported; power: the "
                "same with the stated effect added to the placebo events' returns. The bar, the adjustment and the "
                "stated effect of each series are in event_verdicts.csv (rule).",
            }
        )
    if stats is not None and len(stats):
        cmp = series_comparison(stats, index, reference)
        if len(cmp):
            out.append(
                {
                    "id": "longest",
                    "title": f"{index} beside the longest series with real opens ({reference})",
                    "columns": [
                        "Series",
                        "Sample",
                        "Horizon",
                        "Events",
                        "Median",
                        "Hit rate",
                        "Mean",
                        "Baseline mean",
                        "Difference",
                    ],
                    "rows": [
                        [
                            r.series,
                            f"{r.sample_start}..{r.sample_end}",
                            f"T+{int(r.horizon)}",
                            str(int(r.n_events_with_horizon)),
                            _pct(r.event_median),
                            _pct(r.event_hit_rate, 0, False),
                            _pct(r.event_mean),
                            _pct(r.baseline_mean),
                            _pct(r.diff_mean),
                        ]  # fmt: skip
                        for r in cmp.itertuples()
                    ],
                    "note": "Baseline: the non-event days of each series' own valid sample.",
                }
            )
    if stats is not None and "t_ci_low" in stats.columns:
        small = stats[
            stats["variant"].isin(
                [
                    "main",
                    "main_declustered",
                    "main_excl_near_threshold",
                    f"{reference}_own_opens",
                    f"{reference}_own_opens_declustered",
                ]
            )
        ]
        out.append(
            {
                "id": "small_sample",
                "title": "Inference that fits a handful of events",
                "columns": [
                    "Variant",
                    "Horizon",
                    "n",
                    "Mean",
                    "t interval (95%)",
                    "Median",
                    "Median CI (coverage)",
                    "Event-resampling bootstrap (95%)",
                    "Binomial p",
                    "Randomization p (Holm)",
                    "Note",
                ],
                "rows": [
                    [
                        str(r.variant),
                        f"T+{int(r.horizon)}",
                        str(int(r.n_events_with_horizon)),
                        _pct(r.event_mean),
                        f"{_pct(r.t_ci_low)}..{_pct(r.t_ci_high)}",
                        _pct(r.event_median),
                        f"{_pct(r.median_ci_low)}..{_pct(r.median_ci_high)} ({_pct(r.median_ci_coverage, 1, False)})",
                        f"{_pct(r.event_boot_ci_low)}..{_pct(r.event_boot_ci_high)}",
                        _p(r.binom_p),
                        f"{_p(r.perm_p)} ({_p(r.perm_p_holm)})",
                        str(r.inference_note or ""),
                    ]  # fmt: skip
                    for r in small.itertuples()
                ],
                "note": "t interval: Student t with n-1 df. Median CI: order statistics with binomial(n, 1/2) coverage "
                "(distribution-free). Bootstrap: the events resampled with replacement. Binomial: exact test of the event "
                "hit rate against the baseline's. Randomization: every circular shift of the event dates along the sample "
                "(keeps the events' spacing and overlapping windows), two-sided; Holm across horizons.",
            }
        )
    if _baselines_computed(baselines):
        out.append(
            {
                "id": "baselines",
                "title": "Each series' events against baselines that match their regime",
                "columns": [
                    "Series",
                    "Baseline",
                    "Horizon",
                    "Events in regime",
                    "Baseline days",
                    "Baseline mean",
                    "Baseline hit rate",
                    "Difference",
                    "t p",
                    "Binomial p",
                ],
                "rows": [
                    [
                        names.get(
                            str(getattr(r, "variant", "main")), str(getattr(r, "variant", "main"))
                        ),
                        str(r.baseline_description),
                        f"T+{int(r.horizon)}",
                        f"{int(r.events_in_regime)} of {int(r.n_events)}",
                        f"{int(r.baseline_days):,}",
                        _pct(r.baseline_mean),
                        _pct(r.baseline_hit_rate, 0, False),
                        _pct(r.diff_mean),
                        _p(r.t_p),
                        _p(r.binom_p),
                    ]  # fmt: skip
                    for r in baselines.itertuples()
                ],
                "note": "Events in regime: the events compared (a regime baseline, e.g. VIX >= 25, is compared with the "
                "events inside that regime only). t p: the difference of means with the events' n-1 degrees of freedom (the baseline as a weighted "
                "mean of independent days). Binomial: the event hit rate against the baseline's.",
            }
        )
    if loo is not None and len(loo):
        out.append(
            {
                "id": "leave_one_out",
                "title": "Leave one event out",
                "columns": [
                    "Series",
                    "Left out",
                    "Horizon",
                    "Mean (all)",
                    "Mean without",
                    "Median without",
                    "Randomization p without",
                ],
                "rows": [
                    [
                        names.get(
                            str(getattr(r, "variant", "main")), str(getattr(r, "variant", "main"))
                        ),
                        str(r.left_out),
                        f"T+{int(r.horizon)}",
                        _pct(r.mean_all),
                        _pct(r.mean_without),
                        _pct(r.median_without),
                        _p(r.perm_p_without),
                    ]
                    for r in loo.itertuples()
                ],
                "note": "Each row drops one event from the sample and recomputes the event mean, median and the circular-shift p.",
            }
        )
    if accuracy_by_year is not None and len(accuracy_by_year):
        out.append(
            {
                "id": "open_accuracy",
                "title": f"Open accuracy: {index}'s opening gap as a share of {reference}'s, by year",
                "columns": [
                    "Year",
                    f"Days with |{reference} gap| > 0.5%",
                    "Median ratio",
                    "Correlation",
                    f"Share of genuine {index} opens",
                ],
                "rows": [
                    [
                        str(int(r.year)),
                        str(int(r.qualifying_days)),
                        f"{r.median_ratio:.2f}",
                        "n/a" if np.isnan(r.correlation) else f"{r.correlation:.2f}",
                        _pct(r.share_index_open_genuine, 0, False),
                    ]  # fmt: skip
                    for r in accuracy_by_year.itertuples()
                ],
                "note": f"A ratio near 1 means the index open shows the whole gap {reference} traded at; near 0, that the "
                "open is stale. The daily ratios are in open_accuracy.csv.",
            }
        )
    return out
