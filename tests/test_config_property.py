"""Property: every valid configuration (what the launchpad accepts and the pre-flight check passes)
yields a complete report - the study tables, the CTA tables, every study- or CTA-dependent chart
and report.html - through the same plain functions the assets call, on the session's warehouse.
Zero events is a valid answer, and the report says so. Few, derandomized examples keep it fast
and deterministic; explicit examples cover the corners the fault hunt found."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from eventlab.config import CONFIG
from eventlab.errors import ConfigError
from eventlab.settings.cta import RULES

STUDY_CHARTS = ("forward_paths", "forward_distributions", "event_timeline", "cta_monitor")


@pytest.fixture(scope="module")
def frames(materialized) -> dict[str, pd.DataFrame]:
    """Every input a study-dependent chart or the report reads, from the session's warehouse."""
    from pipelines.stages.charts import input_key

    wh = Path(materialized.warehouse)
    names = [*CONFIG.daily_keys, "SPY_5m", "SPX_5m", "NVDA_5m"]
    return {
        n: pd.read_parquet(wh.joinpath(*input_key(n).path).with_suffix(".parquet")) for n in names
    }


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
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(study=study_configs, cta=cta_configs)
@example(study={"gap_threshold": 0.3}, cta={})  # zero events
@example(
    study={"start": "1950-01-01", "end": "1960-01-01", "horizons": [250]}, cta={"lookbacks": [2520]}
)
def test_every_valid_configuration_yields_a_complete_report(frames, tmp_path, study, cta):
    from commands import preflight
    from eventlab.charts.registry import BY_NAME, draw_chart
    from eventlab.report.claims import ClaimData, evaluate_claims
    from eventlab.report.render import CTA_TABLES, build_context, collect_charts, render_html
    from eventlab.study.run import run_study
    from pipelines.resources import CTASettings, StudySettings
    from pipelines.stages.cta import CSV_OUTS, _Tables
    from pipelines.stages.study import study_tables

    try:  # the launchpad's own validation, then the pre-flight check against the data
        params = StudySettings(**study).params()
        cta_params = CTASettings(**cta).params()
        span = (dt.date(1927, 12, 30), dt.date(2026, 8, 20))
        preflight.check_against_data(params, span, "resources.study.config")
        preflight.check_scenarios(cta_params, span)
    except (ValueError, ConfigError):
        assume(False)  # not a valid configuration: refused before any run (tested elsewhere)
    prices = {k: frames[k] for k in CONFIG.daily_keys}
    result = run_study(prices, params)
    tables = {k: v[0] for k, v in study_tables(result, prices).items()}
    events = tables["events"]
    as_of = prices["GSPC"].index[-1]
    cta_tables = _Tables(prices["GSPC"], events, as_of.date(), tmp_path, cta_params)
    cta_frames = {name: cta_tables.frame(name) for name in CSV_OUTS | {"cta_levels"}}
    for name in STUDY_CHARTS:
        inputs = {**tables, **frames, "cta_levels": cta_frames["cta_levels"]}
        draw_chart(
            name,
            {k: inputs.get(k) for k in BY_NAME[name].needs},
            tmp_path / "charts",
            as_of,
        )
    claims = evaluate_claims(
        ClaimData(
            events=events,
            event_stats=tables["event_stats"],
            prices=prices,
            reference={},
            cta_claims=cta_frames["cta_claims"],
            index_key=params.index,
        )
    )
    ctx = build_context(
        as_of=as_of.date().isoformat(),
        generated_utc="",
        events=events,
        event_stats=tables["event_stats"],
        eras=tables["open_quality_eras"],
        claims=claims,
        cta_tables={k: v for k, v in cta_frames.items() if k in CTA_TABLES},
        charts=collect_charts(tmp_path),
    )
    html = render_html(ctx)
    assert len(collect_charts(tmp_path)) == len(STUDY_CHARTS)
    assert "<html" in html.lower() and len(html) > 10_000
    main = tables["event_stats"][tables["event_stats"]["variant"] == "main"]
    assert (main["n_events"] == len(events)).all()
    if events.empty:
        assert "0 events" in html or "no event" in html.lower()
