"""The yfinance adapter, offline: recorded frames, a fake download and yfinance's own code with
its network layer monkeypatched. No test here opens a socket to Yahoo."""

import socket
import time
import warnings

import pandas as pd
import pytest
from yf_fakes import FakeYahoo, RecordingSleep, live_history, recorded

from eventlab.config import CONFIG
from eventlab.data import yahoo
from eventlab.data.frames import OHLCV
from pipelines.resources import PriceSource

AFTER_CLOSE = pd.Timestamp("2026-08-20 18:30", tz="America/New_York")


def test_multiindex_frame_normalized_and_call_is_explicit():
    fake = FakeYahoo("SPY", default=recorded("SPY_multiindex"))
    df = yahoo.fetch_daily(
        "SPY", "2026-07-31", series="SPY", auto_adjust=True, download=fake, now=AFTER_CLOSE
    )
    assert list(df.columns) == list(OHLCV) and df.index.name == "date"
    assert df.index.tz is None and df.index.is_monotonic_increasing
    assert all(pd.api.types.is_float_dtype(df[c]) for c in OHLCV)
    assert len(df) == 15 and df.index[-1] == pd.Timestamp("2026-08-20")
    call = fake.calls[0]
    # the DESIGN.md pitfalls: explicit start and auto_adjust, no progress bar, flat columns asked for
    assert call["start"] == "2026-07-31" and call["auto_adjust"] is True
    assert (
        call["progress"] is False
        and call["multi_level_index"] is False
        and call["interval"] == "1d"
    )


def test_flat_frame_and_tz_aware_index():
    raw = recorded("GSPC_flat")
    raw.index = raw.index.tz_localize("America/New_York")  # as Ticker.history returns it
    fake = FakeYahoo("^GSPC", default=raw)
    df = yahoo.fetch_daily(
        "^GSPC", "2026-07-31", series="GSPC", auto_adjust=False, download=fake, now=AFTER_CLOSE
    )
    assert df.index.tz is None and df.index[0] == pd.Timestamp("2026-07-31")
    assert fake.calls[0]["auto_adjust"] is False


