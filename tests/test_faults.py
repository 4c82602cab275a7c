"""Every failure of the nightly refresh, simulated with a fake Yahoo (no network): each ends in a
clear message naming the series and the cause, the previous warehouse file stays byte-for-byte
intact, and the next run recovers by itself. Plus killed writes, concurrent writers, freshness
and bad configuration."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from refresh_helpers import ROOT, bad_then_recover, failure_text, run_prices
from yf_fakes import FakeYahoo, live_history, sessions_after

from eventlab.config import CONFIG
from eventlab.data import store, yahoo
from eventlab.data.quality import price_check_results
from pipelines.io import ParquetIOManager
from pipelines.resources import PriceSource
from pipelines.stages.market_data import daily_prices, price_key


def with_jump(frac: float) -> pd.DataFrame:
    df = live_history("GSPC", 3)
    nxt = pd.Timestamp(sessions_after(str(df.index[-1].date()), 1)[0]).tz_localize(None)
    c = df["close"].iloc[-1] * (1 + frac)
    df.loc[nxt] = [c, c * 1.001, c * 0.999, c, 1e9]
    return df


def test_network_down(tmp_path, good_run):
    bad_then_recover(
        tmp_path,
        good_run,
        ConnectionError("[Errno 101] Network is unreachable"),
        "network error",
        "gave up after 2 attempts",
    )


# An outage is never retried inside a run (that would hold the run slot): see
# tests/test_faults_source.py for the sensor that retries it as a new run.


def test_rate_limited_swallowed_by_yfinance(tmp_path, good_run):
    bad_then_recover(
        tmp_path,
        good_run,
        "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
        "rate limited",
    )


def test_empty_frame(tmp_path, good_run):
    bad_then_recover(tmp_path, good_run, pd.DataFrame(), "empty frame")


def test_garbled_missing_columns(tmp_path, good_run):
    bad = pd.DataFrame({"Foo": [1.0]}, index=pd.DatetimeIndex(["2026-08-24"]))
    bad_then_recover(tmp_path, good_run, bad, "unreadable frame", "missing column")


def test_garbled_non_numeric(tmp_path, good_run):
    bad = pd.DataFrame(
        {"Open": ["-"], "High": ["-"], "Low": ["-"], "Close": ["n/a"], "Volume": ["x"]},
        index=pd.DatetimeIndex(["2026-08-24"]),
    )
    bad_then_recover(tmp_path, good_run, bad, "unreadable frame")


def test_series_that_jumps_is_blocked(tmp_path, good_run):
    msg = bad_then_recover(
        tmp_path, good_run, with_jump(0.40), "update blocked", "one-day move of 40.0%", "25% limit"
    )
    assert "kept unchanged" in msg


def test_series_that_loses_columns_is_blocked(tmp_path, good_run):
    lost = live_history("GSPC", 4)
    lost[["high", "low", "volume"]] = np.nan
    bad_then_recover(
        tmp_path, good_run, lost, "update blocked", "lost column(s) ['high', 'low', 'volume']"
    )


def test_level_discontinuity_at_seam_is_blocked(tmp_path, good_run):
    shifted = live_history("GSPC", 4)
    shifted[["open", "high", "low", "close"]] *= 1.05  # Yahoo re-based the whole index level
    bad_then_recover(tmp_path, good_run, shifted, "level discontinuity at the seam")


def test_partial_bar_for_today_is_dropped(tmp_path, good_run, monkeypatch):
    path, _, fake = good_run
    partial = live_history("GSPC", 4)  # its last session is "today", fetched at 14:00 New York
    today = partial.index[-1]
    monkeypatch.setattr(
        yahoo, "_now", lambda: pd.Timestamp(f"{today.date()} 14:00", tz="America/New_York")
    )
    fake.default = partial
    assert run_prices(tmp_path).success
    assert pd.read_parquet(path).index[-1] == partial.index[-2]
    monkeypatch.setattr(
        yahoo, "_now", lambda: pd.Timestamp(f"{today.date()} 18:30", tz="America/New_York")
    )
    assert run_prices(tmp_path).success
    assert pd.read_parquet(path).index[-1] == today


@pytest.mark.graph
def test_one_bad_series_does_not_block_the_others(tmp_path, monkeypatch):
    fakes = {
        "^GSPC": FakeYahoo("^GSPC", default=live_history("GSPC", 2)),
        "^VIX": FakeYahoo("^VIX", default=ConnectionError("connection reset")),
    }
    monkeypatch.setattr(yahoo, "_yf_download", lambda t, **kw: fakes[t](t, **kw))
    res = run_prices(tmp_path, keys=("GSPC", "VIX"))
    assert not res.success
    msg = failure_text(res)
    assert "VIX (^VIX): network error" in msg and "1 series not updated" in msg
    assert (tmp_path / "prices" / "GSPC.parquet").exists() and not (
        tmp_path / "prices" / "VIX.parquet"
    ).exists()


def test_rate_limit_retry_timing_is_bounded(monkeypatch):
    """Real sleeps, small backoff: 3 retries take ~0.05+0.1+0.2 s, then a clear error."""
    fake = FakeYahoo("SPY", default="YFRateLimitError('Too Many Requests')")
    t0 = time.perf_counter()
    with pytest.raises(
        yahoo.RateLimitedError, match=r"SPY \(SPY\): rate limited .* gave up after 4 attempts"
    ):
        yahoo.fetch_daily(
            "SPY",
            "2026-01-02",
            series="SPY",
            auto_adjust=True,
            download=fake,
            retries=3,
            backoff_s=0.05,
        )
    elapsed = time.perf_counter() - t0
    assert 0.35 <= elapsed < 2.0 and len(fake.calls) == 4


# ---- writes killed halfway, concurrent writers ---------------------------------------------


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.random((n, 5)),
        columns=["open", "high", "low", "close", "volume"],
        index=pd.date_range("1900-01-01", periods=n, freq="min"),
    )


def test_exception_mid_write_leaves_old_file(tmp_path, monkeypatch):
    dest = tmp_path / "prices" / "GSPC.parquet"
    store.write_parquet_atomic(_frame(100), dest)
    before = dest.read_bytes()

    def half_then_crash(self, path, *a, **k):
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        store.write_parquet_atomic(_frame(200), dest)
    assert dest.read_bytes() == before
    assert [
        p.name for p in dest.parent.iterdir() if p.suffix == ".tmp"
    ] == []  # temp file cleaned up


@pytest.mark.service
def test_sigkill_mid_write_leaves_old_file(tmp_path):
    dest = tmp_path / "GSPC.parquet"
    old = _frame(1000)
    store.write_parquet_atomic(old, dest)
    before = dest.read_bytes()
    code = textwrap.dedent(
        f"""
        import numpy as np, pandas as pd
        from eventlab.data import store
        df = pd.DataFrame(np.random.default_rng(1).random((6_000_000, 5)), columns=list("ohlcv"))
        print("ready", flush=True)
        store.write_parquet_atomic(df, {str(dest)!r})
        print("done", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while not any(p.suffix == ".tmp" and p.stat().st_size > 0 for p in tmp_path.iterdir()):
            assert proc.poll() is None, "writer finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)  # mid-write: the temp file exists and is growing
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert dest.read_bytes() == before
    pd.testing.assert_frame_equal(pd.read_parquet(dest), old, check_freq=False)
    # the killed writer's temp file is left behind; the next write of the same file clears it
    assert [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    store.write_parquet_atomic(old, dest)
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


WRITER = """
import sys, pandas as pd
from eventlab.data import store
dest, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    def add(old):
        row = pd.DataFrame({{"who": [who], "i": [i]}})
        return row if old is None else pd.concat([old, row], ignore_index=True)
    store.update_parquet_locked(dest, add)
"""


@pytest.mark.service
def test_two_refreshes_at_once_do_not_corrupt_or_lose_updates(tmp_path):
    dest = tmp_path / "shared.parquet"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER.format(), str(dest), w, "15"], cwd=ROOT)
        for w in ("a", "b")
    ]
    # a thread in this process joins in too
    t = threading.Thread(
        target=lambda: [
            store.update_parquet_locked(
                dest,
                lambda o, i=i: (
                    pd.concat([o, pd.DataFrame({"who": ["t"], "i": [i]})], ignore_index=True)
                    if o is not None
                    else pd.DataFrame({"who": ["t"], "i": [i]})
                ),
            )
            for i in range(15)
        ]
    )
    t.start()
    for p in procs:
        assert p.wait(60) == 0
    t.join(60)
    out = pd.read_parquet(dest)
    assert len(out) == 45 and out.groupby("who")["i"].apply(list).to_dict() == {
        w: list(range(15)) for w in ("a", "b", "t")
    }


