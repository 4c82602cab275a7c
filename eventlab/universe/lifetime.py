"""Worker processes that die with the run, whatever kills it.

The ticker step's workers are children of a fork server, not of the run's process, so the
kernel's parent-death signal alone would tie them to the fork server only. Each worker therefore
(1) asks the kernel for SIGKILL when its parent (the fork server) dies (Linux PR_SET_PDEATHSIG)
and (2) watches the run's process from a daemon thread (pid and start time, as the report's
staging marker does) and ends itself within WATCH_S once that process is gone. A killed run thus
leaves no worker studying and writing tickers with no lock held.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

from eventlab.report.publishing import owner_alive

WATCH_S = 0.5
_PR_SET_PDEATHSIG = 1


def _watch(record: dict[str, object]) -> None:
    while owner_alive(record):
        time.sleep(WATCH_S)
    os.kill(os.getpid(), signal.SIGKILL)


def die_with_run(record: dict[str, object]) -> None:
    """Pool initializer: end this worker when its parent or the run's process (`record`, from
    eventlab.report.publishing.owner_record) dies."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if not owner_alive(record):  # the run died before this worker started watching
        os._exit(70)
    threading.Thread(target=_watch, args=(record,), name="die-with-run", daemon=True).start()
