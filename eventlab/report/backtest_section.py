"""The backtest half of the report's "Is the replica real?" section: the backtest tables, the
calibration grid's out-of-sample distribution, the search statistics (deflated Sharpe ratio,
SPA / StepM, PBO) and the sentences that quote them (eventlab.backtest; computed figures only).

Tables are {"columns", "classes", "rows"} of preformatted strings, as in replica_section.
"""

from __future__ import annotations

import math

import pandas as pd

from eventlab.report.formatting import as_float, pval

AIM = 0.7  # issue 11's target for the out-of-sample position correlation
STRATEGY_LABELS = {
    "replica": "Replica (default)",
    "replica_calibrated": "Replica (calibrated on 2000-2012)",
    "buy_and_hold": "Buy-and-hold, total return (FF3 market, then SPY)",
    "buy_and_hold_price": "Buy-and-hold, S&P 500 price only (no dividends; shown, not a benchmark)",
    "cash": "Cash (fed funds)",
    "sg_trend_index": "SG Trend Index (net of fees, data)",
}
ENTRY_LABELS = {
    "next_open": "next open (default)",
    "close": "event close (variant: needs the closing print)",
}


def fmt(x: object, spec: str) -> str:
    """A number in `spec`, or an en dash when missing."""
    if x is None or x is pd.NaT or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return format(as_float(x), spec)


def day(x: object) -> str:
    """An ISO date, or an en dash when missing."""
    return "–" if x is None or pd.isna(x) else pd.Timestamp(x).date().isoformat()


def table(columns: list[str], rows: list[list[str]], numeric_from: int = 1) -> dict[str, object]:
    """A display table: text columns before `numeric_from`, right-aligned numbers after."""
    return {
        "columns": columns,
        "classes": ["" if i < numeric_from else "n" for i in range(len(columns))],
        "rows": rows,
        "more": 0,
    }


def strategy_label(name: str) -> str:
    """A strategy's reader-facing name (event strategies: entry and horizon)."""
    if name in STRATEGY_LABELS:
        return STRATEGY_LABELS[name]
    for entry, label in ENTRY_LABELS.items():
        prefix = f"event_{entry}_"
        if name.startswith(prefix):
            return f"Event, {label}, T+{name[len(prefix) :].rstrip('d')}"
    return name


def backtest_tables(b: pd.DataFrame) -> dict[str, dict[str, object]]:
    """The replica table (every non-event strategy and period) and the event table."""
    strat = b[~b["strategy"].str.startswith("event_") & (b["period"] != "study sample")]
    rows = [
        [strategy_label(str(r["strategy"])), str(r["period"]), f"{day(r['start'])} .. {day(r['end'])}",
         fmt(r["cagr"], "+.1%"), fmt(r["volatility"], ".1%"), fmt(r["sharpe"], ".2f"),
         fmt(r["deflated_sharpe"], ".2f"), fmt(r["max_drawdown"], ".1%"),
         f"{day(r['max_drawdown_peak'])} → {day(r['max_drawdown_trough'])}", fmt(r["calmar"], ".2f"),
         fmt(r["turnover_per_year"], ".1f"), fmt(r["cost_drag"], ".2%")]
        for _, r in strat.iterrows()
    ]  # fmt: skip
    head = ["Strategy", "Period", "Span", "CAGR", "Volatility", "Sharpe", "Deflated Sharpe (prob.)",
            "Max drawdown", "Peak → trough", "Calmar", "Turnover / yr", "Cost drag / yr"]  # fmt: skip
    replica = table(head, rows, 2)
    replica["note"] = cost_note(b)
    ev = b[b["strategy"].str.startswith("event_") | (b["period"] == "study sample")]
    erows = [
        [strategy_label(str(r["strategy"])), fmt(r["n_trades"], ".0f"), fmt(r["hit_rate"], ".0%"),
         fmt(r["mean_trade"], "+.2%"), _range(r, "random_"), pval(r["random_p_value"]),
         _range(r, "vix_matched_"), pval(r["vix_matched_p_value"]), fmt(r["cagr"], "+.1%"),
         fmt(r["sharpe"], ".2f"), fmt(r["deflated_sharpe"], ".2f"), fmt(r["max_drawdown"], ".1%"),
         fmt(r["time_in_market"], ".1%")]
        for _, r in ev.iterrows()
    ]  # fmt: skip
    ehead = ["Strategy", "Trades", "Hit rate", "Mean trade (net)", "Random days: 5-95% of mean",
             "p (random >= events)", "Same-VIX-quintile days: 5-95%", "p (same quintile)", "CAGR", "Sharpe",
             "Deflated Sharpe (prob.)", "Max drawdown", "Time in market"]  # fmt: skip
    events = table(ehead, erows)
    events["note"] = event_backtest_note(b)
    return {"replica": replica, "events": events}


