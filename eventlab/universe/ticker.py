"""The per-ticker study: the index study's own code (eventlab.study.whole_study) on adjusted prices.

For one ticker: split-adjust the raw prices (adjust.py), run `run_variant` - the same open-quality
flags, valid sample, event rule and event rows as the index study - on the split-adjusted OHLC,
replace its forward returns by total-return ones (dividends reinvested), drop split-like jumps
from the sample, and compute `variant_rows` (the same statistics) per horizon. A bad ticker never
raises: it gets a status (no_data / too_short / all_stale_opens / error) and a message, so one
partition's problem is reported on that partition and the others carry on.
"""

from __future__ import annotations

import dataclasses
import traceback
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventlab.config import StudyParams, UniverseParams
from eventlab.study.returns import forward_returns, fwd_col
from eventlab.study.statistics import adjust_all
from eventlab.study.whole_study import VariantResult, annotate_events, run_variant, variant_rows
from eventlab.universe.adjust import adjust_prices, mask_windows, split_like_jumps

OK = "ok"


@dataclass(frozen=True)
class TickerResult:
    """What one partition stores: per-day flags, event rows and per-horizon statistics."""

    ticker: str
    status: str
    message: str
    days: pd.DataFrame
    events: pd.DataFrame
    stats: pd.DataFrame


def ticker_rng(seed: int, ticker: str) -> np.random.Generator:
    """A generator that depends on the ticker, not on the order or process the tickers run in,
    so the bootstrap and placebo draws are the same in-process, multiprocess and on Celery."""
    return np.random.default_rng([seed, zlib.crc32(ticker.encode())])


def day_columns(horizons: tuple[int, ...]) -> list[str]:
    return [
        "date",
        "open_usable",
        "gap",
        "close_to_close",
        "ret_tr",
        "in_sample",
        "is_event",
        *(fwd_col(k) for k in horizons),
    ]


def daily_total_return(adjusted: pd.DataFrame, suspect: np.ndarray) -> np.ndarray:
    """Close-to-close total return (dividends reinvested), NaN on split-like jump days."""
    tr = adjusted["tr_close"].to_numpy(float) if "tr_close" in adjusted else adjusted["close"]
    tr = np.asarray(tr, float)
    out = np.r_[np.nan, tr[1:] / tr[:-1] - 1]
    out[suspect] = np.nan
    return out


def status_result(
    ticker: str, status: str, message: str, params: StudyParams, info: dict[str, object]
) -> TickerResult:
    empty = {"date": "datetime64[ns]", "open_usable": bool, "in_sample": bool, "is_event": bool}
    days = pd.DataFrame(
        {c: pd.Series(dtype=empty.get(c, float)) for c in day_columns(params.horizons)}
    )
    stats = pd.DataFrame([{"ticker": ticker, "status": status, "message": message, **info}])
    return TickerResult(ticker, status, message, days, pd.DataFrame(), stats)


def study_adjusted(
    ticker: str,
    adjusted: pd.DataFrame,
    suspect: np.ndarray,
    params: StudyParams,
    rng: np.random.Generator,
    *,
    own_open: bool = True,
) -> tuple[VariantResult, list[dict[str, object]]]:
    """run_variant on split-adjusted OHLC, with total-return forward returns and split-like jump
    days removed from the sample; returns the variant and its statistics (variant_rows).
    `own_open`: the universe's open rule (UniverseParams.open_rule == 'own_open')."""
    p = params.with_(index=ticker)
    v = run_variant({ticker: adjusted}, p, "main", own_open=own_open)
    if "tr_close" in adjusted and not np.array_equal(
        adjusted["tr_close"].to_numpy(), adjusted["close"].to_numpy()
    ):
        fwd = forward_returns(adjusted["tr_close"], p.horizons)
    else:
        fwd = v.fwd
    if suspect.any():
        fwd = fwd.copy()
        for k in p.horizons:
            fwd[fwd_col(k)] = mask_windows(fwd[fwd_col(k)].to_numpy(), suspect, k)
    in_sample = v.in_sample & ~suspect
    is_event = v.is_event & ~suspect
    events = v.events[~suspect[np.flatnonzero(v.is_event.to_numpy())]].reset_index(drop=True)
    pos = adjusted.index.get_indexer(pd.DatetimeIndex(events["date"]))
    for k in p.horizons:
        events[fwd_col(k)] = fwd[fwd_col(k)].to_numpy()[pos]
    v = dataclasses.replace(v, in_sample=in_sample, is_event=is_event, fwd=fwd, events=events)
    v = dataclasses.replace(v, events=annotate_events(v))  # episodes and near-threshold flags
    # The FFT circular-shift p: the same p as the index study's, without its n_days x n_events
    # gather (a stock has hundreds of events; that gather was a sixth of a ticker's cost).
    return v, variant_rows(v, rng, perm_method="fft")


