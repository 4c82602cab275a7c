"""The report's opening (plain answer, verdict per horizon, data age, banner) and its glossary
links, from constructed tables (no Dagster, no rendering)."""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from eventlab.report.answer import banner_items, data_age, how_sure, verdict_items, what_happened
from eventlab.report.glossary import glossary, link_terms


def _stats(seed: int, visible: str | None = "2018-02-23") -> pd.DataFrame:
    """A statistics table with a main and a reference-series variant, random figures."""
    rng = np.random.default_rng(seed)
    rows = []
    for variant, index, n, start in (
        ("main", "GSPC", 7, "2008-03-24"),
        ("SPY_own_opens", "SPY", 40, "1995-03-29"),
    ):
        for h in (1, 5, 20):
            rows.append(
                {
                    "variant": variant,
                    "index": index,
                    "horizon": h,
                    "n_events": n,
                    "event_median": rng.normal(0, 0.03),
                    "baseline_median": rng.normal(0, 0.01),
                    "event_mean": rng.normal(0, 0.03),
                    "baseline_mean": rng.normal(0, 0.01),
                    "sample_start": start,
                    "effective_visibility_from": visible if variant == "main" else None,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(5))
def test_the_first_sentence_quotes_every_horizon_against_ordinary_days(seed: int) -> None:
    st = _stats(seed)
    text = what_happened(st, index="GSPC", reference="SPY", gap_threshold=0.015, close_rule="open")
    assert text is not None and text.endswith(".") and ". " not in text  # one sentence
    main = st[st["variant"] == "main"].set_index("horizon")
    f = {c: [f"{main.loc[h, c]:+.2%}" for h in (1, 5, 20)] for c in main.columns if "_m" in c}
    assert text.startswith(
        "After the 7 days since 2008-03-24 (effectively since 2018-02-23) on which GSPC opened "
        "more than 1.5% above the prior close and closed below its own open"
    )
    med = f["event_median"]
    assert f"median return was {med[0]} at T+1, {med[1]} at T+5 and {med[2]} at T+20" in text
    base = f["baseline_median"]
    assert f"against {base[0]}, {base[1]} and {base[2]} on ordinary days" in text
    means = f"means {', '.join(f['event_mean'][:2])} and {f['event_mean'][2]} against"
    assert means in text and f["baseline_mean"][2] in text
    assert text.endswith("SPY, with real opens since 1995-03-29, had 40 such days.")


def test_no_effective_date_when_the_opens_are_accurate_from_the_start() -> None:
    text = what_happened(
        _stats(0, visible=None),
        index="GSPC",
        reference="SPY",
        gap_threshold=0.01,
        close_rule="prior_close",
    )
    assert text is not None
    assert "since 2008-03-24 on which GSPC opened more than 1% above the prior close and " in text
    assert "closed below the prior close" in text and "effectively" not in text
    assert (
        what_happened(None, index="x", reference="y", gap_threshold=0.01, close_rule="open") is None
    )


def _verdicts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "horizon": [20, 1, 5],
            "verdict": ["too few events to tell", "supported", "too few events to tell"],
            "size": [0.009, 0.008, 0.012],
            "power": [0.52, 0.735, 0.66],
            "stated_effect": [0.0243, 0.0064, 0.0128],
            "n_events": [8, 8, 8],
            "main_diff_mean": [0.037, 0.0212, 0.029],
            "main_p_family": [0.38, 0.0104, 0.307],
            "longest_n_events": [40, 40, np.nan],
            "longest_diff_mean": [0.0355, -0.0049, np.nan],
            "longest_p_family": [0.08, 0.785, np.nan],
            "reason": ["r20", "r1", "r5"],
        }
    )


def test_how_sure_groups_the_verdicts_and_quotes_size_power_and_q() -> None:
    q = {1: (0.03, 0.21), 5: (0.6, 0.9), 20: (0.71, 0.95)}
    text = how_sure(_verdicts(), q, 0.05, 351)
    assert text is not None and text.endswith(".") and ". " not in text
    assert text.startswith("How sure: supported at T+1; too few events to tell at T+5 and T+20")
    # the range of the rule's size and power over the horizons
    assert f"size {0.008:.1%}–{0.012:.1%}, its power {0.52:.0%}–{0.735:.0%}" in text
    assert "T+1 survives false-discovery control over all 351 tests in the ledger" in text
    assert "(q 0.030–0.710, bar 0.05)" in text
    # nothing survives: said so; one verdict everywhere: 'every horizon'
    v = _verdicts().assign(verdict="inconclusive")
    text = how_sure(v, {1: (0.2, 0.3)}, 0.05, None)
    assert text is not None and "inconclusive at every horizon" in text
    assert "no horizon survives false-discovery control over every test in the ledger" in text
    assert how_sure(None, q, 0.05) is None
    # too few events for any test: no q-value, and the sentence says why instead of 'q n/a'
    text = how_sure(_verdicts(), {1: (np.nan, np.nan)}, 0.05, 315)
    assert text is not None and "n/a" not in text and "no q-value" in text


