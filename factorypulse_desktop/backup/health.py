"""Whether the backups of a folder can be trusted today (T-BAK-10), in one sentence.

Pure: the caller lists the folder and gives the clock. A verification is the restore drill
(a trial restore plus its report), so the newest *verified* backup is what counts; a backup
whose check failed raises the alarm until a newer one verifies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from factorypulse_desktop.backup.listing import BackupFile

DEFAULT_ALERT_DAYS = 35  # RELIABILITY.md T-BAK-10: a monthly drill, with a few days' grace


@dataclass(frozen=True)
class Health:
    ok: bool
    message: str
    newest_verified: BackupFile | None = None


def backup_health(backups: Sequence[BackupFile], now: datetime,
                  alert_after_days: int = DEFAULT_ALERT_DAYS) -> Health:
    """`backups` newest first (as `list_backups` returns them)."""
    checked = [b for b in backups if b.status in ("verified", "failed")]
    verified = next((b for b in checked if b.status == "verified"), None)
    if checked and checked[0].status == "failed":
        failed = checked[0]
        why = f": {failed.problems[0]}" if failed.problems else ""
        return Health(False, f"The check of the backup of {_day(failed.created_at)} failed{why}. "
                             "Make a new backup and verify it.", verified)
    if verified is None:
        return Health(False, "No backup has been verified yet: a backup counts once a trial "
                             "restore proved it can be restored.", None)
    age = (now - verified.created_at).days
    if age > alert_after_days:
        return Health(False, f"The newest verified backup is {age} days old "
                             f"(from {_day(verified.created_at)}). Make a new backup now.",
                      verified)
    when = "today" if age == 0 else "yesterday" if age == 1 else f"{age} days ago"
    return Health(True, f"The newest verified backup was made {when}.", verified)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")