# ---- freshness ------------------------------------------------------------------------------


def _checks(df, key, served_by, today):
    return {
        name: (ok, meta)
        for name, ok, _sev, meta in price_check_results(
            df, CONFIG.series(key), served_by, today=today
        )
    }


def test_freshness_flags_a_stale_live_series():
    df = live_history("GSPC", 0)  # ends 2026-08-20 (Thu)
    ok, meta = _checks(df, "GSPC", "yfinance", dt.date(2026, 8, 20))["fresh"]
    assert ok is True and meta["expected"] == "2026-08-20" and meta["sessions_behind"] == 0
    ok, meta = _checks(df, "GSPC", "yfinance", dt.date(2026, 8, 23))[
        "fresh"
    ]  # Sunday: Friday's session missing
    assert ok is False and meta["expected"] == "2026-08-21" and meta["sessions_behind"] == 1
    ok, meta = _checks(df, "GSPC", "yfinance", dt.date(2026, 8, 26))["fresh"]
    # Fri, Mon, Tue, Wed: four sessions (six calendar days)
    assert ok is False and meta["expected"] == "2026-08-26" and meta["sessions_behind"] == 4
    assert meta["calendar_days_behind"] == 6 and meta["why"] == "live source"
    assert meta["description"].startswith("4 sessions behind: the live source (yfinance)")


