"""Errors shared across the analysis package. A leaf module: it imports nothing from eventlab,
so every module (settings, config, data, universe) can import it at the top."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and the fix."""

    def __init__(self, field_name: str, problem: str, fix: str) -> None:
        self.field_name = field_name
        self.problem = problem
        self.fix = fix
        super().__init__(f"config field `{field_name}`: {problem}. Fix: {fix}")

    def __reduce__(self):  # picklable across worker processes despite the 3-argument init
        return (type(self), (self.field_name, self.problem, self.fix))
