"""The CTA step's fast paths reproduce the plain computations bit for bit (the model continued
from its memory for scenarios, the bisection's arithmetic updates), and the no-look-ahead check
still fails on look-ahead models."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import scenario_daily

from eventlab.cta import levels, replay, scenarios, signals
from eventlab.data.snapshot import read_series
from eventlab.settings.cta import CTAParams


@pytest.fixture(scope="module")
def gspc() -> pd.DataFrame:
    return read_series("GSPC")


def _walk(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, n)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule=st.sampled_from(["momentum", "sma", "ewmac"]),
    lookbacks=st.lists(st.integers(8, 60), min_size=1, max_size=3),
    vol_span=st.integers(2, 60),
    vol_min_periods=st.integers(1, 40),
    offset=st.integers(1, 250),
    seed=st.integers(0, 10_000),
)
def test_model_continued_from_memory_is_the_full_run(
    rule, lookbacks, vol_span, vol_min_periods, offset, seed
):
    """Rows of a run on close[offset:] started from `memory_at(offset)` whose lookback lies in the
    slice equal the full-history run exactly (not approximately): the scenarios rely on it."""
    assume(vol_min_periods <= 10 * vol_span)  # CTAParams refuses more (vol_min_periods' rule)
    p = CTAParams(
        rule=rule,
        horizons=tuple(f"h{i}" for i in range(len(lookbacks))),
        lookbacks=tuple(lookbacks),
        weights=(1.0,) * len(lookbacks),
        vol_span=vol_span,
        vol_min_periods=vol_min_periods,
    )
    close = _walk(400, seed)
    full = signals.model_arrays(close, p, percentile=False)
    memory = signals.memory_at(close, p, offset)
    part = signals.model_arrays(close[offset:], p, percentile=False, memory=memory)
    for key, value in part.items():
        # flow_usd is a difference with the row before: exact from the row after
        rows = slice(p.max_lookback + (key == "flow_usd"), None)
        np.testing.assert_array_equal(value[rows], full[key][offset:][rows], err_msg=key)
    assert np.isfinite(part["position"][p.max_lookback :]).any()


def test_memory_run_refuses_a_percentile():
    close = _walk(300, 1)
    memory = signals.memory_at(close, CTAParams(), 10)
    with pytest.raises(ValueError, match="percentile"):
        signals.model_arrays(close[10:], CTAParams(), memory=memory)


@pytest.mark.parametrize("rule", ["momentum", "sma", "ewmac"])
def test_scenarios_equal_full_reruns(gspc, rule):
    """Each scenario path run from memory equals the model rerun on the whole history + path."""
    p = CTAParams(rule=rule)
    close = gspc["close"]
    daily = scenario_daily(close, p, "2025-11-20")
    hist = close.loc[:"2025-11-20"].to_numpy()
    i0 = len(hist) - 1
    sigma = float(signals.daily_vol(hist, p)[-1])
    for (window, name), g in daily.groupby(["window", "scenario"], sort=False):
        days = dict(p.scenario_windows)[window]
        m = dict(scenarios.scenario_specs(p))[name]
        path = scenarios.scenario_path(hist[-1], sigma, m, days)
        arr = signals.model_arrays(np.concatenate([hist, path]), p, percentile=False)
        sl = slice(i0, i0 + days + 1)
        np.testing.assert_array_equal(g["position"].to_numpy(), arr["position"][sl])
        np.testing.assert_array_equal(g["notional_usd"].to_numpy(), arr["notional_usd"][sl])
        np.testing.assert_array_equal(g["flow_usd"].to_numpy()[1:], arr["flow_usd"][sl][1:])
        np.testing.assert_array_equal(g["close"].to_numpy()[1:], path)
    table = scenarios.scenario_table(close, p, "2025-11-20")
    for _, row in table.iterrows():
        g = daily[(daily["window"] == row["window"]) & (daily["scenario"] == row["scenario"])]
        assert row["flow_usd"] == g["flow_usd"].iloc[1:].sum()
        assert row["position_end"] == g["position"].iloc[-1]


def test_scenarios_near_the_start_run_the_whole_history(gspc):
    """An as-of date too early for a memory (within max_lookback + 2 closes) reruns everything."""
    p = CTAParams(lookbacks=(5, 10, 20), vol_min_periods=3)
    close = gspc["close"].iloc[:40]
    table = scenarios.scenario_table(close, p, close.index[21])
    assert table["position_end"].notna().all()


# ----------------------------------------------------------------------------- the check still bites


def _stored(
    arrays: dict[str, np.ndarray], prices: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cta_signals, cta_levels)-shaped frames of a model's own output (the stored tables)."""
    frame = pd.DataFrame(arrays, index=prices.index)
    levels = frame.filter(like="level_")
    return frame.drop(columns=levels.columns), levels.assign(close=prices["close"].to_numpy())


