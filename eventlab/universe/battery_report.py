"""The universe report's abnormal-return section: verdict, CAAR path chart, test and group tables.

The verdict per window says no more than the most conservative test allows: the largest p over
every CAR test under every normal-return model, naming the test and model it comes from. Tests
whose placebo rejection rate exceeds 5% by more than two Monte Carlo standard errors are flagged
as oversized (their small p-values overstate the evidence). Sector and year counts of "positive"
say how many are distinguishable from zero after Holm's adjustment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from eventlab.report.formatting import pct, pval
from eventlab.universe.abnormal import MODEL_LABELS
from eventlab.universe.battery import TESTS

ALPHA = 0.05


def _label(model: str) -> str:
    """A model's name for readers."""
    return MODEL_LABELS.get(model, model)


def oversized(row: pd.Series) -> bool:
    """Placebo rejection above 5% by more than two Monte Carlo standard errors."""
    rate, se = row.get("placebo_rejection_5pct"), row.get("placebo_mc_se")
    return bool(pd.notna(rate) and pd.notna(se) and rate > ALPHA + 2 * se)


def verdicts(tests: pd.DataFrame) -> list[str]:
    """One sentence per window, from the most conservative CAR test over every model."""
    car = tests[(tests["measure"] == "CAR") & tests["p"].notna()]
    out = []
    for window, g in car.groupby("window", sort=False):
        worst = g.loc[g["p"].idxmax()]
        est = g.drop_duplicates("model")[["model", "estimate"]]
        span = ", ".join(
            f"{_label(m)} {pct(e)}" for m, e in zip(est["model"], est["estimate"], strict=True)
        )
        name = f"{TESTS[worst['test']][0]} under the {_label(worst['model']).lower()}"
        if worst["p"] <= ALPHA:
            out.append(
                f"CAR {window}: every test under every model rejects a zero mean at 5% "
                f"(CAAR: {span}); the least significant is the {name}, p {pval(worst['p'])}."
            )
        else:
            out.append(
                f"CAR {window}: not distinguishable from zero by the most conservative test, the "
                f"{name} (p {pval(worst['p'])}; CAAR: {span})."
            )
    return out


def tests_table(tests: pd.DataFrame, model: str) -> pd.DataFrame:
    """One model's CAR tests, a row per test and a column pair per window (estimate, p)."""
    g = tests[(tests["model"] == model) & (tests["measure"] == "CAR")]
    rows = []
    for test, sub in g.groupby("test", sort=False):
        row = {"Test": TESTS[test][0], "Reference": TESTS[test][1]}
        for _, r in sub.iterrows():
            flag = " (oversized)" if oversized(r) else ""
            row[f"{r['window']} stat"] = (
                f"{r['statistic']:+.2f}" if pd.notna(r["statistic"]) else "-"
            )
            row[f"{r['window']} p"] = pval(r["p"]) + flag
            size = r.get("placebo_rejection_5pct")
            row[f"{r['window']} size"] = f"{size:.1%}" if pd.notna(size) else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def caar_row(tests: pd.DataFrame, model: str) -> pd.DataFrame:
    """Per window: events, CAAR, BHAR (mean) for one model."""
    g = tests[tests["model"] == model]
    rows = []
    for window, sub in g.groupby("window", sort=False):
        car = sub[(sub["measure"] == "CAR") & (sub["test"] == "cross_sectional_t")]
        bhar = sub[(sub["measure"] == "BHAR") & (sub["test"] == "pooled_month")]
        rows.append({
            "Window": window,
            "Events": f"{int(car['n'].iloc[0]):,}" if len(car) else "-",
            "CAAR": pct(car["estimate"].iloc[0]) if len(car) else "-",
            "BHAR vs SPY": pct(bhar["estimate"].iloc[0]) if len(bhar) else "-",
            "BHAR p (month-clustered)": pval(bhar["p"].iloc[0]) if len(bhar) else "-",
        })  # fmt: skip
    return pd.DataFrame(rows)


