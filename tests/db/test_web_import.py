"""Import of a Factory Pulse web backup set into a new organization (issue 9, item 7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn, tenant_tables

from factorypulse_desktop.backup.web_import.cli import run
from factorypulse_desktop.backup.web_import.importer import Report
from factorypulse_desktop.cli import _engine

FIXTURES = Path(__file__).parents[1] / "fixtures" / "factory_pulse_web"
SECRETS = ("FAKEHASH", "FAKE-REFRESH-TOKEN", "FAKE-DRIVE")


def _counts(db: Any) -> dict[str, int]:
    with owner_conn(db) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # type: ignore[index]
                for t in tenant_tables(conn)}


def test_import_into_new_organization(demo_db: Any) -> None:
    engine = _engine(demo_db.owner_url)
    report = run(engine, FIXTURES, None, dry_run=False)
    assert report.organization == "precision-works"
    assert report.complete_is_schema_only
    assert report.created["persons"] == 4  # three internal, one supplier tied to its company
    assert report.created["contacts"] == 2
    assert report.created["projects"] == 2
    assert report.already["workflow_stages"] == 2 and report.created["workflow_stages"] == 2
    assert report.created["documents"] == 1 and report.created["document_versions"] == 2
    assert report.created["project_stage_history"] == 2
    reasons = " | ".join(r for _, _, r in report.skipped)
    assert 'status value "archived" unknown' in reasons
    assert "missing parent projects" in reasons
    assert 'unknown column "fax_number"' in reasons
    assert "malformed statement" in reasons
    assert "customer login needs its company" in reasons
    with owner_conn(demo_db) as conn:
        doc: Any = conn.execute("SELECT metadata FROM documents d JOIN organizations o "
                                "ON o.id = d.organization_id "
                                "WHERE o.slug = 'precision-works'").fetchone()
        assert doc[0]["content_in_backup"] is False
        assert doc[0]["original_storage_path"].endswith("ab12.pdf")
    # The person logs in with the one-time password.
    username, password = report.passwords[0]
    with psycopg.connect(demo_db.conninfo_for(username, password)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (username,)
    engine.dispose()


def _versions(db: Any) -> dict[str, int]:
    """The sum of the row versions of each table that has one: any UPDATE raises it."""
    with owner_conn(db) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'version'").fetchall()]
        return {t: conn.execute(  # type: ignore[index]
            f'SELECT coalesce(sum(version), 0) FROM "{t}"').fetchone()[0] for t in tables}


def test_second_run_and_dry_run_change_nothing(demo_db: Any) -> None:
    engine = _engine(demo_db.owner_url)
    first = run(engine, FIXTURES, None, dry_run=False)
    before, versions = _counts(demo_db), _versions(demo_db)
    again = run(engine, FIXTURES, None, dry_run=False)
    assert sum(again.created.values()) == 0 and again.passwords == []
    assert sum(again.updated.values()) == 0 and again.notes == []
    for table in set(first.created) | set(first.already) | set(first.updated):
        seen = first.created[table] + first.already[table] + first.updated[table]
        assert again.already[table] == seen, table
    assert again.already["project_sub_stage_progress"] == 3  # two filled in, one inserted
    assert _counts(demo_db) == before
    assert _versions(demo_db) == versions, "the second run updated rows"
    engine.dispose()


def test_dry_run_changes_nothing(demo_db: Any) -> None:
    before = _counts(demo_db)
    engine = _engine(demo_db.owner_url)
    report = run(engine, FIXTURES, None, dry_run=True)
    assert report.created["projects"] == 2 and report.passwords == []
    assert report.created["reviews"] == 2 and report.updated["project_sub_stage_progress"] == 2
    assert _counts(demo_db) == before
    engine.dispose()


def test_no_auth_value_in_any_table(demo_db: Any) -> None:
    engine = _engine(demo_db.owner_url)
    run(engine, FIXTURES, None, dry_run=False)
    engine.dispose()
    with owner_conn(demo_db) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', "
            "'jsonb', 'ARRAY')").fetchall()
        for table, column in columns:
            for secret in SECRETS:
                hit = conn.execute(
                    f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1',
                    (f"%{secret}%",)).fetchone()
                assert hit is None, f"{secret} found in {table}.{column}"


# Every table of the fixture lands in ours, with the values a user would check.

# Rows of the fixture that must land, per target table (trigger-made rows aside).
EXPECTED = {
    "workflow_stages": 4, "workflow_sub_stages": 5, "projects": 2, "documents": 1,
    "document_versions": 2, "document_access_log": 2, "reviews": 2, "supplier_rfqs": 1,
    "supplier_quotes": 1, "messages": 2, "message_reads": 1, "approvals": 2,
    "approval_steps": 2, "approval_step_approvers": 2,
    "approval_history": 1, "notifications": 2, "project_stage_history": 2, "review_risks": 1,
    "project_assignments": 2,
}
# What the new organization holds in the end: our default workflow (8 stages, 30 sub-stages)
# plus the imported extras; no trigger added notifications, reviews or history of its own.
IN_ORGANIZATION = {**EXPECTED, "workflow_stages": 10, "workflow_sub_stages": 32,
                   "project_sub_stage_progress": 9}


@pytest.fixture
def imported(migrated_db: Any) -> Iterator[tuple[Report, psycopg.Connection[Any], Any]]:
    engine = _engine(migrated_db.owner_url)
    report = run(engine, FIXTURES, None, dry_run=False)
    engine.dispose()
    with owner_conn(migrated_db) as conn:
        conn.execute("SET search_path = public")
        yield report, conn, migrated_db


def _one(conn: psycopg.Connection[Any], sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    assert row is not None, sql
    return row


def test_counts_per_target_table(imported: Any) -> None:
    report, conn, _db = imported
    for table, rows in EXPECTED.items():
        assert report.created[table] + report.already[table] == rows, table
    for table, rows in IN_ORGANIZATION.items():
        assert _one(conn, f"SELECT count(*) FROM {table} t JOIN organizations o "
                          "ON o.id = t.organization_id "
                          "WHERE o.slug = 'precision-works'") == (rows,), table
    # Old activity rows other than stage moves: three updates/creations and a sign-in.
    assert report.created["activity_log"] == 4
    assert report.updated["project_sub_stage_progress"] == 2
    assert report.created["project_sub_stage_progress"] == 1


def test_review_message_and_thread(imported: Any) -> None:
    _report, conn, _db = imported
    review = _one(conn, "SELECT review_type, reviewer_role, status, decision, comments, "
                        "priority, metadata FROM reviews WHERE comments IS NOT NULL")
    assert review[:5] == ("engineering", "engineering", "approved", "approved",
                          "Wall thickness OK at 4 mm")
    assert review[5] == "high"
    assert review[6] == {"web_review_type": "stage_approval_engineering", "form_version": 2}
    assert _one(conn, "SELECT category, severity, description, mitigation FROM review_risks"
                ) == ("technical", "low", "Thin rib", "Add a fillet")
    assert _one(conn, "SELECT priority FROM reviews WHERE review_type = 'quality'") == (
        "medium",), "the old 'normal' priority is our 'medium'"
    root = _one(conn, "SELECT id, thread_id, content, metadata FROM messages "
                      "WHERE subject = 'Housing tolerances'")
    assert root[1] == root[0] and root[2] == "Can we hold ±0.05 on the bore?"
    assert root[3]["web_attachments"][0]["name"] == "bore-detail.pdf"
    reply = _one(conn, "SELECT thread_id, parent_message_id, content FROM messages "
                       "WHERE parent_message_id IS NOT NULL")
    assert reply == (root[0], root[0], "Yes, with a reamer pass.")
    read = _one(conn, "SELECT p.display_name, r.read_at::text FROM message_reads r "
                      "JOIN persons p ON p.id = r.person_id")
    assert read == ("Binh Tran", "2025-08-22 10:30:00+00")


def test_approval_rfq_quote_and_progress(imported: Any) -> None:
    _report, conn, _db = imported
    approval = _one(conn, "SELECT a.status::text, a.entity_type, p.project_number, "
                          "a.decision_comments, d.display_name FROM approvals a "
                          "JOIN projects p ON p.id = a.entity_id "
                          "JOIN persons d ON d.id = a.decided_by "
                          "WHERE a.status = 'approved'")
    assert approval == ("approved", "project", "P-25082101",
                        "Margin 18% is fine for this volume", "An Nguyen")
    # Each approval has the step and approver ours decides it with, as it was decided.
    steps = conn.execute(
        "SELECT a.status::text, s.status, x.decision, coalesce(p.display_name, x.role::text), "
        "x.comment FROM approvals a JOIN approval_steps s ON s.approval_id = a.id "
        "AND s.step_number = a.step_number "
        "JOIN approval_step_approvers x ON x.approval_step_id = s.id "
        "LEFT JOIN persons p ON p.id = x.person_id ORDER BY a.requested_at").fetchall()
    assert steps == [
        ("approved", "approved", "approved", "An Nguyen", "Margin 18% is fine for this volume"),
        ("in_review", "pending", "pending", "qa", None),
    ]
    assert _one(conn, "SELECT action_type, old_status::text, new_status::text "
                      "FROM approval_history") == ("approved", "pending", "approved")
    rfq = _one(conn, "SELECT id, rfq_number, status, sent_at::text FROM supplier_rfqs")
    assert rfq[1:] == ("RFQ-2508-001", "quoted", "2025-08-23 10:00:00+00")
    quote = _one(conn, "SELECT quote_number, total_amount::text, currency, lead_time_days, "
                       "status, supplier_rfq_id FROM supplier_quotes")
    assert quote == ("SS-Q-7781", "98500000.00", "VND", 21, "submitted", rfq[0])
    progress = conn.execute(
        "SELECT p.project_number, s.slug, pr.status, pr.started_at::text, pr.notes "
        "FROM project_sub_stage_progress pr JOIN projects p ON p.id = pr.project_id "
        "JOIN workflow_sub_stages s ON s.id = pr.sub_stage_id WHERE pr.notes IS NOT NULL "
        "ORDER BY 1").fetchall()
    assert progress == [
        ("P-25082101", "engineering_technical_review", "in_progress",
         "2025-08-22 08:10:00+00", "Checking wall thickness"),
        ("P-25082102", "rfq_documentation_review", "completed", "2025-08-21 10:05:00+00",
         "Drawings complete"),
    ]
    # One row per project and sub-stage: the backup filled in the rows our trigger made.
    assert _one(conn, "SELECT count(*) = count(DISTINCT (project_id, sub_stage_id)) "
                      "FROM project_sub_stage_progress") == (True,)


def test_notifications_access_log_activity(imported: Any) -> None:
    _report, conn, _db = imported
    notes = conn.execute("SELECT p.display_name, n.status, n.read_at::text, "
                         "n.related_entity_type FROM notifications n "
                         "JOIN persons p ON p.id = n.person_id ORDER BY n.created_at").fetchall()
    assert notes == [("Binh Tran", "read", "2025-08-22 09:10:00+00", "review"),
                     ("Chi O'Le", "unread", None, "approval")]
    # Our trigger counted the imported views and downloads on the document.
    assert _one(conn, "SELECT link_access_count, link_last_accessed::text FROM documents"
                ) == (2, "2025-08-22 12:30:00+00")
    change = _one(conn, "SELECT action, entity_type, changes FROM activity_log "
                        "WHERE changes ? 'priority_level'")
    assert change == ("updated", "project",
                      {"priority_level": {"old": "medium", "new": "high"}})
    login = _one(conn, "SELECT entity_id, metadata FROM activity_log WHERE action = 'login'")
    assert login[0] is None
    assert login[1]["web_entity_id"] == "a0000000-0000-4000-8000-000000000077"


def test_portal_user_and_stage_orders(imported: Any) -> None:
    report, conn, db = imported
    portal = _one(conn, "SELECT p.role_name, p.display_name, m.role::text, c.company_name "
                        "FROM memberships m JOIN persons p ON p.id = m.person_id "
                        "JOIN contacts c ON c.id = m.contact_id")
    assert portal[1:] == ("Em Vo", "supplier", "Saigon Steel")
    # Logins are cluster-wide: another test database may hold "em-web" already.
    assert portal[0].startswith("em-web")
    password = dict(report.passwords)[portal[0]]
    with psycopg.connect(db.conninfo_for(portal[0], password)) as supplier:
        rfqs = supplier.execute("SELECT rfq_number FROM supplier_rfqs").fetchall()
    assert rfqs == [("RFQ-2508-001",)], "the supplier sees the RFQ addressed to it"
    orders = dict(conn.execute("SELECT slug, stage_order FROM workflow_stages").fetchall())
    assert orders["painting"] == 9 and orders["deburring"] == 10
    assert orders["supplier_rfq_sent"] == 3
    audit = _one(conn, "SELECT sub_stage_order FROM workflow_sub_stages "
                       "WHERE slug = 'supplier_audit'")
    assert audit == (4,)
    notes = " | ".join(report.notes)
    assert 'stage_order 3 is "Supplier RFQ Sent" here, so it was placed at 10' in notes
    assert "sub_stage_order 2" in notes and "placed at 4" in notes
    assert "made by our database for the current stage" in notes


def test_project_assignments_keep_who_works_on_what(imported: Any) -> None:
    _report, conn, _db = imported
    rows = conn.execute(
        "SELECT p.project_number, w.display_name, a.role, a.is_active, a.assigned_at::text, "
        "b.display_name FROM project_assignments a JOIN projects p ON p.id = a.project_id "
        "JOIN persons w ON w.id = a.person_id LEFT JOIN persons b ON b.id = a.assigned_by "
        "ORDER BY 1").fetchall()
    assert rows == [
        ("P-25082101", "Binh Tran", "engineer", True, "2025-08-22 08:00:00+00", "An Nguyen"),
        ("P-25082102", "Binh Tran", "member", False, "2025-08-22 08:05:00+00", None),
    ]


def test_skipped_rows_and_reasons(imported: Any) -> None:
    report, _conn, _db = imported
    skipped = {(table, old): reason for table, old, reason in report.skipped}
    assert skipped[("project_sub_stage_progress", "10000000-0000-4000-8000-000000000004")] == (
        'status value "waiting" unknown')
    assert skipped[("document_access_log", "50000000-0000-4000-8000-000000000003")] == (
        'action value "print" unknown')
    assert skipped[("reviews", "60000000-0000-4000-8000-000000000003")] == (
        'review_type value "legal" unknown')
    assert skipped[("reviews", "-")] == 'unknown column "risk_score" ignored'
    assert skipped[("reviews (risk)", "60000000-0000-4000-8000-000000000001#2")] == (
        'risk category value "legal" unknown')
    assert skipped[("project_assignments", "9a000000-0000-4000-8000-000000000003")].startswith(
        "missing parent projects")
    assert skipped[("supplier_rfqs", "70000000-0000-4000-8000-000000000002")].startswith(
        "missing parent projects")
    assert skipped[("supplier_quotes", "80000000-0000-4000-8000-000000000002")] == (
        'status value "pending" unknown')
    assert skipped[("messages", "90000000-0000-4000-8000-000000000003")] == (
        'message_type value "sms" unknown')
    # Refused by our trigger: skipped in a savepoint, the rest of the import goes on.
    assert skipped[("messages", "90000000-0000-4000-8000-000000000005")] == (
        "not accepted by our database: A message needs some text")
    assert skipped[("approvals", "a1000000-0000-4000-8000-000000000002")] == (
        'status value "on_ice" unknown')
    assert "not in the backup" in skipped[("approvals", "a1000000-0000-4000-8000-000000000003")]
    assert skipped[("approval_history", "a2000000-0000-4000-8000-000000000002")].startswith(
        "missing parent approvals")
    assert skipped[("notifications", "b1000000-0000-4000-8000-000000000003")].startswith(
        "missing parent users")
    assert "customer login needs its company" in skipped[
        ("users", "a0000000-0000-4000-8000-000000000004")]
    file_problems = [reason for table, _old, reason in report.skipped if table == "(file)"]
    assert "row not read: wrong number of values" in file_problems
    # Every public table of the fixture is mapped: only storage metadata is left out.
    not_imported = {t for t, _old, reason in report.skipped if reason.endswith("not imported")}
    assert not_imported == {"storage.buckets"}
    assert not any("only stage moves" in reason for _t, _old, reason in report.skipped)


def test_second_run_keeps_later_work(imported: Any) -> None:
    _report, conn, db = imported
    conn.execute("UPDATE project_sub_stage_progress SET notes = 'Done in the new app' "
                 "WHERE notes = 'Checking wall thickness'")
    conn.commit()
    engine = _engine(db.owner_url)
    again = run(engine, FIXTURES, None, dry_run=False)
    engine.dispose()
    assert sum(again.created.values()) == 0 and sum(again.updated.values()) == 0
    assert _one(conn, "SELECT count(*) FROM project_sub_stage_progress "
                      "WHERE notes = 'Done in the new app'") == (1,)
