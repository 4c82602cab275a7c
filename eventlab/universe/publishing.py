"""Where the universe report is published: a folder tree of its own beside the main reports.

Layout under the reports root:
- `universe-<name>/<as-of>/` the universe `<name>` with the default study parameters, and
  `universe-<name>/latest` pointing at the newest of those;
- `universe-<name>/<as-of>--<label>-<hash>/` any other study parameter set (the main report's
  label, eventlab.report.publishing.folder_label).

The main job swaps `reports/<as-of>/` whole, so the universe report never lives inside it. The
report is built in the run's private `universe-<name>/.staging-<run_id>/` (marked with the run's
process; the next universe run removes it once that process is gone) and published by the main
report's atomic switch (eventlab.report.publishing.publish). A folder at the destination that is
not a universe report (no universe `manifest.json`) is never replaced or deleted: the publish is
refused and says what to move.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from eventlab.config import CONFIG, StudyParams
from eventlab.report import publishing

TREE_PREFIX = "universe-"


def universe_root(reports_root: str | Path, name: str) -> Path:
    """The folder tree of universe `name`'s reports."""
    return Path(reports_root) / f"{TREE_PREFIX}{name}"


def folder_for(as_of: dt.date, study: StudyParams) -> str:
    """`<as-of>` for the default study parameters, `<as-of>--<label>-<hash>` otherwise."""
    label = publishing.folder_label(publishing.changed_parameters(study, CONFIG.cta))
    return publishing.folder_name(as_of, label)


def is_universe_report(folder: Path) -> bool:
    """Whether `folder` holds a report the universe job published (its manifest says so)."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "universe" in manifest and "run_id" in manifest


def check_tree(root: Path) -> None:
    """Refuse early (PublishError) if the universe tree is a file, or `latest` in it is not ours."""
    if root.exists() and not root.is_dir():
        raise publishing.PublishError(
            f"{root} is a file, not the folder of universe reports; it was left untouched and "
            f"nothing was published. Fix: move it elsewhere (e.g. `mv {root} {root}-mine`)"
        )
    publishing.check_latest(root)


def stage(root: Path, run_id: str, lock_timeout_s: float) -> Path:
    """The run's private, marked staging folder under `root` (empty: the report is built whole);
    staging folders of runs whose process is gone are removed first."""
    check_tree(root)
    return publishing.staging_dir(root, run_id, "", lock_timeout_s, seed=False)


def publish(staging: Path, final_name: str, *, lock_timeout_s: float) -> Path:
    """Publish the staged report as `<root>/<final_name>` (and `latest` for the default study)
    in one atomic switch; the staging folder is removed if the publish is refused."""
    final = staging.parent / final_name
    try:
        if final.is_dir() and not final.is_symlink() and not is_universe_report(final):
            raise publishing.PublishError(
                f"{final} is a directory the universe job did not write (no universe "
                "manifest.json); it may hold your own files, so it was left untouched and "
                f"nothing was published. Fix: move it elsewhere (e.g. `mv {final} {final}-mine`) "
                "and run again"
            )
        make_latest = "--" not in final_name
        return publishing.publish(
            staging, final_name, make_latest=make_latest, lock_timeout_s=lock_timeout_s
        )
    except BaseException:
        publishing.discard_staging(staging)
        raise
