"""The specification curve: each specification against an independent plain computation, the
main definition against the study's own table, and the joint test's size and power on
synthetic prices with no effect and with a known one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from eventlab.config import CONFIG
from eventlab.study import spec_curve as sc
from eventlab.study.events import study_flags
from eventlab.study.small_sample import circular_shift_p
from eventlab.study.whole_study import run_study


def test_entry_returns_match_a_loop() -> None:
    rng = np.random.default_rng(3)
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, 60))
    opn = close * (1 + rng.normal(0, 0.003, 60))
    s = sc.Sample("X", opn, close, np.ones(60, bool))
    for k in (1, 5):
        nxt = sc.entry_returns(s, k, "next_open")
        cls = sc.entry_returns(s, k, "close")
        for t in range(60):
            want_next = close[t + k] / opn[t + 1] - 1 if t + k < 60 else np.nan
            want_close = close[t + k] / close[t] - 1 if t + k < 60 else np.nan
            np.testing.assert_allclose([nxt[t], cls[t]], [want_next, want_close], rtol=1e-14)


def _plain_spec(px: pd.DataFrame, params, row: pd.Series) -> tuple[int, float, float, tuple]:
    """One specification computed the plain way: pandas shifts, a loop for declustering, the
    direct (gather) circular-shift p and scipy's Welch interval."""
    p = params.with_(index=row["series"])
    genuine = study_flags(px, p)["open_genuine"]
    prev = px["close"].shift(1)
    in_sample = (px.index >= pd.Timestamp(p.start)) & prev.notna() & genuine
    red = px["close"] < (prev if row["close_rule"] == "prior_close" else px["open"])
    events = (px["open"] / prev - 1 > row["threshold"]) & red & in_sample
    sample = in_sample.copy()
    if row["declustered"]:
        last_start = None
        for i in np.flatnonzero(events.to_numpy()):
            if last_start is None or i - last_start > p.decluster_cooldown:
                last_start = i
            else:
                sample.iloc[i] = False  # a later event of an episode leaves the sample
    k = int(row["horizon"])
    start = px["close"] if row["entry"] == "close" else px["open"].shift(-1)
    fwd = px["close"].shift(-k) / start - 1
    ok = sample & fwd.notna()
    y, d = fwd[ok].to_numpy(), events[ok].to_numpy()
    ci = sps.ttest_ind(y[d], y[~d], equal_var=False).confidence_interval(0.95)
    return int(d.sum()), float(y[d].mean() - y[~d].mean()), circular_shift_p(y, d), tuple(ci)


@pytest.fixture(scope="module")
def curve(snapshot_prices):
    table, arrays = sc.specification_curve(snapshot_prices, CONFIG.study)
    return table, arrays


def test_each_specification_matches_a_plain_computation(curve, snapshot_prices) -> None:
    table, _ = curve
    assert len(table) == 7 * 2 * 2 * 2 * 2 * len(CONFIG.study.horizons)
    assert table["spec_id"].is_unique
    tested = table[table["tested"]]
    # every choice appears among the tested rows, and a sample of rows of each kind is checked
    picks = tested.groupby(["series", "declustered", "entry", "close_rule"]).sample(
        1, random_state=0
    )
    for _, row in picks.iterrows():
        n, est, p, (low, high) = _plain_spec(snapshot_prices[row["series"]], CONFIG.study, row)
        assert row["n_events"] == n, row["spec_id"]
        np.testing.assert_allclose(row["estimate"], est, rtol=1e-10, err_msg=row["spec_id"])
        np.testing.assert_allclose(row["p"], p, rtol=1e-9, err_msg=row["spec_id"])
        np.testing.assert_allclose([row["ci_low"], row["ci_high"]], [low, high], rtol=1e-8)
    untested = table[~table["tested"]]
    assert (untested["n_events"] < CONFIG.study.min_events_for_inference).all()
    assert untested["p"].isna().all()


def test_the_main_definition_is_the_studys_own_answer(curve, snapshot_prices) -> None:
    table, _ = curve
    study = run_study(snapshot_prices, CONFIG.study).stats
    main = study[study["variant"] == "main"].set_index("horizon")
    p = CONFIG.study
    for k in p.horizons:
        row = table.set_index("spec_id").loc[
            sc.spec_id(p.index, p.gap_threshold, p.close_rule, False, "close", k)
        ]
        assert row["n_events"] == main.loc[k, "n_events_with_horizon"]
        np.testing.assert_allclose(row["estimate"], main.loc[k, "diff_mean"], rtol=1e-12)
        np.testing.assert_allclose(row["p"], main.loc[k, "perm_p"], rtol=1e-12)


def test_a_placebo_shift_of_zero_is_the_observed_p(curve) -> None:
    table, arrays = curve
    tested = table[table["tested"]]
    for j in range(0, len(arrays.stats), 37):
        got = sc.placebo_pvalues(arrays.stats[j], np.array([0]))[0]
        np.testing.assert_allclose(got, tested["p"].iloc[j], rtol=1e-12)


def _synthetic(n: int, effect: float, seed: int) -> dict[str, pd.DataFrame]:
    """Two synthetic series of daily bars (genuine opens, 1% daily moves); with `effect`, the
    session after every gap-up-close-red day of the first series gains that much."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2000-01-03", periods=n)
    out = {}
    for name in ("A", "B"):
        ret = rng.normal(0, 0.01, n)
        gap = rng.normal(0, 0.006, n)
        close = np.empty(n)
        opn = np.empty(n)
        close[0] = opn[0] = 100.0
        for t in range(1, n):
            opn[t] = close[t - 1] * (1 + gap[t])
            close[t] = close[t - 1] * (1 + ret[t])
            is_event = gap[t - 1] > 0.005 and ret[t - 1] < 0
            if effect and is_event:
                close[t] = close[t - 1] * (1 + abs(ret[t]) + effect)
        hi, lo = np.maximum(opn, close) * 1.002, np.minimum(opn, close) * 0.998
        out[name] = pd.DataFrame(
            {"open": opn, "high": hi, "low": lo, "close": close, "volume": 1e6}, index=idx
        )
    return out


def _joint(prices: dict[str, pd.DataFrame]) -> pd.DataFrame:
    params = CONFIG.study.with_(
        index="A", robustness_index="B", start=pd.Timestamp("2000-01-01").date()
    )
    table, arrays = sc.specification_curve(prices, params)
    return sc.joint_test(table, arrays, params.verdict_alpha).set_index("statistic")


def test_joint_test_no_effect_is_not_significant_and_its_null_share_is_alpha() -> None:
    joint = _joint(_synthetic(2500, 0.0, seed=11))
    share = joint.loc["share_significant"]
    # each specification's placebo p is uniform over its shifts: about alpha are below alpha
    assert share["null_mean"] == pytest.approx(0.05, abs=0.01)
    assert share["p_value"] > 0.05
    assert share["specs_defined"] == 7 * 2 * 2 * 2 * 2 * 3


def test_joint_test_finds_a_known_effect() -> None:
    joint = _joint(_synthetic(2500, 0.01, seed=11))
    share = joint.loc["share_significant"]
    assert share["observed"] > 0.3
    assert share["p_value"] < 0.01
    assert joint.loc["median_estimate", "observed"] > 0
