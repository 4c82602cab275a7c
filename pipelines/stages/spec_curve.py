"""The specification curve of the headline question (eventlab.study.spec_curve): every reasonable
definition's answer, and the joint test of the curve against placebo dates.

One step computes both tables from the study index and its robustness index (SPY's own opens);
the chart (`charts/specification_curve`) draws them and the ledger counts every specification.
"""

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG
from eventlab.study.spec_curve import joint_test, specification_curve
from pipelines.resources import StudySettings
from pipelines.stages.common import md_preview, selected_results
from pipelines.stages.study import series_beyond_inputs

GROUP = "event_study"
OUTS = {
    "spec_curve": "Every specification of the headline question (threshold, close rule, series, "
    "declustering, entry, horizon) with its estimate, 95% interval and circular-shift p.",
    "spec_curve_test": "The specification curve against placebo dates: the share of "
    "specifications significant (and the median estimate) against every common circular shift.",
}
FIELDS = ("index", "robustness_index")
PRICE_INS = {
    key: dg.AssetIn(key=dg.AssetKey(["prices", key]))
    for key in dict.fromkeys(getattr(CONFIG.study, f) for f in FIELDS)
}


@dg.multi_asset(
    name="specification_curve",
    group_name=GROUP,
    ins=PRICE_INS,
    outs={
        name: dg.AssetOut(description=desc, is_required=False, kinds={"pandas"})
        for name, desc in OUTS.items()
    },
    can_subset=True,
)
def specification_curve_step(
    context: dg.AssetExecutionContext, study_settings: StudySettings, **prices: pd.DataFrame
):
    """The curve and its joint test, computed once from the run's study settings."""
    params = study_settings.params()
    prices = series_beyond_inputs(context, params, prices, FIELDS)
    curve, arrays = specification_curve(prices, params)
    joint = joint_test(curve, arrays, params.verdict_alpha)
    tested = curve[curve["tested"]]
    tables = {
        "spec_curve": (
            curve,
            {
                "specifications": len(curve),
                "tested": len(tested),
                "significant": int(tested["significant"].sum()),
                "preview": md_preview(curve.drop(columns=["definition"]), rows=30),
            },
        ),
        "spec_curve_test": (
            joint,
            {
                **{
                    f"{r.statistic}": f"{r.observed:.4g} (placebo mean {r.null_mean:.4g}, "
                    f"p {r.p_value:.4f})"
                    for r in joint.itertuples()
                },
                "preview": md_preview(joint.drop(columns=["definition"])),
            },
        ),
    }
    yield from selected_results(context, OUTS, tables.__getitem__, [])
