"""A row-by-row reference of the condition language: the same definitions as docs/studies.md,
written as plain Python loops over lists (None for missing; conditions True/False/None in
three-valued logic), walking the checked tree eventlab.studies.build produces. The tests compare
the vectorised evaluation against it."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from eventlab.studies import nodes

Value = float | bool | None


def to_list(x: pd.Series) -> list[float | None]:
    """A column as Python floats, None where missing."""
    return [None if pd.isna(v) else float(v) for v in x]


def k_and(a: Value, b: Value) -> Value:
    """Three-valued and."""
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def k_or(a: Value, b: Value) -> Value:
    """Three-valued or."""
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def k_not(a: Value) -> Value:
    """Three-valued not."""
    return None if a is None else not a


def _div(a: float | None, b: float | None) -> float | None:
    """a / b, None when missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b - 1, None when missing or b is zero."""
    q = _div(a, b)
    return None if q is None else q - 1


def _lag(xs: list, k: int) -> list:
    """The list k rows earlier."""
    return [xs[t - k] if t - k >= 0 else None for t in range(len(xs))]


def _window(xs: list, t: int, n: int) -> list | None:
    """The n values ending at row t, None unless all are present."""
    if t - n + 1 < 0:
        return None
    w = xs[t - n + 1 : t + 1]
    return None if any(v is None for v in w) else w


def sma(xs: list, n: int) -> list:
    """Mean of the n values ending at each row."""
    out = []
    for t in range(len(xs)):
        w = _window(xs, t, n)
        out.append(None if w is None else sum(w) / n)
    return out


def rolling_pick(xs: list, n: int, pick) -> list:
    """pick (max or min) of the n values ending at each row."""
    out = []
    for t in range(len(xs)):
        w = _window(xs, t, n)
        out.append(None if w is None else pick(w))
    return out


def ema(xs: list, n: int) -> list:
    """alpha = 2/(n+1), seeded with the first present value; missing rows skipped."""
    alpha, y, count, out = 2 / (n + 1), None, 0, []
    for x in xs:
        if x is None:
            out.append(None)
            continue
        count += 1
        y = x if y is None else alpha * x + (1 - alpha) * y
        out.append(y if count >= n else None)
    return out


def rsi(close: list, n: int) -> list:
    """Wilder: the first average is the mean of the first n changes (over present closes)."""
    out: list = []
    prev, j, gains, losses = None, 0, [], []
    avg_g = avg_l = 0.0
    for c in close:
        if c is None:
            out.append(None)
            continue
        if prev is None:
            prev = c
            out.append(None)
            continue
        j += 1
        g, loss = max(c - prev, 0.0), max(prev - c, 0.0)
        prev = c
        if j < n:
            gains.append(g)
            losses.append(loss)
            out.append(None)
            continue
        if j == n:
            avg_g, avg_l = (sum(gains) + g) / n, (sum(losses) + loss) / n
        else:
            avg_g, avg_l = (avg_g * (n - 1) + g) / n, (avg_l * (n - 1) + loss) / n
        if avg_l == 0:
            out.append(100.0 if avg_g > 0 else 50.0)
        else:
            out.append(100 - 100 / (1 + avg_g / avg_l))
    return out


def rvol(close: list, n: int) -> list:
    """Sample std of the last n log returns times sqrt(252)."""
    logs = []
    for t in range(len(close)):
        c, p = close[t], close[t - 1] if t else None
        ok = c is not None and p is not None and c > 0 and p > 0
        logs.append(math.log(c / p) if ok else None)
    out = []
    for t in range(len(close)):
        w = _window(logs, t, n)
        if w is None or n < 2:
            out.append(None)
            continue
        m = sum(w) / n
        out.append(math.sqrt(sum((v - m) ** 2 for v in w) / (n - 1)) * math.sqrt(252))
    return out


def streak(close: list, down: bool) -> list:
    """Consecutive closes below (above) the prior one, ending at each row."""
    out, run = [], 0
    for t in range(len(close)):
        c, p = close[t], close[t - 1] if t else None
        if c is None or p is None:
            out.append(None)
            run = 0
            continue
        moved = c < p if down else c > p
        run = run + 1 if moved else 0
        out.append(float(run))
    return out


def first_in(cond: list, m: int) -> list:
    """cond today and in none of the m previous rows."""
    out = []
    for t in range(len(cond)):
        before: Value = False
        for k in range(1, m + 1):
            before = k_or(before, cond[t - k] if t - k >= 0 else None)
        out.append(k_and(cond[t], k_not(before)))
    return out


def cross(x: list, y: list, above: bool, compare) -> list:
    """x crosses above (below) y at each row."""
    now = compare(">" if above else "<", x, y)
    then = compare("<=" if above else ">=", _lag(x, 1), _lag(y, 1))
    return [k_and(a, b) for a, b in zip(now, then, strict=True)]


_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


class Twin:
    """Row-by-row evaluation of a checked tree; `near_ties` counts comparisons whose sides differ
    by rounding only (where the vectorised and the looped arithmetic may legitimately disagree)."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self.frames = frames
        self.near_ties = 0

    def column(self, series: str, name: str) -> list:
        """A field of a series as a list."""
        return to_list(self.frames[series][name])

    def compare(self, op: str, xs: list, ys: list) -> list:
        """Row-wise comparison, counting near ties."""
        out: list = []
        for a, b in zip(xs, ys, strict=True):
            if a is None or b is None:
                out.append(None)
                continue
            if abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)) and not (
                float(a).is_integer() and float(b).is_integer()
            ):
                self.near_ties += 1
            out.append(_OPS[op](a, b))
        return out

    def word(self, node: nodes.Call, series: str) -> list:
        """A vocabulary word applied row by row."""
        name, w = node.word.name, node.windows
        args = [self.eval(a, series) for a in node.args]
        col = lambda field: self.column(series, field)  # noqa: E731
        c = col("close") if node.word.reads else []
        simple = {
            "gap": lambda: [_ratio(o, p) for o, p in zip(col("open"), _lag(c, 1), strict=True)],
            "range": lambda: [_ratio(h, lo) for h, lo in zip(col("high"), col("low"), strict=True)],
            "down_streak": lambda: streak(c, True),
            "up_streak": lambda: streak(c, False),
            "ret": lambda: [_ratio(a, b) for a, b in zip(c, _lag(c, w[0]), strict=True)],
            "change": lambda: [
                None if a is None or b is None else a - b
                for a, b in zip(c, _lag(c, w[0]), strict=True)
            ],
            "sma": lambda: sma(args[0], w[0]),
            "ema": lambda: ema(args[0], w[0]),
            "highest": lambda: rolling_pick(args[0], w[0], max),
            "lowest": lambda: rolling_pick(args[0], w[0], min),
            "dist_sma": lambda: [_ratio(a, b) for a, b in zip(c, sma(c, w[0]), strict=True)],
            "dist_ema": lambda: [_ratio(a, b) for a, b in zip(c, ema(c, w[0]), strict=True)],
            "rsi": lambda: rsi(c, w[0]),
            "rvol": lambda: rvol(c, w[0]),
            "abs": lambda: [None if v is None else abs(v) for v in args[0]],
            "first_in": lambda: first_in(args[0], w[0]),
            "cross_above": lambda: cross(args[0], args[1], True, self.compare),
            "cross_below": lambda: cross(args[0], args[1], False, self.compare),
        }
        return simple[name]()

    def eval(self, node: nodes.Node, series: str) -> list:
        """The node's values on `series`' dates, row by row."""
        n_rows = len(self.frames[series].index)
        if isinstance(node, nodes.Number):
            return [node.value] * n_rows
        if isinstance(node, nodes.Field):
            return self.column(series, node.name)
        if isinstance(node, nodes.Call):
            return self.word(node, series)
        if isinstance(node, nodes.Lag):
            return _lag(self.eval(node.operand, series), node.sessions)
        if isinstance(node, nodes.Qualified):
            inner = self.eval(node.operand, node.series)
            by_date = dict(zip(self.frames[node.series].index, inner, strict=True))
            return [by_date.get(d) for d in self.frames[series].index]
        if isinstance(node, nodes.Negate):
            return [None if v is None else -v for v in self.eval(node.operand, series)]
        if isinstance(node, nodes.Arithmetic):
            return self.arithmetic(node, series)
        if isinstance(node, nodes.Compare):
            return self.compare(
                node.op, self.eval(node.left, series), self.eval(node.right, series)
            )
        if isinstance(node, nodes.Not):
            return [k_not(v) for v in self.eval(node.operand, series)]
        if isinstance(node, nodes.Logical):
            f = k_and if node.op == "and" else k_or
            left, right = self.eval(node.left, series), self.eval(node.right, series)
            return [f(a, b) for a, b in zip(left, right, strict=True)]
        raise TypeError(node)

    def arithmetic(self, node: nodes.Arithmetic, series: str) -> list:
        """Row-wise arithmetic (a division by zero is missing)."""
        out: list = []
        left, right = self.eval(node.left, series), self.eval(node.right, series)
        for a, b in zip(left, right, strict=True):
            if a is None or b is None or (node.op == "/" and b == 0):
                out.append(None)
                continue
            v = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[node.op]
            out.append(v if math.isfinite(v) else None)
        return out
