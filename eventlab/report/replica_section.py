"""The report section "Is the replica real?": display tables and computed sentences from the
validation and backtest assets (eventlab.cta.exposure / validation, eventlab.backtest).

Every table is {"columns", "classes", "rows"} of preformatted strings (the CSVs keep decimals);
the sentences quote the computed figures, never fixed numbers.
"""

from __future__ import annotations

import pandas as pd

from eventlab.config import CONFIG
from eventlab.report import backtest_section as bts

# the charts shown in this section (and not repeated in the report's chart gallery)
SECTION_CHARTS = ("cta_validation", "backtest_tearsheet")
TABLES = ("cta_implied_exposure", "cta_validation", "cta_calibration", "backtests")
OPTIONAL_TABLES = ("backtest_search",)  # shown when present
MODELS = {"replica": "Replica (default)", "replica_calibrated": "Replica (calibrated on 2000-2012)"}
EXPOSURE_DAYS = ("2025-11-10", "2025-11-28")


def _period_label(v: pd.DataFrame, prefix: str) -> str | None:
    hit = [p for p in v["period"].unique() if str(p).startswith(prefix)]
    return hit[0] if hit else None


def validation_tables(v: pd.DataFrame, main_window: int) -> dict[str, dict[str, object]]:
    """Position tracking (overall, in/out of sample, by era) and strategy-return comparisons."""
    ins, oos = _period_label(v, "in-sample"), _period_label(v, "out-of-sample")
    eras = [p for p in v["period"].unique() if p[:1].isdigit()]
    pos = v[v["measure"].isin(["position_vs_implied", "lens_vs_implied"])]
    what = {
        "position_vs_implied": "position (held) vs implied",
        "lens_vs_implied": f"same {main_window}-session regression on both",
    }
    rows = []
    for (model, measure), g in pos.groupby(["model", "measure"], sort=False):
        g = g.set_index("period")
        cells = [MODELS.get(model, model), what[measure]]
        for p in ("full", ins, oos, *eras):
            cells.append(bts.fmt(g["correlation"].get(p), "+.2f") if p else "–")
        cells.append(bts.fmt(g["sign_agreement"].get(oos), ".0%") if oos else "–")
        rows.append(cells)
    head = ["Model", "Compared", "corr, full", f"corr, {ins}", f"corr, {oos}", *[f"corr, {e}" for e in eras],
            "sign agreement, out of sample"]  # fmt: skip
    tracking = bts.table(head, rows, 2)
    ret = v[v["measure"] == "strategy_returns"]
    rrows = []
    for (model, bench, freq), g in ret.groupby(["model", "benchmark", "frequency"], sort=False):
        g = g.set_index("period")
        rrows.append(
            [MODELS.get(model, model), f"{bench} ({freq})"]
            + [bts.fmt(g["correlation"].get(p), "+.2f") for p in ("full", ins, oos)]
            + [bts.fmt(g["beta"].get(p), ".2f") for p in ("full", oos)]
            + [bts.fmt(g["tracking_error"].get(p), ".1%") for p in ("full", oos)]
        )
    rhead = ["Model", "Benchmark", "corr, full", f"corr, {ins}", f"corr, {oos}", "beta, full",
             f"beta, {oos}", "tracking error, full", f"tracking error, {oos}"]  # fmt: skip
    return {"tracking": tracking, "returns": bts.table(rhead, rrows, 2)}


def exposure_table(e: pd.DataFrame, main_window: int) -> dict[str, object]:
    """SG Trend / SG CTA implied exposure around the event day: slope (se) and percentile."""
    a, b = (pd.Timestamp(d) for d in EXPOSURE_DAYS)
    sel = e[(pd.to_datetime(e["date"]) >= a) & (pd.to_datetime(e["date"]) <= b)].copy()
    # every window for SG Trend on the S&P 500 alone; the main window for the other variants
    headline = (sel["index"].astype(str) == "sg_trend_index") & (sel["model"].astype(str) == "spx")
    sel = sel[headline | (sel["window"] == main_window)]
    if sel.empty:
        return bts.table(["Date"], [])
    sel["key"] = sel["index"].astype(str).str.replace("_index", "") + " " + sel["model"].astype(str) + " " + sel["window"].astype(str) + "d"  # fmt: skip
    keys = list(dict.fromkeys(sel.sort_values(["index", "model", "window"])["key"]))
    wide = sel.set_index(["date", "key"])
    rows = []
    for d in sorted(sel["date"].unique()):
        cells = [bts.day(d)]
        for k in keys:
            if (d, k) in wide.index:
                r = wide.loc[(d, k)]
                cells.append(f"{r['slope']:.2f} ({r['se']:.2f}) p{bts.fmt(r['percentile'], '.0f')}")
            else:
                cells.append("–")
        rows.append(cells)
    return bts.table(["Date", *keys], rows)


