"""The report's embedded CJK font (a subset of Noto Sans CJK SC with only the glyphs it uses).

report.html must read correctly on a machine without any CJK system font, so it carries its own:
`font_face_css()` is an @font-face rule with the committed WOFF subset as a base64 data URL and
a `unicode-range` limited to CJK code points (Latin text keeps the page's normal fonts). The subset
is rebuilt by scripts/build_cjk_font.py from the characters found in `report_text_sources()`;
tests/test_report.py fails, naming the characters, when the report needs a glyph it lacks.
Licence: SIL Open Font License 1.1, see OFL.txt beside this file.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
CJK_FONT = HERE / "NotoSansSC-eventlab-subset.woff"
FACE_NAME = "Noto Sans CJK SC"  # the face taken from Debian's NotoSansCJK-Regular.ttc
CSS_FAMILY = "eventlab CJK"

# CJK radicals, symbols and punctuation, kana, Han (incl. extension A), compatibility ideographs,
# vertical forms and full-width forms (，：（）) - the code points the embedded font serves.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x30FF),
    (0x3100, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
)


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def cjk_chars(text: str) -> set[str]:
    """The distinct CJK characters in `text`."""
    return {ch for ch in set(text) if is_cjk(ch)}


def report_text_sources(root: Path | None = None) -> Iterator[tuple[Path, str]]:
    """Every file whose text can reach the report: the claims table, templates and the Python
    that writes narrative and captions (eventlab/**/*.py|csv|j2)."""
    root = root or HERE.parents[1]  # the eventlab package
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".csv", ".j2") and path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")


@functools.cache
def covered_chars() -> frozenset[str]:
    """The characters the committed subset has glyphs for (its cmap)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(CJK_FONT), lazy=True) as font:
        return frozenset(chr(cp) for cp in font.getBestCmap())


def missing_glyphs(text: str) -> str:
    """CJK characters of `text` the embedded font cannot draw (sorted; empty when none)."""
    return "".join(sorted(cjk_chars(text) - covered_chars()))


def unicode_range() -> str:
    return ", ".join(f"U+{lo:04X}-{hi:04X}" for lo, hi in CJK_RANGES)


@functools.cache
def font_face_css() -> str:
    """The @font-face rule embedding the subset (empty if the font file is missing)."""
    if not CJK_FONT.is_file():
        return ""
    b64 = base64.b64encode(CJK_FONT.read_bytes()).decode("ascii")
    return (
        f'@font-face {{ font-family: "{CSS_FAMILY}"; font-style: normal; font-weight: 400 700; '
        f'font-display: block; src: url(data:font/woff;base64,{b64}) format("woff"); '
        f"unicode-range: {unicode_range()}; }}"
    )
