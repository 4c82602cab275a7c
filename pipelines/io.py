"""Parquet IO manager: every DataFrame asset is stored at <base_dir>/<asset/key/path>.parquet.

One namespace per parameter set: market data (`prices/`, `intraday/`, `reference/`) is the same
for every setting and lives at the top; everything a run computes from its settings lives at
the top for the default settings and under `parameter_sets/<label>/` for any other set (the
label of its report folder, eventlab.report.publishing.folder_label). So a run reads only what
it, a run with the same settings, or the data refresh wrote: an experiment never replaces the
default state, and runs with different settings at once never read each other's tables.

Writes go through eventlab.data.store (temp file + rename), so a failed run never leaves a
half-written table in the warehouse and the previous materialization stays readable. Reads
check the shape of price tables: a stored file that is unreadable or is not what the asset
stores (another table copied over it, a renamed column) is named with the fix, never a bare
KeyError deep in a later step.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import dagster as dg
import pandas as pd

from eventlab.config import CONFIG, Series
from eventlab.data import snapshot
from eventlab.data.frames import DataError, StoredFileError, normalize_ohlcv, stored_shape_problem
from eventlab.data.quality import describe_identity, identity_violations
from eventlab.data.snapshot import PROJECT_ROOT
from eventlab.data.store import write_parquet_atomic
from pipelines.previews import table_metadata

DEFAULT_WAREHOUSE = str(PROJECT_ROOT / "data" / "warehouse")
PRICE_GROUPS = ("prices", "intraday")  # asset key prefixes whose files must be OHLCV tables
SHARED_GROUPS = (*PRICE_GROUPS, "reference")  # data: the same whatever the study's settings
PARAMETER_SETS = "parameter_sets"  # <base_dir>/parameter_sets/<label>/ for non-default settings
# the settings resources whose values decide the namespace (and the report folder)
SETTINGS_KEYS = ("study_settings", "cta_settings", "validation_settings", "backtest_settings")


@functools.lru_cache(maxsize=64)
def _parameter_set(configs: str) -> tuple[str, str]:
    """(label, description) of the parameter set the settings resources' configs (JSON by
    resource key) select: ('', 'default study parameters ...') for the defaults."""
    from eventlab.report import publishing
    from pipelines.resources import BacktestSettings, CTASettings, StudySettings, ValidationSettings

    given = json.loads(configs)
    resources = (StudySettings, CTASettings, ValidationSettings, BacktestSettings)
    params = [
        cls(**given.get(key, {})).params()
        for cls, key in zip(resources, SETTINGS_KEYS, strict=True)
    ]
    changed = publishing.changed_parameters(*params)
    return publishing.folder_label(changed), publishing.describe_parameters(changed)


def run_parameter_set(context: dg.InputContext | dg.OutputContext) -> tuple[str, str]:
    """(label, description) of the run's parameter set, from its resolved settings resources
    (launchpad config, --config YAML or resource objects alike); ('', ...) without a step
    context or settings resources (the defaults)."""
    try:
        resolved = context.step_context.resolved_run_config.resources
    except Exception:  # noqa: BLE001 - built outside a run (tests, direct calls): the defaults
        return _parameter_set("{}")
    configs = {k: resolved[k].config or {} for k in SETTINGS_KEYS if k in resolved}
    return _parameter_set(json.dumps(configs, sort_keys=True, default=str))


def _daily_series(key: str) -> Series | None:
    """The daily series declared under `key` (None for another key)."""
    return next((s for s in CONFIG.daily if s.key == key), None)


@functools.lru_cache(maxsize=32)
def _shipped(key: str) -> pd.DataFrame | None:
    """The shipped snapshot's frame of daily series `key` (None if none is shipped): what a
    stored file of that series is compared with. Verified by checksum when read; the snapshot
    does not change while a process runs."""
    series = _daily_series(key)
    if series is None or not series.raw_file:
        return None
    try:
        frame = snapshot.read_series(key)
    except DataError:
        return None  # a missing or damaged snapshot is the price source's to report
    return normalize_ohlcv(frame, key, calendar=series.calendar)


def _identity_problem(df: pd.DataFrame, key: dg.AssetKey) -> str | None:
    """Why a stored daily price file is not the series its key names (None if it is): checked
    on every read, so a file copied over another or edited stops here, not in a report."""
    series = _daily_series(key.path[-1]) if key.path[0] == "prices" else None
    if series is None or df.empty:
        return None
    violations = identity_violations(df, series, _shipped(series.key))
    return describe_identity(violations, series) if violations else None


def _read(path: Path, key: dg.AssetKey) -> pd.DataFrame:
    """Read a stored asset file, or raise StoredFileError naming the file, the fault and the fix."""
    name = key.to_user_string()
    try:
        df = pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # truncated, not Parquet, unreadable: say which file and what to do
        raise StoredFileError(
            f"stored file {path} (asset {name}) cannot be read as Parquet "
            f"({type(exc).__name__}: {str(exc)[:160]})",
        ) from None
    if key.path[0] in PRICE_GROUPS:
        problem = stored_shape_problem(df, intraday=key.path[0] == "intraday")
        problem = problem or _identity_problem(df, key)
        if problem:
            raise StoredFileError(f"stored file {path} (asset {name}): {problem}")
    return df


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores pandas DataFrames as Parquet (pyarrow), one file per asset."""

    base_dir: str = DEFAULT_WAREHOUSE

    def _path(self, key: dg.AssetKey, label: str = "") -> Path:
        """The asset's file: shared data at the top, computed tables in the parameter set's
        namespace (the top for the defaults)."""
        root = Path(self.base_dir)
        if label and key.path[0] not in SHARED_GROUPS:
            root = root / PARAMETER_SETS / label
        return root.joinpath(*key.path).with_suffix(".parquet")

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"asset {context.asset_key.to_user_string()} returned {type(obj).__name__}; "
                "the Parquet IO manager stores DataFrames only (return MaterializeResult without value for file artifacts)"
            )
        label, described = run_parameter_set(context)
        path = self._path(context.asset_key, label)
        write_parquet_atomic(obj, path)
        # every table asset shows its columns and row count in the UI (dagster/column_schema, ...)
        # and which settings produced it (shared market data: whatever the settings)
        shared = context.asset_key.path[0] in SHARED_GROUPS
        context.add_output_metadata(
            {
                "path": dg.MetadataValue.path(str(path)),
                "parameter_set": "shared by every parameter set"
                if shared
                else (label or "default"),
                **({} if shared else {"parameters": described}),
                **table_metadata(obj, context.asset_key.path[-1]),
            }
        )

    def load_stored(self, key: dg.AssetKey) -> pd.DataFrame | None:
        """The asset's last stored frame, or None if it was never materialized.

        The daily price assets refresh incrementally from it. A stored file that cannot be read
        or has the wrong shape is moved aside (renamed `<file>.invalid-<UTC time>`, never
        deleted) and StoredFileError says where it went; the caller then rebuilds the series
        from the snapshot and the source, so one bad file never stops the other series.
        """
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return _read(path, key)
        except StoredFileError as exc:
            stamp = pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%SZ")
            aside = path.with_name(f"{path.name}.invalid-{stamp}")
            path.rename(aside)
            raise StoredFileError(
                f"{exc}. It was moved aside to {aside} and {key.to_user_string()} is rebuilt "
                "from the snapshot (and the live source, if on); inspect that file and delete it "
                "when you no longer need it"
            ) from None

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        label, described = run_parameter_set(context)
        path = self._path(context.asset_key, label)
        name = context.asset_key.to_user_string()
        if not path.exists():
            settings = f" with these settings ({described})" if label else ""
            raise FileNotFoundError(
                f"{name} has not been materialized{settings} yet ({path} missing): "
                "materialize it first in a run with the same settings, e.g. `make run` "
                "(or `python -m commands.run --config <your run.yaml>`)"
            )
        try:
            df = _read(path, context.asset_key)
        except StoredFileError as exc:
            raise StoredFileError(
                f"{exc}. Fix: re-materialize {name} (e.g. `make run`; a bad price file is moved "
                "aside and rebuilt), or restore the file from a backup"
            ) from None
        # Provenance (df.attrs) is for the price step; pandas deep-copies attrs on every
        # operation, so downstream computations get the plain frame.
        df.attrs = {}
        return df
