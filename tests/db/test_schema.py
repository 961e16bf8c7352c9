"""Migrations, the default workflow and race-free project numbers."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from rls_support import org_id, owner_conn, person_conn

from factorypulse_desktop.data import migrate
from factorypulse_desktop.data import people as people_data
from factorypulse_desktop.data.db import make_engine


def _public_tables(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_migrations_upgrade_from_empty_and_downgrade_back(empty_db: Any) -> None:
    url = empty_db.owner_url
    assert migrate.current_revision(url) is None
    migrate.upgrade(url)
    assert migrate.schema_status(url).up_to_date
    with owner_conn(empty_db) as conn:
        tables = _public_tables(conn)
        owners = {r[0] for r in conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    assert len(tables) >= 50
    assert owners == {"fp_owner"}, "objects belong to fp_owner, not to whoever migrated"
    migrate.downgrade(url, "base")
    assert migrate.current_revision(url) is None
    with owner_conn(empty_db) as conn:
        assert _public_tables(conn) == {"alembic_version"}
        assert conn.execute("SELECT count(*) FROM pg_type WHERE typname = 'user_role'"
                            ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'fp_private'"
                            ).fetchone() == (0,)
    migrate.upgrade(url)  # and back up again: the downgrade left nothing in the way
    assert migrate.schema_status(url).up_to_date


def test_new_organization_gets_default_workflow(migrated_db: Any) -> None:
    engine = make_engine(migrated_db.owner_url)
    with engine.begin() as conn:
        org = people_data.create_organization(conn, "fresh", "Fresh Works")
    engine.dispose()
    with owner_conn(migrated_db) as conn:
        stages = conn.execute(
            "SELECT stage_order, slug, responsible_roles::text[], estimated_duration_days "
            "FROM workflow_stages WHERE organization_id = %s ORDER BY stage_order", (org.id,)
        ).fetchall()
        subs = conn.execute(
            "SELECT s.slug, ss.sub_stage_order, ss.slug, ss.is_required, ss.can_skip, "
            "ss.requires_approval, ss.approval_roles::text[] FROM workflow_sub_stages ss "
            "JOIN workflow_stages s ON s.id = ss.workflow_stage_id "
            "WHERE ss.organization_id = %s ORDER BY s.stage_order, ss.sub_stage_order",
            (org.id,)).fetchall()
        bucket = conn.execute("SELECT name, max_file_size FROM storage_buckets "
                              "WHERE organization_id = %s", (org.id,)).fetchall()
    assert [s[1] for s in stages] == [
        "inquiry_received", "technical_review", "supplier_rfq_sent", "quoted",
        "order_confirmed", "procurement_planning", "production", "completed"]
    assert stages[1][2] == ["engineering", "qa", "production"]
    assert [s[3] for s in stages] == [20, 10, 5, 5, 5, 5, 4, 3]
    assert len(subs) == 30
    assert [len([s for s in subs if s[0] == st[1]]) for st in stages] == [3, 4, 4, 4, 3, 4, 4, 4]
    by_slug = {s[2]: s for s in subs}
    assert by_slug["customer_requirements_clarification"][3:5] == (False, True)
    assert by_slug["cross_team_review_meeting"][5:] == (True, ["engineering", "qa", "production"])
    assert by_slug["quote_review_and_approval"][6] == ["management"]
    assert sum(1 for s in subs if s[5]) == 13
    assert bucket == [("documents", 1073741824)]


def test_new_project_has_progress_rows_and_history(demo_db: Any) -> None:
    with person_conn(demo_db, "acme.sales") as conn:
        acme = org_id(conn, "acme")
        project = conn.execute(
            "INSERT INTO projects (organization_id, title, intake_type) "
            "VALUES (%s, 'Laser-cut panels', 'rfq') RETURNING id, project_number", (acme,)
        ).fetchone()
        assert project is not None
        progress = conn.execute(
            "SELECT ss.sub_stage_order, p.status FROM project_sub_stage_progress p "
            "JOIN workflow_sub_stages ss ON ss.id = p.sub_stage_id WHERE p.project_id = %s "
            "ORDER BY 1", (project[0],)).fetchall()
        history = conn.execute(
            "SELECT transition FROM project_stage_history WHERE project_id = %s",
            (project[0],)).fetchall()
    assert progress == [(1, "in_progress"), (2, "pending"), (3, "pending")]
    assert history == [("created",)]


def test_200_concurrent_project_inserts_get_unique_ids(demo_db: Any) -> None:
    with owner_conn(demo_db) as conn:
        acme = org_id(conn, "acme")
    workers, per_worker = 20, 10
    barrier = threading.Barrier(workers)

    def insert_many(worker: int) -> list[str]:
        numbers = []
        with person_conn(demo_db, "acme.sales") as conn:
            barrier.wait()
            for i in range(per_worker):
                row = conn.execute(
                    "INSERT INTO projects (organization_id, title) VALUES (%s, %s) "
                    "RETURNING project_number", (acme, f"Concurrent {worker}-{i}")).fetchone()
                conn.commit()
                assert row is not None
                numbers.append(row[0])
        return numbers

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = [n for chunk in pool.map(insert_many, range(workers)) for n in chunk]
    assert len(results) == 200
    assert len(set(results)) == 200
    prefixes = {n[:8] for n in results}
    assert len(prefixes) == 1 and next(iter(prefixes)).startswith("P-")
    # More than 99 a day: the sequence part widens instead of wrapping or failing.
    assert any(len(n) == 11 for n in results), "P-YYMMDD + 3 digits past 99"


def test_person_cannot_choose_project_number(demo_db: Any) -> None:
    with person_conn(demo_db, "acme.sales") as conn:
        acme = org_id(conn, "acme")
        row = conn.execute(
            "INSERT INTO projects (organization_id, project_number, title) "
            "VALUES (%s, 'P-99999999', 'Forged number') RETURNING project_number", (acme,)
        ).fetchone()
    assert row is not None and row[0] != "P-99999999"


def test_version_and_updated_at_kept_by_database(demo_db: Any) -> None:
    with person_conn(demo_db, "acme.sales") as conn:
        row = conn.execute(
            "SELECT id, version FROM contacts WHERE organization_id = %s LIMIT 1",
            (org_id(conn, "acme"),)).fetchone()
        assert row is not None
        after = conn.execute(
            "UPDATE contacts SET notes = %s, version = 1 WHERE id = %s RETURNING version",
            (f"note {uuid.uuid4()}", row[0])).fetchone()
    assert after == (row[1] + 1,)


def test_every_stage_change_is_recorded_in_history(demo_db: Any) -> None:
    with person_conn(demo_db, "acme.management") as conn:
        acme = org_id(conn, "acme")
        stages = dict(conn.execute(
            "SELECT slug, id FROM workflow_stages WHERE organization_id = %s", (acme,)))
        customer = conn.execute(
            "SELECT id FROM contacts WHERE organization_id = %s AND type = 'customer' LIMIT 1",
            (acme,)).fetchone()
        assert customer is not None
        row = conn.execute(
            "INSERT INTO projects (organization_id, title, customer_id) "
            "VALUES (%s, 'History check', %s) RETURNING id", (acme, customer[0])).fetchone()
        assert row is not None
        # The first stage's exit rules (revision 0003): its required steps are done.
        conn.execute("UPDATE project_sub_stage_progress SET status = 'completed' "
                     "WHERE project_id = %s AND workflow_stage_id = %s",
                     (row[0], stages["inquiry_received"]))
        moves = [("technical_review", None), ("quoted", "Repeat order"),
                 ("technical_review", "Drawing changed")]
        for slug, reason in moves:
            conn.execute("SELECT set_config('fp.transition_reason', %s, true)", (reason or "",))
            conn.execute("UPDATE projects SET current_stage_id = %s WHERE id = %s",
                         (stages[slug], row[0]))
        history = conn.execute(
            "SELECT transition, reason, actor_id = fp_private.my_person_id() "
            "FROM project_stage_history WHERE project_id = %s ORDER BY occurred_at, created_at, "
            "CASE transition WHEN 'created' THEN 0 ELSE 1 END", (row[0],)).fetchall()
        # Persons cannot write or rewrite history themselves.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM project_stage_history WHERE project_id = %s", (row[0],))
    assert [h[0] for h in history] == ["created", "advance", "skip", "back"]
    assert [h[1] for h in history] == [None, None, "Repeat order", "Drawing changed"]
    assert all(h[2] for h in history)


def test_imported_project_number_keeps_counter_ahead(demo_db: Any) -> None:
    with owner_conn(demo_db) as conn:
        acme = org_id(conn, "acme")
        today = conn.execute(
            "SELECT to_char((now() AT TIME ZONE (settings->>'timezone'))::date, 'YYMMDD') "
            "FROM organizations WHERE id = %s", (acme,)).fetchone()
        assert today is not None
        conn.execute("INSERT INTO projects (organization_id, project_number, title) "
                     "VALUES (%s, %s, 'Imported job')", (acme, f"P-{today[0]}57"))
        conn.commit()
    with person_conn(demo_db, "acme.sales") as conn:
        row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, 'Next') "
                           "RETURNING project_number", (acme,)).fetchone()
    assert row == (f"P-{today[0]}58",)
