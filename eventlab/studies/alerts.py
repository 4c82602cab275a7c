"""What fired today as an alert: the JSON document (every spec whose condition held on the latest
session, with what its history says), written atomically beside the report and POSTed to a
webhook. Delivery never raises: a dead or slow webhook costs at most its timeouts and backoffs."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from eventlab.data.store import atomic_write_bytes

WEBHOOK_ENV = "EVENTLAB_ALERT_WEBHOOK"
ALERTS_FILE = "alerts.json"
log = logging.getLogger(__name__)


def _plain(value: object) -> object:
    """A JSON-ready cell (NaN becomes null)."""
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()  # numpy scalars
    return value


def alert_document(fired: pd.DataFrame, as_of: str, report_folder: str) -> dict[str, object]:
    """The alert: the as-of session, the report folder, and one entry per spec that fired with
    its question, condition, series, history (n, median, hit rate, verdict per horizon) and the
    relative link to its report."""
    entries = [{k: _plain(v) for k, v in row.items()} for row in fired.to_dict("records")]
    return {
        "as_of": as_of,
        "report_folder": report_folder,
        "fired": entries,
        "count": len(entries),
    }


def alert_bytes(document: dict[str, object]) -> bytes:
    """The document as the bytes alerts.json holds and the webhook receives."""
    return json.dumps(document, indent=2, sort_keys=True).encode("utf-8")


def write_alerts(folder: Path, document: dict[str, object]) -> Path:
    """alerts.json in `folder`, written atomically (temp file + rename)."""
    path = Path(folder) / ALERTS_FILE
    atomic_write_bytes(path, alert_bytes(document))
    return path


def post_alert(
    url: str,
    body: bytes,
    *,
    timeout_s: float,
    retries: int,
    backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """POST `body` (JSON) to `url`: up to 1 + retries attempts, each bounded by `timeout_s`,
    waiting backoff_s, 2*backoff_s, ... between them. Returns what happened in words; never
    raises (the caller's run must not fail for a webhook)."""
    if not url.startswith(("http://", "https://")):
        return f"not sent: {WEBHOOK_ENV} must be an http(s) URL, got {url[:60]!r}"
    problem = ""
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        req = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 (http(s) checked above)
                if 200 <= resp.status < 300:
                    return f"sent (HTTP {resp.status}, attempt {attempt + 1})"
                problem = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            problem = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        log.warning("alert POST attempt %d to %s failed: %s", attempt + 1, url, problem)
    return f"not sent after {retries + 1} attempts ({problem})"


def deliver(
    folder: Path,
    document: dict[str, object],
    url: str | None,
    *,
    timeout_s: float,
    retries: int,
    backoff_s: float,
) -> dict[str, str]:
    """alerts.json written into `folder`, then POSTed to `url` when one is given."""
    path = write_alerts(folder, document)
    sent = "no webhook set"
    if url:
        sent = post_alert(
            url, alert_bytes(document), timeout_s=timeout_s, retries=retries, backoff_s=backoff_s
        )
    return {"alerts_json": str(path), "webhook": sent}
