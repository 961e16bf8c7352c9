"""Reading the whole database as fp_backup in one read-only snapshot (backups, org exports)."""

from __future__ import annotations

from typing import Any

import psycopg

from factorypulse_desktop.domain.errors import UserFacingError

BACKUP_ROLE = "fp_backup"


def begin_as_backup_role(conn: psycopg.Connection[Any], cannot: str) -> None:
    """Open a REPEATABLE READ READ ONLY transaction acting as fp_backup (it bypasses RLS).

    T-BAK-06: a person's login is refused — it sees only its own organization, so what it read
    would be incomplete. `cannot` names the job: "cannot make backups".
    """
    allowed = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) "
        "AND pg_has_role(current_user, %s, 'MEMBER')", (BACKUP_ROLE, BACKUP_ROLE)).fetchone()
    if not allowed or not allowed[0]:
        raise UserFacingError(
            f"{conn.info.user} {cannot}: a person's login sees only its own organization "
            "(row-level security), so the result would be incomplete. Use the database "
            f"owner's or an administrator's connection (a member of {BACKUP_ROLE}).")
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    conn.execute(f"SET LOCAL ROLE {BACKUP_ROLE}")
