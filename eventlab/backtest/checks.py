"""Check algorithms for the backtests: compounded returns match totals, one trade per event
with a full horizon, the configured number of random draws. Each returns (passed, metadata)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.checks import CheckFields


def backtests_consistent(
    backtests: pd.DataFrame,
    daily: pd.DataFrame,
    events: pd.DataFrame,
    trades: pd.DataFrame,
    study_close: pd.Series,
    horizons: tuple[int, ...],
    entries: tuple[str, ...],
    random_draws: int,
) -> CheckFields:
    """Each strategy's compounded daily returns equal its total return; every event with a full
    horizon is one trade per entry; event strategies have `random_draws` random-entry draws."""
    df = backtests
    worst = 0.0
    for _, r in df.iterrows():
        col = r["strategy"] if r["strategy"] in daily.columns else None
        # the study sample's buy-and-hold columns clash with the replica's: suffixed `_study`
        if r["period"] == "study sample" and f"{r['strategy']}_study" in daily.columns:
            col = f"{r['strategy']}_study"
        if col is None or r["period"] == "common":
            continue
        s = daily[col].dropna()
        worst = max(
            worst,
            abs(float(np.prod(1 + s) - 1 - r["total_return"])) / max(1.0, abs(r["total_return"])),
        )
    ev = events
    n_ok = True
    n = len(study_close)
    pos = (
        study_close.index.get_indexer(pd.to_datetime(ev["date"])) if len(ev) else np.array([], int)
    )
    for k in horizons:
        expected = int((pos + k < n).sum())
        for entry in entries:
            got = int(((trades["horizon"] == k) & (trades["entry"] == entry)).sum())
            n_ok &= got == expected
    draws = df.loc[df["strategy"].str.startswith("event_"), "random_draws"]
    draws_ok = bool((draws == random_draws).all())
    return {
        "passed": worst < 1e-9 and n_ok and draws_ok,
        "metadata": {
            "max_relative_difference": worst,
            "trades_match_events": n_ok,
            "draws_ok": draws_ok,
        },
    }


SPLICE_MIN_CORRELATION = 0.95  # daily FF3 market vs SPY; a broken splice falls far below


def search_valid(search: pd.DataFrame) -> CheckFields:
    """Every p-value and PBO lies in [0, 1] (or the row says why it was not computed), and the
    total-return splice's two sources agree on their overlap (daily correlation >= 0.95)."""
    bounded = search["statistic"].str.startswith("p_value") | (search["statistic"] == "pbo")
    v = search.loc[bounded, "value"]
    skipped = search.loc[bounded & v.isna(), "detail"].astype(str)
    in_range = bool(((v >= 0) & (v <= 1)).where(v.notna(), True).all())
    explained = bool(skipped.str.startswith("not computed").all())
    corr = search.loc[search["statistic"] == "overlap_correlation", "value"]
    splice_ok = bool(len(corr) == 1 and corr.iloc[0] >= SPLICE_MIN_CORRELATION)
    return {
        "passed": in_range and explained and splice_ok,
        "metadata": {
            "probabilities_in_range": in_range,
            "skipped_rows_explained": explained,
            "splice_overlap_correlation": float(corr.iloc[0]) if len(corr) else float("nan"),
        },
    }