def _range(r: pd.Series, prefix: str) -> str:
    """The 5-95% range of a random-entry distribution's mean trade."""
    return f"{fmt(r[prefix + 'mean_p05'], '+.2%')} .. {fmt(r[prefix + 'mean_p95'], '+.2%')}"


def cost_note(b: pd.DataFrame) -> str:
    """The costs every backtest bears, from the rows' own cost_bp."""
    traded = b.loc[b["kind"].eq("model") | b["strategy"].str.startswith("event_"), "cost_bp"]
    costs = ", ".join(f"{c:g} bp" for c in sorted(traded.dropna().unique()))
    return (
        f"Costs: {costs or 'none'} one way per unit of turnover, charged on the replicas' position "
        "changes and on each event trade's entry and exit; buy-and-hold bears none, SG Trend is net of "
        "its managers' fees. The replicas' equity leg earns the market's total return (an index-futures "
        "position on cash collateral earns about that), cash the fed funds rate (0 before 1954-07)."
    )


def event_backtest_note(b: pd.DataFrame) -> str:
    """What the random-entry rankings of the default entry's event trades do and do not show."""
    ev = b[b["strategy"].str.startswith("event_")]
    entry = "next_open" if (ev["entry"] == "next_open").any() else "close"
    main = ev[ev["entry"] == entry].sort_values("horizon")
    if main.empty:
        return ""
    n = int(main["n_trades"].max())
    text = (
        "Random days are drawn from every day of the study sample. The events fall in stressed "
        "markets, which rebound on average, so the fairer benchmark draws each entry from the "
        "days in the same VIX quintile as its event. Entering at the event close needs the closing "
        "print to decide (a mild look-ahead), so the next open is the default entry. Event trades "
        "earn the index's price change (no dividends over a 1-20 session hold), so against "
        "total-return buy-and-hold they are slightly understated, never flattered."
    )
    if main["random_p_value"].isna().all():
        return (
            text
            + f" With {n} trades, fewer than the study's minimum for inference, no p-value is given."
        )
    pairs = "; ".join(
        f"T+{int(r['horizon'])} {pval(r['random_p_value'])} vs {pval(r['vix_matched_p_value'])}"
        for _, r in main.iterrows()
    )
    return (
        text
        + f" Entries at the {ENTRY_LABELS[entry]}, p over all days vs over same-quintile days: "
        f"{pairs}. With {n} trades these rank the events within each distribution; they do not "
        "establish an edge (the verdicts above weigh all the evidence)."
    )


def calibration_table(c: pd.DataFrame, top: int = 6) -> dict[str, object]:
    """The grid's best in-sample points, with each one's out-of-sample rank among the grid."""
    oos_rank = c["out_of_sample_corr"].rank(ascending=False, method="min")
    g = c.assign(oos_rank=oos_rank).sort_values("in_sample_corr", ascending=False).head(top)
    rows = [
        [("chosen: " if r["chosen"] else "") + str(r["lookbacks"]), fmt(r["saturation_z"], ".1f"),
         fmt(r["vol_target"], ".0%"), str(int(r["smoothing"])), fmt(r["in_sample_corr"], "+.3f"),
         fmt(r["out_of_sample_corr"], "+.3f"),
         f"{int(r['oos_rank'])} of {len(c)}" if pd.notna(r["oos_rank"]) else "–"]
        for _, r in g.iterrows()
    ]  # fmt: skip
    return table(["Lookbacks", "Saturation z", "Vol target", "Smoothing (sessions)",
                  "In-sample corr (chooses)", "Out-of-sample corr (shown only)",
                  "Out-of-sample rank"], rows)  # fmt: skip


