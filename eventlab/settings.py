"""Launchpad settings -> validated parameter objects, without Dagster (so a command line can check
a run config in well under a second, before importing the code location).

The launchpad's resources `study` and `cta_settings` (pipelines/resources.py) hold plain values
(ISO date strings, lists); these functions turn them into StudyParams / CTAParams and re-word
any ConfigError with the run-config path the launchpad accepts
(`resources.study.config.gap_threshold`), mapping internal fields to the launchpad field that
drives them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from eventlab.config import CONFIG, ConfigError, StudyParams
from eventlab.cta.params import CTAParams

STUDY_KEY, CTA_KEY = "study", "cta_settings"
STUDY_FIELDS = (
    "index", "gap_threshold", "close_rule", "start", "end", "open_policy", "horizons",
    "bootstrap_reps", "placebo_reps", "min_events_for_inference", "decluster_cooldown",
)  # fmt: skip
CTA_FIELDS = (
    "rule", "lookbacks", "weights", "saturation_z", "vol_span", "vol_target", "max_scale",
    "capacity_usd", "percentile_lookback", "down_big_std", "scenario_as_of",
)  # fmt: skip


def field_path(resource_key: str, name: str) -> str:
    """The run-config path the launchpad accepts for a resource field."""
    return f"resources.{resource_key}.config.{name}"


def _reword(exc: ConfigError, key: str, fields: tuple[str, ...], aliases: dict[str, str]):
    name = exc.field_name.split(".", 1)[-1]
    name = aliases.get(name, name)
    if name not in fields:
        return exc
    return ConfigError(field_path(key, name), exc.problem, exc.fix)


def _unknown(cfg: Mapping[str, object], key: str, fields: tuple[str, ...]) -> None:
    extra = sorted(set(cfg) - set(fields))
    if extra:
        raise ConfigError(
            field_path(key, extra[0]),
            "is not a setting of this resource",
            f"use one of {', '.join(fields)}",
        )


def _date(key: str, name: str, value: object, example: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            field_path(key, name),
            f"{value!r} is not an ISO date",
            f"write it as YYYY-MM-DD, e.g. {example}",
        ) from None


def study_params(cfg: Mapping[str, object]) -> StudyParams:
    """Validated StudyParams from the `study` resource's config (defaults for missing fields)."""
    _unknown(cfg, STUDY_KEY, STUDY_FIELDS)
    d = StudyParams()
    horizons = tuple(cfg.get("horizons", d.horizons))  # type: ignore[arg-type]
    try:
        return StudyParams(
            index=str(cfg.get("index", d.index)),
            gap_threshold=cfg.get("gap_threshold", d.gap_threshold),  # type: ignore[arg-type]
            close_rule=cfg.get("close_rule", d.close_rule),  # type: ignore[arg-type]
            start=_date(STUDY_KEY, "start", cfg.get("start"), "1957-01-01") or d.start,
            end=_date(STUDY_KEY, "end", cfg.get("end"), "2020-12-31"),
            open_policy=cfg.get("open_policy", d.open_policy),  # type: ignore[arg-type]
            horizons=horizons,
            # the event paths always reach the longest horizon
            path_post=max(d.path_post, *horizons) if horizons else d.path_post,
            bootstrap_reps=cfg.get("bootstrap_reps", d.bootstrap_reps),  # type: ignore[arg-type]
            placebo_reps=cfg.get("placebo_reps", d.placebo_reps),  # type: ignore[arg-type]
            min_events_for_inference=cfg.get(
                "min_events_for_inference", d.min_events_for_inference
            ),  # type: ignore[arg-type]
            decluster_cooldown=cfg.get("decluster_cooldown", d.decluster_cooldown),  # type: ignore[arg-type]
        ).validate(CONFIG.daily_keys)
    except ConfigError as exc:
        raise _reword(exc, STUDY_KEY, STUDY_FIELDS, {"path_post": "horizons"}) from None
    except TypeError as exc:  # e.g. a string where a number belongs
        raise ConfigError(
            f"resources.{STUDY_KEY}.config", str(exc), "check the field types in the launchpad"
        ) from None


def cta_params(cfg: Mapping[str, object]) -> CTAParams:
    """Validated CTAParams from the `cta_settings` resource's config (defaults for missing fields)."""
    _unknown(cfg, CTA_KEY, CTA_FIELDS)
    d = CONFIG.cta
    dates = tuple(
        _date(CTA_KEY, "scenario_as_of", v, "2025-11-20")
        for v in cfg.get("scenario_as_of", [x.isoformat() for x in d.scenario_as_of])  # type: ignore[union-attr]
    )
    for day in dates:
        if day is not None and not (dt.date(1900, 1, 1) <= day <= dt.date.today()):
            raise ConfigError(
                field_path(CTA_KEY, "scenario_as_of"),
                f"{day} is not a past date: the scenarios start from a close in the data",
                "use a date with data, e.g. 2025-11-20",
            )
    lookbacks = tuple(cfg.get("lookbacks", d.lookbacks))  # type: ignore[arg-type]
    n = len(lookbacks)
    # three lookbacks keep the desks' short/medium/long names; any other count is numbered
    horizons = d.horizons if n == len(d.horizons) else tuple(f"h{i + 1}" for i in range(n))
    changes = {
        k: cfg[k]
        for k in CTA_FIELDS
        if k in cfg and k not in ("lookbacks", "weights", "scenario_as_of")
    }
    try:
        return d.with_(
            **changes,
            horizons=horizons,
            lookbacks=lookbacks,
            weights=tuple(cfg.get("weights", d.weights)),  # type: ignore[arg-type]
            scenario_as_of=dates,
        ).validate()
    except ConfigError as exc:
        raise _reword(
            exc,
            CTA_KEY,
            CTA_FIELDS,
            {
                "horizons": "weights" if n else "lookbacks",
                "vol_min_periods": "vol_span",
                "scenario_std_multiples": "down_big_std",
            },
        ) from None
    except TypeError as exc:
        raise ConfigError(
            f"resources.{CTA_KEY}.config", str(exc), "check the field types in the launchpad"
        ) from None
