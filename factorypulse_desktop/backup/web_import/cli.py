"""`factorypulse import factory-pulse-web DIR`: run the import and print its report."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from factorypulse_desktop.backup.web_import.importer import Report, import_backup


def run(engine: Engine, folder: Path, org: str | None, dry_run: bool) -> Report:
    """One transaction; a dry run rolls it back so nothing changes."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            report = import_backup(connection, folder, org)
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
            report.passwords.clear()  # those logins were never made
        else:
            transaction.commit()
    return report


def print_report(report: Report, dry_run: bool) -> None:
    if report.complete_is_schema_only:
        print("Note: the \"complete\" file of this set holds no data (schema only); "
              "the data came from the data file.")
    verb = "would be created" if dry_run else "created"
    print(f"Organization: {report.organization}")
    for table in sorted(set(report.created) | set(report.already) | set(report.updated)):
        filled = f", {report.updated[table]} filled in" if report.updated[table] else ""
        print(f"  {table}: {report.created[table]} {verb}{filled}, "
              f"{report.already[table]} already there")
    for note in report.notes:
        print(f"  note: {note}")
    for table, old_id, reason in report.skipped:
        print(f"  skipped {table} {old_id}: {reason}")
    if report.passwords:
        print("One-time passwords (shown once, not stored; each person must change it):")
        for username, password in report.passwords:
            print(f"  {username}: {password}")
