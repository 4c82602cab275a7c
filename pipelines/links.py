"""Where the report server publishes reports/: the http links written into asset metadata.

The UI cannot follow file:// links, so metadata links point at the report server
(commands/report_server.py, started by `make ui`) or at EVENTLAB_REPORTS_URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3001
ENV_URL = "EVENTLAB_REPORTS_URL"


def base_url() -> str:
    """Where reports/ is served: EVENTLAB_REPORTS_URL, else http://127.0.0.1:3001."""
    return os.environ.get(ENV_URL, f"http://{DEFAULT_HOST}:{DEFAULT_PORT}").rstrip("/")


def report_url(reports_root: str | Path, path: str | Path) -> str:
    """The http URL of `path` (a file or folder inside reports_root) on the report server."""
    rel = Path(path).absolute().relative_to(Path(reports_root).absolute())
    return f"{base_url()}/{quote(rel.as_posix())}"