def study_ticker(
    ticker: str,
    raw: pd.DataFrame | None,
    params: StudyParams,
    universe: UniverseParams,
    *,
    sector: str = "",
    rng: np.random.Generator | None = None,
) -> TickerResult:
    """The study on one ticker's raw prices (columns of adjust.UNIVERSE_COLUMNS); never raises."""
    info: dict[str, object] = {"sector": sector}
    try:
        if raw is None or raw.empty:
            return status_result(ticker, "no_data", "no price rows for this ticker", params, info)
        info.update(
            first=raw.index[0].date().isoformat(),
            last=raw.index[-1].date().isoformat(),
            n_days=len(raw),
            split_days=int((raw["split"] != 1).sum()),
            dividend_days=int((raw["dividend"] > 0).sum()),
        )
        if len(raw) < universe.min_days:
            msg = f"{len(raw)} trading days, fewer than the {universe.min_days} the study needs"
            return status_result(ticker, "too_short", msg, params, info)
        adjusted = adjust_prices(raw)
        suspect = split_like_jumps(
            adjusted, raw["split"].to_numpy(), universe.split_jump_min, universe.split_ratio_tol
        )
        info["split_like_jump_days"] = int(suspect.sum())
        v, rows = study_adjusted(
            ticker,
            adjusted,
            suspect,
            params,
            rng or ticker_rng(params.seed, ticker),
            own_open=universe.open_rule == "own_open",
        )
        usable = v.flags["open_genuine"].to_numpy(bool) & ~suspect
        # The index's rule on the same days (a genuine open and 90% of the trailing 250 genuine):
        # how many of these events it would have kept, to show what the open rule changes.
        index_rule = v.flags["coverage"].to_numpy(float) >= params.genuine_coverage_min
        info["events_index_open_rule"] = int((v.is_event.to_numpy(bool) & index_rule).sum())
        info["usable_open_days"] = int(usable.sum())
        if not usable.any():
            msg = "no day has a usable (genuine) open: every open is stale or close-only"
            return status_result(ticker, "all_stale_opens", msg, params, info)
        c = adjusted["close"].to_numpy()
        prev = np.r_[np.nan, c[:-1]]
        # No ticker column: the file (partition) names the ticker; the IO manager adds it on load.
        days = pd.DataFrame(
            {
                "date": adjusted.index,
                "open_usable": usable,
                "gap": adjusted["open"].to_numpy() / prev - 1,
                "close_to_close": c / prev - 1,
                "ret_tr": daily_total_return(adjusted, suspect),
                "in_sample": v.in_sample.to_numpy(bool),
                "is_event": v.is_event.to_numpy(bool),
                **{fwd_col(k): v.fwd[fwd_col(k)].to_numpy() for k in params.horizons},
            }
        )
        n = len(v.events)
        events = pd.DataFrame({"ticker": [ticker] * n, "sector": [sector] * n, **v.events})
        # Rows built as dicts, one frame at the end: column-by-column inserts cost more than the
        # statistics themselves on a 5,000-day series.
        head = {"ticker": ticker, "status": OK, "message": ""}
        stats = adjust_all(pd.DataFrame([{**head, **row, **info} for row in rows]))
        return TickerResult(ticker, OK, "", days, events, stats)
    except Exception as exc:  # one bad ticker is reported on its partition, never fatal
        msg = f"{type(exc).__name__}: {exc} | {traceback.format_exc(limit=3).splitlines()[-1]}"
        return status_result(ticker, "error", msg, params, info)
