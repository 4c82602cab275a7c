"""`build_context`: everything the report templates show, as display strings."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from eventlab.config import CONFIG
from eventlab.report.answer import (
    banner_items,
    data_age,
    generated_display,
    how_sure,
    verdict_items,
    visible_span,
    what_happened,
)
from eventlab.report.charts_gallery import Chart
from eventlab.report.claims import KINDS, VERDICTS, verdict_counts
from eventlab.report.cta_tables import CTA_TABLES, generic_table, table_columns
from eventlab.report.fonts import font_face_css
from eventlab.report.formatting import pct
from eventlab.report.glossary import glossary
from eventlab.report.key_figures import key_figures
from eventlab.report.lead import display_tables, evidence_paragraphs
from eventlab.report.ledger_section import (
    add_q_row,
    headline_q,
    ledger_context,
    ledger_kpi,
)
from eventlab.report.narrative import coverage_facts, cta_narrative, main_stats, narrative
from eventlab.report.replica_section import SECTION_CHARTS, section_context
from eventlab.report.tables import claim_rows, era_rows, event_rows, robustness_rows, stats_rows


def build_context(
    *,
    as_of: str,
    generated_utc: str,
    events: pd.DataFrame | None,
    event_stats: pd.DataFrame | None,
    eras: pd.DataFrame | None,
    claims: pd.DataFrame | None,
    cta_tables: dict[str, pd.DataFrame] | None,
    charts: list[Chart],
    sources: list[dict[str, str]] | None = None,
    evidence: dict[str, pd.DataFrame] | None = None,
    replica_tables: dict[str, pd.DataFrame] | None = None,
    parameters_line: str = "",
    main_window: int = CONFIG.validation.main_window,
    ledger: dict[str, pd.DataFrame] | None = None,
    verdict_alpha: float = CONFIG.study.verdict_alpha,
    changed: Mapping[str, object] | None = None,
    gap_threshold: float = CONFIG.study.gap_threshold,
    close_rule: str = CONFIG.study.close_rule,
    files: list[str] | None = None,
) -> dict[str, object]:
    """Everything the templates show, as display strings. `evidence` holds the study's evidence
    tables (event_verdicts, event_baselines, event_leave_one_out, open_accuracy_by_year);
    `ledger` the ledger's tables (ledger_fdr, spec_curve_test) when the run has them; `changed`
    the parameters that differ from the defaults (a banner says so); `files` the names of the
    report folder's files the report may link to (CSVs, manifest.json)."""
    cta_tables = {k: v for k, v in (cta_tables or {}).items() if v is not None and len(v)}
    replica = section_context(replica_tables or {}, main_window)
    # the section shows its own charts; the gallery keeps them when the section is absent
    replica_charts = [c for c in charts if c.name in SECTION_CHARTS] if replica else []
    charts = [c for c in charts if c not in replica_charts]
    ev_header, ev_rows = event_rows(events)
    rb_header, rb_rows = robustness_rows(event_stats)
    cov = coverage_facts(event_stats)
    # Data checks and model comparisons are counted apart: a match with the CTA replica is
    # agreement between two models, not evidence about the market.
    counts = {
        kind: (
            verdict_counts(claims, kind)
            if claims is not None and len(claims)
            else dict.fromkeys(VERDICTS, 0)
        )
        for kind in KINDS
    }
    ev_tabs = evidence or {}
    # The verdict that weighs the ledger-wide family (every test run on these data) leads when
    # the run has it; the study's own verdict is its input and stays in the warehouse.
    family = (ledger or {}).get("event_verdicts_family")
    if family is not None and len(family):
        ev_tabs = {**ev_tabs, "event_verdicts": family}
    index, reference = _series_names(event_stats)
    paras = evidence_paragraphs(
        event_stats,
        ev_tabs.get("event_baselines"),
        ev_tabs.get("event_leave_one_out"),
        events,
        index,
        reference,
    ) + narrative(events, event_stats, claims, None, as_of)
    n_events = 0 if events is None else len(events)
    st = main_stats(event_stats)
    kpis = []
    visible = (
        st["effective_visibility_from"].iloc[0]
        if st is not None and "effective_visibility_from" in st.columns
        else None
    )
    if events is not None:
        kpis.append(("Events", str(n_events), visible_span(cov, visible)))
        kpis.append(
            (
                "Genuine index opens from",
                str(cov.get("first_usable_open") or cov.get("sample_start") or "n/a"),
                f"{pct(cov.get('share_usable'), 0, False)} of days usable"
                if "share_usable" in cov
                else "",
            )
        )
        if isinstance(visible, str) and visible:
            kpis.append(
                (
                    "Opens show the real gap from",
                    visible,
                    f"{reference}: real opens from {_first_sample(event_stats, reference)}",
                )
            )
    if st is not None:
        for _, r in st.iterrows():
            kpis.append(
                (
                    f"T+{int(r['horizon'])} median",
                    pct(r["event_median"]),
                    f"non-event days {pct(r['baseline_median'])}",
                )
            )
    led = ledger or {}
    q = headline_q(led.get("ledger_fdr"), event_stats, as_of)
    ledger_ctx = ledger_context(led.get("ledger_fdr"), led.get("spec_curve_test"), q, verdict_alpha)
    kpi = ledger_kpi(led.get("ledger_fdr"), verdict_alpha)
    if kpi is not None:
        kpis.append(kpi)
    figures = key_figures(events, event_stats, ev_tabs.get("event_verdicts"))
    add_q_row(figures, q, verdict_alpha)
    fdr = led.get("ledger_fdr")
    answer = [
        s
        for s in (
            what_happened(
                event_stats,
                index=index,
                reference=reference,
                gap_threshold=gap_threshold,
                close_rule=close_rule,
            ),
            how_sure(
                ev_tabs.get("event_verdicts"),
                q,
                verdict_alpha,
                int(fdr["p_value"].notna().sum()) if fdr is not None and len(fdr) else None,
            ),
        )
        if s
    ]
    cta = {
        k: generic_table(cta_tables[k], columns=table_columns(k, cta_tables[k]))
        for k in CTA_TABLES
        if k in cta_tables
    }
    return {
        "title": "Gap up, close red: what happened next",
        "answer": answer,
        "data_age": data_age(as_of, generated_utc),
        "non_default": banner_items(changed),
        "verdict_items": verdict_items(ev_tabs.get("event_verdicts"), q, index, reference),
        "cta_now": {
            "sentence": cta_narrative(cta_tables) if cta_tables else None,
            "table": cta.get("cta_levels_latest"),
        },
        "glossary": glossary(),
        "files": file_list(files, charts + replica_charts),
        "table_csv": {
            k: v
            for k, v in {
                **TABLE_CSV,
                # the family-weighed verdicts lead when the run has them
                **(
                    {"ev-verdicts": "event_verdicts_family.csv"}
                    if family is not None and len(family)
                    else {}
                ),
            }.items()
            if v in (files or [])
        },
        "ledger": ledger_ctx,
        "as_of": as_of,
        "parameters_line": parameters_line,
        "generated_utc": generated_display(generated_utc),
        "definition": cov.get("definition", ""),
        "narrative": paras,
        "evidence_tables": display_tables(
            event_stats,
            ev_tabs.get("event_verdicts"),
            ev_tabs.get("event_baselines"),
            ev_tabs.get("event_leave_one_out"),
            ev_tabs.get("open_accuracy_by_year"),
            index,
            reference,
        ),
        "kpis": kpis,
        "key_figures": figures,
        "font_face_css": font_face_css(),
        "event_header": ev_header,
        "event_rows": ev_rows,
        "stats_rows": stats_rows(event_stats),
        "small_sample": bool(n_events < 30),
        "n_events": n_events,
        "robust_header": rb_header,
        "robust_rows": rb_rows,
        "eras": era_rows(eras),
        "coverage": cov,
        "claims": claim_rows(claims),
        "claim_counts": counts,
        "cta": cta,
        "cta_titles": {
            "cta_levels_latest": "Trigger levels on the latest date",
            "cta_claims": "The notes' CTA figures vs the replica",
            "cta_scenarios": "Flow scenarios (estimated, one week / one month)",
            "cta_event_summary": "CTA levels around past events",
        },
        "charts": charts,
        "replica": replica,
        "replica_charts": replica_charts,
        "sources": sources or [],
    }


