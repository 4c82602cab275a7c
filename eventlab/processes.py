"""Process-pool helpers shared by the steps that draw or compute on several processes."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys


def die_with_parent(parent: int) -> None:
    """Pool initializer: the kernel kills this worker when the run's process dies (Linux
    PR_SET_PDEATHSIG), so a killed run leaves no pool process behind (README, run guarantees);
    a plain pool's idle workers would otherwise wait on their task queue forever."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the run died before prctl took effect
        os._exit(70)