def test_real_yfinance_download_path_offline(monkeypatch):
    """yfinance 1.x's own download() (threads, concat, MultiIndex, tz handling) on a patched
    Ticker.history: our adapter gets a canonical frame out of it."""
    import yfinance as yf

    hist = recorded("GSPC_flat")[["Open", "High", "Low", "Close", "Volume"]]
    hist.index = hist.index.tz_localize("America/New_York")
    monkeypatch.setattr(yf.Ticker, "history", lambda self, *a, **k: hist.copy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = yahoo.fetch_daily(
            "^GSPC", "2026-07-31", series="GSPC", auto_adjust=False, now=AFTER_CLOSE
        )
    assert len(df) == 15 and df.index.tz is None
    assert df["close"].iloc[-1] == pytest.approx(hist["Close"].iloc[-1])


def test_real_yfinance_swallowed_rate_limit_becomes_typed_error(monkeypatch):
    """yf.download swallows YFRateLimitError into a log line + empty frame; we still see it."""
    import yfinance as yf
    from yfinance.exceptions import YFRateLimitError

    def limited(self, *a, **k):
        raise YFRateLimitError()

    monkeypatch.setattr(yf.Ticker, "history", limited)
    sleep = RecordingSleep()
    with (
        warnings.catch_warnings(),
        pytest.raises(
            yahoo.RateLimitedError, match=r"SPY \(SPY\): rate limited.*gave up after 3 attempts"
        ),
    ):
        warnings.simplefilter("ignore")
        yahoo.fetch_daily(
            "SPY", "2026-01-02", series="SPY", auto_adjust=True, retries=2, sleep=sleep
        )
    assert sleep.waits == [2.0, 4.0]


def test_partial_bar_dropped_before_close_kept_after():
    frame = live_history("GSPC", 0).tail(5)  # last row 2026-08-20 (a Thursday, full session)
    during = pd.Timestamp("2026-08-20 14:00", tz="America/New_York")
    kept, dropped = yahoo.drop_partial_bar(frame, now=AFTER_CLOSE)
    assert not dropped and len(kept) == 5
    cut, dropped = yahoo.drop_partial_bar(frame, now=during)
    assert dropped and cut.index[-1] == pd.Timestamp("2026-08-19")


def test_partial_bar_early_close_day():
    idx = pd.DatetimeIndex(
        ["2026-11-25", "2026-11-27"]
    )  # 11-27: day after Thanksgiving, 13:00 close
    frame = pd.DataFrame({c: [1.0, 1.0] for c in OHLCV}, index=idx)
    _, dropped = yahoo.drop_partial_bar(
        frame, now=pd.Timestamp("2026-11-27 12:30", tz="America/New_York")
    )
    assert dropped
    _, dropped = yahoo.drop_partial_bar(
        frame, now=pd.Timestamp("2026-11-27 13:05", tz="America/New_York")
    )
    assert not dropped  # after the early close the bar is complete


def test_partial_bar_crypto_utc_day():
    idx = pd.DatetimeIndex(["2026-08-19", "2026-08-20"])
    frame = pd.DataFrame({c: [1.0, 1.0] for c in OHLCV}, index=idx)
    _, dropped = yahoo.drop_partial_bar(
        frame, calendar="24/7", now=pd.Timestamp("2026-08-20 22:00", tz="UTC")
    )
    assert dropped
    _, dropped = yahoo.drop_partial_bar(
        frame, calendar="24/7", now=pd.Timestamp("2026-08-21 00:05", tz="UTC")
    )
    assert not dropped


def test_fetch_drops_partial_bar_for_today():
    fake = FakeYahoo("SPY", default=recorded("SPY_multiindex"))
    df = yahoo.fetch_daily(
        "SPY",
        "2026-07-31",
        series="SPY",
        auto_adjust=True,
        download=fake,
        now=pd.Timestamp("2026-08-20 11:00", tz="America/New_York"),
    )
    assert df.index[-1] == pd.Timestamp("2026-08-19")


def test_empty_frame_is_a_clear_error():
    fake = FakeYahoo("ZZZZ", default=pd.DataFrame())
    with pytest.raises(
        yahoo.EmptyFrameError,
        match=r"ZZ \(ZZZZ\): Yahoo returned an empty frame for start=2026-01-02",
    ):
        yahoo.fetch_daily("ZZZZ", "2026-01-02", series="ZZ", auto_adjust=False, download=fake)


def test_retry_then_success_with_backoff():
    sleep = RecordingSleep()
    fake = FakeYahoo(
        "SPY",
        script=[ConnectionError("connection reset"), "YFRateLimitError('Too Many Requests')"],
        default=recorded("SPY_multiindex"),
    )
    df = yahoo.fetch_daily(
        "SPY",
        "2026-07-31",
        series="SPY",
        auto_adjust=True,
        download=fake,
        sleep=sleep,
        now=AFTER_CLOSE,
    )
    assert len(df) == 15 and sleep.waits == [2.0, 4.0] and len(fake.calls) == 3


def test_backoff_is_bounded_and_capped():
    sleep = RecordingSleep()
    fake = FakeYahoo("SPY", default=TimeoutError("timed out"))
    t0 = time.perf_counter()
    with pytest.raises(
        yahoo.SourceUnavailableError, match=r"SPY \(SPY\): network error.*gave up after 6 attempts"
    ):
        yahoo.fetch_daily(
            "SPY",
            "2026-01-02",
            series="SPY",
            auto_adjust=True,
            download=fake,
            sleep=sleep,
            retries=5,
            backoff_s=10,
            max_backoff_s=60,
            deadline_s=300,
        )
    assert sleep.waits == [10, 20, 40, 60, 60] and len(fake.calls) == 6
    assert time.perf_counter() - t0 < 1.0  # injected sleep: instant


def test_empty_frame_is_not_retried():
    sleep = RecordingSleep()
    fake = FakeYahoo(
        "X", default="YFPricesMissingError('$X: possibly delisted; no price data found')"
    )
    with pytest.raises(yahoo.EmptyFrameError, match="possibly delisted"):
        yahoo.fetch_daily(
            "X", "2026-01-02", series="X", auto_adjust=False, download=fake, sleep=sleep
        )
    assert sleep.waits == [] and len(fake.calls) == 1


@pytest.mark.parametrize(
    ("frame", "pattern"),
    [
        (
            pd.DataFrame({"Foo": [1.0], "Bar": [2.0]}, index=pd.DatetimeIndex(["2026-08-20"])),
            r"missing column",
        ),
        (
            pd.DataFrame({"Open": ["n/a"], "Close": ["x"]}, index=pd.DatetimeIndex(["2026-08-20"])),
            r"non-numeric|unreadable",
        ),
    ],
)
def test_garbled_frames(frame, pattern):
    fake = FakeYahoo("SPY", default=frame)
    with pytest.raises(
        yahoo.GarbledFrameError, match=rf"SPY \(SPY\): unreadable frame.*{pattern}|{pattern}"
    ):
        yahoo.fetch_daily(
            "SPY", "2026-08-20", series="SPY", auto_adjust=True, download=fake, now=AFTER_CLOSE
        )


def test_is_reachable_never_hangs(monkeypatch):
    def hang(*a, **k):
        time.sleep(5)

    monkeypatch.setattr(socket, "create_connection", hang)
    t0 = time.perf_counter()
    assert yahoo.is_reachable(timeout=0.2) is False
    assert time.perf_counter() - t0 < 1.0

    def refuse(*a, **k):
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert yahoo.is_reachable(timeout=0.5) is False


def test_auto_mode_falls_back_to_snapshot_with_warning(monkeypatch):
    monkeypatch.setattr(yahoo, "is_reachable", lambda timeout: False)
    src = PriceSource(mode="auto", probe_timeout_s=0.1)
    with pytest.warns(UserWarning, match="unreachable"):
        got = src.daily(CONFIG.series("GSPC"))
    assert got.served_by == "snapshot" and "unreachable" in got.note


def test_auto_mode_goes_live_when_reachable(monkeypatch):
    monkeypatch.setattr(yahoo, "is_reachable", lambda timeout: True)
    fake = FakeYahoo("^GSPC", default=live_history("GSPC", 3))
    monkeypatch.setattr(yahoo, "_yf_download", fake)
    got = PriceSource(mode="auto").daily(CONFIG.series("GSPC"))
    assert got.served_by == "yfinance" and got.report is not None and got.report.new_rows == 3
    # incremental from the shipped snapshot: only the overlap + new sessions were asked for
    assert fake.calls[0]["start"] == "2026-08-07" and fake.calls[0]["auto_adjust"] is False


def test_auto_fallback_never_serves_older_data_than_stored(monkeypatch):
    monkeypatch.setattr(yahoo, "is_reachable", lambda timeout: False)
    stored = live_history("GSPC", 4)
    with pytest.warns(UserWarning):
        got = PriceSource(mode="auto").daily(CONFIG.series("GSPC"), stored)
    assert got.served_by == "warehouse" and got.frame.index[-1] == stored.index[-1]
