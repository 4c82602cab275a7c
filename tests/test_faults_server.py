"""Issue 23, item 4: the report server (`commands.report_server`, as `make ui` starts it) serves
only regular files whose real path is inside reports/, shows nothing hidden, listens on
127.0.0.1 unless its own bind setting says otherwise (never because of EVENTLAB_REPORTS_URL),
bounds its connections with a timeout each, and names a bad bind address in one line. Each case
runs the real server as a subprocess and asks it over TCP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.service

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(root: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """The report server on a free port as a subprocess; yields the port once it listens."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "commands.report_server", "--root", str(root), "--port", str(port),
         *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("serving "), (line, proc.stderr.read() if proc.stderr else "")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def get(port: int, path: str) -> tuple[int, bytes]:
    """Status and body of a GET (the raw path is sent as given, no client-side normalisation)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A reports folder with a report, `latest`, hidden entries and links and special files that
    must never be served."""
    root = tmp_path / "reports"
    (root / "2026-08-20" / "charts").mkdir(parents=True)
    (root / "2026-08-20" / "report.html").write_text("<title>ok</title>")
    (root / "latest").symlink_to("2026-08-20", target_is_directory=True)
    (root / ".staging-abc").mkdir()
    (root / ".staging-abc" / "report.html").write_text("half built")
    (root / ".publish.lock").write_text("")
    (root / "2026-08-20" / ".hidden.csv").write_text("x")
    (root / "etc").symlink_to("/etc", target_is_directory=True)
    (root / "2026-08-20" / "passwd.html").symlink_to("/etc/passwd")
    (tmp_path / "secret.txt").write_text("not served")
    (root / "2026-08-20" / "secret.txt").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(root / "2026-08-20" / "pipe.csv")
    return root


def test_only_regular_files_inside_reports_are_served(reports: Path) -> None:
    with serving(reports) as port:
        assert get(port, "/2026-08-20/report.html") == (200, b"<title>ok</title>")
        assert get(port, "/latest/report.html") == (200, b"<title>ok</title>")  # link inside
        for path in (
            "/etc/passwd",  # a symlinked folder leading outside
            "/etc/",
            "/2026-08-20/passwd.html",  # a symlinked file leading outside
            "/2026-08-20/secret.txt",
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/2026-08-20/%2e%2e/%2e%2e/secret.txt",
            "/2026-08-20/pipe.csv",  # a FIFO: refused, never opened (it would block)
        ):
            status, body = get(port, path)
            assert status == 404, path
            assert b"root:" not in body and b"not served" not in body


def test_nothing_hidden_is_served_or_listed(reports: Path) -> None:
    with serving(reports) as port:
        for path in ("/.staging-abc/report.html", "/.publish.lock", "/2026-08-20/.hidden.csv",
                     "/%2estaging-abc/report.html"):  # fmt: skip
            assert get(port, path)[0] == 404, path
        status, listing = get(port, "/")
        assert status == 200
        assert b"2026-08-20/" in listing and b"latest/" in listing
        assert b".staging" not in listing and b".publish" not in listing
        assert b"etc" not in listing  # the link that leads outside is not offered either
        status, listing = get(port, "/2026-08-20/")
        assert b"report.html" in listing and b"charts/" in listing
        for hidden in (b".hidden", b"passwd", b"secret", b"pipe"):
            assert hidden not in listing


def _listening_addresses(port: int) -> set[str]:
    """The local IPv4 addresses with a socket listening on `port` (/proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if state == "0A" and int(p, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
    return found


def test_it_binds_127_0_0_1_whatever_the_links_address_says(reports: Path) -> None:
    exposed = {"EVENTLAB_REPORTS_URL": "http://0.0.0.0:3001", "EVENTLAB_REPORT_BIND": ""}
    with serving(reports, env=exposed) as port:
        assert _listening_addresses(port) == {"127.0.0.1"}
    # the separate, documented bind setting is what opens it to other interfaces
    with serving(reports, env={"EVENTLAB_REPORT_BIND": "0.0.0.0"}) as port:
        assert _listening_addresses(port) == {"0.0.0.0"}
    with serving(reports, "--bind", "0.0.0.0") as port:
        assert _listening_addresses(port) == {"0.0.0.0"}


def test_an_unresolvable_links_host_does_not_matter_and_a_bad_bind_is_one_line(
    reports: Path,
) -> None:
    with serving(reports, env={"EVENTLAB_REPORTS_URL": "http://no-such-host.invalid:3001"}) as p:
        assert get(p, "/latest/report.html")[0] == 200
    proc = subprocess.run(
        [sys.executable, "-m", "commands.report_server", "--root", str(reports),
         "--port", str(_free_port()), "--bind", "no-such-host.invalid"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "no-such-host.invalid" in lines[0] and "Fix: " in lines[0] and "--bind" in lines[0]


def test_connections_are_bounded_and_idle_ones_time_out(reports: Path) -> None:
    with serving(reports, "--max-connections", "2", "--timeout", "1") as port:
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
        time.sleep(0.3)  # both accepted and holding their slot, sending nothing
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            extra.sendall(b"GET /latest/report.html HTTP/1.0\r\n\r\n")
            assert extra.recv(100).startswith(b"HTTP/1.0 503")
        # the server drops each idle connection after its timeout (recv sees the close) ...
        t0 = time.monotonic()
        for s in idle:
            with s:
                s.settimeout(10)
                while s.recv(1024):
                    pass
        assert time.monotonic() - t0 < 5
        # ... and the freed slots serve again
        assert get(port, "/latest/report.html")[0] == 200


def test_a_link_swapped_to_the_outside_after_a_listing_is_still_refused(reports: Path) -> None:
    with serving(reports) as port:
        assert get(port, "/latest/report.html")[0] == 200
        (reports / "latest").unlink()
        (reports / "latest").symlink_to("/etc", target_is_directory=True)
        assert get(port, "/latest/passwd")[0] == 404
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/latest/hostname", timeout=10)
