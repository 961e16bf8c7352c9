"""Retention of backups (T-BAK-08), on simulated daily runs: no files, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factorypulse_desktop.backup.retention import Entry, Policy, to_keep

POLICY = Policy(daily=7, weekly=4, monthly=12)


def _runs(days: int, start: datetime = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)) -> list[Entry]:
    return [Entry((start + timedelta(days=n)).strftime("%Y-%m-%d"), start + timedelta(days=n),
                  verified=True) for n in range(days)]


def test_T_BAK_08_sixty_daily_runs_keep_exactly_the_policy_set() -> None:
    runs = _runs(60)  # 2026-01-01 (Thursday) … 2026-03-01 (Sunday)
    assert runs[-1].name == "2026-03-01"
    kept = to_keep(runs, POLICY)
    daily = {"2026-02-23", "2026-02-24", "2026-02-25", "2026-02-26", "2026-02-27",
             "2026-02-28", "2026-03-01"}
    weekly = {"2026-03-01", "2026-02-22", "2026-02-15", "2026-02-08"}  # Sundays end ISO weeks
    monthly = {"2026-03-01", "2026-02-28", "2026-01-31"}
    assert kept == daily | weekly | monthly
    assert len(kept) == 11


def test_T_BAK_08_newest_verified_never_deleted_and_unverified_push_nothing_out() -> None:
    runs = _runs(60)
    # Day 61's backup exists but has not verified yet: nothing that it would replace goes.
    pending = Entry("2026-03-02", datetime(2026, 3, 2, 2, 0, tzinfo=UTC), verified=False)
    kept = to_keep([*runs, pending], POLICY)
    assert kept == to_keep(runs, POLICY) | {"2026-03-02"}
    assert "2026-02-23" in kept
    # Once it verifies, the oldest daily backup of the window (not a weekly one) goes.
    verified = Entry(pending.name, pending.created_at, verified=True)
    after = to_keep([*runs, verified], POLICY)
    assert "2026-03-02" in after and "2026-02-23" not in after


def test_T_BAK_08_failed_newest_keeps_last_verified_even_with_tiny_policy() -> None:
    runs = _runs(5)
    failed = [Entry(e.name, e.created_at, verified=(e.name == "2026-01-02")) for e in runs]
    kept = to_keep(failed, Policy(daily=0, weekly=0, monthly=0))
    # The only verified backup stays, and so does everything newer (not yet proven bad/good).
    assert kept == {"2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"}


def test_T_BAK_08_nothing_deleted_without_any_verified_backup() -> None:
    runs = [Entry(e.name, e.created_at, verified=False) for e in _runs(30)]
    assert to_keep(runs, POLICY) == {e.name for e in runs}
