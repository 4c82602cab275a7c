"""CTA assets: materialize the CTA group on the real GSPC snapshot with stub upstreams, run the
asset checks, and read back the report CSVs."""

import dagster as dg
import pandas as pd
import pytest

import pipelines.stages.cta as cta
from eventlab.cta import claims, levels, replay, scenarios
from eventlab.data.snapshot import read_series
from pipelines.io import ParquetIOManager
from pipelines.resources import (
    BacktestSettings,
    CTASettings,
    ReportSettings,
    StudySettings,
    ValidationSettings,
)
from pipelines.stages.publish import report_as_of

pytestmark = pytest.mark.graph  # materializes the CTA assets

EVENT_DATES = [
    "2018-12-11",
    "2020-04-07",
    "2020-04-28",
    "2022-01-26",
    "2024-08-07",
    "2025-04-08",
    "2025-07-31",
    "2025-11-20",
]


@dg.asset(key=["prices", "GSPC"])
def gspc_stub() -> pd.DataFrame:
    return read_series("GSPC")


@dg.asset(key=["events"])
def events_stub() -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.to_datetime(EVENT_DATES), "fwd_5d": 0.0, "fwd_20d": float("nan")}
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cta")
    result = dg.materialize(
        [
            gspc_stub,
            events_stub,
            report_as_of,
            *dg.load_assets_from_modules([cta]),
            *dg.load_asset_checks_from_modules([cta]),
        ],
        resources={
            "io_manager": ParquetIOManager(base_dir=str(tmp / "warehouse")),
            "report_settings": ReportSettings(reports_root=str(tmp / "reports")),
            "cta_settings": CTASettings(),
            "study_settings": StudySettings(),
            "validation_settings": ValidationSettings(),
            "backtest_settings": BacktestSettings(),
        },
    )
    return result, tmp


def test_cta_assets_materialize_and_checks_pass(run):
    result, _ = run
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "cta_levels_finite": True,
        "cta_position_bounded": True,
        "cta_no_lookahead": True,
    }
    keys = {
        m.asset_key.to_user_string()
        for m in result.get_asset_materialization_events()
        for m in [m.materialization]
    }
    for name in (
        "cta_signals",
        "cta_levels",
        "cta_levels_latest",
        "cta_event_levels",
        "cta_event_replays",
        "cta_event_summary",
        "cta_scenarios",
        "cta_claims",
    ):
        assert name in keys
        md = next(
            e.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.materialization.asset_key == dg.AssetKey(name)
        )
        assert any(isinstance(v, dg.MarkdownMetadataValue) for v in md.values()), name


def test_report_csvs(run):
    _, tmp = run
    as_of = read_series("GSPC").index[-1].date().isoformat()
    folder = tmp / "reports" / as_of
    lv = pd.read_csv(folder / "cta_levels.csv")
    assert list(lv.columns) == levels.LEVEL_COLUMNS
    assert (lv["as_of"] == as_of).all() and lv["level"].notna().all()
    sc = pd.read_csv(folder / "cta_scenarios.csv")
    assert list(sc.columns) == scenarios.SCENARIO_COLUMNS
    assert {"2025-11-14", "2025-11-20", as_of} == set(sc["as_of"])
    assert list(pd.read_csv(folder / "cta_claims.csv").columns) == claims.CLAIM_COLUMNS
    summ = pd.read_csv(folder / "cta_event_summary.csv")
    assert list(summ.columns) == replay.summary_columns((1, 5, 20))
    # forward returns came from the events frame (fwd_5d = 0 stub; fwd_20d NaN -> n = 0)
    alls = summ[summ["status"] == "all"]
    assert (
        (alls["mean_fwd_5d"] == 0).all()
        and (alls["n_fwd_20d"] == 0).all()
        and (alls["n_events"] == 8).all()
    )


def test_code_location_has_cta_assets():
    import pipelines.definitions as d

    graph = d.defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "cta_signals",
        "cta_levels",
        "cta_levels_latest",
        "cta_event_replays",
        "cta_event_summary",
        "cta_scenarios",
        "cta_claims",
    } <= keys
    assert "cta_settings" in d.default_resources()
