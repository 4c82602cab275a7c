"""Charts: each renders from small synthetic frames (and a few from the snapshot) into a valid
PNG plus a sidecar with the fixed schema, and the numbers a chart states are computed."""

import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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
from eventlab.charts.registry import CHARTS
from pipelines.stages.charts import render_charts

pytestmark = pytest.mark.graph  # renders charts (the few pure helpers here ride along)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def check_output(out: style.ChartOutput, min_w: int = 2000) -> dict:
    assert out.png.exists() and out.sidecar.exists()
    w, h = png_size(out.png)
    assert w >= min_w and h >= 600, (w, h)
    side = json.loads(out.sidecar.read_text())
    assert tuple(side) == style.SIDECAR_KEYS
    assert side["kind"] in ("measured", "model", "mixed")
    assert isinstance(side["sources"], list) and side["sources"]
    assert side["title"] and side["caption"] and side["data_span"]
    assert side["offline_note"] is None or isinstance(side["offline_note"], str)
    return side


# ---------- synthetic frames ----------


def daily(n=400, seed=0, start="2023-01-02", level=100.0, freq="B") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq=freq, name="date")
    close = level * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * (1 + rng.normal(0, 0.003, n))
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.004,
            "low": np.minimum(open_, close) * 0.996,
            "close": close,
            "volume": 1e6,
        },
        index=idx,
    )


