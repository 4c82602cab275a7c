"""The static server `make ui` starts for reports/ and the http links the UI metadata carries."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from commands import report_server
from pipelines import links


def test_report_url_is_http_and_relative_to_the_reports_root(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(links.ENV_URL, raising=False)
    url = links.report_url(tmp_path, tmp_path / "2026-08-20" / "report.html")
    assert url == "http://127.0.0.1:3001/2026-08-20/report.html"
    monkeypatch.setenv(links.ENV_URL, "http://127.0.0.1:4999/")
    folder = tmp_path / "2026-08-20--gap 1.5%"
    assert links.report_url(tmp_path, folder / "report.html") == (
        "http://127.0.0.1:4999/2026-08-20--gap%201.5%25/report.html"
    )
    with pytest.raises(ValueError):
        links.report_url(tmp_path, Path("/elsewhere/report.html"))


def test_server_serves_the_folder_and_nothing_outside(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    (root / "2026-08-20").mkdir(parents=True)
    (root / "2026-08-20" / "report.html").write_text("<title>ok</title>")
    (tmp_path / "secret.txt").write_text("not served")
    server = report_server.make_server(root, "127.0.0.1", 0)
    port = server.server_address[1]
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/2026-08-20/report.html") as r:
            assert r.status == 200 and r.read() == b"<title>ok</title>"
            assert r.headers["Cache-Control"] == "no-store"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/../secret.txt")
        assert err.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)
