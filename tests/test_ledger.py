"""The hypothesis ledger: content-hashed ids, idempotent append-only storage, false-discovery
control checked against a brute-force computation, and the table readers."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlab.data.frames import StoredFileError
from eventlab.ledger import fdr, rows, store


def _fields(n: int, *, family: str = "event_study", seed: int = 0) -> pd.DataFrame:
    """n distinct hypotheses with random estimates and p-values."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "family": family,
            "spec": "headline",
            "series": np.where(np.arange(n) % 2, "SPY", "GSPC"),
            "horizon": pd.array(np.arange(n) % 20 + 1, dtype="Int64"),
            "variant": [f"v{i}" for i in range(n)],
            "test": "circular_shift",
            "definition": "GSPC: gap > 1%",
            "estimate": rng.normal(size=n),
            "p_value": rng.uniform(size=n),
        }
    )


def test_the_id_is_the_question_not_the_answer() -> None:
    base = rows.finalize(_fields(1), "2026-08-20").iloc[0].to_dict()
    same_question = dict(base, estimate=99.0, p_value=0.5, code_version="other")
    assert rows.hypothesis_id(same_question) == base["hypothesis_id"]
    for field, other in (
        ("family", "backtest"), ("spec", "user_study"), ("series", "NDX"), ("horizon", 21),
        ("variant", "declustered"), ("test", "welch"), ("definition", "gap > 2%"),
        ("data_as_of", "2026-08-21"),
    ):  # fmt: skip
        assert rows.hypothesis_id(dict(base, **{field: other})) != base["hypothesis_id"], field
    # a horizon stored as 5, 5.0 or numpy's int64 is one horizon; a missing one is null
    assert rows.hypothesis_id(dict(base, horizon=5)) == rows.hypothesis_id(
        dict(base, horizon=np.int64(5))
    )
    assert rows.hypothesis_id(dict(base, horizon=None)) == rows.hypothesis_id(
        dict(base, horizon=pd.NA)
    )


def test_appending_the_same_tests_again_adds_nothing(tmp_path) -> None:
    path = tmp_path / "ledger" / "hypotheses.sqlite"
    first = rows.finalize(_fields(50), "2026-08-20")
    assert store.append(path, first) == 50
    again = rows.finalize(_fields(50), "2026-08-20", created_utc="2030-01-01T00:00:00+00:00")
    assert store.append(path, again) == 0
    stored = store.read(path)
    assert len(stored) == 50
    # the first recording stands: its time, not the repeat's
    assert set(stored["created_utc"]) == set(first["created_utc"])
    pd.testing.assert_series_equal(stored["p_value"], first["p_value"], check_names=False)


