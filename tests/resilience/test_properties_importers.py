"""Property-based tests (hypothesis) of the importers (T-IN-04, T-IN-05, T-BAK-05).

- The contacts and inventory CSV importers, on generated CSV bytes (any encoding, delimiter,
  quoting, BOM, NUL, formula cells, ragged rows), never crash: each file is imported whole or
  refused whole with a row/column message, and the export afterwards holds no formula-unsafe
  cell. One database for all examples (the import runs as acme's own people).
- The web-backup reader, on generated and mutated SQL text, never touches a database or the
  network (every way to connect is replaced by a tripwire), never raises, returns only text
  values, and reports malformed statements with their line.
"""

from __future__ import annotations

import csv
import io
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.backup.web_import import reader
from factorypulse_desktop.domain.csv_safety import FORMULA_STARTS
from factorypulse_desktop.services import contacts_csv, inventory_csv
from factorypulse_desktop.services.auth import sign_in

DB_SETTINGS = settings(max_examples=80, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture,
                                              HealthCheck.too_slow])






@pytest.fixture(scope="module")
def people(module_demo_db: Any) -> Iterator[dict[str, Any]]:
    with psycopg.connect(module_demo_db.owner_conninfo()) as owner:
        row = owner.execute("SELECT id FROM organizations WHERE slug = 'acme'").fetchone()
    assert row is not None
    profile = profile_for(module_demo_db)
    with sign_in(profile, "acme.sales", DEMO_PASSWORD) as sales, \
            sign_in(profile, "acme.procurement", DEMO_PASSWORD) as procurement:
        yield {"org": row[0], "sales": sales, "procurement": procurement}


def _count(db: Any, table: str, org: uuid.UUID) -> int:
    with psycopg.connect(db.owner_conninfo()) as owner:
        row = owner.execute(sql.SQL("SELECT count(*) FROM {} WHERE organization_id = %s")
                            .format(sql.Identifier(table)), (org,)).fetchone()
    assert row is not None
    return int(row[0])


# Cells with the troublesome content over-represented.
_CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["=1+1", "+33 1", "-5", "@SUM(A1)", "\tTAB", "\rCR", "a\nb", '"q"',
                     "x\x00y", "\U0001f984", "e\u0301", "12,5", "1.000,50", "yes", "no",
                     "customer", "supplier", "pcs", "kg", "", " ", "\u202e", "ÿ" * 3]),
)
_CONTACT_HEADINGS = ["Company", "Type", "Contact name", "Email", "Phone", "City", "Country",
                     "Credit limit", "Active", "Notes", "Capabilities", "Company", "Bogus"]
_ITEM_HEADINGS = ["Item code", "Name", "Category", "Unit", "Min stock", "Unit cost",
                  "Status", "Allow negative", "Barcode", "Name", "Bogus"]


@st.composite
def csv_files(draw: st.DrawFn, headings: list[str]) -> bytes:
    chosen = draw(st.lists(st.sampled_from(headings), min_size=1, max_size=6))
    width = len(chosen)
    rows = draw(st.lists(st.lists(_CELL, min_size=max(0, width - 1), max_size=width + 1),
                         max_size=5))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(
        st.sampled_from(["\r\n", "\n"])))
    writer.writerow(chosen)
    writer.writerows(rows)
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    data = text.encode(encoding, "replace") if encoding != "utf-8" else text.encode(
        "utf-8", "surrogatepass")
    if draw(st.booleans()):  # raw damage: cut, or a byte flipped
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=4)) + data[cut + 1:]
    return data


def _assert_safe_export(data: bytes) -> None:
    text = data.decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            assert not cell or cell[0] not in FORMULA_STARTS, cell


@DB_SETTINGS
@given(data=csv_files(_CONTACT_HEADINGS))
def test_T_IN_04_contacts_csv_imports_whole_or_refuses_whole(
    module_demo_db: Any, people: dict[str, Any], data: bytes
) -> None:
    org, ws = people["org"], people["sales"]
    before = _count(module_demo_db, "contacts", org)
    parsed = contacts_csv.parse_contacts_csv(data)  # never raises for a bad file
    try:
        report = contacts_csv.import_contacts(ws, org, data)
    except contacts_csv.ContactsImportError as refused:
        assert refused.errors and str(refused)
        assert all(e.message for e in refused.errors)
        assert _count(module_demo_db, "contacts", org) == before  # 0 partial imports
        return
    assert not parsed.errors
    assert report.imported == len(parsed.rows)
    assert _count(module_demo_db, "contacts", org) == before + report.imported
    _assert_safe_export(contacts_csv.export_contacts(ws, org))


