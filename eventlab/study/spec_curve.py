"""The specification curve of the headline question: every reasonable way to ask it, one answer each.

A specification is one choice per dimension: gap threshold (0.50% to 2.00% in 0.25% steps), the
"closed red" rule (below the prior close, or below the open), the series (the study index and
its robustness index, e.g. ^GSPC and SPY), declustered or not (events within the study's
cooldown merged into their episode's first event), entry at the event's close or the next
session's open, and the horizon (the study's horizons, 1, 5 and 20 sessions by default):
7 x 2 x 2 x 2 x 2 x 3 = 336 specifications, of which those with at least
`min_events_for_inference` events (about 250 on the shipped data) are tested.

Each specification's estimate is the event-minus-rest mean forward return on its sample, with
a Welch t interval, and its p-value is the study's circular-shift randomization p
(small_sample.circular_shift_p: every shift of the event dates along the sample). The joint
test asks whether the curve as a whole is more significant than chance (Simonsohn, Simmons and
Nelson 2020): under a placebo, every specification's event dates are shifted by the same number
of sessions s (the events' spacing, and the overlap between specifications, kept), and the
share of specifications significant at `alpha` at shift s is compared with the observed share,
over every shift s the shortest sample allows (exact, no draws). Everything is computed from
each specification's statistic at every shift, once (small_sample.shift_statistics, by FFT).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from eventlab.config import StudyParams
from eventlab.study.events import event_array, sample_array, study_flags
from eventlab.study.returns import forward_return_array
from eventlab.study.small_sample import decluster, shift_statistics

THRESHOLDS: tuple[float, ...] = tuple(np.round(np.arange(0.005, 0.02001, 0.0025), 6))
CLOSE_RULES: tuple[str, ...] = ("prior_close", "open")
ENTRIES: tuple[str, ...] = ("close", "next_open")
DECLUSTERED: tuple[bool, ...] = (False, True)
CHOICE_COLUMNS: tuple[str, ...] = (
    "series",
    "threshold",
    "close_rule",
    "declustered",
    "entry",
    "horizon",
)
SPEC_COLUMNS: tuple[str, ...] = (
    "spec_id",
    *CHOICE_COLUMNS,
    "definition",
    "n_events",
    "n_sample",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "tested",
    "significant",
)
TEST_COLUMNS: tuple[str, ...] = (
    "statistic",
    "observed",
    "null_mean",
    "null_q95",
    "p_value",
    "placebo_shifts",
    "specs_tested",
    "specs_defined",
    "alpha",
    "definition",
)


@dataclass(frozen=True)
class Sample:
    """One series' aligned arrays for the curve: opens, closes and the study's valid sample."""

    series: str
    open: np.ndarray
    close: np.ndarray
    in_sample: np.ndarray


def series_sample(px: pd.DataFrame, params: StudyParams) -> Sample:
    """The series' opens, closes and valid-sample mask under the study's window and open policy."""
    flags = study_flags(px, params)
    c = px["close"].to_numpy(float)
    in_sample = sample_array(px.index, c, flags["open_genuine"].to_numpy(bool), params)
    return Sample(params.index, px["open"].to_numpy(float), c, in_sample)


def entry_returns(s: Sample, k: int, entry: str) -> np.ndarray:
    """Forward return k sessions ahead on every day: from the day's close (Close_{t+k} / Close_t
    - 1) or from the next session's open (Close_{t+k} / Open_{t+1} - 1), NaN where out of data."""
    if entry == "close":
        return forward_return_array(s.close, k)
    out = np.full(len(s.close), np.nan)
    if k < len(s.close):
        with np.errstate(divide="ignore", invalid="ignore"):
            out[: len(s.close) - k] = s.close[k:] / s.open[1 : len(s.close) - k + 1] - 1
    return out


