"""The universe report's computed sentences and reader tables, against hand computations."""

import numpy as np
import pandas as pd

from eventlab.universe.summary import (
    POOLED_COLUMNS,
    display_table,
    group_rows,
    summary_sentences,
)


def _row(group_type, group, k, n, diff, p, event=0.02, base=0.01, se=0.004):
    return {"group_type": group_type, "group": group, "horizon": k, "n_tickers": 10,
            "n_events_with_horizon": n, "n_event_dates": n // 2, "n_tickers_with_events": 9,
            "event_mean": event, "event_hit_rate": 0.55, "baseline_mean": base, "diff_mean": diff,
            "diff_se_clustered": se, "diff_p_clustered": p}  # fmt: skip


def _stats() -> pd.DataFrame:
    rows = [_row("all", "all", 1, 1000, 0.0001, 0.9), _row("all", "all", 20, 990, 0.012, 0.002)]
    years = {2005: (100, 0.004, 0.3), 2008: (400, -0.006, 0.5), 2009: (300, 0.03, 0.001),
             2012: (50, 0.01, 0.04), 2020: (140, 0.045, 0.0001), 1999: (0, np.nan, np.nan)}  # fmt: skip
    rows += [_row("year", y, 20, n, d, p) for y, (n, d, p) in years.items()]
    rows += [
        _row("sector", s, 20, 100, d, p) for s, d, p in (("A", 0.01, 0.01), ("B", -0.002, 0.6))
    ]
    return pd.DataFrame(rows)


def test_group_rows_drop_empty_groups_and_adjust_p_by_holm() -> None:
    g = group_rows(_stats(), "year", 20)
    assert list(g["group"]) == [2005, 2008, 2009, 2012, 2020]  # 1999 had no event
    p = g["diff_p_clustered"].to_numpy()
    m = len(p)
    order = np.argsort(p)
    brute = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):  # Holm step-down by hand
        running = max(running, min(1.0, (m - rank) * p[i]))
        brute[i] = running
    np.testing.assert_allclose(g["diff_p_holm"], brute)


def test_summary_quotes_the_pooled_figures_consistency_and_busiest_years() -> None:
    text = summary_sentences(_stats(), 10)
    assert "T+20: +2.00% vs +1.00% (difference +1.20%, clustered SE 0.40%, p 0.002)" in text[0]
    sector = next(s for s in text if s.startswith("By sector"))
    assert "positive in 1 of 2 sectors" in sector and "1 is at or below 0.05" in sector
    year = next(s for s in text if s.startswith("By year"))
    # Holm over the 5 years with events: 2020 (5 x 0.0001) and 2009 (4 x 0.001) pass, 2012 (3 x 0.04) not
    assert "positive in 4 of 5 years" in year and "2 are at or below 0.05" in year
    n = np.array([100, 400, 300, 50, 140.0])
    d = np.array([0.004, -0.006, 0.03, 0.01, 0.045])
    rest = [0, 3]  # without 2008, 2009, 2020 (the most events)
    assert f"gives {np.average(d, weights=n):+.2%}" in year
    assert f"it is {np.average(d[rest], weights=n[rest]):+.2%}" in year
    assert "(2008, 2009, 2020: 85% of them)" in year
    assert "lower bounds" in text[-1] and "survivorship" in text[-1]


def test_summary_without_events_says_so_and_tables_read_as_text() -> None:
    empty = _stats().assign(n_events_with_horizon=0)
    assert summary_sentences(empty, 10) == [
        "No member met the event definition in the universe's span: nothing to pool."
    ]
    shown = display_table(_stats()[_stats()["group_type"] == "all"], POOLED_COLUMNS)
    assert list(shown.iloc[1][["Difference", "p (clustered)", "Ticker-events"]]) == [
        "+1.20%", "0.002", "990",
    ]  # fmt: skip
