"""Compare published outputs (every report CSV, every warehouse Parquet table), old vs new.

  compare_outputs.py OLD_REPORT_DIR OLD_WAREHOUSE NEW_REPORT_DIR NEW_WAREHOUSE [--tol 1e-12]
  compare_outputs.py --against REV   # runs REV and the working tree, then compares their outputs

Same bytes: "same". Else both are parsed and compared by row position (numbers with isclose,
rtol = atol = tol, NaN == NaN; other columns as text): "within tol", or "CHANGED" with what
differs. Paths with a hidden part (staging, locks) are skipped. Exit 0 if all are same or within
tol, 1 otherwise, 2 if a run failed. --against runs the Makefile `run` target's $(PY) commands
with this interpreter in a temp clone of REV and a temp copy of the working tree (git ls-files
-co --exclude-standard), DAGSTER_HOME in a temp folder: your own outputs are never touched.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

# Two runs of one commit differ only here: report_as_of.parquet's generation time, and the time
# the ledger first recorded each hypothesis (hypotheses.csv, the ledger tables).
DEFAULT_IGNORE = ("generated_utc", "created_utc")
MAX_EXAMPLES = 3
KINDS = (("report", "*.csv"), ("warehouse", "*.parquet"))  # what is compared in each folder
STATUSES = ("same", "within tol", "CHANGED", "MISSING", "EXTRA")


def find_files(root: Path, pattern: str) -> dict[str, Path]:
    """Files matching `pattern` under `root` (recursively, no hidden parts) by relative path."""
    found = {}
    for path in sorted(root.rglob(pattern)):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            found[rel.as_posix()] = path
    return found


def load(path: Path) -> pd.DataFrame:
    """Read a CSV or a Parquet file (pandas 3 parses CSV floats exactly, round trip)."""
    return pd.read_csv(path, low_memory=False) if path.suffix == ".csv" else pd.read_parquet(path)


def short(value: object) -> str:
    """A cell's repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def numeric_diff(old: pd.Series, new: pd.Series, tol: float) -> str | None:
    """Max finite |diff| and the count of cells beyond tolerance, or None if all are within it."""
    a = old.to_numpy(dtype=float, na_value=np.nan)
    b = new.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isclose(a, b, rtol=tol, atol=tol, equal_nan=True)
    if not bad.any():
        return None
    diff = np.abs(a[bad] - b[bad])
    finite = np.isfinite(diff)
    text = f"max |diff| {diff[finite].max():.3g}, " if finite.any() else ""
    text += f"{int(bad.sum())} beyond tol"
    return text + (f" ({int((~finite).sum())} NaN/inf vs other)" if not finite.all() else "")


def text_diff(old: pd.Series, new: pd.Series, keys: list[object]) -> str | None:
    """The count of differing cells (as text; missing equals missing) with up to 3 examples."""
    same = (old.astype(str).to_numpy() == new.astype(str).to_numpy()) | (
        old.isna().to_numpy() & new.isna().to_numpy()
    )
    differ = np.flatnonzero(~same)
    if not len(differ):
        return None
    examples = "; ".join(
        f"[{keys[i]}] {short(old.iloc[i])} -> {short(new.iloc[i])}" for i in differ[:MAX_EXAMPLES]
    )
    return f"{len(differ)} cells differ, e.g. {examples}"