def welch_interval(ev: np.ndarray, base: np.ndarray, conf: float = 0.95) -> tuple[float, float]:
    """Welch t interval of mean(ev) - mean(base) (unequal variances, Welch-Satterthwaite df)."""
    n1, n2 = len(ev), len(base)
    v1, v2 = ev.var(ddof=1) / n1, base.var(ddof=1) / n2
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    half = float(special.stdtrit(df, 0.5 + conf / 2)) * float(np.sqrt(v1 + v2))
    diff = float(ev.mean() - base.mean())
    return diff - half, diff + half


def describe_spec(
    params: StudyParams, threshold: float, rule: str, declustered: bool, entry: str, k: int
) -> str:
    """The specification in words, with the study window and open policy it shares with the
    study (the ledger's definition of the hypothesis); `params.index` names the series."""
    red = "Close_t < Close_{t-1}" if rule == "prior_close" else "Close_t < Open_t"
    start = "Close_t" if entry == "close" else "Open_{t+1}"
    dec = f"; declustered ({params.decluster_cooldown} sessions)" if declustered else ""
    opens = "genuine opens only" if params.open_policy == "genuine" else "all opens"
    end = params.end.isoformat() if params.end else "the last date"
    return (
        f"{params.index}: Open_t/Close_(t-1)-1 > {threshold:.2%} and {red}{dec}; {opens}; "
        f"{params.start} to {end}; return Close_(t+{k}) / {start} - 1 against every other "
        "sample day"
    )


def spec_id(series: str, threshold: float, rule: str, declustered: bool, entry: str, k: int) -> str:
    """A short readable key of one specification."""
    dec = "declustered" if declustered else "all"
    return f"{series}|{threshold:.2%}|{rule}|{dec}|{entry}|T+{k}"


@dataclass
class CurveArrays:
    """Per tested specification: the statistic and the estimate at every shift (rows of
    unequal length: each specification's own sample)."""

    stats: list[np.ndarray]
    diffs: list[np.ndarray]


def _spec_sample(s: Sample, events: np.ndarray, declustered: bool, cooldown: int) -> np.ndarray:
    """The specification's sample mask: declustering drops an episode's later events from the
    sample altogether (neither events nor baseline days), as the study's declustered row does."""
    if not declustered:
        return s.in_sample
    pos = np.flatnonzero(events)
    _, starts = decluster(pos, cooldown)
    keep = s.in_sample.copy()
    keep[np.setdiff1d(pos, starts)] = False
    return keep


def specification_curve(
    prices: dict[str, pd.DataFrame], params: StudyParams
) -> tuple[pd.DataFrame, CurveArrays]:
    """One row per specification (SPEC_COLUMNS, sorted by estimate) and, for the tested ones in
    the same order, their statistics at every circular shift (for joint_test)."""
    series = list(dict.fromkeys((params.index, params.robustness_index)))
    rows: list[dict[str, object]] = []
    arrays: list[tuple[np.ndarray, np.ndarray]] = []
    cooldown = params.decluster_cooldown
    for name in series:
        if name not in prices:
            continue
        on = params.with_(index=name)
        s = series_sample(prices[name], on)
        fwd = {(k, e): entry_returns(s, k, e) for k in params.horizons for e in ENTRIES}
        for threshold, rule in itertools.product(THRESHOLDS, CLOSE_RULES):
            events = event_array(s.open, s.close, s.in_sample, threshold, rule)
            for dec in DECLUSTERED:
                sample = _spec_sample(s, events, dec, cooldown)
                for entry, k in itertools.product(ENTRIES, params.horizons):
                    y_all = fwd[(k, entry)]
                    ok = sample & ~np.isnan(y_all)
                    y, d = y_all[ok], events[ok]
                    n_ev = int(d.sum())
                    row: dict[str, object] = {
                        "spec_id": spec_id(name, threshold, rule, dec, entry, k),
                        "series": name,
                        "threshold": threshold,
                        "close_rule": rule,
                        "declustered": dec,
                        "entry": entry,
                        "horizon": k,
                        "definition": describe_spec(on, threshold, rule, dec, entry, k),
                        "n_events": n_ev,
                        "n_sample": len(y),
                        "estimate": float(y[d].mean() - y[~d].mean()) if n_ev else np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "p": np.nan,
                        "tested": n_ev >= max(params.min_events_for_inference, 2) and n_ev < len(y),
                    }
                    if row["tested"]:
                        row["ci_low"], row["ci_high"] = welch_interval(y[d], y[~d])
                        stat, diff = shift_statistics(y, d, method="fft")
                        row["p"] = float((stat[1:] >= stat[0] * (1 - 1e-12)).sum() + 1) / len(y)
                        arrays.append((stat, diff))
                    rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in SPEC_COLUMNS if c != "significant"])
    table["significant"] = table["p"] < params.verdict_alpha
    order = np.argsort(table["estimate"].to_numpy(float), kind="stable")
    tested_order = [i for i in order if table["tested"].iloc[i]]
    position = np.cumsum(table["tested"].to_numpy(bool)) - 1  # row -> index into `arrays`
    curve = CurveArrays(
        [arrays[position[i]][0] for i in tested_order],
        [arrays[position[i]][1] for i in tested_order],
    )
    return table.iloc[order].reset_index(drop=True), curve