def test_the_freshness_clock_is_new_yorks_not_utcs():
    """01:00 UTC on Monday 2026-12-07 is Sunday evening in New York: the last closed session is
    Friday 2026-12-04, not the Monday session that has not opened."""
    from eventlab.data.quality import exchange_today, expected_last_session

    now = pd.Timestamp("2026-12-07 01:00", tz="UTC")
    today = exchange_today(now)
    assert today == dt.date(2026, 12, 6)
    assert expected_last_session(today, "NYSE", now=now) == dt.date(2026, 12, 4)


def test_freshness_respects_holidays():
    idx = pd.DatetimeIndex(["2026-11-24", "2026-11-25"])
    df = pd.DataFrame(
        {c: [1.0, 1.0] for c in ("open", "high", "low", "close", "volume")}, index=idx
    )
    ok, meta = _checks(df, "GSPC", "yfinance", dt.date(2026, 11, 26))[
        "fresh"
    ]  # Thanksgiving: no session
    assert ok is True and meta["expected"] == "2026-11-25"
    # Thanksgiving is not a session: Wednesday's bar on Friday is one session behind, not two
    ok, meta = _checks(df, "GSPC", "yfinance", dt.date(2026, 11, 27))["fresh"]
    assert ok is False and meta["sessions_behind"] == 1


