"""Render report.html (self-contained: inline CSS, base64 images) and report.md with Jinja2.

`build_context` turns the computed frames into display rows (percentages formatted for reading;
the CSV artifacts stay decimal); `render_html` / `render_markdown` fill the two templates in
`templates/`. Charts are read from `<report folder>/charts/{name}.png` with their sidecar
`{name}.json` ({"title", "caption", "data_span", "sources", "kind", "offline_note"}); the HTML
embeds the chart's screen copy `charts/screen/{name}.png` (see eventlab.charts.style) when there
is one, else the print PNG.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from eventlab.charts.outputs import SCREEN_DIR
from eventlab.charts.registry import CHARTS
from eventlab.report.claims import KINDS, VERDICTS, verdict_counts
from eventlab.report.columns import column_type, format_value
from eventlab.report.fonts import font_face_css
from eventlab.report.formatting import is_missing, num, pct, pval
from eventlab.report.key_figures import key_figures
from eventlab.report.labels import column_label, cta_table_classes, cta_value
from eventlab.report.lead import display_tables, evidence_paragraphs
from eventlab.report.narrative import coverage_facts, main_stats, narrative
from eventlab.report.replica_section import SECTION_CHARTS, section_context

TEMPLATES = Path(__file__).with_name("templates")

CTA_TABLES = ("cta_levels_latest", "cta_claims", "cta_scenarios", "cta_event_summary")


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


# ---------------------------------------------------------------- cell formatting


def _cell(col: str, v: object, unit: str | None = None) -> str:
    """A CTA table's cell, by its column's declared type (eventlab.report.columns); `unit` is the
    row's unit for figures given in it (cta_claims)."""
    return format_value(column_type(col), v, compact=True, unit=unit)


from eventlab.cta.levels import LEVEL_COLUMNS  # noqa: E402

CTA_DISPLAY_COLUMNS: dict[str, tuple[str, ...]] = {
    # the CTA model's own column list, minus the note on which session a level applies to
    "cta_levels_latest": tuple(c for c in LEVEL_COLUMNS if c != "applies_to"),
    "cta_claims": (
        "claim",
        "unit",
        "notes_value",
        "replica_date",
        "replica_value",
        "replica_low",
        "replica_high",
        "why_differ",
    ),
    "cta_scenarios": (
        "as_of",
        "scenario",
        "window",
        "days",
        "path_return",
        "position_start",
        "position_end",
        "flow_usd",
        "max_daily_sell_usd",
    ),
    # cta_event_summary: the study's horizons, see table_columns
}
# cta_event_summary's columns shown: these, with each horizon's median and the hit rate between
CTA_SUMMARY_LEAD = ("horizon", "status", "n_events")
CTA_SUMMARY_TAIL = ("event_dates",)
_MEDIAN_FWD = re.compile(r"^median_fwd_(\d+)d$")
_HIT_RATE = re.compile(r"^hit_rate_(\d+)d$")


def table_columns(name: str, df: pd.DataFrame) -> tuple[str, ...]:
    """The columns the report shows for CTA table `name`: the fixed list, or for the event
    summary the median at each of the run's study horizons and the hit rate it carries."""
    if name != "cta_event_summary":
        return CTA_DISPLAY_COLUMNS.get(name, ())
    by_horizon = [(int(m.group(1)), c) for c in df.columns if (m := _MEDIAN_FWD.match(str(c)))]
    medians = [c for _, c in sorted(by_horizon, key=lambda hc: hc[0])]
    hits = [c for c in df.columns if _HIT_RATE.match(str(c))]
    return (*CTA_SUMMARY_LEAD, *medians, *hits, *CTA_SUMMARY_TAIL)


def generic_table(
    df: pd.DataFrame, max_rows: int = 60, columns: tuple[str, ...] = ()
) -> dict[str, object]:
    """A table for the template: readable headings (labels.column_label), formatted cells and
    a CSS class per column (numbers right-aligned, long text given room)."""
    cols = [c for c in columns if c in df.columns]
    if cols:
        df = df[cols]
    head = df.head(max_rows)
    return {
        "columns": [column_label(str(c)) for c in head.columns],
        "classes": cta_table_classes(head),
        "rows": [
            [
                cta_value(str(c), v, _cell(str(c), v, unit))
                for c, v in zip(head.columns, row, strict=True)
            ]
            for row, unit in zip(
                head.itertuples(index=False),
                head["unit"] if "unit" in head.columns else [None] * len(head),
                strict=True,
            )
        ],
        "more": max(len(df) - max_rows, 0),
    }


