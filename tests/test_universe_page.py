"""The universe report's page: Markdown blocks to house-style HTML, and tickers left out named."""

from __future__ import annotations

import pandas as pd
import pytest

from eventlab.universe.page import body_html, inline, render_page, table_html
from eventlab.universe.report import _not_studied


def test_inline_markdown_is_escaped_and_converted():
    out = inline("see `pooled_stats.csv` and [the CSV](a b.csv) <b>x</b> **bold** *it*")
    assert "<code>pooled_stats.csv</code>" in out and "`" not in out
    assert "&lt;b&gt;x&lt;/b&gt;" in out  # text from data never becomes markup
    assert "<b>bold</b>" in out and "<i>it</i>" in out
    assert inline("[x.csv](x.csv)") == '<a href="x.csv">x.csv</a>'


def test_tables_scroll_in_their_own_box_with_numbers_right_aligned():
    md = "| Sector | Events | Mean | p |\n|:--|--:|--:|--:|\n| Health Care | 1,234 | -0.45% | <0.001 |"
    out = table_html(md)
    assert out.startswith('<div class="scroll"><table>')
    assert '<td class="n">1,234</td>' in out and '<td class="n">-0.45%</td>' in out
    assert '<td class="n">&lt;0.001</td>' in out and "<td>Health Care</td>" in out


@pytest.mark.graph
def test_page_has_a_viewport_links_its_files_and_no_literal_backticks(tmp_path):
    md = "# Title\n\nData: x.\n\n> **Survivorship bias: today's members**\n\n## Files\n\n[a.csv](a.csv), `b`"
    html = render_page(
        md, tmp_path, title="Universe study: t", as_of="2021-04-21",
        generated_utc="2026-12-06 21:00 UTC", data_line="Data: x.", files=["a.csv"],
    )  # fmt: skip
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<a href="a.csv">a.csv</a>' in html and '<a href="manifest.json">' in html
    assert "`" not in body_html(md, tmp_path)
    assert html.count("Data: x.") == 1  # the data line once, in the header
    assert '<p class="callout"><b>Survivorship bias' in html
    assert "+00:00 UTC" not in html


def test_tickers_left_out_are_named_with_the_reason():
    tickers = pd.DataFrame(
        {
            "ticker": ["A", "VTRS", "XYZ"],
            "status": ["ok", "too_short", "failed"],
            "message": ["", "107 trading days, fewer than the 270 the study needs", None],
        }
    )
    lines = _not_studied(tickers)
    text = "\n".join(lines)
    assert "too_short (1): VTRS (107 trading days, fewer than the 270 the study needs)" in text
    assert "failed (1): XYZ." in text and " A" not in text
    assert _not_studied(tickers[tickers.status == "ok"]) == []
