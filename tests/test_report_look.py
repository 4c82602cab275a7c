"""The report's presentation: key figures, the mean path band, readable labels, the embedded CJK
font and the right-sized chart copies (no Dagster, no browser; tests/test_browser.py checks what
Chromium shows)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import render_fixture_report, synthetic_data
from scipy import stats

from eventlab.report.charts_gallery import collect_charts
from eventlab.report.context import build_context
from eventlab.report.cta_tables import generic_table
from eventlab.report.fonts import (
    CJK_FONT,
    cjk_chars,
    covered_chars,
    missing_glyphs,
    report_text_sources,
)
from eventlab.report.key_figures import key_figures
from eventlab.report.labels import column_label, cta_value
from eventlab.report.templating import render_html
from eventlab.study.returns import mean_path_band


def test_mean_path_band_counts_events_per_offset() -> None:
    paths = pd.DataFrame(
        {
            "event_date": np.repeat(pd.to_datetime(["2020-01-02", "2021-01-04", "2022-01-03"]), 3),
            "offset": np.tile([-1, 0, 1], 3),
            "ret": [-0.01, 0.0, 0.02, 0.01, 0.0, 0.04, 0.0, 0.0, np.nan],  # last: too recent
        }
    )
    band = mean_path_band(paths).set_index("offset")
    assert band.loc[1, "n"] == 2 and band.loc[0, "n"] == 3
    assert band.loc[1, "mean"] == pytest.approx(0.03)
    half = stats.t.ppf(0.975, 1) * np.std([0.02, 0.04], ddof=1) / np.sqrt(2)
    assert band.loc[1, "high"] - band.loc[1, "mean"] == pytest.approx(half)
    assert band.loc[1, "low"] < band.loc[1, "mean"] < band.loc[1, "high"]


def test_key_figures_from_the_events_table() -> None:
    data = synthetic_data()
    kf = key_figures(data.events, data.event_stats)
    assert kf is not None and kf["columns"] == ["T+1", "T+5", "T+20"]
    rows = {r["label"]: r["cells"] for r in kf["rows"]}
    # T+20: 3 events have a return, one is too recent
    assert rows["Events"][2]["text"] == "3" and "1 too recent" in rows["Events"][2]["sub"]
    x = data.events["fwd_20d"].dropna()
    assert rows["Mean"][2]["text"] == f"{x.mean():+.2%}"
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert rows["Mean"][2]["sub"] == f"{lo:+.2%} … {hi:+.2%}"
    assert rows["Hit rate"][0]["text"] == "75% (3/4)"
    assert rows["Worst event"][0]["text"] == f"{data.events['fwd_1d'].min():+.2%}"
    assert rows["Median"][0]["sub"].startswith("non-event days")
    assert key_figures(None, None) is None


def test_cta_tables_show_readable_headings_and_values() -> None:
    df = pd.DataFrame(
        {
            "claim": ["x"],
            "notes_value": [6725.0],
            "why_differ": ["because"],
            "scenario": ["down_2sd"],
            "flow_usd": [-4.5e10],
            "event_dates": ["2020-04-07;2025-11-20"],
        }
    )
    t = generic_table(df)
    assert t["columns"] == [
        "Claim (notes)",
        "Notes' value",
        "Why they can differ",
        "Scenario",
        "Flow (USD, selling < 0)",
        "Event dates",
    ]
    assert t["rows"][0][3] == "down 2 sd" and t["rows"][0][5] == "2020-04-07, 2025-11-20"
    assert t["classes"][1] == "n" and t["classes"][2] == "wide"
    assert column_label("some_new_column") == "Some new column"
    assert cta_value("method", "root finding", "root finding") == "root finding"


@pytest.mark.graph
def test_rendered_report_has_no_raw_column_names(tmp_path: Path) -> None:
    html = render_fixture_report(tmp_path).read_text()
    text = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    for raw in ("notes_value", "why_differ", "flow_usd", "brentq", "event_dates"):
        assert raw not in text, raw
    assert 'class="keyfig' in html and "Key figures" in html
    assert 'class="toc"' in html and 'href="#top"' in html


@pytest.mark.graph
def test_every_cjk_character_the_report_can_print_has_a_glyph(tmp_path: Path) -> None:
    """The committed font subset covers every CJK character in the claims table and the code
    that writes the report; if not, the message names them and the command that rebuilds it.
    (The browser test checks the real report's text with missing_glyphs.)"""
    assert CJK_FONT.is_file() and CJK_FONT.stat().st_size < 300_000
    needed: set[str] = set()
    for _, text in report_text_sources():
        needed |= cjk_chars(text)
    assert len(needed) > 50  # the claims quote the notes in Chinese
    missing = "".join(sorted(needed - covered_chars()))
    assert not missing, (
        f"the embedded CJK font lacks {missing!r}: run .venv/bin/python scripts/build_cjk_font.py"
    )
    assert missing_glyphs("收盘 八") == "八"  # a character outside the subset is reported
    html = render_fixture_report(tmp_path).read_text()
    # embedded once, as a data URL, limited to CJK code points
    assert html.count("@font-face") == 1 and "data:font/woff;base64," in html
    assert "unicode-range: U+2E80-2FDF" in html and '"eventlab CJK"' in html


@pytest.mark.graph
def test_charts_embed_the_screen_copy(tmp_path: Path) -> None:
    """style.save writes a 1500-px palette copy beside the print PNG; the report embeds it."""
    from PIL import Image

    from eventlab.charts import style

    with style.style_context():
        fig = style.figure()
        fig.add_subplot().plot([0, 1], [0, 1])
    meta = style.ChartMeta("t", "c", "2020-01-01 .. 2020-12-31", ["s"], "measured")
    out = style.save(fig, tmp_path / "charts", "forward_paths", meta)
    screen = tmp_path / "charts" / "screen" / "forward_paths.png"
    with Image.open(out.png) as big, Image.open(screen) as small:
        assert big.width == 2200 and small.width == style.SCREEN_WIDTH and small.mode == "P"
    assert screen.stat().st_size < out.png.stat().st_size / 2
    [chart] = collect_charts(tmp_path)
    assert (chart.width, chart.height) == (1500, round(1240 * 1500 / 2200))
    ctx = build_context(
        as_of="2025-11-28",
        generated_utc="x",
        events=None,
        event_stats=None,
        eras=None,
        claims=None,
        cta_tables=None,
        charts=[chart],
    )
    html = render_html(ctx)
    # the embedded screen copy links to the print PNG, which opens full size
    assert 'class="zoom" href="charts/forward_paths.png"' in html
    assert 'width="1500"' in html
