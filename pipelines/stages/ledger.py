"""The hypothesis ledger (eventlab.ledger): every test this run evaluated, appended to the
warehouse's append-only ledger, and false-discovery control over everything ever appended.

`hypothesis_ledger` reads the run's tables through SOURCES (one reader per table; any
event_stats-like table, with columns spec/name, series/index, horizon, variant,
estimate/diff_mean and p/perm_p, needs only a line `"<asset>": stats_like("<family>", "<test>")`)
and appends them to `<warehouse>/ledger/hypotheses.sqlite`; a test already in the ledger (same
question, same data as-of) adds nothing. `ledger_fdr` is the whole ledger with its
Benjamini-Hochberg and Benjamini-Yekutieli q-values.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from eventlab.ledger import fdr as fdr_mod
from eventlab.ledger import rows, store
from eventlab.study.whole_study import describe_definition
from pipelines.io import DEFAULT_WAREHOUSE
from pipelines.resources import StudySettings
from pipelines.stages.common import as_of_date, changed_parameters, md_preview

GROUP = "ledger"


@dataclass(frozen=True)
class RunFacts:
    """What the readers need besides a table: the study's definition and series, and the run's
    non-default settings."""

    study_definition: str
    series: str
    curve_series: str
    changed: dict[str, object]


Reader = Callable[[pd.DataFrame, RunFacts], pd.DataFrame]


def stats_like(family: str, test: str) -> Reader:
    """A reader for an event_stats-like table (rows.stats_rows)."""

    def read(df: pd.DataFrame, facts: RunFacts) -> pd.DataFrame:
        """The table's hypotheses, as they are."""
        return rows.stats_rows(df, family=family, test=test)

    return read


def _baselines(df: pd.DataFrame, facts: RunFacts) -> pd.DataFrame:
    """The regime baselines of the study's events."""
    return rows.baseline_rows(df, facts.series, facts.study_definition)


def _backtests(df: pd.DataFrame, facts: RunFacts) -> pd.DataFrame:
    """The backtest configurations, defined by the settings they depend on."""
    groups = ("study", "cta", "validation", "backtest")
    return rows.backtest_rows(df, rows.parameters_note(facts.changed, groups))


def _calibration(df: pd.DataFrame, facts: RunFacts) -> pd.DataFrame:
    """The calibration grid points, defined by the settings they depend on."""
    return rows.calibration_rows(df, rows.parameters_note(facts.changed, ("cta", "validation")))


def _curve(df: pd.DataFrame, facts: RunFacts) -> pd.DataFrame:
    """The specifications of the curve."""
    return rows.spec_rows(df)


def _joint(df: pd.DataFrame, facts: RunFacts) -> pd.DataFrame:
    """The curve's joint tests."""
    return rows.joint_rows(df, facts.curve_series)


# asset name -> reader of its hypotheses (the ledger step's inputs follow this table)
SOURCES: dict[str, Reader] = {
    "event_stats": stats_like("event_study", "circular_shift"),
    # every study spec of the library (the seed spec repeats the headline's tests: counted again,
    # which can only make the family stricter)
    "study_hypotheses": stats_like("study_library", "circular_shift"),
    "event_baselines": _baselines,
    "backtests": _backtests,
    "cta_calibration": _calibration,
    "spec_curve": _curve,
    "spec_curve_test": _joint,
}


def warehouse_of(context: dg.AssetExecutionContext) -> Path:
    """The run's warehouse folder (the IO manager's), where the ledger lives."""
    io = getattr(context.resources, "io_manager", None)
    return Path(getattr(io, "base_dir", DEFAULT_WAREHOUSE))


