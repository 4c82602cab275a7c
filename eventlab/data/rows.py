"""Row-level validation of a fetched daily frame against the exchange calendar and the stored rows.

Each function looks at one way a source's frame can be wrong without looking wrong (issue 10,
"bad rows replace good rows"): rows on non-session dates, a bar of a session that had not closed
when it was fetched (wherever it sits in the frame), dates shifted by whole sessions, missing
values over stored ones, and fields the series has that a new row lacks. The merge
(`eventlab.data.incremental`) calls them before anything is written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.data.calendar import nyse

NY = "America/New_York"
SHIFT_MATCH = 0.8  # share of overlap closes that must match at a lag for a shift to be declared
MAX_SHIFT = 3  # sessions tried either way


def non_session_dates(index: pd.DatetimeIndex, calendar: str) -> pd.DatetimeIndex:
    """Dates in `index` that are not sessions of `calendar` (weekends, holidays); none for 24/7."""
    if calendar == "24/7" or len(index) == 0:
        return index[:0]
    cal = nyse()
    lo, hi = index.min(), index.max()
    inside = (index >= cal.first_session) & (index <= cal.last_session)
    sessions = cal.sessions_in_range(max(lo, cal.first_session), min(hi, cal.last_session))
    sessions = sessions.tz_localize(None) if sessions.tz is not None else sessions
    # dates outside the calendar's range cannot be judged: they are left to the other checks
    return index[inside & ~index.isin(sessions)]


def unclosed_mask(index: pd.DatetimeIndex, calendar: str, now: pd.Timestamp) -> np.ndarray:
    """True for rows whose session had not closed at `now`: a partial live bar, or a future date.

    NYSE: the session's close from exchange_calendars (13:00 on early-close days). 24/7 series
    (crypto, UTC days): the current UTC day and later. Every row is judged, not just the last.
    """
    now = pd.Timestamp(now)
    if now.tzinfo is None:
        now = now.tz_localize(NY)
    if calendar == "24/7":
        today = now.tz_convert("UTC").tz_localize(None).normalize()
        return np.asarray(index >= today)
    today = now.tz_convert(NY).tz_localize(None).normalize()
    mask = np.asarray(index > today)
    cal = nyse()
    for i in np.flatnonzero(np.asarray(index == today)):
        day = index[i]
        if cal.is_session(day) and now < cal.session_close(day):
            mask[i] = True
    return mask


def detect_shift(stored_close: pd.Series, fetched_close: pd.Series, rtol: float = 1e-6) -> int:
    """The number of stored sessions by which the fetched dates are shifted (0 if none).

    A lag k is declared when at least SHIFT_MATCH of the fetched closes equal the stored close k
    sessions earlier (k > 0: dates moved later) while at lag 0 fewer than half match. Flat
    stretches (equal closes on consecutive days) match at every lag, so they never trigger it.
    """
    pos = stored_close.index.get_indexer(fetched_close.index)
    f = fetched_close.to_numpy(dtype=float)
    s = stored_close.to_numpy(dtype=float)

    def share(k: int) -> tuple[float, int]:
        p = pos - k
        m = (pos >= 0) & (p >= 0) & (p < len(s)) & np.isfinite(f)
        if m.sum() < 3:
            return 0.0, int(m.sum())
        a, b = f[m], s[p[m]]
        return float(np.mean(np.abs(a / b - 1) <= rtol)), int(m.sum())

    at_zero, _ = share(0)
    if at_zero >= 0.5:
        return 0
    scores = {k: share(k)[0] for k in range(-MAX_SHIFT, MAX_SHIFT + 1) if k}
    k, best = max(scores.items(), key=lambda kv: kv[1])
    return k if best >= SHIFT_MATCH else 0


def fill_missing_from_stored(
    stored: pd.DataFrame, fetched: pd.DataFrame, common: pd.DatetimeIndex
) -> tuple[pd.DataFrame, list[str]]:
    """Keep the stored value wherever the fetched overlap row has NaN over it.

    A missing value is the absence of information, not a revision: it never replaces a stored
    number. Returns the patched frame and "date column" labels of the kept values.
    """
    f = fetched.loc[common]
    s = stored.loc[common, fetched.columns]
    holes = f.isna() & s.notna()
    if not holes.to_numpy().any():
        return fetched, []
    out = fetched.copy()
    out.loc[common] = f.where(~holes, s)
    kept = [f"{d.date()} {c}" for d, c in holes.stack().loc[lambda x: x].index]
    return out, kept


def missing_fields(
    stored: pd.DataFrame, new_rows: pd.DataFrame, recent: int = 10
) -> dict[str, list[str]]:
    """Columns the stored series carries on its recent rows that a new row leaves empty."""
    if stored.empty or new_rows.empty:
        return {}
    has = [c for c in stored.columns if stored[c].tail(recent).notna().all()]
    out: dict[str, list[str]] = {}
    for c in has:
        miss = new_rows.index[new_rows[c].isna()]
        if len(miss):
            out[c] = [d.date().isoformat() for d in miss]
    return out


def looks_like_partial_of(stored_row: pd.Series, fetched_row: pd.Series) -> bool:
    """True if `stored_row` has the shape of an unfinished bar of the session `fetched_row` closed:
    the same open, a high/low range inside the final one, and less volume than the final bar.

    Older versions could store a partial bar (only the frame's last row was checked); its
    revision to the real close is then expected, and must not block the series for good.
    """
    so, fo = stored_row["open"], fetched_row["open"]
    if not (np.isfinite(so) and np.isfinite(fo)) or abs(so / fo - 1) > 1e-4:
        return False
    inside = [
        (fetched_row["high"], stored_row["high"]),
        (stored_row["low"], fetched_row["low"]),
    ]
    sv, fv = stored_row["volume"], fetched_row["volume"]
    grew = bool(np.isfinite(sv) and np.isfinite(fv) and fv > sv)
    return grew and all(np.isfinite(a) and a >= b * (1 - 1e-9) for a, b in inside)
