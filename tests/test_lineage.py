"""Lineage as the UI draws it: each asset depends only on what it reads (issue 12, item 5)."""

from __future__ import annotations

import dagster as dg

from eventlab.charts.registry import CHARTS
from eventlab.config import CONFIG
from pipelines.definitions import defs
from pipelines.stages.charts import INPUT_KEYS, chart_key

K = dg.AssetKey
GRAPH = defs.resolve_asset_graph()


def parents(key: dg.AssetKey) -> set[dg.AssetKey]:
    return set(GRAPH.get(key).parent_keys)


def test_events_depend_on_the_index_and_vix_only() -> None:
    index, vix = K(["prices", CONFIG.study.index]), K(["prices", CONFIG.study.vix])
    assert parents(K("events")) == {index, vix}
    assert parents(K("open_quality")) == {index}
    assert parents(K("event_paths")) == {index}
    assert parents(K("event_stats")) == {index, vix, K(["prices", CONFIG.study.robustness_index])}
    assert not {K(["prices", "BTC_USD"]), K(["prices", "HYG"])} & parents(K("events"))


def test_each_chart_depends_on_its_registered_inputs() -> None:
    for spec in CHARTS:
        expected = {K("report_as_of")} | {
            INPUT_KEYS[n] for n in (*spec.inputs, *spec.optional) if n in INPUT_KEYS
        }
        assert parents(chart_key(spec.name)) == expected, spec.name
    assert parents(chart_key("mean_path")) == {K("report_as_of"), K("event_paths")}


def test_cta_tables_depend_on_what_they_read() -> None:
    gspc = K(["prices", "GSPC"])
    assert parents(K("cta_signals")) == {gspc}
    assert parents(K("cta_event_summary")) == {K("cta_event_levels"), K("report_as_of")}
    assert K("events") not in parents(K("cta_levels"))


def test_the_graph_is_sparse() -> None:
    """Before lineage was narrowed every stage input fed every output (387 edges across 53
    assets; `events` on BTC and HYG, each chart on 19 assets). The study, CTA and chart stages
    now carry only their reads, and publish waits for the graph's leaves and the prices."""
    from pipelines.definitions import _graph_assets, leaf_keys

    stages = ("event_study", "cta", "charts")
    keys = [k for k in GRAPH.materializable_asset_keys if GRAPH.get(k).group_name in stages]
    edges = sum(len(GRAPH.get(k).parent_keys) for k in keys)
    assert all(parents(k) for k in keys), [k for k in keys if not parents(k)]  # none orphaned
    assert edges <= 3 * len(keys), edges  # 79 for 30 assets when this was written
    prices = {K(["prices", k]) for k in CONFIG.daily_keys}
    reads = {K("report_as_of"), K("events"), K("event_stats"), K("open_quality_eras")}
    assert parents(K("publish")) == set(leaf_keys(_graph_assets)) | prices | reads
    assert K("report") in parents(K("publish")) and K("cta_signals") not in parents(K("publish"))
