"""Incremental refresh of a daily price series: fetch only what is missing plus an overlap,
merge without duplicates, detect revisions, never shrink history, and block suspicious updates.

Plain functions (no Dagster): the daily price assets call `plan_fetch` and `merge_incremental`
and only yield the merged frame once it passed every gate, so a bad fetch never reaches the
IO manager and the previous Parquet file stays as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from eventlab.data.frames import (
    OHLCV,
    PRICE_COLS,
    DataError,
    drop_identical_duplicates,
    ohlc_problems,
)
from eventlab.data.rows import (
    detect_shift,
    fill_missing_from_stored,
    looks_like_partial_of,
    missing_fields,
    non_session_dates,
    unclosed_mask,
)

DEFAULT_OVERLAP = 10
# Largest believable one-day close-to-close move per series kind, for new or revised rows.
# (Worst real index day in the data: 1987-10-19, -20.5%; VIX can double in a day.)
MAX_DAILY_MOVE: dict[str, float] = {
    "index": 0.25,
    "etf": 0.25,
    "stock": 0.60,
    "crypto": 0.60,
    "volatility": 3.0,
}
REVISION_RTOL = 1e-6  # below this a difference is float noise, not a revision
SEAM_MAX_REVISION = 0.02  # a single overlap row moving more than 2% is a level discontinuity
RESCALE_BOUNDS = (0.80, 1.0 + 1e-4)
MAX_SPANS = 20  # provenance spans kept one by one; older ones are merged per source  # dividend re-adjustment of an adjusted series: F in [0.8, 1]


RECOVERY = (
    "The stored series was kept unchanged. Recovery: none needed if the source corrects itself - "
    "every refresh re-checks and goes through once the fetched rows are sane; if the source's "
    "values are right after all, accept them with one run with "
    "resources.price_source.config.full_refresh: true"
)


class BlockedUpdateError(DataError):
    """A fetched update failed a gate; the stored series is kept. Names the series and the cause."""

    def __init__(self, series: str, cause: str) -> None:
        self.series = series
        self.cause = cause
        super().__init__(f"{series}: update blocked - {cause}. {RECOVERY}")


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


def _rel_diff(a: pd.Series, b: pd.Series) -> pd.Series:
    both_nan = a.isna() & b.isna()
    one_nan = a.isna() ^ b.isna()
    d = (a - b).abs() / b.abs().where(b.abs() > 0, 1.0)
    d = d.where(~both_nan, 0.0)
    return d.where(~one_nan, np.inf)


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
    The gates below run in this order; each raises BlockedUpdateError naming its cause.
    """
    rep = MergeReport(series=series, fetched_rows=0 if fetched is None else len(fetched))
    limit = MAX_DAILY_MOVE.get(kind, 0.25) if max_move is None else max_move
    now = _as_of(now)
    check_not_empty(fetched, series)
    check_columns_present(fetched, series)
    fetched = check_duplicates_agree(fetched, series)
    fetched = drop_unclosed(fetched, rep, calendar, now)
    fetched = check_session_dates(fetched, series, calendar)
    check_closed_session_left(fetched, series)
    spans = provenance(stored) if stored is not None else []
    stored = _stored_frame(stored, fetched)
    rep.stored_rows = len(stored)
    check_recent_columns_kept(stored, fetched, series)
    common = check_overlap(stored, fetched, series)
    rep.overlap_rows = len(common)
    if len(common):
        check_not_shifted(stored, fetched, series)
        fetched, kept = fill_missing_from_stored(stored, fetched, common)
        rep.nan_kept_stored = len(kept)
        rep.nan_kept_examples = kept[:5]

    ratio = _overlap_ratio(stored, fetched, common)
    factor = check_seam_factor(ratio, len(common), series, adjusted, allow_any_rescale)
    partial = partial_bar_dates(ratio, factor, stored, fetched, spans, calendar)
    check_seam_revision(ratio, factor, partial, stored, fetched, series, allow_any_rescale)
    rep.replaced_partial = sorted(d.date().isoformat() for d in partial)
    if factor is not None:
        stored = _rescaled(stored, factor)
        rep.rescale_factor = round(factor, 8)

    revised_dates = count_revisions(stored, fetched, common, rep)
    new_idx = fetched.index.difference(stored.index)
    rep.new_rows = len(new_idx)
    if len(new_idx):
        rep.first_new = new_idx[0].date().isoformat()
        check_new_rows_complete(stored, fetched.loc[new_idx], series)
    inside = stored.index[(stored.index >= fetched.index[0]) & (stored.index <= fetched.index[-1])]
    rep.kept_missing_in_fetch = int(len(inside.difference(fetched.index)))

    merged = pd.concat([stored.loc[stored.index.difference(fetched.index)], fetched]).sort_index()
    merged = merged[~merged.index.duplicated(keep="last")]
    touched = _touched_dates(new_idx, revised_dates, first_fetch=not rep.stored_rows)
    check_touched_ohlc(merged, touched, series)
    check_daily_move(merged, touched, series, kind, limit)
    check_no_shrink(merged, rep.stored_rows, series)
    rep.merged_rows = len(merged)
    rep.last_date = merged.index[-1].date().isoformat()
    if rep.changed or not spans:
        spans = add_span(spans, fetched.index, source, now)
    merged.attrs["provenance"] = spans
    return merged, rep


