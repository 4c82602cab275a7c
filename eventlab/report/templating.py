"""Render report.html (self-contained: inline CSS, base64 images) and report.md with Jinja2:
`render_html` / `render_markdown` fill the two templates in `templates/` with `build_context`'s
dict (eventlab.report.context)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from eventlab.report.glossary import link_terms

TEMPLATES = Path(__file__).with_name("templates")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["mdcell"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    env.filters["terms"] = link_terms  # HTML only: links a method's first mention to the glossary
    return env


def render_template(name: str, **ctx: object) -> str:
    """Any template of `templates/` (the universe report's page too) with the report's settings."""
    return _env().get_template(name).render(**ctx)


def render_html(ctx: dict[str, object]) -> str:
    return render_template("report.html.j2", **ctx)


def render_markdown(ctx: dict[str, object]) -> str:
    return render_template("report.md.j2", **ctx)