# ---------------------------------------------------------------- context

EVENT_COLUMNS = (
    ("date", "Date", lambda r: pd.Timestamp(r["date"]).date().isoformat()),
    ("weekday", "Day", lambda r: str(r.get("weekday", pd.Timestamp(r["date"]).day_name()))[:3]),
    ("prior_close", "Prior close", lambda r: num(r["prior_close"])),
    ("gap", "Open gap", lambda r: pct(r["gap"])),
    ("high_runup", "High", lambda r: pct(r.get("high_runup"))),
    ("close_to_close", "Close", lambda r: pct(r["close_to_close"])),
    ("open_to_close", "Open→close", lambda r: pct(r.get("open_to_close"))),
    ("vix_close", "VIX", lambda r: num(r.get("vix_close"))),
    ("dist_sma200", "vs 200d avg", lambda r: pct(r.get("dist_sma200"), 1)),
)
# then one column per forward horizon the events carry (fwd_<k>d, the run's study horizons)
_FWD = re.compile(r"^fwd_(\d+)d$")

RETURN_KEYS = {
    "gap",
    "high_runup",
    "close_to_close",
    "open_to_close",
    "dist_sma200",
}


def forward_horizons(events: pd.DataFrame) -> list[int]:
    """The forward horizons (trading days) of the events table's fwd_<k>d columns, ascending."""
    return sorted(int(m.group(1)) for c in events.columns if (m := _FWD.match(str(c))))


def _fwd_column(k: int):
    col = f"fwd_{k}d"
    return (col, f"T+{k}", lambda r: pct(r.get(col)))


def event_rows(events: pd.DataFrame | None) -> tuple[list[str], list[dict[str, object]]]:
    if events is None or len(events) == 0:
        return [], []
    fixed = [(k, h, f) for k, h, f in EVENT_COLUMNS if k in events.columns or k == "weekday"]
    cols = [*fixed, *(_fwd_column(k) for k in forward_horizons(events))]
    rows: list[dict[str, object]] = []
    for _, r in events.sort_values("date").iterrows():
        cells = []
        for k, _, f in cols:
            v = r.get(k)
            sign = (
                ""
                if (k not in RETURN_KEYS and not _FWD.match(k)) or is_missing(v)
                else ("pos" if float(v) > 0 else "neg" if float(v) < 0 else "")
            )
            cells.append({"text": f(r), "cls": sign})
        rows.append({"cells": cells})
    return [h for _, h, _ in cols], rows


def stats_rows(event_stats: pd.DataFrame | None) -> list[dict[str, str]]:
    st = main_stats(event_stats)
    if st is None:
        return []
    out = []
    for _, r in st.iterrows():
        out.append(
            {
                "horizon": f"T+{int(r['horizon'])}",
                "n": f"{int(r.get('n_events_with_horizon', r.get('event_n', 0)))}"
                + (
                    f" (+{int(r['n_events_too_recent'])} too recent)"
                    if r.get("n_events_too_recent", 0)
                    else ""
                ),
                "event_median": pct(r.get("event_median")),
                "baseline_median": pct(r.get("baseline_median")),
                "event_hit": pct(r.get("event_hit_rate"), 0, False),
                "baseline_hit": pct(r.get("baseline_hit_rate"), 0, False),
                "event_mean": pct(r.get("event_mean")),
                "baseline_mean": pct(r.get("baseline_mean")),
                "diff_mean": pct(r.get("diff_mean")),
                "hac_t": num(r.get("hac_t")),
                "hac_p": pval(r.get("hac_p")),
                "p_holm": pval(r.get("p_holm")),
                "mw_p": pval(r.get("mw_p")),
                "boot_ci": f"{pct(r.get('boot_ci_low'))} … {pct(r.get('boot_ci_high'))}",
                "placebo_p": pval(r.get("placebo_p")),
            }
        )
    return out


