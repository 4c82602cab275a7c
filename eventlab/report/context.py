"""`build_context`: everything the report templates show, as display strings."""

from __future__ import annotations

import pandas as pd

from eventlab.config import CONFIG
from eventlab.report.charts_gallery import Chart
from eventlab.report.claims import KINDS, VERDICTS, verdict_counts
from eventlab.report.cta_tables import CTA_TABLES, generic_table, table_columns
from eventlab.report.fonts import font_face_css
from eventlab.report.formatting import pct
from eventlab.report.key_figures import key_figures
from eventlab.report.lead import display_tables, evidence_paragraphs
from eventlab.report.ledger_section import (
    add_q_row,
    headline_q,
    ledger_context,
    ledger_kpi,
)
from eventlab.report.narrative import coverage_facts, main_stats, narrative
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
) -> dict[str, object]:
    """Everything the templates show, as display strings. `evidence` holds the study's evidence
    tables (event_verdicts, event_baselines, event_leave_one_out, open_accuracy_by_year);
    `ledger` the ledger's tables (ledger_fdr, spec_curve_test) when the run has them."""
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
        ev_tabs.get("event_verdicts"),
        ev_tabs.get("event_baselines"),
        ev_tabs.get("event_leave_one_out"),
        events,
        index,
        reference,
    ) + narrative(events, event_stats, claims, cta_tables, as_of)
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
    return {
        "title": "Gap up, close red: what happened next",
        "ledger": ledger_ctx,
        "as_of": as_of,
        "parameters_line": parameters_line,
        "generated_utc": generated_utc,
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
        "cta": {
            k: generic_table(cta_tables[k], columns=table_columns(k, cta_tables[k]))
            for k in CTA_TABLES
            if k in cta_tables
        },
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


def visible_span(cov: dict[str, object], visible: object) -> str:
    """The span the event count covers, as the data can see it: from the first day of the
    sample with usable opens and, when the opens show the real gap only later, effectively from
    that date; the asked-for start beside it when it is earlier."""
    start = cov.get("sample_start") or cov.get("requested_start") or "the start"
    text = f"since {start}"
    if isinstance(visible, str) and visible and visible > str(start):
        text += f", effectively since {visible}"
    asked = cov.get("requested_start")
    if asked and str(asked) < str(start):
        text += f"; asked: since {asked}"
    return text


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
