"""Checks about CTA positioning: the notes' CTA figures vs the CTA replica (`cta_claims`, a
model: its agreement is not evidence about the market) and the exposure implied by a trend
index's returns (data)."""

from __future__ import annotations

import pandas as pd

from eventlab.report.claims.data import (
    NOTES_INDEX,
    ClaimData,
    MissingData,
    Outcome,
    _d,
    _reference,
    _series,
)
from eventlab.report.claims.display import fmt_value

# The columns of the CTA replica's claims table (eventlab.cta.claims.CLAIM_COLUMNS) this check
# reads. A claim's params name its row by `claim_id` ("keys": the first id present is used).
CTA_KEY = "claim_id"
CTA_COLUMNS_READ = (
    CTA_KEY,
    "replica_value",
    "replica_date",
    "replica_low",
    "replica_high",
    "window_start",
    "window_end",
    "why_differ",
)


def _cta_row(tab: pd.DataFrame, keys: list[str]) -> pd.Series:
    ids = tab[CTA_KEY].astype(str).str.lower()
    for k in keys:
        if (ids == k).any():
            return tab[ids == k].iloc[0]
    raise MissingData(f"cta_claims has no row for {keys}")


def t_cta(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    tab = data.cta_claims
    if tab is None or len(tab) == 0:
        raise MissingData("the CTA replica's claims table (cta_claims) is not in this run")
    hit = _cta_row(tab, [str(k).lower() for k in p.get("keys", [])])
    if pd.isna(hit["replica_value"]):
        raise MissingData(f"cta_claims row {hit[CTA_KEY]} has no replica value")
    scale = float(p.get("scale", 1.0))
    v = float(hit["replica_value"]) * scale
    asof = _d(hit["replica_date"]) if pd.notna(hit["replica_date"]) else ""
    why = str(hit["why_differ"]) if pd.notna(hit["why_differ"]) else ""
    text = f"CTA replica: {fmt_value(v, claim['unit'])}" + (f" on {asof}" if asof else "")
    if pd.notna(hit["replica_low"]):
        lo, hi = float(hit["replica_low"]) * scale, float(hit["replica_high"]) * scale
        win = (
            f" over {_d(hit['window_start'])}..{_d(hit['window_end'])}"
            if pd.notna(hit["window_start"])
            else ""
        )
        text += f" (range{win}: {fmt_value(lo, claim['unit'])} to {fmt_value(hi, claim['unit'])})"
    text += "."
    if why:
        text += f" {why}"
    return Outcome(v, fmt_value(v, claim["unit"]), text, "cta_claims (CTA replica)", asof)


def t_implied_exposure(claim: pd.Series, p: dict, data: ClaimData) -> Outcome:
    """CTA equity exposure implied by a trend index's returns (data, not the replica): the
    percentile of its trailing OLS slope on the S&P 500 (eventlab.cta.exposure)."""
    from eventlab.cta.exposure import exposure_on
    from eventlab.cta.reference import level_series

    levels = level_series(_reference(data, p["index"]), p["index"])
    series = p.get("series", NOTES_INDEX)  # the S&P 500, whatever index the study runs on
    close = _series(data, series)["close"]
    try:
        e = exposure_on(close, levels, int(p["window"]), p["date"])
    except LookupError as exc:
        raise MissingData(str(exc)) from exc
    d = pd.Timestamp(e["date"]).date().isoformat()
    scale = float(p.get("scale", 0.01))
    v = float(e["percentile"]) * scale
    lo, hi = float(e["percentile_low"]), float(e["percentile_high"])
    text = (
        f"{p['index']}: trailing {p['window']}-session OLS slope of its daily returns on the S&P 500's "
        f"on {d} = {float(e['slope']):.3f} (standard error {float(e['se']):.3f}), at percentile "
        f"{float(e['percentile']):.0f} of its own history since 2000 (expanding, no look-ahead); "
        f"the slope +/- 2 standard errors would rank at percentiles {lo:.0f} to {hi:.0f}."
    )
    return Outcome(
        v, fmt_value(v, claim["unit"]), text, f"reference/{p['index']}, prices/{series}", d,
        band=(lo * scale, hi * scale),
    )  # fmt: skip
