"""`backup list` and `backup prune`: the backups in a folder and their verification state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from factorypulse_desktop.backup import files, naming
from factorypulse_desktop.backup.retention import Entry, Policy, to_keep


@dataclass(frozen=True)
class BackupFile:
    path: Path
    kind: str
    created_at: datetime
    size: int
    status: str  # "verified", "unverified", "failed" or "no manifest"
    verified_at: str | None
    problems: tuple[str, ...] = ()  # why verification failed


def list_backups(folder: Path) -> list[BackupFile]:
    """Every backup in `folder`, newest first."""
    found: list[BackupFile] = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        parsed = naming.parse_name(path)
        if parsed is None or not path.is_file():
            continue
        manifest = files.read_json(naming.manifest_path(path))
        outcome = files.read_json(naming.verified_path(path))
        if manifest is None:
            status = "no manifest"
        elif outcome is None:
            status = "unverified"
        else:
            status = "verified" if outcome.get("ok") is True else "failed"
        problems = outcome.get("problems") if outcome else None
        found.append(BackupFile(
            path, parsed[0], parsed[1], path.stat().st_size, status,
            outcome.get("verified_at") if outcome else None,
            tuple(str(p) for p in problems) if isinstance(problems, list) else ()))
    return sorted(found, key=lambda b: b.created_at, reverse=True)


def prune(folder: Path, policy: Policy, dry_run: bool = False) -> list[Path]:
    """Delete the backups (and their sidecars) the policy does not keep; return them."""
    backups = list_backups(folder)
    keep = to_keep([Entry(b.path.name, b.created_at, b.status == "verified")
                    for b in backups], policy)
    doomed = [b.path for b in backups if b.path.name not in keep]
    if not dry_run:
        for path in doomed:
            for sidecar in naming.sidecars(path):
                sidecar.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
    return doomed
