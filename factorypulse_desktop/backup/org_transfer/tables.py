"""Every public table, classified: carried per organization, or deliberately left behind.

The lists are written out by hand on purpose: a table added by a future migration is refused by
`check_classification` (and by a test) until someone decides whether it belongs to an
organization's export. Silently skipping a new table would lose data on a move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from factorypulse_desktop.domain.errors import UserFacingError

ORGANIZATIONS = "organizations"
PERSONS = "persons"
MEMBERSHIPS = "memberships"

# Tables with an organization_id column whose rows of one organization are carried whole.
TENANT_TABLES: frozenset[str] = frozenset({
    "activity_log", "approval_attachments", "approval_chain_step_approvers",
    "approval_chain_steps", "approval_chains", "approval_delegation_mappings",
    "approval_delegations", "approval_history", "approval_step_approvers", "approval_steps",
    "approvals", "blob_chunks", "contacts", "document_access_log", "document_versions",
    "documents", "google_drive_client_secrets", "google_drive_config",
    "google_drive_connections", "inventory_balances", "inventory_items", "inventory_locations",
    MEMBERSHIPS, "message_attachments", "message_mentions", "message_reads", "messages",
    "notification_preferences", "notifications", "procurement_number_counters",
    "production_events", "production_operations", "production_order_materials",
    "production_orders", "project_assignments", "project_number_counters",
    "project_stage_history", "project_sub_stage_progress", "projects", "purchase_order_lines",
    "purchase_orders", "review_risks", "reviews", "saved_filters", "stock_movements",
    "storage_buckets", "storage_objects", "supplier_quote_lines", "supplier_quotes",
    "supplier_rfq_documents", "supplier_rfqs", "work_centers", "workflow_stages",
    "workflow_sub_stages",
})

# Not carried, and why.
NOT_EXPORTED: dict[str, str] = {
    "alembic_version": "the schema version of the database, not data (checked instead)",
    # Its ids come from one sequence per database, so they would collide in the target; it
    # only tells running workstations what changed, and a moved organization has none yet.
    "change_log": "the live-update feed of running workstations (numbered per database)",
}


@dataclass(frozen=True)
class TableSpec:
    """How one table is read and written: its columns (generated ones excluded, the database
    computes them again) and the key that orders its rows canonically."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    def select(self, org_id: str) -> sql.Composed:
        """The organization's rows, in key order (the canonical content that is hashed)."""
        return sql.SQL("SELECT {cols} FROM public.{table} WHERE {where} ORDER BY {key}").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, self.columns)),
            table=sql.Identifier(self.name),
            where=row_filter(self.name, org_id),
            key=sql.SQL(", ").join(map(sql.Identifier, self.key)))

    def copy_in(self) -> sql.Composed:
        return sql.SQL("COPY public.{table} ({cols}) FROM STDIN").format(
            table=sql.Identifier(self.name),
            cols=sql.SQL(", ").join(map(sql.Identifier, self.columns)))


def row_filter(table: str, org_id: str, alias: str | None = None) -> sql.Composable:
    """The WHERE condition selecting one organization's rows of a carried table."""
    org = sql.Literal(org_id)
    if table == ORGANIZATIONS:
        column = "id"
    elif table == PERSONS:
        # Persons have no organization: those with a membership in it travel with it.
        return sql.SQL("{} IN (SELECT m.person_id FROM public.memberships m "
                       "WHERE m.organization_id = {}::uuid)").format(
            sql.Identifier(*filter(None, [alias, "id"])), org)
    else:
        column = "organization_id"
    return sql.SQL("{} = {}::uuid").format(sql.Identifier(*filter(None, [alias, column])), org)


def exported_tables() -> list[str]:
    """Load order: the organization, its persons, memberships, then the rest by name (foreign
    keys are checked once at the end, so the order only keeps reports stable)."""
    rest = sorted(TENANT_TABLES - {MEMBERSHIPS})
    return [ORGANIZATIONS, PERSONS, MEMBERSHIPS, *rest]


def public_tables(conn: psycopg.Connection[Any]) -> dict[str, bool]:
    """Every table of the public schema and whether it has an organization_id column."""
    rows = conn.execute(
        "SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid "
        "AND a.attname = 'organization_id' AND NOT a.attisdropped) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1").fetchall()
    return {str(name): bool(has_org) for name, has_org in rows}


def unclassified(conn: psycopg.Connection[Any]) -> list[str]:
    """Tables of the database that this module does not know (and known ones now missing)."""
    present = public_tables(conn)
    known = set(exported_tables()) | set(NOT_EXPORTED)
    problems = [name for name in present if name not in known]
    problems += [f"{name} (missing)" for name in sorted(known - set(present))]
    problems += [f"{name} (no organization_id)" for name in sorted(TENANT_TABLES)
                 if name in present and not present[name]]
    return problems


def check_classification(conn: psycopg.Connection[Any]) -> None:
    problems = unclassified(conn)
    if problems:
        raise UserFacingError(
            "This version of Factory Pulse does not know how to move these tables with an "
            f"organization: {', '.join(problems)}. Nothing was exported or imported; install the "
            "Factory Pulse version that matches this database.")


def specs(conn: psycopg.Connection[Any]) -> list[TableSpec]:
    """The carried tables with their writable columns and primary key, in load order."""
    result = []
    for name in exported_tables():
        columns = tuple(r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", (f"public.{name}",)))
        key = tuple(r[0] for r in conn.execute(
            "SELECT a.attname FROM pg_index i "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY k.pos",
            (f"public.{name}",)))
        result.append(TableSpec(name, columns, key or columns))
    return result
