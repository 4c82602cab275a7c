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

from eventlab.data.frames import OHLCV, PRICE_COLS, DataError, ohlc_problems

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
RESCALE_BOUNDS = (0.80, 1.0 + 1e-4)  # dividend re-adjustment of an adjusted series: F in [0.8, 1]


class BlockedUpdateError(DataError):
    """A fetched update failed a gate; the stored series is kept. Names the series and the cause."""

    def __init__(self, series: str, cause: str) -> None:
        self.series = series
        self.cause = cause
        super().__init__(
            f"{series}: update blocked - {cause}. The stored series was kept unchanged."
        )


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

    @property
    def changed(self) -> bool:
        return bool(self.new_rows or self.revised_rows or self.rescale_factor is not None)

    def to_metadata(self) -> dict:
        out = {
            f"incremental/{k}": v
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
        return {k: ("-" if v is None else v) for k, v in out.items()}


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
) -> tuple[pd.DataFrame, MergeReport]:
    """Merge a fetched window into the stored history; raise BlockedUpdateError on a bad update.

    - rows only in `stored` are kept (history never shrinks), rows in `fetched` win (revisions);
    - revised rows in the overlap are counted with examples;
    - an adjusted series whose whole overlap moved by one constant factor F in [0.8, 1] (a new
      dividend re-adjusted Yahoo's history) has its stored rows rescaled by F; any other level
      shift at the seam, a one-day move beyond MAX_DAILY_MOVE[kind] in new/revised rows, a column
      that disappeared, or OHLC-inconsistent / non-positive / missing-close new rows block it.
    """
    rep = MergeReport(series=series, fetched_rows=len(fetched))
    limit = MAX_DAILY_MOVE.get(kind, 0.25) if max_move is None else max_move
    if fetched is None or fetched.empty:
        raise BlockedUpdateError(series, "the fetch returned no rows")
    missing_cols = [c for c in OHLCV if c not in fetched.columns]
    if missing_cols:
        raise BlockedUpdateError(series, f"fetched frame lost column(s) {missing_cols}")
    fetched = fetched[list(OHLCV)].sort_index()
    if stored is None or stored.empty:
        stored = fetched.iloc[0:0]
    stored = stored[list(OHLCV)].sort_index()
    rep.stored_rows = len(stored)

    # Columns that the stored series had recently and the fetch lost (all NaN now).
    if len(stored):
        recent = stored.tail(DEFAULT_OVERLAP)
        lost = [c for c in OHLCV if recent[c].notna().any() and fetched[c].isna().all()]
        if lost:
            raise BlockedUpdateError(
                series,
                f"fetched frame lost column(s) {lost} (all values missing, stored series has them)",
            )

    common = stored.index.intersection(fetched.index)
    rep.overlap_rows = len(common)
    if len(stored) and len(common) == 0:
        raise BlockedUpdateError(
            series,
            f"no overlap between stored rows (to {stored.index[-1].date()}) and fetched rows "
            f"(from {fetched.index[0].date()}); the seam cannot be verified - refetch with a longer overlap",
        )

    factor = None
    if len(common):
        ratio = (fetched.loc[common, "close"] / stored.loc[common, "close"]).dropna()
        if len(ratio):
            f_med = float(ratio.median())
            consistent = float((ratio / f_med - 1).abs().le(1e-5).mean())
            if abs(f_med - 1) > 1e-6 and consistent >= 0.8 and len(ratio) >= min(3, len(common)):
                lo, hi = RESCALE_BOUNDS
                if allow_any_rescale or (adjusted and lo <= f_med <= hi):
                    factor = f_med
                else:
                    why = (
                        "the series is not adjusted"
                        if not adjusted
                        else f"factor outside {RESCALE_BOUNDS} (split?)"
                    )
                    raise BlockedUpdateError(
                        series,
                        f"level discontinuity at the seam: every overlap close moved by the factor {f_med:.6f} "
                        f"over {len(ratio)} sessions and {why}; run a full refresh (price_source.full_refresh=true) after checking",
                    )
            worst = (ratio / (factor or 1.0) - 1).abs()
            if factor is None and worst.max() > SEAM_MAX_REVISION:
                d = worst.idxmax()
                raise BlockedUpdateError(
                    series,
                    f"level discontinuity at the seam: close on {d.date()} revised by {worst.max():.2%} "
                    f"(stored {stored.loc[d, 'close']:.6g}, fetched {fetched.loc[d, 'close']:.6g}; limit {SEAM_MAX_REVISION:.0%})",
                )

    if factor is not None:
        stored = stored.copy()
        stored[list(PRICE_COLS)] = stored[list(PRICE_COLS)] * factor
        rep.rescale_factor = round(factor, 8)

    # Revisions within the overlap (after any rescale).
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

    new_idx = fetched.index.difference(stored.index)
    rep.new_rows = len(new_idx)
    if len(new_idx):
        rep.first_new = new_idx[0].date().isoformat()
    inside = stored.index[(stored.index >= fetched.index[0]) & (stored.index <= fetched.index[-1])]
    rep.kept_missing_in_fetch = int(len(inside.difference(fetched.index)))

    merged = pd.concat([stored.loc[stored.index.difference(fetched.index)], fetched]).sort_index()
    merged = merged[~merged.index.duplicated(keep="last")]

    # Gates on what changed: new rows and revised rows.
    touched = new_idx.union(pd.DatetimeIndex(sorted(revised_dates)))
    if (
        not rep.stored_rows
    ):  # first fetch: history is judged by the asset checks, gates guard the recent end
        touched = touched[-DEFAULT_OVERLAP:]
    if len(touched):
        part = merged.loc[touched]
        probs = {k: v for k, v in ohlc_problems(part).items() if v}
        if probs:
            raise BlockedUpdateError(series, f"new/revised rows fail OHLC checks {probs}")
        ret = merged["close"].pct_change(fill_method=None).reindex(touched).abs()
        if ret.max(skipna=True) > limit:
            d = ret.idxmax()
            prev = merged["close"].shift(1).loc[d]
            raise BlockedUpdateError(
                series,
                f"one-day move of {ret.max():.1%} on {d.date()} (close {prev:.6g} -> {merged.loc[d, 'close']:.6g}) "
                f"exceeds the {limit:.0%} limit for a {kind}",
            )
    if len(merged) < rep.stored_rows:  # pragma: no cover - guaranteed by construction
        raise BlockedUpdateError(series, "merge would shrink history")
    rep.merged_rows = len(merged)
    rep.last_date = merged.index[-1].date().isoformat()
    return merged, rep