def _shift_back(x: np.ndarray) -> np.ndarray:
    """x_{t+1} at t (the last value repeated): a one-session look-ahead."""
    return np.append(x[1:], x[-1])


def _full_sample_percentile(c, p):
    out = replay.history_arrays(c, p)
    pos = pd.Series(out["position"])
    out["percentile"] = pos.rank(method="max", pct=True).to_numpy() * 100.0
    return out


def _smoothed_centered(c, p):
    out = replay.history_arrays(c, p)
    out["position"] = (
        pd.Series(out["position"]).rolling(3, center=True, min_periods=1).mean().to_numpy()
    )
    return out


def _level_from_tomorrow(c, p):
    out = replay.history_arrays(c, p)
    out["level_aggregate"] = _shift_back(out["level_aggregate"])
    return out


def _vol_of_whole_sample(c, p):
    out = replay.history_arrays(c, p)
    vol = float(np.std(np.diff(np.log(c))))
    out["notional_usd"] = out["notional_usd"] * (0.01 / vol)
    return out


LOOKAHEAD_MODELS = {
    "tomorrow's close": lambda c, p: replay.history_arrays(_shift_back(c), p),
    "percentile against the whole sample": _full_sample_percentile,
    "centered smoothing of the position": _smoothed_centered,
    "aggregate level from the next session": _level_from_tomorrow,
    "sizing by whole-sample volatility": _vol_of_whole_sample,
}


@pytest.mark.parametrize("fault", list(LOOKAHEAD_MODELS))
def test_no_lookahead_check_fails_on_lookahead_models(gspc, fault):
    """Each deliberately look-ahead model fails the check (its stored tables are its own output,
    so only the truncation and shifted-future comparisons can catch it); the real model passes."""
    from eventlab.cta.checks import no_lookahead

    px = gspc.iloc[-3000:]
    p = CTAParams()
    close = px["close"].to_numpy()
    model = LOOKAHEAD_MODELS[fault]
    bad = no_lookahead(*_stored(model(close, p), px), px, p, model=model)
    assert bad["passed"] is False and bad["metadata"]["stored_matches_recomputed"], fault
    good = no_lookahead(*_stored(replay.history_arrays(close, p), px), px, p)
    assert good["passed"] is True and good["metadata"]["max_relative_difference"] < 1e-12


def test_no_lookahead_check_fails_when_stored_tables_differ(gspc):
    from eventlab.cta.checks import no_lookahead

    px = gspc.iloc[-3000:]
    p = CTAParams()
    arrays = replay.history_arrays(px["close"].to_numpy(), p)
    arrays["level_short"] = arrays["level_short"] * (1 + 1e-9)
    res = no_lookahead(*_stored(arrays, px), px, p)
    assert res["passed"] is False and not res["metadata"]["stored_matches_recomputed"]


# ----------------------------------------------------------------------------- bisection


def _bisect_by_where(close, lvls, sigma, p: CTAParams) -> np.ndarray:
    """The aggregate-level bisection with np.where updates (the form before the arithmetic one)."""
    ok = np.isfinite(sigma) & np.all([np.isfinite(lv) for lv in lvls], axis=0)
    zs = [
        levels._z_of_log_price(p.rule, lb, lv[ok], sigma[ok])
        for lv, lb in zip(lvls, p.lookbacks, strict=True)
    ]

    def f(x):
        return sum(
            w * np.clip(z(x) / p.saturation_z, -1.0, 1.0)
            for z, w in zip(zs, p.norm_weights, strict=True)
        )

    lo, hi = np.log(close[ok]) - levels.BRACKET_LOG, np.log(close[ok]) + levels.BRACKET_LOG
    good = (f(lo) < -levels.ZERO_TOL) & (f(hi) > levels.ZERO_TOL)
    for _ in range(levels.BISECT_ITERS):
        mid = 0.5 * (lo + hi)
        up = f(mid) < -levels.ZERO_TOL
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    out = np.full(close.shape, np.nan)
    out[ok] = np.where(good, np.exp(0.5 * (lo + hi)), np.nan)
    return out


@pytest.mark.parametrize("rule", ["momentum", "sma", "ewmac"])
@pytest.mark.parametrize("seed", [0, 1])
def test_bisection_updates_equal_np_where(rule, seed):
    """The arithmetic lo/hi updates pick exactly what np.where would, so every level is the same."""
    p = CTAParams(rule=rule, weights=(0.5, 0.3, 0.2), saturation_z=1.0 + seed)
    close = _walk(3000, seed)
    lv = levels.level_arrays(close, p)
    lvls = [lv[f"level_{h}"] for h in p.horizons]
    want = _bisect_by_where(close, lvls, lv["sigma_next"], p)
    np.testing.assert_array_equal(lv["level_aggregate"], want)
    assert np.isfinite(want).sum() > 2000
