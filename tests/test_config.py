"""Bad configuration gives a clear error naming the field and the fix."""

import datetime as dt

import pytest

from eventlab.config import CONFIG, Series, StudyParams
from eventlab.errors import ConfigError
from pipelines.resources import StudySettings

KEYS = CONFIG.daily_keys


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"gap_threshold": -0.01}, "study.gap_threshold"),
        ({"gap_threshold": 1.0}, "study.gap_threshold"),
        ({"index": "NOPE"}, "study.index"),
        ({"vix": "XYZ"}, "study.vix"),
        ({"horizons": ()}, "study.horizons"),
        ({"horizons": (0, 5)}, "study.horizons"),
        ({"horizons": (5, 5)}, "study.horizons"),
        ({"start": dt.date(2020, 1, 1), "end": dt.date(2019, 1, 1)}, "study.start"),
        ({"close_rule": "lower"}, "study.close_rule"),
        ({"open_policy": "some"}, "study.open_policy"),
        ({"horizons": (1, 60), "path_post": 20}, "study.path_post"),
        ({"bootstrap_reps": 5}, "study.bootstrap_reps"),
    ],
)
def test_bad_study_params_name_the_field(changes, field):
    with pytest.raises(ConfigError) as err:
        StudyParams(**changes).validate(KEYS)
    assert err.value.field_name == field
    assert field in str(err.value) and "Fix:" in str(err.value)


def test_defaults_are_valid_and_match_design():
    p = StudyParams().validate(KEYS)
    assert (p.gap_threshold, p.close_rule, p.horizons, p.open_policy) == (
        0.01,
        "prior_close",
        (1, 5, 20),
        "genuine",
    )
    assert p.start == dt.date(1957, 1, 1)


def test_launchpad_settings_validate_through_the_same_object():
    with pytest.raises(ValueError, match=r"resources\.study_settings\.config\.index"):
        StudySettings(index="FOO")
    with pytest.raises(ValueError, match=r"resources\.study_settings\.config\.start"):
        StudySettings(start="2020-13-45")
    with pytest.raises(ValueError, match=r"resources\.study_settings\.config\.horizons"):
        StudySettings(horizons=[])
    assert StudySettings(gap_threshold=0.02).params().gap_threshold == 0.02
    # a horizon beyond the default event path widens the path instead of failing (the
    # declaration's default, so in Python too)
    assert StudySettings(horizons=[1, 60]).params().path_post == 60
    assert StudyParams(horizons=(1, 60)).path_post == 60


def test_bad_series_key():
    with pytest.raises(ConfigError, match="series.key"):
        Series(key="1bad-key", ticker="X", kind="stock", raw_file=None)


def test_universe_grows_by_environment(monkeypatch):
    from eventlab.config import load_config

    monkeypatch.setenv("EVENTLAB_EXTRA_TICKERS", "AAPL, ^FTSE,BRK-B")
    cfg = load_config()
    assert {"AAPL", "FTSE", "BRK_B"} <= set(cfg.daily_keys)
    assert cfg.series("FTSE").ticker == "^FTSE"


def test_one_derivation_names_the_field_the_range_and_a_fix():
    """eventlab/settings/base.py serves the study, CTA, universe and price-source settings and
    the EVENTLAB_* variables: each message names the field path, the range in words (from the
    declared bounds) and a fix (the declared example)."""
    from commands import preflight
    from eventlab.settings import range_words
    from pipelines.resources import CTASettings, PriceSource

    assert range_words({"gt": 0, "lt": 0.5}) == "above 0 and below 0.5"
    assert range_words({"ge": 1, "le": 16}, integer=True) == "an integer from 1 to 16"
    assert range_words({"gt": 0, "le": 10}) == "above 0 and at most 10"
    cases = [
        (
            lambda: StudySettings(decluster_cooldown=2000),
            "`resources.study_settings.config.decluster_cooldown`: must be an integer from 0 to 1000 "
            "sessions, got 2000. Fix: use 20",
        ),
        (
            lambda: StudySettings(gap_threshold=0.5),
            "`resources.study_settings.config.gap_threshold`: must be above 0 and below 0.5, got 0.5. "
            "Fix: use 0.01 for +1% (a fraction, not percent)",
        ),
        (
            lambda: CTASettings(vol_target=3),
            "`resources.cta_settings.config.vol_target`: must be above 0 and below 2 "
            "(annualized), got 3.0. Fix: use 0.15 for 15% (a fraction, not percent)",
        ),
        (
            lambda: PriceSource(deadline_s=700),
            "`resources.price_source.config.deadline_s`: must be from 1 to 600 seconds, got "
            "700.0. Fix: use 45",
        ),
        (
            lambda: preflight.check_environment({"EVENTLAB_LOCK_TIMEOUT_S": "0.5"}),
            "`EVENTLAB_LOCK_TIMEOUT_S`: must be from 1 to 3600 seconds, got '0.5'. Fix: use 120",
        ),
        (
            lambda: CONFIG.universe.with_(workers=0).validate(),
            "`universe.workers`: must be an integer from 1 to 500 processes, got 0. Fix: use 2",
        ),
    ]
    for build, message in cases:
        with pytest.raises(ValueError) as err:
            build()
        assert message in str(err.value)