def group_sentence(groups: pd.DataFrame, model: str, kind: str) -> str | None:
    """How many groups have a positive CAAR and how many of those are distinguishable from zero."""
    g = groups[(groups["model"] == model) & (groups["group_type"] == kind)]
    if g.empty:
        return None
    pos = g[g["caar"] > 0]
    sig_pos = int((pos["p_holm"] <= ALPHA).sum())
    sig_neg = int(((g["caar"] < 0) & (g["p_holm"] <= ALPHA)).sum())
    return (
        f"By {kind} ({_label(model).lower()}, CAR {g['window'].iloc[0]}): positive in {len(pos)} "
        f"of {len(g)}, of which {sig_pos} distinguishable from zero after Holm's adjustment "
        f"({sig_neg} negative ones are)."
    )


def group_table(groups: pd.DataFrame, model: str, kind: str) -> pd.DataFrame:
    """One model's sector or year rows, formatted for reading."""
    g = groups[(groups["model"] == model) & (groups["group_type"] == kind)]
    return pd.DataFrame({
        kind.capitalize(): g["group"],
        "Events": [f"{n:,}" for n in g["n_events"]],
        "Firms": g["n_firms"].astype(int).astype(str),
        "CAAR": [pct(x) for x in g["caar"]],
        "SE (clustered)": [pct(x, signed=False) for x in g["se"]],
        "p": [pval(x) for x in g["p"]],
        "p (Holm)": [pval(x) for x in g["p_holm"]],
    })  # fmt: skip


def _md(df: pd.DataFrame) -> str:
    """A table as markdown, cells as written."""
    return df.to_markdown(index=False, disable_numparse=True)


def battery_markdown(tables: dict[str, pd.DataFrame], open_rule: list[str]) -> list[str]:
    """The report's abnormal-return section (markdown lines)."""
    tests, groups = tables["abnormal_tests"], tables["abnormal_groups"]
    models, surv = tables["abnormal_models"], tables["survivorship"]
    if tests.empty:
        return ["## Abnormal returns", "", "No event to study.", ""]
    model_names = list(dict.fromkeys(tests["model"]))
    counts = models.drop_duplicates("model")
    lines = [
        "## Abnormal returns: what the evidence allows",
        "",
        *[x for v in verdicts(tests) for x in (v, "")],
        "Day 0 is the event day; a window [0, k] cumulates abnormal returns from the event's close "
        "to k sessions later (the T+k of the raw study), [-5, -1] the five sessions before the "
        "event day. Normal returns: "
        + "; ".join(
            f"{_label(r['model'])} ({r['kept']:,} of {r['events']:,} events kept, "
            f"{r['dropped_short_estimation']:,} dropped for fewer clean estimation sessions than needed)"
            for _, r in counts.iterrows()
        )
        + ". The market is SPY's total return; the factors are Fama-French's daily factors.",
        "",
        "![abnormal_paths](charts/abnormal_paths.png)",
        "",
        "*CAAR from 5 sessions before to 20 after, anchored at the event's close, per model; "
        "band: 95% from the larger of the (date, firm) and month-clustered standard errors.*",
        "",
    ]
    for model in model_names:
        lines += [f"### {_label(model)}", "", _md(caar_row(tests, model)), ""]
        lines += [
            "Every test (stat, p, and its rejection rate at 5% on placebo dates drawn from the "
            "panel: a well-sized test rejects in 4-6%):",
            "",
            _md(tests_table(tests, model)),
            "",
        ]
    mde = models[["model", "window", "mde_80"]]
    wide = mde.pivot(index="model", columns="window", values="mde_80").reindex(model_names)
    lines += [
        "### Minimum detectable CAR (80% power, 5% two-sided)",
        "",
        "(z 0.975 + z 0.80) times the largest standard error of the CAAR among the parametric "
        "tests: a true mean CAR smaller than this is more likely missed than found.",
        "",
        _md(
            pd.DataFrame(
                {
                    "Model": [_label(m) for m in wide.index],
                    **{w: [pct(x, signed=False) for x in wide[w]] for w in wide.columns},
                }
            )
        ),  # fmt: skip
        "",
    ]
    lead = model_names[-1]
    for kind in ("sector", "year"):
        sentence = group_sentence(groups, lead, kind)
        lines += [f"### By {kind}, in abnormal returns ({_label(lead).lower()})", ""]
        lines += [sentence or "", "", _md(group_table(groups, lead, kind)), ""]
    lines += survivorship_lines(surv) + open_rule
    return lines