def test_stale_snapshot_fails_fresh_at_warn_severity_saying_why():
    df = live_history("GSPC", 0)  # ends 2026-08-20
    results = price_check_results(
        df, CONFIG.series("GSPC"), "snapshot", today=dt.date(2026, 11, 20)
    )
    [(ok, sev, meta)] = [(ok, sev, meta) for name, ok, sev, meta in results if name == "fresh"]
    assert ok is False and sev == "WARN"
    assert meta["why"].startswith("offline") and meta["expected"] == "2026-11-20"
    # 2026-08-21 .. 2026-11-20: 65 NYSE sessions (Labor Day is not one)
    assert meta["sessions_behind"] == 65
    assert "65 sessions behind: offline data (snapshot) ends 2026-08-20" in meta["description"]
    assert "yfinance" in meta["description"]
    # BTC trades every day: its lag is counted in days
    btc = live_history("BTC_USD", 0) if "BTC_USD" in CONFIG.daily_keys else None
    if btc is not None:
        ok, meta = _checks(btc, "BTC_USD", "snapshot", dt.date(2026, 11, 20))["fresh"]
        assert ok is False and meta["description"].split(":")[0].endswith("days behind")


def test_ohlcv_valid_names_each_broken_rule():
    good = live_history("GSPC", 0).tail(30).copy()
    ok, meta = _checks(good, "GSPC", "snapshot", dt.date(2026, 8, 20))["ohlcv_valid"]
    assert ok is True and meta["failed_rules"] == "none"
    bad = good.copy()
    bad.iloc[3, bad.columns.get_loc("high")] = bad["low"].iloc[3] * 0.5  # high below the body
    bad.iloc[5, bad.columns.get_loc("close")] = -1.0
    bad = pd.concat([bad, bad.tail(1)])  # a repeated last date
    ok, meta = _checks(bad, "GSPC", "snapshot", dt.date(2026, 8, 20))["ohlcv_valid"]
    assert ok is False
    assert meta["failed_rules"] == "unique_increasing_dates, ohlc_consistent, positive_prices"
    assert meta["rule/schema"] == "pass" and meta["duplicate_dates"] == 1
    assert meta["high_below_body"] >= 1 and meta["nonpositive_price"] == 1


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expect"),
    [
        (
            "mode",
            "live",
            r"price_source.config.mode`: must be one of 'snapshot', 'yfinance', 'auto', got "
            r"'live'. Fix: use 'snapshot'",
        ),
        (
            "probe_timeout_s",
            0,
            r"resources.price_source.config.probe_timeout_s`: must be above 0 and at most 60 "
            r"seconds, got 0.0. Fix: use 5",
        ),
        ("probe_timeout_s", -3, r"probe_timeout_s"),
        (
            "start",
            "2026-13-01",
            r"price_source.config.start`: '2026-13-01' is not an ISO date. Fix: write it as "
            r"YYYY-MM-DD",
        ),
        ("start", "2999-01-01", r"price_source.config.start`: 2999-01-01 is in the future"),
        (
            "overlap_sessions",
            0,
            r"price_source.config.overlap_sessions`: must be an integer from 1 to 500",
        ),
        (
            "retries",
            -1,
            r"price_source.config.retries`: must be an integer from 0 to 10, got -1. Fix: use 3",
        ),
        ("backoff_s", -1.0, r"price_source.config.backoff_s`: must be from 0 to 300 seconds"),
    ],
)
def test_bad_price_source_config_names_field_and_fix(field, value, expect):
    with pytest.raises(Exception, match=expect):
        PriceSource(**{field: value})


@pytest.mark.graph
def test_bad_config_through_run_config_is_reported(tmp_path):
    # refused when the run's config is resolved (as the launchpad does), before any step runs
    with pytest.raises(dg.DagsterInvalidConfigError) as err:
        dg.materialize(
            [daily_prices],
            selection=[price_key("GSPC")],
            resources={
                "io_manager": ParquetIOManager(base_dir=str(tmp_path)),
                "price_source": PriceSource(),
            },
            run_config={"resources": {"price_source": {"config": {"probe_timeout_s": -1.0}}}},
            raise_on_error=False,
        )
    text = str(err.value)
    assert "resources.price_source.config.probe_timeout_s" in text and "Fix" in text
    assert not (tmp_path / "prices" / "GSPC.parquet").exists()
