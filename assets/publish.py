"""Report plumbing: the as-of date every artifact is filed under, and the final publish step."""

import datetime as dt

import dagster as dg
import pandas as pd

GROUP = "report"


@dg.asset(
    group_name=GROUP,
    ins={"index_prices": dg.AssetIn(key=["prices", "GSPC"])},
    description="The report's as-of date: the last close of the S&P 500 series served.",
)
def report_as_of(index_prices: pd.DataFrame) -> pd.DataFrame:
    as_of = index_prices.index[-1].date()
    return pd.DataFrame(
        {"as_of": [pd.Timestamp(as_of)], "generated_utc": [dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()]}
    )
