"""Chart 8 - AI large caps valuation scatter (PEG).

PEG = forward P/E / (earnings growth in percent). Forward P/E comes from the daily forward P/E
file on the as-of date (or its last date on or before it); earnings growth comes from the
fundamentals snapshot nearest on or before that date that has an ``earningsGrowth`` column. No
number is filled in: a ticker missing from either input is listed as missing on the chart, and a
PEG is left undefined when growth is zero or negative.
"""

from __future__ import annotations

import matplotlib.ticker
import numpy as np
import pandas as pd

from eventlab.charts import style

AI_LARGE_CAPS = (
    "NVDA",
    "MSFT",
    "GOOGL",
    "AMZN",
    "META",
    "AVGO",
    "AMD",
    "ORCL",
    "PLTR",
    "AAPL",
    "TSLA",
    "TSM",
)


def forward_pe_on(fwd_pe: pd.DataFrame, as_of) -> tuple[pd.Timestamp, pd.Series]:
    """Forward P/E per ticker on the last file date on or before `as_of`."""
    d = pd.to_datetime(fwd_pe["Date"])
    ok = d <= pd.Timestamp(as_of)
    if not ok.any():
        raise ValueError(f"no forward P/E on or before {pd.Timestamp(as_of).date()}")
    day = d[ok].max()
    rows = fwd_pe[d == day]
    return day, rows.set_index("Ticker")["FwdPE_NextFY"].astype(float)


def pick_fundamentals(snapshots: dict[str, pd.DataFrame], on) -> tuple[str, pd.DataFrame] | None:
    """The snapshot with an earningsGrowth column dated nearest on or before `on` (else the
    earliest after it); returns (as-of-close date, frame)."""
    usable = {
        k: v
        for k, v in snapshots.items()
        if "earningsGrowth" in v.columns and v["earningsGrowth"].notna().any()
    }
    if not usable:
        return None
    dated = sorted(
        ((str(v["AsOfClose"].iloc[0]), v) for v in usable.values()), key=lambda kv: kv[0]
    )
    before = [kv for kv in dated if pd.Timestamp(kv[0]) <= pd.Timestamp(on)]
    return before[-1] if before else dated[0]


def peg_table(fwd_pe: pd.Series, growth: pd.Series, tickers=AI_LARGE_CAPS) -> pd.DataFrame:
    """Per ticker: forward P/E, growth (%), PEG and why it is missing when it is."""
    rows = []
    for t in tickers:
        pe = fwd_pe.get(t, np.nan)
        g = growth.get(t, np.nan)
        g_pct = float(g) * 100.0 if pd.notna(g) else np.nan
        if pd.isna(pe) and pd.isna(g):
            why = "not in either input"
        elif pd.isna(pe):
            why = "no forward P/E"
        elif pd.isna(g):
            why = "no earnings growth"
        elif g_pct <= 0:
            why = "growth <= 0: PEG undefined"
        else:
            why = ""
        peg = float(pe) / g_pct if not why else np.nan
        rows.append(
            {
                "ticker": t,
                "forward_pe": float(pe) if pd.notna(pe) else np.nan,
                "growth_pct": g_pct,
                "peg": peg,
                "missing": why,
            }
        )
    return pd.DataFrame(rows)


