"""FedWatch arithmetic: 30-day fed funds futures prices -> implied post-meeting rate -> move odds.

CME's published method, step by step (no Dagster, no network in the core functions):

1. A ZQ contract settles at 100 - (average daily effective fed funds rate over its month), so
   ``implied_average_rate = 100 - price``.
2. A target change decided on day ``d`` of a month with ``N`` days takes effect the next day, so
   the month's average is ``(d * r_pre + (N - d) * r_post) / N``.
3. Solve for the unknown rate, anchoring the other side with a month that has no meeting (as CME does):
   - ``method="forward"`` (chosen when the meeting falls in the last 8 days of its month and the
     next month's price is given): ``r_post = 100 - P_next``,
     ``r_pre = (N * avg - (N - d) * r_post) / d``.
   - ``method="backward"``: ``r_pre`` given (the previous no-meeting month's implied average, or
     today's EFFR), ``r_post = (N * avg - d * r_pre) / (N - d)``.
4. ``move = r_post - r_pre``; with 25 bp steps, ``k = |move| / 0.25``; the market prices a move of
   ``floor(k)`` steps with probability ``1 - frac(k)`` and ``floor(k) + 1`` steps with ``frac(k)``,
   in the direction of ``move`` (binary split between the two neighbouring outcomes).

The live path (`live_meeting_odds`) prices any meeting from yfinance contract closes
(symbols like ``ZQN26.CBT``); it is a thin wrapper tested with a monkeypatched downloader.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

STEP = 0.25  # percentage points per FOMC move

MONTH_CODES = "FGHJKMNQUVXZ"  # CME month codes, January .. December

# FOMC decision days (second day of each meeting), from the Federal Reserve's published calendars.
FOMC_DECISIONS: tuple[dt.date, ...] = tuple(
    dt.date.fromisoformat(d)
    for d in (
        "2025-01-29", "2025-03-19", "2025-05-07", "2025-06-18", "2025-07-30", "2025-09-17",
        "2025-10-29", "2025-12-10",
        "2026-01-28", "2026-03-18", "2026-04-29", "2026-06-17", "2026-07-29", "2026-09-16",
        "2026-10-28", "2026-12-09",
    )
)  # fmt: skip


def implied_rate(price: float) -> float:
    """Average effective fed funds rate (percent) implied by a ZQ price."""
    if not (0 < price <= 100):
        raise ValueError(f"ZQ price must be in (0, 100], got {price!r}")
    return 100.0 - float(price)


def zq_symbol(month: dt.date | str, yahoo: bool = True) -> str:
    """CME/Yahoo symbol for a contract month: 2026-07 -> 'ZQN26.CBT' (yahoo) or 'ZQN26'."""
    m = (
        dt.date.fromisoformat(f"{month}-01")
        if isinstance(month, str) and len(month) == 7
        else month
    )
    if isinstance(m, str):
        m = dt.date.fromisoformat(m)
    sym = f"ZQ{MONTH_CODES[m.month - 1]}{m.year % 100:02d}"
    return f"{sym}.CBT" if yahoo else sym


def _next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _prev_month(d: dt.date) -> dt.date:
    return dt.date(d.year - (d.month == 1), 12 if d.month == 1 else d.month - 1, 1)


@dataclass(frozen=True)
class MeetingOdds:
    """The result for one meeting: rates in percent, probabilities of each outcome."""

    meeting: dt.date
    method: str
    avg_rate: float  # implied average over the meeting month
    pre_rate: float
    post_rate: float
    move: float  # post - pre, percentage points
    outcomes: dict[int, float]  # move in bp (e.g. -25, 0) -> probability

    @property
    def p_cut(self) -> float:
        return sum(p for bp, p in self.outcomes.items() if bp < 0)

    @property
    def p_hold(self) -> float:
        return self.outcomes.get(0, 0.0)

    @property
    def p_hike(self) -> float:
        return sum(p for bp, p in self.outcomes.items() if bp > 0)


def move_probabilities(move: float, step: float = STEP) -> dict[int, float]:
    """Binary split of an implied move (percentage points) between the two neighbouring steps."""
    k = abs(move) / step
    lo = math.floor(k + 1e-12)
    frac = max(0.0, k - lo)
    sign = -1 if move < 0 else 1
    bp = round(step * 100)
    out = {sign * lo * bp: 1.0 - frac}
    if frac > 1e-12:
        out[sign * (lo + 1) * bp] = frac
    return {int(k_): v for k_, v in out.items() if v > 0 or k_ == 0}


def meeting_odds(
    meeting: dt.date,
    meeting_month_price: float,
    *,
    next_month_price: float | None = None,
    pre_rate: float | None = None,
    method: str = "auto",
) -> MeetingOdds:
    """Probabilities for one FOMC meeting from its month's ZQ price and one anchor.

    Give ``next_month_price`` (the following month's contract, for a month with no meeting) for
    the forward method, or ``pre_rate`` (previous no-meeting month's implied rate, or the current
    EFFR) for the backward method. ``method="auto"`` picks forward when the next-month price is
    given and the meeting falls in the last 8 days of its month (as CME does), else backward.
    """
    n = calendar.monthrange(meeting.year, meeting.month)[1]
    d = meeting.day  # days at the old rate (the change takes effect the next day)
    avg = implied_rate(meeting_month_price)
    if method == "auto":
        late = (n - d) < 8
        method = (
            "forward" if next_month_price is not None and (late or pre_rate is None) else "backward"
        )
    if method == "forward":
        if next_month_price is None:
            raise ValueError("forward method needs next_month_price")
        post = implied_rate(next_month_price)
        pre = (n * avg - (n - d) * post) / d
    elif method == "backward":
        if pre_rate is None:
            raise ValueError("backward method needs pre_rate (previous month implied rate or EFFR)")
        if d >= n:
            raise ValueError("meeting on the last day of the month: use the forward method")
        pre = float(pre_rate)
        post = (n * avg - d * pre) / (n - d)
    else:
        raise ValueError(f"unknown method {method!r}: use 'auto', 'forward' or 'backward'")
    move = post - pre
    return MeetingOdds(meeting, method, avg, pre, post, move, move_probabilities(move))


# --- live path ---------------------------------------------------------------------------------

Downloader = Callable[[str], float | None]


def yfinance_last_close(symbol: str) -> float | None:
    """Last daily close of one contract from yfinance (None when Yahoo has no data for it)."""
    import yfinance as yf

    df = yf.download(
        symbol,
        period="10d",
        interval="1d",
        auto_adjust=False,
        progress=False,
        multi_level_index=False,
    )
    if df is None or df.empty or "Close" not in df:
        return None
    close = df["Close"].dropna()
    return float(close.iloc[-1]) if len(close) else None


def live_meeting_odds(
    meeting: dt.date, *, effr: float | None = None, last_close: Downloader | None = None
) -> MeetingOdds:
    """Price one meeting from live contract closes (yfinance by default).

    Uses the next month's contract when the next month has no meeting (forward method), else the
    previous month's contract when it has no meeting, else ``effr``. Raises LookupError naming the
    missing contract when Yahoo returns nothing (it does not serve every expired or far contract).
    """
    fetch = last_close or yfinance_last_close
    month = dt.date(meeting.year, meeting.month, 1)

    def price(m: dt.date) -> float:
        sym = zq_symbol(m)
        p = fetch(sym)
        if p is None:
            raise LookupError(
                f"no price for {sym} from the live source (yfinance); cannot price the {meeting} meeting"
            )
        return p

    months_with_meetings = {(m.year, m.month) for m in FOMC_DECISIONS}
    nxt, prv = _next_month(month), _prev_month(month)
    p_meet = price(month)
    if (nxt.year, nxt.month) not in months_with_meetings:
        return meeting_odds(meeting, p_meet, next_month_price=price(nxt), method="forward")
    if (prv.year, prv.month) not in months_with_meetings:
        return meeting_odds(meeting, p_meet, pre_rate=implied_rate(price(prv)), method="backward")
    if effr is None:
        raise ValueError(
            "both neighbouring months hold meetings: pass effr (today's effective rate)"
        )
    return meeting_odds(meeting, p_meet, pre_rate=effr, method="backward")
