"""The column-type registry: what each published column holds, and how a value of that type reads.

Every column of the published CSVs (reports/<as-of>/*.csv) is declared here, by its exact name
or by a declared family (`fwd_{h}d` for any horizon h is a return), with one of the types below.
The UI previews (pipelines/previews.py) and the report's generic tables (render._cell) format
through `format_value`, so a return reads as a percentage everywhere and nothing guesses a type
from a fragment of a column name. An undeclared column falls back to its dtype (previews of
internal tables) — `column_type` returns None for it, and the tests require every published
column to be declared.

Two styles: the preview's (`compact=False`: returns to 2 decimals, prices to cents) and the
report tables' (`compact=True`: returns to 1 decimal, prices and levels to whole points).
"""

from __future__ import annotations

import numbers
import re
from typing import SupportsInt, cast

from eventlab.report.formatting import MISSING, as_float, is_missing, num, pct, pval

RETURN = "return"  # a return or other signed decimal fraction (position in [-1, 1], distance)
SHARE = "share"  # an unsigned fraction shown whole: hit rates, shares of days
RATE = "rate"  # an unsigned fraction that can be small: costs, volatilities, standard deviations
USD = "usd"  # US dollars, shown in $bn
COUNT = "count"  # a whole number: events, days, sessions, draws (thousands separators)
PVALUE = "p-value"
PRICE = "price"  # a price or index level, in its own points
NUMBER = "number"  # a statistic: t, beta, ratio, correlation, slope, percentile points
YEAR = "year"
DATE = "date"
TEXT = "text"
FLAG = "flag"  # yes / no
IN_UNIT = "in unit"  # a figure in the unit named by the row's `unit` column (cta_claims)
TYPES = (RETURN, SHARE, RATE, USD, COUNT, PVALUE, PRICE, NUMBER, YEAR, DATE, TEXT, FLAG, IN_UNIT)

_DECLARED: dict[str, tuple[str, ...]] = {
    RETURN: (
        "gap", "close_to_close", "open_to_close", "high_runup", "reversal", "gross_return",
        "net_return", "index_gap", "reference_gap", "event_mean", "event_median", "baseline_mean",
        "baseline_median", "diff_mean", "diff_median", "main_diff_mean", "boot_ci_low",
        "boot_ci_high", "event_boot_ci_low", "event_boot_ci_high", "t_ci_low", "t_ci_high",
        "median_ci_low", "median_ci_high", "mean_all", "mean_without", "median_all",
        "median_without", "mean_change", "hac_coef", "path_return", "distance", "position",
        "position_start", "position_end", "difference_pct", "total_return", "cagr",
        "max_drawdown", "mean_trade", "replica_mean", "benchmark_mean", "ci_low", "ci_high",
        "longest_diff_mean", "stated_effect",
    ),
    SHARE: (
        "hit_rate", "event_hit_rate", "baseline_hit_rate", "random_hit_p50",
        "vix_matched_hit_p50", "sign_agreement", "share_usable", "share_genuine_open",
        "share_open_eq_prev_close", "share_close_only", "share_usable_for_study",
        "share_index_open_genuine", "size", "size_any_horizon", "power", "no_effect_under_effect",
    ),
    RATE: (
        "cost", "cost_drag", "volatility", "vol_ann", "tracking_error", "time_in_market",
        "event_std", "baseline_std", "hac_se", "median_ci_coverage", "threshold",
        "vol_target",
    ),
    USD: (
        "implied_capacity_usd", "notional_start_usd", "notional_end_usd", "flow_usd",
        "first_day_flow_usd", "max_daily_sell_usd",
    ),
    COUNT: (
        "horizon", "n", "n_events", "n_events_with_horizon", "n_events_too_recent", "event_n",
        "baseline_n", "baseline_days", "events_in_regime", "sample_days", "trading_days",
        "trading_days_requested", "qualifying_days", "lookback_days", "days", "window",
        "random_draws", "vix_matched_draws", "n_trades", "cost_bp", "hac_maxlags",
        "agreeing",
        "dsr_trials", "n_obs", "n_trials", "smoothing",
        "boot_block_len", "reference_events_unseen", "episode", "volume", "n_sample",
        "placebo_shifts", "specs_tested", "specs_defined", "longest_n_events", "placebo_sets",
    ),
    PVALUE: (
        "t_p", "binom_p", "welch_p", "mw_p", "hac_p", "placebo_p", "perm_p", "p_holm", "p_bh",
        "perm_p_holm", "perm_p_bh", "perm_p_all", "perm_p_without", "main_p_family",
        "longest_p_family", "random_p_value", "vix_matched_p_value", "p", "p_value", "q_bh",
        "q_by", "alpha",
    ),
    PRICE: (
        "open", "high", "low", "close", "prior_close", "level", "entry_price", "exit_price",
        "price_start", "price_end", "vix_close",
    ),
    NUMBER: (
        "years", "sharpe", "sortino", "calmar", "turnover_per_year", "welch_t", "mw_u", "hac_t",
        "slope", "se", "r2", "bond_slope", "beta", "correlation", "ratio", "median_ratio",
        "rolling_median_ratio", "signal", "std_multiple", "percentile", "random_percentile",
        "vix_matched_percentile", "estimate", "observed", "null_mean", "null_q95",
        "deflated_sharpe", "dsr_benchmark_sharpe", "value", "saturation_z", "in_sample_corr",
        "out_of_sample_corr",
    ),
    YEAR: ("year",),
    DATE: (
        "date", "as_of", "start", "end", "event_date", "entry_date", "exit_date", "era_start",
        "era_end", "sample_start", "sample_end", "requested_start", "first_usable_open",
        "continuously_usable_since", "effective_visibility_from", "max_drawdown_peak",
        "max_drawdown_trough", "max_drawdown_recovery", "replica_date", "window_start",
        "window_end", "left_out", "data_as_of",
    ),
    FLAG: (
        "overlaps_previous", "has_horizon", "small_sample_warning", "near_threshold",
        "qualifying", "index_open_genuine", "declustered", "tested", "significant",
        "survives_bh", "survives_by",
        "chosen",
    ),
    IN_UNIT: (
        "notes_value", "notes_low", "notes_high", "replica_value", "replica_low", "replica_high",
        "difference",
    ),
    TEXT: (
        # labels and keys
        "variant", "index", "definition", "baseline", "baseline_description", "strategy", "kind",
        "entry", "period", "model", "measure", "benchmark", "frequency", "rule", "method",
        "applies_to", "scenario", "status", "open_quality", "weekday", "verdict", "direction",
        "claim_id", "unit", "source", "id", "topic", "comparator", "source_doc",
        "source_section", "lookbacks",
        # free text and lists
        "claim", "quote_zh", "evidence", "reason", "conflicts", "family_adjustment",
        "inference_note", "replica_definition", "why_differ", "event_dates", "data_used",
        "data_dates", "detail",
        # the claims' values as text (a number, a date or a label, in the claim's unit)
        "quoted_value", "computed_value", "computed_display", "tolerance",
        # the hypothesis ledger and the specification curve
        "hypothesis_id", "family", "spec", "series", "test", "code_version", "created_utc",
        "spec_id", "close_rule", "statistic",
    ),
}  # fmt: skip

