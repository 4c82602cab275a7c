"""The event-study battery on the member panel (issue 22): each statistic against a hand
computation from its paper's formula on a small frame, the models against statsmodels, the
clustered errors against statsmodels' cluster covariances, point-in-time membership on
constructed intervals, and the placebo size on synthetic data with no effect."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from eventlab.universe import es_tests as et
from eventlab.universe.abnormal import Design, fit_events
from eventlab.universe.calendar_time import newey_west
from eventlab.universe.membership import member_matrix, member_rows, parse_intervals
from eventlab.universe.panel import Panel, near_events
from eventlab.universe.placebo import placebo_size


def synthetic_panel(n_dates=700, n_firms=30, seed=0, effect=0.0, events_per_firm=6) -> Panel:
    """Returns from a one-factor model (market beta 0.5..1.5) plus FF-like factors; events at
    random dates; `effect` added to each event's next session."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2001-01-01", periods=n_dates)
    ff = rng.normal(0, 0.01, (n_dates, 3))
    rf = np.full(n_dates, 0.0001)
    market = ff[:, 0] + rf
    beta = rng.uniform(0.5, 1.5, n_firms)
    ret = rf[:, None] + beta[None, :] * ff[:, :1] + rng.normal(0, 0.02, (n_dates, n_firms))
    event = np.zeros((n_dates, n_firms), bool)
    for j in range(n_firms):
        event[rng.choice(np.arange(300, n_dates - 30), events_per_firm, replace=False), j] = True
    t, j = np.nonzero(event)
    ret[t + 1, j] += effect
    return Panel(
        dates=dates,
        tickers=[f"T{j}" for j in range(n_firms)],
        sectors=["A" if j % 2 else "B" for j in range(n_firms)],
        ret=ret,
        in_sample=np.ones_like(event),
        event=event,
        market=market,
        ff3=np.column_stack([ff, rf]),
    )


DESIGN = Design(estimation_window=250, estimation_gap=11, min_obs=120, pre=5, post=20)


def test_market_model_matches_statsmodels_ols():
    panel = synthetic_panel()
    skip = near_events(panel.event, DESIGN.pre, DESIGN.post)
    t, j = np.array([400]), np.array([3])
    fit = fit_events("market_model", panel, t, j, skip, DESIGN)
    rows = 400 + DESIGN.est_offsets
    use = ~skip[rows, 3]
    y, x = panel.ret[rows[use], 3], sm.add_constant(panel.market[rows[use]])
    ols = sm.OLS(y, x).fit()
    assert fit.n_obs[0] == use.sum()
    assert fit.s2[0] == pytest.approx(ols.scale, rel=1e-10)
    evt = 400 + DESIGN.evt_offsets
    expected_ar = panel.ret[evt, 3] - ols.predict(sm.add_constant(panel.market[evt]))
    np.testing.assert_allclose(fit.ar[0], expected_ar, rtol=1e-9, atol=1e-12)
    # CAR variance: the forecast-error variance of the window's sum (Mikkelson-Partch)
    w = DESIGN.windows[2]  # [0,20]
    c = sm.add_constant(panel.market[400 + np.arange(w.first, w.last + 1)]).sum(0)
    var = ols.scale * (w.length + c @ np.linalg.inv(x.T @ x) @ c)
    assert fit.car_sd[w.label][0] == pytest.approx(math.sqrt(var), rel=1e-9)


def test_ff3_matches_statsmodels_and_short_windows_are_dropped():
    panel = synthetic_panel()
    skip = near_events(panel.event, DESIGN.pre, DESIGN.post)
    fit = fit_events("ff3", panel, np.array([450, 100]), np.array([5, 5]), skip, DESIGN)
    rows = 450 + DESIGN.est_offsets
    use = ~skip[rows, 5]
    ff = panel.ff3
    ols = sm.OLS(
        panel.ret[rows[use], 5] - ff[rows[use], 3], sm.add_constant(ff[rows[use], :3])
    ).fit()
    assert fit.s2[0] == pytest.approx(ols.scale, rel=1e-10)
    assert not fit.ok[1]  # 100 sessions in: fewer than 120 clean sessions before it
    assert np.isnan(fit.car["[0,20]"][1])


