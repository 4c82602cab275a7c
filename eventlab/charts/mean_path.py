"""The mean event path with a confidence band (what an alphalens reader expects from an event
study): the average return from the event close, t-pre .. t+post, with the t(n-1) 95% band of the
mean at each offset, every event's path faint behind it, and n printed (events too recent for an
offset drop out of its mean, so n can fall towards t+post).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from eventlab.charts import style
from eventlab.study.returns import mean_path_band

CONF = 0.95


@dataclass(frozen=True, eq=False)
class MeanPathData:
    """What `render_mean_path` draws: the band (offset, n, mean, median, low, high; fractions),
    the event dates, the per-event paths (percent) and the sidecar numbers."""

    band: pd.DataFrame
    event_dates: list[pd.Timestamp]  # sorted
    n_max: int
    n_min: int
    data_span: str
    paths: pd.DataFrame | None  # offset x event date, percent; None without events
    numbers: dict


def mean_path_data(event_paths: pd.DataFrame) -> MeanPathData:
    """The numbers behind `render_mean_path` (no drawing)."""
    band = mean_path_band(event_paths, CONF)
    dates = sorted(pd.to_datetime(event_paths["event_date"]).unique())
    n_max = int(band["n"].max()) if len(band) else 0
    n_min = int(band["n"].min()) if len(band) else 0
    last = band.iloc[-1] if len(band) else None
    numbers: dict = {"n_events": n_max}
    if last is not None:
        numbers.update(
            {
                "t_last": int(last["offset"]),
                "mean_last": float(last["mean"]),
                "n_last": int(last["n"]),
            }
        )
    paths = (
        event_paths.pivot(index="offset", columns="event_date", values="ret") * 100.0
        if len(band)
        else None
    )
    return MeanPathData(
        band=band,
        event_dates=dates,
        n_max=n_max,
        n_min=n_min,
        data_span=style.span(dates[0], dates[-1]) if dates else "no events",
        paths=paths,
        numbers=numbers,
    )


def render_mean_path(
    event_paths: pd.DataFrame,
    out_dir,
    *,
    index_name: str = "S&P 500 (^GSPC)",
    name: str = "mean_path",
) -> style.ChartOutput:
    d_ = mean_path_data(event_paths)
    band, dates, n_max, n_min = d_.band, d_.event_dates, d_.n_max, d_.n_min
    data_span = d_.data_span
    meta = style.ChartMeta(
        title="Mean path after the event, with its 95% band",
        caption=(
            f"Average return from the event close over {n_max} events, t-interval band "
            "(Student t with n - 1 degrees of freedom, since n is small); faint lines are the "
            "single events."
        ),
        data_span=data_span,
        sources=[f"{index_name} daily closes (snapshot or live source)"],
        kind="measured",
    )
    numbers = d_.numbers
    with style.style_context():
        fig = style.figure((11.0, 5.6))
        style.header(
            fig,
            meta.title,
            f"{index_name}, {len(dates)} events ({data_span}); return from the event close (t = 0)",
            footer="Band: mean ± t(0.975, n−1) × sd / √n at each offset; an event too recent for an "
            "offset leaves that offset's n.",
        )
        ax = fig.add_axes((0.075, 0.13, 0.9, 0.70))
        if not len(band):
            ax.text(
                0.5, 0.5, "no events in this run", ha="center", va="center", transform=ax.transAxes
            )
        else:
            wide = d_.paths
            assert wide is not None
            for col in wide.columns:
                ax.plot(wide.index, wide[col], color=style.MUTED, lw=0.8, alpha=0.35)
            x = band["offset"].to_numpy()
            ax.fill_between(
                x,
                band["low"].to_numpy() * 100.0,
                band["high"].to_numpy() * 100.0,
                color=style.BASE,
                alpha=0.2,
                lw=0,
                label=f"{CONF:.0%} t-band of the mean",
            )
            ax.plot(x, band["mean"] * 100.0, color=style.BASE, lw=2.4, label="mean of events")
            ax.plot(
                x,
                band["median"] * 100.0,
                color=style.EVENT,
                lw=1.6,
                ls="--",
                label="median of events",
            )
            ax.axvline(0, color=style.MUTED, lw=0.9)
            ax.axhline(0, color=style.MUTED, lw=0.9, ls=":")
            n_text = (
                f"n = {n_max}"
                if n_min == n_max
                else f"n = {n_max} (t+{int(band.loc[band['n'] < n_max, 'offset'].min())} on: {n_min}..{n_max - 1})"
            )
            style.note_box(ax, n_text, loc="lower left")
            ax.legend(loc="upper left")
            ax.set_xlim(x.min() - 0.5, x.max() + 0.5)
        ax.set_xlabel("trading days from the event close (t = 0)")
        ax.set_ylabel("return from the event close (%)")
        style.pct_axis(ax)
    return style.save(fig, out_dir, name, meta, numbers)
