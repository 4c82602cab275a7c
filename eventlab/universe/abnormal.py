"""Normal-return models and abnormal returns of events on the member panel (MacKinlay 1997).

Event time: day 0 is the event day (the gap-up / close-red session), day s its s-th session
after. A window [a, b] with a >= 0 is measured from the event's close, like the study's T+k: it
cumulates the abnormal returns of sessions 1..b (so [0, 20] is T+20); the pre-event window
[-5, -1] cumulates sessions -5..-1.

Models (y: what is explained, X: the regressors, fitted over the estimation window):
- market_adjusted: AR = r - m, with m SPY's total return (no parameters; its variance is the
  estimation-window variance of r - m).
- market_model: r = alpha + beta m + e, OLS.
- ff3: r - rf = a + b (Mkt-RF) + s SMB + h HML + e, OLS (Fama and French 1993; daily factors
  from the snapshot).
The estimation window is `estimation_window` sessions ending `estimation_gap` sessions before
the event (-260..-11 by default); sessions inside another event's window of the same firm
([-pre, +post] around it) are skipped, and an event with fewer than `estimation_min_obs` clean
sessions is dropped (and counted). The variance of a CAR over L sessions is the forecast-error
variance s^2 (L + c' (X'X)^-1 c), c the window's summed regressors (Mikkelson and Partch 1988,
the multi-day form of Patell 1976); for market_adjusted s^2 L.

Everything is computed on batches of events at once: gathered (events x sessions) blocks and
batched 2x2 / 4x4 solves, never a loop over firms or events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eventlab.universe.panel import Panel

BATCH = 4000  # events per gathered block (keeps the (events x sessions x regressors) block small)
MODEL_LABELS = {
    "market_adjusted": "Market-adjusted",
    "market_model": "Market model",
    "ff3": "Fama-French 3-factor",
}


@dataclass(frozen=True)
class Window:
    """A CAR window: label and the event-time sessions whose abnormal returns it sums."""

    label: str
    first: int
    last: int

    @property
    def length(self) -> int:
        """Sessions in the window."""
        return self.last - self.first + 1


@dataclass(frozen=True)
class Design:
    """Estimation window, event window and the CAR windows."""

    estimation_window: int = 250
    estimation_gap: int = 11
    min_obs: int = 120
    pre: int = 5
    post: int = 20
    horizons: tuple[int, ...] = (1, 5, 20)

    @property
    def est_offsets(self) -> np.ndarray:
        """Event-time sessions of the estimation window (-260..-11 by default)."""
        end = -self.estimation_gap
        return np.arange(end - self.estimation_window + 1, end + 1)

    @property
    def evt_offsets(self) -> np.ndarray:
        """Event-time sessions of the event window (-pre..post)."""
        return np.arange(-self.pre, self.post + 1)

    @property
    def windows(self) -> tuple[Window, ...]:
        """The CAR windows: [0, k] per horizon within the event window, then [-pre, -1]."""
        post = tuple(Window(f"[0,{k}]", 1, k) for k in self.horizons if k <= self.post)
        return (*post, Window(f"[-{self.pre},-1]", -self.pre, -1)) if self.pre else post

    def evt_index(self, w: Window) -> np.ndarray:
        """Columns of the event block that window `w` sums."""
        return np.arange(w.first, w.last + 1) + self.pre


@dataclass
class EventFit:
    """One model's fit for a set of events (rows aligned with t and j)."""

    model: str
    t: np.ndarray  # event date index
    j: np.ndarray  # ticker index
    n_obs: np.ndarray  # clean estimation sessions
    ok: np.ndarray  # n_obs >= min_obs (else dropped)
    n_params: int
    s2: np.ndarray  # residual variance of the estimation window
    est_resid: np.ndarray  # events x estimation sessions, NaN where not used
    ar: np.ndarray  # events x event-window sessions (-pre..post)
    car: dict[str, np.ndarray]
    car_sd: dict[str, np.ndarray]  # forecast-error sd of each CAR
    bhar: dict[str, np.ndarray]

    @property
    def dof(self) -> np.ndarray:
        """Residual degrees of freedom of each event's estimation."""
        return self.n_obs - max(self.n_params, 1)

    def scar(self, label: str) -> np.ndarray:
        """Standardized CARs of a window: CAR over its forecast-error sd."""
        return self.car[label] / self.car_sd[label]

    def take(self, rows: np.ndarray) -> EventFit:
        """The fit of a subset of its events."""
        return EventFit(
            self.model,
            self.t[rows],
            self.j[rows],
            self.n_obs[rows],
            self.ok[rows],
            self.n_params,
            self.s2[rows],
            self.est_resid[rows],
            self.ar[rows],
            {k: v[rows] for k, v in self.car.items()},
            {k: v[rows] for k, v in self.car_sd.items()},
            {k: v[rows] for k, v in self.bhar.items()},
        )