def is_number(series: pd.Series) -> bool:
    """Whether a column holds numbers (booleans count as text)."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def compare_frames(
    old: pd.DataFrame, new: pd.DataFrame, tol: float, ignore: tuple[str, ...]
) -> tuple[bool, list[str]]:
    """Whether two tables are equal within tolerance, and notes on what differs."""
    keys = list(range(len(old))) if isinstance(old.index, pd.RangeIndex) else list(old.index)
    old, new = (f.reset_index(drop=isinstance(f.index, pd.RangeIndex)) for f in (old, new))
    dropped = [c for c in ignore if c in old.columns or c in new.columns]
    old, new = (f.drop(columns=dropped, errors="ignore") for f in (old, new))
    info = [f"ignored {', '.join(dropped)}"] if dropped else []
    problems = [
        f"columns {verb}: {', '.join(str(c) for c in cols)}"
        for verb, cols in (
            ("removed", old.columns.difference(new.columns, sort=False)),
            ("added", new.columns.difference(old.columns, sort=False)),
        )
        if len(cols)
    ]
    n = min(len(old), len(new))
    if len(old) != len(new):
        problems.append(f"rows {len(old)} -> {len(new)} (first {n} compared)")
    for col in old.columns.intersection(new.columns, sort=False):
        a, b = old[col].iloc[:n], new[col].iloc[:n]
        if a.dtype != b.dtype:
            info.append(f"{col}: dtype {a.dtype} -> {b.dtype}")
        numeric = is_number(a) and is_number(b)
        problem = numeric_diff(a, b, tol) if numeric else text_diff(a, b, keys)
        if problem:
            problems.append(f"{col}: {problem}")
    return not problems, info + problems


def compare_file(
    old: Path, new: Path, tol: float, ignore: tuple[str, ...]
) -> tuple[str, list[str]]:
    """Status ("same", "within tol" or "CHANGED") and notes for one pair of files."""
    if old.read_bytes() == new.read_bytes():
        return "same", []
    try:
        equal, notes = compare_frames(load(old), load(new), tol, ignore)
    except Exception as exc:  # an unreadable file is a change, reported with its error
        return "CHANGED", [f"cannot parse: {type(exc).__name__}: {exc}"]
    return ("within tol" if equal else "CHANGED"), notes


def compare_outputs(
    old: tuple[Path, Path], new: tuple[Path, Path], tol: float, ignore: tuple[str, ...]
) -> int:
    """Compare (report folder, warehouse) old vs new; print a table and return the exit code."""
    counts: Counter[str] = Counter()
    for (label, pattern), old_root, new_root in zip(KINDS, old, new, strict=True):
        old_files, new_files = find_files(old_root, pattern), find_files(new_root, pattern)
        for rel in sorted(old_files.keys() | new_files.keys()):
            if rel not in new_files:
                status, notes = "MISSING", [f"only in {old_root}"]
            elif rel not in old_files:
                status, notes = "EXTRA", [f"only in {new_root}"]
            else:
                status, notes = compare_file(old_files[rel], new_files[rel], tol, ignore)
            counts[status] += 1
            name = f"{label}/{rel}"
            print(f"{status:<10}  {name:<48}  {notes[0] if notes else ''}".rstrip())
            for note in notes[1:]:
                print(f"{'':<62}{note}")
    ok = counts["same"] + counts["within tol"] == counts.total()
    summary = ", ".join(f"{counts[s]} {s.lower()}" for s in STATUSES)
    print(f"{counts.total()} files: {summary} (tol {tol:g}) -> {'OK' if ok else 'DIFFERENT'}")
    return 0 if ok else 1


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`; its stripped output, or RuntimeError with git's message."""
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"git {shlex.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def export_revision(repo: Path, rev: str, dest: Path) -> None:
    """Clone `repo` into `dest` and check out revision `rev` there."""
    sha = git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}")
    git(repo, "clone", "-q", "--no-checkout", str(repo), str(dest))
    git(dest, "checkout", "-q", "--detach", sha)


def export_worktree(repo: Path, dest: Path) -> None:
    """Copy the working tree's tracked and untracked (not ignored) files into `dest`."""
    for rel in git(repo, "ls-files", "-co", "--exclude-standard", "-z").split("\0"):
        src = repo / rel
        if rel and (src.is_file() or src.is_symlink()):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel, follow_symlinks=False)


