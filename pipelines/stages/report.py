"""Report assets: the claims-vs-data verdict table and the HTML + Markdown report.

Thin wrappers over eventlab.report (plain functions). Optional inputs are discovered, not
hard-coded: every asset defined in pipelines/stages/charts.py becomes a dependency of `report` (so the
report runs after the charts and embeds every charts/*.png it finds), and the CTA tables
(`cta_claims`, `cta_levels_latest`, `cta_scenarios`, `cta_event_summary`) become inputs as soon
as pipelines/stages/cta.py defines them. Until then the report says "not available in this run".
"""

import importlib
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG
from eventlab.data.store import atomic_write_bytes
from eventlab.report.charts_gallery import collect_charts
from eventlab.report.claims import KINDS, ClaimData, evaluate_claims, load_claims, verdict_counts
from eventlab.report.claims.reads import claim_reads
from eventlab.report.context import build_context
from eventlab.report.cta_tables import CTA_TABLES
from eventlab.report.fonts import missing_glyphs
from eventlab.report.publishing import PUBLISH_STEP_FILES, describe_parameters, published_path
from eventlab.report.publishing import changed_parameters as study_changes
from eventlab.report.replica_section import OPTIONAL_TABLES
from eventlab.report.replica_section import TABLES as REPLICA_TABLES
from eventlab.report.templating import render_html, render_markdown
from pipelines.links import report_url
from pipelines.resources import (
    CTASettings,
    ReportSettings,
    StudySettings,
    ValidationSettings,
    report_folder_name,
)
from pipelines.stages.common import (
    as_of_date,
    changed_parameters,
    md_preview,
    publish_if_no_publish_step,
    write_report_table,
)

GROUP = "report"
# The study's evidence tables: inputs of the report, each also written as <name>.csv.
EVIDENCE_TABLES = (
    "event_verdicts",
    "event_baselines",
    "event_leave_one_out",
    "open_accuracy",
    "open_accuracy_by_year",
)
# The ledger's tables: inputs of the report, each written under its CSV name.
LEDGER_TABLES = {
    "event_verdicts_family": "event_verdicts_family.csv",
    "ledger_fdr": "hypotheses.csv",
    "spec_curve": "spec_curve.csv",
    "spec_curve_test": "spec_curve_test.csv",
}

# The market data the claims' checks read (their methods and parameters in claims.csv): the
# inputs and lineage of claims_vs_data. The study's tables are inputs of their own.
CLAIM_READS = claim_reads(load_claims(), CONFIG.study.index, (s.key for s in CONFIG.intraday))
_PREFIX = {"prices": "price", "intraday": "bars", "reference": "ref"}
CLAIM_DATA_INS = {
    f"{_PREFIX[kind]}_{name}": dg.AssetIn(key=[kind, name])
    for kind, name in sorted(CLAIM_READS)
    if kind in _PREFIX
}


def _module_asset_keys(module_name: str) -> list[dg.AssetKey]:
    """Asset keys defined in another asset module (empty if the module has none yet)."""
    try:
        mod = importlib.import_module(module_name)
    except ImportError:
        return []
    keys: list[dg.AssetKey] = []
    for obj in vars(mod).values():
        if isinstance(obj, dg.AssetsDefinition):
            keys.extend(k for k in obj.keys if k not in keys)
    return keys


CHART_KEYS = _module_asset_keys("pipelines.stages.charts")
CTA_KEYS = {
    k.path[-1]: k for k in _module_asset_keys("pipelines.stages.cta") if k.path[-1] in CTA_TABLES
}
CTA_INS = {
    f"cta_{name.removeprefix('cta_')}": dg.AssetIn(key=key) for name, key in CTA_KEYS.items()
}

# "Is the replica real?": the validation step's tables, as inputs once pipelines/stages/validation.py defines them
REPLICA_INS = {
    f"rc_{k.path[-1]}": dg.AssetIn(key=k)
    for k in _module_asset_keys("pipelines.stages.validation")
    if k.path[-1] in (*REPLICA_TABLES, *OPTIONAL_TABLES)
}


def _cta_tables(kwargs: dict, folder) -> dict[str, pd.DataFrame]:
    """CTA tables from the inputs, else from `<name>.csv` in the report folder, else none."""
    out: dict[str, pd.DataFrame] = {}
    for name in CTA_TABLES:
        df = kwargs.get(f"cta_{name.removeprefix('cta_')}")
        if isinstance(df, pd.DataFrame):
            out[name] = df
        elif (folder / f"{name}.csv").exists():
            out[name] = pd.read_csv(folder / f"{name}.csv")
    return out


def _claim_inputs(inputs: dict, kind: str) -> dict[str, pd.DataFrame]:
    """The claims' market data of one kind ("prices", "intraday", "reference"), by name."""
    return {name: inputs[f"{_PREFIX[kind]}_{name}"] for k, name in CLAIM_READS if k == kind}