# ---- the gates, in the order merge_incremental runs them (and the steps between them) ------


def _as_of(now: pd.Timestamp | None) -> pd.Timestamp:
    """The time the fetch is judged at: `now` (New York time if naive), else the current time."""
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if now.tzinfo is None:
        now = now.tz_localize("America/New_York")
    return now


def check_not_empty(fetched: pd.DataFrame | None, series: str) -> None:
    """Block a fetch that returned no rows at all."""
    if fetched is None or fetched.empty:
        raise BlockedUpdateError(series, "the fetch returned no rows")


def check_columns_present(fetched: pd.DataFrame, series: str) -> None:
    """Block a fetched frame that lacks any of the OHLCV columns."""
    missing_cols = [c for c in OHLCV if c not in fetched.columns]
    if missing_cols:
        raise BlockedUpdateError(series, f"fetched frame lost column(s) {missing_cols}")


def check_duplicates_agree(fetched: pd.DataFrame, series: str) -> pd.DataFrame:
    """Drop identical repeated dates, block repeated dates that disagree; returns the sorted OHLCV frame."""
    try:
        return drop_identical_duplicates(fetched[list(OHLCV)], series).sort_index()
    except DataError as exc:
        raise BlockedUpdateError(series, str(exc).removeprefix(f"{series}: ")) from None


def drop_unclosed(
    fetched: pd.DataFrame, rep: MergeReport, calendar: str, now: pd.Timestamp
) -> pd.DataFrame:
    """Drop the bars of sessions that had not closed at `now` (recorded in rep.dropped_unclosed)."""
    unclosed = unclosed_mask(fetched.index, calendar, now)
    rep.dropped_unclosed = [d.date().isoformat() for d in fetched.index[unclosed]]
    return fetched[~unclosed]


def check_session_dates(fetched: pd.DataFrame, series: str, calendar: str) -> pd.DataFrame:
    """Block rows with values on non-session dates; returns the frame without the empty ones."""
    off = non_session_dates(fetched.index, calendar)
    if len(off):
        valued = [d for d in off if fetched.loc[d].notna().any()]
        if valued:
            days = ", ".join(f"{d.date()} ({d.day_name()})" for d in valued[:4])
            raise BlockedUpdateError(
                series,
                f"{len(valued)} fetched row(s) fall on dates that are not {calendar} sessions "
                f"(weekends or holidays): {days} - the source's dates or timezone are off",
            )
        fetched = fetched.drop(off)
    return fetched


def check_closed_session_left(fetched: pd.DataFrame, series: str) -> None:
    """Block a fetch with no row left for a closed session."""
    if fetched.empty:
        raise BlockedUpdateError(series, "the fetch has no row for a closed session")


def _stored_frame(stored: pd.DataFrame | None, fetched: pd.DataFrame) -> pd.DataFrame:
    """The stored series' OHLCV columns, sorted (an empty frame shaped like `fetched` if none)."""
    if stored is None or stored.empty:
        stored = fetched.iloc[0:0]
    return stored[list(OHLCV)].sort_index()


