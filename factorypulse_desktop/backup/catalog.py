"""What a database holds, counted the same way at backup time and after a restore."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

_TABLES = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1")

# Functions of our schemas that are not part of an extension (pg_trgm etc. are counted apart).
_FUNCTIONS = (
    "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname IN ('public', 'fp_private') AND NOT EXISTS (SELECT 1 FROM pg_depend d "
    "WHERE d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e')")
_TRIGGERS = (
    "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND NOT t.tgisinternal")
_POLICIES = "SELECT count(*) FROM pg_policies WHERE schemaname = 'public'"
_RLS_FORCED = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
    "AND c.relrowsecurity AND c.relforcerowsecurity ORDER BY 1")


def tables(conn: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in conn.execute(_TABLES)]


def row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables(conn):
        query = sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def _count(conn: psycopg.Connection[Any], query: str) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def expectations(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The security objects a faithful restore must bring back."""
    return {
        "policies": _count(conn, _POLICIES),
        "functions": _count(conn, _FUNCTIONS),
        "triggers": _count(conn, _TRIGGERS),
        "rls_forced_tables": [r[0] for r in conn.execute(_RLS_FORCED)],
    }


def not_valid_constraints(conn: psycopg.Connection[Any]) -> list[str]:
    return [f"{r[0]}.{r[1]}" for r in conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = 'public' AND NOT c.convalidated ORDER BY 1, 2")]