def robustness_rows(event_stats: pd.DataFrame | None) -> tuple[list[str], list[list[str]]]:
    """One row per variant: n events and median / hit rate per horizon."""
    if event_stats is None or len(event_stats) == 0 or "variant" not in event_stats.columns:
        return [], []
    horizons = sorted(int(h) for h in event_stats["horizon"].unique())
    header = ["Variant", "Definition", "Sample used", "Events"] + [
        f"T+{h} median / hit" for h in horizons
    ]
    rows = []
    for name, grp in event_stats.groupby("variant", sort=False):
        g = grp.set_index("horizon")
        defn = str(grp["definition"].iloc[0]) if "definition" in grp.columns else ""
        span = (
            f"{grp['sample_start'].iloc[0]}..{grp['sample_end'].iloc[0]}"
            if "sample_start" in grp.columns
            else ""
        )
        cells = [str(name), defn, span, str(int(grp["n_events"].max()))]
        for h in horizons:
            if h in g.index:
                r = g.loc[h]
                cells.append(
                    f"{pct(r.get('event_median'))} / {pct(r.get('event_hit_rate'), 0, False)}"
                )
            else:
                cells.append("–")
        rows.append(cells)
    return header, rows


def era_rows(eras: pd.DataFrame | None) -> list[dict[str, str]]:
    if eras is None or len(eras) == 0:
        return []
    out = []
    for _, r in eras.iterrows():
        out.append(
            {
                "start": str(pd.Timestamp(r["era_start"]).date()),
                "end": str(pd.Timestamp(r["era_end"]).date()),
                "quality": str(r.get("open_quality", "")),
                "days": f"{int(r.get('trading_days', 0)):,}",
                "genuine": pct(r.get("share_genuine_open"), 0, False),
                "prev_close": pct(r.get("share_open_eq_prev_close"), 0, False),
                "usable": pct(r.get("share_usable_for_study"), 0, False),
            }
        )
    return out


def claim_rows(claims: pd.DataFrame | None) -> list[dict[str, str]]:
    if claims is None or len(claims) == 0:
        return []
    out = []
    for _, r in claims.iterrows():
        out.append(
            {
                "id": r["id"],
                "topic": r["topic"],
                "kind": r.get("kind", "data"),
                "claim": r["claim"],
                "quote_zh": r["quote_zh"],
                "quoted": _quoted_display(r),
                "computed": r["computed_display"],
                "verdict": r["verdict"],
                "verdict_cls": r["verdict"].replace(" ", "-"),
                "evidence": r["evidence"],
                "source": f"doc {r['source_doc']}, {r['source_section']}",
            }
        )
    return out


def _quoted_display(r: pd.Series) -> str:
    from eventlab.report.claims import fmt_value

    q = r["quoted_value"]
    try:
        v = float(q)
    except (TypeError, ValueError):
        return str(q).replace(";", ", ")
    prefix = {
        "gt": "> ",
        "ge": "≥ ",
        "lt": "< ",
        "le": "≤ ",
        "held_above": "holds ",
        "broke_below": "below ",
        "cross_below": "breaks ",
    }.get(r["comparator"], "")
    return prefix + fmt_value(v, r["unit"])


