"""Parquet IO manager: every DataFrame asset is stored at <base_dir>/<asset/key/path>.parquet.

Writes go through eventlab.data.store (temp file + rename), so a failed run never leaves a
half-written table in the warehouse and the previous materialization stays readable. Reads
check the shape of price tables: a stored file that is unreadable or is not what the asset
stores (another table copied over it, a renamed column) is named with the fix, never a bare
KeyError deep in a later step.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from eventlab.data.frames import StoredFileError, stored_shape_problem
from eventlab.data.snapshot import PROJECT_ROOT
from eventlab.data.store import write_parquet_atomic
from pipelines.previews import table_metadata

DEFAULT_WAREHOUSE = str(PROJECT_ROOT / "data" / "warehouse")
PRICE_GROUPS = ("prices", "intraday")  # asset key prefixes whose files must be OHLCV tables


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
        if problem:
            raise StoredFileError(f"stored file {path} (asset {name}): {problem}")
    return df


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores pandas DataFrames as Parquet (pyarrow), one file per asset."""

    base_dir: str = DEFAULT_WAREHOUSE

    def _path(self, key: dg.AssetKey) -> Path:
        return Path(self.base_dir).joinpath(*key.path).with_suffix(".parquet")

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"asset {context.asset_key.to_user_string()} returned {type(obj).__name__}; "
                "the Parquet IO manager stores DataFrames only (return MaterializeResult without value for file artifacts)"
            )
        path = self._path(context.asset_key)
        write_parquet_atomic(obj, path)
        # every table asset shows its columns and row count in the UI (dagster/column_schema, ...)
        context.add_output_metadata(
            {
                "path": dg.MetadataValue.path(str(path)),
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
        path = self._path(context.asset_key)
        name = context.asset_key.to_user_string()
        if not path.exists():
            raise FileNotFoundError(
                f"{name} has not been materialized yet ({path} missing): "
                "materialize it first, e.g. `make run`"
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
