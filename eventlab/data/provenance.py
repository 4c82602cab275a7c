"""Provenance of a stored price series: which source wrote which dates, and when (kept in the
Parquet file's attrs), and the offline merge of the warehouse with the snapshot."""

from __future__ import annotations

import pandas as pd

from eventlab.data.frames import OHLCV
from eventlab.data.rows import unclosed_mask

MAX_SPANS = 20  # provenance spans kept one by one; older ones are merged per source


def provenance(df: pd.DataFrame | None) -> list[dict]:
    """The frame's provenance spans, oldest first (each: source, first, last, fetched_utc)."""
    if df is None:
        return []
    spans = df.attrs.get("provenance")
    return [dict(s) for s in spans] if isinstance(spans, list) else []


def add_span(
    spans: list[dict], dates: pd.DatetimeIndex, source: str, fetched: pd.Timestamp | None
) -> list[dict]:
    """Record that `source` wrote `dates` at `fetched`; spans wholly covered by it are dropped."""
    first, last = dates[0].date().isoformat(), dates[-1].date().isoformat()
    keep = [s for s in spans if not (first <= s["first"] and s["last"] <= last)]
    stamp = None if fetched is None else pd.Timestamp(fetched).tz_convert("UTC").isoformat()
    spans = [*keep, {"source": source, "first": first, "last": last, "fetched_utc": stamp}]
    if len(spans) <= MAX_SPANS:
        return spans
    # One span per nightly refresh would grow without end: old spans of one source become one
    # (only recent fetch times matter, to recognise a partial bar stored by an older version).
    old, recent = spans[:-MAX_SPANS], spans[-MAX_SPANS:]
    merged: dict[str, dict] = {}
    for s in old:
        m = merged.setdefault(s["source"], dict(s))
        m["first"], m["last"] = min(m["first"], s["first"]), max(m["last"], s["last"])
        m["fetched_utc"] = s.get("fetched_utc") or m.get("fetched_utc")
    return [*merged.values(), *recent]


def was_partial(spans: list[dict], day: pd.Timestamp, calendar: str) -> bool:
    """True if the stored row for `day` was fetched before its session closed (a partial bar
    stored by an older version): its revision is the real close replacing it, not a red flag."""
    iso = day.date().isoformat()
    span = next((s for s in reversed(spans) if s["first"] <= iso <= s["last"]), None)
    if span is None or not span.get("fetched_utc"):
        return False
    return bool(unclosed_mask(pd.DatetimeIndex([day]), calendar, span["fetched_utc"])[0])


def merge_offline(stored: pd.DataFrame | None, snap: pd.DataFrame) -> tuple[pd.DataFrame, str, str]:
    """What an offline run serves: the longer of the warehouse and the snapshot, never less.

    The one that ends later wins on the dates both hold (a live refresh's revisions and
    re-adjustments stay); the other only adds dates the winner lacks. Provenance spans say which
    rows came from where. Returns (frame, served_by, note).
    """
    snap = snap.copy()
    snap.attrs["provenance"] = provenance(snap) or add_span([], snap.index, "snapshot", None)
    if stored is None or stored.empty:
        return snap, "snapshot", ""
    stored = stored.copy()
    stored.attrs["provenance"] = provenance(stored) or add_span([], stored.index, "warehouse", None)
    warehouse_longer = stored.index[-1] > snap.index[-1]
    primary, other = (stored, snap) if warehouse_longer else (snap, stored)
    extra = other.loc[other.index.difference(primary.index), list(OHLCV)]
    merged = pd.concat([primary[list(OHLCV)], extra]).sort_index()
    spans = provenance(primary)
    if len(extra):
        spans = [*spans, *(s for s in provenance(other) if _covers_any(s, extra.index))]
    merged.attrs["provenance"] = spans
    if warehouse_longer:
        note = (
            f"offline: the warehouse's refreshed rows to {stored.index[-1].date()} kept "
            f"(the snapshot ends {snap.index[-1].date()})"
        )
        return merged, "warehouse", note
    note = f"offline: {len(extra)} stored row(s) not in the snapshot kept" if len(extra) else ""
    return merged, "snapshot", note


def _covers_any(span: dict, dates: pd.DatetimeIndex) -> bool:
    lo, hi = pd.Timestamp(span["first"]), pd.Timestamp(span["last"])
    return bool(((dates >= lo) & (dates <= hi)).any())


def provenance_text(df: pd.DataFrame) -> str:
    """The frame's provenance as one line for the asset's metadata (most recent span first)."""
    spans = provenance(df)
    if not spans:
        return "-"
    parts = [
        f"{s['first']}..{s['last']} {s['source']}"
        + (f" (fetched {s['fetched_utc'][:16]}Z)" if s.get("fetched_utc") else "")
        for s in reversed(spans[-6:])
    ]
    more = f" (+{len(spans) - 6} older spans)" if len(spans) > 6 else ""
    return "; ".join(parts) + more
