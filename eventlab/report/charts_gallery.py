"""The report's chart gallery: every chart the charts stage wrote, with its sidecar metadata.

Charts are read from `<report folder>/charts/{name}.png` with their sidecar `{name}.json`
({"title", "caption", "data_span", "sources", "kind", "offline_note"}); the HTML embeds the
chart's screen copy `charts/screen/{name}.png` (see eventlab.charts.style) when there is one,
else the print PNG.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from eventlab.charts.outputs import SCREEN_DIR
from eventlab.charts.registry import CHARTS


@dataclass
class Chart:
    name: str
    title: str
    caption: str = ""
    data_span: str = ""
    sources: list[str] = field(default_factory=list)
    kind: str = ""
    offline_note: str | None = None
    png_b64: str = ""  # the embedded image (screen copy if present), base64
    mime: str = "image/png"
    width: int = 0  # pixel size of the embedded image (lets the browser reserve its space)
    height: int = 0
    path: str = ""
    order: float = 0.0

    @property
    def src(self) -> str:
        return f"data:{self.mime};base64,{self.png_b64}"


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (no image decoding)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _outline_position(name: str) -> float:
    """Charts appear in the research outline's order (the chart registry is the one list)."""
    names = [c.name for c in CHARTS]
    return float(names.index(name)) if name in names else float(len(names))


def collect_charts(folder: Path) -> list[Chart]:
    """Every charts/*.png in the report folder with its sidecar metadata, in order."""
    out: list[Chart] = []
    cdir = Path(folder) / "charts"
    if not cdir.is_dir():
        return out
    for png in sorted(cdir.glob("*.png")):
        meta: dict = {}
        side = png.with_suffix(".json")
        if side.exists():
            try:
                meta = json.loads(side.read_text())
            except (OSError, ValueError):
                meta = {"offline_note": f"sidecar {side.name} is unreadable"}
        sources = meta.get("sources") or []
        if isinstance(sources, str):
            sources = [sources]
        screen = cdir / SCREEN_DIR / png.name
        data = (screen if screen.is_file() else png).read_bytes()
        width, height = _png_size(data)
        out.append(
            Chart(
                name=png.stem,
                title=str(meta.get("title") or png.stem.replace("_", " ")),
                caption=str(meta.get("caption") or ""),
                data_span=str(meta.get("data_span") or "not stated"),
                sources=[str(s) for s in sources],
                kind=str(meta.get("kind") or ""),
                offline_note=meta.get("offline_note"),
                png_b64=base64.b64encode(data).decode("ascii"),
                width=width,
                height=height,
                path=f"charts/{png.name}",
                order=float(meta.get("order", _outline_position(png.stem))),
            )
        )
    return sorted(out, key=lambda c: (c.order, c.name))
