"""Size of every test on placebo events drawn from the panel, and the minimum detectable CAR.

A placebo sample mimics the real events' clustering in calendar time: `placebo_dates` dates are
drawn at random among the panel's dates, each gets as many members as a real event date has
(drawn from the real events-per-date counts), and the members are drawn at random among those
in the sample that day and outside every real event's window. Nothing happened on those days, so
a test of the right size rejects at 5% in about 5% of the samples (Brown and Warner 1985 design;
with D draws the Monte Carlo standard error of a 5% rate is sqrt(0.05 x 0.95 / D), 1.0 point at
500). The samples of a batch of draws are fitted together (one gathered block per model).

Minimum detectable CAR at 80% power (two-sided 5% test): (z_0.975 + z_0.80) x SE, with SE the
largest standard error of the CAAR among the parametric tests on the real sample (cross-
sectional, date-and-firm clustered, month clustered, calendar-time): the least favourable one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from eventlab.universe.abnormal import Design, fit_events
from eventlab.universe.battery import Context, window_tests
from eventlab.universe.es_tests import residual_correlation, standardized_ranks
from eventlab.universe.panel import Panel

ALPHA = 0.05
BATCH_DRAWS = 25
MDE_FACTOR = float(special.ndtri(0.975) + special.ndtri(0.80))  # 1.96 + 0.84


def eligible_days(panel: Panel, design: Design) -> np.ndarray:
    """Member-days a placebo event can fall on: in the sample, outside every real event's
    window, with room for the estimation window before and the event window after."""
    ok = panel.in_sample & ~panel.event
    first = design.estimation_window + design.estimation_gap
    ok[:first] = False
    ok[len(ok) - design.post :] = False
    return ok & np.isfinite(panel.ret)


def draw_samples(
    eligible: np.ndarray, per_date: np.ndarray, n_dates: int, draws: int, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`draws` placebo samples (date index, ticker index): `n_dates` random dates each, with
    a member count drawn from `per_date` (at most the members eligible that day)."""
    n_elig = eligible.sum(1)
    candidates = np.flatnonzero(n_elig > 0)
    out = []
    for _ in range(draws):
        dates = rng.choice(candidates, size=min(n_dates, len(candidates)), replace=False)
        k = np.minimum(rng.choice(per_date, size=len(dates)), n_elig[dates])
        keys = np.where(eligible[dates], rng.random((len(dates), eligible.shape[1])), 2.0)
        order = np.argsort(keys, axis=1)
        take = np.arange(eligible.shape[1])[None, :] < k[:, None]
        t = np.broadcast_to(dates[:, None], order.shape)[take]
        out.append((t.astype(np.int64), order[take].astype(np.int64)))
    return out


def placebo_size(
    panel: Panel,
    design: Design,
    models: tuple[str, ...],
    draws: int,
    n_dates: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Per model, window and test: the share of placebo samples rejected at 5%, its Monte Carlo
    SE, and the samples' mean size."""
    ctx = Context.of(panel, design)
    per_date = np.bincount(np.nonzero(panel.event)[0])
    per_date = per_date[per_date > 0] if per_date.any() else np.array([1])
    samples = draw_samples(eligible_days(panel, design), per_date, n_dates, draws, rng)
    rows = []
    for a in range(0, len(samples), BATCH_DRAWS):
        batch = samples[a : a + BATCH_DRAWS]
        sizes = np.cumsum([0, *(len(t) for t, _ in batch)])
        t_all = np.concatenate([t for t, _ in batch])
        j_all = np.concatenate([j for _, j in batch])
        for model in models:
            fit = fit_events(model, panel, t_all, j_all, ctx.skip, design)
            u = standardized_ranks(fit.est_resid, fit.ar)
            est_rows = np.clip(fit.t[:, None] + design.est_offsets[None, :], 0, panel.shape[0] - 1)
            for d in range(len(batch)):
                idx = np.arange(sizes[d], sizes[d + 1])
                idx = idx[fit.ok[idx]]
                sub = fit.take(idx)
                rho = residual_correlation(sub.est_resid, est_rows[idx], sub.j, *panel.shape)
                for wd in design.windows:
                    for r in window_tests(ctx, sub, wd, u[idx], rho):
                        rows.append((model, wd.label, r["test"], r["p"], r["n"]))
    df = pd.DataFrame(rows, columns=["model", "window", "test", "p", "n"])
    out = (
        df.assign(reject=df["p"] < ALPHA, valid=df["p"].notna())
        .groupby(["model", "window", "test"], sort=False)
        .agg(rejection_rate=("reject", "mean"), draws=("valid", "sum"), mean_events=("n", "mean"))
        .reset_index()
    )
    out["mc_se"] = np.sqrt(ALPHA * (1 - ALPHA) / out["draws"].clip(lower=1))
    return out


def minimum_detectable(tests: pd.DataFrame) -> pd.DataFrame:
    """Per model and window: the minimum detectable CAR at 80% power from the largest SE of the
    CAAR among the parametric tests (battery tests table: estimate, statistic, se)."""
    car = tests[tests["measure"] == "CAR"].copy()
    implied = (car["estimate"] / car["statistic"]).abs()
    car["se_used"] = car["se"].where(car["se"].notna(), implied)
    parametric = car[car["test"].isin(PARAMETRIC)]
    out = parametric.groupby(["model", "window"], sort=False)["se_used"].max().reset_index()
    out = out.rename(columns={"se_used": "largest_se"})
    out["mde_80"] = MDE_FACTOR * out["largest_se"]
    return out


PARAMETRIC = ("cross_sectional_t", "calendar_time", "pooled_date_firm", "pooled_month")