def build_context(
    *,
    as_of: str,
    generated_utc: str,
    events: pd.DataFrame | None,
    event_stats: pd.DataFrame | None,
    eras: pd.DataFrame | None,
    claims: pd.DataFrame | None,
    cta_tables: dict[str, pd.DataFrame] | None,
    charts: list[Chart],
    sources: list[dict[str, str]] | None = None,
    evidence: dict[str, pd.DataFrame] | None = None,
    replica_tables: dict[str, pd.DataFrame] | None = None,
    parameters_line: str = "",
    main_window: int | None = None,
) -> dict[str, object]:
    """Everything the templates show, as display strings. `evidence` holds the study's evidence
    tables (event_verdicts, event_baselines, event_leave_one_out, open_accuracy_by_year)."""
    cta_tables = {k: v for k, v in (cta_tables or {}).items() if v is not None and len(v)}
    replica = (
        section_context(replica_tables or {})
        if main_window is None
        else section_context(replica_tables or {}, main_window)
    )
    # the section shows its own charts; the gallery keeps them when the section is absent
    replica_charts = [c for c in charts if c.name in SECTION_CHARTS] if replica else []
    charts = [c for c in charts if c not in replica_charts]
    ev_header, ev_rows = event_rows(events)
    rb_header, rb_rows = robustness_rows(event_stats)
    cov = coverage_facts(event_stats)
    # Data checks and model comparisons are counted apart: a match with the CTA replica is
    # agreement between two models, not evidence about the market.
    counts = {
        kind: (
            verdict_counts(claims, kind)
            if claims is not None and len(claims)
            else dict.fromkeys(VERDICTS, 0)
        )
        for kind in KINDS
    }
    ev_tabs = evidence or {}
    index, reference = _series_names(event_stats)
    paras = evidence_paragraphs(
        event_stats,
        ev_tabs.get("event_verdicts"),
        ev_tabs.get("event_baselines"),
        ev_tabs.get("event_leave_one_out"),
        events,
        index,
        reference,
    ) + narrative(events, event_stats, claims, cta_tables, as_of)
    n_events = 0 if events is None else len(events)
    st = main_stats(event_stats)
    kpis = []
    if events is not None:
        kpis.append(("Events", str(n_events), f"since {cov.get('requested_start', 'start')}"))
        kpis.append(
            (
                "Genuine index opens from",
                str(cov.get("first_usable_open") or cov.get("sample_start") or "n/a"),
                f"{pct(cov.get('share_usable'), 0, False)} of days usable"
                if "share_usable" in cov
                else "",
            )
        )
        visible = (
            st["effective_visibility_from"].iloc[0]
            if st is not None and "effective_visibility_from" in st.columns
            else None
        )
        if isinstance(visible, str) and visible:
            kpis.append(
                (
                    "Opens show the real gap from",
                    visible,
                    f"{reference}: real opens from {_first_sample(event_stats, reference)}",
                )
            )
    if st is not None:
        for _, r in st.iterrows():
            kpis.append(
                (
                    f"T+{int(r['horizon'])} median",
                    pct(r["event_median"]),
                    f"non-event days {pct(r['baseline_median'])}",
                )
            )
    return {
        "title": "Gap up, close red: what happened next",
        "as_of": as_of,
        "parameters_line": parameters_line,
        "generated_utc": generated_utc,
        "definition": cov.get("definition", ""),
        "narrative": paras,
        "evidence_tables": display_tables(
            event_stats,
            ev_tabs.get("event_verdicts"),
            ev_tabs.get("event_baselines"),
            ev_tabs.get("event_leave_one_out"),
            ev_tabs.get("open_accuracy_by_year"),
            index,
            reference,
        ),
        "kpis": kpis,
        "key_figures": key_figures(events, event_stats, ev_tabs.get("event_verdicts")),
        "font_face_css": font_face_css(),
        "event_header": ev_header,
        "event_rows": ev_rows,
        "stats_rows": stats_rows(event_stats),
        "small_sample": bool(n_events < 30),
        "n_events": n_events,
        "robust_header": rb_header,
        "robust_rows": rb_rows,
        "eras": era_rows(eras),
        "coverage": cov,
        "claims": claim_rows(claims),
        "claim_counts": counts,
        "cta": {
            k: generic_table(cta_tables[k], columns=table_columns(k, cta_tables[k]))
            for k in CTA_TABLES
            if k in cta_tables
        },
        "cta_titles": {
            "cta_levels_latest": "Trigger levels on the latest date",
            "cta_claims": "The notes' CTA figures vs the replica",
            "cta_scenarios": "Flow scenarios (estimated, one week / one month)",
            "cta_event_summary": "CTA levels around past events",
        },
        "charts": charts,
        "replica": replica,
        "replica_charts": replica_charts,
        "sources": sources or [],
    }


def _first_sample(event_stats: pd.DataFrame | None, series: str) -> str:
    """First day of the sample of `series` on its own opens (from the statistics table)."""
    if event_stats is None or "sample_start" not in event_stats.columns:
        return "n/a"
    rows = event_stats[event_stats["variant"] == f"{series}_own_opens"]
    return str(rows["sample_start"].iloc[0]) if len(rows) else "n/a"


def _series_names(event_stats: pd.DataFrame | None) -> tuple[str, str]:
    """(study index, robustness index) as the statistics table names them."""
    if event_stats is None or len(event_stats) == 0 or "index" not in event_stats.columns:
        return ("the index", "the reference")
    main = event_stats.loc[event_stats["variant"] == "main", "index"]
    own = event_stats.loc[event_stats["variant"].astype(str).str.endswith("_own_opens"), "index"]
    return (
        str(main.iloc[0]) if len(main) else "the index",
        str(own.iloc[0]) if len(own) else "the reference",
    )


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
    return env


def render_html(ctx: dict[str, object]) -> str:
    return _env().get_template("report.html.j2").render(**ctx)


def render_markdown(ctx: dict[str, object]) -> str:
    return _env().get_template("report.md.j2").render(**ctx)