def grid_distribution(c: pd.DataFrame) -> dict[str, object]:
    """The whole grid's out-of-sample correlations, by smoothing span and overall."""
    groups = [(str(int(sm)), g["out_of_sample_corr"]) for sm, g in c.groupby("smoothing")]
    groups.append(("all", c["out_of_sample_corr"]))
    rows = [
        [label, str(len(x)), fmt(x.min(), "+.2f"), fmt(x.quantile(0.25), "+.2f"), fmt(x.median(), "+.2f"),
         fmt(x.mean(), "+.2f"), fmt(x.quantile(0.75), "+.2f"), fmt(x.max(), "+.2f"),
         fmt((x >= AIM).mean(), ".0%")]
        for label, x in groups
    ]  # fmt: skip
    out = table(["Smoothing (sessions)", "Grid points", "Min", "25%", "Median", "Mean", "75%", "Max",
                 f"Share >= {AIM:.2f}"], rows)  # fmt: skip
    out["note"] = (
        "Every grid point's out-of-sample correlation of its held position with SG Trend's implied "
        "exposure (cta_calibration.csv lists them all); the calibration never sees these figures."
    )
    return out


def calibration_sentence(c: pd.DataFrame, best_oos: float) -> str:
    """What the calibrated variant's out-of-sample correlation credits: the choice or the smoothing."""
    chosen = c[c["chosen"]].iloc[0]
    oos = c["out_of_sample_corr"]
    if pd.isna(chosen["out_of_sample_corr"]) or oos.isna().all():
        return " The calibrated variant has no out-of-sample correlation in this run (no overlap)."
    rank = int((oos > chosen["out_of_sample_corr"]).sum()) + 1
    by_sm = c.groupby("smoothing")["out_of_sample_corr"]
    means = "; ".join(f"{int(sm)}: {m:+.2f}" for sm, m in by_sm.mean().items())
    sm = int(chosen["smoothing"])
    same = oos[c["smoothing"] == sm]
    unsmoothed = oos[c["smoothing"] == c["smoothing"].min()]
    text = (
        f" The variant calibrated on 2000-2012 only (lookbacks {chosen['lookbacks']}, saturation "
        f"{chosen['saturation_z']:g}, vol target {chosen['vol_target']:.0%}, smoothing {sm} sessions) "
        f"reaches {best_oos:+.2f} out of sample: the in-sample best ranks {rank} of {len(c)} grid points "
        f"out of sample. {(oos >= AIM).mean():.0%} of all grid points reach {AIM:.2f}, "
        f"{(same >= AIM).mean():.0%} of those smoothed over {sm} sessions; the mean out-of-sample "
        f"correlation by smoothing span is {means}."
    )
    if (
        len(unsmoothed)
        and same.mean() > unsmoothed.mean()
        and (same >= AIM).mean() > (oos >= AIM).mean()
    ):
        text += (
            f" Reaching the {AIM:.1f} aim credits the smoothing more than the calibration's choice of "
            "lookbacks, saturation and volatility target."
        )
    return text


def search_display(s: pd.DataFrame) -> dict[str, object]:
    """The search statistics (SPA, StepM, PBO) as a display table; the splice is a sentence."""
    s = s[s["test"] != "splice"]
    rows = []
    for _, r in s.iterrows():
        stat = str(r["statistic"])
        value = pval(r["value"]) if stat.startswith("p_value") else fmt(r["value"], ".3g")
        if stat == "superior_strategies":
            value = str(r["detail"]).rsplit("superior: ", 1)[-1]
        rows.append(
            [str(r["family"]), str(r["test"]).upper() if r["test"] != "stepm" else "StepM",
             stat.replace("_", " "), value, f"{r['start']} .. {r['end']}", fmt(r["n_obs"], ",.0f"),
             fmt(r["n_trials"], ".0f")]
        )  # fmt: skip
    out = table(["Family", "Test", "Statistic", "Value", "Span", "Observations", "Trials"], rows, 3)
    out["note"] = (
        "SPA (Hansen) and StepM (Romano-Wolf, family-wise 5%): does any strategy of the family earn "
        "a higher mean return than total-return buy-and-hold? (arch's implementations, stationary "
        "bootstrap; a small p says yes.) PBO: the share of the halvings of the sample's blocks in which "
        "the in-sample best trial is at or below the median out of sample (combinatorially symmetric "
        "cross-validation); near 0 the choice generalises, near 0.5 or above it is luck."
        if len(s)
        else ""
    )
    return out


