"""The ledger in the pipeline: the main job appends every hypothesis of the run, the report
states the counts, and materializing the ledger again on the same data adds nothing."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from eventlab.ledger import store

pytestmark = pytest.mark.graph


def test_the_main_job_appends_every_hypothesis_and_reports_the_count(materialized) -> None:
    path = store.ledger_path(materialized.warehouse)
    ledger = store.read(path)
    this_run = pd.read_parquet(materialized.warehouse / "hypothesis_ledger.parquet")
    assert set(ledger["hypothesis_id"]) == set(this_run["hypothesis_id"])  # a fresh warehouse
    families = set(ledger["family"])
    assert {"event_study", "baseline", "backtest", "calibration", "spec_curve"} <= families
    curve = pd.read_csv(materialized.report_dir / "spec_curve.csv")
    assert (ledger["family"] == "spec_curve").sum() == len(curve) + 3  # + the joint tests
    assert (ledger["family"] == "calibration").sum() == len(
        pd.read_parquet(materialized.warehouse / "cta_calibration.parquet")
    )
    published = pd.read_csv(materialized.report_dir / "hypotheses.csv")
    assert len(published) == len(ledger)
    tested = int(ledger["p_value"].notna().sum())
    md = (materialized.report_dir / "report.md").read_text()
    assert "## How many questions were asked" in md
    assert f"The ledger holds {len(ledger):,} hypotheses" in md
    assert f"{tested:,} of them with a p-value" in md
    assert "survive Benjamini-Hochberg" in md
    assert (materialized.report_dir / "charts" / "specification_curve.png").exists()


def test_materializing_the_ledger_again_adds_nothing(workspace) -> None:
    from pipelines.definitions import all_assets, default_resources
    from pipelines.io import ParquetIOManager
    from pipelines.resources import ReportSettings

    reports, warehouse, _ = workspace
    path = store.ledger_path(warehouse)
    before = store.read(path)
    result = dg.materialize(
        all_assets,
        selection=[dg.AssetKey("hypothesis_ledger"), dg.AssetKey("ledger_fdr")],
        resources=default_resources(
            io_manager=ParquetIOManager(base_dir=str(warehouse)),
            report_settings=ReportSettings(reports_root=str(reports)),
        ),
    )
    assert result.success
    meta = result.asset_materializations_for_node("hypothesis_ledger")[0].metadata
    assert meta["added"].value == 0 and meta["already_in_ledger"].value == len(before)
    pd.testing.assert_frame_equal(store.read(path), before)
