"""Report: claim verdicts, narrative and templates, from small synthetic frames (no Dagster)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import fixture_chart, fixture_claims, render_fixture_report, synthetic_data

from eventlab.report.charts_gallery import collect_charts
from eventlab.report.claims import (
    CANNOT,
    CONFIRMED,
    DIFFERS,
    RESULT_COLUMNS,
    TESTS,
    ClaimData,
    evaluate_claims,
    load_claims,
)
from eventlab.report.context import build_context
from eventlab.report.templating import render_html, render_markdown


def test_verdicts_confirmed_differs_cannot_check() -> None:
    res = evaluate_claims(synthetic_data(), fixture_claims()).set_index("id")
    assert list(res.reset_index().columns) == list(RESULT_COLUMNS)
    expect = {
        "T01": CONFIRMED,  # 4 events in the table
        "T02": DIFFERS,  # quoted 8
        "T03": CONFIRMED,  # -1.557% vs -1.6% within 0.05 pp
        "T04": DIFFERS,  # 26.42 vs 26.05
        "T05": CANNOT,  # no DJI series
        "T06": DIFFERS,  # 11-21 is not an event; 11-20 is
        "T07": DIFFERS,  # previous two are 2025-04-08 and 2025-07-31
        "T08": CONFIRMED,  # 37.2% vs 35% within 2.5 pp
        "T09": CANNOT,  # no row with info date 11-18
        "T10": CANNOT,  # no CTA table
        "T11": DIFFERS,  # opens usable only from 2008-03-24
        "T12": CANNOT,
    }
    assert res["verdict"].to_dict() == expect
    assert "2025-11-20" in res.loc["T06", "evidence"]
    assert "2025-07-31" in res.loc["T07", "evidence"]
    assert res.loc["T04", "computed_display"] == "26.42"
    assert "DJI" in res.loc["T05", "evidence"]
    assert abs(float(res.loc["T08", "computed_value"]) - 0.372) < 1e-9


def test_cta_claims_picked_up_when_present() -> None:
    data = synthetic_data()
    from eventlab.cta.claims import CLAIM_COLUMNS as CTA_CLAIM_COLUMNS

    data.cta_claims = pd.DataFrame(
        {
            "claim_id": ["short_term_level", "notional"],
            "replica_value": [6731.0, 120.0],
            "replica_date": ["2025-11-20"] * 2,
        }
    ).reindex(columns=CTA_CLAIM_COLUMNS)  # the replica's real columns, the rest empty
    res = evaluate_claims(data, fixture_claims()).set_index("id")
    assert res.loc["T10", "verdict"] == CONFIRMED
    assert "6,731" in res.loc["T10", "evidence"]


def test_missing_events_table_is_cannot_check() -> None:
    data = synthetic_data()
    data.events = None
    res = evaluate_claims(data, fixture_claims()).set_index("id")
    assert res.loc["T01", "verdict"] == CANNOT and res.loc["T06", "verdict"] == CANNOT


def test_shipped_claims_table_is_valid() -> None:
    claims = load_claims()
    assert len(claims) >= 30
    assert set(claims["method"]) <= set(TESTS)
    for _, c in claims.iterrows():
        json.loads(c["params"] or "{}")
        assert c["quote_zh"] and c["source_doc"] and c["source_section"], c["id"]
    # every claim evaluates on empty data without crashing: everything is 'cannot check'
    res = evaluate_claims(ClaimData(), claims)
    assert set(res["verdict"]) == {CANNOT}


@pytest.mark.graph
def test_templates_render_self_contained(tmp_path: Path) -> None:
    html_path = render_fixture_report(tmp_path)
    html = html_path.read_text()
    md = (tmp_path / "report.md").read_text()
    # no external resources: every src/href is a data: URI or an in-page anchor
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert refs and all(r.startswith(("data:", "#")) for r in refs), [
        r for r in refs if not r.startswith(("data:", "#"))
    ]
    assert not re.search(r"https?://", html), "external URL in the HTML"
    assert "<link" not in html and "@import" not in html
    assert html.count("data:image/png;base64,") == 1
    # content: narrative numbers computed from the frames, sections, verdict badges
    for text in (
        "4 days",
        "2025-11-20",
        "+1.44%",
        "Claims vs data",
        "Data limits",
        "Open quality by era",
        "6,725",
    ):
        assert text in html, text
    # data checks and model comparisons are counted apart (T10 is the one model comparison)
    assert "confirmed 3" in html and "differs 5" in html and "cannot check 3" in html
    assert "confirmed 0" in html and "differs 0" in html and "cannot check 1" in html
    assert "Small sample (4 events)" in html
    for text in (
        "## Claims vs data",
        "## Every event",
        "| 2025-11-20 |",
        "![Forward paths](charts/forward_paths.png)",
        "**differs**",
    ):
        assert text in md, text


@pytest.mark.graph
def test_render_without_optional_inputs(tmp_path: Path) -> None:
    ctx = build_context(
        as_of="2025-11-28",
        generated_utc="x",
        events=None,
        event_stats=None,
        eras=None,
        claims=None,
        cta_tables=None,
        charts=[],
    )
    html, md = render_html(ctx), render_markdown(ctx)
    assert "not available in this run" in html and "not available in this run" in md
    assert "No chart files" in html


@pytest.mark.parametrize("bad", ["not json", None])
@pytest.mark.graph
def test_unreadable_chart_sidecar_does_not_break(tmp_path: Path, bad: str | None) -> None:
    fixture_chart(tmp_path)
    side = tmp_path / "charts" / "forward_paths.json"
    if bad is None:
        side.unlink()
    else:
        side.write_text(bad)
    charts = collect_charts(tmp_path)
    assert len(charts) == 1 and charts[0].png_b64


def test_one_formatting_for_every_report_module() -> None:
    """tables, lead, narrative and key_figures format through eventlab.report.formatting:
    the same value reads the same everywhere; only the missing marker differs (cell vs prose)."""
    from eventlab.report import formatting, key_figures, lead, narrative, tables

    assert tables.pct is formatting.pct and key_figures.pct is formatting.pct
    assert tables.pval is formatting.pval and tables.num is formatting.num
    for x in (0.0144, -0.5, np.float32(0.25), 0):
        assert lead._pct(x) == narrative._pct(x) == formatting.pct(x)
    assert formatting.pct(0.0144) == "+1.44%" and formatting.pct(0.5, 0, False) == "50%"
    assert formatting.pval(0.0004) == "<0.001" and formatting.pval(0.05) == "0.050"
    assert formatting.num(6712.5) == "6,712.50"
    # every kind of missing value: None, float and numpy NaN, NaT, pd.NA (a nullable column)
    for missing in (None, float("nan"), np.float32("nan"), pd.NaT, pd.NA):
        assert formatting.pct(missing) == formatting.pval(missing) == "–"
        assert lead._pct(missing) == lead._p(missing) == narrative._pct(missing) == "n/a"


def test_hit_rates_in_cta_tables_read_as_shares_of_events() -> None:
    from eventlab.report.cta_tables import _cell

    assert _cell("hit_rate_20d", 2 / 3) == "67%"
    assert _cell("hit_rate_20d", 1) == "100%" and _cell("hit_rate_20d", 0.0) == "0%"
    assert _cell("median_fwd_20d", 0.045) == "+4.5%"  # returns keep their sign


def test_the_headline_count_names_the_span_the_data_can_see() -> None:
    from eventlab.report.context import visible_span

    cov = {"sample_start": "2008-03-24", "requested_start": "1957-01-01"}
    assert visible_span(cov, "2018-02-23") == (
        "since 2008-03-24, effectively since 2018-02-23; asked: since 1957-01-01"
    )
    # opens accurate from the sample's start, and a sample that starts where it was asked
    assert visible_span({**cov, "requested_start": "2008-03-24"}, "2008-01-02") == (
        "since 2008-03-24"
    )
    assert visible_span(cov, None) == "since 2008-03-24; asked: since 1957-01-01"
