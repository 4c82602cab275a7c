"""Live universe prices: yfinance batch downloads (many tickers per request), bounded
concurrency, backoff on rate limits. Tested offline with fake `yf.download` frames.

One `yf.download([t1, ..., tN], group_by="ticker")` request serves a batch; `concurrency` batches
are in flight at once (threads: the work is network I/O). A batch that comes back empty with a
rate-limit or network error logged (yfinance swallows them into its log) is retried with
exponential backoff; a ticker missing from an otherwise good batch is reported as no data, not
retried (an unknown or delisted symbol does not appear by asking again).

Yahoo's OHLC with auto_adjust=False is already split-adjusted (only `Adj Close` carries
dividends): the frames therefore get split = 1 and the `Dividends` column as `dividend`, and
eventlab.universe.adjust makes the total-return close from them as for the shipped data.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from eventlab.data.yahoo import RETRYABLE, SourceError, classify_failure, drop_partial_bar

log = logging.getLogger(__name__)


class _BatchCapture(logging.Handler):
    """Collect the error records yfinance logs for a batch instead of raising."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _yf_download(*args: Any, **kwargs: Any) -> pd.DataFrame:
    import yfinance as yf

    return yf.download(*args, **kwargs)


def _ticker_frame(raw: pd.DataFrame, ticker: str) -> pd.DataFrame | None:
    """One ticker's canonical frame out of a group_by='ticker' batch (None if absent/empty)."""
    if isinstance(raw.columns, pd.MultiIndex):
        level = next(
            (lv for lv in range(raw.columns.nlevels) if ticker in raw.columns.get_level_values(lv)),
            None,
        )
        if level is None:
            return None
        part = raw.xs(ticker, axis=1, level=level)
    else:  # a one-ticker batch may come back flat
        part = raw
    cols = {str(c).lower(): c for c in part.columns}
    if not {"open", "high", "low", "close"} <= set(cols):
        return None
    out = pd.DataFrame(
        {
            "open": part[cols["open"]],
            "high": part[cols["high"]],
            "low": part[cols["low"]],
            "close": part[cols["close"]],
            "volume": part[cols["volume"]] if "volume" in cols else float("nan"),
            "dividend": part[cols["dividends"]] if "dividends" in cols else 0.0,
        }
    ).astype(float)
    out["split"] = 1.0  # Yahoo's OHLC is already split-adjusted
    out["dividend"] = out["dividend"].fillna(0.0)
    out = out.dropna(subset=["open", "high", "low", "close"])
    idx = pd.DatetimeIndex(out.index)
    out.index = (idx.tz_localize(None) if idx.tz is not None else idx).normalize().rename("date")
    return out if len(out) else None


def download_batch(
    tickers: Sequence[str],
    start: dt.date,
    *,
    download: Callable[..., pd.DataFrame] = _yf_download,
    retries: int = 3,
    backoff_s: float = 2.0,
    max_backoff_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    now: pd.Timestamp | None = None,
) -> dict[str, pd.DataFrame | None]:
    """One request for many tickers, retried on rate limits / network errors with backoff."""
    label = f"batch of {len(tickers)} ({tickers[0]}..{tickers[-1]})"
    attempt = 0
    while True:
        handler = _BatchCapture()
        yf_log = logging.getLogger("yfinance")
        yf_log.addHandler(handler)
        try:
            raw = download(
                list(tickers),
                start=start.isoformat(),
                interval="1d",
                auto_adjust=False,
                actions=True,
                group_by="ticker",
                progress=False,
                threads=False,
                multi_level_index=True,
                timeout=20,
            )
            error: SourceError | None = None
            if raw is None or raw.dropna(how="all").empty:
                error = classify_failure(label, ",".join(tickers), "; ".join(handler.messages))
        except Exception as exc:  # yfinance may raise outright (rate limit, network, fakes)
            error = classify_failure(label, ",".join(tickers), exc)
        finally:
            yf_log.removeHandler(handler)
        if error is None:
            break
        if not isinstance(error, RETRYABLE) or attempt >= retries:
            raise error
        wait = min(max_backoff_s, backoff_s * 2**attempt)
        log.warning("%s: %s; retry %d/%d in %.1fs", label, error.cause, attempt + 1, retries, wait)
        sleep(wait)
        attempt += 1
    out: dict[str, pd.DataFrame | None] = {}
    for ticker in tickers:
        frame = _ticker_frame(raw, ticker)
        if frame is not None:
            frame, _ = drop_partial_bar(frame, now=now)
        out[ticker] = frame if frame is not None and len(frame) else None
    return out


def download_universe(
    tickers: Sequence[str],
    start: dt.date,
    *,
    batch_size: int = 50,
    concurrency: int = 2,
    **kw: Any,
) -> tuple[dict[str, pd.DataFrame | None], dict[str, str]]:
    """Every ticker's frame (None if Yahoo has none) and, per ticker of a failed batch, the error.
    At most `concurrency` requests are in flight; a failed batch does not stop the others."""
    batches = [list(tickers[i : i + batch_size]) for i in range(0, len(tickers), batch_size)]
    frames: dict[str, pd.DataFrame | None] = dict.fromkeys(tickers)
    errors: dict[str, str] = {}

    def one(batch: list[str]) -> tuple[list[str], dict[str, pd.DataFrame | None] | Exception]:
        try:
            return batch, download_batch(batch, start, **kw)
        except SourceError as exc:
            return batch, exc

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="yf-batch") as pool:
        for batch, result in pool.map(one, batches):
            if isinstance(result, Exception):
                errors.update(dict.fromkeys(batch, str(result)))
            else:
                frames.update(result)
    return frames, errors
