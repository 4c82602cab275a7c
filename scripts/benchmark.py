"""Benchmark: wall time and peak memory of the main job and of the core computations.

Run: make bench   (or .venv/bin/python scripts/benchmark.py [--repeat 5] [--skip-job])
      .venv/bin/python scripts/benchmark.py --against ../other-checkout --skip-core
      (the main job here and in another checkout, alternating runs in one session: medians side
      by side, with the charts step's share of the job and the ratio of the two)
Prints numbers; asserts nothing. Targets (issue 2): core < 0.5 s and > 100x faster than a
row-by-row loop; main job warm < 10 s on 2 cores; peak memory < 1 GB. Issue 20: parse and
evaluate one condition over the full ^GSPC history in <= 5 ms (beside a pandas row loop).
Issue 21: the verdict rule's size and power on >= 1,000 placebo event sets <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of `repeat` calls (after one warm-up call) and the last result."""
    out = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def loop_core(
    o: list[float],
    c: list[float],
    threshold: float,
    horizons: tuple[int, ...],
    window: int,
    min_cov: float,
    reps: int,
    seed: int,
):
    """The same main-variant computation written as a straightforward row-by-row loop:
    flags, detection, forward returns, descriptive stats, Welch t, Mann-Whitney U, Newey-West
    HAC, a day-by-day block bootstrap and a placebo draw."""
    rnd = random.Random(seed)
    n = len(c)
    genuine = [False] * n
    for i in range(1, n):
        genuine[i] = abs(o[i] / c[i] - 1) > 1e-6 and abs(o[i] / c[i - 1] - 1) > 1e-6
    usable = [False] * n
    for i in range(window - 1, n):
        count = 0
        for j in range(i - window + 1, i + 1):
            count += genuine[j]
        usable[i] = genuine[i] and count / window >= min_cov
    events = [
        i for i in range(1, n) if usable[i] and o[i] / c[i - 1] - 1 > threshold and c[i] < c[i - 1]
    ]
    event_set = set(events)
    out = {}
    for k in horizons:
        ys, ds = [], []
        for i in range(1, n - k):
            if usable[i]:
                ys.append(c[i + k] / c[i] - 1)
                ds.append(1.0 if i in event_set else 0.0)
        ev = [y for y, d in zip(ys, ds, strict=True) if d]
        base = [y for y, d in zip(ys, ds, strict=True) if not d]
        m_e, m_b = sum(ev) / len(ev), sum(base) / len(base)
        v_e = sum((x - m_e) ** 2 for x in ev) / (len(ev) - 1)
        v_b = sum((x - m_b) ** 2 for x in base) / (len(base) - 1)
        welch = (m_e - m_b) / math.sqrt(v_e / len(ev) + v_b / len(base))
        u = 0.0
        for x in ev:
            for z in base:
                u += 1.0 if x > z else 0.5 if x == z else 0.0
        # OLS on [1, d] and Newey-West with maxlags = k
        nn = len(ys)
        resid = [y - (m_e if d else m_b) for y, d in zip(ys, ds, strict=True)]
        # Newey-West meat S = sum_l w_l * sum_t (g_t g_{t-l}' + g_{t-l} g_t'), g_t = x_t * u_t,
        # x_t = (1, d_t); the lag-0 term is counted once.
        s00 = s01 = s11 = 0.0
        for lag in range(0, k + 1):
            w = 1.0 if lag == 0 else 1 - lag / (k + 1)
            mult = 1.0 if lag == 0 else 2.0
            for t in range(lag, nn):
                a0, a1 = resid[t], resid[t] * ds[t]
                b0, b1 = resid[t - lag], resid[t - lag] * ds[t - lag]
                s00 += w * mult * a0 * b0
                s01 += w * (a0 * b1 if lag == 0 else a0 * b1 + b0 * a1)
                s11 += w * mult * a1 * b1
        ne = len(ev)
        # (X'X)^-1 for X = [1, d]: [[ne, -ne], [-ne, nn]] / (nn * ne - ne^2)
        det = nn * ne - ne * ne
        i01, i11 = -ne / det, nn / det
        var1 = i01 * (s00 * i01 + s01 * i11) + i11 * (s01 * i01 + s11 * i11)
        hac_t = (m_e - m_b) / math.sqrt(var1 * nn / (nn - 2))
        block = max(k, 5)
        diffs = []
        for _ in range(reps):
            em = sum(ev[rnd.randrange(ne)] for _ in range(ne)) / ne
            total, count = 0.0, 0
            while count < len(base):
                start = rnd.randrange(len(base) - block + 1)
                for j in range(start, start + block):
                    total += base[j]
                    count += 1
            diffs.append(em - total / count)
        diffs.sort()
        ci = (diffs[int(0.025 * reps)], diffs[int(0.975 * reps)])
        center = sum(ys) / nn
        extreme = 0
        for _ in range(reps):
            pm = sum(ys[rnd.randrange(nn)] for _ in range(ne)) / ne
            extreme += abs(pm - center) >= abs(m_e - center)
        out[k] = (ne, m_e, sorted(ev)[ne // 2], welch, u, hac_t, ci, (1 + extreme) / (1 + reps))
    return events, out


def core_benchmarks(repeat: int, with_loops: bool = True) -> dict[str, float]:
    from eventlab.config import CONFIG
    from eventlab.data.snapshot import read_series
    from eventlab.study.whole_study import run_study, run_variant, variant_stats

    prices = {k: read_series(k) for k in CONFIG.daily_keys}
    params = CONFIG.study
    px = prices[params.index]
    res: dict[str, float] = {"days_in_index_history": len(px)}

    def main_core():
        v = run_variant(prices, params, "main")
        return v, variant_stats(v, np.random.default_rng(params.seed))

    res["core_main_s"], (v, stats) = timed(main_core, repeat)
    res["core_all_variants_s"], _ = timed(lambda: run_study(prices, params), repeat)

    def whole_study():
        # What the event_study step computes: every variant (bootstrap, placebo, every circular
        # shift), the regime baselines and leave-one-out of both series, the verdict rule's size
        # and power on placebo event sets, and the verdicts.
        from eventlab.study.evidence import weigh_evidence
        from eventlab.study.whole_study import longest_variant

        result = run_study(prices, params)
        longest = longest_variant(result.variants, params)
        return weigh_evidence(result.main, result.stats, prices, longest)

    res["study_with_evidence_s"], _ = timed(whole_study, repeat)
    res.update(verdict_rule_benchmarks(prices, params, repeat))
    o, c = px["open"].tolist(), px["close"].tolist()
    t0 = time.perf_counter()
    loop_events, loop_stats = loop_core(
        o, c, params.gap_threshold, params.horizons, params.genuine_coverage_window,
        params.genuine_coverage_min, params.bootstrap_reps, params.seed,
    )  # fmt: skip
    res["loop_main_s"] = time.perf_counter() - t0
    # The loop must compute the same numbers, not just take the same time.
    assert [px.index[i] for i in loop_events] == list(v.events["date"]), (
        "loop and vectorized events disagree"
    )
    for k, (ne, mean, _, welch, u, hac_t, _, _) in loop_stats.items():
        row = stats[stats["horizon"] == k].iloc[0]
        assert ne == row["n_events_with_horizon"] and abs(mean - row["event_mean"]) < 1e-12
        assert abs(welch - row["welch_t"]) < 1e-8 and abs(u - row["mw_u"]) < 1e-6
        assert abs(hac_t - row["hac_t"]) < 1e-6 * max(1, abs(hac_t)), (hac_t, row["hac_t"])
    res["speedup_loop_over_vectorized_main"] = res["loop_main_s"] / res["core_main_s"]
    from eventlab.cta.replay import full_history, full_history_loop

    res["cta_full_history_replay_s"], _ = timed(lambda: full_history(px, CONFIG.cta), repeat)
    if with_loops:
        t0 = time.perf_counter()
        full_history_loop(px, CONFIG.cta)
        res["cta_loop_s"] = time.perf_counter() - t0
        res["cta_speedup"] = res["cta_loop_s"] / res["cta_full_history_replay_s"]
    res.update(validation_benchmarks(px, repeat))
    res.update(condition_benchmarks(px, repeat))
    res["core_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return res


SEED_CONDITION = "gap > 1% and close < close[-1]"
CONDITION_EXAMPLES = (
    SEED_CONDITION,
    "VIX.ret(1) > 20%",
    "down_streak >= 3 and close <= lowest(50)",
    "gap < -1% and close > open",
    "first_in(close < sma(200), 126)",
    "NDX.ret(5) > 0 and RUT.ret(5) < 0",
)


def condition_loop(px) -> list[bool]:
    """The seed condition as a plain pandas row loop (itertuples), for the side-by-side row."""
    out, prev_close = [], math.nan
    for row in px.itertuples():
        out.append(row.open / prev_close - 1 > 0.01 and row.close < prev_close)
        prev_close = row.close
    return out


def condition_benchmarks(px, repeat: int) -> dict[str, float]:
    """Issue 20's target (<= 5 ms): parse and evaluate one condition over the full ^GSPC history,
    beside a plain pandas row loop of the same condition (which must give the same days)."""
    from eventlab.data.snapshot import read_series
    from eventlab.studies.expression import parse_condition
    from eventlab.studies.grammar import parser

    t0 = time.perf_counter()
    parser()  # built once per process, on first use
    out: dict[str, float] = {"condition_grammar_build_once_s": time.perf_counter() - t0}

    def parse_and_evaluate():
        cond = parse_condition(SEED_CONDITION, series="GSPC", known_series=("GSPC",))
        return cond.evaluate({"GSPC": px})

    out["condition_parse_evaluate_full_gspc_s"], mask = timed(parse_and_evaluate, max(repeat, 20))
    t0 = time.perf_counter()
    loop = condition_loop(px)
    out["condition_pandas_row_loop_s"] = time.perf_counter() - t0
    assert mask.tolist() == loop, "condition and row loop disagree"
    out["condition_speedup_over_row_loop"] = (
        out["condition_pandas_row_loop_s"] / out["condition_parse_evaluate_full_gspc_s"]
    )
    frames = {k: read_series(k) for k in ("GSPC", "VIX", "NDX", "RUT")}
    slowest = max(
        timed(
            lambda t=text: parse_condition(t, series="GSPC", known_series=frames).evaluate(frames),
            repeat,
        )[0]
        for text in CONDITION_EXAMPLES
    )
    out["condition_slowest_issue_example_s"] = slowest
    return out


def library_benchmarks(repeat: int) -> dict[str, object]:
    """Issue 20's targets: one study with the whole battery <= 0.5 s (the seed spec, beside
    today's seed path run_study + weigh_evidence measured in the same run: the ratio is the
    spec machinery's overhead) and the whole library on 1 and 2 processes (<= 20 s), with the
    slowest specs (the hot spots) and the seconds each step of the seed study takes."""
    from eventlab.config import CONFIG
    from eventlab.data.snapshot import read_series
    from eventlab.settings.library import LibraryParams
    from eventlab.studies.battery import run_spec
    from eventlab.studies.library import run_library
    from eventlab.studies.spec import load_library
    from eventlab.study.evidence import weigh_evidence
    from eventlab.study.whole_study import longest_variant, run_study

    prices = {k: read_series(k) for k in CONFIG.daily_keys}
    t0 = time.perf_counter()
    specs = load_library(Path(LibraryParams().folder), CONFIG.daily_keys)
    out: dict[str, object] = {"library_specs": len(specs)}
    out["library_load_and_parse_s"] = time.perf_counter() - t0
    seed = next(s for s in specs if s.name == "gap_up_close_red")

    def today():
        r = run_study(prices, CONFIG.study)
        return weigh_evidence(r.main, r.stats, prices, longest_variant(r.variants, CONFIG.study))

    out["seed_study_today_s"], _ = timed(today, repeat)
    out["seed_spec_whole_battery_s"], _ = timed(lambda: run_spec(seed, prices), repeat)
    t0 = time.process_time()
    run_spec(seed, prices)
    out["seed_spec_whole_battery_cpu_s"] = time.process_time() - t0
    out["seed_spec_over_today_ratio"] = float(out["seed_spec_whole_battery_s"]) / float(
        out["seed_study_today_s"]
    )
    t0 = time.perf_counter()
    r = run_study(prices, CONFIG.study)
    t1 = time.perf_counter()
    weigh_evidence(r.main, r.stats, prices, longest_variant(r.variants, CONFIG.study))
    out["seed_steps_s"] = {
        "variants_and_stats": round(t1 - t0, 3),
        "evidence": round(time.perf_counter() - t1, 3),
    }
    # CPU seconds per spec: robust to other processes sharing the cores (wall time is not)
    each, t_wall = {}, time.perf_counter()
    for spec in specs:
        t0 = time.process_time()
        run_spec(spec, prices)
        each[spec.name] = time.process_time() - t0
    out["library_1_process_wall_s"] = time.perf_counter() - t_wall
    out["library_1_process_cpu_s"] = sum(each.values())
    out["library_slowest_specs_cpu_s"] = {
        k: round(v, 2) for k, v in sorted(each.items(), key=lambda kv: -kv[1])[:8]
    }
    t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    run_library(specs, prices, workers=2)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["library_2_processes_wall_s"] = time.perf_counter() - t0
    out["library_2_processes_cpu_s"] = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
    return out


def verdict_rule_benchmarks(prices, params, repeat: int) -> dict[str, float]:
    """Issue 21's target (<= 30 s on 2 cores): the verdict rule's size and power on at least
    1,000 placebo event sets, vectorised; beside it, one placebo set computed the direct way
    (circular_shift_p per series and horizon, without and with the stated effect), scaled to the
    same number of sets."""
    from eventlab.study.rule_error_rates import line_samples, operating_characteristics
    from eventlab.study.small_sample import circular_shift_p
    from eventlab.study.whole_study import longest_variant, run_study

    result = run_study(prices, params)
    lines = [result.main, longest_variant(result.variants, params)]
    res: dict[str, float] = {}
    res["verdict_size_power_s"], ops = timed(
        lambda: operating_characteristics(lines, prices, params), repeat
    )
    sets = int(ops["placebo_sets"].iloc[0])
    res["verdict_placebo_sets"] = sets
    samples = [s for v in lines for s in line_samples(v, prices)]

    def one_set_direct():
        for s in samples:
            moved = np.roll(s.d, 1)
            delta = s.effect(params.verdict_effect_sd)
            circular_shift_p(s.y, moved)
            circular_shift_p(s.y + delta * moved, moved)

    one, _ = timed(one_set_direct, repeat)
    res["verdict_direct_estimate_s"] = one * sets
    res["verdict_speedup_over_direct"] = (
        res["verdict_direct_estimate_s"] / res["verdict_size_power_s"]
    )
    return res


def validation_benchmarks(px, repeat: int) -> dict[str, float]:
    """Issue 11's targets (< 0.2 s each): the implied exposure for every window, index and model
    on the full history; the calibration; the validation table; each backtest."""
    import pandas as pd

    from eventlab.backtest import strategies
    from eventlab.config import CONFIG
    from eventlab.cta import exposure, validation
    from eventlab.cta.reference import level_series
    from eventlab.cta.signals import model_arrays
    from eventlab.data.snapshot import read_aux, read_series
    from eventlab.study.whole_study import run_variant

    vp, bp = CONFIG.validation, CONFIG.backtest
    close = px["close"]
    refs = {n: level_series(read_aux(n), n) for n in ("sg_trend_index", "sg_cta_index",
                                                       "btop50_monthly", "tsmom_monthly")}  # fmt: skip
    bond = exposure.bond_returns(read_aux("dgs10"), vp.bond_duration)
    cash = validation.cash_returns(close.index, read_aux("fed_funds_effective"))
    daily = {n: refs[n] for n in vp.daily_indices}
    res: dict[str, float] = {}
    res["implied_exposure_all_windows_s"], table = timed(
        lambda: exposure.exposure_table(close, daily, vp, bond), repeat
    )
    implied = exposure.exposure_series(table, "sg_trend_index", vp.main_window)
    res["calibration_grid_s"], (_, chosen) = timed(
        lambda: validation.calibrate(close, implied, CONFIG.cta, vp), repeat
    )
    pos = pd.Series(model_arrays(close.to_numpy(), CONFIG.cta, percentile=False)["position"],
                    index=close.index)  # fmt: skip
    cal = pd.Series(validation.smoothed_position(close.to_numpy(), chosen["params"],
                                                 chosen["smoothing"]), index=close.index)  # fmt: skip
    positions = {"replica": pos, "replica_calibrated": cal}
    res["validation_table_s"], _ = timed(
        lambda: validation.validation_table(positions, close, implied, refs, cash, vp), repeat
    )
    res["backtest_replica_s"], _ = timed(
        lambda: strategies.replica_backtest(close, positions, cash, bp.cost_bp, bp.start,
                                            refs["sg_trend_index"]), repeat)  # fmt: skip
    v = run_variant({k: read_series(k) for k in (CONFIG.study.index, CONFIG.study.vix)},
                    CONFIG.study, "main")  # fmt: skip
    res["backtest_events_all_s"], (_, _, event_daily) = timed(
        lambda: strategies.event_backtest(
            px, pd.DatetimeIndex(v.events["date"]), v.in_sample, CONFIG.study.horizons,
            bp.entries, cash, bp.cost_bp, bp.random_draws, bp.seed,
            vix=read_series(CONFIG.study.vix)["close"],
            min_trades=CONFIG.study.min_events_for_inference), repeat)  # fmt: skip
    res.update(search_benchmarks(close, implied, cash, event_daily, repeat))
    return res


def _pbo_loop(held, implied, blocks: int, n_splits: int) -> tuple[float, list[float]]:
    """The first `n_splits` CSCV splits written plainly (rows concatenated, np.corrcoef per
    trial, argmax, rank): (seconds per split, logits) to check and time the vectorized PBO."""
    import itertools

    from scipy import stats

    x, y = held.to_numpy(), implied.to_numpy()
    parts = np.array_split(np.arange(len(y)), blocks)
    logits = []
    t0 = time.perf_counter()
    for combo in itertools.islice(itertools.combinations(range(blocks), blocks // 2), n_splits):
        ins = np.concatenate([parts[i] for i in combo])
        oos = np.setdiff1d(np.arange(len(y)), ins)
        f_in = [np.corrcoef(x[ins, j], y[ins])[0, 1] for j in range(x.shape[1])]
        f_out = [np.corrcoef(x[oos, j], y[oos])[0, 1] for j in range(x.shape[1])]
        w = stats.rankdata(f_out)[int(np.argmax(f_in))] / (x.shape[1] + 1)
        logits.append(float(np.log(w / (1 - w))))
    return (time.perf_counter() - t0) / n_splits, logits


def search_benchmarks(close, implied, cash, event_daily, repeat: int) -> dict[str, float]:
    """Issue 21 item 8's rows for the backtest search statistics: PBO (CSCV, 16 blocks) of the
    calibration grid against a plain loop over the same splits (timed on the first 200 of
    12,870 and scaled; the logits must agree), and SPA / StepM (arch) on both strategy families."""
    import pandas as pd

    from eventlab.backtest import cscv, search, strategies
    from eventlab.backtest import total_return as tr
    from eventlab.config import CONFIG
    from eventlab.data.snapshot import read_aux, read_series

    vp, bp = CONFIG.validation, CONFIG.backtest
    res: dict[str, float] = {}
    daily, _ = tr.spliced_total_return(read_aux("ff3_daily"), read_series("SPY")["close"])
    total = tr.on_calendar(daily, close.index)
    res["grid_positions_and_strategies_s"], (pos, grid_daily) = timed(
        lambda: (p := search.grid_positions(close, CONFIG.cta, vp),
                 search.grid_strategies(p, total, cash, bp.cost_bp, bp.start)), repeat)  # fmt: skip
    res["pbo_calibration_grid_s"], _ = timed(
        lambda: search.calibration_pbo(pos, implied, bp.pbo_blocks), repeat
    )
    held = pos.shift(1).reindex(implied.index)
    ok = implied.notna() & held.notna().all(axis=1)
    fast = cscv.pbo(cscv.correlation_sums(held[ok].to_numpy(), implied[ok].to_numpy(), bp.pbo_blocks),
                    cscv.correlation_from_sums)  # fmt: skip
    per_split, logits = _pbo_loop(held[ok], implied[ok], bp.pbo_blocks, 200)
    assert np.allclose(fast.logits[:200], logits), "loop and vectorized PBO disagree"
    res["pbo_loop_estimate_s"] = per_split * fast.n_splits
    res["pbo_speedup_over_loop"] = res["pbo_loop_estimate_s"] / res["pbo_calibration_grid_s"]
    excess = search.excess_returns(grid_daily, cash)
    res["pbo_grid_as_strategies_s"], _ = timed(
        lambda: search.sharpe_pbo("grid", excess, bp.pbo_blocks), repeat
    )
    rows, rep_daily = strategies.replica_backtest(
        close, {"replica": pos.iloc[:, 0]}, cash, bp.cost_bp, bp.start, total_return=total
    )
    models = pd.concat([rep_daily[["replica"]], grid_daily], axis=1)
    bh = rep_daily[strategies.BUY_AND_HOLD]
    reps = min(repeat, 2)  # each call is a full bootstrap
    res["spa_stepm_replica_grid_monthly_s"], _ = timed(
        lambda: search.superiority_tests("grid", search.monthly(models),
                                         search.monthly(bh.to_frame())[bh.name], bp.bootstrap_reps,
                                         bp.seed, 1), reps)  # fmt: skip
    configs = event_daily[[c for c in event_daily.columns if c.startswith("event_")]]
    res["spa_stepm_backtests_daily_s"], _ = timed(
        lambda: search.superiority_tests("configs", configs, bh, bp.bootstrap_reps, bp.seed, 1),
        reps,
    )
    return res


def ledger_benchmarks(repeat: int) -> dict[str, float]:
    """Issue 21's targets: the specification curve with its joint test (<= 10 s), against one
    full study of one specification (the same run) times the number of specifications; a ledger
    append of one run's hypotheses (<= 10 ms) into a ledger holding 100 runs' history, against
    an atomic Parquet write of the same rows (eventlab.data.store) in the same run."""
    import pandas as pd

    from eventlab.config import CONFIG
    from eventlab.data.snapshot import read_series
    from eventlab.data.store import write_parquet_atomic
    from eventlab.ledger import rows, store
    from eventlab.study.spec_curve import joint_test, specification_curve
    from eventlab.study.whole_study import run_variant, variant_stats

    params = CONFIG.study
    prices = {k: read_series(k) for k in (params.index, params.robustness_index, params.vix)}
    # fsync latency (two per append: the commit and the checkpoint) follows the machine's load
    res: dict[str, float] = {"ledger_bench_load_avg_1min": os.getloadavg()[0]}

    def curve():
        table, arrays = specification_curve(prices, params)
        return table, joint_test(table, arrays, params.verdict_alpha)

    res["spec_curve_with_joint_test_s"], (table, joint) = timed(curve, repeat)
    res["spec_curve_specifications"] = len(table)
    res["one_full_study_one_spec_s"], _ = timed(
        lambda: variant_stats(run_variant(prices, params, "main"), np.random.default_rng(1)),
        repeat,
    )
    res["spec_curve_speedup_over_full_studies"] = (
        res["one_full_study_one_spec_s"] * len(table) / res["spec_curve_with_joint_test_s"]
    )
    fields = pd.concat([rows.spec_rows(table), rows.joint_rows(joint, "GSPC,SPY")])
    # one run's hypotheses: the curve plus about as many other rows as the main job appends
    fields = pd.concat([fields, fields.head(140).assign(family="other")], ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger" / "hypotheses.sqlite"
        for day in range(100):  # history: 100 earlier runs on other as-of dates
            store.append(
                path, rows.finalize(fields, f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}")
            )
        batches = iter(rows.finalize(fields, f"2027-01-{1 + i:02d}") for i in range(repeat + 1))
        res["ledger_rows_per_run"] = len(fields)
        res["ledger_history_rows"] = store.count_trials(path)
        cpu0 = time.process_time()
        res["ledger_append_new_run_s"], _ = timed(lambda: store.append(path, next(batches)), repeat)
        # CPU seconds per append (the rest of the wall time is waiting for the disk's fsyncs)
        res["ledger_append_new_run_cpu_s"] = (time.process_time() - cpu0) / (repeat + 1)
        again = rows.finalize(fields, "2027-01-01")
        res["ledger_append_repeat_run_s"], _ = timed(lambda: store.append(path, again), repeat)
        res["parquet_atomic_write_same_rows_s"], _ = timed(
            lambda: write_parquet_atomic(again, Path(tmp) / "rows.parquet"), repeat
        )
        res["ledger_append_over_parquet_write"] = (
            res["ledger_append_new_run_s"] / res["parquet_atomic_write_same_rows_s"]
        )
        res["ledger_read_and_fdr_s"], _ = timed(
            lambda: __import__("eventlab.ledger.fdr", fromlist=["x"]).ledger_fdr(
                store.read(path), 0.05
            ),
            repeat,
        )
    return res


def _run_job(
    tmp: str, record: bool, root: Path = ROOT
) -> tuple[float, float, subprocess.CompletedProcess]:
    """`python -m commands.run` of the checkout `root` in a fresh process: wall seconds, peak RSS
    (MB), the process."""
    env = {**os.environ, "DAGSTER_HOME": tmp, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "commands.run", "--reports", f"{tmp}/reports"]
    cmd += ["--warehouse", f"{tmp}/warehouse", *(["--record"] if record else [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, proc


def job_benchmark(repeat: int) -> dict[str, object]:
    """The main job as `make run` runs it (ephemeral instance) and as `make run-recorded` runs it
    (SQLite instance in DAGSTER_HOME, warmed by one unmeasured run so its database exists)."""
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # as the Makefile does for .dagster_home
        shutil.copy(ROOT / "deploy" / "local" / "dagster.yaml", tmp)
        walls, peak, proc = [], 0.0, None
        for _ in range(repeat):
            wall, peak, proc = _run_job(tmp, record=False)
            walls.append(wall)
            if proc.returncode != 0:
                break
        out["main_job_wall_s"] = round(statistics.median(walls), 2)
        out["main_job_wall_runs_s"] = ", ".join(f"{w:.2f}" for w in walls)
        out["main_job_peak_rss_mb"] = round(peak, 1)
        out["main_job_ok"] = proc.returncode == 0
        manifests = list(Path(tmp, "reports").glob("20*/manifest.json"))
        if manifests:
            timings = json.loads(manifests[0].read_text()).get("timings_s", {})
            out["main_job_steps_s"] = dict(sorted(timings.items(), key=lambda kv: -kv[1]))
            out["main_job_sum_of_steps_s"] = round(sum(timings.values()), 2)
        if proc.returncode != 0:
            out["stderr_tail"] = proc.stderr[-2000:]
            return out
        _run_job(tmp, record=True)  # creates the instance's SQLite databases
        rec = [_run_job(tmp, record=True)[0] for _ in range(max(1, repeat - 1))]
        out["main_job_recorded_wall_s"] = round(statistics.median(rec), 2)
        out["main_job_recorded_wall_runs_s"] = ", ".join(f"{w:.2f}" for w in rec)
    return out


def _job_and_charts(root: Path) -> tuple[float, float | None, bool]:
    """One `make run` of checkout `root`: the job's wall seconds and its charts step's."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "deploy" / "local" / "dagster.yaml", tmp)
        wall, _, proc = _run_job(tmp, record=False, root=root)
        manifests = list(Path(tmp, "reports").glob("20*/manifest.json"))
        timings = json.loads(manifests[0].read_text()).get("timings_s", {}) if manifests else {}
    return wall, timings.get("charts"), proc.returncode == 0


def compare_jobs(other: Path, repeat: int) -> dict[str, object]:
    """The main job of this checkout and of `other`, alternating (other first) `repeat` times in
    one session: median whole-job and charts-step seconds side by side, the charts step's share
    of the job, and this checkout's job time over the other's (paired runs, median)."""
    runs: dict[str, list[tuple[float, float | None, bool]]] = {"other": [], "this": []}
    loads = []
    for _ in range(repeat):
        for label, root in (("other", other), ("this", ROOT)):
            loads.append(os.getloadavg()[0])
            runs[label].append(_job_and_charts(root))
    out: dict[str, object] = {"compare_load_avg_1min": ", ".join(f"{x:.1f}" for x in loads)}
    for label, rows in runs.items():
        job = statistics.median(r[0] for r in rows)
        charts = [r[1] for r in rows if r[1] is not None]
        step = statistics.median(charts) if charts else float("nan")
        out[f"{label}_job_wall_s"] = round(job, 2)
        out[f"{label}_charts_step_s"] = round(step, 2)
        out[f"{label}_charts_share_of_job"] = round(step / job, 3)
        out[f"{label}_runs_ok"] = all(r[2] for r in rows)
    paired = [t[0] / o[0] for o, t in zip(runs["other"], runs["this"], strict=True)]
    out["this_over_other_job_ratio"] = round(statistics.median(paired), 3)
    out["this_over_other_job_ratio_runs"] = ", ".join(f"{r:.3f}" for r in paired)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-job", action="store_true")
    ap.add_argument("--job-repeat", type=int, default=3, help="main-job runs per mode (median)")
    ap.add_argument(
        "--skip-cta-loop", action="store_true", help="skip the ~20 s row-by-row CTA replay"
    )
    ap.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="CHECKOUT",
        help="also run another checkout's main job, alternating with this one (see compare_jobs)",
    )
    ap.add_argument("--skip-core", action="store_true", help="skip the core computations")
    ap.add_argument("--skip-library", action="store_true", help="skip the study library")
    args = ap.parse_args()
    results: dict[str, object] = {}
    if args.against is not None:
        results.update(compare_jobs(args.against.resolve(), args.job_repeat))
    if not args.skip_job:
        results.update(job_benchmark(args.job_repeat))
        steps = results.get("main_job_steps_s")
        if isinstance(steps, dict) and "charts" in steps:
            results["charts_step_share_of_job"] = round(
                steps["charts"] / float(results["main_job_wall_s"]), 3
            )
    if not args.skip_core:
        results.update(core_benchmarks(args.repeat, with_loops=not args.skip_cta_loop))
        results.update(ledger_benchmarks(args.repeat))
    if not args.skip_library:
        results.update(library_benchmarks(args.repeat))
    width = max(len(k) for k in results)
    for k, v in results.items():
        if isinstance(v, float):
            v = f"{v:.4f}" if v < 10 else f"{v:.1f}"
        elif isinstance(v, dict):
            v = ", ".join(f"{kk}={vv}" for kk, vv in list(v.items())[:12])
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
