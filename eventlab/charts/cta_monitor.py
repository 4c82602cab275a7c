"""Chart 4 - CTA threshold monitor: S&P 500 candles with the replica's trigger levels, the
notes' 6456 line and a buffer zone around it.

``levels`` is the CTA replica's full history (index ``date``; columns ``level_<horizon>`` for
each horizon and ``level_aggregate``). A level computed on the close of t is the level in force
for session t+1, so it is drawn shifted one session forward.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.charts import style

NOTES_LEVEL = 6456.0  # research notes (doc 004 §3.2.2 / §4.2.1): the CTA line
LEVEL_COLORS = {
    "short": style.BASE,
    "medium": style.ALT3,
    "long": style.ALT,
    "aggregate": style.ALT2,
}


def level_columns(levels: pd.DataFrame) -> list[str]:
    return [c for c in levels.columns if c.startswith("level_")]


def in_force(levels: pd.DataFrame) -> pd.DataFrame:
    """Levels as in force on each session (computed on the previous close)."""
    lv = levels.copy()
    if "date" in lv.columns:
        lv = lv.set_index(pd.to_datetime(lv["date"]))
    return lv[level_columns(lv)].shift(1)


def candles(ax, ohlc: pd.DataFrame, width: float = 0.62) -> None:
    x = np.arange(len(ohlc))
    o, h, lo, c = (ohlc[k].to_numpy(float) for k in ("open", "high", "low", "close"))
    up = c >= o
    col = np.where(up, style.UP, style.DOWN)
    ax.vlines(x, lo, h, color=col, lw=0.8, zorder=3)
    ax.bar(
        x,
        np.maximum(np.abs(c - o), 1e-9 * c),
        bottom=np.minimum(o, c),
        width=width,
        color=col,
        edgecolor=col,
        lw=0.5,
        zorder=4,
    )


def _panel(
    ax,
    px: pd.DataFrame,
    lv: pd.DataFrame,
    notes_level: float,
    buffer_pct: float,
    title: str,
    show_legend: bool,
    n_ticks: int = 7,
) -> dict:
    lv = lv.reindex(px.index)
    x = np.arange(len(px))
    candles(ax, px)
    lo_b, hi_b = notes_level * (1 - buffer_pct), notes_level * (1 + buffer_pct)
    ax.axhspan(
        lo_b,
        hi_b,
        color=style.EVENT,
        alpha=0.12,
        lw=0,
        zorder=1,
        label=f"buffer zone \u00b1{buffer_pct:.0%} around {notes_level:,.0f}",
    )
    ax.axhline(
        notes_level,
        color=style.INK,
        lw=1.5,
        ls="--",
        zorder=2,
        label=f"notes' CTA line {notes_level:,.0f}",
    )
    out = {}
    for col in lv.columns:
        h = col.removeprefix("level_")
        ax.step(
            x,
            lv[col].to_numpy(),
            where="mid",
            color=LEVEL_COLORS.get(h, style.MUTED),
            lw=1.5 if h != "aggregate" else 2.0,
            zorder=5,
            label=f"replica {h}-term trigger" if h != "aggregate" else "replica aggregate trigger",
        )
        last = lv[col].dropna()
        if len(last):
            out[h] = float(last.iloc[-1])
    ticks = np.linspace(0, len(px) - 1, min(n_ticks, len(px))).round().astype(int)
    ax.set_xticks(ticks, [px.index[i].strftime("%b %d\n%Y") for i in ticks], rotation=0, fontsize=8)
    ax.set_xlim(-1, len(px) + 0.5)
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_ylabel("S&P 500 (index points)")
    if show_legend:
        ax.figure.legend(
            *ax.get_legend_handles_labels(),
            loc="lower center",
            ncols=3,
            fontsize=8,
            bbox_to_anchor=(0.5, 0.0),
        )
    return out


def render(
    prices: pd.DataFrame,
    levels: pd.DataFrame | None,
    as_of,
    out_dir,
    *,
    months: int = 4,
    event_day=None,
    notes_level: float = NOTES_LEVEL,
    buffer_pct: float = 0.01,
    name: str = "cta_monitor",
) -> style.ChartOutput:
    as_of = pd.Timestamp(as_of)
    px = prices.loc[:as_of]
    win = px.loc[as_of - pd.DateOffset(months=months) :]
    lv = in_force(levels) if levels is not None and len(levels) else pd.DataFrame(index=px.index)
    ev_win = None
    if event_day is not None:
        e = pd.Timestamp(event_day)
        ev_win = px.loc[e - pd.DateOffset(months=2) : e + pd.DateOffset(weeks=3)]
    numbers: dict = {"as_of": str(as_of.date()), "close": float(win["close"].iloc[-1])}
    with style.style_context():
        fig = style.figure((11.0, 6.4))
        if ev_win is not None and len(ev_win):
            gs = fig.add_gridspec(
                1,
                2,
                left=0.07,
                right=0.985,
                top=0.83,
                bottom=0.19,
                wspace=0.14,
                width_ratios=[1.5, 1],
            )
        else:
            gs = fig.add_gridspec(1, 1, left=0.07, right=0.985, top=0.83, bottom=0.19)
        ax = fig.add_subplot(gs[0])
        _panel(
            ax,
            win,
            lv,
            notes_level,
            buffer_pct,
            f"Last {months} months to the as-of date {as_of.date()}",
            True,
        )
        numbers["levels_in_force_next"] = {}
        if levels is not None and len(levels):
            raw = (
                levels.set_index(pd.to_datetime(levels["date"]))
                if "date" in levels.columns
                else levels
            )
            nxt = raw[level_columns(raw)].loc[:as_of].iloc[-1]
            numbers["levels_in_force_next"] = {
                c.removeprefix("level_"): float(v) for c, v in nxt.items()
            }
        c = numbers["close"]
        lines = [f"close {as_of.date()}: {c:,.0f}"]
        for h, v in numbers["levels_in_force_next"].items():
            lines.append(f"{h:>9} trigger for next session: {v:,.0f} ({v / c - 1:+.1%})")
        lines.append(f"notes' {notes_level:,.0f}: {notes_level / c - 1:+.1%} from the close")
        style.note_box(ax, "\n".join(lines), loc="lower right", fontsize=7.8)
        numbers["notes_level_distance"] = notes_level / c - 1
        if ev_win is not None and len(ev_win):
            ax2 = fig.add_subplot(gs[1])
            e = pd.Timestamp(event_day)
            ev_levels = _panel(
                ax2,
                ev_win,
                lv,
                notes_level,
                buffer_pct,
                f"Around the event day {e.date()}",
                False,
                n_ticks=4,
            )
            ax2.set_ylabel("")
            if e in ev_win.index:
                i = ev_win.index.get_loc(e)
                ax2.annotate(
                    "event day",
                    (i, float(ev_win["high"].iloc[i])),
                    xytext=(0, 14),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                    color=style.EVENT,
                    arrowprops={"arrowstyle": "->", "color": style.EVENT},
                )
                numbers["event_day_levels"] = {h: float(v) for h, v in lv.loc[e].dropna().items()}
            numbers["event_window_last_levels"] = ev_levels
        model_note = (
            ""
            if numbers["levels_in_force_next"]
            else " Replica levels not available: only the notes' line is drawn."
        )
        style.header(
            fig,
            "CTA threshold monitor: S&P 500 vs the replica's trigger levels and the notes' 6456",
            f"^GSPC daily candles to {as_of.date()} (shipped snapshot, Yahoo). Lines: trend-following replica levels "
            "(model; level computed at each close, drawn on the next session)." + model_note,
        )
    kind: style.ChartKind = "mixed" if numbers["levels_in_force_next"] else "measured"
    lv_txt = ", ".join(f"{h} {v:,.0f}" for h, v in numbers["levels_in_force_next"].items())
    meta = style.ChartMeta(
        title="CTA threshold monitor: S&P 500 candles with the replica's trigger levels and the 6456 line",
        caption=(
            f"On {as_of.date()} the S&P 500 closed at {c:,.0f}. "
            + (
                f"The replica's trigger levels for the next session are {lv_txt}. "
                if lv_txt
                else ""
            )
            + f"The notes' {notes_level:,.0f} line is {notes_level / c - 1:+.1%} from that close (buffer zone +-{buffer_pct:.0%} shaded)."
        ),
        data_span=style.span(
            min(
                win.index.min(),
                ev_win.index.min() if ev_win is not None and len(ev_win) else win.index.min(),
            ),
            as_of,
        ),
        sources=[
            f"GSPC daily OHLC (snapshot) to {as_of.date()}",
            "eventlab CTA replica (cta_levels): momentum trigger levels per horizon",
            "Research notes doc 004 §3.2.2 / §4.2.1: 6456 (quoted)",
        ],
        kind=kind,
        offline_note=None,
    )
    return style.save(fig, out_dir, name, meta, numbers)
