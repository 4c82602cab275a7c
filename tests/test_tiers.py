"""The tier guard of tests/conftest.py: a test without a `graph` or `service` marker cannot start
a process, run Dagster or render, so a misclassified test fails instead of slowing `make test-fast`."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import TierError


def test_a_unit_test_cannot_start_a_subprocess_run_dagster_or_render() -> None:
    import dagster as dg
    import jinja2
    import matplotlib.pyplot as plt

    with pytest.raises(TierError, match="starts a subprocess: mark it `service`"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    @dg.asset
    def one() -> int:
        return 1

    with pytest.raises(TierError, match="runs Dagster: mark it `graph`"):
        dg.materialize([one])
    fig, _ = plt.subplots()
    try:
        with pytest.raises(TierError, match="renders a chart"):
            fig.canvas.draw()
    finally:
        plt.close(fig)
    with pytest.raises(TierError, match="renders a template"):
        jinja2.Template("{{ x }}").render(x=1)


@pytest.mark.service
def test_a_marked_test_may() -> None:
    assert subprocess.run([sys.executable, "-c", "pass"], check=True).returncode == 0
