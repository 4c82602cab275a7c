"""The universe report's HTML page: its Markdown blocks in the main report's house style.

The Markdown (report.md) is the single text; this turns its simple block grammar (headings,
pipe tables, images, block quotes, paragraphs with `code` and [links](href)) into HTML, with
wide tables scrolling in their own box, numbers right-aligned and charts that open full size.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from eventlab.report.templating import render_template

_NUMBER = re.compile(r"^[-+\u2212]?(?:[\d,]+(?:\.\d+)?|\.\d+)(?:%| bp|x)?$|^[<>]\s?0?\.\d+$")
_INLINE = re.compile(r"`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|\*([^*]+)\*")


def inline(text: str) -> str:
    """Escaped HTML of one line of Markdown text: `code`, [links](href), **bold**, *italic*."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        code, label, href, bold, italic = m.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code)}</code>")
        elif label is not None:
            out.append(f'<a href="{html.escape(href)}">{html.escape(label)}</a>')
        elif bold is not None:
            out.append(f"<b>{html.escape(bold)}</b>")
        else:
            out.append(f"<i>{html.escape(italic)}</i>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _cell(tag: str, text: str) -> str:
    text = text.strip().replace("\\|", "|")
    cls = ' class="n"' if _NUMBER.match(text) else ""
    return f"<{tag}{cls}>{inline(text)}</{tag}>"


def table_html(block: str) -> str:
    """A pipe table as an HTML table that scrolls sideways inside its own box."""
    rows = [
        re.split(r"(?<!\\)\|", r.strip().strip("|"))
        for r in block.splitlines()
        if not set(r) <= set("|-: ")
    ]
    head, *body = rows
    ths = "".join(_cell("th", c) for c in head)
    trs = "".join("<tr>" + "".join(_cell("td", c) for c in r) + "</tr>" for r in body)
    return f'<div class="scroll"><table><thead><tr>{ths}</tr></thead><tbody>{trs}</tbody></table></div>'


def figure_html(name: str, src: Path, caption: str) -> str:
    """A chart embedded as base64 that opens full size on click (the main report's markup)."""
    data = base64.b64encode(src.read_bytes()).decode()
    anchor = f"chart-{html.escape(name)}"
    return (
        f'<figure class="chart" id="{anchor}"><a class="zoom" href="#{anchor}" '
        f'title="Open full size"><img src="data:image/png;base64,{data}" alt="{html.escape(name)}">'
        f'</a><a class="close" href="#">Close ✕</a><figcaption>{inline(caption)}</figcaption></figure>'
    )


def body_html(md_text: str, folder: Path) -> str:
    """The page body from the report's Markdown; images are read from `folder` and embedded."""
    blocks = [b.strip() for b in md_text.split("\n\n") if b.strip()]
    out: list[str] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.startswith("# "):
            pass  # the title is the page's masthead
        elif b.startswith("## "):
            out.append(f"<h2>{inline(b[3:])}</h2>")
        elif b.startswith("|"):
            out.append(table_html(b))
        elif b.startswith("![") and "](" in b:
            name = b[2 : b.index("]")]
            src = folder / b[b.index("(") + 1 : b.index(")")]
            caption = ""
            if i + 1 < len(blocks) and blocks[i + 1].startswith("*"):
                caption, i = blocks[i + 1].strip("*"), i + 1
            out.append(figure_html(name, src, caption))
        elif b.startswith("> "):
            out.append(f'<p class="callout">{inline(b[2:].strip())}</p>')
        else:
            out.append(f"<p>{inline(b)}</p>")
        i += 1
    return "\n".join(out)


def render_page(
    md_text: str, folder: Path, *, title: str, as_of: str, generated_utc: str, data_line: str,
    files: list[str], kicker: str = "eventlab · universe study",
) -> str:  # fmt: skip
    """The self-contained report.html of a universe report folder; the data line, a paragraph
    of the Markdown, is shown once, in the page's header."""
    return render_template(
        "universe.html.j2",
        title=title, as_of=as_of, generated_utc=generated_utc, data_line=data_line,
        files=files, kicker=kicker, body=body_html(md_text.replace(f"\n\n{data_line}\n\n", "\n\n"), folder),
    )  # fmt: skip