def model_design(
    model: str, panel: Panel, r: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """y (events x sessions) and X (events x sessions x k, None for market_adjusted). The
    regressors are laid out per date first and gathered once (no per-event stacking)."""
    m = panel.market
    if model == "market_adjusted":
        return r - m[rows], None
    ones = np.ones(len(m))
    if model == "market_model":
        return r, np.column_stack([ones, m])[rows]
    if model == "ff3":
        f = panel.ff3
        return r - f[rows, 3], np.column_stack([ones, f[:, :3]])[rows]
    raise ValueError(f"unknown normal-return model {model!r}")


def _fit_block(
    model: str, panel: Panel, t: np.ndarray, j: np.ndarray, skip: np.ndarray, d: Design
) -> EventFit:
    """fit_events on one block of events (one gathered events x sessions array)."""
    offsets = np.r_[d.est_offsets, d.evt_offsets]
    n_t = panel.ret.shape[0]
    rows = t[:, None] + offsets[None, :]
    inside = (rows >= 0) & (rows < n_t)
    rows = np.clip(rows, 0, n_t - 1)
    r = np.where(inside, panel.ret[rows, j[:, None]], np.nan)
    y, x = model_design(model, panel, r, rows)
    w = len(d.est_offsets)
    usable = np.isfinite(y) if x is None else np.isfinite(y) & np.isfinite(x).all(-1)
    est = usable[:, :w] & ~skip[rows[:, :w], j[:, None]]
    n_obs = est.sum(1)
    ok = n_obs >= d.min_obs
    ye = np.where(est, y[:, :w], 0.0)
    if x is None:
        k = 0
        mean = ye.sum(1) / np.maximum(n_obs, 1)
        resid = np.where(est, y[:, :w] - mean[:, None], np.nan)
        s2 = np.nansum(resid**2, 1) / np.maximum(n_obs - 1, 1)
        ar = y[:, w:]
        quad = {wd.label: np.zeros(len(t)) for wd in d.windows}
    else:
        k = x.shape[-1]
        xe = np.where(est[..., None], x[:, :w], 0.0)
        xet = xe.transpose(0, 2, 1)
        xtx = xet @ xe  # batched matmul: several times faster than the equivalent einsum
        xtx[~ok] = np.eye(k)  # dropped events: any invertible matrix, results set to NaN below
        inv = np.linalg.inv(xtx)
        beta = (inv @ (xet @ ye[..., None]))[..., 0]
        resid = np.where(est, y[:, :w] - (x[:, :w] @ beta[..., None])[..., 0], np.nan)
        s2 = np.nansum(resid**2, 1) / np.maximum(n_obs - k, 1)
        ar = y[:, w:] - (x[:, w:] @ beta[..., None])[..., 0]
        quad = {}
        for wd in d.windows:
            c = x[:, w + d.evt_index(wd)].sum(1)
            quad[wd.label] = np.einsum("na,nab,nb->n", c, inv, c)
    ar = np.where(ok[:, None], ar, np.nan)
    s2 = np.where(ok, s2, np.nan)
    car, sd, bhar = {}, {}, {}
    m_evt = panel.market[rows[:, w:]]
    r_evt = r[:, w:]
    for wd in d.windows:
        idx = d.evt_index(wd)
        car[wd.label] = ar[:, idx].sum(1)  # NaN when a session of the window is missing
        sd[wd.label] = np.sqrt(s2 * (wd.length + quad[wd.label]))
        gross = np.prod(1 + r_evt[:, idx], axis=1) - np.prod(1 + m_evt[:, idx], axis=1)
        bhar[wd.label] = np.where(ok, gross, np.nan)
    return EventFit(model, t, j, n_obs, ok, k, s2, resid, ar, car, sd, bhar)


def concat_fits(fits: list[EventFit]) -> EventFit:
    """One EventFit of several blocks (same model), rows in order."""
    f0 = fits[0]
    cat = np.concatenate
    return EventFit(
        f0.model,
        cat([f.t for f in fits]),
        cat([f.j for f in fits]),
        cat([f.n_obs for f in fits]),
        cat([f.ok for f in fits]),
        f0.n_params,
        cat([f.s2 for f in fits]),
        cat([f.est_resid for f in fits]),
        cat([f.ar for f in fits]),
        {k: cat([f.car[k] for f in fits]) for k in f0.car},
        {k: cat([f.car_sd[k] for f in fits]) for k in f0.car_sd},
        {k: cat([f.bhar[k] for f in fits]) for k in f0.bhar},
    )


def fit_events(
    model: str, panel: Panel, t: np.ndarray, j: np.ndarray, skip: np.ndarray, d: Design
) -> EventFit:
    """Abnormal returns of events (date index t, ticker index j) under `model`; `skip` marks
    the sessions an estimation window leaves out (other events' windows)."""
    t, j = np.asarray(t, np.int64), np.asarray(j, np.int64)
    blocks = [
        _fit_block(model, panel, t[a : a + BATCH], j[a : a + BATCH], skip, d)
        for a in range(0, max(len(t), 1), BATCH)
    ]
    return concat_fits(blocks)
