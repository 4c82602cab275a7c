"""Event-study charts: forward paths + box plots (outline chart 3), forward-return
distributions vs the baseline, and the event timeline with genuine-open coverage shaded.

Inputs are the study's frames (`events`, `event_paths`, `forward_returns`, `open_quality`);
returns are decimal fractions and are drawn in percent. The horizons drawn are the run's own:
the `fwd_<k>d` columns the study computed (its StudyParams.horizons), and the path window is the
offsets `event_paths` carries (path_pre .. path_post), so a study with other settings gets charts
of its own horizons, not of a fixed list.

Each chart is split in two: a pure `<chart>_data(...)` function (no matplotlib) that computes
everything the chart plots or writes into its caption and sidecar numbers, and the `render_*`
function, which calls it and only draws, so the statistics are testable without a render.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventlab.charts import style


def _horizons(forward_returns: pd.DataFrame) -> tuple[int, ...]:
    """The study's horizons: every `fwd_<k>d` column the study computed, ascending."""
    return tuple(
        sorted(
            int(c[4:-1])
            for c in forward_returns.columns
            if c.startswith("fwd_") and c[4:-1].isdigit()
        )
    )


def _fwd(k: int) -> str:
    return f"fwd_{k}d"


def baseline_sample(forward_returns: pd.DataFrame, k: int) -> pd.Series:
    """Baseline distribution for horizon k: every in-sample day that is not an event, in percent."""
    fr = forward_returns
    mask = fr["in_sample"].astype(bool) & ~fr["is_event"].astype(bool)
    return fr.loc[mask, _fwd(k)].dropna() * 100.0


def percentile_in_baseline(value_pct: float, baseline_pct: pd.Series) -> float:
    """Share of baseline days (0..100) with a forward return at or below the event's."""
    b = baseline_pct.to_numpy()
    return float((b <= value_pct).mean() * 100.0) if len(b) else float("nan")


