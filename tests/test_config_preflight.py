"""The whole configuration is checked before anything is written: through the launchpad (the run
config is refused when it is resolved, before the run exists), through `python -m commands.run
--config` (before Dagster is even imported) and through the environment. Every message names a
run-config path the launchpad accepts and a fix."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from commands import preflight
from eventlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

BAD_LAUNCHPAD_VALUES = [
    ("study_settings", "gap_threshold", 1.5),
    ("study_settings", "gap_threshold", 0.0),
    ("study_settings", "bootstrap_reps", 1_000_000_000),
    ("study_settings", "placebo_reps", 10),
    ("study_settings", "horizons", [1, 5, 1000]),
    ("study_settings", "start", "2100-01-01"),
    ("study_settings", "end", "1960-13-01"),
    ("study_settings", "index", "NOPE"),
    ("study_settings", "close_rule", "lower"),
    ("cta_settings", "lookbacks", [21, 63, 100000]),
    ("cta_settings", "weights", [1.0, 1.0]),
    ("cta_settings", "scenario_as_of", ["2030-01-01"]),
    ("cta_settings", "vol_target", 5.0),
    ("cta_settings", "capacity_usd", 1e20),
    ("cta_settings", "percentile_lookback", 10),
]


def schema_has_path(job: dg.JobDefinition, path: str) -> bool:
    """Whether `resources.<key>.config.<field>` is a field of the job's run-config schema."""
    _, key, _, field = path.split(".")
    resources = job.run_config_schema.config_type.fields["resources"].config_type
    config = resources.fields[key].config_type.fields["config"].config_type
    return field in config.fields


@pytest.fixture(scope="module")
def main_job():
    from pipelines.definitions import defs

    return defs.resolve_job_def("main_job")


@pytest.mark.parametrize(("key", "field", "value"), BAD_LAUNCHPAD_VALUES)
def test_launchpad_refuses_before_the_run_exists(main_job, key, field, value):
    from dagster._core.execution.api import create_execution_plan

    run_config = {"resources": {key: {"config": {field: value}}}}
    # what the webserver does on Launch: build the plan from the run config (no run yet)
    with pytest.raises(dg.DagsterInvalidConfigError) as err:
        create_execution_plan(main_job, run_config=run_config)
    message = str(err.value)
    path = f"resources.{key}.config.{field}"
    assert path in message and "Fix:" in message, message
    assert schema_has_path(main_job, path)


def test_launchpad_fields_describe_units_and_ranges(main_job):
    resources = main_job.run_config_schema.config_type.fields["resources"].config_type
    for key in ("study_settings", "cta_settings"):
        fields = resources.fields[key].config_type.fields["config"].config_type.fields
        for name, field in fields.items():
            assert field.description, f"resources.{key}.config.{name} has no description"
    study = resources.fields["study_settings"].config_type.fields["config"].config_type.fields
    assert "0.5" in study["gap_threshold"].description
    assert "20000" in study["bootstrap_reps"].description


def test_a_bad_value_stops_the_run_before_any_step(tmp_path, main_job):
    from pipelines.definitions import default_resources
    from pipelines.io import ParquetIOManager

    with pytest.raises(
        dg.DagsterInvalidConfigError, match=r"resources\.study_settings\.config\.gap"
    ):
        main_job.execute_in_process(
            run_config={"resources": {"study_settings": {"config": {"gap_threshold": 1.5}}}},
            resources=default_resources(io_manager=ParquetIOManager(base_dir=str(tmp_path))),
            instance=dg.DagsterInstance.ephemeral(),
        )
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("config", "path", "fix"),
    [
        (
            {"study_settings": {"start": "1900-01-01", "end": "1920-01-01"}},
            "resources.study_settings.config.end",
            "leave it empty",
        ),
        (
            {"cta_settings": {"scenario_as_of": ["2026-10-01"]}},
            "resources.cta_settings.config.scenario_as_of",
            "use dates from",
        ),
        (
            {"study_settings": {"path_post": 30}},
            "resources.study_settings.config.path_post",
            "use one of",
        ),
        ({"cta_settings": {"horizons": ["a"]}}, "resources.cta_settings.config.horizons", "use"),
    ],
)
def test_preflight_checks_against_the_data(config, path, fix):
    run_config = {"resources": {k: {"config": v} for k, v in config.items()}}
    with pytest.raises(ConfigError) as err:
        preflight.check_run(run_config, source="snapshot", warehouse="/nonexistent")
    assert err.value.field_name == path and fix in str(err.value)


def test_preflight_environment_bounds():
    with pytest.raises(ConfigError, match="EVENTLAB_LOCK_TIMEOUT_S.*Fix"):
        preflight.check_environment({"EVENTLAB_LOCK_TIMEOUT_S": "many"})
    with pytest.raises(ConfigError, match="EVENTLAB_LOCK_TIMEOUT_S"):
        preflight.check_environment({"EVENTLAB_LOCK_TIMEOUT_S": "0"})
    preflight.check_environment({"EVENTLAB_LOCK_TIMEOUT_S": "30"})


def test_missing_snapshot_file_names_the_right_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(preflight, "SNAPSHOT_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"git checkout -- data/snapshot"):
        preflight.check_snapshot_files("snapshot")
    preflight.check_snapshot_files("yfinance")  # a live run does not need it


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "commands.run", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.service
def test_cli_refuses_bad_config_before_importing_dagster(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        yaml.safe_dump({"resources": {"study_settings": {"config": {"gap_threshold": 1.5}}}})
    )
    reports = tmp_path / "reports"
    res = run_cli("--config", str(cfg), "--reports", str(reports))
    assert res.returncode == 2
    assert "resources.study_settings.config.gap_threshold" in res.stderr and "Fix:" in res.stderr
    assert not reports.exists()  # nothing written
    # the check itself imports neither Dagster nor pandas (it answers within a second)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from commands import preflight; "
            "preflight.check_run({}, warehouse='/nonexistent', reports_root=sys.argv[1]); "
            "print(sorted(m for m in ('dagster', 'pandas') if m in sys.modules))",
            str(tmp_path / "r"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "[]", probe.stderr


@pytest.mark.service
def test_bad_extra_ticker_is_a_clear_error(tmp_path):
    res = run_cli("--reports", str(tmp_path / "r"), env={"EVENTLAB_EXTRA_TICKERS": "AAPL,^"})
    assert res.returncode == 2
    assert "EVENTLAB_EXTRA_TICKERS" in res.stderr and "Fix:" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.graph
def test_extra_ticker_without_snapshot_data_does_not_fail_offline(tmp_path):
    from eventlab.config import Series
    from pipelines.io import ParquetIOManager
    from pipelines.resources import PriceSource
    from pipelines.stages.market_data import build_daily_prices

    series = Series(key="AAPL", ticker="AAPL", kind="stock", raw_file=None)
    res = dg.materialize(
        [build_daily_prices((series,))],
        resources={
            "io_manager": ParquetIOManager(base_dir=str(tmp_path)),
            "price_source": PriceSource(),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert res.success
    meta = res.asset_materializations_for_node("daily_prices")[0].metadata
    assert meta["rows"].value == 0 and "--source yfinance" in meta["source_note"].value


def test_every_valid_end_date_is_accepted_by_the_launchpad():
    from pipelines.resources import StudySettings

    today = dt.date.today().isoformat()
    assert StudySettings(end=today).params().end == dt.date.today()
    assert StudySettings(end=None).params().end is None
