"""The partitioned universe assets: one run over a partition range, a failing partition that
leaves the others and the stored data intact, and the report of the whole job."""

import json

import dagster as dg
import pandas as pd
import pytest

import eventlab.universe.compute as compute
from commands.run_universe import RANGE_END, RANGE_START, run_universe_job
from pipelines.definitions import default_resources
from pipelines.stages.universe import universe_ticker_study
from pipelines.universe_resources import TICKERS, UniverseSettings, UniverseStore

pytestmark = pytest.mark.graph  # materializes the universe job in-process

KEYS = TICKERS.get_partition_keys()[:3]  # A, AAL, AAP


def _materialize(tmp_path):
    return dg.materialize(
        [universe_ticker_study],
        resources=default_resources(
            universe_store=UniverseStore(base_dir=str(tmp_path)),
            universe_settings=UniverseSettings(workers=1, bootstrap_reps=100),
        ),
        tags={RANGE_START: KEYS[0], RANGE_END: KEYS[-1]},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


@pytest.mark.parametrize(
    ("fault", "want_status", "want_message"),
    [
        ("raises", "error", "close"),  # the computation of the ticker raises
        ("no rows", "no_data", "no price rows"),  # e.g. its live batch failed to download
    ],
)
def test_failing_partition_leaves_the_others_and_stored_data_intact(
    tmp_path, monkeypatch, fault, want_status, want_message
):
    assert _materialize(tmp_path).success
    folder = tmp_path / "universe"
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*.parquet")}
    assert len(before) == 4 * len(KEYS)
    bad = KEYS[1]
    real = compute.read_offline

    def corrupt(tickers, params):
        frames = real(tickers, params)
        if fault == "raises":
            frames[bad] = frames[bad].drop(columns=["close"])
        else:
            frames[bad] = frames[bad].iloc[:0]
        return frames

    monkeypatch.setattr(compute, "read_offline", corrupt)
    result = _materialize(tmp_path)
    assert result.success  # one bad ticker never fails the step
    status = pd.concat(pd.read_parquet(folder / "ticker_status" / f"{k}.parquet") for k in KEYS)
    status = status.set_index("ticker")
    assert status.loc[bad, "status"] == want_status
    assert want_message in status.loc[bad, "message"]
    assert (status.drop(index=bad)["status"] == "ok").all()
    for name in ("ticker_days", "ticker_events", "ticker_stats"):
        # The failed ticker's stored results are untouched; the others were rewritten whole.
        assert (folder / name / f"{bad}.parquet").read_bytes() == before[
            folder.joinpath(name, f"{bad}.parquet").relative_to(folder)
        ]
        for k in KEYS:
            assert not pd.read_parquet(folder / name / f"{k}.parquet").empty
    mats = result.asset_materializations_for_node("universe_ticker_study")
    assert {m.partition for m in mats} == set(KEYS)  # one event per ticker partition
    assert len(mats) == len(KEYS)
    meta = {m.partition: m.metadata for m in mats}
    assert meta[bad]["status"].value == want_status
    assert want_message in meta[bad]["message"].value
    assert all(
        meta[k]["status"].value == "ok" and "message" not in meta[k] for k in KEYS if k != bad
    )


def test_universe_job_writes_the_report(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    result, folder = run_universe_job(
        first=12,
        workers=1,
        reports=str(tmp_path / "reports"),
        warehouse=str(tmp_path / "wh"),
        log_level="WARNING",
        instance=instance,
    )
    assert result.success
    # Dagster's default: one planned event and one materialization per ticker partition.
    planned = instance.all_logs(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    )
    ticker_planned = [
        e.dagster_event.event_specific_data
        for e in planned
        if e.dagster_event.asset_key == dg.AssetKey(["universe", "ticker_study"])
    ]
    assert len(ticker_planned) == 12
    assert len(result.asset_materializations_for_node("universe_ticker_study")) == 12
    spec = universe_ticker_study.specs_by_key[dg.AssetKey(["universe", "ticker_study"])]
    assert "Survivorship bias" in spec.metadata["survivorship_bias"]
    tree = tmp_path / "reports" / "universe-sp500_2021"
    assert folder == tree / "2021-04-21" and (tree / "latest").resolve() == folder
    for name in ("report.html", "report.md", "pooled_stats.csv", "breadth_on_index_events.csv",
                 "pooled_events.csv", "ticker_summary.csv", "manifest.json"):  # fmt: skip
        assert (folder / name).exists(), name
    md = (folder / "report.md").read_text()
    assert "Survivorship bias" in md and "clustered by date" in md
    assert "## Abnormal returns: what the evidence allows" in md and "Pooled over" in md
    assert "most conservative test" in md or "every test under every model" in md
    assert "e+0" not in md
    tests = pd.read_csv(folder / "abnormal_tests.csv")
    assert set(tests["model"]) == {"market_adjusted", "market_model", "ff3"}
    assert tests.groupby(["model", "window", "measure"]).size().loc[:, :, "CAR"].eq(9).all()
    assert tests.loc[tests["measure"] == "CAR", "placebo_rejection_5pct"].notna().all()
    assert (folder / "charts" / "abnormal_paths.png").exists()
    assert "Survivorship bias" in (folder / "report.html").read_text()
    on_events = pd.read_csv(folder / "breadth_on_index_events.csv")
    assert set(on_events["index"]) == {"GSPC", "SPY"}
    assert pd.to_datetime(on_events["date"]).max() <= pd.Timestamp("2021-04-21")
    # Publishing again swaps the folder whole and leaves no staging folder or previous build.
    first_run = json.loads((folder / "manifest.json").read_text())["run_id"]
    result, again = run_universe_job(
        first=12, workers=1, reports=str(tmp_path / "reports"), warehouse=str(tmp_path / "wh"),
        log_level="WARNING",
    )  # fmt: skip
    assert result.success and again == folder
    assert (
        json.loads((folder / "manifest.json").read_text())["run_id"] == result.run_id != first_run
    )
    assert sorted(p.name for p in tree.iterdir() if p.name != ".publish.lock") == [
        "2021-04-21",
        "latest",
    ]
    # main_job does not include the universe.
    from pipelines.definitions import defs

    main_keys = defs.resolve_job_def("main_job").asset_layer.executable_asset_keys
    assert not any(k.path[0] == "universe" for k in main_keys)


def test_worker_written_files_equal_the_in_process_results(tmp_path):
    """The worker processes store each ticker's tables themselves; the files hold exactly what
    study_ticker computes in this process, and the parent gets only summaries."""
    from eventlab.config import CONFIG, StudyParams
    from eventlab.universe.compute import run_tickers
    from eventlab.universe.members import sectors
    from eventlab.universe.prices import read_offline
    from eventlab.universe.ticker import study_ticker
    from eventlab.universe.ticker_files import DAYS, EVENTS, STATS, STATUS, TickerStore

    up = CONFIG.universe
    tickers = TICKERS.get_partition_keys()[:5]
    params = StudyParams(bootstrap_reps=100, placebo_reps=100)
    store = TickerStore(tmp_path / "universe")
    with store.writing():
        summaries, timings = run_tickers(
            tickers, params, up, sectors(up), store, "run-1", workers=2, chunks_per_worker=2
        )
    assert [s.ticker for s in summaries] == tickers and timings["cpu_s"] > 0
    frames = read_offline(tickers, up)
    for s in summaries:
        want = study_ticker(s.ticker, frames[s.ticker], params, up, sector=sectors(up)[s.ticker])
        assert (s.status, s.n_days, s.n_events) == ("ok", len(want.days), len(want.events))
        for table, frame in ((DAYS, want.days), (EVENTS, want.events), (STATS, want.stats)):
            got = pd.read_parquet(store.path(table, s.ticker))
            pd.testing.assert_frame_equal(got, frame, obj=f"{table}/{s.ticker}")
        status = pd.read_parquet(store.path(STATUS, s.ticker))
        assert status.to_dict("records") == [
            {"ticker": s.ticker, "status": "ok", "message": "", "run_id": "run-1"}
        ]
    # Read back pooled: one frame, the ticker column from the file names.
    days = store.read(DAYS, [*tickers, "NOT_STORED"])
    assert list(days["ticker"].cat.categories) == tickers
    assert len(days) == sum(s.n_days for s in summaries)


def test_a_failed_ticker_is_kept_on_disk_but_left_out_of_the_pooled_results(tmp_path, monkeypatch):
    """Files an earlier run stored for a ticker that now has no rows stay on disk, but the
    cross-section pools only members whose latest study is ok."""

    def run():
        result, folder = run_universe_job(
            first=3, workers=1, reports=str(tmp_path / "reports"),
            warehouse=str(tmp_path / "wh"), log_level="WARNING",
            instance=dg.DagsterInstance.ephemeral(),
        )  # fmt: skip
        assert result.success
        return folder

    folder = run()
    bad = KEYS[1]
    assert bad in set(pd.read_csv(folder / "pooled_events.csv")["ticker"])
    stored = tmp_path / "wh" / "universe" / "ticker_days" / f"{bad}.parquet"
    before = stored.read_bytes()
    real = compute.read_offline

    def no_rows(tickers, params):
        frames = real(tickers, params)
        frames[bad] = frames[bad].iloc[:0]
        return frames

    monkeypatch.setattr(compute, "read_offline", no_rows)
    folder = run()
    assert stored.read_bytes() == before
    assert bad not in set(pd.read_csv(folder / "pooled_events.csv")["ticker"])
    summary = pd.read_csv(folder / "ticker_summary.csv").set_index("ticker")
    assert summary.loc[bad, "status"] == "no_data"


def test_a_skipped_ticker_shows_on_its_partition(tmp_path):
    """VTRS (too short) gets a failed WARN check on its own partition, which is what the UI's
    partition view shows; the run-wide totals are one observation, not copied into each
    partition's materialization; the run logs its progress as 'studied N of M tickers'."""
    from pipelines.stages.universe import TICKER_CHECK, TICKER_STUDY, ticker_studied

    keys = TICKERS.get_partition_keys()
    part = keys[keys.index("VTRS") - 1 : keys.index("VTRS") + 1]
    instance = dg.DagsterInstance.ephemeral()
    resources = default_resources(
        universe_store=UniverseStore(base_dir=str(tmp_path)),
        universe_settings=UniverseSettings(workers=1, bootstrap_reps=100),
    )
    result = dg.materialize(
        [universe_ticker_study],
        resources=resources,
        tags={RANGE_START: part[0], RANGE_END: part[-1]},
        instance=instance,
    )
    assert result.success
    history = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(TICKER_STUDY, TICKER_CHECK), limit=10
    )
    evals = {r.event.dagster_event.event_specific_data.partition: r for r in history}
    assert set(evals) == set(part)
    vtrs = evals["VTRS"].event.dagster_event.event_specific_data
    assert not vtrs.passed and vtrs.severity == dg.AssetCheckSeverity.WARN
    assert vtrs.metadata["status"].value == "too_short" and "VTRS" in vtrs.description
    assert evals[part[0]].event.dagster_event.event_specific_data.passed
    # what the UI's partition view reads: each evaluation is on its partition's latest
    # materialization (else Dagster shows no check status), VTRS failed, the other passed
    infos = instance.event_log_storage.get_asset_check_partition_info(
        [dg.AssetCheckKey(TICKER_STUDY, TICKER_CHECK)]
    )
    assert all(i.is_current for i in infos) and len(infos) == 2
    failed = {i.partition_key for i in infos if i.latest_execution_status.value == "FAILED"}
    assert failed == {"VTRS"}
    mats = result.asset_materializations_for_node("universe_ticker_study")
    assert {m.partition for m in mats} == set(part)
    for m in mats:  # only what differs by ticker
        assert set(m.metadata) <= {"status", "days", "events", "message"}, m.metadata
    (obs,) = result.asset_observations_for_node("universe_ticker_study")
    assert obs.metadata["tickers"].value == 2 and obs.metadata["status_too_short"].value == 1
    assert obs.metadata["not_ok"].value == "VTRS (too_short)"
    logs = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("studied 2 of 2 tickers" in m for m in logs)

    # re-evaluated from a partition's page, the check reads the stored status and says the same
    # (called directly: Dagster's materialize() cannot select a partitioned check alone)
    from types import SimpleNamespace

    from pipelines.stages.universe import _ticker_studied

    store = UniverseStore(base_dir=str(tmp_path))
    res = _ticker_studied(SimpleNamespace(partition_key="VTRS"), store)
    assert not res.passed and res.severity == dg.AssetCheckSeverity.WARN
    assert res.metadata["status"].value == "too_short"
    assert _ticker_studied(SimpleNamespace(partition_key=part[0]), store).passed
    assert ticker_studied.check_specs and next(iter(ticker_studied.check_specs)).partitions_def
