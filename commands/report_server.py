"""A small static HTTP server for reports/, so the report opens in one click from the Dagster UI.

The UI runs on http://127.0.0.1:3000 and a browser will not follow a `file://` link from it, so
`make ui` also starts this server (port 3001 by default) and the `report` asset's metadata links
to `http://127.0.0.1:3001/<folder>/report.html`.

What it serves, and to whom:
- only regular files and folders whose real path (symlinks resolved) is inside the served root:
  a symlink under reports/ that leads elsewhere, a device or a FIFO answers 404;
- nothing hidden: a path with a component starting with `.` (staging folders, lock files)
  answers 404 and folder listings leave such entries out;
- it listens on 127.0.0.1 unless `--bind` (or `EVENTLAB_REPORT_BIND`) names another address;
  `EVENTLAB_REPORTS_URL` is only the address written into the UI's links (e.g. a deployment's
  own web server for reports/), never where this server listens;
- at most `--max-connections` (32) connections at once, each closed after `--timeout` (10 s)
  without a complete request; one over the bound gets 503 at once.

    .venv/bin/python -m commands.report_server             # serves ./reports on 127.0.0.1:3001
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import html
import io
import os
import socket
import stat
import sys
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from pipelines.links import DEFAULT_HOST, DEFAULT_PORT, base_url

BIND_ENV = "EVENTLAB_REPORT_BIND"
MAX_CONNECTIONS = 32
TIMEOUT_S = 10.0
BUSY = b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"


class _Handler(SimpleHTTPRequestHandler):
    """Regular files and folders under the root only, no hidden names, no caching (a report
    folder is replaced by the next run), quiet logs."""

    index_pages = ()  # a folder is listed; an index.html symlinked elsewhere is never opened
    timeout = TIMEOUT_S  # per connection: a client that stalls mid-request is dropped

    def _real(self, url_path: str) -> str | None:
        """The real path a URL path serves, or None if it is hidden, outside the root or
        neither a regular file nor a folder."""
        parts = [p for p in unquote(urlsplit(url_path).path).split("/") if p]
        if any(p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            return None
        root = os.path.realpath(self.directory)
        real = os.path.realpath(os.path.join(root, *parts))
        if real != root and not real.startswith(root + os.sep):
            return None
        try:
            mode = os.stat(real).st_mode
        except OSError:
            return None
        return real if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else None

    def translate_path(self, path: str) -> str:
        # The checked real path (not the link), so what is opened is what was checked; a refused
        # path maps to a name that cannot exist, and the base class answers 404.
        return self._real(path) or os.path.join(os.path.realpath(self.directory), ".refused", "")

    def list_directory(self, path: str | os.PathLike[str]) -> io.BytesIO | None:
        """A plain listing of what this server would serve from the folder (no hidden entries,
        no links that lead outside the root)."""
        try:
            names = sorted(os.listdir(path), key=str.lower)
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "No permission to list directory")
            return None
        base = self.path.split("?", 1)[0].split("#", 1)[0]
        base = base if base.endswith("/") else base + "/"
        rows = []
        for name in names:
            real = self._real(base + quote(name))
            if real is None:
                continue
            shown = name + "/" if os.path.isdir(real) else name
            rows.append(f'<li><a href="{quote(shown)}">{html.escape(shown)}</a></li>')
        title = html.escape(unquote(base))
        body = (
            f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><ul>{''.join(rows)}</ul></body></html>\n"
        ).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` at once (one more gets 503 and is
    closed, so idle or slow clients cannot exhaust the process)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler, max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_server(
    root: str | Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    max_connections: int = MAX_CONNECTIONS,
    timeout_s: float = TIMEOUT_S,
) -> BoundedServer:
    """A bounded threading server serving `root` read-only (GET/HEAD of files; no uploads)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    handler = type("Handler", (_Handler,), {"timeout": timeout_s})
    return BoundedServer(
        (host, port), functools.partial(handler, directory=str(root)), max_connections
    )


def _default_port() -> int:
    """The port of EVENTLAB_REPORTS_URL when it names one (the links point there), else 3001."""
    try:
        return urlsplit(base_url()).port or DEFAULT_PORT
    except ValueError:
        return DEFAULT_PORT


def main(argv: list[str] | None = None) -> int:
    """Serve the reports folder until interrupted; a bind that fails is one line with a fix."""
    ap = argparse.ArgumentParser(description="Serve reports/ for the Dagster UI's report links.")
    ap.add_argument("--root", default="reports", help="folder to serve (default: reports)")
    ap.add_argument(
        "--bind",
        "--host",
        dest="bind",
        default=os.environ.get(BIND_ENV) or DEFAULT_HOST,
        help=f"address to listen on (default: ${BIND_ENV}, else {DEFAULT_HOST}, this machine "
        "only; 0.0.0.0 exposes reports/ to the network)",
    )
    ap.add_argument("--port", type=int, default=_default_port())
    ap.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS)
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per connection")
    args = ap.parse_args(argv)
    if not 0 <= args.port <= 65535:
        ap.error(f"--port {args.port}: use a port from 1 to 65535, e.g. --port 3001")
    if args.max_connections < 1 or args.timeout <= 0:
        ap.error("--max-connections must be at least 1 and --timeout above 0, e.g. 32 and 10")
    try:
        server = make_server(
            args.root,
            args.bind,
            args.port,
            max_connections=args.max_connections,
            timeout_s=args.timeout,
        )
    except socket.gaierror as exc:
        print(
            f"error: the report server cannot listen on {args.bind!r}: the address does not "
            f"resolve ({exc.strerror}). Fix: pass an IP address of this machine with --bind "
            f"(or {BIND_ENV}), e.g. --bind 127.0.0.1",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        fix = (
            "stop the program holding it, or choose another port "
            f"(`make ui REPORT_PORT={args.port + 100}`)"
            if exc.errno == errno.EADDRINUSE
            else f"pass an address of this machine with --bind (or {BIND_ENV}), e.g. 127.0.0.1, "
            "and a port from 1024 up"
        )
        print(
            f"error: the report server cannot listen on {args.bind}:{args.port} "
            f"({exc.strerror}). Fix: {fix}",
            file=sys.stderr,
        )
        return 1
    print(f"serving {Path(args.root).resolve()} at http://{args.bind}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