@dg.asset(
    group_name=GROUP,
    ins={"report_as_of": dg.AssetIn(), **{name: dg.AssetIn() for name in SOURCES}},
    kinds={"pandas", "sqlite"},
    description="This run's hypotheses (every study row, baseline, backtest test, calibration "
    "grid point and specification), appended to the warehouse's append-only ledger "
    "(ledger/hypotheses.sqlite); a test already there (same question, same data as-of) adds "
    "nothing.",
)
def hypothesis_ledger(
    context: dg.AssetExecutionContext, study_settings: StudySettings, **tables: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Read every source table, append its hypotheses, and return this run's rows."""
    params = study_settings.params()
    facts = RunFacts(
        study_definition=describe_definition(params),
        series=params.index,
        curve_series=",".join(dict.fromkeys((params.index, params.robustness_index))),
        changed=changed_parameters(tables["report_as_of"]),
    )
    fields = pd.concat(
        [read(tables[name], facts) for name, read in SOURCES.items()], ignore_index=True
    )
    as_of = as_of_date(tables["report_as_of"]).isoformat()
    run_rows = rows.finalize(fields, as_of)
    path = store.ledger_path(warehouse_of(context))
    added = store.append(path, run_rows)
    total = store.count_trials(path)
    return dg.Output(
        run_rows,
        metadata={
            "ledger": dg.MetadataValue.path(str(path)),
            "this_run": len(run_rows),
            "added": added,
            "already_in_ledger": len(run_rows) - added,
            "ledger_total": total,
            "by_family": dg.MetadataValue.md(
                run_rows.groupby("family")
                .agg(hypotheses=("hypothesis_id", "size"), tested=("p_value", "count"))
                .to_markdown()
            ),
        },
    )


@dg.asset(
    group_name=GROUP,
    ins={"hypothesis_ledger": dg.AssetIn()},
    kinds={"pandas"},
    description="The whole ledger with Benjamini-Hochberg and Benjamini-Yekutieli q-values over "
    "every tested hypothesis ever appended, and which survive at the study's verdict_alpha.",
)
def ledger_fdr(
    context: dg.AssetExecutionContext,
    study_settings: StudySettings,
    hypothesis_ledger: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """False-discovery control over the whole ledger (it includes this run's rows)."""
    alpha = study_settings.params().verdict_alpha
    table = fdr_mod.ledger_fdr(store.read(store.ledger_path(warehouse_of(context))), alpha)
    summary = fdr_mod.ledger_summary(table)
    return dg.Output(
        table,
        metadata={
            **summary,
            "alpha": alpha,
            "preview": md_preview(
                table.sort_values("q_bh")[
                    ["family", "series", "variant", "horizon", "estimate", "p_value", "q_bh"]
                ],
                rows=20,
            ),
        },
    )


# The verdict table's columns that hold the rule's measured operating characteristics.
OPERATING = (
    "horizon",
    "size",
    "size_any_horizon",
    "power",
    "no_effect_under_effect",
    "placebo_sets",
)


@dg.asset(
    group_name=GROUP,
    ins={
        name: dg.AssetIn()
        for name in (
            "report_as_of",
            "event_stats",
            "event_baselines",
            "event_verdicts",
            "ledger_fdr",
        )
    },
    kinds={"pandas"},
    description="The verdict per horizon again, weighing each line's ledger-wide "
    "Benjamini-Yekutieli q (every test ever run on these data, not only this study's horizons) "
    "where it is stricter than the study's own Holm adjustment; the rule's size and power are "
    "the study's (a stricter p can only lower them). The report leads with this verdict.",
)
def event_verdicts_family(
    study_settings: StudySettings,
    report_as_of: pd.DataFrame,
    event_stats: pd.DataFrame,
    event_baselines: pd.DataFrame,
    event_verdicts: pd.DataFrame,
    ledger_fdr: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """The study's verdicts with the ledger's family-adjusted p (verdict_table.verdicts)."""
    from eventlab.study.verdict_table import verdicts

    params = study_settings.params()
    as_of = as_of_date(report_as_of).isoformat()
    family_p = fdr_mod.family_p_values(ledger_fdr, event_stats, as_of)
    operating = event_verdicts.loc[:, [c for c in OPERATING if c in event_verdicts.columns]]
    table = verdicts(event_stats, event_baselines, params, operating, family_p)
    tested = int(ledger_fdr["p_value"].notna().sum())
    family_words = f"the ledger-wide Benjamini-Yekutieli q over {tested:,} tested hypotheses"
    for col in ("family_adjustment", "rule"):
        if col in table.columns:
            table[col] = table[col].str.replace("the supplied family-adjusted p", family_words)
    changed = (
        int((table["verdict"].to_numpy() != event_verdicts["verdict"].to_numpy()).sum())
        if len(table) == len(event_verdicts)
        else len(table)
    )
    return dg.Output(
        table,
        metadata={
            "verdicts_changed_by_the_family": changed,
            "preview": md_preview(
                table[["horizon", "verdict", "main_p_family", "family_adjustment"]]
            ),
        },
    )
