"""The ORM models describe exactly the migrated schema, and their optimistic lock works.

The migration is the source of truth; factorypulse_desktop/data/models.py must follow it. Alembic's
comparison covers tables, columns, types, nullability, server defaults, foreign keys, unique
constraints and index columns. What it does not compare is checked here against the catalog:
index methods, operator classes and predicates, deferrable unique constraints, generated-column
expressions (alembic only warns) and enum labels.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Connection,
    FetchedValue,
    Table,
    UniqueConstraint,
    create_engine,
    pool,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.schema import CreateIndex

from factorypulse_desktop.data import people
from factorypulse_desktop.data.models import PG_ENUMS, Base, Contact
from factorypulse_desktop.domain.enums import Role

PASSWORD = "password-123"


@pytest.fixture
def owner(migrated_db: Any) -> Iterator[Connection]:
    engine = create_engine(migrated_db.owner_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _catalog_tables(conn: Connection) -> set[str]:
    rows = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    return {row[0] for row in rows} - {"alembic_version"}


# --------------------------------------------------------------------------------------------
# (a) the metadata is the migrated schema
# --------------------------------------------------------------------------------------------


def test_orm_tables_are_exactly_the_schema_tables(owner: Connection) -> None:
    assert set(Base.metadata.tables) == _catalog_tables(owner)


def test_orm_metadata_matches_migrated_schema(owner: Connection) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context = MigrationContext.configure(
            owner, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(context, Base.metadata)
    # No diff kind is filtered: every server default in models.py is spelled the way
    # PostgreSQL reports it, so even defaults compare as plain text.
    assert diff == []
    # Alembic reports what it cannot compare (e.g. a differing generated-column expression,
    # an index it could not reflect) only as a warning: those count as differences too.
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning | SAWarning)]
    assert messages == []


def test_indexes_match_exactly(owner: Connection) -> None:
    """Method (gin), operator classes, sort order and partial predicates, which alembic skips."""
    rows = owner.execute(
        text(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = 'public' AND NOT EXISTS (
                   SELECT 1 FROM pg_constraint k
                   WHERE k.conindid = format('public.%I', i.indexname)::regclass)"""
        )
    )
    # pg_get_indexdef qualifies the table and always names the (default) btree method.
    in_db = {
        name: ddl.replace(" ON public.", " ON ").replace(" USING btree ", " ") for name, ddl in rows
    }
    in_orm = {
        index.name: str(CreateIndex(index).compile(dialect=postgresql.dialect()))
        for table in Base.metadata.tables.values()
        for index in table.indexes
    }
    assert in_orm == in_db


def test_unique_constraints_match_including_deferrable(owner: Connection) -> None:
    rows = owner.execute(
        text(
            """SELECT t.relname,
                      array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
                            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num
                            ORDER BY k.ord),
                      c.condeferrable, c.condeferred
               FROM pg_constraint c
               JOIN pg_class t ON t.oid = c.conrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace
               WHERE n.nspname = 'public' AND c.contype = 'u'"""
        )
    )
    in_db = {
        (table, tuple(cols), deferrable, deferred) for table, cols, deferrable, deferred in rows
    }
    in_orm = {
        (
            table.name,
            tuple(column.name for column in constraint.columns),
            bool(constraint.deferrable),
            (constraint.initially or "").upper() == "DEFERRED",
        )
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    }
    assert in_orm == in_db


def test_enum_types_match_python_enums(owner: Connection) -> None:
    rows = owner.execute(
        text(
            """SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               JOIN pg_enum e ON e.enumtypid = t.oid
               WHERE n.nspname = 'public'
               GROUP BY t.typname"""
        )
    )
    in_db = {name: list(labels) for name, labels in rows}
    assert {name: list(enum.enums) for name, enum in PG_ENUMS.items()} == in_db


# --------------------------------------------------------------------------------------------
# (b) optimistic locking is declared everywhere it can be
# --------------------------------------------------------------------------------------------


