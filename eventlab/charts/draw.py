"""How each registered chart is drawn: one adapter per chart name that picks its frames out of
the inputs dict and calls the chart module. This is the expensive side of the chart package
(matplotlib and every chart module); eventlab.charts.render imports it only when a chart is
actually drawn, in a worker process or lazily in-process.
"""

from __future__ import annotations

from collections.abc import Callable
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
    style,
    valuation,
)

Inputs = dict[str, pd.DataFrame | None]
Drawer = Callable[[Inputs, Path, pd.Timestamp], style.ChartOutput]


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
        inp["events"], inp["event_paths"], inp["forward_returns"], out, **_study_labels(inp)
    )


def _mean_path(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    labels = _study_labels(inp)
    return mean_path.render_mean_path(
        inp["event_paths"], out, **({"index_name": labels["index_name"]} if labels else {})
    )


def _dists(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return event_charts.render_forward_distributions(
        inp["events"], inp["forward_returns"], out, **_study_labels(inp, with_ticker=False)
    )


def _timeline(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    labels = _study_labels(inp)
    labels.pop("ticker", None)
    return event_charts.render_event_timeline(inp["events"], inp["open_quality"], out, **labels)


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


def _validation(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return replica_check.render_validation(inp["cta_validation_series"], _event_dates(inp), out)


def _tearsheet(inp: Inputs, out: Path, as_of: pd.Timestamp) -> style.ChartOutput:
    return replica_check.render_tearsheet(inp["backtest_returns"], inp["backtests"], out)


# keyed by the chart names of eventlab.charts.render.CHARTS (a test checks the two agree)
DRAWERS: dict[str, Drawer] = {
    "liquidity_depth": _liquidity,
    "intraday_reversal": _intraday,
    "forward_paths": _paths,
    "mean_path": _mean_path,
    "cta_monitor": _cta,
    "rate_cut_probability": _rates,
    "btc_ndx_correlation": _corr,
    "rut_ndx_relative_strength": _rs,
    "ai_peg_scatter": _peg,
    "event_timeline": _timeline,
    "forward_distributions": _dists,
    "cta_validation": _validation,
    "backtest_tearsheet": _tearsheet,
}


def warm_up() -> None:
    """Draw and save a small throwaway chart, so that matplotlib's one-off work (font lookup and
    loading, the mathtext parser behind log-axis labels, the PNG and thumbnail encoders) is done
    before the first real chart. The pool's fork server runs it once; workers inherit the result."""
    import tempfile

    x = pd.date_range("2025-01-01", periods=3, freq="MS")
    with style.style_context():
        fig = style.figure((3.0, 2.0))
        style.header(fig, "warm-up", "warm-up \u2212 subtitle", footer="warm-up footer")
        ax, ax2 = fig.subplots(1, 2)
        ax.plot(x, [-1.0, 0.0, 1.0], label="series")
        ax.legend(loc="upper left")
        ax.set_title("warm-up")
        ax.set_ylabel("percent")
        style.date_axis(ax)
        style.pct_axis(ax)
        style.note_box(ax, "note")
        ax2.plot([1.0, 2.0], [1.0, 10.0])
        ax2.set_yscale("log")
        ax2.minorticks_off()
    with tempfile.TemporaryDirectory() as tmp:
        meta = style.ChartMeta("warm-up", "warm-up", "-", ["-"], "measured")
        style.save(fig, Path(tmp), "warm_up", meta)
