"""The chart registry: the one list of charts. Each entry names a chart, the frames it draws
from (chart input names; pipelines/stages/charts.py maps them to asset keys), the function that
draws it and the description the asset shows. The charts stage builds one asset per entry from
this list, the report orders its charts by it, and `draw_chart` dispatches on it.

Nothing in eventlab.charts imports this module: it sits on top of the chart modules (which
import eventlab.charts.style), so the package has no import cycle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from eventlab.charts import (
    correlation,
    cta_monitor,
    event_charts,
    intraday,
    liquidity,
    mean_path,
    rate_cut,
    relative_strength,
    replica_check,
    spec_curve,
    valuation,
)
from eventlab.charts.outputs import ChartOutput

Inputs = dict[str, pd.DataFrame | None]
Drawer = Callable[[Inputs, Path, pd.Timestamp], ChartOutput]


@dataclass(frozen=True)
class Chart:
    name: str
    description: str
    inputs: tuple[str, ...]  # chart input names of the frames it draws from
    draw: Drawer  # (inputs, out_dir, as_of) -> ChartOutput
    optional: tuple[str, ...] = ()  # inputs it draws when present (None otherwise)

    @property
    def needs(self) -> tuple[str, ...]:
        return (*self.inputs, *self.optional)


# ---------- adapters: pick a chart's frames out of its inputs and call the chart module ----------


def _study_labels(inp: Inputs, *, with_ticker: bool = True) -> dict[str, str]:
    """How a study chart names the study's index: from the `study` frame the charts step passes
    when the run's index is not the one the charts' default labels name (the S&P 500); empty
    (the defaults) otherwise."""
    study = inp.get("study")
    if study is None or not len(study):
        return {}
    r = study.iloc[0]
    name = str(r["name"])
    return {
        "index_name": f"{name} ({r['ticker']})" if with_ticker else name,
        "series": str(r["series"]),
        "ticker": str(r["ticker"]),
    }


def _event_dates(inp: Inputs) -> list[pd.Timestamp]:
    ev = inp.get("events")
    if ev is None or not len(ev):
        return []
    return sorted(pd.to_datetime(ev["date"]).tolist())


def _latest_covered(inp: Inputs, *bar_keys: str, default: str = "2025-11-20") -> pd.Timestamp:
    frames = [inp[k] for k in bar_keys]
    days = intraday.covered_events(_event_dates(inp), *frames)
    return days[-1] if days else pd.Timestamp(default)


def _liquidity(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    day = _latest_covered(inp, "SPY_5m")
    daily = inp["GSPC"]
    assert daily is not None  # a required input (Chart.inputs): always loaded
    gspc = daily["close"]
    level = float(gspc[gspc.index < day].iloc[-1])
    return liquidity.render(inp["SPY_5m"], day, out, index_level=level)


def _intraday(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    return intraday.render(
        inp["SPX_5m"], inp["NVDA_5m"], _event_dates(inp), out, spx_daily=inp["GSPC"]
    )


def _paths(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    return event_charts.render_forward_paths(
        inp["events"], inp["event_paths"], inp["forward_returns"], out, **_study_labels(inp)
    )


def _mean_path(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    labels = _study_labels(inp)
    return mean_path.render_mean_path(
        inp["event_paths"], out, **({"index_name": labels["index_name"]} if labels else {})
    )


def _dists(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    return event_charts.render_forward_distributions(
        inp["events"], inp["forward_returns"], out, **_study_labels(inp, with_ticker=False)
    )


def _timeline(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    labels = _study_labels(inp)
    labels.pop("ticker", None)
    return event_charts.render_event_timeline(inp["events"], inp["open_quality"], out, **labels)


def _cta(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    ev = _event_dates(inp)
    return cta_monitor.render(
        inp["GSPC"], inp.get("cta_levels"), as_of, out, event_day=ev[-1] if ev else None
    )


def _rates(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    return rate_cut.render(
        inp["fomc_prob_next_meeting"],
        inp["fomc_dec2025_prediction_markets"],
        inp.get("zq_futures"),
        out,
    )


def _corr(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    return correlation.render(inp["NDX"], inp["BTC_USD"], out, event_dates=_event_dates(inp))


def _rs(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    return relative_strength.render(inp["RUT"], inp["NDX"], out, event_dates=_event_dates(inp))


def _peg(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    funds = {k: v for k, v in inp.items() if k.startswith("fundamentals_") and v is not None}
    return valuation.render(inp["fwd_pe_daily"], funds, as_of, out)


def _validation(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    # the run's validation window, when the charts step passes one (else the default's)
    settings = inp.get("validation")
    window = {} if settings is None else {"window": int(settings["main_window"].iloc[0])}
    return replica_check.render_validation(
        inp["cta_validation_series"], _event_dates(inp), out, **window
    )


def _tearsheet(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    return replica_check.render_tearsheet(inp["backtest_returns"], inp["backtests"], out)


def _spec_curve(inp: Inputs, out: Path, as_of: pd.Timestamp) -> ChartOutput:
    curve = inp["spec_curve"]
    assert curve is not None  # a required input (Chart.inputs): always loaded
    return spec_curve.render(curve, inp.get("spec_curve_test"), out)


CHARTS: tuple[Chart, ...] = (
    Chart(
        "liquidity_depth",
        "Outline chart 1: SPY 5-minute impact per dollar on the event day vs baseline, and the notes' book depth through a linear impact model.",
        ("SPY_5m", "GSPC", "events"),
        draw=_liquidity,
    ),
    Chart(
        "intraday_reversal",
        "Outline chart 2: NVDA vs S&P 500 5-minute bars vs the prior close on every event day the bars cover.",
        ("SPX_5m", "NVDA_5m", "GSPC", "events"),
        draw=_intraday,
    ),
    Chart(
        "forward_paths",
        "Outline chart 3: per-event paths t-5..t+20 and T+1/T+5/T+20 box plots vs the baseline.",
        ("events", "event_paths", "forward_returns"),
        draw=_paths,
    ),
    Chart(
        "mean_path",
        "Mean return path t-5..t+20 after the events with the 95% t-band of the mean (n on the chart).",
        ("event_paths",),
        draw=_mean_path,
    ),
    Chart(
        "cta_monitor",
        "Outline chart 4: S&P 500 candles with the CTA replica's trigger levels, the notes' 6456 line and a buffer zone.",
        ("GSPC", "events"),
        optional=("cta_levels",),
        draw=_cta,
    ),
    Chart(
        "rate_cut_probability",
        "Outline chart 5: December 2025 cut probability, daily (lag-corrected futures-implied, Polymarket/Kalshi, notes), plus FedWatch on ZQ bars.",
        ("fomc_prob_next_meeting", "fomc_dec2025_prediction_markets", "zq_futures"),
        draw=_rates,
    ),
    Chart(
        "btc_ndx_correlation",
        "Outline chart 6: BTC vs Nasdaq-100 rolling correlation of daily returns on NYSE days (20/60/120 days).",
        ("NDX", "BTC_USD", "events"),
        draw=_corr,
    ),
    Chart(
        "rut_ndx_relative_strength",
        "Outline chart 7: Russell 2000 / Nasdaq-100 ratio and its Wilder RSI(14).",
        ("RUT", "NDX", "events"),
        draw=_rs,
    ),
    Chart(
        "ai_peg_scatter",
        "Outline chart 8: AI large caps forward P/E vs earnings growth (PEG), each input's date printed.",
        ("fwd_pe_daily", "fundamentals_2025_06_13", "fundamentals_2026_01_30"),
        draw=_peg,
    ),
    Chart(
        "event_timeline",
        "Every event since 1957 on a timeline with genuine-open coverage shaded.",
        ("events", "open_quality"),
        draw=_timeline,
    ),
    Chart(
        "forward_distributions",
        "Forward-return distributions at T+1/T+5/T+20: events vs the baseline.",
        ("events", "forward_returns"),
        draw=_dists,
    ),
    Chart(
        "cta_validation",
        "Is the replica real? Its position vs the S&P 500 exposure implied by SG Trend's returns (trailing OLS slope), event days marked.",
        ("cta_validation_series", "events"),
        draw=_validation,
    ),
    Chart(
        "backtest_tearsheet",
        "Backtests: replica vs buy-and-hold since 1929 and vs SG Trend since 2000 (equity, drawdown); event trades vs random entries.",
        ("backtest_returns", "backtests"),
        draw=_tearsheet,
    ),
    Chart(
        "specification_curve",
        "Every reasonable specification of the headline question (threshold, close rule, series, declustering, entry, horizon): sorted estimates with 95% intervals over the choices, and the joint test against placebo dates.",
        ("spec_curve", "spec_curve_test"),
        draw=_spec_curve,
    ),
)
BY_NAME = {c.name: c for c in CHARTS}


def draw_chart(name: str, inputs: Inputs, out_dir: str | Path, as_of) -> ChartOutput:
    """Draw chart `name` into out_dir (PNG, screen copy, sidecar); the ChartOutput carries the
    render time in seconds. A plain top-level function, so a process pool can run it."""
    t0 = time.perf_counter()
    out = BY_NAME[name].draw(inputs, Path(out_dir), pd.Timestamp(as_of))
    out.seconds = time.perf_counter() - t0
    return out
