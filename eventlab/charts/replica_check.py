"""Is the replica real? Two charts: the replica's position against the CTA equity exposure implied
by SG Trend's returns (with event days), and the backtest tear sheet (equity and drawdown of the
replica vs total-return and price-only buy-and-hold since 1929 and vs SG Trend since 2000; the event
trades vs random entries).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.charts import style

MODEL_LABELS = {
    "replica": "replica (default)",
    "replica_calibrated": "replica (calibrated 2000-12)",
}


def _corr(a: pd.Series, b: pd.Series) -> float:
    df = pd.concat([a, b], axis=1).dropna()
    return float(df.iloc[:, 0].corr(df.iloc[:, 1])) if len(df) > 2 else np.nan


def render_validation(
    series: pd.DataFrame,
    event_dates,
    out_dir,
    *,
    oos_start="2013-01-01",
    name="cta_validation",
    window: int = 60,
) -> style.ChartOutput:
    """Implied exposure (the `window`-session slope, +-2 se) vs each replica's held position."""
    s = series.copy()
    s.index = pd.DatetimeIndex(s.index)
    oos = s.loc[pd.Timestamp(oos_start) :]
    models = [m for m in MODEL_LABELS if f"{m}_position" in s.columns]
    numbers = {f"oos_corr_{m}": _corr(oos[f"{m}_position"], oos["implied"]) for m in models} | {
        f"oos_lens_corr_{m}": _corr(oos[f"{m}_lens"], oos["implied"]) for m in models
    }
    colors = {"replica": style.MODEL, "replica_calibrated": style.ALT}
    with style.style_context():
        fig = style.figure()
        ax = fig.add_axes((0.065, 0.12, 0.9, 0.7))
        band = 2 * s["implied_se"]
        ax.fill_between(s.index, s["implied"] - band, s["implied"] + band, color=style.GRID,
                        lw=0, label="implied exposure +-2 standard errors")  # fmt: skip
        for m in models:
            ax.plot(s.index, s[f"{m}_position"], color=colors[m], lw=0.8, alpha=0.9,
                    label=f"{MODEL_LABELS[m]}: position (out-of-sample corr {numbers[f'oos_corr_{m}']:+.2f})")  # fmt: skip
        ax.plot(s.index, s["implied"], color=style.INK, lw=1.3,
                label=f"SG Trend implied S&P 500 exposure ({window}-session OLS slope, data)")  # fmt: skip
        ax.axhline(0, color=style.MUTED, lw=0.8, ls=":")
        ax.axvline(pd.Timestamp(oos_start), color=style.ALT2, lw=1.0, ls="--")
        ax.text(pd.Timestamp(oos_start), 1.02, " out of sample ->", color=style.ALT2, fontsize=8.5,
                va="bottom", transform=ax.get_xaxis_transform())  # fmt: skip
        shown = [
            pd.Timestamp(d)
            for d in event_dates
            if s.index.min() <= pd.Timestamp(d) <= s.index.max()
        ]
        for d in shown:
            ax.axvline(d, color=style.EVENT, lw=0.9, alpha=0.6)
        if shown:
            ax.plot(
                [], [], color=style.EVENT, lw=0.9, alpha=0.6, label="gap-up, close-red event days"
            )
        ax.set_ylim(-1.6, 1.15)
        ax.set_ylabel("S&P 500 exposure (position, or beta of daily returns)")
        style.date_axis(ax, "%Y")
        ax.legend(loc="lower left", ncols=2, fontsize=8)
        style.header(
            fig,
            "Is the replica real? Its position vs the equity exposure implied by SG Trend's returns",
            f"Implied: trailing {window}-session OLS slope of SG Trend daily returns on S&P 500 returns, "
            f"{style.span(s.index.min(), s.index.max())}. Replica: the model's position held each session.",
        )
    last = s.dropna(subset=["implied"]).iloc[-1]
    meta = style.ChartMeta(
        title="Replica position vs CTA equity exposure implied by SG Trend returns",
        caption=(
            f"Out of sample (2013 on), the correlation of the held position with SG Trend's {window}-session "
            "implied exposure is "
            + ", ".join(f"{numbers[f'oos_corr_{m}']:+.2f} ({MODEL_LABELS[m]})" for m in models)
            + f"; through the same {window}-session regression the default replica reaches "
            + (f"{numbers['oos_lens_corr_replica']:+.2f}" if "replica" in models else "n/a")
            + f". Latest implied exposure {last['implied']:.2f} on {s.dropna(subset=['implied']).index[-1].date()}."
        ),
        data_span=style.span(s.index.min(), s.index.max()),
        sources=[
            "SG Trend Index daily levels (snapshot, bpineau/pofo)",
            "^GSPC daily closes (snapshot)",
        ],
        kind="mixed",
    )
    return style.save(fig, out_dir, name, meta, numbers)


