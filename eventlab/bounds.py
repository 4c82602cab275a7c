"""Documented numeric ranges of settings, and the one check that enforces them.

The study, CTA, universe and price-source settings and the EVENTLAB_* variables each keep a
table {field: Bound}; `check_bounds` raises ConfigError naming the field, the range in words
(the same words the launchpad's descriptions use) and an example that works. The settings layer
(eventlab/settings.py) rewords `study.x` / `cta.x` to the launchpad's run-config path.

No import of eventlab.config at module level: config imports this module's users.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """lo..hi (each end included unless open), optionally whole numbers only, with a unit or
    a short note for the message and the example the fix suggests."""

    lo: float
    hi: float
    example: str
    unit: str = ""
    open_lo: bool = False
    open_hi: bool = False
    integer: bool = False

    def contains(self, value: object) -> bool:
        if self.integer and (not isinstance(value, int) or isinstance(value, bool)):
            return False
        low_ok = self.lo < value if self.open_lo else self.lo <= value  # type: ignore[operator]
        high_ok = value < self.hi if self.open_hi else value <= self.hi  # type: ignore[operator]
        return bool(low_ok and high_ok)

    def describe(self) -> str:
        """The range in words: 'from 1 to 600 seconds', 'above 0 and at most 10'."""
        kind = "an integer " if self.integer else ""
        if self.open_lo or self.open_hi:
            low = f"above {self.lo:g}" if self.open_lo else f"at least {self.lo:g}"
            high = f"below {self.hi:g}" if self.open_hi else f"at most {self.hi:g}"
            return f"{kind}{low} and {high}{self.unit}".strip()
        return f"{kind}from {self.lo:g} to {self.hi:g}{self.unit}"

    def check(self, field: str, value: object, shown: object = None) -> None:
        """Raise ConfigError(field, ...) unless `value` is in range; `shown` is what the message
        quotes as given (e.g. the raw text of an environment variable)."""
        if not self.contains(value):
            from eventlab.config import ConfigError

            got = shown if shown is not None else value
            raise ConfigError(
                field, f"must be {self.describe()}, got {got!r}", f"use {self.example}"
            )


def check_bounds(
    path: str | Callable[[str], str], values: Mapping[str, object], table: Mapping[str, Bound]
) -> None:
    """Check every field of `table` in `values`; `path` is a prefix ('study' -> 'study.<field>')
    or a function giving a field's path."""
    for name, bound in table.items():
        field = path(name) if callable(path) else f"{path}.{name}"
        bound.check(field, values[name])
