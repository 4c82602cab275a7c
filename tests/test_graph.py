"""The whole graph materialized in-process on the snapshot, and the output contract it leaves."""

import json

import pandas as pd
import pytest

from eventlab.data.snapshot import read_series


def test_main_job_succeeds_and_checks_pass(materialized):
    r = materialized.result
    assert r.success
    failed = [
        (
            e.asset_check_evaluation_data.check_name,
            e.asset_check_evaluation_data.asset_key.to_user_string(),
        )
        for e in r.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
        and e.asset_check_evaluation_data.severity.value == "ERROR"
    ]
    assert failed == []


def test_warn_checks_are_named_on_the_run_page(materialized):
    """The run succeeds with stale offline data, and its log says so in one warning per step,
    naming every price check that failed at WARN severity."""
    r = materialized.result
    warned = {
        (e.asset_check_evaluation_data.asset_key.path[-1], e.asset_check_evaluation_data.check_name)
        for e in r.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
        and e.asset_check_evaluation_data.severity.value == "WARN"
        and e.asset_check_evaluation_data.check_name in ("fresh", "ohlcv_valid")
    }
    assert warned, "the offline snapshot is stale: some freshness checks must warn"
    records = materialized.instance.get_records_for_run(r.run_id).records
    lines = [
        rec.event_log_entry.user_message
        for rec in records
        if rec.event_log_entry.level == 30
        and "failed at WARN severity" in rec.event_log_entry.user_message
    ]
    text = " ".join(lines)
    assert len(lines) <= 2  # one per price step (daily, intraday), not one per series
    for series, check in warned:
        assert f"{series} {check}:" in text


def test_coverage_check_warns_that_1957_cannot_be_seen(materialized):
    evals = [
        e.asset_check_evaluation_data
        for e in materialized.result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.check_name == "study_window_coverage"
    ]
    assert len(evals) == 1 and not evals[0].passed and evals[0].severity.value == "WARN"


def test_events_csv_recomputes_with_plain_pandas(materialized):
    """A reader recomputing from data/snapshot with a few lines of pandas gets the same rows."""
    ev = pd.read_csv(materialized.report_dir / "events.csv")
    px = read_series("GSPC")
    prev = px["close"].shift(1)
    raw_genuine = ((px["open"] / px["close"] - 1).abs() > 1e-6) & (
        (px["open"] / prev - 1).abs() > 1e-6
    )
    usable = raw_genuine & (raw_genuine.astype(float).rolling(250).mean() >= 0.9)
    hit = (
        (px["open"] / prev - 1 > 0.01) & (px["close"] < prev) & usable & (px.index >= "1957-01-01")
    )
    assert list(ev["date"]) == [d.strftime("%Y-%m-%d") for d in px.index[hit]]
    for k in (1, 5, 20):
        want = (px["close"].shift(-k) / px["close"] - 1)[hit].to_numpy()
        pd.testing.assert_series_equal(
            ev[f"fwd_{k}d"], pd.Series(want, name=f"fwd_{k}d"), rtol=1e-8
        )


def test_stats_csv_has_robustness_rows_and_coverage(materialized):
    st = pd.read_csv(materialized.report_dir / "event_stats.csv")
    variants = set(st["variant"])
    assert {
        "main",
        "threshold_0.5%",
        "threshold_1.5%",
        "threshold_2.0%",
        "close_rule_open",
        "SPY_own_opens",
    } <= variants
    main = st[st["variant"] == "main"]
    assert list(main["horizon"]) == [1, 5, 20]
    assert (main["n_events"] == 8).all()
    assert main["first_usable_open"].iloc[0] > "2007-10-01"
    assert (main["requested_start"] == "1957-01-01").all()
    assert main["hac_maxlags"].tolist() == [1, 5, 20]


def test_manifest_and_latest_pointer(materialized):
    m = json.loads((materialized.report_dir / "manifest.json").read_text())
    assert m["as_of"] == "2026-08-20" and m["price_source_mode"] == "snapshot"
    assert m["coverage"]["n_events"] == 8
    assert (
        m["series"]["GSPC"]["served_by"] == "snapshot" and len(m["series"]["GSPC"]["sha256"]) == 64
    )
    assert "events.csv" in m["artifacts"] and "event_stats.csv" in m["artifacts"]
    latest = materialized.reports_root / "latest"
    assert latest.resolve() == materialized.report_dir.resolve()
    # every listed artifact is in the folder `latest` points at; its events are the manifest's
    assert all((latest / name).is_file() for name in m["artifacts"]), m["artifacts"]
    assert len(pd.read_csv(latest / "events.csv")) == m["coverage"]["n_events"]


@pytest.mark.parametrize("key", ["prices/GSPC", "prices/SPY", "intraday/SPX_5m"])
def test_warehouse_source_tables_are_the_snapshot(materialized, key):
    """An offline run stores the snapshot's rows unchanged."""
    stored = pd.read_parquet(materialized.warehouse / f"{key}.parquet")
    snap = read_series(key.split("/")[1])
    pd.testing.assert_frame_equal(stored[snap.columns], snap, check_freq=False)


@pytest.mark.parametrize("key", ["events", "event_stats"])
def test_warehouse_tables_are_what_the_report_publishes(materialized, key):
    stored = pd.read_parquet(materialized.warehouse / f"{key}.parquet")
    published = pd.read_csv(materialized.report_dir / f"{key}.csv")
    assert len(stored) == len(published) > 0 and list(stored.columns) == list(published.columns)
    numeric = stored.select_dtypes("number").columns
    pd.testing.assert_frame_equal(
        stored[numeric].reset_index(drop=True), published[numeric], check_dtype=False, rtol=1e-9
    )


def test_recorded_run_is_visible_to_the_ui(materialized):
    """What `make ui` reads: the latest materialization and check results per asset."""
    import dagster as dg

    inst = materialized.instance
    for key in (["prices", "GSPC"], ["events"], ["cta_levels"], ["charts", "cta_monitor"]):
        event = inst.get_latest_materialization_event(dg.AssetKey(key))
        assert event is not None and event.run_id == materialized.result.run_id, key
    records = inst.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("events"), "events_follow_definition"), limit=1
    )
    assert records and records[0].run_id == materialized.result.run_id


def test_record_flag_needs_dagster_home(monkeypatch, capsys):
    from commands import run

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr("sys.argv", ["commands.run", "--record"])
    with pytest.raises(SystemExit) as exc:
        run.main()
    assert exc.value.code == 2 and "--record needs DAGSTER_HOME" in capsys.readouterr().err
