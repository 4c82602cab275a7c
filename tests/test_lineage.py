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
    from pipelines.definitions import _graph_assets, folder_writer_keys

    stages = ("event_study", "cta", "charts")
    keys = [k for k in GRAPH.materializable_asset_keys if GRAPH.get(k).group_name in stages]
    edges = sum(len(GRAPH.get(k).parent_keys) for k in keys)
    assert all(parents(k) for k in keys), [k for k in keys if not parents(k)]  # none orphaned
    assert edges <= 3 * len(keys), edges  # 79 for 30 assets when this was written
    prices = {K(["prices", k]) for k in CONFIG.daily_keys}
    reads = {K("report_as_of"), K("events"), K("event_stats"), K("open_quality_eras")}
    assert parents(K("publish")) == set(folder_writer_keys(_graph_assets)) | prices | reads
    assert K("report") in parents(K("publish")) and K("cta_signals") not in parents(K("publish"))
    # backtest_trades.csv is in the folder but nothing the report reads depends on it
    assert K("backtest_trades") in parents(K("publish"))
    assert K("cta_event_replays") not in parents(K("publish"))  # a table, no file


def _ancestors(key: dg.AssetKey) -> set[dg.AssetKey]:
    """Every asset upstream of `key` in the code location's graph."""
    seen: set[dg.AssetKey] = set()
    todo = [key]
    while todo:
        for p in parents(todo.pop()):
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


def _op(key: dg.AssetKey) -> str:
    return GRAPH.get(key).assets_def.node_def.name


def test_publish_runs_after_every_step_of_the_main_job() -> None:
    """publish's manifest lists every artifact and step timing, so every step of the main job
    must be upstream of it (a step counts once one of its assets is)."""
    main = set(defs.resolve_job_def("main_job").asset_layer.selected_asset_keys)
    assert K("publish") in main and K("events") in main
    upstream_ops = {_op(k) for k in _ancestors(K("publish"))}
    assert {_op(k) for k in main - {K("publish")}} <= upstream_ops


def test_validation_tables_depend_on_what_they_read() -> None:
    gspc, spy, vix = (K(["prices", n]) for n in ("GSPC", "SPY", "VIX"))
    ff, ff3 = K(["reference", "fed_funds_effective"]), K(["reference", "ff3_daily"])
    assert parents(K("cta_calibration")) == {gspc, K("cta_implied_exposure"), K("report_as_of")}
    assert parents(K("backtest_trades")) == {
        gspc, spy, vix, K("events"), K("forward_returns"), ff, ff3, K("report_as_of"),
    }  # fmt: skip
    # the monthly trend indices feed the validation, never the exposure or the backtests
    monthly = {K(["reference", "tsmom_monthly"]), K(["reference", "btop50_monthly"])}
    assert monthly <= parents(K("cta_validation"))
    assert not monthly & (parents(K("cta_implied_exposure")) | parents(K("backtests")))
    # before, all eight tables of the step shared one list of 14 inputs
    tables = ["cta_implied_exposure", "cta_calibration", "cta_validation", "backtests"]
    assert len({frozenset(parents(K(t))) for t in [*tables, "backtest_trades"]}) == 5


def test_report_as_of_sits_apart_from_the_report() -> None:
    """report_as_of feeds the CTA, validation and chart steps: in the report group the collapsed
    graph drew the report both upstream and downstream of cta."""
    assert GRAPH.get(K("report_as_of")).group_name == "settings"
    for key in (K("cta_levels_latest"), K("backtests"), chart_key("mean_path")):
        assert "report" not in {GRAPH.get(p).group_name for p in _ancestors(key)}, key


class _Recording(dict):
    """A dict that notes every name looked up in it."""

    def __init__(self, kind: str, data: dict, seen: set) -> None:
        super().__init__(data)
        self.kind, self.seen = kind, seen

    def get(self, key, default=None):
        self.seen.add((self.kind, key))
        return super().get(key, default)

    def __getitem__(self, key):
        self.seen.add((self.kind, key))
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.seen.add((self.kind, key))
        return super().__contains__(key)


def test_claims_read_what_their_checks_read() -> None:
    """claims_vs_data's market-data inputs are exactly what a real evaluation of claims.csv on
    the snapshot looks up (every series and table offered, each lookup noted), not every
    series of the catalog (38 inputs before)."""
    from helpers import synthetic_data

    from eventlab.report.claims import evaluate_claims, load_claims
    from pipelines.resources import PriceSource

    src = PriceSource(mode="snapshot")
    seen: set[tuple[str, str]] = set()
    fixture = synthetic_data()  # events and statistics, so the event checks reach the prices
    fixture.prices = _Recording("prices", {s.key: src.daily(s).frame for s in CONFIG.daily}, seen)
    fixture.intraday = _Recording(
        "intraday", {s.key: src.intraday(s).frame for s in CONFIG.intraday}, seen
    )
    fixture.reference = _Recording(
        "reference", {n: src.reference(n).frame for n, _ in CONFIG.reference_tables}, seen
    )
    evaluate_claims(fixture, load_claims())
    declared = {(k.path[0], k.path[-1]) for k in parents(K("claims_vs_data")) if len(k.path) == 2}
    assert declared == seen, declared ^ seen
    assert {K("events"), K("event_stats"), K("cta_claims")} <= parents(K("claims_vs_data"))
    assert len(declared) < len(CONFIG.daily) + len(CONFIG.intraday) + len(CONFIG.reference_tables)
