"""The error a refused condition raises: where in the text, which token, the closest valid names."""

from __future__ import annotations

from collections.abc import Sequence

from eventlab.errors import ConfigError

CONDITION_FIELD = "condition"


class ConditionError(ConfigError):
    """A condition the language refuses; `.line`/`.column` are 1-based within the condition's text,
    `.name` is the offending token and `.suggestions` the closest valid names."""

    def __init__(
        self,
        problem: str,
        fix: str,
        *,
        line: int = 1,
        column: int = 1,
        name: str = "",
        suggestions: Sequence[str] = (),
    ) -> None:
        self.line = line
        self.column = column
        self.name = name
        self.suggestions = tuple(suggestions)
        self.bare_problem = problem
        super().__init__(CONDITION_FIELD, f"line {line}, column {column}: {problem}", fix)

    def __reduce__(self):  # picklable across worker processes despite the keyword-only fields
        return (
            _rebuild,
            (self.bare_problem, self.fix, self.line, self.column, self.name, self.suggestions),
        )


def _rebuild(
    problem: str, fix: str, line: int, column: int, name: str, suggestions: tuple[str, ...]
) -> ConditionError:
    """ConditionError from its pickled fields."""
    return ConditionError(
        problem, fix, line=line, column=column, name=name, suggestions=suggestions
    )
