"""scripts/compare_outputs.py on small synthetic report and warehouse folders (no Dagster run)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_outputs.py"
_spec = importlib.util.spec_from_file_location("compare_outputs", SCRIPT)
assert _spec is not None and _spec.loader is not None
co = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(co)


def _frame() -> pd.DataFrame:
    """A small table with a float, an int, a string and a missing value."""
    return pd.DataFrame(
        {
            "ticker": ["SPY", "QQQ", None],
            "ret": [0.1234567890123, -0.5, np.nan],
            "n": [1, 2, 3],
        }
    )


def _write(root: Path, report: pd.DataFrame, table: pd.DataFrame) -> tuple[Path, Path]:
    """Write a report folder (one CSV in a subfolder too) and a warehouse (nested Parquet)."""
    rep, wh = root / "report", root / "warehouse"
    (rep / "sub").mkdir(parents=True)
    (wh / "prices").mkdir(parents=True)
    report.to_csv(rep / "events.csv", index=False)
    report.to_csv(rep / "sub" / "extra.csv", index=False)
    (rep / "manifest.json").write_text('{"run_id": "abc"}')
    table.to_parquet(wh / "prices" / "SPY.parquet")
    table.assign(generated_utc=str(root)).to_parquet(wh / "report_as_of.parquet")
    return rep, wh


def _compare(
    tmp_path: Path, new_report: pd.DataFrame, new_table: pd.DataFrame, capsys: pytest.CaptureFixture
) -> tuple[int, str]:
    """Compare the base frames (old side) against the given ones (new side); exit code, output."""
    old = _write(tmp_path / "old", _frame(), _frame())
    new = _write(tmp_path / "new", new_report, new_table)
    code = co.main([str(old[0]), str(old[1]), str(new[0]), str(new[1])])
    return code, capsys.readouterr().out


def _line(out: str, name: str) -> str:
    """The table line of one file."""
    return next(line for line in out.splitlines() if name in line)


def test_identical_files_are_same(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out = _compare(tmp_path, _frame(), _frame(), capsys)
    assert code == 0
    assert _line(out, "report/events.csv").startswith("same")
    assert _line(out, "report/sub/extra.csv").startswith("same")
    assert _line(out, "warehouse/prices/SPY.parquet").startswith("same")
    # the generation time differs on every run: ignored by default, so within tol
    assert _line(out, "report_as_of.parquet").startswith("within tol")
    assert "manifest" not in out
    assert out.splitlines()[-1].endswith("-> OK")


def test_generation_time_counts_without_the_ignore_list(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    old = _write(tmp_path / "old", _frame(), _frame())
    new = _write(tmp_path / "new", _frame(), _frame())
    code = co.main([*map(str, [*old, *new]), "--ignore-columns", ""])
    assert code == 1
    assert "generated_utc: 3 cells differ" in capsys.readouterr().out


def test_float_moved_by_1e15_is_within_tol(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    moved = _frame()
    moved.loc[0, "ret"] += 1e-15
    code, out = _compare(tmp_path, moved, moved, capsys)
    assert code == 0
    assert _line(out, "report/events.csv").startswith("within tol")
    assert _line(out, "warehouse/prices/SPY.parquet").startswith("within tol")


def test_float_moved_by_1e6_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    moved = _frame()
    moved.loc[1, "ret"] += 1e-6
    code, out = _compare(tmp_path, moved, _frame(), capsys)
    assert code == 1
    assert _line(out, "report/events.csv").startswith("CHANGED")
    assert "ret: max |diff| 1e-06, 1 beyond tol" in out
    assert _line(out, "warehouse/prices/SPY.parquet").startswith("same")
    assert out.splitlines()[-1].endswith("-> DIFFERENT")


def test_missing_and_extra_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    old = _write(tmp_path / "old", _frame(), _frame())
    new = _write(tmp_path / "new", _frame(), _frame())
    (new[0] / "sub" / "extra.csv").rename(new[0] / "sub" / "renamed.csv")
    code = co.main([*map(str, [*old, *new])])
    out = capsys.readouterr().out
    assert code == 1
    assert _line(out, "report/sub/extra.csv").startswith("MISSING")
    assert _line(out, "report/sub/renamed.csv").startswith("EXTRA")
    assert "1 missing, 1 extra" in out.splitlines()[-1]


def test_added_column_and_row(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    wider = _frame().assign(score=1.0)
    longer = pd.concat([_frame(), _frame().iloc[:1]], ignore_index=True)
    code, out = _compare(tmp_path, wider, longer, capsys)
    assert code == 1
    assert "columns added: score" in out
    assert "rows 3 -> 4" in out


def test_changed_string_cell_names_row_and_values(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    renamed = _frame()
    renamed.loc[1, "ticker"] = "NDX"
    table = _frame().set_index(pd.date_range("2026-08-18", periods=3, name="date"))
    old = _write(tmp_path / "old", _frame(), table)
    new = _write(tmp_path / "new", renamed, table.assign(ticker=["SPY", "NDX", None]))
    code = co.main([*map(str, [*old, *new])])
    out = capsys.readouterr().out
    assert code == 1
    assert "ticker: 1 cells differ, e.g. [1] 'QQQ' -> 'NDX'" in out
    # a table indexed by date names the row by its date; the missing ticker equals itself
    assert "[2026-08-19 00:00:00] 'QQQ' -> 'NDX'" in out


def test_frames_nan_equals_nan_and_inf_is_named() -> None:
    old = pd.DataFrame({"x": [np.nan, 1.0, np.inf], "s": pd.Series([None, "a", "b"], dtype=str)})
    equal, notes = co.compare_frames(old, old.copy(), 1e-12, ())
    assert equal and notes == []
    new = old.assign(x=[np.nan, 1.0, 2.0])
    equal, notes = co.compare_frames(old, new, 1e-12, ())
    assert not equal
    assert notes == ["x: 1 beyond tol (1 NaN/inf vs other)"]


@pytest.mark.service
def test_command_line_exit_code(tmp_path: Path) -> None:
    old = _write(tmp_path / "old", _frame(), _frame())
    new = _write(tmp_path / "new", _frame(), _frame())
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, [*old, *new])], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("4 files: 3 same, 1 within tol")
