"""The study library's settings: where the specs live, how many processes run them, and how the
fired-today alert is delivered."""

from __future__ import annotations

from pathlib import Path

from eventlab.settings.base import Settings, setting

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class LibraryParams(Settings):
    """Every spec under `folder` runs through the whole battery in `make run`; the alert sensor
    POSTs what fired to $EVENTLAB_ALERT_WEBHOOK when it is set."""

    SECTION = "library"

    folder: str = setting(
        str(PROJECT_ROOT / "studies"),
        "Folder of the study specs (one <name>.yaml per study).",
        example="'studies'",
    )
    workers: int = setting(2, "Processes the library's studies run on.", ge=1, le=16, example="2")
    alert_timeout_s: float = setting(
        3.0,
        "Seconds one POST of the alert may take before it is abandoned.",
        gt=0,
        le=60,
        unit="seconds",
        example="3",
    )
    alert_retries: int = setting(
        2, "Further POST attempts after a failed one.", ge=0, le=10, example="2"
    )
    alert_backoff_s: float = setting(
        0.5,
        "Seconds before the first retry; each further retry waits twice as long.",
        ge=0,
        le=30,
        unit="seconds",
        example="0.5",
    )
