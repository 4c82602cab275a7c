"""What each stored column means, read from the output contract the docs already state.

docs/outputs.md and docs/universe.md describe every published column, in tables (`| `col` |
meaning |`) or in bullets (`- `file.csv`, one row per ...: `col` (meaning), `col2`, ...`). That
text is the one declaration of a column's meaning; this module parses it so the UI's column
schemas carry the same words instead of a second copy. A column the docs list without a
parenthetical meaning is described by its declared type (eventlab.report.columns) and where the
docs list it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from eventlab.report.columns import column_type

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
DOC_FILES = ("outputs.md", "universe.md")

_TYPE_WORDS = {
    "return": "decimal fraction (0.0144 = +1.44%)",
    "share": "share, 0 to 1",
    "rate": "unsigned decimal fraction",
    "usd": "US dollars",
    "count": "count",
    "p-value": "p-value",
    "price": "price or index level, in points",
    "number": "statistic",
    "year": "year",
    "date": "date (YYYY-MM-DD)",
    "flag": "true / false",
    "in unit": "figure in the row's `unit`",
}
_FILE = re.compile(r"`([A-Za-z0-9_]+)\.(?:csv|parquet)`")
_TOKEN = re.compile(r"`([^`]+)`(?:\s*\(((?:[^()]|\([^()]*\))*)\))?")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_<>|*/]*$")


def expand(token: str) -> list[str]:
    """`a_x/y/z` -> a_x, a_y, a_z (the docs' shorthand for sibling columns); others as they are."""
    first, *rest = token.split("/")
    if not rest:
        return [first]
    prefix = first.rsplit("_", 1)[0] + "_" if "_" in first else ""
    return [first, *(prefix + r for r in rest)]


def _pattern(name: str) -> re.Pattern[str] | None:
    """A regex for a templated name (`fwd_<k>d`, `baseline_*`), None for a plain name."""
    if "<" not in name and "*" not in name:
        return None
    body = re.escape(name).replace(r"\*", ".+")
    body = re.sub(r"<[^>]*>", ".+", body.replace(r"\<", "<").replace(r"\>", ">"))
    return re.compile(f"^{body}$")


def _clean(text: str) -> str:
    """Markdown meaning as plain one-line text."""
    return re.sub(r"\s+", " ", text.replace("`", "")).strip(" .;,")


def parse(markdown: str) -> dict[str, dict[str, str]]:
    """{file stem (or '' when unknown): {column: meaning}} from one docs page."""
    out: dict[str, dict[str, str]] = {}
    current = ""
    # Bullets and headings continue over wrapped lines: join a bullet's lines first.
    blocks: list[str] = []
    for line in markdown.splitlines():
        if line.startswith(("  ", "\t")) and blocks and blocks[-1].startswith("- "):
            blocks[-1] += " " + line.strip()
        else:
            blocks.append(line)
    for block in blocks:
        if block.startswith("#"):
            m = _FILE.search(block)
            current = m.group(1) if m else current
            continue
        if block.startswith("|") and not block.startswith("|---"):
            cells = [c.strip() for c in block.strip("|").split("|")]
            if len(cells) < 2 or cells[0] in ("column", "---"):
                continue
            meaning = _clean(cells[1])
            for m in re.finditer(r"`([^`]+)`", cells[0]):
                for name in expand(m.group(1)):
                    if _NAME.match(name):
                        out.setdefault(current, {}).setdefault(name, meaning)
            continue
        if block.startswith("- "):
            m = _FILE.match(block[2:].lstrip())
            if not m:
                continue
            stem = m.group(1)
            body = block.split(":", 1)[1] if ":" in block else ""
            for tm in _TOKEN.finditer(body):
                for name in expand(tm.group(1)):
                    if _NAME.match(name):
                        out.setdefault(stem, {}).setdefault(name, _clean(tm.group(2) or ""))
    return out


@lru_cache(maxsize=1)
def _all_docs() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for name in DOC_FILES:
        path = DOCS_DIR / name
        if path.exists():
            for stem, cols in parse(path.read_text(encoding="utf-8")).items():
                merged.setdefault(stem, {}).update(
                    {k: v for k, v in cols.items() if k not in merged.get(stem, {})}
                )
    return merged


def _lookup(cols: dict[str, str], column: str) -> str | None:
    if column in cols:
        return cols[column]
    for name, meaning in cols.items():
        rx = _pattern(name)
        if rx is not None and rx.match(column):
            return meaning
    return None


def describe(table: str, column: str) -> str:
    """What `column` of the stored table `table` holds: the docs' words for that table, else for
    that column anywhere in the docs, else its declared type; '' when nothing says."""
    docs = _all_docs()
    meaning = _lookup(docs.get(table, {}), column)
    where = f"{table}.csv" if table in docs else ""
    if meaning is None:
        for stem, cols in docs.items():
            meaning = _lookup(cols, column)
            if meaning is not None:
                where = f"{stem}.csv" if stem else ""
                break
    ctype = column_type(column)
    kind = _TYPE_WORDS.get(ctype, "") if ctype else ""
    if meaning:
        return meaning + (f" [{kind}]" if kind and kind not in meaning else "")
    if kind:
        return kind[0].upper() + kind[1:] + (f"; see docs/outputs.md, {where}" if where else "")
    return f"See docs/outputs.md, {where}" if where else ""
