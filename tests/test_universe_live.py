"""Live universe downloads, offline: a fake yf.download serves recorded-shape batch frames."""

import datetime as dt
import threading
import time

import numpy as np
import pandas as pd
import pytest
from yf_fakes import RecordingSleep

from eventlab.data.yahoo import RateLimitedError, SourceUnavailableError
from eventlab.universe import live

NOW = pd.Timestamp("2025-01-10 22:00", tz="UTC")  # after the close: no partial bar


def yahoo_frame(tickers, days=30, seed=0):
    """What yf.download(tickers, group_by='ticker', actions=True, auto_adjust=False) returns."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-11-01", periods=days, name="Date")
    parts = {}
    for t in tickers:
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, days)))
        parts[t] = pd.DataFrame(
            {"Open": close * 1.001, "High": close * 1.01, "Low": close * 0.99, "Close": close,
             "Adj Close": close, "Volume": 1e6, "Dividends": 0.0, "Stock Splits": 0.0},
            index=idx,
        )  # fmt: skip
    parts[tickers[0]].iloc[5, 6] = 0.5  # one dividend
    return pd.concat(parts, axis=1, names=["Ticker", "Price"])


class FakeBatchYahoo:
    """yf.download for many tickers: records calls and in-flight requests; unknown symbols are
    absent from the frame (as Yahoo does); `fail_first` calls raise a rate-limit error."""

    def __init__(self, unknown=(), fail_first=0, hold_s=0.02):
        self.unknown, self.fail_first, self.hold_s = set(unknown), fail_first, hold_s
        self.calls, self.in_flight, self.max_in_flight = [], 0, 0
        self.lock = threading.Lock()

    def __call__(self, tickers, **kw):
        with self.lock:
            self.calls.append((list(tickers), kw))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            fail = len(self.calls) <= self.fail_first
        try:
            time.sleep(self.hold_s)
            if fail:
                raise RuntimeError("YFRateLimitError('Too Many Requests. Rate limited.')")
            known = [t for t in tickers if t not in self.unknown]
            return yahoo_frame(known) if known else pd.DataFrame()
        finally:
            with self.lock:
                self.in_flight -= 1


def test_batches_many_tickers_per_request_with_bounded_concurrency():
    tickers = [f"T{i:02d}" for i in range(23)]
    fake = FakeBatchYahoo(unknown={"T07"})
    frames, errors = live.download_universe(
        tickers, dt.date(2024, 11, 1), batch_size=5, concurrency=2, download=fake, now=NOW
    )
    assert len(fake.calls) == 5 and all(len(c[0]) <= 5 for c in fake.calls)
    assert fake.max_in_flight <= 2
    kw = fake.calls[0][1]
    assert kw["start"] == "2024-11-01" and kw["auto_adjust"] is False and kw["actions"] is True
    assert errors == {} and frames["T07"] is None
    got = frames["T00"]
    assert list(got.columns) == ["open", "high", "low", "close", "volume", "dividend", "split"]
    assert (got["split"] == 1).all() and got["dividend"].iloc[5] == 0.5 and len(got) == 30


def test_rate_limits_back_off_then_succeed_and_a_dead_batch_spares_the_others():
    sleep = RecordingSleep()
    fake = FakeBatchYahoo(fail_first=2)
    frames = live.download_batch(
        ["A", "B"], dt.date(2024, 11, 1), download=fake, sleep=sleep, backoff_s=1.0, now=NOW
    )
    assert sleep.waits == [1.0, 2.0] and frames["A"] is not None
    with pytest.raises(RateLimitedError, match="rate limited"):
        live.download_batch(
            ["A"], dt.date(2024, 11, 1), download=FakeBatchYahoo(fail_first=9),
            sleep=RecordingSleep(), retries=2, now=NOW,
        )  # fmt: skip
    fake = FakeBatchYahoo(fail_first=1)
    frames, errors = live.download_universe(
        ["A", "B", "C"], dt.date(2024, 11, 1), batch_size=2, concurrency=1, download=fake,
        sleep=RecordingSleep(), retries=0, now=NOW,
    )  # fmt: skip
    assert set(errors) == {"A", "B"} and frames["C"] is not None


# ----------------------------------------------------------------------------- deadlines


class StalledYahoo:
    """A yf.download whose host accepts the request and never answers (until released)."""

    def __init__(self):
        self.calls, self.release = [], threading.Event()

    def __call__(self, tickers, **kw):
        self.calls.append(list(tickers))
        self.release.wait(30)
        return pd.DataFrame()


@pytest.fixture
def stalled():
    fake = StalledYahoo()
    yield fake
    fake.release.set()  # let the abandoned request threads end


def test_a_stalled_source_stops_within_the_deadline_with_a_clear_message(stalled):
    tickers = [f"T{i:02d}" for i in range(30)]
    t0 = time.monotonic()
    with pytest.raises(SourceUnavailableError) as err:
        live.download_universe(
            tickers, dt.date(2024, 11, 1), batch_size=5, concurrency=2, download=stalled,
            batch_deadline_s=0.5, deadline_s=60, probe=lambda: False, now=NOW,
        )  # fmt: skip
    took = time.monotonic() - t0
    # the two batches in flight are abandoned at their deadline; with the probe unanswered too
    # the source is down and the other four batches are never asked
    assert took < 1.5 and len(stalled.calls) == 2
    msg = str(err.value)
    assert msg.startswith("universe download (30 tickers): Yahoo unreachable (probe got no answer")
    assert "4 of 6 batches not attempted, 30 tickers without data" in msg
    assert "nothing was computed or stored" in msg and "Fix: run again later" in msg


def test_the_whole_download_ends_at_its_total_deadline():
    slow = FakeBatchYahoo(hold_s=0.4)  # answers, but slowly
    t0 = time.monotonic()
    with pytest.raises(SourceUnavailableError, match=r"deadline of 1s ran out"):
        live.download_universe(
            [f"T{i:02d}" for i in range(10)], dt.date(2024, 11, 1), batch_size=2, concurrency=1,
            download=slow, deadline_s=1.0, probe=lambda: True, now=NOW,
        )  # fmt: skip
    # The deadline is proved by the calls: all 10 tickers need 5 batches, and it stops after at
    # most 3. The wall clock only guards against a hang (a busy machine stretches every sleep).
    assert len(slow.calls) <= 3 and time.monotonic() - t0 < 10


@pytest.mark.parametrize(
    ("retries", "probe_up", "match", "first_tickers"),
    [
        # two batches failing with network errors: the source is down (each retried once)
        (1, True, r"network errors on A\.\.B, C\.\.D\); 2 of 4 batches", ["A", "A", "C", "C"]),
        # one failure and an unanswered probe: down at once
        (0, False, r"probe got no answer on A\.\.B\); 3 of 4 batches", ["A"]),
    ],
)
def test_a_source_that_is_down_is_not_asked_for_the_remaining_batches(
    retries, probe_up, match, first_tickers
):
    calls = []

    def down(tickers, **kw):
        calls.append(tickers[0])
        raise ConnectionError("[Errno 101] Network is unreachable")

    with pytest.raises(SourceUnavailableError, match=match):
        live.download_universe(
            list("ABCDEFGH"), dt.date(2024, 11, 1), batch_size=2, concurrency=1, download=down,
            retries=retries, sleep=RecordingSleep(), probe=lambda: probe_up, now=NOW,
        )  # fmt: skip
    assert calls == first_tickers
