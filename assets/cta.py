"""CTA trend-following replica assets: signals, trigger levels, event replays, flow scenarios and
the notes-vs-replica claims table. Thin wrappers over eventlab.cta (plain functions); parameters
come from the `cta_settings` resource (defaults: eventlab.config.CONFIG.cta)."""

import dagster as dg
import numpy as np
import pandas as pd

from assets.common import as_of_date, frame_span_metadata, md_preview, write_report_table
from eventlab.cta import claims as cta_claims_mod
from eventlab.cta import levels as cta_levels_mod
from eventlab.cta import replay, scenarios
from eventlab.cta import signals as cta_signals_mod
from pipelines.resources import CTASettings, ReportSettings

GROUP = "cta"
PRICES = dg.AssetIn(key=["prices", "GSPC"])


def _history(cta_signals: pd.DataFrame, cta_levels: pd.DataFrame) -> pd.DataFrame:
    return cta_signals.join(cta_levels.drop(columns=["close"]))


def _bn(x: float) -> str:
    return f"${x / 1e9:,.1f}bn" if np.isfinite(x) else "n/a"


@dg.asset(
    group_name=GROUP,
    ins={"prices": PRICES},
    kinds={"pandas", "parquet"},
    description="Full-history CTA replica on the S&P 500: per-horizon vol-normalized trend z and signal, "
    "aggregate, vol scale, position in [-1, 1], notional and flows in USD (assumed capacity), percentile vs own history.",
)
def cta_signals(
    context: dg.AssetExecutionContext, prices: pd.DataFrame, cta_settings: CTASettings
) -> pd.DataFrame:
    params = cta_settings.params()
    df = cta_signals_mod.signal_frame(prices, params)
    last = df.dropna(subset=["position"]).iloc[-1]
    context.add_output_metadata(
        {
            **frame_span_metadata(df),
            "rule": params.rule,
            "lookbacks": str(list(params.lookbacks)),
            "capacity_usd": params.capacity_usd,
            "last_position": float(last["position"]),
            "last_notional": _bn(float(last["notional_usd"])),
            "last_percentile": float(last["percentile"]),
            "preview": md_preview(df.tail(15), floatfmt=".3f"),
        }
    )
    return df


@dg.asset(
    group_name=GROUP,
    ins={"prices": PRICES},
    kinds={"pandas", "parquet"},
    description="Full history of trigger levels in force for the next session (per horizon closed form; aggregate by "
    "root finding) and their distance from the close (level / close - 1).",
)
def cta_levels(
    context: dg.AssetExecutionContext, prices: pd.DataFrame, cta_settings: CTASettings
) -> pd.DataFrame:
    params = cta_settings.params()
    df = cta_levels_mod.level_frame(prices, params)
    context.add_output_metadata(
        {
            **frame_span_metadata(df),
            "rule": params.rule,
            "preview": md_preview(df.tail(15), floatfmt=".2f"),
        }
    )
    return df


@dg.asset(
    group_name=GROUP,
    ins={"report_as_of": dg.AssetIn()},
    kinds={"pandas", "csv"},
    description="Levels in force after the report's as-of close, one row per horizon plus the aggregate; writes cta_levels.csv.",
)
def cta_levels_latest(
    context: dg.AssetExecutionContext,
    cta_signals: pd.DataFrame,
    cta_levels: pd.DataFrame,
    report_as_of: pd.DataFrame,
    cta_settings: CTASettings,
    report_settings: ReportSettings,
) -> pd.DataFrame:
    params = cta_settings.params()
    as_of = as_of_date(report_as_of)
    table = cta_levels_mod.levels_table(cta_signals, cta_levels, params, pd.Timestamp(as_of))
    path = write_report_table(report_settings.as_of_dir(as_of), "cta_levels.csv", table)
    context.add_output_metadata(
        {
            "as_of": str(as_of),
            "csv": dg.MetadataValue.path(path),
            "preview": md_preview(table, floatfmt=".4f"),
        }
    )
    return table


@dg.asset(
    group_name=GROUP,
    ins={"events": dg.AssetIn(key=["events"])},
    kinds={"pandas", "parquet"},
    description="Per event x horizon: the level in force at the event close, status (held / broke / below), "
    "break and reclaim sessions, flows and forward returns.",
)
def cta_event_levels(
    context: dg.AssetExecutionContext,
    cta_signals: pd.DataFrame,
    cta_levels: pd.DataFrame,
    events: pd.DataFrame,
    cta_settings: CTASettings,
) -> pd.DataFrame:
    params = cta_settings.params()
    df = replay.event_levels(_history(cta_signals, cta_levels), events, params)
    context.add_output_metadata(
        {
            "events": int(df["event_date"].nunique()),
            "preview": md_preview(df[df["horizon"] == params.horizons[0]], rows=30),
        }
    )
    return df


