"""The event-study battery on the member panel: every model, window and test, in a few tables.

For each normal-return model (eventlab.universe.abnormal) and each CAR window: the CAAR and the
tests of eventlab.universe.es_tests (cross-sectional t, Patell, BMP, Kolari-Pynnonen, Corrado
rank, generalized sign), the calendar-time portfolio (eventlab.universe.calendar_time) and pooled
means clustered two ways (date and firm) and by calendar month; the BHAR against the market with
the same clustered errors. The sample of a window is the events the model kept (enough clean
estimation sessions) whose window has every session's return.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from eventlab.study.statistics import holm
from eventlab.universe import es_tests as et
from eventlab.universe.abnormal import Design, EventFit, Window, fit_events
from eventlab.universe.calendar_time import calendar_time_test
from eventlab.universe.panel import Panel, near_events
from eventlab.universe.pooled import clustered_mean

# test key -> (label in the report, reference); the order of the report's table.
TESTS: dict[str, tuple[str, str]] = {
    "cross_sectional_t": ("Cross-sectional t", "Brown and Warner (1985)"),
    "patell_z": ("Patell Z", "Patell (1976)"),
    "bmp": ("BMP standardized cross-sectional", "Boehmer, Musumeci and Poulsen (1991)"),
    "kolari_pynnonen": ("Kolari-Pynnonen adjusted BMP", "Kolari and Pynnonen (2010)"),
    "corrado_rank": ("Corrado rank", "Corrado (1989); Campbell and Wasley (1993)"),
    "generalized_sign": ("Cowan generalized sign", "Cowan (1992)"),
    "calendar_time": ("Calendar-time portfolio, Newey-West", "Jaffe (1974); Fama (1998)"),
    "pooled_date_firm": ("Pooled, clustered by date and firm", "Cameron, Gelbach, Miller (2011)"),
    "pooled_month": ("Pooled, clustered by calendar month", "Petersen (2009)"),
}
BHAR_TESTS = ("pooled_date_firm", "pooled_month")
# The battery's tables (assets universe/<name>), with what each holds.
BATTERY = {
    "abnormal_tests": "Per normal-return model, window and test: CAAR (or BHAR), statistic, p, "
    "and the test's rejection rate at 5% on placebo dates.",
    "abnormal_paths": "Per model: CAAR from -5 to +20 sessions, anchored at the event close, with "
    "a 95% band from the larger of the (date, firm) and month-clustered SEs.",
    "abnormal_groups": "Per model, by sector and by year: CAAR over the longest window, clustered "
    "SE, p and Holm-adjusted p.",
    "abnormal_events": "One row per model and event: CARs, standardized CARs and BHARs.",
    "abnormal_models": "Per model and window: events, those dropped for a short estimation window, "
    "the residual cross-correlation, and the minimum detectable CAR at 80% power.",
    "survivorship": "Per year: S&P 500 members and how many of them the price data holds.",
}


@dataclass(frozen=True)
class Context:
    """What every test of a panel needs besides the events."""

    panel: Panel
    design: Design
    skip: np.ndarray  # sessions an estimation window leaves out
    month: np.ndarray  # calendar-month code per date index

    @classmethod
    def of(cls, panel: Panel, design: Design) -> Context:
        """The context of a panel: skipped estimation sessions and month codes."""
        d = panel.dates
        return cls(
            panel,
            design,
            near_events(panel.event, design.pre, design.post),
            (d.year * 12 + d.month - 1).to_numpy(np.int64),
        )


def event_positions(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Date and ticker indices of the panel's events, in (date, ticker) order."""
    t, j = np.nonzero(panel.event)
    return t.astype(np.int64), j.astype(np.int64)


def _row(test: str, stat: float, p: float, **extra: object) -> dict[str, object]:
    """One test's result row."""
    return {"test": test, "statistic": stat, "p": p, **extra}


def window_tests(
    ctx: Context, fit: EventFit, wd: Window, u: np.ndarray, rho: float
) -> list[dict[str, object]]:
    """Every test of one model's CAR over one window (rows: test, statistic, p, n, estimate)."""
    car = fit.car[wd.label]
    keep = fit.ok & np.isfinite(car)
    c, s = car[keep], fit.scar(wd.label)[keep]
    t, j = fit.t[keep], fit.j[keep]
    n_dates, n_firms = ctx.panel.shape
    rows = [
        _row("cross_sectional_t", *et.cross_sectional_t(c)),
        _row("patell_z", *et.patell_z(s, fit.dof[keep])),
        _row("bmp", *et.bmp_t(s)),
    ]
    r_eff = et.overlap_correlation(t, j, wd.first, wd.last, rho, n_dates, n_firms)
    rows.append(_row("kolari_pynnonen", *et.kolari_pynnonen(s, r_eff), r_bar=r_eff))
    cols = ctx.design.evt_index(wd)
    rows.append(_row("corrado_rank", *et.corrado_rank(u[keep], fit.est_resid.shape[1], cols)))
    rows.append(_row("generalized_sign", *et.generalized_sign(c, fit.est_resid[keep])))
    ct = calendar_time_test(ctx.panel, fit.model, t, j, wd.first, wd.last)
    rows.append(_row("calendar_time", ct["t"], ct["p"], estimate=ct["car"], se=ct["se"]))
    rows += pooled_rows(c, Clusters.of(t, j, ctx.month))
    for r in rows:
        r.setdefault("estimate", float(c.mean()) if len(c) else np.nan)
        r["n"] = len(c)
    return rows


