"""Where reports go and how long a run waits to publish."""

from __future__ import annotations

from pathlib import Path

from eventlab.settings.base import Settings, setting

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ReportParams(Settings):
    """Each run builds in <reports_root>/.staging-<run_id>/ and publishes to
    <reports_root>/<folder>/ in one atomic switch (see eventlab.report.publishing)."""

    SECTION = "report"

    reports_root: str = setting(
        str(PROJECT_ROOT / "reports"),
        "Folder holding <as-of>/ report folders and the `latest` symlink.",
        example="'reports'",
    )
    lock_timeout_s: float = setting(
        120.0,
        "Seconds to wait for another run's publish lock before failing.",
        ge=1,
        le=3600,
        unit="seconds",
        example="120",
    )
