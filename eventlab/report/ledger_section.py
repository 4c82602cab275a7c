"""The report's "How many questions were asked" section and the ledger's figures in the summary:
how many hypotheses the ledger holds, how many survive false-discovery control over all of
them, the headline's q-values, and the specification curve's joint test."""

from __future__ import annotations

import pandas as pd

from eventlab.ledger.fdr import adjusted_q, ledger_summary
from eventlab.report.formatting import pval

FAMILY_NAMES = {
    "event_study": "study rows (definition x series x horizon x variant)",
    "baseline": "regime-matched baselines",
    "backtest": "backtest configurations",
    "calibration": "CTA calibration grid points",
    "spec_curve": "specification curve",
}


def _family_rows(fdr: pd.DataFrame) -> list[list[str]]:
    """One row per family: hypotheses, tested, surviving BH and BY."""
    out = []
    for family, g in fdr.groupby("family", sort=False):
        tested = g["p_value"].notna()
        out.append(
            [
                FAMILY_NAMES.get(str(family), str(family)),
                f"{len(g):,}",
                f"{int(tested.sum()):,}",
                f"{int(g['survives_bh'].sum()):,}",
                f"{int(g['survives_by'].sum()):,}",
            ]
        )
    return out


def headline_q(
    fdr: pd.DataFrame | None, event_stats: pd.DataFrame | None, as_of: str
) -> dict[int, tuple[float, float]]:
    """{horizon: (q_bh, q_by)} of the main definition's rows on this as-of (empty if absent)."""
    if fdr is None or event_stats is None or not len(fdr) or not len(event_stats):
        return {}
    main = event_stats[event_stats["variant"] == "main"]
    if not len(main):
        return {}
    q = adjusted_q(
        fdr, family="event_study", definition=str(main["definition"].iloc[0]), data_as_of=as_of
    )
    return {int(r.horizon): (float(r.q_bh), float(r.q_by)) for r in q.itertuples()}


def add_q_row(key_figures: dict | None, q: dict[int, tuple[float, float]], alpha: float) -> None:
    """Put the headline's ledger-wide q-values under the verdict row of the key figures."""
    if not key_figures or not q:
        return
    cells = []
    for col in key_figures["columns"]:
        h = int(str(col).removeprefix("T+"))
        bh, by = q.get(h, (float("nan"), float("nan")))
        cells.append(
            {"text": pval(bh), "sub": f"BY {pval(by)}", "cls": "pos" if bh <= alpha else ""}
        )
    row = {
        "label": "q, all tests",
        "note": "BH over every hypothesis in the ledger",
        "cells": cells,
    }
    labels = [r["label"] for r in key_figures["rows"]]
    at = labels.index("Verdict") + 1 if "Verdict" in labels else 0
    key_figures["rows"].insert(at, row)


def ledger_context(
    fdr: pd.DataFrame | None,
    spec_test: pd.DataFrame | None,
    q: dict[int, tuple[float, float]],
    alpha: float,
) -> dict[str, object] | None:
    """The section's sentences and table, and the summary's key figure (None without a ledger)."""
    if fdr is None:
        return None
    s = ledger_summary(fdr)
    q_text = ", ".join(f"T+{h} {pval(bh)}" for h, (bh, _) in sorted(q.items()))
    sentences = [
        f"The ledger holds {s['hypotheses']:,} hypotheses evaluated on this project's data, "
        f"{s['tested']:,} of them with a p-value. Controlling the false-discovery rate at "
        f"{alpha:g} over all of them, {s['survive_bh']:,} survive Benjamini-Hochberg and "
        f"{s['survive_by']:,} survive Benjamini-Yekutieli (valid under any dependence).",
    ]
    if q_text:
        sentences.append(
            f"The headline's main definition, adjusted for every test in the ledger (BH q): "
            f"{q_text}."
        )
    if spec_test is not None and len(spec_test):
        r = spec_test.set_index("statistic").loc["share_significant"]
        sentences.append(
            f"Specification curve: {r['observed']:.0%} of {int(r['specs_tested'])} tested "
            f"specifications (of {int(r['specs_defined'])} defined) have a circular-shift p below "
            f"{r['alpha']:g}, against {r['null_mean']:.0%} on average when every specification's "
            f"event dates are shifted together (95th percentile {r['null_q95']:.0%}; joint p "
            f"{pval(r['p_value'])} over {int(r['placebo_shifts']):,} shifts)."
        )
    return {
        "sentences": sentences,
        "columns": [
            "family",
            "hypotheses",
            "tested",
            f"survive BH {alpha:g}",
            f"survive BY {alpha:g}",
        ],
        "rows": _family_rows(fdr),
        "note": "Each hypothesis is identified by a hash of what was asked of which data (family, "
        "spec, series, horizon, variant, test, definition, data as-of): re-running a test adds "
        "nothing, and a new as-of or setting adds new hypotheses. Calibration grid points and "
        "model backtests count as trials without a test of their own. Every row, with its "
        "q-values: hypotheses.csv; the curve: spec_curve.csv.",
    }


def ledger_kpi(fdr: pd.DataFrame | None, alpha: float) -> tuple[str, str, str] | None:
    """The summary's key figure: hypotheses tested, and how many survive (None without a ledger)."""
    if fdr is None:
        return None
    s = ledger_summary(fdr)
    return (
        "Hypotheses tested",
        f"{s['tested']:,}",
        f"{s['survive_bh']:,} survive FDR {alpha:g} (BH), {s['survive_by']:,} (BY)",
    )
