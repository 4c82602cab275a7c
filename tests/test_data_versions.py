"""Issue 12 item 3: every source asset (prices, intraday bars, reference tables) carries a data
version (a content hash), so re-materializing them with unchanged data - or a refresh that
fails - leaves nothing downstream stale. Proven on a SQLite instance after a full run, as the
docs/guarantees.md promises: materialize the sources again, then ask Dagster's own stale-status resolver
about every asset in the graph."""

import dagster as dg
import pytest
from dagster._utils.test.data_versions import get_stale_status_resolver

from eventlab.data import yahoo
from pipelines.io import ParquetIOManager
from pipelines.resources import PriceSource
from pipelines.stages.market_data import daily_prices, intraday_bars, reference_tables

pytestmark = pytest.mark.graph  # materializes the source assets

SOURCES = [daily_prices, intraday_bars, reference_tables]
SOURCE_KEYS = [k for a in SOURCES for k in a.keys]


@dg.asset(deps=SOURCE_KEYS)
def reads_every_source() -> None:
    """Stands in for the study, the charts, claims_vs_data and publish: downstream of every
    source asset, so a source whose version moved would make it stale."""


GRAPH = [*SOURCES, reads_every_source]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Every source and its downstream materialized once on a SQLite instance (as the UI records)."""
    root = tmp_path_factory.mktemp("versions")
    (root / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(tempdir=str(root / "home"))
    warehouse = root / "warehouse"
    assert _materialize(instance, warehouse, GRAPH).success
    yield instance, warehouse
    instance.dispose()


def _materialize(instance, warehouse, assets, mode="snapshot"):
    return dg.materialize(
        assets,
        instance=instance,
        resources={
            "io_manager": ParquetIOManager(base_dir=str(warehouse)),
            "price_source": PriceSource(mode=mode, backoff_s=0, retries=0),
        },
        raise_on_error=False,
    )


def _versions(instance) -> dict:
    return {
        k: instance.get_latest_materialization_event(k).asset_materialization.tags.get(
            "dagster/data_version"
        )
        for k in SOURCE_KEYS
    }


def _stale(instance) -> dict:
    resolver = get_stale_status_resolver(instance, GRAPH)
    keys = [*SOURCE_KEYS, reads_every_source.key]
    return {
        k.to_user_string(): s.value for k in keys if (s := resolver.get_status(k)).value != "FRESH"
    }


def test_every_source_asset_has_a_content_version(recorded):
    instance, _ = recorded
    versions = _versions(instance)
    assert {k.path[0] for k in SOURCE_KEYS} == {"prices", "intraday", "reference"}
    assert all(versions.values()), [k for k, v in versions.items() if not v]


def test_unchanged_sources_leave_nothing_stale(recorded):
    instance, warehouse = recorded
    before = _versions(instance)
    assert _stale(instance) == {}
    assert _materialize(instance, warehouse, SOURCES).success
    assert _versions(instance) == before
    assert _stale(instance) == {}


def test_a_failed_refresh_leaves_nothing_stale(recorded, monkeypatch):
    instance, warehouse = recorded

    def down(ticker, **kw):
        raise ConnectionError("Network is unreachable")

    monkeypatch.setattr(yahoo, "_yf_download", down)
    monkeypatch.setattr(yahoo, "is_reachable", lambda timeout=None, url=None: False)
    res = _materialize(instance, warehouse, SOURCES, mode="yfinance")
    assert not res.success  # prices failed; intraday and reference tables were re-materialized
    assert _stale(instance) == {}


def test_a_changed_source_does_make_its_downstream_stale(recorded):
    """The check above can fail: a reference table whose content changed marks the downstream."""
    instance, warehouse = recorded
    key = next(k for k in SOURCE_KEYS if k.path[0] == "reference")
    with dg.DagsterInstance.local_temp() as other:  # leave the shared instance clean
        assert _materialize(other, warehouse, GRAPH).success
        ev = dg.AssetMaterialization(asset_key=key, tags={"dagster/data_version": "changed"})
        other.report_runless_asset_event(ev)
        stale = {
            k.to_user_string()
            for k in [reads_every_source.key]
            if get_stale_status_resolver(other, GRAPH).get_status(k).value == "STALE"
        }
    assert stale == {"reads_every_source"}
