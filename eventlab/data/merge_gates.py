"""The gates of an incremental price merge (eventlab.data.incremental.merge_incremental runs
them in order) and the small steps between them.

Each gate takes what it needs and raises BlockedUpdateError with the cause if the fetched update
looks wrong (the stored series is then kept as it was), or returns the piece of the merge it
settles (the cleaned frame, the overlap dates, the re-adjustment factor, the revised dates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.data.frames import (
    OHLCV,
    PRICE_COLS,
    DataError,
    drop_identical_duplicates,
    ohlc_problems,
)
from eventlab.data.provenance import was_partial
from eventlab.data.rows import (
    detect_shift,
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
RESCALE_BOUNDS = (0.80, 1.0 + 1e-4)  # dividend re-adjustment of an adjusted series: F in [0.8, 1]


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


def judged_at(now: pd.Timestamp | None) -> pd.Timestamp:
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
    fetched: pd.DataFrame, calendar: str, now: pd.Timestamp
) -> tuple[pd.DataFrame, list[str]]:
    """Drop the bars of sessions that had not closed at `now`; returns (frame, dropped dates)."""
    unclosed = unclosed_mask(fetched.index, calendar, now)
    return fetched[~unclosed], [d.date().isoformat() for d in fetched.index[unclosed]]


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


def stored_ohlcv(stored: pd.DataFrame | None, fetched: pd.DataFrame) -> pd.DataFrame:
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


def overlap_ratio(
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


def rescaled(stored: pd.DataFrame, factor: float) -> pd.DataFrame:
    """A copy of `stored` with its prices multiplied by the re-adjustment `factor`."""
    stored = stored.copy()
    stored[list(PRICE_COLS)] = stored[list(PRICE_COLS)] * factor
    return stored


def count_revisions(
    stored: pd.DataFrame, fetched: pd.DataFrame, common: pd.DatetimeIndex
) -> tuple[set[pd.Timestamp], list[dict]]:
    """The overlap dates whose fetched values differ from the stored ones (after any rescale),
    with up to five examples."""
    revised_dates: set[pd.Timestamp] = set()
    examples: list[dict] = []
    for c in ("close", "open", "high", "low", "volume"):  # close first: the example that matters
        diff = _rel_diff(fetched.loc[common, c], stored.loc[common, c])
        hit = diff[diff > REVISION_RTOL]
        for d in hit.index:
            if d not in revised_dates and len(examples) < 5:
                examples.append(
                    {
                        "date": d.date().isoformat(),
                        "column": c,
                        "stored": float(stored.loc[d, c]),
                        "fetched": float(fetched.loc[d, c]),
                    }
                )
            revised_dates.add(d)
    return revised_dates, examples


def check_new_rows_complete(stored: pd.DataFrame, new_rows: pd.DataFrame, series: str) -> None:
    """Block new rows that lack a field the stored series carries on its recent rows."""
    holes = missing_fields(stored, new_rows)
    if holes:
        raise BlockedUpdateError(
            series,
            "new rows lack fields the stored series has: "
            + "; ".join(f"{c} missing on {', '.join(ds[:3])}" for c, ds in holes.items()),
        )


def touched_dates(
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


def _rel_diff(a: pd.Series, b: pd.Series) -> pd.Series:
    both_nan = a.isna() & b.isna()
    one_nan = a.isna() ^ b.isna()
    d = (a - b).abs() / b.abs().where(b.abs() > 0, 1.0)
    d = d.where(~both_nan, 0.0)
    return d.where(~one_nan, np.inf)
