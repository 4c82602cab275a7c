"""What the claim checks read and return: the run's frames (`ClaimData`), a check's result
(`Outcome`), the "data not in this run" signal (`MissingData`) and the accessors every check
shares (a daily series, the bar on a date and the one before, the events, a reference table, the
main variant's event statistics)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# The index the notes' claims are about (the implied-exposure regressions are on its returns).
NOTES_INDEX = "GSPC"
# The study settings that decide which days are events: with any of them changed, the run's
# events are not the notes' and the event claims do not apply.
EVENT_DEFINITION_FIELDS = (
    "index",
    "gap_threshold",
    "close_rule",
    "start",
    "end",
    "open_policy",
    "genuine_coverage_min",
    "genuine_coverage_window",
)


class MissingData(LookupError):
    """The data a claim needs is not available in this run (-> verdict 'cannot check')."""


@dataclass
class ClaimData:
    """Everything the claim tests may read. Any piece may be missing (None / absent key)."""

    events: pd.DataFrame | None = None
    event_stats: pd.DataFrame | None = None
    prices: dict[str, pd.DataFrame] = field(default_factory=dict)
    intraday: dict[str, pd.DataFrame] = field(default_factory=dict)
    reference: dict[str, pd.DataFrame] = field(default_factory=dict)
    cta_claims: pd.DataFrame | None = None
    index_key: str = NOTES_INDEX  # the study's index (the events' series)
    main_variant: str = "main"
    # the run's study parameters that differ from the default study, by launchpad name
    # (`study.index`: "NDX"; eventlab.report.publishing.changed_parameters)
    study_changes: dict[str, object] = field(default_factory=dict)

    def event_definition_changes(self) -> dict[str, object]:
        """The changed study settings that change which days are events (empty: the notes' definition)."""
        return {
            k: v
            for k, v in self.study_changes.items()
            if k.startswith("study.") and k.removeprefix("study.") in EVENT_DEFINITION_FIELDS
        }


@dataclass
class Outcome:
    """What a test computed. `ok` None means: decide with the claim's comparator. `band`: the
    range the value could take under the estimate's own noise (tests that estimate a value).
    `undecided`: the value is what the data can see, but it cannot decide the claim (verdict
    'cannot check', with the value and the evidence saying what was and was not tested)."""

    value: object
    display: str
    evidence: str
    data_used: str
    dates: str
    ok: bool | None = None
    difference: float | None = None
    band: tuple[float, float] | None = None
    undecided: bool = False


def _d(x: object) -> str:
    return pd.Timestamp(x).date().isoformat()


def _series(data: ClaimData, key: str) -> pd.DataFrame:
    df = data.prices.get(key)
    if df is None or len(df) == 0:
        raise MissingData(f"no daily series '{key}' in this run")
    return df


def _row(df: pd.DataFrame, key: str, date: str) -> tuple[pd.Series, pd.Series]:
    """The bar on `date` and the bar before it."""
    ts = pd.Timestamp(date)
    if ts not in df.index:
        raise MissingData(
            f"series '{key}' has no bar on {date} (data {_d(df.index[0])}..{_d(df.index[-1])})"
        )
    i = df.index.get_loc(ts)
    if i == 0:
        raise MissingData(f"series '{key}' has no bar before {date}")
    return df.iloc[i], df.iloc[i - 1]


def _events(data: ClaimData) -> pd.DataFrame:
    if data.events is None:
        raise MissingData("the events table is not available")
    ev = data.events.copy()
    ev["date"] = pd.to_datetime(ev["date"])
    return ev.sort_values("date").reset_index(drop=True)


def _event_dates(data: ClaimData) -> list[str]:
    return [_d(d) for d in _events(data)["date"]]


def _reference(data: ClaimData, name: str) -> pd.DataFrame:
    df = data.reference.get(name)
    if df is None or len(df) == 0:
        raise MissingData(f"reference table '{name}' is not in this run's snapshot")
    return df


def _main_stats(data: ClaimData) -> pd.DataFrame:
    st = data.event_stats
    if st is None or len(st) == 0:
        raise MissingData("the event statistics table is not available")
    if (st["variant"] == data.main_variant).any():
        st = st[st["variant"] == data.main_variant]
    return st


def _longest_stats(data: ClaimData) -> pd.Series | None:
    """The first statistics row of the longest series on its own opens (None if not run)."""
    st = data.event_stats
    if st is None or "variant" not in st.columns:
        return None
    rows = st[st["variant"].astype(str).str.endswith("_own_opens")]
    return rows.iloc[0] if len(rows) else None