@DB_SETTINGS
@given(data=csv_files(_ITEM_HEADINGS))
def test_T_IN_04_inventory_csv_imports_whole_or_refuses_whole(
    module_demo_db: Any, people: dict[str, Any], data: bytes
) -> None:
    org, ws = people["org"], people["procurement"]
    before = _count(module_demo_db, "inventory_items", org)
    parsed = inventory_csv.parse_items_csv(data)
    try:
        report = inventory_csv.import_items(ws, org, data)
    except inventory_csv.ItemsImportError as refused:
        assert refused.errors and str(refused)
        assert all(e.message for e in refused.errors)
        assert _count(module_demo_db, "inventory_items", org) == before
        return
    assert not parsed.errors
    assert report.imported == len(parsed.rows)
    assert _count(module_demo_db, "inventory_items", org) == before + report.imported
    _assert_safe_export(inventory_csv.export_items(ws, org))


# -- the web-backup reader --------------------------------------------------------------------

_STATEMENTS = [
    "INSERT INTO public.projects (id, title) VALUES ('0f0e', 'A title');",
    "INSERT INTO public.projects (id, title) VALUES ('a', 'it''s'), ('b', NULL);",
    "INSERT INTO public.contacts (id, n) VALUES (1, 2.5), (2, true);",
    "INSERT INTO public.x (a) VALUES ((SELECT pg_sleep(10)));",
    "INSERT INTO public.x VALUES (1);",
    "INSERT INTO auth.users (id, encrypted_password) VALUES ('u', '$2a$secret');",
    "COPY public.documents (id, title) FROM stdin;\n1\tA\\tB\n2\t\\N\n\\.",
    "COPY auth.refresh_tokens (token) FROM stdin;\nsecret-token\n\\.",
    "COPY public.t (a, b) FROM '/etc/passwd';",
    "COPY public.t TO PROGRAM 'rm -rf /';",
    "DROP TABLE public.documents;",
    "CREATE FUNCTION evil() RETURNS void AS $$ BEGIN PERFORM pg_sleep(1); END $$ "
    "LANGUAGE plpgsql;",
    "SELECT pg_catalog.set_config('search_path', '', false);",
    "\\! rm -rf /",
    "\\connect postgres",
    "\\unrestrict abc",
    "-- a comment",
    "DO $$ BEGIN RAISE NOTICE 'x'; END $$;",
    "ALTER ROLE postgres PASSWORD 'x';",
    "INSERT INTO public.projects (id, title) VALUES ('unterminated;",
    "INSERT INTO public.projects (id title VALUES (;",
    "INSERT INTO public.p (a) VALUES ($q$dollar ; quoted$q$);",
]


@st.composite
def sql_files(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.one_of(st.sampled_from(_STATEMENTS),
                                     st.text(max_size=30)), max_size=12))
    text = "\n".join(pieces)
    for _ in range(draw(st.integers(0, 3))):  # mutations: delete, duplicate, insert noise
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        kind = draw(st.sampled_from(["cut", "dup", "noise"]))
        if kind == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif kind == "dup":
            text = text[:at] + text[at:at + 15] + text[at:]
        else:
            text = text[:at] + draw(st.sampled_from(["'", ";", "\n", "$$", "\\.", "\t", "("])) \
                + text[at:]
    return text


class _Tripwire(Exception):
    pass


@pytest.fixture
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach a database or the network while reading fails the test."""
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise _Tripwire("the reader tried to connect")

    monkeypatch.setattr(psycopg, "connect", refuse)
    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(refuse))
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    import sqlalchemy
    monkeypatch.setattr(sqlalchemy, "create_engine", refuse)
    import subprocess
    monkeypatch.setattr(subprocess, "Popen", refuse)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sql_files())
def test_T_BAK_05_web_backup_reader_executes_nothing_and_reports_malformed(
    no_database: None, text: str
) -> None:
    summary = reader.FileSummary()
    lines = text.splitlines(keepends=True)
    results = list(reader.read_lines(lines, summary))
    for rows in results:
        assert rows.schema.lower() not in reader.SECRET_SCHEMAS
        assert rows.table.lower() not in reader.SECRET_TABLES
        for row in rows.rows:
            assert all(v is None or isinstance(v, str) for v in row)
    for problem in summary.problems:
        assert 1 <= problem.line <= max(1, len(lines)) and problem.reason
    assert summary.data_statements == len(results)
    assert summary.statements >= summary.data_statements + summary.secret_statements_skipped


@pytest.mark.parametrize("bad", [
    "INSERT INTO public.projects (id, title) VALUES ('unterminated;\n",
    "INSERT INTO public.projects (id title VALUES (;\n",
    "COPY public.documents (id) FROM stdin;\n1\n",
])
def test_T_BAK_05_malformed_statements_are_reported_with_their_line(
    no_database: None, bad: str
) -> None:
    summary = reader.FileSummary()
    lines = ["-- header\n", "\n", *bad.splitlines(keepends=True)]
    assert list(reader.read_lines(lines, summary)) == [] or summary.problems
    assert summary.problems and summary.problems[0].line == 3
    assert "malformed" in summary.problems[0].reason
