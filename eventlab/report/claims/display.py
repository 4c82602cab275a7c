"""How a claim's value reads in its unit (the claim's `unit` column: fraction, probability,
index points, usd_bn ...): the display of computed and quoted values, of differences, and the
CSV text of computed values."""

from __future__ import annotations

import math
from typing import SupportsFloat, cast

import numpy as np


def fmt_value(value: object, unit: str) -> str:
    """Human display of a computed or quoted value in the claim's unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    v = float(cast(SupportsFloat, value))  # a number: None, text and booleans returned above
    if unit == "fraction":
        return f"{v:+.2%}"
    if unit in ("probability", "percentile"):
        return f"{v:.1%}"
    if unit == "yield":
        return f"{v:.2%}"
    if unit == "count":
        return f"{v:.0f}"
    if unit == "index_points":
        return f"{v:,.0f}" if v == round(v) else f"{v:,.1f}"
    sign = "-" if v < 0 else ""
    if unit == "usd":
        return f"{sign}${abs(v):,.0f}"
    if unit == "usd_bn":
        return f"{sign}${abs(v):,.0f}bn"
    if unit == "usd_mn":
        return f"{sign}${abs(v):,.1f}M"
    if unit == "vix_points":
        return f"{v:.2f}"
    return f"{v:,.4g}"


def fmt_diff(diff: float, unit: str, signed: bool = True) -> str:
    sign = "+" if signed else ""
    if unit in ("fraction", "probability", "percentile", "yield"):
        return f"{diff * 100:{sign}.2f} pp"
    if unit in ("usd_bn",):
        return f"{diff:{sign},.0f}bn"
    return f"{diff:{sign},.2f}"


def _value_text(v: object) -> str | None:
    """Computed values as text for the CSV: numbers with 10 significant digits, dates/labels as is."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool | np.bool_):
        return str(bool(v)).lower()
    try:
        return f"{float(cast(SupportsFloat, v)):.10g}"  # anything else: str() below
    except (TypeError, ValueError):
        return str(v)
