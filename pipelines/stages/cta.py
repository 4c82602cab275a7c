"""CTA trend-following replica assets: signals, trigger levels, event replays, flow scenarios and
the notes-vs-replica claims table. One multi-asset step computes the replica once and emits each
table as its own asset (any subset can be materialized; a subset computes only what it needs).
Thin wrappers over eventlab.cta (plain functions; the checks' algorithms are eventlab.cta.checks); parameters come from the `cta_settings`
resource (defaults: eventlab.config.CONFIG.cta).

The replica models S&P 500 futures, so its price series is the S&P 500 (REPLICA_SERIES) whatever
index the study runs on; the event-conditioned tables (cta_event_levels, cta_event_replays,
cta_event_summary) take the run's study events and the study's horizons (`study` resource)."""

import dagster as dg
import numpy as np
import pandas as pd

from eventlab.cta import claims as cta_claims_mod
from eventlab.cta import levels as cta_levels_mod
from eventlab.cta import replay, scenarios
from eventlab.cta import signals as cta_signals_mod
from eventlab.cta.checks import levels_finite, no_lookahead, position_bounded
from pipelines.resources import CTASettings, ReportSettings, StudySettings, report_folder_name
from pipelines.stages.common import (
    LazyTables,
    as_of_date,
    frame_span_metadata,
    md_preview,
    publish_if_no_publish_step,
    selected_results,
    table_outs,
)

GROUP = "cta"
# The replica models S&P 500 futures: its prices are the S&P 500's whatever the study's index.
REPLICA_SERIES = "GSPC"
PRICES = dg.AssetIn(key=["prices", REPLICA_SERIES])
REPLICA_NOTE = (
    f"prices/{REPLICA_SERIES} (the replica models S&P 500 futures, whatever the study index)"
)


def _bn(x: float) -> str:
    return f"${x / 1e9:,.1f}bn" if np.isfinite(x) else "n/a"


class _Tables(LazyTables):
    """The CTA tables for one run, each computed on first use (so a subset computes only what it needs)."""

    def __init__(self, prices, events, as_of, folder, params, study_horizons) -> None:
        super().__init__(folder)
        self.prices = prices
        self.events = events
        self.as_of = as_of
        self.params = params
        self.study_horizons = tuple(int(k) for k in study_horizons)

    def _event_meta(self) -> dict[str, object]:
        """What the event-conditioned tables are computed on (the run's study, the S&P 500 replica)."""
        return {
            "replica_prices": REPLICA_NOTE,
            "study_horizons": ", ".join(f"T+{k}" for k in self.study_horizons),
        }

    def history(self) -> pd.DataFrame:
        """Signals and levels joined, once per run (three tables read it)."""
        if "_history" not in self._cache:
            self._cache["_history"] = (
                replay.joined_history(self.frame("cta_signals"), self.frame("cta_levels")),
                {},
            )
        return self._cache["_history"][0]

    def cta_signals(self):
        p = self.params
        df = cta_signals_mod.signal_frame(self.prices, p)
        last = df.dropna(subset=["position"]).iloc[-1]
        return df, {
            **frame_span_metadata(df),
            "prices": REPLICA_NOTE,
            "rule": p.rule,
            "lookbacks": str(list(p.lookbacks)),
            "capacity_usd": p.capacity_usd,
            "last_position": float(last["position"]),
            "last_notional": _bn(float(last["notional_usd"])),
            "last_percentile": float(last["percentile"]),
            "preview": md_preview(df.tail(15), floatfmt=".3f"),
        }

    def cta_levels(self):
        df = cta_levels_mod.level_frame(self.prices, self.params)
        return df, {
            **frame_span_metadata(df),
            "rule": self.params.rule,
            "preview": md_preview(df.tail(15), floatfmt=".2f"),
        }

    def cta_levels_latest(self):
        table = cta_levels_mod.levels_table(
            self.frame("cta_signals"),
            self.frame("cta_levels"),
            self.params,
            pd.Timestamp(self.as_of),
        )
        return table, {
            "as_of": str(self.as_of),
            "csv": self.csv("cta_levels.csv", table),
            "preview": md_preview(table, floatfmt=".4f"),
        }

    def cta_event_levels(self):
        df = replay.event_levels(
            self.history(), self.events, self.params, horizons=self.study_horizons
        )
        return df, {
            **self._event_meta(),
            "events": int(df["event_date"].nunique()),
            "preview": md_preview(df[df["horizon"] == self.params.horizons[0]], rows=30),
        }

    def cta_event_replays(self):
        df = replay.event_replays(self.history(), self.events, self.params)
        return df, {
            **self._event_meta(),
            "rows": len(df),
            "events": int(df["event_date"].nunique()),
            "preview": md_preview(df[df["offset"] == 0], rows=30, floatfmt=".3f"),
        }

    def cta_event_summary(self):
        df = replay.event_summary(
            self.frame("cta_event_levels"), self.params, horizons=self.study_horizons
        )
        return df, {
            **self._event_meta(),
            "csv": self.csv("cta_event_summary.csv", df),
            "preview": md_preview(df.drop(columns=["event_dates"]), rows=20),
        }

    def cta_scenarios(self):
        p = self.params
        close = self.prices["close"].loc[: pd.Timestamp(self.as_of)]
        df = scenarios.scenarios_for_dates(close, p, (p.claims_date,))
        meta: dict[str, object] = {
            "csv": self.csv("cta_scenarios.csv", df),
            "as_of_dates": str(sorted({str(d.date()) for d in df["as_of"]})),
        }
        for d in sorted(df["as_of"].unique(), reverse=True):
            meta[f"desk_table_{pd.Timestamp(d).date()}"] = md_preview(
                scenarios.desk_table(df, pd.Timestamp(d)), floatfmt=".1f"
            )
        return df, meta

    def cta_claims(self):
        df = cta_claims_mod.claims_table(self.history(), self.frame("cta_scenarios"), self.params)
        show = df[
            ["claim_id", "unit", "notes_value", "replica_date", "replica_value", "replica_low",
             "replica_high", "difference_pct"]
        ]  # fmt: skip
        return df, {
            "csv": self.csv("cta_claims.csv", df),
            "preview": md_preview(show, floatfmt=".4g"),
        }


