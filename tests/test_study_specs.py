"""Study specs (eventlab/studies/spec.py): the seed question is one spec with unchanged numbers,
the library loads, a bad spec is refused with its file, line, column, offending name and the
closest valid names, and the battery's summary, hypothesis and fired-today tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventlab.config import CONFIG, StudyParams
from eventlab.studies.battery import (
    HYPOTHESIS_COLUMNS,
    fired_on_latest,
    fired_table,
    hypothesis_rows,
    run_spec,
    summary_table,
)
from eventlab.studies.spec import SpecError, load_library, load_spec
from eventlab.study.event_rules import GAP_RULE, ConditionRule
from eventlab.study.tables import study_tables
from eventlab.study.whole_study import run_study, run_variant

LIBRARY = Path(__file__).resolve().parents[1] / "studies"
KEYS = CONFIG.daily_keys


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_the_seed_spec_is_the_seed_study_with_unchanged_numbers(snapshot_prices) -> None:
    spec = load_spec(LIBRARY / "gap_up_close_red.yaml", KEYS)
    assert spec.rule is GAP_RULE and spec.params == CONFIG.study
    r = run_spec(spec, snapshot_prices)
    today = study_tables(run_study(dict(snapshot_prices), CONFIG.study), dict(snapshot_prices))
    pd.testing.assert_frame_equal(r.stats, today.event_stats)
    pd.testing.assert_frame_equal(r.events, today.events)
    pd.testing.assert_frame_equal(r.verdicts, today.event_verdicts)
    pd.testing.assert_frame_equal(r.baselines, today.event_baselines)
    pd.testing.assert_frame_equal(r.leave_one_out, today.event_leave_one_out)


def test_the_seed_condition_selects_the_gap_rule_days(snapshot_prices) -> None:
    """The condition language and the seed's array code agree day by day (so stating the gap
    rule as a condition changes no event)."""
    spec = load_spec(LIBRARY / "gap_up_close_red.yaml", KEYS)
    as_condition = ConditionRule(spec.condition, "GSPC")
    for params in (CONFIG.study, CONFIG.study.with_(open_policy="all")):
        a = run_variant(dict(snapshot_prices), params, "main", GAP_RULE).is_event
        b = run_variant(dict(snapshot_prices), params, "main", as_condition).is_event
        assert a.sum() > 0
        pd.testing.assert_series_equal(a, b)


def test_the_library_holds_thirty_loadable_specs_each_with_its_sentence() -> None:
    specs = load_library(LIBRARY, KEYS)
    assert len(specs) >= 30
    for s in specs:
        assert s.name == Path(s.path).stem
        assert "\n" not in s.question and s.question.endswith("?")
    assert len({s.condition_text for s in specs}) == len(specs) - 1  # NDX repeats the seed's rule


def test_a_close_only_condition_counts_every_session_and_skips_the_stale_open_row(
    tmp_path,
) -> None:
    spec = load_spec(
        write(tmp_path, "drop", "name: drop\nquestion: q?\ncondition: ret(1) < -3%\n"), KEYS
    )
    assert isinstance(spec.rule, ConditionRule)
    assert spec.params.open_policy == "all"
    names = [n for n, _ in spec.rule.variants(spec.params)]
    assert names == ["main", "SPY_own_opens"]


@pytest.mark.parametrize(
    ("text", "where", "words", "suggestion"),
    [
        (
            "name: x\nquestion: q?\ncondition: gap > 1%\nhorizon: [1]\n",
            ":4:1:",
            "horizon",
            "horizons",
        ),
        ("name: x\nquestion: q?\ncondition: gap > 1%\nhorizons: abc\n", ":4:11:", "horizons", None),
        (
            "name: x\nquestion: q?\ncondition: gap > 1%\nindex: GSPX\n",
            ":4:8:",
            "unknown series",
            "GSPC",
        ),
        ("name: x\nquestion: q?\ncondition: gap > 1% and clsoe < 5\n", ":3:25:", "clsoe", "close"),
        (
            "name: x\nquestion: q?\ncondition: 'gap > 1% and clsoe < 5'\n",
            ":3:26:",
            "clsoe",
            "close",
        ),
        ("name: y\nquestion: q?\ncondition: gap > 1%\n", ":1:7:", "file's name", None),
        ("name: x\nquestion: q?\n", ":1:1:", "missing", None),
        ("name: x\nquestion: [q\n", ":", "YAML", None),
        (
            "name: x\nquestion: q?\ncondition: gap > 1%\ndecluster_cooldown: -3\n",
            ":4:21:",
            "decluster_cooldown",
            None,
        ),
    ],
)
def test_a_bad_spec_is_refused_with_file_line_column_and_the_closest_names(
    tmp_path, text, where, words, suggestion
) -> None:
    path = write(tmp_path, "x", text)
    with pytest.raises(SpecError) as info:
        load_spec(path, KEYS)
    message = str(info.value)
    assert message.startswith(f"{path}{where}"), message
    assert words in message
    if suggestion is not None:
        assert suggestion in info.value.suggestions, info.value.suggestions
        assert suggestion in message


def test_a_condition_in_a_block_scalar_is_located_on_its_own_line(tmp_path) -> None:
    text = "name: x\nquestion: q?\ncondition: |\n  gap > 1%\n  and clsoe < 5\n"
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, "x", text), KEYS)
    assert (info.value.line, info.value.column) == (5, 7), str(info.value)


def test_the_battery_tables_for_a_condition_spec(tmp_path, snapshot_prices) -> None:
    spec = load_spec(
        write(
            tmp_path, "vix", "name: vix\nquestion: q?\ncondition: first_in(VIX.close > 40, 63)\n"
        ),
        KEYS,
    )
    r = run_spec(spec, snapshot_prices)
    vix = snapshot_prices["VIX"]["close"]
    # independent count: sessions whose VIX close is above 40 and was not in the 63 before
    above = (vix > 40).reindex(snapshot_prices["GSPC"].index).fillna(False).to_numpy(bool)
    prior = pd.Series(above).shift(1, fill_value=False).rolling(63, min_periods=1).max()
    first = above & (prior.to_numpy() == 0)
    first &= snapshot_prices["GSPC"].index >= pd.Timestamp(spec.params.start)
    assert len(r.events) == int(first.sum()) > 5
    h = hypothesis_rows(r)
    assert list(h.columns) == list(HYPOTHESIS_COLUMNS)
    assert len(h) == len(r.stats) and set(h["spec"]) == {"vix"}
    assert np.allclose(h["estimate"], r.stats["diff_mean"], equal_nan=True)
    summary = summary_table([r])
    assert summary.loc[0, "n_events"] == len(r.events)
    assert summary.loc[0, "last_event"] == pd.Timestamp(r.events["date"].max()).date().isoformat()
    assert list(r.verdicts["horizon"]) == list(spec.params.horizons)
    assert r.verdicts["verdict"].map(lambda v: isinstance(v, str) and v != "").all()


def test_fired_today_is_the_condition_on_the_latest_session_of_the_as_of(
    tmp_path, snapshot_prices
) -> None:
    texts = {"up": "close > 0", "never": "close < 0", "nd": "close > 0\nindex: NDX"}
    fired = {}
    for name, cond in texts.items():
        spec = load_spec(
            write(tmp_path, name, f"name: {name}\nquestion: q?\ncondition: {cond}\n"), KEYS
        )
        held, last = fired_on_latest(spec, snapshot_prices)
        fired[name] = (held, last.date().isoformat())
    as_of = snapshot_prices["GSPC"].index[-1].date().isoformat()
    assert fired == {"up": (True, as_of), "never": (False, as_of), "nd": (True, fired["nd"][1])}
    assert fired["nd"][1] < as_of
    rows = pd.DataFrame(
        [{"spec": n, "fired_today": h, "latest_session": d} for n, (h, d) in fired.items()]
    )
    # NDX's data stops before the as-of session: it cannot have fired today
    assert fired_table(rows, as_of)["spec"].tolist() == ["up"]


def test_study_params_validate_every_override(tmp_path) -> None:
    spec = load_spec(
        write(
            tmp_path,
            "x",
            "name: x\nquestion: q?\ncondition: gap > 1%\nhorizons: [2, 10]\nstart: 1990-01-01\n",
        ),
        KEYS,
    )
    assert spec.params.horizons == (2, 10)
    assert spec.params.start.isoformat() == "1990-01-01"
    assert spec.params == StudyParams(horizons=(2, 10), start=spec.params.start)


def test_make_run_checks_every_spec_before_anything_runs(tmp_path) -> None:
    from commands import preflight

    write(tmp_path, "typo", "name: typo\nquestion: q?\ncondition: VIX.close > 30 adn gap > 1%\n")
    config = {"resources": {"library_settings": {"config": {"folder": str(tmp_path)}}}}
    with pytest.raises(SpecError) as info:
        preflight.check_study_specs(config)
    assert str(info.value).startswith(f"{tmp_path / 'typo.yaml'}:3:")
    preflight.check_study_specs({})  # the shipped library passes