# Families: names with a horizon, window or quantile in them ({h}: digits).
FAMILIES: tuple[tuple[str, str], ...] = (
    ("fwd_{h}d", RETURN),
    ("mean_fwd_{h}d", RETURN),
    ("median_fwd_{h}d", RETURN),
    ("dist_sma{h}", RETURN),
    ("event_q{h}", RETURN),
    ("baseline_q{h}", RETURN),
    ("random_mean_p{h}", RETURN),
    ("vix_matched_mean_p{h}", RETURN),
    ("hit_rate_{h}d", SHARE),
    ("open_coverage_{h}d", SHARE),
    ("n_fwd_{h}d", COUNT),
)

COLUMN_TYPES: dict[str, str] = {c: t for t, cols in _DECLARED.items() for c in cols}
_FAMILY_RE = [
    (re.compile("^" + re.escape(f).replace(re.escape("{h}"), r"\d+") + "$"), t) for f, t in FAMILIES
]

# A cta_claims row's unit -> the type its figures read as.
UNIT_TYPES: dict[str, str] = {
    "index points": PRICE,
    "percentile (0-100)": NUMBER,
    "USD": USD,
}


def column_type(name: str) -> str | None:
    """The declared type of a column (exact name first, then the families), None if undeclared."""
    if name in COLUMN_TYPES:
        return COLUMN_TYPES[name]
    return next((t for rx, t in _FAMILY_RE if rx.match(name)), None)


def _no_minus_zero(text: str, signed: bool = False) -> str:
    """'-0.000' -> '0.000', '-0.0%' -> '+0.0%' (signed): a value that rounds to zero has no minus."""
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        return ("+" if signed else "") + text[1:]
    return text


def usd_bn(x: object) -> str:
    v = as_float(x)
    return _no_minus_zero(f"{'-' if v < 0 else ''}${abs(v) / 1e9:,.1f}bn")


def format_value(
    ctype: str | None,
    x: object,
    *,
    compact: bool = False,
    unit: str | None = None,
    floatfmt: str = ",.4g",
) -> str:
    """One value as text, by its column's type. Text (a label in a numeric column, a date string)
    passes through; a missing value is an en dash. `floatfmt` is for NUMBER and undeclared
    columns; `unit` for IN_UNIT columns (the row's `unit`)."""
    if is_missing(x):
        return MISSING
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, str):
        return x
    if hasattr(x, "date") and hasattr(x, "normalize"):  # a pd.Timestamp
        return x.date().isoformat() if x == x.normalize() else f"{x:%Y-%m-%d %H:%M}"
    if not isinstance(x, numbers.Number):  # a date object, a label in a numeric column
        return str(x)
    if ctype == IN_UNIT:
        ctype = UNIT_TYPES.get(unit or "", NUMBER)
    if ctype == RETURN:
        return _no_minus_zero(pct(x, 1 if compact else 2), signed=True)
    if ctype == SHARE:
        return _no_minus_zero(pct(x, 0, signed=False))
    if ctype == RATE:
        return _no_minus_zero(pct(x, 2, signed=False))
    if ctype == USD:
        return usd_bn(x)
    if ctype == COUNT:
        return _no_minus_zero(num(x, 0))
    if ctype == PVALUE:
        return pval(x)
    if ctype == PRICE:
        return _no_minus_zero(num(x, 0 if compact else 2))
    if ctype == YEAR:
        return f"{int(cast(SupportsInt, x))}"  # a numbers.Number (checked above): typeshed gives it no __int__
    if ctype == FLAG:
        return "yes" if x else "no"
    return _no_minus_zero(format(x, floatfmt))
