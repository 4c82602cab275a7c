"""Refuse to start the UI on a taken port, naming the port, its Make variable and the fix.

`dagster dev` silently moves to another port when its own is taken, and the report server's
links would then point at whatever owns the port, so `make ui` checks both first.

Usage: python -m commands.ports UI_PORT=3000 REPORT_PORT=3001   (exit 1 with the message)
"""

from __future__ import annotations

import socket
import sys


def port_problem(name: str, port: int, host: str = "127.0.0.1") -> str | None:
    """None if `port` can be bound on `host`, else one line saying why and how to choose another."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            return (
                f"port {port} ({name}) on {host} is not available ({exc.strerror}). Another "
                f"program, or an earlier `make ui`, holds it. Fix: stop that program, or choose "
                f"another port, e.g. `make ui {name}={port + 100}`"
            )
    return None


def main(argv: list[str] | None = None) -> int:
    problems = []
    for arg in argv if argv is not None else sys.argv[1:]:
        name, _, value = arg.partition("=")
        if not value.isdigit() or not 0 < int(value) < 65536:
            problems.append(f"{name}={value!r} is not a port number. Fix: use 1024-65535")
            continue
        problem = port_problem(name, int(value))
        if problem:
            problems.append(problem)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