@dg.asset(
    group_name=GROUP,
    ins={"events": dg.AssetIn(key=["events"])},
    kinds={"pandas", "parquet"},
    description="The replica day by day from t-20 to t+20 around every event: signals, levels, position, notional, flows.",
)
def cta_event_replays(
    context: dg.AssetExecutionContext,
    cta_signals: pd.DataFrame,
    cta_levels: pd.DataFrame,
    events: pd.DataFrame,
    cta_settings: CTASettings,
) -> pd.DataFrame:
    params = cta_settings.params()
    df = replay.event_replays(_history(cta_signals, cta_levels), events, params)
    at_event = df[df["offset"] == 0]
    context.add_output_metadata(
        {
            "rows": len(df),
            "events": int(df["event_date"].nunique()),
            "preview": md_preview(at_event, rows=30, floatfmt=".3f"),
        }
    )
    return df


@dg.asset(
    group_name=GROUP,
    ins={"report_as_of": dg.AssetIn()},
    kinds={"pandas", "csv"},
    description="Did events that broke the short-term level do worse at T+5/T+20 than those that held? "
    "Forward returns by each horizon's status at the event close, with n; writes cta_event_summary.csv.",
)
def cta_event_summary(
    context: dg.AssetExecutionContext,
    cta_event_levels: pd.DataFrame,
    report_as_of: pd.DataFrame,
    cta_settings: CTASettings,
    report_settings: ReportSettings,
) -> pd.DataFrame:
    params = cta_settings.params()
    df = replay.event_summary(cta_event_levels, params)
    path = write_report_table(
        report_settings.as_of_dir(as_of_date(report_as_of)), "cta_event_summary.csv", df
    )
    context.add_output_metadata(
        {
            "csv": dg.MetadataValue.path(path),
            "preview": md_preview(df.drop(columns=["event_dates"]), rows=20),
        }
    )
    return df


@dg.asset(
    group_name=GROUP,
    ins={"prices": PRICES, "report_as_of": dg.AssetIn()},
    kinds={"pandas", "csv"},
    description="Estimated CTA flows over one week / one month under flat, +-1/2 sd and 'down big' paths from the latest "
    "date, 2025-11-20 and the claims date; writes cta_scenarios.csv.",
)
def cta_scenarios(
    context: dg.AssetExecutionContext,
    prices: pd.DataFrame,
    report_as_of: pd.DataFrame,
    cta_settings: CTASettings,
    report_settings: ReportSettings,
) -> pd.DataFrame:
    params = cta_settings.params()
    as_of = as_of_date(report_as_of)
    close = prices["close"].loc[: pd.Timestamp(as_of)]
    df = scenarios.scenarios_for_dates(close, params, (params.claims_date,))
    path = write_report_table(report_settings.as_of_dir(as_of), "cta_scenarios.csv", df)
    meta: dict[str, object] = {
        "csv": dg.MetadataValue.path(path),
        "as_of_dates": str(sorted({str(d.date()) for d in df["as_of"]})),
    }
    for d in sorted(df["as_of"].unique(), reverse=True):
        meta[f"desk_table_{pd.Timestamp(d).date()}"] = md_preview(
            scenarios.desk_table(df, pd.Timestamp(d)), floatfmt=".1f"
        )
    context.add_output_metadata(meta)
    return df


@dg.asset(
    group_name=GROUP,
    ins={"report_as_of": dg.AssetIn()},
    kinds={"pandas", "csv"},
    description="The research notes' CTA numbers (6725, 6456, 94th percentile, $165bn, $40-50bn, $390bn, $650bn) next "
    "to the replica's values on the same dates, with why they can differ; writes cta_claims.csv.",
)
def cta_claims(
    context: dg.AssetExecutionContext,
    cta_signals: pd.DataFrame,
    cta_levels: pd.DataFrame,
    cta_scenarios: pd.DataFrame,
    report_as_of: pd.DataFrame,
    cta_settings: CTASettings,
    report_settings: ReportSettings,
) -> pd.DataFrame:
    params = cta_settings.params()
    df = cta_claims_mod.claims_table(_history(cta_signals, cta_levels), cta_scenarios, params)
    path = write_report_table(
        report_settings.as_of_dir(as_of_date(report_as_of)), "cta_claims.csv", df
    )
    show = df[
        [
            "claim_id",
            "unit",
            "notes_value",
            "replica_date",
            "replica_value",
            "replica_low",
            "replica_high",
            "difference_pct",
        ]
    ]
    context.add_output_metadata(
        {"csv": dg.MetadataValue.path(path), "preview": md_preview(show, floatfmt=".4g")}
    )
    return df


