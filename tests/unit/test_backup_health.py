"""The backup alert's sentence (T-BAK-10's rule, without files or a clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from factorypulse_desktop.backup.health import backup_health
from factorypulse_desktop.backup.listing import BackupFile

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def made(days_ago: int, status: str, problems: tuple[str, ...] = ()) -> BackupFile:
    when = NOW - timedelta(days=days_ago)
    return BackupFile(Path(f"b{days_ago}.dump"), "complete", when, 10, status,
                      when.isoformat() if status in ("verified", "failed") else None, problems)


def test_a_recent_verified_backup_is_healthy() -> None:
    health = backup_health([made(0, "unverified"), made(2, "verified")], NOW)
    assert health.ok and "2 days ago" in health.message


def test_older_than_the_limit_alerts_with_the_age() -> None:
    health = backup_health([made(36, "verified")], NOW, alert_after_days=35)
    assert not health.ok and "36 days old" in health.message
    assert backup_health([made(35, "verified")], NOW, alert_after_days=35).ok


def test_the_newest_check_failing_alerts_until_a_newer_one_verifies() -> None:
    failed = made(1, "failed", ("row counts differ: projects",))
    health = backup_health([failed, made(3, "verified")], NOW)
    assert not health.ok and "failed" in health.message and "row counts differ" in health.message
    assert backup_health([made(0, "verified"), failed], NOW).ok


def test_no_verified_backup_alerts() -> None:
    assert not backup_health([], NOW).ok
    assert not backup_health([made(0, "unverified")], NOW).ok