def render(
    fwd_pe: pd.DataFrame,
    fundamentals: dict[str, pd.DataFrame],
    as_of,
    out_dir,
    *,
    tickers=AI_LARGE_CAPS,
    name: str = "ai_peg_scatter",
) -> style.ChartOutput:
    pe_day, pe = forward_pe_on(fwd_pe, as_of)
    picked = pick_fundamentals(fundamentals, pe_day)
    if picked is None:
        g_day, growth = "none", pd.Series(dtype=float)
    else:
        g_day, f = picked
        growth = f.set_index("ticker")["earningsGrowth"].astype(float)
    tab = peg_table(pe, growth, tickers)
    ok = tab[tab["missing"] == ""]
    with style.style_context():
        fig = style.figure()
        ax = fig.add_axes((0.07, 0.14, 0.62, 0.68))
        xlo, xhi, ylo = 5.0, 400.0, 8.0
        yhi = max(60.0, float(ok["forward_pe"].max()) * 1.6) if len(ok) else 250.0
        xs = np.geomspace(xlo, xhi, 50)
        for peg, ls in ((0.25, ":"), (0.5, ":"), (1.0, "--"), (2.0, "-.")):
            ax.plot(xs, peg * xs, color=style.MUTED, lw=0.9, ls=ls)
            x_lab = min(xhi * 0.8, yhi * 0.8 / peg)
            ax.text(
                x_lab,
                peg * x_lab,
                f"PEG {peg:g}",
                fontsize=8,
                color=style.MUTED,
                va="bottom",
                ha="right",
                rotation=0,
            )
        vmax = max(1.5, float(ok["peg"].max()) if len(ok) else 1.5)
        sc = ax.scatter(
            ok["growth_pct"],
            ok["forward_pe"],
            c=ok["peg"],
            cmap="viridis_r",
            s=90,
            edgecolor=style.INK,
            lw=0.6,
            zorder=5,
            vmin=0,
            vmax=vmax,
        )
        for i, (_, r) in enumerate(ok.sort_values("growth_pct").iterrows()):
            ax.annotate(
                r["ticker"],
                (r["growth_pct"], r["forward_pe"]),
                xytext=(7, 7 if i % 2 == 0 else -13),
                textcoords="offset points",
                fontsize=9,
                fontweight="bold",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(xlo, xhi)
        ax.set_ylim(ylo, yhi)
        for a_ in (ax.xaxis, ax.yaxis):
            a_.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            a_.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks([5, 10, 20, 50, 100, 200, 400])
        ax.set_yticks([t for t in (10, 15, 20, 30, 50, 100, 200, 500) if t <= yhi])
        ax.set_xlabel(f"earnings growth, quarterly YoY (%, log scale), fundamentals as of {g_day}")
        ax.set_ylabel(f"forward P/E, next fiscal year (x, log scale), {pe_day.date()}")
        cb = fig.colorbar(sc, ax=ax, fraction=0.04, pad=0.01)
        cb.set_label("PEG = P/E / growth (%)")
        # side panel: the table, with the missing ones
        lines = [f"{'ticker':<6}{'fwd P/E':>8}{'growth':>8}{'PEG':>6}"]
        for _, r in tab.iterrows():
            pe_s = f"{r['forward_pe']:.1f}" if pd.notna(r["forward_pe"]) else "-"
            g_s = f"{r['growth_pct']:.0f}%" if pd.notna(r["growth_pct"]) else "-"
            peg_s = f"{r['peg']:.2f}" if pd.notna(r["peg"]) else "-"
            lines.append(f"{r['ticker']:<6}{pe_s:>8}{g_s:>8}{peg_s:>6}")
        fig.text(
            0.745,
            0.8,
            "\n".join(lines),
            family="DejaVu Sans Mono",
            fontsize=8.5,
            va="top",
            ha="left",
        )
        miss = tab[tab["missing"] != ""]
        if len(miss):
            fig.text(
                0.745,
                0.8 - 0.032 * (len(lines) + 1),
                "Missing / not plotted:\n"
                + "\n".join(f"{r['ticker']}: {r['missing']}" for _, r in miss.iterrows()),
                fontsize=8,
                va="top",
                ha="left",
                color=style.DOWN,
            )
        style.header(
            fig,
            "AI large caps: forward P/E vs earnings growth (PEG)",
            f"Forward P/E: FWD_PE_DAILY on {pe_day.date()} (Yahoo 'next year' EPS estimate; the last file date on or before the as-of {pd.Timestamp(as_of).date()}).\n"
            f"Growth: yfinance earningsGrowth in the fundamentals snapshot as of the {g_day} close. Names with growth <= 0 or a missing input are listed, not plotted.",
            footer="Caveat: the P/E uses next-fiscal-year EPS while growth is the latest quarter's YoY earnings growth (yfinance earningsGrowth), so PEG here mixes horizons. "
            "No value is estimated or filled in.",
        )
    numbers = {
        "pe_date": str(pe_day.date()),
        "growth_date": g_day,
        "table": tab.to_dict(orient="records"),
    }
    stale = pd.Timestamp(as_of) > pe_day + pd.Timedelta(days=3)
    meta = style.ChartMeta(
        title="AI large caps valuation: forward P/E vs earnings growth (PEG)",
        caption=(
            f"Forward P/E on {pe_day.date()} against quarterly earnings growth as of {g_day}: "
            + ", ".join(
                f"{r['ticker']} {r['peg']:.2f}" for _, r in ok.sort_values("peg").iterrows()
            )
            + (
                f". Not plotted: {', '.join(f'{r.ticker} ({r.missing})' for r in miss.itertuples())}."
                if len(miss)
                else "."
            )
        ),
        data_span=f"{g_day} .. {pe_day.date()}",
        sources=[
            f"FWD_PE_DAILY_2025-09-17_2026-03-20.csv, rows dated {pe_day.date()}",
            f"FUNDAMENTALS snapshot as of close {g_day} (earningsGrowth)",
        ],
        kind="measured",
        offline_note=(
            f"The shipped forward P/E ends {pe_day.date()}, before the as-of {pd.Timestamp(as_of).date()}; live values come from yfinance "
            "Ticker.info (forwardPE, earningsGrowth) when reachable. TSM is in neither shipped file; PLTR has no growth figure."
            if stale
            else "Live values come from yfinance Ticker.info (forwardPE, earningsGrowth) when reachable."
        ),
    )
    return style.save(fig, out_dir, name, meta, numbers)
