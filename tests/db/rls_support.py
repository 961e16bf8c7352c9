"""Helpers for the isolation tests: catalog queries and connections as real persons."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg import sql

SENTINEL = "B-ONLY-7f3a"

# Text columns we try, in order, to plant the sentinel in one row of organization B per table.
SENTINEL_COLUMNS = (
    "title", "name", "company_name", "item_name", "chain_name", "description", "content",
    "message", "notes", "note", "comments", "comment", "reason", "reference", "change_summary",
    "user_agent", "requirements", "display_name", "google_email", "client_secret", "client_id",
    "department", "attachment_type", "entity_type", "page", "action", "code", "unit",
)


def tenant_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Every table of schema public, straight from pg_class (new tables are covered too)."""
    rows = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
             AND c.relname <> 'alembic_version'
           ORDER BY 1"""
    ).fetchall()
    return [r[0] for r in rows]


def columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position""",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def org_id(conn: psycopg.Connection[Any], slug: str) -> uuid.UUID:
    row = conn.execute("SELECT id FROM organizations WHERE slug = %s", (slug,)).fetchone()
    assert row is not None, slug
    return row[0]


def org_column(table: str) -> str:
    return "id" if table == "organizations" else "organization_id"


def plant_sentinels(conn: psycopg.Connection[Any], org_b: uuid.UUID) -> dict[str, str]:
    """As the owner, write the sentinel into one of B's rows in every table that allows it."""
    planted: dict[str, str] = {}
    for table in tenant_tables(conn):
        cols = columns(conn, table)
        if "organization_id" not in cols and table != "organizations":
            continue
        for column in SENTINEL_COLUMNS:
            if column not in cols:
                continue
            query = sql.SQL(
                "UPDATE {t} SET {c} = {c} || %s WHERE ctid = (SELECT ctid FROM {t} "
                "WHERE {o} = %s AND {c} IS NOT NULL LIMIT 1)"
            ).format(
                t=sql.Identifier(table), c=sql.Identifier(column),
                o=sql.Identifier(org_column(table)),
            )
            try:
                with conn.transaction():
                    cur = conn.execute(query, (" " + SENTINEL, org_b))
                    if cur.rowcount == 1:
                        planted[table] = column
                        break
            except psycopg.Error:
                continue  # a CHECK on that column: try the next one
    return planted


def person_conn(db: Any, username: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A connection with the person's own login and password, exactly as psql would use."""
    return psycopg.connect(db.conninfo_for(username), **kwargs)


def owner_conn(db: Any, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(db.owner_conninfo(), **kwargs)


def visible_rows_of(
    conn: psycopg.Connection[Any], table: str, org: uuid.UUID
) -> int:
    query = sql.SQL("SELECT count(*) FROM {t} WHERE {o} = %s").format(
        t=sql.Identifier(table), o=sql.Identifier(org_column(table))
    )
    row = conn.execute(query, (org,)).fetchone()
    assert row is not None
    return int(row[0])


def rows_containing(conn: psycopg.Connection[Any], table: str, needle: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {t} AS r WHERE r::text LIKE %s").format(
        t=sql.Identifier(table)
    )
    row = conn.execute(query, (f"%{needle}%",)).fetchone()
    assert row is not None
    return int(row[0])
