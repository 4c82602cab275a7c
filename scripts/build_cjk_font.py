"""Rebuild the report's embedded CJK font: Noto Sans CJK SC cut down to the glyphs the report uses.

The report quotes the research notes in Chinese (eventlab/report/claims.csv, `quote_zh`). A reader
without a CJK system font would see empty boxes, so report.html embeds this subset (base64 WOFF,
CSS `unicode-range` limited to CJK code points). The subset is committed
(eventlab/report/fonts/); this script rebuilds it when new Chinese text appears (a test fails
naming the missing characters):

    .venv/bin/python scripts/build_cjk_font.py            # fetches Debian's fonts-noto-cjk
    .venv/bin/python scripts/build_cjk_font.py --font /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

Without --font it downloads Debian's `fonts-noto-cjk` package with `apt-get download` and unpacks
it into a temporary folder (nothing is installed). Font licence: SIL Open Font License 1.1
(Copyright 2014-2021 Adobe, with Reserved Font Name 'Source'); the subset keeps the font's name
table and is shipped with eventlab/report/fonts/OFL.txt. Subsetting is a modification the OFL
permits; the subset is not sold on its own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eventlab.report.fonts import (  # noqa: E402
    CJK_FONT,
    FACE_NAME,
    cjk_chars,
    report_text_sources,
)

DEB = "fonts-noto-cjk"
TTC_PATH = "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def fetch_debian_font(workdir: Path) -> Path:
    """Download Debian's fonts-noto-cjk .deb into `workdir` and unpack it (no install, no root)."""
    subprocess.run(["apt-get", "download", DEB], cwd=workdir, check=True)
    deb = next(workdir.glob(f"{DEB}_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(workdir / "x")], check=True)
    return workdir / "x" / TTC_PATH


def write_licence(copyright_file: Path, font_copyright: str) -> None:
    """OFL.txt beside the subset: the font's copyright line and the OFL 1.1 text Debian ships."""
    lines, body = copyright_file.read_text(encoding="utf-8").splitlines(), []
    starts = [i for i, line in enumerate(lines) if line.strip() == "License: SIL-1.1"]
    for line in lines[starts[-1] + 1 :]:  # the last "License: SIL-1.1" stanza holds the text
        if line.startswith("License:"):
            break
        body.append("" if line.strip() == "." else line.removeprefix(" "))
    head = (
        f"{CJK_FONT.name}: a subset of {FACE_NAME} (Debian package {DEB}).\n"
        f"{font_copyright}\nLicensed under the SIL Open Font License, Version 1.1:\n\n"
    )
    (CJK_FONT.parent / "OFL.txt").write_text(head + "\n".join(body).strip() + "\n")


def build(font_path: Path, chars: str, dest: Path) -> tuple[int, str]:
    """Subset the Simplified Chinese face of `font_path` to `chars`; write WOFF to `dest`.
    Returns the file size and the font's copyright notice."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    if font_path.suffix.lower() == ".ttc":
        faces = TTCollection(str(font_path)).fonts
        font = next(f for f in faces if f["name"].getDebugName(1) == FACE_NAME)
    else:
        font = TTFont(str(font_path))
    opts = subset.Options()
    opts.flavor = "woff"  # zlib-compressed (WOFF2 would need the brotli module)
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]  # keep copyright, licence and font names (the OFL asks for them)
    opts.notdef_outline = True
    sub = subset.Subsetter(opts)
    sub.populate(text=chars)
    sub.subset(font)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    font.flavor = "woff"
    font.save(str(tmp))
    tmp.replace(dest)
    return dest.stat().st_size, str(font["name"].getDebugName(0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--font", type=Path, help="NotoSansCJK-Regular.ttc or a Noto Sans SC .otf")
    args = ap.parse_args(argv)
    chars = "".join(sorted(set().union(*(cjk_chars(t) for _, t in report_text_sources()))))
    with tempfile.TemporaryDirectory(prefix="eventlab-font-") as tmp:
        font = args.font or fetch_debian_font(Path(tmp))
        size, notice = build(font, chars, CJK_FONT)
        if args.font is None:
            write_licence(Path(tmp) / "x/usr/share/doc" / DEB / "copyright", notice)
    print(f"{CJK_FONT.relative_to(ROOT)}: {len(chars)} characters, {size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