def check_recent_columns_kept(stored: pd.DataFrame, fetched: pd.DataFrame, series: str) -> None:
    """Block a fetch whose column is all missing where the stored series' recent rows have it."""
    if len(stored):
        recent = stored.tail(DEFAULT_OVERLAP)
        lost = [c for c in OHLCV if recent[c].notna().any() and fetched[c].isna().all()]
        if lost:
            raise BlockedUpdateError(
                series,
                f"fetched frame lost column(s) {lost} (all values missing, stored series has them)",
            )


def check_overlap(stored: pd.DataFrame, fetched: pd.DataFrame, series: str) -> pd.DatetimeIndex:
    """Block a fetch that shares no date with a non-empty stored series; returns the shared dates."""
    common = stored.index.intersection(fetched.index)
    if len(stored) and len(common) == 0:
        raise BlockedUpdateError(
            series,
            f"no overlap between stored rows (to {stored.index[-1].date()}) and fetched rows "
            f"(from {fetched.index[0].date()}); the seam cannot be verified - refetch with a longer overlap",
        )
    return common


def check_not_shifted(stored: pd.DataFrame, fetched: pd.DataFrame, series: str) -> None:
    """Block a fetch whose closes match the stored closes whole sessions earlier or later."""
    lag = detect_shift(stored["close"], fetched["close"])
    if lag:
        raise BlockedUpdateError(
            series,
            f"the fetched dates are shifted by {lag:+d} session(s): its closes match the "
            f"stored closes {abs(lag)} session(s) {'earlier' if lag > 0 else 'later'} "
            f"(fetched {fetched.index[0].date()}..{fetched.index[-1].date()})",
        )


def _overlap_ratio(
    stored: pd.DataFrame, fetched: pd.DataFrame, common: pd.DatetimeIndex
) -> pd.Series:
    """Fetched close / stored close on the shared dates where both are known (empty if none)."""
    if not len(common):
        return pd.Series(dtype=float)
    return (fetched.loc[common, "close"] / stored.loc[common, "close"]).dropna()


def check_seam_factor(
    ratio: pd.Series, n_common: int, series: str, adjusted: bool, allow_any_rescale: bool
) -> float | None:
    """Block an overlap moved as a whole by one factor unless it is an allowed re-adjustment;
    returns that factor when it is, else None."""
    if not len(ratio):
        return None
    f_med = float(ratio.median())
    consistent = float((ratio / f_med - 1).abs().le(1e-5).mean())
    if abs(f_med - 1) > 1e-6 and consistent >= 0.8 and len(ratio) >= min(3, n_common):
        lo, hi = RESCALE_BOUNDS
        if allow_any_rescale or (adjusted and lo <= f_med <= hi):
            return f_med
        why = (
            "the series is not adjusted"
            if not adjusted
            else f"factor outside {RESCALE_BOUNDS} (split?)"
        )
        raise BlockedUpdateError(
            series,
            f"level discontinuity at the seam: every overlap close moved by the factor {f_med:.6f} "
            f"over {len(ratio)} sessions and {why}",
        )
    return None


def _seam_deviation(ratio: pd.Series, factor: float | None) -> pd.Series:
    """Each overlap close's relative revision after the re-adjustment `factor` (if any)."""
    return (ratio / (factor or 1.0) - 1).abs()


def partial_bar_dates(
    ratio: pd.Series,
    factor: float | None,
    stored: pd.DataFrame,
    fetched: pd.DataFrame,
    spans: list[dict],
    calendar: str,
) -> set[pd.Timestamp]:
    """The overlap dates revised beyond the seam limit whose stored row was a partial bar."""
    if not len(ratio):
        return set()
    worst = _seam_deviation(ratio, factor)
    return {
        d
        for d in worst.index[worst > SEAM_MAX_REVISION]
        if was_partial(spans, d, calendar)
        or (d >= stored.index[-3] and looks_like_partial_of(stored.loc[d], fetched.loc[d]))
    }


def check_seam_revision(
    ratio: pd.Series,
    factor: float | None,
    partial: set[pd.Timestamp],
    stored: pd.DataFrame,
    fetched: pd.DataFrame,
    series: str,
    allow_any_rescale: bool,
) -> None:
    """Block a single overlap close (not a partial bar) revised beyond SEAM_MAX_REVISION, unless
    the update was rescaled or `allow_any_rescale` lets the source win."""
    if not len(ratio):
        return
    worst = _seam_deviation(ratio, factor).drop(list(partial))
    if factor is None and len(worst) and worst.max() > SEAM_MAX_REVISION and not allow_any_rescale:
        d = worst.idxmax()
        raise BlockedUpdateError(
            series,
            f"level discontinuity at the seam: close on {d.date()} revised by {worst.max():.2%} "
            f"(stored {stored.loc[d, 'close']:.6g}, fetched {fetched.loc[d, 'close']:.6g}; limit {SEAM_MAX_REVISION:.0%})",
        )