def test_history_never_shrinks_and_new_data_adds_new_hypotheses(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    store.append(path, rows.finalize(_fields(30), "2026-08-20"))
    store.append(path, rows.finalize(_fields(10), "2026-08-21"))  # a later as-of: new questions
    store.append(path, rows.finalize(_fields(40), "2026-08-20"))  # 30 old + 10 new variants
    stored = store.read(path)
    assert len(stored) == 30 + 10 + 10
    assert stored["hypothesis_id"].is_unique
    assert list(stored["data_as_of"].iloc[:40]) == ["2026-08-20"] * 30 + ["2026-08-21"] * 10


def test_rows_can_be_neither_changed_nor_deleted(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    store.append(path, rows.finalize(_fields(5), "2026-08-20"))
    con = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute("UPDATE hypotheses SET p_value = 0.001")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute("DELETE FROM hypotheses")
        with pytest.raises(sqlite3.IntegrityError):
            con.execute("INSERT INTO hypotheses (hypothesis_id, family, spec, series, variant, "
                        "test, definition, data_as_of, p_value, code_version, created_utc) "
                        "VALUES ('x', 'f', 's', 's', 'v', 't', 'd', 'a', 1.5, 'c', 't')")  # fmt: skip
    finally:
        con.close()
    assert len(store.read(path)) == 5


def test_a_failed_append_adds_nothing(tmp_path, monkeypatch) -> None:
    path = tmp_path / "h.sqlite"
    store.append(path, rows.finalize(_fields(5), "2026-08-20"))
    bad = rows.finalize(_fields(8, seed=1), "2026-08-21")
    bad.loc[7, "p_value"] = 2.0  # the last row is refused before anything is written
    with pytest.raises(ValueError, match=r"p-value 2\.0 is not in \[0, 1\]"):
        store.append(path, bad)
    assert len(store.read(path)) == 5
    # and the database itself refuses it, whatever writes: the transaction rolls back whole
    monkeypatch.setattr(store, "check_rows", lambda rows: None)
    with pytest.raises(sqlite3.IntegrityError):
        store.append(path, bad)
    assert len(store.read(path)) == 5  # the seven good rows before it were rolled back too


def test_a_file_that_is_not_a_ledger_is_named_with_the_fix(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoredFileError, match=r"h\.sqlite.*Fix: move the file aside"):
        store.read(path)
    assert path.read_bytes().startswith(b"this is not")  # never overwritten


def test_concurrent_appends_both_land(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        try:
            for i in range(5):
                fields = _fields(20, seed=seed).assign(
                    variant=lambda d, i=i: d["variant"] + f"-{seed}-{i}"
                )
                store.append(path, rows.finalize(fields, "2026-08-20"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.read(path)) == 2 * 5 * 20


def test_count_trials_by_family(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    assert store.count_trials(path) == 0  # no ledger yet
    grid = _fields(6, family="calibration").assign(p_value=np.nan)
    store.append(
        path, rows.finalize(pd.concat([_fields(4, family="backtest"), grid]), "2026-08-20")
    )
    assert store.count_trials(path) == 10
    assert store.count_trials(path, "calibration") == 6
    assert store.count_trials(path, "calibration", tested_only=True) == 0
    assert store.count_trials(path, "backtest", tested_only=True) == 4


def _bh_brute(p: np.ndarray) -> np.ndarray:
    """BH q_i = min over p_(k) >= p_i of m p_(k) / k (rank k), capped at 1: the definition."""
    m = len(p)
    ranks = np.array([(p <= x).sum() for x in p])
    return np.array([min(1.0, min(m * p[j] / ranks[j] for j in range(m) if p[j] >= x)) for x in p])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40), st.integers(0, 10))
def test_q_values_match_the_definitions(ps: list[float], untested: int) -> None:
    p = np.array(ps)
    ledger = pd.DataFrame({"p_value": np.concatenate([p, np.full(untested, np.nan)])})
    out = fdr.ledger_fdr(ledger, alpha=0.05)
    bh = _bh_brute(p)
    c_m = np.sum(1.0 / np.arange(1, len(p) + 1))
    by = np.array([min(1.0, min(c_m * len(p) * p[j] / (p <= p[j]).sum() for j in range(len(p))
                                if p[j] >= x)) for x in p])  # fmt: skip
    np.testing.assert_allclose(out["q_bh"].to_numpy()[: len(p)], bh, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["q_by"].to_numpy()[: len(p)], by, rtol=1e-12, atol=1e-15)
    assert out["q_bh"].iloc[len(p) :].isna().all() and not out["survives_bh"].iloc[len(p) :].any()
    # survival agrees wherever q is not within rounding of the bar (q = 0.05 exactly can come
    # out one ulp either side in the two computations)
    clear = np.abs(bh - 0.05) > 1e-12
    assert (out["survives_bh"].to_numpy()[: len(p)][clear] == (bh <= 0.05)[clear]).all()
    summary = fdr.ledger_summary(out)
    assert summary["tested"] == len(p) and summary["hypotheses"] == len(p) + untested
    assert summary["survive_by"] <= summary["survive_bh"]


def test_an_event_stats_like_table_is_read_by_its_columns() -> None:
    user = pd.DataFrame(
        {"spec": ["gap_down"], "series": ["NDX"], "horizon": [5], "variant": ["main"],
         "estimate": [0.01], "p": [0.2], "definition": ["NDX: gap < -1%"]}
    )  # fmt: skip
    got = rows.stats_rows(user, family="study", test="circular_shift")
    assert got.loc[0, ["spec", "series", "horizon", "variant", "estimate", "p_value"]].tolist() == [
        "gap_down", "NDX", 5, "main", 0.01, 0.2,
    ]  # fmt: skip
    stats = pd.DataFrame(
        {"variant": ["main"], "index": ["GSPC"], "horizon": [1], "diff_mean": [0.02],
         "perm_p": [np.nan], "definition": ["GSPC: gap > 1%"]}
    )  # fmt: skip
    got = rows.stats_rows(stats, family="event_study", test="circular_shift")
    assert got.loc[0, "spec"] == rows.HEADLINE_SPEC and np.isnan(got.loc[0, "p_value"])
    with pytest.raises(ValueError, match=r"no column for \['estimate'\].*estimate/diff_mean"):
        rows.stats_rows(stats.drop(columns="diff_mean"), family="x", test="t")


def test_backtest_rows_test_event_strategies_and_count_model_configurations() -> None:
    bt = pd.DataFrame(
        {
            "strategy": ["replica", "buy_and_hold", "event_close_5d"],
            "kind": ["model", "measured", "measured"],
            "entry": ["", "", "close"],
            "horizon": [np.nan, np.nan, 5.0],
            "period": ["full", "full", "study sample"],
            "start": pd.to_datetime(["1929-01-04"] * 3),
            "end": pd.to_datetime(["2026-08-20"] * 3),
            "sharpe": [0.3, 0.2, 0.4],
            "mean_trade": [np.nan, np.nan, 0.03],
            "random_p_value": [np.nan, np.nan, 0.002],
            "vix_matched_p_value": [np.nan, np.nan, 0.02],
            "cost_bp": [2.0, 0.0, 2.0],
        }
    )
    got = rows.backtest_rows(bt, "default settings")
    assert sorted(got["test"]) == ["random_entry", "sharpe", "vix_matched_entry"]
    assert "buy_and_hold" not in " ".join(got["variant"])  # a benchmark is not a hypothesis
    assert got.loc[got["test"] == "sharpe", "p_value"].isna().all()
    assert got.loc[got["test"] == "random_entry", "p_value"].tolist() == [0.002]
