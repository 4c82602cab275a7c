"""Check algorithms for the event study: open coverage of the requested window, events that
follow the definition, consistent statistics. Each returns the check's fields (passed, metadata)."""

from __future__ import annotations

import pandas as pd

from eventlab.checks import CheckFields
from eventlab.config import StudyParams
from eventlab.study.open_quality import coverage_summary


def coverage_check(flags: pd.DataFrame, params: StudyParams) -> CheckFields:
    """Do genuine opens reach back to (within a year of) the requested start?"""
    cov = coverage_summary(
        flags, pd.Timestamp(params.start), pd.Timestamp(params.end) if params.end else None
    )
    first = cov["first_usable_open"]
    ok = first is not None and pd.Timestamp(first) <= pd.Timestamp(params.start) + pd.Timedelta(
        days=366
    )
    text = (
        f"Genuine opens cover {cov['share_usable']:.1%} of the trading days since {cov['requested_start']}; "
        f"the first usable open is {first}. Events before that cannot be seen in this data."
    )
    return {
        "passed": bool(ok),
        "description": text,
        "metadata": {k: (v if v is not None else "none") for k, v in cov.items()},
    }


def definition_check(events: pd.DataFrame, flags: pd.DataFrame, params: StudyParams) -> CheckFields:
    """Every event has gap > threshold, closed red by the close rule, and (by default) a genuine open."""
    ok_rule = bool((events["gap"] > params.gap_threshold).all())
    ref = events["prior_close"] if params.close_rule == "prior_close" else events["open"]
    red = bool((events["close"] < ref).all())
    genuine = (
        flags["open_genuine"].reindex(pd.DatetimeIndex(events["date"]), fill_value=False).to_numpy()
    )
    ok_open = params.open_policy == "all" or bool(genuine.all())
    meta = {"events": len(events), "gap_rule": ok_rule, "red_rule": red, "genuine_opens": ok_open}
    return {"passed": ok_rule and red and ok_open, "metadata": meta}


def stats_check(stats: pd.DataFrame, events: pd.DataFrame) -> CheckFields:
    """p-values lie in [0, 1] and the main variant's event count equals the events table."""
    main = stats[stats["variant"] == "main"]
    cols = [
        "welch_p",
        "mw_p",
        "hac_p",
        "placebo_p",
        "p_holm",
        "p_bh",
        "binom_p",
        "perm_p",
        "perm_p_holm",
    ]
    # Rows below the minimum event count have no p-values (NaN): only present ones are checked.
    p = pd.Series(stats[[c for c in cols if c in stats.columns]].to_numpy(float).ravel()).dropna()
    counts_ok = bool((main["n_events"] == len(events)).all())
    meta = {"main_n_events": int(main["n_events"].iloc[0]), "events_rows": len(events)}
    return {"passed": bool(((p >= 0) & (p <= 1)).all()) and counts_ok, "metadata": meta}
