"""The column-type registry (eventlab/report/columns.py): every published column has a declared
type, each type reads one way, and the previews and the report's tables format through it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventlab.report.columns import (
    COUNT,
    FAMILIES,
    IN_UNIT,
    NUMBER,
    PRICE,
    PVALUE,
    RETURN,
    SHARE,
    TYPES,
    USD,
    column_type,
    format_value,
)


def test_every_published_column_has_a_declared_type(materialized) -> None:
    csvs = sorted(materialized.report_dir.glob("*.csv"))
    assert len(csvs) >= 15, csvs
    undeclared = {
        f"{p.name}:{c}"
        for p in csvs
        for c in pd.read_csv(p, nrows=0).columns
        if column_type(str(c)) is None
    }
    assert not undeclared, sorted(undeclared)


def test_the_pipeline_tables_columns_are_declared() -> None:
    """The same check without a published run: the column lists the code declares."""
    from eventlab.cta.claims import CLAIM_COLUMNS
    from eventlab.cta.levels import LEVEL_COLUMNS
    from eventlab.report.claims import RESULT_COLUMNS

    for c in (*CLAIM_COLUMNS, *LEVEL_COLUMNS, *RESULT_COLUMNS):
        assert column_type(c) in TYPES, c


def test_families_cover_any_horizon() -> None:
    assert column_type("fwd_1d") == column_type("fwd_63d") == RETURN
    assert column_type("median_fwd_10d") == RETURN and column_type("hit_rate_5d") == SHARE
    assert column_type("n_fwd_40d") == COUNT and column_type("dist_sma100") == RETURN
    assert column_type("fwd_xd") is None and column_type("no_such_column") is None
    assert {t for _, t in FAMILIES} <= set(TYPES)


def test_each_type_reads_one_way() -> None:
    assert format_value(column_type("fwd_5d"), 0.0144) == "+1.44%"  # a return: signed percent
    assert format_value(column_type("fwd_5d"), 0.0144, compact=True) == "+1.4%"
    assert format_value(column_type("cagr"), 0.059) == "+5.90%"
    assert format_value(column_type("hit_rate_20d"), 2 / 3) == "67%"
    assert format_value(column_type("baseline_n"), 17523) == "17,523"  # count: separators
    assert format_value(column_type("n_trades"), 2.0) == "2"  # a float count has no decimals
    assert format_value(column_type("perm_p_holm"), 0.0004) == "<0.001"
    assert format_value(column_type("hac_p"), 0.05) == "0.050"
    assert column_type("hac_p") == PVALUE and column_type("random_p_value") == PVALUE
    assert format_value(column_type("flow_usd"), -1.2345e11) == "-$123.5bn"
    assert format_value(column_type("close"), 6712.5) == "6,712.50"
    assert format_value(column_type("close"), 6712.5, compact=True) == "6,712"
    assert format_value(column_type("year"), 1993) == "1993"
    assert format_value(column_type("near_threshold"), True) == "yes"
    assert format_value(column_type("date"), pd.Timestamp("2025-11-20")) == "2025-11-20"
    assert format_value(RETURN, np.nan) == format_value(COUNT, None) == "–"
    assert format_value(column_type("horizon"), "short") == "short"  # a label passes through


def test_in_unit_figures_follow_the_rows_unit() -> None:
    assert column_type("replica_value") == IN_UNIT
    assert format_value(IN_UNIT, 6725.0, unit="index points", compact=True) == "6,725"
    assert format_value(IN_UNIT, 69.146, unit="percentile (0-100)") == "69.15"
    assert format_value(IN_UNIT, 1.65e11, unit="USD") == "$165.0bn"


@pytest.mark.parametrize("x", [-0.0, -1e-9, -0.00004, -4e-7])
def test_minus_zero_never_appears(x: float) -> None:
    for ctype in (RETURN, SHARE, COUNT, PRICE, NUMBER, USD, None):
        for compact in (False, True):
            for floatfmt in (",.4g", ".3f", ".2f"):
                text = format_value(ctype, x, compact=compact, floatfmt=floatfmt)
                negative_zero = text.startswith("-") and not any(d in text for d in "123456789")
                assert not negative_zero, (ctype, x, text)


def test_previews_format_by_declared_type() -> None:
    """The wide previews used to show raw decimals (cagr 0.059, n_trades 2.000, -0.000)."""
    from pipelines.previews import markdown_table

    df = pd.DataFrame(
        {
            "strategy": ["event"],
            "cagr": [0.059],
            "n_trades": [2.0],
            "random_p_value": [0.0004],
            "max_drawdown": [-0.2],
            "sharpe": [-0.00001],
            "flow_usd": [-2.5e10],
        }
    )
    md = markdown_table(df, floatfmt=".3f")
    row = md.splitlines()[2]
    assert row == "| event | +5.90% | 2 | <0.001 | -20.00% | 0.000 | -$25.0bn |", row
    assert "-0.000" not in md


def test_report_cta_cells_use_the_registry() -> None:
    from eventlab.report.cta_tables import _cell, generic_table

    assert _cell("position_end", -0.1197) == "-12.0%" and _cell("close", 7641.16) == "7,641"
    assert _cell("max_daily_sell_usd", 0.0) == "$0.0bn"  # was '0' among $bn figures
    tab = pd.DataFrame(
        {"claim": ["a", "b"], "unit": ["index points", "USD"], "notes_value": [6725.0, -4.5e10]}
    )
    assert [r[2] for r in generic_table(tab)["rows"]] == ["6,725", "-$45.0bn"]


def test_claims_checks_read_the_cta_tables_real_columns() -> None:
    from eventlab.cta.claims import CLAIM_COLUMNS
    from eventlab.report.claims.checks_cta import CTA_COLUMNS_READ

    assert set(CTA_COLUMNS_READ) <= set(CLAIM_COLUMNS)
