"""The key-figures panel at the top of the report: what an alphalens / quantstats reader looks for
first (the verdict, n, mean with its interval, median, hit rate, best and worst), per horizon,
events vs the non-event days of the sample.

Computed from the events table's forward returns (the per-event rows the reader can check) and,
for the comparison with all days, the main definition's baseline in event_stats.
"""

from __future__ import annotations

import re

import pandas as pd

from eventlab.report.formatting import pct
from eventlab.report.lead import operating_text
from eventlab.report.narrative import main_stats
from eventlab.study.returns import mean_t_interval

CONF = 0.95
_FWD = re.compile(r"^fwd_(\d+)d$")


def _cls(x: float) -> str:
    return "pos" if x > 0 else "neg" if x < 0 else ""


def horizons_of(events: pd.DataFrame) -> list[int]:
    """Horizons k with a `fwd_{k}d` column, ascending."""
    return sorted(int(m.group(1)) for c in events.columns if (m := _FWD.match(str(c))))


def key_figures(
    events: pd.DataFrame | None,
    event_stats: pd.DataFrame | None,
    verdicts: pd.DataFrame | None = None,
) -> dict[str, object] | None:
    """{"columns": ["T+1", ...], "rows": [{"label", "note", "cells": [{"text", "sub", "cls"}]}],
    "note"}; None when there are no events."""
    if events is None or len(events) == 0:
        return None
    hs = horizons_of(events)
    if not hs:
        return None
    base = main_stats(event_stats)
    base = base.set_index("horizon") if base is not None and "horizon" in base.columns else None
    keys = ("verdict", "n", "mean", "median", "hit", "best", "worst")
    rows: dict[str, list[dict[str, str]]] = {k: [] for k in keys}
    by_h = (
        verdicts.set_index("horizon")
        if verdicts is not None and len(verdicts) and "horizon" in verdicts.columns
        else None
    )
    for h in hs:
        x = pd.to_numeric(events[f"fwd_{h}d"], errors="coerce").dropna()
        n, mean, low, high = mean_t_interval(x, CONF)
        b = base.loc[h] if base is not None and h in base.index else None
        too_recent = len(events) - n
        verdict = by_h.loc[h] if by_h is not None and h in by_h.index else None
        rows["verdict"].append(
            {
                "text": str(verdict["verdict"]) if verdict is not None else "–",
                "sub": operating_text(verdict.to_dict()) if verdict is not None else "",
                "cls": "",
            }
        )
        rows["n"].append(
            {"text": str(n), "sub": f"+{too_recent} too recent" if too_recent else "", "cls": ""}
        )
        rows["mean"].append(
            {
                "text": pct(mean),
                "sub": f"{pct(low)} … {pct(high)}" if n >= 2 else "n < 2: no interval",
                "cls": _cls(mean) if n else "",
            }
        )
        med = float(x.median()) if n else float("nan")
        rows["median"].append(
            {
                "text": pct(med),
                "sub": f"non-event days {pct(b.get('baseline_median'))}" if b is not None else "",
                "cls": _cls(med) if n else "",
            }
        )
        hit = float((x > 0).mean()) if n else float("nan")
        rows["hit"].append(
            {
                "text": f"{pct(hit, 0, False)}" + (f" ({int((x > 0).sum())}/{n})" if n else ""),
                "sub": (
                    f"non-event days {pct(b.get('baseline_hit_rate'), 0, False)}"
                    + (
                        f"; binomial p {float(b['binom_p']):.2f}"
                        if pd.notna(b.get("binom_p", float("nan")))
                        else ""
                    )
                )
                if b is not None
                else "",
                "cls": "",
            }
        )
        for key, fn in (("best", x.max), ("worst", x.min)):
            v = float(fn()) if n else float("nan")
            rows[key].append({"text": pct(v), "sub": "", "cls": _cls(v) if n else ""})
    labels = {
        "verdict": ("Verdict", "the rule's size and power beside it (see below)"),
        "n": ("Events", ""),
        "mean": ("Mean", f"{CONF:.0%} t-interval (n − 1 d.f.)"),
        "median": ("Median", ""),
        "hit": ("Hit rate", "share of events up"),
        "best": ("Best event", ""),
        "worst": ("Worst event", ""),
    }
    if by_h is None:
        rows.pop("verdict")
    return {
        "columns": [f"T+{h}" for h in hs],
        "rows": [
            {"label": labels[k][0], "note": labels[k][1], "cells": v} for k, v in rows.items()
        ],
        "note": "Returns from the event close to the close k sessions later (main definition). "
        "With few events the interval is wide and a hit rate is weak evidence (the binomial p says "
        "how weak): the verdict weighs the longer SPY history, each series checked declustered and against a "
        "regime-matched baseline; size is how often the rule says supported on placebo event sets with no "
        "effect, power how often it does with the stated effect added.",
    }