@dataclass(frozen=True)
class Clusters:
    """Dense cluster codes of a set of events: date, firm, (date, firm) pair, calendar month."""

    date: np.ndarray
    firm: np.ndarray
    pair: np.ndarray
    month: np.ndarray

    @classmethod
    def of(cls, t: np.ndarray, j: np.ndarray, month: np.ndarray) -> Clusters:
        """Codes of events at date indices t and ticker indices j."""
        # date, firm and month codes are small non-negative integers already (bincount takes
        # them as they are); only the (date, firm) pairs need compacting
        pair = pd.factorize(t * (int(j.max(initial=0)) + 1) + j)[0].astype(np.int64)
        m = month[t]
        return cls(t, j, pair, m - (int(m.min()) if len(m) else 0))

    def take(self, m: np.ndarray) -> Clusters:
        """The codes of a subset of the events."""
        return Clusters(self.date[m], self.firm[m], self.pair[m], self.month[m])


def pooled_rows(y: np.ndarray, cl: Clusters) -> list[dict]:
    """Mean of y with errors clustered by (date, firm) and by calendar month."""
    if len(y) < 2:
        return [_row(k, np.nan, np.nan, se=np.nan) for k in BHAR_TESTS]
    two = et.clustered_two_way(y, cl.date, cl.firm, cl.pair)
    mon = clustered_mean(y, cl.month)
    return [
        _row("pooled_date_firm", two["t"], two["p"], se=two["se"]),
        _row("pooled_month", mon["t"], mon["p"], se=mon["se"]),
    ]


def fit_and_ranks(
    ctx: Context, model: str, t: np.ndarray, j: np.ndarray
) -> tuple[EventFit, np.ndarray, float]:
    """The model's fit of the events, their standardized ranks and the cross-firm residual
    correlation."""
    fit = fit_events(model, ctx.panel, t, j, ctx.skip, ctx.design)
    fit = fit.take(fit.ok)  # dropped events (short estimation windows) are counted by the caller
    u = et.standardized_ranks(fit.est_resid, fit.ar)
    rows = fit.t[:, None] + ctx.design.est_offsets[None, :]
    rows = np.clip(rows, 0, ctx.panel.shape[0] - 1)
    rho = et.residual_correlation(fit.est_resid, rows, fit.j, *ctx.panel.shape)
    return fit, u, rho


def model_tests(ctx: Context, fit: EventFit, u: np.ndarray, rho: float) -> list[dict[str, object]]:
    """Every window's tests of one model, with BHAR rows."""
    out = []
    for wd in ctx.design.windows:
        head = {"model": fit.model, "window": wd.label}
        out += [{**head, "measure": "CAR", **r} for r in window_tests(ctx, fit, wd, u, rho)]
        b = fit.bhar[wd.label]
        keep = fit.ok & np.isfinite(b)
        for r in pooled_rows(b[keep], Clusters.of(fit.t[keep], fit.j[keep], ctx.month)):
            out.append({**head, "measure": "BHAR", **r, "estimate": float(b[keep].mean()),
                        "n": int(keep.sum())})  # fmt: skip
    return out


def caar_path(ctx: Context, fit: EventFit) -> pd.DataFrame:
    """CAAR from -pre to +post anchored at the event's close (0 at day 0: days after cumulate
    sessions 1..s, days before minus sessions s+1..0), over events with every session, and a
    95% band from the larger of the (date, firm) and month-clustered standard errors."""
    d = ctx.design
    full = fit.ok & np.isfinite(fit.ar).all(1)
    ar = fit.ar[full]
    cl = Clusters.of(fit.t[full], fit.j[full], ctx.month)
    zero = d.pre  # column of day 0
    after = np.cumsum(ar[:, zero + 1 :], axis=1)
    before = -np.cumsum(ar[:, zero:0:-1], axis=1)[:, ::-1]  # day s < 0: -(AR_{s+1} + .. + AR_0)
    path = np.concatenate([before, np.zeros((len(ar), 1)), after], axis=1)
    rows = []
    for col, day in enumerate(d.evt_offsets):
        y = path[:, col]
        if day == 0 or len(y) < 2:
            rows.append({"day": int(day), "caar": float(y.mean()) if len(y) else np.nan,
                         "se": 0.0 if day == 0 else np.nan})  # fmt: skip
            continue
        pr = pooled_rows(y, cl)
        rows.append({"day": int(day), "caar": float(y.mean()), "se": max(r["se"] for r in pr)})
    out = pd.DataFrame(rows)
    out["lo"], out["hi"] = out["caar"] - 1.96 * out["se"], out["caar"] + 1.96 * out["se"]
    return out.assign(model=fit.model, n_events=len(ar))[
        ["model", "day", "caar", "se", "lo", "hi", "n_events"]
    ]


