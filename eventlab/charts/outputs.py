"""What a rendered chart leaves behind, as plain data: its sidecar content (ChartMeta) and its
files and numbers (ChartOutput). No matplotlib here, so the report can read these names
without the drawing code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

ChartKind = Literal["measured", "model", "mixed"]
# charts/<SCREEN_DIR>/<name>.png: the right-sized copy report.html embeds (eventlab.charts.style)
SCREEN_DIR = "screen"
SIDECAR_KEYS = ("title", "caption", "data_span", "sources", "kind", "offline_note")


@dataclass
class ChartMeta:
    """What the sidecar says about a chart (the schema: eventlab.charts.style's docstring)."""

    title: str
    caption: str
    data_span: str
    sources: list[str]
    kind: ChartKind
    offline_note: str | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in SIDECAR_KEYS}


@dataclass
class ChartOutput:
    """A rendered chart: its files, its sidecar content and the numbers it states."""

    name: str
    png: Path
    sidecar: Path
    meta: ChartMeta
    numbers: dict = field(default_factory=dict)
    seconds: float = 0.0
    thumbnail_b64: str | None = None  # filled by the renderer (in the worker process)
    clipped: list[str] = field(default_factory=list)  # text cut off at the figure's edge
