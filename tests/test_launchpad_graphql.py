"""The launchpad's Launch button, through Dagster's GraphQL API against the real code location
(a gRPC code server started from pipelines/definitions.py): an invalid value is refused with the
project's message naming the field and a fix, before any run exists; a valid change launches."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

pytestmark = pytest.mark.service  # starts a gRPC code server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graphql(tmp_path_factory):
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import PythonFileTarget
    from dagster_graphql.test.utils import main_repo_location_name

    home = tmp_path_factory.mktemp("dagster_home")
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        target = PythonFileTarget(
            python_file=str(ROOT / "pipelines" / "definitions.py"),
            attribute="defs",
            working_directory=str(ROOT),
            location_name=main_repo_location_name(),
        )
        with WorkspaceProcessContext(instance, target, version="") as process_context:
            yield process_context.create_request_context(), instance


def launch(context, run_config: dict) -> dict:
    from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
    from dagster_graphql.test.utils import execute_dagster_graphql, infer_job_selector

    result = execute_dagster_graphql(
        context,
        LAUNCH_PIPELINE_EXECUTION_MUTATION,
        variables={
            "executionParams": {
                "selector": infer_job_selector(context, "main_job"),
                "runConfigData": run_config,
                "mode": "default",
            }
        },
    )
    assert result.errors is None, result.errors
    return result.data["launchPipelineExecution"]


def test_launch_with_a_bad_value_is_refused_before_the_run_exists(graphql):
    context, instance = graphql
    out = launch(context, {"resources": {"study_settings": {"config": {"gap_threshold": 1.5}}}})
    assert out["__typename"] != "LaunchRunSuccess"
    text = str(out)
    assert "resources.study_settings.config.gap_threshold" in text and "Fix:" in text, text
    assert instance.get_runs() == []  # no run was created, so nothing could write


def test_launchpad_schema_validation_passes_a_valid_change(graphql):
    from dagster_graphql.test.utils import execute_dagster_graphql, infer_job_selector

    context, _ = graphql
    query = """
    query($selector: PipelineSelector!, $runConfigData: RunConfigData) {
      isPipelineConfigValid(pipeline: $selector, runConfigData: $runConfigData, mode: "default") {
        __typename
      }
    }"""
    result = execute_dagster_graphql(
        context,
        query,
        variables={
            "selector": infer_job_selector(context, "main_job"),
            "runConfigData": {
                "resources": {"study_settings": {"config": {"gap_threshold": 0.015}}}
            },
        },
    )
    assert result.data["isPipelineConfigValid"]["__typename"] == "PipelineConfigValidationValid"
