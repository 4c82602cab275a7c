"""From a Lark parse tree to the checked syntax tree (eventlab.studies.nodes): every name looked up
in the vocabulary or the series catalog, every window and lag an integer in range, every operand
of the right kind (number or condition). Each refusal is a ConditionError at the offending token
with the closest valid names."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

from lark import Token, Tree

from eventlab.studies.errors import ConditionError
from eventlab.studies.nodes import (
    Arithmetic,
    Call,
    Compare,
    Field,
    Lag,
    Logical,
    Negate,
    Node,
    Not,
    Number,
    Position,
    Qualified,
)
from eventlab.studies.vocabulary import (
    FIELDS,
    MAX_WINDOW,
    VIX_ALIAS,
    VIX_SERIES,
    WORDS,
    Kind,
    Word,
    vocabulary_names,
)

MAX_NUMBER = 1e12  # larger than any price or volume a condition compares with
MAX_NUMBER_DIGITS = 20
DOCS = "see docs/studies.md, section 'Condition language'"

Built = tuple[Node, Kind]


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to name (difflib), a case-insensitive exact match first."""
    pool = list(dict.fromkeys(candidates))
    same = [c for c in pool if c.lower() == name.lower() and c != name]
    near = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    near += difflib.get_close_matches(name.lower(), [c.lower() for c in pool], n=n, cutoff=0.6)
    by_lower = {c.lower(): c for c in pool}
    out = same + [by_lower.get(c, c) for c in near]
    return list(dict.fromkeys(out))[:n]


def _position(item: Tree | Token) -> Position:
    """1-based line and column of a tree or token."""
    if isinstance(item, Token):
        return int(item.line or 1), int(item.column or 1)
    return int(getattr(item.meta, "line", 1)), int(getattr(item.meta, "column", 1))


def _token(item: Tree | Token) -> Token:
    """A parse-tree child the grammar guarantees to be a token."""
    assert isinstance(item, Token), item
    return item


def _names(suggestions: list[str]) -> str:
    """Names as a readable list of code spans."""
    return ", ".join(f"`{s}`" for s in suggestions)


