"""A writer killed (SIGKILL) in the middle of a ledger append loses nothing: every hypothesis
stored before stays, none of the interrupted batch is half there, and the next append works."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from refresh_helpers import ROOT

from eventlab.ledger import rows, store

pytestmark = pytest.mark.service

BIG = 150_000  # rows in the interrupted append: enough that it is still writing when killed


def _batch(n: int, as_of: str) -> pd.DataFrame:
    """n distinct ledger rows (store.COLUMNS) on one data as-of."""
    return pd.DataFrame(
        {
            "family": "spec_curve",
            "spec": "headline",
            "series": "GSPC",
            "horizon": pd.array(np.arange(n) % 20 + 1, dtype="Int64"),
            "variant": [f"v{i}" for i in range(n)],
            "test": "circular_shift",
            "definition": "GSPC: gap > 1%",
            "estimate": np.linspace(-0.01, 0.01, n),
            "p_value": np.linspace(0.0, 1.0, n),
            "data_as_of": as_of,
            "code_version": rows.code_version(),
            "created_utc": "2026-12-06T00:00:00+00:00",
        }
    ).assign(hypothesis_id=lambda d: [f"{as_of}-{v}" for v in d["variant"]])[list(store.COLUMNS)]


def test_sigkill_mid_append_loses_nothing(tmp_path) -> None:
    path = tmp_path / "ledger" / "hypotheses.sqlite"
    before = _batch(500, "2026-08-20")
    assert store.append(path, before) == 500
    wal = path.with_name(path.name + "-wal")
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from pathlib import Path
        from test_ledger_kill import _batch
        from eventlab.ledger import store
        big = _batch({BIG}, "2026-08-21")
        print("ready", flush=True)
        store.append(Path({str(path)!r}), big)
        print("done", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        # the transaction has spilled pages into the write-ahead log: mid-append, uncommitted
        while not (wal.exists() and wal.stat().st_size > 2_000_000):
            assert proc.poll() is None, "the append finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    stored = store.read(path)
    # everything stored before is there, unchanged, and nothing of the killed batch
    pd.testing.assert_frame_equal(stored, before.astype(stored.dtypes.to_dict()))
    # the next append (the same batch again) works and lands whole
    big = _batch(BIG, "2026-08-21")
    assert store.append(path, big) == BIG
    assert len(store.read(path)) == 500 + BIG