def test_T_CONC_09_every_editable_class_has_version_id_col(owner: Connection) -> None:
    mapped_with_version: set[str] = set()
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        assert isinstance(table, Table), mapper
        if "version" not in table.c:
            assert mapper.version_id_col is None, table.name
            continue
        mapped_with_version.add(table.name)
        version = table.c.version
        assert not version.nullable, table.name
        assert mapper.version_id_col is version, table.name
        # The trigger increments it; SQLAlchemy must only compare and read it back.
        assert mapper.version_id_generator is False, table.name
        assert version.server_default is not None, table.name
        updated_at = table.c.updated_at
        assert isinstance(updated_at.server_onupdate, FetchedValue), table.name

    # Catalog side: whatever has updated_at has a NOT NULL integer version that tg_touch bumps.
    rows = owner.execute(
        text(
            """SELECT u.table_name, v.data_type, v.is_nullable,
                      EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
                              WHERE g.tgrelid = format('public.%I', u.table_name)::regclass
                                AND p.proname = 'tg_touch' AND NOT g.tgisinternal) AS touched
               FROM information_schema.columns u
               LEFT JOIN information_schema.columns v
                 ON v.table_schema = u.table_schema AND v.table_name = u.table_name
                AND v.column_name = 'version'
               WHERE u.table_schema = 'public' AND u.column_name = 'updated_at'"""
        )
    ).all()
    assert rows, "no table with updated_at: the query is wrong"
    for table_name, data_type, is_nullable, touched in rows:
        assert data_type == "integer", table_name
        assert is_nullable == "NO", table_name
        assert touched, f"{table_name} has no tg_touch trigger"
    versioned_in_db = {
        row[0]
        for row in owner.execute(
            text(
                """SELECT table_name FROM information_schema.columns
                   WHERE table_schema = 'public' AND column_name = 'version'"""
            )
        )
    }
    assert mapped_with_version == versioned_in_db == {row[0] for row in rows}


# --------------------------------------------------------------------------------------------
# (c) a real person's ORM session: the database bumps the version, stale writes fail
# --------------------------------------------------------------------------------------------


def test_orm_round_trip_bumps_version_and_rejects_stale_update(migrated_db: Any) -> None:
    owner_engine = create_engine(migrated_db.owner_url, poolclass=pool.NullPool)
    username = f"orm.user{uuid4().hex[:6]}"  # logins are cluster-wide: keep them unique
    try:
        with owner_engine.begin() as conn:
            org = people.create_organization(conn, f"orm-{uuid4().hex[:6]}", "ORM Test")
            person_id = people.add_person(conn, org, username, Role.SALES, PASSWORD)
    finally:
        owner_engine.dispose()

    engine = create_engine(migrated_db.url_for(username, PASSWORD), poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            contact = Contact(organization_id=org.id, company_name="Orm Parts")
            session.add(contact)
            session.flush()
            # Read back with RETURNING: defaults, the version and the trigger's actor stamp.
            assert contact.version == 1
            assert contact.created_by == person_id
            assert contact.capability_tags == []
            inserted_at = contact.updated_at
            session.commit()
            contact_id = contact.id

            contact.city = "Graz"
            session.flush()
            assert contact.version == 2
            assert contact.updated_at > inserted_at
            session.commit()

            contact.city = "Linz"
            session.commit()
            assert contact.version == 3

        with Session(engine) as mine, Session(engine) as theirs:
            stale = mine.get_one(Contact, contact_id)
            assert stale.version == 3
            fresh = theirs.get_one(Contact, contact_id)
            fresh.notes = "changed first"
            theirs.commit()
            assert fresh.version == 4

            stale.notes = "changed second"
            with pytest.raises(StaleDataError):
                mine.flush()
            mine.rollback()

        with Session(engine) as session:
            row = session.execute(
                select(Contact.version, Contact.notes, Contact.city).where(Contact.id == contact_id)
            ).one()
            assert tuple(row) == (4, "changed first", "Linz")
    finally:
        engine.dispose()