def backtest_sentences(b: pd.DataFrame, s: pd.DataFrame | None, c: pd.DataFrame) -> list[str]:
    """The backtests' computed summary: total return and its splice, the replica against SG Trend
    on their common span, the deflated Sharpe ratio's trial count, SPA / StepM and PBO."""
    out: list[str] = []
    rows = b.set_index(["strategy", "period"])

    def get(strategy: str, period: str, col: str) -> float:
        """A number of one backtests row (NaN when the row is absent)."""
        return float(rows[col].get((strategy, period), float("nan")))

    def when(strategy: str, period: str, col: str) -> str:
        """A date of one backtests row."""
        return day(rows[col].get((strategy, period)))

    if s is not None and (s["test"] == "splice").any():
        sp = s[s["test"] == "splice"].set_index("statistic")
        first = sp.iloc[0]
        out.append(
            f"Buy-and-hold is total return: {first['detail'].split(';')[0]}. Over "
            f"{first['start']} .. {first['end']} ({int(first['n_obs']):,} sessions) the two correlate "
            f"{sp.at['overlap_correlation', 'value']:.3f} day by day with a tracking error of "
            f"{sp.at['overlap_tracking_error', 'value']:.1%} a year and compound at "
            f"{sp.at['overlap_cagr_ff3', 'value']:.1%} and {sp.at['overlap_cagr_spy', 'value']:.1%} a "
            "year (the FF3 market holds every US stock; SPY the S&P 500, less its fee). Since "
            f"{when('buy_and_hold', 'full', 'start')} it returns {get('buy_and_hold', 'full', 'cagr'):+.1%} "
            f"a year against {get('buy_and_hold_price', 'full', 'cagr'):+.1%} for the price index alone, and "
            f"the default replica {get('replica', 'full', 'cagr'):+.1%}."
        )
    if ("sg_trend_index", "common") in rows.index and ("replica", "common") in rows.index:
        out.append(
            f"Over SG Trend's span ({when('sg_trend_index', 'common', 'start')} .. "
            f"{when('sg_trend_index', 'common', 'end')}) the default replica returns "
            f"{get('replica', 'common', 'cagr'):+.1%} a year (Sharpe {get('replica', 'common', 'sharpe'):.2f}) "
            f"against SG Trend's {get('sg_trend_index', 'common', 'cagr'):+.1%} "
            f"({get('sg_trend_index', 'common', 'sharpe'):.2f}) and total-return buy-and-hold's "
            f"{get('buy_and_hold', 'common', 'cagr'):+.1%} ({get('buy_and_hold', 'common', 'sharpe'):.2f})."
        )
    trials = b["dsr_trials"].dropna()
    if len(trials):
        n = int(trials.iloc[0])
        n_rep = int(b.loc[b["kind"].eq("model"), "strategy"].nunique())
        n_ev = int(b.loc[b["strategy"].str.startswith("event_"), "strategy"].nunique())
        counted = n_rep + n_ev + len(c)
        what = (
            f"{n_rep} replica and {n_ev} event backtests plus {len(c)} calibration grid points, "
            "all evaluated in this run"
            if n == counted
            else "as set in the backtest settings"
        )
        luck = float(b["dsr_benchmark_sharpe"].dropna().iloc[0])
        out.append(
            f"Deflated Sharpe ratio (Bailey and López de Prado 2014): the probability that a "
            f"strategy's true Sharpe ratio beats the best of {n} skill-less trials ({what}; a ledger "
            f"of every test run on these data would count more). A Sharpe ratio of {luck:.2f} a year "
            "is what the best of that many trials is expected to reach by luck."
        )
    if s is not None:
        out += search_sentences(s)
    return out


def search_sentences(s: pd.DataFrame) -> list[str]:
    """SPA / StepM and PBO in words, from the search table."""
    out = []
    for fam, g in s[s["test"].isin(["spa", "stepm"])].groupby("family", sort=False):
        g = g.set_index("statistic")
        if "p_value_consistent" not in g.index or pd.isna(g.at["p_value_consistent", "value"]):
            continue
        superior = str(g.at["superior_strategies", "detail"]).rsplit("superior: ", 1)[-1]
        k = str(g.at["p_value_consistent", "detail"]).split(" strategies")[0]
        out.append(
            f"{fam.capitalize()} ({g['start'].iloc[0]} .. {g['end'].iloc[0]}, {k} strategies): "
            "Hansen's SPA test of the hypothesis that none earns a higher mean return than "
            f"total-return buy-and-hold gives p {pval(g.at['p_value_consistent', 'value'])}; "
            f"Romano-Wolf's StepM finds {superior} superior at a family-wise 5%."
        )
    pbo = s[(s["test"] == "pbo") & (s["statistic"] == "pbo")]
    if len(pbo):
        parts = "; ".join(
            f"{r['family']} {fmt(r['value'], '.2f')} ({str(r['detail']).split(';')[0]})"
            for _, r in pbo.iterrows()
        )
        out.append(f"Probability of backtest overfitting: {parts}.")
    return out
