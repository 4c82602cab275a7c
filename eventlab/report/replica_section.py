"""The report section "Is the replica real?": display tables and computed sentences from the
validation and backtest assets (eventlab.cta.exposure / validation, eventlab.backtest).

Every table is {"columns", "classes", "rows"} of preformatted strings (the CSVs keep decimals);
the sentences quote the computed figures, never fixed numbers.
"""

from __future__ import annotations

import math

import pandas as pd

from eventlab.config import CONFIG
from eventlab.report.formatting import as_float, pval

# the charts shown in this section (and not repeated in the report's chart gallery)
SECTION_CHARTS = ("cta_validation", "backtest_tearsheet")
TABLES = ("cta_implied_exposure", "cta_validation", "cta_calibration", "backtests")
MODELS = {"replica": "Replica (default)", "replica_calibrated": "Replica (calibrated on 2000-2012)"}
EXPOSURE_DAYS = ("2025-11-10", "2025-11-28")
AIM = 0.7  # issue 11's target for the out-of-sample position correlation


def _f(x: object, fmt: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NaT:
        return "–"
    return format(as_float(x), fmt)


def _d(x: object) -> str:
    return "–" if x is None or pd.isna(x) else pd.Timestamp(x).date().isoformat()


def _table(columns: list[str], rows: list[list[str]], numeric_from: int = 1) -> dict[str, object]:
    return {
        "columns": columns,
        "classes": ["" if i < numeric_from else "n" for i in range(len(columns))],
        "rows": rows,
        "more": 0,
    }


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
            cells.append(_f(g["correlation"].get(p), "+.2f") if p else "–")
        cells.append(_f(g["sign_agreement"].get(oos), ".0%") if oos else "–")
        rows.append(cells)
    head = ["Model", "Compared", "corr, full", f"corr, {ins}", f"corr, {oos}", *[f"corr, {e}" for e in eras],
            "sign agreement, out of sample"]  # fmt: skip
    tracking = _table(head, rows, 2)
    ret = v[v["measure"] == "strategy_returns"]
    rrows = []
    for (model, bench, freq), g in ret.groupby(["model", "benchmark", "frequency"], sort=False):
        g = g.set_index("period")
        rrows.append(
            [MODELS.get(model, model), f"{bench} ({freq})"]
            + [_f(g["correlation"].get(p), "+.2f") for p in ("full", ins, oos)]
            + [_f(g["beta"].get(p), ".2f") for p in ("full", oos)]
            + [_f(g["tracking_error"].get(p), ".1%") for p in ("full", oos)]
        )
    rhead = ["Model", "Benchmark", "corr, full", f"corr, {ins}", f"corr, {oos}", "beta, full",
             f"beta, {oos}", "tracking error, full", f"tracking error, {oos}"]  # fmt: skip
    return {"tracking": tracking, "returns": _table(rhead, rrows, 2)}


def exposure_table(e: pd.DataFrame, main_window: int) -> dict[str, object]:
    """SG Trend / SG CTA implied exposure around the event day: slope (se) and percentile."""
    a, b = (pd.Timestamp(d) for d in EXPOSURE_DAYS)
    sel = e[(pd.to_datetime(e["date"]) >= a) & (pd.to_datetime(e["date"]) <= b)].copy()
    # every window for SG Trend on the S&P 500 alone; the main window for the other variants
    headline = (sel["index"].astype(str) == "sg_trend_index") & (sel["model"].astype(str) == "spx")
    sel = sel[headline | (sel["window"] == main_window)]
    if sel.empty:
        return _table(["Date"], [])
    sel["key"] = sel["index"].astype(str).str.replace("_index", "") + " " + sel["model"].astype(str) + " " + sel["window"].astype(str) + "d"  # fmt: skip
    keys = list(dict.fromkeys(sel.sort_values(["index", "model", "window"])["key"]))
    wide = sel.set_index(["date", "key"])
    rows = []
    for d in sorted(sel["date"].unique()):
        cells = [_d(d)]
        for k in keys:
            if (d, k) in wide.index:
                r = wide.loc[(d, k)]
                cells.append(f"{r['slope']:.2f} ({r['se']:.2f}) p{_f(r['percentile'], '.0f')}")
            else:
                cells.append("–")
        rows.append(cells)
    return _table(["Date", *keys], rows)


def calibration_table(c: pd.DataFrame, top: int = 6) -> dict[str, object]:
    g = c.sort_values("in_sample_corr", ascending=False).head(top)
    rows = [
        [("chosen: " if r["chosen"] else "") + str(r["lookbacks"]), _f(r["saturation_z"], ".1f"),
         _f(r["vol_target"], ".0%"), str(int(r["smoothing"])), _f(r["in_sample_corr"], "+.3f"),
         _f(r["out_of_sample_corr"], "+.3f")]
        for _, r in g.iterrows()
    ]  # fmt: skip
    return _table(["Lookbacks", "Saturation z", "Vol target", "Smoothing (sessions)",
                   "In-sample corr (chooses)", "Out-of-sample corr (shown only)"], rows)  # fmt: skip


def backtest_tables(b: pd.DataFrame) -> dict[str, dict[str, object]]:
    strat = b[~b["strategy"].str.startswith("event_")]
    rows = [
        [str(r["strategy"]), str(r["period"]), f"{_d(r['start'])} .. {_d(r['end'])}",
         _f(r["cagr"], "+.1%"), _f(r["volatility"], ".1%"), _f(r["sharpe"], ".2f"), _f(r["sortino"], ".2f"),
         _f(r["max_drawdown"], ".1%"), f"{_d(r['max_drawdown_peak'])} → {_d(r['max_drawdown_trough'])}",
         _f(r["calmar"], ".2f"), _f(r["turnover_per_year"], ".1f"), _f(r["cost_drag"], ".2%")]
        for _, r in strat.iterrows()
    ]  # fmt: skip
    head = ["Strategy", "Period", "Span", "CAGR", "Volatility", "Sharpe", "Sortino", "Max drawdown",
            "Peak → trough", "Calmar", "Turnover / yr", "Cost drag / yr"]  # fmt: skip
    ev = b[b["strategy"].str.startswith("event_") | (b["period"] == "study sample")]
    erows = [
        [str(r["strategy"]), _f(r["n_trades"], ".0f"), _f(r["hit_rate"], ".0%"), _f(r["mean_trade"], "+.2%"),
         _range(r, "random_"), pval(r["random_p_value"]), _range(r, "vix_matched_"), pval(r["vix_matched_p_value"]),
         _f(r["cagr"], "+.1%"), _f(r["sharpe"], ".2f"), _f(r["max_drawdown"], ".1%"), _f(r["time_in_market"], ".1%")]
        for _, r in ev.iterrows()
    ]  # fmt: skip
    ehead = ["Strategy", "Trades", "Hit rate", "Mean trade (net)", "Random days: 5-95% of mean",
             "p (random >= events)", "Same-VIX-quintile days: 5-95%", "p (same quintile)", "CAGR", "Sharpe",
             "Max drawdown", "Time in market"]  # fmt: skip
    events = _table(ehead, erows)
    events["note"] = event_backtest_note(b)
    return {"replica": _table(head, rows, 2), "events": events}


def _range(r: pd.Series, prefix: str) -> str:
    return f"{_f(r[prefix + 'mean_p05'], '+.2%')} .. {_f(r[prefix + 'mean_p95'], '+.2%')}"


def event_backtest_note(b: pd.DataFrame) -> str:
    """What the random-entry rankings of the close-entry event trades do and do not show."""
    close = b[b["strategy"].str.startswith("event_close_")].sort_values("horizon")
    if close.empty:
        return ""
    n = int(close["n_trades"].max())
    text = (
        "Random days are drawn from every day of the study sample. The events fall in stressed "
        "markets, which rebound on average, so the fairer benchmark draws each entry from the "
        "days in the same VIX quintile as its event."
    )
    if close["random_p_value"].isna().all():
        return (
            text
            + f" With {n} trades, fewer than the study's minimum for inference, no p-value is given."
        )
    pairs = "; ".join(
        f"T+{int(r['horizon'])} {pval(r['random_p_value'])} vs {pval(r['vix_matched_p_value'])}"
        for _, r in close.iterrows()
    )
    return (
        text + f" Entries at the event close, p over all days vs over same-quintile days: {pairs}. "
        f"With {n} trades these rank the events within each distribution; they do not establish "
        "an edge (the verdicts above weigh all the evidence)."
    )


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
        if "replica_calibrated" in pos.index:
            best = pos["replica_calibrated"]
            chosen = c[c["chosen"]].iloc[0] if len(c) and c["chosen"].any() else None
            text += (
                " The variant calibrated on 2000-2012 only"
                + (
                    f" (lookbacks {chosen['lookbacks']}, saturation {chosen['saturation_z']:g}, "
                    f"vol target {chosen['vol_target']:.0%}, smoothing {int(chosen['smoothing'])} sessions)"
                    if chosen is not None
                    else ""
                )  # fmt: skip
                + f" reaches {best:+.2f} out of sample, "
                + ("above" if best >= AIM else "below")
                + f" the {AIM:.1f} aim. The rest of the report keeps the default replica (its levels and flows "
                "are the desks' kind of model); the calibrated variant is shown beside it here."
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
    return {
        "sentences": sentences(v, e, c, main_window),
        **validation_tables(v, main_window),
        "exposure": exposure_table(e, main_window),
        "calibration": calibration_table(c),
        **{f"bt_{k}": t for k, t in backtest_tables(b).items()},
    }
