"""Chart 5 - the December 2025 rate-cut probability, daily, plus the FedWatch arithmetic applied
to the shipped fed funds futures bars.

Main series: ``fomc_prob_next_meeting`` (a third-party FedWatch-style reconstruction from ZQ
closes). Its rows are dated one trading day after the futures information they use (see
SOURCES.md), so each row is plotted at ``zq_info_asof_approx``, not at ``Date``.
Cross-check: Polymarket and Kalshi "no change" mid prices; P(cut) ~= 1 - P(hold) since the 50 bp
and hike outcomes were near zero. Each day's value is the last quote at or before 15:00 ET.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

import pandas as pd

from eventlab.charts import style
from eventlab.rates.fedwatch import meeting_odds

MEETING = "2025-12-10"


class _Quote(TypedDict):
    date: str
    p_cut: float
    source: str


_Range = TypedDict("_Range", {"from": float, "to": float, "source": str})

# The research notes' quoted probabilities of a December cut.
NOTES_QUOTES: tuple[_Quote, ...] = (
    {
        "date": "2025-11-18",
        "p_cut": 0.30,
        "source": "doc 001 (published 2025-11-21): 'by Tuesday already down to 30%'",
    },
)
NOTES_RANGE: _Range = {
    "from": 0.50,
    "to": 0.35,
    "source": "doc 004 §2.3.1: 'from 50% to 35%' (no dates given)",
}


def futures_implied_cut(prob: pd.DataFrame, meeting: str = MEETING) -> pd.DataFrame:
    """Rows for one meeting, re-dated to the information date, with p_cut = p_cut25 + p_cut50."""
    df = prob[prob["meeting_date"].astype(str) == meeting].copy()
    df["info_date"] = pd.to_datetime(df["zq_info_asof_approx"])
    df["row_date"] = pd.to_datetime(df["Date"])
    df["p_cut"] = df[[c for c in ("p_cut25", "p_cut50") if c in df]].sum(axis=1)
    return df.set_index("info_date").sort_index()[["row_date", "p_cut", "p_hold"]]


def market_daily_cut(markets: pd.DataFrame, at: str = "15:00") -> pd.DataFrame:
    """Polymarket / Kalshi P(cut) = 1 - mid(hold), last quote at or before `at` ET each day."""
    ts = pd.to_datetime(markets["timestamp_et"], utc=True).dt.tz_convert("America/New_York")
    df = pd.DataFrame(
        {
            "ts": ts,
            "poly": 1.0 - markets["poly_mid_hold"].to_numpy(),
            "kalshi": 1.0 - markets["kalshi_mid_hold"].to_numpy(),
        }
    )
    hh, mm = (int(x) for x in at.split(":"))
    df = df[(df["ts"].dt.hour * 60 + df["ts"].dt.minute) <= hh * 60 + mm]
    df["day"] = df["ts"].dt.tz_localize(None).dt.normalize()
    return df.sort_values("ts").groupby("day")[["poly", "kalshi"]].last()


def market_intraday_cut(markets: pd.DataFrame) -> pd.DataFrame:
    ts = (
        pd.to_datetime(markets["timestamp_et"], utc=True)
        .dt.tz_convert("America/New_York")
        .dt.tz_localize(None)
    )
    return pd.DataFrame(
        {
            "poly": 1.0 - markets["poly_mid_hold"].to_numpy(),
            "kalshi": 1.0 - markets["kalshi_mid_hold"].to_numpy(),
        },
        index=ts,
    ).sort_index()


def zq_meeting_series(
    zq: pd.DataFrame,
    meeting: dt.date,
    meeting_month: str,
    next_month: str,
    traded_only: bool = True,
) -> pd.DataFrame:
    """FedWatch odds for a meeting on every date both contracts have a bar (forward method)."""
    z = zq.copy()
    z["Date"] = pd.to_datetime(z["Date"])
    a = z[z["contract_month"] == meeting_month].set_index("Date")
    b = z[z["contract_month"] == next_month].set_index("Date")
    both = a[["Close", "Volume"]].join(
        b[["Close", "Volume"]], lsuffix="_m", rsuffix="_n", how="inner"
    )
    if traded_only:
        both = both[(both["Volume_m"] > 0) & (both["Volume_n"] > 0)]
    both = both[both.index < pd.Timestamp(meeting)]
    rows = []
    for d, r in both.iterrows():
        o = meeting_odds(
            meeting, float(r["Close_m"]), next_month_price=float(r["Close_n"]), method="forward"
        )
        rows.append(
            {
                "date": d,
                "pre_rate": o.pre_rate,
                "post_rate": o.post_rate,
                "p_cut": o.p_cut,
                "p_hold": o.p_hold,
                "p_hike": o.p_hike,
            }
        )
    return (
        pd.DataFrame(rows).set_index("date")
        if rows
        else pd.DataFrame(columns=["pre_rate", "post_rate", "p_cut", "p_hold", "p_hike"])
    )


def render(
    prob: pd.DataFrame,
    markets: pd.DataFrame,
    zq: pd.DataFrame | None,
    out_dir,
    *,
    meeting: str = MEETING,
    name: str = "rate_cut_probability",
) -> style.ChartOutput:
    fut = futures_implied_cut(prob, meeting)
    mk_daily = market_daily_cut(markets)
    mk_intra = market_intraday_cut(markets)
    numbers: dict = {}
    # agreement of the re-dated series with Polymarket at 15:00 ET, and of the undated one
    j = fut[["p_cut"]].join(mk_daily, how="inner")
    j_raw = fut.set_index("row_date")[["p_cut"]].join(mk_daily, how="inner")
    if len(j):
        numbers["mae_poly_pp_lag_corrected"] = float((j["p_cut"] - j["poly"]).abs().mean() * 100)
        numbers["mae_poly_pp_as_dated"] = float((j_raw["p_cut"] - j_raw["poly"]).abs().mean() * 100)
        numbers["common_days"] = len(j)
    zq_series = None
    if zq is not None and len(zq):
        zq_series = zq_meeting_series(zq, dt.date(2026, 7, 29), "2026-07", "2026-08")
    with style.style_context():
        fig = style.figure((11.0, 6.2))
        gs = fig.add_gridspec(
            1, 2, left=0.065, right=0.985, top=0.83, bottom=0.12, wspace=0.2, width_ratios=[1.75, 1]
        )
        ax = fig.add_subplot(gs[0])
        ax.plot(mk_intra.index, mk_intra["poly"] * 100, color=style.ALT, lw=0.6, alpha=0.35)
        ax.plot(mk_intra.index, mk_intra["kalshi"] * 100, color=style.ALT2, lw=0.6, alpha=0.35)
        ax.plot(
            fut.index,
            fut["p_cut"] * 100,
            color=style.BASE,
            lw=2.0,
            marker="o",
            ms=3.5,
            label="futures-implied (FedWatch-style), plotted at its information date",
        )
        ax.plot(
            mk_daily.index + pd.Timedelta(hours=15),
            mk_daily["poly"] * 100,
            color=style.ALT,
            lw=1.4,
            marker="s",
            ms=3.5,
            label="Polymarket 1 - P(no change), 15:00 ET (thin: every 30 min)",
        )
        ax.plot(
            mk_daily.index + pd.Timedelta(hours=15),
            mk_daily["kalshi"] * 100,
            color=style.ALT2,
            lw=1.4,
            marker="^",
            ms=3.5,
            label="Kalshi 1 - P(hold), 15:00 ET",
        )
        for q in NOTES_QUOTES:
            d = pd.Timestamp(q["date"]) + pd.Timedelta(hours=15)
            ax.scatter(
                [d],
                [q["p_cut"] * 100],
                s=130,
                marker="*",
                color=style.EVENT,
                zorder=8,
                label="notes' quoted value",
            )
            ax.annotate(
                q["source"],
                (d, q["p_cut"] * 100),
                xytext=(-10, -38),
                textcoords="offset points",
                fontsize=7.5,
                ha="center",
                color=style.EVENT,
                arrowprops={"arrowstyle": "-", "color": style.EVENT},
            )
        for lvl in (NOTES_RANGE["from"], NOTES_RANGE["to"]):
            ax.axhline(lvl * 100, color=style.EVENT, lw=0.9, ls=":")
        ax.text(
            fut.index.min(),
            NOTES_RANGE["to"] * 100 + 1.2,
            NOTES_RANGE["source"],
            fontsize=7.5,
            color=style.EVENT,
        )
        ax.axvline(pd.Timestamp("2025-11-20"), color=style.MUTED, lw=0.9, ls="--")
        ax.text(
            pd.Timestamp("2025-11-20"),
            96,
            " event day 11-20",
            fontsize=7.5,
            color=style.MUTED,
            ha="left",
            va="top",
        )
        ax.set_ylim(0, 100)
        ax.set_ylabel("probability of a cut at the 2025-12-10 meeting (%)")
        style.pct_axis(ax, decimals=0)
        ax.set_xlim(
            fut.index.min() - pd.Timedelta(days=1), pd.Timestamp(meeting) + pd.Timedelta(days=1)
        )
        style.date_axis(ax, "%m-%d")
        ax.set_xlabel("date (2025)")
        ax.legend(loc="lower left", fontsize=7.5)
        low = fut["p_cut"].idxmin()
        numbers.update(
            {
                "futures_low": float(fut["p_cut"].min()),
                "futures_low_info_date": str(low.date()),
                "futures_first": float(fut["p_cut"].iloc[0]),
                "futures_last": float(fut["p_cut"].iloc[-1]),
            }
        )
        if "mae_poly_pp_lag_corrected" in numbers:
            style.note_box(
                ax,
                f"futures-implied vs Polymarket at 15:00 ET, {numbers['common_days']} common days:\n"
                f"mean abs. gap {numbers['mae_poly_pp_lag_corrected']:.1f} pp re-dated vs {numbers['mae_poly_pp_as_dated']:.1f} pp as dated\n"
                f"futures low: {numbers['futures_low']:.0%} on {low.date()}",
                loc="upper left",
                xy=(0.22, 0.975),
                fontsize=7.5,
            )
        ax.set_title("December 2025 meeting: cut probability by day", loc="left", fontsize=10)

        ax2 = fig.add_subplot(gs[1])
        if zq_series is not None and len(zq_series):
            zs = zq_series.loc[zq_series.index >= zq_series.index.max() - pd.Timedelta(days=120)]
            ax2.plot(zs.index, zs["p_hike"] * 100, color=style.DOWN, lw=1.5, label="P(hike 25 bp)")
            ax2.plot(zs.index, zs["p_cut"] * 100, color=style.BASE, lw=1.5, label="P(cut 25 bp)")
            ax2.plot(
                zs.index, zs["p_hold"] * 100, color=style.MUTED, lw=1.2, ls="--", label="P(hold)"
            )
            ax2.set_ylim(0, 100)
            style.pct_axis(ax2, decimals=0)
            style.date_axis(ax2, "%m-%d")
            ax2.set_xlabel("date (2026), traded days only")
            ax2.set_ylabel("probability (%)")
            ax2.legend(loc="center left", fontsize=7.5)
            last = zs.iloc[-1]
            numbers["zq_2026_07_29"] = {
                "date": str(zs.index[-1].date()),
                **{
                    k: float(last[k])
                    for k in ("pre_rate", "post_rate", "p_cut", "p_hold", "p_hike")
                },
            }
            style.note_box(
                ax2,
                f"{zs.index[-1].date()}: pre {last['pre_rate']:.3f}%, post {last['post_rate']:.3f}%\n"
                f"P(hold) {last['p_hold']:.0%}, P(hike) {last['p_hike']:.0%}, P(cut) {last['p_cut']:.0%}",
                loc="upper right",
                fontsize=7.5,
            )
        else:
            ax2.text(0.5, 0.5, "no ZQ bars", ha="center", va="center", transform=ax2.transAxes)
        ax2.set_title(
            "FedWatch arithmetic on shipped ZQ bars:\n2026-07-29 meeting (ZQN26 + ZQQ26)",
            loc="left",
            fontsize=10,
        )
        style.header(
            fig,
            "December 2025 rate-cut odds: futures-implied vs prediction markets vs the notes",
            "Left: FOMC_PROB_NEXT_MEETING (third-party FedWatch-style model on ZQ closes), re-dated one trading day earlier for its lag;\n"
            f"Polymarket/Kalshi quotes {mk_intra.index.min().date()}..{mk_intra.index.max().date()}. "
            "Right: this project's FedWatch function on IBKR ZQ daily bars.",
        )
    meta = style.ChartMeta(
        title="December 2025 rate-cut probability, daily (futures-implied, prediction markets, notes' quotes)",
        caption=(
            f"Futures-implied odds of a December 2025 cut went from {numbers['futures_first']:.0%} to a low of {numbers['futures_low']:.0%} "
            f"(information date {numbers['futures_low_info_date']}) and ended at {numbers['futures_last']:.0%} before the meeting, which cut 25 bp. "
            + (
                f"Re-dated for the documented one-day lag, they differ from Polymarket by {numbers['mae_poly_pp_lag_corrected']:.1f} pp on average "
                f"({numbers['mae_poly_pp_as_dated']:.1f} pp without the correction). "
                if "mae_poly_pp_lag_corrected" in numbers
                else ""
            )
            + "The notes' 30% (doc 001) and 50% -> 35% (doc 004) are marked."
        ),
        data_span=style.span(fut.index.min(), fut.index.max()),
        sources=[
            f"FOMC_PROB_NEXT_MEETING_2008-2025.csv rows for the {meeting} meeting, dated {fut['row_date'].min().date()}..{fut['row_date'].max().date()}",
            f"FOMC_DEC2025_HOLD_POLYMARKET_KALSHI_30MIN.csv {mk_intra.index.min()}..{mk_intra.index.max()} ET",
            "ZQ_IBKR_2026-07_2028-07.csv (ZQN26, ZQQ26 daily bars) for the FedWatch panel",
            "Research notes: doc 001, doc 004 §2.3.1 (quoted probabilities)",
        ],
        kind="mixed",
        offline_note="No ZQZ25/ZQF26 prices or official CME FedWatch history for the December 2025 meeting are shipped (Yahoo returns nothing for "
        "those expired contracts); the live path prices any current meeting from yfinance ZQ contract closes with eventlab.rates.fedwatch.",
    )
    return style.save(fig, out_dir, name, meta, numbers)
