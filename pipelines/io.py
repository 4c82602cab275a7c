"""Parquet IO manager: every DataFrame asset is stored at <base_dir>/<asset/key/path>.parquet.

Writes go through eventlab.data.store (temp file + rename), so a failed run never leaves a
half-written table in the warehouse and the previous materialization stays readable.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from assets.previews import table_metadata
from eventlab.data.snapshot import PROJECT_ROOT
from eventlab.data.store import write_parquet_atomic

DEFAULT_WAREHOUSE = str(PROJECT_ROOT / "data" / "warehouse")


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
            {"path": dg.MetadataValue.path(str(path)), **table_metadata(obj)}
        )

    def load_stored(self, key: dg.AssetKey) -> pd.DataFrame | None:
        """The asset's last stored frame, or None if it was never materialized (or is unreadable).

        The daily price assets use it to refresh incrementally from what is already stored.
        """
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return pd.read_parquet(path, engine="pyarrow")
        except Exception:  # a corrupt file must not stop the refresh; it is rebuilt from the source
            return None

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        path = self._path(context.asset_key)
        if not path.exists():
            raise FileNotFoundError(
                f"{context.asset_key.to_user_string()} has not been materialized yet ({path} missing): "
                "materialize it first, e.g. `make run`"
            )
        return pd.read_parquet(path, engine="pyarrow")
