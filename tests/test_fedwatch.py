"""FedWatch arithmetic: a hand example, a real ZQ bar from the snapshot, and the live path
with a monkeypatched downloader (no network)."""

import datetime as dt

import pytest

from eventlab.rates import fedwatch as fw


def test_implied_rate_and_symbols():
    assert fw.implied_rate(96.3675) == pytest.approx(3.6325)
    assert fw.zq_symbol(dt.date(2026, 7, 1)) == "ZQN26.CBT"
    assert fw.zq_symbol("2025-12", yahoo=False) == "ZQZ25"
    with pytest.raises(ValueError):
        fw.implied_rate(0)


def test_hand_example_backward():
    # December 2025: meeting on the 10th of a 31-day month, pre-meeting rate 3.875 (midpoint of 3.75-4.00).
    # If the market prices a full 25 bp cut: avg = (10 * 3.875 + 21 * 3.625) / 31 = 3.70564...
    avg = (10 * 3.875 + 21 * 3.625) / 31
    o = fw.meeting_odds(dt.date(2025, 12, 10), 100 - avg, pre_rate=3.875, method="backward")
    assert o.post_rate == pytest.approx(3.625)
    assert o.p_cut == pytest.approx(1.0)
    # A 60% cut: post = 3.875 - 0.6 * 0.25 = 3.725
    avg = (10 * 3.875 + 21 * 3.725) / 31
    o = fw.meeting_odds(dt.date(2025, 12, 10), 100 - avg, pre_rate=3.875)
    assert o.method == "backward"
    assert o.outcomes == pytest.approx({0: 0.4, -25: 0.6})
    assert o.p_cut + o.p_hold + o.p_hike == pytest.approx(1.0)


def test_move_probabilities_beyond_one_step():
    assert fw.move_probabilities(-0.35) == pytest.approx({-25: 0.6, -50: 0.4})
    assert fw.move_probabilities(0.0) == {0: 1.0}
    assert fw.move_probabilities(0.25) == pytest.approx({25: 1.0})


def test_real_zq_bars_from_snapshot():
    """2026-07-28 closes: ZQN26 96.3675, ZQQ26 96.295 (SOURCES.md). The July 29 meeting is late in
    the month, so the forward method is used: post = 100 - 96.295 = 3.705, and the implied
    pre-meeting rate lands within 1 bp of the effective fed funds rate of that day (DFF 3.63)."""
    from eventlab.data.snapshot import read_aux

    zq = read_aux("zq_futures")
    bar = zq[zq["Date"] == "2026-07-28"].set_index("cme_symbol")["Close"]
    assert bar["ZQN26"] == pytest.approx(96.3675)
    o = fw.meeting_odds(dt.date(2026, 7, 29), bar["ZQN26"], next_month_price=bar["ZQQ26"])
    assert o.method == "forward"
    assert o.post_rate == pytest.approx(3.705)
    # hand: pre = (31 * 3.6325 - 2 * 3.705) / 29
    assert o.pre_rate == pytest.approx((31 * 3.6325 - 2 * 3.705) / 29)
    dff = read_aux("fed_funds_effective").set_index("Date")["DFF"]
    assert abs(o.pre_rate - dff["2026-07-28"]) < 0.01
    assert o.p_hike == pytest.approx((3.705 - o.pre_rate) / 0.25)
    assert o.p_cut == 0.0


def test_live_path_with_monkeypatched_prices(monkeypatch):
    prices = {"ZQN26.CBT": 96.3675, "ZQQ26.CBT": 96.295}
    calls = []

    def fake(symbol):
        calls.append(symbol)
        return prices.get(symbol)

    monkeypatch.setattr(fw, "yfinance_last_close", fake)
    o = fw.live_meeting_odds(dt.date(2026, 7, 29))
    assert calls == ["ZQN26.CBT", "ZQQ26.CBT"]
    assert o.post_rate == pytest.approx(3.705)
    # September 2026: August has no meeting -> backward from the August contract
    prices.update({"ZQU26.CBT": 96.30})
    o = fw.live_meeting_odds(dt.date(2026, 9, 16))
    assert o.method in ("forward", "backward")
    # missing contract -> a clear LookupError naming it
    with pytest.raises(LookupError, match="ZQZ25.CBT"):
        fw.live_meeting_odds(dt.date(2025, 12, 10))
