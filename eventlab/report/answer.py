"""The report's opening: the plain answer a reader can quote (what happened after such days, on
which series and span, how sure), the verdict per horizon in short sentences, how old the data
are, and the banner of a non-default report. Every figure comes from the computed tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import partial

import pandas as pd

from eventlab.data.quality import expected_last_session, sessions_behind
from eventlab.report.formatting import MISSING_IN_PROSE, is_missing, pct, pval
from eventlab.report.narrative import main_stats
from eventlab.study.verdict_table import VERDICT_REASONS

_pct = partial(pct, missing=MISSING_IN_PROSE)
_p = partial(pval, missing=MISSING_IN_PROSE)

CLOSE_RULES = {"prior_close": "closed below the prior close", "open": "closed below its own open"}


def _series(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _span(values: list[float], fmt: partial[str] | None = None, digits: int = 1) -> str:
    """One rate, or the lowest-highest range of several (a rate per horizon)."""
    vals = [v for v in values if not is_missing(v)]
    if not vals:
        return MISSING_IN_PROSE
    lo, hi = min(vals), max(vals)
    text = (lambda v: pct(v, digits, False)) if fmt is None else fmt
    return text(lo) if lo == hi else f"{text(lo)}–{text(hi)}"


def visible_span(cov: Mapping[str, object], visible: object) -> str:
    """The span the event count covers, as the data can see it: from the first day of the
    sample with usable opens and, when the opens show the real gap only later, effectively from
    that date; the asked-for start beside it when it is earlier."""
    start = cov.get("sample_start") or cov.get("requested_start") or "the start"
    text = f"since {start}"
    if isinstance(visible, str) and visible and visible > str(start):
        text += f", effectively since {visible}"
    asked = cov.get("requested_start")
    if asked and str(asked) < str(start):
        text += f"; asked: since {asked}"
    return text


def what_happened(
    event_stats: pd.DataFrame | None,
    *,
    index: str,
    reference: str,
    gap_threshold: float,
    close_rule: str,
) -> str | None:
    """First sentence of the answer: the events' median and mean forward returns at each horizon
    against ordinary (non-event) days, on which series and over which span."""
    st = main_stats(event_stats)
    if st is None or st.empty:
        return None
    r0 = st.iloc[0]
    n = int(st["n_events"].max())
    start = r0.get("sample_start", MISSING_IN_PROSE)
    vis = r0.get("effective_visibility_from")
    span = f"since {start}" + (
        f" (effectively since {vis})" if isinstance(vis, str) and vis and vis > str(start) else ""
    )
    hs = [f"T+{int(h)}" for h in st["horizon"]]
    at = _series([f"{_pct(v)} at {h}" for v, h in zip(st["event_median"], hs, strict=True)])
    rule = CLOSE_RULES.get(close_rule, f"met the close rule '{close_rule}'")
    text = (
        f"After the {n} day{'s' if n != 1 else ''} {span} on which {index} opened more than "
        f"{gap_threshold * 100:g}% above the prior close and {rule}, its median return was {at}, "
        f"against {_series([_pct(v) for v in st['baseline_median']])} on ordinary days "
        f"(means {_series([_pct(v) for v in st['event_mean']])} against "
        f"{_series([_pct(v) for v in st['baseline_mean']])})"
    )
    ref = main_stats(event_stats, f"{reference}_own_opens")
    if ref is not None and len(ref) and ref["variant"].iloc[0] == f"{reference}_own_opens":
        text += (
            f"; {reference}, with real opens since {ref['sample_start'].iloc[0]}, had "
            f"{int(ref['n_events'].max())} such days"
        )
    return text + "."


def how_sure(
    verdicts: pd.DataFrame | None,
    q: Mapping[int, tuple[float, float]],
    alpha: float,
    n_tests: int | None = None,
) -> str | None:
    """Second sentence of the answer: the verdict per horizon, the rule's measured size and
    power, and whether the headline survives false-discovery control over the whole ledger."""
    if verdicts is None or len(verdicts) == 0:
        return None
    v = verdicts.sort_values("horizon")
    groups: dict[str, list[str]] = {}
    for r in v.itertuples():
        groups.setdefault(str(r.verdict), []).append(f"T+{int(r.horizon)}")
    said = "; ".join(
        f"{verdict} at {'every horizon' if len(hs) == len(v) > 1 else _series(hs)}"
        for verdict, hs in groups.items()
    )
    text = (
        f"How sure: {said} (the rule's size {_span(list(v['size']))}, its power "
        f"{_span(list(v['power']), digits=0)} at the stated effect)"
    )
    bh = {h: b for h, (b, _) in q.items() if not is_missing(b)}
    if q and not bh:
        text += "; the headline had no test to adjust, so the ledger holds no q-value for it"
    elif bh:
        passed = [f"T+{h}" for h, b in sorted(bh.items()) if b <= alpha]
        over = f"all {n_tests:,} tests in the ledger" if n_tests else "every test in the ledger"
        qs = _span(list(bh.values()), partial(pval, missing=MISSING_IN_PROSE))
        text += (
            f", and {_series(passed) if passed else 'no horizon'} "
            f"survive{'' if len(passed) > 1 else 's'} false-discovery control over {over} "
            f"(q {qs}, bar {alpha:g})"
        )
    return text + "."


def verdict_items(
    verdicts: pd.DataFrame | None,
    q: Mapping[int, tuple[float, float]],
    index: str,
    reference: str,
) -> list[dict[str, object]]:
    """The verdict per horizon as a heading and a few short sentences (the full reason is the
    verdict table's last column)."""
    if verdicts is None or len(verdicts) == 0:
        return []
    out: list[dict[str, object]] = []
    for r in verdicts.sort_values("horizon").to_dict("records"):
        h = int(r["horizon"])
        lines = [VERDICT_REASONS.get(str(r["verdict"]), str(r["reason"]).split(". ")[0]) + "."]
        if not (is_missing(r.get("size")) or is_missing(r.get("power"))):
            lines.append(
                f"The rule's size is {pct(r['size'], 1, False)} and its power "
                f"{pct(r['power'], 0, False)} at an effect of {_pct(r.get('stated_effect'))}."
            )
        lines.append(
            f"{index}: {_pct(r['main_diff_mean'])} against its non-event days, "
            f"{int(r['n_events'])} events, family-adjusted p {_p(r.get('main_p_family'))}."
        )
        if not is_missing(r.get("longest_n_events")):
            lines.append(
                f"{reference}: {_pct(r.get('longest_diff_mean'))}, "
                f"{int(r['longest_n_events'])} events, family-adjusted p "
                f"{_p(r.get('longest_p_family'))}."
            )
        if h in q:
            bh, by = q[h]
            lines.append(f"Over every test in the ledger: q {_p(bh)} (BH), {_p(by)} (BY).")
        out.append({"head": f"T+{h}: {r['verdict']}.", "lines": lines})
    return out


def _parse_utc(text: str) -> pd.Timestamp | None:
    """The generation time as a UTC timestamp (None when it is not a date)."""
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        return None
    if ts is pd.NaT:
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def generated_display(generated_utc: str) -> str:
    """The generation time as 'YYYY-MM-DD HH:MM' (the templates add 'UTC' once)."""
    ts = _parse_utc(generated_utc)
    return generated_utc if ts is None else ts.strftime("%Y-%m-%d %H:%M")


def data_age(as_of: str, generated_utc: str) -> str | None:
    """How many NYSE sessions closed after the last data date and before the report was
    generated (eventlab.data.quality, exchange calendar); None without both dates."""
    ts = _parse_utc(generated_utc)
    try:
        last = dt.date.fromisoformat(as_of)
    except ValueError:
        return None
    if ts is None:
        return None
    # the exchange's own date decides which sessions had closed (00:30 UTC is still yesterday)
    expected = expected_last_session(ts.tz_convert("America/New_York").date(), "NYSE", now=ts)
    behind = sessions_behind(last, expected)
    when = ts.strftime("%Y-%m-%d %H:%M UTC")
    if behind == 0:
        return f"Data through {last}, the last closed NYSE session when this report was generated ({when})."
    return (
        f"Data through {last}: {behind} NYSE session{'s' if behind != 1 else ''} old when this "
        f"report was generated ({when}; the last closed session was {expected})."
    )


def banner_items(changed: Mapping[str, object] | None) -> list[str]:
    """'field = value' for each parameter that differs from the defaults (empty: default run)."""
    return [f"{k} = {v}" for k, v in sorted((changed or {}).items())]
