"""Chart 1 - liquidity: what 5-minute SPY bars measure, and the notes' book depth through a model.

Measured (from bars): price impact per dollar traded, Amihud-style, per 5-minute bar:
``impact = |r_bar| / (volume * close)`` with ``r_bar`` the bar's close-to-close return (the
first bar of a session uses its own open), reported in basis points per $100M traded. The event
day is compared with the trailing ``baseline_sessions`` sessions before it.

Model (not measured): a linear "walk the book" model of an order against top-of-book depth.
With ``D`` dollars resting at each price level and a tick of ``tick_bp`` basis points, a market
order of ``Q`` dollars consumes ``Q / D`` levels; its average fill is ``tick_bp / 2`` (crossing
half the spread) plus ``tick_bp * Q / (2 D)`` away from the touch, and the touch moves
``tick_bp * Q / D``. Under this model slippage per dollar scales with ``1 / D``, so an observed
ratio of impact per dollar is an effective-depth ratio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.charts import style

DEPTHS_USD = {
    "$5M (notes: on the day)": 5e6,
    "$11M (notes: 2025 average)": 11e6,
    "$20M+ (notes: ample)": 20e6,
}
ES_TICK_POINTS = 0.25  # E-mini S&P 500 tick, index points
PER_USD = 1e8  # report impact per $100M traded


def bar_impact(bars: pd.DataFrame) -> pd.DataFrame:
    """Per-bar |return|, dollar volume and impact (bp per $100M) for intraday bars.

    ``bars``: tz-aware DatetimeIndex, columns open/close/volume. Bars with zero or missing
    volume get NaN impact. Returns columns session, time, ret, dollar_volume, impact_bp_per_100m.
    """
    df = bars[["open", "close", "volume"]].astype(float).copy()
    session = (
        df.index.tz_localize(None).normalize() if df.index.tz is not None else df.index.normalize()
    )
    df["session"] = session
    df["time"] = df.index.strftime("%H:%M")
    prev = df.groupby("session")["close"].shift(1)
    prev = prev.fillna(df["open"])
    df["ret"] = df["close"] / prev - 1.0
    df["dollar_volume"] = df["volume"] * df["close"]
    dv = df["dollar_volume"].where(df["dollar_volume"] > 0)
    df["impact_bp_per_100m"] = df["ret"].abs() / dv * 1e4 * PER_USD
    return df[["session", "time", "ret", "dollar_volume", "impact_bp_per_100m"]]


def session_impact(per_bar: pd.DataFrame) -> pd.DataFrame:
    """Per session: median bar impact, Amihud ratio (sum |r| / sum $ volume) and $ volume."""
    g = per_bar.groupby("session")
    out = pd.DataFrame(
        {
            "median_bar_impact": g["impact_bp_per_100m"].median(),
            "amihud_bp_per_100m": g["ret"].apply(lambda r: r.abs().sum())
            / g["dollar_volume"].sum()
            * 1e4
            * PER_USD,
            "dollar_volume": g["dollar_volume"].sum(),
            "bars": g.size(),
        }
    )
    return out


def event_vs_baseline(bars: pd.DataFrame, event_day, baseline_sessions: int = 20) -> dict:
    """Impact on the event day vs the trailing baseline sessions (all numbers the chart states)."""
    per_bar = bar_impact(bars)
    day = pd.Timestamp(event_day).normalize()
    sessions = sorted(per_bar["session"].unique())
    if day not in set(sessions):
        raise KeyError(f"event day {day.date()} is not covered by the intraday bars")
    i = sessions.index(day)
    base_days = sessions[max(0, i - baseline_sessions) : i]
    if not base_days:
        raise ValueError(f"no sessions before {day.date()} for a baseline")
    ev = per_bar[per_bar["session"] == day]
    base = per_bar[per_bar["session"].isin(base_days)]
    sess = session_impact(per_bar[per_bar["session"].isin([*base_days, day])])
    profile = base.groupby("time")["impact_bp_per_100m"].quantile([0.25, 0.5, 0.75]).unstack()
    profile.columns = ["q25", "median", "q75"]
    ev_profile = ev.set_index("time")["impact_bp_per_100m"]
    ev_median = float(ev["impact_bp_per_100m"].median())
    base_median = float(sess.loc[base_days, "median_bar_impact"].median())
    return {
        "event_day": day,
        "baseline_days": base_days,
        "profile": profile,
        "event_profile": ev_profile,
        "sessions": sess,
        "event_median_impact": ev_median,
        "baseline_median_impact": base_median,
        "impact_ratio": ev_median / base_median if base_median > 0 else float("nan"),
        "event_amihud": float(sess.loc[day, "amihud_bp_per_100m"]),
        "baseline_amihud": float(sess.loc[base_days, "amihud_bp_per_100m"].median()),
        "event_dollar_volume": float(sess.loc[day, "dollar_volume"]),
        "baseline_dollar_volume": float(sess.loc[base_days, "dollar_volume"].median()),
    }


def book_walk_slippage_bp(order_usd, depth_usd: float, tick_bp: float) -> np.ndarray:
    """Linear book-walk model: average slippage (bp vs the mid) of a market order of ``order_usd``."""
    q = np.asarray(order_usd, dtype=float)
    return tick_bp / 2.0 + tick_bp * q / (2.0 * depth_usd)


def render(
    bars: pd.DataFrame,
    event_day,
    out_dir,
    *,
    index_level: float,
    baseline_sessions: int = 20,
    name: str = "liquidity_depth",
    source: str = "SPY 5-minute bars (IBKR, raw), snapshot",
) -> style.ChartOutput:
    r = event_vs_baseline(bars, event_day, baseline_sessions)
    day = r["event_day"]
    tick_bp = ES_TICK_POINTS / index_level * 1e4
    b0, b1 = r["baseline_days"][0], r["baseline_days"][-1]
    orders = np.geomspace(1e6, 5e8, 200)
    with style.style_context():
        fig = style.figure()
        gs = fig.add_gridspec(
            1,
            2,
            left=0.065,
            right=0.985,
            top=0.83,
            bottom=0.15,
            wspace=0.22,
            width_ratios=[1.15, 1],
        )
        ax = fig.add_subplot(gs[0])
        prof = r["profile"]
        x = np.arange(len(prof))
        smooth = {"window": 6, "center": True, "min_periods": 3}
        ax.fill_between(
            x,
            prof["q25"].rolling(**smooth).median(),
            prof["q75"].rolling(**smooth).median(),
            color=style.BASE,
            alpha=0.18,
            lw=0,
            label=f"baseline IQR ({len(r['baseline_days'])} sessions)",
        )
        ax.plot(
            x,
            prof["median"].rolling(**smooth).median(),
            color=style.BASE,
            lw=1.8,
            label="baseline median",
        )
        ev = r["event_profile"].reindex(prof.index)
        ax.scatter(
            x, ev.values, color=style.EVENT, s=7, alpha=0.45, lw=0, label=f"{day.date()}, each bar"
        )
        ax.plot(
            x,
            ev.rolling(**smooth).median().values,
            color=style.EVENT,
            lw=1.8,
            label=f"{day.date()} (event day)",
        )
        ax.set_yscale("log")
        ticks = [i for i, t in enumerate(prof.index) if t.endswith(":30")]
        ax.set_xticks(ticks, [prof.index[i] for i in ticks], rotation=0)
        ax.set_xlabel("5-minute bar start (ET)")
        ax.set_ylabel("|bar return| per $100M traded (bp, log scale)")
        ax.set_title("MEASURED: price impact per dollar, SPY 5-minute bars", loc="left")
        ax.legend(
            loc="upper right",
            ncols=2,
            title="lines: 30-minute rolling median of bars",
            title_fontsize=8,
        )
        style.note_box(
            ax,
            f"median bar impact: event {r['event_median_impact']:.2f} bp vs baseline {r['baseline_median_impact']:.2f} bp"
            f"  (x{r['impact_ratio']:.2f})\n"
            f"session Amihud: event {r['event_amihud']:.3f} vs baseline median {r['baseline_amihud']:.3f} bp/$100M\n"
            f"$ volume in bars: event ${r['event_dollar_volume'] / 1e9:.1f}bn vs baseline median ${r['baseline_dollar_volume'] / 1e9:.1f}bn",
            loc="lower left",
            fontsize=8,
        )

        ax2 = fig.add_subplot(gs[1])
        colors = [style.EVENT, style.BASE, style.ALT]
        for (label, depth), c in zip(DEPTHS_USD.items(), colors, strict=True):
            ax2.plot(
                orders / 1e6,
                book_walk_slippage_bp(orders, depth, tick_bp),
                color=c,
                lw=1.8,
                ls="--",
                label=f"model, depth {label}",
            )
        q100 = 1e8
        s5, s11 = (float(book_walk_slippage_bp(q100, d, tick_bp)) for d in (5e6, 11e6))
        ax2.scatter(
            [100], [10.0], marker="o", facecolors="none", edgecolors=style.INK, s=50, zorder=5
        )
        ax2.scatter(
            [100], [50.0], marker="s", facecolors="none", edgecolors=style.INK, s=50, zorder=5
        )
        ax2.annotate(
            "notes: $100M moves index ~0.1% normally",
            (100, 10.0),
            xytext=(1.2, 5.5),
            fontsize=8,
            arrowprops={"arrowstyle": "-", "color": style.MUTED},
        )
        ax2.annotate(
            "notes: 0.5%+ slippage at $5M depth",
            (100, 50.0),
            xytext=(1.2, 30),
            fontsize=8,
            arrowprops={"arrowstyle": "-", "color": style.MUTED},
        )
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_xlabel("market order size ($M, log scale)")
        ax2.set_ylabel("average slippage vs mid (bp, log scale)")
        ax2.set_title("MODEL: linear book walk at the notes' depths", loc="left")
        ax2.set_ylim(0.02, 400)  # the note box sits under the curves, not on them
        ax2.legend(loc="upper left")
        style.note_box(
            ax2,
            f"slippage = tick/2 + tick x Q / (2 D); tick = 0.25 ES pt = {tick_bp:.2f} bp at {index_level:,.0f}\n"
            f"$100M order: {s5:.1f} bp at $5M, {s11:.1f} bp at $11M depth\n"
            f"model impact per $ ratio $5M vs $11M: x{11 / 5:.2f}; measured above: x{r['impact_ratio']:.2f}",
            loc="lower right",
            fontsize=8,
        )
        style.header(
            fig,
            f"Liquidity on {day.date()}: measured impact per dollar vs a depth model",
            f"Left: {day.date()} vs the {len(r['baseline_days'])} sessions {b0.date()}..{b1.date()} ({source}). "
            "Right: model curves, not data.",
            # \\$ prints a plain $ (two unescaped dollars would be read as mathtext)
            footer="Depth figures (\\$5M / \\$11M / \\$20M+ top-of-book, S&P futures) are quoted from the research notes (doc 002 §1.2.1), not measured here; "
            "no order-book data is shipped. Bar volume is IBKR's (below consolidated volume).",
        )
    meta = style.ChartMeta(
        title=f"Liquidity: measured impact per dollar on {day.date()} and the notes' book depth through a model",
        caption=(
            f"Median 5-minute price impact in SPY on {day.date()} was {r['event_median_impact']:.2f} bp per $100M traded, "
            f"x{r['impact_ratio']:.2f} the median of the {len(r['baseline_days'])} prior sessions ({r['baseline_median_impact']:.2f} bp). "
            f"Under a linear book-walk model, the notes' drop in depth from $11M to $5M implies x{11 / 5:.2f} the impact per dollar; "
            f"a $100M order slips {s5:.1f} bp at $5M depth and {s11:.1f} bp at $11M."
        ),
        data_span=style.span(b0, day),
        sources=[
            f"{source}: sessions {b0.date()}..{day.date()}",
            "Research notes doc 002 §1.2.1: book depth $5M / $11M / $20M+ (quoted)",
        ],
        kind="mixed",
        offline_note="Top-of-book depth for S&P 500 futures is not in any shipped file (it needs CME market-depth data, e.g. CME DataMine MBP); "
        "the depth curves are a model driven by the notes' figures.",
    )
    numbers = {
        k: r[k]
        for k in (
            "event_median_impact",
            "baseline_median_impact",
            "impact_ratio",
            "event_amihud",
            "baseline_amihud",
        )
    }
    numbers.update({"tick_bp": tick_bp, "slip_100m_5m": s5, "slip_100m_11m": s11})
    return style.save(fig, out_dir, name, meta, numbers)
