"""Inference that fits a handful of events: intervals, exact tests and randomization that keeps
the events' spacing, declustering, and the sensitivity of the answer to each event.

With n ~ 8 events a normal-theory test on overlapping forward windows says little, and a
bootstrap of 8 values cannot see beyond them. Each function here states what it assumes; the
report shows them side by side so a reader sees how much the answer depends on the method.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft

# scipy.special's functions are what scipy.stats' binom.cdf and t.sf evaluate; importing
# scipy.stats itself would cost every run ~0.9 s of start-up (tests compare with scipy.stats)
from scipy import special

from eventlab.study.returns import mean_t_interval


def t_interval(x: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """Student-t confidence interval of the mean with n - 1 degrees of freedom."""
    _, _, low, high = mean_t_interval(x, 1 - alpha)
    return (low, high)


def median_interval(x: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float]:
    """Distribution-free CI of the median from order statistics: [x_(j), x_(n-j+1)] with the
    largest j whose binomial(n, 1/2) coverage is at least 1 - alpha; returns (low, high, coverage).
    Below n = 6 even [min, max] covers less than 95%: the achieved coverage says so."""
    n = len(x)
    if n == 0:
        return (np.nan, np.nan, np.nan)
    xs = np.sort(x)
    # P(B <= j - 1) for j = 1..n//2: the mass left outside [x_(j), x_(n-j+1)] on each side.
    tails = special.bdtr(np.arange(n // 2 + 1), n, 0.5)
    ok = np.flatnonzero(tails[: max(n // 2, 1)] <= alpha / 2)
    j = int(ok[-1]) + 1 if len(ok) else 1
    coverage = float(1 - 2 * special.bdtr(j - 1, n, 0.5))
    return (float(xs[j - 1]), float(xs[n - j]), coverage)


def binomial_pmf(n: int, p: float) -> np.ndarray:
    """P(B = k) for k = 0..n, B ~ binomial(n, p), from log-gamma (within 4e-12 relative of scipy.stats for n <= 2000)."""
    k = np.arange(n + 1)
    logc = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    return np.exp(logc + special.xlogy(k, p) + special.xlog1py(n - k, -p))


def binomial_p(hits: int, n: int, p0: float) -> float:
    """Exact two-sided binomial test of `hits` successes in `n` against the rate p0: the total
    probability of outcomes no more likely than the observed one, as scipy.stats.binomtest
    (same relative tolerance 1 + 1e-7), from one vectorized pmf instead of its search (~5 ms)."""
    if n == 0 or not (0 < p0 < 1):
        return np.nan
    pmf = binomial_pmf(n, p0)
    return float(min(1.0, pmf[pmf <= pmf[hits] * (1 + 1e-7)].sum()))


# Above this many events "auto" takes the FFT (the direct gather grows with days x events).
AUTO_FFT_EVENTS = 16


def circular_shift_p(y: np.ndarray, d: np.ndarray, *, method: str = "auto") -> float:
    """Randomization p of the event-minus-rest mean difference over every circular shift of the
    event dates along the sample (exact, no draws). A shift moves all events together, so their
    spacing, clustering and the overlap of their forward windows are kept, and so is the
    autocorrelation of the returns. The difference is studentized by the shifted events' own
    spread: events sit in volatile markets, and an unscaled difference would call any volatile
    stretch "extreme" whatever its sign. Two-sided; the observed arrangement counted once.

    method "direct" gathers every shift's event values (n_days x n_events); "fft" gets every
    shift's event sum and sum of squares at once as circular cross-correlations of the event
    flags with y and y**2 (O(n log n)): the same statistic to ~1e-13 relative, far below the
    comparison's 1e-12 tolerance (tests/test_small_sample.py checks both give the same p). The
    universe uses it (hundreds of events per ticker made the gather its largest cost). "auto"
    (the default) takes "direct" up to AUTO_FFT_EVENTS events and "fft" above."""
    n_all, n = len(y), int(np.count_nonzero(d))
    if n < 2 or n == n_all:
        return np.nan
    stat, _ = shift_statistics(y, d, method=method)
    extreme = stat[1:] >= stat[0] * (1 - 1e-12)
    return float((1 + extreme.sum()) / n_all)


def circular_correlation(d: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_i d[i] * x[..., (i + s) % n] for every shift s = 0..n-1 (`x` one row per day, or
    several rows), by FFT. The circle is computed as a linear correlation zero-padded to a fast
    FFT length >= 2n and folded back: the sample's own length is often a product of large
    primes (24,775 = 5 x 5 x 991), where an FFT is 10-60x slower than at a smooth length."""
    n = d.shape[-1]
    size = sp_fft.next_fast_len(2 * n, real=True)
    flags = np.conj(sp_fft.rfft(np.asarray(d, dtype=float), size))
    lin = sp_fft.irfft(flags * sp_fft.rfft(x, size, axis=-1), size, axis=-1)
    return lin[..., :n] + lin[..., size - n :]


