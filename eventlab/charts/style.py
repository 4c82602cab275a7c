"""House style for every eventlab chart, and the two files each chart leaves behind.

Every chart is a PNG at print resolution plus a sidecar JSON with a fixed schema that the
report builds from:

    {"title": str, "caption": str, "data_span": str, "sources": [str, ...],
     "kind": "measured" | "model" | "mixed", "offline_note": str | null}

Plain matplotlib (Agg backend), fixed fonts and sizes, no Dagster imports.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from eventlab.charts.outputs import (  # noqa: E402, F401
    SCREEN_DIR,
    SIDECAR_KEYS,
    ChartKind,
    ChartMeta,
    ChartOutput,
)
from eventlab.data.store import atomic_path  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

DPI = 200
FIGSIZE = (11.0, 6.2)  # inches -> 2200 x 1240 px at 200 dpi
THUMB_WIDTH = 560  # px, for the inline Dagster preview
# The copy report.html embeds (charts/screen/<name>.png): the page shows charts at most ~1040 CSS
# px wide, so 1500 px is sharp inline and at full size, at a fifth of the print PNG's bytes.
SCREEN_WIDTH = 1500
SCREEN_COLORS = 256
# The thumbnail's palette: with the octree (palette_image) 256 colours made smaller files than
# median cut's 128 (0.30 vs 0.45 MB over the 13 charts) and less error than the octree's 128.
THUMB_COLORS = 256
PNG_COMPRESS_LEVEL = 3  # zlib level of the print PNGs (see write_png)

# One palette for the whole report (colour-blind safe, Okabe-Ito based).
INK = "#222222"
MUTED = "#6b6b6b"
GRID = "#e3e3e3"
EVENT = "#d55e00"  # vermillion: the event / the latest observation
BASE = "#0072b2"  # blue: baseline / main series
ALT = "#009e73"  # green: second series
ALT2 = "#cc79a7"  # purple
ALT3 = "#e69f00"  # orange
MODEL = "#56b4e9"  # light blue: model output
UP = "#2e8b57"
DOWN = "#c0392b"
SERIES_COLORS = (BASE, EVENT, ALT, ALT2, ALT3, MODEL, "#8c564b", "#7f7f7f")

RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.edgecolor": "#999999",
    "axes.linewidth": 0.8,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.rcsetup.cycler(color=list(SERIES_COLORS)),
    "grid.color": GRID,
    "grid.linewidth": 0.7,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "text.color": INK,
    "axes.labelcolor": INK,
}


def figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """A new figure in the house style (rc applied locally, so callers' global state is untouched)."""
    with plt.rc_context(RC):
        fig = plt.figure(figsize=figsize, dpi=DPI)
    return fig


def style_context():
    return plt.rc_context(RC)


def header(fig: Figure, title: str, subtitle: str, footer: str | None = None) -> None:
    """Title (bold, left), subtitle (data span and source) and an optional footer note."""
    fig.text(0.012, 0.985, title, ha="left", va="top", fontsize=14, fontweight="bold", color=INK)
    fig.text(0.012, 0.935, subtitle, ha="left", va="top", fontsize=9.5, color=MUTED)
    if footer:
        fig.text(0.012, 0.012, footer, ha="left", va="bottom", fontsize=8, color=MUTED, wrap=True)


class PctFormatter(matplotlib.ticker.Formatter):
    """Percent labels with just enough decimals for the tick spacing (no two ticks alike)."""

    def __init__(self, decimals: int | None = None) -> None:
        self.decimals = decimals

    def __call__(self, x, pos=None) -> str:
        d = self.decimals
        if d is None:
            locs = sorted(float(v) for v in getattr(self, "locs", ()))
            steps = [b - a for a, b in zip(locs, locs[1:], strict=False) if b - a > 0]
            step = min(steps) if steps else 1.0
            d = 0
            while d < 4 and abs(round(step, d) - step) > 1e-9 * max(1.0, abs(step)):
                d += 1
        return f"{x:.{d}f}%".replace("-", "\u2212")


def pct_axis(ax, axis: str = "y", decimals: int | None = None) -> None:
    """Format an axis holding percent values (already multiplied by 100)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PctFormatter(decimals))


def date_axis(ax, fmt: str = "%Y-%m") -> None:
    loc = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.DateFormatter(fmt))


def note_box(
    ax,
    text: str,
    loc: str = "upper left",
    fontsize: float = 8.5,
    xy: tuple[float, float] | None = None,
) -> None:
    """A small boxed note inside an axes (used for the computed numbers a chart states);
    `xy` (axes fraction) overrides the corner given by `loc`."""
    x, ha = (0.015, "left") if "left" in loc else (0.985, "right")
    y, va = (0.975, "top") if "upper" in loc else (0.03, "bottom")
    if xy is not None:
        x, y = xy
    ax.text(
        x,
        y,
        text,
        transform=ax.transAxes,
        ha=ha,
        va=va,
        fontsize=fontsize,
        color=INK,
        bbox={"boxstyle": "round,pad=0.35", "fc": "white", "ec": "#bbbbbb", "alpha": 0.92},
        zorder=10,
    )


def ordinal(n: float) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ... of a number rounded to an integer."""
    k = int(round(n))
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def span(start, end) -> str:
    """'YYYY-MM-DD .. YYYY-MM-DD' for the sidecar and subtitles."""
    return f"{pd.Timestamp(start).date().isoformat()} .. {pd.Timestamp(end).date().isoformat()}"


def draw_rgba(fig: Figure) -> memoryview:
    """Draw the figure on its Agg canvas at DPI; its RGBA pixels (H x W x 4 bytes), exactly what
    `fig.savefig(..., dpi=DPI)` would encode (no layout engine or tight bbox is used here)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if fig.dpi != DPI:
        fig.set_dpi(DPI)
    canvas.draw()
    return canvas.buffer_rgba()


def clipped_text(fig: Figure) -> list[str]:
    """Axis labels, titles and tick labels that run past the figure's edge (cut off in the PNG).
    Call after the figure is drawn (draw_rgba); every chart's list should be empty."""
    # draw_rgba made the canvas an Agg one (the stubs type it as the base canvas)
    renderer = cast(FigureCanvasAgg, fig.canvas).get_renderer()
    w, h = fig.bbox.width, fig.bbox.height
    out = []
    for ax in fig.axes:
        texts = [ax.xaxis.label, ax.yaxis.label, ax.title]
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            # the labels of ticks outside the view are not drawn
            texts += [
                t
                for loc, t in zip(
                    axis.get_majorticklocs(), axis.get_majorticklabels(), strict=False
                )
                if lo <= loc <= hi
            ]
        for t in texts:
            if not (t.get_visible() and t.get_text()):
                continue
            bb = t.get_window_extent(renderer)
            if bb.x0 < -1 or bb.y0 < -1 or bb.x1 > w + 1 or bb.y1 > h + 1:
                out.append(t.get_text())
    return out


def rgb_image(rgba: memoryview):
    """The drawn RGBA pixels as a PIL RGB image. Every figure has an opaque white background
    (RC's figure.facecolor), so alpha is 255 everywhere and dropping it loses nothing (see
    write_png for what RGB saves)."""
    h, w = cast(tuple[int, ...], rgba.shape)[:2]  # Agg's buffer: always H x W x 4
    return Image.frombuffer("RGBA", (w, h), rgba, "raw", "RGBA", 0, 1).convert("RGB")  # type: ignore[arg-type]  # Pillow's stubs omit memoryview; frombuffer takes any buffer


def write_png(dest, im) -> None:
    """Encode the print copy (RGB, with savefig's dpi). zlib levels 1-3 share the fast deflate
    path: level 3 took 65% of level 6's time for files 5% larger over the 13 charts (measured
    2026-11-29); RGB instead of savefig's RGBA took 55% of the time for 10% fewer bytes."""
    im.save(dest, format="PNG", dpi=(DPI, DPI), compress_level=PNG_COMPRESS_LEVEL)


def screen_image(im, width: int = SCREEN_WIDTH):
    """The print image scaled to `width` px (LANCZOS after a 1.5x box reduction: the same look as
    plain LANCZOS at a fraction of the cost); the report's copy and the thumbnail start here."""
    if im.width <= width:
        return im
    h = round(im.height * width / im.width)
    return im.resize((width, h), Image.Resampling.LANCZOS, reducing_gap=1.5)


def palette_image(im, colors: int):
    """`im` (RGB) reduced to a palette of at most `colors` by Pillow's fast octree, run on the
    inverted image.

    Why octree: over the 13 report charts at 1500 px it took 0.012-0.025 s per chart against
    median cut's 0.12-0.24 s (median cut costs ~0.06 s per 1.3 MP even for a blank image, more
    with many colours), and its files are ~40% smaller. Why inverted: the octree gives each
    colour bucket (16 levels per channel) the mean of its pixels rounded toward 0, so the white
    background (~75% of every chart) came out #fefefe, a faint box on the white page; inverted,
    rounding goes toward white and white stays exact. Measured against the RGB image (13
    charts, 2026-11-29): mean error 0.6 levels (median cut 0.25), no white pixel changed, the
    light grid #e3e3e3 at most 6 levels lighter, the worst anti-aliased pixel 51 levels off
    (median cut 94); side by side at 2x the two are indistinguishable.
    """
    q = ImageOps.invert(im).quantize(colors, method=Image.Quantize.FASTOCTREE)
    q.putpalette(bytes(255 - v for v in q.getpalette() or ()))
    return q


def _palette_png(im, colors: int) -> bytes:
    """PNG bytes of `im` reduced to a `colors` palette (see palette_image)."""
    buf = io.BytesIO()
    # zlib level 4: 60% of level 6's time for 5% more bytes (13 charts' copies 1.19 vs 1.13 MB);
    # optimize=True: 10x the time for 2% fewer bytes
    palette_image(im, colors).save(buf, format="PNG", compress_level=4)
    return buf.getvalue()


def screen_png(screen, colors: int = SCREEN_COLORS) -> bytes:
    """The report's embedded copy (charts/screen/<name>.png): the screen image, 256 colours."""
    return _palette_png(screen, colors)


def thumbnail_from_screen(screen, full_size: tuple[int, int], width: int = THUMB_WIDTH) -> str:
    """The UI thumbnail, base64: the screen image scaled to `width` px (height from the print
    image's `full_size`, so rounding in the screen copy does not change it), THUMB_COLORS."""
    h = max(1, round(full_size[1] * width / full_size[0]))
    small = screen.resize((width, h), Image.Resampling.LANCZOS)
    return base64.b64encode(_palette_png(small, THUMB_COLORS)).decode("ascii")


def thumbnail_b64(png: Path, width: int = THUMB_WIDTH) -> str:
    """The UI thumbnail of a chart file (the same image save() makes)."""
    with Image.open(png) as im:
        rgb = im.convert("RGB")
        return thumbnail_from_screen(screen_image(rgb), rgb.size, width)


def save(
    fig: Figure, out_dir: Path, name: str, meta: ChartMeta, numbers: dict | None = None
) -> ChartOutput:
    """Write <out_dir>/<name>.png and <name>.json (atomically, via temp files) and close the figure.

    The figure is drawn once; the PNG and the UI thumbnail are both made from that pixel buffer."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{name}.png"
    side = out_dir / f"{name}.json"
    screen = out_dir / SCREEN_DIR / f"{name}.png"
    try:
        rgba = draw_rgba(fig)
        clipped = clipped_text(fig)
    finally:
        plt.close(fig)
    im = rgb_image(rgba)
    small = screen_image(im)
    # unique temp names (atomic_path): two runs or workers never share a temp file
    with atomic_path(png) as tmp_png:
        write_png(tmp_png, im)
    with atomic_path(screen) as tmp_screen:
        tmp_screen.write_bytes(screen_png(small))
    thumb = thumbnail_from_screen(small, im.size)
    with atomic_path(side) as tmp_side:
        tmp_side.write_text(json.dumps(meta.to_json(), indent=2, ensure_ascii=False, default=str))
    return ChartOutput(
        name=name,
        png=png,
        sidecar=side,
        meta=meta,
        numbers=numbers or {},
        thumbnail_b64=thumb,
        clipped=clipped,
    )


def placeholder(out_dir: Path, name: str, title: str, message: str, meta: ChartMeta) -> ChartOutput:
    """A chart whose data could not be had: a figure that says so (never an empty or fake plot)."""
    with style_context():
        fig = figure((11.0, 3.2))
        header(fig, title, meta.data_span or "no data")
        fig.text(0.5, 0.45, message, ha="center", va="center", fontsize=11, color=MUTED, wrap=True)
    return save(fig, out_dir, name, meta)
