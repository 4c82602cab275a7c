"""The `studies` dynamic partitions follow studies/*.yaml (study_specs_sensor): a new file adds a
partition and requests its run, an unchanged folder asks nothing, a changed file requests a run,
a removed file's partition stays and is marked retired, a bad file is refused; and one partition
materializes its study's results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from pipelines.resources import LibrarySettings
from pipelines.stages import study_partitions as studies

pytestmark = pytest.mark.graph

LIBRARY = Path(__file__).resolve().parents[1] / "studies"


def tick(instance: dg.DagsterInstance, folder: Path, cursor: str | None) -> dg.SensorResult:
    """One evaluation of the sensor, its partition requests applied as the daemon applies them."""
    ctx = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"library_settings": LibrarySettings(folder=str(folder))},
    )
    result = studies.study_specs_sensor(ctx)
    assert isinstance(result, dg.SensorResult)
    for req in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    return result


def store_prices(warehouse, snapshot_prices) -> None:
    """The snapshot's price frames where the IO manager keeps them, so a study partition reads
    its inputs instead of recomputing them."""
    from pipelines.stages.market_data import price_key

    for key, frame in snapshot_prices.items():
        path = warehouse.joinpath(*price_key(key).path).with_suffix(".parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path)


def test_the_sensor_adds_changes_and_retires_partitions(tmp_path) -> None:
    folder = tmp_path / "studies"
    folder.mkdir()
    for name in ("gap_up_close_red", "big_down_day"):
        shutil.copy(LIBRARY / f"{name}.yaml", folder)
    instance = dg.DagsterInstance.ephemeral()

    first = tick(instance, folder, None)
    assert sorted(instance.get_dynamic_partitions("studies")) == [
        "big_down_day",
        "gap_up_close_red",
    ]
    assert sorted(r.partition_key for r in first.run_requests) == [
        "big_down_day",
        "gap_up_close_red",
    ]

    again = tick(instance, folder, first.cursor)
    assert again.run_requests == [] and not again.dynamic_partitions_requests

    # a new file: a new partition without a code change, and its run
    shutil.copy(LIBRARY / "golden_cross.yaml", folder)
    added = tick(instance, folder, again.cursor)
    assert [r.partition_key for r in added.run_requests] == ["golden_cross"]
    assert "golden_cross" in instance.get_dynamic_partitions("studies")

    # a changed file: a run request with a new run key, no new partition
    spec = folder / "big_down_day.yaml"
    spec.write_text(spec.read_text().replace("-4%", "-5%"))
    changed = tick(instance, folder, added.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["big_down_day"]
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key
    assert not changed.dynamic_partitions_requests

    # a removed file: the partition stays, an observation marks it retired (once)
    (folder / "golden_cross.yaml").unlink()
    removed = tick(instance, folder, changed.cursor)
    assert removed.run_requests == []
    assert "golden_cross" in instance.get_dynamic_partitions("studies")
    [obs] = removed.asset_events
    assert isinstance(obs, dg.AssetObservation)
    assert obs.partition == "golden_cross" and obs.metadata["status"].value == "retired"
    assert json.loads(removed.cursor)["golden_cross"] == "retired"
    assert tick(instance, folder, removed.cursor).asset_events == []


def test_a_bad_spec_gets_no_partition_and_no_run(tmp_path) -> None:
    folder = tmp_path / "studies"
    folder.mkdir()
    (folder / "bad.yaml").write_text("name: bad\nquestion: q?\ncondition: gap > 1% and clsoe < 5\n")
    instance = dg.DagsterInstance.ephemeral()
    result = tick(instance, folder, None)
    assert result.run_requests == []
    assert instance.get_dynamic_partitions("studies") == []
    # fixed: the partition and its run follow
    (folder / "bad.yaml").write_text("name: bad\nquestion: q?\ncondition: gap > 1% and close < 5\n")
    fixed = tick(instance, folder, result.cursor)
    assert [r.partition_key for r in fixed.run_requests] == ["bad"]


def test_a_partition_materializes_its_study(tmp_path, snapshot_prices) -> None:
    from pipelines.io import ParquetIOManager
    from pipelines.stages.market_data import price_key

    folder = tmp_path / "studies"
    folder.mkdir()
    shutil.copy(LIBRARY / "vix_first_close_above_30.yaml", folder)
    warehouse = tmp_path / "warehouse"
    io = ParquetIOManager(base_dir=str(warehouse))
    sources = [
        dg.AssetSpec(price_key(k))
        for k in snapshot_prices  # stored below, not recomputed
    ]
    store_prices(warehouse, snapshot_prices)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("studies", ["vix_first_close_above_30"])
    result = dg.materialize(
        [studies.study_results, *sources],
        selection=[studies.RESULTS_KEY],
        partition_key="vix_first_close_above_30",
        instance=instance,
        resources={"io_manager": io, "library_settings": LibrarySettings(folder=str(folder))},
    )
    assert result.success
    [mat] = result.asset_materializations_for_node("study_results")
    assert mat.metadata["status"].value == "active"
    assert mat.metadata["n_events"].value > 5
    stored = warehouse / "studies" / "vix_first_close_above_30"
    assert {p.name for p in stored.glob("*.parquet")} == {
        "events.parquet", "event_stats.parquet", "event_verdicts.parquet", "hypotheses.parquet"
    }  # fmt: skip


def test_the_launchpad_fields_override_the_spec_and_are_checked_the_same_way(
    tmp_path, snapshot_prices
) -> None:
    from pipelines.io import ParquetIOManager
    from pipelines.stages.market_data import price_key

    folder = tmp_path / "studies"
    folder.mkdir()
    shutil.copy(LIBRARY / "vix_first_close_above_30.yaml", folder)
    warehouse = tmp_path / "warehouse"
    store_prices(warehouse, snapshot_prices)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("studies", ["vix_first_close_above_30"])

    def run(config: dict) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [studies.study_results, *(dg.AssetSpec(price_key(k)) for k in snapshot_prices)],
            selection=[studies.RESULTS_KEY],
            partition_key="vix_first_close_above_30",
            instance=instance,
            run_config={"ops": {"study_results": {"config": config}}},
            raise_on_error=False,
            resources={
                "io_manager": ParquetIOManager(base_dir=str(warehouse)),
                "library_settings": LibrarySettings(folder=str(folder)),
            },
        )

    ok = run({"condition": "first_in(VIX.close > 35, 63)", "horizons": [1, 5]})
    assert ok.success
    [mat] = ok.asset_materializations_for_node("study_results")
    assert mat.metadata["condition"].value == "first_in(VIX.close > 35, 63)"
    assert mat.metadata["launchpad_fields"].value == "condition, horizons"
    assert set(mat.metadata) >= {"verdict_1d", "verdict_5d"}

    bad = run({"condition": "first_in(VIX.clsoe > 35, 63)"})
    assert not bad.success
    failure = str(bad.get_step_failure_events()[0].event_specific_data.error)
    assert "vix_first_close_above_30.yaml+launchpad" in failure and "close" in failure
