"""Live universe prices: yfinance batch downloads (many tickers per request), bounded
concurrency, backoff on rate limits. Tested offline with fake `yf.download` frames.

One `yf.download([t1, ..., tN], group_by="ticker")` request serves a batch; `concurrency` batches
are in flight at once (threads: the work is network I/O). A batch that comes back empty with a
rate-limit or network error logged (yfinance swallows them into its log) is retried with
exponential backoff; a ticker missing from an otherwise good batch is reported as no data, not
retried (an unknown or delisted symbol does not appear by asking again).

Deadlines and early stop as in the main refresh (the same helpers of eventlab.data.yahoo and
eventlab.data.refresh): each batch - attempts and waits - ends within BATCH_DEADLINE_S, a
request with no answer by then is abandoned; the whole download ends within
UNIVERSE_DEADLINE_S; a source that is clearly down is not asked for the remaining batches, and
the download then fails with one line saying so (nothing half-downloaded is studied or stored).

Yahoo's OHLC with auto_adjust=False is already split-adjusted (only `Adj Close` carries
dividends): the frames therefore get split = 1 and the `Dividends` column as `dividend`, and
eventlab.universe.adjust makes the total-return close from them as for the shipped data.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from eventlab.data import yahoo
from eventlab.data.refresh import RefreshOutcome
from eventlab.data.yahoo import (
    Deadline,
    SourceError,
    SourceUnavailableError,
    call_with_deadline,
    classify_failure,
    drop_partial_bar,
    is_reachable,
    retry_with_backoff,
    yf_call,
)

log = logging.getLogger(__name__)

# yfinance's per-request read timeout (one batch makes one request per ticker, in turn).
REQUEST_TIMEOUT_S = 20.0
# One batch of 50: ~50 sequential requests of well under a second each, plus up to three
# retries with backoff; a batch that has not answered by then is abandoned.
BATCH_DEADLINE_S = 180.0
# The whole universe (504 tickers = 11 batches, 2 in flight): batches not started by then are
# not attempted and the download fails with that said.
UNIVERSE_DEADLINE_S = 1200.0


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


def _download_once(
    download: Callable[..., pd.DataFrame],
    tickers: Sequence[str],
    start: dt.date,
    label: str,
    timeout_s: float,
) -> pd.DataFrame:
    """One batch request; a typed SourceError when it fails or comes back empty."""
    raw, messages = yf_call(
        download,
        label,
        tickers,
        list(tickers),
        start=start.isoformat(),
        auto_adjust=False,
        actions=True,
        group_by="ticker",
        multi_level_index=True,
        timeout=timeout_s,
    )
    if raw is None or raw.dropna(how="all").empty:
        raise classify_failure(label, ",".join(tickers), "; ".join(messages))
    return raw


def download_batch(
    tickers: Sequence[str],
    start: dt.date,
    *,
    download: Callable[..., pd.DataFrame] | None = None,
    retries: int = 3,
    backoff_s: float = 2.0,
    max_backoff_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    deadline_s: float = BATCH_DEADLINE_S,
    now: pd.Timestamp | None = None,
) -> dict[str, pd.DataFrame | None]:
    """One request for many tickers, retried on rate limits / network errors with backoff, all
    of it - attempts and waits - within `deadline_s` (a request that gets no answer in the time
    left is abandoned), as eventlab.data.yahoo.fetch_daily does for one series."""
    label = f"batch of {len(tickers)} ({tickers[0]}..{tickers[-1]})"

    def attempt(budget: float) -> pd.DataFrame:
        once = max(0.1, min(REQUEST_TIMEOUT_S, budget))
        return call_with_deadline(
            lambda: _download_once(download or yahoo._yf_download, tickers, start, label, once),
            budget,
            label,
            ",".join(tickers),
        )

    raw = retry_with_backoff(
        attempt,
        Deadline(deadline_s, sleep),
        series=label,
        retries=retries,
        backoff_s=backoff_s,
        max_backoff_s=max_backoff_s,
    )
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
    deadline_s: float = UNIVERSE_DEADLINE_S,
    batch_deadline_s: float = BATCH_DEADLINE_S,
    probe: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **kw: Any,
) -> tuple[dict[str, pd.DataFrame | None], dict[str, str]]:
    """Every ticker's frame (None if Yahoo has none) and, per ticker of a failed batch, the error.

    At most `concurrency` requests are in flight; a failed batch does not stop the others. The
    whole download ends within `deadline_s` (each batch within `batch_deadline_s` and the time
    left). A source that is clearly down - two batches failing with network errors or rate
    limits, or one and a failed `probe` (default: a real request to Yahoo) - is not asked for
    the remaining batches, and then, as when the deadline runs out, SourceUnavailableError says
    so in one line: nothing is returned, so no stored result is replaced by "no data".
    """
    batches = [list(tickers[i : i + batch_size]) for i in range(0, len(tickers), batch_size)]
    frames: dict[str, pd.DataFrame | None] = dict.fromkeys(tickers)
    errors: dict[str, str] = {}
    clock = Deadline(deadline_s, sleep)
    outcome = RefreshOutcome()  # the main refresh's rule for "the source is down"
    lock = threading.Lock()
    reachable = probe or (lambda: is_reachable())

    def one(batch: list[str]) -> tuple[list[str], dict[str, pd.DataFrame | None] | Exception]:
        label = f"{batch[0]}..{batch[-1]}"
        with lock:
            if outcome.source_down or clock.left() <= 0:
                outcome.skipped.append(label)
                return batch, SourceUnavailableError(label, ",".join(batch), "not attempted")
        left = min(batch_deadline_s, clock.left())
        try:
            return batch, download_batch(batch, start, deadline_s=left, sleep=sleep, **kw)
        except SourceError as exc:
            with lock:
                outcome.record(label, exc, probe=reachable)
            return batch, exc

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="yf-batch") as pool:
        for batch, result in pool.map(one, batches):
            if isinstance(result, Exception):
                errors.update(dict.fromkeys(batch, str(result)))
            else:
                frames.update(result)
    if outcome.source_down or outcome.skipped:
        raise SourceUnavailableError(
            "universe download",
            f"{len(tickers)} tickers",
            _why(outcome, clock, len(batches), sum(1 for t in tickers if frames[t] is None)),
        )
    return frames, errors


def _why(outcome: RefreshOutcome, clock: Deadline, n_batches: int, missing: int) -> str:
    """One line with the cause and the fix of a download stopped early, then each failure."""
    cause = outcome.cause() if outcome.outage else "Yahoo too slow"
    if not outcome.source_down:
        cause += f" (the download deadline of {round(clock.seconds, 1):g}s ran out)"
    lead = (
        f"{cause}; {len(outcome.skipped)} of {n_batches} batches not attempted, {missing} "
        "tickers without data; nothing was computed or stored, stored universe results are "
        "kept. Fix: run again later, or use universe_settings.source: snapshot (shipped data, "
        "offline)"
    )
    return "\n".join([lead, *(f"- {e}" for e in outcome.failures.values())])
