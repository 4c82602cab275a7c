"""The condition grammar (Lark, LALR) and the translation of its syntax errors into ConditionErrors
that say what was expected. The grammar has no strings, no attribute chains beyond SERIES.field,
no power operator and no statements: whatever it cannot derive is refused before anything runs."""

from __future__ import annotations

import difflib
from functools import lru_cache

from lark import Lark, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from eventlab.studies.errors import ConditionError

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr
        | or_expr "or" and_expr -> or_
?and_expr: not_expr
        | and_expr "and" not_expr -> and_
?not_expr: comparison
        | "not" not_expr -> not_
?comparison: sum
        | sum COMPARE sum -> compare
?sum: product
    | sum PLUS product -> arith
    | sum MINUS product -> arith
?product: unary
    | product STAR unary -> arith
    | product SLASH unary -> arith
?unary: postfix
    | MINUS unary -> neg
    | PLUS unary
?postfix: primary
    | primary "[" lag "]" -> lagged
lag: (PLUS | MINUS)? NUMBER
?primary: NUMBER -> number
    | NUMBER PERCENT -> percent
    | NAME -> name
    | NAME "." NAME -> qualified_name
    | call
    | NAME "." call -> qualified_call
    | "(" or_expr ")"
call: NAME "(" [or_expr ("," or_expr)*] ")"

COMPARE: "<=" | ">=" | "==" | "!=" | "<" | ">"
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
PERCENT: "%"
NUMBER: /[0-9]+(\.[0-9]+)?/
NAME: /[A-Za-z_][A-Za-z0-9_]*/

%import common.WS
%ignore WS
"""

# Readable names for the grammar's terminals in "expected ..." messages.
_TERMINALS = {
    "COMPARE": "a comparison (< <= > >= == !=)",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "STAR": "`*`",
    "SLASH": "`/`",
    "PERCENT": "`%`",
    "NUMBER": "a number",
    "NAME": "a name",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "AND": "`and`",
    "OR": "`or`",
    "NOT": "`not`",
    "$END": "the end of the condition",
}
_KEYWORDS = ("and", "or", "not")
OPERATORS = ("and", "or", "not", "<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "/")

# Characters and tokens people try that the language spells differently (or not at all).
_HINTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "'": ("strings are not part of the condition language", ()),
    '"': ("strings are not part of the condition language", ()),
    ";": ("a condition is one expression, not statements", ("and",)),
    ":": ("a condition is one expression: no lambdas, slices or statements", ()),
    "=": ("`=` assigns; conditions compare", ("==",)),
    "&": ("write the word `and`", ("and",)),
    "|": ("write the word `or`", ("or",)),
    "!": ("write the word `not` (or `!=` for unequal)", ("not", "!=")),
    "*": ("there is no power operator `**`", ("*",)),
    ".": ("only SERIES.field is allowed: no attribute chains", ()),
    "{": ("no sets or dicts: use ( ) for grouping", ("(",)),
    "[": ("`[` takes a lag after a field, e.g. close[-1]", ()),
    "^": ("a series is named by its key, without `^` (e.g. `VIX.close`)", ()),
}


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser (built once per process)."""
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def parse_tree(text: str) -> Tree:
    """The parse tree of a condition, or a ConditionError at the first place the grammar refuses."""
    try:
        return parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None


def _expected(names: set[str] | frozenset[str] | None) -> str:
    """The readable list of terminals the parser would have accepted."""
    readable = sorted({_TERMINALS.get(n, f"`{n.lower()}`") for n in (names or ())})
    return ", ".join(readable) if readable else "nothing more"


def _syntax_error(exc: UnexpectedInput, text: str) -> ConditionError:
    """A ConditionError naming where the grammar stopped, the token found and what it expected."""
    line, column = int(exc.line or 1), int(exc.column or 1)
    if isinstance(exc, UnexpectedCharacters):
        token = exc.char
        expected = _expected(exc.allowed)
    elif isinstance(exc, UnexpectedEOF):
        token, expected = "", _expected(set(exc.expected))
        line, column = _end_position(text)
    elif isinstance(exc, UnexpectedToken):
        token = str(exc.token)
        expected = _expected(exc.accepts or exc.expected)
        if exc.token.type == "$END":
            token = ""
            line, column = _end_position(text)
    else:  # pragma: no cover - lark raises only the three kinds above
        token, expected = "", "a valid condition"
    hint, suggestions = _HINTS.get(token[:1], ("", ()))
    if token.isidentifier() and token not in OPERATORS:
        hint = hint or "two names need an operator between them (and, or, a comparison)"
        # `AND`, `Or`, `nto`: the keyword meant
        suggestions = tuple(difflib.get_close_matches(token.lower(), _KEYWORDS, n=1, cutoff=0.6))
    found = f"unexpected `{token}`" if token else "the condition ends too early"
    problem = f"{found}" + (f" ({hint})" if hint else "")
    return ConditionError(
        problem,
        f"expected {expected} here; see docs/studies.md, section 'Condition language'",
        line=line,
        column=column,
        name=token,
        suggestions=suggestions,
    )


def _end_position(text: str) -> tuple[int, int]:
    """1-based line and column just after the last character of text."""
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1
