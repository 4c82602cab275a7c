"""The claims table: one row per checkable claim of the research notes (eventlab/report/claims.csv).

Each row holds the claim in English with the Chinese quote, the quoted value and unit, how to
compare (comparator + tolerance), the source document and section, and the check's method and
parameters (JSON). Each claim has a `kind`: ``data`` (checked against market data) or ``model``
(compared with the CTA replica, a model whose output is not evidence about the market).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

CLAIMS_CSV = Path(__file__).parent.with_name("claims.csv")

DATA, MODEL = "data", "model"
KINDS = (DATA, MODEL)

CLAIM_COLUMNS = (
    "id",
    "topic",
    "kind",
    "claim",
    "quote_zh",
    "quoted_value",
    "unit",
    "comparator",
    "tolerance",
    "source_doc",
    "source_section",
    "method",
    "params",
    "note",
)


def load_claims(path: Path | None = None) -> pd.DataFrame:
    """The claims table (strings; numbers are parsed where a test needs them)."""
    df = pd.read_csv(path or CLAIMS_CSV, dtype=str, keep_default_na=False)
    missing = [c for c in CLAIM_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"claims table {path or CLAIMS_CSV}: missing columns {missing}")
    bad = sorted(set(df["kind"]) - set(KINDS))
    if bad:
        raise ValueError(f"claims table: unknown kind {bad}; use one of {list(KINDS)}")
    if df["id"].duplicated().any():
        raise ValueError(
            f"claims table: duplicate ids {sorted(df.loc[df['id'].duplicated(), 'id'])}"
        )
    return df