def _rescaled(stored: pd.DataFrame, factor: float) -> pd.DataFrame:
    """A copy of `stored` with its prices multiplied by the re-adjustment `factor`."""
    stored = stored.copy()
    stored[list(PRICE_COLS)] = stored[list(PRICE_COLS)] * factor
    return stored


def count_revisions(
    stored: pd.DataFrame, fetched: pd.DataFrame, common: pd.DatetimeIndex, rep: MergeReport
) -> set[pd.Timestamp]:
    """The overlap dates whose fetched values differ from the stored ones (after any rescale),
    recorded in `rep` with up to five examples."""
    revised_dates: set[pd.Timestamp] = set()
    for c in ("close", "open", "high", "low", "volume"):  # close first: the example that matters
        diff = _rel_diff(fetched.loc[common, c], stored.loc[common, c])
        hit = diff[diff > REVISION_RTOL]
        for d in hit.index:
            if d not in revised_dates and len(rep.revised_examples) < 5:
                rep.revised_examples.append(
                    {
                        "date": d.date().isoformat(),
                        "column": c,
                        "stored": float(stored.loc[d, c]),
                        "fetched": float(fetched.loc[d, c]),
                    }
                )
            revised_dates.add(d)
    rep.revised_rows = len(revised_dates)
    return revised_dates


def check_new_rows_complete(stored: pd.DataFrame, new_rows: pd.DataFrame, series: str) -> None:
    """Block new rows that lack a field the stored series carries on its recent rows."""
    holes = missing_fields(stored, new_rows)
    if holes:
        raise BlockedUpdateError(
            series,
            "new rows lack fields the stored series has: "
            + "; ".join(f"{c} missing on {', '.join(ds[:3])}" for c, ds in holes.items()),
        )


def _touched_dates(
    new_idx: pd.DatetimeIndex, revised_dates: set[pd.Timestamp], first_fetch: bool
) -> pd.DatetimeIndex:
    """The new and revised dates the last gates judge (on a first fetch only the recent end:
    the history is judged by the asset checks)."""
    touched = new_idx.union(pd.DatetimeIndex(sorted(revised_dates)))
    return touched[-DEFAULT_OVERLAP:] if first_fetch else touched


def check_touched_ohlc(merged: pd.DataFrame, touched: pd.DatetimeIndex, series: str) -> None:
    """Block new or revised rows that fail the OHLC checks (inconsistent, non-positive, no close)."""
    if len(touched):
        probs = {k: v for k, v in ohlc_problems(merged.loc[touched]).items() if v}
        if probs:
            raise BlockedUpdateError(series, f"new/revised rows fail OHLC checks {probs}")


def check_daily_move(
    merged: pd.DataFrame, touched: pd.DatetimeIndex, series: str, kind: str, limit: float
) -> None:
    """Block a new or revised row whose one-day close-to-close move exceeds `limit`."""
    if not len(touched):
        return
    ret = merged["close"].pct_change(fill_method=None).reindex(touched).abs()
    if ret.max(skipna=True) > limit:
        d = ret.idxmax()
        prev = merged["close"].shift(1).loc[d]
        raise BlockedUpdateError(
            series,
            f"one-day move of {ret.max():.1%} on {d.date()} (close {prev:.6g} -> {merged.loc[d, 'close']:.6g}) "
            f"exceeds the {limit:.0%} limit for a {kind}",
        )


def check_no_shrink(merged: pd.DataFrame, stored_rows: int, series: str) -> None:
    """Block a merge that would hold fewer rows than the stored series (guaranteed by construction)."""
    if len(merged) < stored_rows:  # pragma: no cover - guaranteed by construction
        raise BlockedUpdateError(series, "merge would shrink history")


# ---- provenance: which source wrote which dates, and when (kept in the Parquet file's attrs) --


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