def test_near_events_brute_force():
    rng = np.random.default_rng(3)
    ev = rng.random((60, 4)) < 0.05
    got = near_events(ev, 2, 5)
    for t in range(60):
        for j in range(4):
            want = any(ev[s, j] and s - 2 <= t <= s + 5 for s in range(60))
            assert got[t, j] == want


def small_frame(seed=1, n=12):
    rng = np.random.default_rng(seed)
    car = rng.normal(0.01, 0.03, n)
    sd = rng.uniform(0.02, 0.04, n)
    dof = rng.integers(150, 249, n)
    return car, car / sd, dof


def test_cross_sectional_t_by_hand():
    # Brown and Warner (1985): t = mean / (s / sqrt(N)), Student t with N - 1 df
    car, _, _ = small_frame()
    n = len(car)
    mean = sum(car) / n
    s = math.sqrt(sum((c - mean) ** 2 for c in car) / (n - 1))
    t = mean / (s / math.sqrt(n))
    got = et.cross_sectional_t(car)
    assert got[0] == pytest.approx(t)
    assert got[1] == pytest.approx(2 * stats.t.sf(abs(t), n - 1))


def test_patell_z_by_hand():
    # Patell (1976): Z = sum SCAR_i / sqrt(sum (M_i - k)/(M_i - k - 2))
    _, scar, dof = small_frame()
    z = sum(scar) / math.sqrt(sum(d / (d - 2) for d in dof))
    assert et.patell_z(scar, dof)[0] == pytest.approx(z)


def test_bmp_and_kolari_pynnonen_by_hand():
    # BMP (1991): t = mean(SCAR) sqrt(N) / sd(SCAR); KP (2010) eq. 9: t sqrt((1-r)/(1+(N-1)r))
    _, scar, _ = small_frame()
    n = len(scar)
    m = sum(scar) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in scar) / (n - 1))
    t = m * math.sqrt(n) / sd
    assert et.bmp_t(scar)[0] == pytest.approx(t)
    r = 0.07
    assert et.kolari_pynnonen(scar, r)[0] == pytest.approx(
        t * math.sqrt((1 - r) / (1 + (n - 1) * r))
    )


def test_kp_correlation_is_the_average_pairwise_correlation_on_one_date():
    # KP's setting: every event on the same date and window; r-bar = mean pairwise correlation
    rng = np.random.default_rng(5)
    common = rng.normal(size=200)
    resid = 0.5 * common[None, :] + rng.normal(size=(6, 200))
    resid -= resid.mean(1, keepdims=True)
    rows = np.broadcast_to(np.arange(200), resid.shape)
    corr = np.corrcoef(resid)
    want = (corr.sum() - 6) / 30
    got = et.residual_correlation(resid, rows, np.arange(6), 200, 6)
    assert got == pytest.approx(want, rel=1e-10)
    t = np.full(6, 50)
    assert et.overlap_correlation(t, np.arange(6), 1, 20, got, 200, 6) == pytest.approx(got)


def test_corrado_rank_by_hand():
    # Corrado (1989), multi-day form (Campbell and Wasley 1993): U_it = rank / (M_i + 1),
    # T = sum_{t in W} (Ubar_t - 1/2) / (sqrt(L) * sqrt(mean_est (Ubar_t - 1/2)^2))
    rng = np.random.default_rng(2)
    est, ar = rng.normal(size=(5, 30)), rng.normal(0.3, 1, size=(5, 8))
    u = et.standardized_ranks(est, ar)
    hand = np.array([stats.rankdata(np.r_[est[i], ar[i]]) / 39 for i in range(5)])
    np.testing.assert_allclose(u, hand)
    ubar = hand.mean(0) - 0.5
    s = math.sqrt(sum(x * x for x in ubar[:30]) / 30)
    cols = np.arange(2, 6)
    z = sum(ubar[30 + cols]) / (math.sqrt(4) * s)
    assert et.corrado_rank(u, 30, cols)[0] == pytest.approx(z)


def test_generalized_sign_by_hand():
    # Cowan (1992): Z = (w - N p) / sqrt(N p (1 - p)), p the mean estimation-window share > 0
    rng = np.random.default_rng(4)
    est = rng.normal(0.05, 1, size=(9, 40))
    est[0, :5] = np.nan
    car = rng.normal(size=9)
    p = np.mean([np.mean(row[~np.isnan(row)] > 0) for row in est])
    w = sum(car > 0)
    z = (w - 9 * p) / math.sqrt(9 * p * (1 - p))
    assert et.generalized_sign(car, est)[0] == pytest.approx(z)