def shift_statistics(
    y: np.ndarray, d: np.ndarray, *, method: str = "direct"
) -> tuple[np.ndarray, np.ndarray]:
    """circular_shift_p's statistic for every shift s = 0..n_days-1 (s = 0 is the observed
    arrangement): (|studentized difference|, event-minus-rest mean difference), each n_days long.
    Needs at least two events and one other day (circular_shift_p checks). `method` as in
    circular_shift_p."""
    n_all, pos = len(y), np.flatnonzero(d)
    n = len(pos)
    if method == "auto":
        method = "fft" if n > AUTO_FFT_EVENTS else "direct"
    total = float(y.sum())
    if method == "fft":
        ev_sum, ev_sq = circular_correlation(d, np.vstack([y, np.square(y)]))
        # The observed arrangement (shift 0) exactly, as the direct method computes it.
        ev_sum[0], ev_sq[0] = y[pos].sum(), np.square(y[pos]).sum()
    elif method == "direct":
        vals = y[(pos[None, :] + np.arange(n_all)[:, None]) % n_all]
        ev_sum, ev_sq = vals.sum(axis=1), np.square(vals).sum(axis=1)
    else:
        raise ValueError(
            f"circular_shift_p: unknown method {method!r}; use 'auto', 'direct' or 'fft'"
        )
    return shift_statistic(ev_sum, ev_sq, total, n, n_all)


def shift_statistic(
    ev_sum: np.ndarray, ev_sq: np.ndarray, total: float, n: int, n_all: int
) -> tuple[np.ndarray, np.ndarray]:
    """(|studentized difference|, event-minus-rest mean difference) of arrangements of `n`
    events among `n_all` days from the events' sums and sums of squares and the sample's total:
    circular_shift_p's statistic (zero where the events' spread is zero), shared with the
    verdict rule's placebo simulation so both rank arrangements the same way."""
    ev_var = np.maximum((ev_sq - ev_sum**2 / n) / (n - 1), 0.0)
    diff = ev_sum / n - (total - ev_sum) / (n_all - n)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.abs(diff) / np.sqrt(ev_var / n)
    return np.where(np.isnan(stat), 0.0, stat), diff


def decluster(positions: np.ndarray, cooldown: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge events into episodes: an event within `cooldown` sessions after the first event of
    the current episode joins it. Returns (episode number per event, positions of the events
    that start an episode); positions are row numbers in the price index (trading sessions)."""
    pos = np.sort(np.asarray(positions, dtype=np.int64))
    episode = np.empty(len(pos), dtype=np.int64)
    starts: list[int] = []
    for i, p in enumerate(pos):
        if not starts or p - starts[-1] > cooldown:
            starts.append(int(p))
        episode[i] = len(starts) - 1
    return episode, np.array(starts, dtype=np.int64)


def weighted_comparison(
    events: np.ndarray, baseline: np.ndarray, weights: np.ndarray
) -> dict[str, float]:
    """Events vs a weighted baseline (weights need not sum to one): weighted mean, median and hit
    rate of the baseline, the mean difference, a t-test with the events' n - 1 degrees of freedom
    (the events' variance dominates; the baseline's is that of a weighted mean of independent
    days) and an exact binomial test of the event hit rate against the baseline's."""
    w = weights / weights.sum()
    m_b = float(w @ baseline)
    order = np.argsort(baseline)
    cum = np.cumsum(w[order])
    med_b = float(baseline[order][np.searchsorted(cum, 0.5)])
    hit_b = float(w @ (baseline > 0))
    n = len(events)
    out = {
        "baseline_days": int((weights > 0).sum()),
        "baseline_mean": m_b,
        "baseline_median": med_b,
        "baseline_hit_rate": hit_b,
        "event_mean": float(np.mean(events)) if n else np.nan,
        "diff_mean": float(np.mean(events)) - m_b if n else np.nan,
        "t_p": np.nan,
        "binom_p": np.nan,
    }
    if n >= 2:
        var_b = float(w**2 @ (baseline - m_b) ** 2)
        se = np.sqrt(np.var(events, ddof=1) / n + var_b)
        if se > 0:
            out["t_p"] = float(2 * special.stdtr(n - 1, -abs(out["diff_mean"]) / se))
        out["binom_p"] = binomial_p(int((events > 0).sum()), n, hit_b)
    return out
