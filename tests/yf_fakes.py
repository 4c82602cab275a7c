"""Offline stand-ins for Yahoo: recorded frames and a fake `yf.download` (no network, ever).

A FakeYahoo is installed with `monkeypatch.setattr(yahoo, "_yf_download", fake)`: the real
adapter (retries, error capture, normalization, partial-bar drop) runs on top of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from eventlab.data.snapshot import read_series
from pipelines.resources import PriceSource

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str) -> pd.DataFrame:
    """A recorded yfinance-shaped frame (MultiIndex ('Price','Ticker') or flat columns)."""
    path = RECORDED / f"{name}.csv"
    multi = "multiindex" in name
    return pd.read_csv(path, header=[0, 1] if multi else 0, index_col=0, parse_dates=True)


def ohlcv_frame(dates, closes, volume=1e6) -> pd.DataFrame:
    """A canonical daily OHLCV frame: open = close, high/low 1% either side, constant volume."""
    closes = np.asarray(closes, dtype=float)
    return pd.DataFrame(
        {
            "open": closes,
            "high": closes * 1.01,
            "low": closes * 0.99,
            "close": closes,
            "volume": float(volume),
        },
        index=pd.DatetimeIndex(pd.to_datetime(dates), name="date"),
    )


def to_yf_shape(df: pd.DataFrame, ticker: str, multi: bool = True) -> pd.DataFrame:
    """A canonical (lower-case) frame in the shape yf.download returns."""
    out = pd.DataFrame(
        {
            "Close": df["close"],
            "High": df["high"],
            "Low": df["low"],
            "Open": df["open"],
            "Volume": df["volume"],
        },
        index=pd.DatetimeIndex(df.index, name="Date"),
    )
    if multi:
        out.columns = pd.MultiIndex.from_product([out.columns, [ticker]], names=["Price", "Ticker"])
    return out


def live_history(key: str, extra_sessions: int = 5, seed: int = 0) -> pd.DataFrame:
    """The snapshot for `key` plus `extra_sessions` synthetic new NYSE sessions after its end."""
    import exchange_calendars as xcals

    snap = read_series(key)
    last = snap.index[-1]
    cal = xcals.get_calendar("XNYS")
    days = cal.sessions_in_range(last + pd.Timedelta(days=1), last + pd.Timedelta(days=60))[
        :extra_sessions
    ]
    rng = np.random.default_rng(seed)
    close = float(snap["close"].iloc[-1]) * np.cumprod(1 + rng.normal(0, 0.004, len(days)))
    opens = np.r_[snap["close"].iloc[-1], close[:-1]] * (1 + rng.normal(0, 0.001, len(days)))
    new = pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, close) * 1.003,
            "low": np.minimum(opens, close) * 0.997,
            "close": close,
            "volume": 1e9,
        },
        index=pd.DatetimeIndex(
            days.tz_localize(None) if days.tz is not None else days, name="date"
        ),
    )
    return pd.concat([snap, new])


class FakeYahoo:
    """Callable like yf.download. `script` is a list of actions consumed one per call:
    a DataFrame (returned from `start` on), an Exception (raised), or a string (logged on the
    'yfinance' logger as yfinance does for swallowed errors, then an empty frame returned).
    When the script is exhausted, `default` is used."""

    def __init__(
        self, ticker: str, script: list | None = None, default: object = None, multi: bool = True
    ) -> None:
        self.ticker = ticker
        self.script = list(script or [])
        self.default = default
        self.multi = multi
        self.calls: list[dict] = []

    def __call__(self, tickers, **kw):
        self.calls.append({"tickers": tickers, **kw})
        action = self.script.pop(0) if self.script else self.default
        if isinstance(action, BaseException):
            raise action
        if isinstance(action, str):
            logging.getLogger("yfinance").error(f"['{self.ticker}']: {action}")
            return pd.DataFrame(columns=["Close", "High", "Low", "Open", "Volume"])
        if callable(action) and not isinstance(action, pd.DataFrame):
            action = action(kw)
        df: pd.DataFrame = action
        if df.empty:
            return df
        start = pd.Timestamp(kw["start"])
        if df.index.tz is not None:
            start = start.tz_localize(df.index.tz)
        df = df[df.index >= start]
        if all(c in df.columns for c in ("open", "close")):
            return to_yf_shape(df, self.ticker, self.multi)
        return df


class RecordingSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, s: float) -> None:
        self.waits.append(s)


def sessions_after(day: str, n: int) -> pd.DatetimeIndex:
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS")
    return cal.sessions_in_range(
        pd.Timestamp(day) + pd.Timedelta(days=1), pd.Timestamp(day) + pd.Timedelta(days=40)
    )[:n]


Mutator = Callable[[pd.DataFrame], pd.DataFrame]


class UpSource(PriceSource):
    """The price source whose reachability probe answers (the real probe needs the network)."""

    def reachable(self, timeout: float | None = None) -> bool:
        return True


class DownSource(PriceSource):
    """The price source whose reachability probe never answers: an offline machine."""

    def reachable(self, timeout: float | None = None) -> bool:
        return False
