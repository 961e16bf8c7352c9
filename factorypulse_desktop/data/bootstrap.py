"""Cluster- and database-level setup that migrations cannot do as the owner.

PostgreSQL roles live in the cluster, not in one database, so they are created here (idempotently)
with the rights of whoever runs `factorypulse db upgrade` (a superuser, see the admin guide).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# fp_owner owns every object and is subject to forced RLS like everyone else.
# fp_security owns only the SECURITY DEFINER helpers and may bypass RLS inside them.
# fp_member is the group of all person logins; fp_backup reads everything for pg_dump.
_ROLES_SQL = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fp_owner') THEN
        CREATE ROLE fp_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fp_member') THEN
        CREATE ROLE fp_member NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fp_security') THEN
        CREATE ROLE fp_security NOLOGIN BYPASSRLS CREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fp_backup') THEN
        CREATE ROLE fp_backup NOLOGIN BYPASSRLS;
    END IF;
END
$$;
"""

_GRANTS_SQL = [
    # fp_security creates person logins and adds them to fp_member.
    "GRANT fp_member TO fp_security WITH ADMIN OPTION",
    # fp_owner must be able to hand objects to fp_security (ALTER FUNCTION ... OWNER TO).
    "GRANT fp_security TO fp_owner",
    "GRANT pg_read_all_data TO fp_backup",
    "ALTER ROLE fp_backup SET default_transaction_read_only = on",
]


def bootstrap_database(connection: Connection) -> None:
    """Create the fixed roles, extensions and schema rights the migrations rely on."""
    connection.execute(text(_ROLES_SQL))
    for statement in _GRANTS_SQL:
        connection.execute(text(statement))
    me = connection.execute(text("SELECT current_user")).scalar_one()
    is_super = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    ).scalar_one()
    if not is_super:
        # A non-superuser admin must be able to SET ROLE fp_owner to run the revisions.
        connection.execute(text(f'GRANT fp_owner TO "{me}"'))
    dbname = connection.execute(text("SELECT current_database()")).scalar_one()
    connection.execute(text(f'REVOKE ALL ON DATABASE "{dbname}" FROM PUBLIC'))
    connection.execute(text(f'GRANT CONNECT, TEMPORARY ON DATABASE "{dbname}" TO fp_member'))
    connection.execute(text(f'GRANT CONNECT ON DATABASE "{dbname}" TO fp_backup'))
    connection.execute(text(f'GRANT CREATE ON DATABASE "{dbname}" TO fp_owner'))
    connection.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    connection.execute(text("GRANT USAGE, CREATE ON SCHEMA public TO fp_owner"))
    connection.execute(text("GRANT USAGE ON SCHEMA public TO fp_member, fp_security, fp_backup"))
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public"))
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public"))
