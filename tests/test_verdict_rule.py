"""The verdict rule and its measured operating characteristics: every placebo statistic against
the one-arrangement computation it vectorises (brute force, hypothesis), the rule on
constructed cases, and its size and power on synthetic data (no effect / a known effect) against
the rate of "supported" over independent synthetic data sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlab.config import StudyParams
from eventlab.study import placebo_shifts as ps
from eventlab.study.evidence import VIX_MATCHED, verdicts
from eventlab.study.rule_error_rates import LineSample, error_rates, placebo_shifts
from eventlab.study.small_sample import circular_shift_p, decluster, shift_statistics
from eventlab.study.statistics import holm
from eventlab.study.verdict_rule import (
    INCONCLUSIVE,
    NO_EFFECT,
    SUPPORTED,
    TOO_FEW,
    VERDICT_LABELS,
    LineEvidence,
    classify,
    holm_rows,
)

PARAMS = StudyParams()


def _flags(n_all: int, positions: list[int]) -> np.ndarray:
    d = np.zeros(n_all, bool)
    d[positions] = True
    return d


def _vix_matched(y: np.ndarray, d: np.ndarray, quint: np.ndarray) -> float:
    """The VIX-matched difference as evidence.baseline_weights defines it, day by day."""
    w = np.zeros(len(y))
    for q in range(5):
        n_ev, days = int((d & (quint == q)).sum()), ~d & (quint == q)
        if n_ev and days.any():
            w[days] = n_ev / days.sum()
    return float(y[d].mean() - (w / w.sum()) @ y)


@settings(max_examples=40, deadline=None)
@given(
    n_all=st.integers(30, 120),
    seed=st.integers(0, 10_000),
    n_events=st.integers(2, 9),
    effect=st.floats(-0.05, 0.05),
)
def test_placebo_p_values_equal_circular_shift_p_on_each_arrangement(
    n_all: int, seed: int, n_events: int, effect: float
) -> None:
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(n_all) * 0.01
    # clustered events: some adjacent, so shifted sets share days with the placebo set
    first = rng.choice(n_all, n_events, replace=False)
    d = _flags(n_all, sorted({*first, *((first[:2] + 1) % n_all)}))
    shifts = np.arange(n_all)
    stat, _ = shift_statistics(y, d, method="fft")
    p_null = ps.shift_p_values(stat, shifts)
    p_effect = ps.p_with_effect(y, d, shifts, effect)
    for s in range(0, n_all, 7):
        moved = np.roll(d, s)
        assert p_null[s] == pytest.approx(circular_shift_p(y, moved), abs=1e-12)
        assert p_effect[s] == pytest.approx(circular_shift_p(y + effect * moved, moved), abs=1e-12)


def test_declustered_and_vix_matched_differences_for_every_shift() -> None:
    rng = np.random.default_rng(3)
    n_all = 400
    y = rng.standard_normal(n_all) * 0.01
    d = _flags(n_all, [20, 25, 31, 100, 230, 236, 300])
    _, starts = decluster(np.flatnonzero(d), 20)
    drop = d & ~np.isin(np.arange(n_all), starts)
    quint = rng.integers(-1, 5, n_all)
    dc = ps.declustered_differences(y, d, drop)
    vm = ps.vix_matched_differences(y, d, quint)
    for s in (0, 1, 57, 399):
        moved, gone = np.roll(d, s), np.roll(drop, s)
        kept = moved & ~gone
        base = ~moved
        assert dc[s] == pytest.approx(y[kept].mean() - y[base].mean(), rel=1e-10)
        assert vm[s] == pytest.approx(_vix_matched(y, moved, quint), rel=1e-10)


def test_holm_rows_is_holm_on_each_row_without_the_missing_tests() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, size=(50, 6))
    p[:, 4] = np.nan
    out = holm_rows(p)
    for row, adj in zip(p, out, strict=True):
        keep = ~np.isnan(row)
        assert np.allclose(adj[keep], holm(row[keep]))
        assert np.isnan(adj[~keep]).all()


def _line(diff, p, dc=None, vm=None, effect=0.01) -> LineEvidence:
    """One line at one horizon, one set."""
    dc = diff if dc is None else dc
    vm = diff if vm is None else vm
    return LineEvidence(*(np.array([[x]]) for x in (diff, p, dc, vm)), np.array([effect]))


def _verdict(*lines: LineEvidence, power: float = 0.9, p_adj=None) -> str:
    code = classify(list(lines), 0.05, np.array([power]), 0.8, p_adj)
    return VERDICT_LABELS[int(code[0, 0])]


def test_the_rule_on_constructed_cases() -> None:
    # one line clears the bar after Holm across the two lines, the other agrees
    assert _verdict(_line(0.03, 0.001), _line(0.01, 0.5)) == SUPPORTED
    # the same with the other series pointing the other way: inconclusive, never supported
    assert _verdict(_line(0.03, 0.001), _line(-0.01, 0.5)) == INCONCLUSIVE
    # a robustness check that flips the sign stops the line clearing the bar
    assert _verdict(_line(0.03, 0.001, dc=-0.01), _line(0.01, 0.5)) == INCONCLUSIVE
    assert _verdict(_line(0.03, 0.001, vm=np.nan), _line(0.01, 0.5)) == INCONCLUSIVE
    # 0.03 clears 0.05 alone but not after Holm across two lines (0.06)
    assert _verdict(_line(0.03, 0.03), _line(0.01, 0.5)) == INCONCLUSIVE
    # a line with too few events (p NaN) neither clears the bar nor conflicts
    assert _verdict(_line(0.03, 0.001), _line(-0.05, np.nan)) == SUPPORTED
    assert _verdict(_line(0.03, np.nan), _line(-0.05, np.nan)) == TOO_FEW
    # nothing clears the bar: power decides between "too few" and "no evidence"
    assert _verdict(_line(0.001, 0.6), _line(-0.002, 0.7), power=0.5) == TOO_FEW
    assert _verdict(_line(0.001, 0.6), _line(-0.002, 0.7), power=np.nan) == TOO_FEW
    assert _verdict(_line(0.001, 0.6), _line(-0.002, 0.7), power=0.9) == NO_EFFECT
    # adequate power but an estimate beyond half the stated effect: inconclusive
    assert _verdict(_line(0.008, 0.3), _line(0.002, 0.7), power=0.9) == INCONCLUSIVE
    # a family-adjusted p from a wider family replaces the study's own adjustment
    wide = np.array([[[0.2], [1.0]]])
    assert _verdict(_line(0.03, 0.001), _line(0.01, 0.5), p_adj=wide) == INCONCLUSIVE
    # a negative effect is judged the same way
    assert _verdict(_line(-0.03, 0.001), _line(-0.01, 0.5)) == SUPPORTED


DATES = {
    "main": "2018-12-11;2020-04-07;2025-11-20",
    "SPY_own_opens": "1999-01-04;2018-12-11;2020-04-07;2021-05-05",
}


def _stats_rows(variant: str, index: str, diff: float, p: float, n: int) -> list[dict]:
    return [
        {
            "variant": variant,
            "index": index,
            "event_dates": DATES.get(variant, ""),
            "sample_start": "2008-03-24" if index == "GSPC" else "1995-03-29",
            "horizon": k,
            "n_events_with_horizon": n,
            "diff_mean": diff,
            "perm_p": p,
            "baseline_std": 0.02,
        }
        for k in PARAMS.horizons
    ]


def test_verdicts_from_the_published_tables_and_a_supplied_family_p() -> None:
    stats = pd.DataFrame(
        _stats_rows("main", "GSPC", 0.03, 0.001, 8)
        + _stats_rows("main_declustered", "GSPC", 0.02, 0.01, 7)
        + _stats_rows("SPY_own_opens", "SPY", 0.01, 0.4, 40)
        + _stats_rows("SPY_own_opens_declustered", "SPY", 0.01, 0.4, 35)
    )
    baselines = pd.DataFrame(
        [
            {"variant": v, "baseline": VIX_MATCHED, "horizon": k, "diff_mean": 0.01}
            for v in ("main", "SPY_own_opens")
            for k in PARAMS.horizons
        ]
    )
    operating = pd.DataFrame(
        {"horizon": PARAMS.horizons, "size": 0.01, "size_any_horizon": 0.03, "power": 0.5}
    )
    out = verdicts(stats, baselines, PARAMS, operating)
    assert (out["verdict"] == SUPPORTED).all()
    assert out["main_p_family"].tolist() == pytest.approx([0.006] * 3)  # Holm over 6 tests
    assert (out["size"] == 0.01).all() and (out["power"] == 0.5).all()
    assert "size 1.0%" in out["rule"].iloc[0] and "power 50.0%" in out["rule"].iloc[0]
    # what the longer series adds, from the event dates both tables list
    assert "2 of GSPC's 3 event days are SPY event days too" in out["reason"].iloc[0]
    assert (
        "SPY's other 2 days (1 before GSPC's sample starts) are what it adds"
        in (out["reason"].iloc[0])
    )
    assert out["stated_effect"].tolist() == pytest.approx([0.01] * 3)  # half of 0.02
    # a wider family's adjusted p (larger) turns the verdict: too few events (power 50%)
    family = {("main", k): 0.2 for k in PARAMS.horizons}
    wide = verdicts(stats, baselines, PARAMS, operating, family_p=family)
    assert (wide["verdict"] == TOO_FEW).all()
    assert wide["main_p_family"].tolist() == pytest.approx([0.2] * 3)
    # a smaller supplied p never loosens the study's own adjustment
    tiny = {("main", k): 1e-9 for k in PARAMS.horizons}
    assert verdicts(stats, baselines, PARAMS, operating, family_p=tiny)[
        "main_p_family"
    ].tolist() == pytest.approx([0.006] * 3)


# Synthetic market: daily returns with volatility regimes, k-day forward sums as the forward
# returns; a "VIX" proxy is the regime's volatility. Events are placed in clusters.
def _synthetic_line(rng: np.random.Generator, n_all: int, n_clusters: int) -> dict:
    vol = np.repeat(rng.choice([0.006, 0.01, 0.02], size=n_all // 50 + 1), 50)[:n_all]
    r = rng.standard_normal(n_all + 25) * np.r_[vol, np.full(25, 0.01)]
    starts = rng.choice(np.arange(30, n_all - 30), n_clusters, replace=False)
    events = np.unique(np.r_[starts, starts[: n_clusters // 2] + 3])
    d = _flags(n_all, list(events))
    ys = {k: np.convolve(r, np.ones(k), "valid")[1 : n_all + 1] for k in PARAMS.horizons}
    _, first = decluster(events, PARAMS.decluster_cooldown)
    drop = d & ~np.isin(np.arange(n_all), first)
    quint = np.searchsorted(np.quantile(vol, [0.2, 0.4, 0.6, 0.8]), vol, side="right")
    return {"ys": ys, "d": d, "drop": drop, "quint": quint}


def _with_effect(line: dict, effect_sd: float) -> dict:
    """The line with effect_sd standard deviations of its non-event returns added to its events."""
    d = line["d"]
    ys = {k: y + effect_sd * np.std(y[~d], ddof=1) * d for k, y in line["ys"].items()}
    return {**line, "ys": ys}


def _direct_verdict(lines: list[dict]) -> np.ndarray:
    """Whether the rule says supported at each horizon, computed one arrangement at a time with
    the study's own functions (circular_shift_p, a direct declustered and VIX-matched
    difference), not the placebo simulation's vectorised ones."""
    evidence = []
    for line in lines:
        d, drop, quint = line["d"], line["drop"], line["quint"]
        cols = {"diff": [], "p": [], "dc": [], "vm": []}
        for k in PARAMS.horizons:
            y = line["ys"][k]
            cols["diff"].append(y[d].mean() - y[~d].mean())
            cols["p"].append(circular_shift_p(y, d))
            cols["dc"].append(y[d & ~drop].mean() - y[~d].mean())
            cols["vm"].append(_vix_matched(y, d, quint))
        evidence.append(
            LineEvidence(
                *(np.array([cols[c]]) for c in ("diff", "p", "dc", "vm")),
                np.full(len(PARAMS.horizons), np.nan),
            )
        )
    unknown = np.full(len(PARAMS.horizons), np.nan)
    return classify(evidence, PARAMS.verdict_alpha, unknown, 0.8)[0] == 0


