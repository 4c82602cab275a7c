"""The whole graph under non-default study settings (issue 19): every stage takes the index,
horizons and threshold from the run's settings, never from module defaults. One in-process
materialization of main_job with `index: NDX`, `horizons: [2, 10]`, `gap_threshold: 0.008`,
shared by the assertions below (it takes ~30 s)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from eventlab.data.snapshot import read_series
from pipelines.io import PARAMETER_SETS

pytestmark = pytest.mark.graph  # one whole-graph run on a non-default study, shared by the tests

STUDY = {"index": "NDX", "horizons": [2, 10], "gap_threshold": 0.008}
HORIZONS = (2, 10)
# the validation and backtest settings reach their stage and the report too
VALIDATION = {"main_window": 120}
BACKTEST = {"random_draws": 500, "cost_bp": 5.0}


@dataclass
class Run:
    result: object
    folder: Path
    warehouse: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    from commands.run import run_main_job

    root = tmp_path_factory.mktemp("graph_ndx")
    result, folder = run_main_job(
        "snapshot",
        reports=str(root / "reports"),
        warehouse=str(root / "warehouse"),
        log_level="WARNING",
        run_config={
            "resources": {
                "study_settings": {"config": STUDY},
                "validation_settings": {"config": VALIDATION},
                "backtest_settings": {"config": BACKTEST},
            }
        },
    )
    # a non-default parameter set keeps its tables in its own warehouse namespace, named like
    # its report folder (pipelines/io.py)
    label = folder.name.split("--", 1)[1]
    return Run(result, folder, root / "warehouse" / PARAMETER_SETS / label)


@pytest.fixture(scope="module")
def ndx() -> pd.DataFrame:
    return read_series("NDX")


def _csv(run: Run, name: str) -> pd.DataFrame:
    return pd.read_csv(run.folder / name)


def test_every_stage_runs_and_no_check_fails(run):
    r = run.result
    failures = [e.event_specific_data.error.to_string() for e in r.all_events if e.is_step_failure]
    assert r.success, failures
    failed = [
        e.asset_check_evaluation_data.check_name
        for e in r.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
        and e.asset_check_evaluation_data.severity.value == "ERROR"
    ]
    assert failed == []
    steps = {e.step_key for e in r.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert {
        "event_study",
        "cta",
        "validation",
        "charts",
        "claims_vs_data",
        "report",
        "publish",
    } <= {s.split(".")[-1] for s in steps}
    manifest = json.loads((run.folder / "manifest.json").read_text())
    assert manifest["parameters"]["index"] == "NDX"
    assert manifest["parameters"]["horizons"] == [2, 10]
    assert manifest["default_study"] is False


def test_events_are_ndx_gaps_over_the_threshold_with_the_runs_horizons(run, ndx):
    ev = _csv(run, "events.csv")
    fwd = [c for c in ev.columns if c.startswith("fwd_")]
    assert fwd == ["fwd_2d", "fwd_10d"]
    # the definition recomputed from the NDX price table with plain pandas
    prev = ndx["close"].shift(1)
    raw_genuine = ((ndx["open"] / ndx["close"] - 1).abs() > 1e-6) & (
        (ndx["open"] / prev - 1).abs() > 1e-6
    )
    usable = raw_genuine & (raw_genuine.astype(float).rolling(250).mean() >= 0.9)
    hit = (ndx["open"] / prev - 1 > 0.008) & (ndx["close"] < prev) & usable
    hit &= ndx.index >= "1957-01-01"
    want = [d.strftime("%Y-%m-%d") for d in ndx.index[hit]]
    assert len(want) > 8  # more than the S&P 500's 8 at 1%: a real NDX sample
    assert list(ev["date"]) == want
    assert (ev["gap"] >= 0.008).all()
    for k in HORIZONS:
        expect = (ndx["close"].shift(-k) / ndx["close"] - 1)[hit].to_numpy()
        pd.testing.assert_series_equal(
            ev[f"fwd_{k}d"], pd.Series(expect, name=f"fwd_{k}d"), rtol=1e-8
        )


def test_event_stats_have_the_runs_horizons_only(run):
    st = _csv(run, "event_stats.csv")
    assert set(st["horizon"]) == set(HORIZONS)
    main = st[st["variant"] == "main"]
    assert list(main["horizon"]) == list(HORIZONS) and (main["index"] == "NDX").all()


def test_backtests_trade_the_runs_horizons_on_ndx_prices(run, ndx):
    bt = _csv(run, "backtests.csv")
    events_rows = bt[bt["strategy"].str.startswith("event_")]
    assert set(events_rows["horizon"].astype(int)) == set(HORIZONS)
    assert {f"event_close_{k}d" for k in HORIZONS} <= set(events_rows["strategy"])
    trades = _csv(run, "backtest_trades.csv")
    assert set(trades["horizon"]) == set(HORIZONS)
    ev = _csv(run, "events.csv")
    assert set(trades["event_date"]) <= set(ev["date"])
    # one trade by hand: bought at the NDX close of the event day, sold 10 sessions later
    t = trades[(trades["entry"] == "close") & (trades["horizon"] == 10)].iloc[-1]
    i = ndx.index.get_loc(pd.Timestamp(t["event_date"]))
    entry, exit_ = ndx["close"].iloc[i], ndx["close"].iloc[i + 10]
    assert t["exit_date"] == ndx.index[i + 10].strftime("%Y-%m-%d")
    assert t["entry_price"] == pytest.approx(entry, rel=1e-9)
    assert t["exit_price"] == pytest.approx(exit_, rel=1e-9)
    assert t["gross_return"] == pytest.approx(exit_ / entry - 1, rel=1e-8)
    # the run's backtest settings: every strategy's cost, the random-entry draws
    assert set(bt[bt["cost_bp"] > 0]["cost_bp"]) == {BACKTEST["cost_bp"]}
    assert set(events_rows["cost_bp"]) == {BACKTEST["cost_bp"]}
    assert set(events_rows["random_draws"].dropna().astype(int)) == {BACKTEST["random_draws"]}


def test_the_runs_validation_window_reaches_the_tables_and_the_report(run):
    # the replica section quotes the run's window (the notes' claim C54 keeps its own 60)
    html = (run.folder / "report.html").read_text()
    assert "same 120-session regression on both" in html
    assert "same 60-session regression" not in html


def test_cta_event_tables_use_the_studys_events_and_horizons(run):
    summ = _csv(run, "cta_event_summary.csv")
    assert [c for c in summ.columns if "fwd" in c or "hit" in c] == [
        "n_fwd_2d", "mean_fwd_2d", "median_fwd_2d",
        "n_fwd_10d", "mean_fwd_10d", "median_fwd_10d", "hit_rate_10d",
    ]  # fmt: skip
    levels = pd.read_parquet(run.warehouse / "cta_event_levels.parquet")
    assert [c for c in levels.columns if c.startswith(("fwd_", "cum_flow_"))] == [
        "cum_flow_2d_usd", "cum_flow_10d_usd", "fwd_2d", "fwd_10d",
    ]  # fmt: skip
    ev = _csv(run, "events.csv")
    assert set(levels["event_date"].dt.strftime("%Y-%m-%d")) <= set(ev["date"])


def test_charts_name_the_runs_horizons(run):
    charts = run.folder / "charts"
    # the distributions chart has one panel (and caption sentence) per horizon; the paths
    # chart's caption quotes the longest horizon
    for name, named in (("forward_distributions", ("T+2", "T+10")), ("forward_paths", ("T+10",))):
        side = json.loads((charts / f"{name}.json").read_text())
        text = side["title"] + " " + side["caption"]
        assert all(h in text for h in named), (name, text[-300:])
        assert "T+20" not in text and "T+5" not in text and "T+1 " not in text, name
        # drawn from the study's NDX tables, and named so
        assert any(src.startswith("NDX daily") for src in side["sources"]), side["sources"]
    mean_path = json.loads((charts / "mean_path.json").read_text())
    assert "Nasdaq-100 (^NDX)" in " ".join(mean_path["sources"])
    mats = {
        m.asset_key.path[-1]: m.metadata
        for m in run.result.asset_materializations_for_node("charts")
    }
    caption = str(mats["forward_distributions"]["chart"].value)
    assert "T+2" in caption and "T+10" in caption


def test_report_event_table_has_the_runs_horizons(run):
    md = (run.folder / "report.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| Date | Day |"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells[-2:] == ["T+2", "T+10"]
    assert "T+1" not in cells and "T+20" not in cells
    html = (run.folder / "report.html").read_text()
    assert "Median T+10" in html and "Median T+20" not in html


def test_event_claims_say_they_do_not_apply(run):
    claims = _csv(run, "claims_vs_data.csv").set_index("id")
    for cid in ("C01", "C02", "C05"):
        assert claims.loc[cid, "verdict"] == "cannot check"
        assert "not applicable" in claims.loc[cid, "evidence"]
        assert "study.index = NDX" in claims.loc[cid, "evidence"]
    # claims about the S&P 500's own prices are still checked on the S&P 500
    assert claims.loc["C09", "verdict"] == "confirmed"
    assert "prices/GSPC" in claims.loc["C54", "data_used"]
