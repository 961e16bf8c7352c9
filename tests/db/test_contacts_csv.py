"""CSV import and export of contacts, as real persons on a fresh copy of the demo database.

RELIABILITY.md T-IN-04 (every file of the corpus imports correctly or not at all, with a row
and column error) and T-IN-05 (export escapes formula starts; export then import gives back
the same values). The database's row level security decides who may import.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from rls_support import org_id, owner_conn
from support import profile_for

from factorypulse_desktop.domain.csv_safety import fold_name
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import contacts_csv
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.contacts_csv import (
    ContactsImportError,
    RowError,
    export_contacts,
    import_contacts,
)

PASSWORD = "factorypulse-demo"
FIELDS = (
    "type", "company_name", "contact_name", "email", "phone", "address", "city", "state",
    "country", "postal_code", "website", "tax_id", "payment_terms", "credit_limit",
    "is_active", "notes", "capability_tags",
)


@pytest.fixture
def profile(demo_db: Any) -> ConnectionProfile:
    return profile_for(demo_db)


@pytest.fixture
def sales_ws(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        yield ws


@pytest.fixture
def owner(demo_db: Any) -> Iterator[psycopg.Connection[Any]]:
    with owner_conn(demo_db, autocommit=True) as conn:
        yield conn


@pytest.fixture
def acme(owner: psycopg.Connection[Any]) -> uuid.UUID:
    return org_id(owner, "acme")


def _count(owner: psycopg.Connection[Any], org: uuid.UUID) -> int:
    row = owner.execute("SELECT count(*) FROM contacts WHERE organization_id = %s",
                        (org,)).fetchone()
    assert row is not None
    return int(row[0])


def _names(owner: psycopg.Connection[Any], org: uuid.UUID) -> set[str]:
    rows = owner.execute("SELECT company_name FROM contacts WHERE organization_id = %s",
                         (org,)).fetchall()
    return {r[0] for r in rows}


def _contact(owner: psycopg.Connection[Any], org: uuid.UUID, company: str) -> dict[str, Any]:
    cur = owner.execute(
        f"SELECT {', '.join(FIELDS)}, metadata, created_by FROM contacts "
        "WHERE organization_id = %s AND company_name = %s",
        (org, company),
    )
    [row] = cur.fetchall()
    assert cur.description is not None
    return dict(zip([d.name for d in cur.description], row, strict=True))


def _values(owner: psycopg.Connection[Any], org: uuid.UUID, where: str = "true") -> list[tuple]:
    """The exported fields of an organization's contacts, comparable across organizations.

    A CSV cell cannot tell an empty text from none at all: the import stores NULL for both
    (the demo data has some empty payment terms).
    """
    rows = owner.execute(
        f"SELECT {', '.join(FIELDS)} FROM contacts WHERE organization_id = %s AND {where}",
        (org,),
    ).fetchall()
    return sorted((tuple(None if v == "" else v for v in r) for r in rows), key=repr)


def _plant(owner: psycopg.Connection[Any], org: uuid.UUID, company: str, **values: Any) -> None:
    columns = ["organization_id", "company_name", *values]
    owner.execute(
        f"INSERT INTO contacts ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})",
        (org, company, *values.values()),
    )


def _cells(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _plain(error: BaseException) -> str:
    message = str(error)
    assert message and "\n" not in message
    assert "psycopg" not in message and "SQL" not in message and "policy" not in message
    return message


# -- T-IN-04: the corpus ------------------------------------------------------------------------

NOTES_200K = ("Zeile mit Umlauten äöü und € " * 8_000)[:200_000]

# (id, file bytes, expected): a dict company -> {field: value} when the file imports, or
# (row, column) of the error when it must be refused entirely.
CORPUS: list[tuple[str, bytes, dict[str, dict[str, Any]] | tuple[int, str | None]]] = [
    ("utf8-bom",
     "\ufeffCompany name,Contact name,E-mail\r\nBOM Tooling,Ann Lee,ann@bom.example\r\n"
     .encode(),
     {"BOM Tooling": {"contact_name": "Ann Lee", "email": "ann@bom.example"}}),
    ("cp1252-excel",
     "Company;City;Notes\r\nMüller Präzision;Köln;Preis in €\r\n".encode("cp1252"),
     {"Müller Präzision": {"city": "Köln", "notes": "Preis in €"}}),
    ("semicolon-european",
     b"Company;Type;Credit limit;Active;Capabilities\r\n"
     b"Semikolon GmbH;Supplier;1.234,50;no;laser, bending\r\n",
     {"Semikolon GmbH": {"type": "supplier", "credit_limit": Decimal("1234.50"),
                         "is_active": False, "capability_tags": ["laser", "bending"]}}),
    ("embedded-newline",
     b'Company,Address,City\r\nNewline Works,"12 Mill Road\nUnit 4, ""Back"" door",Leeds\r\n',
     {"Newline Works": {"address": '12 Mill Road\nUnit 4, "Back" door', "city": "Leeds"}}),
    ("ragged-row",
     b"Company,City\r\nGood Co,Berlin\r\nRagged Co,Paris,extra\r\nAlso Good,Rome\r\n",
     (3, None)),
    ("short-row",
     b"Company,City,Country\r\nGood Co,Berlin,DE\r\nShort Co,Paris\r\n",
     (3, None)),
    ("duplicate-header",
     b"Company,City,company_name\r\nA Co,Berlin,B Co\r\n",
     (1, "company_name")),
    ("unknown-header",
     b"Company,Fax\r\nA Co,0123\r\n",
     (1, None)),
    ("field-200-kb",
     ("Company,Notes\r\nLong Notes Ltd,\"" + NOTES_200K + "\"\r\n").encode(),
     {"Long Notes Ltd": {"notes": NOTES_200K}}),
    ("formula-cell",
     b'Company,Notes\r\nFormula Co,"=HYPERLINK(""http://x"",""y"")"\r\n',
     {"Formula Co": {"notes": '=HYPERLINK("http://x","y")'}}),
    ("nul",
     b"Company,Notes\r\nGood Co,fine\r\nNul Co,bad\x00value\r\n",
     (3, "Notes")),
    ("utf16-bom",
     "Company\tCity\tPhone\r\nUnicode Sp. z o.o.\tŁódź\t+48 42 555 01\r\n".encode("utf-16"),
     {"Unicode Sp. z o.o.": {"city": "Łódź", "phone": "+48 42 555 01"}}),
    ("lone-surrogate",
     "Company,Notes\r\nGood Co,fine\r\nHalf Co,x\ud83dy\r\n".encode("utf-8", "surrogatepass"),
     (3, "Notes")),
    ("unclosed-quote",
     b'Company,Notes\r\nGood Co,fine\r\nOpen Co,"never closed\r\n',
     (3, None)),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CORPUS],
                         ids=[c[0] for c in CORPUS])
def test_T_IN_04_each_file_imports_correctly_or_not_at_all(
    sales_ws: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID,
    data: bytes, expected: dict[str, dict[str, Any]] | tuple[int, str | None],
) -> None:
    before = _names(owner, acme)
    if isinstance(expected, dict):
        report = import_contacts(sales_ws, acme, data)
        assert report.imported == len(expected)
        assert _names(owner, acme) - before == set(expected)
        for company, fields in expected.items():
            stored = _contact(owner, acme, company)
            assert {k: stored[k] for k in fields} == fields
            assert stored["metadata"] == {"source": "csv_import"}
            assert stored["created_by"] == sales_ws.identity.person_id
    else:
        with pytest.raises(ContactsImportError) as caught:
            import_contacts(sales_ws, acme, data)
        row, column = expected
        assert (caught.value.errors[0].row, caught.value.errors[0].column) == (row, column)
        assert f"Row {row}" in _plain(caught.value)
        assert _names(owner, acme) == before, "0 partial imports"


def test_T_IN_04_a_good_file_stores_every_column_exactly(
    sales_ws: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID,
) -> None:
    data = (
        "Type,Company,Contact,E-mail,Phone,Address,City,State,Country,Postal code,Website,"
        "Tax ID,Payment terms,Credit limit,Active,Notes,Capabilities\r\n"
        " Partner ,  Cafe\u0301 Zu\u0308rich AG ,Zoë Brun,zoe@cafe.example,'+41 44 555 01 01,"
        "Bahnhofstrasse 1,Zürich,ZH,Switzerland,8001,https://cafe.example,CHE-123.456.789,"
        "Net 30,\"1 234,50\",YES,Emoji 🔩 stays,cnc | welding;cnc\r\n"
    ).encode()
    report = import_contacts(sales_ws, acme, data)
    assert (report.imported, report.encoding, report.delimiter) == (1, "UTF-8", ",")
    stored = _contact(owner, acme, "Café Zürich AG")
    assert stored["company_name"] == unicodedata.normalize("NFC", "Café Zürich AG")
    assert {k: stored[k] for k in FIELDS} == {
        "type": "partner", "company_name": "Café Zürich AG", "contact_name": "Zoë Brun",
        "email": "zoe@cafe.example", "phone": "+41 44 555 01 01",
        "address": "Bahnhofstrasse 1", "city": "Zürich", "state": "ZH",
        "country": "Switzerland", "postal_code": "8001", "website": "https://cafe.example",
        "tax_id": "CHE-123.456.789", "payment_terms": "Net 30",
        "credit_limit": Decimal("1234.50"), "is_active": True, "notes": "Emoji 🔩 stays",
        "capability_tags": ["cnc", "welding"],
    }
    row = owner.execute("SELECT id FROM contacts WHERE company_name = 'Café Zürich AG'").fetchone()
    assert row is not None and report.contact_ids == (row[0],)


def test_three_good_rows_and_one_bad_row_import_nothing(
    sales_ws: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID,
) -> None:
    data = (b"Company,Type\r\nFirst Good,customer\r\nSecond Good,supplier\r\n"
            b"Bad Type,vendorx\r\nThird Good,\r\n")
    before = _count(owner, acme)
    with pytest.raises(ContactsImportError) as caught:
        import_contacts(sales_ws, acme, data)
    assert caught.value.errors == (RowError(4, "Type", caught.value.errors[0].message),)
    assert "vendorx" in _plain(caught.value) and "customer, supplier" in str(caught.value)
    assert _count(owner, acme) == before


def test_a_person_without_the_right_imports_nothing(
    profile: ConnectionProfile, owner: psycopg.Connection[Any], acme: uuid.UUID,
) -> None:
    before = _count(owner, acme)
    with sign_in(profile, "acme.engineering", PASSWORD) as ws, \
            pytest.raises(ContactsImportError) as caught:
        import_contacts(ws, acme, b"Company\r\nEngineers Inc\r\nSecond Inc\r\n")
    message = _plain(caught.value)
    assert "not allowed to add contacts" in message
    assert caught.value.errors[0].row == 2
    assert _count(owner, acme) == before


def test_a_row_the_database_refuses_mid_file_rolls_back_the_earlier_ones(
    sales_ws: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A rule only the database knows; small chunks, so the refusal comes after a chunk that
    # was already written (the savepoint path).
    owner.execute("ALTER TABLE contacts ADD CONSTRAINT test_no_forbidden "
                  "CHECK (company_name <> 'Forbidden Co')")
    monkeypatch.setattr(contacts_csv, "INSERT_CHUNK", 2)
    before = _count(owner, acme)
    data = b"Company\r\nOne Co\r\nTwo Co\r\nThree Co\r\nForbidden Co\r\nFive Co\r\n"
    with pytest.raises(ContactsImportError) as caught:
        import_contacts(sales_ws, acme, data)
    assert caught.value.errors[0].row == 5
    assert "“test no forbidden” is not allowed" in _plain(caught.value)  # the rule, in words
    assert _count(owner, acme) == before


def test_companies_that_already_exist_are_refused_case_and_accent_blind(
    sales_ws: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID,
) -> None:
    import_contacts(sales_ws, acme, "Company\r\nCafé Zürich\r\n".encode())
    before = _count(owner, acme)
    nfd = unicodedata.normalize("NFD", "CAFÉ   zürich")
    data = (f"Company,Type\r\nnorthwind robotics,customer\r\n{nfd},\r\n"
            "Northwind Robotics,supplier\r\n").encode()
    with pytest.raises(ContactsImportError) as caught:
        import_contacts(sales_ws, acme, data)
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "Company"), (3, "Company")]
    assert "already exists as a customer" in str(caught.value)
    assert _count(owner, acme) == before
    # The same company as another type is a different contact: allowed.
    import_contacts(sales_ws, acme, b"Company,Type\r\nNorthwind Robotics,supplier\r\n")
    assert _count(owner, acme) == before + 1


def test_the_same_company_twice_in_a_file_is_refused(
    sales_ws: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID,
) -> None:
    before = _count(owner, acme)
    data = "Company\r\nØstfold Tools\r\nAnother\r\nOSTFOLD  TOOLS\r\n".encode()
    with pytest.raises(ContactsImportError) as caught:
        import_contacts(sales_ws, acme, data)
    assert [(e.row, e.column) for e in caught.value.errors] == [(4, "Company")]
    assert "already on row 2" in str(caught.value)
    assert _count(owner, acme) == before


def test_an_empty_file_or_a_foreign_organization_is_refused(
    sales_ws: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID,
) -> None:
    with pytest.raises(ContactsImportError, match="no contacts to import"):
        import_contacts(sales_ws, acme, b"Company,City\r\n\r\n")
    globex = org_id(owner, "globex")
    before = _count(owner, globex)
    with pytest.raises(UserFacingError, match="not a member"):
        import_contacts(sales_ws, globex, b"Company\r\nSneaky Co\r\n")
    with pytest.raises(UserFacingError, match="not a member"):
        export_contacts(sales_ws, globex)
    assert _count(owner, globex) == before


# -- T-IN-05: export ----------------------------------------------------------------------------

DANGEROUS = {
    "=": "=cmd|' /C calc'!A0",
    "+": "+1 555 0100",
    "-": "-10% for repeat orders",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}


def test_T_IN_05_export_escapes_formula_starts_and_round_trips(
    profile: ConnectionProfile, sales_ws: Workspace, owner: psycopg.Connection[Any],
    acme: uuid.UUID,
) -> None:
    _plant(owner, acme, "=cmd|' /C calc'!A0", contact_name=DANGEROUS["+"],
           email=DANGEROUS["@"], phone=DANGEROUS["-"], notes=DANGEROUS["\t"],
           address=DANGEROUS["\r"], credit_limit=Decimal("-250.00"))
    _plant(owner, acme, "Hyperlink Corp", notes='=HYPERLINK("http://x","y")',
           capability_tags=["-40 °C testing", "=x"], type="supplier", is_active=False)
    _plant(owner, acme, "'t Hoekje", contact_name="'=already quoted", city="''-two quotes")

    data = export_contacts(sales_ws, acme)
    rows = _cells(data)
    labels = [c.label for c in contacts_csv.COLUMNS]
    assert rows[0] == labels
    by_company = {r[labels.index("Company name")]: dict(zip(labels, r, strict=True))
                  for r in rows[1:]}
    evil = by_company["'=cmd|' /C calc'!A0"]
    assert evil["Contact name"] == "'" + DANGEROUS["+"]
    assert evil["E-mail"] == "'" + DANGEROUS["@"]
    assert evil["Phone"] == "'" + DANGEROUS["-"]
    assert evil["Notes"] == "'" + DANGEROUS["\t"]
    assert evil["Address"] == "'" + DANGEROUS["\r"]
    assert evil["Credit limit"] == "'-250.00"
    link = by_company["Hyperlink Corp"]
    assert link["Notes"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert (link["Capabilities"], link["Type"], link["Active"]) == (
        "'-40 °C testing; =x", "supplier", "no")
    quoted = by_company["'t Hoekje"]
    assert (quoted["Contact name"], quoted["City"]) == ("''=already quoted", "'''-two quotes")
    # No cell at all may start a formula (demo phone numbers start with "+").
    assert not [c for r in rows for c in r if c[:1] in set("=+-@\t\r")]

    # Round trip: the export imported into another organization gives back the same values.
    globex = org_id(owner, "globex")
    with sign_in(profile, "globex.sales", PASSWORD) as globex_ws:
        report = import_contacts(globex_ws, globex, data)
    assert report.imported == len(rows) - 1
    assert _values(owner, globex, "metadata->>'source' = 'csv_import'") == _values(owner, acme)


def test_export_holds_only_the_signed_in_persons_organization_sorted_by_company(
    sales_ws: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID,
) -> None:
    globex = org_id(owner, "globex")
    _plant(owner, globex, "Globex Secret Supplier", type="supplier")
    _plant(owner, acme, "ärger & co")
    rows = _cells(export_contacts(sales_ws, acme))
    companies = [r[1] for r in rows[1:]]
    assert set(companies) == _names(owner, acme)
    assert "Globex Secret Supplier" not in companies
    assert not set(companies) & _names(owner, globex)
    assert companies == sorted(companies, key=fold_name)
    assert companies.index("ärger & co") < companies.index("Bluewater Marine Systems")