def test_two_way_clustering_matches_statsmodels():
    rng = np.random.default_rng(6)
    n = 400
    a, b = rng.integers(0, 25, n), rng.integers(0, 30, n)
    y = rng.normal(size=n) + 0.5 * rng.normal(size=25)[a] + 0.5 * rng.normal(size=30)[b]
    res = sm.OLS(y, np.ones(n)).fit(
        cov_type="cluster", cov_kwds={"groups": np.column_stack([a, b])}
    )
    got = et.clustered_two_way(y, a, b)
    assert got["se"] == pytest.approx(float(res.bse[0]), rel=1e-9)
    month = sm.OLS(y, np.ones(n)).fit(cov_type="cluster", cov_kwds={"groups": a})
    from eventlab.universe.pooled import clustered_mean

    assert clustered_mean(y, a)["se"] == pytest.approx(float(month.bse[0]), rel=1e-9)


def test_newey_west_matches_statsmodels_hac():
    rng = np.random.default_rng(7)
    x = sm.add_constant(rng.normal(size=(300, 2)))
    y = x @ [0.1, 0.5, -0.2] + np.convolve(rng.normal(size=305), np.ones(6) / 6, "valid")
    res = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": 5, "use_correction": False})
    beta, cov = newey_west(y, x, 5)
    np.testing.assert_allclose(beta, res.params, rtol=1e-10)
    np.testing.assert_allclose(cov, res.cov_params(), rtol=1e-8)


def test_point_in_time_on_constructed_intervals():
    iv = parse_intervals(pd.DataFrame({
        "ticker": ["AAA", "AAA", "BBB"],
        "start_date": ["2001-01-03", "2001-01-10", "2001-01-05"],
        "end_date": ["2001-01-04", "", "2001-01-05"],
    }))  # fmt: skip
    dates = pd.bdate_range("2001-01-01", "2001-01-12")
    m = member_matrix(iv, ["AAA", "BBB", "CCC"], dates)
    aaa = {d.day for d in dates[m[:, 0]]}
    assert aaa == {3, 4, 10, 11, 12}  # left on the 4th, rejoined on the 10th, still a member
    assert {d.day for d in dates[m[:, 1]]} == {5}
    assert not m[:, 2].any()  # never listed: never a member
    rows = member_rows(iv, np.array(["AAA", "BBB", "AAA"]), np.array(dates[[0, 4, 7]]))
    assert rows.tolist() == [False, True, True]


def test_bad_intervals_are_refused():
    from eventlab.data.frames import DataError

    bad = pd.DataFrame({"ticker": ["A"], "start_date": ["2001-02-01"], "end_date": ["2001-01-01"]})
    with pytest.raises(DataError, match="end before the start"):
        parse_intervals(bad)


def test_placebo_size_within_monte_carlo_error_on_null_data():
    panel = synthetic_panel(n_dates=800, n_firms=40, seed=11)
    design = Design(estimation_window=150, estimation_gap=11, min_obs=100, pre=5, post=5,
                    horizons=(1, 5))  # fmt: skip
    draws = 200
    size = placebo_size(panel, design, ("market_model",), draws, 40, np.random.default_rng(1))
    mc = math.sqrt(0.05 * 0.95 / draws)
    for test in ("cross_sectional_t", "bmp", "kolari_pynnonen", "pooled_month", "calendar_time"):
        rate = size.loc[(size["test"] == test) & (size["window"] == "[0,5]"), "rejection_rate"]
        assert abs(float(rate.iloc[0]) - 0.05) < 3 * mc, (test, float(rate.iloc[0]))


def test_a_real_effect_is_found():
    panel = synthetic_panel(effect=0.02, seed=3)
    skip = near_events(panel.event, DESIGN.pre, DESIGN.post)
    t, j = np.nonzero(panel.event)
    fit = fit_events("market_model", panel, t, j, skip, DESIGN)
    car = fit.car["[0,1]"][fit.ok]
    assert car.mean() == pytest.approx(0.02, abs=0.008)
    assert et.cross_sectional_t(car)[1] < 0.01
