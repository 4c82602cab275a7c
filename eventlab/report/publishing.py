"""Report folders: which folder a parameter set publishes to, a private staging folder per run,
and the one atomic switch that publishes it. Plain functions, no Dagster.

Layout under the reports root:
- `<as-of>/` the default study; `<as-of>--<label>-<hash>/` any other parameter set (the label
  says what differs, e.g. `gap1.5pct`; the hash tells two different sets apart).
- `latest` a symlink to the newest default-study folder (never to another parameter set).
- `.staging-<run_id>/` a run's private folder while it builds; it holds `INCOMPLETE.json`
  (which run, which process) until the switch. A folder whose process is gone is removed by
  the next run that stages or publishes.

Publishing is one rename: `renameat2(RENAME_EXCHANGE)` swaps the staged folder with the
published one in a single step (readers see the old report or the new one, never a mix), then
the old content is deleted. `latest` is repointed by renaming a temp symlink over it. Nothing
the project did not write is deleted: a real directory or file at `latest` or at a report
folder's path stops the publish with a message.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, SupportsInt, cast

from eventlab.config import CONFIG, StudyParams
from eventlab.settings.cta import CTAParams
from eventlab.settings.validation import BacktestParams, ValidationParams

log = logging.getLogger(__name__)

STAGING_PREFIX = ".staging-"
CREATING_PREFIX = ".creating-"
MARKER = "INCOMPLETE.json"
LATEST = "latest"
PUBLISH_LOCK = "publish"  # file_lock takes `.publish.lock` next to it
# the setting that bounds the wait for the publish lock (named when the wait runs out)
LOCK_SETTING = "resources.report_settings.config.lock_timeout_s (--config run.yaml)"
# a marker-less half-created staging folder older than this is a leftover of a killed run
ORPHAN_AGE_S = 600.0


class PublishError(RuntimeError):
    """Publishing was refused (the message says what is in the way and what to do)."""


# ----------------------------------------------------------------------------- folder names


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def parameter_set(study: StudyParams, cta: CTAParams) -> dict[str, dict[str, object]]:
    """Every study and CTA parameter, JSON-ready (what manifest.json records)."""
    return {
        "study": {k: _plain(v) for k, v in study.model_dump().items()},
        "cta": {k: _plain(v) for k, v in cta.model_dump().items()},
    }


def changed_parameters(
    study: StudyParams,
    cta: CTAParams,
    validation: ValidationParams | None = None,
    backtest: BacktestParams | None = None,
) -> dict[str, object]:
    """The parameters that differ from the defaults declared in eventlab/settings/, by group and
    field name (`study.gap_threshold`, `cta.lookbacks`, `validation.main_window`); empty for the
    default run. Any change sends the run to its own report folder."""
    out: dict[str, object] = {}
    groups: list[tuple[str, Any, Any]] = [("study", study, CONFIG.study), ("cta", cta, CONFIG.cta)]
    if validation is not None:
        groups.append(("validation", validation, CONFIG.validation))
    if backtest is not None:
        groups.append(("backtest", backtest, CONFIG.backtest))
    for prefix, obj, default in groups:
        for name in type(obj).model_fields:
            value, base = _plain(getattr(obj, name)), _plain(getattr(default, name))
            if isinstance(value, list | float) and _close(value, base):
                continue
            if value != base:
                out[f"{prefix}.{name}"] = value
    return out


def _close(a: object, b: object) -> bool:
    """Floats (and lists of them) equal to 12 significant digits: 1/3 typed as 0.333333333333."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    return a == b


def _short(name: str, value: object) -> str:
    """A few readable characters for one changed parameter (the hash carries the rest)."""
    field = name.split(".", 1)[1]
    if field == "gap_threshold" and isinstance(value, float | int):
        return f"gap{value * 100:g}pct"
    if isinstance(value, list):
        value = "-".join(str(v) for v in value)
    text = "".join(c if c.isalnum() or c in ".-" else "-" for c in str(value))[:16]
    abbrev = {"close_rule": "close", "open_policy": "opens", "horizons": "h", "index": "idx"}
    return f"{abbrev.get(field, field.replace('_', ''))}{text}"