class Builder:
    """Builds the checked tree of one condition for one study series."""

    def __init__(self, text: str, series: str, known_series: Collection[str]) -> None:
        self.text = text
        self.series = series
        self.known_series = tuple(known_series)

    def error(
        self,
        at: Tree | Token | Position,
        problem: str,
        fix: str,
        name: str = "",
        suggestions: list[str] | tuple[str, ...] = (),
    ) -> ConditionError:
        """A ConditionError at a tree, token or position."""
        line, column = at if isinstance(at, tuple) else _position(at)
        return ConditionError(
            problem, fix, line=line, column=column, name=name, suggestions=suggestions
        )

    def snippet(self, tree: Tree | Token) -> str:
        """The text a tree or token was parsed from."""
        if isinstance(tree, Token):
            return str(tree)
        meta = tree.meta
        return self.text[meta.start_pos : meta.end_pos]

    # ---------------------------------------------------------------- entry points

    def condition(self, tree: Tree | Token) -> Node:
        """The checked tree of a whole condition (which must be a yes/no test)."""
        node, kind = self.build(tree)
        if kind != "condition":
            raise self.error(
                tree,
                f"`{self.snippet(tree)}` is a number, not a yes/no condition",
                f"compare it, e.g. `{self.snippet(tree)} > 0`; {DOCS}",
                name=self.snippet(tree),
            )
        return node

    def build(self, tree: Tree | Token) -> Built:
        """The checked node of any parse tree and its kind."""
        if isinstance(tree, Token):  # an inlined single token: only NAME or NUMBER reach here
            return self._name(tree) if tree.type == "NAME" else (self._number(tree), "number")
        handler = getattr(self, f"_r_{tree.data}", None)
        if handler is None:  # pragma: no cover - every grammar rule has a handler
            raise self.error(tree, f"unsupported construct `{self.snippet(tree)}`", DOCS)
        return handler(tree)

    def expect(self, tree: Tree | Token, kind: Kind, role: str) -> Node:
        """The node of tree, refused unless it is of `kind` (role says where it stands)."""
        node, got = self.build(tree)
        if got != kind:
            text = self.snippet(tree)
            fix = (
                f"compare it, e.g. `{text} > 0`"
                if kind == "condition"
                else "use a number here (a field, a function or a literal), not a comparison"
            )
            raise self.error(
                tree, f"{role} needs a {kind}, and `{text}` is a {got}", f"{fix}; {DOCS}", text
            )
        return node

    # ---------------------------------------------------------------- literals

    def _number(self, token: Token, scale: float = 1.0) -> Number:
        if len(token) > MAX_NUMBER_DIGITS or float(token) > MAX_NUMBER:
            raise self.error(
                token,
                f"the number {token[:24]}{'...' if len(token) > 24 else ''} is too large",
                f"numbers in a condition are at most {MAX_NUMBER:.0e}",
                str(token)[:24],
            )
        return Number(_position(token), float(token) * scale)

    def _r_number(self, tree: Tree) -> Built:
        return self._number(_token(tree.children[0])), "number"

    def _r_percent(self, tree: Tree) -> Built:
        return self._number(_token(tree.children[0]), 0.01), "number"

    # ---------------------------------------------------------------- names

    def _unknown(self, token: Token) -> ConditionError:
        name = str(token)
        pool = [*vocabulary_names(), *self.known_series]
        suggestions = closest(name, pool)
        hint = f"did you mean {_names(suggestions)}? " if suggestions else ""
        return self.error(
            token,
            f"unknown name `{name}`",
            f"{hint}use a field ({', '.join(FIELDS)}), a word of the vocabulary or SERIES.field; {DOCS}",
            name,
            suggestions,
        )

    def _name(self, token: Token) -> Built:
        name = str(token)
        if name in FIELDS:
            return Field(_position(token), name), "number"
        if name in WORDS:
            word = WORDS[name]
            if word.is_function:
                raise self.error(
                    token,
                    f"`{name}` needs arguments",
                    f"write {word.usage}; {DOCS}",
                    name,
                    [word.usage],
                )
            return Call(_position(token), word, (), ()), word.result
        if name == VIX_ALIAS:
            series = self._series(token, VIX_SERIES)
            return Qualified(_position(token), series, Field(_position(token), "close")), "number"
        if name in self.known_series:
            raise self.error(
                token,
                f"`{name}` is a series, not a value",
                f"name one of its fields, e.g. `{name}.close` or `{name}.ret(1)`",
                name,
                [f"{name}.close"],
            )
        raise self._unknown(token)

    def _series(self, token: Token, key: str) -> str:
        """key if it names a known series, else a ConditionError suggesting the closest keys."""
        if key in self.known_series:
            return key
        suggestions = closest(key, self.known_series)
        hint = f"did you mean {_names(suggestions)}? " if suggestions else ""
        raise self.error(
            token,
            f"unknown series `{key}`",
            f"{hint}series keys are: {', '.join(self.known_series)}",
            key,
            suggestions,
        )

    def _qualify(self, token: Token, node: Node) -> Node:
        """node evaluated on the series token names (the study's own series needs no wrapper)."""
        series = self._series(token, str(token))
        return node if series == self.series else Qualified(_position(token), series, node)

    def _r_name(self, tree: Tree) -> Built:
        return self._name(_token(tree.children[0]))

    def _r_qualified_name(self, tree: Tree) -> Built:
        series_token, field_token = map(_token, tree.children)
        self._series(series_token, str(series_token))
        if str(field_token) in self.known_series or str(field_token) == VIX_ALIAS:
            raise self.error(
                field_token,
                f"`{self.snippet(tree)}` chains two series",
                f"qualify a field once, e.g. `{series_token}.close`",
                str(field_token),
            )
        node, kind = self._name(field_token)
        return self._qualify(series_token, node), kind

    def _r_qualified_call(self, tree: Tree) -> Built:
        series_token, call = _token(tree.children[0]), tree.children[1]
        self._series(series_token, str(series_token))
        node, kind = self._r_call(call)
        return self._qualify(series_token, node), kind

    # ---------------------------------------------------------------- calls

    def _r_call(self, tree: Tree) -> Built:
        name_token, args = _token(tree.children[0]), tree.children[1:]
        name = str(name_token)
        word = WORDS.get(name)
        if word is None or not word.is_function:
            if name in FIELDS or (word is not None and not word.is_function):
                raise self.error(
                    name_token,
                    f"`{name}` is a value, not a function",
                    f"write `{name}` without parentheses (a lag is `{name}[-1]`)",
                    name,
                    [name],
                )
            raise self._unknown(name_token)
        params = word.params
        if word.optional_x and len(args) == len(params) - 1:
            params = params[1:]
            implicit: tuple[Node, ...] = (Field(_position(name_token), "close"),)
        else:
            implicit = ()
        if len(args) != len(params):
            raise self.error(
                name_token,
                f"`{name}` takes {len(params)} argument(s), got {len(args)}",
                f"write {word.usage}; {DOCS}",
                name,
                [word.usage],
            )
        nodes: list[Node] = list(implicit)
        windows: list[int] = []
        for param, arg in zip(params, args, strict=True):
            if param == "n":
                windows.append(self._window(arg, word))
            else:
                kind: Kind = "condition" if param == "cond" else "number"
                nodes.append(self.expect(arg, kind, f"the argument `{param}` of {word.usage}"))
        return Call(_position(name_token), word, tuple(nodes), tuple(windows)), word.result

    def _window(self, arg: Tree | Token, word: Word) -> int:
        """A window argument: a plain integer literal in 1..MAX_WINDOW."""
        text = self.snippet(arg)
        is_literal = isinstance(arg, Tree) and arg.data == "number"
        if not is_literal or "." in text:
            raise self.error(
                arg,
                f"the window of `{word.name}` must be a whole number of sessions, got `{text}`",
                f"write {word.usage} with n an integer from 1 to {MAX_WINDOW}, e.g. `{word.name}(20)`",
                text,
            )
        n = int(text)
        if not 1 <= n <= MAX_WINDOW:
            raise self.error(
                arg,
                f"the window of `{word.name}` is {n} sessions",
                f"use 1 to {MAX_WINDOW} sessions",
                text,
            )
        return n

    # ---------------------------------------------------------------- operators

    def _r_lagged(self, tree: Tree) -> Built:
        operand, lag = tree.children
        node, kind = self.build(operand)
        *sign, number = lag.children
        text = self.snippet(lag)
        if "." in str(number):
            raise self.error(
                lag, f"the lag `{text}` is not a whole number", "write e.g. `close[-1]`", text
            )
        k = int(str(number))
        if k > 0 and not (sign and str(sign[0]) == "-"):
            raise self.error(
                lag,
                f"`[{text}]` looks {k} session(s) ahead: a condition may only read the past",
                f"write `[-{k}]` for {k} session(s) ago",
                text,
                [f"-{k}"],
            )
        if k > MAX_WINDOW:
            raise self.error(
                lag, f"the lag `{text}` is too long", f"lag at most {MAX_WINDOW} sessions", text
            )
        if not k:
            return node, kind
        if isinstance(node, Qualified):  # VIX.close[-1]: VIX's own previous session
            return Qualified(node.pos, node.series, Lag(_position(tree), node.operand, k)), kind
        return Lag(_position(tree), node, k), kind

    def _r_neg(self, tree: Tree) -> Built:
        _, operand = tree.children
        return Negate(_position(tree), self.expect(operand, "number", "`-`")), "number"

    def _r_unary(self, tree: Tree) -> Built:
        _, operand = tree.children  # unary plus: the number itself
        return self.expect(operand, "number", "`+`"), "number"

    def _r_arith(self, tree: Tree) -> Built:
        left, op, right = tree.children
        role = f"`{op}`"
        a, b = self.expect(left, "number", role), self.expect(right, "number", role)
        return Arithmetic(_position(op), str(op), a, b), "number"

    def _r_compare(self, tree: Tree) -> Built:
        left, op, right = tree.children
        role = f"`{op}`"
        a, b = self.expect(left, "number", role), self.expect(right, "number", role)
        return Compare(_position(op), str(op), a, b), "condition"

    def _r_not_(self, tree: Tree) -> Built:
        (operand,) = tree.children
        return Not(_position(tree), self.expect(operand, "condition", "`not`")), "condition"

    def _logical(self, tree: Tree, op: str) -> Built:
        left, right = tree.children
        role = f"`{op}`"
        a, b = self.expect(left, "condition", role), self.expect(right, "condition", role)
        return Logical(_position(tree), op, a, b), "condition"

    def _r_and_(self, tree: Tree) -> Built:
        return self._logical(tree, "and")

    def _r_or_(self, tree: Tree) -> Built:
        return self._logical(tree, "or")
