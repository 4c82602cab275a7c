"""The fired-today alert (eventlab/studies/alerts.py and the studies_fired_alert sensor): alerts.json
written atomically, the same JSON POSTed to a webhook this test serves on 127.0.0.1, retried with
backoff after a failure, and a dead or slow webhook costs bounded time and never raises."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from eventlab.studies import alerts

pytestmark = pytest.mark.service

FIRED = pd.DataFrame(
    [
        {
            "spec": "vix_spike_20pct",
            "question": "The VIX jumped more than 20% in a day: what next?",
            "n_events": 130,
            "median_5d": 0.004,
            "hit_rate_5d": 0.58,
            "verdict_5d": "mixed",
            "median_20d": float("nan"),
            "report": "studies/vix_spike_20pct/report.html",
        }
    ]
)


class Hook:
    """A webhook on 127.0.0.1: answers `statuses` in turn (then 200), after `delay_s`."""

    def __init__(self, statuses: list[int] | None = None, delay_s: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.delay_s = delay_s
        self.bodies: list[bytes] = []
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(body)
                time.sleep(hook.delay_s)
                status = hook.statuses.pop(0) if hook.statuses else 200
                try:
                    self.send_response(status)
                    self.end_headers()
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *a) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A port on 127.0.0.1 with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield f"http://127.0.0.1:{port}/hook"


def document() -> dict[str, object]:
    return alerts.alert_document(FIRED, "2026-08-20", "2026-08-20")


def test_the_alert_is_written_and_posted_as_the_same_json(tmp_path) -> None:
    with Hook() as hook:
        out = alerts.deliver(tmp_path, document(), hook.url, timeout_s=2, retries=2, backoff_s=0.05)
    assert out["webhook"].startswith("sent (HTTP 200, attempt 1)")
    written = (tmp_path / "alerts.json").read_bytes()
    assert hook.bodies == [written]
    doc = json.loads(written)
    assert doc["count"] == 1 and doc["fired"][0]["spec"] == "vix_spike_20pct"
    assert doc["fired"][0]["median_20d"] is None  # NaN is null, valid JSON
    assert not [p for p in tmp_path.iterdir() if p.name != "alerts.json"]  # no temp file left


def test_a_failing_webhook_is_retried_with_backoff(tmp_path) -> None:
    waits: list[float] = []
    with Hook(statuses=[500, 503]) as hook:
        sent = alerts.post_alert(
            hook.url, b"{}", timeout_s=2, retries=3, backoff_s=0.1, sleep=waits.append
        )
    assert sent.startswith("sent (HTTP 200, attempt 3)")
    assert waits == [0.1, 0.2] and len(hook.bodies) == 3


def test_a_dead_webhook_gives_up_quickly_without_raising(tmp_path, dead_url) -> None:
    t0 = time.monotonic()
    out = alerts.deliver(tmp_path, document(), dead_url, timeout_s=1, retries=2, backoff_s=0.05)
    assert time.monotonic() - t0 < 3
    assert out["webhook"].startswith("not sent after 3 attempts")
    assert (tmp_path / "alerts.json").exists()  # the file does not depend on the webhook


def test_a_slow_webhook_is_abandoned_at_the_timeout(tmp_path) -> None:
    with Hook(delay_s=3) as hook:
        t0 = time.monotonic()
        sent = alerts.post_alert(hook.url, b"{}", timeout_s=0.5, retries=1, backoff_s=0.05)
        elapsed = time.monotonic() - t0
    assert sent.startswith("not sent after 2 attempts")
    assert elapsed < 2.5  # two timeouts and one backoff, not the server's 3 s each


def test_a_malformed_webhook_url_is_reported_not_raised() -> None:
    assert alerts.post_alert(
        "file:///etc/passwd", b"{}", timeout_s=1, retries=0, backoff_s=0
    ).startswith("not sent")


def test_the_sensor_delivers_the_materialized_list(tmp_path, monkeypatch) -> None:
    from pipelines.resources import LibrarySettings
    from pipelines.stages import studies

    folder = tmp_path / "2026-08-20"
    folder.mkdir()
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=studies.FIRED_KEY,
            metadata={
                "alert": dg.MetadataValue.json(document()),
                "report_folder": dg.MetadataValue.path(str(folder)),
            },
        )
    )
    with Hook() as hook:
        monkeypatch.setenv(alerts.WEBHOOK_ENV, hook.url)
        ctx = dg.build_sensor_context(
            instance=instance,
            resources={"library_settings": LibrarySettings(alert_timeout_s=2)},
        )
        tick = studies.studies_fired_alert.evaluate_tick(ctx)
    assert "sent (HTTP 200" in str(tick.skip_message), tick
    assert hook.bodies == [(folder / "alerts.json").read_bytes()]
    assert json.loads(hook.bodies[0])["fired"][0]["report"] == "studies/vix_spike_20pct/report.html"
    assert Path(folder / "alerts.json").exists()
