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


def test_the_report_leads_with_the_verdict_that_weighs_the_whole_ledger(materialized) -> None:
    """event_verdicts_family uses max(study's own Holm p, ledger-wide BY q) per line and horizon:
    never less strict than the study's verdict, and it is the verdict the report publishes."""
    from eventlab.ledger.fdr import family_p_values, ledger_fdr

    wh = materialized.warehouse
    own = pd.read_parquet(wh / "event_verdicts.parquet")
    family = pd.read_parquet(wh / "event_verdicts_family.parquet")
    stats = pd.read_parquet(wh / "event_stats.parquet")
    assert list(family["horizon"]) == list(own["horizon"])
    assert (family["main_p_family"] >= own["main_p_family"] - 1e-12).all()
    # recomputed independently: BY over every tested row of the ledger, the main line's row
    led = ledger_fdr(store.read(store.ledger_path(wh)), 0.05)
    as_of = str(pd.read_parquet(wh / "report_as_of.parquet")["as_of"].iloc[0].date())
    q = family_p_values(led, stats, as_of)
    for r in family.itertuples():
        expected = max(
            own.loc[own["horizon"] == r.horizon, "main_p_family"].iloc[0], q[("main", r.horizon)]
        )
        assert r.main_p_family == pytest.approx(expected, rel=1e-9)
    assert family["family_adjustment"].str.contains("Benjamini-Yekutieli q over").all()
    published = pd.read_csv(materialized.report_dir / "event_verdicts_family.csv")
    assert list(published["verdict"]) == list(family["verdict"])


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
