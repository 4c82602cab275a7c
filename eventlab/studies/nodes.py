"""The checked syntax tree of a condition and its vectorised evaluation. Every node evaluates to a
float array on the dates of the series it is evaluated for (conditions: 1.0 / 0.0 / NaN, see
eventlab.studies.arrays); a qualified node (`VIX.close`) evaluates on its own series' sessions and
is aligned on the outer dates by exact date."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eventlab.studies import arrays
from eventlab.studies.errors import ConditionError
from eventlab.studies.vocabulary import Word

Position = tuple[int, int]  # 1-based line and column within the condition's text


@dataclass
class Scope:
    """The frames of one evaluation and the series currently in focus, with the column arrays and
    date alignments computed once (shared by every focus of one evaluation)."""

    frames: Mapping[str, pd.DataFrame]
    series: str
    _columns: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _aligners: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def focus(self, series: str) -> Scope:
        """The same evaluation with another series in focus (sharing the caches)."""
        return Scope(self.frames, series, self._columns, self._aligners)

    def column(self, name: str) -> np.ndarray:
        """A column of the series in focus as floats (missing -> NaN)."""
        key = (self.series, name)
        if key not in self._columns:
            frame = self.frames[self.series]
            if name not in frame.columns:
                raise ConditionError(
                    f"the prices given for `{self.series}` have no column `{name}`",
                    "pass OHLCV frames (open, high, low, close, volume), as read_series returns",
                    name=name,
                )
            self._columns[key] = frame[name].to_numpy(dtype=float, na_value=np.nan)
        return self._columns[key]

    def align(self, values: np.ndarray, source: str) -> np.ndarray:
        """Values on `source`'s dates placed on the focused series' dates (missing where the
        source has no session with that exact date)."""
        if source == self.series:
            return values
        key = (source, self.series)
        if key not in self._aligners:
            self._aligners[key] = positions(
                self.frames[source].index, self.frames[self.series].index
            )
        pos = self._aligners[key]
        out = np.take(values, pos) if len(values) else np.full(len(pos), np.nan)
        out = out.astype(float, copy=True)
        out[pos < 0] = np.nan
        return out


def positions(source: pd.Index, dates: pd.Index) -> np.ndarray:
    """For each date, its row in `source` (-1 where source has no such date)."""
    if not (
        isinstance(source, pd.DatetimeIndex)
        and isinstance(dates, pd.DatetimeIndex)
        and source.dtype == dates.dtype
        and source.is_monotonic_increasing
        and source.is_unique
    ):
        return source.get_indexer(dates)
    # Sorted dates: a binary search beats get_indexer's hash table by about 2x on ^GSPC.
    src, want = source.asi8, dates.asi8
    pos = np.searchsorted(src, want)
    inside = pos < len(src)
    found = np.zeros(len(want), dtype=bool)
    found[inside] = src[pos[inside]] == want[inside]
    return np.where(found, pos, -1)


@dataclass(frozen=True)
class Node:
    """A node of the checked tree: its position and the facts the Condition reports."""

    pos: Position = field(compare=False)

    def evaluate(self, scope: Scope) -> np.ndarray:
        """The node's values on the focused series' dates."""
        raise NotImplementedError

    def children(self) -> tuple[Node, ...]:
        """The node's sub-expressions."""
        return ()

    def lookback(self) -> int:
        """Sessions of history the node needs beyond today."""
        return max((c.lookback() for c in self.children()), default=0)

    def series_used(self) -> frozenset[str]:
        """Series other than the focused one that the node reads."""
        return frozenset().union(*(c.series_used() for c in self.children()))

    def reads(self, focus: str) -> frozenset[tuple[str, str]]:
        """(series, field) pairs the node reads, `focus` being the series it is evaluated for."""
        return frozenset().union(*(c.reads(focus) for c in self.children()))


@dataclass(frozen=True)
class Number(Node):
    """A literal (percent already divided by 100)."""

    value: float

    def evaluate(self, scope: Scope) -> np.ndarray:
        return np.full(len(scope.frames[scope.series].index), self.value)


@dataclass(frozen=True)
class Field(Node):
    """open, high, low, close or volume of the series in focus."""

    name: str

    def evaluate(self, scope: Scope) -> np.ndarray:
        return scope.column(self.name)

    def reads(self, focus: str) -> frozenset[tuple[str, str]]:
        return frozenset({(focus, self.name)})


@dataclass(frozen=True)
class Call(Node):
    """A vocabulary word applied to its arguments (expressions) and windows (integers)."""

    word: Word
    args: tuple[Node, ...]
    windows: tuple[int, ...]

    def evaluate(self, scope: Scope) -> np.ndarray:
        values = [a.evaluate(scope) for a in self.args]
        return self.word.compute(scope.column, *values, *self.windows)

    def children(self) -> tuple[Node, ...]:
        return self.args

    def lookback(self) -> int:
        return super().lookback() + self.word.lookback(self.windows)

    def reads(self, focus: str) -> frozenset[tuple[str, str]]:
        return super().reads(focus) | {(focus, name) for name in self.word.reads}


@dataclass(frozen=True)
class Lag(Node):
    """The operand's value `sessions` sessions earlier (of the series in focus)."""

    operand: Node
    sessions: int

    def evaluate(self, scope: Scope) -> np.ndarray:
        return arrays.shift(self.operand.evaluate(scope), self.sessions)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)

    def lookback(self) -> int:
        return super().lookback() + self.sessions


@dataclass(frozen=True)
class Qualified(Node):
    """The operand evaluated on another series' own sessions, aligned on the focused dates."""

    series: str
    operand: Node

    def evaluate(self, scope: Scope) -> np.ndarray:
        inner = self.operand.evaluate(scope.focus(self.series))
        return scope.align(inner, self.series)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)

    def series_used(self) -> frozenset[str]:
        return super().series_used() | {self.series}

    def reads(self, focus: str) -> frozenset[tuple[str, str]]:
        return self.operand.reads(self.series)


@dataclass(frozen=True)
class Negate(Node):
    """-x."""

    operand: Node

    def evaluate(self, scope: Scope) -> np.ndarray:
        return -self.operand.evaluate(scope)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


_ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


@dataclass(frozen=True)
class Arithmetic(Node):
    """x + y, x - y, x * y, x / y (a division by zero is missing)."""

    op: str
    left: Node
    right: Node

    def evaluate(self, scope: Scope) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = _ARITHMETIC[self.op](self.left.evaluate(scope), self.right.evaluate(scope))
        return arrays.finite(out)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Compare(Node):
    """A comparison of two numbers: a condition, unknown where a side is missing."""

    op: str
    left: Node
    right: Node

    def evaluate(self, scope: Scope) -> np.ndarray:
        return arrays.compare(self.op, self.left.evaluate(scope), self.right.evaluate(scope))

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Not(Node):
    """not c (unknown stays unknown)."""

    operand: Node

    def evaluate(self, scope: Scope) -> np.ndarray:
        return arrays.logical_not(self.operand.evaluate(scope))

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Logical(Node):
    """`and` / `or` in three-valued logic."""

    op: str
    left: Node
    right: Node

    def evaluate(self, scope: Scope) -> np.ndarray:
        combine = arrays.logical_and if self.op == "and" else arrays.logical_or
        return combine(self.left.evaluate(scope), self.right.evaluate(scope))

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)
