"""Issue 10 group 7 and issue 12 item 2: sources that stall or are down.

Every network call has a total deadline; the `auto` probe is a real request with a deadline (a
local server that accepts TCP and never answers stands in for a stalled host); a source that is
clearly down stops the remaining series at once; waiting for it to come back never holds a run
slot - the `refresh_outage_retry` sensor starts a new run later; and the failure leads with one
plain line (cause, series not updated, previous data kept, next try)."""

import socket
import threading
import time

import dagster as dg
import pandas as pd
import pytest
from refresh_helpers import run_prices
from yf_fakes import DownSource, FakeYahoo, UpSource, live_history

from eventlab.config import CONFIG
from eventlab.data import yahoo
from pipelines.io import ParquetIOManager
from pipelines.resources import REFRESH_TAG, PriceSource
from pipelines.schedules import ATTEMPT_TAG, RETRY_AFTER_TAG, refresh_outage_retry
from pipelines.stages.market_data import daily_prices, price_key


@pytest.fixture
def silent_server():
    """A TCP server that accepts every connection and never sends a byte."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/"
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    srv.close()


def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def test_the_probe_is_a_real_request_with_a_deadline(silent_server, _probe_target):
    t0 = time.perf_counter()
    assert yahoo.is_reachable(timeout=0.5, url=silent_server) is False  # TCP accepted, no answer
    assert time.perf_counter() - t0 < 1.5
    assert yahoo.is_reachable(timeout=2, url=_probe_target) is True  # answers 404: up
    assert yahoo.is_reachable(timeout=2, url=_refused_url()) is False


def test_auto_mode_falls_back_fast_when_the_host_never_answers(silent_server, monkeypatch):
    monkeypatch.setattr(yahoo, "PROBE_URL", silent_server)
    src = PriceSource(mode="auto", probe_timeout_s=0.5)
    t0 = time.perf_counter()
    with pytest.warns(UserWarning, match="unreachable"):
        got = src.daily(CONFIG.series("GSPC"))
    assert got.served_by == "snapshot" and time.perf_counter() - t0 < 3.0


def test_a_download_that_never_answers_ends_at_the_deadline():
    never = threading.Event()

    def stall(*a, **k):
        never.wait(30)  # a request stuck on a host that never answers
        return pd.DataFrame()

    t0 = time.perf_counter()
    with pytest.raises(yahoo.SourceUnavailableError, match=r"no answer within|deadline"):
        yahoo.fetch_daily(
            "SPY", "2026-08-01", series="SPY", auto_adjust=True, download=stall, deadline_s=0.6
        )
    assert time.perf_counter() - t0 < 2.0
    never.set()


def test_backoff_never_sleeps_past_the_deadline():
    waits: list[float] = []
    fake = FakeYahoo("SPY", default=ConnectionError("Network is unreachable"))
    with pytest.raises(yahoo.SourceUnavailableError, match=r"gave up after 2 attempts \(deadline"):
        yahoo.fetch_daily(
            "SPY",
            "2026-08-01",
            series="SPY",
            auto_adjust=True,
            download=fake,
            retries=5,
            backoff_s=4,
            sleep=waits.append,
            deadline_s=10,
        )
    assert waits == [4]  # 4 s fits in 10 s; the next wait (8 s) would not


def test_possibly_delisted_with_yahoo_unreachable_is_a_network_failure():
    fake = FakeYahoo("^GSPC", default="YFPricesMissingError('possibly delisted; no price data')")
    with pytest.raises(yahoo.SourceUnavailableError, match="Yahoo unreachable"):
        yahoo.fetch_daily(
            "^GSPC", "2026-08-01", series="GSPC", auto_adjust=False, download=fake,
            probe=lambda timeout: False,
        )  # fmt: skip


KEYS = ("GSPC", "IXIC", "NDX", "VIX")


def _all_down(monkeypatch):
    calls: list[str] = []

    def down(ticker, **kw):
        calls.append(ticker)
        raise ConnectionError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(yahoo, "_yf_download", down)
    return calls


@pytest.mark.graph
def test_a_source_that_is_down_stops_the_remaining_series(tmp_path, monkeypatch):
    calls = _all_down(monkeypatch)
    monkeypatch.setattr(yahoo, "is_reachable", lambda timeout=None, url=None: True)
    res = run_prices(tmp_path, keys=KEYS, retries=1)
    assert not res.success
    assert len(set(calls)) == 2  # two series with network errors: the other two not asked
    lead = _failure(res).message.splitlines()[0]
    assert lead.startswith("Yahoo unreachable (network errors on GSPC, IXIC)")
    assert "4 series not updated (GSPC, IXIC, NDX, VIX); previous data kept; next try:" in lead


@pytest.mark.graph
def test_one_network_failure_and_a_failed_probe_stop_at_once(tmp_path, monkeypatch):
    calls = _all_down(monkeypatch)
    monkeypatch.setattr(yahoo, "is_reachable", lambda timeout=None, url=None: False)
    res = run_prices(tmp_path, keys=KEYS, retries=1)
    assert set(calls) == {"^GSPC"}
    lead = _failure(res).message.splitlines()[0]
    assert lead.startswith("Yahoo unreachable (probe got no answer on GSPC)")
    assert "possibly delisted" not in lead


def _failure(res):
    """The step failure's error; its message without Dagster's class-name prefix."""
    (fail,) = [e for e in res.all_events if e.event_type_value == "STEP_FAILURE"]
    err = fail.event_specific_data.error
    return err._replace(message=err.message.split("Failure: ", 1)[-1].strip())


def _nightly(tmp_path, instance, attempt=None, **src):
    tags = {REFRESH_TAG: "nightly", "eventlab/session": "2026-08-27"}
    if attempt:
        tags[ATTEMPT_TAG] = str(attempt)
    return dg.materialize(
        [daily_prices],
        selection=[price_key("GSPC")],
        instance=instance,
        tags=tags,
        resources={
            "io_manager": ParquetIOManager(base_dir=str(tmp_path)),
            "price_source": PriceSource(mode="yfinance", backoff_s=0, retries=0, **src),
        },
        raise_on_error=False,
    )


def _sensor(instance, up: bool = True):
    """The retry sensor's context, with the source's probe answering or not."""
    source = UpSource() if up else DownSource()
    return dg.build_sensor_context(instance=instance, resources={"price_source": source})


def test_an_outage_is_retried_as_a_new_run_by_the_sensor(tmp_path, good_run, monkeypatch):
    path, before, fake = good_run
    monkeypatch.setattr(yahoo, "is_reachable", lambda timeout=None, url=None: False)
    fake.default = ConnectionError("Network is unreachable")
    instance = dg.DagsterInstance.ephemeral()
    t0 = time.perf_counter()
    res = _nightly(tmp_path, instance, outage_retry_delay_s=0)
    assert not res.success and time.perf_counter() - t0 < 10
    assert not [e for e in res.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    lead = _failure(res).message.splitlines()[0]
    assert "next try: a new run started by the sensor refresh_outage_retry" in lead
    assert "(attempt 2 of 3)" in lead and path.read_bytes() == before
    run = instance.get_run_by_id(res.run_id)
    assert RETRY_AFTER_TAG in run.tags

    # the retry is due but the source still does not answer: the sensor waits, saying why
    wait = refresh_outage_retry(_sensor(instance, up=False))
    assert wait.skip_message.startswith("refresh skipped: source unreachable")
    assert "the retry waits for the source to answer" in wait.skip_message

    req = refresh_outage_retry(_sensor(instance))
    assert isinstance(req, dg.RunRequest)
    assert req.run_key == "refresh-2026-08-27-attempt2" and req.tags[ATTEMPT_TAG] == "2"

    # the last allowed attempt fails too: no further retry is planned, the nightly run is next
    res = _nightly(tmp_path, instance, attempt=3, outage_retry_delay_s=0)
    assert "next try: the nightly refresh on" in _failure(res).message.splitlines()[0]
    skip = refresh_outage_retry(_sensor(instance))
    assert isinstance(skip, dg.SkipReason)


def test_bad_data_is_not_retried_by_the_sensor(tmp_path, good_run):
    _, _, fake = good_run
    bad = live_history("GSPC", 4)
    bad.iloc[-1, bad.columns.get_loc("close")] *= 1.5
    bad.iloc[-1, bad.columns.get_loc("high")] *= 1.5
    fake.default = bad
    instance = dg.DagsterInstance.ephemeral()
    res = _nightly(tmp_path, instance, outage_retry_delay_s=0)
    assert not res.success
    assert _failure(res).message.startswith("bad data from the source blocked GSPC")
    assert RETRY_AFTER_TAG not in instance.get_run_by_id(res.run_id).tags
    assert isinstance(refresh_outage_retry(_sensor(instance)), dg.SkipReason)
