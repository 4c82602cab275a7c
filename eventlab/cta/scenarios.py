"""Flow scenarios: what the replica would buy or sell over one week / one month along stylized paths.

From an as-of close P0 with the model's daily volatility sigma (through the as-of date), a path
of H sessions with total log move m * sigma * sqrt(H) is spread evenly over the H sessions:

    P_k = P0 * exp(m * sigma * sqrt(H) * k / H),  k = 1..H

with m = 0 (flat), +-1 and +-2 (up/down 1 and 2 standard deviations) and -down_big_std ("down
big"). The model is rerun on the real history followed by the path (it sees the path only as it
unfolds), and the flow is the change in target notional: the sum of the daily flows equals
notional at the end minus notional at the as-of date by construction. Positive = buying.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from eventlab.cta.signals import daily_vol, memory_at, model_arrays
from eventlab.settings.cta import CTAParams

SCENARIO_COLUMNS = [
    "as_of", "scenario", "std_multiple", "window", "days", "price_start", "price_end", "path_return",
    "vol_ann", "position_start", "position_end", "notional_start_usd", "notional_end_usd",
    "flow_usd", "first_day_flow_usd", "max_daily_sell_usd",
]  # fmt: skip


def scenario_specs(params: CTAParams) -> list[tuple[str, float]]:
    """(name, std multiple) in desk order: flat, up/down per multiple, then down big."""
    specs: list[tuple[str, float]] = [("flat", 0.0)]
    for m in params.scenario_std_multiples:
        tag = f"{m:g}sd"
        specs += [(f"up_{tag}", m), (f"down_{tag}", -m)]
    specs.append(("down_big", -params.down_big_std))
    return specs


def resolve_as_of(index: pd.DatetimeIndex, as_of: dt.date | pd.Timestamp | str | None) -> int:
    """Position of the last session on or before `as_of` (the last session if None)."""
    if as_of is None:
        return len(index) - 1
    pos = int(index.searchsorted(pd.Timestamp(as_of), side="right")) - 1
    if pos < 0:
        raise ValueError(f"as-of date {as_of} is before the first session {index[0].date()}")
    return pos


def scenario_path(p0: float, sigma_daily: float, multiple: float, days: int) -> np.ndarray:
    """The H closes after the as-of date for one scenario."""
    k = np.arange(1, days + 1)
    return p0 * np.exp(multiple * sigma_daily * np.sqrt(days) * k / days)


Run = tuple[str, int, str, float, np.ndarray, dict[str, np.ndarray]]


def _scenario_runs(
    close: pd.Series, params: CTAParams, as_of: dt.date | pd.Timestamp | str | None
) -> tuple[pd.Timestamp, float, list[Run]]:
    """(as-of date, annualized vol, runs) where each run is (window, days, scenario, std
    multiple, closes from the as-of close on, model arrays over those days).

    The model is rerun on the history followed by the path, but continued from its `Memory`
    max_lookback + 1 sessions before the as-of date rather than from the first close: the rows
    that matter are then the full-history run's to the bit (see `signals.Memory`) at a few
    hundred rows per path instead of the whole history (tested against full reruns).
    """
    i0 = resolve_as_of(close.index, as_of)
    hist = close.to_numpy(dtype=float)[: i0 + 1]
    sigma = float(daily_vol(hist, params)[-1])
    if not np.isfinite(sigma):
        raise ValueError(
            f"as-of {close.index[i0].date()} is inside the model's warm-up; pick a later date"
        )
    offset = i0 - params.max_lookback - 1
    memory = memory_at(hist, params, offset) if offset >= 1 else None
    start = offset if memory is not None else 0
    runs: list[Run] = []
    for window, days in params.scenario_windows:
        for name, m in scenario_specs(params):
            path = scenario_path(hist[-1], sigma, m, days)
            arr = model_arrays(
                np.concatenate([hist[start:], path]), params, percentile=False, memory=memory
            )
            sl = slice(i0 - start, i0 - start + days + 1)
            runs.append((
                window, days, name, m, np.concatenate([[hist[-1]], path]),
                {k: arr[k][sl] for k in ("position", "notional_usd", "flow_usd")},
            ))  # fmt: skip
    return close.index[i0], sigma * np.sqrt(params.trading_days), runs


def scenario_table(
    close: pd.Series, params: CTAParams, as_of: dt.date | pd.Timestamp | str | None = None
) -> pd.DataFrame:
    """One row per (window, scenario): path, positions and USD flows (``flow_usd`` = total)."""
    date, vol_ann, runs = _scenario_runs(close, params, as_of)
    rows = []
    for window, days, name, m, closes, arr in runs:
        pos, notional, flows = arr["position"], arr["notional_usd"], arr["flow_usd"][1:]
        rows.append([
            date, name, float(m), window, days,
            float(closes[0]), float(closes[-1]), float(closes[-1] / closes[0] - 1.0),
            float(vol_ann), float(pos[0]), float(pos[-1]),
            float(notional[0]), float(notional[-1]),
            float(flows.sum()), float(flows[0]), float(min(0.0, flows.min())),
        ])  # fmt: skip
    return pd.DataFrame(rows, columns=SCENARIO_COLUMNS)


def scenarios_for_dates(
    close: pd.Series, params: CTAParams, extra_as_of: tuple = ()
) -> pd.DataFrame:
    """Scenario tables for the latest date and each of `params.scenario_as_of` / `extra_as_of`."""
    dates: list = [None, *params.scenario_as_of, *extra_as_of]
    seen, frames = set(), []
    for d in dates:
        i0 = resolve_as_of(close.index, d)
        if i0 in seen:
            continue
        seen.add(i0)
        frames.append(scenario_table(close, params, close.index[i0]))
    return pd.concat(frames, ignore_index=True)


def desk_table(scen: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Sell-side style pivot for one as-of date: scenarios x windows, flows in $bn."""
    if as_of is None:
        as_of = scen["as_of"].max()
    sub = scen[scen["as_of"] == pd.Timestamp(as_of)]
    order = list(dict.fromkeys(sub["scenario"]))
    # a dict per window instead of two DataFrame.pivot calls (this runs once per as-of date)
    cells = {
        (w, name): (move, flow)
        for w, name, move, flow in zip(
            sub["window"], sub["scenario"], sub["path_return"], sub["flow_usd"], strict=True
        )
    }
    nan = (np.nan, np.nan)
    out = pd.DataFrame(index=pd.Index(order, name="scenario"))
    for w in dict.fromkeys(sub["window"]):
        out[f"{w} move"] = [f"{cells.get((w, n), nan)[0]:+.1%}" for n in order]
        out[f"{w} flow ($bn)"] = (
            pd.Series([cells.get((w, n), nan)[1] for n in order], index=out.index) / 1e9
        ).round(1)
    return out