def survivorship_lines(surv: pd.DataFrame) -> list[str]:
    """The survivorship that point-in-time membership cannot remove, per year."""
    if surv.empty:
        return []
    first = surv.iloc[0]
    table = pd.DataFrame({
        "Year": surv["year"].astype(str),
        "Members on the first day": surv["members_first_day"].astype(str),
        "Of them in the data": surv["in_data_first_day"].astype(str),
        "Share": [f"{x:.0%}" for x in surv["share_in_data_first_day"]],
        "Members during the year": surv["members_during_year"].astype(str),
        "Of them in the data ": surv["in_data_during_year"].astype(str),
    })  # fmt: skip
    return [
        "### Survivorship that remains",
        "",
        f"Point in time, an event counts only while its firm was an S&P 500 member. The firms that "
        f"left the index before 2021 are still missing: of the {first['members_first_day']} members "
        f"on {first['first_day']} the price data holds {first['in_data_first_day']} "
        f"({first['share_in_data_first_day']:.0%}).",
        "",
        _md(table),
        "",
    ]


def open_rule_lines(
    summary: pd.DataFrame, rule: str, show: tuple[str, ...] = ("JPM", "XOM")
) -> list[str]:
    """What the per-ticker open rule changes: events under it vs under the index's rule."""
    if "events_index_open_rule" not in summary.columns or summary.empty:
        return []
    s = summary.drop_duplicates("ticker").set_index("ticker")
    n_evt = pd.to_numeric(s.get("n_events"), errors="coerce")
    n_idx = pd.to_numeric(s["events_index_open_rule"], errors="coerce")
    parts = [
        f"{t} {int(n_evt[t])} events ({int(n_idx[t])} under the index's rule)"
        for t in show
        if t in s.index and pd.notna(n_evt.get(t)) and pd.notna(n_idx.get(t))
    ]
    return [
        "### The open rule for stocks",
        "",
        f"Rule in use: {rule}. A member-day's open is usable when it differs from the day's "
        "close and the prior close (own_open); the index study also asks that 90% of the trailing "
        "250 opens be genuine, which on stock data before 2007 (fractional, then penny ticks: "
        "opens equal to the prior close on 12-22% of days) drops whole years. A stale open can "
        "only hide an event (its gap is zero), never create one, so the per-day rule loses "
        f"nothing. Events, all members: {int(np.nansum(n_evt)):,} under this rule, "
        f"{int(np.nansum(n_idx)):,} under the index's; " + "; ".join(parts) + ".",
        "",
    ]


def paths_chart(paths: pd.DataFrame, out: Path) -> str | None:
    """CAAR path per model with its band (charts/abnormal_paths.png); returns the caption."""
    if paths.empty:
        return None
    import matplotlib.pyplot as plt

    from eventlab.charts import style

    with style.style_context():
        fig = style.figure((11.0, 5.2))
        style.header(fig, "Cumulative average abnormal return around a member's gap-up / close-red day",
                     "anchored at the event close (day 0); 95% band from clustered standard errors, per model")  # fmt: skip
        ax = fig.add_axes((0.075, 0.13, 0.9, 0.68))
        colors = (style.EVENT, style.BASE, style.MUTED)
        for (model, g), color in zip(paths.groupby("model", sort=False), colors, strict=False):
            ax.plot(g["day"], 100 * g["caar"], "o-", ms=3, color=color,
                    label=f"{_label(model)} ({int(g['n_events'].iloc[0]):,} events)")  # fmt: skip
            ax.fill_between(g["day"], 100 * g["lo"], 100 * g["hi"], color=color, alpha=0.15)
        ax.axhline(0, color=style.MUTED, lw=0.8, ls=":")
        ax.axvline(0, color=style.MUTED, lw=0.8, ls=":")
        ax.set_xlabel("sessions from the event day")
        ax.set_ylabel("CAAR")
        style.pct_axis(ax)
        ax.legend(loc="best")
        fig.savefig(out, dpi=120)
        plt.close(fig)
    return "CAAR path per model, anchored at the event close, with 95% bands."