def bars(days=("2025-11-18", "2025-11-19", "2025-11-20"), seed=1, level=600.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for d in days:
        idx = pd.date_range(
            f"{d} 09:30", f"{d} 15:55", freq="5min", tz="America/New_York", name="timestamp"
        )
        c = level * np.exp(np.cumsum(rng.normal(0, 0.001, len(idx))))
        frames.append(
            pd.DataFrame(
                {
                    "open": c * 0.9999,
                    "high": c * 1.001,
                    "low": c * 0.999,
                    "close": c,
                    "volume": rng.integers(1e5, 1e6, len(idx)).astype(float),
                },
                index=idx,
            )
        )
        level = float(c[-1])
    return pd.concat(frames)


def test_impact_per_dollar_on_tiny_frame():
    idx = pd.DatetimeIndex(
        ["2025-01-02 09:30", "2025-01-02 09:35", "2025-01-03 09:30", "2025-01-03 09:35"]
    ).tz_localize("America/New_York")
    df = pd.DataFrame(
        {"open": [100, 101, 102, 103], "close": [101, 100, 103, 103], "volume": [1e6, 2e6, 1e6, 0]},
        index=idx,
    )
    per = liquidity.bar_impact(df)
    # bar 1: |101/100 - 1| / (1e6 * 101) in bp per $100M
    assert per["impact_bp_per_100m"].iloc[0] == pytest.approx(0.01 / (1e6 * 101) * 1e4 * 1e8)
    # bar 2: vs the previous bar's close, same session
    assert per["ret"].iloc[1] == pytest.approx(100 / 101 - 1)
    # a new session starts from its own open, not yesterday's close
    assert per["ret"].iloc[2] == pytest.approx(103 / 102 - 1)
    # zero volume -> undefined impact
    assert np.isnan(per["impact_bp_per_100m"].iloc[3])
    # linear book-walk model: half a tick plus tick * Q / (2D)
    assert liquidity.book_walk_slippage_bp(1e8, 5e6, 0.4) == pytest.approx(0.2 + 0.4 * 20 / 2)


def test_liquidity_chart_synthetic(tmp_path):
    b = bars(days=[d.strftime("%Y-%m-%d") for d in pd.bdate_range("2025-10-20", "2025-11-20")])
    out = liquidity.render(b, "2025-11-20", tmp_path, index_level=6600.0, baseline_sessions=20)
    side = check_output(out)
    assert side["kind"] == "mixed" and "model" in side["caption"]
    r = liquidity.event_vs_baseline(b, "2025-11-20", 20)
    assert len(r["baseline_days"]) == 20
    assert out.numbers["impact_ratio"] == pytest.approx(
        r["event_median_impact"] / r["baseline_median_impact"]
    )


def test_intraday_normalization_and_chart(tmp_path):
    spx, nv = bars(seed=2, level=6600), bars(seed=3, level=180)
    s = intraday.normalized_session(spx, "2025-11-20", prior_close=6600.0)
    sess = spx.loc["2025-11-20"]
    assert s.iloc[0] == pytest.approx((sess["open"].iloc[0] / 6600 - 1) * 100)
    assert s.iloc[-1] == pytest.approx((sess["close"].iloc[-1] / 6600 - 1) * 100)
    assert s.index[-1] == "16:00"
    spx_daily = daily(600, start="2023-06-01", level=6600)
    out = intraday.render(
        spx, nv, ["2020-04-07", "2025-11-19", "2025-11-20"], tmp_path, spx_daily=spx_daily
    )
    check_output(out)
    assert set(out.numbers) == {"2025-11-19", "2025-11-20"}  # 2020 is outside the bars


def test_wilder_rsi_hand_computed():
    x = pd.Series(
        [
            44.0,
            44.34,
            44.09,
            43.61,
            44.33,
            44.83,
            45.10,
            45.42,
            45.84,
            46.08,
            45.89,
            46.03,
            45.61,
            46.28,
            46.28,
            46.00,
            46.03,
            46.41,
            46.22,
            45.64,
        ]
    )
    n = 14
    d = np.diff(x.to_numpy())
    g, lo = np.clip(d, 0, None), np.clip(-d, 0, None)
    ag, al = g[:n].mean(), lo[:n].mean()
    expected = [100 - 100 / (1 + ag / al)]
    for i in range(n, len(d)):
        ag = (ag * (n - 1) + g[i]) / n
        al = (al * (n - 1) + lo[i]) / n
        expected.append(100 - 100 / (1 + ag / al))
    rsi = relative_strength.wilder_rsi(x, n)
    assert rsi.iloc[:n].isna().all()
    np.testing.assert_allclose(rsi.iloc[n:].to_numpy(), expected)
    # fully by hand, n = 2 on [1, 2, 1, 3]: changes +1, -1, +2
    # seed: gain 0.5, loss 0.5 -> RSI 50; then gain (0.5 + 2) / 2 = 1.25, loss 0.25 -> RS 5 -> 83.33
    tiny = relative_strength.wilder_rsi(pd.Series([1.0, 2.0, 1.0, 3.0]), 2)
    np.testing.assert_allclose(tiny.to_numpy()[2:], [50.0, 100 - 100 / 6])
    up = relative_strength.wilder_rsi(pd.Series(np.arange(30.0)), 14)
    assert up.iloc[-1] == 100.0


def test_relative_strength_chart(tmp_path):
    rut, ndx = daily(700, seed=4, level=2000), daily(700, seed=5, level=20000)
    out = relative_strength.render(rut, ndx, tmp_path, months=12, event_dates=["2024-06-03"])
    check_output(out)
    ratio = rut["close"] / ndx["close"]
    assert out.numbers["last_ratio"] == pytest.approx(ratio.iloc[-1])
    assert out.numbers["last_rsi"] == pytest.approx(relative_strength.wilder_rsi(ratio).iloc[-1])


def test_rolling_correlation_hand_computed(tmp_path):
    ndx = daily(300, seed=6, level=20000)
    btc = daily(420, seed=7, level=60000, freq="D", start="2022-12-01")  # 7-day calendar
    rets = correlation.aligned_returns(ndx["close"], btc["close"])
    assert rets.index.isin(ndx.index).all()  # NYSE days only
    # BTC's return on a Monday spans the weekend (Friday close -> Monday close)
    mon = rets.index[rets.index.dayofweek == 0][0]
    fri = ndx.index[ndx.index.get_loc(mon) - 1]
    assert rets.loc[mon, "btc"] == pytest.approx(btc["close"][mon] / btc["close"][fri] - 1)
    corr = correlation.rolling_correlation(rets, (20, 60))
    w = rets.iloc[-20:]
    assert corr["20d"].iloc[-1] == pytest.approx(np.corrcoef(w["index"], w["btc"])[0, 1])
    assert corr["60d"].iloc[:59].isna().all()
    out = correlation.render(ndx, btc, tmp_path, windows=(20, 60), start="2023-01-01")
    check_output(out)
    assert out.numbers["last_20d"] == pytest.approx(corr["20d"].iloc[-1])


def test_peg_computed_from_inputs(tmp_path):
    fwd = pd.DataFrame(
        {
            "Date": ["2026-03-19", "2026-03-20", "2026-03-20", "2026-03-20"],
            "Ticker": ["NVDA", "NVDA", "MSFT", "TSLA"],
            "FwdPE_NextFY": [99.0, 24.0, 30.0, 150.0],
        }
    )
    f_new = pd.DataFrame(
        {
            "AsOfClose": "2026-01-30",
            "ticker": ["NVDA", "MSFT", "TSLA"],
            "earningsGrowth": [0.60, 0.15, -0.2],
        }
    )
    f_old = pd.DataFrame(
        {"AsOfClose": "2025-06-13", "ticker": ["NVDA"], "trailingPegRatio": [1.7]}
    )  # no growth column
    day, pe = valuation.forward_pe_on(fwd, "2026-08-20")
    assert str(day.date()) == "2026-03-20" and pe["NVDA"] == 24.0
    tab = valuation.peg_table(
        pe, f_new.set_index("ticker")["earningsGrowth"], ("NVDA", "MSFT", "TSLA", "TSM")
    ).set_index("ticker")
    assert tab.loc["NVDA", "peg"] == pytest.approx(24.0 / 60.0)
    assert tab.loc["MSFT", "peg"] == pytest.approx(2.0)
    assert np.isnan(tab.loc["TSLA", "peg"]) and "undefined" in tab.loc["TSLA", "missing"]
    assert tab.loc["TSM", "missing"] == "not in either input"
    out = valuation.render(
        fwd,
        {"old": f_old, "new": f_new},
        "2026-08-20",
        tmp_path,
        tickers=("NVDA", "MSFT", "TSLA", "TSM"),
    )
    side = check_output(out)
    assert out.numbers["pe_date"] == "2026-03-20" and out.numbers["growth_date"] == "2026-01-30"
    assert "TSM" in side["caption"] and "2026-03-20" in side["offline_note"]


def study_frames():
    px = daily(900, seed=8, start="2020-01-01", level=3000)
    close = px["close"]
    fr = pd.DataFrame({f"fwd_{k}d": close.shift(-k) / close - 1 for k in (1, 5, 20)})
    ev_dates = close.index[[300, 500, 700]]
    fr["in_sample"] = True
    fr["is_event"] = fr.index.isin(ev_dates)
    events = pd.DataFrame(
        {"date": ev_dates, "gap": [0.011, 0.02, 0.013], "close_to_close": [-0.002, -0.01, -0.004]}
    )
    for k in (1, 5, 20):
        events[f"fwd_{k}d"] = fr.loc[ev_dates, f"fwd_{k}d"].to_numpy()
    rows = []
    for d in ev_dates:
        i = close.index.get_loc(d)
        for off in range(-5, 21):
            rows.append(
                {"event_date": d, "offset": off, "ret": close.iloc[i + off] / close.iloc[i] - 1}
            )
    paths = pd.DataFrame(rows)
    oq = pd.DataFrame(
        {
            "open_genuine_raw": True,
            "coverage": np.linspace(0, 1, len(px)),
            "open_genuine": np.arange(len(px)) > 200,
        },
        index=px.index,
    )
    return px, events, paths, fr, oq


def test_event_charts(tmp_path):
    px, events, paths, fr, oq = study_frames()
    out = event_charts.render_forward_paths(events, paths, fr, tmp_path)
    check_output(out)
    base20 = fr.loc[~fr["is_event"], "fwd_20d"].dropna() * 100
    assert out.numbers["T+20"]["baseline_median"] == pytest.approx(base20.median())
    assert out.numbers["T+20"]["event_median"] == pytest.approx(events["fwd_20d"].median() * 100)
    out = event_charts.render_forward_distributions(events, fr, tmp_path)
    check_output(out)
    v = events["fwd_5d"].iloc[0] * 100
    b5 = fr.loc[~fr["is_event"], "fwd_5d"].dropna() * 100
    assert out.numbers["T+5"]["percentiles"][str(events["date"].iloc[0].date())] == pytest.approx(
        (b5 <= v).mean() * 100
    )
    out = event_charts.render_event_timeline(events, oq, tmp_path, start="2020-01-01")
    check_output(out)
    assert out.numbers["first_usable"] == str(oq.index[201].date())


def test_cta_monitor(tmp_path):
    px = daily(400, seed=9, start="2025-01-01", level=6500)
    lv = pd.DataFrame(
        {"level_short": px["close"].shift(20), "level_long": px["close"].rolling(50).mean()},
        index=px.index,
    )
    out = cta_monitor.render(px, lv, px.index[-1], tmp_path, event_day=px.index[250])
    side = check_output(out)
    assert out.numbers["levels_in_force_next"]["short"] == pytest.approx(lv["level_short"].iloc[-1])
    assert side["kind"] == "mixed"
    # without the replica: only the notes' line, labelled as such
    out = cta_monitor.render(px, None, px.index[-1], tmp_path, name="cta_no_levels")
    assert check_output(out)["kind"] == "measured"


def test_rate_cut_from_snapshot(tmp_path):
    """From the shipped tables: the lag correction improves agreement with Polymarket (SOURCES.md:
    8.0 pp as dated vs 3.6 pp re-dated), and the notes' values are on the chart."""
    from eventlab.data.snapshot import read_aux

    prob = read_aux("fomc_prob_next_meeting")
    fut = rate_cut.futures_implied_cut(prob)
    # the row dated 2025-11-24 (after Williams' speech on Fri 11-21) is plotted at 11-21
    assert fut.loc["2025-11-21", "row_date"] == pd.Timestamp("2025-11-24")
    out = rate_cut.render(
        prob, read_aux("fomc_dec2025_prediction_markets"), read_aux("zq_futures"), tmp_path
    )
    side = check_output(out)
    assert out.numbers["mae_poly_pp_lag_corrected"] < out.numbers["mae_poly_pp_as_dated"]
    assert out.numbers["mae_poly_pp_as_dated"] == pytest.approx(8.0, abs=0.3)
    assert out.numbers["zq_2026_07_29"]["post_rate"] == pytest.approx(100 - 96.295, abs=0.05)
    assert side["offline_note"]


def test_intraday_from_snapshot(tmp_path):
    from eventlab.data.snapshot import read_series

    spx, nv, g = read_series("SPX_5m"), read_series("NVDA_5m"), read_series("GSPC")
    s = intraday.normalized_session(spx, "2025-11-20", prior_close=6642.16)
    assert s.iloc[0] == pytest.approx((6737.93 / 6642.16 - 1) * 100, abs=1e-6)  # SOURCES.md open
    out = intraday.render(spx, nv, ["2024-08-07", "2025-11-20"], tmp_path, spx_daily=g)
    check_output(out)
    # the y-axis labels of the event-day panels used to run off the left edge
    assert out.clipped == []


def test_pool_and_in_process_render_the_same_files(tmp_path):
    """Two charts through the process pool produce the same files as in-process rendering."""
    jobs = rs_jobs()
    as_of = pd.Timestamp("2024-01-01")
    outs = {o.name: o for o in render_charts(jobs, tmp_path / "pool", as_of, workers=2)}
    assert set(outs) == set(jobs)
    for o in outs.values():
        check_output(o)
        assert o.seconds > 0 and o.thumbnail_b64
    ones = {o.name: o for o in render_charts(jobs, tmp_path / "one", as_of, workers=1)}
    for name, o in ones.items():
        assert o.png.read_bytes() == outs[name].png.read_bytes(), name
    assert len({c.name for c in CHARTS}) == len(CHARTS) == 14


def test_chart_package_has_no_import_cycle_and_one_registry():
    """eventlab.charts imports form a DAG with the registry on top: no chart module imports
    the registry, and no module imports another inside a function (the way cycles hide)."""
    import ast

    pkg = Path(style.__file__).parent
    graph: dict[str, set[str]] = {}
    for f in pkg.glob("*.py"):
        tree = ast.parse(f.read_text())
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            local = {n.split(".")[2] for n in names if n.startswith("eventlab.charts.")}
            assert not local or node in tree.body, f"{f.stem} imports {local} inside a function"
            deps |= local & {p.stem for p in pkg.glob("*.py")}
        graph[f.stem] = deps
    assert not [m for m, deps in graph.items() if "registry" in deps]
    done: set[str] = set()

    def visit(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, f"import cycle: {' -> '.join((*path, m))}"
        if m not in done:
            for d in graph[m]:
                visit(d, (*path, m))
            done.add(m)

    for m in graph:
        visit(m, ())


def test_thumbnail_is_small(tmp_path):
    out = relative_strength.render(daily(300, seed=13), daily(300, seed=14), tmp_path, months=6)
    b64 = style.thumbnail_b64(out.png)
    assert 1000 < len(b64) < 120_000


def test_save_writes_the_pixels_savefig_would(tmp_path):
    """One draw feeds both the PNG and the thumbnail; the PNG has savefig's pixels (RGB: the
    figure is opaque, so savefig's alpha channel is 255 everywhere), size and dpi."""
    import base64
    import io

    from PIL import Image

    def fig():
        with style.style_context():
            f = style.figure()
            style.header(f, "title", "subtitle", footer="footer")
            ax = f.add_subplot()
            ax.plot(pd.date_range("2025-01-01", periods=50), np.linspace(-2, 3, 50), label="x")
            ax.set_yscale("symlog")
            ax.legend()
            style.date_axis(ax)
        return f

    ref = io.BytesIO()
    fig().savefig(ref, dpi=style.DPI, format="png")
    meta = style.ChartMeta("t", "c", "2025-01-01 .. 2025-02-19", ["test"], "measured")
    out = style.save(fig(), tmp_path, "x", meta)
    check_output(out)
    with Image.open(ref) as a, Image.open(out.png) as b:
        assert b.size == a.size == (2200, 1240) and (a.mode, b.mode) == ("RGBA", "RGB")
        assert b.info["dpi"] == pytest.approx(a.info["dpi"])
        ref_px = np.asarray(a)
        assert (ref_px[..., 3] == 255).all()
        np.testing.assert_array_equal(ref_px[..., :3], np.asarray(b))
    assert not list(tmp_path.glob(".*.tmp"))  # temp files renamed away
    with Image.open(io.BytesIO(base64.b64decode(out.thumbnail_b64))) as th:
        assert th.size == (style.THUMB_WIDTH, round(1240 * style.THUMB_WIDTH / 2200))
    # the file-based thumbnail makes the same image
    assert style.thumbnail_b64(out.png) == out.thumbnail_b64


def test_screen_copy_keeps_white_grid_and_lines(tmp_path):
    """The report's palette copy (style.palette_image) against the RGB image it is made from:
    the white background stays exactly white, the light grid stays a light grey within a few
    levels of its colour, and the whole image is within about a level on average."""
    from matplotlib.colors import to_rgb
    from PIL import Image

    with style.style_context():
        fig = style.figure()
        style.header(fig, "title", "subtitle")
        ax = fig.add_subplot()
        x = np.linspace(0, 10, 400)
        for k, c in enumerate(style.SERIES_COLORS):
            ax.plot(x, np.sin(x + k) + k, color=c)
        ax.fill_between(x, -1, 1, color=style.BASE, alpha=0.2)
    meta = style.ChartMeta("t", "c", "2020-01-01 .. 2020-12-31", ["s"], "measured")
    out = style.save(fig, tmp_path, "lines", meta)
    with Image.open(out.png) as big:
        rgb = np.asarray(style.screen_image(big.convert("RGB")), dtype=int)
    with Image.open(tmp_path / "screen" / "lines.png") as small:
        assert small.mode == "P"
        got = np.asarray(small.convert("RGB"), dtype=int)
    err = np.abs(got - rgb).max(axis=2)
    white = (rgb == 255).all(axis=2)
    assert white.mean() > 0.3 and err[white].max() == 0
    grid_rgb = np.rint(np.array(to_rgb(style.GRID)) * 255).astype(int)
    grid = (rgb == grid_rgb).all(axis=2)
    assert grid.sum() > 300, "the figure has grid lines"
    assert err[grid].max() <= 8 and (got[grid] < 245).all()  # still a visible light grey
    assert err.mean() < 1.5


LONG_FOOTER = (
    "Band: mean ± t(0.975, n−1) × sd / √n at each offset; an event too recent for an offset "
    "drops out of it, so n falls at the right edge. Overlapping windows; with this few events, "
    "read medians and hit rates, not a t-stat. A deliberately long footer that needs two lines."
)


def test_wrapped_footer_keeps_savefig_pixels(tmp_path):
    """A footer long enough to wrap comes out of style.save with exactly savefig's pixels."""
    from PIL import Image

    def fig():
        with style.style_context():
            f = style.figure()
            style.header(f, "title", "subtitle", footer=LONG_FOOTER + " " + LONG_FOOTER)
            f.add_subplot().plot([0, 1], [0, 1])
        return f

    ref = tmp_path / "ref.png"
    fig().savefig(ref, dpi=style.DPI)
    meta = style.ChartMeta("t", "c", "2025-01-01 .. 2025-02-19", ["test"], "measured")
    out = style.save(fig(), tmp_path, "x", meta)
    with Image.open(ref) as a, Image.open(out.png) as b:
        np.testing.assert_array_equal(np.asarray(a)[..., :3], np.asarray(b))


def rs_jobs():
    rut, ndx = daily(300, seed=10, level=2000), daily(300, seed=11, level=20000)
    btc = daily(420, seed=12, level=60000, freq="D", start="2022-12-01")
    return {
        "rut_ndx_relative_strength": {"RUT": rut, "NDX": ndx, "events": None},
        "btc_ndx_correlation": {"NDX": ndx, "BTC_USD": btc, "events": None},
    }


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (72.4, "72nd"), (73, "73rd"), (111, "111th"), (112, "112th")],
)  # fmt: skip
def test_ordinal_suffixes(n, text):
    assert style.ordinal(n) == text