def test_verdict_items_are_short_sentences_per_horizon() -> None:
    items = verdict_items(_verdicts(), {1: (0.03, 0.21)}, "GSPC", "SPY")
    assert [i["head"] for i in items] == [
        "T+1: supported.",
        "T+5: too few events to tell.",
        "T+20: too few events to tell.",
    ]
    t1 = items[0]["lines"]
    assert "The rule's size is 0.8% and its power 74% at an effect of +0.64%." in t1
    assert "GSPC: +2.12% against its non-event days, 8 events, family-adjusted p 0.010." in t1
    assert "SPY: -0.49%, 40 events, family-adjusted p 0.785." in t1
    assert "Over every test in the ledger: q 0.030 (BH), 0.210 (BY)." in t1
    # no longest series at T+5: no sentence about it; no q: none either
    assert not any(line.startswith("SPY") or "ledger" in line for line in items[1]["lines"])
    # no sentence nests parentheses
    for item in items:
        for line in item["lines"]:
            assert "(" not in line.replace("(BH)", "").replace("(BY)", ""), line


def _sessions_between(last: str, upto: str) -> int:
    """NYSE sessions after `last` up to `upto`, straight from exchange_calendars."""
    cal = xcals.get_calendar("XNYS")
    return len(cal.sessions_in_range(pd.Timestamp(last) + pd.Timedelta(days=1), upto))


def test_data_age_counts_sessions_on_the_exchange_calendar() -> None:
    # 00:57 UTC on Monday 2026-12-07 is Sunday evening in New York: Friday was the last session
    text = data_age("2026-08-20", "2026-12-07T00:57:13+00:00")
    n = _sessions_between("2026-08-20", "2026-12-04")
    assert text == (
        f"Data through 2026-08-20: {n} NYSE sessions old when this report was generated "
        "(2026-12-07 00:57 UTC; the last closed session was 2026-12-04)."
    )
    # after Monday's close in New York, Monday counts
    later = data_age("2026-08-20", "2026-12-07T22:00:00Z")
    assert later is not None and f": {n + 1} NYSE sessions old" in later
    # Thanksgiving 2026-11-26 is no session: Wednesday's data are current on Friday morning
    assert "the last closed NYSE session" in str(data_age("2026-11-25", "2026-11-27T12:00:00Z"))
    assert data_age("2026-08-20", "x") is None and data_age("n/a", "2026-12-07T00:00:00") is None
    assert dt.date(2026, 11, 26) not in {
        s.date() for s in xcals.get_calendar("XNYS").sessions_in_range("2026-11-20", "2026-11-30")
    }


def test_banner_names_each_changed_setting() -> None:
    assert banner_items({}) == [] and banner_items(None) == []
    assert banner_items({"study.gap_threshold": 0.015, "cta.lookbacks": [20, 60]}) == [
        "cta.lookbacks = [20, 60]",
        "study.gap_threshold = 0.015",
    ]


def test_glossary_links_the_first_mention_of_each_term() -> None:
    ids = {g["id"] for g in glossary()}
    for term in ("hac", "holm", "circular-shift", "declustered", "bh-by", "deflated-sharpe"):
        assert f"g-{term}" in ids
    assert {"g-spa-stepm", "g-pbo"} <= ids
    html = str(link_terms("HAC p after Holm, HAC again; <b>declustered</b> & BH q"))
    assert html.count('href="#g-hac"') == 1 and 'href="#g-holm"' in html
    assert 'href="#g-declustered"' in html and 'href="#g-bh-by"' in html
    assert "&lt;b&gt;" in html and "&amp;" in html and "<b>" not in html  # escaped first
    assert str(link_terms("no terms here")) == "no terms here"


def test_generated_time_names_its_zone_once() -> None:
    from eventlab.report.answer import generated_display

    # the template adds ' UTC' once; an offset in the stored text must not double it
    assert generated_display("2026-12-07T00:57:13+00:00") == "2026-12-07 00:57"
    assert generated_display("2026-12-07T01:57:13+01:00") == "2026-12-07 00:57"
    assert generated_display("x") == "x"