@dg.asset(
    group_name=GROUP,
    ins={
        "report_as_of": dg.AssetIn(),
        "events": dg.AssetIn(),
        "event_stats": dg.AssetIn(),
        **CLAIM_DATA_INS,
        **{k: v for k, v in CTA_INS.items() if k == "cta_claims"},
    },
    kinds={"pandas", "csv"},
    description="The research notes' claims (eventlab/report/claims.csv) checked against the data: "
    "confirmed / differs / within noise / cannot check, with the evidence (a study whose event "
    "definition differs from the notes' marks the event-count claims not applicable). Also written as "
    "claims_vs_data.csv.",
)
def claims_vs_data(
    context: dg.AssetExecutionContext,
    report_settings: ReportSettings,
    study_settings: StudySettings,
    cta_settings: CTASettings,
    **inputs,
) -> pd.DataFrame:
    folder = report_settings.staging(context.run_id, inputs["report_as_of"])
    params = study_settings.params()
    data = ClaimData(
        events=inputs["events"],
        event_stats=inputs["event_stats"],
        prices=_claim_inputs(inputs, "prices"),
        intraday=_claim_inputs(inputs, "intraday"),
        reference=_claim_inputs(inputs, "reference"),
        cta_claims=_cta_tables(inputs, folder).get("cta_claims"),
        index_key=params.index,
        # the event-study claims apply only to the notes' event definition
        study_changes=study_changes(params, cta_settings.params()),
    )
    result = evaluate_claims(data)
    path = write_report_table(folder, "claims_vs_data.csv", result)
    publish_if_no_publish_step(context, report_settings, folder, inputs["report_as_of"])
    context.add_output_metadata(
        {
            **{
                f"n_{kind}_{k.replace(' ', '_')}": v
                for kind in KINDS
                for k, v in verdict_counts(result, kind).items()
            },
            "claims": len(result),
            "csv": dg.MetadataValue.path(
                str(published_path(path, report_folder_name(inputs["report_as_of"])))
            ),
            "cta_claims_available": data.cta_claims is not None,
            "preview": md_preview(
                result[["id", "claim", "quoted_value", "computed_display", "verdict"]], rows=60
            ),
        }
    )
    return result


@dg.asset(
    group_name=GROUP,
    ins={
        "report_as_of": dg.AssetIn(),
        "events": dg.AssetIn(),
        "event_stats": dg.AssetIn(),
        "open_quality_eras": dg.AssetIn(),
        "claims_vs_data": dg.AssetIn(),
        **{name: dg.AssetIn() for name in EVIDENCE_TABLES},
        **{name: dg.AssetIn() for name in LEDGER_TABLES},
        **CTA_INS,
        **REPLICA_INS,
    },
    deps=CHART_KEYS,
    kinds={"html", "markdown"},
    description="`reports/<as-of>/report.html` (self-contained, opens offline) and `report.md`: computed narrative, "
    "every event, statistics with caveats, charts, claims vs data, CTA replica, data limits.",
)
def report(
    context: dg.AssetExecutionContext,
    report_settings: ReportSettings,
    validation_settings: ValidationSettings,
    study_settings: StudySettings,
    **inputs,
) -> dg.MaterializeResult:
    t0 = time.perf_counter()
    as_of_df = inputs["report_as_of"]
    folder = report_settings.staging(context.run_id, as_of_df)
    final = report_settings.root() / report_folder_name(as_of_df)
    changed = changed_parameters(as_of_df)
    charts = collect_charts(folder)
    cta = _cta_tables(inputs, folder)
    claims = inputs["claims_vs_data"]
    for name in EVIDENCE_TABLES:
        df = inputs[name]
        write_report_table(folder, f"{name}.csv", df, index=name == "open_accuracy")
    for name, csv_name in LEDGER_TABLES.items():
        write_report_table(folder, csv_name, inputs[name])
    study = study_settings.params()
    ctx = build_context(
        as_of=as_of_date(as_of_df).isoformat(),
        generated_utc=str(as_of_df["generated_utc"].iloc[0])
        if "generated_utc" in as_of_df.columns
        else "",
        events=inputs["events"],
        event_stats=inputs["event_stats"],
        eras=inputs["open_quality_eras"],
        claims=claims,
        cta_tables=cta,
        charts=charts,
        evidence={name: inputs[name] for name in EVIDENCE_TABLES},
        replica_tables={name.removeprefix("rc_"): inputs[name] for name in REPLICA_INS},
        parameters_line=f"{describe_parameters(changed)} · folder reports/{final.name}",
        main_window=validation_settings.params().main_window,
        ledger={name: inputs[name] for name in LEDGER_TABLES},
        verdict_alpha=study.verdict_alpha,
        changed=changed,
        gap_threshold=study.gap_threshold,
        close_rule=study.close_rule,
        files=sorted({p.name for p in folder.glob("*.csv")} | set(PUBLISH_STEP_FILES)),
    )
    html, md = render_html(ctx), render_markdown(ctx)
    atomic_write_bytes(folder / "report.html", html.encode("utf-8"))
    atomic_write_bytes(folder / "report.md", md.encode("utf-8"))
    publish_if_no_publish_step(context, report_settings, folder, as_of_df)
    # the paths readers open once the staged folder is switched in
    html_path, md_path = final / "report.html", final / "report.md"
    counts = verdict_counts(claims, "data")
    preview = (
        "\n\n".join([*ctx["answer"], *ctx["narrative"]])
        + "\n\n**Claims checked against market data:** "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    return dg.MaterializeResult(
        metadata={
            "report_folder": dg.MetadataValue.path(str(final)),
            "parameters": describe_parameters(changed),
            # http, not file://: a browser follows it from the UI's page (make ui serves reports/)
            "report_html": dg.MetadataValue.url(
                report_url(report_settings.reports_root, html_path)
            ),
            "latest_report": dg.MetadataValue.url(
                report_url(
                    report_settings.reports_root,
                    Path(report_settings.reports_root) / "latest" / "report.html",
                )
            ),
            "cjk_glyphs_missing": missing_glyphs(html) or "none",
            "html_path": dg.MetadataValue.path(str(html_path)),
            "md_path": dg.MetadataValue.path(str(md_path)),
            "html_bytes": len(html.encode("utf-8")),
            "charts_embedded": len(charts),
            "cta_tables": ", ".join(sorted(cta)) or "none in this run",
            "render_seconds": round(time.perf_counter() - t0, 3),
            "narrative": dg.MetadataValue.md(preview),
        }
    )
