"""Chart 6 - BTC vs Nasdaq-100: rolling correlation of daily returns on NYSE days.

Calendars are aligned on the equity index's trading days (NYSE): BTC's UTC-day close on each
NYSE date is taken, and both returns run from one NYSE day to the next (so BTC's weekend move
lands in Monday's return, as it does for the index).
"""

from __future__ import annotations

import pandas as pd

from eventlab.charts import style

WINDOWS = (20, 60, 120)


def aligned_returns(index_close: pd.Series, btc_close: pd.Series) -> pd.DataFrame:
    """Daily simple returns of both series on the index's dates (NYSE days both series have)."""
    df = pd.DataFrame({"index": index_close, "btc": btc_close.reindex(index_close.index)}).dropna()
    return df.pct_change().dropna()


def rolling_correlation(rets: pd.DataFrame, windows=WINDOWS) -> pd.DataFrame:
    """Pearson correlation of the two return columns over trailing windows of NYSE days."""
    a, b = rets.columns[:2]
    return pd.DataFrame({f"{w}d": rets[a].rolling(w, min_periods=w).corr(rets[b]) for w in windows})


def render(
    ndx: pd.DataFrame,
    btc: pd.DataFrame,
    out_dir,
    *,
    windows=WINDOWS,
    start="2018-01-01",
    event_dates=(),
    name: str = "btc_ndx_correlation",
) -> style.ChartOutput:
    rets = aligned_returns(ndx["close"], btc["close"])
    corr = rolling_correlation(rets, windows)
    full_corr = float(rets.loc[pd.Timestamp(start) :].corr().iloc[0, 1])
    view = corr.loc[pd.Timestamp(start) :]
    last = view.dropna(how="all").iloc[-1]
    last_date = view.dropna(how="all").index[-1]
    numbers = {
        "last_date": str(last_date.date()),
        **{f"last_{c}": float(last[c]) for c in corr.columns},
        "full_period_corr": full_corr,
    }
    colors = [style.ALT3, style.BASE, style.INK]
    with style.style_context():
        fig = style.figure()
        ax = fig.add_axes((0.065, 0.12, 0.9, 0.7))
        for (col, c), lw in zip(
            zip(view.columns, colors, strict=False), (0.9, 1.4, 2.0), strict=False
        ):
            ax.plot(
                view.index,
                view[col],
                color=c,
                lw=lw,
                label=f"{col.replace('d', '')}-day window (last {last[col]:+.2f})",
            )
        ax.axhline(0, color=style.MUTED, lw=0.9, ls=":")
        ax.axhline(
            full_corr,
            color=style.ALT2,
            lw=1.0,
            ls="--",
            label=f"whole period since {pd.Timestamp(start).year}: {full_corr:+.2f}",
        )
        for d in event_dates:
            d = pd.Timestamp(d)
            if view.index.min() <= d <= view.index.max():
                ax.axvline(d, color=style.EVENT, lw=0.9, alpha=0.6)
        if len(event_dates):
            ax.plot(
                [], [], color=style.EVENT, lw=0.9, alpha=0.6, label="gap-up, close-red event days"
            )
        ax.set_ylim(-0.6, 1.0)
        ax.set_ylabel("correlation of daily returns")
        ax.set_xlabel("date (NYSE trading days)")
        style.date_axis(ax, "%Y")
        ax.legend(loc="upper left", ncols=2)
        style.header(
            fig,
            "Bitcoin vs Nasdaq-100: rolling correlation of daily returns",
            f"^NDX and BTC-USD daily closes on NYSE days, {style.span(view.index.min(), last_date)}; shipped snapshot (Yahoo). "
            "BTC's weekend moves fall into Monday's return.",
        )
    meta = style.ChartMeta(
        title="BTC vs Nasdaq-100 rolling correlation (daily returns, NYSE days)",
        caption=(
            f"On {last_date.date()} the trailing correlation of daily returns was "
            + ", ".join(f"{last[c]:+.2f} ({c})" for c in corr.columns)
            + f"; over the whole span since {pd.Timestamp(start).date()} it is {full_corr:+.2f}."
        ),
        data_span=style.span(view.index.min(), last_date),
        sources=[
            f"NDX daily closes (snapshot) to {ndx.index.max().date()}",
            f"BTC_USD daily closes (snapshot, UTC days) to {btc.index.max().date()}",
        ],
        kind="measured",
        offline_note=(
            f"The shipped ^NDX ends {ndx.index.max().date()}; the live source (yfinance ^NDX) extends it to the as-of date."
            if ndx.index.max() < btc.index.max() - pd.Timedelta(days=5)
            else None
        ),
    )
    return style.save(fig, out_dir, name, meta, numbers)
