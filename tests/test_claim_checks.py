"""The claim tests added for the notes' unchecked statements, against hand computations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from eventlab.report.claims import (
    BOUNDARY,
    CANNOT,
    CONFIRMED,
    DIFFERS,
    NOISE,
    TESTS,
    ClaimData,
    Outcome,
    evaluate_claim,
    load_claims,
    us_session_for_local_date,
    verdict_counts,
)


def _claim(
    method: str, params: dict, quoted: str, comparator: str, tol: str = "0", unit: str = "fraction"
) -> pd.Series:
    return pd.Series(
        {
            "id": "X1",
            "topic": "t",
            "kind": "data",
            "claim": "c",
            "quote_zh": "q",
            "quoted_value": quoted,
            "unit": unit,
            "comparator": comparator,
            "tolerance": tol,
            "source_doc": "000",
            "source_section": "s",
            "method": method,
            "params": json.dumps(params),
            "note": "",
        }
    )


def _daily(closes: list[float], start: str = "2025-11-17") -> pd.DataFrame:
    idx = pd.bdate_range(start, periods=len(closes))
    c = np.array(closes, float)
    return pd.DataFrame(
        {"open": c, "high": c * 1.01, "low": c * 0.99, "close": c, "volume": 1.0}, index=idx
    )


def test_beijing_date_maps_to_the_us_session_that_closed_on_it() -> None:
    sessions = pd.DatetimeIndex(["2025-11-19", "2025-11-20", "2025-11-21", "2025-11-24"])
    assert us_session_for_local_date(sessions, "2025-11-21", "Asia/Shanghai") == pd.Timestamp(
        "2025-11-20"
    )
    # Saturday in Beijing is Friday's US session; Monday in Beijing has no US session closing on it
    assert us_session_for_local_date(sessions, "2025-11-22", "Asia/Shanghai") == pd.Timestamp(
        "2025-11-21"
    )
    assert us_session_for_local_date(sessions, "2025-11-24", "Asia/Shanghai") is None
    # in New York time the date is the session itself
    assert us_session_for_local_date(sessions, "2025-11-21", "America/New_York") == pd.Timestamp(
        "2025-11-21"
    )


def test_dow_swing_uses_the_proxy_high_scaled_to_points() -> None:
    dji = pd.DataFrame(
        {
            "Date": ["2025-11-19", "2025-11-20"],
            "Open": [46000.0, 46500.0],
            "High": [np.nan, np.nan],
            "Low": [np.nan, np.nan],
            "Close": [46100.0, 45700.0],
            "Volume": [1, 1],
        }
    )
    dia = _daily([461.0, 455.0], start="2025-11-19")
    dia.loc["2025-11-20", "high"] = 468.0
    data = ClaimData(prices={"DIA": dia}, reference={"dji": dji})
    params = {
        "table": "dji",
        "proxy": "DIA",
        "date": "2025-11-20",
        "high_points": 700,
        "high_tolerance": 75,
    }
    row = evaluate_claim(
        _claim("swing_points", params, "-400", "approx", "50", "index_points"), data
    )
    high = 46100.0 * (468.0 / 461.0 - 1)  # = 700.0 points
    assert row["verdict"] == CONFIRMED
    assert float(row["computed_value"]) == pytest.approx(-400.0)
    assert f"{high:+,.0f}" in row["computed_display"]
    # the same close but a proxy high far from +700 points differs
    params["high_points"] = 1200
    assert (
        evaluate_claim(
            _claim("swing_points", params, "-400", "approx", "50", "index_points"), data
        )["verdict"]
        == DIFFERS
    )


def test_reference_window_minimum() -> None:
    tab = pd.DataFrame(
        {
            "Date": ["2025-11-19", "2025-11-20", "2025-11-21", "2025-11-24"],
            "DGS10": [3.9, 4.10, 4.02, 4.08],
        }
    )
    data = ClaimData(reference={"dgs10": tab})
    p = {
        "table": "dgs10",
        "column": "DGS10",
        "start": "2025-11-20",
        "end": "2025-11-24",
        "scale": 0.01,
    }
    row = evaluate_claim(_claim("reference_window", p, "0.04", "gt", unit="yield"), data)
    assert float(row["computed_value"]) == pytest.approx(0.0402)
    assert row["verdict"] == CONFIRMED
    p["start"] = "2025-11-19"  # now the window includes 3.90%
    assert (
        evaluate_claim(_claim("reference_window", p, "0.04", "gt", unit="yield"), data)["verdict"]
        == DIFFERS
    )


@pytest.mark.parametrize(
    ("low", "comparator", "verdict"),
    [
        (4.00, "gt", BOUNDARY),  # exactly the bound: "above 4%" cannot be told
        (3.99997, "gt", BOUNDARY),  # below by less than the tolerance: never confirmed
        (4.00004, "gt", BOUNDARY),  # above by less than the tolerance: not confirmed either
        (4.01, "gt", CONFIRMED),
        (3.99, "gt", DIFFERS),
        (4.00, "lt", BOUNDARY),
        (3.99, "lt", CONFIRMED),
        (4.00, "ge", BOUNDARY),
        (4.01, "ge", CONFIRMED),
    ],
)
def test_tolerance_never_counts_in_the_claims_favour(
    low: float, comparator: str, verdict: str
) -> None:
    tab = pd.DataFrame({"Date": ["2025-11-20", "2025-11-21"], "DGS10": [4.10, low]})
    p = {"table": "dgs10", "column": "DGS10", "start": "2025-11-20", "end": "2025-11-21"}
    p["scale"] = 0.01
    claim = _claim("reference_window", p, "0.04", comparator, "0.00005", unit="yield")
    row = evaluate_claim(claim, ClaimData(reference={"dgs10": tab}))
    assert row["verdict"] == verdict
    assert ("not counted in the claim's favour" in row["evidence"]) == (verdict == BOUNDARY)


def test_intraday_high_time_in_minutes_after_the_open() -> None:
    idx = pd.date_range("2025-11-20 09:30", periods=78, freq="5min", tz="America/New_York")
    close = 100 + np.r_[np.linspace(0, 2, 14), np.linspace(2, -3, 64)]
    bars = pd.DataFrame(
        {"open": close, "high": close + 0.1, "low": close - 0.1, "close": close}, index=idx
    )
    daily = _daily([100.0, 100.0], start="2025-11-19")
    data = ClaimData(prices={"GSPC": daily}, intraday={"SPX_5m": bars})
    p = {"series": "SPX_5m", "daily": "GSPC", "date": "2025-11-20"}
    row = evaluate_claim(_claim("intraday_high_time", p, "60", "lt", unit="minutes"), data)
    assert float(row["computed_value"]) == 13 * 5  # the 14th bar starts 65 minutes after 09:30
    assert row["verdict"] == DIFFERS
    first_below = bars.index[bars["low"] < 100.0][0]
    assert f"{first_below:%H:%M}" in row["evidence"]
    assert (
        evaluate_claim(_claim("intraday_high_time", p, "60", "approx", "15", "minutes"), data)[
            "verdict"
        ]
        == CONFIRMED
    )


def test_period_return_and_its_rank() -> None:
    closes = [100, 101, 99, 98, 97, 96, 95, 97]
    df = _daily(closes, start="2025-11-10")
    data = ClaimData(prices={"IXIC": df})
    p = {"series": "IXIC", "from_close": "2025-11-10", "to_close": "2025-11-17"}
    row = evaluate_claim(_claim("period_return", p, "-0.02", "lt"), data)
    assert float(row["computed_value"]) == pytest.approx(96 / 100 - 1)  # 5 sessions on
    five = [closes[i + 5] / closes[i] - 1 for i in range(len(closes) - 5)]
    lower = np.mean(np.array(five) < 96 / 100 - 1)
    assert f"{lower:.1%} of all 5-session returns" in row["evidence"]
    assert row["verdict"] == CONFIRMED


def test_new_high_within_the_shipped_window() -> None:
    tab = pd.DataFrame(
        {
            "PriceDate": ["2025-11-17", "2025-11-18", "2025-11-19", "2025-11-20"],
            "Ticker": ["GOOGL"] * 4,
            "Price": [300.0, 290.0, 299.0, 301.0],
        }
    )
    data = ClaimData(reference={"fwd_pe_daily": tab})
    p = {"table": "fwd_pe_daily", "ticker": "GOOGL", "start": "2025-11-19", "end": "2025-11-20"}
    row = evaluate_claim(_claim("new_high", p, "new high", "is_true", unit="usd"), data)
    assert row["verdict"] == CONFIRMED and "cannot be verified offline" in row["evidence"]
    assert "a high over the 2 days since then" in row["evidence"]
    # a claim of an all-time high: the window shows a high within it, which cannot decide the
    # claim, and the claim's untested half is named
    p_all = {**p, "all_time": True, "untested": "NVIDIA fell"}
    row = evaluate_claim(_claim("new_high", p_all, "new high", "is_true", unit="usd"), data)
    assert row["verdict"] == CANNOT
    assert "(NVIDIA fell) is not tested" in row["evidence"] and "301.00" in row["computed_display"]
    for params in (p, p_all):
        params["end"] = "2025-11-19"  # not even a high within the window: differs either way
        assert (
            evaluate_claim(_claim("new_high", params, "new high", "is_true", unit="usd"), data)[
                "verdict"
            ]
            == DIFFERS
        )


def test_shipped_claims_have_a_kind_and_model_counts_apart() -> None:
    claims = load_claims()
    assert set(claims["kind"]) == {"data", "model"}
    assert (claims.loc[claims["method"] == "cta", "kind"] == "model").all()
    res = pd.DataFrame({"kind": ["data", "data", "model"], "verdict": [CONFIRMED, DIFFERS, CANNOT]})
    assert verdict_counts(res, "data") == {
        CONFIRMED: 1,
        DIFFERS: 1,
        NOISE: 0,
        BOUNDARY: 0,
        CANNOT: 0,
    }
    assert verdict_counts(res, "model") == {
        CONFIRMED: 0,
        DIFFERS: 0,
        NOISE: 0,
        BOUNDARY: 0,
        CANNOT: 1,
    }


@pytest.mark.parametrize(
    ("comparator", "quoted", "value", "band", "verdict"),
    [
        ("ge", "0.94", 0.87, (0.72, 0.96), NOISE),  # C54's shape: the band's top reaches the quote
        ("ge", "0.94", 0.87, (0.72, 0.93), DIFFERS),  # even the favourable end falls short
        ("ge", "0.94", 0.95, (0.80, 0.99), CONFIRMED),  # the estimate itself matches
        ("le", "0.10", 0.63, (0.38, 0.80), DIFFERS),  # C55's shape: nowhere near the bottom decile
        ("le", "0.10", 0.30, (0.08, 0.50), NOISE),
        ("approx", "0.50", 0.70, (0.40, 0.90), NOISE),  # the quote lies inside the band
        ("approx", "0.50", 0.70, (0.60, 0.90), DIFFERS),
        ("ge", "0.94", 0.87, None, DIFFERS),  # a measurement (no band) never reads as noise
    ],
)
def test_within_noise_only_when_the_estimates_band_reaches_the_quote(
    monkeypatch, comparator, quoted, value, band, verdict
) -> None:
    def fake(claim, p, data):
        return Outcome(value, f"{value}", "estimated.", "x", "2025-11-14", band=band)

    monkeypatch.setitem(TESTS, "fake_estimate", fake)
    row = evaluate_claim(_claim("fake_estimate", {}, quoted, comparator), ClaimData())
    assert row["verdict"] == verdict
    assert ("too noisy to confirm or refute" in row["evidence"]) == (verdict == NOISE)


def _count_data(spy_events: int, start: str = "2008-03-24") -> ClaimData:
    """Eight index events, the index's sample from `start` (effectively from 2018-02-23) and the
    longest series with `spy_events` events since 1995."""
    dates = pd.to_datetime(["2018-12-11", "2020-04-07", "2020-04-28", "2022-01-26"] * 2)
    dates = dates + pd.to_timedelta(np.repeat([0, 1], 4), unit="D")
    stats = pd.DataFrame(
        {
            "variant": ["main", "SPY_own_opens"],
            "index": ["GSPC", "SPY"],
            "n_events": [8, spy_events],
            "sample_start": [start, "1995-03-29"],
            "sample_end": ["2026-08-20", "2026-08-20"],
            "effective_visibility_from": ["2018-02-23", "2018-02-23"],
        }
    )
    return ClaimData(events=pd.DataFrame({"date": dates}), event_stats=stats)


def test_event_count_names_the_span_the_data_can_see() -> None:
    claim = _claim("event_count", {"since": "1957-01-01"}, "8", "eq", unit="count")
    row = evaluate_claim(claim, _count_data(40))
    # the count matches, but only since 2008 (effectively 2018) and SPY counts 40 since 1995
    assert row["verdict"] == DIFFERS
    assert row["computed_display"] == (
        "8 since 2008-03-24 (effectively since 2018-02-23); SPY: 40 since 1995-03-29"
    )
    assert "cannot see 1957-01-01..2008-03-24" in row["evidence"]
    # a span the data covers, and no longer series that counts more: confirmed
    covered = _claim("event_count", {"since": "2010-01-01"}, "8", "eq", unit="count")
    assert evaluate_claim(covered, _count_data(8))["verdict"] == CONFIRMED
    # the span is covered but the longest series counts more: differs
    assert evaluate_claim(covered, _count_data(9))["verdict"] == DIFFERS
    # a wrong count differs whatever the span
    wrong = _claim("event_count", {"since": "2010-01-01"}, "7", "eq", unit="count")
    assert evaluate_claim(wrong, _count_data(7))["verdict"] == DIFFERS
