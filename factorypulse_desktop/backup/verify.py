"""`backup verify`: checksum and size, `pg_restore --list`, then a trial restore + report.

The checksum comes first so that a flipped byte or a cut-short file is caught before anything
is restored (T-BAK-02). The trial restore goes into a scratch database that is always dropped.
The outcome is written next to the backup (`<name>.verified.json`) for `backup list`/`prune`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factorypulse_desktop.backup import files, naming, pgtools, restore
from factorypulse_desktop.backup.report import post_restore_report
from factorypulse_desktop.domain.errors import UserFacingError


@dataclass
class Verification:
    path: Path
    ok: bool
    stage: str  # "checksum", "list", "restore", "report" or "done"
    problems: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


Progress = Callable[[str], None]
"""Told each step, and about four times a second during the trial restore; raising from it
cancels the verification (nothing is recorded: a cancelled check is not a failed one)."""


def _quiet(_message: str) -> None:
    return None


def verify_backup(url: str, path: Path, trial_restore: bool = True,
                  progress: Progress | None = None) -> Verification:
    """Verify `path` and record the outcome next to it."""
    result = _verify(url, path, trial_restore, progress or _quiet)
    if path.is_file():
        files.write_json(naming.verified_path(path), {
            "verified_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "ok": result.ok, "stage": result.stage, "problems": result.problems,
            "checks": result.checks, "trial_restore": trial_restore,
        })
    return result


def _verify(url: str, path: Path, trial_restore: bool, progress: Progress) -> Verification:
    progress("Checking the file against its checksum")
    try:
        restore.check_archive(path)
        if files.read_json(naming.manifest_path(path)) is None:
            return Verification(path, False, "checksum",
                                [f"{path.name} has no readable manifest "
                                 f"({naming.manifest_path(path).name})"])
        manifest: dict[str, Any] = restore.check_checksum(path) or {}
    except UserFacingError as error:
        return Verification(path, False, "checksum", [str(error)])
    checks = ["size and sha256 match the manifest"]
    progress("Reading the archive's table of contents")
    listed = pgtools.run("pg_restore", ["--list", str(path)])
    if listed.returncode != 0:
        return Verification(path, False, "list", [pgtools.first_error(listed.stderr)], checks)
    checks.append("the archive's table of contents is readable")
    if not trial_restore or manifest.get("kind") == "data":
        # A data-only archive needs a schema to land in; it is checked by checksum and list.
        checks.append("no trial restore (" + ("not asked for" if not trial_restore else
                      "a data-only backup needs the schema of a complete one") + ")")
        return Verification(path, True, "done", [], checks)
    scratch = f"fp_verify_{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    try:
        try:
            restore.restore_backup(url, path, into=scratch, checked=True, poll=lambda: progress(
                pgtools.elapsed_message(started, "Trial restore into a scratch database")))
        except UserFacingError as error:
            return Verification(path, False, "restore", [str(error)], checks)
        checks.append("trial restore in one transaction succeeded")
        progress("Checking the restored database")
        with pgtools.connect(url, scratch) as conn:
            report = post_restore_report(conn, manifest)
    finally:
        restore.drop_database(url, scratch)
    return Verification(path, report.ok, "report" if report.problems else "done",
                        report.problems, checks + report.checks)
