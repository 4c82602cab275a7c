"""CTA replica: hand-checked example, trigger-level property test, no look-ahead, vectorized vs loop,
scenario flow accounting, event replays and the claims table."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import scenario_daily

from eventlab.cta import claims, levels, replay, scenarios, signals
from eventlab.data.snapshot import read_series
from eventlab.errors import ConfigError
from eventlab.settings.cta import CTAParams

EVENT_DATES = [
    "2018-12-11",
    "2020-04-07",
    "2020-04-28",
    "2022-01-26",
    "2024-08-07",
    "2025-04-08",
    "2025-07-31",
    "2025-11-20",
]
SMALL = CTAParams(lookbacks=(5, 10, 20), vol_span=10, vol_min_periods=3, percentile_min_periods=5)


@pytest.fixture(scope="module")
def gspc() -> pd.DataFrame:
    return read_series("GSPC")


@pytest.fixture(scope="module")
def history(gspc) -> pd.DataFrame:
    return replay.full_history(gspc, CTAParams())


def _series(closes) -> pd.Series:
    return pd.Series(
        np.asarray(closes, dtype=float),
        index=pd.bdate_range("2020-01-01", periods=len(closes), name="date"),
    )


# ----------------------------------------------------------------------------- hand-checked


def test_hand_checked_small_example():
    """Two horizons (2 and 3 sessions), EWMA span 3 (alpha = 0.5), everything computed by hand."""
    p = CTAParams(
        horizons=("fast", "slow"), lookbacks=(2, 3), weights=(1.0, 1.0), vol_span=3, vol_min_periods=1,
        saturation_z=1.0, vol_target=0.15, max_scale=1.0, vol_floor=0.001, capacity_usd=100.0, percentile_min_periods=1,
    )  # fmt: skip
    closes = [100.0, 101.0, 99.0, 102.0, 103.0]
    out = signals.model_arrays(np.array(closes), p)
    r1, r2, r3 = math.log(101 / 100), math.log(99 / 101), math.log(102 / 99)
    v1 = r1**2  # EWMA starts at the first squared return
    v2 = 0.5 * r2**2 + 0.5 * v1
    v3 = 0.5 * r3**2 + 0.5 * v2
    # at t=3 (close 102): vol from t-1 (v2); fast = 2-session momentum, slow = 3-session momentum
    sig = math.sqrt(v2)
    z_fast = math.log(102 / 101) / (sig * math.sqrt(2))
    z_slow = math.log(102 / 100) / (sig * math.sqrt(3))
    assert out["z_fast"][3] == pytest.approx(z_fast, rel=1e-12)
    assert out["z_slow"][3] == pytest.approx(z_slow, rel=1e-12)
    s_fast, s_slow = min(1.0, max(-1.0, z_fast)), min(1.0, max(-1.0, z_slow))
    scale = min(1.0, 0.15 / (sig * math.sqrt(252)))
    assert out["position"][3] == pytest.approx(
        min(1.0, max(-1.0, scale * (s_fast + s_slow) / 2)), rel=1e-12
    )
    assert out["notional_usd"][3] == pytest.approx(100.0 * out["position"][3])
    # t=4 (close 103) uses v3
    sig4 = math.sqrt(v3)
    assert out["z_fast"][4] == pytest.approx(math.log(103 / 99) / (sig4 * math.sqrt(2)), rel=1e-12)
    assert out["flow_usd"][4] == pytest.approx(out["notional_usd"][4] - out["notional_usd"][3])
    # the first horizon needs t >= 2 and sigma_{t-1} (t-1 >= 1); the slow one t >= 3
    assert (
        np.isnan(out["z_fast"][1]) and np.isfinite(out["z_fast"][2]) and np.isnan(out["z_slow"][2])
    )
    # percentile: share of valid positions so far that are <= today's
    valid = [x for x in out["position"] if np.isfinite(x)]
    assert out["percentile"][4] == pytest.approx(
        100.0 * sum(x <= valid[-1] for x in valid) / len(valid)
    )
    # levels in force for the next session, by hand
    lv = levels.level_arrays(np.array(closes), p)
    # tomorrow's momentum(L) compares tomorrow's close with the close L-1 sessions before today
    assert lv["level_fast"][4] == 102.0  # momentum(2): the close 1 session before 103
    assert lv["level_slow"][4] == 99.0  # momentum(3): the close 2 sessions before 103
    sma = levels.closed_form_level(np.array(closes), 3, "sma")
    assert sma[4] == pytest.approx((102.0 + 103.0) / 2)  # SMA(3): mean of the last 2 closes
    af, as_ = 2 / (8 / 4 + 1), 2 / (8 + 1)  # EWMAC(8): spans 2 and 8
    fast = slow = 100.0
    for c in closes[1:]:
        fast, slow = af * c + (1 - af) * fast, as_ * c + (1 - as_) * slow
    ew = levels.closed_form_level(np.array(closes), 8, "ewmac")
    assert ew[4] == pytest.approx(((1 - as_) * slow - (1 - af) * fast) / (af - as_), rel=1e-12)


# ----------------------------------------------------------------------------- trigger levels


path_strategy = st.lists(st.floats(-0.04, 0.04, allow_nan=False), min_size=30, max_size=80)


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    rets=path_strategy,
    rule=st.sampled_from(["momentum", "sma", "ewmac"]),
    eps=st.sampled_from([1e-6, 1e-4, 1e-2]),
)
def test_signal_flips_at_trigger_level(rets, rule, eps):
    """Closing a little above the computed level gives a positive signal, a little below a negative one."""
    p = SMALL.with_(rule=rule, lookbacks=(8, 12, 20))
    closes = 100.0 * np.exp(np.cumsum([0.0, *rets]))
    lv = levels.level_arrays(closes, p)
    checked = 0
    for h in p.horizons:
        level = lv[f"level_{h}"][-1]
        if not np.isfinite(level):
            continue
        above = signals.model_arrays(np.append(closes, level * (1 + eps)), p, percentile=False)
        below = signals.model_arrays(np.append(closes, level * (1 - eps)), p, percentile=False)
        assert above[f"signal_{h}"][-1] > 0 > below[f"signal_{h}"][-1]
        checked += 1
    agg = lv["level_aggregate"][-1]
    if np.isfinite(agg):
        above = signals.model_arrays(np.append(closes, agg * (1 + eps)), p, percentile=False)
        below = signals.model_arrays(np.append(closes, agg * (1 - eps)), p, percentile=False)
        assert above["position"][-1] > 0 > below["position"][-1]
        # the single-date brentq root agrees with the vectorized bisection
        sig = signals.daily_vol(closes, p)[-1]
        b = levels.aggregate_level_brentq(
            closes[-1], [lv[f"level_{h}"][-1] for h in p.horizons], sig, p
        )
        assert b == pytest.approx(agg, rel=1e-9)
    assert checked == (3 if len(closes) > 20 else checked)


def test_levels_table_matches_history(history):
    p = CTAParams()
    tab = levels.levels_table(history, history, p, pd.Timestamp("2025-11-20"))
    assert list(tab.columns) == levels.LEVEL_COLUMNS
    assert list(tab["horizon"]) == [*p.horizons, "aggregate"]
    row = history.loc["2025-11-20"]
    for h in (*p.horizons, "aggregate"):
        got = tab.loc[tab["horizon"] == h, "level"].iloc[0]
        assert got == pytest.approx(row[f"level_{h}"], rel=1e-9)
    # momentum(21) level after the 2025-11-20 close = the close 20 sessions earlier
    closes = history["close"].loc[:"2025-11-20"]
    assert tab.loc[0, "level"] == closes.iloc[-21]
    assert tab.loc[0, "distance"] == pytest.approx(closes.iloc[-21] / closes.iloc[-1] - 1)


# ----------------------------------------------------------------------------- no look-ahead


@pytest.mark.parametrize("rule", ["momentum", "sma", "ewmac"])
def test_no_lookahead_appending_future(gspc, rule):
    """Positions, levels and percentiles up to a date do not change when future data is appended or altered."""
    p = CTAParams(rule=rule)
    px = gspc.iloc[-4000:]
    full = replay.full_history(px, p)
    cut = 3000
    trunc = replay.full_history(px.iloc[:cut], p)
    altered = px["close"].to_numpy().copy()
    altered[cut:] = altered[cut:] * np.linspace(0.5, 2.0, len(altered) - cut)
    alt = replay.full_history(_series(altered).set_axis(px.index), p)
    cols = [
        "position",
        "notional_usd",
        "flow_usd",
        "percentile",
        "level_short",
        "level_medium",
        "level_long",
        "level_aggregate",
    ]
    pd.testing.assert_frame_equal(full.iloc[:cut][cols], trunc[cols], rtol=1e-12, atol=1e-9)
    pd.testing.assert_frame_equal(
        full.iloc[:cut][cols], alt.iloc[:cut][cols], rtol=1e-12, atol=1e-9
    )
    assert not np.allclose(full["position"].iloc[cut + 30 :], alt["position"].iloc[cut + 30 :])


# ----------------------------------------------------------------------------- vectorized vs loop


@pytest.mark.parametrize(
    "params",
    [
        CTAParams(),
        CTAParams(rule="sma"),
        CTAParams(rule="ewmac"),
        CTAParams(percentile_lookback=300, weights=(0.5, 0.3, 0.2)),
    ],
    ids=["momentum", "sma", "ewmac", "rolling_pct_weights"],
)
def test_vectorized_equals_row_by_row(gspc, params):
    px = gspc.iloc[-700:]
    vec = replay.full_history(px, params)
    loop = replay.full_history_loop(px, params)
    assert set(vec.columns) <= set(loop.columns)
    pd.testing.assert_frame_equal(vec, loop[vec.columns], rtol=1e-9, atol=1e-6, check_exact=False)
    assert vec["position"].notna().sum() > 300


# ----------------------------------------------------------------------------- scenarios


def test_scenario_flows_sum_to_position_change(gspc):
    p = CTAParams()
    close = gspc["close"]
    daily = scenario_daily(close, p, "2025-11-20")
    table = scenarios.scenario_table(close, p, "2025-11-20")
    hist = replay.full_history(gspc.loc[:"2025-11-20"], p)
    assert set(table.columns) == set(scenarios.SCENARIO_COLUMNS)
    assert len(table) == len(p.scenario_windows) * len(scenarios.scenario_specs(p))
    for (window, name), g in daily.groupby(["window", "scenario"]):
        row = table[(table["window"] == window) & (table["scenario"] == name)].iloc[0]
        # day 0 is the real as-of close: the model there equals the full history
        assert g["notional_usd"].iloc[0] == pytest.approx(hist["notional_usd"].iloc[-1], rel=1e-12)
        # flows add up to the change in notional = capacity x change in position
        assert g["flow_usd"].iloc[1:].sum() == pytest.approx(
            g["notional_usd"].iloc[-1] - g["notional_usd"].iloc[0], abs=1e-3
        )
        assert row["flow_usd"] == pytest.approx(
            p.capacity_usd * (row["position_end"] - row["position_start"]), abs=1e-3
        )
        assert row["days"] == dict(p.scenario_windows)[window]
        assert np.sign(row["path_return"]) == np.sign(row["std_multiple"])
    # a harder down path never sells less than a milder one over the same window, here
    for w in ("1w", "1m"):
        sub = table[table["window"] == w].set_index("scenario")["flow_usd"]
        assert sub["down_big"] <= sub["down_1sd"] + 1e-6
        assert sub["down_big"] <= sub["flat"] and sub["up_1sd"] >= sub["down_1sd"]


def test_scenarios_for_dates_and_desk_table(gspc):
    p = CTAParams()
    df = scenarios.scenarios_for_dates(gspc["close"], p, (p.claims_date,))
    got = sorted({d.date() for d in df["as_of"]})
    assert got == [dt.date(2025, 11, 14), dt.date(2025, 11, 20), gspc.index[-1].date()]
    desk = scenarios.desk_table(df, pd.Timestamp("2025-11-20"))
    assert list(desk.index) == ["flat", "up_1sd", "down_1sd", "up_2sd", "down_2sd", "down_big"]
    assert "1w flow ($bn)" in desk.columns and "1m flow ($bn)" in desk.columns


# ----------------------------------------------------------------------------- replays and claims


def test_event_replays_and_summary(history):
    p = CTAParams()
    events = pd.DataFrame({"date": pd.to_datetime(EVENT_DATES)})
    rep = replay.event_replays(history, events, p)
    assert rep.groupby("event_date").size().eq(p.replay_pre + p.replay_post + 1).all()
    at = rep[rep["offset"] == 0]
    assert (at["date"] == at["event_date"]).all()
    ev = replay.event_levels(history, events, p, horizons=(1, 5, 20))
    assert len(ev) == len(EVENT_DATES) * (len(p.horizons) + 1)
    assert set(ev["status"]) <= {"held", "broke", "below", "n/a"}
    short = ev[ev["horizon"] == "short"].set_index("event_date")
    # 2025-11-20: the short-term signal turned short on 2025-11-18, two sessions before the event
    assert short.loc["2025-11-20", "status"] == "broke"
    assert short.loc["2025-11-20", "break_date"] == pd.Timestamp("2025-11-18")
    # level at the event is the one in force for its close (computed on the previous close)
    i = history.index.get_loc(pd.Timestamp("2025-11-20"))
    assert short.loc["2025-11-20", "level_at_event"] == history["level_short"].iloc[i - 1]
    summ = replay.event_summary(ev, p, horizons=(1, 5, 20))
    assert list(summ.columns) == replay.summary_columns((1, 5, 20))
    for _h, g in summ.groupby("horizon"):
        parts = g[g["status"] != "all"]
        assert (
            parts["n_events"].sum()
            == g.loc[g["status"] == "all", "n_events"].iloc[0]
            == len(EVENT_DATES)
        )
    # forward returns are taken from the events frame when it has them
    ev2 = replay.event_levels(history, events.assign(fwd_5d=0.123), p, horizons=(1, 5, 20))
    assert (ev2["fwd_5d"] == 0.123).all()


def test_claims_table(gspc, history):
    p = CTAParams()
    sc = scenarios.scenarios_for_dates(gspc["close"], p, (p.claims_date,))
    tab = claims.claims_table(history, sc, p)
    assert list(tab.columns) == claims.CLAIM_COLUMNS
    assert list(tab["claim_id"]) == [c.claim_id for c in claims.NOTES_CLAIMS]
    assert tab["replica_value"].notna().all() and tab["why_differ"].str.len().gt(40).all()
    row = tab.set_index("claim_id")
    assert row.loc["short_term_level", "replica_value"] == history.loc["2025-11-14", "level_short"]
    assert row.loc["notional", "replica_value"] == pytest.approx(
        history.loc["2025-11-14", "notional_usd"]
    )
    # every replica value lies in its own low-high range (the range measures the same quantity)
    for cid, r in row.iterrows():
        assert r["replica_low"] <= r["replica_value"] <= r["replica_high"], cid
    # the initial-selling range is the cumulative change since the break, not daily flows
    path = claims.selling_path(history, p, p.claims_window_start, p.claims_window_end)
    assert row.loc["initial_selling", "replica_low"] == pytest.approx(path.min())
    # USD claims: the implied capacity reproduces the notes' number exactly (flows are linear in capacity)
    for cid in ("notional", "down_big_1w"):
        r = row.loc[cid]
        assert r["replica_value"] * r["implied_capacity_usd"] / p.capacity_usd == pytest.approx(
            r["notes_value"]
        )


def test_params_validation():
    assert CTAParams().validate() == CTAParams()
    with pytest.raises(ConfigError, match="cta.rule"):
        CTAParams(rule="macd").validate()  # type: ignore[arg-type]
    # two lookbacks are named h1, h2; the three default weights do not match them
    with pytest.raises(ConfigError, match=r"cta\.weights.*one weight per lookback"):
        CTAParams(lookbacks=(21, 63)).validate()
    with pytest.raises(ConfigError, match="cta.vol_target"):
        CTAParams(vol_target=15).validate()
    with pytest.raises(ConfigError, match="cta.capacity_usd"):
        CTAParams(capacity_usd=0).validate()


def test_bad_prices_raise():
    with pytest.raises(ValueError, match="finite"):
        signals.model_arrays(np.array([100.0, np.nan, 101.0]), CTAParams())
