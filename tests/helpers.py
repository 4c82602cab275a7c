"""Helpers shared by several test modules (test modules never import each other): the synthetic
report inputs and a rendered fixture report, and the run subprocess with the folder digest."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from eventlab.report.charts_gallery import collect_charts
from eventlab.report.claims import ClaimData, evaluate_claims
from eventlab.report.context import build_context
from eventlab.report.templating import render_html, render_markdown

ROOT = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------ the synthetic report inputs

DATES = pd.bdate_range("2025-11-03", periods=20)


def _prices(base: float, step: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = base + step * np.arange(len(DATES)) + rng.normal(0, base * 0.002, len(DATES))
    df = pd.DataFrame(
        {
            "open": close * 1.001,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 1e9,
        },
        index=DATES,
    )
    df.index.name = "date"
    return df


def synthetic_data() -> ClaimData:
    gspc = _prices(6600, 2.0, 1)
    day = pd.Timestamp("2025-11-20")
    prev = gspc["close"].shift(1)[day]
    gspc.loc[day, ["open", "high", "low", "close"]] = [
        prev * 1.0144,
        prev * 1.0193,
        prev * 0.983,
        prev * (1 - 0.01557),
    ]
    vix = _prices(20, 0.1, 2)
    vix.loc[day, "close"] = 26.42
    events = pd.DataFrame(
        {
            "date": pd.to_datetime(["2020-04-07", "2025-04-08", "2025-07-31", "2025-11-20"]),
            "weekday": ["Tuesday", "Tuesday", "Thursday", "Thursday"],
            "prior_close": [2663.68, 5062.25, 6362.90, 6642.16],
            "open": [2738.65, 5193.57, 6427.02, 6737.93],
            "high": [2756.89, 5267.47, 6427.02, 6770.35],
            "low": [2657.67, 4910.42, 6327.64, 6534.05],
            "close": [2659.41, 4982.77, 6339.39, 6538.76],
            "gap": [0.0281, 0.0259, 0.0101, 0.0144],
            "close_to_close": [-0.0016, -0.0157, -0.0037, -0.0156],
            "open_to_close": [-0.0289, -0.0406, -0.0136, -0.0296],
            "high_runup": [0.035, 0.0405, 0.0101, 0.0193],
            "reversal": [-0.035, -0.054, -0.0136, -0.0342],
            "volume": [7e9, 7.4e9, 6e9, 5.6e9],
            "vix_close": [46.7, 52.33, 16.72, 26.42],
            "dist_sma20": [0.05, -0.1, 0.005, -0.035],
            "dist_sma50": [-0.09, -0.14, 0.035, -0.026],
            "dist_sma200": [-0.12, -0.13, 0.075, 0.061],
            "fwd_1d": [0.034, 0.095, -0.016, 0.0098],
            "fwd_5d": [0.047, 0.083, 0.0001, 0.047],
            "fwd_20d": [0.071, 0.13, 0.026, np.nan],
        }
    )
    stats = pd.DataFrame(
        [
            {
                "variant": v,
                "definition": f"GSPC rule {v}",
                "horizon": h,
                "n_events": 4,
                "n_events_with_horizon": 4 if h < 20 else 3,
                "n_events_too_recent": 0 if h < 20 else 1,
                "event_mean": 0.02 * h**0.5,
                "event_median": 0.018 * h**0.5,
                "event_hit_rate": 0.75,
                "baseline_mean": 0.0004 * h,
                "baseline_median": 0.0006 * h,
                "baseline_hit_rate": 0.55,
                "diff_mean": 0.02,
                "welch_t": 1.5,
                "welch_p": 0.2,
                "mw_p": 0.05,
                "hac_t": 1.9,
                "hac_p": 0.06,
                "p_holm": 0.12,
                "boot_ci_low": -0.001,
                "boot_ci_high": 0.04,
                "placebo_p": 0.03,
                "sample_start": "2008-03-24",
                "sample_end": "2025-11-28",
                "requested_start": "1957-01-01",
                "first_usable_open": "2008-03-24",
                "continuously_usable_since": "2015-02-12",
                "share_usable": 0.23,
            }
            for v in ("main", "threshold_2.0%")
            for h in (1, 5, 20)
        ]
    )
    fomc = pd.DataFrame(
        {
            "Date": ["2025-11-20", "2025-11-21"],
            "zq_info_asof_approx": ["2025-11-19", "2025-11-20"],
            "meeting_date": ["2025-12-10", "2025-12-10"],
            "p_cut50": [0.0, 0.0],
            "p_cut25": [0.282, 0.372],
            "p_hold": [0.718, 0.628],
        }
    )
    return ClaimData(
        events=events,
        event_stats=stats,
        prices={"GSPC": gspc, "VIX": vix},
        reference={"fomc_prob_next_meeting": fomc},
    )


CLAIMS = """id,topic,kind,claim,quote_zh,quoted_value,unit,comparator,tolerance,source_doc,source_section,method,params,note
T01,count,data,Four events,四次,4,count,eq,0,002,1.1.1,event_count,{},
T02,count,data,Eight events,八次,8,count,eq,0,002,1.1.1,event_count,{},
T03,day,data,Closed down 1.6%,收跌 1.6%,-0.016,fraction,approx,0.0005,002,1.1.1,day_stat,"{""series"": ""GSPC"", ""date"": ""2025-11-20"", ""stat"": ""close_to_close""}",
T04,day,data,VIX at 26.05,VIX 26.05,26.05,vix_points,approx,0.05,002,1.1.3,day_stat,"{""series"": ""VIX"", ""date"": ""2025-11-20"", ""stat"": ""close""}",
T05,day,data,Dow fell 400 points,道指,-400,index_points,approx,50,000,intro,day_stat,"{""series"": ""DJI"", ""date"": ""2025-11-20"", ""stat"": ""close_change_points""}",No DJI series.
T06,date,data,Event on 11.21,11.21,2025-11-21,date,is_event,0,002,title,is_event,{},
T07,date,data,Previous two,上两次,2020-04-07;2025-04-08,dates,set_eq,0,002,1.1.1,prior_events,"{""before"": ""2025-11-20"", ""n"": 2}",
T08,rates,data,Cut prob 35%,35%,0.35,probability,approx,0.025,004,2.3.1,fomc_prob,"{""info_date"": ""2025-11-20"", ""meeting"": ""2025-12-10""}",
T09,rates,data,Cut prob Tuesday 30%,30%,0.30,probability,approx,0.025,001,2,fomc_prob,"{""info_date"": ""2025-11-18"", ""meeting"": ""2025-12-10""}",
T10,cta,model,6725 trigger,6725,6725,index_points,approx,50,003,2.2,cta,"{""keys"": [""short_term_level""]}",
T11,span,data,Since 1957,自 1957 年以来,1957-01-01,date,date_le,0,002,1.1.1,coverage_start,{},
T12,macro,data,ETF share 41%,41%,0.41,fraction,approx,0.01,002,1.1.2,no_data,"{""needs"": ""ETF volume share""}",
"""


def fixture_claims() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(CLAIMS), dtype=str, keep_default_na=False)


def fixture_chart(folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (folder / "charts").mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 2.5), dpi=80)
    ax.plot(DATES, np.linspace(1, 2, len(DATES)))
    ax.set_title("synthetic")
    fig.savefig(folder / "charts" / "forward_paths.png")
    plt.close(fig)
    meta = {
        "title": "Forward paths",
        "caption": "synthetic test chart",
        "data_span": "2025-11-03..2025-11-28",
        "sources": ["synthetic"],
        "kind": "measured",
        "offline_note": None,
    }
    (folder / "charts" / "forward_paths.json").write_text(json.dumps(meta))


def render_fixture_report(
    folder: Path, with_chart: bool = True, changed: dict[str, object] | None = None
) -> Path:
    """Render report.html/report.md from the synthetic frames into `folder` (with the CSVs it
    links); `changed`: the non-default parameters a banner names. Returns the HTML path."""
    data = synthetic_data()
    folder.mkdir(parents=True, exist_ok=True)
    data.events.to_csv(folder / "events.csv", index=False)
    data.event_stats.to_csv(folder / "event_stats.csv", index=False)
    if with_chart:
        fixture_chart(folder)
    eras = pd.DataFrame(
        {
            "era_start": pd.to_datetime(["1927-12-30", "2008-03-24"]).date,
            "era_end": pd.to_datetime(["2008-03-21", "2025-11-28"]).date,
            "open_quality": ["close_only", "genuine"],
            "trading_days": [20000, 4000],
            "share_genuine_open": [0.0, 0.97],
            "share_open_eq_prev_close": [0.0, 0.01],
            "share_usable_for_study": [0.0, 0.95],
        }
    )
    claims = evaluate_claims(data, fixture_claims())
    claims.to_csv(folder / "claims_vs_data.csv", index=False)
    cta = {
        "cta_levels_latest": pd.DataFrame(
            {"horizon": ["short", "medium"], "level": [6725.0, 6456.0], "distance": [0.02, -0.02]}
        )
    }
    ctx = build_context(
        as_of="2025-11-28",
        generated_utc="2025-11-29T00:00:00",
        events=data.events,
        event_stats=data.event_stats,
        eras=eras,
        claims=claims,
        cta_tables=cta,
        charts=collect_charts(folder),
        changed=changed,
        gap_threshold=float(cast(float, (changed or {}).get("study.gap_threshold", 0.01))),
        files=sorted(p.name for p in folder.glob("*.csv")),
    )
    html = folder / "report.html"
    html.write_text(render_html(ctx), encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(ctx), encoding="utf-8")
    return html


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG file, after checking it is one (signature and IHDR chunk)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# ------------------------------------------------------------------ runs in a subprocess


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def start_run(reports: Path, warehouse: Path, *extra: str, env: dict | None = None):
    return subprocess.Popen(
        [sys.executable, "-m", "commands.run", "--reports", str(reports)]
        + ["--warehouse", str(warehouse), "--log-level", "ERROR", *extra],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a failing test can still kill everything it started
    )
