"""Chart worker processes die with the run that started them, whatever kills it.

The pool's fork server is a child of the run's process and forks the workers; a SIGKILL of the
run leaves both behind unless they notice. Two mechanisms, both cheap:
- PR_SET_PDEATHSIG (Linux prctl): the kernel sends SIGKILL to a worker when its parent (the
  fork server) exits. It is not used for the fork server itself, because the kernel ties the
  signal to the *thread* that forked it, and the pool is started from a short-lived thread.
- a watchdog thread polling the run's pid (every 0.2 s): the fork server and every worker exit
  once the run is gone (also where prctl does not exist).
Importing this module is cheap (no matplotlib): the pool passes `worker_init` by reference.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
POLL_S = 0.2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (killed, not yet reaped by its own parent) is gone for our purposes
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def watch(pid: int, poll_s: float = POLL_S) -> threading.Thread:
    """Start a daemon thread that ends this process (os._exit) once `pid` is gone."""

    def run() -> None:
        while _alive(pid):
            time.sleep(poll_s)
        os._exit(70)  # no cleanup: the run that wanted the result no longer exists

    thread = threading.Thread(target=run, name=f"lifeline-{pid}", daemon=True)
    thread.start()
    return thread


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(70)


def worker_init(run_pid: int) -> None:
    """ProcessPoolExecutor initializer of every chart worker."""
    die_with_parent()
    watch(run_pid)


# The fork server imports this module before forking any worker (see render._preload_modules):
# it watches the run that spawned it. EVENTLAB_RUN_PID is set by ChartPool in its own process.
_RUN_PID = os.environ.get("EVENTLAB_CHART_RUN_PID")
if _RUN_PID and _RUN_PID.isdigit() and int(_RUN_PID) != os.getpid():
    watch(int(_RUN_PID))
