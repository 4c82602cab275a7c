"""The words of the condition language: the price fields and the derived fields and functions, each
with its usage, its formula (docs/studies.md lists the same), what it reads and how much history
it needs. Evaluation is vectorised (eventlab.studies.arrays)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from eventlab.studies import arrays

Kind = Literal["number", "condition"]
# What a word's compute receives: the current series' field arrays, then its arguments (arrays
# for expressions, ints for windows), x first when the word takes one.
FieldReader = Callable[[str], np.ndarray]
Compute = Callable[..., np.ndarray]

FIELDS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
# Intraday prices: stale for much of ^GSPC's history (the open-quality flags judge them per day).
INTRADAY_FIELDS = frozenset({"open", "high", "low"})
MAX_WINDOW = 2520  # about ten years of sessions: the longest window or lag a condition may ask for
VIX_ALIAS = "vix"  # `vix` reads as VIX.close
VIX_SERIES = "VIX"


@dataclass(frozen=True)
class Word:
    """A vocabulary word: a bare name (`gap`) or a function (`sma(n)`), with its formula."""

    name: str
    usage: str
    formula: str
    params: tuple[str, ...]  # "x": a number expression, "cond": a condition, "n": a window
    result: Kind
    reads: frozenset[str]  # fields read from the series (x's own reads come on top)
    lookback: Callable[[tuple[int, ...]], int]  # sessions of history, from the window arguments
    compute: Compute
    optional_x: bool = False  # x may be left out, meaning close

    @property
    def is_function(self) -> bool:
        """Whether the word takes arguments in parentheses."""
        return bool(self.params)


def _window(n: tuple[int, ...]) -> int:
    """Lookback of n sessions (the window reaches n sessions back)."""
    return n[0]


def _window_minus_one(n: tuple[int, ...]) -> int:
    """Lookback of n - 1 sessions (an n-session window including today)."""
    return n[0] - 1


def _one(_: tuple[int, ...]) -> int:
    """Lookback of one session (the prior close)."""
    return 1


def _none(_: tuple[int, ...]) -> int:
    """No lookback (today only)."""
    return 0


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b - 1, missing where b is zero or either side missing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return arrays.finite(a / b - 1.0)


def _gap(f: FieldReader) -> np.ndarray:
    """open / close[-1] - 1."""
    return _ratio(f("open"), arrays.shift(f("close"), 1))


def _range(f: FieldReader) -> np.ndarray:
    """high / low - 1."""
    return _ratio(f("high"), f("low"))


def _ret(f: FieldReader, n: int) -> np.ndarray:
    """close / close[-n] - 1."""
    return _ratio(f("close"), arrays.shift(f("close"), n))


def _change(f: FieldReader, n: int) -> np.ndarray:
    """close - close[-n]."""
    return f("close") - arrays.shift(f("close"), n)


def _rolling(how: str) -> Compute:
    """The word computing a trailing n-session mean, max or min of x."""

    def compute(f: FieldReader, x: np.ndarray, n: int) -> np.ndarray:
        return arrays.rolling(x, n, how)

    return compute


def _ema(f: FieldReader, x: np.ndarray, n: int) -> np.ndarray:
    """The exponential average of x."""
    return arrays.ema(x, n)


def _dist_sma(f: FieldReader, n: int) -> np.ndarray:
    """close / sma(n) - 1."""
    return _ratio(f("close"), arrays.rolling(f("close"), n, "mean"))


def _dist_ema(f: FieldReader, n: int) -> np.ndarray:
    """close / ema(n) - 1."""
    return _ratio(f("close"), arrays.ema(f("close"), n))


def _cross(above: bool) -> Compute:
    """The word for x crossing above (or below) y today."""

    def compute(f: FieldReader, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        now, before = (">", "<=") if above else ("<", ">=")
        return arrays.logical_and(
            arrays.compare(now, x, y),
            arrays.compare(before, arrays.shift(x, 1), arrays.shift(y, 1)),
        )

    return compute


_CLOSE = frozenset({"close"})
_NOTHING: frozenset[str] = frozenset()

WORDS: dict[str, Word] = {
    w.name: w
    for w in (
        Word(
            "gap",
            "gap",
            "open / close[-1] - 1",
            (),
            "number",
            frozenset({"open", "close"}),
            _one,
            _gap,
        ),
        Word(
            "range",
            "range",
            "high / low - 1 (the intraday range)",
            (),
            "number",
            frozenset({"high", "low"}),
            _none,
            _range,
        ),
        Word(
            "down_streak",
            "down_streak",
            "number of consecutive closes below the prior close, ending today (0 if today's is not)",
            (),
            "number",
            _CLOSE,
            _one,
            lambda f: arrays.streak(f("close"), down=True),
        ),
        Word(
            "up_streak",
            "up_streak",
            "number of consecutive closes above the prior close, ending today (0 if today's is not)",
            (),
            "number",
            _CLOSE,
            _one,
            lambda f: arrays.streak(f("close"), down=False),
        ),
        Word(
            "ret",
            "ret(n)",
            "close / close[-n] - 1 (the return over n sessions)",
            ("n",),
            "number",
            _CLOSE,
            _window,
            _ret,
        ),
        Word(
            "change",
            "change(n)",
            "close - close[-n] (the change in points over n sessions)",
            ("n",),
            "number",
            _CLOSE,
            _window,
            _change,
        ),
        Word(
            "sma",
            "sma(n) or sma(x, n)",
            "mean of x over the last n sessions including today (x: close if left out)",
            ("x", "n"),
            "number",
            _NOTHING,
            _window_minus_one,
            _rolling("mean"),
            optional_x=True,
        ),
        Word(
            "ema",
            "ema(n) or ema(x, n)",
            "exponential average of x, alpha = 2/(n+1), seeded with the first value, "
            "missing for the first n-1 sessions (x: close if left out)",
            ("x", "n"),
            "number",
            _NOTHING,
            _window_minus_one,
            _ema,
            optional_x=True,
        ),
        Word(
            "highest",
            "highest(n) or highest(x, n)",
            "largest x over the last n sessions including today (x: close if left out); "
            "`close > highest(50)[-1]` is a new 50-session closing high",
            ("x", "n"),
            "number",
            _NOTHING,
            _window_minus_one,
            _rolling("max"),
            optional_x=True,
        ),
        Word(
            "lowest",
            "lowest(n) or lowest(x, n)",
            "smallest x over the last n sessions including today (x: close if left out)",
            ("x", "n"),
            "number",
            _NOTHING,
            _window_minus_one,
            _rolling("min"),
            optional_x=True,
        ),
        Word(
            "dist_sma",
            "dist_sma(n)",
            "close / sma(n) - 1 (the distance to the n-session simple average)",
            ("n",),
            "number",
            _CLOSE,
            _window_minus_one,
            _dist_sma,
        ),
        Word(
            "dist_ema",
            "dist_ema(n)",
            "close / ema(n) - 1 (the distance to the n-session exponential average)",
            ("n",),
            "number",
            _CLOSE,
            _window_minus_one,
            _dist_ema,
        ),
        Word(
            "rsi",
            "rsi(n)",
            "Wilder's RSI: 100 - 100 / (1 + G/L), G and L the average gain and loss of the close "
            "(mean of the first n changes, then (prev * (n-1) + today) / n); 100 if L = 0 < G, "
            "50 if both are 0",
            ("n",),
            "number",
            _CLOSE,
            _window,
            lambda f, n: arrays.rsi(f("close"), n),
        ),
        Word(
            "rvol",
            "rvol(n)",
            "realised volatility: sample std of the last n daily log returns ln(close/close[-1]) "
            "times sqrt(252) (annualised, so `rvol(20) > 30%` reads as on the VIX scale)",
            ("n",),
            "number",
            _CLOSE,
            _window,
            lambda f, n: arrays.realised_vol(f("close"), n),
        ),
        Word(
            "abs",
            "abs(x)",
            "absolute value of x",
            ("x",),
            "number",
            _NOTHING,
            _none,
            lambda f, x: np.abs(x),
        ),
        Word(
            "first_in",
            "first_in(cond, m)",
            "cond holds today and held in none of the previous m sessions",
            ("cond", "n"),
            "condition",
            _NOTHING,
            _window,
            lambda f, cond, m: arrays.first_in(cond, m),
        ),
        Word(
            "cross_above",
            "cross_above(x, y)",
            "x > y today and x[-1] <= y[-1]",
            ("x", "y"),
            "condition",
            _NOTHING,
            _one,
            _cross(above=True),
        ),
        Word(
            "cross_below",
            "cross_below(x, y)",
            "x < y today and x[-1] >= y[-1]",
            ("x", "y"),
            "condition",
            _NOTHING,
            _one,
            _cross(above=False),
        ),
    )
}


def vocabulary_names() -> tuple[str, ...]:
    """Every name a condition may use bare or as a function (series keys come on top)."""
    return (*FIELDS, *WORDS, VIX_ALIAS)