def _drawdown(r: pd.Series) -> pd.Series:
    eq = (1 + r.fillna(0.0)).cumprod()
    return eq / np.maximum.accumulate(np.maximum(eq, 1.0)) - 1


def render_tearsheet(
    returns: pd.DataFrame, metrics: pd.DataFrame, out_dir, *, name="backtest_tearsheet"
) -> style.ChartOutput:
    """Equity and drawdown (replica vs buy-and-hold, full span and vs SG Trend since 2000) and
    the event trades' mean net return against the random-entry 5-95% range."""
    r = returns.copy()
    r.index = pd.DatetimeIndex(r.index)
    full = [c for c in ("replica", "replica_calibrated", "buy_and_hold", "buy_and_hold_price")
            if c in r.columns]  # fmt: skip
    colors = {"replica": style.MODEL, "replica_calibrated": style.ALT, "buy_and_hold": style.BASE,
              "buy_and_hold_price": style.MUTED, "sg_trend_index": style.INK}  # fmt: skip
    labels = {**MODEL_LABELS, "buy_and_hold": "buy-and-hold, total return",
              "buy_and_hold_price": "S&P 500 price only (no dividends)",
              "sg_trend_index": "SG Trend Index (net, data)"}  # fmt: skip
    m = metrics.set_index(["strategy", "period"])
    with style.style_context():
        fig = style.figure((11.0, 8.2))
        axes = fig.subplots(2, 2, gridspec_kw={"left": 0.07, "right": 0.98, "top": 0.86,
                                               "bottom": 0.07, "hspace": 0.32, "wspace": 0.2})  # fmt: skip
        (a_eq, a_cmp), (a_dd, a_ev) = axes
        span = r[full].dropna(how="all")
        for c in sorted(full, key=lambda c: not c.startswith("buy_and_hold")):  # replicas on top
            eq = (1 + span[c].fillna(0.0)).cumprod()
            cagr = m.loc[(c, "full"), "cagr"] if (c, "full") in m.index else np.nan
            a_eq.plot(
                eq.index, eq, color=colors[c], lw=1.1, label=f"{labels[c]} ({cagr:+.1%} a year)"
            )
            a_dd.plot(
                span.index, 100 * _drawdown(span[c]), color=colors[c], lw=0.8, label=labels[c]
            )
        a_eq.set_yscale("log")
        a_eq.minorticks_off()
        a_eq.set_title("Growth of $1 since the replica's first position (log scale)")
        a_eq.legend(loc="upper left", fontsize=7.5)
        a_dd.set_title("Drawdown from the running peak")
        style.pct_axis(a_dd)
        a_dd.legend(loc="lower right", fontsize=7.5)
        cmp_cols = [c for c in ("sg_trend_index", *full) if c in r.columns]
        sg = (
            r["sg_trend_index"].dropna()
            if "sg_trend_index" in r.columns
            else pd.Series(dtype=float)
        )
        common = r.loc[sg.index.min() : sg.index.max(), cmp_cols] if len(sg) else r[cmp_cols]
        for c in cmp_cols:
            eq = (1 + common[c].fillna(0.0)).cumprod()
            a_cmp.plot(eq.index, eq, color=colors[c], lw=1.1, label=labels[c])
        a_cmp.set_title("Common span with SG Trend (rebased to 1)")
        a_cmp.legend(loc="upper left", fontsize=7.5)
        for ax in (a_eq, a_dd, a_cmp):
            style.date_axis(ax, "%Y")
        ev = metrics[metrics["strategy"].str.startswith("event_")].reset_index(drop=True)
        x = np.arange(len(ev))
        benchmarks = [("random_", -0.12, style.MUTED, "any day")]
        if "vix_matched_mean_p50" in ev and ev["vix_matched_mean_p50"].notna().any():
            benchmarks.append(
                ("vix_matched_", 0.12, style.BASE, "days in the event's VIX quintile")
            )
        for prefix, dx, color, what in benchmarks:
            mid = ev[prefix + "mean_p50"]
            a_ev.errorbar(x + dx, 100 * mid, fmt="o", color=color, capsize=4,
                          yerr=[100 * (mid - ev[prefix + "mean_p05"]), 100 * (ev[prefix + "mean_p95"] - mid)],
                          label=f"random entries, {what}: median, 5-95%")  # fmt: skip
        a_ev.scatter(x, 100 * ev["mean_trade"], color=style.EVENT, zorder=5, s=30,
                     label="event trades: mean net return")  # fmt: skip
        a_ev.set_xticks(x, [f"{e.replace('next_open', 'open')}\nT+{int(h)}" for e, h in
                            zip(ev["entry"], ev["horizon"], strict=True)], fontsize=8)  # fmt: skip
        a_ev.axhline(0, color=style.MUTED, lw=0.8, ls=":")
        style.pct_axis(a_ev)
        n = int(ev["n_trades"].max()) if len(ev) else 0
        top = np.nanmax([100 * ev["mean_trade"].max(), 0.5]
                        + [100 * ev[p + "mean_p95"].max() for p, *_ in benchmarks])  # fmt: skip
        a_ev.set_ylim(top=top * 1.45)
        a_ev.set_title(f"Event signal as a strategy ({n} trades) vs random entries")
        a_ev.legend(loc="upper left", fontsize=7.5)
        style.header(
            fig,
            "Backtests: the CTA replica as a strategy, and the event signal as a strategy",
            "Replica: position at t-1 x total return + cash (fed funds; 0 before 1954-07) - costs. "
            "Event: buy at the next open (or the close), hold k sessions, costs both ways.",
        )
    rows = {k: m.loc[k] for k in m.index if k[1] in ("full", "common")}
    numbers = {f"{s}_{p}_cagr": float(v["cagr"]) for (s, p), v in rows.items()}
    meta = style.ChartMeta(
        title="Backtest tear sheet: replica vs buy-and-hold and SG Trend; event trades vs random entries",
        caption=(
            "Replica (default) since its first position: "
            + (
                f"CAGR {m.loc[('replica', 'full'), 'cagr']:+.1%}, max drawdown "
                f"{m.loc[('replica', 'full'), 'max_drawdown']:.1%}"
                if ("replica", "full") in m.index
                else "n/a"
            )  # fmt: skip
            + "; total-return buy-and-hold "
            + (
                f"{m.loc[('buy_and_hold', 'full'), 'cagr']:+.1%}, {m.loc[('buy_and_hold', 'full'), 'max_drawdown']:.1%}"
                if ("buy_and_hold", "full") in m.index
                else "n/a"
            )  # fmt: skip
            + ". Event trades are few: read the random-entry ranges (any day, and days in the "
            "event's VIX quintile: events fall in stressed markets), not a t-stat."
        ),
        data_span=style.span(span.index.min(), span.index.max()) if len(span) else "-",
        sources=[
            "^GSPC daily (snapshot)",
            "Fama-French daily factors to 2022-03-31, then SPY adjusted (snapshot)",
            "SG Trend Index (snapshot)",
            "DFF fed funds (snapshot)",
        ],  # fmt: skip
        kind="mixed",
    )
    return style.save(fig, out_dir, name, meta, numbers)
