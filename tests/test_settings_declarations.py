"""One declaration per setting (eventlab/settings/): the Dagster resources, the --config YAML,
preflight and the messages are derived from it, so adding a setting touches its declaration and
its use, nothing else."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from commands import preflight
from eventlab.errors import ConfigError
from eventlab.settings import (
    BacktestParams,
    CTAParams,
    EnvironmentParams,
    ReportParams,
    Settings,
    SourceParams,
    StudyParams,
    UniverseParams,
    ValidationParams,
    setting,
)
from pipelines.resources import (
    BacktestSettings,
    CTASettings,
    PriceSource,
    ReportSettings,
    StudySettings,
    ValidationSettings,
    config_value,
    settings_resource,
)
from pipelines.universe_resources import UniverseSettings

ROOT = Path(__file__).resolve().parents[1]


class Demo(Settings):
    """A settings group as a developer adds one: only declarations."""

    SECTION = "demo"
    knob: float = setting(0.5, "A new knob.", gt=0, le=1, example="0.5")
    day: dt.date = setting(dt.date(2020, 1, 1), "A day.", example="2020-01-01")
    sizes: tuple[int, ...] = setting((1, 2), "Sizes.", each={"ge": 1}, example="[1, 2]")


class DemoSettings(settings_resource(Demo, "demo")):
    pass


RESOURCES = [
    (StudySettings, StudyParams, "study_settings"),
    (CTASettings, CTAParams, "cta_settings"),
    (ReportSettings, ReportParams, "report_settings"),
    (PriceSource, SourceParams, "price_source"),
    (UniverseSettings, UniverseParams, "universe_settings"),
    (ValidationSettings, ValidationParams, "validation_settings"),
    (BacktestSettings, BacktestParams, "backtest_settings"),
]
# A valid non-default value per type of launchpad field, to prove a value reaches .params().
SAMPLE = {
    ("study_settings", "index"): "SPY",
    ("study_settings", "close_rule"): "open",
    ("study_settings", "open_policy"): "all",
    ("study_settings", "start"): "1990-01-02",
    ("study_settings", "end"): "2020-12-31",
    ("study_settings", "horizons"): [1, 10],
    ("universe_settings", "open_rule"): "index_rule",
    ("universe_settings", "normal_models"): ["ff3"],
    ("cta_settings", "rule"): "sma",
    ("cta_settings", "lookbacks"): [21, 63, 126],
    ("cta_settings", "weights"): [1.0, 2.0, 1.0],
    ("cta_settings", "percentile_lookback"): 2520,
    ("cta_settings", "scenario_as_of"): ["2024-01-02"],
    ("report_settings", "reports_root"): "/tmp/elsewhere",
    ("price_source", "mode"): "auto",
    ("price_source", "snapshot_root"): "/tmp/snap",
    ("price_source", "start"): "1950-01-03",
    ("price_source", "full_refresh"): True,
    ("universe_settings", "name"): "other",
    ("universe_settings", "source"): "yfinance",
    ("universe_settings", "live_start"): "2001-01-02",
    ("validation_settings", "windows"): [20, 60],
    ("validation_settings", "main_window"): 20,
    ("validation_settings", "daily_indices"): ["sg_trend_index"],
    ("validation_settings", "percentile_start"): "2001-01-02",
    ("validation_settings", "grid_saturation"): [1.5],
    ("validation_settings", "grid_vol_target"): [0.12],
    ("validation_settings", "grid_smoothing"): [1, 30],
    ("backtest_settings", "start"): "1930-01-02",
    ("backtest_settings", "entries"): ["close"],
    ("backtest_settings", "pbo_blocks"): 12,
}
ALL_MODELS = [
    StudyParams,
    CTAParams,
    ValidationParams,
    BacktestParams,
    UniverseParams,
    ReportParams,
    SourceParams,
    EnvironmentParams,
]


def sample(key: str, name: str, default: object) -> object:
    if (key, name) in SAMPLE:
        return SAMPLE[(key, name)]
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    if isinstance(default, float):
        return default * 0.9 if default else 0.5
    raise AssertionError(f"no sample value for {key}.{name}: add one to SAMPLE")


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_setting_has_a_description_an_example_and_valid_defaults(model: type[Settings]):
    for name, field in model.model_fields.items():
        assert field.description and "\n" not in field.description, name
        assert field.examples, f"{model.__name__}.{name} declares no example (the fix quotes it)"
    assert model() == model().checked()  # the defaults pass every rule


@pytest.mark.parametrize(("resource", "model", "key"), RESOURCES, ids=lambda x: str(x))
def test_resource_fields_are_the_declarations(resource, model, key):
    """Same names, defaults and descriptions; and a value for each reaches .params()."""
    fields = resource.model_fields
    assert set(fields) == set(model.launchpad_fields())
    for name in model.launchpad_fields():
        declared = model.model_fields[name]
        assert fields[name].default == config_value(declared.default), name
        assert fields[name].description == declared.description, name
        value = sample(key, name, fields[name].default)
        got = getattr(resource(**{name: value}).params(), name)
        assert config_value(got) == value or got == value, (name, got, value)


def test_launchpad_schema_descriptions_come_from_the_declarations():
    from pipelines.definitions import defs

    job = defs.resolve_job_def("main_job")
    resources = job.run_config_schema.config_type.fields["resources"].config_type
    study = resources.fields["study_settings"].config_type.fields["config"].config_type.fields
    declared = StudyParams.model_fields["gap_threshold"].description
    assert study["gap_threshold"].description == declared
    assert "Range: above 0 and below 0.5." in declared  # completed from the declared bounds
    cta = resources.fields["cta_settings"].config_type.fields["config"].config_type.fields
    assert cta["vol_target"].description == CTAParams.model_fields["vol_target"].description


@pytest.mark.graph
def test_a_new_setting_needs_only_its_declaration(tmp_path):
    """A declaration with a new field: the derived resource has it (default, description), a run
    config value reaches .params(), and a bad value is refused with the derived message."""
    assert (
        DemoSettings.model_fields["knob"].description == "A new knob. Range: above 0 and at most 1."
    )
    assert DemoSettings().params() == Demo()
    got = DemoSettings(knob=0.25, day="2021-02-03", sizes=[3]).params()
    assert got == Demo(knob=0.25, day=dt.date(2021, 2, 3), sizes=(3,))
    with pytest.raises(
        ValueError, match=r"resources\.demo\.config\.knob`: must be above 0 and at most 1"
    ):
        DemoSettings(knob=2.0)

    @dg.asset
    def uses_demo(demo: DemoSettings) -> float:
        return demo.params().knob

    res = dg.materialize(
        [uses_demo],
        resources={"demo": DemoSettings()},
        run_config={"resources": {"demo": {"config": {"knob": 0.75}}}},
    )
    assert res.output_for_node("uses_demo") == 0.75
    with pytest.raises(dg.DagsterInvalidConfigError, match=r"demo\.config\.knob`: must be above 0"):
        dg.materialize(
            [uses_demo],
            resources={"demo": DemoSettings()},
            run_config={"resources": {"demo": {"config": {"knob": 1.5}}}},
        )


BOUND_CASES = [
    ("study_settings", StudyParams, "gap_threshold", 1.5),
    ("study_settings", StudyParams, "bootstrap_reps", 10),
    ("study_settings", StudyParams, "horizons", [1, 5, 1000]),
    ("study_settings", StudyParams, "close_rule", "lower"),
    ("study_settings", StudyParams, "end", "1960-13-01"),
    ("cta_settings", CTAParams, "vol_target", 3.0),
    ("cta_settings", CTAParams, "weights", [1.0, 1.0]),
    ("cta_settings", CTAParams, "percentile_lookback", 10),
]


@pytest.mark.parametrize(("key", "model", "name", "value"), BOUND_CASES)
def test_the_same_message_through_launchpad_yaml_and_python(tmp_path, key, model, name, value):
    """The launchpad (a run's config resolved by Dagster), a --config YAML (preflight) and the
    Python model report the same problem and fix; only the path differs (as the user types it)."""
    from dagster._core.execution.api import create_execution_plan

    from pipelines.definitions import defs

    path = f"resources.{key}.config.{name}"
    run_config = {"resources": {key: {"config": {name: value}}}}
    with pytest.raises(dg.DagsterInvalidConfigError) as launch:
        create_execution_plan(defs.resolve_job_def("main_job"), run_config=run_config)
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(run_config))
    with pytest.raises(ConfigError) as pre:
        preflight.check_run(
            yaml.safe_load(cfg.read_text()), warehouse="/nonexistent", reports_root=tmp_path / "r"
        )
    python_value = tuple(value) if isinstance(value, list) else value
    with pytest.raises(ConfigError) as py:
        model(**{name: python_value})
    assert pre.value.field_name == path
    assert py.value.field_name == f"{model.SECTION}.{name}"
    assert (py.value.problem, py.value.fix) == (pre.value.problem, pre.value.fix)
    assert str(pre.value) in str(launch.value)


@pytest.mark.service
def test_the_cli_prints_the_same_message(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        yaml.safe_dump({"resources": {"study_settings": {"config": {"gap_threshold": 1.5}}}})
    )
    res = subprocess.run(
        [sys.executable, "-m", "commands.run", "--config", str(cfg), "--reports", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    with pytest.raises(ConfigError) as py:
        StudyParams(gap_threshold=1.5)
    assert res.returncode == 2
    assert f"{py.value.problem}. Fix: {py.value.fix}" in res.stderr


@pytest.mark.service
def test_settings_import_no_dagster_and_no_cycle():
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, eventlab.errors as e; assert not [m for m in sys.modules if "
            "m.startswith('eventlab.') and m != 'eventlab.errors']; "
            "import eventlab.settings, eventlab.config; "
            "print(sorted(m for m in ('dagster', 'pandas') if m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "[]", probe.stderr
