"""Property: every valid configuration (what the launchpad accepts and the pre-flight check passes)
yields a complete report - every stage of main_job after the data (the study, the CTA replica,
the validation and backtests, every chart, the claims, report.html and the publish step), run
as one Dagster job in-process with the configuration as its run config, on a copy of the
session's warehouse. Zero events is a valid answer, and the report says so. Each example is a
whole graph run (~30 s), so there are few: derandomized, plus explicit examples for the corners
the fault hunt found."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from eventlab.config import CONFIG
from eventlab.errors import ConfigError
from eventlab.settings.cta import RULES

# the data stages: their outputs are copied from the session's warehouse, not recomputed
SOURCE_GROUPS = ("prices", "intraday", "reference")


@pytest.fixture(scope="module")
def job_and_keys(materialized):
    """main_job's assets and checks, and every asset it materializes after the data stages."""
    from pipelines.definitions import all_assets, all_checks, defs

    job = defs.resolve_job_def("main_job")
    keys = [k for k in job.asset_layer.selected_asset_keys if k.path[0] not in SOURCE_GROUPS]
    return [*all_assets, *all_checks], sorted(keys, key=lambda k: k.to_user_string())


def run_graph(materialized, job_and_keys, run_config: dict):
    """main_job's stages after the data, on a copy of the session's data, with `run_config`;
    returns (result, published report folder)."""
    import dagster as dg

    from pipelines.definitions import default_resources
    from pipelines.io import ParquetIOManager
    from pipelines.resources import ReportSettings

    assets, keys = job_and_keys
    root = Path(tempfile.mkdtemp(prefix="config_property_"))
    for group in SOURCE_GROUPS:
        shutil.copytree(Path(materialized.warehouse) / group, root / "warehouse" / group)
    result = dg.materialize(
        assets,
        selection=keys,
        run_config={**run_config, "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        resources=default_resources(
            io_manager=ParquetIOManager(base_dir=str(root / "warehouse")),
            report_settings=ReportSettings(reports_root=str(root / "reports")),
        ),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    folder = None
    for mat in result.asset_materializations_for_node("publish"):
        folder = Path(str(mat.metadata["report_folder"].value))
    return result, folder


dates = st.dates(dt.date(1950, 1, 1), dt.date(2026, 8, 20))
study_configs = st.fixed_dictionaries(
    {
        "index": st.sampled_from(CONFIG.daily_keys),
        "gap_threshold": st.floats(0.001, 0.49),
        "close_rule": st.sampled_from(["prior_close", "open"]),
        "open_policy": st.sampled_from(["genuine", "all"]),
        "start": dates.map(dt.date.isoformat),
        "end": st.none() | dates.map(dt.date.isoformat),
        "horizons": st.lists(st.integers(1, 250), min_size=1, max_size=3, unique=True),
        # the full range is 100..20000; cost grows linearly, the code path does not change
        "bootstrap_reps": st.integers(100, 200),
        "placebo_reps": st.integers(100, 200),
    }
)
cta_configs = st.integers(1, 3).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "rule": st.sampled_from(RULES),
            "lookbacks": st.lists(st.integers(8, 2520), min_size=n, max_size=n),
            "weights": st.lists(st.floats(0.1, 10), min_size=n, max_size=n),
            "vol_span": st.integers(2, 1000),
            "vol_target": st.floats(0.01, 1.9),
            "scenario_as_of": st.lists(
                st.dates(dt.date(1990, 1, 1), dt.date(2026, 8, 20)).map(dt.date.isoformat),
                max_size=2,
            ),
        }
    )
)


@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    database=None,
    # no shrinking: each example is a whole-graph run (a failure is reported as found)
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(study=study_configs, cta=cta_configs)
@example(study={"gap_threshold": 0.3}, cta={})  # zero events
@example(  # no genuine open in the window; a one-horizon replica (the calibration grid has three)
    study={"start": "1950-01-01", "end": "1960-01-01", "horizons": [250]},
    cta={"lookbacks": [2520], "weights": [1.0]},
)
def test_every_valid_configuration_yields_a_complete_report(materialized, job_and_keys, study, cta):
    from commands import preflight
    from pipelines.resources import CTASettings, StudySettings

    try:  # the launchpad's own validation, then the pre-flight check against the data
        params = StudySettings(**study).params()
        cta_params = CTASettings(**cta).params()
        span = (dt.date(1927, 12, 30), dt.date(2026, 8, 20))
        preflight.check_against_data(params, span, "resources.study_settings.config")
        preflight.check_scenarios(cta_params, span)
    except (ValueError, ConfigError):
        assume(False)  # not a valid configuration: refused before any run (tested elsewhere)
    run_config = {
        "resources": {"study_settings": {"config": study}, "cta_settings": {"config": cta}}
    }
    result, folder = run_graph(materialized, job_and_keys, run_config)
    failures = [e.event_specific_data.error.to_string() for e in result.all_events
                if e.is_step_failure]  # fmt: skip
    assert result.success, failures
    # every stage ran: the study, the replica, validation and backtests, charts, report, publish
    steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert {"event_study", "cta", "validation", "charts", "claims_vs_data", "report",
            "publish", "report_as_of"} <= steps, steps  # fmt: skip
    assert folder is not None and folder.is_dir()
    charts = sorted(p.stem for p in (folder / "charts").glob("*.png"))
    from eventlab.charts.registry import CHARTS

    assert charts == sorted(c.name for c in CHARTS)
    html = (folder / "report.html").read_text()
    assert "<html" in html.lower() and len(html) > 10_000
    events = pd.read_csv(folder / "events.csv")
    stats = pd.read_csv(folder / "event_stats.csv")
    main = stats[stats["variant"] == "main"]
    assert (main["n_events"] == len(events)).all()
    assert sorted(main["horizon"]) == sorted(params.horizons)
    # the event backtests follow the run's horizons
    bt = pd.read_csv(folder / "backtests.csv")
    event_rows = bt[bt["strategy"].str.startswith("event_")]
    if int(main["sample_days"].iloc[0]) > 0:  # an empty study sample has nothing to trade
        assert set(event_rows["horizon"].dropna().astype(int)) == set(params.horizons)
    else:
        assert event_rows.empty
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parameters"]["index"] == params.index
    if events.empty:
        assert "0 events" in html or "no event" in html.lower()
    shutil.rmtree(folder.parent.parent, ignore_errors=True)
