"""The column descriptions the UI shows are the docs' own words, parsed from both doc formats."""

from eventlab.report.column_docs import describe, expand, parse

DOC = """
## `events.csv`: one row per event day

| column | meaning |
|---|---|
| `date` | event day t |
| `open`, `high` | the day's bar |
| `fwd_1d`, `fwd_5d` | Close_{t+k} / Close_t - 1 |

- `scores.csv`, one row per thing: `name` (what it is), `mean_all`/`mean_without`, `event_n/mean`
  (the events' count and mean (decimal)), `baseline_*` (the same for other days).
"""


def test_tables_and_bullets_are_both_read():
    got = parse(DOC)
    assert got["events"] == {
        "date": "event day t",
        "open": "the day's bar",
        "high": "the day's bar",
        "fwd_1d": "Close_{t+k} / Close_t - 1",
        "fwd_5d": "Close_{t+k} / Close_t - 1",
    }
    scores = got["scores"]
    assert scores["name"] == "what it is"
    assert scores["event_mean"] == "the events' count and mean (decimal)"  # nested parentheses
    assert scores["mean_all"] == "" and scores["mean_without"] == ""
    assert scores["baseline_*"] == "the same for other days"


def test_shorthand_expands_to_sibling_columns():
    assert expand("event_n/mean/median") == ["event_n", "event_mean", "event_median"]
    assert expand("random_mean_p05/p50/p95") == [
        "random_mean_p05",
        "random_mean_p50",
        "random_mean_p95",
    ]
    assert expand("gap") == ["gap"]


def test_describe_reads_the_shipped_docs():
    assert describe("events", "gap").startswith("Open_t / Close_{t-1} - 1")
    # a family documented as a template matches any member
    assert "Close_{t+k} / Close_t - 1" in describe("events", "fwd_20d")
    # a column the docs list without words is described by its declared type and where it is
    assert "backtests.csv" in describe("backtests", "cagr")
    assert describe("no_such_table", "no_such_column") == ""