def test_main_job_draws_what_the_warehouse_holds(materialized):
    """The whole graph draws every chart; the published files equal an in-process render from
    the stored frames."""
    from eventlab.charts.registry import BY_NAME, draw_chart
    from pipelines.stages.charts import INPUT_KEYS, chart_key, needed

    failures = [e.event_specific_data.error.to_string() for e in materialized.result.all_events
                if e.is_step_failure]  # fmt: skip
    assert materialized.result.success, failures  # say why, not StopIteration below
    mats = materialized.result.asset_materializations_for_node("charts")
    drawn = {m.asset_key: m.metadata for m in mats}
    assert set(drawn) == {chart_key(c.name) for c in CHARTS}, sorted(map(str, drawn))
    as_of = pd.Timestamp(
        json.loads((materialized.report_dir / "manifest.json").read_text())["as_of"]
    )
    wh = materialized.warehouse
    for name in ("rut_ndx_relative_strength", "cta_validation"):
        frames = {
            k: pd.read_parquet(wh.joinpath(*INPUT_KEYS[k].path).with_suffix(".parquet"))
            for k in needed(BY_NAME[name])
        }
        out = draw_chart(name, frames, materialized.report_dir.parent / "rerender", as_of)
        published = materialized.report_dir / "charts" / f"{name}.png"
        assert out.png.read_bytes() == published.read_bytes(), name
