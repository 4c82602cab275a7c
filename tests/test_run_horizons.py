"""Report, CTA and claim helpers follow the run's study (issue 19): columns and labels for
whatever horizons the events carry, event claims not applicable under another event definition."""

import pandas as pd

from eventlab.cta import replay
from eventlab.report.claims import CANNOT, ClaimData, evaluate_claims, load_claims
from eventlab.report.cta_tables import table_columns
from eventlab.report.labels import column_label
from eventlab.report.tables import event_rows


def test_labels_are_generated_for_any_horizon():
    assert column_label("median_fwd_10d") == "Median T+10"
    assert column_label("mean_fwd_2d") == "Mean T+2"
    assert column_label("hit_rate_63d") == "Hit rate T+63"
    assert column_label("median_fwd_20d") == "Median T+20"  # the default's, unchanged


def test_event_table_has_a_column_per_horizon_of_the_events():
    ev = pd.DataFrame(
        {
            "date": pd.to_datetime(["2020-01-02", "2021-03-04"]),
            "prior_close": [100.0, 200.0],
            "gap": [0.012, 0.009],
            "close_to_close": [-0.01, -0.002],
            "fwd_10d": [0.05, -0.02],
            "fwd_2d": [0.01, 0.03],
        }
    )
    header, rows = event_rows(ev)
    assert header[-2:] == ["T+2", "T+10"] and "T+20" not in header
    assert rows[0]["cells"][-1] == {"text": "+5.00%", "cls": "pos"}


def test_cta_summary_columns_follow_the_study_horizons():
    assert replay.summary_columns((2, 10)) == [
        "horizon", "status", "n_events", "n_fwd_2d", "mean_fwd_2d", "median_fwd_2d",
        "n_fwd_10d", "mean_fwd_10d", "median_fwd_10d", "hit_rate_10d", "event_dates",
    ]  # fmt: skip
    # one-session horizons are left out of the summary unless they are all there is
    assert replay.summary_horizons((1, 5, 20)) == (5, 20)
    assert replay.summary_horizons((1,)) == (1,)
    summ = pd.DataFrame(columns=replay.summary_columns((1, 2, 10)))
    assert table_columns("cta_event_summary", summ) == (
        "horizon", "status", "n_events", "median_fwd_2d", "median_fwd_10d", "hit_rate_10d",
        "event_dates",
    )  # fmt: skip


def _event_claims(changes: dict) -> pd.DataFrame:
    events = pd.DataFrame({"date": pd.to_datetime(["2020-04-07", "2025-04-08", "2025-11-20"])})
    claims = load_claims()
    claims = claims[claims["method"] == "prior_events"]
    return evaluate_claims(ClaimData(events=events, study_changes=changes), claims)


def test_event_claims_do_not_apply_to_another_event_definition():
    out = _event_claims({"study.index": "NDX", "study.horizons": [2, 10]})
    assert (out["verdict"] == CANNOT).all()
    assert out["evidence"].str.contains("not applicable").all()
    assert out["evidence"].str.contains("study.index = NDX").all()
    # horizons do not change which days are events: the claim is still checked
    out = _event_claims({"study.horizons": [2, 10]})
    assert (out["verdict"] == "confirmed").all(), out[["verdict", "evidence"]]