def makefile_text(tree: Path) -> str:
    """The tree's Makefile, or "" if it has none."""
    makefile = tree / "Makefile"
    return makefile.read_text() if makefile.exists() else ""


def job_commands(tree: Path) -> list[list[str]]:
    """The Makefile `run` target's $(PY) commands run by this interpreter (or pipelines.run)."""
    recipe = re.search(r"^run:.*\n((?:\t.*\n?)+)", makefile_text(tree), re.M)
    steps = re.split(r"&&|;|\n", recipe.group(1)) if recipe else []
    commands = [shlex.split(s.strip())[1:] for s in steps if s.strip().startswith("$(PY)")]
    return [[sys.executable, *c] for c in commands] or [[sys.executable, "-m", "pipelines.run"]]


def run_job(tree: Path, home: Path) -> float:
    """Run the main job offline in `tree` (its own reports/ and data/warehouse/); return seconds."""
    config = re.search(r"^INSTANCE_CONFIG\s*:?=\s*(\S+)", makefile_text(tree), re.M)
    instance_yaml = tree / (config.group(1) if config else ".dagster_home/dagster.yaml")
    home.mkdir(parents=True)
    if instance_yaml.is_file():
        shutil.copy(instance_yaml, home / "dagster.yaml")
    pythonpath = [str(tree), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(pythonpath),
        "EVENTLAB_WAREHOUSE": str(tree / "data" / "warehouse"),
        "EVENTLAB_REPORTS": str(tree / "reports"),
    }
    start = time.perf_counter()
    for command in job_commands(tree):
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        if done.returncode:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise RuntimeError(f"{shlex.join(command)} failed in {tree}:\n{tail}")
    return time.perf_counter() - start


def against(rev: str, tol: float, ignore: tuple[str, ...]) -> int:
    """Run revision `rev` and the working tree in temp copies and compare their outputs."""
    repo = Path(git(Path(__file__).resolve().parent, "rev-parse", "--show-toplevel"))
    with tempfile.TemporaryDirectory(prefix="compare-outputs-") as tmp:
        old, new = Path(tmp) / "old", Path(tmp) / "new"
        try:
            export_revision(repo, rev, old)
            new.mkdir()
            export_worktree(repo, new)
            for name, tree in ((rev, old), ("working tree", new)):
                seconds = run_job(tree, Path(tmp) / f"dagster_home_{tree.name}")
                print(f"{name} run: {seconds:.1f}s")
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        old_out, new_out = (
            (t / "reports" / "latest", t / "data" / "warehouse") for t in (old, new)
        )
        return compare_outputs(old_out, new_out, tol, ignore)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one of the two modes."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "dirs", nargs="*", metavar="DIR", help="OLD_REPORT OLD_WAREHOUSE NEW_REPORT NEW_WAREHOUSE"
    )
    ap.add_argument("--against", metavar="REV", help="run REV and the working tree, then compare")
    ap.add_argument("--tol", type=float, default=1e-12, help="rtol and atol of numpy.isclose")
    ap.add_argument(
        "--ignore-columns",
        default=",".join(DEFAULT_IGNORE),
        help="comma-separated columns that differ on every run (default: %(default)s; '' for none)",
    )
    args = ap.parse_args(argv)
    ignore = tuple(c for c in args.ignore_columns.split(",") if c)
    if args.against:
        if args.dirs:
            ap.error("--against takes no folders")
        return against(args.against, args.tol, ignore)
    if len(args.dirs) != 4:
        ap.error("give OLD_REPORT_DIR OLD_WAREHOUSE NEW_REPORT_DIR NEW_WAREHOUSE, or --against REV")
    dirs = [Path(d) for d in args.dirs]
    for folder in dirs:
        if not folder.is_dir():
            ap.error(f"not a folder: {folder}")
    return compare_outputs((dirs[0], dirs[1]), (dirs[2], dirs[3]), args.tol, ignore)


if __name__ == "__main__":
    sys.exit(main())
