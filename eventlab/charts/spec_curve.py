"""The specification curve: every tested specification's estimate with its 95% interval, sorted,
over an indicator panel of the choices that define it (Simonsohn, Simmons and Nelson 2020), and
the joint test against placebo dates printed on the chart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eventlab.charts import style
from eventlab.charts.outputs import ChartMeta, ChartOutput


def choice_rows(curve: pd.DataFrame) -> list[tuple[str, str, object]]:
    """The indicator panel's rows (label, column, value) for the choices in the curve, top to
    bottom."""
    out: list[tuple[str, str, object]] = []
    for s in dict.fromkeys(curve["series"]):
        out.append((f"series {s}", "series", s))
    for t in sorted(curve["threshold"].unique()):
        out.append((f"gap > {t:.2%}", "threshold", t))
    out += [
        ("red: close < prior close", "close_rule", "prior_close"),
        ("red: close < open", "close_rule", "open"),
        ("declustered", "declustered", True),
        ("entry next open", "entry", "next_open"),
    ]
    for k in sorted(curve["horizon"].unique()):
        out.append((f"T+{int(k)}", "horizon", k))
    return out


def _joint_line(joint: pd.DataFrame | None) -> str:
    """The joint test in one line (empty without one)."""
    if joint is None or not len(joint):
        return ""
    r = joint.set_index("statistic")
    share = r.loc["share_significant"]
    return (
        f"{share['observed']:.0%} of {int(share['specs_tested'])} tested specifications have "
        f"p < {share['alpha']:g}; under placebo dates {share['null_mean']:.0%} on average "
        f"(95th percentile {share['null_q95']:.0%}), joint p = {share['p_value']:.3f} "
        f"over {int(share['placebo_shifts'])} common shifts"
    )


def render(
    curve: pd.DataFrame, joint: pd.DataFrame | None, out_dir, *, name: str = "specification_curve"
) -> ChartOutput:
    """Draw the curve (tested specifications only) and its indicator panel."""
    tested = curve[curve["tested"]].sort_values("estimate", kind="stable").reset_index(drop=True)
    joint_text = _joint_line(joint)
    meta = ChartMeta(
        title="Specification curve: every reasonable way to ask the headline question",
        caption=(
            f"{len(tested)} of {len(curve)} specifications have enough events to test "
            "(threshold, close rule, series, declustering, entry, horizon); each dot is the "
            "event-minus-rest mean forward return with its 95% Welch interval, filled when the "
            "circular-shift p is below the verdict's alpha. "
            + (joint_text + "." if joint_text else "")
        ),
        data_span="the study sample of each series",
        sources=["daily OHLC of the study index and its robustness index (snapshot or live)"],
        kind="measured",
    )
    numbers: dict[str, float] = {"specifications": len(curve), "tested": len(tested)}
    with style.style_context():
        fig = style.figure((11.0, 8.2))
        style.header(
            fig,
            meta.title,
            f"{len(tested)} tested specifications, sorted by estimate",
            footer=joint_text or None,
        )
        ax = fig.add_axes((0.25, 0.59, 0.72, 0.30))
        panel = fig.add_axes((0.25, 0.11, 0.72, 0.45), sharex=ax)
        if not len(tested):
            ax.text(0.5, 0.5, "no specification has enough events", ha="center",
                    transform=ax.transAxes)  # fmt: skip
        else:
            x = np.arange(len(tested))
            est = tested["estimate"].to_numpy(float) * 100
            low = tested["ci_low"].to_numpy(float) * 100
            high = tested["ci_high"].to_numpy(float) * 100
            sig = tested["significant"].to_numpy(bool)
            ax.vlines(x, low, high, color=style.MUTED, lw=0.6, alpha=0.6)
            ax.scatter(x[~sig], est[~sig], s=9, facecolors="white", edgecolors=style.BASE,
                       lw=0.7, label="p ≥ alpha", zorder=3)  # fmt: skip
            ax.scatter(x[sig], est[sig], s=9, color=style.EVENT, label="p < alpha", zorder=3)
            ax.axhline(0, color=style.MUTED, lw=0.9, ls=":")
            ax.set_ylabel("events minus other days (%)")
            style.pct_axis(ax)
            ax.legend(loc="upper left")
            rows = choice_rows(tested)
            for i, (_, col, value) in enumerate(rows):
                on = (tested[col] == value).to_numpy(bool)
                panel.scatter(x[on], np.full(on.sum(), i), s=5, marker="s",
                              color=np.where(sig[on], style.EVENT, style.BASE))  # fmt: skip
            panel.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
            panel.set_ylim(len(rows) - 0.5, -0.5)
            panel.set_xlim(-1, len(tested))
            panel.set_xlabel("specifications, sorted by estimate")
            ax.tick_params(labelbottom=False)
            numbers["share_significant"] = float(sig.mean())
            numbers["median_estimate"] = float(np.median(est) / 100)
    return style.save(fig, out_dir, name, meta, numbers)
