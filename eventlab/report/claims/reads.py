"""What the claims' checks read, from each claim's method and parameters: the lineage of the
claims-vs-data table (a check reads nothing else; tests/test_lineage.py records the reads of a
real evaluation and compares them with this)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pandas as pd

from eventlab.report.claims.data import NOTES_INDEX

# ("prices" | "intraday" | "reference", name) for the market data; ("table", name) for the
# study's and the replica's tables
Read = tuple[str, str]

# the event checks read the events table, its statistics and the study index's bars
EVENT_METHODS = frozenset({"event_count", "coverage_start", "is_event", "prior_events"})
EVENT_READS: tuple[Read, ...] = (("table", "events"), ("table", "event_stats"))
# checks whose reference table is fixed by the method rather than named in its parameters
FIXED_TABLES = {
    "fomc_prob": "fomc_prob_next_meeting",
    "prediction_market": "fomc_dec2025_prediction_markets",
}
# parameters naming a series (daily, or intraday when the name is an intraday series)
SERIES_PARAMS = ("series", "other_series", "proxy", "daily")


def _claim_reads(method: str, p: dict, index_key: str, intraday: frozenset[str]) -> set[Read]:
    """The data one claim's check reads."""
    out: set[Read] = set()
    if method in EVENT_METHODS:
        out |= {*EVENT_READS, ("prices", index_key)}
    if method == "cta":
        out.add(("table", "cta_claims"))
    if method == "implied_exposure":
        out |= {("reference", p["index"]), ("prices", p.get("series", NOTES_INDEX))}
    for name in SERIES_PARAMS:
        if name in p:
            out.add(("intraday" if p[name] in intraday else "prices", p[name]))
    if "table" in p:
        out.add(("reference", p["table"]))
    if method in FIXED_TABLES:
        out.add(("reference", FIXED_TABLES[method]))
    if method == "day_stat" and p.get("series") == "VIX" and p.get("stat") == "close":
        out.add(("reference", "vix_cboe"))  # CBOE's own VIX close, when shipped
    return out


def claim_reads(claims: pd.DataFrame, index_key: str, intraday: Iterable[str]) -> set[Read]:
    """Every piece of data the claims' checks read (`index_key`: the study's index, whose bars
    the event checks read; `intraday`: the intraday series' names)."""
    names = frozenset(intraday)
    out: set[Read] = set()
    for _, claim in claims.iterrows():
        params = json.loads(claim["params"] or "{}")
        out |= _claim_reads(str(claim["method"]), params, index_key, names)
    return out
