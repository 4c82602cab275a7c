"""False-discovery control over the whole ledger: Benjamini-Hochberg and Benjamini-Yekutieli.

Every hypothesis with a p-value ever appended (every study, series, horizon, variant, baseline,
backtest test, specification and data as-of) is one family: the q-values say how many of the
"discoveries" at a level are expected to be false given everything that was asked. BH assumes
independent or positively dependent tests; BY holds under any dependence (the ledger's tests
share data, so BY is the conservative figure). statsmodels' `multipletests` computes both.
Hypotheses without a p-value (calibration grid points, model backtests) are counted as trials,
not as tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

FDR_COLUMNS: tuple[str, ...] = ("q_bh", "q_by", "survives_bh", "survives_by")


def ledger_fdr(ledger: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The ledger with each tested hypothesis' BH and BY q-values over every tested hypothesis
    in it, and whether it survives at `alpha` (q <= alpha); untested rows get no q."""
    out = ledger.copy()
    p = pd.to_numeric(out["p_value"], errors="coerce").to_numpy(float)
    tested = ~np.isnan(p)
    q_bh, q_by = np.full(len(p), np.nan), np.full(len(p), np.nan)
    if tested.any():
        q_bh[tested] = multipletests(p[tested], alpha=alpha, method="fdr_bh")[1]
        q_by[tested] = multipletests(p[tested], alpha=alpha, method="fdr_by")[1]
    out["q_bh"], out["q_by"] = q_bh, q_by
    out["survives_bh"] = tested & (q_bh <= alpha)
    out["survives_by"] = tested & (q_by <= alpha)
    return out


def ledger_summary(fdr: pd.DataFrame) -> dict[str, int]:
    """Counts the report states: hypotheses evaluated, those tested (with a p-value), and those
    surviving BH and BY."""
    tested = fdr["p_value"].notna()
    return {
        "hypotheses": len(fdr),
        "tested": int(tested.sum()),
        "survive_bh": int(fdr["survives_bh"].sum()),
        "survive_by": int(fdr["survives_by"].sum()),
    }


def adjusted_q(
    fdr: pd.DataFrame, *, family: str, definition: str, data_as_of: str, variant: str = "main"
) -> pd.DataFrame:
    """The ledger-wide q-values (horizon, q_bh, q_by) of one line of evidence on one data as-of,
    e.g. the headline study's main definition: what a verdict weighs instead of a p-value
    adjusted only across its own horizons."""
    sel = fdr[
        (fdr["family"] == family)
        & (fdr["variant"] == variant)
        & (fdr["definition"] == definition)
        & (fdr["data_as_of"] == data_as_of)
    ]
    return sel.loc[:, ["horizon", "q_bh", "q_by"]].sort_values("horizon").reset_index(drop=True)


def family_p_values(
    fdr: pd.DataFrame, event_stats: pd.DataFrame, data_as_of: str, column: str = "q_by"
) -> dict[tuple[str, int], float]:
    """{(variant, horizon): ledger-wide q} for every event_stats row of this data as-of: the
    family-adjusted p a verdict weighs (eventlab.study.verdict_table.verdicts' `family_p`).
    Benjamini-Yekutieli by default: the ledger's tests share data, and BY holds under any
    dependence between them."""
    out: dict[tuple[str, int], float] = {}
    for variant, rows in event_stats.groupby("variant", sort=False, observed=True):
        q = adjusted_q(
            fdr,
            family="event_study",
            definition=str(rows["definition"].iloc[0]),
            data_as_of=data_as_of,
            variant=str(variant),
        )
        out.update(
            {(str(variant), int(h)): float(v) for h, v in zip(q["horizon"], q[column], strict=True)}
        )
    return out
