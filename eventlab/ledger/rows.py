"""Ledger rows from the run's tables: what each hypothesis is, its content hash, its provenance.

A hypothesis is identified by what was asked of which data, never by its answer: the id is the
SHA-256 of (family, spec, series, horizon, variant, test, definition, data as-of), so the same
test on the same data has the same id (re-running it adds nothing) and a new as-of, definition
or setting is a new hypothesis. The estimate, p-value, code version and creation time are
recorded beside the id, not in it.

`stats_rows` reads any event_stats-like table (columns spec or name, series or index, horizon,
variant, estimate or diff_mean, p or perm_p, optionally definition), so per-spec statistics of
user-defined studies need no new code; the other readers map one table each.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import SupportsInt, cast

import numpy as np
import pandas as pd

from eventlab.ledger.store import COLUMNS, IDENTITY

# Accepted spellings of each field in an event_stats-like table, first match wins.
STATS_ALIASES: dict[str, tuple[str, ...]] = {
    "spec": ("spec", "name"),
    "series": ("series", "index"),
    "horizon": ("horizon",),
    "variant": ("variant",),
    "estimate": ("estimate", "diff_mean"),
    "p_value": ("p", "p_value", "perm_p"),
}
HEADLINE_SPEC = "headline"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def hypothesis_id(fields: dict[str, object]) -> str:
    """SHA-256 (hex) of the identity fields in a canonical JSON form (a missing horizon is null;
    integral horizons hash alike whatever their dtype)."""
    canon = {}
    for key in IDENTITY:
        value = fields[key]
        if key == "horizon":
            value = None if value is None or pd.isna(value) else int(cast(SupportsInt, value))
        canon[key] = value if value is None or isinstance(value, int) else str(value)
    blob = json.dumps(canon, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _git_head(root: Path) -> str | None:
    """The checked-out commit, read from .git without running git (None outside a clone)."""
    git = root / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).exists():
            return (git / ref).read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(f" {ref}"):
                return line.split()[0]
    except OSError:
        return None
    return None


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The code that computed a row: the git commit (when in a clone) and a hash of the analysis
    package's source (which tells uncommitted changes apart)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_ROOT)).encode())
        digest.update(path.read_bytes())
    commit = _git_head(PACKAGE_ROOT.parent)
    source = f"src.{digest.hexdigest()[:12]}"
    return f"{commit[:12]}+{source}" if commit else source


def parameters_note(changed: dict[str, object], groups: Iterable[str]) -> str:
    """The run's non-default settings of the given groups, as text ("default settings" if none)."""
    wanted = tuple(f"{g}." for g in groups)
    items = sorted((k, v) for k, v in changed.items() if k.startswith(wanted))
    if not items:
        return "default settings"
    return "settings " + "; ".join(f"{k}={json.dumps(v, default=str)}" for k, v in items)


def _pick(df: pd.DataFrame, field: str) -> pd.Series | None:
    """The column an event_stats-like table uses for `field` (None if it has none)."""
    for name in STATS_ALIASES[field]:
        if name in df.columns:
            return df[name]
    return None


def stats_rows(
    df: pd.DataFrame, *, family: str, test: str, definition: str | None = None
) -> pd.DataFrame:
    """Hypothesis fields of an event_stats-like table, one per row: spec (HEADLINE_SPEC when the
    table has none), series, horizon, variant, estimate, p-value and the definition (the
    table's `definition` column, prefixed by `definition` when given)."""
    need = [
        f for f in ("series", "horizon", "variant", "estimate", "p_value") if _pick(df, f) is None
    ]
    if need:
        raise ValueError(
            f"{family}: not an event_stats-like table, no column for {need} (accepted: "
            + ", ".join(f"{f}: {'/'.join(STATS_ALIASES[f])}" for f in need)
            + ")"
        )
    spec = _pick(df, "spec")
    own = df["definition"].astype(str) if "definition" in df.columns else None
    if own is not None and definition:
        text = definition + "; " + own
    elif own is not None:
        text = own
    else:
        text = pd.Series(definition or "", index=df.index)
    return pd.DataFrame(
        {
            "family": family,
            "spec": spec.astype(str) if spec is not None else HEADLINE_SPEC,
            "series": _pick(df, "series").astype(str),  # type: ignore[union-attr]
            "horizon": pd.to_numeric(_pick(df, "horizon")).astype("Int64"),
            "variant": _pick(df, "variant").astype(str),  # type: ignore[union-attr]
            "test": test,
            "definition": text.to_numpy(),
            "estimate": pd.to_numeric(_pick(df, "estimate"), errors="coerce"),
            "p_value": pd.to_numeric(_pick(df, "p_value"), errors="coerce"),
        }
    ).reset_index(drop=True)