def _sample_span(forward_returns: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    s = forward_returns.index[forward_returns["in_sample"].astype(bool)]
    return (
        (s.min(), s.max()) if len(s) else (forward_returns.index.min(), forward_returns.index.max())
    )


@dataclass(frozen=True, eq=False)
class ForwardPathsData:
    """What `render_forward_paths` draws: per-event paths (percent, offset x event date), their
    median, and per horizon the baseline sample and the event returns (percent)."""

    event_dates: list[pd.Timestamp]  # sorted
    sample_span: tuple[pd.Timestamp, pd.Timestamp]
    horizons: tuple[int, ...]
    pre: int
    post: int
    paths: pd.DataFrame  # index offset (sorted), one column per event date, percent
    median_path: pd.Series | None  # median across events per offset; None without events
    baseline: dict[int, pd.Series]  # horizon -> baseline sample (percent)
    event_returns: dict[int, pd.Series]  # horizon -> event forward returns (percent)
    numbers: dict  # the sidecar numbers


def forward_paths_data(
    events: pd.DataFrame, event_paths: pd.DataFrame, forward_returns: pd.DataFrame
) -> ForwardPathsData:
    """The numbers behind `render_forward_paths` (no drawing)."""
    ev_dates = pd.to_datetime(events["date"]).sort_values().tolist()
    span = _sample_span(forward_returns)
    numbers: dict = {"n_events": len(ev_dates)}
    horizons = _horizons(forward_returns)
    offsets = event_paths["offset"] if len(event_paths) else pd.Series([-5, 20])
    pre, post = -int(offsets.min()), int(offsets.max())
    wide = (
        event_paths.pivot(index="offset", columns="event_date", values="ret").sort_index() * 100.0
    )
    med = None
    if wide.shape[1]:
        med = wide.median(axis=1)
        numbers[f"median_path_t{post}"] = float(med.get(post, np.nan))
    baseline: dict[int, pd.Series] = {}
    event_returns: dict[int, pd.Series] = {}
    for k in horizons:
        base = baseline_sample(forward_returns, k)
        evk = events[_fwd(k)].dropna() * 100.0 if _fwd(k) in events else pd.Series(dtype=float)
        baseline[k], event_returns[k] = base, evk
        numbers[f"T+{k}"] = {
            "baseline_n": len(base),
            "baseline_median": float(base.median()) if len(base) else float("nan"),
            "event_n": len(evk),
            "event_median": float(evk.median()) if len(evk) else float("nan"),
            "event_hit_rate": float((evk > 0).mean()) if len(evk) else float("nan"),
        }
    return ForwardPathsData(
        event_dates=ev_dates,
        sample_span=span,
        horizons=horizons,
        pre=pre,
        post=post,
        paths=wide,
        median_path=med,
        baseline=baseline,
        event_returns=event_returns,
        numbers=numbers,
    )


def render_forward_paths(
    events: pd.DataFrame,
    event_paths: pd.DataFrame,
    forward_returns: pd.DataFrame,
    out_dir,
    *,
    index_name: str = "S&P 500 (^GSPC)",
    series: str = "GSPC",
    ticker: str = "^GSPC",
    name: str = "forward_paths",
) -> style.ChartOutput:
    """Left: each event's path t-pre..t+post from the event close (the window `event_paths`
    carries). Right: box plots per horizon of the study."""
    d_ = forward_paths_data(events, event_paths, forward_returns)
    ev_dates = d_.event_dates
    s0, s1 = d_.sample_span
    numbers = d_.numbers
    horizons = d_.horizons
    pre, post = d_.pre, d_.post
    window = f"t-{pre}..t+{post}"
    with style.style_context():
        fig = style.figure()
        gs = fig.add_gridspec(
            1, 2, left=0.07, right=0.985, top=0.83, bottom=0.12, wspace=0.2, width_ratios=[1.25, 1]
        )
        ax = fig.add_subplot(gs[0])
        wide = d_.paths
        colors = [c for c in style.SERIES_COLORS if c != style.EVENT]
        for i, d in enumerate(sorted(wide.columns)):
            latest = d == max(wide.columns)
            ax.plot(
                wide.index,
                wide[d],
                color=style.EVENT if latest else colors[i % len(colors)],
                lw=2.2 if latest else 1.1,
                alpha=1 if latest else 0.75,
                label=str(pd.Timestamp(d).date()),
            )
        if d_.median_path is not None:
            med = d_.median_path
            ax.plot(
                med.index, med.values, color=style.INK, lw=2.4, ls="--", label="median of events"
            )
        ax.axvline(0, color=style.MUTED, lw=0.9)
        ax.axhline(0, color=style.MUTED, lw=0.9, ls=":")
        ax.set_xlabel("trading days from the event close (t = 0)")
        ax.set_ylabel("return from the event close (%)")
        style.pct_axis(ax)
        ax.set_title(f"Per-event paths, t-{pre} .. t+{post} ({wide.shape[1]} events)", loc="left")
        ax.legend(loc="upper left", ncols=2, fontsize=8)
        ax.set_xlim(-pre - 0.5, post + 0.5)

        ax2 = fig.add_subplot(gs[1])
        data, labels, pos = [], [], []
        for j, k in enumerate(horizons):
            base = d_.baseline[k]
            data.append(base.to_numpy())
            labels.append(f"T+{k}")
            pos.append(j)
            evk = d_.event_returns[k]
            jitter = np.linspace(-0.12, 0.12, max(len(evk), 1))[: len(evk)]
            ax2.scatter(
                j + 0.28 + jitter,
                evk.to_numpy(),
                color=style.EVENT,
                s=28,
                zorder=5,
                edgecolor="white",
                lw=0.5,
                label="events" if j == 0 else None,
            )
            if len(evk):
                ax2.hlines(
                    numbers[f"T+{k}"]["event_median"],
                    j + 0.12,
                    j + 0.44,
                    color=style.EVENT,
                    lw=2.2,
                    zorder=6,
                    label="event median" if j == 0 else None,  # type: ignore[arg-type]  # matplotlib's stubs omit None, which it takes (no legend entry)
                )
        if data:
            bp = ax2.boxplot(
                data,
                positions=[p - 0.1 for p in pos],
                widths=0.32,
                whis=(5, 95),
                showfliers=False,
                patch_artist=True,
                medianprops={"color": style.INK, "lw": 1.6},
            )
            for b in bp["boxes"]:
                b.set(facecolor=style.BASE, alpha=0.35, edgecolor=style.BASE)
        ax2.set_xticks(
            pos, [f"{lab}\n(baseline n={len(d):,})" for lab, d in zip(labels, data, strict=True)]
        )
        ax2.axhline(0, color=style.MUTED, lw=0.9, ls=":")
        ax2.set_ylabel("forward return from the close (%)")
        style.pct_axis(ax2)
        ax2.set_title("Events vs baseline days", loc="left")
        ax2.text(
            1.0,
            1.005,
            "box 25-75%, whiskers 5-95%",
            transform=ax2.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            color=style.MUTED,
        )
        ax2.legend(loc="upper left")
        txt = "\n".join(
            f"T+{k}: events median {v['event_median']:+.2f}% (n={v['event_n']}, {v['event_hit_rate']:.0%} up) vs baseline {v['baseline_median']:+.2f}%"
            for k in horizons
            if isinstance(v := numbers.get(f"T+{k}"), dict)
        )
        lo, hi = ax2.get_ylim()  # room under the data, so the note box hides no whisker
        ax2.set_ylim(lo - 0.28 * (hi - lo), hi)
        style.note_box(ax2, txt, loc="lower right", fontsize=7.5)
        style.header(
            fig,
            f"After a gap-up, close-red day: {index_name}, every event",
            f"Events and baseline: genuine-open sample {style.span(s0, s1)} ({len(ev_dates)} events); "
            f"daily closes, shipped snapshot (Yahoo {ticker}).",
            footer="Baseline = every in-sample day that is not an event, same horizons. Overlapping windows; with this few events, read medians and hit rates, not a t-stat.",
        )
    longest = max(horizons) if horizons else None
    last = numbers.get(f"T+{longest}", {})
    meta = style.ChartMeta(
        title=f"Forward returns after every event: paths {window} and box plots vs the baseline",
        caption=(
            f"{len(ev_dates)} events ({', '.join(str(d.date()) for d in ev_dates)}). "
            + (
                f"At T+{longest} the event median is {last['event_median']:+.2f}% ({last['event_hit_rate']:.0%} up, n={last['event_n']}) against a baseline median of {last['baseline_median']:+.2f}% over {last['baseline_n']:,} days."
                if last
                else ""
            )
        ),
        data_span=style.span(s0, s1),
        sources=[
            f"{series} daily closes (snapshot), study sample {style.span(s0, s1)}",
            "eventlab study assets: events, event_paths, forward_returns",
        ],
        kind="measured",
        offline_note=None,
    )
    return style.save(fig, out_dir, name, meta, numbers)


@dataclass(frozen=True, eq=False)
class ForwardDistributionsData:
    """What `render_forward_distributions` draws, per horizon: the baseline sample, the event
    returns by event date (percent, date order), the histogram range, each event's percentile
    in the baseline and their mean."""

    n_events: int
    sample_span: tuple[pd.Timestamp, pd.Timestamp]
    horizons: tuple[int, ...]
    baseline: dict[int, pd.Series]  # horizon -> baseline sample (percent)
    event_returns: dict[int, pd.Series]  # horizon -> event returns indexed by date (percent)
    ranges: dict[int, tuple[float, float]]  # horizon -> histogram range (clip limits)
    numbers: dict  # the sidecar numbers: per horizon percentiles, mean, medians


def forward_distributions_data(
    events: pd.DataFrame, forward_returns: pd.DataFrame
) -> ForwardDistributionsData:
    """The numbers behind `render_forward_distributions` (no drawing)."""
    numbers: dict = {}
    ev_sorted = events.sort_values("date")
    horizons = _horizons(forward_returns)
    baseline: dict[int, pd.Series] = {}
    event_returns: dict[int, pd.Series] = {}
    ranges: dict[int, tuple[float, float]] = {}
    for k in horizons:
        base = baseline_sample(forward_returns, k)
        lo, hi = np.nanpercentile(base, [0.5, 99.5]) if len(base) else (-1, 1)
        evk = ev_sorted.set_index("date")[_fwd(k)].dropna() * 100.0
        ranges[k] = (
            min(lo, evk.min() if len(evk) else lo) - 0.3,
            max(hi, evk.max() if len(evk) else hi) + 0.3,
        )
        baseline[k], event_returns[k] = base, evk
        pcts = {
            str(pd.Timestamp(d).date()): percentile_in_baseline(v, base) for d, v in evk.items()
        }
        mean_pct = float(np.mean(list(pcts.values()))) if pcts else float("nan")
        numbers[f"T+{k}"] = {
            "percentiles": pcts,
            "mean_percentile": mean_pct,
            "baseline_median": float(base.median()),
            "event_median": float(evk.median()) if len(evk) else float("nan"),
        }
    return ForwardDistributionsData(
        n_events=len(events),
        sample_span=_sample_span(forward_returns),
        horizons=horizons,
        baseline=baseline,
        event_returns=event_returns,
        ranges=ranges,
        numbers=numbers,
    )


def render_forward_distributions(
    events: pd.DataFrame,
    forward_returns: pd.DataFrame,
    out_dir,
    *,
    index_name: str = "S&P 500",
    series: str = "GSPC",
    ticker: str = "^GSPC",
    name: str = "forward_distributions",
) -> style.ChartOutput:
    """One panel per horizon: the baseline histogram with each event marked and its percentile."""
    d_ = forward_distributions_data(events, forward_returns)
    s0, s1 = d_.sample_span
    numbers = d_.numbers
    horizons = d_.horizons
    with style.style_context():
        fig = style.figure((11.0, 5.4))
        gs = fig.add_gridspec(
            1, len(horizons), left=0.055, right=0.985, top=0.8, bottom=0.14, wspace=0.18
        )
        for j, k in enumerate(horizons):
            ax = fig.add_subplot(gs[j])
            base = d_.baseline[k]
            evk = d_.event_returns[k]
            lo, hi = d_.ranges[k]
            nk = numbers[f"T+{k}"]
            ax.hist(
                base.clip(lo, hi),
                bins=np.linspace(lo, hi, 60),  # type: ignore[arg-type]  # matplotlib's stubs omit arrays; hist takes any sequence of edges
                density=True,
                color=style.BASE,
                alpha=0.45,
                label=f"baseline days (n={len(base):,})",
            )
            ymax = ax.get_ylim()[1]
            ax.set_ylim(0, ymax * 1.45)
            for i, (d, v) in enumerate(evk.items()):
                latest = d == evk.index.max()
                ax.vlines(
                    v,
                    0,
                    ymax * (0.55 + 0.05 * (i % 8)),
                    color=style.EVENT,
                    lw=2.0 if latest else 1.0,
                    alpha=1 if latest else 0.75,
                )
            ax.axvline(
                nk["baseline_median"],
                color=style.INK,
                lw=1.2,
                ls="--",
                label=f"baseline median {nk['baseline_median']:+.2f}%",
            )
            if len(evk):
                ax.axvline(
                    nk["event_median"],
                    color=style.EVENT,
                    lw=1.6,
                    ls="--",
                    label=f"event median {nk['event_median']:+.2f}%",
                )

            ax.set_xlabel(f"return from close to close {k} day{'s' if k > 1 else ''} later (%)")
            style.pct_axis(ax, axis="x")
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel("density of baseline days")
            # a white frame, so the median lines do not cross the legend text
            ax.legend(
                loc="upper left", fontsize=7.5, frameon=True, facecolor="white", edgecolor="none"
            )
            ax.set_title(
                f"T+{k}: events at the {style.ordinal(nk['mean_percentile'])} pct. (mean)"
                if nk["percentiles"]
                else f"T+{k}: no event with these settings",
                loc="left",
                fontsize=10,
            )
        style.header(
            fig,
            f"{index_name}: forward returns after events vs every other day",
            f"Baseline: in-sample non-event days {style.span(s0, s1)}; red lines: the {d_.n_events} events "
            f"(thicker = latest); baseline tails clipped at 0.5/99.5%. Snapshot (Yahoo {ticker}).",
        )
    meta = style.ChartMeta(
        title="Forward-return distributions: events vs the baseline",
        caption="No event with these settings: only the baseline distribution is shown."
        if not d_.n_events
        else " ".join(
            f"T+{k}: events sit on average at the {style.ordinal(numbers[f'T+{k}']['mean_percentile'])} percentile of the baseline "
            f"(median {numbers[f'T+{k}']['event_median']:+.2f}% vs {numbers[f'T+{k}']['baseline_median']:+.2f}%)."
            for k in horizons
        ),
        data_span=style.span(s0, s1),
        sources=[
            f"{series} daily closes (snapshot), study sample {style.span(s0, s1)}",
            "eventlab study assets: events, forward_returns",
        ],
        kind="measured",
        offline_note=None,
    )
    return style.save(fig, out_dir, name, meta, numbers)


@dataclass(frozen=True, eq=False)
class EventTimelineData:
    """What `render_event_timeline` draws: the open-quality window since `start`, which days have
    a genuine open and the trailing coverage, and the events since `start` (gap and
    close-to-close in percent, date order)."""

    start: pd.Timestamp
    open_quality: pd.DataFrame  # open_quality from `start` on
    usable: pd.Series  # bool per day: the open is genuine
    coverage: pd.Series  # trailing share of genuine opens (fraction)
    first_usable: pd.Timestamp | None
    share_usable: float  # share of days since `start` with a genuine open (fraction)
    events: pd.DataFrame  # events since `start`, date as Timestamp, sorted
    gap_pct: pd.Series
    close_pct: pd.Series
    numbers: dict


def event_timeline_data(
    events: pd.DataFrame, open_quality: pd.DataFrame, *, start="1957-01-01"
) -> EventTimelineData:
    """The numbers behind `render_event_timeline` (no drawing)."""
    oq = open_quality.loc[pd.Timestamp(start) :]
    usable = oq["open_genuine"].astype(bool)
    cov = oq["coverage"].astype(float)
    first_usable = usable[usable].index.min() if usable.any() else None
    share = float(usable.mean()) if len(usable) else 0.0
    ev = events.assign(date=pd.to_datetime(events["date"])).sort_values("date")
    ev = ev[ev["date"] >= pd.Timestamp(start)]
    numbers = {
        "n_events": len(ev),
        "share_usable": share,
        "first_usable": str(first_usable.date()) if first_usable is not None else None,
    }
    return EventTimelineData(
        start=pd.Timestamp(start),
        open_quality=oq,
        usable=usable,
        coverage=cov,
        first_usable=first_usable,
        share_usable=share,
        events=ev,
        gap_pct=ev["gap"] * 100.0,
        close_pct=ev["close_to_close"] * 100.0,
        numbers=numbers,
    )


def render_event_timeline(
    events: pd.DataFrame,
    open_quality: pd.DataFrame,
    out_dir,
    *,
    start="1957-01-01",
    index_name: str = "S&P 500 (^GSPC)",
    series: str = "GSPC",
    name: str = "event_timeline",
) -> style.ChartOutput:
    """Events since `start` on a timeline, with the days whose open is usable shaded."""
    d_ = event_timeline_data(events, open_quality, start=start)
    oq, usable, cov = d_.open_quality, d_.usable, d_.coverage
    first_usable, share, ev = d_.first_usable, d_.share_usable, d_.events
    with style.style_context():
        fig = style.figure((11.0, 5.6))
        gs = fig.add_gridspec(
            2, 1, left=0.08, right=0.985, top=0.8, bottom=0.1, hspace=0.1, height_ratios=[2.2, 1]
        )
        ax = fig.add_subplot(gs[0])
        ax2 = fig.add_subplot(gs[1], sharex=ax)
        # shade usable-open runs
        runs = (usable != usable.shift()).cumsum()
        for _, seg in usable.groupby(runs):
            if seg.iloc[0]:
                for a in (ax, ax2):
                    a.axvspan(seg.index[0], seg.index[-1], color=style.ALT, alpha=0.13, lw=0)
        gap = d_.gap_pct
        ax.vlines(ev["date"], 0, gap, color=style.EVENT, lw=1.6)
        ax.scatter(ev["date"], gap, color=style.EVENT, s=30, zorder=5)
        rows = []
        for i, (d, g, c) in enumerate(zip(ev["date"], gap, d_.close_pct, strict=True), start=1):
            ax.annotate(
                str(i),
                (d, g),
                xytext=(0, 5 + 9 * (i % 2)),
                textcoords="offset points",
                fontsize=7.5,
                ha="center",
                color=style.EVENT,
                fontweight="bold",
            )
            rows.append(f"{i:>2}  {d.date()}  gap {g:+.2f}%  close {c:+.2f}%")
        if rows:
            ax.text(
                0.45,
                0.97,
                "\n".join(rows),
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=7.8,
                family="DejaVu Sans Mono",
                color=style.INK,
            )
        ax.set_ylim(0, max(3.6, float(gap.max()) + 1.2) if len(gap) else 3.6)
        ax.set_ylabel("opening gap (%)")
        style.pct_axis(ax)
        ax.set_title(
            f"{len(ev)} events: opened above the gap threshold, closed below the prior close",
            loc="left",
            fontsize=10,
        )
        ax.tick_params(labelbottom=False)
        ax2.plot(cov.index, cov.values * 100.0, color=style.BASE, lw=1.1)
        ax2.set_ylim(-5, 105)
        ax2.set_ylabel("genuine opens,\ntrailing 250d (%)", fontsize=8.5)
        style.pct_axis(ax2)
        ax2.set_xlim(pd.Timestamp(start), oq.index.max() + pd.Timedelta(days=200))
        style.date_axis(ax2, "%Y")
        ax2.set_xlabel("date")
        style.note_box(
            ax,
            f"green shading: days whose open counts as genuine ({share:.0%} of days since {pd.Timestamp(start).year})\n"
            f"first usable open: {first_usable.date() if first_usable is not None else 'none'};\n"
            "before it, a gap-up day cannot be seen in this data",
            loc="upper left",
            fontsize=8,
        )
        style.header(
            fig,
            f"Every gap-up, close-red day since {pd.Timestamp(start).year} that the data can see",
            f"{index_name} daily bars {style.span(oq.index.min(), oq.index.max())}, shipped snapshot (Yahoo). "
            "Opens before ~2007 are mostly stale\n(previous close, or close-only before 1962), so events there are invisible to the rule.",
        )
    numbers = d_.numbers
    meta = style.ChartMeta(
        title=f"Event timeline since {pd.Timestamp(start).year} with genuine-open coverage",
        caption=(
            f"{len(ev)} events in {style.span(oq.index.min(), oq.index.max())}; the first is {ev['date'].min().date() if len(ev) else 'none'}. "
            f"Only {share:.0%} of trading days since {pd.Timestamp(start).year} have a usable (genuine) open; the first usable open is "
            f"{first_usable.date() if first_usable is not None else 'none'}, so 'since {pd.Timestamp(start).year}' in practice means since then."
        ),
        data_span=style.span(oq.index.min(), oq.index.max()),
        sources=[
            f"{series} daily OHLC (snapshot) {style.span(oq.index.min(), oq.index.max())}",
            "eventlab study assets: events, open_quality",
        ],
        kind="measured",
        offline_note=None,
    )
    return style.save(fig, out_dir, name, meta, numbers)
