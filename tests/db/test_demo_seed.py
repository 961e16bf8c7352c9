"""The demo seed: two organizations, a person per role, rows of both in every table, idempotent."""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg
import pytest
from psycopg import sql

from factorypulse_desktop.data.db import make_engine
from factorypulse_desktop.data.demo import DemoSummary, seed_demo
from factorypulse_desktop.domain.enums import IntakeType, Role

SLUGS = ("acme", "globex")
STAGES = {
    "inquiry_received", "technical_review", "supplier_rfq_sent", "quoted", "order_confirmed",
    "procurement_planning", "production", "completed",
}


def _owner(db: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(db.owner_conninfo())


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'alembic_version' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _has_org_column(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = %s AND column_name = 'organization_id'", (table,)
    ).fetchone()
    return row is not None


def _counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    out = {}
    for table in _tables(conn):
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
        assert row is not None
        out[table] = int(row[0])
    return out


def _org_ids(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT slug, id FROM organizations WHERE slug = ANY(%s)", (list(SLUGS),)
    ).fetchall()
    return {slug: org for slug, org in rows}


def test_every_table_has_rows_of_both_organizations(demo_db: Any) -> None:
    with _owner(demo_db) as conn:
        orgs = _org_ids(conn)
        assert set(orgs) == set(SLUGS)
        empty: list[str] = []
        for table in _tables(conn):
            if table == "organizations":
                continue
            if table == "persons":
                for slug, org in orgs.items():
                    row = conn.execute(
                        "SELECT count(*) FROM persons p JOIN memberships m ON m.person_id = p.id "
                        "WHERE m.organization_id = %s", (org,)).fetchone()
                    if not row or row[0] == 0:
                        empty.append(f"persons/{slug}")
                continue
            assert _has_org_column(conn, table), f"{table} has no organization_id"
            for slug, org in orgs.items():
                row = conn.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE organization_id = %s").format(
                        sql.Identifier(table)), (org,)).fetchone()
                if not row or row[0] == 0:
                    empty.append(f"{table}/{slug}")
    assert empty == []


def test_second_run_changes_nothing(demo_db: Any) -> None:
    with _owner(demo_db) as conn:
        before = _counts(conn)
        snapshot = conn.execute(
            "SELECT md5(string_agg(p::text, ',' ORDER BY p.id)) FROM projects p").fetchone()
        roles = conn.execute(
            "SELECT md5(string_agg(rolname || coalesce(rolpassword, ''), ',' ORDER BY rolname)) "
            "FROM pg_authid WHERE rolname LIKE 'acme.%' OR rolname LIKE 'globex.%'").fetchone()
    engine = make_engine(demo_db.owner_url)
    try:
        summary = seed_demo(engine, password="factorypulse-demo")
    finally:
        engine.dispose()
    assert summary == DemoSummary(organizations_created=0, persons_created=0, rows_inserted=0)
    with _owner(demo_db) as conn:
        assert _counts(conn) == before
        assert conn.execute(
            "SELECT md5(string_agg(p::text, ',' ORDER BY p.id)) FROM projects p"
        ).fetchone() == snapshot
        assert conn.execute(
            "SELECT md5(string_agg(rolname || coalesce(rolpassword, ''), ',' ORDER BY rolname)) "
            "FROM pg_authid WHERE rolname LIKE 'acme.%' OR rolname LIKE 'globex.%'"
        ).fetchone() == roles


@pytest.mark.parametrize("slug", SLUGS)
def test_projects_cover_every_stage_and_intake_and_people_every_role(
    demo_db: Any, slug: str
) -> None:
    with _owner(demo_db) as conn:
        org = _org_ids(conn)[slug]
        stages = {r[0] for r in conn.execute(
            "SELECT DISTINCT s.slug FROM projects p JOIN workflow_stages s "
            "ON s.id = p.current_stage_id WHERE p.organization_id = %s", (org,))}
        intakes = {r[0] for r in conn.execute(
            "SELECT DISTINCT intake_type::text FROM projects WHERE organization_id = %s", (org,))}
        transitions = {r[0] for r in conn.execute(
            "SELECT DISTINCT transition FROM project_stage_history WHERE organization_id = %s",
            (org,))}
        members = conn.execute(
            "SELECT p.role_name, m.role::text, c.type::text FROM memberships m "
            "JOIN persons p ON p.id = m.person_id LEFT JOIN contacts c "
            "ON c.organization_id = m.organization_id AND c.id = m.contact_id "
            "WHERE m.organization_id = %s", (org,)).fetchall()
    assert stages == STAGES
    assert intakes == {i.value for i in IntakeType}
    assert transitions == {"created", "advance", "back", "skip"}
    by_name = {name: (role, contact_type) for name, role, contact_type in members}
    for role in Role:
        username = f"{slug}.{role.value}"
        assert username in by_name, username
        assert by_name[username][0] == role.value
        if role.is_portal:
            assert by_name[username][1] == role.value  # customer -> customer contact, ...


def test_stored_files_match_their_hash_and_size(demo_db: Any) -> None:
    with _owner(demo_db) as conn:
        objects = conn.execute(
            "SELECT organization_id, id, sha256, size, chunk_count, mime_type "
            "FROM storage_objects WHERE status = 'complete'").fetchall()
        assert len(objects) >= 10
        multi_chunk = 0
        for org, object_id, sha, size, chunk_count, mime in objects:
            chunks = conn.execute(
                "SELECT seq, data FROM blob_chunks WHERE organization_id = %s "
                "AND object_id = %s ORDER BY seq", (org, object_id)).fetchall()
            assert [seq for seq, _ in chunks] == list(range(chunk_count))
            data = b"".join(bytes(chunk) for _, chunk in chunks)
            assert len(data) == size
            assert hashlib.sha256(data).hexdigest() == sha
            if mime == "application/pdf":
                assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
            multi_chunk += chunk_count > 1
        assert multi_chunk >= 1  # at least one file crosses a chunk boundary
        versions = conn.execute(
            "SELECT count(*) FROM document_versions v JOIN storage_objects o "
            "ON o.organization_id = v.organization_id AND o.id = v.storage_object_id "
            "WHERE v.sha256 <> o.sha256 OR v.file_size <> o.size").fetchone()
        assert versions == (0,)


def test_sales_person_signs_in_and_sees_only_own_organization(demo_db: Any) -> None:
    with _owner(demo_db) as conn:
        orgs = _org_ids(conn)
    with psycopg.connect(demo_db.conninfo_for("acme.sales", "factorypulse-demo")) as conn:
        counts: dict[Any, int] = dict(conn.execute(
            "SELECT organization_id, count(*) FROM projects GROUP BY 1").fetchall())
        user = conn.execute("SELECT session_user").fetchone()
    assert user == ("acme.sales",)
    assert counts.get(orgs["acme"], 0) >= 12
    assert orgs["globex"] not in counts
