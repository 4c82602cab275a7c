"""Chart 7 - Russell 2000 vs Nasdaq-100: relative strength ratio and its RSI(14) (Wilder)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.charts import style


def wilder_rsi(x: pd.Series, n: int = 14) -> pd.Series:
    """Wilder's RSI: average gain / loss seeded with the simple mean of the first n changes,
    then smoothed as ``avg_t = (avg_{t-1} * (n - 1) + value_t) / n``. NaN before n changes."""
    x = x.dropna().astype(float)
    d = x.diff().to_numpy()
    out = np.full(len(x), np.nan)
    if len(x) <= n:
        return pd.Series(out, index=x.index)
    gain = np.where(d > 0, d, 0.0)
    loss = np.where(d < 0, -d, 0.0)
    ag = gain[1 : n + 1].mean()
    al = loss[1 : n + 1].mean()
    out[n] = 100.0 if al == 0 else 100.0 - 100.0 / (1.0 + ag / al)
    for i in range(n + 1, len(x)):
        ag = (ag * (n - 1) + gain[i]) / n
        al = (al * (n - 1) + loss[i]) / n
        out[i] = 100.0 if al == 0 else 100.0 - 100.0 / (1.0 + ag / al)
    return pd.Series(out, index=x.index)


def relative_strength(numer: pd.Series, denom: pd.Series) -> pd.Series:
    """Ratio of two closes on their common dates."""
    df = pd.DataFrame({"a": numer, "b": denom}).dropna()
    return df["a"] / df["b"]


def render(
    rut: pd.DataFrame,
    ndx: pd.DataFrame,
    out_dir,
    *,
    months: int = 24,
    rsi_n: int = 14,
    event_dates=(),
    name: str = "rut_ndx_relative_strength",
) -> style.ChartOutput:
    ratio = relative_strength(rut["close"], ndx["close"])
    rsi = wilder_rsi(ratio, rsi_n)  # computed on the full history, then windowed
    end = ratio.index.max()
    start = end - pd.DateOffset(months=months)
    r, q = ratio.loc[start:], rsi.loc[start:]
    numbers = {
        "last_date": str(end.date()),
        "last_ratio": float(ratio.iloc[-1]),
        "last_rsi": float(rsi.iloc[-1]),
        "ratio_change_window": float(r.iloc[-1] / r.iloc[0] - 1.0),
        "days_rsi_above_70": int((q > 70).sum()),
        "days_rsi_below_30": int((q < 30).sum()),
    }
    with style.style_context():
        fig = style.figure()
        gs = fig.add_gridspec(
            2, 1, left=0.075, right=0.975, top=0.83, bottom=0.1, hspace=0.08, height_ratios=[2, 1]
        )
        ax = fig.add_subplot(gs[0])
        ax2 = fig.add_subplot(gs[1], sharex=ax)
        ax.plot(
            r.index,
            r.values,
            color=style.BASE,
            lw=1.5,
            label="Russell 2000 / Nasdaq-100 (index points ratio)",
        )
        ax.plot(
            r.index,
            ratio.rolling(50).mean().loc[start:],
            color=style.MUTED,
            lw=1.0,
            ls="--",
            label="50-day average of the ratio",
        )
        ax.set_ylabel("RUT / NDX ratio")
        ax.tick_params(labelbottom=False)
        ax.legend(loc="upper right")
        for d in event_dates:
            d = pd.Timestamp(d)
            if start <= d <= end:
                for a in (ax, ax2):
                    a.axvline(d, color=style.EVENT, lw=0.9, alpha=0.6)
        if any(start <= pd.Timestamp(d) <= end for d in event_dates):
            ax.plot([], [], color=style.EVENT, lw=0.9, label="gap-up, close-red event days")
            ax.legend(loc="upper right")
        style.note_box(
            ax,
            f"last ({end.date()}): ratio {ratio.iloc[-1]:.4f}, RSI({rsi_n}) {rsi.iloc[-1]:.1f}\n"
            f"ratio change over the window: {numbers['ratio_change_window']:+.1%}",
            loc="lower left",
        )
        ax2.plot(q.index, q.values, color=style.ALT2, lw=1.3)
        ax2.axhspan(70, 100, color=style.DOWN, alpha=0.08, lw=0)
        ax2.axhspan(0, 30, color=style.UP, alpha=0.08, lw=0)
        for lvl in (30, 50, 70):
            ax2.axhline(lvl, color=style.MUTED, lw=0.8, ls=":" if lvl == 50 else "--")
        ax2.set_ylim(0, 100)
        ax2.set_yticks([0, 30, 50, 70, 100])
        ax2.set_ylabel(f"RSI({rsi_n}) of the ratio")
        ax2.set_xlabel("date")
        style.date_axis(ax2, "%Y-%m")
        style.header(
            fig,
            "Russell 2000 vs Nasdaq-100: relative strength and its RSI",
            f"^RUT / ^NDX daily closes, {style.span(r.index.min(), end)}; shipped snapshot (RUT: IBKR bars, NDX: Yahoo). Rising = small caps outperform.\n"
            f"RSI with Wilder smoothing, computed on the whole common history from {ratio.index.min().date()}.",
        )
    meta = style.ChartMeta(
        title="Russell 2000 vs Nasdaq-100 relative strength with RSI(14)",
        caption=(
            f"On {end.date()} the RUT/NDX ratio was {ratio.iloc[-1]:.4f}, {numbers['ratio_change_window']:+.1%} over the last {months} months; "
            f"its Wilder RSI({rsi_n}) was {rsi.iloc[-1]:.1f} (above 70 on {numbers['days_rsi_above_70']} days and below 30 on "
            f"{numbers['days_rsi_below_30']} days of the window)."
        ),
        data_span=style.span(r.index.min(), end),
        sources=[
            f"RUT daily closes (snapshot, IBKR/Yahoo) to {rut.index.max().date()}",
            f"NDX daily closes (snapshot, Yahoo) to {ndx.index.max().date()}",
        ],
        kind="measured",
        offline_note=(
            f"The shipped ^NDX ends {ndx.index.max().date()} (RUT {rut.index.max().date()}); the live source (yfinance ^NDX, ^RUT) extends the ratio to the as-of date."
            if abs((ndx.index.max() - rut.index.max()).days) > 5
            else None
        ),
    )
    return style.save(fig, out_dir, name, meta, numbers)
