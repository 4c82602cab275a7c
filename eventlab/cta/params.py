"""Parameters of the CTA replica (filled in by the CTA work; referenced from eventlab.config)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CTAParams:
    """Placeholder until the CTA model lands; see eventlab/cta/."""

    def validate(self) -> CTAParams:
        return self