# ----------------------------------------------------------------------------- asset checks


@dg.asset_check(
    asset=cta_levels,
    description="Every level (and distance) is finite once every horizon is past its warm-up.",
)
def cta_levels_finite(cta_levels: pd.DataFrame, cta_settings: CTASettings) -> dg.AssetCheckResult:
    params = cta_settings.params()
    warm = params.max_lookback + params.vol_min_periods + 1
    body = cta_levels.iloc[warm:]
    cols = [c for c in body.columns if c.startswith(("level_", "distance_"))]
    bad = {c: int((~np.isfinite(body[c].to_numpy())).sum()) for c in cols}
    n_bad = sum(bad.values())
    return dg.AssetCheckResult(
        passed=n_bad == 0 and len(body) > 0,
        metadata={"rows_checked": len(body), "non_finite": n_bad, "by_column": str(bad)},
    )


@dg.asset_check(
    asset=cta_signals,
    description="Position within [-1, 1], signals within [-1, 1], percentile within [0, 100].",
)
def cta_position_bounded(cta_signals: pd.DataFrame) -> dg.AssetCheckResult:
    pos = cta_signals["position"].dropna()
    sig_cols = [c for c in cta_signals.columns if c.startswith("signal_")]
    sig_ok = all(cta_signals[c].dropna().between(-1, 1).all() for c in sig_cols)
    pct = cta_signals["percentile"].dropna()
    passed = bool(len(pos) and pos.between(-1, 1).all() and sig_ok and pct.between(0, 100).all())
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "min_position": float(pos.min()),
            "max_position": float(pos.max()),
            "valid_rows": len(pos),
        },
    )


@dg.asset_check(
    asset=cta_signals,
    additional_ins={"prices": PRICES},
    description="No look-ahead: recomputing on history truncated at several dates, and on a series whose future "
    "was replaced by a shifted path, leaves every past position and level unchanged.",
)
def cta_no_lookahead(
    cta_signals: pd.DataFrame, prices: pd.DataFrame, cta_settings: CTASettings
) -> dg.AssetCheckResult:
    params = cta_settings.params()
    full = replay.full_history(prices, params)
    n = len(prices)
    cuts = sorted({n - 1, n - 21, n - 260, int(n * 0.5)} & set(range(params.max_lookback + 50, n)))
    worst = 0.0
    cols = [
        "position",
        "notional_usd",
        "percentile",
        *[f"level_{h}" for h in (*params.horizons, "aggregate")],
    ]
    rng = np.random.default_rng(params.lookbacks[0])
    for cut in cuts:
        trunc = replay.full_history(prices.iloc[: cut + 1], params)
        shifted_close = prices["close"].to_numpy().copy()
        shifted_close[cut + 1 :] *= np.exp(np.cumsum(rng.normal(-0.002, 0.02, n - cut - 1)))
        shifted = replay.full_history(pd.Series(shifted_close, index=prices.index), params).iloc[
            : cut + 1
        ]
        for other in (trunc, shifted):
            a = full.iloc[: cut + 1][cols].to_numpy()
            b = other[cols].to_numpy()
            diff = (
                np.nanmax(np.abs(a - b) / np.maximum(1.0, np.abs(a)))
                if np.isfinite(a).any()
                else 0.0
            )
            same_nan = bool((np.isnan(a) == np.isnan(b)).all())
            worst = max(worst, float(diff) if same_nan else np.inf)
    stored = cta_signals["position"].to_numpy()
    stored_ok = bool(
        np.allclose(stored, full["position"].to_numpy(), equal_nan=True, rtol=0, atol=1e-12)
    )
    return dg.AssetCheckResult(
        passed=worst < 1e-9 and stored_ok,
        metadata={
            "cut_rows": str(cuts),
            "max_relative_difference": worst,
            "stored_matches_recomputed": stored_ok,
        },
    )
