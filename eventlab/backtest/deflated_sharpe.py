"""The deflated Sharpe ratio (Bailey and López de Prado, "The Deflated Sharpe Ratio: Correcting
for Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5),
2014): the probability that a strategy's true Sharpe ratio exceeds the highest Sharpe ratio that
`n_trials` skill-less trials would be expected to reach by luck.

All Sharpe ratios here are per period (per session), not annualised, as in the paper:
- expected maximum of N trials: SR0 = sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))),
  V the variance of the trials' Sharpe ratios, g the Euler-Mascheroni constant, Z the normal;
- DSR = Z((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2)), kurtosis not
  in excess (3 for normal returns). With one trial SR0 = 0 and the DSR is the probabilistic
  Sharpe ratio against zero.
"""

from __future__ import annotations

import numpy as np

# scipy.special's ndtr / ndtri are what scipy.stats.norm's cdf / ppf evaluate; importing
# scipy.stats costs the run ~0.9 s
from scipy.special import ndtr, ndtri


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """The expected maximum per-period Sharpe ratio of `n_trials` trials with no skill whose
    Sharpe ratios have variance `sharpe_variance` (0 for a single trial)."""
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    if n_trials == 1:
        return 0.0
    g = np.euler_gamma
    z = (1 - g) * ndtri(1 - 1 / n_trials) + g * ndtri(1 - 1 / (n_trials * np.e))
    return float(np.sqrt(sharpe_variance) * z)


def deflated_sharpe(
    sharpe: float,
    n_obs: int,
    skew: float,
    kurtosis: float,
    n_trials: int,
    sharpe_variance: float,
) -> tuple[float, float]:
    """(DSR, SR0) for a per-period Sharpe ratio `sharpe` measured on `n_obs` returns with the
    given skewness and (non-excess) kurtosis, selected among `n_trials` trials."""
    sr0 = expected_max_sharpe(n_trials, sharpe_variance)
    var = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if n_obs < 2 or not np.isfinite(sharpe) or var <= 0:
        return np.nan, sr0
    z = (sharpe - sr0) * np.sqrt(n_obs - 1) / np.sqrt(var)
    return float(ndtr(z)), sr0


def sharpe_moments(excess: np.ndarray) -> tuple[float, int, float, float]:
    """(per-period Sharpe ratio, observations, skewness, non-excess kurtosis) of excess returns
    (NaNs dropped; the Sharpe ratio's standard deviation with ddof 1, as in eventlab.backtest.metrics)."""
    x = np.asarray(excess, float)
    x = x[np.isfinite(x)]
    if x.size < 3 or np.std(x, ddof=1) == 0:
        return np.nan, int(x.size), np.nan, np.nan
    d = x - x.mean()
    m2 = np.mean(d**2)
    # population moments (scipy.stats' skew and kurtosis(fisher=False) defaults)
    return (
        float(np.mean(x) / np.std(x, ddof=1)),
        int(x.size),
        float(np.mean(d**3) / m2**1.5),
        float(np.mean(d**4) / m2**2),
    )