# which CSV of the report folder holds each table the report shows (a link beside the table)
TABLE_CSV = {
    "ev-verdicts": "event_verdicts.csv",
    "ev-longest": "event_stats.csv",
    "ev-small_sample": "event_stats.csv",
    "ev-baselines": "event_baselines.csv",
    "ev-leave_one_out": "event_leave_one_out.csv",
    "ev-open_accuracy": "open_accuracy_by_year.csv",
    "ledger": "hypotheses.csv",
    "events": "events.csv",
    "stats": "event_stats.csv",
    "claims": "claims_vs_data.csv",
    "eras": "open_quality_eras.csv",
    "cta_levels_latest": "cta_levels.csv",
    "cta_claims": "cta_claims.csv",
    "cta_scenarios": "cta_scenarios.csv",
    "cta_event_summary": "cta_event_summary.csv",
    "tracking": "cta_validation.csv",
    "returns": "cta_validation.csv",
    "calibration": "cta_calibration.csv",
    "grid_oos": "cta_calibration.csv",
    "exposure": "cta_implied_exposure.csv",
    "bt_replica": "backtests.csv",
    "bt_events": "backtests.csv",
    "bt_search": "backtest_search.csv",
}


def file_list(files: list[str] | None, charts: list[Chart]) -> dict[str, list[str]]:
    """The report folder's files the report names, for its Files list: tables (CSV), charts
    (PNG) and the manifest; only files that exist are listed, so every link resolves."""
    names = sorted(set(files or []))
    return {
        "tables": [f for f in names if f.endswith(".csv")],
        "charts": [c.path for c in charts if c.path],
        "other": [f for f in names if not f.endswith(".csv")],
    }


def _first_sample(event_stats: pd.DataFrame | None, series: str) -> str:
    """First day of the sample of `series` on its own opens (from the statistics table)."""
    if event_stats is None or "sample_start" not in event_stats.columns:
        return "n/a"
    rows = event_stats[event_stats["variant"] == f"{series}_own_opens"]
    return str(rows["sample_start"].iloc[0]) if len(rows) else "n/a"


def _series_names(event_stats: pd.DataFrame | None) -> tuple[str, str]:
    """(study index, robustness index) as the statistics table names them."""
    if event_stats is None or len(event_stats) == 0 or "index" not in event_stats.columns:
        return ("the index", "the reference")
    main = event_stats.loc[event_stats["variant"] == "main", "index"]
    own = event_stats.loc[event_stats["variant"].astype(str).str.endswith("_own_opens"), "index"]
    return (
        str(main.iloc[0]) if len(main) else "the index",
        str(own.iloc[0]) if len(own) else "the reference",
    )
