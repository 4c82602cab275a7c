"""Universe benchmark (part of `make bench`): the scaling curve of `make universe`.

Run: .venv/bin/python scripts/bench_universe.py [--sizes 50,100,250,504] [--repeat 1]
For each size N, `python -m commands.run_universe --first N` runs in a fresh process (warm:
one unmeasured run first; the shipped data is in the page cache), into a temp warehouse and
report folder. Printed per N: wall time end to end (process start to exit), per-ticker cost,
peak memory (the parent process and the largest worker process, from getrusage), and where the
time goes: Python + Dagster imports and set-up, the ticker step (reading, studying, writing the
per-ticker files), the cross-section and report steps, and Dagster's own overhead (wall time
outside the steps' own timed work). Asserts nothing; targets (issue 13): N=504 < 60 s warm on
2 cores, peak memory < 2 GB, cost per ticker not growing with N.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(n: int, workdir: Path) -> dict:
    out = workdir / f"timings_{n}.json"
    cmd = [
        sys.executable, "-m", "commands.run_universe", "--first", str(n),
        "--warehouse", str(workdir / "wh"), "--reports", str(workdir / "reports"),
        "--log-level", "ERROR", "--timings-json", str(out),
    ]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    timings = json.loads(out.read_text())
    timings["wall_s"] = wall
    timings["import_setup_s"] = wall - timings["run_s"]
    inside = sum(timings["steps_s"].values())
    timings["dagster_other_s"] = timings["run_s"] - inside
    return timings


def bench_battery(warehouse: Path, draws: int = 500) -> dict[str, float]:
    """In this process, on the N=504 run's stored day tables: the panel's build, the event-study
    battery (every model and test) and a placebo size run of `draws` draws (issue 22 targets:
    battery <= 20 s, placebo <= 60 s on a quiet 2-core machine)."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from eventlab.config import CONFIG
    from eventlab.data.snapshot import read_aux, read_series
    from eventlab.universe.abnormal import Design
    from eventlab.universe.battery import run_battery
    from eventlab.universe.members import load_universe
    from eventlab.universe.membership import read_intervals
    from eventlab.universe.panel import build_panel
    from eventlab.universe.placebo import placebo_size
    from eventlab.universe.ticker_files import DAYS, TickerStore
    from pipelines.stages.universe import point_in_time, read_ok

    u = CONFIG.universe
    universe = load_universe(u)
    marks = [(time.perf_counter(), time.process_time())]
    _, (days,) = read_ok(TickerStore(warehouse / "universe"), universe.tickers, (DAYS,))
    days, _ = point_in_time(days, days.iloc[:0], read_intervals(u))
    panel = build_panel(days, universe.sector_of(), read_series("SPY"), read_aux("ff3_daily"))
    marks.append((time.perf_counter(), time.process_time()))
    run_battery(panel, Design(), u.normal_models)
    marks.append((time.perf_counter(), time.process_time()))
    placebo_size(panel, Design(), u.normal_models, draws, u.placebo_dates, np.random.default_rng(0))
    marks.append((time.perf_counter(), time.process_time()))
    out: dict[str, float] = {"events": int(panel.event.sum())}
    for name, (a, b) in zip(
        ("panel", "battery", "placebo"), zip(marks[:-1], marks[1:], strict=True), strict=True
    ):
        out[f"{name}_s"], out[f"{name}_cpu_s"] = b[0] - a[0], b[1] - a[1]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="50,100,250,504")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="eventlab-ubench-") as tmp:
        work = Path(tmp)
        run_once(sizes[0], work)  # warm-up: page cache, .pyc files, fork server code
        rows = []
        for n in sizes:
            runs = [run_once(n, work) for _ in range(args.repeat)]
            rows.append(min(runs, key=lambda r: r["wall_s"]))
        battery = bench_battery(work / "wh") if max(sizes) >= 504 else None
    print("CPU seconds (load-independent; the machine is shared, so wall times vary with load):")
    for r in rows:
        t = r["ticker_step"]
        worker = t.get("worker_cpu_s", 0.0)
        print(
            f"  N={r['n']:>3}: parent process {r['parent_cpu_s']:.1f} s CPU, ticker workers "
            f"{worker:.1f} s CPU ({1000 * worker / r['n']:.0f} ms per ticker); on 2 idle cores "
            f"~{r['parent_cpu_s'] + worker / 2:.0f} s wall (parent serial + workers in parallel)"
        )
    head = (
        f"{'N':>5} {'wall s':>7} {'ms/ticker':>9} {'peak parent MB':>14} {'peak worker MB':>14} "
        f"{'import+setup s':>14} {'ticker step s':>13} {'  read':>6} {' study':>6} {' write':>6} "
        f"{'cross+report s':>14} {'dagster other s':>15}"
    )
    print("Universe job scaling (make universe --first N; fresh process each; warm):")
    print(head)
    for r in rows:
        t = r["ticker_step"]
        print(
            f"{r['n']:>5} {r['wall_s']:>7.1f} {1000 * r['wall_s'] / r['n']:>9.1f} "
            f"{r['peak_rss_parent_mb']:>14.0f} {r['peak_rss_worker_mb']:>14.0f} "
            f"{r['import_setup_s']:>14.1f} {r['steps_s'].get('universe_ticker_study', 0):>13.1f} "
            f"{t.get('read_s', 0):>6.1f} {t.get('study_s', 0):>6.1f} {t.get('write_s', 0):>6.1f} "
            f"{r['steps_s'].get('universe_cross_section', 0) + r['steps_s'].get('universe__report', 0):>14.1f} "
            f"{r['dagster_other_s']:>15.1f}"
        )
    print(
        "read/study/write: wall seconds summed over the worker processes (2 in parallel; write = "
        "each ticker's four Parquet files, stored by the worker that computed them). "
        "import+setup = Python start and the code location import. 'dagster other' = run time "
        "outside the steps (run creation and planned events, step orchestration, events)."
    )
    if battery:
        cross = rows[-1]["steps_s"].get("universe_cross_section", float("nan"))
        print(
            f"Event-study battery on the member panel ({battery['events']:,} events, 3 models, "
            f"every test), wall s (CPU s): panel build {battery['panel_s']:.1f} "
            f"({battery['panel_cpu_s']:.1f}), battery {battery['battery_s']:.1f} "
            f"({battery['battery_cpu_s']:.1f}; target <= 20 s quiet), placebo 500 draws "
            f"{battery['placebo_s']:.1f} ({battery['placebo_cpu_s']:.1f}; target <= 60 s quiet); "
            f"beside today's pooled cross-section step {cross:.1f} s wall in the same run. On a "
            "shared machine the CPU seconds are the load-independent figure (one thread each)."
        )


if __name__ == "__main__":
    main()
