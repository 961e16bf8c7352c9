"""Resilience fixes: SECURITY DEFINER functions search pg_temp last.

PostgreSQL looks in the session's temporary schema FIRST for tables, views and types unless
the search_path names `pg_temp` explicitly (then where it is named; for functions and
operators it is never searched unless named). Every person may create temporary tables
(CONNECT, TEMPORARY on the database through fp_member), so a definer function pinned to
``pg_catalog, public`` would read a person's ``pg_temp.memberships`` instead of the real one
wherever a table name is not schema-qualified. The functions qualify their tables today; this
makes that safe by construction, as the PostgreSQL manual advises for SECURITY DEFINER
("Writing SECURITY DEFINER Functions Safely"): pg_temp is named, last.

The change is made from the catalog, so every definer function of the app's schemas is
covered, whichever revision created it (tests/resilience/test_hostile_person.py T-HOST-04).

Revision ID: 20261126_0018
Revises: 20261126_0017
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_0018"
down_revision: str | None = "20261126_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALTER = r"""
DO $$
DECLARE
    f record;
    current_path text;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS signature, p.proconfig
        FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND n.nspname IN ('public', 'fp_private')
    LOOP
        SELECT substr(c, length('search_path=') + 1) INTO current_path
        FROM unnest(f.proconfig) AS c WHERE c LIKE 'search_path=%';
        current_path := coalesce(current_path, 'pg_catalog, public');
        {body}
    END LOOP;
END
$$;
"""

_UPGRADE = _ALTER.format(body=r"""
        IF current_path !~ 'pg_temp\s*$' THEN
            EXECUTE format('ALTER FUNCTION %s SET search_path = %s, pg_temp',
                           f.signature, current_path);
        END IF;""")

_DOWNGRADE = _ALTER.format(body=r"""
        IF current_path ~ ',\s*pg_temp\s*$' THEN
            EXECUTE format('ALTER FUNCTION %s SET search_path = %s', f.signature,
                           regexp_replace(current_path, ',\s*pg_temp\s*$', ''));
        END IF;""")


def upgrade() -> None:
    op.execute(_UPGRADE)


def downgrade() -> None:
    op.execute(_DOWNGRADE)
