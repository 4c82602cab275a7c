"""What the Dagster UI shows for the materialized graph: table schemas and row counts, readable
previews, charts on the asset page, and report links a browser follows (issue 12, items 4 and 6)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dagster as dg
import pytest

from eventlab.charts.registry import CHARTS
from pipelines.links import base_url
from pipelines.stages.charts import INLINE_MD_LIMIT, chart_key


def _meta(materialized, key: dg.AssetKey) -> dict[str, object]:
    event = materialized.instance.get_latest_materialization_event(key)
    assert event is not None, key
    return dict(event.asset_materialization.metadata)


def _local_path(materialized, url: str) -> Path:
    """The file a report-server URL serves (the server's root is the run's reports root)."""
    assert url.startswith(base_url() + "/"), url
    return materialized.reports_root / unquote(urlsplit(url).path.lstrip("/"))


def test_table_assets_publish_column_schema_and_row_count(materialized) -> None:
    for key in (dg.AssetKey("events"), dg.AssetKey("event_stats"), dg.AssetKey(["prices", "GSPC"])):
        meta = _meta(materialized, key)
        schema = meta["dagster/column_schema"].value
        names = [c.name for c in schema.columns]
        assert meta["dagster/row_count"].value > 0, key
        assert len(names) == len(set(names)) >= 5, names
    events = _meta(materialized, dg.AssetKey("events"))
    assert "gap" in [c.name for c in events["dagster/column_schema"].value.columns]


@pytest.mark.parametrize(
    "table",
    ["events", "event_stats", "event_verdicts", "event_baselines", "backtests", "cta_levels"],
)
def test_published_columns_say_what_they_hold(materialized, table) -> None:
    """Every column of a table the docs' output contract covers carries that description."""
    from eventlab.report.column_docs import _all_docs

    schema = _meta(materialized, dg.AssetKey(table))["dagster/column_schema"].value
    documented = _all_docs()[table]
    empty = [c.name for c in schema.columns if not c.description]
    assert empty == [], f"{table}: columns without a description: {empty}"
    worded = [c for c in schema.columns if documented.get(c.name)]
    assert all(documented[c.name] in c.description for c in worded)
    # the long tables are stored as published; cta_levels is stored wide (a column per horizon)
    assert len(worded) >= (0 if table == "cta_levels" else 3), table


def test_previews_are_readable_tables(materialized) -> None:
    ev = _meta(materialized, dg.AssetKey("events"))["preview"].value
    header = ev.splitlines()[0]
    assert header.startswith("| date | gap |"), header  # key column first, no index column
    assert re.search(r"\| 20\d\d-\d\d-\d\d \| [+-]\d+\.\d\d% \|", ev), ev[:300]
    assert "00:00:00" not in ev
    stats = _meta(materialized, dg.AssetKey("event_stats"))["preview"].value
    assert len(stats.splitlines()) <= 6 and len(stats) < 2000  # the main definition, not clipped
    assert "%" in stats
    prices = _meta(materialized, dg.AssetKey(["prices", "GSPC"]))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", str(prices["first"].value)), prices["first"]


def test_charts_show_on_the_asset_page(materialized) -> None:
    for spec in CHARTS:
        meta = _meta(materialized, chart_key(spec.name))
        md = meta["chart"].value
        assert len(md) < INLINE_MD_LIMIT, (spec.name, len(md))  # inline, not in a dialog
        url = re.match(r"!\[[^\]]*\]\((http://[^)]+)\)", md).group(1)
        assert url == meta["chart_url"].value
        assert _local_path(materialized, url).is_file(), url
        assert meta["clipped_text"].value == "none", (spec.name, meta["clipped_text"].value)


def test_report_link_is_http_and_names_the_published_file(materialized) -> None:
    meta = _meta(materialized, dg.AssetKey("report"))
    url = meta["report_html"].value
    assert url.startswith("http://127.0.0.1:") and url.endswith("/report.html")
    assert _local_path(materialized, url) == materialized.report_dir / "report.html"
    assert _local_path(materialized, url).is_file()
    assert meta["latest_report"].value == base_url() + "/latest/report.html"
    assert meta["cjk_glyphs_missing"].value == "none"


def test_manifest_dates_are_iso(materialized) -> None:
    import json

    manifest = json.loads((materialized.report_dir / "manifest.json").read_text())
    iso = re.compile(r"\d{4}-\d\d-\d\d")
    for key, s in manifest["series"].items():
        assert iso.fullmatch(str(s["first"])) and iso.fullmatch(str(s["last"])), (key, s)
    for field in ("sample_start", "sample_end", "first_usable_open"):
        assert iso.fullmatch(str(manifest["coverage"][field])), field