def folder_label(changed: dict[str, object]) -> str:
    """'' for the defaults, else e.g. 'gap1.5pct-1a2b3c4d': up to three readable parts and a hash
    of every changed parameter (so two sets never share a folder)."""
    if not changed:
        return ""
    digest = hashlib.sha256(json.dumps(changed, sort_keys=True, default=str).encode()).hexdigest()
    parts = [_short(k, v) for k, v in sorted(changed.items())][:3]
    return "-".join([*parts, digest[:8]])


def folder_name(as_of: dt.date, label: str = "") -> str:
    """`<as-of>` for the default study, `<as-of>--<label>` otherwise."""
    return as_of.isoformat() + (f"--{label}" if label else "")


def describe_parameters(changed: dict[str, object]) -> str:
    """One line for the report header."""
    if not changed:
        return "default study parameters (eventlab/settings/)"
    return "non-default parameters: " + ", ".join(f"{k} = {v}" for k, v in sorted(changed.items()))


# ----------------------------------------------------------------------------- process liveness


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks (field 22 of /proc/<pid>/stat); None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def owner_pid() -> int:
    """The process that lives as long as the run: this one, or, in a step subprocess of Dagster's
    multiprocess executor, the run worker that started it."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None and parent.pid else os.getpid()


def owner_record(run_id: str) -> dict[str, object]:
    pid = owner_pid()
    return {
        "run_id": run_id,
        "pid": pid,
        "pid_start": _start_ticks(pid),
        "host": os.uname().nodename,
        "started_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "note": "This folder is being built by the run above and is not a report yet. If that "
        "run is gone, the next run deletes this folder.",
    }


def owner_alive(record: dict[str, object]) -> bool:
    """Whether the process that wrote `record` still runs (pid reuse is caught by start time)."""
    if record.get("host") != os.uname().nodename:
        return True  # another machine's run on a shared disk: not ours to judge
    try:
        pid = int(
            cast(SupportsInt, record["pid"])
        )  # the int marker() wrote; a bad value raises, caught below
        os.kill(pid, 0)
    except (KeyError, TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    start = record.get("pid_start")
    return start is None or _start_ticks(pid) in (None, start)


def read_marker(folder: Path) -> dict[str, object] | None:
    """The owner record of a staging folder (None if it has none or it is unreadable)."""
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- locking


@contextlib.contextmanager
def publish_lock(root: Path, timeout_s: float = 120.0) -> Iterator[None]:
    """Serialize publishing and clean-up under one reports root (bounded and logged)."""
    from eventlab.data.store import file_lock

    with file_lock(Path(root) / PUBLISH_LOCK, timeout_s=timeout_s, setting=LOCK_SETTING):
        yield


# ----------------------------------------------------------------------------- staging


def discard_staging(staging: Path) -> None:
    """Remove a run's own staging folder once everything it staged is published."""
    staging = Path(staging)
    if staging.name.startswith(STAGING_PREFIX) and staging.is_dir():
        shutil.rmtree(staging, ignore_errors=True)


def clean_stale(root: Path) -> list[Path]:
    """Delete staging folders whose run is gone; call under publish_lock. Returns what it removed."""
    removed: list[Path] = []
    root = Path(root)
    if not root.is_dir():
        return removed
    now = time.time()
    for path in root.iterdir():
        if not path.name.startswith((STAGING_PREFIX, CREATING_PREFIX)) or path.is_symlink():
            continue
        if not path.is_dir():
            continue
        record = read_marker(path)
        if record is None:
            # a staging folder loses its marker only inside publish (under this lock): whatever is
            # left is the previous report a killed publish was deleting; a creating folder gets
            # its marker right after mkdir, so give it time
            if path.name.startswith(CREATING_PREFIX) and now - path.stat().st_mtime < ORPHAN_AGE_S:
                continue
        elif owner_alive(record):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    for tmp in root.glob(f".{LATEST}.*.tmp"):  # temp symlinks of killed publishes
        pid = tmp.name.split(".")[-2]
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _seed(src: Path, dest: Path) -> None:
    """Hard-link the published report's files into a new staging folder, so a run that rebuilds
    part of the report still publishes a whole one (writes replace files by rename, so the
    published copies are never modified through the links)."""

    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dest, symlinks=True, copy_function=link, dirs_exist_ok=True)


def published_path(staged: str | Path, final_name: str) -> Path:
    """Where a file written into a run's staging folder is read once the run publishes:
    <root>/.staging-<run_id>/<rel> -> <root>/<final_name>/<rel>. Metadata names this location
    (the staging folder is renamed away by the switch). A path outside any staging folder is
    returned unchanged."""
    staged = Path(staged)
    for parent in staged.parents:
        if parent.name.startswith(STAGING_PREFIX):
            return parent.parent / final_name / staged.relative_to(parent)
    return staged


