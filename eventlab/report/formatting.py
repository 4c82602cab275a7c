"""How the report writes a number: percentages, p-values and plain figures, in one place.

The report's modules (render, evidence, narrative, key_figures) all format through these
functions, so a return reads the same in a table, a key figure and a sentence. A missing value
(None, NaN, NaT, pd.NA) gives `missing`: an en dash in table cells, "n/a" in sentences.
"""

from __future__ import annotations

import math
from typing import SupportsFloat, cast

import pandas as pd

MISSING = "–"  # a table cell without a value
MISSING_IN_PROSE = "n/a"  # a sentence (and the evidence tables built with them)


def as_float(x: object) -> float:
    """float(x) for a value known to be a number (table cells arrive typed as `object`)."""
    return float(cast(SupportsFloat, x))


def is_missing(x: object) -> bool:
    """True for None, NaN (Python or numpy floats), NaT and pd.NA."""
    if x is None or x is pd.NaT or x is pd.NA:
        return True
    try:
        return math.isnan(cast(SupportsFloat, x))  # anything else raises TypeError: caught
    except TypeError:  # not a number at all (a string, a date): not "missing"
        return False


def pct(x: object, digits: int = 2, signed: bool = True, missing: str = MISSING) -> str:
    """A decimal fraction as a percentage: 0.0144 -> '+1.44%' (signed) or '1.44%'."""
    if is_missing(x):
        return missing
    return f"{as_float(x):{'+' if signed else ''}.{digits}%}"


def pval(x: object, missing: str = MISSING) -> str:
    """A p-value to three decimals; below 0.001 it is '<0.001' (more digits claim too much)."""
    if is_missing(x):
        return missing
    v = as_float(x)
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def num(x: object, digits: int = 2, missing: str = MISSING) -> str:
    """A plain figure with thousands separators: 6712.5 -> '6,712.50'."""
    if is_missing(x):
        return missing
    return f"{as_float(x):,.{digits}f}"
