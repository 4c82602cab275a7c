"""Incremental refresh of a daily price series: fetch only what is missing plus an overlap,
merge without duplicates, detect revisions, never shrink history, and block suspicious updates.

Plain functions (no Dagster): the daily price assets call `plan_fetch` and `merge_incremental`
and only yield the merged frame once it passed every gate, so a bad fetch never reaches the
IO manager and the previous Parquet file stays as it was. The gates themselves are in
eventlab.data.merge_gates (one function each), provenance spans in eventlab.data.provenance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field

import pandas as pd

from eventlab.data.merge_gates import (
    DEFAULT_OVERLAP,
    MAX_DAILY_MOVE,
    check_closed_session_left,
    check_columns_present,
    check_daily_move,
    check_duplicates_agree,
    check_new_rows_complete,
    check_no_shrink,
    check_not_empty,
    check_not_shifted,
    check_overlap,
    check_recent_columns_kept,
    check_seam_factor,
    check_seam_revision,
    check_session_dates,
    check_touched_ohlc,
    count_revisions,
    drop_unclosed,
    judged_at,
    overlap_ratio,
    partial_bar_dates,
    rescaled,
    stored_ohlcv,
    touched_dates,
)
from eventlab.data.merge_gates import BlockedUpdateError as BlockedUpdateError  # re-exported
from eventlab.data.provenance import add_span, provenance
from eventlab.data.rows import fill_missing_from_stored


@dataclass
class MergeReport:
    series: str
    stored_rows: int = 0
    fetched_rows: int = 0
    merged_rows: int = 0
    new_rows: int = 0
    revised_rows: int = 0
    revised_examples: list[dict] = field(default_factory=list)
    kept_missing_in_fetch: int = 0
    rescale_factor: float | None = None
    overlap_rows: int = 0
    first_new: str | None = None
    last_date: str | None = None
    dropped_unclosed: list[str] = field(default_factory=list)
    nan_kept_stored: int = 0
    nan_kept_examples: list[str] = field(default_factory=list)
    replaced_partial: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.new_rows or self.revised_rows or self.rescale_factor is not None)

    def to_metadata(self) -> dict:
        out = {
            f"incremental/{k}": ", ".join(v) if isinstance(v, list) else v
            for k, v in asdict(self).items()
            if k not in ("series", "revised_examples")
        }
        out["incremental/revised_examples"] = (
            "; ".join(
                f"{e['date']} {e['column']}: {e['stored']:.6g} -> {e['fetched']:.6g}"
                for e in self.revised_examples
            )
            or "-"
        )
        return {k: ("-" if v is None or v == "" else v) for k, v in out.items()}


def plan_fetch(
    stored: pd.DataFrame | None, default_start: dt.date, overlap: int = DEFAULT_OVERLAP
) -> dt.date:
    """Where the next fetch starts: `overlap` stored sessions before the stored end, or `default_start`."""
    if overlap < 1:
        raise ValueError(f"overlap must be >= 1 session, got {overlap}")
    if stored is None or stored.empty:
        return default_start
    return pd.Timestamp(stored.index[-min(overlap, len(stored))]).date()


def frame_hash(df: pd.DataFrame) -> str:
    """A stable content hash (index, columns, values) used as the asset's Dagster data version."""
    h = hashlib.sha256()
    h.update(",".join(map(str, df.columns)).encode())
    h.update(",".join(map(str, df.dtypes)).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()[:24]


def merge_incremental(
    stored: pd.DataFrame | None,
    fetched: pd.DataFrame,
    *,
    series: str = "series",
    kind: str = "index",
    adjusted: bool = False,
    allow_any_rescale: bool = False,
    max_move: float | None = None,
    calendar: str = "NYSE",
    now: pd.Timestamp | None = None,
    source: str = "yfinance",
) -> tuple[pd.DataFrame, MergeReport]:
    """Merge a fetched window into the stored history; raise BlockedUpdateError on a bad update.

    Every incoming row is validated before anything is merged (eventlab.data.rows):
    - a bar of a session that had not closed at `now` (anywhere in the frame) is dropped;
    - a date that is not a session of `calendar` is dropped if empty, else the update is blocked;
    - repeated dates must agree, dates shifted by whole sessions are refused;
    - a missing value never replaces a stored one, and a new row must carry every field the
      series has on its recent rows.
    Then rows only in `stored` are kept (history never shrinks), rows in `fetched` win
    (revisions, counted with examples); an adjusted series whose whole overlap moved by one
    factor F in [0.8, 1] (a new dividend re-adjusted Yahoo's history) is rescaled by F; any other
    seam revision over 2% (unless the stored row was a partial bar, or `allow_any_rescale` - a
    full refresh - lets the source win), a one-day move beyond MAX_DAILY_MOVE[kind],
    OHLC-inconsistent / non-positive / missing-close rows block the update.
    The gates (eventlab.data.merge_gates) run in that order, each raising BlockedUpdateError
    with its cause.
    """
    rep = MergeReport(series=series, fetched_rows=0 if fetched is None else len(fetched))
    limit = MAX_DAILY_MOVE.get(kind, 0.25) if max_move is None else max_move
    now = judged_at(now)
    check_not_empty(fetched, series)
    check_columns_present(fetched, series)
    fetched = check_duplicates_agree(fetched, series)
    fetched, rep.dropped_unclosed = drop_unclosed(fetched, calendar, now)
    fetched = check_session_dates(fetched, series, calendar)
    check_closed_session_left(fetched, series)
    spans = provenance(stored) if stored is not None else []
    stored = stored_ohlcv(stored, fetched)
    rep.stored_rows = len(stored)
    check_recent_columns_kept(stored, fetched, series)
    common = check_overlap(stored, fetched, series)
    rep.overlap_rows = len(common)
    if len(common):
        check_not_shifted(stored, fetched, series)
        fetched, kept = fill_missing_from_stored(stored, fetched, common)
        rep.nan_kept_stored = len(kept)
        rep.nan_kept_examples = kept[:5]

    ratio = overlap_ratio(stored, fetched, common)
    factor = check_seam_factor(ratio, len(common), series, adjusted, allow_any_rescale)
    partial = partial_bar_dates(ratio, factor, stored, fetched, spans, calendar)
    check_seam_revision(ratio, factor, partial, stored, fetched, series, allow_any_rescale)
    rep.replaced_partial = sorted(d.date().isoformat() for d in partial)
    if factor is not None:
        stored = rescaled(stored, factor)
        rep.rescale_factor = round(factor, 8)

    revised_dates, rep.revised_examples = count_revisions(stored, fetched, common)
    rep.revised_rows = len(revised_dates)
    new_idx = fetched.index.difference(stored.index)
    rep.new_rows = len(new_idx)
    if len(new_idx):
        rep.first_new = new_idx[0].date().isoformat()
        check_new_rows_complete(stored, fetched.loc[new_idx], series)
    inside = stored.index[(stored.index >= fetched.index[0]) & (stored.index <= fetched.index[-1])]
    rep.kept_missing_in_fetch = int(len(inside.difference(fetched.index)))

    merged = pd.concat([stored.loc[stored.index.difference(fetched.index)], fetched]).sort_index()
    merged = merged[~merged.index.duplicated(keep="last")]
    touched = touched_dates(new_idx, revised_dates, first_fetch=not rep.stored_rows)
    check_touched_ohlc(merged, touched, series)
    check_daily_move(merged, touched, series, kind, limit)
    check_no_shrink(merged, rep.stored_rows, series)
    rep.merged_rows = len(merged)
    rep.last_date = merged.index[-1].date().isoformat()
    if rep.changed or not spans:
        spans = add_span(spans, fetched.index, source, now)
    merged.attrs["provenance"] = spans
    return merged, rep