def staging_dir(
    root: Path, run_id: str, final_name: str, lock_timeout_s: float = 120.0, *, seed: bool = True
) -> Path:
    """The run's private folder (created, marked and, if `seed`, seeded from the published
    folder on first use; every step of the run gets the same one). Stale folders of dead runs
    are removed first."""
    root = Path(root)
    path = root / f"{STAGING_PREFIX}{run_id}"
    if path.is_dir():
        return path
    root.mkdir(parents=True, exist_ok=True)
    with publish_lock(root, lock_timeout_s):
        for gone in clean_stale(root):
            log.warning("removed %s, left behind by a run that is no longer running", gone)
    tmp = Path(tempfile.mkdtemp(prefix=f"{CREATING_PREFIX}{run_id}.", dir=root))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; a report folder is as readable as any
    try:
        (tmp / MARKER).write_text(json.dumps(owner_record(run_id), indent=2))
        published = root / final_name
        if seed and published.is_dir() and not published.is_symlink():
            _seed(published, tmp)
        os.rename(tmp, path)  # atomic; fails if another step of this run got there first
    except OSError:
        if not path.is_dir():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


# ----------------------------------------------------------------------------- the switch

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _not_ours(path: Path, what: str, fix: str) -> PublishError:
    kind = "directory" if path.is_dir() else "file"
    return PublishError(
        f"{path} is a real {kind}, not the {what} eventlab maintains; it may hold your own files, "
        f"so it was left untouched and nothing was published. Fix: {fix}"
    )


def check_latest(root: Path) -> None:
    """Refuse early if `latest` is something the project did not write (a real dir or file)."""
    latest = Path(root) / LATEST
    if (latest.exists() or latest.is_symlink()) and not latest.is_symlink():
        raise _not_ours(
            latest,
            "`latest` symlink",
            f"move it elsewhere (e.g. `mv {latest} {latest}-mine`) and run again",
        )


def point_latest(root: Path, name: str) -> Path:
    """Atomically repoint `latest` at folder `name` (a temp symlink renamed over it)."""
    root = Path(root)
    check_latest(root)
    latest = root / LATEST
    tmp = root / f".{LATEST}.{os.getpid()}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(name, target_is_directory=True)
        os.replace(tmp, latest)
    finally:
        if tmp.is_symlink():
            tmp.unlink()
    return latest


def publish(
    staging: Path, final_name: str, *, make_latest: bool, lock_timeout_s: float = 120.0
) -> Path:
    """Publish a staged folder as `<root>/<final_name>` in one atomic switch; repoint `latest` if
    `make_latest` (the default study). Returns the published folder."""
    staging = Path(staging)
    root = staging.parent
    final = root / final_name
    with publish_lock(root, lock_timeout_s):
        if make_latest:
            check_latest(root)
        if final.is_symlink() or (final.exists() and not final.is_dir()):
            raise _not_ours(final, "report folder", f"move {final} elsewhere and run again")
        (staging / MARKER).unlink(missing_ok=True)
        if not final.exists():
            os.rename(staging, final)
        elif _exchange(staging, final):
            shutil.rmtree(staging)  # now the previous report
        else:  # no renameat2 (old kernel / other OS): two renames, a moment without the folder
            old = root / f"{STAGING_PREFIX}{final_name}.old.{os.getpid()}"
            os.rename(final, old)
            os.rename(staging, final)
            shutil.rmtree(old)
        if make_latest:
            point_latest(root, final_name)
    return final


def publish_copy(
    staging: Path, final_name: str, *, make_latest: bool, lock_timeout_s: float = 120.0
) -> Path:
    """Publish what a run has staged so far without giving up its staging folder (a run that
    does not include the `publish` step publishes after each report-writing step): a hard-linked
    copy of the staging folder is switched in atomically, as `publish` does."""
    staging = Path(staging)
    copy = Path(tempfile.mkdtemp(prefix=f"{CREATING_PREFIX}copy.", dir=staging.parent))
    try:
        _seed(staging, copy)
        os.chmod(copy, staging.stat().st_mode & 0o777)
        return publish(copy, final_name, make_latest=make_latest, lock_timeout_s=lock_timeout_s)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
