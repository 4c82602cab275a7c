"""The verdict engine: runs each claim's check (by its `method`) and turns the check's value into
a verdict with the claim's comparator and tolerance.

- ``confirmed``: the data gives a value that matches the quote within the stated tolerance;
- ``differs``: the data gives a value that does not match (the evidence says by how much);
- ``within noise``: the data's estimate does not match, but the quote lies within the estimate's
  own uncertainty (a check that estimates rather than measures gives a band, e.g. the implied
  exposure's slope +/- 2 standard errors), so the data neither confirm nor refute it;
- ``at the boundary``: an inequality claim ("above 4%") whose value lies within the claim's
  tolerance of the bound (measurement precision, e.g. a published rounding step), so the data
  cannot say on which side it is; the tolerance is never counted in the claim's favour;
- ``cannot check``: the data needed is not in this run (or the check computes what the data
  can see but that does not decide the claim: `Outcome.undecided`, the evidence says why) (the evidence names what is missing),
  or the claim is not applicable to this run: the event-study claims count the notes' events
  (S&P 500 days that opened more than 1% above the prior close and closed below it, since 1957,
  genuine opens only), so a run whose study defines events otherwise (another index, threshold,
  close rule, window or open policy: `ClaimData.study_changes`) does not check them against its
  own events; the evidence names what differs. The default study's report checks them.

Data checks and model comparisons are counted apart (`verdict_counts(results, kind)`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import SupportsFloat, cast

import numpy as np
import pandas as pd

from eventlab.report.claims.checks_cta import t_cta, t_implied_exposure
from eventlab.report.claims.checks_events import (
    t_coverage_start,
    t_event_count,
    t_is_event,
    t_prior_events,
)
from eventlab.report.claims.checks_prices import (
    t_day_stat,
    t_drawdown,
    t_highest_since,
    t_intraday_high_time,
    t_level_cross,
    t_level_held,
    t_max_high,
    t_period_return,
    t_sma,
    t_swing_points,
)
from eventlab.report.claims.checks_reference import (
    t_fomc_prob,
    t_fundamental,
    t_new_high,
    t_no_data,
    t_prediction_market,
    t_reference_value,
    t_reference_window,
)
from eventlab.report.claims.data import ClaimData, MissingData, Outcome
from eventlab.report.claims.display import _value_text, fmt_diff, fmt_value
from eventlab.report.claims.loader import CLAIM_COLUMNS, load_claims

CONFIRMED, DIFFERS, NOISE, CANNOT = "confirmed", "differs", "within noise", "cannot check"
BOUNDARY = "at the boundary"
VERDICTS = (CONFIRMED, DIFFERS, NOISE, BOUNDARY, CANNOT)
INEQUALITIES = frozenset({"gt", "ge", "lt", "le"})

RESULT_COLUMNS = (
    "id",
    "topic",
    "kind",
    "claim",
    "quote_zh",
    "quoted_value",
    "unit",
    "verdict",
    "computed_value",
    "computed_display",
    "difference",
    "comparator",
    "tolerance",
    "evidence",
    "data_used",
    "data_dates",
    "source_doc",
    "source_section",
    "method",
)

TESTS: dict[str, Callable[[pd.Series, dict, ClaimData], Outcome]] = {
    "event_count": t_event_count,
    "coverage_start": t_coverage_start,
    "is_event": t_is_event,
    "prior_events": t_prior_events,
    "day_stat": t_day_stat,
    "highest_since": t_highest_since,
    "sma": t_sma,
    "level_cross": t_level_cross,
    "level_held": t_level_held,
    "max_high": t_max_high,
    "drawdown": t_drawdown,
    "fomc_prob": t_fomc_prob,
    "prediction_market": t_prediction_market,
    "reference_value": t_reference_value,
    "fundamental": t_fundamental,
    "cta": t_cta,
    "implied_exposure": t_implied_exposure,
    "swing_points": t_swing_points,
    "reference_window": t_reference_window,
    "intraday_high_time": t_intraday_high_time,
    "period_return": t_period_return,
    "new_high": t_new_high,
    "no_data": t_no_data,
}


def compare(value: float, quoted: float, comparator: str, tol: float) -> tuple[bool, float]:
    """(match, value - quoted) for numeric comparators; tolerance in the claim's unit. For an
    inequality the tolerance is the measurement's precision and counts against the claim: the
    value must clear the bound by more than it (at_boundary says when it does not)."""
    diff = value - quoted
    eps = 1e-12
    if comparator == "eq":
        return abs(diff) <= tol + eps, diff
    if comparator == "approx":
        return abs(diff) <= tol + eps, diff
    if comparator == "gt":
        return value > quoted + tol + eps, diff
    if comparator == "ge":
        return value >= quoted + tol - eps, diff
    if comparator == "lt":
        return value < quoted - tol - eps, diff
    if comparator == "le":
        return value <= quoted - tol + eps, diff
    raise ValueError(f"unknown comparator {comparator!r}")


def at_boundary(value: float, quoted: float, comparator: str, tol: float) -> bool:
    """Whether an inequality claim's value that does not clear its bound lies within the
    tolerance of it (the data cannot tell on which side the truth is)."""
    return comparator in INEQUALITIES and abs(value - quoted) <= tol + 1e-12


# Check methods that read the study's events: they apply only to the notes' event definition.
EVENT_METHODS = frozenset({"event_count", "coverage_start", "is_event", "prior_events"})


def evaluate_claim(claim: pd.Series, data: ClaimData) -> dict[str, object]:
    """One verdict row for one claim."""
    # the claim's own columns, minus the machine-only test parameters and free-text note
    base = {c: claim[c] for c in CLAIM_COLUMNS if c not in ("params", "note")}
    params = json.loads(claim["params"] or "{}")
    test = TESTS.get(claim["method"])
    if test is None:
        raise ValueError(
            f"claim {claim['id']}: unknown test method {claim['method']!r}; known: {sorted(TESTS)}"
        )
    try:
        changed = data.event_definition_changes() if claim["method"] in EVENT_METHODS else {}
        if changed:
            what = ", ".join(f"{k} = {v}" for k, v in sorted(changed.items()))
            raise MissingData(
                "not applicable in this run: the claim is about the notes' events (S&P 500 days "
                "that opened more than 1% above the prior close and closed below it, since "
                f"1957, genuine opens only) and this run's study defines events otherwise ({what}); "
                "the default study's report checks it"
            )
        out = test(claim, params, data)
    except MissingData as exc:
        note = f" {claim['note']}" if claim.get("note") else ""
        return {
            **base,
            "verdict": CANNOT,
            "computed_value": None,
            "computed_display": "n/a",
            "difference": None,
            "evidence": f"Cannot check: {exc}.{note}".replace("..", "."),
            "data_used": "",
            "data_dates": "",
        }
    if out.undecided:
        return {
            **base,
            "verdict": CANNOT,
            "computed_value": _plain(out.value),
            "computed_display": out.display,
            "difference": out.difference,
            "evidence": out.evidence,
            "data_used": out.data_used,
            "data_dates": out.dates,
        }
    ok, diff = out.ok, out.difference
    boundary = False
    if ok is None:
        try:
            quoted = float(claim["quoted_value"])
            tol = float(claim["tolerance"] or 0)
        except ValueError as exc:
            raise ValueError(
                f"claim {claim['id']}: comparator {claim['comparator']!r} needs a numeric quoted value and tolerance"
            ) from exc
        # a test that leaves the verdict to the comparator computes a number
        value = float(cast(SupportsFloat, out.value))
        ok, diff = compare(value, quoted, claim["comparator"], tol)
        boundary = not ok and at_boundary(value, quoted, claim["comparator"], tol)
    verdict = CONFIRMED if ok else BOUNDARY if boundary else DIFFERS
    if not ok and out.band is not None and _band_reaches(out.band, claim):
        verdict = NOISE
    evidence = out.evidence
    if diff is not None and claim["comparator"] == "approx":
        evidence += f" Quoted {fmt_value(float(claim['quoted_value']), claim['unit'])}; difference {fmt_diff(diff, claim['unit'])} (tolerance {fmt_diff(float(claim['tolerance'] or 0), claim['unit'], signed=False)})."
    if verdict == BOUNDARY:
        evidence += (
            " The value is within the claim's tolerance (the data's precision) of the quoted bound "
            f"{fmt_value(float(claim['quoted_value']), claim['unit'])}: the data cannot say on which side "
            "of it the truth lies, and the tolerance is not counted in the claim's favour."
        )
    if verdict == NOISE and out.band is not None:  # NOISE is only given with a band
        lo, hi = (fmt_value(x, claim["unit"]) for x in out.band)
        evidence += (
            f" The quote lies within the estimate's noise band ({lo} to {hi}): the estimate is "
            "too noisy to confirm or refute it."
        )
    return {
        **base,
        "verdict": verdict,
        "computed_value": _plain(out.value),
        "computed_display": out.display,
        "difference": diff,
        "evidence": evidence,
        "data_used": out.data_used,
        "data_dates": out.dates,
    }


def _plain(value: object) -> object:
    """A numpy scalar as the Python value (the table's column holds plain values)."""
    return value.item() if isinstance(value, np.generic) else value


def _band_reaches(band: tuple[float, float], claim: pd.Series) -> bool:
    """Whether some value in the estimate's band [low, high] matches the quote (with the
    claim's comparator and tolerance)."""
    quoted, tol = float(claim["quoted_value"]), float(claim["tolerance"] or 0)
    lo, hi = band
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    inside = lo <= quoted <= hi and claim["comparator"] in ("eq", "approx")
    # the band is the estimate's own uncertainty: an inequality is judged on its bare bound
    bound_tol = 0.0 if claim["comparator"] in INEQUALITIES else tol
    return inside or any(compare(x, quoted, claim["comparator"], bound_tol)[0] for x in (lo, hi))


def evaluate_claims(data: ClaimData, claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every claim's verdict, in the claims table's order (columns RESULT_COLUMNS)."""
    claims = load_claims() if claims is None else claims
    rows = [evaluate_claim(c, data) for _, c in claims.iterrows()]
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    out["computed_value"] = out["computed_value"].map(_value_text)
    out["difference"] = pd.to_numeric(out["difference"], errors="coerce")
    return out


def verdict_counts(results: pd.DataFrame, kind: str | None = None) -> dict[str, int]:
    """Claims per verdict, for one kind (data checks or model comparisons) or for all."""
    if kind is not None and "kind" in results.columns:
        results = results[results["kind"] == kind]
    counts = results["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}
