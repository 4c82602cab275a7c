"""The library on a process pool gives exactly what one process gives (each study's draws depend
only on its own seed), in the specs' order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from eventlab.config import CONFIG
from eventlab.studies.library import run_library
from eventlab.studies.spec import load_spec

pytestmark = pytest.mark.service  # child processes

LIBRARY = Path(__file__).resolve().parents[1] / "studies"


def test_two_processes_equal_one(snapshot_prices) -> None:
    names = ["gap_up_2pct", "vix_first_close_below_12", "gap_up_close_red"]
    specs = [load_spec(LIBRARY / f"{n}.yaml", CONFIG.daily_keys) for n in names]
    one = run_library(specs, snapshot_prices, workers=1)
    two = run_library(specs, snapshot_prices, workers=2)
    assert [r.spec.name for r in two] == names
    for a, b in zip(one, two, strict=True):
        assert b.spec is a.spec or b.spec.name == a.spec.name
        pd.testing.assert_frame_equal(a.stats, b.stats)
        pd.testing.assert_frame_equal(a.events, b.events)
        pd.testing.assert_frame_equal(a.verdicts, b.verdicts)
        pd.testing.assert_frame_equal(a.leave_one_out, b.leave_one_out)
