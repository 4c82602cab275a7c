"""Chart 2 - event-day intraday reversal: NVDA vs S&P 500 on 5-minute bars, vs the prior close.

Each series is normalized to its own prior close: ``close_bar / prior_close - 1``. For the S&P
500 the prior close is the official daily close (the index is not adjusted); for NVDA it is the
last 5-minute close of the previous session (the 5-minute bars are raw prices while the daily
NVDA series is dividend-adjusted, so mixing them would shift the level).
"""

from __future__ import annotations

import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from eventlab.charts import style


def _session(df: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    idx = df.index.tz_localize(None) if df.index.tz is not None else df.index
    return df[idx.normalize() == day]


def _prev_session_close(df: pd.DataFrame, day: pd.Timestamp) -> float | None:
    idx = df.index.tz_localize(None) if df.index.tz is not None else df.index
    before = df[idx.normalize() < day]
    return float(before["close"].iloc[-1]) if len(before) else None


def normalized_session(bars: pd.DataFrame, day, prior_close: float | None = None) -> pd.Series:
    """Percent change of each bar's close vs the prior close, indexed by 'HH:MM' bar start.

    The first point (label '09:30' of the open) is the session's open print vs the prior close,
    so the opening gap is visible.
    """
    d = pd.Timestamp(day).normalize()
    sess = _session(bars, d)
    if sess.empty:
        raise KeyError(f"{d.date()} is not in the intraday bars")
    pc = prior_close if prior_close is not None else _prev_session_close(bars, d)
    if pc is None or not np.isfinite(pc) or pc <= 0:
        raise ValueError(f"no prior close for {d.date()}")
    times = sess.index.strftime("%H:%M")
    end_times = (sess.index + pd.Timedelta(minutes=5)).strftime("%H:%M")
    s = pd.Series((sess["close"].to_numpy() / pc - 1.0) * 100.0, index=end_times)
    s = pd.concat(
        [pd.Series([(float(sess["open"].iloc[0]) / pc - 1.0) * 100.0], index=[times[0]]), s]
    )
    return s


def covered_events(event_dates, *frames: pd.DataFrame) -> list[pd.Timestamp]:
    """Event dates whose session (and a previous session) is in every intraday frame."""
    out = []
    for d in pd.to_datetime(pd.Series(list(event_dates))).dt.normalize():
        ok = True
        for f in frames:
            idx = f.index.tz_localize(None) if f.index.tz is not None else f.index
            days = idx.normalize()
            if not ((days == d).any() and (days < d).any()):
                ok = False
        if ok:
            out.append(pd.Timestamp(d))
    return sorted(out)


def _minutes(labels) -> np.ndarray:
    t = pd.to_datetime(pd.Index(labels), format="%H:%M")
    return (t.hour * 60 + t.minute).to_numpy() - (9 * 60 + 30)


def _panel(ax, spx: pd.Series, nvda: pd.Series, day: pd.Timestamp, big: bool) -> dict:
    ax.axhline(0, color=style.MUTED, lw=0.9, ls=":")
    ax.plot(
        _minutes(spx.index),
        spx.values,
        color=style.BASE,
        lw=1.8 if big else 1.3,
        label="S&P 500 (SPX, 5-min)",
    )
    ax.plot(
        _minutes(nvda.index),
        nvda.values,
        color=style.ALT,
        lw=1.8 if big else 1.3,
        label="NVDA (5-min)",
    )
    ticks = [0, 60, 120, 180, 240, 300, 390] if big else [0, 120, 240, 390]
    labels = {
        0: "09:30",
        60: "10:30",
        120: "11:30",
        180: "12:30",
        240: "13:30",
        300: "14:30",
        390: "16:00",
    }
    ax.set_xticks(ticks, [labels[t] for t in ticks])
    ax.set_xlim(-5, 395)
    stats: dict[str, float | str] = {}
    for name, s in (("spx", spx), ("nvda", nvda)):
        stats[f"{name}_open"] = float(s.iloc[0])
        stats[f"{name}_high"] = float(s.max())
        stats[f"{name}_close"] = float(s.iloc[-1])
        stats[f"{name}_high_time"] = str(s.idxmax())
    if big:
        for name, s, c in (("SPX", spx, style.BASE), ("NVDA", nvda, style.ALT)):
            ax.annotate(
                f"{name} {s.iloc[-1]:+.2f}%",
                (_minutes([s.index[-1]])[0], s.iloc[-1]),
                xytext=(4, 0),
                textcoords="offset points",
                fontsize=8,
                color=c,
                va="center",
            )
    else:
        style.note_box(
            ax,
            f"open SPX {spx.iloc[0]:+.2f}%, NVDA {nvda.iloc[0]:+.2f}%\nlast bar SPX {spx.iloc[-1]:+.2f}%, NVDA {nvda.iloc[-1]:+.2f}%",
            loc="lower left",
            fontsize=7.5,
        )
    ax.set_title(
        f"{day.date()} ({day.strftime('%a')})" + ("  - latest event" if big else ""), loc="left"
    )
    return stats


def render(
    spx_bars: pd.DataFrame,
    nvda_bars: pd.DataFrame,
    event_dates,
    out_dir,
    *,
    spx_daily: pd.DataFrame,
    name: str = "intraday_reversal",
) -> style.ChartOutput:
    days = covered_events(event_dates, spx_bars, nvda_bars)
    span0 = min(spx_bars.index[0], nvda_bars.index[0])
    span1 = max(spx_bars.index[-1], nvda_bars.index[-1])
    if not days:
        meta = style.ChartMeta(
            title="Event-day intraday reversal: NVDA vs S&P 500",
            caption="No event date falls inside the span of the 5-minute bars, so there is nothing to draw.",
            data_span=style.span(span0, span1),
            sources=["SPX_5m, NVDA_5m (IBKR 5-minute bars)"],
            kind="measured",
            offline_note="5-minute bars older than 60 days cannot be had from yfinance; older events need a paid intraday source.",
        )
        return style.placeholder(
            out_dir, name, meta.title, "No event falls inside the 5-minute bar span.", meta
        )
    latest, others = days[-1], days[:-1]
    daily_close = spx_daily["close"]
    series = {}
    for d in days:
        prev = daily_close[daily_close.index < d]
        pc = float(prev.iloc[-1]) if len(prev) else None
        series[d] = (normalized_session(spx_bars, d, pc), normalized_session(nvda_bars, d))
    stats = {}
    with style.style_context():
        fig = style.figure((11.0, 7.4) if others else style.FIGSIZE)
        if others:
            gs = fig.add_gridspec(
                2,
                max(3, len(others)),
                left=0.075,
                right=0.93,
                top=0.86,
                bottom=0.075,
                hspace=0.42,
                wspace=0.22,
                height_ratios=[1.45, 1],
            )
            ax = fig.add_subplot(gs[0, :])
        else:
            gs = fig.add_gridspec(1, 1, left=0.075, right=0.93, top=0.83, bottom=0.1)
            ax = fig.add_subplot(gs[0])
        st = _panel(ax, *series[latest], latest, True)
        stats[str(latest.date())] = st
        ax.set_ylabel("change vs prior close (%)")
        style.pct_axis(ax, decimals=1)
        ax.legend(loc="upper right")
        style.note_box(
            ax,
            f"open: SPX {st['spx_open']:+.2f}%, NVDA {st['nvda_open']:+.2f}%\n"
            f"highest 5-min close: SPX {st['spx_high']:+.2f}% (bar {st['spx_high_time']}), NVDA {st['nvda_high']:+.2f}%\n"
            f"last bar: SPX {st['spx_close']:+.2f}%, NVDA {st['nvda_close']:+.2f}%",
            loc="lower left",
        )
        axes: list[Axes] = []
        for j, d in enumerate(others):
            a = fig.add_subplot(gs[1, j], sharey=axes[0] if axes else None)
            stats[str(d.date())] = _panel(a, *series[d], d, False)
            style.pct_axis(a)
            a.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6, integer=True))
            if j == 0:
                a.set_ylabel("vs prior close (%)")
            axes.append(a)
        for a in [ax, *axes]:
            a.set_xlabel("time (ET)", fontsize=8.5)
        style.header(
            fig,
            "Gap up, close red: S&P 500 vs NVDA intraday on each event day",
            f"5-minute bars, {style.span(span0, span1)} (IBKR via snapshot, raw prices); each line vs its own prior close. "
            f"{len(days)} event day(s) in the bar span.",
        )
    meta = style.ChartMeta(
        title="Event-day intraday reversal: NVDA vs S&P 500 on 5-minute bars",
        caption=(
            f"On {latest.date()} the S&P 500 opened {stats[str(latest.date())]['spx_open']:+.2f}% vs the prior close, peaked at "
            f"{stats[str(latest.date())]['spx_high']:+.2f}% and ended the last bar at {stats[str(latest.date())]['spx_close']:+.2f}%; "
            f"NVDA went {stats[str(latest.date())]['nvda_open']:+.2f}% -> {stats[str(latest.date())]['nvda_close']:+.2f}%. "
            + (f"Also shown: {', '.join(str(d.date()) for d in others)}." if others else "")
        ),
        data_span=style.span(span0, span1),
        sources=[
            f"SPX_5m and NVDA_5m 5-minute bars (IBKR, raw), {style.span(span0, span1)}",
            "GSPC daily close (prior close for the S&P 500)",
        ],
        kind="measured",
        offline_note=None,
    )
    return style.save(fig, out_dir, name, meta, stats)
