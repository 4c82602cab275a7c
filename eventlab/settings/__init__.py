"""Every settings group, declared once (type, default, bounds, one-line description, example):
the Dagster resources (pipelines/resources.py), the --config YAML, preflight and every message
are derived from these declarations (eventlab/settings/base.py holds the derivation)."""

from eventlab.settings.base import Settings, config_error, range_words, setting
from eventlab.settings.cta import RULES, CTAParams
from eventlab.settings.environment import EnvironmentParams
from eventlab.settings.library import LibraryParams
from eventlab.settings.report import ReportParams
from eventlab.settings.source import SourceParams
from eventlab.settings.study import StudyParams
from eventlab.settings.universe import UniverseParams
from eventlab.settings.validation import TREND_INDICES, BacktestParams, ValidationParams

__all__ = [
    "RULES",
    "TREND_INDICES",
    "BacktestParams",
    "CTAParams",
    "EnvironmentParams",
    "LibraryParams",
    "ReportParams",
    "Settings",
    "SourceParams",
    "StudyParams",
    "UniverseParams",
    "ValidationParams",
    "config_error",
    "range_words",
    "setting",
]
