"""The live price path: a defensive wrapper around `yfinance.download` (yfinance 1.x).

Pitfalls handled here (DESIGN.md, "Data"):
- `yf.download` swallows per-ticker exceptions: it logs them on the `yfinance` logger and returns an
  empty frame. We capture those log records during the call and turn them into typed errors
  (RateLimitedError for YFRateLimitError, SourceUnavailableError for network failures,
  EmptyFrameError otherwise), each naming the series, the ticker and the cause.
- `start=` is always explicit (without it yfinance fetches one month), `auto_adjust` is always
  explicit (it defaults to True), `progress=False`, `multi_level_index=False` - and MultiIndex
  columns are still handled if they come back anyway (older/newer versions, recorded frames).
- The index is made tz-naive dates; a partial bar for the session still in progress (NYSE,
  before the close including early closes; UTC day for 24/7 series) is dropped.
- Rate limits and network errors are retried a bounded number of times with exponential backoff;
  `sleep` is injectable so tests run instantly.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pandas as pd

from eventlab.data.frames import DataError, normalize_ohlcv
from eventlab.data.rows import unclosed_mask

NY = "America/New_York"
PROBE_URL = "https://query1.finance.yahoo.com/v1/test/getcrumb"
PROBE_TIMEOUT_S = 5.0
# Total wall-clock budget of one series' download: every attempt, every backoff wait.
DEFAULT_DEADLINE_S = 45.0
T = TypeVar("T")


class SourceError(DataError):
    """The live source could not deliver a usable frame; the message names series and cause."""

    def __init__(self, series: str, ticker: str, cause: str) -> None:
        self.series = series
        self.ticker = ticker
        self.cause = cause
        super().__init__(f"{series} ({ticker}): {cause}")


class EmptyFrameError(SourceError):
    """The source answered but returned no rows for the requested range."""


class RateLimitedError(SourceError):
    """Yahoo answered 'Too Many Requests' (yfinance's YFRateLimitError), even after retries."""


class SourceUnavailableError(SourceError):
    """Network failure (DNS, connection refused/reset, timeout) even after retries."""


class GarbledFrameError(SourceError):
    """The source returned a frame that cannot be read as OHLCV (missing or non-numeric columns)."""


RETRYABLE = (RateLimitedError, SourceUnavailableError)

_NETWORK_WORDS = (
    "connection",
    "timeout",
    "timed out",
    "dns",
    "resolve",
    "name or service",
    "network is unreachable",
    "curl: (",
    "ssl",
    "proxy",
    "max retries exceeded",
)


def classify_failure(series: str, ticker: str, cause: object) -> SourceError:
    """Map an exception or a yfinance error message to one of the typed SourceErrors."""
    text = repr(cause) if isinstance(cause, BaseException) else str(cause)
    name = type(cause).__name__ if isinstance(cause, BaseException) else ""
    low = text.lower()
    if "ratelimit" in name.lower() or "yfratelimiterror" in low or "too many requests" in low:
        return RateLimitedError(series, ticker, f"rate limited by Yahoo (YFRateLimitError): {text}")
    if isinstance(cause, (ConnectionError, TimeoutError, socket.gaierror)) or any(
        w in low for w in _NETWORK_WORDS
    ):
        return SourceUnavailableError(series, ticker, f"network error, Yahoo unreachable: {text}")
    if isinstance(cause, BaseException):
        return SourceError(series, ticker, f"download failed: {text}")
    return EmptyFrameError(series, ticker, f"no data returned; yfinance reported: {text}")


class _Capture(logging.Handler):
    """Collect the error records yfinance logs about `tickers` instead of raising."""

    def __init__(self, tickers: Sequence[str]) -> None:
        super().__init__(level=logging.ERROR)
        self.tickers = [t.upper() for t in tickers]
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
        except Exception:  # pragma: no cover - a broken record must not break the fetch
            msg = str(record.msg)
        up = msg.upper()
        if "YFRateLimitError" in msg or any(t in up for t in self.tickers):
            self.messages.append(msg)


def yf_call(
    download: Callable[..., pd.DataFrame],
    series: str,
    tickers: Sequence[str],
    *args: Any,
    **kwargs: Any,
) -> tuple[pd.DataFrame | None, list[str]]:
    """One yf.download call: an exception becomes a typed SourceError naming `series`; the
    errors yfinance logs about `tickers` instead of raising are returned with the frame."""
    handler = _Capture(tickers)
    yf_logger = logging.getLogger("yfinance")
    yf_logger.addHandler(handler)
    try:
        raw = download(*args, progress=False, threads=False, interval="1d", **kwargs)
    except DataError:
        raise
    except Exception as exc:  # yfinance may raise outright (rate limit, network, fakes)
        raise classify_failure(series, ",".join(tickers), exc) from exc
    finally:
        yf_logger.removeHandler(handler)
    return raw, handler.messages


def _yf_download(*args: Any, **kwargs: Any) -> pd.DataFrame:
    import yfinance as yf

    return yf.download(*args, **kwargs)


def _flatten_columns(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Single-level OHLCV columns whatever `multi_level_index` / `group_by` produced."""
    if not isinstance(raw.columns, pd.MultiIndex):
        return raw
    cols = raw.columns
    fields = {"open", "high", "low", "close", "adj close", "volume"}
    for level in range(cols.nlevels):
        values = {str(v).lower() for v in cols.get_level_values(level)}
        if values & fields:
            other = [lv for lv in range(cols.nlevels) if lv != level]
            out = raw
            for lv in sorted(other, reverse=True):
                keys = list(dict.fromkeys(out.columns.get_level_values(lv)))
                pick = (
                    ticker
                    if ticker in keys
                    else (ticker.upper() if ticker.upper() in keys else None)
                )
                if pick is None and len(keys) == 1:
                    pick = keys[0]
                if pick is None:
                    raise KeyError(f"ticker {ticker!r} not among columns {keys}")
                out = out.xs(pick, axis=1, level=lv)
            return out
    raise KeyError(f"no OHLCV level in MultiIndex columns {list(cols)[:6]}")


def _now() -> pd.Timestamp:
    """The wall clock (UTC); a seam for tests."""
    return pd.Timestamp.now(tz="UTC")


def drop_partial_bar(
    df: pd.DataFrame, *, calendar: str = "NYSE", now: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, bool]:
    """Drop every row whose session had not closed at `now`, wherever it sits in the frame.

    NYSE: a row dated today's session while `now` is before that session's close (early closes
    from exchange_calendars XNYS), and any row dated after today (clock skew, bad data). 24/7
    (crypto, UTC days): rows dated the current UTC day or later. Returns (frame, dropped_any).
    """
    if df.empty:
        return df, False
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    mask = unclosed_mask(pd.DatetimeIndex(df.index).normalize(), calendar, now)
    return (df[~mask], True) if mask.any() else (df, False)


def fetch_daily(
    ticker: str,
    start: dt.date | str,
    *,
    series: str,
    auto_adjust: bool,
    end: dt.date | str | None = None,
    calendar: str = "NYSE",
    download: Callable[..., pd.DataFrame] | None = None,
    now: pd.Timestamp | None = None,
    retries: int = 3,
    backoff_s: float = 2.0,
    max_backoff_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 20.0,
    deadline_s: float = DEFAULT_DEADLINE_S,
    probe: Callable[[float], bool] | None = None,
) -> pd.DataFrame:
    """Daily OHLCV for `ticker` from `start` (inclusive) in the canonical frame shape.

    Raises a SourceError subclass naming `series` and the cause. Rate limits and network errors
    are retried `retries` times, waiting backoff_s * 2**attempt (capped at max_backoff_s). The
    whole call - every attempt and every wait - ends within `deadline_s`: an attempt that gets
    no answer in the time left (a host that accepts the connection and never replies) is
    abandoned. An empty answer is checked with `probe` (default: is_reachable): when Yahoo
    cannot be reached it is a network failure, not the "possibly delisted" yfinance reports.
    """
    download = download or _yf_download
    start_s = pd.Timestamp(start).date().isoformat()
    end_s = None if end is None else pd.Timestamp(end).date().isoformat()
    deadline = Deadline(deadline_s, sleep)

    def attempt(budget: float) -> pd.DataFrame:
        once = max(0.1, min(timeout_s, budget))
        return call_with_deadline(
            lambda: _download_once(download, ticker, start_s, end_s, series, auto_adjust, once),
            budget,
            series,
            ticker,
        )

    try:
        raw = retry_with_backoff(
            attempt,
            deadline,
            series=series,
            retries=retries,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
        )
    except EmptyFrameError as exc:
        reachable = probe or is_reachable
        if not reachable(min(PROBE_TIMEOUT_S, max(0.1, deadline.left()))):
            raise SourceUnavailableError(
                series,
                ticker,
                f"Yahoo unreachable (the probe got no answer); yfinance reported: {exc.cause}",
            ) from exc
        raise
    try:
        flat = _flatten_columns(raw, ticker)
        frame = normalize_ohlcv(flat, series, calendar=calendar)
    except DataError as exc:
        raise GarbledFrameError(series, ticker, f"unreadable frame: {exc}") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise GarbledFrameError(
            series, ticker, f"unreadable frame (non-numeric or malformed columns): {exc}"
        ) from exc
    frame, _dropped = drop_partial_bar(
        frame, calendar=calendar, now=now if now is not None else _now()
    )
    if frame.empty:
        raise EmptyFrameError(
            series, ticker, f"only a partial bar for the current session since {start_s}"
        )
    return frame


class Deadline:
    """A wall-clock budget for network work: every attempt and every backoff wait counts, and
    so does a wait an injected `sleep` skipped (tests), so a budget means the same in tests."""

    def __init__(self, seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.seconds = seconds
        self._t0 = time.monotonic()
        self._skipped = 0.0
        self._sleep = sleep

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self._t0) - self._skipped

    def wait(self, seconds: float) -> None:
        before = time.monotonic()
        self._sleep(seconds)
        self._skipped += max(0.0, seconds - (time.monotonic() - before))


def call_with_deadline(fn: Callable[[], T], left_s: float, series: str, ticker: str) -> T:
    """fn() in a daemon thread, abandoned if it has not answered in `left_s` seconds.

    yfinance's own `timeout` bounds each HTTP read, but one download makes several requests
    (cookie, crumb, chart; one per ticker in a batch), so only a wall-clock bound holds the
    promised total deadline. An abandoned call finishes (or not) in the background.
    """
    if left_s <= 0:
        raise SourceUnavailableError(series, ticker, "network deadline exhausted before the call")
    value: list[T] = []  # fn's answer, or
    error: list[BaseException] = []  # what it raised, handed to the caller's thread below

    def work() -> None:
        try:
            value.append(fn())
        except BaseException as exc:
            error.append(exc)

    t = threading.Thread(target=work, name=f"yf-{series}", daemon=True)
    t.start()
    t.join(left_s)
    if t.is_alive():
        raise SourceUnavailableError(
            series,
            ticker,
            f"network timeout: Yahoo gave no answer within {round(left_s, 1):g}s (connection stalled)",
        )
    if error:
        raise error[0]
    return value[0]


def retry_with_backoff(
    attempt: Callable[[float], T],
    deadline: Deadline,
    *,
    series: str,
    retries: int,
    backoff_s: float,
    max_backoff_s: float,
) -> T:
    """attempt(seconds left) until it returns. Rate limits and network errors (RETRYABLE) are
    retried after backoff_s * 2**n seconds (capped at max_backoff_s) while retries last and the
    wait fits in the deadline; then the last error is raised, saying why it gave up."""
    n = 0
    while True:
        try:
            return attempt(deadline.left())
        except RETRYABLE as exc:
            wait = min(max_backoff_s, backoff_s * (2**n))
            if n >= retries or wait >= deadline.left():
                why = "" if n >= retries else f" (deadline of {round(deadline.seconds, 1):g}s)"
                exc.args = (f"{exc.args[0]} - gave up after {n + 1} attempts{why}",)
                raise
            logging.getLogger(__name__).warning(
                "%s: %s; retry %d/%d in %.1fs", series, exc.cause, n + 1, retries, wait
            )
            deadline.wait(wait)
            n += 1


def _download_once(
    download, ticker, start_s, end_s, series, auto_adjust, timeout_s
) -> pd.DataFrame:
    raw, messages = yf_call(
        download,
        series,
        [ticker],
        ticker,
        start=start_s,
        end=end_s,
        auto_adjust=auto_adjust,
        actions=False,
        multi_level_index=False,
        timeout=timeout_s,
    )
    if raw is None or len(raw) == 0 or raw.dropna(how="all").empty:
        if messages:
            raise classify_failure(series, ticker, "; ".join(messages))
        raise EmptyFrameError(
            series,
            ticker,
            f"Yahoo returned an empty frame for start={start_s} (unknown or delisted ticker, or no new sessions)",
        )
    return raw


def is_reachable(timeout: float = PROBE_TIMEOUT_S, url: str | None = None) -> bool:
    """True if Yahoo's API host answers an HTTP request (any status) within `timeout` seconds.

    A real request, not just a TCP connect: a host that accepts connections but never answers
    (a stalled proxy, a black-holed load balancer) is unreachable. The request runs in a daemon
    thread joined with the timeout, so DNS or TLS stalls cannot hold the caller either.
    """
    import urllib.error
    import urllib.request

    target = url or PROBE_URL
    result: dict[str, bool] = {"ok": False}

    def probe() -> None:
        try:
            req = urllib.request.Request(target, headers={"User-Agent": "eventlab-probe"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                resp.read(1)
            result["ok"] = True
        except urllib.error.HTTPError:  # 4xx/5xx: the host answered, so the source is up
            result["ok"] = True
        except Exception:  # DNS failure, refused, reset, timeout, TLS stall: not reachable
            result["ok"] = False

    t = threading.Thread(target=probe, name="yahoo-probe", daemon=True)
    t.start()
    t.join(timeout)
    return bool(result["ok"]) and not t.is_alive()
