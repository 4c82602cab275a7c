"""The study library's pages: a study's folder holds the main report's files, and the index lists
every study with its n, verdict per horizon, last occurrence and a link to its report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from eventlab.config import CONFIG
from eventlab.studies.battery import run_spec, summary_table
from eventlab.studies.pages import index_html, study_html, study_markdown
from eventlab.studies.spec import load_spec

pytestmark = pytest.mark.graph  # renders pages

LIBRARY = Path(__file__).resolve().parents[1] / "studies"


def test_the_index_lists_every_study_with_n_verdicts_and_last_occurrence(snapshot_prices) -> None:
    results = [
        run_spec(load_spec(LIBRARY / f"{n}.yaml", CONFIG.daily_keys), snapshot_prices)
        for n in ("gap_up_close_red", "gap_down_2pct")
    ]
    summary = summary_table(results)
    as_of = snapshot_prices["GSPC"].index[-1].date().isoformat()
    page = index_html(summary, ["1", "5", "20"], as_of, "now")
    for r in results:
        name = r.spec.name
        assert f'href="{name}/report.html"' in page
        last = pd.Timestamp(r.events["date"].max()).date().isoformat()
        assert last in page
        assert f'<td class="n">{len(r.events)}</td>' in page
        for v in r.verdicts["verdict"]:
            assert f"<td>{v}</td>" in page
    md = study_markdown(results[0], as_of)
    assert results[0].spec.question in md and "## Verdict per horizon" in md
    html = study_html(md, results[0], as_of, "now")
    assert "<table>" in html and "gap_up_close_red" in html and "study library" in html
