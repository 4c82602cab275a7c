"""A small static HTTP server for reports/, so the report opens in one click from the Dagster UI.

The UI runs on http://127.0.0.1:3000 and a browser will not follow a `file://` link from it, so
`make ui` also starts this server (127.0.0.1 only, port 3001 by default) and the `report` asset's
metadata links to `http://127.0.0.1:3001/<folder>/report.html`. EVENTLAB_REPORTS_URL changes the
address written into the metadata (e.g. a deployment's own web server for reports/); the server
itself takes --host/--port/--root:

    .venv/bin/python -m commands.report_server             # serves ./reports on 127.0.0.1:3001
"""

from __future__ import annotations

import argparse
import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.links import DEFAULT_HOST, DEFAULT_PORT, base_url


class _Handler(SimpleHTTPRequestHandler):
    """Static files with no caching (a report folder is replaced by the next run) and quiet logs."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def make_server(root: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
    """A ThreadingHTTPServer serving `root` read-only (GET/HEAD of files; no uploads, no CGI)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_Handler, directory=str(root))
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> int:
    url = urlsplit(base_url())
    ap = argparse.ArgumentParser(description="Serve reports/ for the Dagster UI's report links.")
    ap.add_argument("--root", default="reports", help="folder to serve (default: reports)")
    ap.add_argument("--host", default=url.hostname or DEFAULT_HOST)
    ap.add_argument("--port", type=int, default=url.port or DEFAULT_PORT)
    args = ap.parse_args(argv)
    try:
        server = make_server(args.root, args.host, args.port)
    except OSError as exc:
        print(
            f"error: the report server cannot listen on {args.host}:{args.port} "
            f"({exc.strerror}). Fix: stop the program holding it, or choose another port "
            f"(`make ui REPORT_PORT={args.port + 100}`)",
            file=sys.stderr,
        )
        return 1
    print(f"serving {Path(args.root).resolve()} at http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
