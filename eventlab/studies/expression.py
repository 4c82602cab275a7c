"""A study's condition: parse it (bounded, by the grammar, never as code), check it against the
vocabulary and the series catalog, and evaluate it vectorised on price frames.

    cond = parse_condition("gap > 1% and close < close[-1]", series="GSPC", known_series=keys)
    cond.evaluate({"GSPC": frame})  # bool Series on the frame's dates

The language is documented in docs/studies.md, section "Condition language".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import pandas as pd
from lark import Token, Tree

from eventlab.studies.build import DOCS, Builder
from eventlab.studies.errors import ConditionError
from eventlab.studies.grammar import parse_tree
from eventlab.studies.nodes import Node, Scope
from eventlab.studies.vocabulary import INTRADAY_FIELDS

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT_LENGTH",
    "Condition",
    "ConditionError",
    "parse_condition",
]

MAX_TEXT_LENGTH = 1000  # characters; a condition is a sentence, not a program
MAX_DEPTH = 24  # nesting of parentheses, brackets and operators
MAX_NODES = 200  # names, numbers and operators in one condition


@dataclass(frozen=True)
class Condition:
    """A parsed, checked condition for one study series."""

    text: str
    series: str
    series_used: frozenset[str]
    lookback: int
    uses_open: bool
    known_series: frozenset[str] = field(repr=False)
    tree: Node = field(repr=False, compare=False)

    def evaluate(self, frames: Mapping[str, pd.DataFrame]) -> pd.Series:
        """True on the study series' dates where the condition holds; False where it does not or
        cannot be known (an input missing or NaN)."""
        for key in sorted(self.series_used):
            if key not in frames:
                raise ConditionError(
                    f"the condition reads series `{key}` and no prices for it were given",
                    "pass a frame for every series in `series_used`",
                    name=key,
                )
        values = self.tree.evaluate(Scope(frames, self.series))
        return pd.Series(values == 1.0, index=frames[self.series].index, name=self.text)

    def __reduce__(self):  # the tree holds functions: pickle the text and parse it again
        return (_reparse, (self.text, self.series, tuple(sorted(self.known_series))))


def _reparse(text: str, series: str, known_series: tuple[str, ...]) -> Condition:
    """parse_condition with positional arguments (for unpickling)."""
    return parse_condition(text, series=series, known_series=known_series)


def _position_of(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _check_size(text: str) -> None:
    """Refuse a text too long or nested too deep before the parser sees it."""
    if len(text) > MAX_TEXT_LENGTH:
        line, column = _position_of(text, MAX_TEXT_LENGTH)
        raise ConditionError(
            f"the condition is {len(text)} characters long, more than {MAX_TEXT_LENGTH}",
            "state the event in a shorter condition",
            line=line,
            column=column,
            name=text[MAX_TEXT_LENGTH : MAX_TEXT_LENGTH + 10],
        )
    if not text.strip():
        raise ConditionError("the condition is empty", f"write one, e.g. `gap > 1%`; {DOCS}")
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth > MAX_DEPTH:
            line, column = _position_of(text, i)
            raise ConditionError(
                f"brackets nested more than {MAX_DEPTH} deep",
                "write the condition with fewer nested parentheses",
                line=line,
                column=column,
                name=ch,
            )


def _check_tree(tree: Tree) -> None:
    """Refuse a parse tree with too many nodes or too deep (walked without recursion)."""
    count, stack = 0, [(tree, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        where = (
            (item.line or 1, item.column or 1)
            if isinstance(item, Token)
            else (getattr(item.meta, "line", 1), getattr(item.meta, "column", 1))
        )
        if depth > MAX_DEPTH * 2:
            raise ConditionError(
                f"the condition nests operators more than {MAX_DEPTH * 2} deep",
                "simplify it (e.g. drop repeated `not` or `-`)",
                line=where[0],
                column=where[1],
                name=str(item) if isinstance(item, Token) else "",
            )
        if count > MAX_NODES:
            raise ConditionError(
                f"the condition has more than {MAX_NODES} names, numbers and operators",
                "split the question into simpler studies",
                line=where[0],
                column=where[1],
                name=str(item) if isinstance(item, Token) else "",
            )
        if isinstance(item, Tree):
            stack.extend((child, depth + 1) for child in item.children)


def parse_condition(text: str, *, series: str, known_series: Collection[str]) -> Condition:
    """Parse and check a condition for the study series `series` (bare fields refer to it);
    `known_series` are the series keys it may qualify (e.g. CONFIG.daily_keys)."""
    if not isinstance(text, str):
        raise ConditionError(
            f"the condition must be text, got {type(text).__name__}",
            "write it as a string, e.g. condition: 'gap > 1%'",
        )
    known = frozenset(known_series) | {series}
    _check_size(text)
    tree = parse_tree(text)
    _check_tree(tree)
    node = Builder(text, series, sorted(known)).condition(tree)
    return Condition(
        text=text,
        series=series,
        series_used=node.series_used() | {series},
        lookback=node.lookback(),
        uses_open=any(s == series and f in INTRADAY_FIELDS for s, f in node.reads(series)),
        known_series=known,
        tree=node,
    )