def sentences(v: pd.DataFrame, e: pd.DataFrame, c: pd.DataFrame, main_window: int) -> list[str]:
    """The section's computed summary."""
    on = e[
        (e["index"].astype(str) == "sg_trend_index")
        & (e["model"].astype(str) == "spx")
        & (e["window"] == main_window)
    ]
    out = [
        "Desks and replication funds estimate how long trend followers are in equities from the funds' "
        "returns alone: the slope of a trailing regression of a CTA index's daily returns on the S&P 500's. "
        f"It is data, not a model, but it is noisy (SG Trend's {main_window}-session slope has a median "
        f"standard error of {on['se'].median():.2f}) and it lags (it averages the whole window, so a "
        f"position cut in the last week moves it by about {5 / main_window:.0%} of the cut)."
    ]
    for day in ("2025-11-14", "2025-11-20"):
        r = on[pd.to_datetime(on["date"]) == pd.Timestamp(day)]
        if len(r):
            r = r.iloc[0]
            out.append(
                f"On {day} SG Trend's {main_window}-session implied S&P 500 exposure was {r['slope']:.3f} "
                f"(standard error {r['se']:.3f}), at percentile {r['percentile']:.0f} of its history since 2000."
            )
    oos = _period_label(v, "out-of-sample")
    pos = v[(v["measure"] == "position_vs_implied") & (v["period"] == oos)].set_index("model")[
        "correlation"
    ]
    lens = v[(v["measure"] == "lens_vs_implied") & (v["period"] == oos)].set_index("model")[
        "correlation"
    ]
    if oos is not None and "replica" in pos.index:  # no out-of-sample period: `pos` is empty
        text = (
            f"Out of sample ({oos.split()[-1]}), the default replica's position correlates {pos['replica']:+.2f} "
            f"with SG Trend's {main_window}-session implied exposure; passed through the same regression "
            f"(its own P&L on the S&P 500) it reaches {lens.get('replica', float('nan')):+.2f}: most of the gap "
            "is the estimator's lag, not the model."
        )
        if "replica_calibrated" in pos.index and len(c) and c["chosen"].any():
            text += bts.calibration_sentence(c, float(pos["replica_calibrated"]))
            text += (
                " The rest of the report keeps the default replica (its levels and flows are the "
                "desks' kind of model); the calibrated variant is shown beside it here."
            )
        out.append(text)
    return out


def section_context(
    tables: dict[str, pd.DataFrame], main_window: int = CONFIG.validation.main_window
) -> dict[str, object] | None:
    """Everything the template's "Is the replica real?" block needs, or None if the assets
    are not in this run; `main_window` is the run's validation window (its settings)."""
    if not all(k in tables and tables[k] is not None and len(tables[k]) for k in TABLES):
        return None
    e, v, c, b = (tables[k] for k in TABLES)
    found = tables.get("backtest_search")
    search = found if found is not None and len(found) else None
    return {
        "sentences": sentences(v, e, c, main_window),
        "bt_sentences": bts.backtest_sentences(b, search, c),
        **validation_tables(v, main_window),
        "exposure": exposure_table(e, main_window),
        "calibration": bts.calibration_table(c),
        "grid_oos": bts.grid_distribution(c),
        **{f"bt_{k}": t for k, t in bts.backtest_tables(b).items()},
        "bt_search": bts.search_display(search)
        if search is not None
        else bts.table(["Family"], []),
    }