OUTS: dict[str, str] = {
    "cta_signals": "Full-history CTA replica on the S&P 500: per-horizon vol-normalized trend z and signal, "
    "aggregate, vol scale, position in [-1, 1], notional and flows in USD (assumed capacity), percentile vs own history.",
    "cta_levels": "Full history of trigger levels in force for the next session (per horizon closed form; aggregate by "
    "root finding) and their distance from the close (level / close - 1).",
    "cta_levels_latest": "Levels in force after the report's as-of close, one row per horizon plus the aggregate; writes cta_levels.csv.",
    "cta_event_levels": "Per event x horizon: the level in force at the event close, status (held / broke / below), "
    "break and reclaim sessions, flows and forward returns.",
    "cta_event_replays": "The replica day by day from t-20 to t+20 around every event: signals, levels, position, notional, flows.",
    "cta_event_summary": "Did events that broke the short-term level do worse over the study's horizons (T+5/T+20 "
    "by default) than those that held? The study's forward returns by each replica horizon's status at the event "
    "close, with n; writes cta_event_summary.csv.",
    "cta_scenarios": "Estimated CTA flows over one week / one month under flat, +-1/2 sd and 'down big' paths from the latest "
    "date, 2025-11-20 and the claims date; writes cta_scenarios.csv.",
    "cta_claims": "The research notes' CTA numbers (6725, 6456, 94th percentile, $165bn, $40-50bn, $390bn, $650bn) next "
    "to the replica's values on the same dates, with why they can differ; writes cta_claims.csv.",
}
CSV_OUTS = {"cta_levels_latest", "cta_event_summary", "cta_scenarios", "cta_claims"}


def _reads() -> dict[str, set[dg.AssetKey]]:
    """What each CTA table is computed from (its lineage in the UI); the CSV tables also read
    `report_as_of`, which names the report folder they are written to."""
    k = dg.AssetKey
    prices, events, as_of = PRICES.key, k("events"), k("report_as_of")
    model = {k("cta_signals"), k("cta_levels")}
    reads = {
        "cta_signals": {prices},
        "cta_levels": {prices},
        "cta_levels_latest": model,
        "cta_event_levels": model | {events},
        "cta_event_replays": model | {events},
        "cta_event_summary": {k("cta_event_levels")},
        "cta_scenarios": {prices},
        "cta_claims": model | {k("cta_scenarios")},
    }
    everything = {prices, events, as_of}  # a table missing above reads all the step's inputs
    return {
        name: reads.get(name, everything) | ({as_of} if name in CSV_OUTS else set())
        for name in OUTS
    }


CHECKS = (
    dg.AssetCheckSpec(
        "cta_levels_finite",
        asset="cta_levels",
        description="Every level (and distance) is finite once every horizon is past its warm-up.",
    ),
    dg.AssetCheckSpec(
        "cta_position_bounded",
        asset="cta_signals",
        description="Position within [-1, 1], signals within [-1, 1], percentile within [0, 100].",
    ),
    dg.AssetCheckSpec(
        "cta_no_lookahead",
        asset="cta_signals",
        description="No look-ahead: recomputing on history truncated at several dates, and on a series whose future "
        "was replaced by a shifted path, leaves every past position and level unchanged.",
    ),
)


@dg.multi_asset(
    name="cta",
    group_name=GROUP,
    ins={"prices": PRICES, "events": dg.AssetIn(key="events"), "report_as_of": dg.AssetIn()},
    outs=table_outs(OUTS, CSV_OUTS),
    check_specs=list(CHECKS),
    internal_asset_deps=_reads(),
    can_subset=True,
)
def cta(
    context: dg.AssetExecutionContext,
    prices: pd.DataFrame,
    events: pd.DataFrame,
    report_as_of: pd.DataFrame,
    cta_settings: CTASettings,
    study_settings: StudySettings,
    report_settings: ReportSettings,
):
    """The CTA replica computed once per run; each table is an asset (report CSVs written as it goes)."""
    params = cta_settings.params()
    as_of = as_of_date(report_as_of)
    folder = report_settings.staging(context.run_id, report_as_of)
    tables = _Tables(prices, events, as_of, folder, params, study_settings.params().horizons)
    tables.final_name = report_folder_name(report_as_of)
    finite, bounded, lookahead = CHECKS
    yield from selected_results(
        context,
        OUTS,
        tables.get,
        [
            (finite, lambda: levels_finite(tables.frame("cta_levels"), params)),
            (bounded, lambda: position_bounded(tables.frame("cta_signals"))),
            (
                lookahead,
                lambda: no_lookahead(
                    tables.frame("cta_signals"), tables.frame("cta_levels"), prices, params
                ),
            ),
        ],
    )
    publish_if_no_publish_step(context, report_settings, folder, report_as_of)
