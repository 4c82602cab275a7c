"""The pure data functions behind the event-study charts (unit tier: no rendering, no Dagster).

Each `<chart>_data` is checked against an independent computation by hand (numpy, plain loops)
on a small constructed frame: per horizon the event median and hit rate, the baseline sample
(in-sample, non-event days only), every event's percentile in the baseline by brute force, the
median path, the genuine-open share and the mean-path band numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from eventlab.charts.event_charts import (
    baseline_sample,
    event_timeline_data,
    forward_distributions_data,
    forward_paths_data,
    percentile_in_baseline,
)
from eventlab.charts.mean_path import mean_path_data

HORIZONS = (1, 3)
N = 40


def frames():
    """40 business days; fwd_1d and fwd_3d from a fixed random walk (NaN at the tail); the first
    5 days out of sample; 4 events (one of them out of sample, one with fwd_3d missing)."""
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2024-01-01", periods=N)
    close = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, N)), index=idx)
    fr = pd.DataFrame({f"fwd_{k}d": close.shift(-k) / close - 1 for k in HORIZONS})
    fr["in_sample"] = np.arange(N) >= 5
    ev_pos = [2, 10, 20, 37]  # 2: out of sample; 37: fwd_3d is NaN
    fr["is_event"] = np.isin(np.arange(N), ev_pos)
    ev_dates = idx[ev_pos]
    # events given out of date order, to check the data functions sort where the chart needs it
    order = [2, 0, 3, 1]
    events = pd.DataFrame(
        {
            "date": ev_dates[order],
            "gap": np.array([0.011, 0.02, 0.013, 0.017])[order],
            "close_to_close": np.array([-0.002, -0.01, -0.004, -0.003])[order],
        }
    )
    for k in HORIZONS:
        events[f"fwd_{k}d"] = fr.loc[ev_dates[order], f"fwd_{k}d"].to_numpy()
    rows = []
    for p in ev_pos:
        for off in range(-2, 4):
            if 0 <= p + off < N:
                rows.append(
                    {
                        "event_date": idx[p],
                        "offset": off,
                        "ret": close.iloc[p + off] / close.iloc[p] - 1,
                    }
                )
    paths = pd.DataFrame(rows)
    oq = pd.DataFrame(
        {
            "coverage": np.linspace(0, 1, N),
            "open_genuine": (np.arange(N) % 3 == 0) & (np.arange(N) > 7),
        },
        index=idx,
    )
    return idx, fr, events, paths, oq


def by_hand_baseline(fr: pd.DataFrame, k: int) -> np.ndarray:
    vals = []
    for insample, is_event, v in zip(fr["in_sample"], fr["is_event"], fr[f"fwd_{k}d"], strict=True):
        if insample and not is_event and not math.isnan(v):
            vals.append(v * 100.0)
    return np.array(vals)


def test_baseline_sample_excludes_event_and_out_of_sample_days() -> None:
    idx, fr, _, _, _ = frames()
    for k in HORIZONS:
        base = baseline_sample(fr, k)
        np.testing.assert_allclose(base.to_numpy(), by_hand_baseline(fr, k))
        assert not set(base.index) & set(fr.index[fr["is_event"]])
        assert base.index.min() >= idx[5]


def test_percentile_in_baseline_by_brute_force() -> None:
    base = pd.Series([3.0, -1.0, 0.5, 0.5, 2.0])
    for v in (-2.0, -1.0, 0.5, 1.0, 3.0, 9.0):
        assert percentile_in_baseline(v, base) == pytest.approx(
            100.0 * sum(1 for b in base if b <= v) / len(base)
        )
    assert math.isnan(percentile_in_baseline(1.0, pd.Series(dtype=float)))


def test_forward_paths_data_matches_a_hand_computation() -> None:
    idx, fr, events, paths, _ = frames()
    d = forward_paths_data(events, paths, fr)
    assert d.horizons == HORIZONS
    assert (d.pre, d.post) == (2, 3)
    assert d.event_dates == sorted(events["date"])
    assert d.sample_span == (idx[5], idx[-1])
    assert d.numbers["n_events"] == 4
    for k in HORIZONS:
        ev = np.array([v * 100.0 for v in events[f"fwd_{k}d"] if not math.isnan(v)])
        base = by_hand_baseline(fr, k)
        got = d.numbers[f"T+{k}"]
        assert got["event_n"] == len(ev)
        assert got["event_median"] == pytest.approx(float(np.median(ev)))
        assert got["event_hit_rate"] == pytest.approx(float(np.sum(ev > 0)) / len(ev))
        assert got["baseline_n"] == len(base)
        assert got["baseline_median"] == pytest.approx(float(np.median(base)))
        np.testing.assert_allclose(d.baseline[k].to_numpy(), base)
    assert d.numbers["T+3"]["event_n"] == 3  # the event with fwd_3d missing drops out
    # median path: per offset, the median over the events that reach it
    for off in range(-2, 4):
        vals = paths.loc[paths["offset"] == off, "ret"].to_numpy() * 100.0
        assert d.median_path is not None
        assert d.median_path[off] == pytest.approx(float(np.median(vals)))
    assert d.numbers["median_path_t3"] == pytest.approx(
        float(np.median(paths.loc[paths["offset"] == 3, "ret"].to_numpy() * 100.0))
    )
    assert list(d.paths.index) == sorted(d.paths.index)


def test_forward_paths_data_without_events() -> None:
    _, fr, events, paths, _ = frames()
    d = forward_paths_data(events.iloc[:0], paths.iloc[:0], fr)
    assert d.median_path is None
    assert "median_path_t20" not in d.numbers
    assert (d.pre, d.post) == (5, 20)  # the default window when no path is there
    assert d.numbers["T+1"]["event_n"] == 0
    assert math.isnan(d.numbers["T+1"]["event_hit_rate"])


def test_forward_distributions_data_percentiles_by_brute_force() -> None:
    _, fr, events, _, _ = frames()
    d = forward_distributions_data(events, fr)
    assert d.n_events == 4
    for k in HORIZONS:
        base = by_hand_baseline(fr, k)
        got = d.numbers[f"T+{k}"]
        ev = sorted(
            (pd.Timestamp(t), v * 100.0)
            for t, v in zip(events["date"], events[f"fwd_{k}d"], strict=True)
            if not math.isnan(v)
        )
        assert list(got["percentiles"]) == [str(t.date()) for t, _ in ev]  # date order
        for t, v in ev:
            brute = 100.0 * sum(1 for b in base if b <= v) / len(base)
            assert got["percentiles"][str(t.date())] == pytest.approx(brute)
        assert got["mean_percentile"] == pytest.approx(
            float(np.mean(list(got["percentiles"].values())))
        )
        assert got["baseline_median"] == pytest.approx(float(np.median(base)))
        assert got["event_median"] == pytest.approx(float(np.median([v for _, v in ev])))
        lo, hi = d.ranges[k]
        vals = [v for _, v in ev]
        assert lo == pytest.approx(min(np.percentile(base, 0.5), *vals) - 0.3)
        assert hi == pytest.approx(max(np.percentile(base, 99.5), *vals) + 0.3)


def test_event_timeline_data_by_hand() -> None:
    idx, _, events, _, oq = frames()
    start = idx[4]
    d = event_timeline_data(events, oq, start=start)
    flags = [bool(f) for t, f in zip(oq.index, oq["open_genuine"], strict=True) if t >= start]
    assert d.share_usable == pytest.approx(sum(flags) / len(flags))
    first = next(t for t, f in zip(oq.index, oq["open_genuine"], strict=True) if t >= start and f)
    assert d.first_usable == first
    kept = sorted(pd.Timestamp(t) for t in events["date"] if pd.Timestamp(t) >= start)
    assert list(d.events["date"]) == kept
    assert d.numbers == {
        "n_events": len(kept),
        "share_usable": d.share_usable,
        "first_usable": str(first.date()),
    }
    gap = dict(zip(pd.to_datetime(events["date"]), events["gap"], strict=True))
    np.testing.assert_allclose(d.gap_pct.to_numpy(), [gap[t] * 100.0 for t in kept])
    none = event_timeline_data(events, oq.assign(open_genuine=False), start=start)
    assert none.first_usable is None and none.share_usable == 0.0
    assert none.numbers["first_usable"] is None


def test_mean_path_data_by_hand() -> None:
    _, _, _, paths, _ = frames()
    d = mean_path_data(paths)
    band = d.band.set_index("offset")
    for off in range(-2, 4):
        vals = paths.loc[paths["offset"] == off, "ret"].to_numpy()
        assert band.loc[off, "n"] == len(vals)
        assert band.loc[off, "mean"] == pytest.approx(float(np.mean(vals)))
    last = paths.loc[paths["offset"] == 3, "ret"].to_numpy()
    assert d.numbers == {
        "n_events": 4,
        "t_last": 3,
        "mean_last": pytest.approx(float(np.mean(last))),
        "n_last": len(last),
    }
    assert (d.n_max, d.n_min) == (4, 3)  # the event at day 37 has no t+3
    assert d.paths is not None and d.paths.shape == (6, 4)
    empty = mean_path_data(paths.iloc[:0])
    assert empty.paths is None and empty.numbers == {"n_events": 0}
    assert empty.data_span == "no events"
