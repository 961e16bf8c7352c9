"""Import of a Factory Pulse web backup set into a new organization (issue 9, item 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from rls_support import owner_conn, tenant_tables

from factorypulse_desktop.backup.web_import.cli import run
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
