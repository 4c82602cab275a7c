"""Helpers shared by the refresh fault tests: one daily-price refresh through Dagster with the
fake Yahoo, its failure text, and the "bad frame is refused, then the source recovers" case."""

from pathlib import Path

import dagster as dg
import pandas as pd
from yf_fakes import live_history

from pipelines.io import ParquetIOManager
from pipelines.resources import PriceSource
from pipelines.stages.market_data import daily_prices, price_key

ROOT = Path(__file__).resolve().parents[1]


def run_prices(tmp_path, keys=("GSPC",), tags=None, **kw):
    res = dg.materialize(
        [daily_prices],
        selection=[price_key(k) for k in keys],
        instance=dg.DagsterInstance.ephemeral(),
        tags=tags,
        resources={
            "io_manager": ParquetIOManager(base_dir=str(tmp_path)),
            "price_source": PriceSource(
                mode="yfinance", backoff_s=0, retries=kw.pop("retries", 1), **kw
            ),
        },
        raise_on_error=False,
    )
    return res


def failure_text(res) -> str:
    fails = [e for e in res.all_events if e.event_type_value == "STEP_FAILURE"]
    assert fails, "expected a step failure"
    return str(fails[0].event_specific_data.error.message)


def bad_then_recover(tmp_path, good_run, bad_action, *patterns):
    path, before, fake = good_run
    fake.script = [bad_action] * 3
    res = run_prices(tmp_path)
    assert not res.success
    msg = failure_text(res)
    assert "GSPC" in msg
    for p in patterns:
        assert p.lower() in msg.lower(), msg
    assert path.read_bytes() == before  # the previous file is untouched
    fake.script = []  # the source is healthy again: the next run recovers by itself
    fake.default = live_history("GSPC", 4)
    res = run_prices(tmp_path)
    assert res.success
    assert pd.read_parquet(path).index[-1] == live_history("GSPC", 4).index[-1]
    return msg
