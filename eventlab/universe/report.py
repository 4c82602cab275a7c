"""The universe report's files (report.html, report.md, CSVs, charts, manifest), written into
the run's staging folder; eventlab.universe.publishing publishes that folder as
reports/universe-<name>/<as-of>/. <as-of> is the last date of the universe's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from eventlab.config import StudyParams  # noqa: E402
from eventlab.universe.abnormal import MODEL_LABELS  # noqa: E402
from eventlab.universe.battery import BATTERY  # noqa: E402
from eventlab.universe.battery_report import (  # noqa: E402
    battery_markdown,
    open_rule_lines,
    paths_chart,
)
from eventlab.universe.members import SURVIVORSHIP, Universe  # noqa: E402
from eventlab.universe.page import render_page  # noqa: E402
from eventlab.universe.summary import (  # noqa: E402
    BREADTH_COLUMNS,
    POOLED_COLUMNS,
    display_table,
    summary_sentences,
)

CSV_TABLES = (
    *BATTERY,
    "pooled_events",
    "pooled_stats",
    "ticker_summary",
    "breadth_daily",
    "breadth_on_index_events",
)


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{x:+.2%}"


def _data_used(days_span: tuple[str, str], universe: Universe, source: str) -> str:
    return (
        f"Data: {universe.name} ({len(universe.tickers)} tickers, {days_span[0]}..{days_span[1]}, "
        f"source {source}: data/universe shipped prices unless live)."
    )


CHART_DPI = 120  # the charts are embedded in report.html: ~1300 px wide is sharp and light


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=CHART_DPI)
    plt.close(fig)


def _charts(
    tables: dict[str, pd.DataFrame], params: StudyParams, used: str, out: Path
) -> dict[str, str]:
    """PNG charts in out/charts, in the house style (eventlab.charts.style); returns name ->
    caption (each caption says what data it used)."""
    from eventlab.charts import style

    out.mkdir(parents=True, exist_ok=True)
    captions: dict[str, str] = {}
    if "abnormal_paths" in tables:
        cap = paths_chart(tables["abnormal_paths"], out / "abnormal_paths.png")
        if cap:
            captions["abnormal_paths"] = cap
    daily, on_ev = tables["breadth_daily"], tables["breadth_on_index_events"]
    ps = tables["pooled_stats"]
    k = max(params.horizons)
    with style.style_context():
        if len(daily):
            fig = style.figure((11.0, 5.0))
            style.header(fig, "Breadth: how many members gapped up and closed red, per day",
                         f"share of members with a usable open that gapped up > {params.gap_threshold:.0%} "
                         "and closed red; every day (bars) and the index's event days (triangles)")  # fmt: skip
            ax = fig.add_axes((0.075, 0.13, 0.9, 0.68))
            ax.hist(100 * daily["share_gap_up_red"].dropna(), bins=80, color=style.GRID,
                    edgecolor=style.MUTED, lw=0.3, label="all days")  # fmt: skip
            for (idx, grp), color in zip(
                on_ev.groupby("index"), (style.EVENT, style.BASE), strict=False
            ):
                ax.scatter(100 * grp["share_gap_up_red"], np.full(len(grp), 1.0), color=color,
                           marker="v", s=46, label=f"{idx} event days ({len(grp)})", zorder=3)  # fmt: skip
            ax.set_yscale("log")
            ax.set_xlabel("members that gapped up and closed red (% of members with an open)")
            ax.set_ylabel("days (log scale)")
            style.pct_axis(ax, "x")
            ax.legend(loc="upper right")
            _save(fig, out / "breadth.png")
            captions["breadth"] = "Histogram over every day; triangles: index event days."
        ag = tables.get("abnormal_groups", pd.DataFrame())
        lead = str(ag["model"].iloc[-1]) if len(ag) else ""
        sec = ag[(ag["model"] == lead) & (ag["group_type"] == "sector")].sort_values("caar")
        if len(sec):
            window = sec["window"].iloc[0]
            fig = style.figure((11.0, 5.6))
            style.header(fig, f"By sector: abnormal return over {window} after a member's gap-up / close-red day",
                         f"CAAR ({MODEL_LABELS.get(lead, lead)}) with 95% intervals from the larger "
                         "of the (date, firm) and month-clustered standard errors")  # fmt: skip
            ax = fig.add_axes((0.22, 0.13, 0.75, 0.68))
            y = np.arange(len(sec))
            ax.errorbar(100 * sec["caar"], y, xerr=196 * sec["se"], fmt="o",
                        color=style.BASE, capsize=3)  # fmt: skip
            ax.axvline(0, color=style.MUTED, lw=0.9, ls=":")
            ax.set_yticks(y, sec["group"])
            ax.set_xlabel(f"cumulative abnormal return {window}")
            style.pct_axis(ax, "x")
            _save(fig, out / "by_sector.png")
            captions["by_sector"] = (
                f"Events of each sector's members, CAR {window} under the "
                f"{MODEL_LABELS.get(lead, lead).lower()} (abnormal_groups.csv)."
            )
        yr = ps[(ps["group_type"] == "year") & (ps["horizon"] == k)]
        if len(yr):
            fig = style.figure((11.0, 5.0))
            style.header(fig, f"By year: ticker-events and the mean {k}-session return after them",
                         "bars: ticker-events per calendar year (left axis); lines: mean return after "
                         "events and after every other ticker-day (right axis)")  # fmt: skip
            ax1 = fig.add_axes((0.075, 0.14, 0.85, 0.67))
            ax1.bar(
                yr["group"].astype(str),
                yr["n_events"],
                color=style.GRID,
                edgecolor=style.MUTED,
                lw=0.3,
            )
            ax1.set_ylabel("ticker-events")
            ax2 = ax1.twinx()
            ax2.plot(yr["group"].astype(str), 100 * yr["event_mean"], "o-", color=style.EVENT,
                     label=f"after events ({k} sessions)")  # fmt: skip
            ax2.plot(yr["group"].astype(str), 100 * yr["baseline_mean"], "s--", color=style.BASE,
                     label="after every other day")  # fmt: skip
            ax2.axhline(0, color=style.MUTED, lw=0.8, ls=":")
            ax2.set_ylabel(f"mean {k}-session total return")
            ax2.grid(False)  # the bars' grid is enough; two grids do not line up
            style.pct_axis(ax2)
            ax2.legend(loc="upper left")
            ax1.tick_params(axis="x", rotation=90)
            _save(fig, out / "by_year.png")
            captions["by_year"] = f"Events and means per calendar year, horizon {k}."
    return captions


def _not_studied(tickers: pd.DataFrame) -> list[str]:
    """A paragraph per status other than ok, naming its tickers (with the reason, if recorded)."""
    out: list[str] = []
    for status, grp in tickers[tickers["status"] != "ok"].groupby("status", sort=True):
        reasons = grp["message"] if "message" in grp.columns else pd.Series("", index=grp.index)
        names = ", ".join(
            f"{t} ({r})" if isinstance(r, str) and r else str(t)
            for t, r in zip(grp["ticker"], reasons, strict=True)
        )
        out += [f"Not in the pooled figures, {status} ({len(grp)}): {names}.", ""]
    return out


def _markdown(tables, params, universe, used, captions, status_counts, open_rule="own_open") -> str:
    ps = tables["pooled_stats"]
    tickers = tables["ticker_summary"].drop_duplicates("ticker")
    allr = ps[ps["group_type"] == "all"]
    lines = [
        f"# Universe study: {universe.name}",
        "",
        used,
        "",
        f"> **{SURVIVORSHIP}**",
        "",
        f"Event (per ticker, the index study's definition on split-adjusted prices): Open_t / "
        f"Close_(t-1) - 1 > {params.gap_threshold:.2%} and Close_t < Close_(t-1), genuine opens only. "
        "Forward returns: total return (dividends reinvested) from the event close. Standard errors "
        "clustered by date (events on the same day are not independent); overlapping k-day windows "
        "of one ticker are not absorbed by date clusters, so for k > 1 they are a lower bound.",
        "",
        *battery_markdown(tables, open_rule_lines(tickers, open_rule)),
        "## Raw returns, pooled (events vs every other member-day)",
        "",
        *[
            x
            for s in summary_sentences(ps, int(status_counts.get("ok", 0)), groups=False)
            for x in (s, "")
        ],
        "## Tickers",
        "",
        pd.DataFrame([status_counts]).to_markdown(index=False, disable_numparse=True),
        "",
        *_not_studied(tickers),
        "## Pooled: every ticker-event vs every other ticker-day",
        "",
        "Means are total returns from the event close over the horizon; the difference is the "
        "event mean minus the mean over every other ticker-day (all figures in pooled_stats.csv).",
        "",
    ]
    lines += [
        display_table(allr, POOLED_COLUMNS).to_markdown(index=False, disable_numparse=True),
        "",
    ]
    k = max(params.horizons)
    lines += [
        f"Raw returns by sector and year (horizon {k}) are in pooled_stats.csv; the report's "
        "sector and year tables use abnormal returns (above).",
        "",
    ]
    on_ev = tables["breadth_on_index_events"]
    lines += [
        "## Breadth on the index's event days",
        "",
        f"For each ^GSPC / SPY event day inside the universe's span: the share of members (with a "
        f"usable open) that gapped up > {params.gap_threshold:.0%} and closed red, the share of "
        "members that closed red, and each share's rank among all days (1 = highest).",
        "",
    ]
    show = on_ev.assign(date=pd.to_datetime(on_ev["date"]).dt.date) if len(on_ev) else on_ev
    lines += [
        display_table(show, BREADTH_COLUMNS).to_markdown(index=False, disable_numparse=True)
        if len(show)
        else "No index event day falls in the universe's span.",
        "",
    ]
    lines += ["## Charts", ""]
    for name, cap in captions.items():
        if name != "abnormal_paths":  # shown in the abnormal-return section
            lines += [f"![{name}](charts/{name}.png)", "", f"*{cap}*", ""]
    lines += ["## Files", "", ", ".join(f"[{t}.csv]({t}.csv)" for t in CSV_TABLES), ""]
    return "\n".join(lines)


def write_universe_report(
    tables: dict[str, pd.DataFrame],
    params: StudyParams,
    universe: Universe,
    *,
    staging: Path,
    run_id: str,
    source: str,
    open_rule: str = "own_open",
) -> dt.date:
    """Write the whole report into `staging` (the run's private folder); returns its as-of date
    (ValueError if no member has a studied day: there is nothing to report)."""
    daily = tables["breadth_daily"]
    dates = pd.to_datetime(daily["date"]) if len(daily) else pd.Series(dtype="datetime64[ns]")
    span = (
        (dates.min().date().isoformat(), dates.max().date().isoformat())
        if len(dates)
        else ("-", "-")
    )
    if not len(dates):
        raise ValueError("no member of the universe has a studied day: there is nothing to report")
    as_of = span[1]
    used = _data_used(span, universe, source)
    for name in CSV_TABLES:
        tables[name].to_csv(
            staging / f"{name}.csv", index=False, float_format="%.10g", date_format="%Y-%m-%d"
        )
    captions = _charts(tables, params, used, staging / "charts")
    for name, cap in captions.items():
        (staging / "charts" / f"{name}.json").write_text(
            json.dumps({"caption": cap, "data_span": span})
        )
    summ = tables["ticker_summary"].drop_duplicates("ticker")
    counts = {"tickers": len(summ), **summ["status"].value_counts().to_dict()}
    md = _markdown(tables, params, universe, used, captions, counts, open_rule)
    (staging / "report.md").write_text(md)
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0)
    (staging / "report.html").write_text(
        render_page(
            md,
            staging,
            title=f"Universe study: {universe.name}",
            as_of=as_of,
            generated_utc=generated.strftime("%Y-%m-%d %H:%M UTC"),
            data_line=used,
            files=["report.md", *(f"{t}.csv" for t in CSV_TABLES)],
        )
    )
    files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    manifest = {
        "as_of": as_of,
        "generated_utc": generated.isoformat(),
        "run_id": run_id,
        "universe": universe.name,
        "universe_file": str(universe.path.name),
        "source": source,
        "span": span,
        "survivorship_bias": SURVIVORSHIP,
        "parameters": {
            "gap_threshold": params.gap_threshold,
            "close_rule": params.close_rule,
            "horizons": list(params.horizons),
            "open_policy": params.open_policy,
        },  # fmt: skip
        "ticker_status": counts,
        "artifacts": {f: hashlib.sha256((staging / f).read_bytes()).hexdigest() for f in files},
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return dt.date.fromisoformat(as_of)
