"""The numeric EVENTLAB_* environment variables, declared like every other setting (the field
name is the variable's name, so a message names what the user sets)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from eventlab.settings.base import Settings, setting


class EnvironmentParams(Settings):
    """Environment variables read by the run (unset = the default)."""

    SECTION = ""

    EVENTLAB_LOCK_TIMEOUT_S: float = setting(
        120.0,
        "Seconds to wait for the warehouse's write lock.",
        ge=1,
        le=3600,
        unit="seconds",
        example="120",
    )

    EVENTLAB_CELERY_NO_WORKER_S: float = setting(
        60.0,
        "Celery runs: seconds with no worker answering before a run fails.",
        ge=5,
        le=3600,
        unit="seconds",
        example="60",
    )
    EVENTLAB_CELERY_VISIBILITY_S: float = setting(
        900.0,
        "Celery workers: seconds after which a task a lost worker took is given to another "
        "worker (keep it above the longest step).",
        ge=10,
        le=86400,
        unit="seconds",
        example="900",
    )

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> EnvironmentParams:
        """The variables that are set (non-empty), checked: ConfigError naming the variable."""
        env = os.environ if env is None else env
        values = {name: env[name] for name in cls.model_fields if env.get(name)}
        return cls.from_config(values, "", launchpad_only=False)
