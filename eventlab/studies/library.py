"""The whole library of study specs through the battery, on `workers` processes: each study is
independent and its random draws depend only on its own seed, so the results are the same
whatever the number of processes."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from eventlab.processes import die_with_parent
from eventlab.studies.battery import SpecResult, run_spec
from eventlab.studies.spec import StudySpec

# The job a forked worker reads (set before the pool forks, so parsed conditions, which hold
# functions, never need pickling).
_JOB: tuple[list[StudySpec], Mapping[str, pd.DataFrame]] | None = None


def _run_one(i: int) -> SpecResult:
    """Study number i of the job, without its spec (the parent holds it)."""
    assert _JOB is not None
    specs, prices = _JOB
    return dataclasses.replace(run_spec(specs[i], prices), spec=None)  # type: ignore[arg-type]


def _order(specs: list[StudySpec]) -> list[int]:
    """Spec indices, the most expensive first (most sessions x events read: VIX-wide and
    close-only conditions cover the longest samples), so the pool's last task is a short one."""
    return sorted(range(len(specs)), key=lambda i: specs[i].params.open_policy == "genuine")


def run_library(
    specs: list[StudySpec], prices: Mapping[str, pd.DataFrame], workers: int = 1
) -> list[SpecResult]:
    """Every spec's SpecResult, in the order of `specs`."""
    global _JOB
    if workers <= 1 or len(specs) < 2:
        return [run_spec(s, prices) for s in specs]
    _JOB = (specs, prices)
    try:
        ctx = mp.get_context("fork")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            order = _order(specs)
            done = dict(zip(order, pool.map(_run_one, order), strict=True))
    finally:
        _JOB = None
    return [dataclasses.replace(done[i], spec=s) for i, s in enumerate(specs)]