def placebo_pvalues(stat: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """The circular-shift p each placebo shift would get if it were the observed arrangement:
    (number of shifts at least as extreme, itself included) / number of shifts."""
    ranked = np.sort(stat)
    below = np.searchsorted(ranked, stat[shifts] * (1 - 1e-12), side="left")
    return (len(stat) - below) / len(stat)


def joint_test(table: pd.DataFrame, curve: CurveArrays, alpha: float) -> pd.DataFrame:
    """The curve against placebo dates (TEST_COLUMNS rows): the share of tested specifications
    significant at `alpha`, the share significant with a positive estimate, and the median
    estimate, each against its distribution over every common shift s = 1..(shortest sample - 1)."""
    tested = table[table["tested"]]
    defined = len(table)
    if not len(curve.stats):
        return pd.DataFrame(columns=list(TEST_COLUMNS))
    shortest = min(len(s) for s in curve.stats)
    shifts = np.arange(1, shortest)
    sig = np.empty((len(curve.stats), len(shifts)), bool)
    pos = np.empty_like(sig)
    est = np.empty(sig.shape)
    for j, (stat, diff) in enumerate(zip(curve.stats, curve.diffs, strict=True)):
        sig[j] = placebo_pvalues(stat, shifts) < alpha
        est[j] = diff[shifts]
        pos[j] = sig[j] & (est[j] > 0)
    observed_sig = tested["p"].to_numpy(float) < alpha
    observed_est = tested["estimate"].to_numpy(float)
    stats = {
        "share_significant": (observed_sig.mean(), sig.mean(axis=0)),
        "share_significant_positive": (
            (observed_sig & (observed_est > 0)).mean(),
            pos.mean(axis=0),
        ),
        "median_estimate": (float(np.median(observed_est)), np.median(est, axis=0)),
    }
    words = {
        "share_significant": f"share of tested specifications with circular-shift p < {alpha:g}",
        "share_significant_positive": f"share with p < {alpha:g} and a positive estimate",
        "median_estimate": "median event-minus-rest mean forward return across specifications",
    }
    rows = []
    for name, (obs, null) in stats.items():
        # one-sided: the curve is more significant (or its median larger in size) than chance
        extreme = np.abs(null) >= abs(obs) - 1e-15 if name == "median_estimate" else null >= obs
        rows.append(
            {
                "statistic": name,
                "observed": float(obs),
                "null_mean": float(null.mean()),
                "null_q95": float(np.quantile(null, 0.95)),
                "p_value": float((1 + extreme.sum()) / (1 + len(null))),
                "placebo_shifts": len(null),
                "specs_tested": len(tested),
                "specs_defined": defined,
                "alpha": alpha,
                "definition": f"{words[name]}; null: every specification's events shifted by "
                f"the same s sessions along its sample, s = 1..{shortest - 1}",
            }
        )
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))
