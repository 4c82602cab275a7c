"""The research notes' claims as data, and their verdicts computed from the data.

`claims.csv` (eventlab/report/claims.csv) holds one row per checkable claim; `evaluate_claims`
runs every claim's check against the frames in `ClaimData` and returns one verdict row per claim
(confirmed / differs / within noise / at the boundary / cannot check). No figure is written by hand here: every
number in a verdict comes from the frames.

One job per module:

- loader: the claims table (columns, kinds, validation);
- data: what the checks read (`ClaimData`) and return (`Outcome`), shared accessors;
- display: a value in a claim's unit as text;
- engine: the verdict rules (comparators, noise bands) and the method -> check table;
- checks_events, checks_prices, checks_reference, checks_cta: the checks, by topic.
"""

from eventlab.report.claims.checks_events import us_session_for_local_date
from eventlab.report.claims.data import ClaimData, MissingData, Outcome
from eventlab.report.claims.display import fmt_diff, fmt_value
from eventlab.report.claims.engine import (
    BOUNDARY,
    CANNOT,
    CONFIRMED,
    DIFFERS,
    NOISE,
    RESULT_COLUMNS,
    TESTS,
    VERDICTS,
    compare,
    evaluate_claim,
    evaluate_claims,
    verdict_counts,
)
from eventlab.report.claims.loader import (
    CLAIM_COLUMNS,
    CLAIMS_CSV,
    DATA,
    KINDS,
    MODEL,
    load_claims,
)

__all__ = [
    "BOUNDARY",
    "CANNOT",
    "CLAIMS_CSV",
    "CLAIM_COLUMNS",
    "CONFIRMED",
    "DATA",
    "DIFFERS",
    "KINDS",
    "MODEL",
    "NOISE",
    "RESULT_COLUMNS",
    "TESTS",
    "VERDICTS",
    "ClaimData",
    "MissingData",
    "Outcome",
    "compare",
    "evaluate_claim",
    "evaluate_claims",
    "fmt_diff",
    "fmt_value",
    "load_claims",
    "us_session_for_local_date",
    "verdict_counts",
]