def baseline_rows(baselines: pd.DataFrame, series: str, study_definition: str) -> pd.DataFrame:
    """event_baselines: each variant against each regime baseline and horizon (the weighted t
    test of the events against that baseline)."""
    frame = baselines.assign(
        series=series,
        variant=baselines["variant"].astype(str) + " vs " + baselines["baseline"].astype(str),
        estimate=baselines["diff_mean"],
        p=baselines["t_p"],
        definition=baselines["baseline_description"],
    )
    return stats_rows(frame, family="baseline", test="weighted_t", definition=study_definition)


def backtest_rows(backtests: pd.DataFrame, definition: str) -> pd.DataFrame:
    """backtests: each event strategy against random and VIX-matched entries (its two tests, the
    estimate its mean trade) and each model configuration as a trial (its Sharpe ratio, no test
    of its own); the benchmarks (buy-and-hold, cash, a reference index) are not hypotheses."""
    is_event = backtests["entry"].fillna("").astype(str) != ""
    is_model = backtests["kind"].astype(str) == "model"
    parts = []
    describe = (
        backtests["strategy"].astype(str)
        + ", "
        + backtests["period"].astype(str)
        + " "
        + pd.to_datetime(backtests["start"]).dt.date.astype(str)
        + ".."
        + pd.to_datetime(backtests["end"]).dt.date.astype(str)
        + ", cost "
        + backtests["cost_bp"].astype(str)
        + " bp"
    )
    base = backtests.assign(series="portfolio", definition=describe)
    ev = base[is_event]
    for test, column in (
        ("random_entry", "random_p_value"),
        ("vix_matched_entry", "vix_matched_p_value"),
    ):
        parts.append(
            stats_rows(
                ev.assign(variant=ev["strategy"], estimate=ev["mean_trade"], p=ev[column]),
                family="backtest",
                test=test,
                definition=definition,
            )
        )
    model = base[is_model]
    parts.append(
        stats_rows(
            model.assign(
                variant=model["strategy"] + " " + model["period"].astype(str),
                estimate=model["sharpe"],
                p=np.nan,
                horizon=pd.NA,
            ),
            family="backtest",
            test="sharpe",
            definition=definition,
        )
    )
    return pd.concat(parts, ignore_index=True)


def calibration_rows(grid: pd.DataFrame, definition: str) -> pd.DataFrame:
    """cta_calibration: each grid point a trial (its out-of-sample correlation with the exposure
    implied by the reference index; no test of its own)."""
    variant = (
        "lookbacks="
        + grid["lookbacks"].astype(str)
        + " saturation_z="
        + grid["saturation_z"].astype(str)
        + " vol_target="
        + grid["vol_target"].astype(str)
        + " smoothing="
        + grid["smoothing"].astype(str)
    )
    frame = grid.assign(
        spec="cta_calibration",
        series="replica_vs_reference",
        horizon=pd.NA,
        variant=variant,
        estimate=grid["out_of_sample_corr"],
        p=np.nan,
    )
    return stats_rows(frame, family="calibration", test="out_of_sample_corr", definition=definition)


def spec_rows(curve: pd.DataFrame) -> pd.DataFrame:
    """spec_curve: each specification with its circular-shift test (those with too few events
    as evaluated, without a p-value)."""
    specs = curve.assign(
        variant=curve["threshold"].map("{:.2%}".format)
        + " "
        + curve["close_rule"].astype(str)
        + np.where(curve["declustered"], " declustered", "")
        + " entry at "
        + curve["entry"].astype(str),
    )
    return stats_rows(specs, family="spec_curve", test="circular_shift")


def joint_rows(joint: pd.DataFrame, series: str) -> pd.DataFrame:
    """spec_curve_test: each joint test of the curve against placebo dates (`series`: the
    series the curve covers)."""
    return stats_rows(
        joint.assign(
            series=series,
            horizon=pd.NA,
            variant="joint " + joint["statistic"].astype(str),
            estimate=joint["observed"],
            p=joint["p_value"],
        ),
        family="spec_curve",
        test="common_circular_shift",
    )


def finalize(fields: pd.DataFrame, data_as_of: str, created_utc: str | None = None) -> pd.DataFrame:
    """Ledger rows (store.COLUMNS): the fields with the data as-of, their ids, the code version
    and the creation time; one row per id (a table listing a hypothesis twice keeps the first)."""
    out = fields.assign(data_as_of=data_as_of)
    out["hypothesis_id"] = [hypothesis_id(r) for r in out.to_dict("records")]
    out["code_version"] = code_version()
    out["created_utc"] = created_utc or datetime.now(UTC).isoformat(timespec="seconds")
    return out.drop_duplicates("hypothesis_id").loc[:, list(COLUMNS)].reset_index(drop=True)
