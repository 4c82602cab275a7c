"""The report's short narrative, generated from the computed tables (no hand-written figures).

Every sentence is built from the events table, the statistics, the open-quality eras, the claim
verdicts and (when present) the CTA tables. If a table is missing the sentence says so.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from eventlab.report.claims import BOUNDARY, CANNOT, CONFIRMED, DATA, DIFFERS, MODEL, NOISE
from eventlab.report.formatting import MISSING_IN_PROSE, pct

_pct = partial(pct, missing=MISSING_IN_PROSE)


def main_stats(event_stats: pd.DataFrame | None, variant: str = "main") -> pd.DataFrame | None:
    """The main definition's rows (one per horizon), sorted by horizon."""
    if event_stats is None or len(event_stats) == 0:
        return None
    st = event_stats
    if "variant" in st.columns:
        st = (
            st[st["variant"] == variant]
            if (st["variant"] == variant).any()
            else st[st["variant"] == st["variant"].iloc[0]]
        )
    return st.sort_values("horizon").reset_index(drop=True)


def coverage_facts(event_stats: pd.DataFrame | None) -> dict[str, object]:
    st = main_stats(event_stats)
    if st is None:
        return {}
    row = st.iloc[0]
    keys = (
        "requested_start",
        "sample_start",
        "sample_end",
        "first_usable_open",
        "continuously_usable_since",
        "share_usable",
        "sample_days",
        "definition",
    )
    return {k: row[k] for k in keys if k in st.columns}


def narrative(
    events: pd.DataFrame | None,
    event_stats: pd.DataFrame | None,
    claims: pd.DataFrame | None,
    cta_tables: dict[str, pd.DataFrame] | None = None,
    as_of: str | None = None,
) -> list[str]:
    """A few paragraphs (plain text) stating what the data says."""
    paras: list[str] = []
    cov = coverage_facts(event_stats)
    st = main_stats(event_stats)
    if events is not None and len(events):
        dates = pd.to_datetime(events["date"]).dt.date.astype(str).tolist()
        last = events.sort_values("date").iloc[-1]
        req = cov.get("requested_start", "the requested start")
        p = (
            f"Since {req} the rule (open more than the threshold above the prior close, close below the prior close) "
            f"fires on {len(dates)} days of {cov.get('sample_start', 'n/a')}..{cov.get('sample_end', 'n/a')}, "
            f"the span with usable opens: {', '.join(dates)}."
        )
        paras.append(p)
        paras.append(
            f"The latest event is {pd.Timestamp(last['date']).date()} ({pd.Timestamp(last['date']).day_name()}): "
            f"the index opened {_pct(last['gap'])} above the prior close, reached {_pct(last.get('high_runup', float('nan')))} "
            f"and closed {_pct(last['close_to_close'])}"
            + (
                f", with the VIX at {last['vix_close']:.2f}"
                if pd.notna(last.get("vix_close", float("nan")))
                else ""
            )
            + "."
        )
    else:
        paras.append("The events table is not available in this run, so no event was counted.")
    if st is not None and len(st):
        parts = []
        for _, r in st.iterrows():
            k = int(r["horizon"])
            n = int(r.get("n_events_with_horizon", r.get("event_n", 0)))
            parts.append(
                f"T+{k}: median {_pct(r['event_median'])} vs {_pct(r['baseline_median'])} on the sample's non-event days, "
                f"up {_pct(r['event_hit_rate'], 0, False)} of the time vs {_pct(r['baseline_hit_rate'], 0, False)} (n={n})"
            )
        n_ev = int(st["n_events"].max())
        small = n_ev < 30
        paras.append(
            "After the events the index went on: "
            + "; ".join(parts)
            + ". "
            + (
                f"With {n_ev} events these figures describe what happened rather than establish an effect: "
                "the verdicts above say how far the evidence goes."
                if small
                else f"{n_ev} events give the tests some power; p-values are adjusted across horizons."
            )
        )
    if claims is not None and len(claims):
        paras.append(claims_sentence(claims))
    cta_sentence = cta_narrative(cta_tables or {})
    if cta_sentence:
        paras.append(cta_sentence)
    return paras


def cta_narrative(tables: dict[str, pd.DataFrame]) -> str | None:
    """One sentence on the CTA replica's latest levels, if its table is present."""
    lv = tables.get("cta_levels_latest")
    if lv is None or len(lv) == 0:
        if tables:
            return None
        return "The CTA replica's outputs are not available in this run."
    level_col = next((c for c in ("level", "trigger_level", "trigger") if c in lv.columns), None)
    name_col = next((c for c in ("horizon", "name", "signal", "term") if c in lv.columns), None)
    if level_col is None or name_col is None:
        return f"The CTA replica's latest levels are in the table below ({len(lv)} rows)."
    dist_col = next(
        (c for c in ("distance", "distance_pct", "dist", "distance_from_close") if c in lv.columns),
        None,
    )
    parts = []
    for _, r in lv.iterrows():
        s = f"{r[name_col]} {float(r[level_col]):,.0f}"
        if dist_col is not None and pd.notna(r[dist_col]):
            d = float(r[dist_col])
            s += (
                f" ({d:+.1%} from the close)"
                if abs(d) < 1
                else f" ({d:+,.0f} points from the close)"
            )
        parts.append(s)
    return "The CTA replica's trigger levels on the latest date: " + "; ".join(parts) + "."


def claims_sentence(claims: pd.DataFrame) -> str:
    """Verdict counts for the data checks, the ones that differ, and the model comparisons apart."""
    kind = claims["kind"] if "kind" in claims.columns else pd.Series(DATA, index=claims.index)
    data, model = claims[kind == DATA], claims[kind == MODEL]
    c = data["verdict"].value_counts()
    differs, noisy = data[data["verdict"] == DIFFERS], data[data["verdict"] == NOISE]
    edge = data[data["verdict"] == BOUNDARY]
    verb = "lies" if len(noisy) == 1 else "lie"
    noise = f", {len(noisy)} {verb} within the noise of an estimate" if len(noisy) else ""
    if len(edge):
        noise += f", {len(edge)} {'sits' if len(edge) == 1 else 'sit'} at the boundary of the claim"
    text = (
        f"Of the {len(data)} statements in the research notes checked against market data, "
        f"{int(c.get(CONFIRMED, 0))} are confirmed, {int(c.get(DIFFERS, 0))} differ{noise} and "
        f"{int(c.get(CANNOT, 0))} cannot be checked with the data shipped."
    )
    for label, rows in (
        ("differ", differs),
        ("lie within the noise", noisy),
        ("sit at the boundary", edge),
    ):
        if len(rows):
            text += (
                f" The ones that {label}: "
                + "; ".join(
                    f"{r.id} {r.claim} (data: {r.computed_display})" for r in rows.itertuples()
                )
                + "."
            )
    if len(model):
        m = model["verdict"].value_counts()
        text += (
            f" A further {len(model)} figures are compared with the CTA replica, a model rather than "
            f"market data: {int(m.get(CONFIRMED, 0))} match it, {int(m.get(DIFFERS, 0))} do not and "
            f"{int(m.get(CANNOT, 0))} cannot be compared; they are not counted as evidence."
        )
    return text
