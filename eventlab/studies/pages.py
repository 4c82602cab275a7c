"""The study library's pages: each study's report.md / report.html (the universe page's house
style and block grammar) and the index page listing every study with its n, verdict per horizon
and last occurrence. Text only; the pipeline writes the files."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from eventlab.report.templating import render_template
from eventlab.studies.battery import SpecResult
from eventlab.universe.page import render_page

# The files a study folder holds besides its pages (the main report's names).
STUDY_TABLES = (
    "events",
    "event_stats",
    "event_verdicts",
    "event_baselines",
    "event_leave_one_out",
)
VERDICT_COLUMNS = ["horizon", "n_events", "verdict", "direction", "reason"]
MAIN_STATS_COLUMNS = [
    "horizon", "n_events_with_horizon", "event_median", "event_hit_rate", "baseline_median",
    "baseline_hit_rate", "diff_mean", "perm_p", "perm_p_holm",
]  # fmt: skip
VARIANT_COLUMNS = ["variant", "horizon", "n_events_with_horizon", "event_median", "diff_mean"]
EVENT_COLUMNS = ["date", "open", "close", "close_to_close", "gap"]


def _fmt(value: object) -> str:
    """A table cell: numbers to 4 significant digits (returns stay fractions), ISO dates, text."""
    if isinstance(value, float):
        return "" if value != value else f"{value:.4g}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(df: pd.DataFrame, columns: list[str], rows: int = 200) -> str:
    """A pipe table of the given columns (those present) and the first `rows` rows."""
    cols = [c for c in columns if c in df.columns]
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)
    body = [
        "| " + " | ".join(_fmt(r[c]) for c in cols) + " |"
        for r in df[cols].head(rows).to_dict("records")
    ]
    return "\n".join([head, *body])


def study_markdown(r: SpecResult, as_of: str) -> str:
    """A study's report.md: the question, its definition and sample, the verdicts, the main
    statistics, every variant and every event (the CSVs beside it hold every column)."""
    s = r.stats
    main = s[s["variant"] == "main"]
    first = main.iloc[0]
    fwd = [c for c in r.events.columns if c.startswith("fwd_")]
    lines = [
        f"# {r.spec.name}",
        f"## {r.spec.question}",
        f"Condition: `{r.spec.condition_text}` on {r.spec.params.index}, from the spec "
        f"`studies/{Path(r.spec.path).name}`.",
        f"Definition: {first['definition']}. Sample {first['sample_start']} to "
        f"{first['sample_end']} ({int(first['sample_days'])} sessions), {len(r.events)} events, "
        f"as of {as_of}.",
        "## Verdict per horizon",
        md_table(r.verdicts, VERDICT_COLUMNS),
        "## Events against every other day (main definition)",
        md_table(main, MAIN_STATS_COLUMNS),
        "> Returns are fractions (0.01 = 1%); p-values are circular-shift randomization tests, "
        "Holm-adjusted across horizons in perm_p_holm. Every study in the library is one more "
        "hypothesis tested: read a small p-value with the library's size in mind.",
        "## Robustness rows",
        md_table(s, VARIANT_COLUMNS),
        "## Events",
        md_table(r.events, [*EVENT_COLUMNS, *fwd], rows=500)
        if len(r.events)
        else "No event in the sample.",
    ]
    if len(r.events) > 500:
        lines.append(f"The first 500 of {len(r.events)} events; events.csv has every one.")
    return "\n\n".join(lines) + "\n"


def study_html(md: str, r: SpecResult, as_of: str, generated_utc: str) -> str:
    """A study's self-contained report.html from its Markdown."""
    return render_page(
        md,
        Path("."),
        title=r.spec.name,
        as_of=as_of,
        generated_utc=generated_utc,
        data_line=f"{r.spec.params.index} daily bars, as of {as_of}",
        files=[f"{t}.csv" for t in STUDY_TABLES] + ["report.md"],
        kicker="eventlab · study library",
    )


def _verdict(row: dict, horizon: str) -> str:
    """A study's verdict at a horizon, or a dash where the study does not use that horizon."""
    value = row.get(f"verdict_{horizon}d")
    return value if isinstance(value, str) and value else "–"


def index_html(summary: pd.DataFrame, horizons: list[str], as_of: str, generated_utc: str) -> str:
    """reports/<as-of>/studies/index.html: every study with its question, series, n, verdict
    per horizon, last occurrence and whether it fired on the latest session, each linked."""
    head = "".join(
        f"<th>{h}</th>"
        for h in ["study", "question", "series", "n", *[f"T+{k}" for k in horizons], "last"]
    )
    rows = []
    for r in summary.to_dict("records"):
        name = html.escape(str(r["spec"]))
        verdicts = "".join(f"<td>{html.escape(_verdict(r, k))}</td>" for k in horizons)
        fired = " <b>fired today</b>" if r["fired_today"] and r["latest_session"] == as_of else ""
        rows.append(
            f'<tr><td><a href="{name}/report.html">{name}</a>{fired}</td>'
            f"<td>{html.escape(str(r['question']))}</td><td>{html.escape(str(r['series']))}</td>"
            f'<td class="n">{int(r["n_events"])}</td>{verdicts}'
            f"<td>{html.escape(str(r['last_event'] or 'never'))}</td></tr>"
        )
    body = (
        f"<p>{len(summary)} studies, each a spec under <code>studies/</code> run through the "
        "whole battery; each verdict weighs the main series, the longest series, the declustered "
        "sample and the VIX-matched baseline (see each study's page). Every study is a hypothesis "
        "tested: the more studies, the more a single small p-value is expected by chance.</p>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
        "</tbody></table></div>"
    )
    return render_template(
        "universe.html.j2",
        title="Study library",
        as_of=as_of,
        generated_utc=generated_utc,
        data_line="One row per study spec; the folder of each holds its CSVs and report.",
        files=["index.csv"],
        body=body,
        kicker="eventlab · study library",
    )
