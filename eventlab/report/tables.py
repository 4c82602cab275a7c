"""The study's tables as display rows: events, statistics, robustness variants, data eras and
the notes' claims (percentages formatted for reading; the CSV artifacts stay decimal)."""

from __future__ import annotations

import re

import pandas as pd

from eventlab.report.formatting import is_missing, num, pct, pval
from eventlab.report.narrative import main_stats

EVENT_COLUMNS = (
    ("date", "Date", lambda r: pd.Timestamp(r["date"]).date().isoformat()),
    ("weekday", "Day", lambda r: str(r.get("weekday", pd.Timestamp(r["date"]).day_name()))[:3]),
    ("prior_close", "Prior close", lambda r: num(r["prior_close"])),
    ("gap", "Open gap", lambda r: pct(r["gap"])),
    ("high_runup", "High", lambda r: pct(r.get("high_runup"))),
    ("close_to_close", "Close", lambda r: pct(r["close_to_close"])),
    ("open_to_close", "Open→close", lambda r: pct(r.get("open_to_close"))),
    ("vix_close", "VIX", lambda r: num(r.get("vix_close"))),
    ("dist_sma200", "vs 200d avg", lambda r: pct(r.get("dist_sma200"), 1)),
)
# then one column per forward horizon the events carry (fwd_<k>d, the run's study horizons)
_FWD = re.compile(r"^fwd_(\d+)d$")

RETURN_KEYS = {
    "gap",
    "high_runup",
    "close_to_close",
    "open_to_close",
    "dist_sma200",
}


def forward_horizons(events: pd.DataFrame) -> list[int]:
    """The forward horizons (trading days) of the events table's fwd_<k>d columns, ascending."""
    return sorted(int(m.group(1)) for c in events.columns if (m := _FWD.match(str(c))))


def _fwd_column(k: int):
    col = f"fwd_{k}d"
    return (col, f"T+{k}", lambda r: pct(r.get(col)))


def event_rows(events: pd.DataFrame | None) -> tuple[list[str], list[dict[str, object]]]:
    if events is None or len(events) == 0:
        return [], []
    fixed = [(k, h, f) for k, h, f in EVENT_COLUMNS if k in events.columns or k == "weekday"]
    cols = [*fixed, *(_fwd_column(k) for k in forward_horizons(events))]
    rows: list[dict[str, object]] = []
    for _, r in events.sort_values("date").iterrows():
        cells = []
        for k, _, f in cols:
            v = r.get(k)
            sign = (
                ""
                if (k not in RETURN_KEYS and not _FWD.match(k)) or is_missing(v)
                else ("pos" if float(v) > 0 else "neg" if float(v) < 0 else "")
            )
            cells.append({"text": f(r), "cls": sign})
        rows.append({"cells": cells})
    return [h for _, h, _ in cols], rows


def stats_rows(event_stats: pd.DataFrame | None) -> list[dict[str, str]]:
    st = main_stats(event_stats)
    if st is None:
        return []
    out = []
    for _, r in st.iterrows():
        out.append(
            {
                "horizon": f"T+{int(r['horizon'])}",
                "n": f"{int(r.get('n_events_with_horizon', r.get('event_n', 0)))}"
                + (
                    f" (+{int(r['n_events_too_recent'])} too recent)"
                    if r.get("n_events_too_recent", 0)
                    else ""
                ),
                "event_median": pct(r.get("event_median")),
                "baseline_median": pct(r.get("baseline_median")),
                "event_hit": pct(r.get("event_hit_rate"), 0, False),
                "baseline_hit": pct(r.get("baseline_hit_rate"), 0, False),
                "event_mean": pct(r.get("event_mean")),
                "baseline_mean": pct(r.get("baseline_mean")),
                "diff_mean": pct(r.get("diff_mean")),
                "hac_t": num(r.get("hac_t")),
                "hac_p": pval(r.get("hac_p")),
                "p_holm": pval(r.get("p_holm")),
                "mw_p": pval(r.get("mw_p")),
                "boot_ci": f"{pct(r.get('boot_ci_low'))} … {pct(r.get('boot_ci_high'))}",
                "placebo_p": pval(r.get("placebo_p")),
            }
        )
    return out


def robustness_rows(event_stats: pd.DataFrame | None) -> tuple[list[str], list[list[str]]]:
    """One row per variant: n events and median / hit rate per horizon."""
    if event_stats is None or len(event_stats) == 0 or "variant" not in event_stats.columns:
        return [], []
    horizons = sorted(int(h) for h in event_stats["horizon"].unique())
    header = ["Variant", "Definition", "Sample used", "Events"] + [
        f"T+{h} median / hit" for h in horizons
    ]
    rows = []
    for name, grp in event_stats.groupby("variant", sort=False):
        g = grp.set_index("horizon")
        defn = str(grp["definition"].iloc[0]) if "definition" in grp.columns else ""
        span = (
            f"{grp['sample_start'].iloc[0]}..{grp['sample_end'].iloc[0]}"
            if "sample_start" in grp.columns
            else ""
        )
        cells = [str(name), defn, span, str(int(grp["n_events"].max()))]
        for h in horizons:
            if h in g.index:
                r = g.loc[h]
                cells.append(
                    f"{pct(r.get('event_median'))} / {pct(r.get('event_hit_rate'), 0, False)}"
                )
            else:
                cells.append("–")
        rows.append(cells)
    return header, rows


def era_rows(eras: pd.DataFrame | None) -> list[dict[str, str]]:
    if eras is None or len(eras) == 0:
        return []
    out = []
    for _, r in eras.iterrows():
        out.append(
            {
                "start": str(pd.Timestamp(r["era_start"]).date()),
                "end": str(pd.Timestamp(r["era_end"]).date()),
                "quality": str(r.get("open_quality", "")),
                "days": f"{int(r.get('trading_days', 0)):,}",
                "genuine": pct(r.get("share_genuine_open"), 0, False),
                "prev_close": pct(r.get("share_open_eq_prev_close"), 0, False),
                "usable": pct(r.get("share_usable_for_study"), 0, False),
            }
        )
    return out


def claim_rows(claims: pd.DataFrame | None) -> list[dict[str, str]]:
    if claims is None or len(claims) == 0:
        return []
    out = []
    for _, r in claims.iterrows():
        out.append(
            {
                "id": r["id"],
                "topic": r["topic"],
                "kind": r.get("kind", "data"),
                "claim": r["claim"],
                "quote_zh": r["quote_zh"],
                "quoted": _quoted_display(r),
                "computed": r["computed_display"],
                "verdict": r["verdict"],
                "verdict_cls": r["verdict"].replace(" ", "-"),
                "evidence": r["evidence"],
                "source": f"doc {r['source_doc']}, {r['source_section']}",
            }
        )
    return out


def _quoted_display(r: pd.Series) -> str:
    from eventlab.report.claims import fmt_value

    q = r["quoted_value"]
    try:
        v = float(q)
    except (TypeError, ValueError):
        return str(q).replace(";", ", ")
    prefix = {
        "gt": "> ",
        "ge": "≥ ",
        "lt": "< ",
        "le": "≤ ",
        "held_above": "holds ",
        "broke_below": "below ",
        "cross_below": "breaks ",
    }.get(r["comparator"], "")
    return prefix + fmt_value(v, r["unit"])
