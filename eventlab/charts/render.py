"""The chart registry: which inputs each chart needs and how it is drawn, plus a renderer that
draws any subset in a small process pool (matplotlib is single-threaded; two processes use the
two cores). No Dagster imports: the asset layer passes frames in and gets ChartOutputs back.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from eventlab.charts import (
    correlation,
    cta_monitor,
    event_charts,
    intraday,
    liquidity,
    rate_cut,
    relative_strength,
    style,
    valuation,
)

Inputs = dict[str, pd.DataFrame | None]


def _event_dates(inp: Inputs) -> list[pd.Timestamp]:
    ev = inp.get("events")
    if ev is None or not len(ev):
        return []
    return sorted(pd.to_datetime(ev["date"]).tolist())


def _latest_covered(inp: Inputs, *bar_keys: str, default: str = "2025-11-20") -> pd.Timestamp:
    frames = [inp[k] for k in bar_keys]
    days = intraday.covered_events(_event_dates(inp), *frames)
    return days[-1] if days else pd.Timestamp(default)


def _liquidity(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    day = _latest_covered(inp, "SPY_5m")
    gspc = inp["GSPC"]["close"]
    level = float(gspc[gspc.index < day].iloc[-1])
    return liquidity.render(inp["SPY_5m"], day, out, index_level=level)


def _intraday(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return intraday.render(
        inp["SPX_5m"], inp["NVDA_5m"], _event_dates(inp), out, spx_daily=inp["GSPC"]
    )


def _paths(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return event_charts.render_forward_paths(
        inp["events"], inp["event_paths"], inp["forward_returns"], out
    )


def _dists(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return event_charts.render_forward_distributions(inp["events"], inp["forward_returns"], out)


def _timeline(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return event_charts.render_event_timeline(inp["events"], inp["open_quality"], out)


def _cta(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    ev = _event_dates(inp)
    return cta_monitor.render(
        inp["GSPC"], inp.get("cta_levels"), as_of, out, event_day=ev[-1] if ev else None
    )


def _rates(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return rate_cut.render(
        inp["fomc_prob_next_meeting"],
        inp["fomc_dec2025_prediction_markets"],
        inp.get("zq_futures"),
        out,
    )


def _corr(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return correlation.render(inp["NDX"], inp["BTC_USD"], out, event_dates=_event_dates(inp))


def _rs(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return relative_strength.render(inp["RUT"], inp["NDX"], out, event_dates=_event_dates(inp))


def _peg(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    funds = {k: v for k, v in inp.items() if k.startswith("fundamentals_") and v is not None}
    return valuation.render(inp["fwd_pe_daily"], funds, as_of, out)


@dataclass(frozen=True)
class ChartSpec:
    name: str
    description: str
    inputs: tuple[str, ...]  # names of upstream frames (see assets/charts.py for their asset keys)
    draw: Callable[[Inputs, Path, pd.Timestamp], style.ChartOutput]
    optional: tuple[str, ...] = ()


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "liquidity_depth",
        "Outline chart 1: SPY 5-minute impact per dollar on the event day vs baseline, and the notes' book depth through a linear impact model.",
        ("SPY_5m", "GSPC", "events"),
        _liquidity,
    ),
    ChartSpec(
        "intraday_reversal",
        "Outline chart 2: NVDA vs S&P 500 5-minute bars vs the prior close on every event day the bars cover.",
        ("SPX_5m", "NVDA_5m", "GSPC", "events"),
        _intraday,
    ),
    ChartSpec(
        "forward_paths",
        "Outline chart 3: per-event paths t-5..t+20 and T+1/T+5/T+20 box plots vs the baseline.",
        ("events", "event_paths", "forward_returns"),
        _paths,
    ),
    ChartSpec(
        "cta_monitor",
        "Outline chart 4: S&P 500 candles with the CTA replica's trigger levels, the notes' 6456 line and a buffer zone.",
        ("GSPC", "events"),
        _cta,
        optional=("cta_levels",),
    ),
    ChartSpec(
        "rate_cut_probability",
        "Outline chart 5: December 2025 cut probability, daily (lag-corrected futures-implied, Polymarket/Kalshi, notes), plus FedWatch on ZQ bars.",
        ("fomc_prob_next_meeting", "fomc_dec2025_prediction_markets", "zq_futures"),
        _rates,
    ),
    ChartSpec(
        "btc_ndx_correlation",
        "Outline chart 6: BTC vs Nasdaq-100 rolling correlation of daily returns on NYSE days (20/60/120 days).",
        ("NDX", "BTC_USD", "events"),
        _corr,
    ),
    ChartSpec(
        "rut_ndx_relative_strength",
        "Outline chart 7: Russell 2000 / Nasdaq-100 ratio and its Wilder RSI(14).",
        ("RUT", "NDX", "events"),
        _rs,
    ),
    ChartSpec(
        "ai_peg_scatter",
        "Outline chart 8: AI large caps forward P/E vs earnings growth (PEG), each input's date printed.",
        ("fwd_pe_daily", "fundamentals_2025_06_13", "fundamentals_2026_01_30"),
        _peg,
    ),
    ChartSpec(
        "event_timeline",
        "Every event since 1957 on a timeline with genuine-open coverage shaded.",
        ("events", "open_quality"),
        _timeline,
    ),
    ChartSpec(
        "forward_distributions",
        "Forward-return distributions at T+1/T+5/T+20: events vs the baseline.",
        ("events", "forward_returns"),
        _dists,
    ),
)
BY_NAME = {c.name: c for c in CHARTS}


def render_one(name: str, inputs: Inputs, out_dir: str | Path, as_of) -> style.ChartOutput:
    """Draw one chart and its UI thumbnail; the ChartOutput carries the render time in seconds."""
    t0 = time.perf_counter()
    out = BY_NAME[name].draw(inputs, Path(out_dir), pd.Timestamp(as_of))
    out.thumbnail_b64 = style.thumbnail_b64(out.png)
    out.seconds = time.perf_counter() - t0
    return out


def render_many(
    jobs: dict[str, Inputs],
    out_dir: str | Path,
    as_of,
    workers: int = 2,
    mp_context: str = "forkserver",
):
    """Yield ChartOutputs as charts finish; `workers` <= 1 renders in this process."""
    if workers <= 1 or len(jobs) <= 1:
        for name, inp in jobs.items():
            yield render_one(name, inp, out_dir, as_of)
        return
    ctx = mp.get_context(mp_context)
    if mp_context == "forkserver":
        ctx.set_forkserver_preload(["eventlab.charts.render"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        # longest first, so the two workers finish together
        order = sorted(jobs, key=lambda n: -len(BY_NAME[n].inputs))
        futures = {pool.submit(render_one, n, jobs[n], str(out_dir), as_of): n for n in order}
        for fut in futures:
            yield fut.result()
