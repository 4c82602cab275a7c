"""The probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey,
Borwein, López de Prado and Zhu, "The Probability of Backtest Overfitting", Journal of
Computational Finance 20(4), 2017).

The T x N matrix of per-session results of N trials (grid points, parameter choices) is cut into
S contiguous blocks of (nearly) equal length. For each of the C(S, S/2) ways to pick half the
blocks as in-sample (the rest out of sample), the trial with the best in-sample objective is
chosen and its out-of-sample objective ranked among all N trials: relative rank w = rank / (N + 1)
(ranks 1..N ascending, ties averaged), logit l = ln(w / (1 - w)). PBO is the share of splits with
l <= 0: the in-sample choice does no better than the median trial out of sample.

Objectives that add up over sessions (a Sharpe ratio from count, sum and sum of squares; a
correlation from the five cross-moments) are computed from per-block sums, so every split costs
one matrix product instead of a pass over the data.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Objective = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PBO:
    """The probability of backtest overfitting and what it was computed from."""

    pbo: float
    logits: np.ndarray  # one per split: logit of the in-sample choice's out-of-sample rank
    chosen_oos: np.ndarray  # one per split: the in-sample choice's out-of-sample objective
    n_splits: int
    blocks: int
    n_trials: int


def block_bounds(n_rows: int, blocks: int) -> list[np.ndarray]:
    """Row positions of each of `blocks` contiguous blocks of near-equal length."""
    if blocks < 2 or blocks % 2:
        raise ValueError(f"CSCV needs an even number of blocks (at least 2), got {blocks}")
    if n_rows < 2 * blocks:
        raise ValueError(f"{n_rows} rows are too few for {blocks} blocks (at least 2 per block)")
    return np.array_split(np.arange(n_rows), blocks)


def sharpe_sums(returns: np.ndarray, blocks: int) -> np.ndarray:
    """Per-block (count, sum, sum of squares) of each column of a T x N return matrix (NaNs
    skipped): shape (blocks, N, 3)."""
    r = np.asarray(returns, float)
    ok = np.isfinite(r)
    x = np.where(ok, r, 0.0)
    parts = [
        np.stack([ok[b].sum(0), x[b].sum(0), (x[b] ** 2).sum(0)], -1)
        for b in block_bounds(len(r), blocks)
    ]
    return np.stack(parts)


def sharpe_from_sums(s: np.ndarray) -> np.ndarray:
    """Sharpe ratio (mean / sample standard deviation, per period) from (count, sum, sum sq)."""
    n, s1, s2 = s[..., 0], s[..., 1], s[..., 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = (s2 - n * mean**2) / (n - 1)
        return np.where(var > 0, mean / np.sqrt(var), np.nan)


def correlation_sums(x: np.ndarray, y: np.ndarray, blocks: int) -> np.ndarray:
    """Per-block (n, sum x, sum y, sum x^2, sum y^2, sum xy) of each column of x (T x N) with
    the vector y (T), on the rows where both are finite: shape (blocks, N, 6)."""
    x = np.asarray(x, float)
    y = np.broadcast_to(np.asarray(y, float)[:, None], x.shape)
    ok = np.isfinite(x) & np.isfinite(y)
    a, b = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    parts = [
        np.stack([ok[i].sum(0), a[i].sum(0), b[i].sum(0), (a[i] ** 2).sum(0), (b[i] ** 2).sum(0),
                  (a[i] * b[i]).sum(0)], -1)
        for i in block_bounds(len(x), blocks)
    ]  # fmt: skip
    return np.stack(parts)


def correlation_from_sums(s: np.ndarray) -> np.ndarray:
    """Pearson correlation from (n, sum x, sum y, sum x^2, sum y^2, sum xy)."""
    n, sx, sy, sxx, syy, sxy = (s[..., i] for i in range(6))
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n
        vx, vy = sxx - sx**2 / n, syy - sy**2 / n
        return np.where((vx > 0) & (vy > 0), cov / np.sqrt(vx * vy), np.nan)


def splits(blocks: int) -> np.ndarray:
    """Every choice of half the blocks as in-sample, as a 0/1 matrix (C(S, S/2) x S)."""
    combos = list(itertools.combinations(range(blocks), blocks // 2))
    out = np.zeros((len(combos), blocks))
    for i, c in enumerate(combos):
        out[i, list(c)] = 1.0
    return out


def pbo(block_sums: np.ndarray, objective: Objective) -> PBO:
    """PBO and the logits of every split, from per-block sums (blocks, N, k) and the objective
    that turns summed statistics (..., N, k) into values (..., N) (higher is better)."""
    s, n, k = block_sums.shape
    if n < 2:
        raise ValueError(f"PBO needs at least 2 trials, got {n}")
    flat = block_sums.reshape(s, n * k)
    pick = splits(s)
    ins = (pick @ flat).reshape(-1, n, k)
    oos = flat.sum(0).reshape(1, n, k) - ins
    f_in = np.nan_to_num(objective(ins), nan=-np.inf)
    f_out = np.nan_to_num(objective(oos), nan=-np.inf)
    best = np.argmax(f_in, axis=1)
    chosen = f_out[np.arange(len(best)), best][:, None]
    # the chosen trial's rank among the N out of sample, ties sharing their average rank
    rank = (f_out < chosen).sum(1) + ((f_out == chosen).sum(1) + 1) / 2
    w = rank / (n + 1)
    logits = np.log(w / (1 - w))
    return PBO(
        pbo=float(np.mean(logits <= 0)),
        logits=logits,
        chosen_oos=chosen[:, 0],
        n_splits=len(logits),
        blocks=s,
        n_trials=n,
    )