def group_table(ctx: Context, fit: EventFit, wd: Window) -> pd.DataFrame:
    """By sector and by year: CAAR over `wd` with the larger of the (date, firm) and month
    clustered SEs, its p, and Holm's adjustment over the groups of a kind."""
    car = fit.car[wd.label]
    keep = fit.ok & np.isfinite(car)
    c, t, j = car[keep], fit.t[keep], fit.j[keep]
    cl = Clusters.of(t, j, ctx.month)
    sector = np.array(ctx.panel.sectors)[j]
    year = ctx.panel.dates.year.to_numpy()[t].astype(str)
    rows = []
    for kind, labels in (("sector", sector), ("year", year)):
        for g in sorted(set(labels)):
            m = labels == g
            pr = pooled_rows(c[m], cl.take(m))
            se = max(r["se"] for r in pr) if m.sum() > 1 else np.nan
            z = c[m].mean() / se if se and np.isfinite(se) and se > 0 else np.nan
            rows.append({"model": fit.model, "window": wd.label, "group_type": kind, "group": g,
                         "n_events": int(m.sum()), "n_firms": int(len(set(j[m]))),
                         "caar": float(c[m].mean()), "se": se,
                         "p": float(2 * special.ndtr(-abs(z))) if np.isfinite(z) else np.nan})  # fmt: skip
    out = pd.DataFrame(rows)
    out["p_holm"] = np.nan
    for kind in ("sector", "year"):
        sub = (out["group_type"] == kind) & out["p"].notna()
        if sub.any():
            out.loc[sub, "p_holm"] = holm(out.loc[sub, "p"].to_numpy(float))
    return out


def event_table(ctx: Context, fit: EventFit) -> pd.DataFrame:
    """One row per event of a model: ticker, date, estimation sessions, and per window the CAR,
    its SCAR and the BHAR."""
    p = ctx.panel
    out = pd.DataFrame(
        {
            "model": fit.model,
            "ticker": np.array(p.tickers)[fit.j],
            "sector": np.array(p.sectors)[fit.j],
            "date": p.dates[fit.t],
            "estimation_obs": fit.n_obs,
            "kept": fit.ok,
        }
    )
    for wd in ctx.design.windows:
        out[f"car_{wd.label}"] = fit.car[wd.label]
        out[f"scar_{wd.label}"] = fit.scar(wd.label)
        out[f"bhar_{wd.label}"] = fit.bhar[wd.label]
    return out


@dataclass(frozen=True)
class Battery:
    """The battery's tables."""

    tests: pd.DataFrame
    paths: pd.DataFrame
    groups: pd.DataFrame
    events: pd.DataFrame
    counts: pd.DataFrame


def run_battery(panel: Panel, design: Design, models: tuple[str, ...]) -> Battery:
    """Every model, window and test on the panel's events."""
    ctx = Context.of(panel, design)
    t, j = event_positions(panel)
    tests, paths, groups, events, counts = [], [], [], [], []
    longest = max(design.windows, key=lambda w: w.last)
    for model in models:
        fit, u, rho = fit_and_ranks(ctx, model, t, j)
        kept = len(fit.t)
        tests += model_tests(ctx, fit, u, rho)
        paths.append(caar_path(ctx, fit))
        groups.append(group_table(ctx, fit, longest))
        events.append(event_table(ctx, fit))
        counts.append({"model": model, "events": len(t), "kept": kept,
                       "dropped_short_estimation": len(t) - kept,
                       "residual_cross_correlation": rho})  # fmt: skip
    tests_df = pd.DataFrame(tests)
    tests_df["label"] = tests_df["test"].map(lambda k: TESTS[k][0])
    tests_df["reference"] = tests_df["test"].map(lambda k: TESTS[k][1])
    return Battery(
        tests_df,
        pd.concat(paths, ignore_index=True),
        pd.concat(groups, ignore_index=True),
        pd.concat(events, ignore_index=True),
        pd.DataFrame(counts),
    )