def _samples(lines: list[dict]) -> list[list[LineSample]]:
    return [
        [LineSample(x["ys"][k], x["d"], x["drop"], x["quint"]) for k in PARAMS.horizons]
        for x in lines
    ]


def _data_sets(seed: int, count: int, effect_sd: float = 0.0) -> list[list[dict]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        lines = [_synthetic_line(rng, 900, 6), _synthetic_line(rng, 1800, 20)]
        out.append([_with_effect(x, effect_sd) for x in lines] if effect_sd else lines)
    return out


def _mc_se(rate: float, n: int) -> float:
    return float(np.sqrt(max(rate * (1 - rate), 0.01 * 0.99) / n))


def test_size_on_synthetic_data_with_no_effect_matches_the_stated_rate() -> None:
    """Over independent data sets with no effect the rule says "supported" at the rate the
    placebo simulation states (within Monte Carlo error), and at most at the 5% it promises."""
    params = PARAMS.with_(verdict_placebo_sets=400)
    independent = np.array([_direct_verdict(x) for x in _data_sets(1, 300)])
    observed = float(independent.any(axis=1).mean())
    stated = float(
        np.mean(
            [
                error_rates(_samples(x), ["a", "b"], params)["size_any_horizon"].iloc[0]
                for x in _data_sets(2, 6)
            ]
        )
    )
    se = np.hypot(_mc_se(observed, 300), _mc_se(stated, 6 * 400))
    assert abs(observed - stated) <= 3 * se, (observed, stated)
    assert observed <= 0.05 + 3 * _mc_se(0.05, 300)
    assert stated <= 0.05


def test_power_on_synthetic_data_with_a_known_effect_matches_the_stated_power() -> None:
    """With half a standard deviation added to every event's returns, the share of independent
    data sets the rule calls supported matches the power the placebo simulation states on other
    data sets from the same process; and power grows with the effect."""
    params = PARAMS.with_(verdict_placebo_sets=400)
    independent = np.array([_direct_verdict(x) for x in _data_sets(3, 200, 0.5)])
    observed = independent.mean(axis=0)
    stated = np.mean(
        [error_rates(_samples(x), ["a", "b"], params)["power"] for x in _data_sets(4, 6)], axis=0
    )
    for h in range(len(PARAMS.horizons)):
        se = np.hypot(_mc_se(observed[h], 200), _mc_se(stated[h], 6 * 400))
        # the stated power is for the data at hand, so data sets differ beyond Monte Carlo
        # error: allow some of that spread on top (measured up to ~0.08 between single data sets)
        assert abs(observed[h] - stated[h]) <= 3 * se + 0.05, (h, observed, stated)
    assert (observed > 0.2).all()
    base = _data_sets(5, 1)[0]
    weak, strong = (
        error_rates(_samples(base), ["a", "b"], params.with_(verdict_effect_sd=e))["power"]
        for e in (0.25, 1.0)
    )
    assert (strong.to_numpy() >= weak.to_numpy()).all() and strong.iloc[0] > weak.iloc[0]


def test_placebo_shifts_are_distinct_on_every_sample() -> None:
    offsets = placebo_shifts([900, 1800], 1000)
    assert len(offsets) == 899 and len(set(offsets.tolist())) == 899
    assert offsets.min() >= 1 and offsets.max() <= 899
    assert len(placebo_shifts([5000, 7000], 1000)) == 1000
